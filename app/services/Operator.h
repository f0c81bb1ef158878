#pragma once

#include "models/AuditRecord.h"
#include "models/Profile.h"

#include <optional>

namespace Breaker {

// Who is at this console, for the audit trail (DESIGN.md section 7; issue 5 item 1): the OS
// user, plus the profile's `operator` when it names one ("ada (os: ada.l)").
AuditEntry::Actor currentOperator(const std::optional<Profile> &profile);
AuditEntry::Actor systemActor();

} // namespace Breaker
