#include "app/services/RuntimeService.h"

#include "app/services/RunMonitor.h"
#include "app/services/Secrets.h"
#include "connectors/runtime/A2aConnector.h"
#include "connectors/runtime/LangGraphConnector.h"
#include "connectors/runtime/CloudflareAgentsConnector.h"
#include "models/Logging.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace Breaker {

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
{
    if (m_monitor)
        connect(m_monitor, &RunMonitor::runsCommitted, this, &RuntimeService::watchFromTelemetry);
}

RuntimeService::~RuntimeService() = default;

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
    if (provider.kind == QLatin1String("langgraph")) // api_key goes out as x-api-key
        return static_cast<RuntimeConnector *>(new LangGraphConnector(provider, bearer, parent));
    if (provider.kind == QLatin1String("cloudflare-agents"))
        return static_cast<RuntimeConnector *>(new CloudflareAgentsConnector(provider, bearer, selectors, parent));
    return static_cast<RuntimeConnector *>(new A2aConnector(provider, bearer, parent));
}

void RuntimeService::applyProfile(const Profile &profile)
{
    m_profile = profile;
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
        auto made = makeConnector(p, this, selectors);
        if (!made.ok()) {
            m_unavailable.insert(name, made.error().message);
            qCWarning(lcRuntime) << made.error().message;
            emit providerStateChanged(name, RuntimeConnector::LinkState::Down, made.error().message);
            continue;
        }
        RuntimeConnector *c = made.value();
        m_connectors.insert(name, c);
        connect(c, &RuntimeConnector::runUpdated, this, [this](const RuntimeRun &run) {
            // The monitor runs on the engine's thread: the update is queued to it (called
            // directly when both share a thread, as in tests).
            if (RunMonitor *monitor = m_monitor) {
                QMetaObject::invokeMethod(monitor, [monitor, run, agent = boundAgent(run.provider, run.agentName)] {
                    monitor->ingestRuntime(run, agent);
                });
            }
        });
        connect(c, &RuntimeConnector::linkStateChanged, this,
                [this, name](RuntimeConnector::LinkState state, const QString &detail) {
                    emit providerStateChanged(name, state, detail);
                });
        if (m_follow)
            c->startFollowing();
    }
    for (auto it = m_connectors.begin(); it != m_connectors.end();) {
        if (!wanted.contains(it.key())) {
            it.value()->deleteLater();
            m_configs.remove(it.key());
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

std::optional<QByteArray> RuntimeService::boundAgent(const QByteArray &provider, const QByteArray &reportedName) const
{
    if (!m_profile)
        return std::nullopt;
    // An agent bound to this runtime, by selector when it has one (DESIGN.md section 5).
    const AgentConfig *fallback = nullptr;
    int unselected = 0;
    for (const AgentConfig &a : m_profile->agents) {
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

void RuntimeService::watchFromTelemetry(const std::vector<Run> &runs)
{
    // A runtime that cannot list its tasks (A2A 0.3 over JSON-RPC) learns them from the spans
    // that carry a2a.task.id: the run's agent names its runtime.
    if (!m_profile)
        return;
    for (const Run &run : runs) {
        if (!run.agentBound || isTerminal(run.status))
            continue;
        const AgentConfig *agent = m_profile->agent(QString::fromUtf8(run.agent));
        if (!agent || agent->runtimeProvider.isEmpty())
            continue;
        RuntimeConnector *c = m_connectors.value(agent->runtimeProvider.toUtf8());
        if (!c || c->kind() != "a2a" || c->capabilities().dialect.isEmpty() || c->capabilities().list)
            continue;
        const QByteArray taskId = QJsonDocument::fromJson(run.externalIdsJson)
                                      .object()
                                      .value(QLatin1String("a2a_task_id"))
                                      .toString()
                                      .toUtf8();
        if (taskId.isEmpty() || m_watched.contains(taskId))
            continue;
        m_watched.insert(taskId);
        c->watchRun(taskId);
    }
}

} // namespace Breaker
