#pragma once

#include "connectors/net/HttpServer.h"
#include "models/Result.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QStringList>
#include <QUrl>

// A LiteLLM-proxy-shaped fake for tst_litellm (PROTOCOLS.md 4.3 and 7.3): the admin routes need
// "Authorization: Bearer <master key>"; /key/block, /key/unblock, /key/update (object_permission
// fields are merged, as LiteLLM does) and /key/info ({"key","info":{…}}); /key/list; the
// unauthenticated /health/liveliness; and the model routes an agent's own key calls, which answer
// 401 once the key is blocked. Errors have LiteLLM's shape {"error":{"message","type","param",
// "code"}}.
class LiteLlmFake : public QObject
{
    Q_OBJECT
public:
    struct Key
    {
        QString alias;
        bool blocked = false;
        QJsonObject objectPermission;
    };

    explicit LiteLlmFake(QByteArray masterKey, QObject *parent = nullptr);

    Breaker::Result<void> listen();
    QUrl url() const;

    void addKey(const QByteArray &key, const Key &info) { m_keys.insert(key, info); }
    Key key(const QByteArray &key) const { return m_keys.value(key); }

    // The block is stored, but the auth path still accepts the key (a stale key cache).
    void setAuthIgnoresBlock(bool ignore) { m_authIgnoresBlock = ignore; }
    // Requests are received but never answered (the client's deadline decides).
    void setSilent(bool silent) { m_silent = silent; }

    const QList<Breaker::Net::HttpRequest> &requests() const { return m_requests; }

private:
    void
    route(const QByteArray &method,
          const QByteArray &path,
          bool admin,
          std::function<Breaker::Net::HttpResponse(const Breaker::Net::HttpRequest &)> handler);
    static Breaker::Net::HttpResponse json(int status, const QJsonValue &body);
    static Breaker::Net::HttpResponse
    error(int status, const QString &type, const QString &message);
    Breaker::Net::HttpResponse setBlocked(const Breaker::Net::HttpRequest &request, bool blocked);
    Breaker::Net::HttpResponse modelCall(const Breaker::Net::HttpRequest &request);
    QJsonObject infoOf(const Key &k) const;

    Breaker::Net::HttpServer m_server;
    QByteArray m_master;
    QHash<QByteArray, Key> m_keys;
    bool m_authIgnoresBlock = false;
    bool m_silent = false;
    QList<Breaker::Net::HttpRequest> m_requests;
};
