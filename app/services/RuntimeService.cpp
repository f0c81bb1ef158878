#include "app/services/RuntimeService.h"

#include "app/services/RunMonitor.h"
#include "app/services/RuntimeConnectorProxy.h"
#include "app/services/Secrets.h"
#include "app/services/Threads.h"
#include "connectors/runtime/A2aConnector.h"
#include "connectors/runtime/LangGraphConnector.h"
#include "connectors/runtime/CloudflareAgentsConnector.h"
#include "models/Logging.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QThread>

namespace Breaker {

// The runtime thread's side of the service.
struct RuntimeService::Remote
{
    std::shared_ptr<const Profile> profile;
    QHash<QByteArray, QPointer<RuntimeConnector>> connectors;
    QSet<QByteArray> watched; // A2A tasks learnt from telemetry
};

namespace {

QByteArray configSignature(const ProviderConfig &p)
{
    return (p.kind + QLatin1Char('|') + p.url.toString() + QLatin1Char('|')
            + (p.apiKey ? p.apiKey->toString() : QString()) + QLatin1Char('|')
            + QString::number(p.timeoutS.value_or(0)) + QLatin1Char('|') + p.caFile + QLatin1Char('|')
            + p.proxy.toString() + QLatin1Char('|') + p.stopMethod)
        .toUtf8();
}

} // namespace

RuntimeService::RuntimeService(RunMonitor *monitor, QObject *parent)
    : QObject(parent)
    , m_monitor(monitor)
    , m_remote(std::make_shared<Remote>())
{
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("runtime"));
    m_host = new QObject;
    m_host->moveToThread(m_thread);
    m_thread->start();
    if (m_monitor) {
        // On the runtime thread, from the monitor's: no copy of the runs reaches the GUI thread.
        connect(m_monitor, &RunMonitor::runsCommitted, m_host,
                [remote = m_remote](const std::vector<Run> &runs) { watchFromTelemetry(*remote, runs); });
    }
}

RuntimeService::~RuntimeService()
{
    // The proxies first (a replaced one may still wait for its deleteLater): each queues its
    // connector's deletion while the thread still runs. Then the thread ends, and the host with
    // whatever connectors are left is deleted on it.
    qDeleteAll(findChildren<RuntimeConnectorProxy *>(Qt::FindDirectChildrenOnly));
    m_connectors.clear();
    endOnItsThread(m_host, m_thread);
}

void RuntimeService::post(std::function<void()> job)
{
    QMetaObject::invokeMethod(m_host, std::move(job), Qt::QueuedConnection);
}

bool RuntimeService::isSupportedKind(const QString &kind)
{
    return kind == QLatin1String("a2a") || kind == QLatin1String("langgraph")
           || kind == QLatin1String("cloudflare-agents");
}

QStringList RuntimeService::runtimeSelectors(const Profile &profile, const QString &providerName)
{
    QStringList out;
    for (const AgentConfig &a : profile.agents) {
        if (a.runtimeProvider == providerName && !a.runtimeAgent.isEmpty() && !out.contains(a.runtimeAgent))
            out << a.runtimeAgent;
    }
    return out;
}

Result<RuntimeConnector *> RuntimeService::makeConnector(const ProviderConfig &provider, QObject *parent,
                                                         const QStringList &selectors)
{
    auto factory = connectorFactory(provider, selectors);
    if (!factory)
        return factory.error();
    return (*factory)(parent);
}

Result<RuntimeService::Factory> RuntimeService::connectorFactory(const ProviderConfig &provider,
                                                                 const QStringList &selectors)
{
    if (!isSupportedKind(provider.kind))
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1: runtime kind \"%2\" is not supported by this build yet")
                             .arg(provider.name, provider.kind),
                         provider.name);
    QByteArray bearer;
    if (provider.apiKey) {
        auto secret = resolveSecret(*provider.apiKey);
        if (!secret.ok()) {
            Error e = secret.error();
            e.message = QStringLiteral("%1: api_key: %2").arg(provider.name, e.message);
            e.where = provider.name;
            return e;
        }
        bearer = secret.value();
    }
    if (provider.kind == QLatin1String("langgraph")) { // api_key goes out as x-api-key
        return Factory([provider, bearer](QObject *parent) -> RuntimeConnector * {
            return new LangGraphConnector(provider, bearer, parent);
        });
    }
    if (provider.kind == QLatin1String("cloudflare-agents")) {
        return Factory([provider, bearer, selectors](QObject *parent) -> RuntimeConnector * {
            return new CloudflareAgentsConnector(provider, bearer, selectors, parent);
        });
    }
    return Factory(
        [provider, bearer](QObject *parent) -> RuntimeConnector * { return new A2aConnector(provider, bearer, parent); });
}

void RuntimeService::applyProfile(const Profile &profile)
{
    // Queued ahead of the connectors made below: they see the new bindings from their start.
    post([remote = m_remote, snapshot = std::make_shared<const Profile>(profile)] { remote->profile = snapshot; });
    QSet<QByteArray> wanted;
    for (const ProviderConfig &p : profile.providers) {
        if (p.layer != QLatin1String("runtime"))
            continue;
        const QByteArray name = p.name.toUtf8();
        wanted.insert(name);
        const QStringList selectors = runtimeSelectors(profile, p.name);
        const QByteArray signature = configSignature(p) + '|' + selectors.join(QLatin1Char(',')).toUtf8();
        if (m_configs.value(name) == signature && (m_connectors.contains(name) || m_unavailable.contains(name)))
            continue;
        if (RuntimeConnector *old = m_connectors.take(name))
            old->deleteLater();
        m_unavailable.remove(name);
        m_configs.insert(name, signature);
        auto factory = connectorFactory(p, selectors);
        if (!factory.ok()) {
            m_unavailable.insert(name, factory.error().message);
            qCWarning(lcRuntime) << factory.error().message;
            emit providerStateChanged(name, RuntimeConnector::LinkState::Down, factory.error().message);
            continue;
        }
        auto *proxy = new RuntimeConnectorProxy(name, p.kind.toUtf8(), m_host, this, std::move(factory.value()), this);
        m_connectors.insert(name, proxy);
        connect(proxy, &RuntimeConnector::linkStateChanged, this,
                [this, name](RuntimeConnector::LinkState state, const QString &detail) {
                    emit providerStateChanged(name, state, detail);
                });
        // The monitor outlives this thread (Engine deletes the service first).
        proxy->onConnector([remote = m_remote, monitor = m_monitor, name, follow = m_follow](RuntimeConnector *c) {
            remote->connectors.insert(name, c);
            if (RunMonitor *target = monitor) {
                // From the runtime thread to the monitor's, bound to the profile's agent here.
                connect(c, &RuntimeConnector::runUpdated, c, [remote, target](const RuntimeRun &run) {
                    QMetaObject::invokeMethod(
                        target,
                        [target, run, agent = boundAgent(remote->profile.get(), run.provider, run.agentName)] {
                            target->ingestRuntime(run, agent);
                        },
                        Qt::QueuedConnection);
                });
            }
            if (follow)
                c->startFollowing();
        });
    }
    for (auto it = m_connectors.begin(); it != m_connectors.end();) {
        if (!wanted.contains(it.key())) {
            it.value()->deleteLater();
            m_configs.remove(it.key());
            post([remote = m_remote, name = it.key()] { remote->connectors.remove(name); });
            it = m_connectors.erase(it);
        } else {
            ++it;
        }
    }
}

RuntimeConnector *RuntimeService::connector(const QByteArray &providerName) const
{
    return m_connectors.value(providerName);
}

QString RuntimeService::unavailableReason(const QByteArray &providerName) const
{
    return m_unavailable.value(providerName);
}

std::optional<QByteArray> RuntimeService::boundAgent(const Profile *profile, const QByteArray &provider,
                                                     const QByteArray &reportedName)
{
    if (!profile)
        return std::nullopt;
    // An agent bound to this runtime, by selector when it has one (DESIGN.md section 5).
    const AgentConfig *fallback = nullptr;
    int unselected = 0;
    for (const AgentConfig &a : profile->agents) {
        if (a.runtimeProvider.toUtf8() != provider)
            continue;
        if (!a.runtimeAgent.isEmpty()) {
            if (a.runtimeAgent.toUtf8() == reportedName)
                return a.name.toUtf8();
            continue;
        }
        fallback = &a;
        ++unselected;
    }
    if (unselected == 1)
        return fallback->name.toUtf8();
    return std::nullopt;
}

void RuntimeService::watchFromTelemetry(Remote &remote, const std::vector<Run> &runs)
{
    // A runtime that cannot list its tasks (A2A 0.3 over JSON-RPC) learns them from the spans
    // that carry a2a.task.id: the run's agent names its runtime.
    if (!remote.profile)
        return;
    for (const Run &run : runs) {
        if (!run.agentBound || isTerminal(run.status))
            continue;
        const AgentConfig *agent = remote.profile->agent(QString::fromUtf8(run.agent));
        if (!agent || agent->runtimeProvider.isEmpty())
            continue;
        RuntimeConnector *c = remote.connectors.value(agent->runtimeProvider.toUtf8());
        if (!c || c->kind() != "a2a" || c->capabilities().dialect.isEmpty() || c->capabilities().list)
            continue;
        const QByteArray taskId = QJsonDocument::fromJson(run.externalIdsJson)
                                      .object()
                                      .value(QLatin1String("a2a_task_id"))
                                      .toString()
                                      .toUtf8();
        if (taskId.isEmpty() || remote.watched.contains(taskId))
            continue;
        remote.watched.insert(taskId);
        c->watchRun(taskId);
    }
}

} // namespace Breaker
