#include "models/StopTypes.h"

namespace Breaker {

QByteArray toWireName(LayerOutcome outcome)
{
    switch (outcome) {
    case LayerOutcome::Verified: return "verified";
    case LayerOutcome::DoneUnverified: return "done_unverified";
    case LayerOutcome::Failed: return "failed";
    case LayerOutcome::SkippedNotConfigured: return "skipped_not_configured";
    }
    return "failed";
}

std::optional<LayerOutcome> layerOutcomeFromWireName(QByteArrayView name)
{
    for (LayerOutcome o : {LayerOutcome::Verified, LayerOutcome::DoneUnverified, LayerOutcome::Failed,
                           LayerOutcome::SkippedNotConfigured})
        if (name == toWireName(o))
            return o;
    return std::nullopt;
}

} // namespace Breaker
