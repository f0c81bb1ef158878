#pragma once

#include "models/AuditRecord.h"
#include "models/Result.h"
#include "models/RunTypes.h"
#include "models/StopTypes.h"

#include <QByteArray>
#include <QString>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace Breaker {

// An external id a run was seen under: "trace:<32 hex>", "a2a:<provider>:<task id>",
// "langgraph:<provider>:<thread>:<run>", ... Maps to Breaker's run id.
struct RunKey
{
    QByteArray key;
    QByteArray runId;
};

// One unit of ingest. Applied in one transaction (several submitted batches may share one).
struct WriteBatch
{
    // Upserted by id. On insert the counters start from the events below; on update the
    // descriptive fields (agent, principal, provider, goal, external ids) are replaced when
    // non-empty, started = min, updated = max, ended = max, and a terminal status is never
    // replaced by a non-terminal one. Counter fields of these Run values are ignored: the
    // Store derives them from the events it actually inserts.
    std::vector<Run> runs;
    // Inserted; an event already stored (same run, start time, trace id and span id: a span
    // sent again) is skipped and adds nothing to its run. Events without a span id are always
    // inserted. (Schema version 1 deduped on (trace id, span id) alone; a span is immutable
    // once ended, so a retry repeats all four.)
    std::vector<RunEvent> events;
    std::vector<RunKey> keys; // insert or ignore
};

struct WriteOutcome
{
    qint64 eventsInserted = 0;
    qint64 eventsDuplicate = 0;
    std::vector<Run> runs; // every run the batch touched, as committed
};

struct RunQuery
{
    QByteArray status;    // wire name, or empty for all
    QByteArray agent;
    QByteArray principal;
    int limit = 200;      // newest first (by started)
    qint64 updatedSinceMs = 0;
};

struct RetentionPolicy
{
    qint64 maxAgeDays = 0;   // 0: keep forever
    qint64 maxEvents = 0;    // 0: no limit
};

// A signed checkpoint of the audit chain's head (table audit_checkpoints).
struct AuditCheckpoint
{
    qint64 seq = 0;
    QByteArray headHash;       // lowercase hex SHA-256 of record seq's line
    QByteArray signature;      // raw Ed25519 over auditCheckpointMessage(seq, headHash)
    QByteArray keyFingerprint; // lowercase hex SHA-256 of the public key's DER
    qint64 tsMs = 0;
};

struct StoreOptions
{
    bool readOnly = false;
    int busyTimeoutMs = 5000;
    // How long a new run's trace key may wait in the writer before it is written to run_keys
    // with the others in sorted bulk (docs/ARCHITECTURE.md, "Schema (version 5)").
    int keysWaitMs = 2000;
};

// The SQLite Store (DESIGN.md section 3 and 7). WAL mode; one writer thread per process;
// every thread that reads gets its own connection; safe for several processes on one file.
// All methods are thread-safe. Methods returning Result block the calling thread briefly:
// call them from workers or from the command line, never in bulk on the GUI thread.
class Store
{
public:
    static Result<std::shared_ptr<Store>> open(const QString &path, const StoreOptions &options = {});
    // QStandardPaths::AppDataLocation/breaker.db (open() creates a missing folder with mode 0700).
    static QString defaultPath();
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    QString path() const;
    int schemaVersion() const;

    // Ingest. `done` runs on the writer thread after commit (or failure: Error::Kind::DiskFull
    // when the disk is full, so that ingest can answer 503).
    // Called on the writer thread; the outcome is the callback's to keep (moved in).
    using WriteCallback = std::function<void(Result<WriteOutcome>)>;
    void submit(WriteBatch batch, WriteCallback done);
    // Synchronous write through the same writer thread (tests, tools, benches).
    Result<WriteOutcome> write(WriteBatch batch);
    // Blocks until every batch submitted so far is committed.
    void flush();

    // Reads.
    Result<std::vector<Run>> runs(const RunQuery &query);
    Result<std::optional<Run>> run(QByteArrayView id);
    Result<std::optional<QByteArray>> runIdForKey(QByteArrayView key);
    Result<std::vector<QByteArray>> keysForRun(QByteArrayView runId);
    Result<std::vector<RunEvent>> events(QByteArrayView runId, int limit = 10000);
    // The first tool_call or model_call event of the run still running at or after startNs
    // (its end, or its start, is at or after it).
    Result<std::optional<RunEvent>> firstWorkEventAfter(QByteArrayView runId, qint64 startNs);
    Result<qint64> runCount();
    Result<qint64> eventCount();
    // PRAGMA data_version of this thread's read connection: changes when another connection
    // (this process or another) commits. Cheap; poll it to see other processes' writes.
    Result<qint64> dataVersion();

    // Audit trail (DESIGN.md section 7). Appends in its own BEGIN IMMEDIATE transaction on the
    // calling thread; durable when it returns.
    Result<AuditRecord> appendAudit(const AuditEntry &entry);
    // Several records in one transaction (one fsync): consecutive seqs, one chain.
    Result<std::vector<AuditRecord>> appendAuditBatch(const std::vector<AuditEntry> &entries);
    Result<std::vector<AuditRecord>> auditRecords(qint64 firstSeq, qint64 lastSeq);
    Result<std::optional<AuditRecord>> auditHead();
    // Signed checkpoints of the chain head (app/services/AuditSeal). Adding one that exists
    // (same seq and key) is a no-op. auditCheckpoints() is in seq order.
    Result<void> addAuditCheckpoint(const AuditCheckpoint &checkpoint);
    Result<std::vector<AuditCheckpoint>> auditCheckpoints();

    // The control map's last proven stop per agent and layer (schema version 3). Each attempt
    // replaces the layer's last attempt; a verified one also becomes its proof. Through the
    // writer thread; durable when it returns.
    Result<void> recordStopProofs(const std::vector<StopProof> &attempts);
    // One agent's rows, or every agent's when `agent` is empty; ordered by agent, layer.
    Result<std::vector<StopProof>> stopProofs(QByteArrayView agent = {});
    // Stops in flight across processes (schema version 4; DESIGN.md section 9). claimStop()
    // takes `claim.scope` for `claim` and answers `claim` with its auditSeq filled in, unless a
    // live holder has it: then it answers the holder's claim (another operation). A holder is
    // live when its process still runs on this host and its claim is younger than
    // `staleAfterMs`; a claim that is not live is taken over and handed back in `takenOver`.
    // A holder whose operation is `replacing` (one the caller found hung, or its own process's
    // leftover) is taken over whatever its age; any other holder is judged as above, so that of
    // two callers replacing the same hung claim, the second joins the first.
    // Through the writer thread, in one BEGIN IMMEDIATE transaction; durable when it returns.
    Result<StopClaim> claimStop(const StopClaim &claim, qint64 staleAfterMs,
                                std::optional<StopClaim> *takenOver = nullptr, QByteArrayView replacing = {});
    // Deletes the claim of `scope` if `operation` still holds it.
    Result<void> releaseStop(QByteArrayView scope, QByteArrayView operation);
    Result<std::optional<StopClaim>> stopClaim(QByteArrayView scope);
    // Whether the process that made `claim` still runs (on another host: assumed to).
    static bool holderAlive(const StopClaim &claim);

    // The newest audit record whose line holds `needle` (e.g. "\"action\":\"audit.exported\""),
    // searched from the head backwards.
    Result<std::optional<AuditRecord>> lastAuditRecordContaining(QByteArrayView needle);

    // Retention for runs and events; audit records are never deleted here.
    Result<qint64> applyRetention(const RetentionPolicy &policy, qint64 nowMs);

private:
    friend class StoreTesting; // test-only hooks: models/StoreTesting.h
    class Private;
    explicit Store(std::unique_ptr<Private> d);
    std::unique_ptr<Private> d;
};

} // namespace Breaker
