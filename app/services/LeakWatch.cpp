#include "app/services/LeakWatch.h"

#include "app/services/LayerService.h"
#include "app/services/Operator.h"
#include "app/services/RunMonitor.h"
#include "models/Logging.h"
#include "models/Store.h"

#include <QDateTime>
#include <QJsonObject>
#include <QPointer>

namespace Breaker {

LeakWatch::LeakWatch(std::shared_ptr<Store> store, RunMonitor *monitor, QObject *parent)
    : QObject(parent)
    , m_store(std::move(store))
{
    qRegisterMetaType<LayerLeak>();
    if (monitor) {
        connect(monitor, &RunMonitor::runsCommitted, this, &LeakWatch::onRuns);
        connect(monitor, &RunMonitor::eventsCommitted, this, &LeakWatch::onEvents);
    }
    m_poll.setInterval(5000);
    connect(&m_poll, &QTimer::timeout, this, &LeakWatch::poll);
}

void LeakWatch::setPollMs(int ms)
{
    m_poll.setInterval(ms);
}

void LeakWatch::release(const QList<QByteArray> &agents)
{
    for (const QByteArray &agent : agents)
        m_watched.remove(agent);
}

void LeakWatch::watch(const StopOutcome &outcome, const QList<QByteArray> &agents)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (const QByteArray &agent : agents) {
        Watched w;
        // Work that starts after the stop finished is a leak; work already under way when it
        // began is what the stop was for.
        w.sinceMs = outcome.startedAtMs + outcome.ms;
        w.untilMs = now + m_windowMs;
        w.scope = outcome.scope.key();
        for (const StopLayerResult &r : outcome.rows)
            if (r.agent == agent && !r.provider.isEmpty() && r.outcome != LayerOutcome::SkippedNotConfigured)
                w.layers.insert(r.layer);
        m_watched.insert(agent, w);
        // Its runs known so far.
        RunQuery q;
        q.agent = agent;
        q.limit = 200;
        if (auto runs = m_store->runs(q); runs.ok())
            for (const Run &r : *runs)
                m_runAgent.insert(r.id, agent);
    }
    if (!m_watched.isEmpty() && !m_poll.isActive())
        m_poll.start();
}

void LeakWatch::onRuns(const std::vector<Run> &runs)
{
    if (m_watched.isEmpty())
        return;
    for (const Run &r : runs)
        if (m_watched.contains(r.agent))
            m_runAgent.insert(r.id, r.agent);
}

void LeakWatch::onEvents(const std::vector<RunEvent> &events)
{
    if (m_watched.isEmpty())
        return;
    for (const RunEvent &e : events) {
        const auto agentIt = m_runAgent.constFind(e.runId);
        if (agentIt == m_runAgent.constEnd())
            continue;
        const auto w = m_watched.constFind(*agentIt);
        if (w == m_watched.constEnd())
            continue;
        const qint64 startMs = e.startNs / 1000000;
        if (startMs < w->sinceMs || e.statusCode == 2)
            continue; // before the stop, or failed (contained)
        LayerLeak leak;
        leak.agent = *agentIt;
        leak.atMs = startMs;
        if (e.kind == EventKind::ToolCall) {
            leak.layer = "tools";
            leak.what = QStringLiteral("tool call \"%1\" went through after the stop").arg(QString::fromUtf8(e.name));
        } else if (e.kind == EventKind::Spend) {
            leak.layer = "payment";
            leak.what = QStringLiteral("spend \"%1\" went through after the stop").arg(QString::fromUtf8(e.name));
        } else if (e.kind == EventKind::ModelCall) {
            // A model call needs the agent's run to go on and its token to work.
            leak.layer = w->layers.contains("identity") ? "identity" : "runtime";
            leak.what = QStringLiteral("model call \"%1\" went through after the stop").arg(QString::fromUtf8(e.name));
        } else {
            continue;
        }
        raise(leak, e.runId);
    }
}

void LeakWatch::poll()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (auto it = m_watched.begin(); it != m_watched.end();) {
        if (it->untilMs < now)
            it = m_watched.erase(it);
        else
            ++it;
    }
    if (m_watched.isEmpty()) {
        m_poll.stop();
        m_runAgent.clear();
        return;
    }
    if (!m_layers || !m_profile)
        return;
    for (auto it = m_watched.cbegin(); it != m_watched.cend(); ++it) {
        const AgentConfig *agent = m_profile->agent(QString::fromUtf8(it.key()));
        if (!agent)
            continue;
        const std::pair<QByteArray, QString> layers[] = {{"identity", agent->identityProvider},
                                                          {"payment", agent->paymentProvider},
                                                          {"tools", agent->toolsProvider}};
        for (const auto &[layer, provider] : layers) {
            if (provider.isEmpty() || !it->layers.contains(layer))
                continue;
            auto connector = m_layers->connector(provider.toUtf8());
            if (!connector || !connector.value())
                continue;
            QString error;
            LayerTarget target = layerTargetFor(m_profile, it.key(), layer, &error);
            if (!error.isEmpty())
                continue;
            QPointer<LeakWatch> self(this);
            const QByteArray agentName = it.key();
            connector.value()->checkLeaks(target, it->sinceMs,
                                          [self, agentName, layer](const Result<std::vector<LayerLeak>> &leaks) {
                                              if (!self || !leaks.ok())
                                                  return; // an unreachable provider is not a leak
                                              for (LayerLeak l : *leaks) {
                                                  if (l.agent.isEmpty())
                                                      l.agent = agentName;
                                                  if (l.layer.isEmpty())
                                                      l.layer = layer;
                                                  self->raise(l, {});
                                              }
                                          });
        }
    }
}

void LeakWatch::raise(const LayerLeak &leak, const QByteArray &runId)
{
    const QString key = QString::fromUtf8(leak.agent + '|' + leak.layer + '|' + runId) + leak.what;
    if (m_seen.contains(key))
        return;
    m_seen.insert(key);
    qCWarning(lcRuntime).noquote() << "LEAK after stop:" << leak.agent << leak.layer << leak.what;
    AuditEntry e;
    e.actor = systemActor();
    e.action = QStringLiteral("stop.leak");
    e.target.agent = QString::fromUtf8(leak.agent);
    e.target.run = QString::fromUtf8(runId);
    e.target.layer = QString::fromUtf8(leak.layer);
    e.outcome = QStringLiteral("leak");
    e.detail = QJsonObject{{QStringLiteral("what"), leak.what}, {QStringLiteral("at_ms"), leak.atMs}};
    if (auto a = m_store->appendAudit(e); !a.ok())
        qCWarning(lcRuntime) << "leak not audited:" << a.error().message;
    emit this->leak(leak, runId);
}

} // namespace Breaker
