// bench_runtime_follow: one A2A provider with 1,000 live tasks whose statuses change 2,000
// times a second. Breaker's A2A connector follows it (ListTasks with statusTimestampAfter), the
// RunMonitor correlates, the Store commits, the runs table model applies the rows. Reported:
// the lag from a status change (its timestamp) to the Store commit and to the table row, p50 /
// p99 / max, and how many changes the table saw at their final state.
//
// The provider is an in-process A2A 1.0 JSON-RPC server on the project's HTTP layer that
// implements ListTasks as @a2a-js/sdk 1.3.0 does (status-timestamp order, newest first,
// statusTimestampAfter filter, "<timestamp>|<id>" page cursors; see tests/data/a2a).
#include "app/services/RunMonitor.h"
#include "app/services/RuntimeService.h"
#include "app/services/StoreRunFeed.h"
#include "connectors/net/HttpServer.h"
#include "connectors/runtime/A2aConnector.h"
#include "models/Profile.h"
#include "models/Store.h"
#include "views/RunsTableModel.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <deque>
#include <cstdio>
#include <vector>

using namespace Breaker;

namespace {

struct FakeTask
{
    QString id;
    QString context;
    qint64 tsMs = 0;
    int step = 0;
    QString timestamp; // iso(tsMs), kept with it
    QString cursor;    // "<timestamp>|<id>", a2a-js's page token
    void touch(qint64 ms)
    {
        tsMs = ms;
        timestamp = QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
        cursor = timestamp + QLatin1Char('|') + id;
    }
};

double percentile(std::vector<qint64> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return double(v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))]);
}

} // namespace

int main(int argc, char *argv[])
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOptions({{QStringLiteral("tasks"), QStringLiteral("live tasks"), QStringLiteral("N"), QStringLiteral("1000")},
                       {QStringLiteral("rate"), QStringLiteral("status changes per second"), QStringLiteral("R"), QStringLiteral("2000")},
                       {QStringLiteral("seconds"), QStringLiteral("how long"), QStringLiteral("S"), QStringLiteral("30")},
                       {QStringLiteral("poll-ms"), QStringLiteral("connector poll interval (default: the connector's)"), QStringLiteral("MS")}});
    parser.addHelpOption();
    parser.process(app);
    const int taskCount = parser.value(QStringLiteral("tasks")).toInt();
    const int rate = parser.value(QStringLiteral("rate")).toInt();
    const int seconds = parser.value(QStringLiteral("seconds")).toInt();

    // The provider.
    std::vector<FakeTask> tasks(static_cast<size_t>(taskCount));
    const qint64 start = QDateTime::currentMSecsSinceEpoch();
    for (int i = 0; i < taskCount; ++i) {
        tasks[size_t(i)].id = QStringLiteral("task-%1").arg(i, 5, 10, QLatin1Char('0'));
        tasks[size_t(i)].context = QStringLiteral("ctx-%1").arg(i % 17);
        tasks[size_t(i)].touch(start);
    }
    Net::HttpServer server;
    qint64 listCalls = 0;
    server.route("GET", "/.well-known/agent-card.json", [&server](Net::HttpRequest, Net::HttpResponder r) {
        const QString url = QStringLiteral("http://127.0.0.1:%1/a2a/jsonrpc").arg(server.port());
        const QJsonObject card{{QStringLiteral("name"), QStringLiteral("Bench Agent")},
                               {QStringLiteral("version"), QStringLiteral("1")},
                               {QStringLiteral("capabilities"), QJsonObject{{QStringLiteral("streaming"), false}}},
                               {QStringLiteral("supportedInterfaces"),
                                QJsonArray{QJsonObject{{QStringLiteral("url"), url},
                                                       {QStringLiteral("protocolBinding"), QStringLiteral("JSONRPC")},
                                                       {QStringLiteral("protocolVersion"), QStringLiteral("1.0")}}}}};
        r.respond(200, "application/json", QJsonDocument(card).toJson(QJsonDocument::Compact));
    });
    server.route("POST", "/a2a/jsonrpc", [&](Net::HttpRequest req, Net::HttpResponder r) {
        const QJsonObject call = QJsonDocument::fromJson(req.body).object();
        const QJsonObject params = call.value(QLatin1String("params")).toObject();
        QJsonObject reply{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")}, {QStringLiteral("id"), call.value(QLatin1String("id"))}};
        if (call.value(QLatin1String("method")).toString() != QLatin1String("ListTasks")) {
            reply.insert(QStringLiteral("error"), QJsonObject{{QStringLiteral("code"), -32601}, {QStringLiteral("message"), QStringLiteral("Invalid method.")}});
            r.respond(200, "application/json", QJsonDocument(reply).toJson(QJsonDocument::Compact));
            return;
        }
        ++listCalls;
        const QString after = params.value(QLatin1String("statusTimestampAfter")).toString();
        const qint64 afterMs = after.isEmpty() ? 0 : QDateTime::fromString(after, Qt::ISODateWithMs).toMSecsSinceEpoch();
        std::vector<const FakeTask *> list;
        for (const FakeTask &t : tasks)
            if (t.tsMs > afterMs)
                list.push_back(&t);
        std::sort(list.begin(), list.end(), [](const FakeTask *a, const FakeTask *b) {
            return a->tsMs != b->tsMs ? a->tsMs > b->tsMs : a->id > b->id;
        });
        size_t from = 0;
        const QString token = params.value(QLatin1String("pageToken")).toString();
        if (!token.isEmpty()) {
            from = list.size();
            for (size_t i = 0; i < list.size(); ++i)
                if (list[i]->cursor == token)
                    from = i + 1;
        }
        const size_t pageSize = size_t(std::clamp(params.value(QLatin1String("pageSize")).toInt(50), 1, 100));
        QJsonArray page;
        for (size_t i = from; i < std::min(list.size(), from + pageSize); ++i) {
            const FakeTask &t = *list[i];
            page.append(QJsonObject{{QStringLiteral("id"), t.id},
                                    {QStringLiteral("contextId"), t.context},
                                    {QStringLiteral("status"),
                                     QJsonObject{{QStringLiteral("state"), QStringLiteral("TASK_STATE_WORKING")},
                                                 {QStringLiteral("timestamp"), t.timestamp}}}});
        }
        const size_t end = std::min(list.size(), from + pageSize);
        const QString next = end < list.size() && end > from ? list[end - 1]->cursor : QString();
        reply.insert(QStringLiteral("result"), QJsonObject{{QStringLiteral("tasks"), page},
                                                           {QStringLiteral("nextPageToken"), next},
                                                           {QStringLiteral("pageSize"), int(pageSize)},
                                                           {QStringLiteral("totalSize"), int(list.size())}});
        r.respond(200, "application/json", QJsonDocument(reply).toJson(QJsonDocument::Compact));
    });
    if (auto l = server.listen(QHostAddress::LocalHost, 0); !l.ok()) {
        std::fprintf(stderr, "listen: %s\n", qPrintable(l.error().message));
        return 1;
    }

    // Breaker: connector → RunMonitor → Store → feed → runs table model.
    QTemporaryDir dir;
    auto store = Store::open(dir.filePath(QStringLiteral("bench.db")));
    if (!store.ok())
        return 1;
    RunMonitor monitor(store.value(), PriceTable());
    StoreRunFeed feed(store.value());
    feed.attachMonitor(&monitor);
    RunsTableModel model;
    QObject::connect(&feed, &RunFeed::runsUpdated, &model, &RunsTableModel::updateRuns);

    ProviderConfig provider;
    provider.name = QStringLiteral("bench-a2a");
    provider.layer = QStringLiteral("runtime");
    provider.kind = QStringLiteral("a2a");
    provider.url = QUrl(QStringLiteral("http://127.0.0.1:%1/a2a/jsonrpc").arg(server.port()));
    A2aConnector connector(provider, {});
    if (parser.isSet(QStringLiteral("poll-ms")))
        connector.setPollIntervalMs(parser.value(QStringLiteral("poll-ms")).toInt());
    QObject::connect(&connector, &RuntimeConnector::runUpdated, &monitor,
                     [&monitor](const RuntimeRun &run) { monitor.ingestRuntime(run, QByteArray("bench-agent")); });

    // Every change waits in two queues (Store, table) until a commit or a row shows that task
    // at that change or a newer one; its lag is the time from the change to then. A change
    // overtaken by a newer one before Breaker saw it counts when the newer one is shown.
    QHash<QByteArray, QByteArray> taskOfRun;
    QHash<QByteArray, std::deque<qint64>> pendingStore;
    QHash<QByteArray, std::deque<qint64>> pendingTable;
    std::vector<qint64> storeLag;
    std::vector<qint64> tableLag;
    auto settle = [](std::deque<qint64> &pending, qint64 shownMs, qint64 now, std::vector<qint64> &lags) {
        while (!pending.empty() && pending.front() <= shownMs) {
            lags.push_back(now - pending.front());
            pending.pop_front();
        }
    };
    QObject::connect(&monitor, &RunMonitor::runtimeRunUpdated,
                     [&](const QByteArray &runId, const RuntimeRun &update) { taskOfRun.insert(runId, update.externalId); });
    QObject::connect(&monitor, &RunMonitor::runsCommitted, [&](const std::vector<Run> &runs) {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (const Run &r : runs)
            settle(pendingStore[taskOfRun.value(r.id)], r.updatedMs, now, storeLag);
    });
    QObject::connect(&model, &RunsTableModel::runsChanged, [&](const QList<QByteArray> &ids) {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (const QByteArray &id : ids)
            if (const Run *r = model.runById(id))
                settle(pendingTable[taskOfRun.value(id)], r->updatedMs, now, tableLag);
    });

    // 2,000 changes a second, in 10 ms ticks, round robin over the tasks.
    qint64 changes = 0;
    size_t next = 0;
    QElapsedTimer clock;
    clock.start();
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        const qint64 due = clock.elapsed() * rate / 1000;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (; changes < due; ++changes) {
            FakeTask &t = tasks[next];
            t.touch(now);
            ++t.step;
            pendingStore[t.id.toUtf8()].push_back(now);
            pendingTable[t.id.toUtf8()].push_back(now);
            next = (next + 1) % tasks.size();
        }
    });
    tick.start(10);
    connector.startFollowing();
    QTimer::singleShot(seconds * 1000, &app, &QCoreApplication::quit);
    app.exec();
    connector.stopFollowing();
    store.value()->flush();

    qint64 unseen = 0;
    for (const auto &q : std::as_const(pendingTable))
        unseen += qint64(q.size());
    auto runsCount = store.value()->runCount();
    std::printf("bench_runtime_follow: %d tasks, %d status changes/s for %d s, poll %s\n", taskCount, rate, seconds,
                parser.isSet(QStringLiteral("poll-ms")) ? qPrintable(parser.value(QStringLiteral("poll-ms")) + QStringLiteral(" ms"))
                                                        : "default");
    std::printf("  changes made %lld, ListTasks calls %lld, runs in the Store %lld\n", changes, listCalls,
                runsCount.ok() ? runsCount.value() : -1LL);
    std::printf("  lag change -> Store commit: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%zu samples)\n",
                percentile(storeLag, 0.5), percentile(storeLag, 0.99), percentile(storeLag, 1.0), storeLag.size());
    std::printf("  lag change -> runs table row: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%zu samples)\n",
                percentile(tableLag, 0.5), percentile(tableLag, 0.99), percentile(tableLag, 1.0), tableLag.size());
    std::printf("  changes not yet in the table when the run ended: %lld (the last poll interval's)\n", unseen);
    std::printf("  target: table lag p99 <= 1000 ms: %s\n", percentile(tableLag, 0.99) <= 1000 ? "met" : "NOT met");
    return 0;
}
