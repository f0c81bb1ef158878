#pragma once

#include "app/sandbox/fakes/FakeFaults.h"
#include "connectors/net/HttpServer.h"
#include "models/Result.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QUrl>

namespace Breaker {

// The sandbox's OAuth 2.0 authorization server (DESIGN.md section 6), shaped like oidc-provider
// 9.x (PROTOCOLS.md sections 2 and 6.2) so that the identity layer of the stop switch has
// something to revoke and introspect without a real IdP:
//   GET  /.well-known/openid-configuration   issuer, token/revocation/introspection endpoints
//   POST /token                              refresh_token (a new opaque access token, expires_in
//                                            300, the same refresh token) and client_credentials
//   POST /token/revocation                   RFC 7009: 200 always; a refresh token takes every
//                                            token of its grant with it
//   POST /token/introspection                RFC 7662: exactly {"active":false} for revoked,
//                                            unknown and expired tokens
// Client authentication: client_secret_basic or client_secret_post; 401 invalid_client else.
// Any registered client may revoke and introspect any token (Breaker's client is not the
// agent's; oidc-provider needs features.revocation.allowedPolicy for the same).
// Errors are {"error","error_description"}. Every route goes through faults().
class OAuthFake : public QObject
{
    Q_OBJECT
public:
    explicit OAuthFake(QObject *parent = nullptr);
    ~OAuthFake() override;

    // 127.0.0.1, a port the OS picks. With the "down" fault it picks a port but does not
    // listen, so the issuer refuses connections.
    Result<void> listen();
    QUrl issuer() const; // http://127.0.0.1:<port>
    FakeFaults *faults() const { return m_faults; }

    void registerClient(QByteArray id, QByteArray secret);
    // A refresh token of a new grant (what the agent got when a user delegated to it).
    QByteArray issueRefreshToken(QByteArray clientId, QByteArray subject, QByteArray scope);

    // Test and drill knobs.
    void setAccessTokenTtlS(int seconds) { m_accessTtlS = seconds; }
    // Without it, discovery lists no introspection_endpoint and the route is gone.
    void setIntrospectionOffered(bool offered) { m_introspectionOffered = offered; }
    // The next `times` revocations answer 503 with Retry-After (RFC 7009 section 2.2.1), or
    // 429 (RFC 6585: rate limited, as hosted identity providers answer a burst).
    void setRevocationBusy(int times, int retryAfterS, int status = 503)
    {
        m_busyRevocations = times;
        m_busyRetryAfterS = retryAfterS;
        m_busyStatus = status;
    }
    // The next `times` introspections answer 429 with Retry-After.
    void setIntrospectionBusy(int times, int retryAfterS)
    {
        m_busyIntrospections = times;
        m_busyIntrospectionRetryAfterS = retryAfterS;
    }
    int revocationCount() const { return m_revocations; }

signals:
    // A refresh token was revoked: the grant it carried is gone.
    void grantRevoked(const QByteArray &clientId, const QByteArray &subject);

private:
    enum class Kind { Access, Refresh, ClientCredentials };
    struct Token
    {
        Kind kind = Kind::Access;
        QByteArray clientId;
        QByteArray subject;
        QByteArray scope;
        QByteArray grantId;
        qint64 iat = 0;
        qint64 exp = 0;
    };

    void routes();
    Net::HttpResponse discovery() const;
    void token(const Net::HttpRequest &request, Net::HttpResponder responder);
    void revocation(const Net::HttpRequest &request, Net::HttpResponder responder);
    void introspection(const Net::HttpRequest &request, Net::HttpResponder responder);
    // The authenticated client id, or the 4xx to answer.
    Result<QByteArray> authenticate(const Net::HttpRequest &request,
                                    QList<std::pair<QByteArray, QByteArray>> &form) const;
    const Token *find(const QByteArray &value) const; // valid (unexpired) tokens only
    QByteArray mint(Token token);

    Net::HttpServer *m_server = nullptr;
    FakeFaults *m_faults = nullptr;
    quint16 m_port = 0;
    QHash<QByteArray, QByteArray> m_clients; // id -> secret
    QHash<QByteArray, Token> m_tokens;       // value -> token
    int m_accessTtlS = 300;
    int m_refreshTtlS = 14 * 24 * 3600;
    bool m_introspectionOffered = true;
    int m_busyRevocations = 0;
    int m_busyRetryAfterS = 1;
    int m_busyStatus = 503;
    int m_busyIntrospections = 0;
    int m_busyIntrospectionRetryAfterS = 1;
    int m_revocations = 0;
};

} // namespace Breaker
