#pragma once

#include <QJsonObject>
#include <QString>

namespace Breaker {

// Which audit records go into the derived export files (audit.csv, audit.ocsf.jsonl); the chain
// file audit.jsonl is never filtered (DESIGN.md section 7). Empty fields match everything; the
// set fields must all match.
//   agent, run, principal: equal to the record's target.agent / target.run / target.principal
//     (exact, case-sensitive; a record whose field is null does not match a set filter).
//   action: equal to the record's action, or a dotted prefix of it: "stop" matches "stop",
//     "stop.layer" and "stop.completed" but not "stopped" or "resume.layer"; "approval.decided"
//     matches only itself. A trailing dot ("stop.") means the same as "stop".
struct AuditFilter
{
    QString agent, run, principal, action;

    bool isEmpty() const;
    bool matches(const QJsonObject &record) const;
};

} // namespace Breaker
