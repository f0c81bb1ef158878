#include "models/StoreSchema.h"

#include "models/SqliteConnection.h"

#include <array>

namespace Breaker::StoreSchema {

namespace {

// Version 0 → 1: the foundation's tables.
constexpr const char kMigration1[] = R"SQL(
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One summary row per run; counters are derived from the events the Store inserted.
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    agent TEXT NOT NULL DEFAULT '',
    agent_bound INTEGER NOT NULL DEFAULT 0,
    principal TEXT NOT NULL DEFAULT '',
    delegation TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL DEFAULT '',
    goal TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'unknown',
    started_ms INTEGER NOT NULL DEFAULT 0,
    updated_ms INTEGER NOT NULL DEFAULT 0,
    ended_ms INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_micros INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL DEFAULT 'usd',
    tool_calls INTEGER NOT NULL DEFAULT 0,
    policy_blocks INTEGER NOT NULL DEFAULT 0,
    data_sources INTEGER NOT NULL DEFAULT 0,
    approvals_pending INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    external_ids TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_started ON runs (started_ms);
CREATE INDEX runs_updated ON runs (updated_ms);

-- External ids a run was seen under ("trace:<hex>", "a2a:<provider>:<task>", ...).
CREATE TABLE run_keys (
    key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX run_keys_run ON run_keys (run_id);

-- Timeline entries. trace_id/span_id are NULL for events without a span, so they never
-- collide in the dedupe index (NULLs are distinct in a UNIQUE index).
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    trace_id TEXT,
    span_id TEXT,
    parent_span_id TEXT,
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    start_ns INTEGER NOT NULL DEFAULT 0,
    end_ns INTEGER NOT NULL DEFAULT 0,
    status_code INTEGER NOT NULL DEFAULT 0,
    attributes TEXT NOT NULL DEFAULT '{}',
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_micros INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX events_span ON events (trace_id, span_id);
CREATE INDEX events_run_start ON events (run_id, start_ns);

-- Approvals (DESIGN.md section 4). amount_value is the decimal text the agent sent, kept
-- exact; times are Unix milliseconds.
CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'pending',
    waiting_on TEXT NOT NULL DEFAULT 'operator',
    action TEXT NOT NULL DEFAULT '',
    arguments TEXT NOT NULL DEFAULT '',
    amount_value TEXT,
    amount_currency TEXT,
    message TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    asked_at INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL DEFAULT 0,
    decided_by TEXT,
    reason TEXT,
    detail TEXT
);
CREATE INDEX approvals_state ON approvals (state);
CREATE INDEX approvals_run ON approvals (run_id);

-- The audit chain (DESIGN.md section 7): the exact line bytes that were hashed.
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    line BLOB NOT NULL,
    hash TEXT NOT NULL
);
-- Append-only, also against Breaker's own bugs (signed checkpoints catch edits from outside).
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;

CREATE TABLE audit_checkpoints (
    seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    signature BLOB NOT NULL,
    key_fingerprint TEXT NOT NULL,
    ts INTEGER NOT NULL,
    PRIMARY KEY (seq, key_fingerprint)
);
)SQL";

// migrations[n] takes the schema from version n to n + 1.
constexpr std::array<const char *, kCurrentVersion> kMigrations{kMigration1};

Error newerError(qint64 found, const QString &path)
{
    return makeError(Error::Kind::Unavailable,
                     QStringLiteral("the database schema is version %1, newer than this Breaker "
                                    "understands (version %2); use a newer Breaker or another "
                                    "database file")
                         .arg(found)
                         .arg(kCurrentVersion),
                     path);
}

} // namespace

Result<int> migrate(SqliteConnection &db)
{
    // Cheap check first, so that opening an up-to-date file never takes the write lock.
    auto version = db.queryInt("PRAGMA user_version");
    if (!version)
        return version.error();
    if (*version == kCurrentVersion)
        return kCurrentVersion;
    if (*version > kCurrentVersion)
        return newerError(*version, db.path());

    if (auto r = db.exec("BEGIN IMMEDIATE"); !r)
        return r.error();
    // Another process may have migrated between the check and the lock.
    version = db.queryInt("PRAGMA user_version");
    if (!version) {
        db.rollbackIfOpen();
        return version.error();
    }
    if (*version > kCurrentVersion) {
        db.rollbackIfOpen();
        return newerError(*version, db.path());
    }
    for (qint64 v = *version; v < kCurrentVersion; ++v) {
        if (auto r = db.exec(kMigrations[size_t(v)]); !r) {
            db.rollbackIfOpen();
            Error e = r.error();
            e.message = QStringLiteral("migrating the schema from version %1 to %2 failed: %3")
                            .arg(v)
                            .arg(v + 1)
                            .arg(e.message);
            return e;
        }
    }
    static const QByteArray finish =
        QByteArrayLiteral("INSERT INTO meta (key, value) VALUES ('schema_version', '")
        + QByteArray::number(kCurrentVersion)
        + QByteArrayLiteral("') ON CONFLICT (key) DO UPDATE SET value = excluded.value;"
                            "PRAGMA user_version = ")
        + QByteArray::number(kCurrentVersion) + QByteArrayLiteral(";COMMIT");
    if (auto r = db.exec(finish.constData()); !r) {
        db.rollbackIfOpen();
        return r.error();
    }
    return kCurrentVersion;
}

Result<int> check(SqliteConnection &db)
{
    const auto version = db.queryInt("PRAGMA user_version");
    if (!version)
        return version.error();
    if (*version > kCurrentVersion)
        return newerError(*version, db.path());
    if (*version < kCurrentVersion) {
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("the database schema is version %1 and needs upgrading "
                                        "to version %2; open it once without read-only mode")
                             .arg(*version)
                             .arg(kCurrentVersion),
                         db.path());
    }
    return int(*version);
}

} // namespace Breaker::StoreSchema
