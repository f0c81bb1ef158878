#pragma once

#include "app/services/RunFeed.h"
#include "models/RunTypes.h"

#include <vector>

namespace Breaker::Testing {

// The sandbox's four agents (refund-agent, claims-agent, email-agent, usage-analyst) plus one
// agent the profile does not know, in the situations an operator exists for: a refund waiting
// for approval, a runaway retry loop, a blocked tool call, a restricted data read.
// Deterministic for a given `nowMs`.
std::vector<Run> sampleRuns(qint64 nowMs);
// A realistic span tree for one of the runs above (GenAI semantic-convention attributes).
std::vector<RunEvent> sampleEvents(const Run &run);
std::vector<ProviderState> sampleProviderStates();

} // namespace Breaker::Testing
