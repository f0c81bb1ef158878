#include "app/services/SandboxProcess.h"

#include "models/Logging.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <csignal>

namespace Breaker {

namespace {
constexpr int kReadyTimeoutMs = 15000;
constexpr int kStopGraceMs = 3000;
} // namespace

SandboxProcess::SandboxProcess(QObject *parent)
    : QObject(parent)
{
    m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    connect(&m_process, &QProcess::readyReadStandardOutput, this, &SandboxProcess::readStdout);
    connect(&m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            emit failed(tr("could not start %1: %2").arg(m_process.program(), m_process.errorString()));
    });
    connect(&m_process, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        m_readyDeadline.stop();
        if (!m_stopping) {
            emit failed(status == QProcess::CrashExit
                            ? tr("the sandbox crashed")
                            : tr("the sandbox exited with status %1").arg(code));
        }
        emit finished(code);
    });
    m_readyDeadline.setSingleShot(true);
    m_readyDeadline.setInterval(kReadyTimeoutMs);
    connect(&m_readyDeadline, &QTimer::timeout, this, [this] {
        emit failed(tr("the sandbox did not report READY within %1 s").arg(kReadyTimeoutMs / 1000));
    });
}

SandboxProcess::~SandboxProcess()
{
    // Nothing may call back into this object while its members go (QProcess's destructor
    // emits finished, and the timer it would touch is already gone: UBSan saw it).
    m_process.disconnect(this);
    m_readyDeadline.stop();
    // SIGTERM; QProcess's own destructor then ends what is left (the sandbox holds nothing that
    // must survive: its runs are simulated). No wait on the GUI thread here (STYLE.md rule 5).
    if (m_process.state() != QProcess::NotRunning) {
        m_stopping = true;
        m_process.terminate();
    }
}

QString SandboxProcess::locateExecutable()
{
    const QString fromEnv = QString::fromLocal8Bit(qgetenv("BREAKER_SANDBOX"));
    if (!fromEnv.isEmpty())
        return fromEnv;
    const QDir here(QCoreApplication::applicationDirPath());
    const QStringList candidates = {
        here.filePath(QStringLiteral("breaker-sandbox")),
        here.filePath(QStringLiteral("../sandbox/breaker-sandbox")),
        here.filePath(QStringLiteral("../app/sandbox/breaker-sandbox")),
        here.filePath(QStringLiteral("../../app/sandbox/breaker-sandbox")),
    };
    for (const QString &c : candidates) {
        QFileInfo info(c);
        if (info.isFile() && info.isExecutable())
            return info.canonicalFilePath();
    }
    return QStringLiteral("breaker-sandbox"); // from PATH
}

void SandboxProcess::start(const QString &otlpEndpoint, const QStringList &extraArguments)
{
    m_stopping = false;
    m_buffer.clear();
    QStringList args{QStringLiteral("--otlp-endpoint"), otlpEndpoint};
    args += extraArguments;
    const QString program = locateExecutable();
    qCInfo(lcSandbox).noquote() << "starting" << program << args.join(QLatin1Char(' '));
    m_process.start(program, args);
    m_readyDeadline.start();
}

void SandboxProcess::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_stopping = true;
    m_process.terminate(); // SIGTERM: the sandbox flushes what it queued and exits
    QTimer::singleShot(kStopGraceMs, &m_process, [this] {
        if (m_process.state() != QProcess::NotRunning)
            m_process.kill();
    });
}

bool SandboxProcess::isRunning() const
{
    return m_process.state() == QProcess::Running;
}

void SandboxProcess::readStdout()
{
    m_buffer += m_process.readAllStandardOutput();
    int newline;
    while ((newline = m_buffer.indexOf('\n')) >= 0) {
        const QByteArray line = m_buffer.left(newline).trimmed();
        m_buffer.remove(0, newline + 1);
        if (!line.startsWith("READY "))
            continue;
        m_readyDeadline.stop();
        const QJsonObject readyJson = QJsonDocument::fromJson(line.mid(6)).object();
        m_profilePath = readyJson.value(QLatin1String("profile")).toString();
        if (m_profilePath.isEmpty()) {
            emit failed(tr("the sandbox's READY line names no profile: %1").arg(QString::fromUtf8(line)));
            continue;
        }
        emit ready(m_profilePath);
    }
}

} // namespace Breaker
