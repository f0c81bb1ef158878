#include "app/sandbox/fakes/OAuthFake.h"

#include "connectors/identity/OAuthCodec.h"
#include "models/Logging.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTcpServer>

namespace Breaker {

namespace {

Net::HttpResponse json(int status, const QJsonObject &body)
{
    Net::HttpResponse r
        = Net::HttpResponse::make(status,
                                  QByteArrayLiteral("application/json; charset=utf-8"),
                                  QJsonDocument(body).toJson(QJsonDocument::Compact));
    r.headers.append("Cache-Control", "no-store");
    return r;
}

Net::HttpResponse oauthError(int status, const QString &error, const QString &description)
{
    Net::HttpResponse r = json(
        status,
        {{QStringLiteral("error"), error}, {QStringLiteral("error_description"), description}});
    if (status == 401)
        r.headers.append("WWW-Authenticate",
                         QByteArrayLiteral("Basic realm=\"sandbox\", error=\"") + error.toUtf8()
                             + '"');
    return r;
}

QByteArray field(const OAuth::Form &form, QByteArrayView name)
{
    for (const auto &[k, v] : form)
        if (k == name)
            return v;
    return {};
}

qint64 now()
{
    return QDateTime::currentSecsSinceEpoch();
}

QByteArray randomValue()
{
    // 32 random bytes, base64url like oidc-provider's opaque tokens (43 characters).
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()),
                                          bytes.size() / 4);
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

} // namespace

OAuthFake::OAuthFake(QObject *parent)
    : QObject(parent)
    , m_server(new Net::HttpServer(this))
    , m_faults(new FakeFaults(this))
{
    routes();
}

OAuthFake::~OAuthFake() = default;

Result<void> OAuthFake::listen()
{
    if (m_faults->isDown()) {
        // Take a free port and let it go: the issuer then names a port that refuses.
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHost, 0))
            return makeError(
                Error::Kind::Unavailable,
                QStringLiteral("oauth fake: no free port: %1").arg(probe.errorString()),
                QStringLiteral("oauth"));
        m_port = probe.serverPort();
        probe.close();
        return {};
    }
    if (auto r = m_server->listen(QHostAddress(QHostAddress::LocalHost), 0); !r)
        return r;
    m_port = m_server->port();
    qCInfo(lcSandbox) << "oauth fake at" << issuer().toString();
    return {};
}

QUrl OAuthFake::issuer() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
}

void OAuthFake::registerClient(QByteArray id, QByteArray secret)
{
    m_clients.insert(std::move(id), std::move(secret));
}

QByteArray OAuthFake::mint(Token token)
{
    QByteArray value = randomValue();
    while (m_tokens.contains(value))
        value = randomValue();
    m_tokens.insert(value, std::move(token));
    return value;
}

QByteArray OAuthFake::issueRefreshToken(QByteArray clientId, QByteArray subject, QByteArray scope)
{
    Token t;
    t.kind = Kind::Refresh;
    t.clientId = std::move(clientId);
    t.subject = std::move(subject);
    t.scope = std::move(scope);
    t.grantId = randomValue();
    t.iat = now();
    t.exp = t.iat + m_refreshTtlS;
    return mint(std::move(t));
}

const OAuthFake::Token *OAuthFake::find(const QByteArray &value) const
{
    const auto it = m_tokens.constFind(value);
    if (it == m_tokens.cend() || it->exp <= now())
        return nullptr;
    return &*it;
}

void OAuthFake::routes()
{
    auto error500 = [] {
        return oauthError(
            500, QStringLiteral("server_error"), QStringLiteral("sandbox fault: error"));
    };
    m_server->route(
        "GET",
        "/.well-known/openid-configuration",
        m_faults->wrap([this](Net::HttpRequest, Net::HttpResponder r) { r.respond(discovery()); },
                       error500));
    m_server->route(
        "POST",
        "/token",
        m_faults->wrap([this](Net::HttpRequest q, Net::HttpResponder r) { token(q, r); },
                       error500));
    m_server->route(
        "POST",
        "/token/revocation",
        m_faults->wrap([this](Net::HttpRequest q, Net::HttpResponder r) { revocation(q, r); },
                       error500));
    m_server->route(
        "POST",
        "/token/introspection",
        m_faults->wrap([this](Net::HttpRequest q, Net::HttpResponder r) { introspection(q, r); },
                       error500));
}

Net::HttpResponse OAuthFake::discovery() const
{
    const QString base = issuer().toString();
    const QJsonArray methods{QStringLiteral("client_secret_basic"),
                             QStringLiteral("client_secret_post")};
    QJsonObject doc{
        {QStringLiteral("issuer"), base},
        {QStringLiteral("token_endpoint"), QString(base + QLatin1String("/token"))},
        {QStringLiteral("revocation_endpoint"), QString(base + QLatin1String("/token/revocation"))},
        {QStringLiteral("grant_types_supported"),
         QJsonArray{QStringLiteral("refresh_token"), QStringLiteral("client_credentials")}},
        {QStringLiteral("response_types_supported"), QJsonArray{}},
        {QStringLiteral("scopes_supported"),
         QJsonArray{QStringLiteral("openid"), QStringLiteral("offline_access")}},
        {QStringLiteral("token_endpoint_auth_methods_supported"), methods},
        {QStringLiteral("revocation_endpoint_auth_methods_supported"), methods},
    };
    if (m_introspectionOffered) {
        doc.insert(QStringLiteral("introspection_endpoint"),
                   QString(base + QLatin1String("/token/introspection")));
        doc.insert(QStringLiteral("introspection_endpoint_auth_methods_supported"), methods);
    }
    return json(200, doc);
}

Result<QByteArray> OAuthFake::authenticate(const Net::HttpRequest &request, OAuth::Form &form) const
{
    // Like oidc-provider: one mechanism only; a failure says no more than "failed".
    const QByteArray header = request.header("Authorization");
    const QByteArray postId = field(form, "client_id");
    const QByteArray postSecret = field(form, "client_secret");
    QByteArray id;
    QByteArray secret;
    if (!header.isEmpty()) {
        if (!postSecret.isEmpty())
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("client authentication must only be provided using "
                                            "one mechanism"));
        const auto basic = OAuth::parseBasicAuthorization(header);
        if (!basic)
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("invalid authorization header value format"));
        id = basic->first;
        secret = basic->second;
    } else if (!postId.isEmpty()) {
        id = postId;
        secret = postSecret;
    } else {
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("no client authentication mechanism provided"));
    }
    const auto it = m_clients.constFind(id);
    if (it == m_clients.cend() || secret.isEmpty() || *it != secret)
        return makeError(Error::Kind::Invalid, QStringLiteral("client authentication failed"));
    return id;
}

void OAuthFake::token(const Net::HttpRequest &request, Net::HttpResponder responder)
{
    OAuth::Form form = OAuth::parseForm(request.body);
    const auto client = authenticate(request, form);
    if (!client) {
        responder.respond(
            oauthError(401, QStringLiteral("invalid_client"), client.error().message));
        return;
    }
    const QByteArray grantType = field(form, "grant_type");
    if (grantType == "refresh_token") {
        const QByteArray refresh = field(form, "refresh_token");
        if (refresh.isEmpty()) {
            responder.respond(oauthError(400,
                                         QStringLiteral("invalid_request"),
                                         QStringLiteral("missing required parameter "
                                                        "'refresh_token'")));
            return;
        }
        const Token *rt = find(refresh);
        if (!rt || rt->kind != Kind::Refresh || rt->clientId != *client) {
            responder.respond(oauthError(
                400, QStringLiteral("invalid_grant"), QStringLiteral("grant request is invalid")));
            return;
        }
        Token at;
        at.kind = Kind::Access;
        at.clientId = rt->clientId;
        at.subject = rt->subject;
        at.scope = rt->scope;
        at.grantId = rt->grantId;
        at.iat = now();
        at.exp = at.iat + m_accessTtlS;
        const QByteArray scope = at.scope;
        const QByteArray value = mint(std::move(at));
        responder.respond(json(200,
                               {{QStringLiteral("access_token"), QString::fromLatin1(value)},
                                {QStringLiteral("expires_in"), m_accessTtlS},
                                {QStringLiteral("token_type"), QStringLiteral("Bearer")},
                                {QStringLiteral("refresh_token"), QString::fromLatin1(refresh)},
                                {QStringLiteral("scope"), QString::fromUtf8(scope)}}));
        return;
    }
    if (grantType == "client_credentials") {
        Token at;
        at.kind = Kind::ClientCredentials;
        at.clientId = *client;
        at.scope = field(form, "scope");
        at.iat = now();
        at.exp = at.iat + m_accessTtlS;
        const QByteArray value = mint(std::move(at));
        responder.respond(json(200,
                               {{QStringLiteral("access_token"), QString::fromLatin1(value)},
                                {QStringLiteral("expires_in"), m_accessTtlS},
                                {QStringLiteral("token_type"), QStringLiteral("Bearer")}}));
        return;
    }
    if (grantType.isEmpty()) {
        responder.respond(oauthError(400,
                                     QStringLiteral("invalid_request"),
                                     QStringLiteral("missing required parameter 'grant_type'")));
        return;
    }
    responder.respond(oauthError(
        400,
        QStringLiteral("unsupported_grant_type"),
        QStringLiteral("unsupported grant_type requested (%1)").arg(QString::fromUtf8(grantType))));
}

void OAuthFake::revocation(const Net::HttpRequest &request, Net::HttpResponder responder)
{
    OAuth::Form form = OAuth::parseForm(request.body);
    const auto client = authenticate(request, form);
    if (!client) {
        responder.respond(
            oauthError(401, QStringLiteral("invalid_client"), client.error().message));
        return;
    }
    const QByteArray value = field(form, "token");
    if (value.isEmpty()) {
        responder.respond(oauthError(400,
                                     QStringLiteral("invalid_request"),
                                     QStringLiteral("missing required parameter 'token'")));
        return;
    }
    if (m_busyRevocations > 0) {
        --m_busyRevocations;
        Net::HttpResponse r
            = m_busyStatus == 429
                  ? oauthError(429, QStringLiteral("too_many_requests"), QStringLiteral("rate limit exceeded"))
                  : oauthError(503, QStringLiteral("temporarily_unavailable"), QStringLiteral("try again later"));
        r.headers.append("Retry-After", QByteArray::number(m_busyRetryAfterS));
        responder.respond(std::move(r));
        return;
    }
    ++m_revocations;
    // The hint is ignored: the token is looked up among all types (RFC 7009 section 2.1).
    if (const auto it = m_tokens.constFind(value); it != m_tokens.cend()) {
        const Token t = *it;
        m_tokens.remove(value);
        if (t.kind == Kind::Refresh && !t.grantId.isEmpty()) {
            // Revoking a refresh token kills its grant: every access token issued from it.
            for (auto i = m_tokens.begin(); i != m_tokens.end();) {
                if (i->grantId == t.grantId)
                    i = m_tokens.erase(i);
                else
                    ++i;
            }
        }
        if (t.kind == Kind::Refresh)
            emit grantRevoked(t.clientId, t.subject);
    }
    // An empty 200 whatever the token was, like oidc-provider.
    responder.respond(
        Net::HttpResponse::make(200, QByteArrayLiteral("text/plain; charset=utf-8"), {}));
}

void OAuthFake::introspection(const Net::HttpRequest &request, Net::HttpResponder responder)
{
    if (!m_introspectionOffered) {
        responder.respond(Net::HttpResponse::make(
            404, QByteArrayLiteral("text/plain"), QByteArrayLiteral("Not Found")));
        return;
    }
    OAuth::Form form = OAuth::parseForm(request.body);
    const auto client = authenticate(request, form);
    if (!client) {
        responder.respond(
            oauthError(401, QStringLiteral("invalid_client"), client.error().message));
        return;
    }
    const QByteArray value = field(form, "token");
    if (value.isEmpty()) {
        responder.respond(oauthError(400,
                                     QStringLiteral("invalid_request"),
                                     QStringLiteral("missing required parameter 'token'")));
        return;
    }
    if (m_busyIntrospections > 0) {
        --m_busyIntrospections;
        Net::HttpResponse r = oauthError(429, QStringLiteral("too_many_requests"), QStringLiteral("rate limit exceeded"));
        r.headers.append("Retry-After", QByteArray::number(m_busyIntrospectionRetryAfterS));
        responder.respond(std::move(r));
        return;
    }
    const Token *t = find(value);
    if (!t) {
        responder.respond(json(200, {{QStringLiteral("active"), false}}));
        return;
    }
    QJsonObject body{{QStringLiteral("active"), true},
                     {QStringLiteral("client_id"), QString::fromUtf8(t->clientId)},
                     {QStringLiteral("exp"), t->exp},
                     {QStringLiteral("iat"), t->iat},
                     {QStringLiteral("iss"), issuer().toString()}};
    if (!t->subject.isEmpty())
        body.insert(QStringLiteral("sub"), QString::fromUtf8(t->subject));
    if (!t->scope.isEmpty())
        body.insert(QStringLiteral("scope"), QString::fromUtf8(t->scope));
    if (t->kind != Kind::Refresh)
        body.insert(QStringLiteral("token_type"), QStringLiteral("Bearer"));
    responder.respond(json(200, body));
}

} // namespace Breaker
