#include "LiteLlmFake.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>

using namespace Breaker;

LiteLlmFake::LiteLlmFake(QByteArray masterKey, QObject *parent)
    : QObject(parent)
    , m_master(std::move(masterKey))
{
    route("POST", "/key/block", true, [this](const Net::HttpRequest &r) {
        return setBlocked(r, true);
    });
    route("POST", "/key/unblock", true, [this](const Net::HttpRequest &r) {
        return setBlocked(r, false);
    });
    route("POST", "/key/update", true, [this](const Net::HttpRequest &r) {
        const QJsonObject body = QJsonDocument::fromJson(r.body).object();
        const QByteArray k = body.value(QLatin1String("key")).toString().toUtf8();
        if (!m_keys.contains(k))
            return error(404, QStringLiteral("not_found_error"), QStringLiteral("Key not found"));
        Key &key = m_keys[k];
        // LiteLLM updates the object_permission fields it is given and keeps the others.
        const QJsonObject perm = body.value(QLatin1String("object_permission")).toObject();
        for (auto it = perm.begin(); it != perm.end(); ++it)
            key.objectPermission.insert(it.key(), it.value());
        return json(200, QJsonObject{{QStringLiteral("key"), QString::fromUtf8(k)}});
    });
    route("GET", "/key/info", true, [this](const Net::HttpRequest &r) {
        const QByteArray k = QUrlQuery(QString::fromLatin1(r.query))
                                 .queryItemValue(QStringLiteral("key"), QUrl::FullyDecoded)
                                 .toUtf8();
        if (!m_keys.contains(k))
            return error(404, QStringLiteral("not_found_error"), QStringLiteral("Key not found"));
        return json(200,
                    QJsonObject{{QStringLiteral("key"), QString::fromUtf8(k)},
                                {QStringLiteral("info"), infoOf(m_keys.value(k))}});
    });
    route("GET", "/key/list", true, [this](const Net::HttpRequest &) {
        return json(200,
                    QJsonObject{{QStringLiteral("keys"), QJsonArray()},
                                {QStringLiteral("total_count"), int(m_keys.size())}});
    });
    route("GET", "/health/liveliness", false, [](const Net::HttpRequest &) {
        return Net::HttpResponse::make(200, "application/json", "\"I'm alive!\"");
    });
    route("GET", "/v1/models", false, [this](const Net::HttpRequest &r) { return modelCall(r); });
    route("POST", "/v1/chat/completions", false, [this](const Net::HttpRequest &r) {
        return modelCall(r);
    });
}

Result<void> LiteLlmFake::listen()
{
    return m_server.listen(QHostAddress(QHostAddress::LocalHost), 0);
}

QUrl LiteLlmFake::url() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.port()));
}

void LiteLlmFake::route(const QByteArray &method,
                        const QByteArray &path,
                        bool admin,
                        std::function<Net::HttpResponse(const Net::HttpRequest &)> handler)
{
    m_server.route(
        method,
        path,
        [this, admin, handler](Net::HttpRequest request, Net::HttpResponder responder) {
            m_requests.append(request);
            if (m_silent)
                return;
            if (admin && request.header("Authorization") != "Bearer " + m_master) {
                responder.respond(error(
                    401,
                    QStringLiteral("auth_error"),
                    QStringLiteral("Authentication Error, Invalid proxy server token passed.")));
                return;
            }
            responder.respond(handler(request));
        });
}

Net::HttpResponse LiteLlmFake::json(int status, const QJsonValue &body)
{
    return Net::HttpResponse::make(
        status, "application/json", QJsonDocument(body.toObject()).toJson(QJsonDocument::Compact));
}

Net::HttpResponse LiteLlmFake::error(int status, const QString &type, const QString &message)
{
    return json(status,
                QJsonObject{{QStringLiteral("error"),
                             QJsonObject{{QStringLiteral("message"), message},
                                         {QStringLiteral("type"), type},
                                         {QStringLiteral("param"), QStringLiteral("None")},
                                         {QStringLiteral("code"), QString::number(status)}}}});
}

Net::HttpResponse LiteLlmFake::setBlocked(const Net::HttpRequest &request, bool blocked)
{
    const QByteArray k = QJsonDocument::fromJson(request.body)
                             .object()
                             .value(QLatin1String("key"))
                             .toString()
                             .toUtf8();
    if (!m_keys.contains(k))
        return error(404, QStringLiteral("not_found_error"), QStringLiteral("Key not found"));
    m_keys[k].blocked = blocked;
    QJsonObject token = infoOf(m_keys.value(k));
    token.insert(QStringLiteral("token"), QStringLiteral("hashed"));
    return json(200, token);
}

Net::HttpResponse LiteLlmFake::modelCall(const Net::HttpRequest &request)
{
    const QByteArray auth = request.header("Authorization");
    const QByteArray k = auth.startsWith("Bearer ") ? auth.mid(7) : QByteArray();
    if (k == m_master)
        return json(200, QJsonObject{{QStringLiteral("data"), QJsonArray()}});
    if (!m_keys.contains(k))
        return error(401,
                     QStringLiteral("auth_error"),
                     QStringLiteral("Authentication Error, Invalid proxy server token passed."));
    if (m_keys.value(k).blocked && !m_authIgnoresBlock)
        return error(401,
                     QStringLiteral("auth_error"),
                     QStringLiteral("Authentication Error, Key is blocked. Update via "
                                    "`/key/unblock` if you're admin."));
    return json(200, QJsonObject{{QStringLiteral("data"), QJsonArray()}});
}

QJsonObject LiteLlmFake::infoOf(const Key &k) const
{
    QJsonObject info{{QStringLiteral("key_alias"), k.alias},
                     {QStringLiteral("blocked"), k.blocked},
                     {QStringLiteral("spend"), 0.0}};
    if (!k.objectPermission.isEmpty())
        info.insert(QStringLiteral("object_permission"), k.objectPermission);
    return info;
}
