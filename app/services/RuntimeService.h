#pragma once

#include "connectors/runtime/RuntimeConnector.h"
#include "models/Profile.h"

#include <QHash>
#include <QObject>
#include <QSet>

#include <functional>
#include <memory>
#include <optional>

class QThread;

namespace Breaker {

class RunMonitor;

// The runtime layer of one engine: a connector per runtime provider of the profile, each
// followed live, their updates correlated into runs by RunMonitor (issue 3 item 5).
// The connectors live on a `runtime` thread of the service's own (DESIGN.md section 3): their
// replies and streams, thousands a minute in a burst, never reach the GUI thread. Their updates
// go from there to the RunMonitor's thread; connector() hands out a proxy for this thread.
class RuntimeService : public QObject
{
    Q_OBJECT
public:
    explicit RuntimeService(RunMonitor *monitor, QObject *parent = nullptr);
    ~RuntimeService() override;

    // Builds the connectors (an unchanged provider keeps its connector) and follows them.
    void applyProfile(const Profile &profile);
    // For the command line: build without following.
    void setFollow(bool follow) { m_follow = follow; }

    // This thread's handle on the provider's connector (a RuntimeConnectorProxy), or null.
    RuntimeConnector *connector(const QByteArray &providerName) const;
    QList<QByteArray> providerNames() const { return m_connectors.keys(); }
    // Why a runtime provider has no connector ("cloudflare-agents: not supported yet", a secret that
    // does not resolve, ...); empty when it has one.
    QString unavailableReason(const QByteArray &providerName) const;

    // The connector kinds built so far.
    static bool isSupportedKind(const QString &kind);
    // A connector for one provider (secrets resolved), or the reason there is none.
    // `selectors`: the agent selectors bound to it (runtimeSelectors); a cloudflare-agents
    // connector follows and lists those instances. Without them it still reaches any run id.
    static Result<RuntimeConnector *> makeConnector(const ProviderConfig &provider, QObject *parent,
                                                    const QStringList &selectors = {});
    // The same in two steps: what can fail (the kind, the secret) now; building the connector
    // later, on the thread it will live on.
    using Factory = std::function<RuntimeConnector *(QObject *parent)>;
    static Result<Factory> connectorFactory(const ProviderConfig &provider, const QStringList &selectors = {});
    // The "agent" selectors of the profile's agents whose runtime is this provider, in file
    // order, without duplicates.
    static QStringList runtimeSelectors(const Profile &profile, const QString &providerName);

signals:
    void providerStateChanged(const QByteArray &provider, Breaker::RuntimeConnector::LinkState state,
                              const QString &detail);

private:
    struct Remote;
    static std::optional<QByteArray> boundAgent(const Profile *profile, const QByteArray &provider,
                                                const QByteArray &reportedName);
    static void watchFromTelemetry(Remote &remote, const std::vector<Breaker::Run> &runs);
    void post(std::function<void()> job);

    RunMonitor *m_monitor;
    QThread *m_thread = nullptr;
    QObject *m_host = nullptr;             // on m_thread: the connectors' parent
    std::shared_ptr<Remote> m_remote;      // touched on m_thread only
    QHash<QByteArray, RuntimeConnector *> m_connectors; // the proxies
    QHash<QByteArray, QString> m_unavailable;
    QHash<QByteArray, QByteArray> m_configs; // provider → its config as JSON (to spot changes)
    bool m_follow = true;
};

} // namespace Breaker
