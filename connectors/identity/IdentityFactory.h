#pragma once

#include "connectors/containment/LayerConnector.h"
#include "models/Result.h"

#include <QByteArray>

class QObject;

namespace Breaker {

struct ProviderConfig;

// The identity connector for a profile provider of layer "identity": oauth2 (and, for now,
// keycloak, entra and workos with the same RFC 7009 + RFC 7662 behaviour), auth0, okta.
// `clientSecret` and `apiKey` are the resolved secrets (apiKey: Okta's SSWS token; may be empty).
// An unknown kind is an error naming the provider.
Result<LayerConnector *> makeIdentityConnector(const ProviderConfig &provider,
                                               QByteArray clientSecret,
                                               QByteArray apiKey,
                                               QObject *parent);

} // namespace Breaker
