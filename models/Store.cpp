#include "models/Store.h"

#include "models/EventBlock.h"
#include "models/Logging.h"
#include "models/SqliteConnection.h"
#include "models/StoreSchema.h"
#include "models/StoreTesting.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRandomGenerator>
#include <QSet>
#include <QStandardPaths>
#include <QSysInfo>

#include <sqlite3.h>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <iterator>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace Breaker {

namespace {

// The writer applies queued batches together, in one transaction, up to these bounds: one
// commit (and one WAL append) for many small batches when ingest is busy, and a bounded
// transaction so that readers and other processes never wait long for the write lock.
constexpr size_t kMaxBatchesPerTransaction = 64;
constexpr size_t kMaxEventsPerTransaction = 32768;

// WAL checkpoints, in pages (4 KB), instead of SQLite's automatic one (1,000 pages, run inside
// the committing transaction, including its fdatasync): a thread of their own checkpoints
// (PASSIVE, never blocking the writer or readers) each time this many new pages are in the WAL...
constexpr int kCheckpointEveryPages = 4096; // 16 MB
// ...and should the WAL still grow past this (a checkpoint cannot finish while pages are being
// appended, so under constant ingest the WAL would never restart), the committing thread
// checkpoints itself, between two transactions, so that the next one restarts the WAL.
constexpr int kWalCapPages = 16384; // 64 MB, as journal_size_limit

std::atomic<quint64> g_nextStoreId{1};

// Each thread's read connections, one per Store, keyed by the Store's unique id (never by its
// address, which a later Store may reuse). A connection closes when its thread exits or when
// its Store is destroyed, whichever comes first.
struct ThreadReaders
{
    ~ThreadReaders();
    std::unordered_map<quint64, std::shared_ptr<SqliteConnection>> byStore;
};
thread_local ThreadReaders t_readers;
// Trivially destructible, so it can be read after t_readers is gone (a Store destroyed during
// static destruction, after the main thread's thread_locals).
thread_local bool t_readersGone = false;
ThreadReaders::~ThreadReaders()
{
    t_readersGone = true;
}

constexpr const char kSelectRun[] =
    "SELECT id, agent, agent_bound, principal, delegation, provider, goal, status, started_ms, "
    "updated_ms, ended_ms, input_tokens, output_tokens, cost_micros, currency, tool_calls, "
    "policy_blocks, data_sources, approvals_pending, errors, external_ids FROM runs WHERE id = ?1";

constexpr const char kSelectRuns[] =
    "SELECT id, agent, agent_bound, principal, delegation, provider, goal, status, started_ms, "
    "updated_ms, ended_ms, input_tokens, output_tokens, cost_micros, currency, tool_calls, "
    "policy_blocks, data_sources, approvals_pending, errors, external_ids FROM runs "
    "WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR agent = ?2) AND (?3 = '' OR principal = ?3) "
    "AND updated_ms >= ?4 ORDER BY started_ms DESC, id DESC LIMIT ?5";

// Descriptive fields are replaced only when the new value is non-empty; times merge; a
// terminal status (the four of isTerminal()) is never replaced by a non-terminal one, and
// 'unknown' carries no information so it never replaces anything. ?14..?24 are what the batch's
// new events add (as in kAddToRun: ?21/?22 the approvals step, ?23 their first start, ?24 their
// last activity), so that a described run takes one statement.
constexpr const char kUpsertRun[] =
    "INSERT INTO runs (id, agent, agent_bound, principal, delegation, provider, goal, status, "
    "started_ms, updated_ms, ended_ms, currency, external_ids, input_tokens, output_tokens, "
    "cost_micros, tool_calls, policy_blocks, data_sources, errors, approvals_pending) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, CASE WHEN ?9 = 0 THEN ?23 ELSE ?9 END, max(?10, ?24), "
    "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21 + max(0, ?22)) "
    "ON CONFLICT (id) DO UPDATE SET "
    "agent = CASE WHEN excluded.agent <> '' THEN excluded.agent ELSE agent END, "
    "agent_bound = CASE WHEN excluded.agent <> '' THEN excluded.agent_bound ELSE agent_bound END, "
    "principal = CASE WHEN excluded.principal <> '' THEN excluded.principal ELSE principal END, "
    "delegation = CASE WHEN excluded.delegation <> '' THEN excluded.delegation ELSE delegation END, "
    "provider = CASE WHEN excluded.provider <> '' THEN excluded.provider ELSE provider END, "
    "goal = CASE WHEN excluded.goal <> '' THEN excluded.goal ELSE goal END, "
    "currency = CASE WHEN excluded.currency <> '' THEN excluded.currency ELSE currency END, "
    "external_ids = CASE WHEN excluded.external_ids <> '' THEN excluded.external_ids "
    "ELSE external_ids END, "
    "status = CASE WHEN excluded.status = 'unknown' THEN status "
    "WHEN status IN ('stopped', 'completed', 'failed', 'rejected') "
    "AND excluded.status NOT IN ('stopped', 'completed', 'failed', 'rejected') THEN status "
    "ELSE excluded.status END, "
    "started_ms = CASE WHEN ?9 = 0 THEN (CASE WHEN started_ms = 0 THEN ?23 ELSE started_ms END) "
    "WHEN started_ms = 0 THEN ?9 "
    "ELSE min(started_ms, ?9) END, "
    "updated_ms = max(updated_ms, ?10, ?24), "
    "ended_ms = max(ended_ms, excluded.ended_ms), "
    "input_tokens = input_tokens + ?14, output_tokens = output_tokens + ?15, "
    "cost_micros = cost_micros + ?16, tool_calls = tool_calls + ?17, "
    "policy_blocks = policy_blocks + ?18, data_sources = data_sources + ?19, errors = errors + ?20, "
    "approvals_pending = ?21 + max(approvals_pending, ?22)";

constexpr const char kInsertMinimalRun[] =
    "INSERT INTO runs (id) VALUES (?1) ON CONFLICT (id) DO NOTHING";

// approvals_pending: ?9 is the net change and ?10 minus the lowest running sum of the batch's
// +1/-1 steps, which applies "floor 0" after every single step: result = net + max(old, -min).
constexpr const char kAddToRun[] =
    "UPDATE runs SET input_tokens = input_tokens + ?2, output_tokens = output_tokens + ?3, "
    "cost_micros = cost_micros + ?4, tool_calls = tool_calls + ?5, "
    "policy_blocks = policy_blocks + ?6, data_sources = data_sources + ?7, errors = errors + ?8, "
    "approvals_pending = ?9 + max(approvals_pending, ?10), "
    "started_ms = CASE WHEN started_ms = 0 THEN ?11 ELSE started_ms END, "
    "updated_ms = max(updated_ms, ?12) WHERE id = ?1";

constexpr const char kInsertKey[] =
    "INSERT INTO run_keys (key, run_id) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING";

// Events live in blocks (schema 5, models/EventBlock.h): one row per run per transaction.
constexpr const char kInsertBlock[] =
    "INSERT INTO event_blocks (run_id, events, oldest_ns, newest_ns, body) VALUES (?1, ?2, ?3, ?4, ?5)";
// ?2: only blocks with an event at or after it (events: the smallest integer).
constexpr const char kSelectRunBlocks[] =
    "SELECT id, body FROM event_blocks WHERE run_id = ?1 AND newest_ns >= ?2 ORDER BY id";

// Deferred trace keys (Store::Private::stageKey).
constexpr QByteArrayView kTraceKeyPrefix("trace:");
constexpr size_t kDeferredKeysMax = 16384;
constexpr qint64 kHeldKeysStaleMs = 10 * 60 * 1000;
constexpr const char kNextBlockId[] = "SELECT coalesce(max(id), 0) + 1 FROM event_blocks";
constexpr const char kInsertHeld[] =
    "INSERT INTO run_keys_held (owner, pid, host, at_ms, pairs) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char kDeleteHeld[] = "DELETE FROM run_keys_held WHERE owner = ?1";
constexpr const char kSelectHolders[] = "SELECT owner, pid, host, max(at_ms) FROM run_keys_held GROUP BY owner";
constexpr const char kSelectHeld[] = "SELECT pairs FROM run_keys_held WHERE owner = ?1 ORDER BY id";

using KeyPairs = std::vector<std::pair<QByteArray, QByteArray>>;

void putLength(QByteArray &out, qsizetype n)
{
    auto v = quint64(n);
    while (v >= 0x80) {
        out.append(char((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.append(char(v));
}

QByteArray encodePairs(const KeyPairs &pairs)
{
    QByteArray out;
    for (const auto &[key, runId] : pairs) {
        putLength(out, key.size());
        out.append(key);
        putLength(out, runId.size());
        out.append(runId);
    }
    return out;
}

// Empty optional: not what encodePairs wrote.
std::optional<KeyPairs> decodePairs(QByteArrayView bytes)
{
    KeyPairs pairs;
    qsizetype i = 0;
    auto next = [&](QByteArray &out) {
        quint64 n = 0;
        for (int shift = 0;; shift += 7) {
            if (i >= bytes.size() || shift > 56)
                return false;
            const auto c = uchar(bytes[i++]);
            n |= quint64(c & 0x7f) << shift;
            if (!(c & 0x80))
                break;
        }
        if (n > quint64(bytes.size() - i))
            return false;
        out = bytes.sliced(i, qsizetype(n)).toByteArray();
        i += qsizetype(n);
        return true;
    };
    while (i < bytes.size()) {
        QByteArray key, runId;
        if (!next(key) || !next(runId) || key.isEmpty() || runId.isEmpty())
            return std::nullopt;
        pairs.emplace_back(std::move(key), std::move(runId));
    }
    return pairs;
}

// A trace id and the run its events went to, as one set member.
QByteArray deferredKey(QByteArrayView traceId, QByteArrayView runId)
{
    QByteArray key;
    key.reserve(traceId.size() + 1 + runId.size());
    key.append(traceId);
    key.append('\0');
    key.append(runId);
    return key;
}

constexpr const char kSelectKeyRun[] = "SELECT run_id FROM run_keys WHERE key = ?1";
constexpr const char kSelectRunKeys[] = "SELECT key FROM run_keys WHERE run_id = ?1 ORDER BY key";
constexpr const char kCountRuns[] = "SELECT count(*) FROM runs";
constexpr const char kCountEvents[] = "SELECT coalesce(sum(events), 0) FROM event_blocks";
constexpr const char kDataVersion[] = "PRAGMA data_version";

constexpr const char kAuditHead[] = "SELECT seq, ts_ms, line, hash FROM audit ORDER BY seq DESC LIMIT 1";
constexpr const char kAuditRange[] =
    "SELECT seq, ts_ms, line, hash FROM audit WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq";
constexpr const char kAuditInsert[] = "INSERT INTO audit (seq, ts_ms, line, hash) VALUES (?1, ?2, ?3, ?4)";
constexpr const char kAuditCheckpointInsert[] =
    "INSERT INTO audit_checkpoints (seq, head_hash, signature, key_fingerprint, ts) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (seq, key_fingerprint) DO NOTHING";
constexpr const char kAuditCheckpoints[] =
    "SELECT seq, head_hash, signature, key_fingerprint, ts FROM audit_checkpoints ORDER BY seq, ts";

constexpr const char kUpsertStopProof[] =
    "INSERT INTO stop_proofs (agent, layer, provider, outcome, ms, at_ms, drill, detail, proven_at_ms, "
    "proven_ms, proven_drill, proven_provider) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
    "ON CONFLICT (agent, layer) DO UPDATE SET provider = excluded.provider, outcome = excluded.outcome, "
    "ms = excluded.ms, at_ms = excluded.at_ms, drill = excluded.drill, detail = excluded.detail, "
    "proven_at_ms = coalesce(excluded.proven_at_ms, proven_at_ms), "
    "proven_ms = coalesce(excluded.proven_ms, proven_ms), "
    "proven_drill = coalesce(excluded.proven_drill, proven_drill), "
    "proven_provider = coalesce(excluded.proven_provider, proven_provider)";
constexpr const char kAuditLastContaining[] =
    "SELECT seq, ts_ms, line, hash FROM audit WHERE instr(line, ?1) > 0 ORDER BY seq DESC LIMIT 1";
constexpr const char kSelectStopProofs[] =
    "SELECT agent, layer, provider, outcome, ms, at_ms, drill, detail, proven_at_ms, proven_ms, proven_drill, "
    "proven_provider FROM stop_proofs WHERE ?1 = '' OR agent = ?1 ORDER BY agent, layer";

constexpr const char kSelectStopClaim[] =
    "SELECT scope, operation, pid, host, actor, started_ms, audit_seq, deadline_ms FROM stops_in_flight "
    "WHERE scope = ?1";
constexpr const char kUpsertStopClaim[] =
    "INSERT INTO stops_in_flight (scope, operation, pid, host, actor, started_ms, deadline_ms, audit_seq) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT coalesce(max(seq), 0) FROM audit)) "
    "ON CONFLICT (scope) DO UPDATE SET operation = excluded.operation, pid = excluded.pid, host = excluded.host, "
    "actor = excluded.actor, started_ms = excluded.started_ms, deadline_ms = excluded.deadline_ms, "
    "audit_seq = excluded.audit_seq RETURNING audit_seq";
constexpr const char kDeleteStopClaim[] = "DELETE FROM stops_in_flight WHERE scope = ?1 AND operation = ?2";

StopClaim readStopClaim(const SqliteQuery &q)
{
    StopClaim c;
    c.scope = q.text(0);
    c.operation = q.text(1);
    c.pid = q.int64(2);
    c.host = q.text(3);
    c.actor = QString::fromUtf8(q.text(4));
    c.startedMs = q.int64(5);
    c.auditSeq = q.int64(6);
    c.deadlineMs = q.int64(7);
    return c;
}

// Retention by age: blocks whose every event is older than the cutoff go whole; blocks that
// straddle it are rewritten without their old events.
constexpr const char kDeleteOldBlocks[] = "DELETE FROM event_blocks WHERE newest_ns < ?1 RETURNING events";
constexpr const char kSelectStraddlingBlocks[] =
    "SELECT id, run_id, body FROM event_blocks WHERE oldest_ns < ?1 ORDER BY id";
constexpr const char kRewriteBlock[] =
    "UPDATE event_blocks SET events = ?2, oldest_ns = ?3, newest_ns = ?4, body = ?5 WHERE id = ?1";
constexpr const char kDeleteBlock[] = "DELETE FROM event_blocks WHERE id = ?1";
constexpr const char kDeleteOldRunKeys[] =
    "DELETE FROM run_keys WHERE run_id IN (SELECT id FROM runs WHERE ended_ms > 0 AND ended_ms < ?1 "
    "AND NOT EXISTS (SELECT 1 FROM event_blocks WHERE event_blocks.run_id = runs.id))";
constexpr const char kDeleteOldRuns[] =
    "DELETE FROM runs WHERE ended_ms > 0 AND ended_ms < ?1 "
    "AND NOT EXISTS (SELECT 1 FROM event_blocks WHERE event_blocks.run_id = runs.id)";
// Retention by size: the oldest events by arrival (block id, then their order in the block).
constexpr const char kSelectBlockSizes[] = "SELECT id, events FROM event_blocks ORDER BY id";
constexpr const char kSelectBlock[] = "SELECT run_id, body, events FROM event_blocks WHERE id = ?1";
constexpr const char kDeleteBlocksUpTo[] = "DELETE FROM event_blocks WHERE id <= ?1";

Run readRun(const SqliteQuery &q)
{
    Run run;
    run.id = q.text(0);
    run.agent = q.text(1);
    run.agentBound = q.int64(2) != 0;
    run.principal = q.text(3);
    run.delegationJson = q.text(4);
    run.provider = q.text(5);
    run.goal = q.text(6);
    run.status = runStatusFromWireName(q.text(7)).value_or(RunStatus::Unknown);
    run.startedMs = q.int64(8);
    run.updatedMs = q.int64(9);
    run.endedMs = q.int64(10);
    run.inputTokens = q.int64(11);
    run.outputTokens = q.int64(12);
    run.costMicros = q.int64(13);
    run.currency = q.text(14);
    run.toolCalls = int(q.int64(15));
    run.policyBlocks = int(q.int64(16));
    run.dataSources = int(q.int64(17));
    run.approvalsPending = int(q.int64(18));
    run.errors = int(q.int64(19));
    run.externalIdsJson = q.text(20);
    return run;
}

// Every event of a run, in arrival order, decoded from its blocks; only from the blocks that
// hold an event active at or after `activeSinceNs` (its max(start, end)), when it is given.
Result<std::vector<RunEvent>> readRunEvents(SqliteConnection &db, QByteArrayView runId,
                                            qint64 activeSinceNs = std::numeric_limits<qint64>::min())
{
    auto stmt = db.statement(kSelectRunBlocks);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bind(1, runId);
    q.bind(2, activeSinceNs);
    std::vector<RunEvent> events;
    const QByteArray id = runId.toByteArray();
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        auto block = EventBlock::decode(q.text(1), id, q.int64(0));
        if (!block) {
            Error e = block.error();
            e.where = db.path();
            return e;
        }
        std::move(block->begin(), block->end(), std::back_inserter(events));
    }
    if (rc != SQLITE_DONE)
        return db.error(rc, QStringLiteral("reading events"));
    return events;
}

// A run's events for the timeline: by start time, ties in arrival order.
void sortByStart(std::vector<RunEvent> &events)
{
    std::stable_sort(events.begin(), events.end(), [](const RunEvent &a, const RunEvent &b) {
        return a.startNs != b.startNs ? a.startNs < b.startNs : a.id < b.id;
    });
}

AuditRecord readAudit(const SqliteQuery &q)
{
    return AuditRecord{q.int64(0), q.int64(1), q.text(2), q.text(3)};
}

// What a batch's new events add to one run.
struct RunDelta
{
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 costMicros = 0;
    qint64 toolCalls = 0;
    qint64 policyBlocks = 0;
    qint64 dataSources = 0;
    qint64 errors = 0;
    qint64 approvalsNet = 0;
    qint64 approvalsLowest = 0; // lowest running sum of the +1/-1 steps (<= 0)
    qint64 firstStartMs = 0;
    qint64 lastActivityMs = 0;

    void add(const RunEvent &e)
    {
        inputTokens += e.inputTokens;
        outputTokens += e.outputTokens;
        costMicros += e.costMicros;
        switch (e.kind) {
        case EventKind::ToolCall: ++toolCalls; break;
        case EventKind::PolicyBlock: ++policyBlocks; break;
        case EventKind::DataAccess: ++dataSources; break;
        case EventKind::ApprovalRequested: ++approvalsNet; break;
        case EventKind::ApprovalDecided:
            --approvalsNet;
            approvalsLowest = std::min(approvalsLowest, approvalsNet);
            break;
        default: break;
        }
        if (e.statusCode == 2 || e.kind == EventKind::Error)
            ++errors;
        const qint64 startMs = e.startNs / 1000000;
        const qint64 endMs = e.endNs / 1000000;
        if (startMs > 0 && (firstStartMs == 0 || startMs < firstStartMs))
            firstStartMs = startMs;
        lastActivityMs = std::max({lastActivityMs, startMs, endMs});
    }
};

// One long-lived helper thread that runs one task at a time (the audit chain of a big batch,
// beside the inserts). Long-lived, not a thread per batch: glibc gives each new thread its own
// malloc arena, and the lines a short-lived thread allocated stayed behind in those arenas
// (bench_audit: +100 MB after a million records).
class HelperThread
{
public:
    ~HelperThread()
    {
        if (!m_thread.joinable())
            return;
        {
            std::lock_guard lock(m_mutex);
            m_quit = true;
        }
        m_cv.notify_all();
        m_thread.join();
    }

    void start(std::function<void()> task)
    {
        if (!m_thread.joinable()) {
            m_thread = std::thread([this] {
                pthread_setname_np(pthread_self(), "store-audit");
                loop();
            });
        }
        {
            std::lock_guard lock(m_mutex);
            m_task = std::move(task);
            m_busy = true;
        }
        m_cv.notify_all();
    }

    void wait()
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return !m_busy; });
    }

private:
    void loop()
    {
        std::unique_lock lock(m_mutex);
        for (;;) {
            m_cv.wait(lock, [this] { return m_quit || m_task; });
            if (m_quit)
                return;
            auto task = std::move(m_task);
            m_task = nullptr;
            lock.unlock();
            task();
            lock.lock();
            m_busy = false;
            m_cv.notify_all();
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::function<void()> m_task;
    bool m_busy = false;
    bool m_quit = false;
    std::thread m_thread;
};

Error readOnlyError(const QString &path)
{
    return makeError(Error::Kind::Invalid, QStringLiteral("the Store was opened read-only"), path);
}

// Creates a missing data folder readable by its owner only (the Store holds prompts, tool
// arguments and identities).
Result<void> ensureFolder(const QString &dir)
{
    if (QFileInfo(dir).isDir())
        return {};
    const QFileInfo info(dir);
    if (!QDir().mkpath(info.absolutePath())
        || !QDir().mkdir(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner)) {
        if (!QFileInfo(dir).isDir()) {
            return makeError(Error::Kind::Unavailable,
                             QStringLiteral("cannot create the folder: %1")
                                 .arg(QString::fromLocal8Bit(strerror(errno))),
                             dir);
        }
    }
    return {};
}

// A new database file is created 0600 before SQLite opens it; SQLite gives its -wal and -shm
// files the same mode.
void createPrivateFile(const QString &path)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                          0600);
    if (fd >= 0)
        ::close(fd);
}

} // namespace

class Store::Private
{
public:
    struct Task
    {
        WriteBatch batch;
        WriteCallback done;
        std::function<void(SqliteConnection &)> call; // set: a one-off job, not a batch
    };

    Private(QString path, StoreOptions options)
        : m_id(g_nextStoreId.fetch_add(1)), m_path(std::move(path)), m_options(options)
    {
    }
    ~Private();

    Result<void> openWriter();
    void startWriter();
    bool onWriterThread() const { return m_thread.get_id() == std::this_thread::get_id(); }
    void enqueue(Task task);
    void flush();
    void writerLoop();
    void runGroup(std::vector<Task> &group);
    Result<std::vector<WriteOutcome>> applyTransaction(const std::vector<const WriteBatch *> &batches);
    Result<void> applyBatch(const WriteBatch &batch, WriteOutcome &outcome,
                            std::vector<QByteArray> &touched);

    template<typename T>
    Result<T> runOnWriter(const std::function<Result<T>(SqliteConnection &)> &job);

    Result<SqliteConnection *> reader();
    static int walHook(void *context, sqlite3 *db, const char *, int walPages);
    void onWalCommit(sqlite3 *db, int walPages);
    void checkpointLoop();
    void stopCheckpointer();
    Result<std::vector<AuditRecord>> appendAudit(const std::vector<AuditEntry> &entries);
    static Result<qint64> retention(SqliteConnection &db, const RetentionPolicy &policy, qint64 nowMs);

    // The dedupe that the per-span table's UNIQUE index did until schema 5: the span keys
    // (EventBlock::dedupeKey) of the runs the writer touched lately, loaded from a run's blocks
    // the first time a transaction touches it. Another connection's commit (PRAGMA
    // data_version) or a failed transaction empties it. Writer thread only.
    Result<QSet<QByteArray> *> spanKeysOf(SqliteConnection &db, const QByteArray &runId);
    Result<void> beginSpanKeys(SqliteConnection &db);
    void forgetSpanKeys();
    // A transaction's new events, one block per run, written before it commits.
    Result<void> addToBlock(SqliteConnection &db, const RunEvent &event);
    Result<void> writeBlocks(SqliteConnection &db);

    // Deferred trace keys. A new run's "trace:<hex>" key lands on a random leaf of run_keys: one
    // page written (twice, WAL and checkpoint) per new run, a fifth of the bytes at 1M spans.
    // When the transaction also stores events of that trace in that run, the key is staged, and
    // once the transaction commits waits in m_deferredKeys (where runIdForKey and keysForRun see
    // it) until it goes to run_keys with the others in sorted bulk: after keysWaitMs, at
    // kDeferredKeysMax keys, before retention and when the Store closes. Each transaction that
    // stages keys appends them to run_keys_held, so that a Store that opens after this process
    // died writes them (recoverHeldKeys).
    void stageKey(const QByteArray &key, const QByteArray &runId);
    bool deferredKeysDue() const;
    Result<void> writeDeferredKeys(SqliteConnection &db);
    Result<void> flushDeferredKeys();
    void recoverHeldKeys(SqliteConnection &db);
    struct PendingBlock;
    Result<void> insertBlock(SqliteConnection &db, const PendingBlock &block);
    void clearSpanKeys();

    const quint64 m_id;
    const QString m_path;
    const StoreOptions m_options;
    int m_schemaVersion = 0;

    std::shared_ptr<SqliteConnection> m_writer; // used only on the writer thread once it runs
    std::shared_ptr<SqliteConnection> m_audit;  // synchronous=FULL; under m_auditMutex
    std::mutex m_auditMutex;
    HelperThread m_auditChainer; // under m_auditMutex

    std::mutex m_queueMutex;
    std::condition_variable m_queueCv;
    std::condition_variable m_doneCv;
    std::deque<Task> m_queue;
    quint64 m_submitted = 0;
    quint64 m_completed = 0;
    bool m_stopping = false;
    std::thread m_thread;

    std::mutex m_readersMutex;
    std::vector<std::weak_ptr<SqliteConnection>> m_readers;

    std::shared_ptr<SqliteConnection> m_checkpointer; // used only on m_checkpointThread
    std::thread m_checkpointThread;
    std::mutex m_checkpointMutex;
    std::condition_variable m_checkpointCv;
    bool m_checkpointWanted = false;
    bool m_checkpointStopping = false;
    std::vector<WriteBatch> m_spentBatches; // committed batches, freed on m_checkpointThread
    std::atomic<int> m_walBackfilled{0}; // WAL pages the last checkpoint had copied

    struct SpanKeys
    {
        QSet<QByteArray> keys;
        quint64 lastUse = 0;
    };
    QHash<QByteArray, SpanKeys> m_spanKeys; // writer thread only
    quint64 m_spanKeysClock = 0;
    qint64 m_spanKeyCount = 0;
    qint64 m_spanKeysNextBlock = -1; // max(event_blocks.id) + 1 after this writer's last commit
    qint64 m_lastBlockWritten = 0;   // by the open transaction

    struct PendingBlock
    {
        QByteArray runId;
        QByteArray body;
        int count = 0;
        qint64 oldestNs = 0;
        qint64 newestNs = 0;
    };
    std::vector<PendingBlock> m_pendingBlocks; // writer thread only
    QHash<QByteArray, size_t> m_pendingIndex;

    mutable std::mutex m_deferredMutex;
    QHash<QByteArray, QByteArray> m_deferredKeys; // key -> run id; changed on the writer thread only
    std::chrono::steady_clock::time_point m_deferredSince;
    std::chrono::steady_clock::time_point m_keysRetryAfter; // a bulk write failed: not before
    std::chrono::milliseconds keysWait() const { return std::chrono::milliseconds(m_options.keysWaitMs); }
    std::chrono::steady_clock::time_point nextKeysAttempt() const
    {
        return std::max(m_deferredSince + keysWait(), m_keysRetryAfter);
    }
    KeyPairs m_stagedKeys;                       // by the open transaction
    QSet<QByteArray> m_stagedSet;
    qint64 m_transactionFirstBlock = 0;
    const QByteArray m_host = QSysInfo::machineHostName().toUtf8();
    // Unique per Store instance, even across a restart with the same pid and host (a container):
    // this Store's bulk write deletes its rows of run_keys_held by this name.
    const QByteArray m_owner = QByteArray::number(qint64(::getpid())) + '@' + m_host + '#'
                               + QByteArray::number(QRandomGenerator::system()->generate64(), 16);
};

// sqlite3_wal_hook: runs on the committing thread after each commit (writer or audit).
int Store::Private::walHook(void *context, sqlite3 *db, const char *, int walPages)
{
    static_cast<Store::Private *>(context)->onWalCommit(db, walPages);
    return SQLITE_OK;
}

void Store::Private::onWalCommit(sqlite3 *db, int walPages)
{
    int backfilled = m_walBackfilled.load(std::memory_order_relaxed);
    if (walPages < backfilled) { // the WAL restarted since
        backfilled = 0;
        m_walBackfilled.store(0, std::memory_order_relaxed);
    }
    if (walPages >= kWalCapPages) {
        int log = 0;
        int copied = 0;
        // SQLITE_BUSY when the checkpoint thread is at it; the next commit tries again.
        if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK)
            m_walBackfilled.store(std::max(copied, 0), std::memory_order_relaxed);
        return;
    }
    if (walPages - backfilled >= kCheckpointEveryPages && m_checkpointThread.joinable()) {
        {
            std::lock_guard lock(m_checkpointMutex);
            m_checkpointWanted = true;
        }
        m_checkpointCv.notify_one();
    }
}

void Store::Private::checkpointLoop()
{
    std::unique_lock lock(m_checkpointMutex);
    for (;;) {
        m_checkpointCv.wait(lock, [&] {
            return m_checkpointStopping || m_checkpointWanted || !m_spentBatches.empty();
        });
        if (m_checkpointStopping)
            return;
        if (!m_spentBatches.empty()) {
            std::vector<WriteBatch> spent;
            spent.swap(m_spentBatches);
            lock.unlock();
            spent.clear();
            lock.lock();
            continue;
        }
        m_checkpointWanted = false;
        lock.unlock();
        int log = 0;
        int copied = 0;
        const int rc = sqlite3_wal_checkpoint_v2(m_checkpointer->handle(), nullptr,
                                                 SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        if (rc == SQLITE_OK)
            m_walBackfilled.store(std::max(copied, 0), std::memory_order_relaxed);
        else if ((rc & 0xff) != SQLITE_BUSY)
            qCWarning(lcStore) << "WAL checkpoint failed:" << sqlite3_errmsg(m_checkpointer->handle());
        lock.lock();
    }
}

void Store::Private::stopCheckpointer()
{
    if (!m_checkpointThread.joinable())
        return;
    {
        std::lock_guard lock(m_checkpointMutex);
        m_checkpointStopping = true;
    }
    m_checkpointCv.notify_all();
    m_checkpointThread.join();
}

Store::Private::~Private()
{
    // The writer drains its queue (every callback runs) before it exits. A callback must not
    // hold the last reference to the Store: it would be destroyed on its own writer thread.
    if (m_thread.joinable()) {
        {
            std::lock_guard lock(m_queueMutex);
            m_stopping = true;
        }
        m_queueCv.notify_all();
        m_thread.join();
    }
    stopCheckpointer();
    if (m_checkpointer)
        m_checkpointer->close();
    if (m_writer)
        m_writer->close();
    if (m_audit)
        m_audit->close();
    if (!t_readersGone)
        t_readers.byStore.erase(m_id);
    std::lock_guard lock(m_readersMutex);
    for (const auto &weak : m_readers) {
        if (const auto connection = weak.lock())
            connection->close();
    }
}

Result<void> Store::Private::openWriter()
{
    auto writer = SqliteConnection::open(m_path, SqliteConnection::Mode::ReadWrite,
                                         m_options.busyTimeoutMs);
    if (!writer)
        return writer.error();
    m_writer = *writer;
    const auto mode = m_writer->queryText("PRAGMA journal_mode = WAL");
    if (!mode)
        return mode.error();
    if (*mode != "wal") {
        qCWarning(lcStore) << "the database could not switch to WAL mode (journal mode"
                           << *mode << "); other processes will wait longer for it"
                           << m_path;
    }
    // Ingest commits with synchronous=NORMAL: in WAL mode every commit is in the WAL file
    // (the OS page cache) when COMMIT returns, so a killed process (kill -9, crash) loses
    // nothing it committed; only an OS crash or power loss can drop the last commits before
    // the next checkpoint. Telemetry can tolerate that; the audit trail cannot, so the audit
    // connection below syncs every commit (synchronous=FULL).
    //
    // The page cache holds the indexes every insert seeks into (event_blocks_run, runs,
    // run_keys): at 16 MB a 1M-event Store re-read index pages from the OS on every batch.
    if (auto r = m_writer->exec("PRAGMA synchronous = NORMAL;"
                                "PRAGMA cache_size = -65536;"
                                "PRAGMA journal_size_limit = 67108864");
        !r) {
        return r.error();
    }
    const auto version = StoreSchema::migrate(*m_writer);
    if (!version)
        return version.error();
    m_schemaVersion = *version;
    recoverHeldKeys(*m_writer);

    auto audit = SqliteConnection::open(m_path, SqliteConnection::Mode::ReadWrite,
                                        m_options.busyTimeoutMs);
    if (!audit)
        return audit.error();
    m_audit = *audit;
    if (auto r = m_audit->exec("PRAGMA synchronous = FULL"); !r)
        return r.error();

    // Checkpoints (kCheckpointEveryPages): the hook replaces SQLite's automatic checkpoint on
    // both connections that write, so that no commit pays for one.
    auto checkpointer = SqliteConnection::open(m_path, SqliteConnection::Mode::ReadWrite,
                                               m_options.busyTimeoutMs);
    if (!checkpointer)
        return checkpointer.error();
    m_checkpointer = *checkpointer;
    // A connection finds out that the file is in WAL mode on its first read; until then a
    // checkpoint through it does nothing.
    if (auto r = m_checkpointer->queryInt("SELECT count(*) FROM meta"); !r)
        return r.error();
    sqlite3_wal_hook(m_writer->handle(), walHook, this);
    sqlite3_wal_hook(m_audit->handle(), walHook, this);
    return {};
}

void Store::Private::startWriter()
{
    // Named, so that top -H, perf and the benches can tell them apart.
    m_checkpointThread = std::thread([this] {
        pthread_setname_np(pthread_self(), "store-ckpt");
        checkpointLoop();
    });
    m_thread = std::thread([this] {
        pthread_setname_np(pthread_self(), "store-writer");
        writerLoop();
    });
}

void Store::Private::enqueue(Task task)
{
    {
        std::lock_guard lock(m_queueMutex);
        m_queue.push_back(std::move(task));
        ++m_submitted;
    }
    m_queueCv.notify_one();
}

void Store::Private::flush()
{
    if (!m_thread.joinable() || onWriterThread())
        return; // nothing to wait for, or called from a callback: it cannot wait for itself
    std::unique_lock lock(m_queueMutex);
    const quint64 target = m_submitted;
    m_doneCv.wait(lock, [&] { return m_completed >= target; });
}

void Store::Private::writerLoop()
{
    std::unique_lock lock(m_queueMutex);
    for (;;) {
        const auto ready = [&] { return m_stopping || !m_queue.empty(); };
        if (m_deferredKeys.isEmpty())
            m_queueCv.wait(lock, ready);
        else
            m_queueCv.wait_until(lock, nextKeysAttempt(), ready);
        if (m_queue.empty()) {
            // Stopping with everything else done, or held-back keys waited long enough with no
            // batch to take them along.
            const bool stopping = m_stopping;
            lock.unlock();
            if (stopping || deferredKeysDue())
                (void)flushDeferredKeys(); // a failure is logged, and the keys are in run_keys_held
            if (stopping)
                return;
            lock.lock();
            continue;
        }
        std::vector<Task> group;
        if (m_queue.front().call) {
            group.push_back(std::move(m_queue.front()));
            m_queue.pop_front();
        } else {
            size_t events = 0;
            while (!m_queue.empty() && !m_queue.front().call
                   && group.size() < kMaxBatchesPerTransaction
                   && (group.empty()
                       || events + m_queue.front().batch.events.size() <= kMaxEventsPerTransaction)) {
                events += m_queue.front().batch.events.size();
                group.push_back(std::move(m_queue.front()));
                m_queue.pop_front();
            }
        }
        lock.unlock();
        if (group.front().call)
            group.front().call(*m_writer);
        else
            runGroup(group);
        const size_t done = group.size();
        // Freeing a batch (several QByteArrays per event) is a few percent of the writer's
        // time: the checkpoint thread, idle most of the time, does it instead.
        std::vector<WriteBatch> spent;
        spent.reserve(group.size());
        for (Task &task : group) {
            if (!task.call)
                spent.push_back(std::move(task.batch));
        }
        group.clear(); // release the callbacks before reporting completion
        if (!spent.empty()) {
            {
                std::lock_guard garbage(m_checkpointMutex);
                for (WriteBatch &batch : spent)
                    m_spentBatches.push_back(std::move(batch));
            }
            m_checkpointCv.notify_one();
        }
        lock.lock();
        m_completed += done;
        m_doneCv.notify_all();
    }
}

void Store::Private::runGroup(std::vector<Task> &group)
{
    std::vector<const WriteBatch *> batches;
    batches.reserve(group.size());
    for (const Task &task : group)
        batches.push_back(&task.batch);

    std::vector<Result<WriteOutcome>> results;
    results.reserve(group.size());
    auto together = applyTransaction(batches);
    if (together) {
        for (WriteOutcome &outcome : *together)
            results.emplace_back(std::move(outcome));
    } else if (group.size() > 1 && together.error().kind != Error::Kind::Unavailable) {
        // One bad batch (or one too big for the disk) must not fail the others: apply each on
        // its own. A lock timeout is not retried: each retry would wait as long again.
        for (const WriteBatch *batch : batches) {
            auto alone = applyTransaction({batch});
            if (alone)
                results.emplace_back(std::move(alone->front()));
            else
                results.emplace_back(alone.error());
        }
    } else {
        for (size_t i = 0; i < group.size(); ++i)
            results.emplace_back(together.error());
    }
    for (size_t i = 0; i < group.size(); ++i) {
        if (!results[i])
            qCWarning(lcStore) << "write failed:" << results[i].error().message;
        if (group[i].done)
            group[i].done(std::move(results[i]));
    }
}

Result<std::vector<WriteOutcome>>
Store::Private::applyTransaction(const std::vector<const WriteBatch *> &batches)
{
    SqliteConnection &db = *m_writer;
    if (auto r = db.exec("BEGIN IMMEDIATE"); !r)
        return r.error();
    // Whatever fails from here leaves the span keys and the blocks as they were before the
    // transaction: rolled back, so forgotten.
    auto fail = [&](const Error &e) -> Result<std::vector<WriteOutcome>> {
        db.rollbackIfOpen();
        forgetSpanKeys();
        return e;
    };
    if (auto r = beginSpanKeys(db); !r)
        return fail(r.error());
    std::vector<WriteOutcome> outcomes(batches.size());
    std::vector<std::vector<QByteArray>> touched(batches.size());
    for (size_t i = 0; i < batches.size(); ++i) {
        if (auto r = applyBatch(*batches[i], outcomes[i], touched[i]); !r)
            return fail(r.error());
    }
    if (auto r = writeBlocks(db); !r)
        return fail(r.error());

    // Deferred trace keys. When due, the bulk write goes with this transaction, inside a
    // savepoint, so that a failing one does not fail the batches (it is tried again after
    // keysWaitMs). Otherwise the keys this transaction staged are kept in run_keys_held until a
    // bulk write has them.
    bool keysWritten = false;
    if (deferredKeysDue()) {
        if (auto r = db.exec("SAVEPOINT run_keys"); !r)
            return fail(r.error());
        if (auto r = writeDeferredKeys(db); r) {
            keysWritten = true;
        } else {
            m_keysRetryAfter = std::chrono::steady_clock::now() + keysWait();
            qCWarning(lcStore) << "writing" << m_deferredKeys.size() + qsizetype(m_stagedKeys.size())
                               << "run keys failed, trying again later:" << r.error().message << m_path;
            // SQLite rolls the whole transaction back on some errors (a full disk, an I/O
            // error): then the batches fail too, with that error.
            if (!db.inTransaction())
                return fail(r.error());
            if (auto undo = db.exec("ROLLBACK TO run_keys"); !undo)
                return fail(undo.error());
        }
        if (auto r = db.exec("RELEASE run_keys"); !r)
            return fail(r.error());
    }
    if (!keysWritten && !m_stagedKeys.empty()) {
        auto stmt = db.statement(kInsertHeld);
        if (!stmt)
            return fail(stmt.error());
        const QByteArray pairs = encodePairs(m_stagedKeys);
        SqliteQuery q(*stmt);
        q.bind(1, m_owner);
        q.bind(2, qint64(::getpid()));
        q.bind(3, m_host);
        q.bind(4, QDateTime::currentMSecsSinceEpoch());
        q.bindBlobStatic(5, pairs);
        if (const int rc = q.step(); rc != SQLITE_DONE)
            return fail(db.error(rc, QStringLiteral("recording the run keys still to write")));
    }

    // Every touched run as it will be committed: read back inside the transaction, after all
    // of the transaction's batches.
    QHash<QByteArray, Run> committed;
    auto select = db.statement(kSelectRun);
    if (!select)
        return fail(select.error());
    for (size_t i = 0; i < batches.size(); ++i) {
        for (const QByteArray &id : touched[i]) {
            auto it = committed.constFind(id);
            if (it == committed.constEnd()) {
                SqliteQuery q(*select);
                q.bind(1, id);
                const int rc = q.step();
                if (rc == SQLITE_ROW) {
                    it = committed.insert(id, readRun(q));
                } else if (rc != SQLITE_DONE) {
                    return fail(db.error(rc, QStringLiteral("reading run %1").arg(QString::fromUtf8(id))));
                } else {
                    continue;
                }
            }
            outcomes[i].runs.push_back(*it);
        }
    }

    // The staged keys join the waiting ones just before COMMIT, so that a reader finds them in
    // the map until the table has them (RunMonitor, the only reader of these keys, submitted
    // them itself and knows them already).
    const bool merge = !keysWritten && !m_stagedKeys.empty();
    if (merge) {
        std::lock_guard lock(m_deferredMutex);
        if (m_deferredKeys.isEmpty())
            m_deferredSince = std::chrono::steady_clock::now();
        for (const auto &[key, runId] : m_stagedKeys)
            m_deferredKeys.insert(key, runId);
    }
    if (auto r = db.exec("COMMIT"); !r) {
        if (merge) {
            std::lock_guard lock(m_deferredMutex);
            for (const auto &pair : m_stagedKeys)
                m_deferredKeys.remove(pair.first); // staged keys were never in the map before
        }
        return fail(r.error());
    }
    // The blocks after this commit are this writer's own, as far as its span keys go.
    m_spanKeysNextBlock = m_lastBlockWritten > 0 ? m_lastBlockWritten + 1 : m_transactionFirstBlock;
    if (keysWritten) {
        std::lock_guard lock(m_deferredMutex);
        m_deferredKeys.clear();
    }
    m_stagedKeys.clear();
    m_stagedSet.clear();
    return outcomes;
}

void Store::Private::stageKey(const QByteArray &key, const QByteArray &runId)
{
    // The writer thread is the only one that changes m_deferredKeys: read without the lock.
    if (m_deferredKeys.contains(key) || m_stagedSet.contains(key))
        return;
    m_stagedSet.insert(key);
    m_stagedKeys.emplace_back(key, runId);
}

bool Store::Private::deferredKeysDue() const
{
    // Read on the writer thread, the only one that changes it: no lock needed.
    const auto now = std::chrono::steady_clock::now();
    if (now < m_keysRetryAfter)
        return false;
    return size_t(m_deferredKeys.size()) + m_stagedKeys.size() >= kDeferredKeysMax
           || (!m_deferredKeys.isEmpty() && now - m_deferredSince >= keysWait());
}

// Every waiting and staged key, in key order (neighbouring keys share leaves, so each leaf is
// written once per bulk write), and this Store's rows of run_keys_held go.
Result<void> Store::Private::writeDeferredKeys(SqliteConnection &db)
{
    KeyPairs sorted(m_stagedKeys.begin(), m_stagedKeys.end());
    sorted.reserve(sorted.size() + size_t(m_deferredKeys.size()));
    for (auto it = m_deferredKeys.cbegin(); it != m_deferredKeys.cend(); ++it)
        sorted.emplace_back(it.key(), it.value());
    std::sort(sorted.begin(), sorted.end());
    auto insert = db.statement(kInsertKey);
    if (!insert)
        return insert.error();
    for (const auto &[key, runId] : sorted) {
        SqliteQuery q(*insert);
        q.bindStatic(1, key);
        q.bindStatic(2, runId);
        if (const int rc = q.step(); rc != SQLITE_DONE)
            return db.error(rc, QStringLiteral("writing a run key"));
    }
    auto held = db.statement(kDeleteHeld);
    if (!held)
        return held.error();
    SqliteQuery q(*held);
    q.bind(1, m_owner);
    if (const int rc = q.step(); rc != SQLITE_DONE)
        return db.error(rc, QStringLiteral("recording the run keys written"));
    return {};
}

// Writer thread: the waiting keys on their own, when no batch came to take them along (the wait
// ran out, the Store closes, retention runs). A failure leaves them waiting (and in
// run_keys_held), to be tried again after keysWaitMs.
Result<void> Store::Private::flushDeferredKeys()
{
    if (m_deferredKeys.isEmpty() || !m_writer)
        return {};
    SqliteConnection &db = *m_writer;
    Result<void> r = db.exec("BEGIN IMMEDIATE");
    if (r)
        r = writeDeferredKeys(db);
    if (r)
        r = db.exec("COMMIT");
    std::lock_guard lock(m_deferredMutex);
    if (!r) {
        db.rollbackIfOpen();
        qCWarning(lcStore) << "writing" << m_deferredKeys.size() << "run keys failed, trying again later:"
                           << r.error().message << m_path;
        m_keysRetryAfter = std::chrono::steady_clock::now() + keysWait();
        return r;
    }
    m_deferredKeys.clear();
    return {};
}

// At open, before this process writes: the keys held back by a writer that has died (or whose
// rows are over ten minutes old: another host, a pid in use again, a bulk write failing for that
// long) are in its rows of run_keys_held. Written as they were made; a key the table already
// has keeps its run, as the bulk write would have kept it. A failure is logged and the Store
// opens all the same: those keys are only how a late span finds its run.
void Store::Private::recoverHeldKeys(SqliteConnection &db)
{
    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
    auto gone = [&](const SqliteQuery &q) {
        StopClaim holder;
        holder.pid = q.int64(1);
        holder.host = q.text(2);
        // This Store has written nothing yet: another Store of this process may have, and its
        // keys are written now, early, which is harmless.
        const bool thisProcess = holder.pid == qint64(::getpid()) && holder.host == m_host;
        return thisProcess || !Store::holderAlive(holder) || nowMs - q.int64(3) > kHeldKeysStaleMs;
    };
    auto findOwners = [&]() -> Result<std::vector<QByteArray>> {
        auto stmt = db.statement(kSelectHolders);
        if (!stmt)
            return stmt.error();
        SqliteQuery q(*stmt);
        std::vector<QByteArray> owners;
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) {
            if (gone(q))
                owners.push_back(q.text(0));
        }
        if (rc != SQLITE_DONE)
            return db.error(rc, QStringLiteral("reading the run keys still to write"));
        return owners;
    };
    auto recover = [&]() -> Result<qint64> {
        // Without the write lock first: opening a Store must not wait for it when there is
        // nothing to do (StoreSchema::migrate keeps the same rule).
        auto owners = findOwners();
        if (!owners || owners->empty())
            return owners ? Result<qint64>(qint64(0)) : Result<qint64>(owners.error());
        if (auto r = db.exec("BEGIN IMMEDIATE"); !r)
            return r.error();
        owners = findOwners(); // again, under the lock: another Store may have been first
        if (!owners)
            return owners.error();
        if (owners->empty()) {
            db.rollbackIfOpen();
            return qint64(0);
        }
        auto select = db.statement(kSelectHeld);
        auto insert = db.statement(kInsertKey);
        auto remove = db.statement(kDeleteHeld);
        if (!select || !insert || !remove)
            return !select ? select.error() : !insert ? insert.error() : remove.error();
        qint64 written = 0;
        for (const QByteArray &owner : *owners) {
            SqliteQuery rows(*select);
            rows.bind(1, owner);
            int rc;
            while ((rc = rows.step()) == SQLITE_ROW) {
                const auto pairs = decodePairs(rows.text(0));
                if (!pairs) {
                    qCWarning(lcStore) << "held-back run keys of" << owner << "are damaged; skipped" << m_path;
                    continue;
                }
                for (const auto &[key, runId] : *pairs) {
                    SqliteQuery q(*insert);
                    q.bind(1, key);
                    q.bind(2, runId);
                    if (const int krc = q.step(); krc != SQLITE_DONE)
                        return db.error(krc, QStringLiteral("writing a run key"));
                    written += sqlite3_changes(db.handle());
                }
            }
            if (rc != SQLITE_DONE)
                return db.error(rc, QStringLiteral("reading the run keys still to write"));
            SqliteQuery q(*remove);
            q.bind(1, owner);
            if (const int drc = q.step(); drc != SQLITE_DONE)
                return db.error(drc, QStringLiteral("recording the run keys written"));
        }
        if (auto r = db.exec("COMMIT"); !r)
            return r.error();
        qCInfo(lcStore).nospace() << "wrote " << written << " run keys held back by " << owners->size()
                                  << " writer(s) that ended before writing them: " << m_path;
        return written;
    };
    if (const auto r = recover(); !r) {
        db.rollbackIfOpen();
        qCWarning(lcStore) << "could not write the run keys that ended writers held back:" << r.error().message
                           << m_path;
    }
}

Result<void> Store::Private::beginSpanKeys(SqliteConnection &db)
{
    // Inside the transaction (the write lock is held): no other connection can write until it
    // ends, so keys checked now stay true until then. Another process that stored events since
    // this writer's last commit added blocks after it: the keys this writer holds may miss them.
    // (PRAGMA data_version would also change for every audit append, and empty them each time.)
    // Another process's retention adds none: a span it deleted that comes again can be refused
    // until this writer lets its run go.
    const auto next = db.queryInt(kNextBlockId);
    if (!next)
        return next.error();
    if (*next != m_spanKeysNextBlock)
        clearSpanKeys();
    // Where this transaction's blocks start, should it be the first to hold keys back.
    m_transactionFirstBlock = *next;
    m_lastBlockWritten = 0;
    // Keep the runs used most recently: when there are too many runs or keys, the older half
    // of the runs goes (again, until the keys fit).
    constexpr qsizetype kMaxRuns = 4096;
    constexpr qint64 kMaxKeys = 500000; // ~50 MB
    while (m_spanKeys.size() > kMaxRuns || (m_spanKeyCount > kMaxKeys && !m_spanKeys.isEmpty())) {
        std::vector<quint64> uses;
        uses.reserve(size_t(m_spanKeys.size()));
        for (const SpanKeys &entry : std::as_const(m_spanKeys))
            uses.push_back(entry.lastUse);
        auto middle = uses.begin() + uses.size() / 2;
        std::nth_element(uses.begin(), middle, uses.end());
        const quint64 cutoff = *middle; // uses are distinct: half of the runs are older
        const qsizetype before = m_spanKeys.size();
        m_spanKeys.removeIf([&](const auto &entry) {
            if (entry.value().lastUse >= cutoff)
                return false;
            m_spanKeyCount -= entry.value().keys.size();
            return true;
        });
        if (m_spanKeys.size() == before) { // one run with too many keys
            m_spanKeys.clear();
            m_spanKeyCount = 0;
        }
    }
    return {};
}

void Store::Private::clearSpanKeys()
{
    m_spanKeys.clear();
    m_spanKeyCount = 0;
    m_spanKeysNextBlock = -1;
}

void Store::Private::forgetSpanKeys()
{
    clearSpanKeys();
    m_pendingBlocks.clear();
    m_pendingIndex.clear();
    // Keys staged by a transaction that was rolled back were never the Store's.
    m_stagedKeys.clear();
    m_stagedSet.clear();
}

Result<QSet<QByteArray> *> Store::Private::spanKeysOf(SqliteConnection &db, const QByteArray &runId)
{
    auto it = m_spanKeys.find(runId);
    if (it == m_spanKeys.end()) {
        SpanKeys loaded;
        auto stmt = db.statement(kSelectRunBlocks);
        if (!stmt)
            return stmt.error();
        SqliteQuery q(*stmt);
        q.bind(1, runId);
        q.bind(2, std::numeric_limits<qint64>::min());
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) {
            auto keys = EventBlock::dedupeKeys(q.text(1), runId, q.int64(0));
            if (!keys) {
                // Its events cannot be read back either (every read reports it); a span in it
                // that is sent again is stored again rather than refused.
                qCWarning(lcStore) << keys.error().message << m_path;
                continue;
            }
            for (QByteArray &key : *keys)
                loaded.keys.insert(std::move(key));
        }
        if (rc != SQLITE_DONE)
            return db.error(rc, QStringLiteral("reading the events of run %1").arg(QString::fromUtf8(runId)));
        m_spanKeyCount += loaded.keys.size();
        it = m_spanKeys.insert(runId, std::move(loaded));
    }
    it->lastUse = ++m_spanKeysClock;
    return &it->keys;
}

Result<void> Store::Private::addToBlock(SqliteConnection &db, const RunEvent &event)
{
    auto it = m_pendingIndex.constFind(event.runId);
    if (it == m_pendingIndex.constEnd()) {
        it = m_pendingIndex.insert(event.runId, m_pendingBlocks.size());
        m_pendingBlocks.push_back(PendingBlock{event.runId, {}, 0, 0, 0});
    }
    PendingBlock &block = m_pendingBlocks[*it];
    if (block.count == EventBlock::kMaxEvents) {
        // Full: written now, and the run's next events start a new block.
        const PendingBlock full = std::exchange(block, PendingBlock{event.runId, {}, 0, 0, 0});
        if (auto r = insertBlock(db, full); !r)
            return r;
    }
    const qint64 age = EventBlock::ageNs(event);
    block.oldestNs = block.count == 0 ? age : std::min(block.oldestNs, age);
    block.newestNs = block.count == 0 ? age : std::max(block.newestNs, age);
    EventBlock::append(block.body, event, block.count++);
    return {};
}

Result<void> Store::Private::insertBlock(SqliteConnection &db, const PendingBlock &block)
{
    auto stmt = db.statement(kInsertBlock);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bindStatic(1, block.runId);
    q.bind(2, qint64(block.count));
    q.bind(3, block.oldestNs);
    q.bind(4, block.newestNs);
    q.bindBlobStatic(5, block.body);
    if (const int rc = q.step(); rc != SQLITE_DONE)
        return db.error(rc, QStringLiteral("writing the events of run %1").arg(QString::fromUtf8(block.runId)));
    m_lastBlockWritten = sqlite3_last_insert_rowid(db.handle());
    return {};
}

Result<void> Store::Private::writeBlocks(SqliteConnection &db)
{
    for (const PendingBlock &block : m_pendingBlocks) {
        if (block.count == 0)
            continue;
        if (auto r = insertBlock(db, block); !r)
            return r;
    }
    m_pendingBlocks.clear();
    m_pendingIndex.clear();
    return {};
}

Result<void> Store::Private::applyBatch(const WriteBatch &batch, WriteOutcome &outcome,
                                        std::vector<QByteArray> &touched)
{
    SqliteConnection &db = *m_writer;
    QSet<QByteArray> seen;
    auto touch = [&](const QByteArray &id) {
        if (!seen.contains(id)) {
            seen.insert(id);
            touched.push_back(id);
        }
    };
    for (const Run &run : batch.runs) {
        if (run.id.isEmpty())
            return makeError(Error::Kind::Invalid, QStringLiteral("a run without an id"), m_path);
        touch(run.id);
    }

    // Events first: which of them are new decides what they add to their runs, and which trace
    // keys their blocks hold.
    std::vector<std::pair<QByteArray, RunDelta>> deltas;
    QHash<QByteArray, size_t> deltaIndex;
    QSet<QByteArray> tracesInBlocks; // deferredKey(traceId, runId) of every new event
    const RunEvent *previous = nullptr;
    for (const RunEvent &e : batch.events) {
        if (e.runId.isEmpty())
            return makeError(Error::Kind::Invalid, QStringLiteral("an event without a run id"), m_path);
        touch(e.runId);
        if (const QByteArray key = EventBlock::dedupeKey(e); !key.isEmpty()) {
            auto keys = spanKeysOf(db, e.runId);
            if (!keys)
                return keys.error();
            if ((*keys)->contains(key)) {
                ++outcome.eventsDuplicate;
                continue;
            }
            (*keys)->insert(key);
            ++m_spanKeyCount;
        }
        if (auto r = addToBlock(db, e); !r)
            return r;
        if (!e.traceId.isEmpty()
            && (!previous || previous->traceId != e.traceId || previous->runId != e.runId)) {
            tracesInBlocks.insert(deferredKey(e.traceId, e.runId));
        }
        previous = &e;
        ++outcome.eventsInserted;
        auto it = deltaIndex.constFind(e.runId);
        if (it == deltaIndex.constEnd()) {
            it = deltaIndex.insert(e.runId, deltas.size());
            deltas.emplace_back(e.runId, RunDelta{});
        }
        deltas[*it].second.add(e);
    }

    // Run keys. A trace key whose events this transaction stores can wait for the next bulk
    // write (writeDeferredKeys); every other key is written now.
    if (!batch.keys.empty()) {
        auto stmt = db.statement(kInsertKey);
        if (!stmt)
            return stmt.error();
        for (const RunKey &key : batch.keys) {
            if (key.key.isEmpty() || key.runId.isEmpty())
                continue;
            if (key.key.startsWith(kTraceKeyPrefix)
                && tracesInBlocks.contains(deferredKey(key.key.sliced(kTraceKeyPrefix.size()), key.runId))) {
                stageKey(key.key, key.runId);
                continue;
            }
            if (m_stagedSet.contains(key.key) || m_deferredKeys.contains(key.key))
                continue; // waiting for the run it came with first, which keeps it, as in the table

            SqliteQuery q(*stmt);
            q.bind(1, key.key);
            q.bind(2, key.runId);
            if (const int rc = q.step(); rc != SQLITE_DONE)
                return db.error(rc, QStringLiteral("writing a run key"));
        }
    }

    std::vector<bool> applied(deltas.size(), false);

    // Described runs: one upsert each, which also adds what the new events bring (one statement
    // per run instead of an upsert and an update).
    if (!batch.runs.empty()) {
        auto stmt = db.statement(kUpsertRun);
        if (!stmt)
            return stmt.error();
        for (const Run &run : batch.runs) {
            RunDelta delta;
            if (const auto it = deltaIndex.constFind(run.id); it != deltaIndex.constEnd() && !applied[*it]) {
                delta = deltas[*it].second;
                applied[*it] = true;
            }
            SqliteQuery q(*stmt);
            q.bind(1, run.id);
            q.bind(2, run.agent);
            q.bind(3, qint64(run.agentBound));
            q.bind(4, run.principal);
            q.bind(5, run.delegationJson);
            q.bind(6, run.provider);
            q.bind(7, run.goal);
            q.bind(8, toWireName(run.status));
            q.bind(9, run.startedMs);
            q.bind(10, run.updatedMs);
            q.bind(11, run.endedMs);
            q.bind(12, run.currency);
            q.bind(13, run.externalIdsJson);
            q.bind(14, delta.inputTokens);
            q.bind(15, delta.outputTokens);
            q.bind(16, delta.costMicros);
            q.bind(17, delta.toolCalls);
            q.bind(18, delta.policyBlocks);
            q.bind(19, delta.dataSources);
            q.bind(20, delta.errors);
            q.bind(21, delta.approvalsNet);
            q.bind(22, -delta.approvalsLowest);
            q.bind(23, delta.firstStartMs);
            q.bind(24, delta.lastActivityMs);
            if (const int rc = q.step(); rc != SQLITE_DONE)
                return db.error(rc, QStringLiteral("writing run %1").arg(QString::fromUtf8(run.id)));
        }
    }

    // Events of runs the batch does not describe.
    if (std::find(applied.begin(), applied.end(), false) != applied.end()) {
        auto add = db.statement(kAddToRun);
        if (!add)
            return add.error();
        auto minimal = db.statement(kInsertMinimalRun);
        if (!minimal)
            return minimal.error();
        for (size_t i = 0; i < deltas.size(); ++i) {
            if (applied[i])
                continue;
            const auto &[runId, delta] = deltas[i];
            for (int attempt = 0; attempt < 2; ++attempt) {
                {
                    SqliteQuery q(*add);
                    q.bind(1, runId);
                    q.bind(2, delta.inputTokens);
                    q.bind(3, delta.outputTokens);
                    q.bind(4, delta.costMicros);
                    q.bind(5, delta.toolCalls);
                    q.bind(6, delta.policyBlocks);
                    q.bind(7, delta.dataSources);
                    q.bind(8, delta.errors);
                    q.bind(9, delta.approvalsNet);
                    q.bind(10, -delta.approvalsLowest);
                    q.bind(11, delta.firstStartMs);
                    q.bind(12, delta.lastActivityMs);
                    if (const int rc = q.step(); rc != SQLITE_DONE)
                        return db.error(rc, QStringLiteral("updating run %1").arg(QString::fromUtf8(runId)));
                }
                if (sqlite3_changes(db.handle()) > 0)
                    break;
                // An event for a run nobody described yet: a minimal row (agent empty, status
                // unknown) that a later batch fills in.
                SqliteQuery q(*minimal);
                q.bind(1, runId);
                if (const int rc = q.step(); rc != SQLITE_DONE)
                    return db.error(rc, QStringLiteral("creating run %1").arg(QString::fromUtf8(runId)));
            }
        }
    }
    return {};
}

template<typename T>
Result<T> Store::Private::runOnWriter(const std::function<Result<T>(SqliteConnection &)> &job)
{
    if (!m_writer)
        return readOnlyError(m_path);
    if (onWriterThread())
        return job(*m_writer);
    std::promise<Result<T>> promise;
    auto future = promise.get_future();
    Task task;
    task.call = [&](SqliteConnection &db) { promise.set_value(job(db)); };
    enqueue(std::move(task));
    return future.get();
}

Result<SqliteConnection *> Store::Private::reader()
{
    if (t_readersGone) {
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("read from a thread that is shutting down"), m_path);
    }
    auto &mine = t_readers.byStore;
    if (const auto it = mine.find(m_id); it != mine.end() && it->second->isOpen())
        return it->second.get();
    std::erase_if(mine, [](const auto &entry) { return !entry.second->isOpen(); });

    auto opened = SqliteConnection::open(m_path,
                                         m_options.readOnly ? SqliteConnection::Mode::ReadOnly
                                                            : SqliteConnection::Mode::ReadWrite,
                                         m_options.busyTimeoutMs);
    if (!opened)
        return opened.error();
    std::shared_ptr<SqliteConnection> connection = *opened;
    if (!m_options.readOnly) {
        if (auto r = connection->exec("PRAGMA query_only = 1"); !r)
            return r.error();
    }
    {
        std::lock_guard lock(m_readersMutex);
        std::erase_if(m_readers, [](const auto &weak) { return weak.expired(); });
        m_readers.push_back(connection);
    }
    mine[m_id] = connection;
    return connection.get();
}

Result<std::vector<AuditRecord>> Store::Private::appendAudit(const std::vector<AuditEntry> &entries)
{
    if (!m_audit)
        return readOnlyError(m_path);
    std::vector<AuditRecord> records;
    if (entries.empty())
        return records;
    records.reserve(entries.size());

    std::lock_guard lock(m_auditMutex);
    SqliteConnection &db = *m_audit;
    // BEGIN IMMEDIATE takes the write lock before the head is read: two processes can never
    // both read the same head, so the chain stays one.
    if (auto r = db.exec("BEGIN IMMEDIATE"); !r)
        return r.error();
    auto fail = [&db](const Error &e) -> Result<std::vector<AuditRecord>> {
        db.rollbackIfOpen();
        return e;
    };

    qint64 seq = 0;
    qint64 lastTs = 0;
    QByteArray prev = zeroHash();
    {
        auto head = db.statement(kAuditHead);
        if (!head)
            return fail(head.error());
        SqliteQuery q(*head);
        const int rc = q.step();
        if (rc == SQLITE_ROW) {
            seq = q.int64(0);
            lastTs = q.int64(1);
            prev = sha256Hex(q.text(2)); // the chain is defined over the exact bytes
        } else if (rc != SQLITE_DONE) {
            return fail(db.error(rc, QStringLiteral("reading the audit chain head")));
        }
    }

    auto insert = db.statement(kAuditInsert);
    if (!insert)
        return fail(insert.error());
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 ts = std::max(now, lastTs); // never before the head, even if the clock stepped back
    const QByteArray tsText = formatAuditTime(ts);
    records.resize(entries.size());
    auto chain = [&records, &entries, &tsText, ts, seq](QByteArray prevHex, size_t i) {
        AuditRecord &record = records[i];
        record.seq = seq + qint64(i) + 1;
        record.tsMs = ts;
        record.line = formatAuditLine(record.seq, tsText, entries[i], prevHex);
        record.hashHex = sha256Hex(record.line);
        return record.hashHex;
    };
    // A big batch is chained on a second thread while this one inserts what is ready: each
    // record's line holds the hash of the one before, so the chain itself is sequential, but it
    // costs a fraction of an insert and can run beside SQLite (bench_audit: docs/BENCHMARKS.md
    // section 6). A small batch, the usual operator action, is chained here.
    constexpr size_t kPipelineFrom = 256;
    std::atomic<size_t> ready{0};
    std::atomic<bool> abandon{false};
    const bool pipelined = entries.size() >= kPipelineFrom;
    if (pipelined) {
        m_auditChainer.start([&chain, &ready, &abandon, prev, n = entries.size()] {
            QByteArray prevHex = prev;
            for (size_t i = 0; i < n && !abandon.load(std::memory_order_relaxed); ++i) {
                prevHex = chain(prevHex, i);
                ready.store(i + 1, std::memory_order_release);
            }
        });
    }
    auto stopChainer = [&] {
        if (pipelined) {
            abandon.store(true, std::memory_order_relaxed);
            m_auditChainer.wait();
        }
    };
    for (size_t i = 0; i < entries.size(); ++i) {
        if (pipelined) {
            while (ready.load(std::memory_order_acquire) <= i)
                std::this_thread::yield();
        } else {
            prev = chain(prev, i);
        }
        const AuditRecord &record = records[i];
        SqliteQuery q(*insert);
        q.bind(1, record.seq);
        q.bind(2, record.tsMs);
        q.bindBlobStatic(3, record.line); // both outlive the step
        q.bindStatic(4, record.hashHex);
        if (const int rc = q.step(); rc != SQLITE_DONE) {
            stopChainer();
            return fail(db.error(rc, QStringLiteral("appending audit record %1").arg(record.seq)));
        }
    }
    if (pipelined)
        m_auditChainer.wait();
    if (auto r = db.exec("COMMIT"); !r)
        return fail(r.error());
    return records;
}

Result<qint64> Store::Private::retention(SqliteConnection &db, const RetentionPolicy &policy,
                                         qint64 nowMs)
{
    if (policy.maxAgeDays <= 0 && policy.maxEvents <= 0)
        return qint64(0);
    if (auto r = db.exec("BEGIN IMMEDIATE"); !r)
        return r.error();
    auto run = [&db](const char *sql, qint64 parameter) -> Result<qint64> {
        auto stmt = db.statement(sql);
        if (!stmt)
            return stmt.error();
        SqliteQuery q(*stmt);
        q.bind(1, parameter);
        if (const int rc = q.step(); rc != SQLITE_DONE)
            return db.error(rc, QStringLiteral("applying retention"));
        return qint64(sqlite3_changes(db.handle()));
    };
    auto fail = [&db](const Error &e) -> Result<qint64> {
        db.rollbackIfOpen();
        return e;
    };

    // Keeps the events of a block that `keep` says yes to (with their ordinals, so their ids),
    // or deletes the block when none is left; returns how many went.
    // A damaged block cannot be read, so cannot be cut: `whenDamaged` says whether it goes
    // whole (retention by size: it is the oldest) or stays (by age: it may hold newer events);
    // either way retention goes on and says so in the log.
    enum class Damaged { Keep, Delete };
    auto rewrite = [&db](qint64 blockId, const QByteArray &runId, const QByteArray &body,
                         const std::function<bool(const RunEvent &, int index)> &keep, Damaged whenDamaged,
                         qint64 claimed = 0) -> Result<qint64> {
        auto events = EventBlock::decode(body, runId, blockId);
        if (!events) {
            qCWarning(lcStore).noquote() << events.error().message
                                         << (whenDamaged == Damaged::Delete ? "(deleted by retention)"
                                                                            : "(kept by retention)")
                                         << db.path();
            if (whenDamaged == Damaged::Keep)
                return qint64(0);
            auto stmt = db.statement(kDeleteBlock);
            if (!stmt)
                return stmt.error();
            SqliteQuery q(*stmt);
            q.bind(1, blockId);
            if (const int rc = q.step(); rc != SQLITE_DONE)
                return db.error(rc, QStringLiteral("applying retention"));
            return claimed; // what its events column said it held
        }
        QByteArray kept;
        qint64 count = 0, oldest = 0, newest = 0;
        for (int i = 0; i < int(events->size()); ++i) {
            const RunEvent &e = (*events)[size_t(i)];
            if (!keep(e, i))
                continue;
            const qint64 age = EventBlock::ageNs(e);
            oldest = count == 0 ? age : std::min(oldest, age);
            newest = count == 0 ? age : std::max(newest, age);
            ++count;
            EventBlock::append(kept, e, int(e.id - EventBlock::eventId(blockId, 0)));
        }
        auto stmt = db.statement(count == 0 ? kDeleteBlock : kRewriteBlock);
        if (!stmt)
            return stmt.error();
        SqliteQuery q(*stmt);
        q.bind(1, blockId);
        if (count > 0) {
            q.bind(2, count);
            q.bind(3, oldest);
            q.bind(4, newest);
            q.bindBlobStatic(5, kept);
        }
        if (const int rc = q.step(); rc != SQLITE_DONE)
            return db.error(rc, QStringLiteral("applying retention"));
        return qint64(events->size()) - count;
    };

    qint64 deleted = 0;
    if (policy.maxAgeDays > 0) {
        const qint64 cutoffMs = nowMs - policy.maxAgeDays * 24 * 3600 * 1000;
        const qint64 cutoffNs = cutoffMs * 1000000;
        {
            auto stmt = db.statement(kDeleteOldBlocks);
            if (!stmt)
                return fail(stmt.error());
            SqliteQuery q(*stmt);
            q.bind(1, cutoffNs);
            int rc;
            while ((rc = q.step()) == SQLITE_ROW)
                deleted += q.int64(0);
            if (rc != SQLITE_DONE)
                return fail(db.error(rc, QStringLiteral("applying retention")));
        }
        struct Straddling
        {
            qint64 id;
            QByteArray runId, body;
        };
        std::vector<Straddling> straddling;
        {
            auto stmt = db.statement(kSelectStraddlingBlocks);
            if (!stmt)
                return fail(stmt.error());
            SqliteQuery q(*stmt);
            q.bind(1, cutoffNs);
            int rc;
            while ((rc = q.step()) == SQLITE_ROW)
                straddling.push_back({q.int64(0), q.text(1), q.text(2)});
            if (rc != SQLITE_DONE)
                return fail(db.error(rc, QStringLiteral("applying retention")));
        }
        for (const Straddling &block : straddling) {
            const auto gone = rewrite(
                block.id, block.runId, block.body,
                [cutoffNs](const RunEvent &e, int) { return EventBlock::ageNs(e) >= cutoffNs; }, Damaged::Keep);
            if (!gone)
                return fail(gone.error());
            deleted += *gone;
        }
        if (const auto keys = run(kDeleteOldRunKeys, cutoffMs); !keys)
            return fail(keys.error());
        const auto runs = run(kDeleteOldRuns, cutoffMs);
        if (!runs)
            return fail(runs.error());
        deleted += *runs;
    }
    if (policy.maxEvents > 0) {
        const auto count = db.queryInt(kCountEvents);
        if (!count)
            return fail(count.error());
        if (*count > policy.maxEvents) {
            // The oldest `excess` events by arrival: whole blocks up to lastWhole, then the first
            // `fromBoundary` events of the next block.
            const qint64 excess = *count - policy.maxEvents;
            qint64 lastWhole = 0, boundary = 0, fromBoundary = 0, covered = 0;
            {
                auto stmt = db.statement(kSelectBlockSizes);
                if (!stmt)
                    return fail(stmt.error());
                SqliteQuery q(*stmt);
                int rc = SQLITE_DONE;
                while (covered < excess && (rc = q.step()) == SQLITE_ROW) {
                    const qint64 id = q.int64(0), n = q.int64(1);
                    if (covered + n <= excess) {
                        lastWhole = id;
                        covered += n;
                    } else {
                        boundary = id;
                        fromBoundary = excess - covered;
                        covered = excess;
                    }
                }
                if (covered < excess && rc != SQLITE_DONE)
                    return fail(db.error(rc, QStringLiteral("applying retention")));
            }
            if (lastWhole > 0) {
                const auto whole = run(kDeleteBlocksUpTo, lastWhole);
                if (!whole)
                    return fail(whole.error());
            }
            if (boundary > 0) {
                QByteArray runId, body;
                qint64 claimed = 0;
                {
                    auto stmt = db.statement(kSelectBlock);
                    if (!stmt)
                        return fail(stmt.error());
                    SqliteQuery q(*stmt);
                    q.bind(1, boundary);
                    if (const int rc = q.step(); rc != SQLITE_ROW)
                        return fail(db.error(rc, QStringLiteral("applying retention")));
                    runId = q.text(0);
                    body = q.text(1);
                    claimed = q.int64(2);
                }
                const auto gone = rewrite(
                    boundary, runId, body, [fromBoundary](const RunEvent &, int index) { return index >= fromBoundary; },
                    Damaged::Delete, claimed);
                if (!gone)
                    return fail(gone.error());
                deleted += *gone - fromBoundary; // more than asked when a damaged block went whole
            }
            deleted += excess;
        }
    }
    if (auto r = db.exec("COMMIT"); !r)
        return fail(r.error());
    return deleted;
}

// --- Store ---------------------------------------------------------------------------------

Store::Store(std::unique_ptr<Private> dd) : d(std::move(dd)) {}

Store::~Store() = default;

QString Store::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
           + QStringLiteral("/breaker.db");
}

Result<std::shared_ptr<Store>> Store::open(const QString &path, const StoreOptions &options)
{
    if (path.isEmpty())
        return makeError(Error::Kind::Invalid, QStringLiteral("no database path given"));
    const QString absolute = QFileInfo(path).absoluteFilePath();
    auto d = std::make_unique<Private>(absolute, options);

    if (options.readOnly) {
        if (!QFileInfo::exists(absolute))
            return makeError(Error::Kind::NotFound, QStringLiteral("no database here"), absolute);
        auto connection = SqliteConnection::open(absolute, SqliteConnection::Mode::ReadOnly,
                                                 options.busyTimeoutMs);
        if (!connection)
            return connection.error();
        const auto version = StoreSchema::check(**connection);
        if (!version)
            return version.error();
        d->m_schemaVersion = *version;
    } else {
        if (auto r = ensureFolder(QFileInfo(absolute).absolutePath()); !r)
            return r.error();
        if (!QFileInfo::exists(absolute))
            createPrivateFile(absolute);
        if (auto r = d->openWriter(); !r)
            return r.error();
        d->startWriter();
    }
    return std::shared_ptr<Store>(new Store(std::move(d)));
}

QString Store::path() const
{
    return d->m_path;
}

int Store::schemaVersion() const
{
    return d->m_schemaVersion;
}

void Store::submit(WriteBatch batch, WriteCallback done)
{
    if (!d->m_writer) {
        if (done)
            done(readOnlyError(d->m_path));
        return;
    }
    if (d->onWriterThread()) {
        // From a done callback: apply now (queueing would run it only after the callback).
        auto r = d->applyTransaction({&batch});
        if (done)
            done(r ? Result<WriteOutcome>(std::move(r->front())) : Result<WriteOutcome>(r.error()));
        return;
    }
    Private::Task task;
    task.batch = std::move(batch);
    task.done = std::move(done);
    d->enqueue(std::move(task));
}

Result<WriteOutcome> Store::write(WriteBatch batch)
{
    if (!d->m_writer)
        return readOnlyError(d->m_path);
    if (d->onWriterThread()) {
        auto r = d->applyTransaction({&batch});
        if (!r)
            return r.error();
        return std::move(r->front());
    }
    std::promise<Result<WriteOutcome>> promise;
    auto future = promise.get_future();
    submit(std::move(batch), [&promise](const Result<WriteOutcome> &r) { promise.set_value(r); });
    return future.get();
}

void Store::flush()
{
    d->flush();
}

Result<std::vector<Run>> Store::runs(const RunQuery &query)
{
    auto db = d->reader();
    if (!db)
        return db.error();
    auto stmt = (*db)->statement(kSelectRuns);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bind(1, query.status);
    q.bind(2, query.agent);
    q.bind(3, query.principal);
    q.bind(4, query.updatedSinceMs);
    q.bind(5, qint64(query.limit > 0 ? query.limit : -1));
    std::vector<Run> runs;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        runs.push_back(readRun(q));
    if (rc != SQLITE_DONE)
        return (*db)->error(rc, QStringLiteral("reading runs"));
    return runs;
}

Result<std::optional<Run>> Store::run(QByteArrayView id)
{
    auto db = d->reader();
    if (!db)
        return db.error();
    auto stmt = (*db)->statement(kSelectRun);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bind(1, id);
    const int rc = q.step();
    if (rc == SQLITE_ROW)
        return std::optional<Run>(readRun(q));
    if (rc != SQLITE_DONE)
        return (*db)->error(rc, QStringLiteral("reading a run"));
    return std::optional<Run>();
}

Result<std::optional<QByteArray>> Store::runIdForKey(QByteArrayView key)
{
    auto db = d->reader();
    if (!db)
        return db.error();
    // A trace key this process's writer holds back, looked up before the table: the writer
    // commits a bulk write before it lets the keys go, so a key is in one place or the other at
    // every moment, whichever is read first. The table wins, as the bulk write keeps a key the
    // table already has.
    std::optional<QByteArray> waiting;
    {
        std::lock_guard lock(d->m_deferredMutex);
        if (const auto it = d->m_deferredKeys.constFind(key.toByteArray()); it != d->m_deferredKeys.constEnd())
            waiting = it.value();
    }
    auto stmt = (*db)->statement(kSelectKeyRun);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bind(1, key);
    const int rc = q.step();
    if (rc == SQLITE_ROW)
        return std::optional<QByteArray>(q.text(0));
    if (rc != SQLITE_DONE)
        return (*db)->error(rc, QStringLiteral("reading a run key"));
    return waiting;
}

Result<std::vector<QByteArray>> Store::keysForRun(QByteArrayView runId)
{
    auto db = d->reader();
    if (!db)
        return db.error();
    // The waiting keys first, then the table (see runIdForKey).
    std::vector<QByteArray> keys;
    {
        std::lock_guard lock(d->m_deferredMutex);
        for (auto it = d->m_deferredKeys.cbegin(); it != d->m_deferredKeys.cend(); ++it) {
            if (it.value() == runId)
                keys.push_back(it.key());
        }
    }
    auto stmt = (*db)->statement(kSelectRunKeys);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bind(1, runId);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        keys.push_back(q.text(0));
    if (rc != SQLITE_DONE)
        return (*db)->error(rc, QStringLiteral("reading run keys"));
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
}

Result<std::optional<RunEvent>> Store::firstWorkEventAfter(QByteArrayView runId, qint64 startNs)
{
    auto db = d->reader();
    if (!db)
        return db.error();
    // Only a block with an event active at or after startNs can hold one.
    auto read = readRunEvents(**db, runId, startNs);
    if (!read)
        return read.error();
    // The first tool or model call of the run that was still running at or after startNs (it
    // ended, or started, then): the cancel verifier's "still active after cancel" evidence.
    sortByStart(*read);
    for (RunEvent &e : *read) {
        if ((e.kind == EventKind::ToolCall || e.kind == EventKind::ModelCall)
            && (e.endNs >= startNs || e.startNs >= startNs)) {
            return std::optional<RunEvent>(std::move(e));
        }
    }
    return std::optional<RunEvent>();
}

Result<std::vector<RunEvent>> Store::events(QByteArrayView runId, int limit)
{
    auto db = d->reader();
    if (!db)
        return db.error();
    auto read = readRunEvents(**db, runId);
    if (!read)
        return read.error();
    sortByStart(*read);
    if (limit > 0 && read->size() > size_t(limit))
        read->resize(size_t(limit));
    return read;
}

Result<qint64> Store::runCount()
{
    auto db = d->reader();
    if (!db)
        return db.error();
    return (*db)->queryInt(kCountRuns);
}

Result<qint64> Store::eventCount()
{
    auto db = d->reader();
    if (!db)
        return db.error();
    return (*db)->queryInt(kCountEvents);
}

Result<qint64> Store::dataVersion()
{
    auto db = d->reader();
    if (!db)
        return db.error();
    return (*db)->queryInt(kDataVersion);
}

Result<AuditRecord> Store::appendAudit(const AuditEntry &entry)
{
    auto records = d->appendAudit({entry});
    if (!records)
        return records.error();
    return std::move(records->front());
}

Result<std::vector<AuditRecord>> Store::appendAuditBatch(const std::vector<AuditEntry> &entries)
{
    return d->appendAudit(entries);
}

Result<std::vector<AuditRecord>> Store::auditRecords(qint64 firstSeq, qint64 lastSeq)
{
    auto db = d->reader();
    if (!db)
        return db.error();
    auto stmt = (*db)->statement(kAuditRange);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bind(1, firstSeq);
    q.bind(2, lastSeq);
    std::vector<AuditRecord> records;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        records.push_back(readAudit(q));
    if (rc != SQLITE_DONE)
        return (*db)->error(rc, QStringLiteral("reading the audit trail"));
    return records;
}

Result<std::optional<AuditRecord>> Store::auditHead()
{
    auto db = d->reader();
    if (!db)
        return db.error();
    auto stmt = (*db)->statement(kAuditHead);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    const int rc = q.step();
    if (rc == SQLITE_ROW)
        return std::optional<AuditRecord>(readAudit(q));
    if (rc != SQLITE_DONE)
        return (*db)->error(rc, QStringLiteral("reading the audit chain head"));
    return std::optional<AuditRecord>();
}

Result<void> Store::recordStopProofs(const std::vector<StopProof> &attempts)
{
    if (attempts.empty())
        return {};
    return d->runOnWriter<void>([&attempts](SqliteConnection &db) -> Result<void> {
        if (auto r = db.exec("BEGIN IMMEDIATE"); !r)
            return r.error();
        auto stmt = db.statement(kUpsertStopProof);
        if (!stmt) {
            db.rollbackIfOpen();
            return stmt.error();
        }
        for (const StopProof &p : attempts) {
            const bool verified = p.outcome == LayerOutcome::Verified;
            SqliteQuery q(*stmt);
            q.bind(1, p.agent);
            q.bind(2, p.layer);
            q.bindOrNull(3, p.provider);
            q.bind(4, toWireName(p.outcome));
            q.bind(5, p.ms);
            q.bind(6, p.atMs);
            q.bind(7, qint64(p.drill ? 1 : 0));
            q.bindOrNull(8, p.detail.toUtf8());
            if (verified) {
                q.bind(9, p.atMs);
                q.bind(10, p.ms);
                q.bind(11, qint64(p.drill ? 1 : 0));
                q.bindOrNull(12, p.provider);
            } else {
                for (int column = 9; column <= 12; ++column)
                    q.bindNull(column);
            }
            if (const int rc = q.step(); rc != SQLITE_DONE) {
                db.rollbackIfOpen();
                return db.error(rc, QStringLiteral("recording the stop proof of %1 / %2")
                                        .arg(QString::fromUtf8(p.agent), QString::fromUtf8(p.layer)));
            }
        }
        if (auto r = db.exec("COMMIT"); !r) {
            db.rollbackIfOpen();
            return r.error();
        }
        return {};
    });
}

Result<std::optional<AuditRecord>> Store::lastAuditRecordContaining(QByteArrayView needle)
{
    auto db = d->reader();
    if (!db)
        return db.error();
    auto stmt = (*db)->statement(kAuditLastContaining);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bindBlob(1, needle);
    const int rc = q.step();
    if (rc == SQLITE_ROW)
        return std::optional<AuditRecord>(readAudit(q));
    if (rc != SQLITE_DONE)
        return (*db)->error(rc, QStringLiteral("searching the audit trail"));
    return std::optional<AuditRecord>();
}

Result<std::vector<StopProof>> Store::stopProofs(QByteArrayView agent)
{
    auto db = d->reader();
    if (!db)
        return db.error();
    auto stmt = (*db)->statement(kSelectStopProofs);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bind(1, agent);
    std::vector<StopProof> proofs;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        StopProof p;
        p.agent = q.text(0);
        p.layer = q.text(1);
        p.provider = q.text(2);
        p.outcome = layerOutcomeFromWireName(q.text(3)).value_or(LayerOutcome::Failed);
        p.ms = q.int64(4);
        p.atMs = q.int64(5);
        p.drill = q.int64(6) != 0;
        p.detail = QString::fromUtf8(q.text(7));
        p.provenAtMs = q.isNull(8) ? 0 : q.int64(8);
        p.provenMs = q.isNull(9) ? 0 : q.int64(9);
        p.provenDrill = q.int64(10) != 0;
        p.provenProvider = q.text(11);
        proofs.push_back(std::move(p));
    }
    if (rc != SQLITE_DONE)
        return (*db)->error(rc, QStringLiteral("reading the stop proofs"));
    return proofs;
}

bool Store::holderAlive(const StopClaim &claim)
{
    if (claim.host != QSysInfo::machineHostName().toUtf8())
        return true; // another machine's process cannot be asked; its claim ages out instead
    if (claim.pid <= 0)
        return false;
    // Signal 0 checks that the process exists; EPERM means it does, run by another user.
    return ::kill(pid_t(claim.pid), 0) == 0 || errno == EPERM;
}

Result<StopClaim> Store::claimStop(const StopClaim &claim, qint64 staleAfterMs, std::optional<StopClaim> *takenOver,
                                   QByteArrayView replacing)
{
    if (takenOver)
        takenOver->reset();
    if (claim.scope.isEmpty() || claim.operation.isEmpty())
        return makeError(Error::Kind::Invalid, QStringLiteral("a stop claim without a scope or an operation"), d->m_path);
    return d->runOnWriter<StopClaim>([&](SqliteConnection &db) -> Result<StopClaim> {
        if (auto r = db.exec("BEGIN IMMEDIATE"); !r)
            return r.error();
        auto fail = [&db](Error e) -> Result<StopClaim> {
            db.rollbackIfOpen();
            return e;
        };
        auto select = db.statement(kSelectStopClaim);
        if (!select)
            return fail(select.error());
        std::optional<StopClaim> holder;
        {
            SqliteQuery q(*select);
            q.bind(1, claim.scope);
            const int rc = q.step();
            if (rc == SQLITE_ROW)
                holder = readStopClaim(q);
            else if (rc != SQLITE_DONE)
                return fail(db.error(rc, QStringLiteral("reading the stops in flight")));
        }
        if (holder && holder->operation != claim.operation) {
            const bool replace = !replacing.empty() && holder->operation == replacing;
            const bool young = claim.startedMs - holder->startedMs < staleAfterMs;
            if (!replace && young && holderAlive(*holder)) {
                db.rollbackIfOpen();
                return *holder;
            }
            if (takenOver)
                *takenOver = holder;
        }
        auto upsert = db.statement(kUpsertStopClaim);
        if (!upsert)
            return fail(upsert.error());
        StopClaim mine = claim;
        {
            SqliteQuery q(*upsert);
            q.bind(1, claim.scope);
            q.bind(2, claim.operation);
            q.bind(3, claim.pid);
            q.bind(4, claim.host);
            q.bind(5, claim.actor.toUtf8());
            q.bind(6, claim.startedMs);
            q.bind(7, claim.deadlineMs);
            const int rc = q.step();
            if (rc != SQLITE_ROW)
                return fail(db.error(rc, QStringLiteral("claiming the stop of %1").arg(QString::fromUtf8(claim.scope))));
            mine.auditSeq = q.int64(0);
            if (const int end = q.step(); end != SQLITE_DONE)
                return fail(db.error(end, QStringLiteral("claiming the stop of %1").arg(QString::fromUtf8(claim.scope))));
        }
        if (auto r = db.exec("COMMIT"); !r)
            return fail(r.error());
        return mine;
    });
}

Result<void> Store::releaseStop(QByteArrayView scope, QByteArrayView operation)
{
    return d->runOnWriter<void>([&](SqliteConnection &db) -> Result<void> {
        auto stmt = db.statement(kDeleteStopClaim);
        if (!stmt)
            return stmt.error();
        SqliteQuery q(*stmt);
        q.bind(1, scope);
        q.bind(2, operation);
        if (const int rc = q.step(); rc != SQLITE_DONE)
            return db.error(rc, QStringLiteral("releasing the stop of %1").arg(QString::fromUtf8(scope)));
        return {};
    });
}

Result<std::optional<StopClaim>> Store::stopClaim(QByteArrayView scope)
{
    auto db = d->reader();
    if (!db)
        return db.error();
    auto stmt = (*db)->statement(kSelectStopClaim);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bind(1, scope);
    const int rc = q.step();
    if (rc == SQLITE_ROW)
        return std::optional<StopClaim>(readStopClaim(q));
    if (rc != SQLITE_DONE)
        return (*db)->error(rc, QStringLiteral("reading the stops in flight"));
    return std::optional<StopClaim>();
}

Result<void> Store::addAuditCheckpoint(const AuditCheckpoint &checkpoint)
{
    if (!d->m_audit)
        return readOnlyError(d->m_path);
    std::lock_guard lock(d->m_auditMutex);
    SqliteConnection &db = *d->m_audit;
    auto stmt = db.statement(kAuditCheckpointInsert);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    q.bind(1, checkpoint.seq);
    q.bind(2, checkpoint.headHash);
    q.bindBlob(3, checkpoint.signature);
    q.bind(4, checkpoint.keyFingerprint);
    q.bind(5, checkpoint.tsMs);
    if (const int rc = q.step(); rc != SQLITE_DONE)
        return db.error(rc, QStringLiteral("writing an audit checkpoint"));
    return {};
}

Result<std::vector<AuditCheckpoint>> Store::auditCheckpoints()
{
    auto db = d->reader();
    if (!db)
        return db.error();
    auto stmt = (*db)->statement(kAuditCheckpoints);
    if (!stmt)
        return stmt.error();
    SqliteQuery q(*stmt);
    std::vector<AuditCheckpoint> checkpoints;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        checkpoints.push_back(AuditCheckpoint{q.int64(0), q.text(1), q.text(2), q.text(3), q.int64(4)});
    if (rc != SQLITE_DONE)
        return (*db)->error(rc, QStringLiteral("reading the audit checkpoints"));
    return checkpoints;
}

Result<qint64> Store::applyRetention(const RetentionPolicy &policy, qint64 nowMs)
{
    return d->runOnWriter<qint64>(
        [&](SqliteConnection &db) {
            // Keys held back go first, so that those of runs it deletes go with them; the span
            // keys of deleted events must not refuse them if they are sent again.
            // A failure to write them is logged, and retention goes on: it may be what frees
            // the space they need.
            (void)d->flushDeferredKeys();
            auto deleted = Private::retention(db, policy, nowMs);
            if (!deleted || *deleted > 0)
                d->clearSpanKeys();
            return deleted;
        });
}

Result<qint64> StoreTesting::setMaxPageCount(Store &store, qint64 pages)
{
    return store.d->runOnWriter<qint64>([pages](SqliteConnection &db) {
        const QByteArray sql = "PRAGMA max_page_count = " + QByteArray::number(pages);
        return db.queryInt(sql.constData());
    });
}

} // namespace Breaker
