#include "app/sandbox/SandboxProfile.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

namespace Breaker {

namespace {

QJsonArray stringArray(const QList<QByteArray> &list)
{
    QJsonArray out;
    for (const QByteArray &item : list)
        out.append(QString::fromUtf8(item));
    return out;
}

constexpr qint64 kMaxProfileBytes = 4 * 1024 * 1024;

} // namespace

QJsonObject SandboxProfile::build(const std::vector<AgentSpec> &agents,
                                  const QString &otlpListen,
                                  const QHash<QString, QString> &a2aUrls,
                                  const SandboxContainment &containment)
{
    QJsonObject providers;
    providers.insert(QStringLiteral("otlp"),
                     QJsonObject{{QStringLiteral("layer"), QStringLiteral("observability")},
                                 {QStringLiteral("kind"), QStringLiteral("otlp")},
                                 {QStringLiteral("listen"), otlpListen}});
    const SandboxContainment &c = containment;
    if (!c.issuer.isEmpty())
        providers.insert(kIdentityProvider,
                         QJsonObject{{QStringLiteral("layer"), QStringLiteral("identity")},
                                     {QStringLiteral("kind"), QStringLiteral("oauth2")},
                                     {QStringLiteral("issuer"), c.issuer},
                                     {QStringLiteral("client_id"), c.clientId},
                                     {QStringLiteral("client_secret"), c.clientSecretRef}});
    if (!c.stripeUrl.isEmpty())
        providers.insert(kPaymentProvider,
                         QJsonObject{{QStringLiteral("layer"), QStringLiteral("payment")},
                                     {QStringLiteral("kind"), QStringLiteral("stripe-issuing")},
                                     {QStringLiteral("url"), c.stripeUrl},
                                     {QStringLiteral("api_key"), c.stripeKeyRef},
                                     {QStringLiteral("stripe_version"), c.stripeVersion}});
    if (!c.opaUrl.isEmpty())
        providers.insert(kToolsProvider,
                         QJsonObject{{QStringLiteral("layer"), QStringLiteral("tools")},
                                     {QStringLiteral("kind"), QStringLiteral("opa")},
                                     {QStringLiteral("url"), c.opaUrl},
                                     {QStringLiteral("package"), c.opaPackage}});
    QJsonObject agentObjects;
    for (const AgentSpec &agent : agents) {
        const QString name = QString::fromUtf8(agent.name);
        QJsonObject a;
        const QString url = a2aUrls.value(name);
        if (!url.isEmpty()) {
            providers.insert(runtimeProviderName(name),
                             QJsonObject{{QStringLiteral("layer"), QStringLiteral("runtime")},
                                         {QStringLiteral("kind"), QStringLiteral("a2a")},
                                         {QStringLiteral("url"), url}});
            a.insert(QStringLiteral("runtime"), runtimeProviderName(name));
        }
        const auto held = c.agents.constFind(name);
        if (held != c.agents.constEnd()) {
            if (!c.issuer.isEmpty() && !held->tokenRef.isEmpty())
                a.insert(QStringLiteral("identity"),
                         QJsonObject{{QStringLiteral("provider"), kIdentityProvider},
                                     {QStringLiteral("token"), held->tokenRef},
                                     {QStringLiteral("subject"), held->subject},
                                     {QStringLiteral("client_id"), held->clientId}});
            if (!c.stripeUrl.isEmpty() && !held->cardId.isEmpty())
                a.insert(QStringLiteral("payment"),
                         QJsonObject{{QStringLiteral("provider"), kPaymentProvider},
                                     {QStringLiteral("cards"), QJsonArray{held->cardId}}});
        }
        if (!c.opaUrl.isEmpty())
            a.insert(QStringLiteral("tools"),
                     QJsonObject{{QStringLiteral("provider"), kToolsProvider},
                                 {QStringLiteral("names"), stringArray(agent.tools)}});
        a.insert(QStringLiteral("owner"), QString::fromUtf8(agent.owner));
        if (agent.canary)
            a.insert(QStringLiteral("canary"), true);
        a.insert(QStringLiteral("principals"), stringArray(agent.principals));
        a.insert(QStringLiteral("data"), stringArray(agent.dataSources));
        a.insert(QStringLiteral("otel_names"), QJsonArray{name});
        a.insert(QStringLiteral("approval"),
                 QJsonObject{{QStringLiteral("timeout_s"), agent.approvalTimeoutS},
                             {QStringLiteral("on_timeout"), QString::fromUtf8(agent.onTimeout)}});
        agentObjects.insert(name, a);
    }
    QJsonObject profile{{QStringLiteral("version"), 1},
                        {QStringLiteral("name"), kName},
                        {QStringLiteral("providers"), providers},
                        {QStringLiteral("agents"), agentObjects}};
    if (!c.auditKeyRef.isEmpty())
        profile.insert(QStringLiteral("audit"), QJsonObject{{QStringLiteral("signing_key"), c.auditKeyRef}});
    return profile;
}

QByteArray SandboxProfile::toJson(const QJsonObject &profile)
{
    return QJsonDocument(profile).toJson(QJsonDocument::Indented);
}

bool SandboxProfile::isSandboxProfile(const QByteArray &content)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(content, &error);
    return error.error == QJsonParseError::NoError && doc.isObject()
           && doc.object().value(QLatin1String("name")).toString() == kName;
}

Result<void> SandboxProfile::write(const QString &path, const QByteArray &json)
{
    const QFileInfo info(path);
    if (info.exists() || info.isSymLink()) {
        if (info.isSymLink() || !info.isFile())
            return makeError(
                Error::Kind::Conflict,
                QStringLiteral("refusing to write the sandbox profile to %1: it exists "
                               "and is not a regular file")
                    .arg(path),
                path);
        QFile existing(path);
        if (!existing.open(QIODevice::ReadOnly))
            return makeError(Error::Kind::Conflict,
                             QStringLiteral("refusing to write the sandbox profile over %1: it "
                                            "exists and cannot be read to check who wrote it (%2)")
                                 .arg(path, existing.errorString()),
                             path);
        const QByteArray content = existing.read(kMaxProfileBytes);
        if (!isSandboxProfile(content))
            return makeError(Error::Kind::Conflict,
                             QStringLiteral("refusing to overwrite %1: it is not a profile the "
                                            "sandbox wrote (its \"name\" is not \"sandbox\"); "
                                            "choose another --profile-out")
                                 .arg(path),
                             path);
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot write the sandbox profile to %1: %2")
                             .arg(path, file.errorString()),
                         path);
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(json);
    if (!file.commit())
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot write the sandbox profile to %1: %2")
                             .arg(path, file.errorString()),
                         path);
    return {};
}

} // namespace Breaker
