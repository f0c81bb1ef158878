#include "models/StoreSchema.h"

#include "models/EventBlock.h"
#include "models/SqliteConnection.h"

#include <sqlite3.h>

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

// Version 1 → 2: the span insert path (docs/BENCHMARKS.md). Every span insert used to seek into
// two indexes at random places: events_span (trace_id, span_id), whose keys are random, and
// events_run_start (run_id, start_ns), whose run ids were hashes. Each commit dirtied a random
// page of each per trace, and the B-tree work was most of the writer's time.
// - One index instead of two: events_run_start (run_id, start_ns, trace_id, span_id), UNIQUE.
//   It serves "a run's events in time order" as before and is the dedupe key: a span sent again
//   (an exporter's retry) comes with the same run, start time and ids. Run ids are now
//   time-ordered (RunMonitor::newRunId), so inserts land at the end of the index.
// - Ids as bytes: a 32-digit trace id and a 16-digit span id (lowercase hex, as every OTLP id is)
//   are stored as 16- and 8-byte BLOBs; any other id (approval events' "<span>#<n>", ids from
//   tools) stays TEXT, unchanged. Rows and index entries are 40 bytes narrower.
// The table is rebuilt (same rowids, same order) so that its declared types say what it holds.
// Also: runs_started gains the id, the newest-runs query's tie-break (ORDER BY started_ms DESC,
// id DESC needed a temporary B-tree for it).
constexpr const char kMigration2[] = R"SQL(
CREATE TABLE events_v2 (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    trace_id BLOB,
    span_id BLOB,
    parent_span_id BLOB,
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
INSERT INTO events_v2 (id, run_id, trace_id, span_id, parent_span_id, kind, name, start_ns, end_ns,
                       status_code, attributes, input_tokens, output_tokens, cost_micros)
SELECT id, run_id, breaker_id_bytes(trace_id), breaker_id_bytes(span_id),
       breaker_id_bytes(parent_span_id), kind, name, start_ns, end_ns, status_code, attributes,
       input_tokens, output_tokens, cost_micros
FROM events ORDER BY id;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
CREATE UNIQUE INDEX events_run_start ON events (run_id, start_ns, trace_id, span_id);

-- The runs table's query (newest first, ties by id) reads this index in order, with no sort.
DROP INDEX runs_started;
CREATE INDEX runs_started ON runs (started_ms, id);
)SQL";

// Version 2 → 3: the control map's "last proven stop" (issue 4 item 7). One row per agent and
// layer: what the last stop or drill of that layer came to, and when the layer was last verified
// (kept when a later attempt fails, so the map shows both). The audit trail stays the record of
// every attempt; this table is the index the control map reads.
constexpr const char kMigration3[] = R"SQL(
CREATE TABLE stop_proofs (
    agent TEXT NOT NULL,
    layer TEXT NOT NULL,
    provider TEXT,
    outcome TEXT NOT NULL,
    ms INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    drill INTEGER NOT NULL,
    detail TEXT,
    proven_at_ms INTEGER,
    proven_ms INTEGER,
    proven_drill INTEGER,
    proven_provider TEXT,
    PRIMARY KEY (agent, layer)
);
)SQL";

// Version 3 → 4: stops in flight, seen by every process that opens the Store (DESIGN.md
// section 9: "a second stop of a scope that is being stopped joins the first"). One row per scope
// being stopped or resumed ("stop:agent:refund-agent@runtime,identity,payment,tools"), written
// when the stop starts and deleted when its result is in the audit trail. The holder is named by
// process id and host so that a claim left by a process that died can be told from a live one;
// deadline_ms is how long its longest action may take (past it, a live holder is hung); audit_seq
// is the trail's head when the claim was made, so a process that joins reads the result from the
// records after it.
constexpr const char kMigration4[] = R"SQL(
CREATE TABLE stops_in_flight (
    scope TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    started_ms INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL DEFAULT 0,
    audit_seq INTEGER NOT NULL
) WITHOUT ROWID;
)SQL";

// Version 4 → 5: a run's events as blocks (models/EventBlock.h), one row per run per write
// transaction instead of one per span. At 1M spans the writer spent most of its time on SQLite's
// per-row work (a bare prepared INSERT of one ~570-byte row cost 5-9 us on this VM, the dedupe
// index on top); a block of a dozen spans costs about what one row did. The dedupe key moves out
// of the B-tree into the writer (Store.cpp, "span keys"); retention ages and counts blocks by
// the columns below. convertEventsToBlocks moves the rows of version 4 over, then drops them.
constexpr const char kMigration5[] = R"SQL(
CREATE TABLE event_blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: event ids are made from it
    run_id TEXT NOT NULL,
    events INTEGER NOT NULL,    -- how many events the body holds
    oldest_ns INTEGER NOT NULL, -- min and max over its events of max(start_ns, end_ns)
    newest_ns INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX event_blocks_run ON event_blocks (run_id);

-- Trace keys ("trace:<hex>") a writer holds back to write them to run_keys in sorted bulk
-- (Store.cpp, "deferred trace keys"): one row per write transaction that held some back, with
-- those (key, run id) pairs, appended at the end (cheap, unlike run_keys' random leaves) and
-- deleted by the bulk write that has them. A Store that opens writes the pairs of a writer that
-- died, or whose rows are older than ten minutes.
CREATE TABLE run_keys_held (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL, -- "<pid>@<host>#<store>"
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    pairs BLOB NOT NULL  -- (varint length, key, varint length, run id)*
);
)SQL";

Result<void> convertEventsToBlocks(SqliteConnection &db);

struct Migration
{
    const char *sql;
    Result<void> (*after)(SqliteConnection &db) = nullptr;
};

// migrations[n] takes the schema from version n to n + 1.
const std::array<Migration, kCurrentVersion> kMigrations{{{kMigration1}, {kMigration2}, {kMigration3},
                                                          {kMigration4},
                                                          {kMigration5, convertEventsToBlocks}}};

// Value of a lowercase hex digit, or -1 (upper case too: it would not read back as the same
// text). A table, because branches on random hex digits mispredict about every other one.
constexpr std::array<signed char, 256> kHexValue = [] {
    std::array<signed char, 256> t{};
    for (auto &v : t)
        v = -1;
    for (int c = '0'; c <= '9'; ++c)
        t[size_t(c)] = static_cast<signed char>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c)
        t[size_t(c)] = static_cast<signed char>(c - 'a' + 10);
    return t;
}();

// breaker_id_bytes(x): idToBytes as an SQL function, for migration 2.
void sqlIdBytes(sqlite3_context *context, int, sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_value(context, argv[0]);
        return;
    }
    const auto *text = reinterpret_cast<const char *>(sqlite3_value_text(argv[0]));
    const int size = sqlite3_value_bytes(argv[0]);
    unsigned char bytes[16];
    if (const int n = idToBytes(QByteArrayView(text, size), bytes); n > 0)
        sqlite3_result_blob(context, bytes, n, SQLITE_TRANSIENT);
    else
        sqlite3_result_value(context, argv[0]);
}

// Migration 5: every row of the per-span events table into blocks, a run's events in the order
// they arrived (row id), kMaxEvents to a block, the runs in the order of their first event (so
// that block ids, like the rows' ids, follow arrival for retention by size); then the table goes.
Result<void> convertEventsToBlocks(SqliteConnection &db)
{
    auto select = db.statement(
        "SELECT run_id, trace_id, span_id, parent_span_id, kind, name, start_ns, end_ns, status_code, "
        "attributes, input_tokens, output_tokens, cost_micros, min(id) OVER (PARTITION BY run_id) AS first "
        "FROM events ORDER BY first, id");
    if (!select)
        return select.error();
    auto insert = db.statement("INSERT INTO event_blocks (run_id, events, oldest_ns, newest_ns, body) "
                               "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!insert)
        return insert.error();

    QByteArray runId, body;
    int count = 0;
    qint64 oldest = 0, newest = 0;
    auto flushBlock = [&]() -> Result<void> {
        if (count == 0)
            return {};
        SqliteQuery q(*insert);
        q.bind(1, runId);
        q.bind(2, qint64(count));
        q.bind(3, oldest);
        q.bind(4, newest);
        q.bindBlobStatic(5, body);
        if (const int rc = q.step(); rc != SQLITE_DONE)
            return db.error(rc, QStringLiteral("moving the events of run %1").arg(QString::fromUtf8(runId)));
        body.clear();
        count = 0;
        return {};
    };
    auto readId = [](const SqliteQuery &q, int column) {
        return q.isBlob(column) ? q.text(column).toHex() : q.text(column);
    };

    // The statement is reset when moveRows returns, before the table is dropped.
    auto moveRows = [&]() -> Result<void> {
        SqliteQuery q(*select);
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) {
            RunEvent e;
            e.runId = q.text(0);
            e.traceId = readId(q, 1);
            e.spanId = readId(q, 2);
            e.parentSpanId = readId(q, 3);
            e.kind = eventKindFromWireName(q.text(4)).value_or(EventKind::Span);
            e.name = q.text(5);
            e.startNs = q.int64(6);
            e.endNs = q.int64(7);
            e.statusCode = int(q.int64(8));
            e.attributesJson = q.text(9);
            e.inputTokens = q.int64(10);
            e.outputTokens = q.int64(11);
            e.costMicros = q.int64(12);
            if (e.runId != runId || count == EventBlock::kMaxEvents) {
                if (auto r = flushBlock(); !r)
                    return r;
                runId = e.runId;
            }
            const qint64 age = EventBlock::ageNs(e);
            oldest = count == 0 ? age : std::min(oldest, age);
            newest = count == 0 ? age : std::max(newest, age);
            EventBlock::append(body, e, count++);
        }
        if (rc != SQLITE_DONE)
            return db.error(rc, QStringLiteral("reading the events to move"));
        return flushBlock();
    };
    if (auto r = moveRows(); !r)
        return r;
    return db.exec("DROP TABLE events");
}

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

int idToBytes(QByteArrayView hex, unsigned char *out)
{
    if (hex.size() != 32 && hex.size() != 16)
        return 0;
    const int n = int(hex.size() / 2);
    const auto *p = reinterpret_cast<const unsigned char *>(hex.data());
    int bad = 0;
    for (int i = 0; i < n; ++i) {
        const int hi = kHexValue[p[2 * i]];
        const int lo = kHexValue[p[2 * i + 1]];
        bad |= hi | lo; // negative if any digit was not one
        out[i] = static_cast<unsigned char>((hi & 0xf) << 4 | (lo & 0xf));
    }
    return bad < 0 ? 0 : n;
}

Result<int> migrate(SqliteConnection &db, int targetVersion)
{
    if (targetVersion < 1 || targetVersion > kCurrentVersion)
        targetVersion = kCurrentVersion;
    if (sqlite3_create_function_v2(db.handle(), "breaker_id_bytes", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, sqlIdBytes,
                                   nullptr, nullptr, nullptr)
        != SQLITE_OK) {
        return db.error(sqlite3_errcode(db.handle()), QStringLiteral("preparing the migration"));
    }
    // Cheap check first, so that opening an up-to-date file never takes the write lock.
    auto version = db.queryInt("PRAGMA user_version");
    if (!version)
        return version.error();
    if (*version >= targetVersion && *version <= kCurrentVersion)
        return int(*version);
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
    if (*version >= targetVersion) {
        db.rollbackIfOpen();
        return int(*version);
    }
    for (qint64 v = *version; v < targetVersion; ++v) {
        const Migration &step = kMigrations[size_t(v)];
        Result<void> r = db.exec(step.sql);
        if (r && step.after)
            r = step.after(db);
        if (!r) {
            db.rollbackIfOpen();
            Error e = r.error();
            e.message = QStringLiteral("migrating the schema from version %1 to %2 failed: %3")
                            .arg(v)
                            .arg(v + 1)
                            .arg(e.message);
            return e;
        }
    }
    const QByteArray finish =
        QByteArrayLiteral("INSERT INTO meta (key, value) VALUES ('schema_version', '")
        + QByteArray::number(targetVersion)
        + QByteArrayLiteral("') ON CONFLICT (key) DO UPDATE SET value = excluded.value;"
                            "PRAGMA user_version = ")
        + QByteArray::number(targetVersion) + QByteArrayLiteral(";COMMIT");
    if (auto r = db.exec(finish.constData()); !r) {
        db.rollbackIfOpen();
        return r.error();
    }
    return targetVersion;
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
