#include "PeerProcess.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTimer>

#include <cerrno>
#include <csignal>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

namespace Breaker::Test {

namespace {

constexpr qsizetype StderrCap = 1024 * 1024;

// Live (non-zombie) members of a process group, read from /proc/<pid>/stat.
std::vector<pid_t> groupMembers(pid_t pgid)
{
    std::vector<pid_t> members;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &entry : entries) {
        bool isPid = false;
        const pid_t pid = entry.toInt(&isPid);
        if (!isPid)
            continue;
        QFile stat(QStringLiteral("/proc/") + entry + QStringLiteral("/stat"));
        if (!stat.open(QIODevice::ReadOnly))
            continue; // exited meanwhile
        const QByteArray line = stat.readAll();
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        const qsizetype close = line.lastIndexOf(')');
        if (close < 0)
            continue;
        const QList<QByteArray> fields = line.mid(close + 2).split(' ');
        if (fields.size() < 3 || fields.at(0) == "Z" || fields.at(0) == "X")
            continue;
        if (fields.at(2).toInt() == pgid)
            members.push_back(pid);
    }
    return members;
}

// Waits (without sleeping: poll() on pidfds) until no live member of the group is left.
// False when the deadline passed first, or when pidfds are unavailable.
bool waitForGroupExit(pid_t pgid, const QDeadlineTimer &deadline)
{
    for (;;) {
        const std::vector<pid_t> members = groupMembers(pgid);
        if (members.empty())
            return true;
        std::vector<pollfd> fds;
        bool unsupported = false;
        for (pid_t pid : members) {
            // glibc 2.36 declares pidfd_open() without C linkage: use the system call.
            const int fd = int(::syscall(SYS_pidfd_open, pid, 0));
            if (fd >= 0)
                fds.push_back(pollfd{fd, POLLIN, 0});
            else if (errno != ESRCH)
                unsupported = true; // no pidfd support: let the caller escalate
        }
        if (unsupported) {
            for (const pollfd &p : fds)
                ::close(p.fd);
            return false;
        }
        if (fds.empty())
            continue; // all of them exited between the scan and pidfd_open(): scan again
        const qint64 remaining = deadline.remainingTime();
        const int ready = remaining <= 0 ? 0 : ::poll(fds.data(), fds.size(), int(remaining));
        const int pollErrno = errno;
        for (const pollfd &p : fds)
            ::close(p.fd);
        if (ready == 0)
            return groupMembers(pgid).empty();
        if (ready < 0 && pollErrno != EINTR)
            return false;
    }
}

} // namespace

QString peersDir()
{
    const QString overridden = qEnvironmentVariable("BREAKER_PEERS_DIR");
    if (!overridden.isEmpty())
        return overridden;
    return QStringLiteral(BREAKER_SOURCE_DIR "/tests/peers");
}

bool peersAvailable()
{
    return QFileInfo(peersDir() + QStringLiteral("/node_modules")).isDir()
           && !QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty();
}

quint16 reserveLoopbackPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

PeerProcess::PeerProcess(QObject *parent)
    : QObject(parent)
    , m_workDir(QDir::tempPath() + QStringLiteral("/breaker-peer-XXXXXX"))
    , m_environment(QProcessEnvironment::systemEnvironment())
{
    if (!m_workDir.isValid())
        m_error = QStringLiteral("cannot create a temporary working directory: ") + m_workDir.errorString();
}

PeerProcess::~PeerProcess()
{
    if (m_process)
        m_process->disconnect(this);
    stop();
}

bool PeerProcess::startNode(const QString &script, const QStringList &args)
{
    const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
    if (node.isEmpty()) {
        m_error = QStringLiteral("node is not on PATH");
        return false;
    }
    const QString path = QDir(peersDir()).filePath(script);
    if (!QFileInfo::exists(path)) {
        m_error = QStringLiteral("no such peer script: ") + path;
        return false;
    }
    return startProcess(node, QStringList{path} + args);
}

bool PeerProcess::startProgram(const QString &program, const QStringList &args)
{
    return startProcess(program, args);
}

void PeerProcess::setEnvironmentValue(const QString &name, const QString &value)
{
    m_environment.insert(name, value);
}

bool PeerProcess::startProcess(const QString &program, const QStringList &args)
{
    if (m_process) {
        m_error = QStringLiteral("already started: ") + m_commandLine;
        return false;
    }
    if (!m_workDir.isValid())
        return false;

    m_commandLine = program + QLatin1Char(' ') + args.join(QLatin1Char(' '));
    m_process = std::make_unique<QProcess>();
    m_process->setProgram(program);
    m_process->setArguments(args);
    m_process->setWorkingDirectory(m_workDir.path());
    m_process->setProcessEnvironment(m_environment);
    m_process->setChildProcessModifier([] {
        // Own session and process group, so that stop() reaches npx -> node -> tsx trees; and
        // die with the test if it crashes (only the direct child, the group is killed by stop()).
        ::setsid();
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    });
    connect(m_process.get(), &QProcess::readyReadStandardOutput, this, &PeerProcess::readStdout);
    connect(m_process.get(), &QProcess::readyReadStandardError, this, &PeerProcess::readStderr);
    connect(m_process.get(), &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        readStdout();
        readStderr();
        if (!m_stdoutPending.isEmpty()) {
            const QString last = QString::fromUtf8(m_stdoutPending);
            m_stdoutPending.clear();
            m_lines.append(last);
            Q_EMIT lineReceived(last);
        }
        Q_EMIT exited(code, status);
    });

    m_process->start();
    if (!m_process->waitForStarted(10000)) {
        m_error = QStringLiteral("cannot start ") + m_commandLine + QStringLiteral(": ")
                  + m_process->errorString();
        return false;
    }
    m_pgid = m_process->processId();
    return true;
}

void PeerProcess::readStdout()
{
    if (!m_process)
        return;
    m_stdoutPending += m_process->readAllStandardOutput();
    qsizetype nl;
    while ((nl = m_stdoutPending.indexOf('\n')) >= 0) {
        QByteArray line = m_stdoutPending.left(nl);
        m_stdoutPending.remove(0, nl + 1);
        if (line.endsWith('\r'))
            line.chop(1);
        const QString text = QString::fromUtf8(line);
        m_lines.append(text);
        Q_EMIT lineReceived(text);
    }
}

void PeerProcess::readStderr()
{
    if (!m_process)
        return;
    m_stderr += m_process->readAllStandardError();
    if (m_stderr.size() > StderrCap)
        m_stderr.remove(0, m_stderr.size() - StderrCap);
}

std::optional<QString> PeerProcess::waitForLine(QByteArrayView prefix, std::chrono::milliseconds timeout)
{
    const QString wanted = QString::fromUtf8(prefix);
    const auto findLine = [this, &wanted]() -> std::optional<QString> {
        for (qsizetype i = m_consumed; i < m_lines.size(); ++i) {
            if (m_lines.at(i).startsWith(wanted)) {
                m_consumed = i + 1;
                return m_lines.at(i);
            }
        }
        return std::nullopt;
    };

    if (auto line = findLine())
        return line;
    if (!isRunning())
        return std::nullopt;

    // A local loop keeps the test's own servers (the receiver under test) answering meanwhile.
    std::optional<QString> found;
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    connect(this, &PeerProcess::lineReceived, &loop, [&] {
        // One read can deliver several lines: keep the first match, later ones stay unconsumed.
        if (!found && (found = findLine()))
            loop.quit();
    });
    connect(this, &PeerProcess::exited, &loop, &QEventLoop::quit);
    timer.start(timeout);
    loop.exec();
    if (!found)
        found = findLine();
    return found;
}

bool PeerProcess::waitForExit(std::chrono::milliseconds timeout)
{
    if (!isRunning())
        return true;
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    connect(this, &PeerProcess::exited, &loop, &QEventLoop::quit);
    timer.start(timeout);
    loop.exec();
    return !isRunning();
}

void PeerProcess::stop(std::chrono::milliseconds grace)
{
    terminateGroup(grace);
}

void PeerProcess::terminateGroup(std::chrono::milliseconds grace)
{
    if (m_pgid <= 0)
        return;
    const pid_t pgid = pid_t(m_pgid);
    m_pgid = 0;
    const QDeadlineTimer deadline(grace);

    if (::kill(-pgid, SIGTERM) == 0) {
        if (m_process && m_process->state() != QProcess::NotRunning)
            m_process->waitForFinished(int(qMax<qint64>(deadline.remainingTime(), 1)));
        if (!waitForGroupExit(pgid, deadline))
            ::kill(-pgid, SIGKILL);
    }
    // Reap the leader (after SIGKILL it goes at once).
    if (m_process && m_process->state() != QProcess::NotRunning) {
        ::kill(-pgid, SIGKILL);
        m_process->waitForFinished(5000);
    }
}

bool PeerProcess::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

qint64 PeerProcess::pid() const
{
    return m_process ? m_process->processId() : 0;
}

int PeerProcess::exitCode() const
{
    return m_process ? m_process->exitCode() : -1;
}

QProcess::ExitStatus PeerProcess::exitStatus() const
{
    return m_process ? m_process->exitStatus() : QProcess::CrashExit;
}

QString PeerProcess::workingDirectory() const
{
    return m_workDir.path();
}

QString PeerProcess::errorString() const
{
    return m_error;
}

QStringList PeerProcess::stdoutLines() const
{
    return m_lines;
}

QByteArray PeerProcess::standardError() const
{
    return m_stderr;
}

QString PeerProcess::failureReport() const
{
    QString report = QStringLiteral("peer: ") + m_commandLine;
    if (!m_error.isEmpty())
        report += QStringLiteral("\nerror: ") + m_error;
    if (!m_process)
        report += QStringLiteral("\nstate: not started");
    else if (isRunning())
        report += QStringLiteral("\nstate: running, pid ") + QString::number(pid());
    else
        report += QStringLiteral("\nstate: exited, code ") + QString::number(m_process->exitCode())
                  + (m_process->exitStatus() == QProcess::CrashExit ? QStringLiteral(" (crashed)")
                                                                    : QString());
    report += QStringLiteral("\nstdout (last lines):");
    for (qsizetype i = qMax<qsizetype>(0, m_lines.size() - 20); i < m_lines.size(); ++i)
        report += QStringLiteral("\n  ") + m_lines.at(i);
    report += QStringLiteral("\nstderr (tail):\n") + QString::fromUtf8(m_stderr.right(4000));
    return report;
}

} // namespace Breaker::Test
