#include "models/SqliteConnection.h"
#include "models/Store.h"
#include "models/StoreSchema.h"
#include "models/StoreTesting.h"

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSysInfo>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

using namespace Breaker;

namespace {

// First column of the first row, straight from SQLite (no Store involved).
QByteArray rawQuery(const QString &path, const char *sql)
{
    sqlite3 *db = nullptr;
    QByteArray value;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sqlite3_stmt *stmt = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK) {
            if (sqlite3_step(stmt) == SQLITE_ROW)
                value = reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0));
            sqlite3_finalize(stmt);
        } else {
            value = QByteArray("error: ") + sqlite3_errmsg(db);
        }
    }
    sqlite3_close(db);
    return value;
}

QByteArray rawQuery(const QString &path, const QByteArray &sql)
{
    return rawQuery(path, sql.constData());
}

bool rawExec(const QString &path, const char *sql)
{
    sqlite3 *db = nullptr;
    bool ok = sqlite3_open_v2(path.toUtf8().constData(), &db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr)
              == SQLITE_OK;
    ok = ok && sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

Run makeRun(const QByteArray &id, RunStatus status = RunStatus::Working, qint64 startedMs = 1000)
{
    Run run;
    run.id = id;
    run.agent = "billing-agent";
    run.principal = "alice@example.com";
    run.provider = "sandbox";
    run.goal = "pay the invoice";
    run.status = status;
    run.startedMs = startedMs;
    run.updatedMs = startedMs;
    run.externalIdsJson = "{\"trace_id\":\"abc\"}";
    return run;
}

RunEvent makeEvent(const QByteArray &runId, EventKind kind, const QByteArray &trace,
                   const QByteArray &span, qint64 startNs = 1000000000)
{
    RunEvent e;
    e.runId = runId;
    e.kind = kind;
    e.traceId = trace;
    e.spanId = span;
    e.name = toWireName(kind);
    e.startNs = startNs;
    e.endNs = startNs + 500;
    e.attributesJson = "{\"k\":\"v\"}";
    return e;
}

QByteArray traceHex(int n)
{
    return QByteArray::number(n, 16).rightJustified(32, '0');
}

QByteArray spanHex(int n)
{
    return QByteArray::number(n, 16).rightJustified(16, '0');
}

// As the Store does for a new file (SqliteConnection alone would create it 0644).
void createPrivateFileForTest(const QString &path)
{
    QFile file(path);
    if (file.open(QIODevice::WriteOnly))
        file.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
}

// A Store whose writer keeps new runs' trace keys until there are enough of them or it closes
// (never by time, within a test).
std::shared_ptr<Store> openKeepingKeys(const QString &path)
{
    StoreOptions options;
    options.keysWaitMs = 10 * 60 * 1000;
    auto store = Store::open(path, options);
    return store ? *store : nullptr;
}

// `count` new runs m0, m1, ..., each with one event of its own trace and that trace's key:
// 16,384 or more make the writer's bulk write of trace keys due at once.
WriteBatch newRunsWithTraceKeys(int count)
{
    WriteBatch batch;
    for (int i = 0; i < count; ++i) {
        const QByteArray run = "m" + QByteArray::number(i);
        batch.keys.push_back({"trace:" + traceHex(100 + i), run});
        batch.events.push_back(makeEvent(run, EventKind::ToolCall, traceHex(100 + i), spanHex(1)));
    }
    return batch;
}

std::shared_ptr<Store> openStore(const QString &path)
{
    auto store = Store::open(path);
    if (!store) {
        qWarning() << store.error().message << store.error().where;
        return {};
    }
    return *store;
}

} // namespace

class tst_Store : public QObject
{
    Q_OBJECT
private slots:
    void schemaIsCreatedAndVersioned();
    void defaultPathIsInTheAppDataFolder();
    void reopenKeepsData();
    void newerSchemaIsRefused();
    void version1FileIsMigrated();
    void idsAreStoredAsBytes();
    void readOnlyStoreReadsButDoesNotWrite();
    void notADatabaseIsReported();
    void countersComeFromEvents();
    void approvalsPendingNeverGoesBelowZero();
    void sameSpanIsStoredAndCountedOnce();
    void eventsWithoutSpanIdNeverCollide();
    void dedupeKeyIsRunStartAndIds();
    void terminalStatusIsNotRegressed();
    void eventForUnknownRunCreatesMinimalRow();
    void runsQueryFiltersAndOrders();
    void eventsAreOrderedByStart();
    void runKeysMapBothWays();
    void dataVersionSeesOtherCommits();
    void submitCallsEveryCallbackInOrder();
    void writeFromCallbackDoesNotDeadlock();
    void readersOnManyThreadsWhileWriting();
    void destroyingTheStoreClosesEveryThreadsConnection();
    void diskFullIsReportedAndRecovers();
    void killDuringWritesLosesNothingCommitted();
    void retentionDeletesOldEventsAndRunsButNeverAudit();
    void retentionKeepsNewestEvents();
    void stopClaimsAcrossConnections();
    void version4FileIsMigrated();
    void aRunsEventsAreWrittenAsBlocks();
    void dedupeSurvivesForgettingRuns();
    void dedupeSeesAnotherProcesssSpans();
    void aDamagedBlockIsReported();
    void traceKeysAreWrittenInBulk();
    void keysHeldByAWriterThatDiedAreWrittenAtOpen();
    void aFailingBulkWriteOfKeysDoesNotFailTheBatches();
};

void tst_Store::schemaIsCreatedAndVersioned()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("data/breaker.db")); // folder missing
    {
        auto store = openStore(path);
        QVERIFY(store);
        QCOMPARE(store->schemaVersion(), StoreSchema::kCurrentVersion);
        QCOMPARE(store->path(), QFileInfo(path).absoluteFilePath());
        QCOMPARE(*store->runCount(), 0);
        QCOMPARE(*store->eventCount(), 0);
    }
    // The data folder and the file are private to their owner.
    QCOMPARE(QFileInfo(dir.filePath(QStringLiteral("data"))).permissions()
                 & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther
                    | QFile::ExeGroup | QFile::ExeOther),
             QFile::Permissions());
    QCOMPARE(QFileInfo(path).permissions() & (QFile::ReadGroup | QFile::ReadOther),
             QFile::Permissions());

    QCOMPARE(rawQuery(path, "PRAGMA user_version"), QByteArray::number(StoreSchema::kCurrentVersion));
    QCOMPARE(rawQuery(path, "PRAGMA journal_mode"), QByteArray("wal"));
    QCOMPARE(rawQuery(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
             QByteArray::number(StoreSchema::kCurrentVersion));
    for (const char *table : {"runs", "run_keys", "event_blocks", "approvals", "audit", "audit_checkpoints", "meta"}) {
        const QByteArray sql = "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '"
                               + QByteArray(table) + "'";
        QCOMPARE(rawQuery(path, sql.constData()), QByteArray("1"));
    }
    for (const char *index : {"runs_started", "runs_updated", "event_blocks_run"}) {
        const QByteArray sql = "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '"
                               + QByteArray(index) + "'";
        QCOMPARE(rawQuery(path, sql.constData()), QByteArray("1"));
    }
    // Version 5: events are kept in blocks, with one index (by run); the per-span table is gone.
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'event_blocks'"),
             QByteArray("1"));
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'events'"), QByteArray("0"));
}

void tst_Store::defaultPathIsInTheAppDataFolder()
{
    QStandardPaths::setTestModeEnabled(true);
    const QString expected = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
                             + QStringLiteral("/breaker.db");
    QCOMPARE(Store::defaultPath(), expected);
    QStandardPaths::setTestModeEnabled(false);
}

void tst_Store::reopenKeepsData()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    {
        auto store = openStore(path);
        QVERIFY(store);
        WriteBatch batch;
        batch.runs.push_back(makeRun("r1"));
        batch.events.push_back(makeEvent("r1", EventKind::ToolCall, traceHex(1), spanHex(1)));
        batch.keys.push_back({"trace:" + traceHex(1), "r1"});
        QVERIFY(store->write(std::move(batch)).ok());
    }
    auto store = openStore(path);
    QVERIFY(store);
    const auto run = store->run("r1");
    QVERIFY(run.ok() && run->has_value());
    QCOMPARE((*run)->goal, QByteArray("pay the invoice"));
    QCOMPARE((*run)->toolCalls, 1);
    QCOMPARE(*store->eventCount(), 1);
    QCOMPARE(store->runIdForKey(QByteArray("trace:" + traceHex(1)))->value_or(QByteArray()), QByteArray("r1"));
}

void tst_Store::newerSchemaIsRefused()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("future.db"));
    QVERIFY(rawExec(path, "CREATE TABLE runs (id TEXT); PRAGMA user_version = 99;"));

    const auto store = Store::open(path);
    QVERIFY(!store.ok());
    QCOMPARE(store.error().kind, Error::Kind::Unavailable);
    QVERIFY2(store.error().message.contains(QStringLiteral("version 99")), qPrintable(store.error().message));
    QVERIFY2(store.error().message.contains(QStringLiteral("newer")), qPrintable(store.error().message));
    QCOMPARE(store.error().where, QFileInfo(path).absoluteFilePath());
    // Left as it was.
    QCOMPARE(rawQuery(path, "PRAGMA user_version"), QByteArray("99"));
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'events'"), QByteArray("0"));

    StoreOptions readOnly;
    readOnly.readOnly = true;
    const auto again = Store::open(path, readOnly);
    QVERIFY(!again.ok());
    QVERIFY(again.error().message.contains(QStringLiteral("newer")));
}

// A file written by schema version 1 (ids as hex text) opens, migrates to the current version
// and keeps its events, their ids and their dedupe.
void tst_Store::version1FileIsMigrated()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("v1.db"));
    createPrivateFileForTest(path);
    {
        auto db = SqliteConnection::open(path, SqliteConnection::Mode::ReadWrite, 5000);
        QVERIFY(db.ok());
        const auto version = StoreSchema::migrate(**db, 1);
        QVERIFY(version.ok());
        QCOMPARE(*version, 1);
        const QByteArray sql =
            "INSERT INTO runs (id, agent, status, started_ms, updated_ms, tool_calls) "
            "VALUES ('r1', 'billing-agent', 'working', 1000, 1000, 1);"
            "INSERT INTO run_keys (key, run_id) VALUES ('trace:" + traceHex(1) + "', 'r1');"
            "INSERT INTO events (id, run_id, trace_id, span_id, parent_span_id, kind, name, start_ns) VALUES "
            "(1, 'r1', '" + traceHex(1) + "', '" + spanHex(1) + "', NULL, 'agent_invocation', 'root', 1000),"
            "(2, 'r1', '" + traceHex(1) + "', '" + spanHex(2) + "', '" + spanHex(1) + "', 'tool_call', 'refund', 2000),"
            "(3, 'r1', '" + traceHex(1) + "', '" + spanHex(2) + "#1', '" + spanHex(2) + "', 'approval_requested', 'approval.requested', 3000),"
            "(4, 'r1', 'not-a-hex-trace', 'SPAN-FROM-A-TOOL', NULL, 'span', 'odd ids', 4000),"
            "(5, 'r1', NULL, NULL, NULL, 'operator_action', 'no span', 5000);";
        QVERIFY((*db)->exec(sql.constData()).ok());
    }
    QCOMPARE(rawQuery(path, "PRAGMA user_version"), QByteArray("1"));

    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(store->schemaVersion(), StoreSchema::kCurrentVersion);
    QCOMPARE(rawQuery(path, "PRAGMA user_version"), QByteArray::number(StoreSchema::kCurrentVersion));
    QCOMPARE(rawQuery(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
             QByteArray::number(StoreSchema::kCurrentVersion));

    const auto events = store->events("r1");
    QVERIFY(events.ok());
    QCOMPARE(events->size(), size_t(5));
    for (size_t i = 1; i < events->size(); ++i) // ids keep the order the rows arrived in
        QVERIFY(events->at(i).id > events->at(i - 1).id);
    QCOMPARE(events->at(0).traceId, traceHex(1));
    QCOMPARE(events->at(0).spanId, spanHex(1));
    QVERIFY(events->at(0).parentSpanId.isEmpty());
    QCOMPARE(events->at(1).parentSpanId, spanHex(1));
    QCOMPARE(events->at(2).spanId, spanHex(2) + "#1");
    QCOMPARE(events->at(2).parentSpanId, spanHex(2));
    QCOMPARE(events->at(3).traceId, QByteArray("not-a-hex-trace"));
    QCOMPARE(events->at(3).spanId, QByteArray("SPAN-FROM-A-TOOL"));
    QVERIFY(events->at(4).spanId.isEmpty());
    QCOMPARE(events->at(1).kind, EventKind::ToolCall);
    QCOMPARE(events->at(1).name, QByteArray("refund"));
    QCOMPARE(events->at(4).kind, EventKind::OperatorAction);
    // All five went into one block of run r1, and the per-span table is gone.
    QCOMPARE(rawQuery(path, "SELECT count(*) || ' ' || sum(events) || ' ' || min(run_id) FROM event_blocks"),
             QByteArray("1 5 r1"));
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'events'"), QByteArray("0"));
    QCOMPARE(store->runIdForKey(QByteArray("trace:" + traceHex(1)))->value_or(QByteArray()), QByteArray("r1"));

    // A span stored by version 1 is still a duplicate when it comes again...
    WriteBatch again;
    again.events = {makeEvent("r1", EventKind::ToolCall, traceHex(1), spanHex(2), 2000),
                    makeEvent("r1", EventKind::Span, "not-a-hex-trace", "SPAN-FROM-A-TOOL", 4000),
                    makeEvent("r1", EventKind::ToolCall, traceHex(1), spanHex(3), 6000)};
    auto r = store->write(std::move(again));
    QVERIFY(r.ok());
    QCOMPARE(r->eventsDuplicate, 2);
    QCOMPARE(r->eventsInserted, 1);
    QCOMPARE(r->runs.front().toolCalls, 2);
    // ...and new events go after the migrated ones.
    const auto after = store->events("r1");
    QVERIFY(after.ok());
    QCOMPARE(after->size(), size_t(6));
    QCOMPARE(after->back().spanId, spanHex(3));
    QVERIFY(after->back().id > events->back().id);
}

void tst_Store::idsAreStoredAsBytes()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    auto store = openStore(path);
    QVERIFY(store);
    RunEvent e = makeEvent("r1", EventKind::ToolCall, "0af7651916cd43dd8448eb211c80319c",
                           "b7ad6b7169203331");
    e.parentSpanId = "00f067aa0ba902b7";
    RunEvent upper = makeEvent("r1", EventKind::ToolCall, "0AF7651916CD43DD8448EB211C80319C",
                               "B7AD6B7169203331");
    WriteBatch batch;
    batch.events = {e, upper};
    auto r = store->write(std::move(batch));
    QVERIFY(r.ok());
    QCOMPARE(r->eventsInserted, 2); // upper-case hex is other text, not the same id
    // In the block, the lower-case ids are their bytes and the upper-case ones their text.
    QCOMPARE(rawQuery(path, "SELECT (instr(body, X'0af7651916cd43dd8448eb211c80319c') > 0) + "
                            "(instr(body, X'b7ad6b7169203331') > 0) + (instr(body, X'00f067aa0ba902b7') > 0) + "
                            "(instr(body, CAST('0af7651916cd43dd8448eb211c80319c' AS BLOB)) > 0) + "
                            "(instr(body, CAST('0AF7651916CD43DD8448EB211C80319C' AS BLOB)) > 0) "
                            "FROM event_blocks"),
             QByteArray("4"));
    const auto events = store->events("r1");
    QVERIFY(events.ok());
    QCOMPARE(events->size(), size_t(2));
    QCOMPARE(events->at(0).traceId, e.traceId);
    QCOMPARE(events->at(0).spanId, e.spanId);
    QCOMPARE(events->at(0).parentSpanId, e.parentSpanId);
    QCOMPARE(events->at(1).traceId, upper.traceId);
    QCOMPARE(events->at(1).spanId, upper.spanId);
}

void tst_Store::readOnlyStoreReadsButDoesNotWrite()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    StoreOptions readOnly;
    readOnly.readOnly = true;
    QCOMPARE(Store::open(path, readOnly).error().kind, Error::Kind::NotFound);
    {
        auto store = openStore(path);
        QVERIFY(store);
        WriteBatch batch;
        batch.runs.push_back(makeRun("r1"));
        QVERIFY(store->write(std::move(batch)).ok());
    }
    auto opened = Store::open(path, readOnly);
    QVERIFY(opened.ok());
    auto store = *opened;
    QCOMPARE(*store->runCount(), 1);
    WriteBatch batch;
    batch.runs.push_back(makeRun("r2"));
    QCOMPARE(store->write(std::move(batch)).error().kind, Error::Kind::Invalid);
    QVERIFY(!store->appendAudit(AuditEntry{}).ok());
    QCOMPARE(*store->runCount(), 1);
}

void tst_Store::notADatabaseIsReported()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("notes.txt"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray(4096, 'z'));
    file.close();
    const auto store = Store::open(path);
    QVERIFY(!store.ok());
    QCOMPARE(store.error().kind, Error::Kind::Unavailable);
    QVERIFY2(store.error().message.contains(QStringLiteral("not a database")), qPrintable(store.error().message));
}

void tst_Store::countersComeFromEvents()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);

    WriteBatch batch;
    Run run = makeRun("r1");
    run.toolCalls = 99; // ignored: the Store derives counters from the events it inserts
    run.inputTokens = 99;
    batch.runs.push_back(run);
    int span = 0;
    RunEvent model = makeEvent("r1", EventKind::ModelCall, traceHex(1), spanHex(++span));
    model.inputTokens = 120;
    model.outputTokens = 30;
    model.costMicros = 4500;
    batch.events.push_back(model);
    RunEvent model2 = model;
    model2.spanId = spanHex(++span);
    batch.events.push_back(model2);
    batch.events.push_back(makeEvent("r1", EventKind::ToolCall, traceHex(1), spanHex(++span)));
    RunEvent failedTool = makeEvent("r1", EventKind::ToolCall, traceHex(1), spanHex(++span));
    failedTool.statusCode = 2;
    batch.events.push_back(failedTool);
    batch.events.push_back(makeEvent("r1", EventKind::PolicyBlock, traceHex(1), spanHex(++span)));
    batch.events.push_back(makeEvent("r1", EventKind::DataAccess, traceHex(1), spanHex(++span)));
    batch.events.push_back(makeEvent("r1", EventKind::Error, traceHex(1), spanHex(++span)));
    batch.events.push_back(makeEvent("r1", EventKind::ApprovalRequested, traceHex(1), spanHex(++span)));
    batch.events.push_back(makeEvent("r1", EventKind::ApprovalRequested, traceHex(1), spanHex(++span)));
    batch.events.push_back(makeEvent("r1", EventKind::ApprovalDecided, traceHex(1), spanHex(++span)));

    const auto outcome = store->write(std::move(batch));
    QVERIFY2(outcome.ok(), outcome.ok() ? "" : qPrintable(outcome.error().message));
    QCOMPARE(outcome->eventsInserted, 10);
    QCOMPARE(outcome->eventsDuplicate, 0);
    QCOMPARE(outcome->runs.size(), size_t(1));
    const Run &r = outcome->runs.front();
    QCOMPARE(r.inputTokens, 240);
    QCOMPARE(r.outputTokens, 60);
    QCOMPARE(r.costMicros, 9000);
    QCOMPARE(r.toolCalls, 2);
    QCOMPARE(r.policyBlocks, 1);
    QCOMPARE(r.dataSources, 1);
    QCOMPARE(r.errors, 2); // the failed tool call and the error event
    QCOMPARE(r.approvalsPending, 1);
    // What write() reported is what a reader sees.
    const auto stored = store->run("r1");
    QVERIFY(stored->has_value());
    QCOMPARE((*stored)->toolCalls, 2);
    QCOMPARE((*stored)->costMicros, 9000);
    QCOMPARE((*stored)->goal, QByteArray("pay the invoice"));
}

void tst_Store::approvalsPendingNeverGoesBelowZero()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    int span = 0;
    auto batchOf = [&](std::initializer_list<EventKind> kinds) {
        WriteBatch batch;
        for (EventKind kind : kinds)
            batch.events.push_back(makeEvent("r1", kind, traceHex(1), spanHex(++span)));
        return batch;
    };
    // Decided before requested (events arrive out of order): floor 0 after each step.
    auto r = store->write(batchOf({EventKind::ApprovalDecided, EventKind::ApprovalRequested}));
    QVERIFY(r.ok());
    QCOMPARE(r->runs.front().approvalsPending, 1);
    r = store->write(batchOf({EventKind::ApprovalDecided, EventKind::ApprovalDecided,
                              EventKind::ApprovalDecided}));
    QCOMPARE(r->runs.front().approvalsPending, 0);
    r = store->write(batchOf({EventKind::ApprovalRequested, EventKind::ApprovalRequested,
                              EventKind::ApprovalDecided}));
    QCOMPARE(r->runs.front().approvalsPending, 1);
}

void tst_Store::sameSpanIsStoredAndCountedOnce()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);

    RunEvent tool = makeEvent("r1", EventKind::ToolCall, traceHex(7), spanHex(1));
    tool.costMicros = 100;
    WriteBatch first;
    first.runs.push_back(makeRun("r1"));
    first.events = {tool, tool}; // twice in one batch
    auto r = store->write(std::move(first));
    QVERIFY(r.ok());
    QCOMPARE(r->eventsInserted, 1);
    QCOMPARE(r->eventsDuplicate, 1);
    QCOMPARE(r->runs.front().toolCalls, 1);
    QCOMPARE(r->runs.front().costMicros, 100);

    WriteBatch second; // and again in a later batch (an exporter retry)
    second.events = {tool};
    r = store->write(std::move(second));
    QVERIFY(r.ok());
    QCOMPARE(r->eventsInserted, 0);
    QCOMPARE(r->eventsDuplicate, 1);
    QCOMPARE(r->runs.front().toolCalls, 1);
    QCOMPARE(r->runs.front().costMicros, 100);

    // Same span id under another trace is another span.
    RunEvent other = tool;
    other.traceId = traceHex(8);
    WriteBatch third;
    third.events = {other};
    r = store->write(std::move(third));
    QCOMPARE(r->eventsInserted, 1);
    QCOMPARE(r->runs.front().toolCalls, 2);
    QCOMPARE(*store->eventCount(), 2);
}

void tst_Store::eventsWithoutSpanIdNeverCollide()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    RunEvent status = makeEvent("r1", EventKind::StatusChange, QByteArray(), QByteArray());
    RunEvent withTraceOnly = makeEvent("r1", EventKind::ToolCall, traceHex(1), QByteArray());
    WriteBatch batch;
    batch.events = {status, status, withTraceOnly, withTraceOnly};
    const auto r = store->write(std::move(batch));
    QVERIFY(r.ok());
    QCOMPARE(r->eventsInserted, 4);
    QCOMPARE(r->runs.front().toolCalls, 2);
    QCOMPARE(*store->eventCount(), 4);
}

// Schema version 2 dedupes on (run, start time, trace id, span id): what a retried span repeats.
void tst_Store::dedupeKeyIsRunStartAndIds()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    const RunEvent tool = makeEvent("r1", EventKind::ToolCall, traceHex(3), spanHex(4), 5000);
    WriteBatch first;
    first.events = {tool};
    QCOMPARE(store->write(std::move(first))->eventsInserted, 1);

    RunEvent retry = tool; // an exporter's retry: everything the same
    retry.attributesJson = "{\"k\":\"other\"}";
    RunEvent laterStart = tool; // not a retry of that span
    laterStart.startNs += 1;
    RunEvent otherRun = tool;
    otherRun.runId = "r2";
    WriteBatch second;
    second.events = {retry, laterStart, otherRun};
    const auto r = store->write(std::move(second));
    QVERIFY(r.ok());
    QCOMPARE(r->eventsDuplicate, 1);
    QCOMPARE(r->eventsInserted, 2);
    QCOMPARE(store->events("r1")->size(), size_t(2));
    QCOMPARE(store->events("r1")->front().attributesJson, QByteArray("{\"k\":\"v\"}")); // the first one kept
}

void tst_Store::terminalStatusIsNotRegressed()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);

    Run done = makeRun("r1", RunStatus::Completed, 5000);
    done.updatedMs = 9000;
    done.endedMs = 9000;
    WriteBatch a;
    a.runs.push_back(done);
    QVERIFY(store->write(std::move(a)).ok());

    // A late poll from the runtime says "working", with an earlier start and no agent.
    Run late;
    late.id = "r1";
    late.status = RunStatus::Working;
    late.startedMs = 4000;
    late.updatedMs = 7000;
    late.principal = "bob@example.com";
    WriteBatch b;
    b.runs.push_back(late);
    auto r = store->write(std::move(b));
    QVERIFY(r.ok());
    const Run &merged = r->runs.front();
    QCOMPARE(merged.status, RunStatus::Completed);
    QCOMPARE(merged.startedMs, 4000);  // min
    QCOMPARE(merged.updatedMs, 9000);  // max
    QCOMPARE(merged.endedMs, 9000);    // max
    QCOMPARE(merged.agent, QByteArray("billing-agent")); // empty does not replace
    QCOMPARE(merged.principal, QByteArray("bob@example.com")); // non-empty replaces
    QCOMPARE(merged.goal, QByteArray("pay the invoice"));

    // A terminal status may follow another terminal one (completed, then the stop verified).
    Run stopped;
    stopped.id = "r1";
    stopped.status = RunStatus::Stopped;
    WriteBatch c;
    c.runs.push_back(stopped);
    r = store->write(std::move(c));
    QCOMPARE(r->runs.front().status, RunStatus::Stopped);

    // 'unknown' says nothing, so it never replaces a known status.
    Run working = makeRun("r2", RunStatus::Working);
    WriteBatch d;
    d.runs.push_back(working);
    working.status = RunStatus::Unknown;
    d.runs.push_back(working);
    r = store->write(std::move(d));
    QCOMPARE(r->runs.size(), size_t(1));
    QCOMPARE(r->runs.front().status, RunStatus::Working);
}

void tst_Store::eventForUnknownRunCreatesMinimalRow()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    WriteBatch batch;
    batch.runs.push_back(makeRun("described"));
    batch.events.push_back(makeEvent("described", EventKind::ToolCall, traceHex(1), spanHex(1)));
    batch.events.push_back(makeEvent("orphan", EventKind::ModelCall, traceHex(2), spanHex(1),
                                     qint64(1700000000000) * 1000000));
    const auto r = store->write(std::move(batch));
    QVERIFY(r.ok());
    QCOMPARE(r->runs.size(), size_t(2));
    QCOMPARE(r->runs[0].id, QByteArray("described"));
    QCOMPARE(r->runs[0].toolCalls, 1);
    QCOMPARE(r->runs[1].id, QByteArray("orphan"));
    QCOMPARE(r->runs[1].agent, QByteArray());
    QCOMPARE(r->runs[1].status, RunStatus::Unknown);
    QCOMPARE(r->runs[1].startedMs, 1700000000000); // from its first event
    QCOMPARE(*store->runCount(), 2);
}

void tst_Store::runsQueryFiltersAndOrders()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    WriteBatch batch;
    for (int i = 1; i <= 10; ++i) {
        Run run = makeRun("run-" + QByteArray::number(i),
                          i % 2 ? RunStatus::Working : RunStatus::Completed, 1000 * i);
        run.agent = i <= 5 ? "alpha" : "beta";
        run.principal = i == 3 ? "carol" : "alice";
        run.updatedMs = 1000 * i + 500;
        batch.runs.push_back(run);
    }
    QVERIFY(store->write(std::move(batch)).ok());

    auto ids = [&](const RunQuery &query) {
        QList<QByteArray> out;
        const auto runs = store->runs(query);
        if (runs)
            for (const Run &run : *runs)
                out << run.id;
        return out;
    };
    QCOMPARE(ids({}).size(), 10);
    QCOMPARE(ids({}).first(), QByteArray("run-10")); // newest first
    RunQuery limit;
    limit.limit = 3;
    QCOMPARE(ids(limit), (QList<QByteArray>{"run-10", "run-9", "run-8"}));
    RunQuery working;
    working.status = "working";
    QCOMPARE(ids(working), (QList<QByteArray>{"run-9", "run-7", "run-5", "run-3", "run-1"}));
    RunQuery alphaCompleted;
    alphaCompleted.agent = "alpha";
    alphaCompleted.status = "completed";
    QCOMPARE(ids(alphaCompleted), (QList<QByteArray>{"run-4", "run-2"}));
    RunQuery carol;
    carol.principal = "carol";
    QCOMPARE(ids(carol), (QList<QByteArray>{"run-3"}));
    RunQuery recent;
    recent.updatedSinceMs = 8000;
    QCOMPARE(ids(recent), (QList<QByteArray>{"run-10", "run-9", "run-8"}));
}

void tst_Store::eventsAreOrderedByStart()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    WriteBatch batch;
    const QList<qint64> starts{5000, 1000, 3000, 2000, 4000};
    int span = 0;
    for (qint64 start : starts) {
        RunEvent e = makeEvent("r1", EventKind::ToolCall, traceHex(1), spanHex(++span), start);
        e.parentSpanId = spanHex(99);
        e.attributesJson = "{\"n\":" + QByteArray::number(start) + "}";
        batch.events.push_back(e);
    }
    batch.events.push_back(makeEvent("r2", EventKind::ToolCall, traceHex(2), spanHex(1), 1));
    QVERIFY(store->write(std::move(batch)).ok());

    const auto events = store->events("r1");
    QVERIFY(events.ok());
    QCOMPARE(events->size(), size_t(5));
    for (size_t i = 0; i < events->size(); ++i) {
        const RunEvent &e = (*events)[i];
        QCOMPARE(e.startNs, qint64(1000 * (i + 1)));
        QCOMPARE(e.endNs, e.startNs + 500);
        QCOMPARE(e.runId, QByteArray("r1"));
        QCOMPARE(e.kind, EventKind::ToolCall);
        QCOMPARE(e.traceId, traceHex(1));
        QCOMPARE(e.parentSpanId, spanHex(99));
        QCOMPARE(e.attributesJson, "{\"n\":" + QByteArray::number(e.startNs) + "}");
        QVERIFY(e.id > 0);
    }
    QCOMPARE(store->events("r1", 2)->size(), size_t(2));
    QCOMPARE(store->events("r1", 2)->back().startNs, 2000);
}

void tst_Store::runKeysMapBothWays()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    WriteBatch batch;
    batch.runs.push_back(makeRun("r1"));
    batch.keys = {{"trace:" + traceHex(1), "r1"}, {"a2a:sandbox:task-1", "r1"}};
    QVERIFY(store->write(std::move(batch)).ok());
    WriteBatch again; // insert or ignore: the first mapping wins
    again.keys = {{"a2a:sandbox:task-1", "r2"}, {"a2a:sandbox:task-2", "r2"}};
    QVERIFY(store->write(std::move(again)).ok());

    QCOMPARE(store->runIdForKey("a2a:sandbox:task-1")->value_or(QByteArray()), QByteArray("r1"));
    QCOMPARE(store->runIdForKey("a2a:sandbox:task-2")->value_or(QByteArray()), QByteArray("r2"));
    QVERIFY(!store->runIdForKey("a2a:sandbox:none")->has_value());
    QCOMPARE(*store->keysForRun("r1"),
             (std::vector<QByteArray>{"a2a:sandbox:task-1", "trace:" + traceHex(1)}));
    QCOMPARE(*store->keysForRun("r2"), (std::vector<QByteArray>{"a2a:sandbox:task-2"}));
}

void tst_Store::dataVersionSeesOtherCommits()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    auto watcher = openStore(path);
    auto other = openStore(path); // as another process would
    QVERIFY(watcher && other);

    const auto before = watcher->dataVersion();
    QVERIFY(before.ok());
    QCOMPARE(*watcher->dataVersion(), *before); // nothing happened
    WriteBatch batch;
    batch.runs.push_back(makeRun("r1"));
    QVERIFY(other->write(std::move(batch)).ok());
    const auto afterOther = watcher->dataVersion();
    QVERIFY(*afterOther != *before);
    QCOMPARE(*watcher->runCount(), 1);

    // The Store's own writer thread is another connection too.
    WriteBatch mine;
    mine.runs.push_back(makeRun("r2"));
    QVERIFY(watcher->write(std::move(mine)).ok());
    QVERIFY(*watcher->dataVersion() != *afterOther);

    // And so is another process's audit append.
    const qint64 beforeAudit = *watcher->dataVersion();
    QVERIFY(other->appendAudit(AuditEntry{}).ok());
    QVERIFY(*watcher->dataVersion() != beforeAudit);
}

void tst_Store::submitCallsEveryCallbackInOrder()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    std::mutex mutex;
    std::vector<int> order;
    std::vector<qint64> inserted;
    const int batches = 300;
    for (int i = 0; i < batches; ++i) {
        WriteBatch batch;
        batch.runs.push_back(makeRun("run-" + QByteArray::number(i % 7)));
        for (int j = 0; j < 5; ++j)
            batch.events.push_back(makeEvent("run-" + QByteArray::number(i % 7), EventKind::ToolCall,
                                             traceHex(i + 1), spanHex(j + 1)));
        store->submit(std::move(batch), [&, i](const Result<WriteOutcome> &r) {
            std::lock_guard lock(mutex);
            order.push_back(i);
            inserted.push_back(r.ok() ? r->eventsInserted : -1);
        });
    }
    store->flush(); // every batch submitted so far is committed and its callback has run
    {
        std::lock_guard lock(mutex);
        QCOMPARE(order.size(), size_t(batches));
        for (int i = 0; i < batches; ++i) {
            QCOMPARE(order[size_t(i)], i);
            QCOMPARE(inserted[size_t(i)], 5);
        }
    }
    QCOMPARE(*store->eventCount(), batches * 5);
    int toolCalls = 0;
    const auto runs = store->runs({});
    QVERIFY(runs.ok());
    for (const Run &run : *runs)
        toolCalls += run.toolCalls;
    QCOMPARE(toolCalls, batches * 5);
    store->flush(); // nothing pending: returns at once
}

void tst_Store::writeFromCallbackDoesNotDeadlock()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    Store *raw = store.get();
    bool nestedOk = false;
    WriteBatch batch;
    batch.runs.push_back(makeRun("r1"));
    store->submit(std::move(batch), [&](const Result<WriteOutcome> &) {
        WriteBatch follow;
        follow.runs.push_back(makeRun("r2"));
        nestedOk = raw->write(std::move(follow)).ok();
        raw->flush(); // must not wait for itself
    });
    store->flush();
    QVERIFY(nestedOk);
    QCOMPARE(*store->runCount(), 2);
}

void tst_Store::readersOnManyThreadsWhileWriting()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    std::atomic<int> failures{0};
    std::atomic<bool> writing{true};
    std::atomic<qint64> lastSeen{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
        readers.emplace_back([&] {
            qint64 previous = 0;
            while (writing.load()) {
                const auto runs = store->runs({});
                const auto count = store->eventCount();
                const auto version = store->dataVersion();
                const auto events = store->events("run-0", 50);
                if (!runs || !count || !version || !events) {
                    ++failures;
                    return;
                }
                if (*count < previous) // a reader never sees committed rows disappear
                    ++failures;
                previous = *count;
                lastSeen = std::max(lastSeen.load(), *count);
            }
        });
    }
    for (int b = 0; b < 60; ++b) {
        WriteBatch batch;
        for (int i = 0; i < 20; ++i)
            batch.events.push_back(makeEvent("run-" + QByteArray::number(b % 3), EventKind::ToolCall,
                                             traceHex(b + 1), spanHex(i + 1)));
        QVERIFY(store->write(std::move(batch)).ok());
    }
    writing = false;
    for (std::thread &t : readers)
        t.join();
    QCOMPARE(failures.load(), 0);
    QCOMPARE(*store->eventCount(), 1200);
    QVERIFY(lastSeen.load() > 0);
}

void tst_Store::destroyingTheStoreClosesEveryThreadsConnection()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    auto store = openStore(path);
    QVERIFY(store);
    WriteBatch batch;
    batch.runs.push_back(makeRun("r1"));
    QVERIFY(store->write(std::move(batch)).ok());

    // A worker thread that has read (so it holds a connection) and lives on.
    std::promise<bool> readDone;
    std::promise<void> release;
    std::thread worker([&, weak = std::weak_ptr<Store>(store)] {
        bool ok = false;
        if (const auto s = weak.lock())
            ok = s->runCount().ok();
        readDone.set_value(ok); // only once this thread no longer holds the Store
        release.get_future().wait();
    });
    QVERIFY(readDone.get_future().get());
    QVERIFY(QFile::exists(path + QStringLiteral("-wal")));

    store.reset();
    // SQLite removes the WAL when the last connection to the file closes: the worker's
    // connection was closed with the Store, though the thread still runs.
    const bool walGone = !QFile::exists(path + QStringLiteral("-wal"));
    release.set_value();
    worker.join();
    QVERIFY(walGone);
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM runs"), QByteArray("1"));
}

void tst_Store::diskFullIsReportedAndRecovers()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    auto store = openStore(path);
    QVERIFY(store);
    const QByteArray bigAttributes = "{\"pad\":\"" + QByteArray(3000, 'p') + "\"}";
    auto bigBatch = [&](int trace) {
        WriteBatch batch;
        batch.runs.push_back(makeRun("run-" + QByteArray::number(trace)));
        for (int i = 0; i < 200; ++i) {
            RunEvent e = makeEvent("run-" + QByteArray::number(trace), EventKind::ToolCall,
                                   traceHex(trace), spanHex(i + 1));
            e.attributesJson = bigAttributes;
            batch.events.push_back(e);
        }
        return batch;
    };
    QVERIFY(store->write(bigBatch(1)).ok());
    QVERIFY(store->appendAudit(AuditEntry{}).ok());

    // The "disk" is full: no page beyond the current size.
    const auto limit = StoreTesting::setMaxPageCount(*store, 1);
    QVERIFY(limit.ok());
    QVERIFY(*limit > 1);
    const auto full = store->write(bigBatch(2));
    QVERIFY(!full.ok());
    QCOMPARE(full.error().kind, Error::Kind::DiskFull);
    QVERIFY2(full.error().message.contains(QStringLiteral("full")), qPrintable(full.error().message));
    // submit() reports the same to its callback (ingest answers 503 from it).
    std::optional<Error::Kind> submitted;
    store->submit(bigBatch(3), [&](const Result<WriteOutcome> &r) {
        submitted = r.ok() ? std::nullopt : std::optional(r.error().kind);
    });
    store->flush();
    QCOMPARE(submitted, std::optional(Error::Kind::DiskFull));

    // Nothing committed earlier is lost, nothing of the failed batches is visible.
    QCOMPARE(*store->eventCount(), 200);
    QCOMPARE(*store->runCount(), 1);
    QCOMPARE((*store->run("run-1"))->toolCalls, 200);

    // Room again: the same Store writes.
    QVERIFY(StoreTesting::setMaxPageCount(*store, 1 << 30).ok());
    const auto again = store->write(bigBatch(2));
    QVERIFY2(again.ok(), again.ok() ? "" : qPrintable(again.error().message));
    QCOMPARE(again->eventsInserted, 200);
    store.reset();

    QCOMPARE(rawQuery(path, "PRAGMA integrity_check"), QByteArray("ok"));
    store = openStore(path);
    QCOMPARE(*store->eventCount(), 400);
    QCOMPARE((*store->run("run-2"))->toolCalls, 200);
    QVERIFY(store->auditHead()->has_value());
}

void tst_Store::killDuringWritesLosesNothingCommitted()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    QProcess child;
    QByteArray out;
    connect(&child, &QProcess::readyReadStandardOutput, this,
            [&] { out += child.readAllStandardOutput(); });
    child.setProcessChannelMode(QProcess::SeparateChannels);
    child.start(QStringLiteral(STORE_WRITER_CHILD), {path});
    QTRY_VERIFY_WITH_TIMEOUT(out.count('\n') >= 40, 60000);
    child.kill(); // SIGKILL, mid-stream
    QTRY_COMPARE_WITH_TIMEOUT(child.state(), QProcess::NotRunning, 10000);
    QCOMPARE(child.exitStatus(), QProcess::CrashExit);
    QVERIFY2(child.readAllStandardError().isEmpty(), "the child reported a write error");
    out += child.readAllStandardOutput();

    QList<int> committed;
    const QList<QByteArray> lines = out.left(out.lastIndexOf('\n')).split('\n');
    for (const QByteArray &line : lines)
        committed << line.toInt();
    QVERIFY(committed.size() >= 40);

    QCOMPARE(rawQuery(path, "PRAGMA integrity_check"), QByteArray("ok"));
    auto store = openStore(path);
    QVERIFY(store);
    for (int n : committed) {
        const QByteArray id = "child-run-" + QByteArray::number(n);
        const auto run = store->run(id);
        QVERIFY2(run.ok() && run->has_value(), id.constData());
        QCOMPARE((*run)->toolCalls, 20);
        QCOMPARE((*run)->status, RunStatus::Completed);
        QCOMPARE(store->events(id)->size(), size_t(20));
        const QByteArray key = "child:" + QByteArray::number(n);
        QCOMPARE(store->runIdForKey(key)->value_or(QByteArray()), id);
        // The trace keys it held back are in the table, written by the child or, when it died
        // holding some, by this Store as it opened.
        const QByteArray traceKey = "trace:" + QByteArray::number(n).rightJustified(32, '0');
        const QByteArray sql = "SELECT run_id FROM run_keys WHERE key = '" + traceKey + "'";
        QCOMPARE(rawQuery(path, sql.constData()), id);
    }
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM run_keys_held"), QByteArray("0"));
    // A batch is all or nothing: every stored run has all of its events.
    QCOMPARE(*store->eventCount(), *store->runCount() * 20);
    QVERIFY(*store->runCount() >= committed.size());
}

void tst_Store::retentionDeletesOldEventsAndRunsButNeverAudit()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    auto store = openStore(path);
    QVERIFY(store);
    const qint64 day = 24 * 3600 * 1000;
    const qint64 now = qint64(1800000000000);
    const qint64 ns = 1000000;

    WriteBatch batch;
    Run old = makeRun("old", RunStatus::Completed, now - 40 * day);
    old.endedMs = now - 39 * day;
    Run oldWithNewEvent = makeRun("old-but-active", RunStatus::Completed, now - 40 * day);
    oldWithNewEvent.endedMs = now - 39 * day;
    Run oldRunning = makeRun("old-running", RunStatus::Working, now - 40 * day);
    Run fresh = makeRun("fresh", RunStatus::Completed, now - day);
    fresh.endedMs = now - day;
    batch.runs = {old, oldWithNewEvent, oldRunning, fresh};
    batch.keys = {{"k:old", "old"}, {"k:fresh", "fresh"}};
    batch.events.push_back(makeEvent("old", EventKind::ToolCall, traceHex(1), spanHex(1), (now - 40 * day) * ns));
    batch.events.push_back(makeEvent("old", EventKind::ToolCall, traceHex(1), spanHex(2), (now - 39 * day) * ns));
    batch.events.push_back(makeEvent("old-but-active", EventKind::ToolCall, traceHex(2), spanHex(1), (now - 40 * day) * ns));
    batch.events.push_back(makeEvent("old-but-active", EventKind::ToolCall, traceHex(2), spanHex(2), (now - 2 * day) * ns));
    batch.events.push_back(makeEvent("old-running", EventKind::ToolCall, traceHex(3), spanHex(1), (now - 40 * day) * ns));
    batch.events.push_back(makeEvent("fresh", EventKind::ToolCall, traceHex(4), spanHex(1), (now - day) * ns));
    QVERIFY(store->write(std::move(batch)).ok());
    for (int i = 0; i < 3; ++i)
        QVERIFY(store->appendAudit(AuditEntry{}).ok());

    RetentionPolicy policy;
    policy.maxAgeDays = 30;
    const auto deleted = store->applyRetention(policy, now);
    QVERIFY(deleted.ok());
    QCOMPARE(*deleted, 4 + 1); // four old events, the one ended run left without events

    QVERIFY(!store->run("old")->has_value());
    QVERIFY(!store->runIdForKey("k:old")->has_value());
    QVERIFY(store->run("old-but-active")->has_value());
    QCOMPARE(store->events("old-but-active")->size(), size_t(1));
    QVERIFY(store->run("old-running")->has_value()); // not ended: kept
    QVERIFY(store->run("fresh")->has_value());
    QCOMPARE(store->runIdForKey("k:fresh")->value_or(QByteArray()), QByteArray("fresh"));
    QCOMPARE(*store->eventCount(), 2);
    // Summaries keep their counters after their events are gone.
    QCOMPARE((*store->run("old-but-active"))->toolCalls, 2);
    // The audit trail is never touched, not even by a policy that keeps nothing.
    policy.maxAgeDays = 1;
    policy.maxEvents = 1;
    QVERIFY(store->applyRetention(policy, now + 100 * day).ok());
    QCOMPARE(store->auditRecords(1, 100)->size(), size_t(3));
    // ...and the table refuses edits from anyone (the chain is append-only).
    store.reset();
    QVERIFY(!rawExec(path, "DELETE FROM audit"));
    QVERIFY(!rawExec(path, "UPDATE audit SET line = 'x'"));
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM audit"), QByteArray("3"));
}

void tst_Store::retentionKeepsNewestEvents()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    for (int b = 0; b < 10; ++b) {
        WriteBatch batch;
        for (int i = 0; i < 10; ++i)
            batch.events.push_back(makeEvent("r1", EventKind::ToolCall, traceHex(b + 1), spanHex(i + 1),
                                             qint64(b * 10 + i)));
        QVERIFY(store->write(std::move(batch)).ok());
    }
    const auto before = store->events("r1");
    QVERIFY(before.ok());
    QCOMPARE(before->size(), size_t(100));
    RetentionPolicy policy;
    policy.maxEvents = 25;
    const auto deleted = store->applyRetention(policy, 0);
    QVERIFY(deleted.ok());
    QCOMPARE(*deleted, 75);
    const auto events = store->events("r1");
    QCOMPARE(events->size(), size_t(25));
    // The cut falls inside the eighth batch's block: what is kept keeps its id.
    for (size_t i = 0; i < events->size(); ++i)
        QCOMPARE(events->at(i).id, before->at(75 + i).id);
    QCOMPARE(events->front().startNs, 75); // the 25 newest remain
    QCOMPARE(events->back().startNs, 99);
    QCOMPARE(*store->applyRetention(policy, 0), 0); // nothing more to do
    QCOMPARE(*store->applyRetention(RetentionPolicy{}, 0), 0);
}


// Two Stores on one file stand for two processes (each has its own connections and writer).
void tst_Store::stopClaimsAcrossConnections()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("claims.db"));
    auto a = openStore(path);
    auto b = openStore(path);
    QVERIFY(a && b);
    AuditEntry e;
    e.actor.kind = QStringLiteral("operator");
    e.action = QStringLiteral("test.record");
    QVERIFY(a->appendAudit(e).ok());
    QVERIFY(a->appendAudit(e).ok());

    StopClaim first;
    first.scope = "stop:agent:x";
    first.operation = "op-1";
    first.pid = QCoreApplication::applicationPid();
    first.host = QSysInfo::machineHostName().toUtf8();
    first.actor = QStringLiteral("alice");
    first.startedMs = 1'000'000;
    auto mine = a->claimStop(first, 60'000);
    QVERIFY(mine.ok());
    QCOMPARE(mine->operation, QByteArray("op-1"));
    QCOMPARE(mine->auditSeq, qint64(2)); // the trail's head when claimed

    // The other "process" finds the live holder instead of claiming.
    StopClaim second = first;
    second.operation = "op-2";
    second.actor = QStringLiteral("bob");
    second.startedMs = first.startedMs + 1'000;
    std::optional<StopClaim> takenOver;
    auto held = b->claimStop(second, 60'000, &takenOver);
    QVERIFY(held.ok());
    QCOMPARE(held->operation, QByteArray("op-1"));
    QCOMPARE(held->actor, QStringLiteral("alice"));
    QVERIFY(!takenOver);

    // Only the holder's operation releases it.
    QVERIFY(b->releaseStop("stop:agent:x", "op-2").ok());
    auto still = b->stopClaim("stop:agent:x");
    QVERIFY(still.ok() && still.value());
    QCOMPARE(still.value()->operation, QByteArray("op-1"));

    // Past the stale time a claim is taken over, and the one taken over is handed back.
    second.startedMs = first.startedMs + 60'000;
    auto over = b->claimStop(second, 60'000, &takenOver);
    QVERIFY(over.ok());
    QCOMPARE(over->operation, QByteArray("op-2"));
    QVERIFY(takenOver);
    QCOMPARE(takenOver->operation, QByteArray("op-1"));

    // Another scope is independent; a released scope can be claimed again.
    StopClaim other = first;
    other.scope = "resume:agent:x";
    QCOMPARE(a->claimStop(other, 60'000)->operation, QByteArray("op-1"));
    QVERIFY(b->releaseStop("stop:agent:x", "op-2").ok());
    auto gone = a->stopClaim("stop:agent:x");
    QVERIFY(gone.ok() && !gone.value());
    QCOMPARE(a->claimStop(first, 60'000)->operation, QByteArray("op-1"));
}

QTEST_GUILESS_MAIN(tst_Store)
// Schema 4 kept one row per span; version 5 moves them into blocks, a run's events in the order
// they arrived, 1,024 to a block, and keeps what made a span a duplicate.
void tst_Store::version4FileIsMigrated()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("v4.db"));
    createPrivateFileForTest(path);
    {
        auto db = SqliteConnection::open(path, SqliteConnection::Mode::ReadWrite, 5000);
        QVERIFY(db.ok());
        QCOMPARE(*StoreSchema::migrate(**db, 4), 4);
        const QByteArray sql =
            "INSERT INTO runs (id, status, started_ms, updated_ms) VALUES ('big', 'working', 1, 1), "
            "('small', 'completed', 1, 1);"
            // Run "small" arrived first, though its id sorts after "big".
            "INSERT INTO events (run_id, trace_id, span_id, kind, name, start_ns, status_code) VALUES "
            "('small', X'" + traceHex(8) + "', X'" + spanHex(1) + "', 'tool_call', 'refund', 5, 2),"
            "('small', NULL, NULL, 'operator_action', 'note', 6, 0);"
            // 1,030 spans of run "big", arriving newest first (start times count down).
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1030) "
            "INSERT INTO events (run_id, trace_id, span_id, kind, name, start_ns, end_ns, attributes, input_tokens) "
            "SELECT 'big', X'" + traceHex(7) + "', printf('%016x', i), 'model_call', 'chat', 100000 - i, "
            "100000 - i + 5, '{\"i\":' || i || '}', i FROM n;";
        QVERIFY((*db)->exec(sql.constData()).ok());
    }
    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(store->schemaVersion(), StoreSchema::kCurrentVersion);
    QCOMPARE(*store->eventCount(), 1032);
    // Blocks follow arrival (retention by size deletes the oldest by block id): the runs in the
    // order of their first event, each run's events in the order they came.
    QCOMPARE(rawQuery(path, "SELECT group_concat(run_id || ':' || events) FROM (SELECT * FROM event_blocks ORDER BY id)"),
             QByteArray("small:2,big:1024,big:6"));
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'events'"), QByteArray("0"));
    // Their ages, for retention: max(start, end) of the oldest and newest event of each block.
    QCOMPARE(rawQuery(path, "SELECT oldest_ns || ' ' || newest_ns FROM event_blocks WHERE run_id = 'small'"),
             QByteArray("5 6"));

    const auto big = store->events("big", 0);
    QVERIFY(big.ok());
    QCOMPARE(big->size(), size_t(1030));
    QCOMPARE(big->front().startNs, 100000 - 1030); // by start time
    QCOMPARE(big->front().spanId, QByteArray("0000000000000406"));
    QCOMPARE(big->front().attributesJson, QByteArray("{\"i\":1030}"));
    QCOMPARE(big->front().inputTokens, 1030);
    QCOMPARE(big->front().endNs, big->front().startNs + 5);
    QCOMPARE(big->back().spanId, QByteArray("0000000000000001"));
    QCOMPARE(big->back().traceId, traceHex(7));
    QCOMPARE(store->events("big", 10)->size(), size_t(10));
    const auto small = store->events("small");
    QCOMPARE(small->size(), size_t(2));
    QCOMPARE(small->at(0).statusCode, 2);
    QCOMPARE(small->at(0).spanId, spanHex(1));
    QVERIFY(small->at(1).traceId.isEmpty() && small->at(1).spanId.isEmpty());

    // What was a duplicate before the move still is one.
    WriteBatch again;
    RunEvent first = makeEvent("big", EventKind::ModelCall, traceHex(7), "0000000000000001", 100000 - 1);
    RunEvent later = makeEvent("small", EventKind::ToolCall, traceHex(8), spanHex(1), 5);
    RunEvent fresh = makeEvent("small", EventKind::ToolCall, traceHex(8), spanHex(2), 7);
    again.events = {first, later, fresh};
    const auto r = store->write(std::move(again));
    QVERIFY(r.ok());
    QCOMPARE(r->eventsDuplicate, 2);
    QCOMPARE(r->eventsInserted, 1);
}

void tst_Store::aRunsEventsAreWrittenAsBlocks()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    auto store = openStore(path);
    QVERIFY(store);
    // One transaction: 1,500 events of one run and two of another.
    WriteBatch batch;
    for (int i = 0; i < 1500; ++i)
        batch.events.push_back(makeEvent("long", EventKind::ToolCall, traceHex(1), spanHex(i + 1), 1000 + i));
    batch.events.push_back(makeEvent("short", EventKind::ModelCall, traceHex(2), spanHex(1), 10));
    batch.events.push_back(makeEvent("short", EventKind::ToolCall, traceHex(2), spanHex(1), 10)); // again
    const auto r = store->write(std::move(batch));
    QVERIFY(r.ok());
    QCOMPARE(r->eventsInserted, 1501);
    QCOMPARE(r->eventsDuplicate, 1);
    // A block holds at most 1,024 events.
    QCOMPARE(rawQuery(path, "SELECT group_concat(run_id || ':' || events) FROM (SELECT * FROM event_blocks ORDER BY id)"),
             QByteArray("long:1024,long:476,short:1"));
    const auto events = store->events("long", 0);
    QCOMPARE(events->size(), size_t(1500));
    for (int i = 0; i < 1500; ++i) {
        QCOMPARE(events->at(size_t(i)).spanId, spanHex(i + 1));
        QCOMPARE(events->at(size_t(i)).runId, QByteArray("long"));
    }
    QCOMPARE((*store->run("long"))->toolCalls, 1500);
    QCOMPARE((*store->run("short"))->toolCalls, 0); // the duplicate counts nothing
    QCOMPARE(*store->eventCount(), 1501);
    // Every event has its own id.
    QSet<qint64> ids;
    for (const RunEvent &e : *events)
        ids.insert(e.id);
    QCOMPARE(ids.size(), qsizetype(1500));
}

// The writer keeps the span keys of the runs it used lately and reads a run's keys back from its
// blocks when it has let them go.
void tst_Store::dedupeSurvivesForgettingRuns()
{
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store);
    for (int b = 0; b < 10; ++b) {
        WriteBatch batch;
        for (int i = 0; i < 1000; ++i) {
            const int run = b * 1000 + i;
            batch.events.push_back(makeEvent("r" + QByteArray::number(run), EventKind::ToolCall,
                                             traceHex(run + 1), spanHex(1), 1000 + run));
        }
        QVERIFY(store->write(std::move(batch)).ok());
    }
    WriteBatch again;
    again.events = {makeEvent("r0", EventKind::ToolCall, traceHex(1), spanHex(1), 1000),
                    makeEvent("r0", EventKind::ToolCall, traceHex(1), spanHex(2), 1000)};
    const auto r = store->write(std::move(again));
    QVERIFY(r.ok());
    QCOMPARE(r->eventsDuplicate, 1);
    QCOMPARE(r->eventsInserted, 1);
    QCOMPARE(*store->eventCount(), 10001);
}

// Two Stores on one file stand for two processes: a span that another process stored is a
// duplicate here too, even for a run whose keys this writer already holds.
void tst_Store::dedupeSeesAnotherProcesssSpans()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    auto mine = openStore(path);
    auto other = openStore(path);
    QVERIFY(mine && other);
    auto write = [](Store &store, int span) {
        WriteBatch batch;
        batch.events.push_back(makeEvent("r1", EventKind::ToolCall, traceHex(1), spanHex(span), 1000 + span));
        return store.write(std::move(batch));
    };
    QCOMPARE(write(*mine, 1)->eventsInserted, 1);  // this writer now holds r1's keys
    QCOMPARE(write(*other, 2)->eventsInserted, 1); // another process adds a span to r1
    QCOMPARE(write(*mine, 2)->eventsDuplicate, 1);
    QCOMPARE(write(*other, 1)->eventsDuplicate, 1);
    QCOMPARE(write(*mine, 3)->eventsInserted, 1);
    QCOMPARE(*mine->eventCount(), 3);
    QCOMPARE((*mine->run("r1"))->toolCalls, 3);
}

// A block that is not what the Store wrote is reported with its run, on reads and retention, and
// does not stop new events of the run from being stored.
void tst_Store::aDamagedBlockIsReported()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    auto store = openStore(path);
    QVERIFY(store);
    WriteBatch batch;
    batch.events = {makeEvent("r1", EventKind::ToolCall, traceHex(1), spanHex(1), 1000)};
    QVERIFY(store->write(std::move(batch)).ok());
    store.reset();
    QVERIFY(rawExec(path, "UPDATE event_blocks SET body = X'0102ff'"));

    store = openStore(path);
    QVERIFY(store);
    const auto events = store->events("r1");
    QVERIFY(!events.ok());
    QVERIFY2(events.error().message.contains(QStringLiteral("run r1")), qPrintable(events.error().message));
    QVERIFY2(events.error().message.contains(QStringLiteral("damaged")), qPrintable(events.error().message));
    QCOMPARE(events.error().where, QFileInfo(path).absoluteFilePath());
    QVERIFY(!store->firstWorkEventAfter("r1", 0).ok());

    WriteBatch more;
    more.events = {makeEvent("r1", EventKind::ToolCall, traceHex(1), spanHex(2), 2000)};
    const auto r = store->write(std::move(more));
    QVERIFY(r.ok());
    QCOMPARE(r->eventsInserted, 1);
    QCOMPARE(*store->eventCount(), 2);

    RetentionPolicy policy;
    policy.maxAgeDays = 1; // both events are from 1970
    const auto retention = store->applyRetention(policy, 10LL * 24 * 3600 * 1000);
    QVERIFY(retention.ok()); // every event is older than the cutoff: the blocks go whole, unread
    QCOMPARE(*store->eventCount(), 0);

    // A damaged block that straddles the age cutoff cannot be cut: it stays, and retention does
    // the rest. By size, a damaged oldest block goes whole.
    const qint64 day = 24LL * 3600 * 1000;
    const qint64 now = 100 * day;
    WriteBatch straddling;
    straddling.events = {makeEvent("r2", EventKind::ToolCall, traceHex(2), spanHex(1), (now - 40 * day) * 1000000),
                         makeEvent("r2", EventKind::ToolCall, traceHex(2), spanHex(2), (now - day) * 1000000)};
    QVERIFY(store->write(std::move(straddling)).ok());
    WriteBatch old;
    old.events = {makeEvent("r3", EventKind::ToolCall, traceHex(3), spanHex(1), (now - 40 * day) * 1000000)};
    QVERIFY(store->write(std::move(old)).ok());
    WriteBatch fresh;
    fresh.events = {makeEvent("r4", EventKind::ToolCall, traceHex(4), spanHex(1), (now - day) * 1000000),
                    makeEvent("r4", EventKind::ToolCall, traceHex(4), spanHex(2), (now - day) * 1000000 + 1)};
    QVERIFY(store->write(std::move(fresh)).ok());
    store.reset();
    QVERIFY(rawExec(path, "UPDATE event_blocks SET body = X'01ff' WHERE run_id = 'r2'"));
    store = openStore(path);
    QVERIFY(store);
    policy.maxAgeDays = 30;
    const auto byAge = store->applyRetention(policy, now);
    QVERIFY(byAge.ok());
    QCOMPARE(*byAge, 1); // r3's old event; r2's damaged block is kept whole
    QCOMPARE(rawQuery(path, "SELECT group_concat(run_id) FROM (SELECT run_id FROM event_blocks ORDER BY id)"),
             QByteArray("r2,r4"));
    RetentionPolicy bySize;
    bySize.maxEvents = 3;
    const auto sized = store->applyRetention(bySize, now);
    QVERIFY(sized.ok());
    QCOMPARE(*sized, 2); // one was asked for, but r2's block cannot be cut: its two go
    QCOMPARE(rawQuery(path, "SELECT group_concat(run_id) FROM event_blocks"), QByteArray("r4"));
    QCOMPARE(store->events("r4")->size(), size_t(2));
}

// A new run's trace key, whose events the same batch stores, waits for a bulk write; every other
// key is written at once. Readers see the waiting ones.
void tst_Store::traceKeysAreWrittenInBulk()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    std::shared_ptr<Store> store = openKeepingKeys(path);
    QVERIFY(store);
    const QByteArray held = "trace:" + traceHex(1);
    const QByteArray noEvents = "trace:" + traceHex(9);
    WriteBatch batch;
    batch.runs = {makeRun("r1")};
    batch.keys = {{held, "r1"}, {"a2a:task-1", "r1"}, {noEvents, "r1"}};
    batch.events = {makeEvent("r1", EventKind::ToolCall, traceHex(1), spanHex(1))};
    QVERIFY(store->write(std::move(batch)).ok());
    QCOMPARE(rawQuery(path, "SELECT group_concat(key) FROM (SELECT key FROM run_keys ORDER BY key)"),
             QByteArray("a2a:task-1," + noEvents));
    // Until then the pairs are kept in run_keys_held, for a Store that opens after a crash.
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM run_keys_held"), QByteArray("1"));
    QCOMPARE(store->runIdForKey(held)->value_or(QByteArray()), QByteArray("r1"));
    QCOMPARE(*store->keysForRun("r1"), (std::vector<QByteArray>{"a2a:task-1", held, noEvents}));
    // The same key sent again for another run, without events: the first run keeps it.
    WriteBatch again;
    again.keys = {{held, "r-other"}};
    QVERIFY(store->write(std::move(again)).ok());
    QCOMPARE(store->runIdForKey(held)->value_or(QByteArray()), QByteArray("r1"));

    // Enough of them go with the transaction that brings them...
    WriteBatch many = newRunsWithTraceKeys(16500);
    QVERIFY(store->write(std::move(many)).ok());
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM run_keys"), QByteArray::number(3 + 16500));
    QCOMPARE(rawQuery(path, "SELECT run_id FROM run_keys WHERE key = '" + held + "'"), QByteArray("r1"));
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM run_keys_held"), QByteArray("0"));
    // ...and closing the Store writes the rest.
    WriteBatch last;
    last.keys = {{"trace:" + traceHex(50000), "r2"}};
    last.events = {makeEvent("r2", EventKind::ToolCall, traceHex(50000), spanHex(1))};
    QVERIFY(store->write(std::move(last)).ok());
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM run_keys"), QByteArray::number(3 + 16500));
    store.reset();
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM run_keys"), QByteArray::number(3 + 16501));
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM run_keys_held"), QByteArray("0"));

    // They are written when they have waited long enough, with no other batch to take them along.
    StoreOptions soon;
    soon.keysWaitMs = 100;
    auto quick = Store::open(path, soon);
    QVERIFY(quick.ok());
    WriteBatch one;
    one.keys = {{"trace:" + traceHex(60000), "r3"}};
    one.events = {makeEvent("r3", EventKind::ToolCall, traceHex(60000), spanHex(1))};
    QVERIFY((*quick)->write(std::move(one)).ok());
    QTRY_COMPARE_WITH_TIMEOUT(rawQuery(path, "SELECT count(*) FROM run_keys"), QByteArray::number(3 + 16502), 20000);
    QTRY_COMPARE_WITH_TIMEOUT(rawQuery(path, "SELECT count(*) FROM run_keys_held"), QByteArray("0"), 20000);
}

// A writer that died holding keys back left its pairs in run_keys_held: the next Store to open
// the file writes them, and leaves a live writer's recent rows alone.
void tst_Store::keysHeldByAWriterThatDiedAreWrittenAtOpen()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    QVERIFY(openStore(path)); // creates the schema
    // The pairs as the format says: (varint length, key, varint length, run id)*, written here
    // by hand.
    auto pairs = [](const std::vector<std::pair<QByteArray, QByteArray>> &list) {
        QByteArray out;
        for (const auto &[key, run] : list)
            out += char(key.size()) + key + char(run.size()) + run;
        return out.toHex();
    };
    const QByteArray host = QSysInfo::machineHostName().toUtf8();
    const QByteArray now = QByteArray::number(QDateTime::currentMSecsSinceEpoch());
    QProcess sleeper; // a process that is alive while the Store opens
    sleeper.start(QStringLiteral("sleep"), {QStringLiteral("60")});
    QVERIFY(sleeper.waitForStarted());
    const QByteArray parent = QByteArray::number(sleeper.processId());
    const QByteArray self = QByteArray::number(qint64(getpid()));
    // pid_max is at most 2^22 on Linux: no process has the first one's id.
    const QByteArray sql =
        "INSERT INTO run_keys_held (owner, pid, host, at_ms, pairs) VALUES "
        "('dead', 1073741823, '" + host + "', " + now + ", X'" + pairs({{"trace:" + traceHex(1), "r1"}}) + "'),"
        "('dead', 1073741823, '" + host + "', " + now + ", X'"
        + pairs({{"trace:" + traceHex(2), "r2"}, {"trace:" + traceHex(3), "r2"}}) + "'),"
        "('alive', " + parent + ", '" + host + "', " + now + ", X'" + pairs({{"trace:" + traceHex(4), "r4"}}) + "'),"
        "('stale', " + parent + ", '" + host + "', 1000, X'" + pairs({{"trace:" + traceHex(5), "r5"}}) + "'),"
        "('elsewhere', 1, 'another-host', " + now + ", X'" + pairs({{"trace:" + traceHex(6), "r6"}}) + "'),"
        // An earlier Store of this process (or an earlier process with this pid): this Store has
        // not written yet, so those keys are written now.
        "('earlier', " + self + ", '" + host + "', " + now + ", X'" + pairs({{"trace:" + traceHex(7), "r7"}}) + "');"
        "INSERT INTO run_keys VALUES ('trace:" + traceHex(3) + "', 'another-run');";
    QVERIFY(rawExec(path, sql.constData()));

    auto store = openStore(path);
    QVERIFY(store);
    auto runOf = [&](int trace) {
        return rawQuery(path, "SELECT run_id FROM run_keys WHERE key = 'trace:" + traceHex(trace) + "'");
    };
    QCOMPARE(runOf(1), QByteArray("r1"));
    QCOMPARE(runOf(2), QByteArray("r2"));
    // A key the table had is kept, as the bulk write would have kept it.
    QCOMPARE(runOf(3), QByteArray("another-run"));
    QCOMPARE(runOf(4), QByteArray()); // its writer is alive and will write it
    QCOMPARE(runOf(5), QByteArray("r5")); // alive, but held for hours: written
    QCOMPARE(runOf(6), QByteArray());     // another machine's, and recent: left to it
    QCOMPARE(runOf(7), QByteArray("r7"));
    QCOMPARE(rawQuery(path, "SELECT group_concat(owner) FROM (SELECT DISTINCT owner FROM run_keys_held ORDER BY owner)"),
             QByteArray("alive,elsewhere"));
}

// The bulk write of the waiting keys goes with a batch's transaction, in a savepoint: when it
// fails, the batch commits all the same and the keys keep waiting (and stay in run_keys_held).
void tst_Store::aFailingBulkWriteOfKeysDoesNotFailTheBatches()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    std::shared_ptr<Store> store = openKeepingKeys(path);
    QVERIFY(store);
    QVERIFY(rawExec(path, "CREATE TRIGGER refuse_trace_keys BEFORE INSERT ON run_keys "
                          "WHEN NEW.key LIKE 'trace:%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"));
    WriteBatch many = newRunsWithTraceKeys(16500);
    many.keys.push_back({"a2a:task-1", "m0"});
    const auto r = store->write(std::move(many));
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
    QCOMPARE(r->eventsInserted, 16500);
    QCOMPARE(*store->eventCount(), 16500);
    QCOMPARE(rawQuery(path, "SELECT group_concat(key) FROM run_keys"), QByteArray("a2a:task-1"));
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM run_keys_held"), QByteArray("1"));
    QCOMPARE(store->runIdForKey(QByteArray("trace:" + traceHex(100)))->value_or(QByteArray()), QByteArray("m0"));

    QVERIFY(rawExec(path, "DROP TRIGGER refuse_trace_keys"));
    store.reset(); // closing writes them
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM run_keys"), QByteArray::number(16501));
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM run_keys_held"), QByteArray("0"));
}

#include "tst_store.moc"
