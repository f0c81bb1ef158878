#pragma once

#include "models/RunTypes.h"

#include <QJsonArray>
#include <QJsonObject>

// The JSON shapes of DESIGN.md section 9 (breakerctl --json, the console's timeline export).
// Fields may be added, never renamed; docs/schemas/ holds their schemas.
namespace Breaker::RunJson {

QString isoTime(qint64 unixMs);          // RFC 3339 UTC with milliseconds; empty for 0
QString isoTimeNs(qint64 unixNs);        // RFC 3339 UTC with nanoseconds
QJsonObject run(const Run &run);         // one entry of "runs"
QJsonObject event(const RunEvent &event);
QJsonArray events(const std::vector<RunEvent> &events);

} // namespace Breaker::RunJson
