#pragma once

#include <QByteArray>
#include <QObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <QtTest/QTest>

#include <chrono>
#include <memory>
#include <optional>

// Test support: runs the real protocol peers in tests/peers (PROTOCOLS.md section 6) under
// QProcess. Test code only: it waits with local event loops and QProcess::waitForFinished().
namespace Breaker::Test {

// tests/peers in the source tree (or $BREAKER_PEERS_DIR when set).
QString peersDir();

// True when tests/peers/node_modules exists (scripts/dev test runs `npm ci` there) and a `node`
// executable is on PATH. Use BREAKER_REQUIRE_PEERS() rather than calling this directly.
bool peersAvailable();

// Reserves a loopback port for peers that only take --port: binds 127.0.0.1:0, closes, returns
// the port (0 on failure). Another process may take it in between; callers retry once.
quint16 reserveLoopbackPort();

// One peer process. The working directory is a fresh temporary directory created by the
// constructor (so a test can put files there before start()) and removed by the destructor.
// The process runs in its own session and process group; stop() and the destructor signal the
// whole group: SIGTERM, then SIGKILL once the grace period is over.
class PeerProcess : public QObject
{
    Q_OBJECT

public:
    explicit PeerProcess(QObject *parent = nullptr);
    ~PeerProcess() override;

    // `node <peersDir()/script> args...`. False (see errorString()) when node or the script is
    // missing or the process could not be started.
    bool startNode(const QString &script, const QStringList &args = {});
    // Any program (e.g. `npx` from peersDir()/node_modules/.bin), in the same working directory.
    bool startProgram(const QString &program, const QStringList &args = {});

    // Extra environment for the next start (the test's own environment is inherited).
    void setEnvironmentValue(const QString &name, const QString &value);

    // Waits until stdout has a line starting with prefix that no earlier waitForLine() returned,
    // and returns it (without the line break). nullopt on timeout or when the process exited
    // first; failureReport() then says what the peer printed.
    std::optional<QString> waitForLine(QByteArrayView prefix, std::chrono::milliseconds timeout);
    // Waits for the process to exit by itself. False on timeout.
    bool waitForExit(std::chrono::milliseconds timeout);
    // SIGTERM to the process group, SIGKILL after grace; returns when the leader was reaped and
    // the group is gone (or after the SIGKILL). Safe to call more than once.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

    bool isRunning() const;
    qint64 pid() const;
    int exitCode() const;
    QProcess::ExitStatus exitStatus() const;
    QString workingDirectory() const;
    QString errorString() const;
    QStringList stdoutLines() const;   // complete stdout lines so far
    QByteArray standardError() const;  // stderr so far (the last 1 MiB)
    // Command line, state, exit code, last stdout lines and stderr tail: for QVERIFY2 messages.
    QString failureReport() const;

Q_SIGNALS:
    void lineReceived(const QString &line);
    void exited(int exitCode, QProcess::ExitStatus status);

private:
    bool startProcess(const QString &program, const QStringList &args);
    void readStdout();
    void readStderr();
    void terminateGroup(std::chrono::milliseconds grace);

    QTemporaryDir m_workDir;
    std::unique_ptr<QProcess> m_process;
    QProcessEnvironment m_environment;
    QString m_commandLine;
    QString m_error;
    QByteArray m_stdoutPending;  // an incomplete last line
    QStringList m_lines;
    qsizetype m_consumed = 0;    // lines before this index were already returned by waitForLine
    QByteArray m_stderr;
    qint64 m_pgid = 0;
};

} // namespace Breaker::Test

// Skips the current test when the peers are not installed, or fails it when CI=true (the CI
// job must have run `scripts/dev test`, which installs them).
#define BREAKER_REQUIRE_PEERS()                                                                  \
    do {                                                                                         \
        if (!::Breaker::Test::peersAvailable()) {                                                \
            if (qEnvironmentVariable("CI") == QLatin1String("true"))                            \
                QFAIL("peers not installed: run scripts/dev test");                              \
            QSKIP("peers not installed (tests/peers/node_modules or node missing): "             \
                  "run scripts/dev test");                                                       \
        }                                                                                        \
    } while (false)
