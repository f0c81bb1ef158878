#pragma once

#include "models/Result.h"

namespace Breaker {

class Store;

// Test-only hooks into a Store (a friend of Store). Not for product code: nothing outside
// tests/ includes this header.
class StoreTesting
{
public:
    // PRAGMA max_page_count on the writer connection (SQLite never lowers it below the current
    // size); returns the limit in effect. Lets a test fill the "disk" (SQLITE_FULL) and then
    // make room again, on a live Store.
    static Result<qint64> setMaxPageCount(Store &store, qint64 pages);
};

} // namespace Breaker
