#pragma once

#include "app/sandbox/AgentSpec.h"
#include "models/Result.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>

#include <vector>

namespace Breaker {

// The containment providers the sandbox serves (OAuth server, Stripe- and OPA-shaped APIs), as
// its profile names them. Secrets are references to 0600 files in the runtime folder.
struct SandboxContainment
{
    QString issuer;
    QString clientId;        // Breaker's own client at the OAuth server
    QString clientSecretRef; // "file:/..."
    QString stripeUrl;
    QString stripeKeyRef;
    QString stripeVersion;
    QString opaUrl;
    QString opaPackage = QStringLiteral("breaker");
    struct Agent
    {
        QString tokenRef; // the agent's refresh token
        QString subject;
        QString clientId;
        QString cardId;
    };
    QHash<QString, Agent> agents; // by agent name
    // Where the audit signing key lives: a 0600 file in the sandbox's runtime folder (created on
    // first use). Every export then says key_storage "file": the sandbox is a demo, and a
    // headless machine has no OS keychain.
    QString auditKeyRef;
    bool isEmpty() const { return issuer.isEmpty() && stripeUrl.isEmpty() && opaUrl.isEmpty(); }
};

// The profile the sandbox writes about itself (DESIGN.md section 5): name "sandbox", the
// providers it has (for now the console's OTLP receiver) and its agents. Providers it does not
// serve yet are simply absent, so the console shows those rows as TBD.
class SandboxProfile
{
public:
    static inline const QString kName = QStringLiteral("sandbox");

    // `otlpListen` is HOST:PORT of the console's OTLP receiver ("[::1]:4318" for IPv6).
    // `a2aUrls`, by agent name: the A2A interface URL each agent's runtime provider
    // "<agent>-a2a" points at (agents without one get no runtime provider).
    static QJsonObject build(const std::vector<AgentSpec> &agents,
                             const QString &otlpListen,
                             const QHash<QString, QString> &a2aUrls = {},
                             const SandboxContainment &containment = {});
    static inline const QString kIdentityProvider = QStringLiteral("sandbox-idp");
    static inline const QString kPaymentProvider = QStringLiteral("sandbox-stripe");
    static inline const QString kToolsProvider = QStringLiteral("sandbox-opa");
    static QString runtimeProviderName(const QString &agentName)
    {
        return agentName + QStringLiteral("-a2a");
    }
    static QByteArray toJson(const QJsonObject &profile);

    // True when `content` is a profile the sandbox wrote (a JSON object whose name is "sandbox").
    static bool isSandboxProfile(const QByteArray &content);

    // Writes the file atomically, mode 0600. An existing file is replaced only when the sandbox
    // wrote it; anything else is refused (Error::Kind::Conflict) so that a user's own profile
    // is never overwritten.
    static Result<void> write(const QString &path, const QByteArray &json);
};

} // namespace Breaker
