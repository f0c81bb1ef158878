#pragma once

#include "connectors/identity/OAuth2Connector.h"

namespace Breaker {

// Okta (PROTOCOLS.md section 2.6): revocation and introspection as any OAuth 2.0 server, the
// endpoints ({issuer}/v1/revoke, {issuer}/v1/introspect) read from discovery, plus the admin
// kill of the Management API: DELETE {org}/api/v1/users/{subject}/sessions?oauthTokens=true
// with "Authorization: SSWS <api key>". oauthTokens defaults to false, so without it the
// user's OAuth tokens would survive the session kill.
//
// contain() answers two rows: the token (as OAuth2Connector) and the user's sessions. Both run
// at once, within the same deadlines.
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
    void killSessions(const std::shared_ptr<Op> &op, const QByteArray &subject);

    QByteArray m_apiKey;
};

} // namespace Breaker
