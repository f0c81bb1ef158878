#pragma once

#include "connectors/containment/LayerConnector.h"
#include "models/Result.h"

#include <QByteArray>

namespace Breaker {

struct ProviderConfig;

// The connector of a profile provider of layer "tools": kind "opa" (OpaConnector) or "litellm"
// (LiteLlmConnector). `apiKey` is the provider's resolved api_key (OPA: an optional bearer token;
// LiteLLM: the master key, required). Any other kind, or a missing URL or key, is an error that
// names the provider.
Result<LayerConnector *>
makeToolsConnector(const ProviderConfig &config, QByteArray apiKey, QObject *parent);

} // namespace Breaker
