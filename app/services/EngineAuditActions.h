#pragma once

#include "app/services/AuditActions.h"

#include <QPointer>

namespace Breaker {

class Engine;

// AuditActions over the engine's Store and profile: each request runs on a worker thread (SQL,
// hashing, the keychain's D-Bus calls) and answers on the GUI thread, guarded so that a closed
// console never receives a late answer.
class EngineAuditActions : public AuditActions
{
    Q_OBJECT
public:
    explicit EngineAuditActions(Engine *engine, QObject *parent = nullptr);

    void loadRecent(int limit) override;
    void checkChain() override;
    void exportTrail(const AuditExportOptions &options) override;
    void checkRetention() override;

private:
    Engine *m_engine;
};

} // namespace Breaker
