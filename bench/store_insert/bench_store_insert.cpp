// Store ingest and audit append throughput.
//
//   bench_store_insert [--events N] [--batch N] [--audit N] [--audit-batch N]
//                      [--audit-single N] [--dir DIR]
//
// 1. N events (default 1,000,000; ~600-byte attribute JSON, 64 events per run, each batch also
//    upserts its runs) through Store::submit() in batches of 512 into a fresh Store: rows/s
//    overall and per 100k segment.
// 2. The per-span table the Store used before schema 5: the same events as one row each through
//    one raw sqlite3 prepared INSERT (schema 4's events table and its one UNIQUE index, the same
//    pragmas, one transaction per 512 rows), without the Store's run upserts, counters or
//    read-back. The Store now writes a run's events of a transaction as one block.
// 3. Audit appends: appendAuditBatch() (one transaction and one fsync per batch) and
//    appendAudit() (one per record), synchronous=FULL.
#include "models/Store.h"
#include "models/StoreSchema.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonObject>
#include <QTemporaryDir>

#include <sqlite3.h>

#include <time.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

using namespace Breaker;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the calling thread: on a shared machine, wall time mostly measures the neighbours.
double threadCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

constexpr int kEventsPerRun = 64;
constexpr qint64 kSegment = 100000;

QByteArray runIdOf(qint64 event)
{
    return "run-" + QByteArray::number(event / kEventsPerRun);
}

// A model or tool span with the attributes a real OpenTelemetry GenAI exporter sends.
RunEvent makeEvent(qint64 i)
{
    static const QByteArray note(8, 'n');
    RunEvent e;
    e.runId = runIdOf(i);
    e.traceId = QByteArray::number(i / kEventsPerRun, 16).rightJustified(32, '0');
    e.spanId = QByteArray::number(i, 16).rightJustified(16, '0');
    e.parentSpanId = QByteArray::number(i - i % kEventsPerRun, 16).rightJustified(16, '0');
    const bool model = i % 4 == 0;
    e.kind = model ? EventKind::ModelCall : (i % 4 == 3 ? EventKind::DataAccess : EventKind::ToolCall);
    e.name = model ? QByteArray("chat gpt-4o") : QByteArray("execute_tool lookup_invoice");
    e.startNs = 1800000000000000000LL + i * 1000000;
    e.endNs = e.startNs + 250000;
    e.statusCode = i % 97 == 0 ? 2 : 1;
    if (model) {
        e.inputTokens = 1200 + i % 300;
        e.outputTokens = 150 + i % 50;
        e.costMicros = 4200;
    }
    const QByteArray n = QByteArray::number(i);
    e.attributesJson =
        "{\"gen_ai.operation.name\":\"" + QByteArray(model ? "chat" : "execute_tool")
        + "\",\"gen_ai.system\":\"openai\",\"gen_ai.request.model\":\"gpt-4o-2024-08-06\","
          "\"gen_ai.response.id\":\"chatcmpl-"
        + n.rightJustified(16, '0') + "\",\"gen_ai.usage.input_tokens\":" + QByteArray::number(e.inputTokens)
        + ",\"gen_ai.usage.output_tokens\":" + QByteArray::number(e.outputTokens)
        + ",\"gen_ai.tool.name\":\"lookup_invoice\",\"gen_ai.tool.call.id\":\"call_" + n.rightJustified(16, '0')
        + "\",\"enduser.id\":\"alice@example.com\",\"a2a.task.id\":\"task-" + QByteArray::number(i / kEventsPerRun)
        + "\",\"server.address\":\"api.openai.com\",\"server.port\":443,\"http.response.status_code\":200,"
          "\"gen_ai.response.finish_reasons\":[\"tool_calls\"],\"gen_ai.tool.call.arguments\":"
          "\"{\\\"invoice_id\\\":\\\"INV-"
        + n.rightJustified(8, '0') + "\\\",\\\"amount\\\":{\\\"value\\\":\\\"129.00\\\",\\\"currency\\\":\\\"EUR\\\"},"
        + "\\\"note\\\":\\\"" + note + "\\\"}\"}";
    return e;
}

WriteBatch makeBatch(qint64 first, qint64 count)
{
    WriteBatch batch;
    batch.events.reserve(size_t(count));
    QByteArray lastRun;
    for (qint64 i = first; i < first + count; ++i) {
        RunEvent e = makeEvent(i);
        if (e.runId != lastRun) {
            Run run;
            run.id = e.runId;
            run.agent = "billing-agent";
            run.principal = "alice@example.com";
            run.provider = "otlp";
            run.status = RunStatus::Working;
            run.startedMs = e.startNs / 1000000;
            run.updatedMs = run.startedMs;
            batch.runs.push_back(run);
            batch.keys.push_back(RunKey{"trace:" + e.traceId, e.runId});
            lastRun = e.runId;
        }
        batch.events.push_back(std::move(e));
    }
    return batch;
}

qint64 argValue(const QStringList &args, const QString &name, qint64 fallback)
{
    const int i = args.indexOf(name);
    return i >= 0 && i + 1 < args.size() ? args[i + 1].toLongLong() : fallback;
}

void benchStore(const QString &path, qint64 total, qint64 batchSize)
{
    auto opened = Store::open(path);
    if (!opened) {
        std::fprintf(stderr, "open: %s\n", qPrintable(opened.error().message));
        std::exit(1);
    }
    auto store = *opened;

    std::mutex mutex;
    std::condition_variable cv;
    qint64 inFlight = 0;
    qint64 committed = 0;
    qint64 failures = 0;
    std::vector<double> segmentEnds;
    double writerCpuStart = -1;
    double writerCpuEnd = 0;
    qint64 firstBatch = 0;
    const auto start = Clock::now();
    constexpr qint64 kMaxInFlight = 16; // back-pressure, as ingest has

    for (qint64 first = 0; first < total; first += batchSize) {
        const qint64 count = std::min(batchSize, total - first);
        WriteBatch batch = makeBatch(first, count);
        {
            std::unique_lock lock(mutex);
            cv.wait(lock, [&] { return inFlight < kMaxInFlight; });
            ++inFlight;
        }
        store->submit(std::move(batch), [&, count](const Result<WriteOutcome> &r) {
            std::lock_guard lock(mutex);
            --inFlight;
            if (!r) {
                ++failures;
                std::fprintf(stderr, "write failed: %s\n", qPrintable(r.error().message));
            }
            // Runs on the writer thread: its CPU time from the first commit to the last.
            if (writerCpuStart < 0) {
                writerCpuStart = threadCpuSeconds();
                firstBatch = count;
            }
            writerCpuEnd = threadCpuSeconds();
            const qint64 before = committed;
            committed += count;
            if (committed / kSegment > before / kSegment || committed == total)
                segmentEnds.push_back(secondsSince(start));
            cv.notify_all();
        });
    }
    store->flush();
    const double elapsed = secondsSince(start);
    const qint64 events = *store->eventCount();
    const qint64 runs = *store->runCount();
    store.reset();

    std::printf("store (submit, %lld-event batches): %lld events, %lld runs in %.2f s = %.0f events/s%s\n",
                static_cast<long long>(batchSize), static_cast<long long>(events),
                static_cast<long long>(runs), elapsed, double(events) / elapsed,
                failures ? " (WITH FAILURES)" : "");
    double previous = 0;
    for (size_t s = 0; s < segmentEnds.size(); ++s) {
        const qint64 rows = std::min(kSegment, total - qint64(s) * kSegment);
        std::printf("  segment %2zu (events %7lld..%7lld): %.0f events/s\n", s + 1,
                    static_cast<long long>(qint64(s) * kSegment),
                    static_cast<long long>(qint64(s) * kSegment + rows),
                    double(rows) / (segmentEnds[s] - previous));
        previous = segmentEnds[s];
    }
    std::printf("  writer thread CPU: %.2f s = %.1f us per event (%.0f events per CPU second)\n",
                writerCpuEnd - writerCpuStart,
                (writerCpuEnd - writerCpuStart) * 1e6 / double(total - firstBatch),
                double(total - firstBatch) / (writerCpuEnd - writerCpuStart));
    std::printf("  database size %.0f MB\n", double(QFileInfo(path).size()) / 1e6);
}

void benchRaw(const QString &path, qint64 total, qint64 batchSize)
{
    // A bare connection and schema 4's per-span events table (ids as bytes, one UNIQUE index
    // that is also the dedupe key).
    sqlite3 *db = nullptr;
    sqlite3_open_v2(path.toUtf8().constData(), &db,
                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16000;"
                     "CREATE TABLE events (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, trace_id BLOB, "
                     "span_id BLOB, parent_span_id BLOB, kind TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', "
                     "start_ns INTEGER NOT NULL DEFAULT 0, end_ns INTEGER NOT NULL DEFAULT 0, "
                     "status_code INTEGER NOT NULL DEFAULT 0, attributes TEXT NOT NULL DEFAULT '{}', "
                     "input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0, "
                     "cost_micros INTEGER NOT NULL DEFAULT 0);"
                     "CREATE UNIQUE INDEX events_run_start ON events (run_id, start_ns, trace_id, span_id);",
                     nullptr, nullptr, nullptr)
        != SQLITE_OK) {
        std::fprintf(stderr, "cannot create %s: %s\n", qPrintable(path), sqlite3_errmsg(db));
        std::exit(1);
    }
    sqlite3_stmt *insert = nullptr;
    if (sqlite3_prepare_v3(db,
                           "INSERT INTO events (run_id, trace_id, span_id, parent_span_id, kind, name, "
                           "start_ns, end_ns, status_code, attributes, input_tokens, output_tokens, "
                           "cost_micros) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
                           "ON CONFLICT (run_id, start_ns, trace_id, span_id) DO NOTHING",
                           -1, SQLITE_PREPARE_PERSISTENT, &insert, nullptr)
        != SQLITE_OK) {
        std::fprintf(stderr, "raw insert: %s\n", sqlite3_errmsg(db));
        std::exit(1);
    }
    const auto bindId = [&insert](int index, const QByteArray &id, unsigned char (&buffer)[16]) {
        if (const int n = StoreSchema::idToBytes(id, buffer); n > 0)
            sqlite3_bind_blob(insert, index, buffer, n, SQLITE_STATIC);
        else
            sqlite3_bind_text(insert, index, id.constData(), int(id.size()), SQLITE_STATIC);
    };
    double insertSeconds = 0;
    double insertCpu = 0;
    qint64 rows = 0;
    std::vector<RunEvent> events;
    for (qint64 first = 0; first < total; first += batchSize) {
        const qint64 count = std::min(batchSize, total - first);
        events.clear();
        for (qint64 i = first; i < first + count; ++i)
            events.push_back(makeEvent(i));
        const auto start = Clock::now();
        const double cpu = threadCpuSeconds();
        sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
        for (const RunEvent &e : events) {
            const QByteArray kind = toWireName(e.kind);
            sqlite3_bind_text(insert, 1, e.runId.constData(), int(e.runId.size()), SQLITE_STATIC);
            unsigned char traceBytes[16], spanBytes[16], parentBytes[16];
            bindId(2, e.traceId, traceBytes);
            bindId(3, e.spanId, spanBytes);
            bindId(4, e.parentSpanId, parentBytes);
            sqlite3_bind_text(insert, 5, kind.constData(), int(kind.size()), SQLITE_STATIC);
            sqlite3_bind_text(insert, 6, e.name.constData(), int(e.name.size()), SQLITE_STATIC);
            sqlite3_bind_int64(insert, 7, e.startNs);
            sqlite3_bind_int64(insert, 8, e.endNs);
            sqlite3_bind_int(insert, 9, e.statusCode);
            sqlite3_bind_text(insert, 10, e.attributesJson.constData(), int(e.attributesJson.size()), SQLITE_STATIC);
            sqlite3_bind_int64(insert, 11, e.inputTokens);
            sqlite3_bind_int64(insert, 12, e.outputTokens);
            sqlite3_bind_int64(insert, 13, e.costMicros);
            if (const int rc = sqlite3_step(insert); rc == SQLITE_DONE) {
                rows += sqlite3_changes(db);
            } else {
                std::fprintf(stderr, "raw insert: %s\n", sqlite3_errmsg(db));
                std::exit(1);
            }
            sqlite3_reset(insert);
        }
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
        insertSeconds += secondsSince(start);
        insertCpu += threadCpuSeconds() - cpu;
    }
    sqlite3_finalize(insert);
    sqlite3_close(db);
    std::printf("one row per span, raw sqlite3 (prepared INSERT, %lld rows per transaction): %lld rows in %.2f s "
                "= %.0f rows/s\n",
                static_cast<long long>(batchSize), static_cast<long long>(rows), insertSeconds,
                double(rows) / insertSeconds);
    std::printf("  inserting thread CPU: %.2f s = %.1f us per row (%.0f rows per CPU second)\n",
                insertCpu, insertCpu * 1e6 / double(rows), double(rows) / insertCpu);
}

AuditEntry auditEntry(qint64 i)
{
    AuditEntry e;
    e.actor = {QStringLiteral("connector"), QStringLiteral("gateway"), QStringLiteral("bench-host")};
    e.action = QStringLiteral("tools.policy_block");
    e.target.agent = QStringLiteral("billing-agent");
    e.target.run = QStringLiteral("run-%1").arg(i / 64);
    e.target.layer = QStringLiteral("tools");
    e.target.provider = QStringLiteral("gateway");
    e.reason = QStringLiteral("tool not allowed for this principal");
    e.outcome = QStringLiteral("denied");
    e.detail = QJsonObject{{QStringLiteral("tool"), QStringLiteral("wire_transfer")}, {QStringLiteral("i"), i}};
    return e;
}

void benchAudit(const QString &path, qint64 total, qint64 batchSize, qint64 single)
{
    auto store = *Store::open(path);
    auto start = Clock::now();
    for (qint64 first = 0; first < total; first += batchSize) {
        std::vector<AuditEntry> entries;
        for (qint64 i = first; i < std::min(total, first + batchSize); ++i)
            entries.push_back(auditEntry(i));
        if (auto r = store->appendAuditBatch(entries); !r) {
            std::fprintf(stderr, "append failed: %s\n", qPrintable(r.error().message));
            std::exit(1);
        }
    }
    double elapsed = secondsSince(start);
    std::printf("audit appendAuditBatch (%lld per transaction, synchronous=FULL): %lld records in "
                "%.2f s = %.0f records/s\n",
                static_cast<long long>(batchSize), static_cast<long long>(total), elapsed,
                double(total) / elapsed);

    start = Clock::now();
    for (qint64 i = 0; i < single; ++i) {
        if (auto r = store->appendAudit(auditEntry(i)); !r) {
            std::fprintf(stderr, "append failed: %s\n", qPrintable(r.error().message));
            std::exit(1);
        }
    }
    elapsed = secondsSince(start);
    std::printf("audit appendAudit (one transaction and fsync per record): %lld records in %.2f s "
                "= %.0f records/s (%.2f ms each)\n",
                static_cast<long long>(single), elapsed, double(single) / elapsed,
                elapsed * 1000 / double(single));
    const auto head = store->auditHead();
    std::printf("  chain head seq %lld\n", head && head->has_value() ? static_cast<long long>((*head)->seq) : -1LL);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const qint64 events = argValue(args, QStringLiteral("--events"), 1000000);
    const qint64 batch = argValue(args, QStringLiteral("--batch"), 512);
    const qint64 audit = argValue(args, QStringLiteral("--audit"), 100000);
    const qint64 auditBatch = argValue(args, QStringLiteral("--audit-batch"), 100);
    const qint64 auditSingle = argValue(args, QStringLiteral("--audit-single"), 2000);
    QTemporaryDir temporary;
    const int dirIndex = args.indexOf(QStringLiteral("--dir"));
    const QString dir = dirIndex >= 0 && dirIndex + 1 < args.size() ? args[dirIndex + 1] : temporary.path();
    QDir().mkpath(dir);

    std::printf("sqlite %s; attribute JSON %lld bytes per event\n", sqlite3_libversion(),
                static_cast<long long>(makeEvent(1).attributesJson.size()));
    const auto generate = Clock::now();
    qint64 bytes = 0;
    for (qint64 i = 0; i < 100000; ++i)
        bytes += makeEvent(i).attributesJson.size();
    std::printf("event generation alone: %.0f events/s, %.0f attribute bytes on average\n",
                100000 / secondsSince(generate), double(bytes) / 100000);

    const QString storePath = dir + QStringLiteral("/bench-store.db");
    const QString rawPath = dir + QStringLiteral("/bench-raw.db");
    const QString auditPath = dir + QStringLiteral("/bench-audit.db");
    for (const QString &p : {storePath, rawPath, auditPath}) {
        for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")})
            QFile::remove(p + suffix);
    }
    benchStore(storePath, events, batch);
    benchRaw(rawPath, events, batch);
    benchAudit(auditPath, audit, auditBatch, auditSingle);
    return 0;
}
