// The Stripe codec: form encodings byte for byte against what stripe-node 23.1.0 sent
// (tests/data/stripe/README.md), the error object in words, cards, lists and authorizations
// in fixture shapes, and the webhook signature vector of PROTOCOLS.md 3.6.
#include "connectors/payment/StripeCodec.h"

#include <QFile>
#include <QJsonDocument>
#include <QtTest>

using namespace Breaker;

namespace {

QByteArray sample(const QString &name)
{
    QFile file(QStringLiteral(BREAKER_TEST_DATA_DIR "/stripe/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open sample %s", qPrintable(file.fileName()));
    return file.readAll();
}

const QByteArray kSecret = "whsec_test_secret";
const QByteArray kPayload
    = R"({"id":"evt_test","object":"event","type":"issuing_authorization.request"})";
const QByteArray kHeader
    = "t=1700000000,v1=53ebb6bf5335245b2e3019ebee77cd4b5cf3bd1112ec81ef9836ba57aa6592f5";

} // namespace

class tst_StripeCodec : public QObject
{
    Q_OBJECT

private slots:
    void formEncoding_data();
    void formEncoding();
    void numbersAsJavaScriptWritesThem();
    void decodeFormErrors();
    void errors_data();
    void errors();
    void card();
    void cardErrors();
    void authorizationList();
    void amounts();
    void signatureVector();
    void signatureRoll();
    void signatureFailures();
};

void tst_StripeCodec::formEncoding_data()
{
    QTest::addColumn<QByteArray>("params");
    QTest::addColumn<QByteArray>("encoded");
    const QList<QByteArray> lines = sample(QStringLiteral("form-encodings.txt")).split('\n');
    QByteArray name, params;
    int cases = 0;
    for (const QByteArray &line : lines) {
        if (line.startsWith("name "))
            name = line.mid(5);
        else if (line.startsWith("params "))
            params = line.mid(7);
        else if (line.startsWith("encoded")) {
            QTest::newRow(name.constData()) << params << line.mid(8);
            ++cases;
        }
    }
    QVERIFY(cases >= 15);
}

void tst_StripeCodec::formEncoding()
{
    QFETCH(QByteArray, params);
    QFETCH(QByteArray, encoded);
    auto fields = Stripe::formFieldsFromJson(params);
    QVERIFY2(fields.ok(), qPrintable(fields.ok() ? QString() : fields.error().message));
    QCOMPARE(Stripe::encodeForm(*fields), encoded);
    // And back, as the fake reads it.
    auto decoded = Stripe::decodeForm(encoded);
    QVERIFY(decoded.ok());
    QCOMPARE(*decoded, *fields);
}

void tst_StripeCodec::numbersAsJavaScriptWritesThem()
{
    auto fields = Stripe::formFieldsFromJson(
        R"({"a":1.5,"b":1e21,"c":-0.0000001,"d":123456789012,"e":0.1,"f":false})");
    QVERIFY(fields.ok());
    QCOMPARE(Stripe::encodeForm(*fields),
             QByteArray("a=1.5&b=1e%2B21&c=-1e-7&d=123456789012&e=0.1&f=false"));
    QVERIFY(!Stripe::formFieldsFromJson("[1,2]").ok());
    QVERIFY(!Stripe::formFieldsFromJson("{\"a\":").ok());
}

void tst_StripeCodec::decodeFormErrors()
{
    QVERIFY(!Stripe::decodeForm("a=%zz").ok());
    QVERIFY(!Stripe::decodeForm("a=%2").ok());
    auto plus = Stripe::decodeForm("name=Agent+Shop&&x");
    QVERIFY(plus.ok());
    QCOMPARE(plus->size(), 2);
    QCOMPARE(plus->at(0).second, QStringLiteral("Agent Shop"));
    QCOMPARE(plus->at(1).first, QByteArray("x"));
}

void tst_StripeCodec::errors_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("words");
    QTest::newRow("resource_missing")
        << 404
        << QByteArray(
               R"({"error":{"code":"resource_missing","doc_url":"https://stripe.com/docs/error-codes/resource-missing","message":"No such issuing card: 'ic_x'","param":"card","request_log_url":"https://dashboard.stripe.com/test/logs/req_1","type":"invalid_request_error"}})")
        << QStringLiteral("Stripe invalid_request_error resource_missing: No such issuing card: "
                          "'ic_x' (param card) [HTTP 404]");
    QTest::newRow("card decline")
        << 402
        << QByteArray(
               R"({"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}})")
        << QStringLiteral("Stripe card_error card_declined (decline insufficient_funds): Your card "
                          "has insufficient funds. [HTTP 402]");
    QTest::newRow("idempotency")
        << 400
        << QByteArray(
               R"({"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}})")
        << QStringLiteral("Stripe idempotency_error: Keys for idempotent requests can only be used "
                          "with the same parameters they were first used with. [HTTP 400]");
    QTest::newRow("api_error")
        << 500
        << QByteArray(R"({"error":{"type":"api_error","message":"An unknown error occurred"}})")
        << QStringLiteral("Stripe api_error: An unknown error occurred [HTTP 500]");
    // Found by fuzz_stripe: a "%0" in Stripe's words took the status of a second arg() call.
    QTest::newRow("percent placeholders in the words")
        << 509
        << QByteArray(R"({"error":{"type":"card_error","decline_code":"a%0s","message":"100%1 %2 sure"}})")
        << QStringLiteral("Stripe card_error (decline a%0s): 100%1 %2 sure [HTTP 509]");
    QTest::newRow("html")
        << 502 << QByteArray("<html><body>Bad Gateway</body></html>")
        << QStringLiteral(
               "HTTP 502 (text/html), not a Stripe answer: <html><body>Bad Gateway</body></html>");
    QTest::newRow("empty") << 503 << QByteArray()
                           << QStringLiteral(
                                  "HTTP 503 (text/html), not a Stripe answer: (empty body)");
    QTest::newRow("json without error")
        << 400 << QByteArray(R"({"message":"nope"})")
        << QStringLiteral("HTTP 400 (text/html), not a Stripe answer: {\"message\":\"nope\"}");
}

void tst_StripeCodec::errors()
{
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(QString, words);
    QCOMPARE(Stripe::describeFailure(status, "text/html", body), words);
}

void tst_StripeCodec::card()
{
    auto card = Stripe::parseCard(sample(QStringLiteral("card.json")));
    QVERIFY(card.ok());
    QCOMPARE(card->id, QStringLiteral("ic_1NvPjF2SSJdH5vn2OVbE7r0b"));
    QCOMPARE(card->status, QStringLiteral("inactive"));
    QCOMPARE(card->cardholder, QStringLiteral("ich_1NvPjE2SSJdH5vn2bL1pXhMf")); // expanded
    QCOMPARE(card->last4, QStringLiteral("4242"));
    QCOMPARE(card->expYear, 2028);
    QCOMPARE(card->created, 1696000001);
    QCOMPARE(card->metadata.value(QStringLiteral("frozen_by")), QStringLiteral("breaker"));
    QCOMPARE(card->spendingControls.spendingLimits.size(), size_t(2));
    QCOMPARE(card->spendingControls.spendingLimits[0],
             (Stripe::SpendingLimit{5000, QStringLiteral("daily"), {}}));
    QCOMPARE(card->spendingControls.spendingLimits[1].categories,
             QStringList{QStringLiteral("taxicabs_limousines")});
    QCOMPARE(card->spendingControls.blockedCategories,
             QStringList{QStringLiteral("betting_casino_gambling")});
    QVERIFY(card->spendingControls.allowedCategories.isEmpty());
}

void tst_StripeCodec::cardErrors()
{
    QVERIFY(!Stripe::parseCard(QByteArrayView("<html>")).ok());
    QVERIFY(
        !Stripe::parseCard(QByteArrayView(R"({"object":"issuing.cardholder","id":"ich_1"})")).ok());
    auto noStatus = Stripe::parseCard(QByteArrayView(R"({"object":"issuing.card","id":"ic_1"})"));
    QVERIFY(!noStatus.ok());
    QVERIFY(noStatus.error().message.contains(QLatin1String("ic_1")));
    QVERIFY(!Stripe::parseList(R"({"object":"issuing.card"})").ok());
    // Found by fuzz_stripe: a number beyond 64 bits was converted with undefined behaviour.
    auto huge = Stripe::parseCard(
        QByteArrayView(R"({"object":"issuing.card","id":"ic_1","status":"active","created":1e300})"));
    QVERIFY(huge.ok());
    QCOMPARE(huge->created, qint64(0));
}

void tst_StripeCodec::authorizationList()
{
    auto page = Stripe::parseList(sample(QStringLiteral("authorization-list.json")));
    QVERIFY(page.ok());
    QVERIFY(page->hasMore);
    QCOMPARE(page->url, QStringLiteral("/v1/issuing/authorizations"));
    QCOMPARE(page->data.size(), 2);
    QCOMPARE(page->lastId(), QStringLiteral("iauth_1NvPl12SSJdH5vn2Qw3E8Rcd"));

    auto declined = Stripe::parseAuthorization(page->data[0]);
    QVERIFY(declined.ok());
    QVERIFY(!declined->approved);
    QCOMPARE(declined->card, QStringLiteral("ic_1NvPjF2SSJdH5vn2OVbE7r0b"));
    QCOMPARE(declined->cardStatus, QStringLiteral("inactive"));
    QCOMPARE(declined->cardholder, QStringLiteral("ich_1NvPjE2SSJdH5vn2bL1pXhMf"));
    QCOMPARE(declined->status, QStringLiteral("closed"));
    QCOMPARE(declined->lastReason(), QStringLiteral("card_inactive"));
    QCOMPARE(declined->requestedAmount(), 1200);
    QCOMPARE(declined->merchant.name, QStringLiteral("Agent Shop"));
    QCOMPARE(declined->merchant.categoryCode, QStringLiteral("5734"));

    auto approved = Stripe::parseAuthorization(page->data[1]);
    QVERIFY(approved.ok());
    QVERIFY(approved->approved);
    QCOMPARE(approved->card, QStringLiteral("ic_1NvPjF2SSJdH5vn2OVbE7r0b")); // an id, not expanded
    QCOMPARE(approved->pendingAmount, std::optional<qint64>(382));
    QCOMPARE(approved->requestedAmount(), 382);
    QCOMPARE(approved->metadata.value(QStringLiteral("order")), QStringLiteral("42"));
}

void tst_StripeCodec::amounts()
{
    QCOMPARE(Stripe::formatAmount(1200, QStringLiteral("USD")), QStringLiteral("12.00 usd"));
    QCOMPARE(Stripe::formatAmount(5, QStringLiteral("eur")), QStringLiteral("0.05 eur"));
    QCOMPARE(Stripe::formatAmount(-250, QStringLiteral("gbp")), QStringLiteral("-2.50 gbp"));
    QCOMPARE(Stripe::formatAmount(1200, QStringLiteral("jpy")), QStringLiteral("1200 jpy"));
}

void tst_StripeCodec::signatureVector()
{
    QCOMPARE(Stripe::signatureHeader(kSecret, 1700000000, kPayload), kHeader);
    QVERIFY(Stripe::verifySignature(kPayload, kHeader, kSecret, 1700000000 + 1).ok());
    QVERIFY(Stripe::verifySignature(kPayload, kHeader, kSecret, 1700000000 + 300).ok());
    auto late = Stripe::verifySignature(kPayload, kHeader, kSecret, 1700000000 + 301);
    QVERIFY(!late.ok());
    QCOMPARE(late.error().message, QStringLiteral("Timestamp outside the tolerance zone"));
    // stripe-node accepts a timestamp in the future.
    QVERIFY(Stripe::verifySignature(kPayload, kHeader, kSecret, 1700000000 - 1000).ok());
}

void tst_StripeCodec::signatureRoll()
{
    // During a secret roll the header carries several v1 values; v0 is ignored.
    const QByteArray other = Stripe::computeSignature("whsec_old", 1700000000, kPayload);
    const QByteArray header = "t=1700000000,v1=" + other
                              + ",v1=" + Stripe::computeSignature(kSecret, 1700000000, kPayload)
                              + ",v0=deadbeef";
    QVERIFY(Stripe::verifySignature(kPayload, header, kSecret, 1700000005).ok());
}

void tst_StripeCodec::signatureFailures()
{
    // A re-serialized body does not match: the raw bytes are hashed.
    const QByteArray reserialized
        = QJsonDocument::fromJson(kPayload).toJson(QJsonDocument::Indented);
    QVERIFY(reserialized != kPayload);
    auto changed = Stripe::verifySignature(reserialized, kHeader, kSecret, 1700000001);
    QVERIFY(!changed.ok());
    QVERIFY(changed.error().message.startsWith(QLatin1String("No signatures found matching")));
    QVERIFY(!Stripe::verifySignature(kPayload, kHeader, "whsec_other", 1700000001).ok());
    const QByteArray v0Only
        = "t=1700000000,v0=" + Stripe::computeSignature(kSecret, 1700000000, kPayload);
    auto noV1 = Stripe::verifySignature(kPayload, v0Only, kSecret, 1700000001);
    QVERIFY(!noV1.ok());
    QCOMPARE(noV1.error().message,
             QStringLiteral("Unable to extract timestamp and signatures from header"));
    QVERIFY(!Stripe::verifySignature(kPayload, "garbage", kSecret, 1700000001).ok());
    QVERIFY(
        !Stripe::verifySignature(kPayload, kHeader.left(kHeader.size() - 1), kSecret, 1700000001)
             .ok());
}

QTEST_GUILESS_MAIN(tst_StripeCodec)
#include "tst_stripecodec.moc"
