// Breaker's LangGraph connector against the real LangGraph JS dev server
// (@langchain/langgraph-cli 1.5.1, `langgraphjs dev`) serving tests/peers/langgraph/graph.mjs:
// discover, list, follow, find the interrupt (run `success`, thread `interrupted`), answer it
// (approve, edit, deny; the graph then completes), cancel a running run and read it back,
// rollback, a vanished run, the server killed mid-stream, and no hang past the deadlines.
#include "app/services/PriceTable.h"
#include "app/services/RunMonitor.h"
#include "app/services/RuntimeService.h"
#include "connectors/net/HttpClient.h"
#include "connectors/runtime/LangGraphConnector.h"
#include "models/Profile.h"
#include "models/Store.h"
#include "tests/common/PeerProcess.h"
#include "tests/common/StoredRun.h"

#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <functional>

using namespace Breaker;
using namespace Breaker::Test;
using namespace std::chrono_literals;

namespace {

template<typename T>
Result<T> await(const std::function<void(RuntimeCallback<T>)> &call, int timeoutMs = 20000)
{
    std::optional<Result<T>> out;
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    QObject::connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    call([&](const Result<T> &r) {
        if (!out) {
            out = r;
            loop.quit();
        }
    });
    if (!out) {
        timer.start(timeoutMs);
        loop.exec();
    }
    if (!out)
        return makeError(Error::Kind::Timeout, QStringLiteral("the test waited %1 ms for an answer").arg(timeoutMs));
    return *out;
}

template<typename T>
QString msg(const Result<T> &r) { return r.ok() ? QString() : r.error().message; }

ProviderConfig providerFor(const QString &origin)
{
    ProviderConfig p;
    p.name = QStringLiteral("lg");
    p.layer = QStringLiteral("runtime");
    p.kind = QStringLiteral("langgraph");
    p.url = QUrl(origin);
    p.timeoutS = 10;
    return p;
}

QJsonObject json(const char *text) { return QJsonDocument::fromJson(text).object(); }

} // namespace

class tst_LangGraphPeer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void discoverAndList();
    void interruptAndApprove();
    void editAndDeny_data();
    void editAndDeny();
    void cancelRunning();
    void rollbackRunning();
    void vanishedRun();
    void follow();
    void followThroughTheRuntimeService();
    void providerDownAtStart();
    void serverKilledMidStream(); // last: it stops the peer

private:
    bool startPeer(quint16 port);
    QJsonObject readThread(const QByteArray &threadId);
    RuntimeRun waitFor(LangGraphConnector &lg, const QByteArray &externalId, RunStatus status, int timeoutMs = 20000);

    std::unique_ptr<PeerProcess> m_peer;
    QString m_origin;
};

bool tst_LangGraphPeer::startPeer(quint16 port)
{
    m_peer = std::make_unique<PeerProcess>();
    // The server writes .langgraph_api/ and .gitignore into its project: give it a copy.
    const QDir source(peersDir() + QStringLiteral("/langgraph"));
    for (const QString &f : source.entryList(QDir::Files))
        QFile::copy(source.filePath(f), m_peer->workingDirectory() + QLatin1Char('/') + f);
    QFile::link(peersDir() + QStringLiteral("/node_modules"), m_peer->workingDirectory() + QStringLiteral("/node_modules"));
    if (!m_peer->startProgram(peersDir() + QStringLiteral("/node_modules/.bin/langgraphjs"),
                              {QStringLiteral("dev"), QStringLiteral("--host"), QStringLiteral("127.0.0.1"),
                               QStringLiteral("--port"), QString::number(port), QStringLiteral("--no-browser"),
                               QStringLiteral("--no-reload")}))
        return false;
    m_origin = QStringLiteral("http://127.0.0.1:%1").arg(port);
    // It prints no port line of its own; it is ready when /ok answers (about 10 s).
    Net::ClientOptions o;
    o.provider = QStringLiteral("probe");
    o.timeoutMs = 2000;
    Net::HttpClient probe(o);
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 60000 && m_peer->isRunning()) {
        bool ok = false;
        QEventLoop loop;
        probe.send("GET", QUrl(m_origin + QStringLiteral("/ok")), {}, {}, [&](const Result<Net::ClientReply> &r) {
            ok = r.ok() && r->status == 200 && r->body.contains("true");
            loop.quit();
        });
        loop.exec();
        if (ok)
            return true;
        QTest::qWait(300);
    }
    return false;
}

void tst_LangGraphPeer::initTestCase()
{
    BREAKER_REQUIRE_PEERS();
    // The CLI takes --port only: reserve one, and retry once if another process took it.
    bool up = false;
    for (int attempt = 0; attempt < 2 && !up; ++attempt) {
        const quint16 port = reserveLoopbackPort();
        QVERIFY(port != 0);
        up = startPeer(port);
        if (!up && attempt == 0) {
            qWarning("langgraphjs dev did not come up on port %u; retrying: %s", port, qPrintable(m_peer->failureReport()));
            m_peer->stop();
        }
    }
    QVERIFY2(up, qPrintable(m_peer->failureReport()));
}

void tst_LangGraphPeer::cleanupTestCase()
{
    if (m_peer)
        m_peer->stop();
}

QJsonObject tst_LangGraphPeer::readThread(const QByteArray &threadId)
{
    Net::ClientOptions o;
    o.provider = QStringLiteral("probe");
    Net::HttpClient http(o);
    QJsonObject out;
    QEventLoop loop;
    http.send("GET", QUrl(m_origin + QStringLiteral("/threads/") + QString::fromUtf8(threadId)), {}, {},
              [&](const Result<Net::ClientReply> &r) {
                  if (r)
                      out = QJsonDocument::fromJson(r->body).object();
                  loop.quit();
              });
    loop.exec();
    return out;
}

RuntimeRun tst_LangGraphPeer::waitFor(LangGraphConnector &lg, const QByteArray &externalId, RunStatus status, int timeoutMs)
{
    RuntimeRun last;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        auto r = await<RuntimeRun>([&](auto cb) { lg.getRun(externalId, cb); });
        if (r.ok()) {
            last = *r;
            if (r->status == status)
                return last;
        }
        QTest::qWait(200);
    }
    return last;
}

void tst_LangGraphPeer::discoverAndList()
{
    LangGraphConnector lg(providerFor(m_origin), {});
    auto caps = await<RuntimeCapabilities>([&](auto cb) { lg.discover(cb); });
    QVERIFY2(caps.ok(), qPrintable(msg(caps)));
    QVERIFY2(caps->dialect.startsWith(QLatin1String("LangGraph Agent Server 1.5.1")), qPrintable(caps->dialect));
    QVERIFY(caps->list && caps->follow && caps->get && caps->cancel && caps->terminate && caps->answer);
    QCOMPARE(lg.linkState(), RuntimeConnector::LinkState::Connected);

    // Three quick runs on three threads, then paging two threads at a time finds them all.
    QList<QByteArray> ids;
    for (int i = 0; i < 3; ++i) {
        auto run = await<RuntimeRun>([&](auto cb) { lg.startRun("agent", json(R"({"mode":"slow","steps":1,"delay_ms":10})"), cb); });
        QVERIFY2(run.ok(), qPrintable(msg(run)));
        QCOMPARE(run->key, QByteArray("langgraph:") + run->externalId);
        QCOMPARE(run->agentName, QByteArray("agent"));
        QCOMPARE(run->provider, QByteArray("lg"));
        ids << run->externalId;
    }
    for (const QByteArray &id : ids)
        QCOMPARE(waitFor(lg, id, RunStatus::Completed).status, RunStatus::Completed);
    QSet<QByteArray> found;
    QByteArray token;
    int pages = 0;
    do {
        auto page = await<RuntimePage>([&](auto cb) { lg.listRuns(token, 2, cb); });
        QVERIFY2(page.ok(), qPrintable(msg(page)));
        for (const RuntimeRun &run : page->runs) {
            found.insert(run.externalId);
            QCOMPARE(run.contextId, run.externalId.split(':').first());
        }
        token = page->nextPageToken;
        ++pages;
    } while (!token.isEmpty() && pages < 100);
    for (const QByteArray &id : ids)
        QVERIFY2(found.contains(id), id.constData());
    QVERIFY(pages >= 2);
    auto badToken = await<RuntimePage>([&](auto cb) { lg.listRuns("x", 2, cb); });
    QVERIFY(!badToken.ok());
}

void tst_LangGraphPeer::interruptAndApprove()
{
    LangGraphConnector lg(providerFor(m_origin), {});
    QSignalSpy updates(&lg, &RuntimeConnector::runUpdated);
    auto started = await<RuntimeRun>([&](auto cb) { lg.startRun("agent", json(R"({"mode":"refund"})"), cb); });
    QVERIFY2(started.ok(), qPrintable(msg(started)));
    const QByteArray id = started->externalId;
    lg.watchRun(id);

    // The run ends `success`; its thread is `interrupted`: waiting for a person.
    const RuntimeRun waiting = waitFor(lg, id, RunStatus::WaitingApproval);
    QCOMPARE(waiting.status, RunStatus::WaitingApproval);
    QCOMPARE(waiting.rawState, QByteArray("success/thread:interrupted"));
    QVERIFY(waiting.approval);
    QCOMPARE(waiting.approval->source, QByteArray("langgraph.hitl"));
    QCOMPARE(waiting.approval->action, QByteArray("stripe.refund"));
    QCOMPARE(waiting.approval->amountValue, QByteArray("1250.00"));
    QCOMPARE(waiting.approval->currency, QByteArray("usd"));
    // The watch stream reported it too, without being asked.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const auto &args : updates)
                if (args.at(0).value<RuntimeRun>().externalId == id
                    && args.at(0).value<RuntimeRun>().status == RunStatus::WaitingApproval)
                    return true;
            return false;
        }(),
        10000);
    // The listing shows it waiting as well.
    auto page = await<RuntimePage>([&](auto cb) { lg.listRuns({}, 20, cb); });
    QVERIFY(page.ok());
    bool listedWaiting = false;
    for (const RuntimeRun &run : page->runs)
        listedWaiting = listedWaiting || (run.externalId == id && run.status == RunStatus::WaitingApproval && run.approval);
    QVERIFY(listedWaiting);
    // Cancelling a paused run would change nothing: the connector says so.
    auto cancel = await<RuntimeRun>([&](auto cb) { lg.cancelRun(id, cb); });
    QVERIFY(!cancel.ok());
    QCOMPARE(cancel.error().kind, Error::Kind::Conflict);
    QVERIFY2(cancel.error().message.contains(QLatin1String("waits at an interrupt")), qPrintable(cancel.error().message));

    ApprovalAnswer answer;
    answer.decision = ApprovalDecision::Approve;
    answer.reason = QStringLiteral("customer verified by phone");
    auto resumed = await<RuntimeRun>([&](auto cb) { lg.answer(id, answer, cb); });
    QVERIFY2(resumed.ok(), qPrintable(msg(resumed)));
    QCOMPARE(resumed->contextId, started->contextId); // the same thread
    QVERIFY(resumed->externalId != id);               // a new run
    QCOMPARE(waitFor(lg, resumed->externalId, RunStatus::Completed).status, RunStatus::Completed);
    QCOMPARE(readThread(started->contextId).value(QLatin1String("values")).toObject()
                 .value(QLatin1String("outcome")).toString(),
             QStringLiteral("refunded 1250.00 usd"));
    // The answered run no longer waits.
    auto old = await<RuntimeRun>([&](auto cb) { lg.getRun(id, cb); });
    QVERIFY(old.ok());
    QCOMPARE(old->status, RunStatus::Completed);
    // Answering again: someone already answered.
    auto late = await<RuntimeRun>([&](auto cb) { lg.answer(id, answer, cb); });
    QVERIFY(!late.ok());
    QCOMPARE(late.error().kind, Error::Kind::Conflict);
    QCOMPARE(late.error().where, QStringLiteral("lg"));
    QVERIFY2(late.error().message.contains(QLatin1String("no longer waits")), qPrintable(late.error().message));
}

void tst_LangGraphPeer::editAndDeny_data()
{
    QTest::addColumn<int>("decision");
    QTest::addColumn<QByteArray>("arguments");
    QTest::addColumn<QString>("outcome");
    QTest::newRow("edit") << int(ApprovalDecision::Edit)
                          << QByteArray(R"({"charge":"ch_3QxRefund1250","amount":"1000.00","currency":"usd"})")
                          << QStringLiteral("refunded 1000.00 usd");
    QTest::newRow("deny") << int(ApprovalDecision::Deny) << QByteArray()
                          << QStringLiteral("refund rejected: duplicate of a chargeback");
}

void tst_LangGraphPeer::editAndDeny()
{
    QFETCH(int, decision);
    QFETCH(QByteArray, arguments);
    QFETCH(QString, outcome);
    LangGraphConnector lg(providerFor(m_origin), {});
    auto started = await<RuntimeRun>([&](auto cb) { lg.startRun("agent", json(R"({"mode":"refund"})"), cb); });
    QVERIFY(started.ok());
    QCOMPARE(waitFor(lg, started->externalId, RunStatus::WaitingApproval).status, RunStatus::WaitingApproval);
    ApprovalAnswer answer;
    answer.decision = ApprovalDecision(decision);
    answer.reason = QStringLiteral("duplicate of a chargeback");
    answer.argumentsJson = arguments;
    auto resumed = await<RuntimeRun>([&](auto cb) { lg.answer(started->externalId, answer, cb); });
    QVERIFY2(resumed.ok(), qPrintable(msg(resumed)));
    QCOMPARE(waitFor(lg, resumed->externalId, RunStatus::Completed).status, RunStatus::Completed);
    QCOMPARE(readThread(started->contextId).value(QLatin1String("values")).toObject()
                 .value(QLatin1String("outcome")).toString(),
             outcome);
}

void tst_LangGraphPeer::cancelRunning()
{
    LangGraphConnector lg(providerFor(m_origin), {});
    auto started = await<RuntimeRun>([&](auto cb) {
        lg.startRun("agent", json(R"({"mode":"slow","steps":40,"delay_ms":500})"), cb);
    });
    QVERIFY(started.ok());
    const QByteArray id = started->externalId;
    QCOMPARE(waitFor(lg, id, RunStatus::Working).status, RunStatus::Working);
    lg.watchRun(id);
    QTest::qWait(600);
    auto cancelled = await<RuntimeRun>([&](auto cb) { lg.cancelRun(id, cb); });
    QVERIFY2(cancelled.ok(), qPrintable(msg(cancelled)));
    // Read back: the server reports it interrupted (verifying that the graph stopped is
    // CancelVerifier's job).
    const RuntimeRun readBack = waitFor(lg, id, RunStatus::Stopped, 10000);
    QCOMPARE(readBack.status, RunStatus::Stopped);
    QVERIFY2(readBack.rawState.startsWith("interrupted"), readBack.rawState.constData());
    // A second cancel: the run already ended, and the connector says so instead of a silent 202.
    auto again = await<RuntimeRun>([&](auto cb) { lg.cancelRun(id, cb); });
    QVERIFY(!again.ok());
    QCOMPARE(again.error().kind, Error::Kind::Conflict);
    QVERIFY2(again.error().message.contains(QLatin1String("already ended")), qPrintable(again.error().message));
}

void tst_LangGraphPeer::rollbackRunning()
{
    LangGraphConnector lg(providerFor(m_origin), {});
    auto started = await<RuntimeRun>([&](auto cb) {
        lg.startRun("agent", json(R"({"mode":"slow","steps":40,"delay_ms":500})"), cb);
    });
    QVERIFY(started.ok());
    QCOMPARE(waitFor(lg, started->externalId, RunStatus::Working).status, RunStatus::Working);
    QTest::qWait(600);
    auto rolled = await<RuntimeRun>([&](auto cb) {
        lg.cancelRun(started->externalId, LangGraphConnector::CancelAction::Rollback, cb);
    });
    QVERIFY2(rolled.ok(), qPrintable(msg(rolled)));
    // The documented result is a deleted run; the JS dev server leaves it `error` (PROTOCOLS 6.4).
    // Either way it is no longer running, and the connector reports what the server said.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            auto r = await<RuntimeRun>([&](auto cb) { lg.getRun(started->externalId, cb); });
            return (!r.ok() && r.error().kind == Error::Kind::NotFound)
                   || (r.ok() && (r->status == RunStatus::Failed || r->status == RunStatus::Stopped));
        }(),
        10000);
}

void tst_LangGraphPeer::vanishedRun()
{
    LangGraphConnector lg(providerFor(m_origin), {});
    auto started = await<RuntimeRun>([&](auto cb) { lg.startRun("agent", json(R"({"mode":"slow","steps":1,"delay_ms":1})"), cb); });
    QVERIFY(started.ok());
    const QByteArray missing = started->contextId + ":01a21b03-0000-7000-8000-000000000000";
    auto r = await<RuntimeRun>([&](auto cb) { lg.getRun(missing, cb); });
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::NotFound);
    QCOMPARE(r.error().where, QStringLiteral("lg"));
    QVERIFY2(r.error().message.startsWith(QLatin1String("lg answered HTTP 404 to GET /threads/")), qPrintable(r.error().message));
    QVERIFY2(r.error().message.endsWith(QLatin1String(": Run not found")), qPrintable(r.error().message));
    auto cancel = await<RuntimeRun>([&](auto cb) { lg.cancelRun(missing, cb); });
    QVERIFY(!cancel.ok());
    QCOMPARE(cancel.error().kind, Error::Kind::NotFound);
    auto answered = await<RuntimeRun>([&](auto cb) { lg.answer(missing, {}, cb); });
    QVERIFY(!answered.ok());
    QCOMPARE(answered.error().kind, Error::Kind::NotFound);
    // Not a uuid: the server's validation error, in its words.
    auto bad = await<RuntimeRun>([&](auto cb) { lg.getRun("not-a-thread:not-a-run", cb); });
    QVERIFY(!bad.ok());
    QCOMPARE(bad.error().kind, Error::Kind::Invalid);
    QVERIFY2(bad.error().message.contains(QLatin1String("Invalid uuid")), qPrintable(bad.error().message));
    // Not a LangGraph id at all: refused before asking.
    auto garbage = await<RuntimeRun>([&](auto cb) { lg.getRun("justone", cb); });
    QVERIFY(!garbage.ok());
    QVERIFY2(garbage.error().message.contains(QLatin1String("<thread_id>:<run_id>")), qPrintable(garbage.error().message));
    // Watching a vanished run ends without a hang or a loop.
    lg.watchRun(missing);
    QTRY_COMPARE_WITH_TIMEOUT(lg.streamCount(), 0, 10000);
}

void tst_LangGraphPeer::follow()
{
    LangGraphConnector lg(providerFor(m_origin), {});
    lg.setPollIntervalMs(300);
    QSignalSpy updates(&lg, &RuntimeConnector::runUpdated);
    lg.startFollowing();
    QTRY_COMPARE_WITH_TIMEOUT(lg.linkState(), RuntimeConnector::LinkState::Connected, 10000);
    // A run started by someone else (plain HTTP, not this connector) is found and followed to the end.
    LangGraphConnector other(providerFor(m_origin), {});
    auto started = await<RuntimeRun>([&](auto cb) {
        other.startRun("agent", json(R"({"mode":"slow","steps":3,"delay_ms":300})"), cb);
    });
    QVERIFY(started.ok());
    auto seen = [&](RunStatus status) {
        for (const auto &args : updates) {
            const auto run = args.at(0).value<RuntimeRun>();
            if (run.externalId == started->externalId && run.status == status)
                return true;
        }
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(seen(RunStatus::Completed), 15000);
    // A run that no longer changes is not reported again on every poll (300 ms here).
    QTest::qWait(1000);
    auto reportsOf = [&] {
        int n = 0;
        for (const auto &args : updates)
            n += args.at(0).value<RuntimeRun>().externalId == started->externalId;
        return n;
    };
    const int settled = reportsOf();
    QTest::qWait(1500);
    QCOMPARE(reportsOf(), settled);
    lg.stopFollowing();
}

void tst_LangGraphPeer::followThroughTheRuntimeService()
{
    // As the engine runs it: the connector on the RuntimeService's own thread, its updates into
    // a RunMonitor on this one, bound to the profile's agent; the stop switch's handle a proxy.
    QTemporaryDir dir;
    auto store = Store::open(dir.filePath(QStringLiteral("t.db")));
    QVERIFY2(store.ok(), qPrintable(msg(store)));
    RunMonitor monitor(store.value(), PriceTable::builtin());
    Profile profile;
    profile.providers.push_back(providerFor(m_origin));
    AgentConfig agent;
    agent.name = QStringLiteral("planner");
    agent.runtimeProvider = QStringLiteral("lg");
    profile.agents.push_back(agent);
    RuntimeService runtime(&monitor);
    runtime.applyProfile(profile);
    RuntimeConnector *handle = runtime.connector("lg");
    QVERIFY(handle);
    QVERIFY(!qobject_cast<LangGraphConnector *>(handle)); // a proxy: the connector lives elsewhere
    QTRY_COMPARE_WITH_TIMEOUT(handle->linkState(), RuntimeConnector::LinkState::Connected, 15000);

    LangGraphConnector other(providerFor(m_origin), {});
    auto started = await<RuntimeRun>([&](auto cb) {
        other.startRun("agent", json(R"({"mode":"slow","steps":2,"delay_ms":200})"), cb);
    });
    QVERIFY2(started.ok(), qPrintable(msg(started)));
    // The monitor's key for a LangGraph run (ARCHITECTURE.md, run correlation).
    const QByteArray key = "langgraph:" + started->externalId;
    auto stored = [&] { return Testing::storedRun(*store.value(), key); };
    auto describe = [&] {
        QStringList out;
        if (auto runs = store.value()->runs(RunQuery{}); runs.ok()) {
            for (const Run &r : runs.value())
                out << QStringLiteral("%1 %2 %3").arg(QString::fromUtf8(r.id), QString::fromUtf8(r.agent),
                                                      QString::fromUtf8(toWireName(r.status)));
        }
        return out.join(QStringLiteral("; "));
    };
    QTRY_VERIFY2_WITH_TIMEOUT(stored() && stored()->status == RunStatus::Completed,
                              qPrintable(QStringLiteral("%1 not completed in: %2").arg(QString::fromUtf8(key), describe())),
                              20000);
    QCOMPARE(stored()->agent, QByteArray("planner"));
    QVERIFY(stored()->agentBound);

    // The proxy answers on this thread, in the connector's words.
    auto read = await<RuntimeRun>([&](auto cb) { handle->getRun(started->externalId, cb); });
    QVERIFY2(read.ok(), qPrintable(msg(read)));
    QCOMPARE(read->status, RunStatus::Completed);
    QVERIFY(handle->capabilities().list);
}

void tst_LangGraphPeer::providerDownAtStart()
{
    QTcpServer reserve;
    QVERIFY(reserve.listen(QHostAddress::LocalHost, 0));
    const quint16 port = reserve.serverPort();
    reserve.close();
    LangGraphConnector lg(providerFor(QStringLiteral("http://127.0.0.1:%1").arg(port)), {});
    QElapsedTimer t;
    t.start();
    auto r = await<RuntimeRun>([&](auto cb) { lg.getRun("a:b", cb); });
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::Unavailable);
    QVERIFY2(r.error().message.startsWith(QLatin1String("lg is unreachable at http://127.0.0.1:")), qPrintable(r.error().message));
    QCOMPARE(lg.linkState(), RuntimeConnector::LinkState::Down);
    QVERIFY(t.elapsed() < 10000);
}

void tst_LangGraphPeer::serverKilledMidStream()
{
    LangGraphConnector lg(providerFor(m_origin), {});
    auto started = await<RuntimeRun>([&](auto cb) {
        lg.startRun("agent", json(R"({"mode":"slow","steps":100,"delay_ms":300})"), cb);
    });
    QVERIFY(started.ok());
    QCOMPARE(waitFor(lg, started->externalId, RunStatus::Working).status, RunStatus::Working);
    lg.watchRun(started->externalId);
    QTRY_COMPARE_WITH_TIMEOUT(lg.streamCount(), 1, 5000);
    QTest::qWait(800);
    m_peer->stop(500ms);
    // The dropped stream is said in words and the link degrades; nothing waits for ever.
    QTRY_VERIFY_WITH_TIMEOUT(lg.linkState() == RuntimeConnector::LinkState::Degraded, 10000);
    QVERIFY2(lg.linkDetail().contains(QString::fromUtf8(started->externalId)), qPrintable(lg.linkDetail()));
    QElapsedTimer t;
    t.start();
    auto r = await<RuntimeRun>([&](auto cb) { lg.getRun(started->externalId, cb); });
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::Unavailable);
    QCOMPARE(r.error().where, QStringLiteral("lg"));
    QVERIFY2(r.error().message.contains(QLatin1String("unreachable")), qPrintable(r.error().message));
    QVERIFY(t.elapsed() < 11000); // within the provider's deadline
}

QTEST_MAIN(tst_LangGraphPeer)
#include "tst_langgraph_peer.moc"
