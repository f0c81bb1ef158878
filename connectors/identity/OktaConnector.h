#pragma once

#include "connectors/identity/OAuth2Connector.h"

#include <QDeadlineTimer>

namespace Breaker {

// Okta (PROTOCOLS.md section 2.6): revocation and introspection as any OAuth 2.0 server, the
// endpoints read from discovery ({issuer}/.well-known/openid-configuration: the org
// authorization server's /oauth2/v1/revoke and /oauth2/v1/introspect, or a custom one's
// /oauth2/{authServerId}/v1/...), plus the admin kill of the Management API:
// DELETE {org}/api/v1/users/{subject}/sessions?oauthTokens=true with
// "Authorization: SSWS <api token>" (204). oauthTokens defaults to false, so without it the
// user's OAuth tokens would survive the session kill.
//
// contain() answers two rows, both run at once within the same deadlines:
//   the token (revoke, then introspect: only active=false is verified), and
//   the user's sessions, done_unverified on 204: Okta has no API that lists a user's sessions
//   and OAuth tokens to read the kill back.
// Errors carry Okta's words: {"errorCode":"E0000007","errorSummary",...,"errorId"} from the
// Management API (and from a rate-limited OAuth endpoint), {"error","error_description"} from
// the OAuth endpoints. A 429 (and a 503) is retried after Retry-After or X-Rate-Limit-Reset
// (UTC epoch seconds) while the act deadline allows.
class OktaConnector : public OAuth2Connector
{
    Q_OBJECT
public:
    OktaConnector(const ProviderConfig &provider,
                  QByteArray clientSecret,
                  QByteArray apiKey,
                  QObject *parent = nullptr);

    QByteArray kind() const override { return "okta"; }

    void
    contain(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done) override;

    // The org: the issuer's scheme and host (a custom authorization server's issuer has a path,
    // /oauth2/{asId}, but the Management API lives at the org's root).
    QUrl orgUrl() const;

private:
    using Attempt = std::function<void(ReplyDone)>;

    // Runs `attempt`, again after a 429 or 503 while `until` allows; past it, an error that
    // says so in Okta's words.
    void retrying(
        Attempt attempt, const QString &what, QDeadlineTimer until, ReplyDone done, int count = 1);
    void revokeToken(const std::shared_ptr<Op> &op, const QByteArray &token, QDeadlineTimer until);
    void verifyToken(const std::shared_ptr<Op> &op, const QByteArray &token);
    void
    killSessions(const std::shared_ptr<Op> &op, const QByteArray &subject, QDeadlineTimer until);
    // finish() with the API token scrubbed too (finish() knows the agent's token and the client
    // secret only).
    void conclude(const std::shared_ptr<Op> &op, LayerOutcome outcome, const QString &detail);

    QByteArray m_apiKey;
};

} // namespace Breaker
