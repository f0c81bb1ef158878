// OAuth2Connector against the real oidc-provider 9.13.3 (tests/peers/oidc-peer.mjs): revoke an
// access token, revoke a refresh token and watch the cascade, garbage tokens (200 proves
// nothing; introspection decides), a wrong client secret, an issuer that is down, the leak
// check and the probe. Tokens for the agent are minted by the peer's test-only /test/mint.
#include "connectors/identity/OAuth2Connector.h"
#include "connectors/identity/OAuthCodec.h"
#include "connectors/net/HttpClient.h"
#include "models/Profile.h"
#include "tests/common/PeerProcess.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTest>
#include <QTimer>

#include <optional>

using namespace Breaker;
using namespace Breaker::Test;
using namespace std::chrono_literals;

namespace {

template<typename T>
std::optional<T> await(const std::function<void(std::function<void(T)>)> &call,
                       int timeoutMs = 20000)
{
    std::optional<T> out;
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    QObject::connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    call([&](T r) {
        if (!out) {
            out.emplace(std::move(r));
            loop.quit();
        }
    });
    if (!out) {
        timer.start(timeoutMs);
        loop.exec();
    }
    return out;
}

ProviderConfig providerFor(const QUrl &issuer, const QString &clientId = QStringLiteral("breaker"))
{
    ProviderConfig p;
    p.name = QStringLiteral("oidc");
    p.layer = QStringLiteral("identity");
    p.kind = QStringLiteral("oauth2");
    p.issuer = issuer;
    p.clientId = clientId;
    p.timeoutS = 10;
    return p;
}

LayerTarget targetFor(const QByteArray &token)
{
    LayerTarget t;
    t.agent = "refund-agent";
    t.operationKey = "stop-1";
    t.token = token;
    t.tokenRef = QStringLiteral("env:AGENT_TOKEN");
    return t;
}

QString describe(const StopLayerResult &row)
{
    return QString::fromUtf8(toWireName(row.outcome)) + QStringLiteral(": ") + row.detail;
}

} // namespace

class tst_OidcPeer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void revokeAccessToken();
    void revokeRefreshTokenCascades();
    void garbageTokenVerifiedOnlyByIntrospection_data();
    void garbageTokenVerifiedOnlyByIntrospection();
    void specialCharacterCredentials();
    void wrongClientSecret();
    void issuerDown();
    void leakCheck();
    void probe();

private:
    struct Minted
    {
        QByteArray access;
        QByteArray refresh;
    };
    Minted mint(const QString &sub);
    QJsonObject introspect(const QByteArray &token);

    std::unique_ptr<PeerProcess> m_peer;
    QUrl m_issuer;
    std::unique_ptr<Net::HttpClient> m_http;
};

void tst_OidcPeer::initTestCase()
{
    BREAKER_REQUIRE_PEERS();
    m_peer = std::make_unique<PeerProcess>();
    QVERIFY2(m_peer->startNode(QStringLiteral("oidc-peer.mjs")), qPrintable(m_peer->errorString()));
    const auto line = m_peer->waitForLine("LISTENING ", 30s);
    QVERIFY2(line, qPrintable(m_peer->failureReport()));
    m_issuer = QUrl(
        QStringLiteral("http://127.0.0.1:%1").arg(line->section(QLatin1Char(' '), 1).toInt()));
    Net::ClientOptions o;
    o.provider = QStringLiteral("test");
    m_http = std::make_unique<Net::HttpClient>(o);
}

void tst_OidcPeer::cleanupTestCase()
{
    if (m_peer)
        m_peer->stop();
}

tst_OidcPeer::Minted tst_OidcPeer::mint(const QString &sub)
{
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("sub"), sub},
                                                      {QStringLiteral("scope"),
                                                       QStringLiteral("openid offline_access")}})
                                .toJson(QJsonDocument::Compact);
    auto r = await<Result<Net::ClientReply>>([&](auto cb) {
        m_http->send("POST",
                     m_issuer.resolved(QUrl(QStringLiteral("/test/mint"))),
                     {{"Content-Type", "application/json"}},
                     body,
                     cb);
    });
    if (!r || !r->ok() || r->value().status != 200)
        return {};
    const QJsonObject o = QJsonDocument::fromJson(r->value().body).object();
    return {o.value(QLatin1String("access_token")).toString().toUtf8(),
            o.value(QLatin1String("refresh_token")).toString().toUtf8()};
}

QJsonObject tst_OidcPeer::introspect(const QByteArray &token)
{
    auto r = await<Result<Net::ClientReply>>([&](auto cb) {
        m_http->send("POST",
                     m_issuer.resolved(QUrl(QStringLiteral("/token/introspection"))),
                     {{"Content-Type", "application/x-www-form-urlencoded"},
                      {"Authorization", OAuth::basicAuthorization("breaker", "breaker-secret")}},
                     OAuth::formBody({{"token", token}}),
                     cb);
    });
    if (!r || !r->ok())
        return {};
    return QJsonDocument::fromJson(r->value().body).object();
}

void tst_OidcPeer::revokeAccessToken()
{
    const Minted t = mint(QStringLiteral("alice"));
    QVERIFY(!t.access.isEmpty());
    QCOMPARE(introspect(t.access).value(QLatin1String("active")), QJsonValue(true));
    OAuth2Connector c(providerFor(m_issuer), "breaker-secret");
    const auto rows = await<std::vector<StopLayerResult>>(
        [&](auto cb) { c.contain(targetFor(t.access), {}, cb); });
    QVERIFY(rows);
    QCOMPARE(rows->size(), size_t(1));
    const StopLayerResult &row = rows->front();
    QVERIFY2(row.outcome == LayerOutcome::Verified, qPrintable(describe(row)));
    QCOMPARE(row.detail, QStringLiteral("introspection: active=false"));
    QCOMPARE(row.target, QByteArray("token env:AGENT_TOKEN"));
    QCOMPARE(row.action, QByteArray("revoke"));
    QCOMPARE(row.layer, QByteArray("identity"));
    QCOMPARE(row.provider, QByteArray("oidc"));
    QVERIFY(row.ms >= 0 && row.ms < 20000);
    // Discovery found the endpoints (never hard-coded) and is cached.
    QVERIFY(c.metadata());
    QCOMPARE(c.metadata()->revocationEndpoint.path(), QStringLiteral("/token/revocation"));
    // oidc-provider revokes the whole grant, refresh token included, because Breaker's client
    // has the refresh_token grant type (lib/helpers/revoke.js).
    QCOMPARE(introspect(t.refresh), (QJsonObject{{QStringLiteral("active"), false}}));
}

void tst_OidcPeer::revokeRefreshTokenCascades()
{
    const Minted t = mint(QStringLiteral("bob"));
    QVERIFY(!t.refresh.isEmpty());
    OAuth2Connector c(providerFor(m_issuer), "breaker-secret");
    const auto rows = await<std::vector<StopLayerResult>>(
        [&](auto cb) { c.contain(targetFor(t.refresh), {}, cb); });
    QVERIFY(rows);
    QVERIFY2(rows->front().outcome == LayerOutcome::Verified, qPrintable(describe(rows->front())));
    // RFC 7009 2.1: the access tokens of the same grant die with the refresh token.
    QCOMPARE(introspect(t.access), (QJsonObject{{QStringLiteral("active"), false}}));
}

void tst_OidcPeer::garbageTokenVerifiedOnlyByIntrospection_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::newRow("garbage") << QByteArray("garbage");
    QTest::newRow("unknown opaque") << QByteArray("Ue2JDUZ9vo97DzYykAqPRpZ8yUvvv9ejylGdK7Q43av");
}

void tst_OidcPeer::garbageTokenVerifiedOnlyByIntrospection()
{
    QFETCH(QByteArray, token);
    // Revocation answers 200 for a token it never issued...
    auto revoke = await<Result<Net::ClientReply>>([&](auto cb) {
        m_http->send("POST",
                     m_issuer.resolved(QUrl(QStringLiteral("/token/revocation"))),
                     {{"Content-Type", "application/x-www-form-urlencoded"},
                      {"Authorization", OAuth::basicAuthorization("breaker", "breaker-secret")}},
                     OAuth::formBody({{"token", token}}),
                     cb);
    });
    QVERIFY(revoke && revoke->ok());
    QCOMPARE(revoke->value().status, 200);
    QVERIFY(revoke->value().body.isEmpty());
    // ...so the row is verified only because introspection says exactly active:false.
    OAuth2Connector c(providerFor(m_issuer), "breaker-secret");
    const auto rows = await<std::vector<StopLayerResult>>(
        [&](auto cb) { c.contain(targetFor(token), {}, cb); });
    QVERIFY(rows);
    QCOMPARE(rows->front().outcome, LayerOutcome::Verified);
    QCOMPARE(rows->front().detail, QStringLiteral("introspection: active=false"));
}

void tst_OidcPeer::specialCharacterCredentials()
{
    // The peer's third client has ':' '+' '%' ' ' in its id and secret: client_secret_basic
    // must form-encode both before base64 (RFC 6749 2.3.1), and oidc-provider decodes them.
    const Minted t = mint(QStringLiteral("carol"));
    OAuth2Connector c(providerFor(m_issuer, QStringLiteral("ops:breaker +1")), "p@ss:w/rd +%&=");
    const auto rows = await<std::vector<StopLayerResult>>(
        [&](auto cb) { c.contain(targetFor(t.refresh), {}, cb); });
    QVERIFY(rows);
    QVERIFY2(rows->front().outcome == LayerOutcome::Verified, qPrintable(describe(rows->front())));
}

void tst_OidcPeer::wrongClientSecret()
{
    const Minted t = mint(QStringLiteral("dave"));
    OAuth2Connector c(providerFor(m_issuer), "wrong-secret");
    const auto rows = await<std::vector<StopLayerResult>>(
        [&](auto cb) { c.contain(targetFor(t.refresh), {}, cb); });
    QVERIFY(rows);
    const StopLayerResult &row = rows->front();
    QCOMPARE(row.outcome, LayerOutcome::Failed);
    QVERIFY2(row.detail.contains(QStringLiteral("invalid_client"))
                 && row.detail.contains(QStringLiteral("client authentication failed")),
             qPrintable(row.detail));
    QVERIFY(!row.detail.contains(QStringLiteral("wrong-secret")));
    QVERIFY(!row.detail.contains(QString::fromUtf8(t.refresh)));
    // Nothing was revoked.
    QCOMPARE(introspect(t.access).value(QLatin1String("active")), QJsonValue(true));
}

void tst_OidcPeer::issuerDown()
{
    // A port nobody listens on.
    QTcpServer reserve;
    QVERIFY(reserve.listen(QHostAddress::LocalHost, 0));
    const quint16 port = reserve.serverPort();
    reserve.close();
    OAuth2Connector c(providerFor(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port))), "s");
    LayerDeadlines d;
    d.actMs = 2000;
    d.verifyMs = 1000;
    QElapsedTimer clock;
    clock.start();
    const auto rows = await<std::vector<StopLayerResult>>(
        [&](auto cb) { c.contain(targetFor("some-token-value"), d, cb); });
    QVERIFY(rows);
    QVERIFY2(clock.elapsed() <= 3500, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(rows->front().outcome, LayerOutcome::Failed);
    QVERIFY2(rows->front().detail.contains(QStringLiteral("oidc")),
             qPrintable(rows->front().detail));
}

void tst_OidcPeer::leakCheck()
{
    const Minted t = mint(QStringLiteral("erin"));
    OAuth2Connector c(providerFor(m_issuer), "breaker-secret");
    auto leaks = await<Result<std::vector<LayerLeak>>>(
        [&](auto cb) { c.checkLeaks(targetFor(t.access), 0, cb); });
    QVERIFY(leaks && leaks->ok());
    QCOMPARE(leaks->value().size(), size_t(1));
    QVERIFY2(
        leaks->value().front().what.contains(QStringLiteral("introspects active again (sub erin")),
        qPrintable(leaks->value().front().what));
    QVERIFY(!leaks->value().front().what.contains(QString::fromUtf8(t.access)));

    QVERIFY(await<std::vector<StopLayerResult>>(
        [&](auto cb) { c.contain(targetFor(t.access), {}, cb); }));
    leaks = await<Result<std::vector<LayerLeak>>>(
        [&](auto cb) { c.checkLeaks(targetFor(t.access), 0, cb); });
    QVERIFY(leaks && leaks->ok());
    QVERIFY(leaks->value().empty());
}

void tst_OidcPeer::probe()
{
    OAuth2Connector good(providerFor(m_issuer), "breaker-secret");
    auto r = await<Result<QString>>([&](auto cb) { good.probe(cb); });
    QVERIFY(r && r->ok());
    QVERIFY2(r->value().contains(QStringLiteral("active=false")), qPrintable(r->value()));

    OAuth2Connector bad(providerFor(m_issuer), "nope");
    r = await<Result<QString>>([&](auto cb) { bad.probe(cb); });
    QVERIFY(r && !r->ok());
    QVERIFY2(r->error().message.contains(QStringLiteral("invalid_client")),
             qPrintable(r->error().message));
    QCOMPARE(r->error().where, QStringLiteral("oidc"));
}

QTEST_GUILESS_MAIN(tst_OidcPeer)
#include "tst_oidc_peer.moc"
