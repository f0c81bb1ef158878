#include "app/services/EngineRunActions.h"

#include "app/services/Engine.h"
#include "app/services/RuntimeService.h"
#include "app/services/LayerService.h"
#include "app/services/RuntimeStop.h"
#include "app/services/StopSwitch.h"

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
        StopOutcome o;
        o.scope = scope;
        o.reason = reason;
        o.notes << plan.error().message;
        emit stopFinished(key, o);
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

} // namespace Breaker
