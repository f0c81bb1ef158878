#pragma once

#include "app/services/RunActions.h"

namespace Breaker {

class Engine;
class RuntimeStop;

// RunActions over the engine: cancels through the engine's own runtime connectors.
class EngineRunActions : public RunActions
{
    Q_OBJECT
public:
    explicit EngineRunActions(Engine *engine, QObject *parent = nullptr);
    CancelPreview previewCancel(const Run &run) override;
    void cancelRun(const QByteArray &runId, const QString &reason) override;

private:
    RuntimeStop *stopper();
    Engine *m_engine;
};

} // namespace Breaker
