#pragma once

#include "models/RunTypes.h"

#include <QByteArray>
#include <QJsonObject>

#include <vector>

namespace Breaker {

// The "Export timeline…" file: {"run": {...}, "events": [...]} in the shapes of
// `breakerctl run --json` (DESIGN.md section 9), without the control map. Times are RFC 3339
// UTC strings (runs to the millisecond, events to the nanosecond), `cost.amount` is a number in
// the currency's units; fields beyond the CLI contract are additions, never renames.
QByteArray timelineToJson(const Run &run, const std::vector<RunEvent> &events);

// The pieces, for callers that assemble other documents.
QJsonObject runToJson(const Run &run);
QJsonObject runEventToJson(const RunEvent &event);

} // namespace Breaker
