#include "app/services/EngineRunActions.h"

#include "app/services/Engine.h"
#include "app/services/RuntimeService.h"
#include "app/services/RuntimeStop.h"

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

} // namespace Breaker
