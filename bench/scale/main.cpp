// bench_scale: a big Store (1,000,000 events, 100,000 runs) opened by the console
// (docs/BENCHMARKS.md, "Scale").
//
//   bench_scale [--db PATH] [--runs N] [--events-per-run N] [--regenerate]
//
// 1. Generates the Store once (Store::write in batches of 1,000 runs) and keeps it at PATH
//    (default $TMPDIR/bench_scale/store-<runs>x<events>.db) for later runs.
// 2. Store::open + runs(limit 200), cold and warm. "Cold": the db, -wal and -shm files are
//    synced and dropped from the page cache with posix_fadvise(POSIX_FADV_DONTNEED) (drop_caches
//    needs privileges a container rarely has); mincore() says how much of the file was still
//    resident. The query plan of the runs query is printed too.
// 3. Console start: a child process (QT_QPA_PLATFORM=offscreen) starts an Engine on the Store,
//    a StoreRunFeed and a MainWindow, and stops at the first paint of the runs table's viewport
//    once the model holds its rows. Times from the parent's spawn, from the child's main() and
//    from MainWindow construction; VmRSS and VmHWM of the child after that paint. Once with a
//    cold page cache for the Store, once warm.
#include "app/services/Engine.h"
#include "app/services/StoreRunFeed.h"
#include "models/Store.h"
#include "views/MainWindow.h"
#include "views/RunsTableModel.h"
#include "views/RunsTableView.h"

#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QProcess>
#include <QTimer>

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace Breaker;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point t)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

qint64 monotonicNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

QByteArray loadAverage()
{
    QFile f(QStringLiteral("/proc/loadavg"));
    if (!f.open(QIODevice::ReadOnly))
        return "?";
    return f.readAll().trimmed().split(' ').mid(0, 3).join(' ');
}

long statusKb(const char *field)
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray key = QByteArray(field) + ':';
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith(key))
            return line.mid(key.size()).trimmed().split(' ').value(0).toLong();
    }
    return -1;
}

// ---- generation ----------------------------------------------------------------------------

const char *const kAgents[] = {"refund-agent", "claims-agent", "support-copilot", "research-agent",
                               "payments-agent", "ops-agent", "triage-bot", "billing-agent"};
const char *const kPrincipals[] = {"user:ada@example.com", "user:grace@example.com", "user:linus@example.com",
                                   "user:barbara@example.com", "user:ken@example.com", "svc:nightly-batch"};

QByteArray hex(quint64 v, int width)
{
    return QByteArray::number(v, 16).rightJustified(width, '0');
}

WriteBatch makeBatch(qint64 firstRun, qint64 runs, int eventsPerRun, qint64 nowMs, qint64 totalRuns)
{
    WriteBatch batch;
    batch.runs.reserve(size_t(runs));
    batch.events.reserve(size_t(runs * eventsPerRun));
    // Runs over the last 30 days, oldest first (the order they were ingested in).
    const qint64 spanMs = 30LL * 24 * 3600 * 1000;
    for (qint64 r = firstRun; r < firstRun + runs; ++r) {
        Run run;
        run.id = 'r' + hex(quint64(r) * 2654435761ULL % 0xfffffffffffffULL, 15);
        run.agent = kAgents[r % 8];
        run.agentBound = r % 8 < 6;
        run.principal = kPrincipals[r % 6];
        run.provider = "otlp";
        run.goal = "invoke_agent " + run.agent;
        run.startedMs = nowMs - spanMs + spanMs * r / totalRuns;
        run.updatedMs = run.startedMs + 4000 + r % 30000;
        const int outcome = int(r % 20);
        run.status = outcome == 0 ? RunStatus::Failed : outcome == 1 ? RunStatus::WaitingApproval
                                                                       : RunStatus::Completed;
        run.endedMs = run.status == RunStatus::WaitingApproval ? 0 : run.updatedMs;
        const QByteArray trace = hex(quint64(r), 32);
        run.externalIdsJson = "{\"trace_id\":\"" + trace + "\",\"conversation_id\":\"conv_" + hex(quint64(r) * 7, 20) + "\"}";
        batch.keys.push_back(RunKey{"trace:" + trace, run.id});
        for (int e = 0; e < eventsPerRun; ++e) {
            RunEvent ev;
            ev.runId = run.id;
            ev.traceId = trace;
            ev.spanId = hex(quint64(r) * 64 + quint64(e), 16);
            const bool root = e == eventsPerRun - 1;
            if (!root)
                ev.parentSpanId = hex(quint64(r) * 64 + quint64(eventsPerRun - 1), 16);
            const int k = e % 4;
            ev.kind = root ? EventKind::AgentInvocation
                      : k < 2 ? EventKind::ModelCall
                      : k == 2 ? EventKind::ToolCall
                               : EventKind::DataAccess;
            ev.name = root ? run.goal : k < 2 ? QByteArray("chat gpt-4o") : k == 2 ? QByteArray("execute_tool stripe.refund")
                                                                                  : QByteArray("retrieval billing.charges");
            ev.startNs = (run.startedMs + e * 300) * 1000000;
            ev.endNs = ev.startNs + 250000000;
            ev.statusCode = r % 97 == 0 ? 2 : 0;
            if (ev.kind == EventKind::ModelCall) {
                ev.inputTokens = 800 + (r + e) % 4000;
                ev.outputTokens = 50 + (r + e) % 600;
                ev.costMicros = ev.inputTokens * 5 / 2 + ev.outputTokens * 10;
            }
            ev.attributesJson =
                "{\"gen_ai.operation.name\":\"chat\",\"gen_ai.provider.name\":\"openai\",\"gen_ai.request.model\":\"gpt-4o\","
                "\"gen_ai.response.model\":\"gpt-4o-2024-08-06\",\"gen_ai.response.id\":\"chatcmpl-"
                + hex(quint64(r) * 31 + quint64(e), 29)
                + "\",\"gen_ai.usage.input_tokens\":" + QByteArray::number(ev.inputTokens)
                + ",\"gen_ai.usage.output_tokens\":" + QByteArray::number(ev.outputTokens)
                + ",\"gen_ai.response.finish_reasons\":[\"tool_calls\"],\"gen_ai.request.temperature\":0.2,"
                  "\"gen_ai.request.max_tokens\":4096,\"server.address\":\"api.openai.com\",\"server.port\":443,"
                  "\"gen_ai.agent.name\":\""
                + run.agent + "\",\"enduser.id\":\"" + run.principal
                + "\",\"gen_ai.conversation.id\":\"conv_" + hex(quint64(r) * 7, 20)
                + "\",\"gen_ai.tool.call.arguments\":\"[redacted]\",\"http.response.status_code\":200}";
            batch.events.push_back(std::move(ev));
        }
        batch.runs.push_back(std::move(run));
    }
    return batch;
}

bool storeMatches(const QString &path, qint64 runs, qint64 events)
{
    if (!QFileInfo::exists(path))
        return false;
    StoreOptions ro;
    ro.readOnly = true;
    auto store = Store::open(path, ro);
    if (!store)
        return false;
    auto r = (*store)->runCount();
    auto e = (*store)->eventCount();
    return r && e && *r == runs && *e == events;
}

void generate(const QString &path, qint64 runs, int eventsPerRun)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    for (const char *suffix : {"", "-wal", "-shm"})
        QFile::remove(path + QLatin1String(suffix));
    auto opened = Store::open(path);
    if (!opened) {
        std::fprintf(stderr, "open %s: %s\n", qPrintable(path), qPrintable(opened.error().message));
        std::exit(1);
    }
    std::shared_ptr<Store> store = *opened;
    const auto start = Clock::now();
    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
    constexpr qint64 kRunsPerBatch = 1000;
    for (qint64 first = 0; first < runs; first += kRunsPerBatch) {
        auto r = store->write(makeBatch(first, std::min(kRunsPerBatch, runs - first), eventsPerRun, nowMs, runs));
        if (!r) {
            std::fprintf(stderr, "write: %s\n", qPrintable(r.error().message));
            std::exit(1);
        }
    }
    store->flush();
    const double s = msSince(start) / 1000;
    store.reset(); // the last connection checkpoints the WAL
    std::printf("generated %s: %lld runs, %lld events in %.1f s (%.0f events/s), %.0f MB\n", qPrintable(path),
                static_cast<long long>(runs), static_cast<long long>(runs * eventsPerRun), s,
                double(runs * eventsPerRun) / s, double(QFileInfo(path).size()) / 1e6);
}

// Bytes this process caused to be read from the block device (/proc/self/io read_bytes).
qint64 diskReadBytes()
{
    QFile f(QStringLiteral("/proc/self/io"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("read_bytes:"))
            return line.mid(11).trimmed().toLongLong();
    }
    return -1;
}

// ---- page cache ----------------------------------------------------------------------------

// Writes back and drops the Store's files from the page cache; returns the resident share of
// the main file afterwards (0..1), or -1 when mincore is not available.
double dropFromPageCache(const QString &path)
{
    double resident = -1;
    for (const char *suffix : {"", "-wal", "-shm"}) {
        const QByteArray file = QFile::encodeName(path + QLatin1String(suffix));
        const int fd = ::open(file.constData(), O_RDONLY);
        if (fd < 0)
            continue;
        ::fdatasync(fd);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        if (*suffix == '\0') {
            struct stat st{};
            if (::fstat(fd, &st) == 0 && st.st_size > 0) {
                void *map = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
                if (map != MAP_FAILED) {
                    const long page = sysconf(_SC_PAGESIZE);
                    const size_t pages = size_t((st.st_size + page - 1) / page);
                    std::vector<unsigned char> vec(pages);
                    if (::mincore(map, size_t(st.st_size), vec.data()) == 0) {
                        const auto in = std::count_if(vec.begin(), vec.end(), [](unsigned char c) { return c & 1; });
                        resident = double(in) / double(pages);
                    }
                    ::munmap(map, size_t(st.st_size));
                }
            }
        }
        ::close(fd);
    }
    return resident;
}

void printQueryPlan(const QString &path)
{
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return;
    }
    // The Store's runs query (models/Store.cpp kSelectRuns) with its parameters as runs(limit 200)
    // binds them: the plan is made at prepare time, before the values are known.
    const char *sql =
        "EXPLAIN QUERY PLAN SELECT id, agent, agent_bound, principal, delegation, provider, goal, status, started_ms, "
        "updated_ms, ended_ms, input_tokens, output_tokens, cost_micros, currency, tool_calls, "
        "policy_blocks, data_sources, approvals_pending, errors, external_ids FROM runs "
        "WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR agent = ?2) AND (?3 = '' OR principal = ?3) "
        "AND updated_ms >= ?4 ORDER BY started_ms DESC, id DESC LIMIT ?5";
    sqlite3_stmt *stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, "", 0, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, "", 0, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, "", 0, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, 0);
        sqlite3_bind_int64(stmt, 5, 200);
        std::printf("  query plan of runs(limit 200):");
        while (sqlite3_step(stmt) == SQLITE_ROW)
            std::printf(" [%s]", reinterpret_cast<const char *>(sqlite3_column_text(stmt, 3)));
        std::printf("\n");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// An experiment beside the Store (raw sqlite3, same query): is the cold query bound by one
// synchronous pread per page, and would memory-mapped I/O (kernel fault-around / readahead)
// help? Returns the median cold query time over `rounds`.
double rawColdQuery(const QString &path, qint64 mmapBytes, int rounds, qint64 *readKb)
{
    std::vector<double> times;
    qint64 bytes = 0;
    for (int round = 0; round < rounds; ++round) {
        sqlite3 *db = nullptr;
        if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            sqlite3_close(db);
            return -1;
        }
        const QByteArray pragma = "PRAGMA mmap_size = " + QByteArray::number(mmapBytes);
        sqlite3_exec(db, pragma.constData(), nullptr, nullptr, nullptr);
        sqlite3_exec(db, "PRAGMA data_version", nullptr, nullptr, nullptr); // reads the schema
        sqlite3_stmt *stmt = nullptr;
        sqlite3_prepare_v2(db,
                           "SELECT id, agent, agent_bound, principal, delegation, provider, goal, status, started_ms, "
                           "updated_ms, ended_ms, input_tokens, output_tokens, cost_micros, currency, tool_calls, "
                           "policy_blocks, data_sources, approvals_pending, errors, external_ids FROM runs "
                           "WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR agent = ?2) AND (?3 = '' OR principal = ?3) "
                           "AND updated_ms >= ?4 ORDER BY started_ms DESC, id DESC LIMIT ?5",
                           -1, &stmt, nullptr);
        sqlite3_bind_text(stmt, 1, "", 0, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, "", 0, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, "", 0, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, 0);
        sqlite3_bind_int64(stmt, 5, 200);
        dropFromPageCache(path);
        const qint64 read0 = diskReadBytes();
        const auto t0 = Clock::now();
        int rows = 0;
        qint64 sink = 0;
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            ++rows;
            for (int c = 0; c < 21; ++c)
                sink += sqlite3_column_bytes(stmt, c);
        }
        times.push_back(msSince(t0));
        bytes += diskReadBytes() - read0;
        Q_UNUSED(sink);
        sqlite3_finalize(stmt);
        sqlite3_close(db);
        if (rows != 200)
            return -1;
    }
    if (readKb)
        *readKb = bytes / rounds / 1024;
    return median(times);
}

void measureOpenAndQuery(const QString &path)
{
    std::printf("Store::open + runs(limit 200):\n");
    printQueryPlan(path);
    std::vector<double> coldQueries, coldOpens;
    for (int round = 0; round < 5; ++round) {
        const double resident = dropFromPageCache(path);
        auto t0 = Clock::now();
        auto store = Store::open(path);
        const double openMs = msSince(t0);
        if (!store) {
            std::fprintf(stderr, "open: %s\n", qPrintable(store.error().message));
            std::exit(1);
        }
        // The reader connection is opened by the first read; open it with a read that touches
        // no table, drop the cache again, then time the query alone.
        t0 = Clock::now();
        (void)(*store)->dataVersion();
        const double readerMs = msSince(t0);
        const double residentBeforeQuery = dropFromPageCache(path);
        RunQuery q;
        q.limit = 200;
        const qint64 read0 = diskReadBytes();
        t0 = Clock::now();
        auto runs = (*store)->runs(q);
        const double coldQueryMs = msSince(t0);
        const qint64 readBytes = diskReadBytes() - read0;
        coldQueries.push_back(coldQueryMs);
        coldOpens.push_back(openMs);
        if (!runs || runs->size() != 200) {
            std::fprintf(stderr, "runs() failed or short\n");
            std::exit(1);
        }
        std::vector<double> warm;
        for (int i = 0; i < 20; ++i) {
            t0 = Clock::now();
            auto again = (*store)->runs(q);
            warm.push_back(msSince(t0));
        }
        std::printf("  cold round %d (file %.1f%% resident after fadvise, %.1f%% before the query): open %.2f ms, "
                    "reader connection %.2f ms, runs(200) cold %.2f ms (%lld KB read from disk), warm median %.3f ms "
                    "(newest started %s)\n",
                    round + 1, resident * 100, residentBeforeQuery * 100, openMs, readerMs, coldQueryMs,
                    static_cast<long long>(readBytes / 1024), median(warm), qPrintable(QDateTime::fromMSecsSinceEpoch(runs->front().startedMs).toString(Qt::ISODate)));
    }
    std::printf("  => cold: Store::open median %.2f ms, runs(200) median %.2f ms (min %.2f, max %.2f)\n",
                median(coldOpens), median(coldQueries), *std::min_element(coldQueries.begin(), coldQueries.end()),
                *std::max_element(coldQueries.begin(), coldQueries.end()));
    qint64 kbPread = 0, kbMmap = 0;
    const double pread = rawColdQuery(path, 0, 5, &kbPread);
    const double mapped = rawColdQuery(path, 256LL * 1024 * 1024, 5, &kbMmap);
    std::printf("  experiment (raw sqlite3, same query, cold, median of 5): pread I/O %.2f ms (%lld KB read), "
                "PRAGMA mmap_size=256MB %.2f ms (%lld KB read)\n",
                pread, static_cast<long long>(kbPread), mapped, static_cast<long long>(kbMmap));
    {
        auto t0 = Clock::now();
        auto store = Store::open(path);
        const double openMs = msSince(t0);
        RunQuery q;
        q.limit = 200;
        t0 = Clock::now();
        auto runs = (*store)->runs(q);
        const double firstMs = msSince(t0);
        std::printf("  warm page cache: open %.2f ms, first runs(200) (incl. reader connection) %.2f ms\n", openMs,
                    firstMs);
    }
}

// ---- console start (child process) --------------------------------------------------------

int paintChild(int &argc, char **argv, Clock::time_point mainEntered)
{
    const QString path = QString::fromLocal8Bit(argv[2]);
    const qint64 spawnedAtNs = QByteArray(argv[4]).toLongLong();
    const double spawnToMainMs = double(std::chrono::duration_cast<std::chrono::nanoseconds>(mainEntered.time_since_epoch()).count() - spawnedAtNs) / 1e6;
    QApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("breaker.*.info=false"));
    const QString runtime = QDir::tempPath() + QStringLiteral("/bench_scale-runtime");
    QDir().mkpath(runtime);
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(runtime));

    const auto engineStart = Clock::now();
    Engine engine;
    Engine::Options eo;
    eo.dbPath = path;
    eo.listenPort = 0;
    if (auto started = engine.start(eo); !started) {
        std::fprintf(stderr, "engine: %s\n", qPrintable(started.error().message));
        return 1;
    }
    const double engineMs = msSince(engineStart);
    StoreRunFeed feed(engine.store());
    feed.attachMonitor(engine.monitor());

    const auto windowStart = Clock::now();
    MainWindow window(&feed);
    window.resize(1400, 900);
    window.show();
    RunsTableModel *model = window.runsModel();
    double rowsMs = -1;
    QObject::connect(&feed, &RunFeed::runsLoaded, &app, [&] { rowsMs = msSince(windowStart); });

    struct PaintWatch : QObject
    {
        std::function<void()> onPaint;
        bool eventFilter(QObject *, QEvent *e) override
        {
            if (e->type() == QEvent::Paint && onPaint)
                QTimer::singleShot(0, this, onPaint); // after this paint has finished
            return false;
        }
    } watch;
    bool done = false;
    watch.onPaint = [&] {
        if (done || model->rowCount() < 200)
            return;
        done = true;
        const double paintedFromWindowMs = msSince(windowStart);
        const double paintedFromMainMs = msSince(mainEntered);
        const double paintedFromSpawnMs = double(monotonicNs() - spawnedAtNs) / 1e6;
        std::printf("PAINTED rows=%d spawn_to_main_ms=%.1f engine_start_ms=%.1f window_to_rows_ms=%.1f "
                    "window_to_paint_ms=%.1f main_to_paint_ms=%.1f spawn_to_paint_ms=%.1f vmrss_kb=%ld vmhwm_kb=%ld\n",
                    model->rowCount(), spawnToMainMs, engineMs, rowsMs, paintedFromWindowMs, paintedFromMainMs,
                    paintedFromSpawnMs, statusKb("VmRSS"), statusKb("VmHWM"));
        std::fflush(stdout);
        QCoreApplication::quit();
    };
    window.runsView()->viewport()->installEventFilter(&watch);
    QTimer::singleShot(30000, &app, [] {
        std::printf("TIMEOUT no painted table within 30 s\n");
        QCoreApplication::exit(1);
    });
    return app.exec();
}

QByteArray field(const QByteArray &line, const char *key)
{
    const QByteArray k = QByteArray(key) + '=';
    for (const QByteArray &part : line.split(' ')) {
        if (part.startsWith(k))
            return part.mid(k.size());
    }
    return {};
}

void measurePaint(const QString &self, const QString &path, bool cold)
{
    std::vector<QByteArray> lines;
    for (int round = 0; round < 3; ++round) {
        if (cold)
            dropFromPageCache(path);
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        child.setProcessEnvironment(env);
        child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        const qint64 spawnedAt = monotonicNs();
        child.start(self, {QStringLiteral("--paint"), path, QStringLiteral("--spawned-at"), QString::number(spawnedAt)});
        if (!child.waitForFinished(60000)) {
            std::fprintf(stderr, "paint child did not finish\n");
            child.kill();
            child.waitForFinished();
            return;
        }
        const QByteArray out = child.readAllStandardOutput().trimmed();
        std::printf("  %s page cache, round %d: %s\n", cold ? "cold" : "warm", round + 1, out.constData());
        lines.push_back(out);
    }
    std::vector<double> paint, rss;
    for (const QByteArray &l : lines) {
        paint.push_back(field(l, "spawn_to_paint_ms").toDouble());
        rss.push_back(field(l, "vmrss_kb").toDouble() / 1024);
    }
    std::printf("  => %s: spawn -> painted table median %.0f ms (max %.0f), VmRSS median %.0f MB (max %.0f)\n",
                cold ? "cold" : "warm", median(paint), *std::max_element(paint.begin(), paint.end()), median(rss),
                *std::max_element(rss.begin(), rss.end()));
}

} // namespace

int main(int argc, char **argv)
{
    const auto mainEntered = Clock::now();
    if (argc >= 5 && qstrcmp(argv[1], "--paint") == 0 && qstrcmp(argv[3], "--spawned-at") == 0)
        return paintChild(argc, argv, mainEntered);

    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("breaker.*.info=false"));
    qint64 runs = 100'000;
    int eventsPerRun = 10;
    QString db;
    bool regenerate = false;
    const QStringList args = app.arguments();
    for (int i = 1; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--db") && i + 1 < args.size())
            db = args[++i];
        else if (args[i] == QLatin1String("--runs") && i + 1 < args.size())
            runs = args[++i].toLongLong();
        else if (args[i] == QLatin1String("--events-per-run") && i + 1 < args.size())
            eventsPerRun = args[++i].toInt();
        else if (args[i] == QLatin1String("--regenerate"))
            regenerate = true;
        else {
            std::fprintf(stderr, "usage: bench_scale [--db PATH] [--runs N] [--events-per-run N] [--regenerate]\n");
            return 2;
        }
    }
    if (runs < 200 || eventsPerRun < 1 || eventsPerRun > 64) {
        std::fprintf(stderr, "bench_scale: --runs >= 200, --events-per-run 1..64\n");
        return 2;
    }
    if (db.isEmpty())
        db = QDir::tempPath() + QStringLiteral("/bench_scale/store-%1x%2.db").arg(runs).arg(eventsPerRun);

    std::printf("bench_scale: %lld runs x %d events; %ld CPUs, load %s\n", static_cast<long long>(runs), eventsPerRun,
                sysconf(_SC_NPROCESSORS_ONLN), loadAverage().constData());
    if (regenerate || !storeMatches(db, runs, runs * eventsPerRun))
        generate(db, runs, eventsPerRun);
    else
        std::printf("reusing %s (%.0f MB)\n", qPrintable(db), double(QFileInfo(db).size()) / 1e6);
    std::fflush(stdout);

    measureOpenAndQuery(db);
    std::fflush(stdout);
    std::printf("console start to a painted runs table (child process, offscreen):\n");
    std::fflush(stdout);
    measurePaint(QCoreApplication::applicationFilePath(), db, true);
    measurePaint(QCoreApplication::applicationFilePath(), db, false);
    std::printf("load at the end: %s\n", loadAverage().constData());
    return 0;
}
