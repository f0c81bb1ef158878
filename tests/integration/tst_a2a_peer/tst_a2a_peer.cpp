// Breaker's A2A connector against the real @a2a-js/sdk 1.3.0 server (tests/peers/a2a-peer.mjs),
// in both dialects and both bindings: discover, list with paging, follow, get, cancel a
// working task, answer an input-required task, and the -32001 / -32002 / -32004 answers.
#include "connectors/runtime/A2aConnector.h"
#include "models/Profile.h"
#include "tests/common/PeerProcess.h"

#include <QEventLoop>
#include <QSet>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>
#include <QTimer>

#include <functional>

using namespace Breaker;
using namespace Breaker::Test;
using namespace std::chrono_literals;

namespace {

// Runs `call` and waits for its one callback (or the timeout: then the result says so).
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

ProviderConfig providerFor(const QUrl &url)
{
    ProviderConfig p;
    p.name = QStringLiteral("peer");
    p.layer = QStringLiteral("runtime");
    p.kind = QStringLiteral("a2a");
    p.url = url;
    p.timeoutS = 10;
    return p;
}

} // namespace

class tst_A2aPeer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void lifecycle_data();
    void lifecycle();
    void providerDownAtStart();
    void garbageCard();

private:
    std::unique_ptr<PeerProcess> m_peer;
    QString m_origin;
};

void tst_A2aPeer::initTestCase()
{
    BREAKER_REQUIRE_PEERS();
    m_peer = std::make_unique<PeerProcess>();
    QVERIFY2(m_peer->startNode(QStringLiteral("a2a-peer.mjs"), {QStringLiteral("--seed"), QStringLiteral("5")}),
             qPrintable(m_peer->errorString()));
    const auto line = m_peer->waitForLine("LISTENING ", 30s);
    QVERIFY2(line, qPrintable(m_peer->failureReport()));
    m_origin = QStringLiteral("http://127.0.0.1:%1").arg(line->section(QLatin1Char(' '), 1).toInt());
}

void tst_A2aPeer::cleanupTestCase()
{
    if (m_peer)
        m_peer->stop();
}

void tst_A2aPeer::lifecycle_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("dialect");
    QTest::addColumn<QString>("dialectName");
    QTest::newRow("1.0 JSON-RPC") << QStringLiteral("/a2a/jsonrpc") << int(A2a::Dialect::V1_0)
                                  << QStringLiteral("A2A 1.0 JSON-RPC");
    QTest::newRow("1.0 HTTP+JSON") << QStringLiteral("/a2a/rest") << int(A2a::Dialect::V1_0)
                                   << QStringLiteral("A2A 1.0 HTTP+JSON");
    QTest::newRow("0.3 JSON-RPC") << QStringLiteral("/a2a/jsonrpc") << int(A2a::Dialect::V0_3)
                                  << QStringLiteral("A2A 0.3 JSON-RPC");
    QTest::newRow("0.3 HTTP+JSON") << QStringLiteral("/a2a/rest") << int(A2a::Dialect::V0_3)
                                   << QStringLiteral("A2A 0.3 HTTP+JSON");
}

void tst_A2aPeer::lifecycle()
{
    QFETCH(QString, path);
    QFETCH(int, dialect);
    QFETCH(QString, dialectName);
    A2aConnector a2a(providerFor(QUrl(m_origin + path)), {});
    a2a.setDialectOverride(A2a::Dialect(dialect));
    a2a.setPollIntervalMs(200);

    // Discovery from the card.
    auto caps = await<RuntimeCapabilities>([&](auto cb) { a2a.discover(cb); });
    QVERIFY2(caps.ok(), qPrintable(caps.ok() ? QString() : msg(caps.error())));
    QCOMPARE(caps->dialect, dialectName);
    QVERIFY(caps->get && caps->cancel && caps->answer && caps->follow);
    // a2a-js has no v0.3 list at all (its v0.3 REST list falls through to the 1.0 router).
    const bool canList = dialect == int(A2a::Dialect::V1_0);
    QCOMPARE(caps->list, canList);

    QSignalSpy updates(&a2a, &RuntimeConnector::runUpdated);

    // A working task, followed, cancelled, read back.
    auto started = await<RuntimeRun>([&](auto cb) { a2a.startTask(QStringLiteral("work 60000"), {}, cb); });
    QVERIFY2(started.ok(), qPrintable(started.ok() ? QString() : msg(started.error())));
    const QByteArray taskId = started->externalId;
    QCOMPARE(started->key, QByteArray("a2a:") + taskId);
    QCOMPARE(started->provider, QByteArray("peer"));
    QVERIFY(!started->agentName.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            auto r = await<RuntimeRun>([&](auto cb) { a2a.getRun(taskId, cb); });
            return r.ok() && r->status == RunStatus::Working;
        }(),
        10000);

    if (canList) {
        // Paging: two per page until the new task shows; tokens come back empty on the last page.
        QByteArray token;
        bool found = false;
        int pages = 0;
        do {
            auto page = await<RuntimePage>([&](auto cb) { a2a.listRuns(token, 2, cb); });
            QVERIFY2(page.ok(), qPrintable(page.ok() ? QString() : msg(page.error())));
            QVERIFY(page->runs.size() <= 2);
            for (const RuntimeRun &run : page->runs)
                found = found || run.externalId == taskId;
            token = page->nextPageToken;
            ++pages;
        } while (!token.isEmpty() && !found && pages < 50);
        QVERIFY(found);

        // A page of tens of KB (a busy fleet's poll) is parsed off the connector's thread and
        // comes back whole: every task started here is on the first page of 100.
        QSet<QByteArray> many;
        for (int i = 0; i < 90; ++i) {
            auto t = await<RuntimeRun>([&](auto cb) { a2a.startTask(QStringLiteral("work 1"), {}, cb); });
            QVERIFY2(t.ok(), qPrintable(t.ok() ? QString() : msg(t.error())));
            many.insert(t->externalId);
        }
        auto big = await<RuntimePage>([&](auto cb) { a2a.listRuns({}, 100, cb); });
        QVERIFY2(big.ok(), qPrintable(big.ok() ? QString() : msg(big.error())));
        QVERIFY(big->runs.size() > 90);
        for (const RuntimeRun &run : big->runs)
            many.remove(run.externalId);
        QVERIFY2(many.isEmpty(), qPrintable(QStringLiteral("%1 started tasks missing from the page").arg(many.size())));
    }

    a2a.watchRun(taskId); // a subscription stream: the cancel must arrive on it
    QTest::qWait(300);
    const qsizetype before = updates.size();
    auto cancelled = await<RuntimeRun>([&](auto cb) { a2a.cancelRun(taskId, cb); });
    QVERIFY2(cancelled.ok(), qPrintable(cancelled.ok() ? QString() : msg(cancelled.error())));
    QCOMPARE(cancelled->status, RunStatus::Stopped);
    auto readBack = await<RuntimeRun>([&](auto cb) { a2a.getRun(taskId, cb); });
    QVERIFY(readBack.ok());
    QCOMPARE(readBack->status, RunStatus::Stopped);
    QVERIFY(updates.size() > before);
    // A second cancel is not an error on a2a-js.
    auto again = await<RuntimeRun>([&](auto cb) { a2a.cancelRun(taskId, cb); });
    QVERIFY2(again.ok(), qPrintable(again.ok() ? QString() : msg(again.error())));
    QCOMPARE(again->status, RunStatus::Stopped);

    // A finished task cannot be cancelled: -32002 in words.
    auto quick = await<RuntimeRun>([&](auto cb) { a2a.startTask(QStringLiteral("quick"), {}, cb); });
    QVERIFY(quick.ok());
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            auto r = await<RuntimeRun>([&](auto cb) { a2a.getRun(quick->externalId, cb); });
            return r.ok() && r->status == RunStatus::Completed;
        }(),
        10000);
    auto notCancelable = await<RuntimeRun>([&](auto cb) { a2a.cancelRun(quick->externalId, cb); });
    QVERIFY(!notCancelable.ok());
    QCOMPARE(notCancelable.error().kind, Error::Kind::Conflict);
    QVERIFY2(notCancelable.error().message.contains(QLatin1String("not cancelable"), Qt::CaseInsensitive),
             qPrintable(notCancelable.error().message));
    QCOMPARE(notCancelable.error().where, QStringLiteral("peer"));
    // Watching a finished task ends at once (-32004) and does not hang.
    a2a.watchRun(quick->externalId);

    // A task that vanished: -32001 in words.
    auto missing = await<RuntimeRun>([&](auto cb) { a2a.getRun("no-such-task", cb); });
    QVERIFY(!missing.ok());
    QCOMPARE(missing.error().kind, Error::Kind::NotFound);
    QVERIFY2(missing.error().message.contains(QLatin1String("no-such-task")), qPrintable(missing.error().message));

    // Input required: the question is read, answered on the same task and context.
    auto ask = await<RuntimeRun>([&](auto cb) { a2a.startTask(QStringLiteral("ask"), {}, cb); });
    QVERIFY(ask.ok());
    Result<RuntimeRun> waiting = makeError(Error::Kind::Internal, QString());
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            waiting = await<RuntimeRun>([&](auto cb) { a2a.getRun(ask->externalId, cb); });
            return waiting.ok() && waiting->status == RunStatus::WaitingApproval;
        }(),
        10000);
    QVERIFY(waiting->approval.has_value());
    QCOMPARE(waiting->approval->action, QByteArray("stripe.refund"));
    QCOMPARE(waiting->approval->amountValue, QByteArray("1250.00"));
    ApprovalAnswer answer;
    answer.decision = ApprovalDecision::Approve;
    answer.reason = QStringLiteral("customer verified by phone");
    auto answered = await<RuntimeRun>([&](auto cb) { a2a.answer(ask->externalId, answer, cb); });
    QVERIFY2(answered.ok(), qPrintable(answered.ok() ? QString() : msg(answered.error())));
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            auto r = await<RuntimeRun>([&](auto cb) { a2a.getRun(ask->externalId, cb); });
            return r.ok() && r->status == RunStatus::Completed;
        }(),
        10000);
    // Answering again: someone already answered; the operator is told so.
    auto late = await<RuntimeRun>([&](auto cb) { a2a.answer(ask->externalId, answer, cb); });
    QVERIFY(!late.ok());
    QCOMPARE(late.error().kind, Error::Kind::Conflict);
    QVERIFY2(late.error().message.contains(QLatin1String("no longer waits")), qPrintable(late.error().message));

    // Following reports a task nobody here asked about.
    if (canList) {
        a2a.startFollowing();
        QTRY_VERIFY_WITH_TIMEOUT(a2a.linkState() == RuntimeConnector::LinkState::Connected, 10000);
        updates.clear();
        auto other = await<RuntimeRun>([&](auto cb) { a2a.startTask(QStringLiteral("work 800"), {}, cb); });
        QVERIFY(other.ok());
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (const auto &args : updates) {
                    const auto run = args.at(0).value<RuntimeRun>();
                    if (run.externalId == other->externalId && run.status == RunStatus::Completed)
                        return true;
                }
                return false;
            }(),
            10000);
        a2a.stopFollowing();
    }
}

void tst_A2aPeer::providerDownAtStart()
{
    QTcpServer reserve;
    QVERIFY(reserve.listen(QHostAddress::LocalHost, 0));
    const quint16 port = reserve.serverPort();
    reserve.close(); // nothing listens there now
    A2aConnector a2a(providerFor(QUrl(QStringLiteral("http://127.0.0.1:%1/a2a/jsonrpc").arg(port))), {});
    QSignalSpy links(&a2a, &RuntimeConnector::linkStateChanged);
    auto r = await<RuntimeRun>([&](auto cb) { a2a.getRun("x", cb); });
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::Unavailable);
    QVERIFY2(r.error().message.startsWith(QLatin1String("peer is unreachable at http://127.0.0.1:")),
             qPrintable(r.error().message));
    QCOMPARE(a2a.linkState(), RuntimeConnector::LinkState::Down);
}

void tst_A2aPeer::garbageCard()
{
    // The peer's JSON-RPC endpoint named as a card: it answers something that is not a card.
    A2aConnector a2a(providerFor(QUrl(m_origin + QStringLiteral("/no-such-card.json"))), {});
    auto caps = await<RuntimeCapabilities>([&](auto cb) { a2a.discover(cb); });
    QVERIFY(!caps.ok());
    QVERIFY2(caps.error().message.contains(QLatin1String("HTTP 404")), qPrintable(caps.error().message));
}

QTEST_MAIN(tst_A2aPeer)
#include "tst_a2a_peer.moc"
