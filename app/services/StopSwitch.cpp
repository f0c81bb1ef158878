#include "app/services/StopSwitch.h"

#include "app/services/Operator.h"
#include "app/services/Secrets.h"
#include "connectors/runtime/RuntimeConnector.h"
#include "models/Logging.h"
#include "models/Store.h"

#include <algorithm>
#include <mutex>

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonDocument>
#include <QSysInfo>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QUuid>

namespace Breaker {

namespace {

QString s(const QByteArray &v)
{
    return QString::fromUtf8(v);
}

int layerRank(QByteArrayView layer)
{
    const auto &all = StopSwitch::allLayers();
    for (int i = 0; i < all.size(); ++i)
        if (all[i] == QLatin1StringView(layer.data(), layer.size()))
            return i;
    return int(all.size());
}

int severity(LayerOutcome o)
{
    switch (o) {
    case LayerOutcome::Verified:
        return 0;
    case LayerOutcome::SkippedNotConfigured:
        return 1;
    case LayerOutcome::DoneUnverified:
        return 2;
    case LayerOutcome::Failed:
        return 3;
    }
    return 3;
}

QJsonObject rowJson(const PlannedAction &a)
{
    auto orNull = [](const QByteArray &v) { return v.isEmpty() ? QJsonValue() : QJsonValue(s(v)); };
    return QJsonObject{{QStringLiteral("layer"), s(a.row.layer)},
                       {QStringLiteral("agent"), orNull(a.row.agent)},
                       {QStringLiteral("run"), orNull(a.row.run)},
                       {QStringLiteral("provider"), orNull(a.row.provider)},
                       {QStringLiteral("target"), orNull(a.row.target)},
                       {QStringLiteral("action"), s(a.row.action)},
                       {QStringLiteral("plan"), a.configured ? a.describe : a.why}};
}

// The runtime row of one run in flight.
PlannedAction cancelAction(const RuntimeStop::Plan &rp, const QByteArray &agent)
{
    PlannedAction a;
    a.row.layer = "runtime";
    a.row.agent = agent;
    a.row.run = rp.runId;
    a.row.provider = rp.provider;
    a.row.action = "cancel";
    a.row.target = rp.externalId.isEmpty() ? QByteArray() : rp.kind + " task " + rp.externalId;
    a.principal = rp.principal;
    a.configured = !rp.provider.isEmpty();
    a.why = rp.why;
    a.describe = rp.describe();
    a.releaseApproval = rp.status == "waiting_approval";
    a.runtime = rp;
    return a;
}

} // namespace

QByteArray StopScope::wireKind() const
{
    switch (kind) {
    case Kind::Run:
        return QByteArrayLiteral("run");
    case Kind::Agent:
        return QByteArrayLiteral("agent");
    case Kind::Principal:
        return QByteArrayLiteral("principal");
    case Kind::All:
        return QByteArrayLiteral("all");
    }
    return {};
}

int StopPlan::count(QByteArrayView layer) const
{
    int n = 0;
    for (const PlannedAction &a : actions)
        if (a.configured && a.row.layer == layer && !(a.row.layer == "runtime" && a.row.run.isEmpty()))
            n += a.row.layer == "payment" ? std::max<qsizetype>(1, a.row.target.count(',') + 1) : 1;
    return n;
}

QString StopPlan::summary() const
{
    QStringList parts;
    auto add = [&](QByteArrayView layer, const char *one, const char *many) {
        if (!layers.contains(QString::fromLatin1(layer.data(), layer.size())))
            return;
        const int n = count(layer);
        if (n > 0)
            parts << QStringLiteral("%1 %2").arg(n).arg(QString::fromLatin1(n == 1 ? one : many));
    };
    add("runtime", "run to cancel", "runs to cancel");
    add("identity", "token to revoke", "tokens to revoke");
    if (resume) {
        add("payment", "card to unfreeze", "cards to unfreeze");
        add("tools", "tool set to unblock", "tool sets to unblock");
    } else {
        add("payment", "card to freeze", "cards to freeze");
        add("tools", "tool set to block", "tool sets to block");
    }
    int quiet = 0, gaps = 0;
    for (const PlannedAction &a : actions) {
        if (!a.configured)
            ++gaps;
        else if (a.row.layer == "runtime" && a.row.run.isEmpty())
            ++quiet;
    }
    QString text = QStringLiteral("%1 agent%2").arg(agents.size()).arg(agents.size() == 1 ? QString() : QStringLiteral("s"));
    text += parts.isEmpty() ? QStringLiteral(": nothing to act on") : QStringLiteral(": ") + parts.join(QStringLiteral(", "));
    if (quiet > 0)
        text += QStringLiteral("; %1 with no run in flight (the runtime is asked)").arg(quiet);
    if (gaps > 0)
        text += QStringLiteral("; %1 layer action%2 not configured (shown as gaps)").arg(gaps).arg(gaps == 1 ? QString() : QStringLiteral("s"));
    return text;
}

struct StopSwitch::Running
{
    StopPlan plan;
    QString reason;
    bool resume = false;
    AuditEntry::Actor actor;
    QByteArray operationKey;
    std::vector<std::optional<std::vector<StopLayerResult>>> results;
    std::vector<Progress> progress;
    std::vector<Done> done;
    QElapsedTimer clock;
    qint64 startedAtMs = 0;
    int pending = 0;
    QJsonArray released;
    QStringList notes;
    bool claimed = false;              // this process holds the scope's claim in the Store
    std::optional<StopClaim> joined;   // the other process's stop this one waits for
    QTimer *poll = nullptr;            // while joined: looks for its result
    QByteArray replacing;              // a claim to take over whatever its age (hung, or a leftover)
};

StopSwitch::~StopSwitch()
{
    // A stop cut short by the process ending must not leave a claim that others would join until
    // it goes stale (a claim of a process that exited is taken over at once anyway).
    for (const auto &running : std::as_const(m_running))
        releaseClaim(*running, nullptr);
}

int StopSwitch::guardMsFor(const PlannedAction &a) const
{
    if (const ProviderConfig *p = m_profile ? m_profile->provider(s(a.row.provider)) : nullptr;
        p && p->timeoutS && a.row.layer != "runtime")
        return int(*p->timeoutS * 2000) + 2000;
    return m_deadlines.actMs + m_deadlines.verifyMs + m_settleMs + 2000;
}

QByteArray StopSwitch::stopKey(const StopPlan &plan, bool resume)
{
    // Only the same stop joins: the same scope, the same layers, and a drill only a drill (a
    // stop of the payment layer must not report a stop of the runtime as its own, and a drill's
    // resume must never undo an operator's real stop).
    return (resume ? "resume:" : "stop:") + plan.scope.key() + (plan.drill ? " drill" : "") + " layers="
           + plan.layers.join(QLatin1Char(',')).toUtf8();
}

QByteArray StopSwitch::runningKey(const Running &running)
{
    return stopKey(running.plan, running.resume);
}

bool StopSwitch::isStopping(const StopScope &scope) const
{
    return std::any_of(m_running.cbegin(), m_running.cend(), [&scope](const std::shared_ptr<Running> &r) {
        return !r->resume && r->plan.scope.key() == scope.key();
    });
}

namespace {

// The operations this process is carrying out, whatever StopSwitch runs them: a claim of this
// process's that is not among them is a leftover (its release failed) and is taken over at once.
std::mutex g_liveOperationsMutex;
QSet<QByteArray> &liveOperations()
{
    static QSet<QByteArray> operations;
    return operations;
}

void setLive(const QByteArray &operation, bool live)
{
    std::lock_guard lock(g_liveOperationsMutex);
    if (live)
        liveOperations().insert(operation);
    else
        liveOperations().remove(operation);
}

bool isLive(const QByteArray &operation)
{
    std::lock_guard lock(g_liveOperationsMutex);
    return liveOperations().contains(operation);
}

} // namespace

void StopSwitch::releaseClaim(Running &running, QStringList *notes)
{
    if (!running.claimed)
        return;
    running.claimed = false;
    setLive(running.operationKey, false);
    if (auto r = m_store->releaseStop(runningKey(running), running.operationKey); !r.ok()) {
        qCWarning(lcRuntime) << "stop claim not released:" << r.error().message;
        if (notes)
            *notes << QStringLiteral("WARNING: the stop's claim could not be released (a later stop of the same "
                                     "scope will take it over): %1")
                          .arg(r.error().message);
    }
}

QString StopSwitch::auditJoin(const Running &joiner, const QByteArray &operation, const QString &holderActor,
                              qint64 holderPid, const QByteArray &holderHost)
{
    // The operator asked for a stop: the trail says who, why, and which running stop it joined
    // (its operation key, so the join reads as part of that operation).
    AuditEntry e;
    e.actor = joiner.actor;
    e.action = joiner.resume ? QStringLiteral("resume.joined") : QStringLiteral("stop.joined");
    const StopScope &scope = joiner.plan.scope;
    if (scope.kind == StopScope::Kind::Agent)
        e.target.agent = s(scope.value);
    else if (scope.kind == StopScope::Kind::Run)
        e.target.run = s(scope.value);
    else if (scope.kind == StopScope::Kind::Principal)
        e.target.principal = s(scope.value);
    e.reason = joiner.reason;
    e.detail = QJsonObject{
        {QStringLiteral("operation"), s(operation)},
        {QStringLiteral("scope"), QJsonObject{{QStringLiteral("kind"), s(scope.wireKind())},
                                              {QStringLiteral("value"), s(scope.value)}}},
        {QStringLiteral("layers"), QJsonArray::fromStringList(joiner.plan.layers)},
        {QStringLiteral("joined"), QJsonObject{{QStringLiteral("actor"), holderActor},
                                               {QStringLiteral("pid"), holderPid},
                                               {QStringLiteral("host"), s(holderHost)}}}};
    if (auto a = m_store->appendAudit(e); !a.ok())
        return QStringLiteral("WARNING: the join could not be written to the audit trail: %1").arg(a.error().message);
    return {};
}

StopSwitch::StopSwitch(std::shared_ptr<Store> store, std::optional<Profile> profile,
                       RuntimeStop::ConnectorFor runtimeFor, LayerFor layerFor, QObject *parent)
    : QObject(parent)
    , m_store(std::move(store))
    , m_profile(std::move(profile))
    , m_runtimeFor(std::move(runtimeFor))
    , m_layerFor(std::move(layerFor))
{
    m_runtime = new RuntimeStop(m_store, m_profile, m_runtimeFor, this);
    qRegisterMetaType<StopOutcome>();
}

void StopSwitch::setRuntimeTimings(int actMs, int verifyMs, int stillActiveMs, int settleMs)
{
    m_runtime->setVerifyTimings(actMs, verifyMs, stillActiveMs, settleMs);
    m_settleMs = settleMs;
}

const QStringList &StopSwitch::allLayers()
{
    static const QStringList layers = {QStringLiteral("runtime"), QStringLiteral("identity"),
                                       QStringLiteral("payment"), QStringLiteral("tools")};
    return layers;
}

QStringList StopSwitch::defaultLayers(const StopScope &scope)
{
    // DESIGN.md section 9: --run acts on the runtime only unless --layers names more.
    return scope.kind == StopScope::Kind::Run ? QStringList{QStringLiteral("runtime")} : allLayers();
}

Result<QList<QByteArray>> StopSwitch::agentsInScope(const StopScope &scope) const
{
    QList<QByteArray> agents;
    auto add = [&](const QByteArray &a) {
        if (!a.isEmpty() && !agents.contains(a))
            agents << a;
    };
    switch (scope.kind) {
    case StopScope::Kind::Run:
        break; // resolved with the run
    case StopScope::Kind::Agent: {
        bool known = m_profile && m_profile->agent(s(scope.value));
        if (!known) {
            RunQuery q;
            q.agent = scope.value;
            q.limit = 1;
            auto runs = m_store->runs(q);
            if (!runs)
                return runs.error();
            known = !runs->empty();
        }
        if (!known)
            return makeError(Error::Kind::NotFound,
                             QStringLiteral("no agent %1 in the profile or among the runs").arg(s(scope.value)));
        add(scope.value);
        break;
    }
    case StopScope::Kind::Principal: {
        if (m_profile)
            for (const AgentConfig &a : m_profile->agents)
                if (a.principals.contains(s(scope.value)))
                    add(a.name.toUtf8());
        RunQuery q;
        q.principal = scope.value;
        q.limit = 1000;
        auto runs = m_store->runs(q);
        if (!runs)
            return runs.error();
        for (const Run &r : *runs)
            if (!isTerminal(r.status))
                add(r.agent);
        if (agents.isEmpty())
            return makeError(Error::Kind::NotFound,
                             QStringLiteral("no agent acts for %1 (profile principals, runs in flight)")
                                 .arg(s(scope.value)));
        break;
    }
    case StopScope::Kind::All: {
        if (!m_profile)
            return makeError(Error::Kind::Invalid, QStringLiteral("--all needs a profile"));
        if (scope.value != m_profile->name.toUtf8())
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("--all --confirm must name the profile (\"%1\"), not \"%2\"")
                                 .arg(m_profile->name, s(scope.value)));
        for (const AgentConfig &a : m_profile->agents)
            add(a.name.toUtf8());
        for (const char *status : {"working", "submitted", "waiting_approval", "stopping"}) {
            RunQuery q;
            q.status = status;
            q.limit = 5000;
            auto runs = m_store->runs(q);
            if (!runs)
                return runs.error();
            for (const Run &r : *runs)
                add(r.agent);
        }
        break;
    }
    }
    return agents;
}

void StopSwitch::addLayerActions(StopPlan &plan, const QByteArray &agentName, bool resume) const
{
    const AgentConfig *agent = m_profile ? m_profile->agent(s(agentName)) : nullptr;
    for (const QString &layer : {QStringLiteral("identity"), QStringLiteral("payment"), QStringLiteral("tools")}) {
        if (!plan.layers.contains(layer))
            continue;
        PlannedAction a;
        a.row.layer = layer.toUtf8();
        a.row.agent = agentName;
        if (plan.scope.kind == StopScope::Kind::Run)
            a.row.run = plan.scope.value;
        auto gap = [&](const QString &why) {
            a.configured = false;
            a.why = why;
        };
        if (!agent) {
            gap(QStringLiteral("agent %1 is not in the profile").arg(s(agentName)));
        } else if (layer == QLatin1String("identity")) {
            a.row.action = resume ? "none" : "revoke";
            a.row.provider = agent->identityProvider.toUtf8();
            if (agent->identityProvider.isEmpty())
                gap(QStringLiteral("no identity provider in the profile"));
            else if (!agent->identityToken)
                gap(QStringLiteral("the profile names no identity.token to revoke"));
            else {
                a.row.target = "token " + agent->identityToken->toString().toUtf8();
                a.describe = QStringLiteral("revoke the agent's token (%1) at %2, then introspect it")
                                 .arg(agent->identityToken->toString(), agent->identityProvider);
            }
            if (resume)
                continue; // a revoked token stays revoked: nothing to undo (a note says so)
        } else if (layer == QLatin1String("payment")) {
            a.row.action = resume ? "unfreeze" : "freeze";
            a.row.provider = agent->paymentProvider.toUtf8();
            if (agent->paymentProvider.isEmpty())
                gap(QStringLiteral("no payment provider in the profile"));
            else if (agent->cards.isEmpty())
                gap(QStringLiteral("the profile lists no cards for the agent"));
            else {
                a.row.target = "cards " + agent->cards.join(QStringLiteral(", ")).toUtf8();
                a.describe = QStringLiteral("%1 %2 at %3, then read %4 back")
                                 .arg(resume ? QStringLiteral("unfreeze") : QStringLiteral("freeze"),
                                      agent->cards.join(QStringLiteral(", ")), agent->paymentProvider,
                                      agent->cards.size() == 1 ? QStringLiteral("it") : QStringLiteral("them"));
            }
        } else {
            a.row.action = resume ? "unblock" : "block";
            a.row.provider = agent->toolsProvider.toUtf8();
            if (agent->toolsProvider.isEmpty())
                gap(QStringLiteral("no tool gateway in the profile"));
            else if (agent->toolNames.isEmpty() && !agent->toolsKey)
                gap(QStringLiteral("the profile names none of the agent's tools (tools.names) nor its key"));
            else {
                a.row.target = "tools " + agent->toolNames.join(QStringLiteral(", ")).toUtf8();
                a.describe = QStringLiteral("%1 %2 for %3 at %4, then ask for a decision on each")
                                 .arg(resume ? QStringLiteral("unblock") : QStringLiteral("block"),
                                      agent->toolNames.join(QStringLiteral(", ")), s(agentName), agent->toolsProvider);
            }
        }
        plan.actions.push_back(std::move(a));
    }
}

Result<StopPlan> StopSwitch::plan(const StopScope &scope, const QStringList &layersAsked) const
{
    StopPlan plan;
    plan.scope = scope;
    plan.resolvedAtMs = QDateTime::currentMSecsSinceEpoch();
    const QStringList asked = layersAsked.isEmpty() ? defaultLayers(scope) : layersAsked;
    for (const QString &l : asked)
        if (!allLayers().contains(l))
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("unknown layer \"%1\" (runtime, identity, payment, tools)").arg(l));
    for (const QString &l : allLayers())
        if (asked.contains(l))
            plan.layers << l;

    if (scope.kind == StopScope::Kind::Run) {
        auto rp = m_runtime->plan(scope.value);
        if (!rp)
            return rp.error();
        plan.agents << rp->agent;
        if (plan.layers.contains(QLatin1String("runtime"))) {
            plan.actions.push_back(cancelAction(*rp, rp->agent));
        }
        addLayerActions(plan, rp->agent, false);
        return plan;
    }

    auto agents = agentsInScope(scope);
    if (!agents)
        return agents.error();
    plan.agents = *agents;
    for (const QByteArray &agent : plan.agents) {
        if (plan.layers.contains(QLatin1String("runtime"))) {
            // Every run of the agent still in flight (for a principal: acting for them).
            std::vector<Run> inFlight;
            for (const char *status : {"working", "submitted", "waiting_approval", "stopping", "unknown"}) {
                RunQuery q;
                q.agent = agent;
                q.status = status;
                if (scope.kind == StopScope::Kind::Principal)
                    q.principal = scope.value;
                q.limit = 1000;
                auto runs = m_store->runs(q);
                if (!runs)
                    return runs.error();
                inFlight.insert(inFlight.end(), runs->begin(), runs->end());
            }
            for (const Run &r : inFlight) {
                auto rp = m_runtime->plan(r.id);
                if (!rp)
                    return rp.error();
                plan.actions.push_back(cancelAction(*rp, agent));
            }
            if (inFlight.empty()) {
                // Nothing in flight as far as Breaker knows: the runtime is still asked.
                PlannedAction a;
                a.row.layer = "runtime";
                a.row.agent = agent;
                a.row.action = "cancel";
                const AgentConfig *config = m_profile ? m_profile->agent(s(agent)) : nullptr;
                if (!config || config->runtimeProvider.isEmpty()) {
                    a.configured = false;
                    a.why = config ? QStringLiteral("no runtime provider in the profile")
                                   : QStringLiteral("agent %1 is not in the profile").arg(s(agent));
                } else {
                    a.row.provider = config->runtimeProvider.toUtf8();
                    a.row.target = "runs of " + agent;
                    a.runtime.agent = agent;
                    a.runtime.provider = a.row.provider;
                    if (const ProviderConfig *p = m_profile->provider(config->runtimeProvider))
                        a.runtime.kind = p->kind.toUtf8();
                    a.describe = QStringLiteral("no run of %1 in flight here: ask %2 for any and cancel them")
                                     .arg(s(agent), config->runtimeProvider);
                }
                plan.actions.push_back(std::move(a));
            }
        }
        addLayerActions(plan, agent, false);
    }
    // Rows in control-map order per agent, agents in scope order.
    std::stable_sort(plan.actions.begin(), plan.actions.end(), [&](const PlannedAction &a, const PlannedAction &b) {
        const auto ia = plan.agents.indexOf(a.row.agent), ib = plan.agents.indexOf(b.row.agent);
        if (ia != ib)
            return ia < ib;
        return layerRank(a.row.layer) < layerRank(b.row.layer);
    });
    return plan;
}

Result<StopPlan> StopSwitch::planResume(const StopScope &scope) const
{
    if (scope.kind != StopScope::Kind::Agent && scope.kind != StopScope::Kind::Principal)
        return makeError(Error::Kind::Invalid, QStringLiteral("resume acts on an agent or a principal"));
    StopPlan plan;
    plan.scope = scope;
    plan.resolvedAtMs = QDateTime::currentMSecsSinceEpoch();
    plan.layers = {QStringLiteral("payment"), QStringLiteral("tools")};
    plan.resume = true;
    auto agents = agentsInScope(scope);
    if (!agents)
        return agents.error();
    plan.agents = *agents;
    for (const QByteArray &agent : plan.agents)
        addLayerActions(plan, agent, true);
    return plan;
}

LayerTarget layerTargetFor(const std::optional<Profile> &profile, const QByteArray &agentName,
                           QByteArrayView layer, QString *error)
{
    LayerTarget t;
    t.agent = agentName;
    const AgentConfig *agent = profile ? profile->agent(s(agentName)) : nullptr;
    if (!agent)
        return t;
    if (layer == "identity") {
        if (agent->identityToken) {
            t.tokenRef = agent->identityToken->toString();
            auto token = resolveSecret(*agent->identityToken);
            if (!token)
                *error = QStringLiteral("cannot read the agent's token (%1): %2").arg(t.tokenRef, token.error().message);
            else
                t.token = token.value();
        }
        t.subject = agent->identitySubject.toUtf8();
        t.clientId = agent->identityClientId.toUtf8();
    } else if (layer == "payment") {
        t.cards = agent->cards;
    } else if (layer == "tools") {
        t.tools = agent->toolNames;
        if (agent->toolsKey) {
            auto key = resolveSecret(*agent->toolsKey);
            if (!key)
                *error = QStringLiteral("cannot read the agent's gateway key (%1): %2")
                             .arg(agent->toolsKey->toString(), key.error().message);
            else
                t.agentKey = key.value();
        }
    }
    return t;
}

void StopSwitch::execute(const StopPlan &plan, const QString &reason, Progress progress, Done done)
{
    start(plan, reason, false, std::move(progress), std::move(done));
}

void StopSwitch::resume(const StopPlan &plan, const QString &reason, Progress progress, Done done)
{
    start(plan, reason, true, std::move(progress), std::move(done));
}

void StopSwitch::start(const StopPlan &plan, const QString &reason, bool resume, Progress progress, Done done)
{
    const QByteArray key = stopKey(plan, resume);
    if (auto it = m_running.find(key); it != m_running.end() && !reason.trimmed().isEmpty()) {
        // A second stop of a scope being stopped joins the first and reports its result.
        const Running &first = **it;
        Running joiner;
        joiner.plan = plan;
        joiner.resume = resume;
        joiner.reason = reason.trimmed();
        joiner.actor = currentOperator(m_profile);
        const QString warning
            = first.joined ? auditJoin(joiner, first.joined->operation, first.joined->actor, first.joined->pid,
                                       first.joined->host)
                           : auditJoin(joiner, first.operationKey, first.actor.id, QCoreApplication::applicationPid(),
                                       QSysInfo::machineHostName().toUtf8());
        if (!warning.isEmpty())
            qCWarning(lcRuntime) << warning;
        (*it)->done.push_back(std::move(done));
        (*it)->progress.push_back(std::move(progress));
        return;
    }
    auto running = std::make_shared<Running>();
    running->plan = plan;
    running->reason = reason.trimmed();
    running->resume = resume;
    running->actor = currentOperator(m_profile);
    running->results.resize(plan.actions.size());
    running->progress.push_back(std::move(progress));
    running->done.push_back(std::move(done));
    running->clock.start();
    running->startedAtMs = QDateTime::currentMSecsSinceEpoch();
    if (resume)
        running->notes << QStringLiteral("a revoked token stays revoked: the agent needs a new grant from its "
                                         "identity provider");
    begin(running);
}

void StopSwitch::begin(const std::shared_ptr<Running> &running)
{
    const StopPlan &plan = running->plan;
    const bool resume = running->resume;
    const QByteArray key = runningKey(*running);
    running->operationKey = QUuid::createUuid().toByteArray(QUuid::WithoutBraces);
    running->pending = int(plan.actions.size());

    auto failAll = [&](const QString &why) {
        StopOutcome o;
        o.scope = plan.scope;
        o.reason = running->reason;
        o.startedAtMs = running->startedAtMs;
        for (const PlannedAction &a : plan.actions) {
            StopLayerResult r = a.row;
            r.outcome = LayerOutcome::Failed;
            r.detail = why;
            o.rows.push_back(r);
        }
        o.notes = running->notes;
        o.notes << why;
        for (auto &d : running->done)
            if (d)
                d(o);
    };
    if (running->reason.isEmpty()) {
        failAll(QStringLiteral("not attempted: a reason is required"));
        return;
    }

    // Another process may be stopping the same scope: then this stop joins it (DESIGN.md
    // section 9). The claim is taken before the intent is written, so that of two processes
    // starting together exactly one acts.
    StopClaim mine;
    mine.scope = key;
    mine.operation = running->operationKey;
    mine.pid = QCoreApplication::applicationPid();
    mine.host = QSysInfo::machineHostName().toUtf8();
    mine.actor = running->actor.id;
    mine.startedMs = QDateTime::currentMSecsSinceEpoch();
    for (const PlannedAction &a : plan.actions)
        mine.deadlineMs = std::max<qint64>(mine.deadlineMs, guardMsFor(a));
    std::optional<StopClaim> takenOver;
    auto claim = m_store->claimStop(mine, m_claimStaleMs, &takenOver, running->replacing);
    if (claim.ok() && claim->operation != mine.operation && claim->pid == mine.pid && claim->host == mine.host
        && !isLive(claim->operation)) {
        // This process's own leftover (its release failed): nobody is carrying it out.
        claim = m_store->claimStop(mine, m_claimStaleMs, &takenOver, claim->operation);
    }
    running->replacing.clear();
    if (!claim.ok()) {
        // The stop goes ahead: bookkeeping must never keep an operator from stopping an agent.
        running->notes << QStringLiteral("WARNING: could not check whether another process is stopping the same "
                                         "scope (%1): two stops may act at once")
                              .arg(claim.error().message);
    } else if (claim->operation != mine.operation) {
        join(running, claim.value());
        return;
    } else {
        running->claimed = true;
        setLive(running->operationKey, true);
        if (takenOver)
            running->notes << QStringLiteral("a stop of the same scope by %1 (process %2 on %3, started %4) never "
                                             "finished: this stop took over")
                                  .arg(takenOver->actor, QString::number(takenOver->pid), s(takenOver->host),
                                       QDateTime::fromMSecsSinceEpoch(takenOver->startedMs).toUTC().toString(Qt::ISODate));
    }

    // The intent, with the plan exactly as it will be carried out, is durable first.
    AuditEntry intent;
    intent.actor = running->actor;
    intent.action = resume ? QStringLiteral("resume.requested") : QStringLiteral("stop.requested");
    if (plan.scope.kind == StopScope::Kind::Agent)
        intent.target.agent = s(plan.scope.value);
    else if (plan.scope.kind == StopScope::Kind::Run) {
        intent.target.run = s(plan.scope.value);
        intent.target.agent = plan.agents.isEmpty() ? QString() : s(plan.agents.first());
    } else if (plan.scope.kind == StopScope::Kind::Principal)
        intent.target.principal = s(plan.scope.value);
    intent.reason = running->reason;
    QJsonArray actions;
    for (const PlannedAction &a : plan.actions)
        actions.append(rowJson(a));
    QJsonArray agents;
    for (const QByteArray &a : plan.agents)
        agents.append(s(a));
    intent.detail = QJsonObject{
        {QStringLiteral("scope"), QJsonObject{{QStringLiteral("kind"), s(plan.scope.wireKind())},
                                              {QStringLiteral("value"), s(plan.scope.value)}}},
        {QStringLiteral("layers"), QJsonArray::fromStringList(plan.layers)},
        {QStringLiteral("agents"), agents},
        {QStringLiteral("summary"), plan.summary()},
        {QStringLiteral("operation"), s(running->operationKey)},
        {QStringLiteral("drill"), plan.drill},
        {QStringLiteral("actions"), actions}};
    if (auto a = m_store->appendAudit(intent); !a.ok()) {
        releaseClaim(*running, &running->notes);
        failAll(QStringLiteral("not attempted: the audit trail could not record the intent: %1").arg(a.error().message));
        return;
    }
    m_running.insert(key, running);
    if (plan.actions.empty()) {
        finishAction(running, -1, {});
        return;
    }
    // Every layer at once; each action has its own deadline, and a guard past it so that no
    // row can hang even if a provider's connector broke its promise.
    if (m_sequential) {
        runAction(running, 0);
        return;
    }
    for (int i = 0; i < int(plan.actions.size()); ++i) {
        const int guardMs = guardMsFor(plan.actions[size_t(i)]);
        QTimer::singleShot(guardMs, this, [this, running, i, guardMs] {
            if (running->results[size_t(i)])
                return;
            StopLayerResult r = running->plan.actions[size_t(i)].row;
            r.outcome = LayerOutcome::Failed;
            r.detail = QStringLiteral("no answer within %1 ms (the deadline): the provider's state is unknown").arg(guardMs);
            r.ms = running->clock.elapsed();
            finishAction(running, i, {r});
        });
        runAction(running, i);
    }
}

void StopSwitch::runAction(const std::shared_ptr<Running> &running, int index)
{
    const PlannedAction &action = running->plan.actions[size_t(index)];
    StopLayerResult row = action.row;
    if (!action.configured) {
        row.outcome = LayerOutcome::SkippedNotConfigured;
        row.detail = action.why;
        finishAction(running, index, {row});
        return;
    }
    if (row.layer == "runtime") {
        if (action.runtime.runId.isEmpty()) {
            runRuntimeNothingInFlight(running, index);
            return;
        }
        auto cancel = [this, running, index] {
            RuntimeStop::Plan rp = running->plan.actions[size_t(index)].runtime;
            rp.operation = running->operationKey;
            rp.drill = running->plan.drill;
            m_runtime->cancelAndVerify(rp, running->reason, running->actor,
                                       [this, running, index](const StopLayerResult &r) {
                                           finishAction(running, index, {r}, true);
                                       });
        };
        RuntimeConnector *connector = m_runtimeFor ? m_runtimeFor(action.runtime.provider) : nullptr;
        if (action.releaseApproval && connector) {
            // A stop releases every pending approval in its scope, sent as a deny (DESIGN.md §4).
            ApprovalAnswer deny;
            deny.decision = ApprovalDecision::Deny;
            deny.reason = QStringLiteral("released by a stop: %1").arg(running->reason);
            QPointer<StopSwitch> self(this);
            connector->answer(action.runtime.externalId, deny, [self, running, index, cancel](const Result<RuntimeRun> &r) {
                if (!self)
                    return;
                const PlannedAction &a = running->plan.actions[size_t(index)];
                // Conflict: the approval was decided (by a person, elsewhere) while the stop ran;
                // the run is cancelled all the same.
                const QString outcome = r.ok()                                   ? QStringLiteral("released")
                                        : r.error().kind == Error::Kind::Conflict ? QStringLiteral("decided_elsewhere")
                                                                                 : QStringLiteral("failed");
                running->released.append(QJsonObject{
                    {QStringLiteral("run"), s(a.runtime.runId)},
                    {QStringLiteral("agent"), s(a.runtime.agent)},
                    {QStringLiteral("provider"), s(a.runtime.provider)},
                    {QStringLiteral("state"), outcome},
                    {QStringLiteral("detail"), r.ok() ? QStringLiteral("sent as a deny") : r.error().message}});
                AuditEntry e;
                e.actor = running->actor;
                e.action = QStringLiteral("approval.released");
                e.target.agent = s(a.runtime.agent);
                e.target.run = s(a.runtime.runId);
                e.target.provider = s(a.runtime.provider);
                e.target.layer = QStringLiteral("runtime");
                e.reason = running->reason;
                e.outcome = outcome;
                // The operation key lets a stop that joined this one (another process) report it.
                e.detail = QJsonObject{{QStringLiteral("operation"), s(running->operationKey)},
                                       {QStringLiteral("detail"), r.ok() ? QStringLiteral("sent as a deny")
                                                                         : r.error().message}};
                if (auto w = self->m_store->appendAudit(e); !w.ok())
                    qCWarning(lcRuntime) << "approval release not audited:" << w.error().message;
                cancel();
            });
            return;
        }
        cancel();
        return;
    }

    auto connector = m_layerFor ? m_layerFor(row.provider)
                                : Result<LayerConnector *>(makeError(Error::Kind::Invalid, QStringLiteral("no layer connectors")));
    if (!connector || !connector.value()) {
        row.outcome = LayerOutcome::Failed;
        row.detail = QStringLiteral("provider %1 has no working connector: %2")
                         .arg(s(row.provider), connector ? QStringLiteral("unknown") : connector.error().message);
        finishAction(running, index, {row});
        return;
    }
    QString error;
    LayerTarget target = layerTargetFor(m_profile, action.row.agent, action.row.layer, &error);
    target.run = action.row.run;
    target.operationKey = running->operationKey;
    if (!error.isEmpty()) {
        row.outcome = LayerOutcome::Failed;
        row.detail = QStringLiteral("not attempted: ") + error;
        finishAction(running, index, {row});
        return;
    }
    QPointer<StopSwitch> self(this);
    auto answered = [self, running, index, base = row](std::vector<StopLayerResult> rows) {
        if (!self)
            return;
        for (StopLayerResult &r : rows) {
            if (r.agent.isEmpty())
                r.agent = base.agent;
            if (r.run.isEmpty())
                r.run = base.run;
            if (r.provider.isEmpty())
                r.provider = base.provider;
            if (r.layer.isEmpty())
                r.layer = base.layer;
            if (r.action.isEmpty())
                r.action = base.action;
        }
        if (rows.empty()) {
            StopLayerResult r = base;
            r.outcome = LayerOutcome::Failed;
            r.detail = QStringLiteral("the connector reported nothing");
            rows.push_back(r);
        }
        self->finishAction(running, index, std::move(rows));
    };
    // Deadlines, overridable per provider (timeout_s: that long to act, and again to verify).
    LayerDeadlines deadlines = m_deadlines;
    if (const ProviderConfig *p = m_profile ? m_profile->provider(s(row.provider)) : nullptr; p && p->timeoutS)
        deadlines.actMs = deadlines.verifyMs = int(*p->timeoutS * 1000);
    if (running->resume) {
        if (!connector.value()->canRelease()) {
            row.outcome = LayerOutcome::SkippedNotConfigured;
            row.detail = QStringLiteral("%1 cannot be undone on this layer").arg(s(row.action));
            finishAction(running, index, {row});
            return;
        }
        connector.value()->release(target, deadlines, answered);
    } else {
        connector.value()->contain(target, deadlines, answered);
    }
}

void StopSwitch::runRuntimeNothingInFlight(const std::shared_ptr<Running> &running, int index)
{
    const PlannedAction &action = running->plan.actions[size_t(index)];
    StopLayerResult row = action.row;
    RuntimeConnector *connector = m_runtimeFor ? m_runtimeFor(action.runtime.provider) : nullptr;
    if (!connector) {
        row.outcome = LayerOutcome::Failed;
        row.detail = QStringLiteral("provider %1 has no working connector").arg(s(row.provider));
        finishAction(running, index, {row});
        return;
    }
    QElapsedTimer clock;
    clock.start();
    QPointer<StopSwitch> self(this);
    QPointer<RuntimeConnector> c(connector);
    const AgentConfig *config = m_profile ? m_profile->agent(s(row.agent)) : nullptr;
    const QByteArray selector = config ? config->runtimeAgent.toUtf8() : QByteArray();
    connector->discover([self, c, running, index, row, clock, selector](const Result<RuntimeCapabilities> &caps) mutable {
        if (!self)
            return;
        if (!caps.ok()) {
            row.outcome = LayerOutcome::Failed;
            row.detail = QStringLiteral("the runtime could not be asked: %1").arg(caps.error().message);
            row.ms = clock.elapsed();
            self->finishAction(running, index, {row});
            return;
        }
        if (!caps->list || !c) {
            row.outcome = LayerOutcome::Verified;
            row.idle = true;
            row.detail = QStringLiteral("nothing in flight: no run of %1 is in flight in Breaker's Store, and %2 (%3) "
                                        "answered but cannot list runs")
                             .arg(s(row.agent), s(row.provider), caps->dialect);
            row.ms = clock.elapsed();
            self->finishAction(running, index, {row});
            return;
        }
        c->listRuns({}, 100, [self, c, running, index, row, clock, selector](const Result<RuntimePage> &page) mutable {
            if (!self)
                return;
            if (!page.ok()) {
                row.outcome = LayerOutcome::Failed;
                row.detail = QStringLiteral("the runtime could not list its runs: %1").arg(page.error().message);
                row.ms = clock.elapsed();
                self->finishAction(running, index, {row});
                return;
            }
            std::vector<RuntimeRun> active;
            for (const RuntimeRun &r : page->runs)
                if (!isTerminal(r.status) && (selector.isEmpty() || r.agentName == selector))
                    active.push_back(r);
            if (active.empty()) {
                row.outcome = LayerOutcome::Verified;
                row.idle = true;
                row.detail = QStringLiteral("nothing in flight: %1 lists no active run of %2 (%3 listed)")
                                 .arg(s(row.provider), s(row.agent),
                                      QString::number(page->runs.size()));
                row.ms = clock.elapsed();
                self->finishAction(running, index, {row});
                return;
            }
            // Runs Breaker had not seen yet: cancel each and prove it like any other.
            auto rows = std::make_shared<std::vector<StopLayerResult>>();
            auto left = std::make_shared<int>(int(active.size()));
            for (const RuntimeRun &r : active) {
                RuntimeStop::Plan p = running->plan.actions[size_t(index)].runtime;
                p.externalId = r.externalId;
                p.status = toWireName(r.status);
                p.operation = running->operationKey;
                p.drill = running->plan.drill;
                self->m_runtime->cancelAndVerify(p, running->reason, running->actor,
                                                 [self, running, index, rows, left](const StopLayerResult &res) {
                                                     rows->push_back(res);
                                                     if (--*left == 0 && self)
                                                         self->finishAction(running, index, *rows, true);
                                                 });
            }
        });
    });
}

void StopSwitch::writeLayerAudit(const Running &running, const StopLayerResult &r)
{
    AuditEntry e;
    e.actor = running.actor;
    e.action = running.resume ? QStringLiteral("resume.layer") : QStringLiteral("stop.layer");
    e.target.agent = s(r.agent);
    e.target.run = s(r.run);
    e.target.layer = s(r.layer);
    e.target.provider = s(r.provider);
    e.target.object = s(r.target);
    e.reason = running.reason;
    e.outcome = s(toWireName(r.outcome));
    e.detail = QJsonObject{{QStringLiteral("action"), s(r.action)},
                           {QStringLiteral("detail"), r.detail},
                           {QStringLiteral("ms"), r.ms},
                           {QStringLiteral("operation"), s(running.operationKey)},
                           {QStringLiteral("drill"), running.plan.drill}};
    if (auto a = m_store->appendAudit(e); !a.ok())
        qCWarning(lcRuntime) << "stop layer outcome not audited:" << a.error().message;
}

void StopSwitch::finishAction(const std::shared_ptr<Running> &running, int index, std::vector<StopLayerResult> rows,
                              bool alreadyAudited)
{
    if (index >= 0) {
        if (running->results[size_t(index)])
            return; // the guard already reported it; a late answer changes nothing
        // Rows from RuntimeStop were audited there, with their timeline events.
        if (!alreadyAudited)
            for (const StopLayerResult &r : rows)
                writeLayerAudit(*running, r);
        running->results[size_t(index)] = rows;
        for (const Progress &p : running->progress)
            if (p)
                p(index, rows);
        if (--running->pending > 0) {
            if (m_sequential) {
                const int next = int(running->results.size()) - running->pending;
                QTimer::singleShot(0, this, [this, running, next] { runAction(running, next); });
            }
            return;
        }
    }

    StopOutcome o;
    o.scope = running->plan.scope;
    o.reason = running->reason;
    o.startedAtMs = running->startedAtMs;
    o.ms = running->clock.elapsed();
    o.releasedApprovals = running->released;
    o.notes = running->notes;
    bool verified = true;
    bool anyConfigured = false;
    for (const auto &result : running->results) {
        for (const StopLayerResult &r : *result) {
            o.rows.push_back(r);
            if (r.provider.isEmpty())
                continue; // a gap: shown, but no provider was asked
            anyConfigured = true;
            if (r.outcome != LayerOutcome::Verified)
                verified = false;
        }
    }
    o.verified = verified && anyConfigured;
    if (!anyConfigured)
        o.notes << QStringLiteral("no layer of the scope has a provider: nothing was contained");

    AuditEntry done;
    done.actor = running->actor;
    done.action = running->resume ? QStringLiteral("resume.completed") : QStringLiteral("stop.completed");
    if (o.scope.kind == StopScope::Kind::Agent)
        done.target.agent = s(o.scope.value);
    else if (o.scope.kind == StopScope::Kind::Run)
        done.target.run = s(o.scope.value);
    else if (o.scope.kind == StopScope::Kind::Principal)
        done.target.principal = s(o.scope.value);
    done.reason = running->reason;
    done.outcome = o.verified ? QStringLiteral("verified") : QStringLiteral("not_verified");
    QJsonObject counts;
    for (const StopLayerResult &r : o.rows) {
        const QString k = s(toWireName(r.outcome));
        counts.insert(k, counts.value(k).toInt() + 1);
    }
    done.detail = QJsonObject{{QStringLiteral("operation"), s(running->operationKey)},
                              {QStringLiteral("ms"), o.ms},
                              {QStringLiteral("outcomes"), counts},
                              {QStringLiteral("released_approvals"), o.releasedApprovals.size()},
                              {QStringLiteral("drill"), running->plan.drill}};
    if (auto a = m_store->appendAudit(done); !a.ok())
        o.notes << QStringLiteral("WARNING: the result could not be written to the audit trail: %1").arg(a.error().message);
    if (!running->resume) {
        if (auto r = m_store->recordStopProofs(stopProofsOf(o, running->plan.drill)); !r.ok())
            o.notes << QStringLiteral("WARNING: the control map's last proven stop could not be recorded: %1")
                           .arg(r.error().message);
    }

    // Released after the result is in the trail: a process that joined reads it from there.
    releaseClaim(*running, &o.notes);
    m_running.remove(runningKey(*running));
    if (!running->resume)
        emit stopFinished(o, running->plan.agents);
    else
        emit resumeFinished(o, running->plan.agents);
    for (const Done &d : running->done)
        if (d)
            d(o);
}

void StopSwitch::join(const std::shared_ptr<Running> &running, const StopClaim &holder)
{
    running->joined = holder;
    m_running.insert(runningKey(*running), running); // stops of this process join this one
    if (const QString warning = auditJoin(*running, holder.operation, holder.actor, holder.pid, holder.host);
        !warning.isEmpty())
        running->notes << warning;
    qCInfo(lcRuntime) << "a stop of" << runningKey(*running) << "joins operation" << holder.operation << "of process"
                      << holder.pid;
    running->poll = new QTimer(this);
    running->poll->setInterval(m_joinPollMs);
    connect(running->poll, &QTimer::timeout, this, [this, running] { pollJoined(running); });
    running->poll->start();
}

void StopSwitch::pollJoined(const std::shared_ptr<Running> &running)
{
    const StopClaim holder = *running->joined;
    // Every action of the holder's stop ends within its guard (the claim says how long the
    // longest may take); a holder that is alive but still holds the scope well past it is hung,
    // and the agent is still not contained.
    qint64 deadlineMs = holder.deadlineMs;
    if (deadlineMs <= 0)
        for (const PlannedAction &a : running->plan.actions)
            deadlineMs = std::max<qint64>(deadlineMs, guardMsFor(a));
    const qint64 waitMs = deadlineMs + m_joinSlackMs;
    const qint64 age = QDateTime::currentMSecsSinceEpoch() - holder.startedMs;
    const bool hung = age > waitMs || age >= m_claimStaleMs;
    auto current = m_store->stopClaim(holder.scope);
    if (!current.ok())
        qCWarning(lcRuntime) << "reading the stops in flight:" << current.error().message;
    // A claim that cannot be read counts as still held: the deadline still applies.
    const bool held = !current.ok() || (current.value() && current.value()->operation == holder.operation);
    const bool alive = Store::holderAlive(holder);
    if (held && alive && !hung)
        return;
    std::optional<StopOutcome> outcome;
    if (!held) {
        bool readFailed = false;
        outcome = joinedOutcome(*running, &readFailed);
        if (!outcome && readFailed && !hung)
            return; // the trail could not be read just now: the next tick reads it again
    }
    running->poll->stop();
    running->poll->deleteLater();
    running->poll = nullptr;
    m_running.remove(runningKey(*running));
    if (outcome) {
        if (!running->resume)
            emit stopFinished(*outcome, running->plan.agents);
        else
            emit resumeFinished(*outcome, running->plan.agents);
        for (const Done &d : running->done)
            if (d)
                d(*outcome);
        return;
    }
    // The stop this one waited for ended without a result in the trail (its process died), or
    // is hung past every deadline: this one is carried out after all.
    const QString who = QStringLiteral("the stop of the same scope that %1 started (process %2, %3)")
                            .arg(holder.actor, QString::number(holder.pid),
                                 QDateTime::fromMSecsSinceEpoch(holder.startedMs).toUTC().toString(Qt::ISODate));
    running->notes << (held && alive ? QStringLiteral("%1 gave no result within %2 ms, past every deadline: this stop "
                                                      "was carried out instead")
                                           .arg(who)
                                           .arg(waitMs)
                                     : QStringLiteral("%1 ended without a result: this stop was carried out instead")
                                           .arg(who));
    // Only that claim is taken over whatever its age: should another waiting stop have taken it
    // over first, this one joins that one.
    running->replacing = held ? holder.operation : QByteArray();
    running->joined.reset();
    begin(running);
}

std::optional<StopOutcome> StopSwitch::joinedOutcome(const Running &running, bool *readFailed) const
{
    const StopClaim &holder = *running.joined;
    auto head = m_store->auditHead();
    if (!head.ok()) {
        qCWarning(lcRuntime) << "reading the joined stop's result:" << head.error().message;
        *readFailed = true;
        return std::nullopt;
    }
    if (!head.value())
        return std::nullopt;
    auto records = m_store->auditRecords(holder.auditSeq + 1, head.value()->seq);
    if (!records.ok()) {
        qCWarning(lcRuntime) << "reading the joined stop's result:" << records.error().message;
        *readFailed = true;
        return std::nullopt;
    }
    const QString prefix = running.resume ? QStringLiteral("resume") : QStringLiteral("stop");
    const QString operation = s(holder.operation);
    StopOutcome o;
    o.scope = running.plan.scope;
    o.startedAtMs = holder.startedMs;
    o.joined = holder;
    bool completed = false;
    QSet<QByteArray> rowsSeen; // a late answer after its guard fired is audited too: the first row counts
    for (const AuditRecord &record : records.value()) {
        if (completed)
            break;
        if (!record.line.contains(holder.operation))
            continue;
        const QJsonObject r = QJsonDocument::fromJson(record.line).object();
        const QJsonObject detail = r.value(QStringLiteral("detail")).toObject();
        if (detail.value(QStringLiteral("operation")).toString() != operation)
            continue;
        const QString action = r.value(QStringLiteral("action")).toString();
        const QJsonObject target = r.value(QStringLiteral("target")).toObject();
        if (action == prefix + QStringLiteral(".requested")) {
            o.reason = r.value(QStringLiteral("reason")).toString();
        } else if (action == prefix + QStringLiteral(".layer")) {
            StopLayerResult row;
            row.layer = target.value(QStringLiteral("layer")).toString().toUtf8();
            row.agent = target.value(QStringLiteral("agent")).toString().toUtf8();
            row.run = target.value(QStringLiteral("run")).toString().toUtf8();
            row.provider = target.value(QStringLiteral("provider")).toString().toUtf8();
            row.target = target.value(QStringLiteral("object")).toString().toUtf8();
            row.action = detail.value(QStringLiteral("action")).toString().toUtf8();
            row.outcome = layerOutcomeFromWireName(r.value(QStringLiteral("outcome")).toString().toUtf8())
                              .value_or(LayerOutcome::Failed);
            row.detail = detail.value(QStringLiteral("detail")).toString();
            row.ms = detail.value(QStringLiteral("ms")).toInteger();
            const QByteArray rowKey = row.layer + '\n' + row.agent + '\n' + row.run + '\n' + row.provider + '\n'
                                      + row.target;
            if (rowsSeen.contains(rowKey))
                continue;
            rowsSeen.insert(rowKey);
            o.rows.push_back(row);
        } else if (action == QLatin1String("approval.released")) {
            o.releasedApprovals.append(QJsonObject{{QStringLiteral("run"), target.value(QStringLiteral("run"))},
                                                   {QStringLiteral("agent"), target.value(QStringLiteral("agent"))},
                                                   {QStringLiteral("provider"), target.value(QStringLiteral("provider"))},
                                                   {QStringLiteral("state"), r.value(QStringLiteral("outcome"))},
                                                   {QStringLiteral("detail"), detail.value(QStringLiteral("detail"))}});
        } else if (action == prefix + QStringLiteral(".completed")) {
            completed = true;
            o.verified = r.value(QStringLiteral("outcome")).toString() == QLatin1String("verified");
            o.ms = detail.value(QStringLiteral("ms")).toInteger();
            o.reason = r.value(QStringLiteral("reason")).toString();
        }
    }
    if (!completed)
        return std::nullopt;
    o.notes = running.notes;
    o.notes << QStringLiteral("joined the %1 of this scope that %2 started (process %3, %4): the rows and the verdict "
                              "are that %1's, read back from the audit trail; this one acted on nothing")
                   .arg(prefix, holder.actor, QString::number(holder.pid),
                        QDateTime::fromMSecsSinceEpoch(holder.startedMs).toUTC().toString(Qt::ISODate));
    return o;
}

std::vector<StopProof> stopProofsOf(const StopOutcome &outcome, bool drill)
{
    // One proof per agent and layer: the layer is proven for the agent only when every action of
    // it verified; its time is the slowest action's. A runtime row that only asked (nothing was in
    // flight) proves nothing about cancelling, so it is left out; gaps have no provider.
    std::vector<StopProof> proofs;
    for (const StopLayerResult &r : outcome.rows) {
        if (r.provider.isEmpty() || r.outcome == LayerOutcome::SkippedNotConfigured || r.idle)
            continue;
        auto it = std::find_if(proofs.begin(), proofs.end(),
                               [&r](const StopProof &p) { return p.agent == r.agent && p.layer == r.layer; });
        if (it == proofs.end()) {
            StopProof p;
            p.agent = r.agent;
            p.layer = r.layer;
            p.provider = r.provider;
            p.outcome = r.outcome;
            p.ms = r.ms;
            p.drill = drill;
            p.detail = r.detail;
            proofs.push_back(std::move(p));
            continue;
        }
        it->ms = std::max(it->ms, r.ms);
        if (severity(r.outcome) > severity(it->outcome)) {
            it->outcome = r.outcome;
            it->detail = r.detail;
        }
    }
    for (StopProof &p : proofs)
        p.atMs = outcome.startedAtMs + p.ms;
    return proofs;
}

} // namespace Breaker
