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
};

} // namespace Breaker
