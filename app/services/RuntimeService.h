#pragma once

#include "connectors/runtime/RuntimeConnector.h"
#include "models/Profile.h"

#include <QHash>
#include <QObject>
#include <QSet>

#include <memory>
#include <optional>

namespace Breaker {

class RunMonitor;

// The runtime layer of one engine: a connector per runtime provider of the profile, each
// followed live, their updates correlated into runs by RunMonitor (issue 3 item 5).
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
    // The "agent" selectors of the profile's agents whose runtime is this provider, in file
    // order, without duplicates.
    static QStringList runtimeSelectors(const Profile &profile, const QString &providerName);

signals:
    void providerStateChanged(const QByteArray &provider, Breaker::RuntimeConnector::LinkState state,
                              const QString &detail);

private:
    std::optional<QByteArray> boundAgent(const QByteArray &provider, const QByteArray &reportedName) const;
    void watchFromTelemetry(const std::vector<Breaker::Run> &runs);

    RunMonitor *m_monitor;
    std::optional<Profile> m_profile;
    QHash<QByteArray, RuntimeConnector *> m_connectors;
    QHash<QByteArray, QString> m_unavailable;
    QHash<QByteArray, QByteArray> m_configs; // provider → its config as JSON (to spot changes)
    QSet<QByteArray> m_watched;
    bool m_follow = true;
};

} // namespace Breaker
