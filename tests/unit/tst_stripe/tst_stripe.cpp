// The Stripe Issuing connector against the sandbox's StripeFake: a freeze read back, unfreeze,
// canceled and unknown cards, a bad key, retries that re-use the Idempotency-Key, 429 with
// Retry-After, the four faults, declines and leaks in the authorizations, and the pacer under
// the fake's rate limit.
#include "app/sandbox/fakes/StripeFake.h"
#include "connectors/net/HttpClient.h"
#include "connectors/payment/StripeIssuingConnector.h"
#include "models/Profile.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QtTest>

#include <memory>
#include <optional>

using namespace Breaker;

namespace {

ProviderConfig config(const QUrl &url)
{
    ProviderConfig p;
    p.name = QStringLiteral("stripe");
    p.layer = QStringLiteral("payment");
    p.kind = QStringLiteral("stripe-issuing");
    p.url = url;
    p.timeoutS = 1;
    return p;
}

LayerTarget target(const QStringList &cards, const QByteArray &operation = "op-1")
{
    LayerTarget t;
    t.agent = "refund-agent";
    t.operationKey = operation;
    t.cards = cards;
    return t;
}

QString id(const QByteArray &bytes)
{
    return QString::fromLatin1(bytes);
}

// Runs one connector call and waits (event loop, no sleep) for its answer.
std::vector<StopLayerResult> rows(const std::function<void(LayerDone)> &call, int timeoutMs = 8000)
{
    std::optional<std::vector<StopLayerResult>> out;
    call([&](std::vector<StopLayerResult> r) {
        QVERIFY(!out); // exactly once
        out = std::move(r);
    });
    [&] { QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), timeoutMs); }();
    return out.value_or(std::vector<StopLayerResult>{});
}

template<typename T>
std::optional<Result<T>> wait(const std::function<void(std::function<void(Result<T>)>)> &call,
                              int timeoutMs = 8000)
{
    std::optional<Result<T>> out;
    call([&](Result<T> r) { out = std::move(r); });
    [&] { QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), timeoutMs); }();
    return out;
}

struct Sandbox
{
    StripeFake fake;
    std::unique_ptr<StripeIssuingConnector> connector;
    QByteArray holder;

    explicit Sandbox(bool listen = true)
    {
        holder = fake.createCardholder(QStringLiteral("Refund Agent"));
        if (listen)
            start();
    }
    void start(QByteArray key = {})
    {
        QVERIFY(fake.listen().ok());
        connector = std::make_unique<StripeIssuingConnector>(config(fake.baseUrl()),
                                                             key.isEmpty() ? fake.apiKey() : key);
        connector->setRetryBaseMs(50);
    }
    // POST /v1/test_helpers/issuing/authorizations, as a merchant's charge would arrive.
    QJsonObject charge(const QByteArray &card, qint64 amount)
    {
        Net::ClientOptions options;
        options.provider = QStringLiteral("test");
        Net::HttpClient http(options);
        std::optional<Result<Net::ClientReply>> reply;
        QUrl url = fake.baseUrl();
        url.setPath(QStringLiteral("/v1/test_helpers/issuing/authorizations"));
        http.send("POST",
                  url,
                  {{"Authorization", "Bearer " + fake.apiKey()},
                   {"Content-Type", "application/x-www-form-urlencoded"}},
                  "card=" + card + "&amount=" + QByteArray::number(amount)
                      + "&merchant_data[name]=Agent%20Shop",
                  [&](const Result<Net::ClientReply> &r) { reply = r; });
        [&] { QTRY_VERIFY(reply.has_value()); }();
        if (!reply || !reply->ok())
            return {};
        return QJsonDocument::fromJson(reply->value().body).object();
    }
};

} // namespace

class tst_Stripe : public QObject
{
    Q_OBJECT

private slots:
    void freezeVerified();
    void severalCardsVerifiedWithLists();
    void unfreeze();
    void canceledCard();
    void unknownCard();
    void badKey();
    void serverErrorRetriedWithSameKey();
    void idempotencyMismatchIsAnError();
    void rateLimitedThenRetried();
    void garbage();
    void down();
    void slow();
    void frozenCardDeclines();
    void leakAfterStop();
    void lowerLimits();
    void probe();
    void pacerStaysUnderRateLimit();
};

void tst_Stripe::freezeVerified()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    const auto r = rows([&](LayerDone done) {
        s.connector->contain(target({id(card)}), {2000, 2000}, done);
    });
    QCOMPARE(r.size(), size_t(1));
    QCOMPARE(r[0].outcome, LayerOutcome::Verified);
    QCOMPARE(r[0].layer, QByteArray("payment"));
    QCOMPARE(r[0].provider, QByteArray("stripe"));
    QCOMPARE(r[0].agent, QByteArray("refund-agent"));
    QCOMPARE(r[0].action, QByteArray("freeze"));
    QCOMPARE(r[0].target, "card " + card);
    QCOMPARE(r[0].detail, QStringLiteral("card %1 read back: status=inactive").arg(id(card)));
    const QJsonObject stored = *s.fake.card(card);
    QCOMPARE(stored.value(QLatin1String("status")).toString(), QStringLiteral("inactive"));
    QCOMPARE(stored.value(QLatin1String("metadata"))
                 .toObject()
                 .value(QLatin1String("frozen_by"))
                 .toString(),
             QStringLiteral("breaker"));
}

void tst_Stripe::severalCardsVerifiedWithLists()
{
    Sandbox s;
    const QByteArray other = s.fake.createCardholder(QStringLiteral("Other"));
    QStringList cards;
    for (int i = 0; i < 5; ++i)
        cards << id(s.fake.createCard(i < 4 ? s.holder : other));
    s.fake.createCard(s.holder); // not the agent's: stays active
    const auto r = rows([&](LayerDone done) {
        s.connector->contain(target(cards), {3000, 3000}, done);
    });
    QCOMPARE(r.size(), size_t(5));
    for (size_t i = 0; i < r.size(); ++i) {
        QCOMPARE(r[i].outcome, LayerOutcome::Verified);
        QCOMPARE(r[i].target, "card " + cards[qsizetype(i)].toUtf8());
    }
    // 5 POSTs, then one list read per cardholder rather than 5 card reads.
    QCOMPARE(s.fake.requestCount(), 7);
}

void tst_Stripe::unfreeze()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    QCOMPARE(rows([&](LayerDone d) {
                 s.connector->contain(target({id(card)}, "stop-1"), {2000, 2000}, d);
             })[0]
                 .outcome,
             LayerOutcome::Verified);
    QVERIFY(s.connector->canRelease());
    const auto r = rows([&](LayerDone d) {
        s.connector->release(target({id(card)}, "resume-1"), {2000, 2000}, d);
    });
    QCOMPARE(r[0].outcome, LayerOutcome::Verified);
    QCOMPARE(r[0].action, QByteArray("unfreeze"));
    QCOMPARE(r[0].detail, QStringLiteral("card %1 read back: status=active").arg(id(card)));
    const QJsonObject stored = *s.fake.card(card);
    QCOMPARE(stored.value(QLatin1String("status")).toString(), QStringLiteral("active"));
    QVERIFY(
        !stored.value(QLatin1String("metadata")).toObject().contains(QLatin1String("frozen_by")));
}

void tst_Stripe::canceledCard()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    s.fake.setCardStatus(card, QStringLiteral("canceled"));
    const auto frozen = rows([&](LayerDone d) {
        s.connector->contain(target({id(card)}), {2000, 2000}, d);
    });
    QCOMPARE(frozen[0].outcome, LayerOutcome::Verified);
    QVERIFY2(frozen[0].detail.contains(QLatin1String("status=canceled"))
                 && frozen[0].detail.contains(QLatin1String("never spend")),
             qPrintable(frozen[0].detail));
    const auto released = rows([&](LayerDone d) {
        s.connector->release(target({id(card)}, "resume"), {2000, 2000}, d);
    });
    QCOMPARE(released[0].outcome, LayerOutcome::Failed);
    QVERIFY2(released[0].detail.contains(QLatin1String("canceled cards cannot be reactivated")),
             qPrintable(released[0].detail));
}

void tst_Stripe::unknownCard()
{
    Sandbox s;
    const auto r = rows([&](LayerDone d) {
        s.connector->contain(target({QStringLiteral("ic_nope")}), {2000, 2000}, d);
    });
    QCOMPARE(r[0].outcome, LayerOutcome::Failed);
    QVERIFY2(r[0].detail.contains(QLatin1String("Stripe invalid_request_error resource_missing: No "
                                                "such issuing card: 'ic_nope' (param id)")),
             qPrintable(r[0].detail));
    QVERIFY(r[0].detail.startsWith(QLatin1String("stripe: ")));
}

void tst_Stripe::badKey()
{
    Sandbox s(false);
    const QByteArray wrong = "rk_test_thisIsNotTheRightKey1234";
    s.start(wrong);
    const QByteArray card = s.fake.createCard(s.holder);
    const auto r = rows([&](LayerDone d) {
        s.connector->contain(target({id(card)}), {2000, 2000}, d);
    });
    QCOMPARE(r[0].outcome, LayerOutcome::Failed);
    QVERIFY2(r[0].detail.contains(QLatin1String("Invalid API Key provided")),
             qPrintable(r[0].detail));
    QVERIFY2(!r[0].detail.contains(QLatin1String("thisIsNotTheRightKey")),
             "the key must not be echoed");
    auto probe = wait<QString>([&](auto done) { s.connector->probe(done); });
    QVERIFY(probe && !probe->ok());
    QVERIFY(probe->error().message.contains(QLatin1String("HTTP 401")));
    QCOMPARE(probe->error().where, QStringLiteral("stripe"));
}

void tst_Stripe::serverErrorRetriedWithSameKey()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    s.fake.failNext(1, 500);
    const auto r = rows([&](LayerDone d) {
        s.connector->contain(target({id(card)}, "stop-7"), {3000, 2000}, d);
    });
    QCOMPARE(r[0].outcome, LayerOutcome::Verified);
    const QList<QByteArray> keys = s.fake.idempotencyKeysSeen();
    QCOMPARE(keys.size(), 2);
    QCOMPARE(keys[0], keys[1]);
    QCOMPARE(s.fake.timesApplied(keys[0]), 1);
    // The same operator action again: replayed, not applied again.
    rows([&](LayerDone d) { s.connector->contain(target({id(card)}, "stop-7"), {2000, 2000}, d); });
    QCOMPARE(s.fake.idempotencyKeysSeen().size(), 3);
    QCOMPARE(s.fake.idempotencyKeysSeen().last(), keys[0]);
    QCOMPARE(s.fake.timesApplied(keys[0]), 1);
    // A new action has a new key.
    rows([&](LayerDone d) { s.connector->contain(target({id(card)}, "stop-8"), {2000, 2000}, d); });
    QVERIFY(s.fake.idempotencyKeysSeen().last() != keys[0]);
}

void tst_Stripe::idempotencyMismatchIsAnError()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    Net::ClientOptions options;
    options.provider = QStringLiteral("test");
    Net::HttpClient http(options);
    QUrl url = s.fake.baseUrl();
    url.setPath(QStringLiteral("/v1/issuing/cards/") + id(card));
    const Net::HttpClient::Headers headers{{"Authorization", "Bearer " + s.fake.apiKey()},
                                           {"Idempotency-Key", "k-1"}};
    QList<Net::ClientReply> replies;
    for (const QByteArray &body : {QByteArray("status=inactive"),
                                   QByteArray("status=inactive"),
                                   QByteArray("status=active")})
        http.send("POST", url, headers, body, [&](const Result<Net::ClientReply> &r) {
            QVERIFY(r.ok());
            replies << *r;
        });
    QTRY_COMPARE(replies.size(), 3);
    QCOMPARE(replies[0].status, 200);
    QCOMPARE(replies[1].body, replies[0].body); // replayed byte for byte
    QCOMPARE(replies[1].header("Idempotent-Replayed"), QByteArray("true"));
    QCOMPARE(replies[2].status, 400);
    QVERIFY(replies[2].body.contains("\"idempotency_error\""));
    QCOMPARE(s.fake.timesApplied("k-1"), 1);
}

void tst_Stripe::rateLimitedThenRetried()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    s.fake.failNext(1, 429, "1");
    const auto r = rows([&](LayerDone d) {
        s.connector->contain(target({id(card)}), {3000, 2000}, d);
    });
    QCOMPARE(r[0].outcome, LayerOutcome::Verified);
    QVERIFY2(r[0].ms >= 1000, "Retry-After: 1 was honoured");
    QCOMPARE(s.fake.idempotencyKeysSeen().size(), 2);
}

void tst_Stripe::garbage()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    s.fake.faults()->setFault(SandboxFault::Garbage);
    const auto r = rows([&](LayerDone d) {
        s.connector->contain(target({id(card)}), {1000, 1000}, d);
    });
    QCOMPARE(r[0].outcome, LayerOutcome::Failed);
    QVERIFY2(r[0].detail.contains(QLatin1String("not a card"))
                 && r[0].detail.contains(QLatin1String("<html>")),
             qPrintable(r[0].detail));
}

void tst_Stripe::down()
{
    Sandbox s(false);
    s.fake.faults()->setFault(SandboxFault::Down);
    s.start();
    QElapsedTimer t;
    t.start();
    const auto r = rows([&](LayerDone d) {
        s.connector->contain(target({QStringLiteral("ic_1")}), {400, 400}, d);
    });
    QCOMPARE(r[0].outcome, LayerOutcome::Failed);
    QVERIFY2(t.elapsed() < 400 + 400 + 500, qPrintable(QString::number(t.elapsed())));
    QVERIFY2(r[0].detail.startsWith(QLatin1String("stripe")), qPrintable(r[0].detail));
}

void tst_Stripe::slow()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    s.fake.faults()->setFault(SandboxFault::Slow);
    QElapsedTimer t;
    t.start();
    const auto r = rows([&](LayerDone d) {
        s.connector->contain(target({id(card)}), {400, 400}, d);
    });
    QCOMPARE(r[0].outcome, LayerOutcome::Failed);
    QVERIFY2(t.elapsed() >= 400 && t.elapsed() < 400 + 400 + 500,
             qPrintable(QString::number(t.elapsed())));
    QVERIFY2(r[0].detail.contains(QLatin1String("did not answer")), qPrintable(r[0].detail));
}

void tst_Stripe::frozenCardDeclines()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    const qint64 stopMs = QDateTime::currentMSecsSinceEpoch();
    QCOMPARE(rows([&](LayerDone d) {
                 s.connector->contain(target({id(card)}), {2000, 2000}, d);
             })[0]
                 .outcome,
             LayerOutcome::Verified);
    const QJsonObject auth = s.charge(card, 1200);
    QCOMPARE(auth.value(QLatin1String("approved")).toBool(), false);
    auto list = wait<std::vector<Stripe::Authorization>>(
        [&](auto done) { s.connector->listAuthorizations(card, stopMs / 1000, done); });
    QVERIFY(list && list->ok());
    QCOMPARE((*list)->size(), size_t(1));
    const Stripe::Authorization &a = (*list)->front();
    QVERIFY(!a.approved);
    QCOMPARE(a.lastReason(), QStringLiteral("card_inactive"));
    QCOMPARE(a.requestedAmount(), 1200);
    QCOMPARE(a.card, id(card));
    // A decline is the freeze working, not a leak.
    auto leaks = wait<std::vector<LayerLeak>>(
        [&](auto done) { s.connector->checkLeaks(target({id(card)}), stopMs, done); });
    QVERIFY(leaks && leaks->ok());
    QVERIFY((*leaks)->empty());
}

void tst_Stripe::leakAfterStop()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    const QByteArray frozen = s.fake.createCard(s.holder);
    s.fake.setCardStatus(frozen, QStringLiteral("inactive"));
    const qint64 stopMs = QDateTime::currentMSecsSinceEpoch();
    // The stop did not reach `card` (still active): a charge goes through.
    const QJsonObject auth = s.charge(card, 1200);
    QVERIFY(auth.value(QLatin1String("approved")).toBool());
    s.charge(frozen, 500);
    auto leaks = wait<std::vector<LayerLeak>>([&](auto done) {
        s.connector->checkLeaks(target({id(card), id(frozen)}), stopMs, done);
    });
    QVERIFY(leaks && leaks->ok());
    QCOMPARE((*leaks)->size(), size_t(1));
    const LayerLeak &leak = (*leaks)->front();
    QCOMPARE(leak.layer, QByteArray("payment"));
    QCOMPARE(leak.agent, QByteArray("refund-agent"));
    QCOMPARE(
        leak.what,
        QStringLiteral("authorization %1 of 12.00 usd on card %2 approved (merchant Agent Shop)")
            .arg(auth.value(QLatin1String("id")).toString(), id(card)));
    QVERIFY(leak.atMs >= stopMs / 1000 * 1000);
}

void tst_Stripe::lowerLimits()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    const auto r = rows([&](LayerDone d) {
        s.connector->lowerLimits(
            target({id(card)}), card, 5000, QStringLiteral("daily"), {2000, 2000}, d);
    });
    QCOMPARE(r[0].outcome, LayerOutcome::Verified);
    QCOMPARE(r[0].action, QByteArray("limit"));
    QCOMPARE(r[0].detail,
             QStringLiteral("card %1 read back: spending limit 50.00 usd daily").arg(id(card)));
    // Replaces the whole array.
    rows([&](LayerDone d) {
        s.connector->lowerLimits(
            target({id(card)}), card, 100, QStringLiteral("per_authorization"), {2000, 2000}, d);
    });
    const QJsonArray limits = s.fake.card(card)
                                  ->value(QLatin1String("spending_controls"))
                                  .toObject()
                                  .value(QLatin1String("spending_limits"))
                                  .toArray();
    QCOMPARE(limits.size(), 1);
    QCOMPARE(limits[0].toObject().value(QLatin1String("amount")).toInt(), 100);
    // A charge over the limit is declined by spending_controls.
    QCOMPARE(s.charge(card, 101)
                 .value(QLatin1String("request_history"))
                 .toArray()[0]
                 .toObject()
                 .value(QLatin1String("reason"))
                 .toString(),
             QStringLiteral("spending_controls"));
}

void tst_Stripe::probe()
{
    Sandbox s;
    s.fake.createCard(s.holder);
    auto r = wait<QString>([&](auto done) { s.connector->probe(done); });
    QVERIFY(r && r->ok());
    QVERIFY2((*r)->contains(QLatin1String("test key"))
                 && (*r)->contains(QLatin1String(Stripe::kDefaultApiVersion)),
             qPrintable(**r));
    QCOMPARE(s.connector->requestRate(), 20.0); // a test key: Stripe's sandbox allows 25/s
}

void tst_Stripe::pacerStaysUnderRateLimit()
{
    Sandbox s;
    const QByteArray card = s.fake.createCard(s.holder);
    s.fake.setRateLimit(100);
    s.connector->setRequestRate(60);
    int ok = 0, failed = 0;
    for (int i = 0; i < 200; ++i)
        s.connector->readCard(
            card, [&](Result<Stripe::Card> r) { ++(r.ok() ? ok : failed); }, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(ok + failed, 200, 15000);
    QCOMPARE(failed, 0);
    QCOMPARE(s.fake.rateLimitedCount(), 0);

    // The control: the fake does limit. Unpaced, a burst earns 429s once the fake's window is
    // full. The limit drops to 20/s (below the 60/s just sent, so the window is full from the
    // first request) and every request gets 2 s to reach the fake: on a loaded machine a burst
    // of 100 ms deadlines expired in the client before reaching a 100/s limit, and the control
    // failed although nothing was wrong.
    s.fake.setRateLimit(20);
    s.connector->setRequestRate(0);
    ok = failed = 0;
    for (int i = 0; i < 150; ++i)
        s.connector->readCard(
            card, [&](Result<Stripe::Card> r) { ++(r.ok() ? ok : failed); }, 2000);
    QTRY_COMPARE_WITH_TIMEOUT(ok + failed, 150, 15000);
    QVERIFY(s.fake.rateLimitedCount() > 0);
}

QTEST_GUILESS_MAIN(tst_Stripe)
#include "tst_stripe.moc"
