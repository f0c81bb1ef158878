#pragma once

#include "app/services/StopSwitch.h"
#include "connectors/containment/LayerConnector.h"
#include "models/Profile.h"
#include "models/RunTypes.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <memory>
#include <optional>
#include <vector>

namespace Breaker {

class LayerService;
class RunMonitor;
class Store;

// After a stop, keep watching (issue 4 item 5): any new tool call, model call or spend in the
// stopped scope's telemetry, and anything the providers report (a token that introspects
// active, an approved card authorization, a decision that allows a blocked tool) raises a leak
// alarm naming the layer that let it through. Each leak is audited once (stop.leak).
class LeakWatch : public QObject
{
    Q_OBJECT
public:
    LeakWatch(std::shared_ptr<Store> store, RunMonitor *monitor, QObject *parent = nullptr);

    void setLayers(LayerService *layers) { m_layers = layers; }
    void setProfile(const Profile &profile) { m_profile = profile; }
    // How long a stopped scope is watched (default 15 minutes) and how often the providers are
    // asked (default every 5 s).
    void setWindowMs(qint64 ms) { m_windowMs = ms; }
    void setPollMs(int ms);

    // Starts watching the agents of a finished stop, from the moment it finished.
    void watch(const Breaker::StopOutcome &outcome, const QList<QByteArray> &agents);
    bool isWatching(const QByteArray &agent) const { return m_watched.contains(agent); }
    // A resume lets the agents go: what they do next is no longer a leak of that stop.
    void release(const QList<QByteArray> &agents);

    // Fed by RunMonitor's runsCommitted / eventsCommitted (public so that tests can feed it).
    void onRuns(const std::vector<Breaker::Run> &runs);
    void onEvents(const std::vector<Breaker::RunEvent> &events);

signals:
    void leak(const Breaker::LayerLeak &leak, const QByteArray &runId);

private:
    struct Watched
    {
        qint64 sinceMs = 0;
        qint64 untilMs = 0;
        QSet<QByteArray> layers; // the layers the stop acted on with a provider
        QByteArray scope;
    };
    void poll();
    void raise(const LayerLeak &leak, const QByteArray &runId);

    std::shared_ptr<Store> m_store;
    LayerService *m_layers = nullptr;
    std::optional<Profile> m_profile;
    QHash<QByteArray, Watched> m_watched;     // agent -> watch
    QHash<QByteArray, QByteArray> m_runAgent; // run id -> agent, for runs of watched agents
    QSet<QString> m_seen;                     // leaks already raised
    QTimer m_poll;
    qint64 m_windowMs = 15 * 60 * 1000;
};

} // namespace Breaker

Q_DECLARE_METATYPE(Breaker::LayerLeak)
