#include "connectors/identity/IdentityFactory.h"

#include "connectors/identity/Auth0Connector.h"
#include "connectors/identity/OAuth2Connector.h"
#include "connectors/identity/OktaConnector.h"
#include "models/Profile.h"

namespace Breaker {

Result<LayerConnector *> makeIdentityConnector(const ProviderConfig &provider,
                                               QByteArray clientSecret,
                                               QByteArray apiKey,
                                               QObject *parent)
{
    const QString &kind = provider.kind;
    if (provider.issuer.isEmpty())
        return makeError(
            Error::Kind::Invalid,
            QStringLiteral("%1: an identity provider needs an issuer").arg(provider.name),
            provider.name);
    if (kind == QLatin1String("oauth2")
        // For now: Keycloak revokes and introspects per RFC 7009/7662. Entra (whose stop is
        // Graph's revokeSignInSessions) and WorkOS (refresh tokens only, no introspection) get
        // the standards behaviour until their own connectors exist: what their discovery lacks
        // shows in the row (failed without revocation, done_unverified without introspection),
        // never a false verified.
        || kind == QLatin1String("keycloak") || kind == QLatin1String("entra")
        || kind == QLatin1String("workos"))
        return static_cast<LayerConnector *>(
            new OAuth2Connector(provider, std::move(clientSecret), parent));
    if (kind == QLatin1String("auth0"))
        return static_cast<LayerConnector *>(
            new Auth0Connector(provider, std::move(clientSecret), parent));
    if (kind == QLatin1String("okta"))
        return static_cast<LayerConnector *>(
            new OktaConnector(provider, std::move(clientSecret), std::move(apiKey), parent));
    return makeError(Error::Kind::Invalid,
                     QStringLiteral("%1: identity kind \"%2\" is not supported (oauth2, keycloak, "
                                    "entra, workos, auth0, okta)")
                         .arg(provider.name, kind),
                     provider.name);
}

} // namespace Breaker
