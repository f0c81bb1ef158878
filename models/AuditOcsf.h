#pragma once

#include <QJsonObject>

namespace Breaker {

// The OCSF schema version the mapping claims (metadata.version); the class definitions it is
// tested against are in tests/data/ocsf/ (copied from ../shared/specs/ocsf/).
inline constexpr char kOcsfVersion[] = "1.9.0-dev";

// One audit record (a parsed line of audit.jsonl) as one OCSF event, for audit.ocsf.jsonl.
// docs/OCSF.md has the mapping table and the reasons; in short:
//   - token revocations (stop.layer / resume.layer on target.layer "identity"): User Management
//     (class_uid 3007), "Remove Programmatic Credentials" for a revoke, user = the agent's
//     identity at the provider;
//   - every other action, known or not: API Activity (class_uid 6003), Create / Read / Update
//     by what the action does, 99 Other with the action's name for unknown ones (never dropped);
//   - actor.user = who acted (operator, system or connector), src_endpoint = their host,
//     resources = the agent (owner = the principal it acts for), the run and the provider's
//     object; unmapped.breaker = the record's actor, target, reason, outcome, detail and prev.
QJsonObject auditToOcsf(const QJsonObject &record);

} // namespace Breaker
