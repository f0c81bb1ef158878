#pragma once

#include "app/sandbox/ProviderGate.h"
#include "app/sandbox/SandboxOptions.h"
#include "models/Result.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <memory>

namespace Breaker {

class A2aHost;
class OAuthFake;
class OpaFake;
class OtlpSender;
class ProviderGate;
class StripeFake;
struct SandboxContainment;
class SandboxFleet;
class SandboxRuntimeFolder;

// The whole sandbox in one object, so that `breaker-sandbox` and `breakerctl sandbox` run the
// same code: the runtime folder, the profile it writes about itself, its agents and the OTLP
// sender that carries their spans to the console. Providers it serves (A2A host, OAuth,
// Stripe- and OPA-shaped APIs) join here as more in-process servers.
class Sandbox : public QObject
{
    Q_OBJECT

public:
    explicit Sandbox(SandboxOptions options, QObject *parent = nullptr);
    ~Sandbox() override;

    // Before start(): simulated seconds per real second (tests), and the XDG_RUNTIME_DIR to use
    // (default: the environment's).
    void setSpeed(double speed) { m_speed = speed; }
    void setRuntimeDir(const QString &dir)
    {
        m_runtimeDir = dir;
        m_runtimeDirSet = true;
    }
    void setProgressIntervalMs(int ms) { m_progressIntervalMs = ms; }

    // Creates the runtime folder, picks the OTLP port when no endpoint was given, writes the
    // profile and starts the agents. Errors: Conflict (a user's file at --profile-out),
    // Unavailable (folder, file or port).
    Result<void> start();

    // Stops starting runs, sends what is queued (at most flushTimeoutMs), then emits finished().
    void shutdown(int flushTimeoutMs = 2000);

    const SandboxOptions &options() const { return m_options; }
    QString profilePath() const { return m_profilePath; }
    QString runtimeFolder() const;
    QUrl otlpEndpoint() const { return m_endpoint; }
    QUrl otlpTracesUrl() const;
    QStringList agentNames() const;
    quint64 seed() const { return m_seed; }
    // READY {"profile": "...", "otlp_endpoint": "...", "agents": [...],
    //        "a2a": {"<agent>": "<card URL>", ...}} (no newline).
    QByteArray readyLine() const;

    SandboxFleet *fleet() const { return m_fleet; }
    // Agent i's A2A origin (same order as agentNames()).
    A2aHost *a2aHost(int agent) const { return m_hosts.value(agent); }
    OtlpSender *sender() const { return m_sender; }
    // The containment providers it serves (DESIGN.md section 6).
    OAuthFake *oauth() const { return m_oauth; }
    StripeFake *stripe() const { return m_stripe; }
    OpaFake *opa() const { return m_opa; }

    // A free TCP port on 127.0.0.1 (bound, read, closed), below the ephemeral range when it can:
    // the OS never hands such a port to a port-0 listener before the caller binds it.
    static Result<quint16> pickFreeLoopbackPort();

signals:
    void finished(bool flushedEverything);

private:
    void logProgress();
    Result<SandboxContainment> startContainmentProviders();
    void watchCanaryGrant(const QByteArray &agent, const ProviderGate::AgentCredentials &credentials,
                          const QString &tokenFile);

    SandboxOptions m_options;
    double m_speed = 1.0;
    QString m_runtimeDir;
    bool m_runtimeDirSet = false;
    int m_progressIntervalMs = 10000;
    std::unique_ptr<SandboxRuntimeFolder> m_folder;
    QString m_profilePath;
    QUrl m_endpoint;
    quint64 m_seed = 0;
    SandboxFleet *m_fleet = nullptr;
    QList<A2aHost *> m_hosts;
    OtlpSender *m_sender = nullptr;
    OAuthFake *m_oauth = nullptr;
    StripeFake *m_stripe = nullptr;
    OpaFake *m_opa = nullptr;
    ProviderGate *m_gate = nullptr;
    QTimer m_progress;
    QElapsedTimer m_sinceProgress;
    qint64 m_lastDelivered = 0;
    bool m_shuttingDown = false;
    int m_canaryRegrantMs = 10000;
};

} // namespace Breaker
