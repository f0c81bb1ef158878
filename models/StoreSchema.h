#pragma once

#include "models/Result.h"

namespace Breaker {

class SqliteConnection;

// The Store's versioned schema. The version lives in PRAGMA user_version (and, for people
// reading the file with other tools, in meta.schema_version). Migration N→N+1 is one function;
// all pending ones run in one BEGIN IMMEDIATE transaction when a Store opens, so a crash or a
// second process never sees a half-migrated file. A file newer than this build is refused.
namespace StoreSchema {

constexpr int kCurrentVersion = 1;

// Brings the file to kCurrentVersion and returns it, or refuses a newer file with a message
// that names both versions.
Result<int> migrate(SqliteConnection &db);

// The version a read-only Store finds (no migration); refuses newer, missing or older files.
Result<int> check(SqliteConnection &db);

} // namespace StoreSchema
} // namespace Breaker
