#include "app/services/LayerService.h"

#include "app/services/Secrets.h"
#include "connectors/identity/IdentityFactory.h"
#include "connectors/payment/StripeIssuingConnector.h"
#include "connectors/tools/ToolsFactory.h"

namespace Breaker {

namespace {

// A secret field's value, or an error naming the provider and the field (never the secret).
Result<QByteArray> secretOf(const ProviderConfig &p, const std::optional<SecretRef> &ref, const char *field)
{
    if (!ref)
        return QByteArray();
    auto v = resolveSecret(*ref);
    if (!v) {
        Error e = v.error();
        e.message = QStringLiteral("%1 %2: %3").arg(p.name, QString::fromLatin1(field), e.message);
        e.where = p.name;
        return e;
    }
    return v.value();
}

} // namespace

LayerService::LayerService(QObject *parent)
    : QObject(parent)
{}

bool LayerService::isSupportedKind(const QString &kind)
{
    static const QStringList kinds = {QStringLiteral("oauth2"), QStringLiteral("auth0"), QStringLiteral("okta"),
                                      QStringLiteral("keycloak"), QStringLiteral("entra"), QStringLiteral("workos"),
                                      QStringLiteral("stripe-issuing"), QStringLiteral("opa"),
                                      QStringLiteral("litellm")};
    return kinds.contains(kind);
}

Result<LayerConnector *> LayerService::makeConnector(const ProviderConfig &p, QObject *parent)
{
    if (!isSupportedKind(p.kind))
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1: the %2 connector is not built yet").arg(p.name, p.kind), p.name);
    if (p.layer == QLatin1String("identity")) {
        auto secret = secretOf(p, p.clientSecret, "client_secret");
        if (!secret)
            return secret.error();
        auto key = secretOf(p, p.apiKey, "api_key");
        if (!key)
            return key.error();
        return makeIdentityConnector(p, secret.value(), key.value(), parent);
    }
    auto key = secretOf(p, p.apiKey, "api_key");
    if (!key)
        return key.error();
    if (p.layer == QLatin1String("payment"))
        return static_cast<LayerConnector *>(new StripeIssuingConnector(p, key.value(), parent));
    return makeToolsConnector(p, key.value(), parent);
}

void LayerService::applyProfile(const Profile &profile)
{
    qDeleteAll(m_connectors);
    m_connectors.clear();
    m_profile = profile;
}

Result<LayerConnector *> LayerService::connector(const QByteArray &provider)
{
    if (LayerConnector *c = m_connectors.value(provider))
        return c;
    const ProviderConfig *p = m_profile ? m_profile->provider(QString::fromUtf8(provider)) : nullptr;
    if (!p)
        return makeError(Error::Kind::NotFound,
                         QStringLiteral("no provider %1 in the profile").arg(QString::fromUtf8(provider)));
    auto made = makeConnector(*p, this);
    if (made)
        m_connectors.insert(provider, made.value());
    return made;
}

} // namespace Breaker
