#include "app/services/EngineRunActions.h"

#include "app/services/Engine.h"
#include "app/services/LayerService.h"
#include "app/services/RuntimeService.h"
#include "app/services/RuntimeStop.h"
#include "app/services/StopDrill.h"
#include "app/services/StopSwitch.h"
#include "models/Store.h"

#include <QPointer>

namespace Breaker {

EngineRunActions::EngineRunActions(Engine *engine, QObject *parent)
    : RunActions(parent)
    , m_engine(engine)
{
}

RuntimeStop *EngineRunActions::stopper()
{
    // Built per action, so that it sees the profile as it is now.
    Engine *engine = m_engine;
    return new RuntimeStop(engine->store(), engine->profile(),
                           [engine](const QByteArray &provider) -> RuntimeConnector * {
                               return engine->runtime() ? engine->runtime()->connector(provider) : nullptr;
                           },
                           this);
}

RunActions::CancelPreview EngineRunActions::previewCancel(const Run &run)
{
    CancelPreview preview;
    RuntimeStop *stop = stopper();
    auto plan = stop->plan(run.id);
    stop->deleteLater();
    if (!plan.ok()) {
        preview.why = plan.error().message;
        return preview;
    }
    if (plan->provider.isEmpty()) {
        preview.why = plan->why;
        preview.plan = plan->describe();
        return preview;
    }
    preview.possible = true;
    preview.plan = plan->describe();
    return preview;
}

void EngineRunActions::cancelRun(const QByteArray &runId, const QString &reason)
{
    RuntimeStop *stop = stopper();
    auto plan = stop->plan(runId);
    emit cancelStarted(runId);
    if (!plan.ok()) {
        StopLayerResult r;
        r.layer = "runtime";
        r.run = runId;
        r.action = "cancel";
        r.outcome = LayerOutcome::Failed;
        r.detail = plan.error().message;
        stop->deleteLater();
        emit cancelFinished(runId, r);
        return;
    }
    stop->execute(*plan, reason, [this, stop, runId](const StopLayerResult &r) {
        stop->deleteLater();
        emit cancelFinished(runId, r);
    });
}

void EngineRunActions::finishUnplanned(const StopScope &scope, const QString &reason, const QString &why)
{
    StopOutcome o;
    o.scope = scope;
    o.reason = reason;
    o.notes << why;
    emit stopFinished(scope.key(), o);
}

StopSwitch *EngineRunActions::stopSwitch()
{
    // The engine's own stop switch: it sees the profile as it is when a stop runs, and a
    // second stop of the same scope joins the first.
    return m_engine->stopSwitch();
}

Result<StopPlan> EngineRunActions::previewStop(const StopScope &scope, const QStringList &layers)
{
    StopSwitch *s = stopSwitch();
    if (!s)
        return makeError(Error::Kind::Invalid, QStringLiteral("no profile: nothing to stop"));
    return s->plan(scope, layers);
}

void EngineRunActions::stop(const StopScope &scope, const QStringList &layers, const QString &reason)
{
    StopSwitch *s = stopSwitch();
    const QByteArray key = scope.key();
    auto plan = s ? s->plan(scope, layers)
                  : Result<StopPlan>(makeError(Error::Kind::Invalid, QStringLiteral("no profile: nothing to stop")));
    if (!plan) {
        finishUnplanned(scope, reason, plan.error().message);
        return;
    }
    emit stopStarted(key, *plan);
    QPointer<EngineRunActions> self(this);
    s->execute(
        *plan, reason,
        [self, key](int action, const std::vector<StopLayerResult> &rows) {
            if (self)
                emit self->stopProgress(key, action, rows);
        },
        [self, key](const StopOutcome &o) {
            if (self)
                emit self->stopFinished(key, o);
        });
}

QString EngineRunActions::profileName() const
{
    return m_engine->profile() ? m_engine->profile()->name : QString();
}

std::vector<ControlMapRow> EngineRunActions::controlMap(const QByteArray &agent)
{
    const std::optional<Profile> &profile = m_engine->profile();
    const AgentConfig *config = profile ? profile->agent(QString::fromUtf8(agent)) : nullptr;
    std::vector<StopProof> proofs;
    if (config && m_engine->store()) {
        if (auto read = m_engine->store()->stopProofs(agent); read.ok())
            proofs = read.value();
    }
    return buildControlMap(profile ? &*profile : nullptr, config, proofs,
                           profile ? QStringLiteral("agent not in the profile") : QStringLiteral("no profile"));
}

Result<StopPlan> EngineRunActions::previewDrill(const QByteArray &agent)
{
    StopDrill *d = m_engine->drill();
    if (!d)
        return makeError(Error::Kind::Invalid, QStringLiteral("no profile: no canary to drill"));
    return d->plan(agent);
}

void EngineRunActions::drill(const QByteArray &agent, const QString &reason)
{
    StopDrill *d = m_engine->drill();
    const StopScope scope{StopScope::Kind::Agent, agent};
    const QByteArray key = scope.key();
    auto plan = d ? d->plan(agent)
                  : Result<StopPlan>(makeError(Error::Kind::Invalid, QStringLiteral("no profile: no canary to drill")));
    if (!plan) {
        finishUnplanned(scope, reason, plan.error().message);
        return;
    }
    QPointer<EngineRunActions> self(this);
    auto stopping = std::make_shared<bool>(false);
    d->run(
        agent, reason,
        [self, key, agent, stopping](const QString &what) {
            // The plan the stop carries out is announced once the canary run is known.
            if (!self || *stopping || !what.startsWith(QLatin1String("stopping ")))
                return;
            *stopping = true;
            if (StopDrill *drill = self->m_engine->drill())
                if (auto p = drill->plan(agent); p.ok())
                    emit self->stopStarted(key, *p);
        },
        [self, key, stopping](int action, const std::vector<StopLayerResult> &rows) {
            // The stop's rows only: the restore's rows are summarised when it ends.
            if (self && *stopping)
                emit self->stopProgress(key, action, rows);
        },
        [self, key, stopping](const DrillResult &r) {
            *stopping = false;
            if (!self)
                return;
            StopOutcome o = r.stop;
            if (!r.canary.isEmpty())
                o.notes.prepend(QStringLiteral("canary: %1").arg(r.canary));
            if (r.restore) {
                QStringList restored;
                for (const StopLayerResult &row : r.restore->rows)
                    restored << QStringLiteral("%1 %2").arg(QString::fromUtf8(row.action),
                                                            QString::fromUtf8(toWireName(row.outcome)));
                o.notes << QStringLiteral("restored after the drill: %1")
                               .arg(restored.isEmpty() ? QStringLiteral("nothing to undo") : restored.join(QStringLiteral(", ")));
            }
            for (const QString &n : r.notes)
                if (!o.notes.contains(n))
                    o.notes << n;
            emit self->stopFinished(key, o);
        });
}

} // namespace Breaker
