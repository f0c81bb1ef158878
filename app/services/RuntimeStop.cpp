#include "app/services/RuntimeStop.h"

#include "app/services/CancelVerifier.h"
#include "app/services/Operator.h"
#include "connectors/runtime/RuntimeConnector.h"
#include "models/Logging.h"
#include "models/Store.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>

namespace Breaker {

namespace {

// The runtime row of a cancel, before its outcome.
StopLayerResult cancelRow(const RuntimeStop::Plan &plan)
{
    StopLayerResult result;
    result.layer = "runtime";
    result.agent = plan.agent;
    result.run = plan.runId;
    result.provider = plan.provider;
    result.action = "cancel";
    result.target = plan.externalId.isEmpty() ? QByteArray() : plan.kind + " task " + plan.externalId;
    return result;
}

} // namespace

RuntimeStop::RuntimeStop(std::shared_ptr<Store> store, std::optional<Profile> profile, ConnectorFor connectorFor,
                         QObject *parent)
    : QObject(parent)
    , m_store(std::move(store))
    , m_profile(std::move(profile))
    , m_connectorFor(std::move(connectorFor))
{
}

void RuntimeStop::setVerifyTimings(int actMs, int verifyMs, int stillActiveMs, int settleMs)
{
    m_actMs = actMs;
    m_verifyMs = verifyMs;
    m_stillActiveMs = stillActiveMs;
    m_settleMs = settleMs;
}

QString RuntimeStop::Plan::describe() const
{
    if (provider.isEmpty())
        return QStringLiteral("runtime: skipped (%1)").arg(why);
    return QStringLiteral("runtime: cancel %1 task %2 of run %3 (agent %4) on provider %5, then read it back "
                          "and watch its telemetry")
        .arg(QString::fromUtf8(kind), QString::fromUtf8(externalId), QString::fromUtf8(runId),
             QString::fromUtf8(agent.isEmpty() ? QByteArray("unknown") : agent), QString::fromUtf8(provider));
}

Result<RuntimeStop::Plan> RuntimeStop::plan(const QByteArray &runId) const
{
    auto run = m_store->run(runId);
    if (!run.ok())
        return run.error();
    if (!run.value())
        return makeError(Error::Kind::NotFound, QStringLiteral("no run %1 in %2")
                                                    .arg(QString::fromUtf8(runId), m_store->path()));
    const Run &r = *run.value();
    Plan plan;
    plan.runId = r.id;
    plan.agent = r.agent;
    plan.principal = r.principal;
    plan.status = toWireName(r.status);
    plan.alreadyEnded = isTerminal(r.status);

    // The runtime that reported the run, else the runtime the profile binds to its agent.
    QByteArray provider;
    if (m_profile) {
        if (const ProviderConfig *p = m_profile->provider(QString::fromUtf8(r.provider));
            p && p->layer == QLatin1String("runtime"))
            provider = r.provider;
        if (provider.isEmpty() && r.agentBound)
            if (const AgentConfig *a = m_profile->agent(QString::fromUtf8(r.agent)))
                provider = a->runtimeProvider.toUtf8();
    }
    if (provider.isEmpty()) {
        plan.why = !m_profile ? QStringLiteral("no profile")
                   : r.agentBound
                       ? QStringLiteral("agent %1 has no runtime provider in the profile").arg(QString::fromUtf8(r.agent))
                       : QStringLiteral("agent %1 is not in the profile").arg(QString::fromUtf8(r.agent));
        return plan;
    }
    const ProviderConfig *config = m_profile->provider(QString::fromUtf8(provider));
    plan.kind = config ? config->kind.toUtf8() : QByteArray();
    // The runtime's id of this run, from the keys it was seen under.
    auto keys = m_store->keysForRun(r.id);
    if (!keys.ok())
        return keys.error();
    const QByteArray prefix = plan.kind + ':';
    for (const QByteArray &key : keys.value())
        if (key.startsWith(prefix))
            plan.externalId = key.mid(prefix.size());
    if (plan.externalId.isEmpty()) {
        plan.why = QStringLiteral("run %1 was never seen under a %2 id (only its telemetry reached Breaker)")
                       .arg(QString::fromUtf8(r.id), QString::fromUtf8(plan.kind));
        return plan;
    }
    plan.provider = provider;
    return plan;
}

void RuntimeStop::execute(const Plan &plan, const QString &reason, Done done)
{
    StopLayerResult result = cancelRow(plan);
    if (reason.trimmed().isEmpty()) {
        result.outcome = LayerOutcome::Failed;
        result.detail = QStringLiteral("a reason is required");
        done(result);
        return;
    }
    const AuditEntry::Actor actor = currentOperator(m_profile);
    AuditEntry intent;
    intent.actor = actor;
    intent.action = QStringLiteral("stop.requested");
    intent.target.agent = QString::fromUtf8(plan.agent);
    intent.target.run = QString::fromUtf8(plan.runId);
    intent.target.principal = QString::fromUtf8(plan.principal);
    intent.target.layer = QStringLiteral("runtime");
    intent.target.provider = QString::fromUtf8(plan.provider);
    intent.target.object = QString::fromUtf8(result.target);
    intent.reason = reason;
    intent.detail = QJsonObject{{QStringLiteral("scope"), QJsonObject{{QStringLiteral("kind"), QStringLiteral("run")},
                                                                      {QStringLiteral("value"), QString::fromUtf8(plan.runId)}}},
                                {QStringLiteral("layers"), QStringLiteral("runtime")},
                                {QStringLiteral("plan"), plan.describe()}};
    // The intent is durable before anything is done.
    if (auto a = m_store->appendAudit(intent); !a.ok()) {
        result.outcome = LayerOutcome::Failed;
        result.detail = QStringLiteral("not attempted: the audit trail could not record the intent: %1")
                            .arg(a.error().message);
        done(result);
        return;
    }
    cancelAndVerify(plan, reason, actor, std::move(done));
}

void RuntimeStop::cancelAndVerify(const Plan &plan, const QString &reason, const AuditEntry::Actor &actor,
                                  Done done)
{
    StopLayerResult result = cancelRow(plan);
    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
    if (!plan.runId.isEmpty()) {
        WriteBatch batch;
        RunEvent e;
        e.runId = plan.runId;
        e.kind = EventKind::OperatorAction;
        e.name = "cancel requested by " + actor.id.toUtf8();
        e.startNs = e.endNs = nowMs * 1000000;
        e.attributesJson = QJsonDocument(QJsonObject{{QStringLiteral("breaker.operator"), actor.id},
                                                     {QStringLiteral("breaker.reason"), reason},
                                                     {QStringLiteral("breaker.action"), QStringLiteral("cancel")},
                                                     {QStringLiteral("breaker.runtime.provider"),
                                                      QString::fromUtf8(plan.provider)}})
                               .toJson(QJsonDocument::Compact);
        batch.events.push_back(std::move(e));
        if (auto w = m_store->write(std::move(batch)); !w.ok())
            qCWarning(lcRuntime) << "operator action not on the timeline:" << w.error().message;
    }

    auto finishWith = [this, actor, reason, plan, done](const StopLayerResult &r) {
        AuditEntry outcome;
        outcome.actor = actor;
        outcome.action = QStringLiteral("stop.layer");
        outcome.target.agent = QString::fromUtf8(r.agent);
        outcome.target.run = QString::fromUtf8(r.run);
        outcome.target.principal = QString::fromUtf8(plan.principal);
        outcome.target.layer = QString::fromUtf8(r.layer);
        outcome.target.provider = QString::fromUtf8(r.provider);
        outcome.target.object = QString::fromUtf8(r.target);
        outcome.reason = reason;
        outcome.outcome = QString::fromUtf8(toWireName(r.outcome));
        outcome.detail = QJsonObject{{QStringLiteral("action"), QString::fromUtf8(r.action)},
                                     {QStringLiteral("detail"), r.detail},
                                     {QStringLiteral("ms"), r.ms}};
        if (!plan.operation.isEmpty())
            outcome.detail.insert(QStringLiteral("operation"), QString::fromUtf8(plan.operation));
        if (plan.drill)
            outcome.detail.insert(QStringLiteral("drill"), true);
        StopLayerResult reported = r;
        if (auto a = m_store->appendAudit(outcome); !a.ok())
            reported.detail += QStringLiteral(" (WARNING: the outcome could not be written to the audit trail: %1)")
                                   .arg(a.error().message);
        if (r.run.isEmpty()) {
            done(reported);
            return;
        }
        // The timeline says who cancelled it, when, and what came of it.
        WriteBatch batch;
        RunEvent e;
        e.runId = r.run;
        e.kind = EventKind::OperatorAction;
        e.name = "cancel " + toWireName(r.outcome);
        const qint64 at = QDateTime::currentMSecsSinceEpoch();
        e.startNs = e.endNs = at * 1000000;
        e.statusCode = r.outcome == LayerOutcome::Verified ? 1 : 2;
        e.attributesJson = QJsonDocument(QJsonObject{{QStringLiteral("breaker.operator"), actor.id},
                                                     {QStringLiteral("breaker.outcome"), QString::fromUtf8(toWireName(r.outcome))},
                                                     {QStringLiteral("breaker.detail"), r.detail},
                                                     {QStringLiteral("breaker.ms"), r.ms}})
                               .toJson(QJsonDocument::Compact);
        batch.events.push_back(std::move(e));
        if (isTerminal(r.finalStatus)) {
            // What the runtime reported, in case no engine follows it right now.
            Run stopped;
            stopped.id = r.run;
            stopped.status = r.finalStatus;
            stopped.currency.clear();
            stopped.updatedMs = stopped.endedMs = at;
            batch.runs.push_back(stopped);
        }
        if (auto w = m_store->write(std::move(batch)); !w.ok())
            qCWarning(lcRuntime) << "cancel outcome not on the timeline:" << w.error().message;
        done(reported);
    };

    if (plan.provider.isEmpty()) {
        StopLayerResult r = result;
        r.outcome = LayerOutcome::SkippedNotConfigured;
        r.detail = plan.why;
        finishWith(r);
        return;
    }
    RuntimeConnector *connector = m_connectorFor ? m_connectorFor(plan.provider) : nullptr;
    if (!connector) {
        StopLayerResult r = result;
        r.outcome = LayerOutcome::Failed;
        r.detail = QStringLiteral("provider %1 has no working connector").arg(QString::fromUtf8(plan.provider));
        finishWith(r);
        return;
    }
    auto *verifier = new CancelVerifier(connector, m_store, this);
    CancelVerifier::Deadlines d;
    d.actMs = m_actMs;
    d.verifyMs = m_verifyMs;
    d.stillActiveMs = m_stillActiveMs;
    d.settleMs = m_settleMs;
    verifier->setDeadlines(d);
    verifier->cancel(result, plan.externalId, [verifier, finishWith](const StopLayerResult &r) {
        finishWith(r);
        verifier->deleteLater();
    });
}

} // namespace Breaker
