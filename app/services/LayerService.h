#pragma once

#include "connectors/containment/LayerConnector.h"
#include "models/Profile.h"
#include "models/Result.h"

#include <QHash>
#include <QObject>

#include <optional>

namespace Breaker {

// The containment layers of one engine or command (identity, payment, tools): a connector per
// profile provider, built when first needed with its secrets resolved at that moment.
class LayerService : public QObject
{
    Q_OBJECT
public:
    explicit LayerService(QObject *parent = nullptr);

    // Connectors of providers whose configuration changed are rebuilt when next asked for.
    void applyProfile(const Profile &profile);
    // The connector of a provider of layer identity, payment or tools, or why there is none
    // (unknown provider, a kind not built, a secret that does not resolve).
    Result<LayerConnector *> connector(const QByteArray &provider);

    static Result<LayerConnector *> makeConnector(const ProviderConfig &provider, QObject *parent);
    static bool isSupportedKind(const QString &kind);

private:
    std::optional<Profile> m_profile;
    QHash<QByteArray, LayerConnector *> m_connectors;
};

} // namespace Breaker
