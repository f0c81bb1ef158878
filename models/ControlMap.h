#pragma once

#include "models/Profile.h"
#include "models/StopTypes.h"

#include <QJsonArray>
#include <QString>

#include <optional>
#include <vector>

namespace Breaker {

// One of the seven rows of an agent's control map (DESIGN.md sections 1 and 4): the provider
// bound to the layer, and for the layers a stop acts on, the last proven stop (issue 4 item 7).
struct ControlMapRow
{
    QString layer;          // one of kLayerIds
    QString provider;       // empty: none bound
    bool configured = false;
    bool stoppable = false; // runtime, identity, payment, tools: a stop acts here
    QString detail;         // why TBD; for stoppable rows what was proven, or "never proven"
    std::optional<StopProof> proof; // the last stop or drill of this layer, if any

    QString state() const { return configured ? QStringLiteral("bound") : QStringLiteral("tbd"); }
    bool proven() const { return proof && proof->provenAtMs > 0; }
};

// The rows for `agent` as the profile binds it now, with the Store's stop proofs of that agent.
// `agent` null: every row TBD, each saying `whyNoAgent` ("agent not in the profile").
std::vector<ControlMapRow> buildControlMap(const Profile *profile, const AgentConfig *agent,
                                           const std::vector<StopProof> &proofs,
                                           const QString &whyNoAgent = {});

// "verified in 840 ms by a drill, 2026-11-27 10:02:11 UTC"; "never proven"; and where the last
// attempt did not verify, what it came to as well.
QString describeProof(const std::optional<StopProof> &proof);

// The `control_map` of `breakerctl run --json` (DESIGN.md section 9): layer, state, provider,
// detail, plus last_proven {at, ms, drill, provider} and last_attempt {at, outcome, ms, drill,
// detail} (null when there is none).
QJsonArray controlMapJson(const std::vector<ControlMapRow> &rows);

} // namespace Breaker
