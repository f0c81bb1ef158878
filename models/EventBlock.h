#pragma once

#include "models/Result.h"
#include "models/RunTypes.h"

#include <QByteArray>
#include <QByteArrayView>

#include <limits>
#include <vector>

namespace Breaker {

// The events of one run that one write transaction added, as one value (schema version 5:
// table event_blocks; docs/ARCHITECTURE.md, "Store"). One row per run per transaction instead of
// one row per span: SQLite's cost per row, not per byte, was most of the writer's time.
//
// Format (all integers LEB128 varints; signed ones zigzag-encoded first):
//   body   := 0x01 record*
//   record := ordinal id(trace) id(span) id(parent) text(kind) text(name)
//             zz(start_ns) zz(end_ns - start_ns) zz(status) text(attributes)
//             zz(input_tokens) zz(output_tokens) zz(cost_micros)
//   id     := varint(n << 1 | 1) n raw bytes   a lowercase hex id of 2n digits (trace or span id)
//           | varint(n << 1)     n bytes       any other id text (n = 0: none)
//   text   := varint(n) n bytes
// `ordinal` numbers the event inside its block (0 to kMaxEvents - 1, increasing) and stays with
// it when retention rewrites the block, so an event's id (blockId * kMaxEvents + ordinal) is
// stable; block ids are never reused (AUTOINCREMENT).
namespace EventBlock {

constexpr int kMaxEvents = 1024;
constexpr char kFormat = 0x01;

constexpr qint64 kMaxBlockId = std::numeric_limits<qint64>::max() / kMaxEvents - 1;

constexpr qint64 eventId(qint64 blockId, int ordinal) { return blockId * kMaxEvents + ordinal; }

// Appends one event (its runId and id are the row's, not the body's).
void append(QByteArray &body, const RunEvent &event, int ordinal);

// Every event of a body, in the order they were appended, with runId set and ids numbered from
// blockId. A body that is not one this code wrote is an error, never a crash.
Result<std::vector<RunEvent>> decode(QByteArrayView body, const QByteArray &runId, qint64 blockId);

// The dedupe keys of a body's events (those that have one), without building the events: the
// writer reads a run's keys back this way when it has let them go.
Result<std::vector<QByteArray>> dedupeKeys(QByteArrayView body, const QByteArray &runId, qint64 blockId);

// What makes a span the same span when it is sent again, within its run: start time, trace id and
// span id (the unique key of the per-span table of schema versions 2 to 4). Empty for an event
// without both ids, which is never a duplicate of anything.
QByteArray dedupeKey(const RunEvent &event);

// The instant retention ages an event by.
inline qint64 ageNs(const RunEvent &event) { return std::max(event.startNs, event.endNs); }

} // namespace EventBlock
} // namespace Breaker
