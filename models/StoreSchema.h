#pragma once

#include "models/Result.h"

#include <QByteArrayView>

namespace Breaker {

class SqliteConnection;

// The Store's versioned schema. The version lives in PRAGMA user_version (and, for people
// reading the file with other tools, in meta.schema_version). Migration N→N+1 is one function;
// all pending ones run in one BEGIN IMMEDIATE transaction when a Store opens, so a crash or a
// second process never sees a half-migrated file. A file newer than this build is refused.
namespace StoreSchema {

constexpr int kCurrentVersion = 5;

// Brings the file to kCurrentVersion and returns it, or refuses a newer file with a message
// that names both versions.
// targetVersion (tests only: to build a file of an older version) defaults to the current one.
Result<int> migrate(SqliteConnection &db, int targetVersion = kCurrentVersion);

// A trace id (32 lowercase hex digits) or span id (16) as the 16 or 8 bytes the events table
// stores (schema version 2); returns how many bytes were written to `out` (16 at most), or 0
// when `hex` is any other text, which is then stored as it is.
int idToBytes(QByteArrayView hex, unsigned char *out);

// The version a read-only Store finds (no migration); refuses newer, missing or older files.
Result<int> check(SqliteConnection &db);

} // namespace StoreSchema
} // namespace Breaker
