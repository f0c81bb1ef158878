#pragma once

#include <QByteArray>
#include <QString>

#include "models/RunTypes.h"

#include <optional>

namespace Breaker {

// The only four outcomes a stop layer can have (DESIGN.md section 4, StopPlan / StopResult).
enum class LayerOutcome { Verified, DoneUnverified, Failed, SkippedNotConfigured };
QByteArray toWireName(LayerOutcome outcome); // "verified", "done_unverified", ...
std::optional<LayerOutcome> layerOutcomeFromWireName(QByteArrayView name);

// One layer action of a stop and what came of it.
struct StopLayerResult
{
    QByteArray layer;    // "runtime", "identity", "payment", "tools"
    QByteArray agent;
    QByteArray run;      // Breaker's run id, when the action is about one run
    QByteArray provider; // profile provider name; empty when not configured
    QByteArray target;   // what was acted on ("a2a task 3f2c…", "card ic_…")
    QByteArray action;   // "cancel", "revoke", "freeze", "block"
    LayerOutcome outcome = LayerOutcome::Failed;
    QString detail;      // the provider's words and the evidence
    qint64 ms = 0;       // from the start of the action to its outcome
    RunStatus finalStatus = RunStatus::Unknown; // runtime layer: the state the runtime last reported
    bool idle = false;   // runtime layer: verified only by asking, nothing was in flight to cancel
};

// The control map's "last proven stop" of one layer of one agent (DESIGN.md section 4,
// ControlMap; issue 4 item 7): how the last stop or drill of the layer ended, and when the layer
// was last verified, with the time it took. provenAtMs == 0: the layer was never proven.
struct StopProof
{
    QByteArray agent;
    QByteArray layer;
    QByteArray provider;
    LayerOutcome outcome = LayerOutcome::Failed; // of the last attempt
    qint64 ms = 0;                               // the last attempt's time to its outcome
    qint64 atMs = 0;                             // when the last attempt ended
    bool drill = false;
    QString detail;

    qint64 provenAtMs = 0; // the last verified attempt
    qint64 provenMs = 0;   // its time to verified
    bool provenDrill = false;
    QByteArray provenProvider;
};

// A stop or resume in flight, as every process that opens the Store sees it (schema version 4).
struct StopClaim
{
    QByteArray scope;     // "stop:agent:refund-agent@runtime,payment", "resume:principal:alice@..."
    QByteArray operation; // the operation key its audit records carry in detail.operation
    qint64 pid = 0;
    QByteArray host;
    QString actor;        // who started it, as the audit trail names them
    qint64 startedMs = 0;
    qint64 deadlineMs = 0; // how long its longest action may take: past it, a live holder is hung
    qint64 auditSeq = 0;   // the trail's head when it was claimed: its records come after
};

} // namespace Breaker
