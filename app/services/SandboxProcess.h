#pragma once

#include "models/Result.h"

#include <QObject>
#include <QProcess>
#include <QString>
#include <QTimer>

namespace Breaker {

// The console's child `breaker-sandbox` (DESIGN.md section 6): started with the console's own
// OTLP endpoint, reports the profile it wrote on its READY line, stopped with SIGTERM (then
// SIGKILL after a grace period) when the console closes.
class SandboxProcess : public QObject
{
    Q_OBJECT
public:
    explicit SandboxProcess(QObject *parent = nullptr);
    ~SandboxProcess() override;

    // The executable: BREAKER_SANDBOX if set, else next to this program (installed layout), else
    // the build tree's app/sandbox/ folder.
    static QString locateExecutable();

    void start(const QString &otlpEndpoint, const QStringList &extraArguments = {});
    void stop();
    bool isRunning() const;
    QString profilePath() const { return m_profilePath; }

signals:
    void ready(const QString &profilePath);
    void failed(const QString &message);
    void finished(int exitCode);

private:
    void readStdout();

    QProcess m_process;
    QByteArray m_buffer;
    QString m_profilePath;
    QTimer m_readyDeadline;
    bool m_stopping = false;
};

} // namespace Breaker
