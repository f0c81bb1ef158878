// Auth0Connector against a fake Auth0 tenant that follows the public API documentation:
//   POST /oauth/token          client_credentials for the audience https://{domain}/api/v2/
//                              (and refresh_token, for the read-back), {"error",
//                              "error_description"} errors (auth0.com/docs/api/authentication)
//   POST /oauth/revoke         refresh tokens of the calling application only
//   GET  /api/v2/grants        ?user_id=&client_id=, a plain array of {id, clientID, user_id,
//                              audience, scope}
//                              (auth0.com/docs/api/management/v2/grants/get-grants)
//   DELETE /api/v2/grants/{id} 204, 404 when gone (.../grants/delete-grants-by-id)
//   POST /api/v2/refresh-tokens/revoke {"user_id","client_id"} 202
//                              (.../refresh-tokens/revoke-refresh-tokens)
// Management API errors are {"statusCode","error","message","errorCode"}; 429s carry
// X-RateLimit-Limit/-Remaining/-Reset (UTC epoch seconds, Auth0's rate limit policy).
#include "connectors/identity/Auth0Connector.h"
#include "connectors/identity/OAuthCodec.h"
#include "connectors/net/HttpServer.h"
#include "models/Profile.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTest>

#include <algorithm>

#include <optional>

using namespace Breaker;

namespace {

const QByteArray kBreakerClient = "breakerM2mClientId";
const QByteArray kBreakerSecret = "breaker-m2m-secret:+/=";
const QByteArray kMgmtToken = "eyJhbGciOiJSUzI1NiJ9.mgmt-token-for-breaker.sig";
const QByteArray kAgentClient = "agentAppClientId";
const QByteArray kSubject = "auth0|agent-7";
const QByteArray kRefreshToken = "v1.MRrOpaqueAgentRefreshToken-7f3c9a";

QByteArray sample(const QString &name)
{
    QFile f(QStringLiteral(BREAKER_TEST_DATA_DIR "/identity/auth0/") + name);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing test data %s", qPrintable(name));
    return f.readAll().trimmed();
}

QByteArray formField(const QByteArray &body, QByteArrayView name)
{
    for (const auto &[k, v] : OAuth::parseForm(body))
        if (k == name)
            return v;
    return {};
}

// An unsigned JWT access token (Auth0 cannot revoke those).
QByteArray jwtAccessToken(qint64 exp)
{
    const QJsonObject header{{QStringLiteral("alg"), QStringLiteral("RS256")}};
    const QJsonObject payload{{QStringLiteral("sub"), QString::fromUtf8(kSubject)},
                              {QStringLiteral("azp"), QString::fromUtf8(kAgentClient)},
                              {QStringLiteral("exp"), exp}};
    const auto enc = [](const QJsonObject &o) {
        return QJsonDocument(o)
            .toJson(QJsonDocument::Compact)
            .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    };
    return enc(header) + '.' + enc(payload) + ".c2lnbmF0dXJl";
}

struct Grant
{
    QByteArray id;
    QByteArray clientId;
    QByteArray userId;
};

// The tenant. Every request is recorded; knobs make it misbehave the documented ways.
class Auth0Tenant
{
public:
    Auth0Tenant()
    {
        m_server.route("POST", "/oauth/token", [this](auto rq, auto rs) { token(rq, rs); });
        m_server.route("POST", "/oauth/revoke", [this](auto rq, auto rs) { revoke(rq, rs); });
        m_server.route("GET", "/api/v2/grants", [this](auto rq, auto rs) { grants(rq, rs); });
        m_server.routePrefix(
            "DELETE", "/api/v2/grants/", [this](auto rq, auto rs) { deleteGrant(rq, rs); });
        m_server.route("POST", "/api/v2/refresh-tokens/revoke", [this](auto rq, auto rs) {
            revokeRefreshTokens(rq, rs);
        });
    }

    bool listen() { return m_server.listen().ok(); }
    void down() { m_server.close(); }
    QUrl issuer() const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(m_server.port()));
    }

    void addGrant(const QByteArray &id, const QByteArray &client, const QByteArray &user)
    {
        m_grants.push_back({id, client, user});
    }
    int grantsLeft() const { return int(m_grants.size()); }
    bool refreshTokenAlive() const { return m_refreshAlive; }

    // Knobs.
    QByteArray secret = kBreakerSecret;  // the one /oauth/token accepts
    QSet<QByteArray> vanishBeforeDelete; // grant ids that another actor removes first
    QSet<QByteArray> stickyGrants;       // deleted with 204, but still listed after
    QByteArray limitBody;                // the 429's body; mgmt-429.json when empty
    // The next `n` requests to `path` answer 429 with these headers.
    void rateLimit(const QByteArray &path, int n, QList<std::pair<QByteArray, QByteArray>> h)
    {
        m_limitPath = path;
        m_limitLeft = n;
        m_limitHeaders = std::move(h);
    }

    // What was asked.
    QList<Net::HttpRequest> requests;
    int rateLimited = 0;
    QList<Net::HttpRequest> requestsTo(QByteArrayView method, QByteArrayView pathStart) const
    {
        QList<Net::HttpRequest> out;
        for (const auto &r : requests)
            if (r.method == method && r.path.startsWith(pathStart))
                out << r;
        return out;
    }

private:
    static Net::HttpResponse json(int status, QByteArray body)
    {
        return Net::HttpResponse::make(status, "application/json; charset=utf-8", std::move(body));
    }
    static Net::HttpResponse json(int status, const QJsonValue &v)
    {
        return json(status,
                    v.isArray() ? QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact)
                                : QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    }

    bool limited(const Net::HttpRequest &rq, Net::HttpResponder &rs)
    {
        requests << rq;
        // A path ending in '/' is a prefix ("/api/v2/grants/" = every delete); else exact.
        const bool match
            = m_limitPath.endsWith('/') ? rq.path.startsWith(m_limitPath) : rq.path == m_limitPath;
        if (m_limitLeft <= 0 || !match)
            return false;
        --m_limitLeft;
        ++rateLimited;
        Net::HttpResponse r
            = json(429, limitBody.isEmpty() ? sample(QStringLiteral("mgmt-429.json")) : limitBody);
        r.headers.append("X-RateLimit-Limit", "10");
        r.headers.append("X-RateLimit-Remaining", "0");
        for (const auto &[k, v] : m_limitHeaders)
            r.headers.append(k, v);
        rs.respond(r);
        return true;
    }

    bool clientAuthenticated(const Net::HttpRequest &rq) const
    {
        const auto creds = OAuth::parseBasicAuthorization(rq.header("Authorization"));
        return creds && creds->first == kBreakerClient && creds->second == secret;
    }

    bool bearerOk(const Net::HttpRequest &rq, Net::HttpResponder &rs) const
    {
        if (rq.header("Authorization") == "Bearer " + kMgmtToken)
            return true;
        rs.respond(json(401, sample(QStringLiteral("mgmt-401-invalid-token.json"))));
        return false;
    }

    void token(const Net::HttpRequest &rq, Net::HttpResponder rs)
    {
        if (limited(rq, rs))
            return;
        const QByteArray grant = formField(rq.body, "grant_type");
        if (grant == "refresh_token") {
            // The agent's application is public: client_id in the body, no secret.
            if (formField(rq.body, "client_id") != kAgentClient
                || formField(rq.body, "refresh_token") != kRefreshToken || !m_refreshAlive) {
                rs.respond(json(403, sample(QStringLiteral("refresh-invalid-grant.json"))));
                return;
            }
            rs.respond(json(200,
                            QJsonObject{{QStringLiteral("access_token"), QStringLiteral("new")},
                                        {QStringLiteral("expires_in"), 86400},
                                        {QStringLiteral("token_type"), QStringLiteral("Bearer")}}));
            return;
        }
        if (grant != "client_credentials" || !clientAuthenticated(rq)) {
            rs.respond(json(401, sample(QStringLiteral("token-access-denied.json"))));
            return;
        }
        const QByteArray audience = formField(rq.body, "audience");
        if (audience != issuer().toEncoded() + "api/v2/") {
            rs.respond(json(403,
                            QJsonObject{{QStringLiteral("error"), QStringLiteral("access_denied")},
                                        {QStringLiteral("error_description"),
                                         QString(QStringLiteral("Service not enabled within "
                                                                "domain: ")
                                                 + QString::fromUtf8(audience))}}));
            return;
        }
        rs.respond(json(200,
                        QJsonObject{{QStringLiteral("access_token"), QString::fromUtf8(kMgmtToken)},
                                    {QStringLiteral("scope"),
                                     QStringLiteral("read:grants delete:grants "
                                                    "delete:refresh_tokens")},
                                    {QStringLiteral("expires_in"), 86400},
                                    {QStringLiteral("token_type"), QStringLiteral("Bearer")}}));
    }

    void revoke(const Net::HttpRequest &rq, Net::HttpResponder rs)
    {
        if (limited(rq, rs))
            return;
        if (!clientAuthenticated(rq)) {
            rs.respond(json(401, sample(QStringLiteral("token-access-denied.json"))));
            return;
        }
        // Auth0 revokes a refresh token only for the application it was issued to, and
        // Breaker's application is another one.
        if (formField(rq.body, "token") == kRefreshToken) {
            rs.respond(json(400, sample(QStringLiteral("revoke-wrong-client.json"))));
            return;
        }
        rs.respond(200, {}, {});
    }

    void grants(const Net::HttpRequest &rq, Net::HttpResponder rs)
    {
        if (limited(rq, rs) || !bearerOk(rq, rs))
            return;
        QByteArray user, client;
        for (const QByteArray &kv : rq.query.split('&')) {
            const qsizetype eq = kv.indexOf('=');
            const QByteArray k = kv.left(eq);
            const QByteArray v = QByteArray::fromPercentEncoding(kv.mid(eq + 1));
            if (k == "user_id")
                user = v;
            else if (k == "client_id")
                client = v;
        }
        QJsonArray out;
        for (const Grant &g : m_grants)
            if (g.userId == user && g.clientId == client)
                out.append(QJsonObject{
                    {QStringLiteral("id"), QString::fromUtf8(g.id)},
                    {QStringLiteral("clientID"), QString::fromUtf8(g.clientId)},
                    {QStringLiteral("user_id"), QString::fromUtf8(g.userId)},
                    {QStringLiteral("audience"), QStringLiteral("https://payments.example/")},
                    {QStringLiteral("scope"), QJsonArray{QStringLiteral("payments:write")}}});
        rs.respond(json(200, out));
    }

    void deleteGrant(const Net::HttpRequest &rq, Net::HttpResponder rs)
    {
        if (limited(rq, rs) || !bearerOk(rq, rs))
            return;
        const QByteArray id
            = QByteArray::fromPercentEncoding(rq.path.mid(qsizetype(strlen("/api/v2/grants/"))));
        if (vanishBeforeDelete.contains(id))
            m_grants.removeIf([&](const Grant &g) { return g.id == id; });
        const bool found = std::any_of(
            m_grants.begin(), m_grants.end(), [&](const Grant &g) { return g.id == id; });
        if (!found) {
            rs.respond(json(404, sample(QStringLiteral("mgmt-404-grant.json"))));
            return;
        }
        if (!stickyGrants.contains(id)) {
            m_grants.removeIf([&](const Grant &g) { return g.id == id; });
            // A grant takes the refresh tokens issued under it along.
            m_refreshAlive = false;
        }
        rs.respond(204, {}, {});
    }

    void revokeRefreshTokens(const Net::HttpRequest &rq, Net::HttpResponder rs)
    {
        if (limited(rq, rs) || !bearerOk(rq, rs))
            return;
        const QJsonObject o = QJsonDocument::fromJson(rq.body).object();
        const bool idsOnly = o.contains(QLatin1String("ids"));
        const bool userClient = o.value(QLatin1String("user_id")).isString()
                                && o.value(QLatin1String("client_id")).isString();
        if (idsOnly || !userClient || !rq.header("Content-Type").startsWith("application/json")) {
            rs.respond(json(400, sample(QStringLiteral("mgmt-400-revoke-body.json"))));
            return;
        }
        if (o.value(QLatin1String("user_id")).toString().toUtf8() == kSubject
            && o.value(QLatin1String("client_id")).toString().toUtf8() == kAgentClient)
            m_refreshAlive = false;
        rs.respond(202, {}, {});
    }

    Net::HttpServer m_server;
    QList<Grant> m_grants;
    bool m_refreshAlive = true;
    QByteArray m_limitPath;
    int m_limitLeft = 0;
    QList<std::pair<QByteArray, QByteArray>> m_limitHeaders;
};

ProviderConfig providerFor(const QUrl &issuer)
{
    ProviderConfig p;
    p.name = QStringLiteral("auth0-prod");
    p.layer = QStringLiteral("identity");
    p.kind = QStringLiteral("auth0");
    p.issuer = issuer;
    p.clientId = QString::fromUtf8(kBreakerClient);
    p.timeoutS = 5;
    return p;
}

LayerTarget agentTarget(const QByteArray &token = kRefreshToken)
{
    LayerTarget t;
    t.agent = "refund-agent";
    t.operationKey = "stop-1";
    t.token = token;
    t.tokenRef = QStringLiteral("file:/run/agents/refund.token");
    t.subject = kSubject;
    t.clientId = kAgentClient;
    return t;
}

QString describe(const StopLayerResult &row)
{
    return QString::fromUtf8(toWireName(row.outcome)) + QStringLiteral(": ") + row.detail;
}

} // namespace

class tst_Auth0 : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void stopVerified_data();
    void stopVerified();
    void grantAlreadyGone();
    void managementTokenRefused();
    void rateLimitedRetried_data();
    void rateLimitedRetried();
    void rateLimitPastDeadline();
    void rateLimitWordsVerbatim();
    void grantStillListed();
    void providerDown();
    void missingSubject();

private:
    // Runs contain() and waits for its one answer of one row: m_row.
    void stop(const LayerTarget &target, LayerDeadlines d = {});
    void checkRow(const StopLayerResult &row, const LayerTarget &target);

    std::optional<StopLayerResult> m_row;

    std::unique_ptr<Auth0Tenant> m_tenant;
    std::unique_ptr<Auth0Connector> m_connector;
};

void tst_Auth0::init()
{
    m_tenant = std::make_unique<Auth0Tenant>();
    QVERIFY(m_tenant->listen());
    m_tenant->addGrant("cgr_agent1", kAgentClient, kSubject);
    m_tenant->addGrant("cgr_agent2", kAgentClient, kSubject);
    m_tenant->addGrant("cgr_other", "otherClient", kSubject); // another app of the same user
    m_connector = std::make_unique<Auth0Connector>(providerFor(m_tenant->issuer()), kBreakerSecret);
}

void tst_Auth0::cleanup()
{
    m_connector.reset();
    m_tenant.reset();
}

void tst_Auth0::stop(const LayerTarget &target, LayerDeadlines d)
{
    m_row.reset();
    auto rows = std::make_shared<std::optional<std::vector<StopLayerResult>>>();
    auto calls = std::make_shared<int>(0);
    m_connector->contain(target, d, [rows, calls](std::vector<StopLayerResult> r) {
        ++*calls;
        *rows = std::move(r);
    });
    QTRY_VERIFY_WITH_TIMEOUT(rows->has_value(), d.actMs + d.verifyMs + 2000);
    QCOMPARE(*calls, 1);
    QCOMPARE((*rows)->size(), size_t(1));
    checkRow((*rows)->front(), target);
    m_row = (*rows)->front();
}

// What every row carries, and the secrets none may.
void tst_Auth0::checkRow(const StopLayerResult &row, const LayerTarget &target)
{
    QCOMPARE(row.layer, QByteArray("identity"));
    QCOMPARE(row.provider, QByteArray("auth0-prod"));
    QCOMPARE(row.agent, QByteArray("refund-agent"));
    QCOMPARE(row.action, QByteArray("revoke"));
    QCOMPARE(row.target, QByteArray("token file:/run/agents/refund.token"));
    for (const QByteArray &secret : {target.token, kBreakerSecret, kMgmtToken}) {
        QVERIFY2(!row.detail.contains(QString::fromUtf8(secret)), qPrintable(row.detail));
        QVERIFY(!row.target.contains(secret));
    }
}

void tst_Auth0::stopVerified_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<bool>("refreshChecked");
    QTest::newRow("opaque refresh token") << kRefreshToken << true;
    QTest::newRow("JWT access token")
        << jwtAccessToken(QDateTime::currentSecsSinceEpoch() + 600) << false;
}

void tst_Auth0::stopVerified()
{
    QFETCH(QByteArray, token);
    QFETCH(bool, refreshChecked);
    stop(agentTarget(token));
    QVERIFY(m_row);
    const auto &row = m_row;
    QVERIFY2(row->outcome == LayerOutcome::Verified, qPrintable(describe(*row)));
    QVERIFY2(row->detail.contains(QStringLiteral("grant cgr_agent1 deleted"))
                 && row->detail.contains(QStringLiteral("grant cgr_agent2 deleted"))
                 && row->detail.contains(QStringLiteral("grants read back empty"))
                 && row->detail.contains(
                     QStringLiteral("access tokens already issued live until they expire")),
             qPrintable(row->detail));
    QCOMPARE(row->detail.contains(QStringLiteral("invalid_grant")), refreshChecked);
    QCOMPARE(m_tenant->grantsLeft(), 1); // the other application's grant stays
    QVERIFY(!m_tenant->refreshTokenAlive());

    // The Management API token: client_credentials for https://{domain}/api/v2/, Basic auth.
    const auto tokenRequests = m_tenant->requestsTo("POST", "/oauth/token");
    QVERIFY(!tokenRequests.isEmpty());
    const Net::HttpRequest &cc = tokenRequests.front();
    QCOMPARE(formField(cc.body, "grant_type"), QByteArray("client_credentials"));
    QCOMPARE(formField(cc.body, "audience"), m_tenant->issuer().toEncoded() + "api/v2/");
    QCOMPARE(cc.header("Content-Type"), QByteArray("application/x-www-form-urlencoded"));
    QCOMPARE(cc.header("Authorization"), OAuth::basicAuthorization(kBreakerClient, kBreakerSecret));
    // One token for the whole stop.
    QCOMPARE(tokenRequests.size(), refreshChecked ? 2 : 1);

    // The grants of the agent's application only, the user id percent-encoded.
    const auto lists = m_tenant->requestsTo("GET", "/api/v2/grants");
    QCOMPARE(lists.size(), 2); // the listing and the read-back
    for (const auto &l : lists) {
        QCOMPARE(l.query, QByteArray("user_id=auth0%7Cagent-7&client_id=agentAppClientId"));
        QCOMPARE(l.header("Authorization"), "Bearer " + kMgmtToken);
    }
    const auto deletes = m_tenant->requestsTo("DELETE", "/api/v2/grants/");
    QCOMPARE(deletes.size(), 2);
    QCOMPARE(deletes[0].path, QByteArray("/api/v2/grants/cgr_agent1"));
    QCOMPARE(deletes[1].path, QByteArray("/api/v2/grants/cgr_agent2"));

    // The refresh tokens of user + application, as the documented body.
    const auto revokes = m_tenant->requestsTo("POST", "/api/v2/refresh-tokens/revoke");
    QCOMPARE(revokes.size(), 1);
    QCOMPARE(QJsonDocument::fromJson(revokes[0].body).object(),
             (QJsonObject{{QStringLiteral("user_id"), QString::fromUtf8(kSubject)},
                          {QStringLiteral("client_id"), QString::fromUtf8(kAgentClient)}}));
    QCOMPARE(revokes[0].header("Content-Type"), QByteArray("application/json"));

    // The opaque token went to /oauth/revoke first, and Auth0's refusal is in the detail.
    const auto oauthRevokes = m_tenant->requestsTo("POST", "/oauth/revoke");
    QCOMPARE(oauthRevokes.size(), refreshChecked ? 1 : 0);
    if (refreshChecked) {
        QCOMPARE(formField(oauthRevokes[0].body, "token"), kRefreshToken);
        QVERIFY2(row->detail.contains(
                     QStringLiteral("oauth/revoke refused: invalid_request (The refresh token was "
                                    "not issued to this client.), HTTP 400")),
                 qPrintable(row->detail));
    } else {
        QVERIFY2(row->detail.contains(QStringLiteral("JWT access token")), qPrintable(row->detail));
        QVERIFY2(row->detail.contains(QStringLiteral("(exp ")), qPrintable(row->detail));
    }
}

void tst_Auth0::grantAlreadyGone()
{
    m_tenant->vanishBeforeDelete.insert("cgr_agent1");
    stop(agentTarget());
    QVERIFY(m_row);
    const auto &row = m_row;
    QVERIFY2(row->outcome == LayerOutcome::Verified, qPrintable(describe(*row)));
    QVERIFY2(row->detail.contains(
                 QStringLiteral("grant cgr_agent1 already gone (Not Found: The grant does not "
                                "exist. (inexistent_grant), HTTP 404)")),
             qPrintable(row->detail));
    QVERIFY(row->detail.contains(QStringLiteral("grant cgr_agent2 deleted")));
    QCOMPARE(m_tenant->requestsTo("DELETE", "/api/v2/grants/").size(), 2);
}

void tst_Auth0::managementTokenRefused()
{
    m_tenant->secret = "rotated-secret";
    stop(agentTarget());
    QVERIFY(m_row);
    const auto &row = m_row;
    QVERIFY2(row->outcome == LayerOutcome::Failed, qPrintable(describe(*row)));
    QVERIFY2(row->detail.contains(QStringLiteral("access_denied (Unauthorized), HTTP 401")),
             qPrintable(row->detail));
    QVERIFY2(row->detail.contains(QStringLiteral("no Management API token")),
             qPrintable(row->detail));
    QCOMPARE(m_tenant->grantsLeft(), 3);
    QVERIFY(m_tenant->refreshTokenAlive());
}

void tst_Auth0::rateLimitedRetried_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<int>("times");
    QTest::newRow("grants list, Retry-After")
        << QByteArray("/api/v2/grants") << QByteArray("Retry-After") << 1;
    QTest::newRow("grant delete, X-RateLimit-Reset")
        << QByteArray("/api/v2/grants/") << QByteArray("X-RateLimit-Reset") << 2;
    QTest::newRow("token, X-RateLimit-Reset")
        << QByteArray("/oauth/token") << QByteArray("X-RateLimit-Reset") << 1;
    QTest::newRow("refresh-tokens/revoke, no header")
        << QByteArray("/api/v2/refresh-tokens/revoke") << QByteArray() << 1;
}

void tst_Auth0::rateLimitedRetried()
{
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, header);
    QFETCH(int, times);
    QList<std::pair<QByteArray, QByteArray>> headers;
    if (header == "Retry-After")
        headers.append({header, "1"});
    else if (!header.isEmpty())
        headers.append({header, QByteArray::number(QDateTime::currentSecsSinceEpoch() + 1)});
    m_tenant->rateLimit(path, times, headers);
    QElapsedTimer clock;
    clock.start();
    stop(agentTarget(), {10000, 10000});
    QVERIFY(m_row);
    const auto &row = m_row;
    QVERIFY2(row->outcome == LayerOutcome::Verified, qPrintable(describe(*row)));
    QCOMPARE(m_tenant->rateLimited, times);
    QCOMPARE(m_tenant->grantsLeft(), 1);
    QVERIFY2(clock.elapsed() < 8000, qPrintable(QString::number(clock.elapsed())));
}

void tst_Auth0::rateLimitPastDeadline()
{
    m_tenant->rateLimit(
        "/api/v2/grants",
        100,
        {{"X-RateLimit-Reset", QByteArray::number(QDateTime::currentSecsSinceEpoch() + 120)}});
    QElapsedTimer clock;
    clock.start();
    stop(agentTarget(), {1500, 1500});
    QVERIFY(m_row);
    const auto &row = m_row;
    // Nothing was accepted (the opaque token's /oauth/revoke was refused): failed, at once, in
    // Auth0's words.
    QVERIFY2(row->outcome == LayerOutcome::Failed, qPrintable(describe(*row)));
    QVERIFY2(row->detail.contains(QStringLiteral("Too Many Requests: Too many requests."))
                 && row->detail.contains(QStringLiteral("(too_many_requests), HTTP 429"))
                 && row->detail.contains(QStringLiteral("past the deadline")),
             qPrintable(row->detail));
    QCOMPARE(m_tenant->rateLimited, 1);
    QVERIFY2(clock.elapsed() < 1500, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(m_tenant->grantsLeft(), 3);
}

// Auth0's words arrive verbatim, even when they hold "%1"-like text (one arg() call).
void tst_Auth0::rateLimitWordsVerbatim()
{
    m_tenant->limitBody = R"({"statusCode":429,"error":"Too Many Requests",)"
                          R"("message":"Quota 100%1 used, %2 left","errorCode":"too_many_requests"})";
    m_tenant->rateLimit(
        "/api/v2/grants",
        100,
        {{"X-RateLimit-Reset", QByteArray::number(QDateTime::currentSecsSinceEpoch() + 120)}});
    stop(agentTarget(), {1500, 1500});
    QVERIFY(m_row);
    const auto &row = m_row;
    QVERIFY2(row->outcome == LayerOutcome::Failed, qPrintable(describe(*row)));
    QVERIFY2(row->detail.contains(QStringLiteral("GET /api/v2/grants rate limited 1 time(s) (Too Many "
                                                 "Requests: Quota 100%1 used, %2 left "
                                                 "(too_many_requests), HTTP 429); the wait of "))
                 && row->detail.contains(QStringLiteral(" ms is past the deadline")),
             qPrintable(row->detail));
    QCOMPARE(m_tenant->rateLimited, 1);
}

void tst_Auth0::grantStillListed()
{
    m_tenant->stickyGrants.insert("cgr_agent2");
    stop(agentTarget());
    QVERIFY(m_row);
    const auto &row = m_row;
    // Auth0 accepted the delete (204) but still lists the grant: the stop did not hold.
    QVERIFY2(row->outcome == LayerOutcome::Failed, qPrintable(describe(*row)));
    QVERIFY2(row->detail.contains(QStringLiteral("grants still listed after deletion: cgr_agent2")),
             qPrintable(row->detail));
}

void tst_Auth0::providerDown()
{
    m_tenant->down();
    QElapsedTimer clock;
    clock.start();
    const LayerDeadlines d{2000, 2000};
    stop(agentTarget(), d);
    QVERIFY(m_row);
    const auto &row = m_row;
    QVERIFY2(row->outcome == LayerOutcome::Failed, qPrintable(describe(*row)));
    QVERIFY(clock.elapsed() <= d.actMs + d.verifyMs + 500);
    QVERIFY(row->ms <= d.actMs + d.verifyMs + 100);
    QVERIFY2(row->detail.contains(QStringLiteral("auth0-prod")), qPrintable(row->detail));
}

void tst_Auth0::missingSubject()
{
    LayerTarget t = agentTarget(jwtAccessToken(QDateTime::currentSecsSinceEpoch() + 600));
    t.subject.clear();
    stop(t);
    QVERIFY(m_row);
    const auto &row = m_row;
    // A JWT cannot be revoked and nothing can be read back: nothing was done.
    QVERIFY2(row->outcome == LayerOutcome::Failed, qPrintable(describe(*row)));
    QVERIFY2(row->detail.contains(QStringLiteral("\"subject\" (the Auth0 user id)")),
             qPrintable(row->detail));
    QVERIFY(m_tenant->requests.isEmpty());
}

QTEST_GUILESS_MAIN(tst_Auth0)
#include "tst_auth0.moc"
