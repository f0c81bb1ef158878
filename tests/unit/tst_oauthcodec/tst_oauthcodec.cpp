// The identity layer's wire formats (connectors/identity/OAuthCodec.h) against RFC examples and
// the exchanges captured from oidc-provider 9.13.3 (tests/data/oauth/README.md).
#include "connectors/identity/OAuthCodec.h"

#include <QFile>
#include <QJsonArray>
#include <QTest>

using namespace Breaker;

namespace {

QByteArray capture(const QString &name)
{
    QFile f(QStringLiteral(BREAKER_TEST_DATA_DIR "/oauth/") + name);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing test data %s", qPrintable(f.fileName()));
    return f.readAll();
}

const QString kCapturedIssuer = QStringLiteral("http://127.0.0.1:35865");

// header {"alg":"RS256","typ":"at+jwt"}, signature "sig": the codec never checks either.
const QByteArray kJwtOneActor
    = "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9."
      "eyJzdWIiOiJhbGljZSIsImV4cCI6MTc5NTc1OTA4MSwiYWN0Ijp7InN1YiI6ImFnZW50OmNvbnNvbGUifX0.c2ln";
const QByteArray kJwtChain
    = "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9."
      "eyJzdWIiOiJhbGljZSIsImFjdCI6eyJzdWIiOiJhZ2VudDpjb25zb2xlIiwiYWN0Ijp7InN1YiI6ImFnZW50OnBs"
      "YW5uZXIiLCJhY3QiOnsiY2xpZW50X2lkIjoicm9vdC1vcmNoZXN0cmF0b3IifX19fQ.c2ln";
// payload {"sub":"~~" + "??" + ">>"}: base64url needs '-' and '_' here, which plain base64
// rejects.
const QByteArray kJwtUrlAlphabet
    = "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ-fj8_Pj4ifQ.c2ln";

} // namespace

class tst_OAuthCodec : public QObject
{
    Q_OBJECT

private slots:
    void basicAuthorization_data();
    void basicAuthorization();
    void formBody_data();
    void formBody();
    void metadata_data();
    void metadata();
    void discoveryUrls();
    void introspection_data();
    void introspection();
    void errors_data();
    void errors();
    void jwtPayload_data();
    void jwtPayload();
    void actChain_data();
    void actChain();
    void retryAfter_data();
    void retryAfter();
    void scrub();
};

void tst_OAuthCodec::basicAuthorization_data()
{
    QTest::addColumn<QByteArray>("id");
    QTest::addColumn<QByteArray>("secret");
    QTest::addColumn<QByteArray>("header");
    // base64("breaker:breaker-secret")
    QTest::newRow("plain") << QByteArray("breaker") << QByteArray("breaker-secret")
                           << QByteArray("Basic YnJlYWtlcjpicmVha2VyLXNlY3JldA==");
    // RFC 6749 2.3.1 + Appendix B: "a:b c" -> "a%3Ab+c", "p@ss:w/rd +%&=" ->
    // "p%40ss%3Aw%2Frd+%2B%25%26%3D", then base64 of "id:secret".
    QTest::newRow("special characters")
        << QByteArray("a:b c") << QByteArray("p@ss:w/rd +%&=")
        << QByteArray("Basic YSUzQWIrYzpwJTQwc3MlM0F3JTJGcmQrJTJCJTI1JTI2JTNE");
    // UTF-8 is percent-encoded byte by byte: "é" -> %C3%A9.
    QTest::newRow("utf-8") << QByteArray("caf\xc3\xa9") << QByteArray("s")
                           << ("Basic " + QByteArray("caf%C3%A9:s").toBase64());
    QTest::newRow("unreserved kept") << QByteArray("A-z_0.9~") << QByteArray("x")
                                     << ("Basic " + QByteArray("A-z_0.9~:x").toBase64());
}

void tst_OAuthCodec::basicAuthorization()
{
    QFETCH(QByteArray, id);
    QFETCH(QByteArray, secret);
    QFETCH(QByteArray, header);
    QCOMPARE(OAuth::basicAuthorization(id, secret), header);
    const auto back = OAuth::parseBasicAuthorization(header);
    QVERIFY(back);
    QCOMPARE(back->first, id);
    QCOMPARE(back->second, secret);
}

void tst_OAuthCodec::formBody_data()
{
    QTest::addColumn<OAuth::Form>("fields");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("revocation") << OAuth::Form{{"token", "45ghiukldjahdnhzdauz"},
                                               {"token_type_hint", "refresh_token"}}
                                << QByteArray(
                                       "token=45ghiukldjahdnhzdauz&token_type_hint=refresh_token");
    QTest::newRow("space and reserved") << OAuth::Form{{"scope", "openid api:read"}, {"a&b", "c=d"}}
                                        << QByteArray("scope=openid+api%3Aread&a%26b=c%3Dd");
    QTest::newRow("plus and percent") << OAuth::Form{{"t", "a+b%20"}} << QByteArray("t=a%2Bb%2520");
    QTest::newRow("empty value") << OAuth::Form{{"token", ""}} << QByteArray("token=");
    QTest::newRow("audience url") << OAuth::Form{{"audience", "https://t.auth0.com/api/v2/"}}
                                  << QByteArray("audience=https%3A%2F%2Ft.auth0.com%2Fapi%2Fv2%2F");
}

void tst_OAuthCodec::formBody()
{
    QFETCH(OAuth::Form, fields);
    QFETCH(QByteArray, body);
    QCOMPARE(OAuth::formBody(fields), body);
    QCOMPARE(OAuth::parseForm(body), fields);
}

void tst_OAuthCodec::metadata_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("expectedIssuer");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("revocation");
    QTest::addColumn<QString>("introspection");
    QTest::addColumn<QString>("errorPart");
    QTest::newRow("oidc-provider")
        << capture(QStringLiteral("oidc-provider-discovery.json")) << kCapturedIssuer << true
        << kCapturedIssuer + QStringLiteral("/token/revocation")
        << kCapturedIssuer + QStringLiteral("/token/introspection") << QString();
    QTest::newRow("trailing slash ignored (Auth0 style)") << QByteArray(
        R"({"issuer":"https://t.auth0.com/","token_endpoint":"https://t.auth0.com/oauth/token","revocation_endpoint":"https://t.auth0.com/oauth/revoke"})")
                                                          << QStringLiteral("https://t.auth0.com")
                                                          << true
                                                          << QStringLiteral(
                                                                 "https://t.auth0.com/oauth/revoke")
                                                          << QString() << QString();
    QTest::newRow("another issuer")
        << capture(QStringLiteral("oidc-provider-discovery.json"))
        << QStringLiteral("http://127.0.0.1:4000") << false << QString() << QString()
        << QStringLiteral("names issuer http://127.0.0.1:35865");
    QTest::newRow("no issuer") << QByteArray(R"({"token_endpoint":"https://x/t"})") << QString()
                               << false << QString() << QString()
                               << QStringLiteral("no \"issuer\"");
    QTest::newRow("relative endpoint")
        << QByteArray(R"({"issuer":"https://x","revocation_endpoint":"/revoke"})")
        << QStringLiteral("https://x") << false << QString() << QString()
        << QStringLiteral("invalid endpoint");
    QTest::newRow("html") << QByteArray("<html>hi</html>") << QString() << false << QString()
                          << QString() << QStringLiteral("not a JSON object");
}

void tst_OAuthCodec::metadata()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, expectedIssuer);
    QFETCH(bool, ok);
    QFETCH(QString, revocation);
    QFETCH(QString, introspection);
    QFETCH(QString, errorPart);
    const auto m = OAuth::parseMetadata(body, expectedIssuer);
    QCOMPARE(m.ok(), ok);
    if (!ok) {
        QVERIFY2(m.error().message.contains(errorPart), qPrintable(m.error().message));
        return;
    }
    QCOMPARE(m->revocationEndpoint.toString(), revocation);
    QCOMPARE(m->introspectionEndpoint.toString(), introspection);
    if (expectedIssuer == kCapturedIssuer) {
        QCOMPARE(m->tokenEndpoint.toString(), kCapturedIssuer + QStringLiteral("/token"));
        QVERIFY(m->grantTypes.contains(QStringLiteral("client_credentials")));
        QVERIFY(m->authMethods.contains(QStringLiteral("client_secret_basic")));
    }
}

void tst_OAuthCodec::discoveryUrls()
{
    const auto root = OAuth::discoveryUrls(QUrl(QStringLiteral("https://idp.example")));
    QCOMPARE(root.size(), 2);
    QCOMPARE(root.at(0).toString(),
             QStringLiteral("https://idp.example/.well-known/openid-configuration"));
    QCOMPARE(root.at(1).toString(),
             QStringLiteral("https://idp.example/.well-known/oauth-authorization-server"));
    // Okta custom authorization server: OIDC appends, RFC 8414 inserts before the path.
    const auto path
        = OAuth::discoveryUrls(QUrl(QStringLiteral("https://o.okta.com/oauth2/default/")));
    QCOMPARE(path.at(0).toString(),
             QStringLiteral("https://o.okta.com/oauth2/default/.well-known/openid-configuration"));
    QCOMPARE(
        path.at(1).toString(),
        QStringLiteral("https://o.okta.com/.well-known/oauth-authorization-server/oauth2/default"));
}

void tst_OAuthCodec::introspection_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<bool>("active");
    QTest::addColumn<QString>("description");
    QTest::newRow("captured inactive")
        << capture(QStringLiteral("introspection-inactive.json")) << true << false << QString();
    QTest::newRow("captured active access")
        << capture(QStringLiteral("introspection-active-access.json")) << true << true
        << QStringLiteral("sub alice, client_id agent, scope openid offline_access, exp "
                          "2026-11-27T05:58:06Z");
    QTest::newRow("captured active refresh")
        << capture(QStringLiteral("introspection-active-refresh.json")) << true << true
        << QStringLiteral("sub alice, client_id agent, scope openid offline_access, exp "
                          "2026-11-27T06:53:06Z");
    QTest::newRow("exp as string (64-bit values may come quoted)")
        << QByteArray(R"({"active":true,"exp":"1795759086"})") << true << true
        << QStringLiteral("exp 2026-11-27T05:58:06Z");
    QTest::newRow("with act") << QByteArray(
        R"({"active":true,"sub":"alice","act":{"sub":"agent:console"}})")
                              << true << true << QStringLiteral("sub alice, acting agent:console");
    QTest::newRow("active as string proves nothing")
        << QByteArray(R"({"active":"false"})") << false << false << QString();
    QTest::newRow("active missing")
        << QByteArray(R"({"sub":"alice"})") << false << false << QString();
    QTest::newRow("error body is not an answer")
        << capture(QStringLiteral("error-invalid-client.json")) << false << false << QString();
    QTest::newRow("garbage") << QByteArray("<html>502</html>") << false << false << QString();
    QTest::newRow("empty") << QByteArray() << false << false << QString();
}

void tst_OAuthCodec::introspection()
{
    QFETCH(QByteArray, body);
    QFETCH(bool, ok);
    QFETCH(bool, active);
    QFETCH(QString, description);
    const auto r = OAuth::parseIntrospection(body);
    QCOMPARE(r.ok(), ok);
    if (!ok)
        return;
    QCOMPARE(r->active, active);
    if (!description.isEmpty())
        QCOMPARE(OAuth::describeToken(*r), description);
}

void tst_OAuthCodec::errors_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("error");
    QTest::addColumn<QString>("words");
    QTest::newRow("invalid_client") << 401 << capture(QStringLiteral("error-invalid-client.json"))
                                    << QByteArray("invalid_client")
                                    << QStringLiteral("invalid_client (client authentication "
                                                      "failed), HTTP 401");
    QTest::newRow("missing token") << 400 << capture(QStringLiteral("error-missing-token.json"))
                                   << QByteArray("invalid_request")
                                   << QStringLiteral("invalid_request (missing required parameter "
                                                     "'token'), HTTP 400");
    QTest::newRow("invalid_grant")
        << 400 << capture(QStringLiteral("error-invalid-grant.json")) << QByteArray("invalid_grant")
        << QStringLiteral("invalid_grant (grant request is invalid), "
                          "HTTP 400");
    QTest::newRow("no description")
        << 403 << QByteArray(R"({"error":"access_denied"})") << QByteArray("access_denied")
        << QStringLiteral("access_denied, HTTP 403");
    QTest::newRow("html") << 502 << QByteArray("<html>\n Bad   Gateway</html>") << QByteArray()
                          << QStringLiteral("HTTP 502: <html> Bad Gateway</html>");
    QTest::newRow("empty") << 503 << QByteArray() << QByteArray() << QStringLiteral("HTTP 503");
    QTest::newRow("okta shape is not RFC 6749")
        << 404 << QByteArray(R"({"errorCode":"E0000007","errorSummary":"Not found"})")
        << QByteArray()
        << QStringLiteral(R"(HTTP 404: {"errorCode":"E0000007","errorSummary":"Not found"})");
}

void tst_OAuthCodec::errors()
{
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, error);
    QFETCH(QString, words);
    const auto e = OAuth::parseError(body);
    QCOMPARE(e.has_value(), !error.isEmpty());
    if (e)
        QCOMPARE(e->error, error);
    QCOMPARE(OAuth::describeFailure(status, body), words);
}

void tst_OAuthCodec::jwtPayload_data()
{
    QTest::addColumn<QByteArray>("jwt");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("sub");
    QTest::newRow("one actor") << kJwtOneActor << true << QStringLiteral("alice");
    QTest::newRow("url alphabet") << kJwtUrlAlphabet << true << QStringLiteral("~~?\?>>");
    QTest::newRow("opaque token") << QByteArray("Ue2JDUZ9vo97DzYykAqPRpZ8yUvvv9ejylGdK7Q43av")
                                  << false << QString();
    QTest::newRow("two parts") << QByteArray("eyJhIjoxfQ.eyJhIjoxfQ") << false << QString();
    QTest::newRow("JWE (five parts)") << QByteArray("a.b.c.d.e") << false << QString();
    QTest::newRow("payload not base64url")
        << QByteArray("eyJhIjoxfQ.%%%%.sig") << false << QString();
    QTest::newRow("payload not JSON")
        << QByteArray("eyJhIjoxfQ.bm90IGpzb24.sig") << false << QString();
    QTest::newRow("payload an array") << QByteArray("eyJhIjoxfQ.WzFd.sig") << false << QString();
    QTest::newRow("empty payload") << QByteArray("eyJhIjoxfQ..sig") << false << QString();
}

void tst_OAuthCodec::jwtPayload()
{
    QFETCH(QByteArray, jwt);
    QFETCH(bool, ok);
    QFETCH(QString, sub);
    const auto claims = OAuth::decodeJwtPayload(jwt);
    QCOMPARE(claims.ok(), ok);
    if (ok)
        QCOMPARE(claims->value(QLatin1String("sub")).toString(), sub);
}

void tst_OAuthCodec::actChain_data()
{
    QTest::addColumn<QByteArray>("jwt");
    QTest::addColumn<QStringList>("chain");
    QTest::newRow("one actor") << kJwtOneActor << QStringList{QStringLiteral("agent:console")};
    // RFC 8693 4.1: the outermost act is the current actor; inner ones are history.
    QTest::newRow("nested") << kJwtChain
                            << QStringList{QStringLiteral("agent:console"),
                                           QStringLiteral("agent:planner"),
                                           QStringLiteral("root-orchestrator")};
    QTest::newRow("no act") << kJwtUrlAlphabet << QStringList{};
}

void tst_OAuthCodec::actChain()
{
    QFETCH(QByteArray, jwt);
    QFETCH(QStringList, chain);
    const auto claims = OAuth::decodeJwtPayload(jwt);
    QVERIFY(claims);
    QCOMPARE(OAuth::actChain(*claims), chain);
    // act that is not an object (may_act is not act) counts for nothing.
    QCOMPARE(OAuth::actChain(QJsonObject{{QStringLiteral("act"), QStringLiteral("x")}}),
             QStringList{});
}

void tst_OAuthCodec::retryAfter_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<qint64>("ms"); // -1: none
    QTest::newRow("seconds") << QByteArray("2") << qint64(2000);
    QTest::newRow("zero") << QByteArray("0") << qint64(0);
    QTest::newRow("http-date") << QByteArray("Fri, 27 Nov 2026 05:53:04 GMT") << qint64(3000);
    QTest::newRow("past date") << QByteArray("Fri, 27 Nov 2026 05:50:00 GMT") << qint64(0);
    QTest::newRow("negative") << QByteArray("-1") << qint64(-1);
    QTest::newRow("junk") << QByteArray("soon") << qint64(-1);
    QTest::newRow("absent") << QByteArray() << qint64(-1);
    // Found by fuzz_oauth: seconds * 1000 overflowed; a delay over a day is capped at a day.
    QTest::newRow("huge") << QByteArray("9223372036854775807") << qint64(86400000);
}

void tst_OAuthCodec::retryAfter()
{
    QFETCH(QByteArray, value);
    QFETCH(qint64, ms);
    const QDateTime now
        = QDateTime::fromString(QStringLiteral("2026-11-27T05:53:01Z"), Qt::ISODate);
    const auto r = OAuth::retryAfterMs(value, now);
    QCOMPARE(r.has_value(), ms >= 0);
    if (r)
        QCOMPARE(*r, ms);
}

void tst_OAuthCodec::scrub()
{
    QCOMPARE(OAuth::scrub(QStringLiteral("bad token abcdef1234 here"), "abcdef1234"),
             QStringLiteral("bad token [redacted] here"));
    // Too short to be a secret: left alone rather than mangling every "a" in a message.
    QCOMPARE(OAuth::scrub(QStringLiteral("a b"), "a"), QStringLiteral("a b"));
}

QTEST_GUILESS_MAIN(tst_OAuthCodec)
#include "tst_oauthcodec.moc"
