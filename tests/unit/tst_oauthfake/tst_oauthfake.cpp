// The sandbox's OAuth 2.0 server (app/sandbox/fakes/OAuthFake.h): discovery, the token endpoint,
// the revocation cascade, introspection's exact {"active":false}, client authentication, the
// faults; and OAuth2Connector against it for what oidc-provider never does (503 + Retry-After,
// an issuer without introspection).
#include "app/sandbox/fakes/OAuthFake.h"
#include "connectors/identity/OAuth2Connector.h"
#include "connectors/identity/OAuthCodec.h"
#include "connectors/net/HttpClient.h"
#include "models/Profile.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimer>

#include <optional>

using namespace Breaker;

namespace {

// Runs `call` and waits for its one callback, at most timeoutMs.
template<typename T>
std::optional<T> await(const std::function<void(std::function<void(T)>)> &call,
                       int timeoutMs = 15000)
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

ProviderConfig providerFor(const QUrl &issuer, const QString &clientId)
{
    ProviderConfig p;
    p.name = QStringLiteral("idp");
    p.layer = QStringLiteral("identity");
    p.kind = QStringLiteral("oauth2");
    p.issuer = issuer;
    p.clientId = clientId;
    p.timeoutS = 5;
    return p;
}

LayerTarget targetFor(const QByteArray &token)
{
    LayerTarget t;
    t.agent = "refund-agent";
    t.operationKey = "op-1";
    t.token = token;
    t.tokenRef = QStringLiteral("file:/run/agent.token");
    return t;
}

QJsonObject object(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

} // namespace

class tst_OAuthFake : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void discovery();
    void tokenEndpoint_data();
    void tokenEndpoint();
    void revokeCascade();
    void introspectUnknownAndExpired();
    void faults_data();
    void faults();
    void faultDown();
    void faultLatency();
    void connectorVerified();
    void connectorRetriesBusyRevocation_data();
    void connectorRetriesBusyRevocation();
    void connectorBusyPastDeadline_data();
    void connectorBusyPastDeadline();
    void connectorRetriesBusyIntrospection();
    void connectorIntrospectionBusyPastDeadline();
    void connectorWithoutIntrospection();
    void connectorWrongSecret();
    void connectorIssuerDown();
    void connectorLeakAndProbe();

private:
    Net::ClientReply
    post(const QString &path, const OAuth::Form &form, const QByteArray &authorization);
    Net::ClientReply get(const QString &path);
    QByteArray accessTokenFrom(const QByteArray &refresh);

    std::unique_ptr<OAuthFake> m_fake;
    std::unique_ptr<Net::HttpClient> m_http;
    QByteArray m_breakerAuth = OAuth::basicAuthorization("breaker", "breaker secret:+");
    QByteArray m_agentAuth = OAuth::basicAuthorization("agent", "agent-secret");
};

void tst_OAuthFake::init()
{
    m_fake = std::make_unique<OAuthFake>();
    m_fake->registerClient("breaker", "breaker secret:+");
    m_fake->registerClient("agent", "agent-secret");
    QVERIFY(m_fake->listen().ok());
    Net::ClientOptions o;
    o.provider = QStringLiteral("test");
    o.timeoutMs = 5000;
    m_http = std::make_unique<Net::HttpClient>(o);
}

void tst_OAuthFake::cleanup()
{
    m_http.reset();
    m_fake.reset();
}

Net::ClientReply
tst_OAuthFake::post(const QString &path, const OAuth::Form &form, const QByteArray &authorization)
{
    Net::HttpClient::Headers h{{"Content-Type", "application/x-www-form-urlencoded"}};
    if (!authorization.isEmpty())
        h.append(std::pair<QByteArray, QByteArray>("Authorization", authorization));
    const QUrl url = m_fake->issuer().resolved(QUrl(path));
    auto r = await<Result<Net::ClientReply>>(
        [&](auto cb) { m_http->send("POST", url, h, OAuth::formBody(form), cb); });
    if (!r || !r->ok())
        return {};
    return r->value();
}

Net::ClientReply tst_OAuthFake::get(const QString &path)
{
    const QUrl url = m_fake->issuer().resolved(QUrl(path));
    auto r
        = await<Result<Net::ClientReply>>([&](auto cb) { m_http->send("GET", url, {}, {}, cb); });
    if (!r || !r->ok())
        return {};
    return r->value();
}

QByteArray tst_OAuthFake::accessTokenFrom(const QByteArray &refresh)
{
    const auto r = post(QStringLiteral("/token"),
                        {{"grant_type", "refresh_token"}, {"refresh_token", refresh}},
                        m_agentAuth);
    return object(r.body).value(QLatin1String("access_token")).toString().toUtf8();
}

void tst_OAuthFake::discovery()
{
    const auto r = get(QStringLiteral("/.well-known/openid-configuration"));
    QCOMPARE(r.status, 200);
    const auto m = OAuth::parseMetadata(r.body, m_fake->issuer().toString());
    QVERIFY2(m.ok(), qPrintable(m.ok() ? QString() : m.error().message));
    const QString base = m_fake->issuer().toString();
    QCOMPARE(m->tokenEndpoint.toString(), base + QStringLiteral("/token"));
    QCOMPARE(m->revocationEndpoint.toString(), base + QStringLiteral("/token/revocation"));
    QCOMPARE(m->introspectionEndpoint.toString(), base + QStringLiteral("/token/introspection"));
    QVERIFY(m->grantTypes.contains(QStringLiteral("refresh_token")));
    QVERIFY(m->grantTypes.contains(QStringLiteral("client_credentials")));
}

void tst_OAuthFake::tokenEndpoint_data()
{
    QTest::addColumn<QByteArray>("grant");
    QTest::addColumn<bool>("basic"); // else client_secret_post
    QTest::addColumn<QByteArray>("secret");
    QTest::addColumn<bool>("foreignToken"); // the refresh token of another client
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("error");
    QTest::newRow("refresh, basic") << QByteArray("refresh_token") << true
                                    << QByteArray("agent-secret") << false << 200 << QString();
    QTest::newRow("refresh, post") << QByteArray("refresh_token") << false
                                   << QByteArray("agent-secret") << false << 200 << QString();
    QTest::newRow("wrong secret") << QByteArray("refresh_token") << true << QByteArray("nope")
                                  << false << 401 << QStringLiteral("invalid_client");
    QTest::newRow("another client's refresh token")
        << QByteArray("refresh_token") << true << QByteArray("agent-secret") << true << 400
        << QStringLiteral("invalid_grant");
    QTest::newRow("client_credentials") << QByteArray("client_credentials") << true
                                        << QByteArray("agent-secret") << false << 200 << QString();
    QTest::newRow("unsupported") << QByteArray("password") << true << QByteArray("agent-secret")
                                 << false << 400 << QStringLiteral("unsupported_grant_type");
}

void tst_OAuthFake::tokenEndpoint()
{
    QFETCH(QByteArray, grant);
    QFETCH(bool, basic);
    QFETCH(QByteArray, secret);
    QFETCH(bool, foreignToken);
    QFETCH(int, status);
    QFETCH(QString, error);
    const QByteArray refresh = m_fake->issueRefreshToken(
        foreignToken ? "breaker" : "agent", "alice", "openid offline_access");
    OAuth::Form form{{"grant_type", grant}};
    if (grant == "refresh_token")
        form.append(std::pair<QByteArray, QByteArray>("refresh_token", refresh));
    QByteArray auth;
    if (basic) {
        auth = OAuth::basicAuthorization("agent", secret);
    } else {
        form.append(std::pair<QByteArray, QByteArray>("client_id", "agent"));
        form.append(std::pair<QByteArray, QByteArray>("client_secret", secret));
    }
    const auto r = post(QStringLiteral("/token"), form, auth);
    QCOMPARE(r.status, status);
    const QJsonObject o = object(r.body);
    if (!error.isEmpty()) {
        QCOMPARE(o.value(QLatin1String("error")).toString(), error);
        QVERIFY(!o.value(QLatin1String("error_description")).toString().isEmpty());
        return;
    }
    QVERIFY(!o.value(QLatin1String("access_token")).toString().isEmpty());
    QCOMPARE(o.value(QLatin1String("expires_in")).toInt(), 300);
    QCOMPARE(o.value(QLatin1String("token_type")).toString(), QStringLiteral("Bearer"));
    if (grant == "refresh_token")
        QCOMPARE(o.value(QLatin1String("refresh_token")).toString().toUtf8(), refresh);
}

void tst_OAuthFake::revokeCascade()
{
    const QByteArray refresh = m_fake->issueRefreshToken("agent", "alice", "payments:read");
    const QByteArray access = accessTokenFrom(refresh);
    QVERIFY(!access.isEmpty());
    QVERIFY(access != refresh);

    auto live = post(QStringLiteral("/token/introspection"), {{"token", access}}, m_breakerAuth);
    QCOMPARE(live.status, 200);
    const QJsonObject o = object(live.body);
    QCOMPARE(o.value(QLatin1String("active")), QJsonValue(true));
    QCOMPARE(o.value(QLatin1String("sub")).toString(), QStringLiteral("alice"));
    QCOMPARE(o.value(QLatin1String("client_id")).toString(), QStringLiteral("agent"));
    QCOMPARE(o.value(QLatin1String("scope")).toString(), QStringLiteral("payments:read"));
    QCOMPARE(o.value(QLatin1String("iss")).toString(), m_fake->issuer().toString());
    QCOMPARE(o.value(QLatin1String("token_type")).toString(), QStringLiteral("Bearer"));
    QVERIFY(o.value(QLatin1String("exp")).toInteger() > o.value(QLatin1String("iat")).toInteger());

    // Breaker's client revokes the agent's refresh token with a wrong hint: it must not matter,
    // and the grant's access token dies with it.
    const auto revoked = post(QStringLiteral("/token/revocation"),
                              {{"token", refresh}, {"token_type_hint", "access_token"}},
                              m_breakerAuth);
    QCOMPARE(revoked.status, 200);
    QVERIFY(revoked.body.isEmpty());
    for (const QByteArray &t : {access, refresh}) {
        const auto r = post(QStringLiteral("/token/introspection"), {{"token", t}}, m_breakerAuth);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray(R"({"active":false})"));
    }
    const auto again = post(QStringLiteral("/token"),
                            {{"grant_type", "refresh_token"}, {"refresh_token", refresh}},
                            m_agentAuth);
    QCOMPARE(again.status, 400);
    QCOMPARE(object(again.body).value(QLatin1String("error")).toString(),
             QStringLiteral("invalid_grant"));

    // Revoking an access token leaves the refresh token (RFC 7009: MAY, not MUST).
    const QByteArray refresh2 = m_fake->issueRefreshToken("agent", "bob", "x");
    const QByteArray access2 = accessTokenFrom(refresh2);
    QCOMPARE(post(QStringLiteral("/token/revocation"), {{"token", access2}}, m_breakerAuth).status,
             200);
    QCOMPARE(post(QStringLiteral("/token/introspection"), {{"token", access2}}, m_breakerAuth).body,
             QByteArray(R"({"active":false})"));
    QVERIFY(
        object(
            post(QStringLiteral("/token/introspection"), {{"token", refresh2}}, m_breakerAuth).body)
            .value(QLatin1String("active"))
            .toBool());
}

void tst_OAuthFake::introspectUnknownAndExpired()
{
    QCOMPARE(
        post(QStringLiteral("/token/revocation"), {{"token", "garbage"}}, m_breakerAuth).status,
        200);
    QCOMPARE(
        post(QStringLiteral("/token/introspection"), {{"token", "garbage"}}, m_breakerAuth).body,
        QByteArray(R"({"active":false})"));
    m_fake->setAccessTokenTtlS(0);
    const QByteArray access = accessTokenFrom(m_fake->issueRefreshToken("agent", "alice", "x"));
    QVERIFY(!access.isEmpty());
    QCOMPARE(post(QStringLiteral("/token/introspection"), {{"token", access}}, m_breakerAuth).body,
             QByteArray(R"({"active":false})"));
    // Bad client authentication is 401 invalid_client, not an answer about the token.
    const auto bad = post(QStringLiteral("/token/introspection"),
                          {{"token", access}},
                          OAuth::basicAuthorization("breaker", "wrong"));
    QCOMPARE(bad.status, 401);
    QCOMPARE(OAuth::parseError(bad.body)->error, QByteArray("invalid_client"));
    const auto none = post(QStringLiteral("/token/introspection"), {{"token", access}}, {});
    QCOMPARE(none.status, 401);
    const auto missing = post(QStringLiteral("/token/introspection"), {}, m_breakerAuth);
    QCOMPARE(missing.status, 400);
    QCOMPARE(OAuth::parseError(missing.body)->error, QByteArray("invalid_request"));
}

void tst_OAuthFake::faults_data()
{
    QTest::addColumn<int>("fault");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("contentType");
    QTest::newRow("error") << int(SandboxFault::Error) << 500 << QByteArray("application/json");
    QTest::newRow("garbage") << int(SandboxFault::Garbage) << 200 << QByteArray("text/html");
}

void tst_OAuthFake::faults()
{
    QFETCH(int, fault);
    QFETCH(int, status);
    QFETCH(QByteArray, contentType);
    m_fake->faults()->setFault(SandboxFault(fault));
    const auto r = post(QStringLiteral("/token/introspection"), {{"token", "x"}}, m_breakerAuth);
    QCOMPARE(r.status, status);
    QVERIFY2(r.contentType.startsWith(contentType), r.contentType.constData());
    if (SandboxFault(fault) == SandboxFault::Error)
        QCOMPARE(OAuth::parseError(r.body)->error, QByteArray("server_error"));
    else
        QVERIFY(!OAuth::parseIntrospection(r.body).ok());
    // Discovery goes through the same faults.
    QCOMPARE(get(QStringLiteral("/.well-known/openid-configuration")).status, status);
}

void tst_OAuthFake::faultDown()
{
    OAuthFake down;
    down.faults()->setFault(SandboxFault::Down);
    QVERIFY(down.listen().ok());
    QVERIFY(down.issuer().port() > 0);
    auto r = await<Result<Net::ClientReply>>([&](auto cb) {
        m_http->send(
            "GET",
            down.issuer().resolved(QUrl(QStringLiteral("/.well-known/openid-configuration"))),
            {},
            {},
            cb);
    });
    QVERIFY(r);
    QVERIFY(!r->ok());
}

void tst_OAuthFake::faultLatency()
{
    m_fake->faults()->setLatencyMs(300);
    QElapsedTimer clock;
    clock.start();
    QCOMPARE(get(QStringLiteral("/.well-known/openid-configuration")).status, 200);
    QVERIFY2(clock.elapsed() >= 290, qPrintable(QString::number(clock.elapsed())));
}

// ---- OAuth2Connector against the fake -----------------------------------------------------------

namespace {

std::optional<std::vector<StopLayerResult>>
containWith(OAuth2Connector &c, const LayerTarget &t, LayerDeadlines d = {})
{
    return await<std::vector<StopLayerResult>>([&](auto cb) { c.contain(t, d, cb); });
}

QString describe(const StopLayerResult &row)
{
    return QString::fromUtf8(toWireName(row.outcome)) + QStringLiteral(": ") + row.detail;
}

} // namespace

void tst_OAuthFake::connectorVerified()
{
    const QByteArray refresh = m_fake->issueRefreshToken("agent", "alice", "x");
    const QByteArray access = accessTokenFrom(refresh);
    OAuth2Connector c(providerFor(m_fake->issuer(), QStringLiteral("breaker")), "breaker secret:+");
    const auto rows = containWith(c, targetFor(refresh));
    QVERIFY(rows);
    QCOMPARE(rows->size(), size_t(1));
    const StopLayerResult &row = rows->front();
    QCOMPARE(row.outcome, LayerOutcome::Verified);
    QCOMPARE(row.detail, QStringLiteral("introspection: active=false"));
    QCOMPARE(row.layer, QByteArray("identity"));
    QCOMPARE(row.action, QByteArray("revoke"));
    QCOMPARE(row.provider, QByteArray("idp"));
    QCOMPARE(row.agent, QByteArray("refund-agent"));
    QCOMPARE(row.target, QByteArray("token file:/run/agent.token"));
    QVERIFY(!row.target.contains(refresh) && !row.detail.contains(QString::fromUtf8(refresh)));
    // The cascade reached the access token too.
    QCOMPARE(post(QStringLiteral("/token/introspection"), {{"token", access}}, m_breakerAuth).body,
             QByteArray(R"({"active":false})"));

    QVERIFY(!c.canRelease());
    const auto released = await<std::vector<StopLayerResult>>(
        [&](auto cb) { c.release(targetFor(refresh), {}, cb); });
    QVERIFY(released);
    QCOMPARE(released->front().outcome, LayerOutcome::SkippedNotConfigured);
    QCOMPARE(released->front().detail,
             QStringLiteral("a revoked token stays revoked; the agent needs a new grant"));
}

void tst_OAuthFake::connectorRetriesBusyRevocation_data()
{
    QTest::addColumn<int>("status");
    QTest::newRow("503 temporarily unavailable") << 503;
    QTest::newRow("429 rate limited") << 429;
}

void tst_OAuthFake::connectorRetriesBusyRevocation()
{
    QFETCH(int, status);
    const QByteArray refresh = m_fake->issueRefreshToken("agent", "alice", "x");
    m_fake->setRevocationBusy(2, 0, status); // Retry-After: 0
    OAuth2Connector c(providerFor(m_fake->issuer(), QStringLiteral("breaker")), "breaker secret:+");
    const auto rows = containWith(c, targetFor(refresh));
    QVERIFY(rows);
    QVERIFY2(rows->front().outcome == LayerOutcome::Verified, qPrintable(describe(rows->front())));
    QCOMPARE(m_fake->revocationCount(), 1);
}

void tst_OAuthFake::connectorBusyPastDeadline_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("says");
    QTest::newRow("503") << 503 << QStringLiteral("HTTP 503 1 time(s)");
    QTest::newRow("429") << 429 << QStringLiteral("HTTP 429 (rate limited) 1 time(s)");
}

void tst_OAuthFake::connectorBusyPastDeadline()
{
    QFETCH(int, status);
    QFETCH(QString, says);
    const QByteArray refresh = m_fake->issueRefreshToken("agent", "alice", "x");
    m_fake->setRevocationBusy(1, 30, status);
    OAuth2Connector c(providerFor(m_fake->issuer(), QStringLiteral("breaker")), "breaker secret:+");
    LayerDeadlines d;
    d.actMs = 2000;
    d.verifyMs = 1000;
    QElapsedTimer clock;
    clock.start();
    const auto rows = containWith(c, targetFor(refresh), d);
    QVERIFY(rows);
    QVERIFY(clock.elapsed() < 3000);
    const StopLayerResult &row = rows->front();
    QCOMPARE(row.outcome, LayerOutcome::Failed);
    QVERIFY2(row.detail.contains(says) && row.detail.contains(QStringLiteral("still alive"))
                 && row.detail.contains(QStringLiteral("Retry-After 30000 ms is past the 2000 ms deadline")),
             qPrintable(row.detail));
    // The token was never revoked.
    QVERIFY(
        object(
            post(QStringLiteral("/token/introspection"), {{"token", refresh}}, m_breakerAuth).body)
            .value(QLatin1String("active"))
            .toBool());
}

void tst_OAuthFake::connectorRetriesBusyIntrospection()
{
    // The read-back answered 429 twice (Retry-After: 0): still verified, within the deadline.
    const QByteArray refresh = m_fake->issueRefreshToken("agent", "alice", "x");
    m_fake->setIntrospectionBusy(2, 0);
    OAuth2Connector c(providerFor(m_fake->issuer(), QStringLiteral("breaker")), "breaker secret:+");
    const auto rows = containWith(c, targetFor(refresh));
    QVERIFY(rows);
    QVERIFY2(rows->front().outcome == LayerOutcome::Verified, qPrintable(describe(rows->front())));
}

void tst_OAuthFake::connectorIntrospectionBusyPastDeadline()
{
    // Retry-After past the deadline: the token was revoked but could not be read back, which is
    // done_unverified in the provider's words, and the op ends within its deadline.
    const QByteArray refresh = m_fake->issueRefreshToken("agent", "alice", "x");
    m_fake->setIntrospectionBusy(1, 30);
    OAuth2Connector c(providerFor(m_fake->issuer(), QStringLiteral("breaker")), "breaker secret:+");
    LayerDeadlines d;
    d.actMs = 2000;
    d.verifyMs = 1000;
    QElapsedTimer clock;
    clock.start();
    const auto rows = containWith(c, targetFor(refresh), d);
    QVERIFY(rows);
    QVERIFY(clock.elapsed() < 3000);
    const StopLayerResult &row = rows->front();
    QCOMPARE(row.outcome, LayerOutcome::DoneUnverified);
    QVERIFY2(row.detail.contains(QStringLiteral("429")), qPrintable(row.detail));
    QCOMPARE(m_fake->revocationCount(), 1);
}

void tst_OAuthFake::connectorWithoutIntrospection()
{
    m_fake->setIntrospectionOffered(false);
    OAuth2Connector c(providerFor(m_fake->issuer(), QStringLiteral("breaker")), "breaker secret:+");
    const auto rows = containWith(c, targetFor(m_fake->issueRefreshToken("agent", "alice", "x")));
    QVERIFY(rows);
    QCOMPARE(rows->front().outcome, LayerOutcome::DoneUnverified);
    QVERIFY2(rows->front().detail.contains(QStringLiteral("no introspection_endpoint")),
             qPrintable(rows->front().detail));
    // probe() falls back to a dummy revocation to prove client authentication.
    auto probed = await<Result<QString>>([&](auto cb) { c.probe(cb); });
    QVERIFY(probed && probed->ok());
    QVERIFY2(probed->value().contains(QStringLiteral("revocation of a dummy token")),
             qPrintable(probed->value()));
}

void tst_OAuthFake::connectorWrongSecret()
{
    OAuth2Connector c(providerFor(m_fake->issuer(), QStringLiteral("breaker")), "not-the-secret");
    const auto rows = containWith(c, targetFor(m_fake->issueRefreshToken("agent", "alice", "x")));
    QVERIFY(rows);
    QCOMPARE(rows->front().outcome, LayerOutcome::Failed);
    QVERIFY2(rows->front().detail.contains(QStringLiteral("invalid_client")),
             qPrintable(rows->front().detail));
    QVERIFY(!rows->front().detail.contains(QStringLiteral("not-the-secret")));
}

void tst_OAuthFake::connectorIssuerDown()
{
    OAuthFake down;
    down.faults()->setFault(SandboxFault::Down);
    QVERIFY(down.listen().ok());
    OAuth2Connector c(providerFor(down.issuer(), QStringLiteral("breaker")), "s");
    const auto rows = containWith(c, targetFor("tok-123456"));
    QVERIFY(rows);
    QCOMPARE(rows->front().outcome, LayerOutcome::Failed);
    QVERIFY2(rows->front().detail.contains(QStringLiteral("idp")),
             qPrintable(rows->front().detail));

    // Up but never answering (faults "down" set after listen): the deadline decides.
    m_fake->faults()->setFault(SandboxFault::Down);
    OAuth2Connector silent(providerFor(m_fake->issuer(), QStringLiteral("breaker")), "s");
    LayerDeadlines d;
    d.actMs = 500;
    d.verifyMs = 500;
    QElapsedTimer clock;
    clock.start();
    const auto late = containWith(silent, targetFor("tok-123456"), d);
    QVERIFY(late);
    QVERIFY2(clock.elapsed() < 2500, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(late->front().outcome, LayerOutcome::Failed);
    QVERIFY2(late->front().detail.contains(QStringLiteral("did not answer within 1000 ms")),
             qPrintable(late->front().detail));
}

void tst_OAuthFake::connectorLeakAndProbe()
{
    const QByteArray refresh = m_fake->issueRefreshToken("agent", "alice", "x");
    const QByteArray access = accessTokenFrom(refresh);
    OAuth2Connector c(providerFor(m_fake->issuer(), QStringLiteral("breaker")), "breaker secret:+");
    auto probed = await<Result<QString>>([&](auto cb) { c.probe(cb); });
    QVERIFY(probed && probed->ok());
    QVERIFY2(probed->value().contains(QStringLiteral("active=false")), qPrintable(probed->value()));

    auto leaks = await<Result<std::vector<LayerLeak>>>(
        [&](auto cb) { c.checkLeaks(targetFor(access), 0, cb); });
    QVERIFY(leaks && leaks->ok());
    QCOMPARE(leaks->value().size(), size_t(1));
    const LayerLeak &leak = leaks->value().front();
    QCOMPARE(leak.layer, QByteArray("identity"));
    QVERIFY2(leak.what.contains(QStringLiteral("introspects active again (sub alice")),
             qPrintable(leak.what));
    QVERIFY(!leak.what.contains(QString::fromUtf8(access)));

    QVERIFY(containWith(c, targetFor(refresh)));
    leaks = await<Result<std::vector<LayerLeak>>>(
        [&](auto cb) { c.checkLeaks(targetFor(access), 0, cb); });
    QVERIFY(leaks && leaks->ok());
    QVERIFY(leaks->value().empty());
}

QTEST_GUILESS_MAIN(tst_OAuthFake)
#include "tst_oauthfake.moc"
