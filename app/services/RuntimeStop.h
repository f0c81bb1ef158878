#pragma once

#include "models/AuditRecord.h"
#include "models/Profile.h"
#include "models/Result.h"
#include "models/StopTypes.h"

#include <QObject>

#include <functional>
#include <memory>
#include <optional>

namespace Breaker {

class RuntimeConnector;
class Store;

// Cancels one run through its runtime and proves it (the runtime layer of the stop switch;
// issue 4 builds the other layers beside it). Used by the console and by `breakerctl stop`.
// Resolves what to do from the Store and the profile at execution time, writes the intent to
// the audit trail first, then cancels and verifies (CancelVerifier), then writes the outcome
// and puts an operator_action event on the run's timeline.
class RuntimeStop : public QObject
{
    Q_OBJECT
public:
    using ConnectorFor = std::function<RuntimeConnector *(const QByteArray &provider)>;

    RuntimeStop(std::shared_ptr<Store> store, std::optional<Profile> profile, ConnectorFor connectorFor,
                QObject *parent = nullptr);

    struct Plan
    {
        QByteArray runId;
        QByteArray agent;
        QByteArray principal;
        QByteArray provider;   // empty: no runtime provider is bound to this run
        QByteArray kind;       // provider kind ("a2a")
        QByteArray externalId; // the runtime's id of the run
        QString why;           // why nothing can be done, when provider is empty
        bool alreadyEnded = false;
        QByteArray status;     // the run's status in the Store, wire name
        QByteArray operation;  // the stop this cancel belongs to (StopSwitch), for the audit trail
        bool drill = false;    // part of a drill against a canary
        QString describe() const; // one line: what will be done to what
    };
    // NotFound when the Store has no such run.
    Result<Plan> plan(const QByteArray &runId) const;

    using Done = std::function<void(const StopLayerResult &)>;
    // `reason` is required (an empty one is refused before anything is written).
    void execute(const Plan &plan, const QString &reason, Done done);
    // execute() without writing the intent: for a caller (StopSwitch) that wrote one intent for
    // a whole plan. Still puts the operator_action events on the run's timeline and writes the
    // layer's outcome (stop.layer) to the audit trail.
    void cancelAndVerify(const Plan &plan, const QString &reason, const AuditEntry::Actor &actor, Done done);

    // Test knob (the deadlines of DESIGN.md section 4 otherwise).
    void setVerifyTimings(int actMs, int verifyMs, int stillActiveMs, int settleMs);

private:
    std::shared_ptr<Store> m_store;
    std::optional<Profile> m_profile;
    ConnectorFor m_connectorFor;
    int m_actMs = 10000, m_verifyMs = 10000, m_stillActiveMs = 5000, m_settleMs = 5000;
};

} // namespace Breaker
