// The peer harness itself: lines, working directory, and that stopping a peer leaves nothing
// running (a leaked peer keeps its port and its state directory, and breaks the next test).
// Uses /bin/sh children so it runs without the npm peers.
#include "tests/common/PeerProcess.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace Breaker::Test;
using namespace std::chrono_literals;

namespace {

// True while pid is a live (non-zombie) process.
bool processAlive(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return false;
    const QByteArray line = stat.readAll();
    const qsizetype close = line.lastIndexOf(')');
    return close >= 0 && line.size() > close + 2 && line.at(close + 2) != 'Z'
           && line.at(close + 2) != 'X';
}

// For QCOMPARE: what waitForLine() returned, or "<none>".
QString orNone(const std::optional<QString> &line)
{
    return line.value_or(QStringLiteral("<none>"));
}

QString shell()
{
    return QStringLiteral("/bin/sh");
}

} // namespace

class tst_PeerProcess : public QObject
{
    Q_OBJECT
private slots:
    void linesAreConsumedInOrder();
    void exitWithoutTheLineEndsTheWaitEarly();
    void runsInAFreshWorkingDirectory();
    void stopSendsSigtermFirst();
    void stopKillsTheWholeGroup();
    void destructorStopsThePeer();
    void peersAvailableFollowsNodeModules();
};

void tst_PeerProcess::linesAreConsumedInOrder()
{
    PeerProcess peer;
    QVERIFY2(peer.startProgram(shell(), {QStringLiteral("-c"),
                                         QStringLiteral("echo 'starting up'; echo 'SENT a 1'; "
                                                        "printf 'SENT b 2\\r\\nSENT c'")}),
             qPrintable(peer.failureReport()));
    QCOMPARE(orNone(peer.waitForLine("SENT ", 10s)), QStringLiteral("SENT a 1"));
    QCOMPARE(orNone(peer.waitForLine("SENT ", 10s)), QStringLiteral("SENT b 2"));
    // The last line has no line break: it still counts once the process has exited.
    QCOMPARE(orNone(peer.waitForLine("SENT ", 10s)), QStringLiteral("SENT c"));
    QCOMPARE(orNone(peer.waitForLine("SENT ", 1s)), QStringLiteral("<none>"));
    QVERIFY(peer.waitForExit(10s));
    QCOMPARE(peer.exitCode(), 0);
    QCOMPARE(peer.stdoutLines().first(), QStringLiteral("starting up"));
}

void tst_PeerProcess::exitWithoutTheLineEndsTheWaitEarly()
{
    PeerProcess peer;
    QVERIFY(peer.startProgram(shell(), {QStringLiteral("-c"),
                                        QStringLiteral("echo 'Error: EADDRINUSE' >&2; exit 3")}));
    QElapsedTimer clock;
    clock.start();
    QCOMPARE(orNone(peer.waitForLine("LISTENING ", 30s)), QStringLiteral("<none>"));
    QVERIFY2(clock.elapsed() < 15000, "waitForLine() did not notice that the peer exited");
    QCOMPARE(peer.exitCode(), 3);
    QVERIFY(peer.standardError().contains("EADDRINUSE"));
    const QString report = peer.failureReport();
    QVERIFY2(report.contains(QStringLiteral("exited, code 3")), qPrintable(report));
    QVERIFY2(report.contains(QStringLiteral("EADDRINUSE")), qPrintable(report));
}

void tst_PeerProcess::runsInAFreshWorkingDirectory()
{
    PeerProcess first;
    PeerProcess second;
    QVERIFY(QFileInfo(first.workingDirectory()).isDir());
    QVERIFY(first.workingDirectory() != second.workingDirectory());

    QFile marker(first.workingDirectory() + QStringLiteral("/langgraph.json"));
    QVERIFY(marker.open(QIODevice::WriteOnly));
    marker.write("{}");
    marker.close();

    QVERIFY(first.startProgram(shell(), {QStringLiteral("-c"),
                                         QStringLiteral("echo \"CWD $(pwd -P)\"; ls -A")}));
    const auto cwd = first.waitForLine("CWD ", 10s);
    QVERIFY2(cwd.has_value(), qPrintable(first.failureReport()));
    QCOMPARE(cwd->mid(4), QFileInfo(first.workingDirectory()).canonicalFilePath());
    QVERIFY(first.waitForExit(10s));
    QCOMPARE(first.stdoutLines().mid(1), QStringList{QStringLiteral("langgraph.json")});

    const QString dir = first.workingDirectory();
    {
        PeerProcess scoped;
        QVERIFY(QFileInfo(scoped.workingDirectory()).isDir());
        QFile state(scoped.workingDirectory() + QStringLiteral("/state.db"));
        QVERIFY(state.open(QIODevice::WriteOnly));
    }
    QVERIFY(QFileInfo(dir).isDir()); // still owned by `first`
}

void tst_PeerProcess::stopSendsSigtermFirst()
{
    PeerProcess peer;
    QVERIFY(peer.startProgram(shell(), {QStringLiteral("-c"),
                                        QStringLiteral("trap 'echo BYE; exit 0' TERM; "
                                                       "echo READY; sleep 1000 & wait $!")}));
    QVERIFY2(peer.waitForLine("READY", 10s), qPrintable(peer.failureReport()));
    peer.stop(10s);
    QVERIFY(!peer.isRunning());
    QCOMPARE(peer.exitStatus(), QProcess::NormalExit);
    QCOMPARE(peer.exitCode(), 0);
    QVERIFY2(peer.stdoutLines().contains(QStringLiteral("BYE")), qPrintable(peer.failureReport()));
}

void tst_PeerProcess::stopKillsTheWholeGroup()
{
    // An npx-like tree whose members ignore SIGTERM: only SIGKILL to the group ends it.
    PeerProcess peer;
    QVERIFY(peer.startProgram(
        shell(), {QStringLiteral("-c"),
                  QStringLiteral("trap '' TERM; sh -c 'echo CHILD $$; exec sleep 1000' & "
                                 "echo LEADER $$; wait")}));
    const auto leader = peer.waitForLine("LEADER ", 10s);
    const auto child = peer.waitForLine("CHILD ", 10s);
    QVERIFY2(leader && child, qPrintable(peer.failureReport()));
    const qint64 childPid = child->mid(6).toLongLong();
    QCOMPARE(leader->mid(7).toLongLong(), peer.pid());
    QVERIFY(processAlive(childPid));

    QElapsedTimer clock;
    clock.start();
    peer.stop(300ms);
    QVERIFY(clock.elapsed() < 10000);
    QVERIFY(!peer.isRunning());
    QCOMPARE(peer.exitStatus(), QProcess::CrashExit); // killed, not exited
    // The grandchild was reparented; whoever reaps it, it must not be running any more.
    QTRY_VERIFY_WITH_TIMEOUT(!processAlive(childPid), 5000);
}

void tst_PeerProcess::destructorStopsThePeer()
{
    qint64 childPid = 0;
    QString dir;
    {
        PeerProcess peer;
        dir = peer.workingDirectory();
        QVERIFY(peer.startProgram(shell(), {QStringLiteral("-c"),
                                            QStringLiteral("sh -c 'echo CHILD $$; exec sleep 1000' & "
                                                           "wait")}));
        const auto child = peer.waitForLine("CHILD ", 10s);
        QVERIFY2(child, qPrintable(peer.failureReport()));
        childPid = child->mid(6).toLongLong();
        QVERIFY(processAlive(childPid));
    }
    QTRY_VERIFY_WITH_TIMEOUT(!processAlive(childPid), 5000);
    QVERIFY(!QFileInfo::exists(dir));
}

void tst_PeerProcess::peersAvailableFollowsNodeModules()
{
    QTemporaryDir fakePeers;
    QVERIFY(fakePeers.isValid());
    qputenv("BREAKER_PEERS_DIR", fakePeers.path().toUtf8());
    const auto restore = qScopeGuard([] { qunsetenv("BREAKER_PEERS_DIR"); });
    QCOMPARE(peersDir(), fakePeers.path());
    QVERIFY(!peersAvailable());

    QVERIFY(QDir(fakePeers.path()).mkdir(QStringLiteral("node_modules")));
    if (QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty())
        QVERIFY(!peersAvailable());
    else
        QVERIFY(peersAvailable());

    PeerProcess peer;
    QVERIFY(!peer.startNode(QStringLiteral("no-such-peer.mjs")));
    QVERIFY(!peer.errorString().isEmpty());
}

QTEST_GUILESS_MAIN(tst_PeerProcess)
#include "tst_peerprocess.moc"
