#pragma once

// The run the Store files under an external key ("langgraph:<run>", "trace:<hex>", ...), or none
// yet: what the peer tests poll while a run makes its way from a real server to the Store.
#include "models/Store.h"

#include <optional>

namespace Breaker::Testing {

inline std::optional<Run> storedRun(Store &store, QByteArrayView key)
{
    auto id = store.runIdForKey(key);
    if (!id.ok() || !id.value())
        return std::nullopt;
    auto run = store.run(*id.value());
    return run.ok() ? run.value() : std::nullopt;
}

} // namespace Breaker::Testing
