#pragma once

#include "connectors/identity/OAuth2Connector.h"

#include <QDeadlineTimer>

namespace Breaker {

// Auth0 (PROTOCOLS.md section 2.6). Auth0 has no introspection and revokes refresh tokens only
// (POST {issuer}oauth/revoke); its access tokens are JWTs that live until they expire. So the
// stop works through the Management API, with a token Breaker's client gets by
// client_credentials for the audience {issuer}api/v2/ (scopes read:grants, delete:grants,
// delete:refresh_tokens):
//   GET {issuer}api/v2/grants?user_id=<subject>&client_id=<client_id>, DELETE each grant
//   (204; a 404 means it is already gone: the read-back decides),
//   POST {issuer}api/v2/refresh-tokens/revoke {"user_id","client_id"} (202, Enterprise plans).
// Verified when the grants read back empty and the refresh token is refused (invalid_grant);
// a grant still listed after its deletion is failed. The detail always says that access tokens
// already issued live until they expire.
//
// Errors carry Auth0's words: the Management API's {"statusCode","error","message","errorCode"}
// and the Authentication API's {"error","error_description"}. A 429 is retried after Retry-After
// or X-RateLimit-Reset (UTC epoch seconds) while the stop's deadline allows.
//
// Why /oauth/revoke alone is not enough: Auth0 revokes a refresh token only for the client it
// was issued to, and Breaker's client is usually another one; its answer is recorded either way.
class Auth0Connector : public OAuth2Connector
{
    Q_OBJECT
public:
    Auth0Connector(const ProviderConfig &provider,
                   QByteArray clientSecret,
                   QObject *parent = nullptr);

    QByteArray kind() const override { return "auth0"; }

    void
    contain(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done) override;
    void checkLeaks(const LayerTarget &target,
                    qint64 sinceMs,
                    std::function<void(Result<std::vector<LayerLeak>>)> done) override;
    void probe(std::function<void(Result<QString>)> done) override;

    // {issuer}<path>, the issuer taken as a directory ("https://tenant.auth0.com/").
    QUrl auth0Url(const QString &path) const;

private:
    struct Stop;
    using TokenDone = std::function<void(const Result<QByteArray> &)>;
    using GrantsDone = std::function<void(const Result<QStringList> &)>;

    // send(), retrying a 429 while `until` allows; a 429 past it answers an error that says so.
    void sendRetrying(const QByteArray &method,
                      const QUrl &url,
                      const Net::HttpClient::Headers &headers,
                      const QByteArray &body,
                      QDeadlineTimer until,
                      ReplyDone done,
                      int attempt = 1);
    void managementToken(QDeadlineTimer until, TokenDone done);
    void listGrants(const QByteArray &subject,
                    const QByteArray &clientId,
                    QDeadlineTimer until,
                    GrantsDone done);
    void mgmtSend(const QByteArray &method,
                  const QUrl &url,
                  const QByteArray &json,
                  QDeadlineTimer until,
                  ReplyDone done);

    void revokeRefresh(const std::shared_ptr<Stop> &s);
    void adminKill(const std::shared_ptr<Stop> &s);
    void deleteGrants(const std::shared_ptr<Stop> &s, QStringList ids);
    void revokeRefreshTokens(const std::shared_ptr<Stop> &s);
    void readBack(const std::shared_ptr<Stop> &s);
    void refreshCheck(const std::shared_ptr<Stop> &s);
    void conclude(const std::shared_ptr<Stop> &s, LayerOutcome outcome, const QString &why);

    QByteArray m_mgmtToken;
    QDeadlineTimer m_mgmtTokenValid;
};

} // namespace Breaker
