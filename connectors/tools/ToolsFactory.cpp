#include "connectors/tools/ToolsFactory.h"

#include "connectors/tools/LiteLlmConnector.h"
#include "connectors/tools/OpaCodec.h"
#include "connectors/tools/OpaConnector.h"
#include "models/Profile.h"

namespace Breaker {

Result<LayerConnector *>
makeToolsConnector(const ProviderConfig &config, QByteArray apiKey, QObject *parent)
{
    const QString where = config.name;
    if (!config.url.isValid() || config.url.scheme().isEmpty() || config.url.host().isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1: the tools provider needs an http(s) url").arg(where),
                         where);
    if (config.kind == QLatin1String("opa")) {
        if (auto segments = Opa::documentSegments(config.package); !segments) {
            Error e = segments.error();
            e.message = QStringLiteral("%1: %2").arg(where, e.message);
            e.where = where;
            return e;
        }
        return static_cast<LayerConnector *>(new OpaConnector(config, std::move(apiKey), parent));
    }
    if (config.kind == QLatin1String("litellm")) {
        if (apiKey.isEmpty())
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("%1: a litellm provider needs api_key (the proxy's "
                                            "master key) to block keys")
                                 .arg(where),
                             where);
        return static_cast<LayerConnector *>(
            new LiteLlmConnector(config, std::move(apiKey), parent));
    }
    return makeError(Error::Kind::Invalid,
                     QStringLiteral("%1: kind \"%2\" is not a tools provider Breaker can stop "
                                    "(opa, litellm)")
                         .arg(where, config.kind),
                     where);
}

} // namespace Breaker
