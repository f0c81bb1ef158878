// bench_ingest: OTLP ingest from HTTP body to committed rows (docs/BENCHMARKS.md, "Ingest").
//
//   bench_ingest [--format json|proto] [--spans N] [--batch N] [--connections N]
//                [--phases parse,store,e2e] [--dir DIR] [--seed N] [--sequential-ids] [--keep]
//
// One run measures, on the same pre-encoded bodies (GenAI traces of 5-20 spans, see
// GenAiTraffic.h):
//   parse  decode-only rate: Otlp::decodeJson / decodeProtobuf over every body, one thread;
//   store  store-only rate: the decoded spans through RunMonitor::ingestSpans into a fresh Store
//          (correlation, cost, one transaction per batch on the Store's writer), with as many
//          batches in flight as the HTTP client keeps;
//   e2e    an Engine (OtlpReceiver + RunMonitor + Store, wired as the console wires them) on
//          127.0.0.1:0 with a fresh Store, and a loopback HTTP/1.1 client on a second thread
//          POSTing the bodies over keep-alive connections: wall time from the first request
//          sent to the last 200 (the receiver answers only after commit).
// The ceiling is min(parse, store); the target is e2e >= 100,000 spans/s and >= 0.6 x ceiling.
// Rates are wall clock; the process CPU time is printed beside them (the machine may be shared).
// --sequential-ids (an experiment, not the benchmark): trace and span ids from a counter
// instead of random, to show what random ids cost the Store's indexes.
#include "app/services/Engine.h"
#include "app/services/PriceTable.h"
#include "app/services/RunMonitor.h"
#include "bench/ingest/GenAiTraffic.h"
#include "bench/ingest/LoadClient.h"
#include "connectors/observability/OtlpCodec.h"
#include "connectors/observability/OtlpReceiver.h"
#include "models/Store.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QHash>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace Breaker;
using Clock = std::chrono::steady_clock;

namespace {

struct Options
{
    bool json = true;
    qint64 spans = 1'000'000;
    int batch = 512;
    int connections = 4;
    QStringList phases = {QStringLiteral("parse"), QStringLiteral("store"), QStringLiteral("e2e")};
    QString dir;
    quint64 seed = 20251127;
    bool sequentialIds = false;
    bool keep = false;
};

[[noreturn]] void usage(const char *why)
{
    std::fprintf(stderr,
                 "bench_ingest: %s\nusage: bench_ingest [--format json|proto] [--spans N] [--batch N]\n"
                 "                    [--connections N] [--phases parse,store,e2e] [--dir DIR] [--seed N]\n"
                 "                    [--sequential-ids] [--keep]\n",
                 why);
    std::exit(2);
}

Options parseArgs(const QStringList &args)
{
    Options o;
    for (int i = 1; i < args.size(); ++i) {
        const QString &a = args[i];
        auto value = [&]() -> QString {
            if (i + 1 >= args.size())
                usage("missing value");
            return args[++i];
        };
        if (a == QLatin1String("--format")) {
            const QString f = value();
            if (f != QLatin1String("json") && f != QLatin1String("proto"))
                usage("--format is json or proto");
            o.json = f == QLatin1String("json");
        } else if (a == QLatin1String("--spans")) {
            o.spans = value().toLongLong();
        } else if (a == QLatin1String("--batch")) {
            o.batch = value().toInt();
        } else if (a == QLatin1String("--connections")) {
            o.connections = value().toInt();
        } else if (a == QLatin1String("--phases")) {
            o.phases = value().split(QLatin1Char(','));
        } else if (a == QLatin1String("--dir")) {
            o.dir = value();
        } else if (a == QLatin1String("--seed")) {
            o.seed = value().toULongLong();
        } else if (a == QLatin1String("--sequential-ids")) {
            o.sequentialIds = true;
        } else if (a == QLatin1String("--keep")) {
            o.keep = true; // leave the Stores behind for a look with sqlite3
        } else {
            usage("unknown argument");
        }
    }
    if (o.spans <= 0 || o.batch <= 0 || o.connections <= 0)
        usage("--spans, --batch and --connections must be positive");
    return o;
}

double processCpuSeconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
           + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double threadCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// With BENCH_PHASE_TIMES=1, phase boundaries in CLOCK_MONOTONIC seconds, for
// `perf record -k CLOCK_MONOTONIC` + `perf report --time A,B`.
void phaseMark(const char *what)
{
    if (qEnvironmentVariableIsEmpty("BENCH_PHASE_TIMES"))
        return;
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    std::printf("  [phase %s at %ld.%06ld]\n", what, long(ts.tv_sec), long(ts.tv_nsec / 1000));
}

double seconds(Clock::time_point a, Clock::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

QByteArray loadAverage()
{
    QFile f(QStringLiteral("/proc/loadavg"));
    if (!f.open(QIODevice::ReadOnly))
        return "?";
    return f.readAll().trimmed().split(' ').mid(0, 3).join(' ');
}

long residentKb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').value(0).toLong();
    }
    return -1;
}

// Bytes this process sent to the storage layer (/proc/self/io write_bytes): WAL frames,
// checkpoints into the database file, the file growing.
qint64 storageWriteBytes()
{
    QFile f(QStringLiteral("/proc/self/io"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("write_bytes:"))
            return line.mid(12).trimmed().toLongLong();
    }
    return -1;
}

// Per-thread scheduler accounting (/proc/self/task/*/schedstat: ns on a CPU, ns runnable but
// waiting for one). On a shared machine the second number says how much of the wall time the
// process's threads spent queued behind other processes.
struct SchedSample
{
    QHash<QByteArray, QPair<qint64, qint64>> byTask;
    QHash<QByteArray, QByteArray> names; // tid -> comm (the Store names its threads)
};

SchedSample schedSample()
{
    SchedSample s;
    const QDir tasks(QStringLiteral("/proc/self/task"));
    for (const QString &tid : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile f(tasks.filePath(tid) + QStringLiteral("/schedstat"));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QList<QByteArray> parts = f.readAll().trimmed().split(' ');
        if (parts.size() >= 2)
            s.byTask.insert(tid.toLatin1(), {parts[0].toLongLong(), parts[1].toLongLong()});
        QFile comm(tasks.filePath(tid) + QStringLiteral("/comm"));
        if (comm.open(QIODevice::ReadOnly))
            s.names.insert(tid.toLatin1(), comm.readAll().trimmed());
    }
    return s;
}

// On-CPU time per thread name (threads of one name summed), busiest first, as us per span.
QByteArray threadSplit(const SchedSample &before, const SchedSample &after, qint64 spans)
{
    QHash<QByteArray, qint64> byName;
    for (auto it = after.byTask.cbegin(); it != after.byTask.cend(); ++it) {
        const auto b = before.byTask.value(it.key(), {0, 0});
        byName[after.names.value(it.key(), it.key())] += it.value().first - b.first;
    }
    std::vector<std::pair<qint64, QByteArray>> sorted;
    for (auto it = byName.cbegin(); it != byName.cend(); ++it) {
        if (it.value() > 10000000) // 10 ms
            sorted.emplace_back(it.value(), it.key());
    }
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    QByteArray out;
    for (const auto &[ns, name] : sorted) {
        if (!out.isEmpty())
            out += ", ";
        out += name + ' ' + QByteArray::number(double(ns) / 1e9, 'f', 2) + " s ("
               + QByteArray::number(double(ns) / 1e3 / double(std::max<qint64>(spans, 1)), 'f', 1)
               + " us/span)";
    }
    return out;
}

QByteArray schedDelta(const SchedSample &before, const SchedSample &after)
{
    qint64 run = 0;
    qint64 wait = 0;
    for (auto it = after.byTask.cbegin(); it != after.byTask.cend(); ++it) {
        const auto b = before.byTask.value(it.key(), {0, 0});
        run += it.value().first - b.first;
        wait += it.value().second - b.second;
    }
    return QByteArray::number(double(run) / 1e9, 'f', 1) + " s on a CPU, "
           + QByteArray::number(double(wait) / 1e9, 'f', 1) + " s runnable but waiting for a CPU";
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
    return v[i];
}

struct Traffic
{
    std::vector<QByteArray> bodies;
    std::vector<int> spans;
    Bench::TrafficStats stats;
};

Traffic makeTraffic(const Options &o)
{
    Traffic t;
    Bench::GenAiTraffic gen(o.seed, o.batch);
    gen.setSequentialIds(o.sequentialIds);
    for (;;) {
        const std::vector<Otlp::OutResourceSpans> request = gen.nextRequest(o.spans);
        if (request.empty())
            break;
        int n = 0;
        for (const auto &rs : request)
            n += int(rs.spans.size());
        QByteArray body = o.json ? Otlp::encodeJson(request) : Otlp::encodeProtobuf(request);
        gen.countBytes(body.size());
        t.bodies.push_back(std::move(body));
        t.spans.push_back(n);
    }
    t.stats = gen.stats();
    return t;
}

Otlp::DecodeResult decode(bool json, const QByteArray &body)
{
    return json ? Otlp::decodeJson(body) : Otlp::decodeProtobuf(body);
}

struct Rate
{
    bool measured = false;
    double spansPerSecond = 0;
    double wallSeconds = 0;
    double cpuSeconds = 0;
};

// Decode every body once on this thread (the receiver decodes each body once on a worker).
Rate parseOnly(const Options &o, const Traffic &t)
{
    for (size_t i = 0; i < std::min<size_t>(t.bodies.size(), 16); ++i) // warm up
        (void)decode(o.json, t.bodies[i]);
    qint64 spans = 0;
    phaseMark("parse-only start");
    const double cpu0 = threadCpuSeconds();
    const auto start = Clock::now();
    for (size_t i = 0; i < t.bodies.size(); ++i) {
        const Otlp::DecodeResult r = decode(o.json, t.bodies[i]);
        if (!r.error.isEmpty() || r.rejectedSpans != 0 || int(r.spans.size()) != t.spans[i]) {
            std::fprintf(stderr, "decode of body %zu failed: %s %s\n", i, qPrintable(r.error),
                         qPrintable(r.rejectMessage));
            std::exit(1);
        }
        spans += qint64(r.spans.size());
    }
    Rate rate;
    rate.measured = true;
    rate.wallSeconds = seconds(start, Clock::now());
    rate.cpuSeconds = threadCpuSeconds() - cpu0;
    phaseMark("parse-only end");
    rate.spansPerSecond = double(spans) / rate.wallSeconds;
    std::printf("parse-only: %lld spans in %.2f s = %.0f spans/s (thread CPU %.2f s = %.0f spans per CPU s); load %s\n",
                static_cast<long long>(spans), rate.wallSeconds, rate.spansPerSecond, rate.cpuSeconds,
                double(spans) / rate.cpuSeconds, loadAverage().constData());
    return rate;
}

void checkStore(Store &store, const Traffic &t)
{
    store.flush();
    const qint64 events = store.eventCount().value();
    const qint64 runs = store.runCount().value();
    const qint64 expectedEvents = t.stats.spans + t.stats.spanEvents;
    std::printf("  store holds %lld events (expected %lld), %lld runs (expected %lld)%s\n",
                static_cast<long long>(events), static_cast<long long>(expectedEvents),
                static_cast<long long>(runs), static_cast<long long>(t.stats.traces),
                events == expectedEvents && runs == t.stats.traces ? "" : "  <-- MISMATCH");
}

// The decoded batches through RunMonitor into a fresh Store, `inFlight` batches at a time.
Rate storeOnly(const Options &o, const Traffic &t, const QString &dir)
{
    std::vector<std::vector<Span>> decoded;
    decoded.reserve(t.bodies.size());
    for (const QByteArray &body : t.bodies)
        decoded.push_back(decode(o.json, body).spans);

    const QString path = dir + QStringLiteral("/store-only.db");
    auto opened = Store::open(path);
    if (!opened) {
        std::fprintf(stderr, "open %s: %s\n", qPrintable(path), qPrintable(opened.error().message));
        std::exit(1);
    }
    std::shared_ptr<Store> store = opened.value();
    Rate rate;
    {
        RunMonitor monitor(store, PriceTable::builtin());
        QEventLoop loop;
        size_t next = 0;
        size_t done = 0;
        int inFlight = 0;
        qint64 failures = 0;
        std::function<void()> pump = [&] {
            while (inFlight < o.connections && next < decoded.size()) {
                ++inFlight;
                monitor.ingestSpans(std::move(decoded[next++]), [&](const Result<void> &r) {
                    --inFlight;
                    ++done;
                    if (!r.ok())
                        ++failures;
                    if (done == decoded.size())
                        loop.quit();
                    else
                        QTimer::singleShot(0, &monitor, pump); // not from inside the callback
                });
            }
        };
        phaseMark("store-only start");
        const qint64 written0 = storageWriteBytes();
        const SchedSample sched0 = schedSample();
        const double cpu0 = processCpuSeconds();
        const double mainCpu0 = threadCpuSeconds();
        const auto start = Clock::now();
        QTimer::singleShot(0, &monitor, pump);
        loop.exec();
        rate.measured = true;
        rate.wallSeconds = seconds(start, Clock::now());
        rate.cpuSeconds = processCpuSeconds() - cpu0;
        const double mainCpu = threadCpuSeconds() - mainCpu0;
        phaseMark("store-only end");
        rate.spansPerSecond = double(t.stats.spans) / rate.wallSeconds;
        std::printf("store-only (RunMonitor -> Store, %d batches in flight): %lld spans in %.2f s = %.0f spans/s "
                    "(process CPU %.2f s = %.0f spans per CPU s)%s; load %s\n",
                    o.connections, static_cast<long long>(t.stats.spans), rate.wallSeconds,
                    rate.spansPerSecond, rate.cpuSeconds, double(t.stats.spans) / rate.cpuSeconds,
                    failures ? " WITH FAILURES" : "", loadAverage().constData());
        const qint64 written = storageWriteBytes() - written0;
        const SchedSample sched1 = schedSample();
        std::printf("  threads of the process: %s\n", schedDelta(sched0, sched1).constData());
        std::printf("  on-CPU time by thread: %s\n", threadSplit(sched0, sched1, t.stats.spans).constData());
        std::printf("  CPU split: RunMonitor thread %.2f s (%.1f us/span), other threads (Store writer) %.2f s (%.1f us/span)\n",
                    mainCpu, mainCpu * 1e6 / double(t.stats.spans), rate.cpuSeconds - mainCpu,
                    (rate.cpuSeconds - mainCpu) * 1e6 / double(t.stats.spans));
        std::printf("  written to storage: %.0f MB = %.0f bytes per span; database file %.0f MB\n", double(written) / 1e6,
                    double(written) / double(t.stats.spans), double(QFileInfo(path).size()) / 1e6);
    }
    decoded.clear();
    decoded.shrink_to_fit();
    checkStore(*store, t);
    return rate;
}

Rate endToEnd(const Options &o, const Traffic &t, const QString &dir)
{
    Engine engine;
    Engine::Options eo;
    eo.dbPath = dir + QStringLiteral("/e2e.db");
    eo.listenPort = 0;
    if (auto started = engine.start(eo); !started) {
        std::fprintf(stderr, "engine: %s\n", qPrintable(started.error().message));
        std::exit(1);
    }

    QThread clientThread;
    clientThread.setObjectName(QStringLiteral("bench client"));
    QObject context;
    context.moveToThread(&clientThread);
    clientThread.start();

    QEventLoop loop;
    std::unique_ptr<Bench::LoadClient> client;
    Bench::LoadClient::Result r;
    const QByteArray type = o.json ? QByteArrayLiteral("application/json")
                                   : QByteArrayLiteral("application/x-protobuf");
    constexpr qint64 kSegment = 100'000;
    phaseMark("e2e start");
    const qint64 written0 = storageWriteBytes();
    const SchedSample sched0 = schedSample();
    const double cpu0 = processCpuSeconds();
    const double mainCpu0 = threadCpuSeconds();
    QMetaObject::invokeMethod(&context, [&] {
        client = std::make_unique<Bench::LoadClient>(&context, engine.receiver()->port(), type, &t.bodies,
                                                     &t.spans, o.connections, kSegment);
        client->start([&loop] { QMetaObject::invokeMethod(&loop, &QEventLoop::quit, Qt::QueuedConnection); });
    });
    loop.exec();
    const double cpu = processCpuSeconds() - cpu0;
    const double mainCpu = threadCpuSeconds() - mainCpu0;
    const SchedSample sched1 = schedSample();
    const QByteArray sched = schedDelta(sched0, sched1);
    phaseMark("e2e end");
    QMetaObject::invokeMethod(
        &context,
        [&] {
            r = client->result();
            client.reset();
        },
        Qt::BlockingQueuedConnection);
    clientThread.quit();
    clientThread.wait();

    Rate rate;
    rate.measured = true;
    rate.wallSeconds = seconds(r.firstSend, r.lastOk);
    rate.cpuSeconds = cpu;
    rate.spansPerSecond = double(r.spansOk) / rate.wallSeconds;
    std::printf("end-to-end (HTTP -> commit -> 200, %d keep-alive connections): %lld spans in %.2f s = %.0f spans/s; "
                "%lld requests, %lld retried; process CPU %.2f s (client thread %.2f s) = %.0f spans per CPU s; load %s\n",
                o.connections, static_cast<long long>(r.spansOk), rate.wallSeconds, rate.spansPerSecond,
                static_cast<long long>(r.requestsOk), static_cast<long long>(r.retries), cpu,
                r.threadCpuSeconds, double(r.spansOk) / (cpu - r.threadCpuSeconds), loadAverage().constData());
    // Per thread below: RunMonitor on run-monitor, HTTP on otlp-receiver, decoding on the pool.
    std::printf("  main thread (the engine's timers) %.2f s\n", mainCpu);
    std::printf("  threads of the process: %s\n", sched.constData());
    std::printf("  on-CPU time by thread: %s\n",
                threadSplit(sched0, sched1, std::max<qint64>(r.spansOk, 1)).constData());
    std::printf("  written to storage: %.0f bytes per span\n",
                double(storageWriteBytes() - written0) / double(std::max<qint64>(r.spansOk, 1)));
    std::printf("  request latency (send -> 200): p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                percentile(r.latencyMs, 0.5), percentile(r.latencyMs, 0.99), percentile(r.latencyMs, 1.0));
    auto previous = r.firstSend;
    for (size_t s = 0; s < r.segmentEnd.size(); ++s) {
        std::printf("  spans %7lld..%7lld: %.0f spans/s\n", static_cast<long long>(qint64(s) * kSegment),
                    static_cast<long long>(qint64(s + 1) * kSegment),
                    double(kSegment) / seconds(previous, r.segmentEnd[s]));
        previous = r.segmentEnd[s];
    }
    for (const QByteArray &e : r.errors)
        std::printf("  client: %s\n", e.constData());
    checkStore(*engine.store(), t);
    std::printf("  peak resident memory of the process so far: %ld MB\n", residentKb() / 1024);
    return rate;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("breaker.*.info=false"));
    const Options o = parseArgs(app.arguments());

    QTemporaryDir tmp(o.dir.isEmpty() ? QDir::tempPath() + QStringLiteral("/bench_ingest-XXXXXX")
                                      : o.dir + QStringLiteral("/bench_ingest-XXXXXX"));
    if (!tmp.isValid()) {
        std::fprintf(stderr, "cannot create a temporary folder\n");
        return 1;
    }
    if (o.keep) {
        tmp.setAutoRemove(false);
        std::printf("keeping the Stores in %s\n", qPrintable(tmp.path()));
    }

    std::printf("bench_ingest: format %s, %lld spans, batches of %d, %d connections; %ld CPUs, load %s\n",
                o.json ? "json" : "proto", static_cast<long long>(o.spans), o.batch, o.connections,
                sysconf(_SC_NPROCESSORS_ONLN), loadAverage().constData());
    const auto genStart = Clock::now();
    const Traffic t = makeTraffic(o);
    qint64 bytes = 0;
    for (const QByteArray &b : t.bodies)
        bytes += b.size();
    std::printf("traffic: %lld spans in %zu requests, %lld traces (%.1f spans/trace), %lld approval span events; "
                "%.0f bytes/span, %.0f KB/request (generated in %.1f s)\n",
                static_cast<long long>(t.stats.spans), t.bodies.size(), static_cast<long long>(t.stats.traces),
                double(t.stats.spans) / double(t.stats.traces), static_cast<long long>(t.stats.spanEvents),
                double(bytes) / double(t.stats.spans), double(bytes) / double(t.bodies.size()) / 1024.0,
                seconds(genStart, Clock::now()));
    std::fflush(stdout);

    Rate parse, store, e2e;
    if (o.phases.contains(QLatin1String("parse"))) {
        parse = parseOnly(o, t);
        std::fflush(stdout);
    }
    if (o.phases.contains(QLatin1String("store"))) {
        store = storeOnly(o, t, tmp.path());
        std::fflush(stdout);
    }
    if (o.phases.contains(QLatin1String("e2e"))) {
        e2e = endToEnd(o, t, tmp.path());
        std::fflush(stdout);
    }

    std::printf("\nsummary (%s, %.0f bytes/span):\n", o.json ? "json" : "proto", double(bytes) / double(t.stats.spans));
    if (parse.measured)
        std::printf("  parse-only  %9.0f spans/s\n", parse.spansPerSecond);
    if (store.measured)
        std::printf("  store-only  %9.0f spans/s\n", store.spansPerSecond);
    if (e2e.measured) {
        std::printf("  end-to-end  %9.0f spans/s   target >= 100000: %s\n", e2e.spansPerSecond,
                    e2e.spansPerSecond >= 100000 ? "met" : "NOT met");
        if (parse.measured && store.measured) {
            const double ceiling = std::min(parse.spansPerSecond, store.spansPerSecond);
            std::printf("  ceiling     %9.0f spans/s (min of parse-only, store-only); end-to-end / ceiling = %.2f   "
                        "target >= 0.6: %s\n",
                        ceiling, e2e.spansPerSecond / ceiling, e2e.spansPerSecond / ceiling >= 0.6 ? "met" : "NOT met");
        }
    }
    return 0;
}
