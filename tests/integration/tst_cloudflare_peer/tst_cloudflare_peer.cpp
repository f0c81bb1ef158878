// Breaker's cloudflare-agents connector against a real agent: wrangler 4.86.0 + agents 0.32.0
// under `wrangler dev --local` (workerd), tests/peers/cf-agent via cf-peer.mjs. Connect and
// state, RPC with streaming and errors, cancel through the profile's stop_method, no
// stop_method (skipped_not_configured), and the server killed: link Down with the close in
// words, reconnect with backoff, no call hanging past its deadline.
#include "app/services/PriceTable.h"
#include "app/services/RunMonitor.h"
#include "app/services/RuntimeService.h"
#include "connectors/runtime/CloudflareAgentsConnector.h"
#include "models/Profile.h"
#include "models/Store.h"
#include "tests/common/PeerProcess.h"
#include "tests/common/StoredRun.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
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

QString msg(const Error &e) { return e.message; }

QByteArray compact(const QJsonValue &v)
{
    return v.isObject() ? QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact) : QByteArray();
}

} // namespace

class tst_CloudflarePeer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void connectAndState();
    void followThroughTheRuntimeService();
    void rpc();
    void cancelThroughStopMethod();
    void noStopMethod();
    void serverKilled();

private:
    bool startPeer(quint16 port);
    ProviderConfig provider(const QString &name, const QString &stopMethod) const;

    std::unique_ptr<PeerProcess> m_peer;
    quint16 m_port = 0;
};

bool tst_CloudflarePeer::startPeer(quint16 port)
{
    m_peer = std::make_unique<PeerProcess>();
    if (!m_peer->startNode(QStringLiteral("cf-peer.mjs"), {QStringLiteral("--port"), QString::number(port)}))
        return false;
    // wrangler builds the worker and starts workerd: about 20 s here.
    return m_peer->waitForLine("LISTENING ", 90s).has_value();
}

void tst_CloudflarePeer::initTestCase()
{
    BREAKER_REQUIRE_PEERS();
    if (!QFileInfo::exists(peersDir() + QStringLiteral("/node_modules/wrangler/bin/wrangler.js"))) {
        if (qEnvironmentVariable("CI") == QLatin1String("true"))
            QFAIL("wrangler is not installed in tests/peers: run scripts/dev test");
        QSKIP("wrangler is not installed in tests/peers (npm ci there)");
    }
    // The peer only takes --port: reserve one, and retry once with another.
    for (int attempt = 0; attempt < 2; ++attempt) {
        m_port = reserveLoopbackPort();
        QVERIFY(m_port != 0);
        if (startPeer(m_port))
            return;
        qWarning().noquote() << "cf-peer did not start on port" << m_port << ":" << m_peer->failureReport();
        m_peer->stop();
    }
    // The machine cannot run workerd (or wrangler): say so; in CI that is a failure.
    const QString why = QStringLiteral("wrangler dev --local (workerd) did not start here: %1").arg(m_peer->failureReport());
    m_peer.reset();
    if (qEnvironmentVariable("CI") == QLatin1String("true"))
        QFAIL(qPrintable(why));
    QSKIP(qPrintable(why));
}

void tst_CloudflarePeer::cleanupTestCase()
{
    if (m_peer)
        m_peer->stop();
}

ProviderConfig tst_CloudflarePeer::provider(const QString &name, const QString &stopMethod) const
{
    ProviderConfig p;
    p.name = name;
    p.layer = QStringLiteral("runtime");
    p.kind = QStringLiteral("cloudflare-agents");
    p.url = QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(m_port));
    p.stopMethod = stopMethod;
    p.timeoutS = 5;
    return p;
}

void tst_CloudflarePeer::connectAndState()
{
    CloudflareAgentsConnector cf(provider(QStringLiteral("cf"), QStringLiteral("stop")), {},
                                 {QStringLiteral("WorkAgent/it-state"), QStringLiteral("work-agent/it-state-2")});
    auto caps = await<RuntimeCapabilities>([&](auto cb) { cf.discover(cb); });
    QVERIFY2(caps.ok(), qPrintable(caps.ok() ? QString() : msg(caps.error())));
    QVERIFY(caps->list && caps->follow && caps->get && caps->cancel && caps->answer);
    QVERIFY(!caps->terminate);

    QSignalSpy updates(&cf, &RuntimeConnector::runUpdated);
    cf.startFollowing();
    QTRY_COMPARE_WITH_TIMEOUT(cf.linkState(), RuntimeConnector::LinkState::Connected, 20000);
    QCOMPARE(cf.linkDetail(), QStringLiteral("2 agent instances connected"));
    QVERIFY(updates.count() >= 2); // each instance's first state

    auto run = await<RuntimeRun>([&](auto cb) { cf.getRun("work-agent/it-state", cb); });
    QVERIFY2(run.ok(), qPrintable(run.ok() ? QString() : msg(run.error())));
    QCOMPARE(run->externalId, QByteArray("work-agent/it-state"));
    QCOMPARE(run->key, QByteArray("cloudflare-agents:work-agent/it-state"));
    QCOMPARE(run->kind, QByteArray("cloudflare-agents"));
    QCOMPARE(run->provider, QByteArray("cf"));
    QCOMPARE(run->agentName, QByteArray("WorkAgent/it-state")); // the profile's selector, for binding
    QCOMPARE(run->rawState, QByteArray("idle"));
    QCOMPARE(run->status, RunStatus::Completed);
    QVERIFY2(run->statusText.contains(QLatin1String("\"status\":\"idle\"")), qPrintable(run->statusText));

    auto page = await<RuntimePage>([&](auto cb) { cf.listRuns({}, 50, cb); });
    QVERIFY2(page.ok(), qPrintable(page.ok() ? QString() : msg(page.error())));
    QCOMPARE(page->runs.size(), size_t(2));
    QVERIFY(page->nextPageToken.isEmpty());

    // An instance the profile does not name is reached on demand (breakerctl stop --run).
    auto other = await<RuntimeRun>([&](auto cb) { cf.getRun("WorkAgent/elsewhere", cb); });
    QVERIFY2(other.ok(), qPrintable(other.ok() ? QString() : msg(other.error())));
    QCOMPARE(other->externalId, QByteArray("work-agent/elsewhere"));

    // An agent class the worker does not have: the server refuses the upgrade, in words.
    auto missing = await<RuntimeRun>([&](auto cb) { cf.getRun("NoSuchAgent/x", cb); });
    QVERIFY(!missing.ok());
    QCOMPARE(missing.error().kind, Error::Kind::Unavailable);
    QVERIFY2(missing.error().message.contains(QLatin1String("could not connect")), qPrintable(msg(missing.error())));
    cf.stopFollowing();
}

void tst_CloudflarePeer::followThroughTheRuntimeService()
{
    // As the engine runs it: the connector (its WebSockets) on the RuntimeService's own thread,
    // the instance's state into a RunMonitor on this one, bound to the profile's agent by its
    // selector; the stop switch's handle a proxy that answers here.
    QTemporaryDir dir;
    auto store = Store::open(dir.filePath(QStringLiteral("t.db")));
    QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : msg(store.error())));
    RunMonitor monitor(store.value(), PriceTable::builtin());
    Profile profile;
    profile.providers.push_back(provider(QStringLiteral("cf"), QStringLiteral("stop")));
    AgentConfig agent;
    agent.name = QStringLiteral("worker");
    agent.runtimeProvider = QStringLiteral("cf");
    agent.runtimeAgent = QStringLiteral("WorkAgent/it-service");
    profile.agents.push_back(agent);
    RuntimeService runtime(&monitor);
    runtime.applyProfile(profile);
    RuntimeConnector *handle = runtime.connector("cf");
    QVERIFY(handle);
    QVERIFY(!qobject_cast<CloudflareAgentsConnector *>(handle));
    QTRY_COMPARE_WITH_TIMEOUT(handle->linkState(), RuntimeConnector::LinkState::Connected, 20000);

    const QByteArray key = "cloudflare-agents:work-agent/it-service";
    auto stored = [&] { return Testing::storedRun(*store.value(), key); };
    QTRY_VERIFY_WITH_TIMEOUT(stored().has_value(), 20000);
    QCOMPARE(stored()->agent, QByteArray("worker"));
    QVERIFY(stored()->agentBound);

    auto run = await<RuntimeRun>([&](auto cb) { handle->getRun("work-agent/it-service", cb); });
    QVERIFY2(run.ok(), qPrintable(run.ok() ? QString() : msg(run.error())));
    QCOMPARE(run->key, key);
    QVERIFY(handle->capabilities().follow);
}

void tst_CloudflarePeer::rpc()
{
    CloudflareAgentsConnector cf(provider(QStringLiteral("cf"), QStringLiteral("stop")), {},
                                 {QStringLiteral("WorkAgent/it-rpc")});
    QSignalSpy updates(&cf, &RuntimeConnector::runUpdated);

    auto pong = await<QJsonValue>([&](auto cb) { cf.callMethod("WorkAgent/it-rpc", QStringLiteral("ping"), {QStringLiteral("hi")}, {}, cb); });
    QVERIFY2(pong.ok(), qPrintable(pong.ok() ? QString() : msg(pong.error())));
    QCOMPARE(compact(*pong), QByteArray(R"({"pong":"hi"})"));

    // A streamed call: every step, then the final result; the state follows along.
    QList<QByteArray> chunks;
    auto work = await<QJsonValue>([&](auto cb) {
        cf.callMethod("WorkAgent/it-rpc", QStringLiteral("work"), {3, 150},
                      [&](const QJsonValue &chunk) { chunks << compact(chunk); }, cb);
    });
    QVERIFY2(work.ok(), qPrintable(work.ok() ? QString() : msg(work.error())));
    QCOMPARE(chunks, (QList<QByteArray>{R"({"step":1})", R"({"step":2})", R"({"step":3})"}));
    QCOMPARE(compact(*work), QByteArray(R"({"done":true,"steps":3})"));
    QTRY_VERIFY_WITH_TIMEOUT(!updates.isEmpty()
                                 && updates.last().first().value<RuntimeRun>().rawState == QByteArray("done"), 5000);
    bool sawWorking = false;
    for (const auto &u : updates)
        sawWorking = sawWorking || u.first().value<RuntimeRun>().status == RunStatus::Working;
    QVERIFY(sawWorking);

    // Errors come back in the agent's own words.
    auto failed = await<QJsonValue>([&](auto cb) { cf.callMethod("WorkAgent/it-rpc", QStringLiteral("fail"), {QStringLiteral("no budget")}, {}, cb); });
    QVERIFY(!failed.ok());
    QVERIFY2(failed.error().message.endsWith(QLatin1String("answered the call fail with an error: refused: no budget")),
             qPrintable(msg(failed.error())));
    auto unknown = await<QJsonValue>([&](auto cb) { cf.callMethod("WorkAgent/it-rpc", QStringLiteral("nope"), {}, {}, cb); });
    QVERIFY(!unknown.ok());
    QVERIFY2(unknown.error().message.contains(QLatin1String("Method nope does not exist")), qPrintable(msg(unknown.error())));
}

void tst_CloudflarePeer::cancelThroughStopMethod()
{
    CloudflareAgentsConnector cf(provider(QStringLiteral("cf"), QStringLiteral("stop")), {},
                                 {QStringLiteral("WorkAgent/it-cancel")});
    QSignalSpy updates(&cf, &RuntimeConnector::runUpdated);
    cf.startFollowing();
    QTRY_COMPARE_WITH_TIMEOUT(cf.linkState(), RuntimeConnector::LinkState::Connected, 20000);

    // A long job: 100 steps of 200 ms, far longer than the test waits.
    std::optional<Result<QJsonValue>> workEnd;
    cf.callMethod("WorkAgent/it-cancel", QStringLiteral("work"), {100, 200}, {},
                  [&](const Result<QJsonValue> &r) { workEnd = r; });
    QTRY_VERIFY_WITH_TIMEOUT(!updates.isEmpty()
                                 && updates.last().first().value<RuntimeRun>().status == RunStatus::Working, 10000);

    QElapsedTimer clock;
    clock.start();
    auto cancelled = await<RuntimeRun>([&](auto cb) { cf.cancelRun("work-agent/it-cancel", cb); });
    QVERIFY2(cancelled.ok(), qPrintable(cancelled.ok() ? QString() : msg(cancelled.error())));
    QCOMPARE(cancelled->status, RunStatus::Stopping);
    QVERIFY2(cancelled->statusText.startsWith(QLatin1String("stop() answered {\"stopped\":true}")),
             qPrintable(cancelled->statusText));
    // The agent's state then says it stopped, and the streamed call ends early.
    QTRY_COMPARE_WITH_TIMEOUT(updates.last().first().value<RuntimeRun>().rawState, QByteArray("stopped"), 5000);
    QCOMPARE(updates.last().first().value<RuntimeRun>().status, RunStatus::Stopped);
    QVERIFY(isTerminal(RunStatus::Stopped));
    QTRY_VERIFY_WITH_TIMEOUT(workEnd.has_value(), 5000);
    QVERIFY(workEnd->ok());
    QVERIFY2(compact(**workEnd).contains("\"stopped\":true"), compact(**workEnd).constData());
    QVERIFY2(clock.elapsed() < 5000, "the stop took longer than a few steps");
    auto after = await<RuntimeRun>([&](auto cb) { cf.getRun("work-agent/it-cancel", cb); });
    QVERIFY(after.ok());
    QCOMPARE(after->status, RunStatus::Stopped);
}

void tst_CloudflarePeer::noStopMethod()
{
    CloudflareAgentsConnector cf(provider(QStringLiteral("cf-plain"), QString()), {},
                                 {QStringLiteral("WorkAgent/it-nostop")});
    auto caps = await<RuntimeCapabilities>([&](auto cb) { cf.discover(cb); });
    QVERIFY(caps.ok());
    QVERIFY(!caps->cancel);
    QCOMPARE(caps->verbs(), (std::vector<QByteArray>{"list", "follow", "get", "answer"}));

    QSignalSpy updates(&cf, &RuntimeConnector::runUpdated);
    std::optional<Result<QJsonValue>> workEnd;
    cf.callMethod("WorkAgent/it-nostop", QStringLiteral("work"), {10, 100}, {},
                  [&](const Result<QJsonValue> &r) { workEnd = r; });
    auto cancelled = await<RuntimeRun>([&](auto cb) { cf.cancelRun("work-agent/it-nostop", cb); });
    QVERIFY(!cancelled.ok());
    QCOMPARE(cancelled.error().kind, Error::Kind::Invalid);
    QCOMPARE(cancelled.error().message, QStringLiteral("skipped_not_configured: no stop_method in the profile for cf-plain"));
    QCOMPARE(cancelled.error().where, QStringLiteral("cf-plain"));
    // Nothing was sent: the work runs to its end.
    QTRY_VERIFY_WITH_TIMEOUT(workEnd.has_value(), 10000);
    QVERIFY(workEnd->ok());
    QCOMPARE(compact(**workEnd), QByteArray(R"({"done":true,"steps":10})"));
}

void tst_CloudflarePeer::serverKilled()
{
    CloudflareAgentsConnector cf(provider(QStringLiteral("cf"), QStringLiteral("stop")), {},
                                 {QStringLiteral("WorkAgent/it-kill")});
    QSignalSpy links(&cf, &RuntimeConnector::linkStateChanged);
    cf.startFollowing();
    QTRY_COMPARE_WITH_TIMEOUT(cf.linkState(), RuntimeConnector::LinkState::Connected, 20000);

    // A call in flight when the server goes away answers with the close, not never.
    std::optional<Result<QJsonValue>> inFlight;
    cf.callMethod("WorkAgent/it-kill", QStringLiteral("work"), {100, 200}, {},
                  [&](const Result<QJsonValue> &r) { inFlight = r; });
    QTest::qWait(300);
    m_peer->stop();

    QTRY_COMPARE_WITH_TIMEOUT(cf.linkState(), RuntimeConnector::LinkState::Down, 10000);
    const QString detail = cf.linkDetail();
    qInfo().noquote() << "link detail after the kill:" << detail;
    QVERIFY2(detail.startsWith(QLatin1String("work-agent/it-kill: ")), qPrintable(detail));
    QVERIFY2(detail.contains(QLatin1String("closed with 1006 (abnormal closure"))
                 || detail.contains(QLatin1String("closed with 1001 (going away"))
                 || detail.contains(QLatin1String("could not connect")),
             qPrintable(detail));
    QVERIFY2(detail.contains(QLatin1String("reconnecting in 1 s")), qPrintable(detail));
    QTRY_VERIFY_WITH_TIMEOUT(inFlight.has_value(), 5000);
    QVERIFY(!inFlight->ok());
    QCOMPARE(inFlight->error().kind, Error::Kind::Unavailable);

    // Backoff: 1 s, then 2 s, then 4 s between attempts, each failing in words.
    QTRY_COMPARE_WITH_TIMEOUT(cf.nextRetryMs("work-agent/it-kill"), 2000, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(cf.linkDetail().contains(QLatin1String("could not connect")), 5000);
    QTRY_COMPARE_WITH_TIMEOUT(cf.nextRetryMs("work-agent/it-kill"), 4000, 5000);
    QVERIFY2(cf.linkDetail().contains(QLatin1String("reconnecting in 4 s")), qPrintable(cf.linkDetail()));
    QCOMPARE(cf.linkState(), RuntimeConnector::LinkState::Down);

    // A call while the agent is down answers by its deadline (timeout_s = 5).
    QElapsedTimer clock;
    clock.start();
    auto r = await<RuntimeRun>([&](auto cb) { cf.getRun("work-agent/it-kill", cb); }, 15000);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().kind == Error::Kind::Unavailable, qPrintable(msg(r.error())));
    QVERIFY2(clock.elapsed() < 6000, qPrintable(QStringLiteral("answered after %1 ms").arg(clock.elapsed())));

    // The server comes back on the same port: the link reconnects by itself.
    QVERIFY2(startPeer(m_port), qPrintable(m_peer->failureReport()));
    QTRY_COMPARE_WITH_TIMEOUT(cf.linkState(), RuntimeConnector::LinkState::Connected, 45000);
    auto back = await<RuntimeRun>([&](auto cb) { cf.getRun("work-agent/it-kill", cb); });
    QVERIFY2(back.ok(), qPrintable(back.ok() ? QString() : msg(back.error())));
    cf.stopFollowing();
}

QTEST_MAIN(tst_CloudflarePeer)
#include "tst_cloudflare_peer.moc"
