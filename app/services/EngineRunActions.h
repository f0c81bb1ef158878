#pragma once

#include "app/services/RunActions.h"

namespace Breaker {

class Engine;
class RuntimeStop;
class StopSwitch;

// RunActions over the engine: cancels through the engine's own runtime connectors.
class EngineRunActions : public RunActions
{
    Q_OBJECT
public:
    explicit EngineRunActions(Engine *engine, QObject *parent = nullptr);
    CancelPreview previewCancel(const Run &run) override;
    void cancelRun(const QByteArray &runId, const QString &reason) override;
    Result<StopPlan> previewStop(const StopScope &scope, const QStringList &layers) override;
    void stop(const StopScope &scope, const QStringList &layers, const QString &reason) override;
    QString profileName() const override;
    std::vector<ControlMapRow> controlMap(const QByteArray &agent) override;
    Result<StopPlan> previewDrill(const QByteArray &agent) override;
    void drill(const QByteArray &agent, const QString &reason) override;

private:
    RuntimeStop *stopper();
    StopSwitch *stopSwitch();
    // Nothing could be planned: stopFinished at once, saying why.
    void finishUnplanned(const StopScope &scope, const QString &reason, const QString &why);
    Engine *m_engine;
};

} // namespace Breaker
