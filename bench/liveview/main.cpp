// bench_liveview: how fast a new run reaches the runs table under load, and whether the GUI
// thread stalls (docs/BENCHMARKS.md, "Live view").
//
//   bench_liveview [--seconds N] [--rate RUNS_PER_MIN_PER_AGENT (default 7200, 0: burst
//                  default)] [--sandbox-thread own|gui] [--seed N]
//
// One process: an Engine (receiver, RunMonitor and Store on threads of their own, as in the
// console),
// a StoreRunFeed and a MainWindow (QT_QPA_PLATFORM=offscreen unless set), and the sandbox in
// burst mode sending OTLP to the engine's receiver over loopback. By default the sandbox runs
// on a thread of its own: in the product it is a separate process (SandboxProcess), so its
// span generation and encoding must not be charged to the console's GUI thread.
//
// For every run the bench records, by trace id:
//   started   the sandbox fleet started the run (its root span was created; runStarted);
//   emitted   the run's first ended span was handed to the sandbox's OTLP exporter
//             (OtlpSender::enqueue): the earliest moment any exporter could send it;
//   decoded   the receiver handed the decoded request with the run's first span to its sink
//             (the bench wraps Engine's sink with the same body plus a timestamp);
//   committed RunMonitor::runsCommitted first reported the run (the Store committed it);
//   row       RunsTableModel::rowsInserted for the run's row.
// The latency reported against the target is emitted -> row. The GUI thread's stalls are the
// gaps of a 10 ms Qt::PreciseTimer heartbeat minus 10 ms; beside them, the GUI thread's own CPU
// time within each gap (a gap with little CPU in it is the OS running other processes: the
// machine is shared).
#include "app/sandbox/OtlpSender.h"
#include "app/sandbox/Sandbox.h"
#include "app/sandbox/SandboxFleet.h"
#include "app/services/Engine.h"
#include "app/services/RunMonitor.h"
#include "app/services/StoreRunFeed.h"
#include "connectors/observability/OtlpReceiver.h"
#include "models/Profile.h"
#include "models/Store.h"
#include "views/MainWindow.h"
#include "views/RunsTableModel.h"

#include <QApplication>

#include <map>
#include <QDir>
#include <QFile>
#include <QHash>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

using namespace Breaker;
using Clock = std::chrono::steady_clock;

namespace {

struct Options
{
    int seconds = 30;
    // Runs started per minute per agent. The sandbox's burst default (12,000) gives 5,000-7,000
    // spans/s here depending on how much CPU the sandbox thread gets; 7,200 (4 agents x 120
    // runs/s x ~10.5 spans per run) gives the ~5,000 spans/s of the target. 0: burst default.
    double ratePerMinute = 7200;
    bool sandboxOnOwnThread = true;
    quint64 seed = 20251127;
};

[[noreturn]] void usage(const char *why)
{
    std::fprintf(stderr,
                 "bench_liveview: %s\nusage: bench_liveview [--seconds N] [--rate RUNS_PER_MIN_PER_AGENT]\n"
                 "                      [--sandbox-thread own|gui] [--seed N]\n",
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
        if (a == QLatin1String("--seconds"))
            o.seconds = value().toInt();
        else if (a == QLatin1String("--rate"))
            o.ratePerMinute = value().toDouble();
        else if (a == QLatin1String("--sandbox-thread"))
            o.sandboxOnOwnThread = value() != QLatin1String("gui");
        else if (a == QLatin1String("--seed"))
            o.seed = value().toULongLong();
        else
            usage("unknown argument");
    }
    if (o.seconds <= 0 || o.ratePerMinute < 0)
        usage("--seconds must be positive, --rate not negative");
    return o;
}

QByteArray loadAverage()
{
    QFile f(QStringLiteral("/proc/loadavg"));
    if (!f.open(QIODevice::ReadOnly))
        return "?";
    return f.readAll().trimmed().split(' ').mid(0, 3).join(' ');
}

double ms(Clock::duration d)
{
    return std::chrono::duration<double, std::milli>(d).count();
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
    return v[i];
}

void printDistribution(const char *what, const std::vector<double> &v)
{
    std::printf("  %-34s n=%6zu  p50 %7.1f  p90 %7.1f  p99 %7.1f  max %7.1f ms\n", what, v.size(),
                percentile(v, 0.5), percentile(v, 0.9), percentile(v, 0.99), percentile(v, 1.0));
}

QByteArray traceOf(const Run &run)
{
    const QByteArray marker = "\"trace_id\":\"";
    const qsizetype at = run.externalIdsJson.indexOf(marker);
    if (at < 0)
        return {};
    return run.externalIdsJson.mid(at + marker.size(), 32);
}

struct Timing
{
    Clock::time_point started{};
    Clock::time_point emitted{};
    Clock::time_point decoded{};
    Clock::time_point committed{};
    Clock::time_point row{};
    bool hasStarted = false;
    bool hasEmitted = false;
    bool hasDecoded = false;
    bool hasCommitted = false;
    bool hasRow = false;
};

// (ns on a CPU, ns runnable but waiting for a CPU) of one thread, or of every thread of the
// process when tid is empty (/proc/self/task/*/schedstat).
QPair<qint64, qint64> schedstat(const QString &tid = {})
{
    QPair<qint64, qint64> sum{0, 0};
    const QDir tasks(QStringLiteral("/proc/self/task"));
    const QStringList ids = tid.isEmpty() ? tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot) : QStringList{tid};
    for (const QString &id : ids) {
        QFile f(tasks.filePath(id) + QStringLiteral("/schedstat"));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QList<QByteArray> parts = f.readAll().trimmed().split(' ');
        if (parts.size() >= 2) {
            sum.first += parts[0].toLongLong();
            sum.second += parts[1].toLongLong();
        }
    }
    return sum;
}

double threadCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

} // namespace

// Times every event the GUI thread handles at the top level, so that a long stall can be named
// (receiver class and event type), not only measured.
class TimedApplication : public QApplication
{
public:
    using QApplication::QApplication;
    struct Slow
    {
        double ms;
        QByteArray what;
    };
    bool notify(QObject *receiver, QEvent *event) override
    {
        // notify() runs on every thread that dispatches events: only the GUI thread's count.
        if (m_depth > 0 || !m_recording || QThread::currentThread() != thread())
            return QApplication::notify(receiver, event);
        // Named before the call: the receiver may delete itself while handling the event.
        const char *className = receiver ? receiver->metaObject()->className() : "?";
        QString name = receiver ? receiver->objectName() : QString();
        // A QTimer is named by whoever owns it.
        if (receiver && name.isEmpty() && receiver->parent())
            name = QStringLiteral("in ") + QString::fromLatin1(receiver->parent()->metaObject()->className());
        const int type = int(event->type());
        ++m_depth;
        const auto start = Clock::now();
        const bool result = QApplication::notify(receiver, event);
        const double took = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        --m_depth;
        if (m_recording) { // not the bench's own stop, which ends the recording
            QByteArray what(className);
            if (!name.isEmpty())
                what += " \"" + name.toUtf8() + '"';
            what += " event " + QByteArray::number(type);
            auto &total = m_totals[what];
            total.first += took;
            ++total.second;
            if (took >= 20.0)
                m_slow.push_back({took, what});
        }
        return result;
    }
    void setRecording(bool on) { m_recording = on; }
    // Time per kind of event over the whole recording, most first.
    std::vector<std::pair<QByteArray, std::pair<double, int>>> totals(size_t n) const
    {
        std::vector<std::pair<QByteArray, std::pair<double, int>>> out(m_totals.begin(), m_totals.end());
        std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.second.first > b.second.first; });
        if (out.size() > n)
            out.resize(n);
        return out;
    }
    std::vector<Slow> slowest(size_t n)
    {
        std::sort(m_slow.begin(), m_slow.end(), [](const Slow &a, const Slow &b) { return a.ms > b.ms; });
        if (m_slow.size() > n)
            m_slow.resize(n);
        return m_slow;
    }

private:
    int m_depth = 0;
    bool m_recording = false;
    std::vector<Slow> m_slow;
    std::map<QByteArray, std::pair<double, int>> m_totals;
};

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    TimedApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("breaker.*.info=false"));
    Options o = parseArgs(app.arguments());

    QTemporaryDir tmp(QDir::tempPath() + QStringLiteral("/bench_liveview-XXXXXX"));
    if (!tmp.isValid()) {
        std::fprintf(stderr, "cannot create a temporary folder\n");
        return 1;
    }
    QDir(tmp.path()).mkpath(QStringLiteral("run"));

    Engine engine;
    Engine::Options eo;
    eo.dbPath = tmp.path() + QStringLiteral("/live.db");
    eo.listenPort = 0;
    if (auto started = engine.start(eo); !started) {
        std::fprintf(stderr, "engine: %s\n", qPrintable(started.error().message));
        return 1;
    }
    std::mutex mutex; // guards `timings` (the sandbox thread writes started/emitted)
    QHash<QByteArray, Timing> timings;
    QHash<QByteArray, QByteArray> runByTrace;         // trace id -> run id, from commits
    QHash<QByteArray, Clock::time_point> rowById;    // run id -> when its row was inserted

    // Engine's sink, wrapped: a timestamp for each run's first decoded span, then the engine's
    // own. The receiver lives on its own thread, so the sink is swapped there.
    const auto engineSink = engine.spanSink();
    auto timedSink = [&, engineSink](std::shared_ptr<Otlp::DecodeResult> batch, OtlpReceiver::Reply reply) {
        {
            const auto now = Clock::now();
            std::lock_guard lock(mutex);
            for (const Span &span : batch->spans) {
                Timing &t = timings[Otlp::toHex(span.traceId)];
                if (!t.hasDecoded) {
                    t.decoded = now;
                    t.hasDecoded = true;
                }
            }
        }
        engineSink(std::move(batch), std::move(reply));
    };
    QMetaObject::invokeMethod(
        engine.receiver(), [&engine, timedSink] { engine.receiver()->setSink(timedSink); },
        Qt::BlockingQueuedConnection);

    StoreRunFeed feed(engine.store());
    feed.attachMonitor(engine.monitor());
    QObject::connect(engine.receiver(), &OtlpReceiver::spansAccepted, &feed, &StoreRunFeed::countSpans);
    MainWindow window(&feed);
    window.resize(1400, 900);
    window.show();

    const Clock::time_point begin = Clock::now();
    Clock::time_point stopAt = begin + std::chrono::seconds(o.seconds);

    // The row and commit side, on the GUI thread.
    QObject::connect(engine.monitor(), &RunMonitor::runsCommitted, &window, [&](const std::vector<Run> &runs) {
        const auto now = Clock::now();
        std::lock_guard lock(mutex);
        for (const Run &run : runs) {
            const QByteArray trace = traceOf(run);
            if (trace.isEmpty())
                continue;
            runByTrace.insert(trace, run.id);
            Timing &t = timings[trace];
            if (!t.hasCommitted) {
                t.committed = now;
                t.hasCommitted = true;
            }
        }
    });
    RunsTableModel *model = window.runsModel();
    QObject::connect(model, &QAbstractItemModel::rowsInserted, &window, [&](const QModelIndex &, int first, int last) {
        const auto now = Clock::now();
        std::lock_guard lock(mutex);
        for (int row = first; row <= last; ++row) {
            const Run *run = model->runAt(row);
            if (!run)
                continue;
            // A run the sandbox's A2A task named first has no trace id in its row yet: its row
            // time is joined to its trace through the run id when a commit carries both.
            rowById.insert(run->id, now);
            const QByteArray trace = traceOf(*run);
            if (trace.isEmpty())
                continue;
            Timing &t = timings[trace];
            if (!t.hasRow) {
                t.row = now;
                t.hasRow = true;
            }
        }
    });

    // The GUI thread's heartbeat.
    std::vector<double> gaps;
    std::vector<double> gapCpu;
    gaps.reserve(size_t(o.seconds) * 110);
    gapCpu.reserve(size_t(o.seconds) * 110);
    Clock::time_point lastBeat = Clock::now();
    double lastBeatCpu = threadCpuMs();
    QTimer heartbeat;
    heartbeat.setTimerType(Qt::PreciseTimer);
    heartbeat.setInterval(10);
    QObject::connect(&heartbeat, &QTimer::timeout, [&] {
        const auto now = Clock::now();
        const double cpu = threadCpuMs();
        gaps.push_back(ms(now - lastBeat));
        gapCpu.push_back(cpu - lastBeatCpu);
        lastBeat = now;
        lastBeatCpu = cpu;
    });

    // The sandbox, in burst mode, with a span handler that timestamps each run's first span.
    SandboxOptions so;
    so.otlpEndpoint = QUrl(engine.otlpEndpoint());
    so.burst = true;
    so.seed = o.seed;
    so.seedGiven = true;
    if (o.ratePerMinute > 0) {
        so.ratePerMinute = o.ratePerMinute;
        so.rateGiven = true;
    }
    QThread sandboxThread;
    sandboxThread.setObjectName(QStringLiteral("sandbox"));
    QObject sandboxContext;
    if (o.sandboxOnOwnThread) {
        sandboxContext.moveToThread(&sandboxThread);
        sandboxThread.start();
    }
    Sandbox *sandbox = nullptr;
    QString profilePath;
    QString startError;
    int agents = 0;
    QMetaObject::invokeMethod(
        &sandboxContext,
        [&] {
            sandbox = new Sandbox(so);
            sandbox->setRuntimeDir(tmp.path() + QStringLiteral("/run"));
            sandbox->setProgressIntervalMs(0);
            if (auto started = sandbox->start(); !started) {
                startError = started.error().message;
                return;
            }
            profilePath = sandbox->profilePath();
            SandboxFleet *fleet = sandbox->fleet();
            OtlpSender *sender = sandbox->sender();
            agents = fleet->agentCount();
            // Sandbox::start registered one resource per agent, in agent order, on a fresh sender.
            fleet->setSpanHandler([&, sender](int agent, Otlp::OutSpan &&span) {
                const auto now = Clock::now();
                {
                    std::lock_guard lock(mutex);
                    Timing &t = timings[Otlp::toHex(span.traceId)];
                    if (!t.hasEmitted) {
                        t.emitted = now;
                        t.hasEmitted = true;
                    }
                }
                sender->enqueue(agent, std::move(span));
            });
            QObject::connect(fleet, &SandboxFleet::runStarted, &sandboxContext,
                             [&](const QString &, const QString &, const QByteArray &traceHex) {
                                 const auto now = Clock::now();
                                 std::lock_guard lock(mutex);
                                 Timing &t = timings[traceHex];
                                 if (!t.hasStarted) {
                                     t.started = now;
                                     t.hasStarted = true;
                                 }
                             });
        },
        o.sandboxOnOwnThread ? Qt::BlockingQueuedConnection : Qt::DirectConnection);
    if (!startError.isEmpty()) {
        std::fprintf(stderr, "sandbox: %s\n", qPrintable(startError));
        return 1;
    }
    // As the console does once the sandbox is ready: bind its agents.
    if (auto profile = loadProfile(profilePath); profile)
        engine.applyProfile(profile.value());
    else
        std::fprintf(stderr, "sandbox profile: %s\n", qPrintable(profile.error().message));

    std::printf("bench_liveview: %d s, sandbox burst mode (%d agents, %s runs/min per agent) on %s; %ld CPUs, load %s\n",
                o.seconds, agents,
                o.ratePerMinute > 0 ? qPrintable(QString::number(o.ratePerMinute)) : "default",
                o.sandboxOnOwnThread ? "its own thread" : "the GUI thread", sysconf(_SC_NPROCESSORS_ONLN),
                loadAverage().constData());
    std::fflush(stdout);

    const QString guiTid = QString::number(gettid());
    const auto guiSched0 = schedstat(guiTid);
    const auto procSched0 = schedstat();
    QPair<qint64, qint64> guiSched1, procSched1;
    lastBeat = Clock::now();
    lastBeatCpu = threadCpuMs();
    heartbeat.start();
    app.setRecording(true);
    stopAt = Clock::now() + std::chrono::seconds(o.seconds);
    qint64 deliveredAtStop = 0;
    qint64 acceptedAtStart = engine.receiver()->spansAcceptedTotal();
    qint64 acceptedAtStop = 0;
    Clock::time_point measureStart = Clock::now();
    std::vector<double> rateSamples;
    qint64 lastAccepted = acceptedAtStart;
    QTimer rateTimer;
    QObject::connect(&rateTimer, &QTimer::timeout, [&] {
        const qint64 now = engine.receiver()->spansAcceptedTotal();
        rateSamples.push_back(double(now - lastAccepted));
        lastAccepted = now;
    });
    rateTimer.start(1000);

    QTimer::singleShot(o.seconds * 1000, &window, [&] {
        heartbeat.stop();
        app.setRecording(false);
        rateTimer.stop();
        guiSched1 = schedstat(guiTid);
        procSched1 = schedstat();
        acceptedAtStop = engine.receiver()->spansAcceptedTotal();
        QMetaObject::invokeMethod(
            &sandboxContext,
            [&] {
                deliveredAtStop = sandbox->sender()->stats().spansDelivered;
                sandbox->fleet()->stop(); // no new runs; runs in flight are dropped
            },
            o.sandboxOnOwnThread ? Qt::BlockingQueuedConnection : Qt::DirectConnection);
        // Let what was emitted reach the table (at most 3 s).
        QTimer::singleShot(3000, &app, &QCoreApplication::quit);
    });
    app.exec();
    const double measuredSeconds = ms(stopAt - measureStart) / 1000.0;

    OtlpSender::Stats senderStats;
    QMetaObject::invokeMethod(
        &sandboxContext,
        [&] {
            senderStats = sandbox->sender()->stats();
            delete sandbox;
            sandbox = nullptr;
        },
        o.sandboxOnOwnThread ? Qt::BlockingQueuedConnection : Qt::DirectConnection);
    sandboxThread.quit();
    sandboxThread.wait();

    // Results.
    std::vector<double> emittedToRow, startedToRow, emittedToCommit, commitToRow, emittedToDecoded,
        decodedToCommit, decodedToRow;
    qint64 runsEmitted = 0, runsShown = 0, missing = 0, missingDecoded = 0, missingCommitted = 0;
    {
        std::lock_guard lock(mutex);
        for (auto it = timings.begin(); it != timings.end(); ++it) {
            Timing &t = it.value();
            if (!t.hasEmitted || t.emitted > stopAt)
                continue;
            ++runsEmitted;
            if (!t.hasRow) {
                const auto id = runByTrace.constFind(it.key());
                const auto row = id == runByTrace.cend() ? rowById.cend() : rowById.constFind(*id);
                if (row != rowById.cend()) {
                    t.row = *row;
                    t.hasRow = true;
                }
            }
            if (!t.hasRow) {
                ++missing;
                missingDecoded += t.hasDecoded ? 1 : 0;
                missingCommitted += t.hasCommitted ? 1 : 0;
                continue;
            }
            ++runsShown;
            emittedToRow.push_back(ms(t.row - t.emitted));
            if (t.hasStarted)
                startedToRow.push_back(ms(t.row - t.started));
            if (t.hasDecoded)
                decodedToRow.push_back(ms(t.row - t.decoded));
            if (t.hasCommitted) {
                emittedToCommit.push_back(ms(t.committed - t.emitted));
                commitToRow.push_back(ms(t.row - t.committed));
                if (t.hasDecoded) {
                    emittedToDecoded.push_back(ms(t.decoded - t.emitted));
                    decodedToCommit.push_back(ms(t.committed - t.decoded));
                }
            }
        }
    }
    std::vector<double> stalls;
    stalls.reserve(gaps.size());
    for (double g : gaps)
        stalls.push_back(std::max(0.0, g - 10.0));
    auto countOver = [&](double limit) {
        return std::count_if(stalls.begin(), stalls.end(), [limit](double s) { return s > limit; });
    };

    std::printf("load: sandbox delivered %lld spans in %.1f s; receiver accepted %lld spans = %.0f spans/s "
                "(per-second samples: min %.0f, median %.0f, max %.0f); %lld runs emitted; load %s\n",
                static_cast<long long>(deliveredAtStop), measuredSeconds,
                static_cast<long long>(acceptedAtStop - acceptedAtStart),
                double(acceptedAtStop - acceptedAtStart) / measuredSeconds, percentile(rateSamples, 0),
                percentile(rateSamples, 0.5), percentile(rateSamples, 1.0), static_cast<long long>(runsEmitted),
                loadAverage().constData());
    std::printf("sandbox sender: %lld requests ok, %lld failed, %lld dropped, %lld rejected, %lld retries\n",
                static_cast<long long>(senderStats.requestsOk), static_cast<long long>(senderStats.requestsFailed),
                static_cast<long long>(senderStats.spansDropped), static_cast<long long>(senderStats.spansRejected),
                static_cast<long long>(senderStats.retries));
    std::printf("new run -> row in the runs table (%lld runs shown, %lld never shown: %lld of them decoded, %lld committed):\n",
                static_cast<long long>(runsShown), static_cast<long long>(missing), static_cast<long long>(missingDecoded),
                static_cast<long long>(missingCommitted));
    printDistribution("first span emitted -> row", emittedToRow);
    printDistribution("  of which emitted -> committed", emittedToCommit);
    printDistribution("    emitted -> decoded at the sink", emittedToDecoded);
    printDistribution("    decoded -> committed", decodedToCommit);
    printDistribution("  of which committed -> row", commitToRow);
    printDistribution("run started (root created) -> row", startedToRow);
    printDistribution("first request decoded -> row", decodedToRow);
    std::printf("GUI thread stalls (10 ms heartbeat gap - 10 ms), %zu beats:\n", stalls.size());
    std::printf("  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f ms; over 16 ms: %ld, over 50 ms: %ld, over 100 ms: %ld\n",
                percentile(stalls, 0.5), percentile(stalls, 0.9), percentile(stalls, 0.99), percentile(stalls, 0.999),
                percentile(stalls, 1.0), long(countOver(16)), long(countOver(50)), long(countOver(100)));
    std::vector<double> cpuInLongGaps;
    for (size_t i = 0; i < gaps.size(); ++i) {
        if (gaps[i] - 10.0 > 50.0)
            cpuInLongGaps.push_back(gapCpu[i]);
    }
    std::printf("  GUI-thread CPU per gap: p50 %.1f  p99 %.1f  max %.1f ms; in the gaps over 50 ms: median %.1f, max %.1f ms "
                "(the rest of such a gap the thread was waiting for a CPU)\n",
                percentile(gapCpu, 0.5), percentile(gapCpu, 0.99), percentile(gapCpu, 1.0), percentile(cpuInLongGaps, 0.5),
                percentile(cpuInLongGaps, 1.0));
    std::printf("  scheduler: GUI thread %.1f s on a CPU, %.1f s runnable but waiting for a CPU; whole process "
                "(threads alive at the end) %.1f s on a CPU, %.1f s waiting, in %.1f s; load %s\n",
                double(guiSched1.first - guiSched0.first) / 1e9, double(guiSched1.second - guiSched0.second) / 1e9,
                double(procSched1.first - procSched0.first) / 1e9, double(procSched1.second - procSched0.second) / 1e9,
                measuredSeconds, loadAverage().constData());
    std::printf("  runs in the table at the end: %d\n", model->rowCount());
    std::printf("  GUI-thread events that took 20 ms or more (receiver, QEvent type), slowest first:\n");
    for (const auto &slow : app.slowest(8))
        std::printf("    %6.1f ms  %s\n", slow.ms, slow.what.constData());
    std::printf("  GUI-thread time by kind of event (total, count):\n");
    for (const auto &[what, total] : app.totals(10))
        std::printf("    %7.0f ms %7d  %s\n", total.first, total.second, what.constData());
    std::printf("summary: run -> row p99 %.0f ms (target <= 250 ms: %s); max GUI stall %.0f ms (target <= 50 ms: %s)\n",
                percentile(emittedToRow, 0.99), percentile(emittedToRow, 0.99) <= 250 ? "met" : "NOT met",
                percentile(stalls, 1.0), percentile(stalls, 1.0) <= 50 ? "met" : "NOT met");
    return 0;
}
