#pragma once

#include "models/RunTypes.h"

#include <QByteArrayView>
#include <QColor>
#include <QString>
#include <QtGlobal>

// How the console writes numbers, money, durations and times. One fixed, locale-independent
// style ("$1,234.57", "3m 07s") so that columns line up and operators reading a screenshot
// from a colleague see the same text.
namespace Breaker::RunFormat {

// `micros` is millionths of the currency unit. Precision follows the size of the amount:
// "$0.00", "$0.000042", "$0.0123", "$12.35", "$1,234.57"; unknown currencies "12.35 CHF".
QString money(qint64 micros, QByteArrayView currency);

// "350 ms", "4.2 s", "42 s", "3m 07s", "2h 05m", "3d 04h"; negative means unknown: "—".
QString duration(qint64 ms);

// For spans: "0 ns", "850 ns", "12 µs", "3.4 ms", "120 ms", then as duration().
QString durationNs(qint64 ns);

// "1,234" up to 9,999; "12.3k", "4.5M" above.
QString compactCount(qint64 n);
// "1,234,567".
QString count(qint64 n);

// Token pair for the runs table: "1,234 / 567".
QString tokens(qint64 input, qint64 output);

// Short time for tables: "14:03:22" on the same day as `nowMs`, "Mar 3, 14:03" in the same
// year, else "2024-11-30 14:03". `utc` selects UTC or the local zone.
QString shortTime(qint64 ms, bool utc, qint64 nowMs);
// Full time for tooltips and details: "2025-03-03 14:03:22.123 UTC" / "... +01:00".
QString fullTime(qint64 ms, bool utc);
// Same, from Unix nanoseconds, keeping microseconds: "2025-03-03 14:03:22.123456 UTC".
QString fullTimeNs(qint64 ns, bool utc);

// "1 tool call" / "41 tool calls": `one` and `many` hold %1 for the grouped number.
QString plural(qint64 n, const QString &one, const QString &many);

// "waiting approval" for RunStatus::WaitingApproval, etc.
QString statusLabel(RunStatus status);
// The colour an operator reads a status by (waiting amber, failed red, stopped grey, working
// blue, completed green); invalid QColor for statuses shown in the normal text colour.
QColor statusColor(RunStatus status);

} // namespace Breaker::RunFormat
