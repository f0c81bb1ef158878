#pragma once

#include "models/Result.h"

#include <QByteArray>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QSslConfiguration>
#include <QUrl>

#include <functional>
#include <memory>
#include <vector>
#include <utility>

class QNetworkReply;

namespace Breaker::Net {

struct ClientReply
{
    int status = 0;
    QByteArray contentType;
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray header(QByteArrayView name) const;
};

// Settings every provider may set in the profile (timeout_s, ca_file, proxy).
struct ClientOptions
{
    QString provider;          // the profile provider name, for every error message
    int timeoutMs = 10000;     // the whole request, from send to the last byte
    QString caFile;            // extra trusted CA certificates (PEM), added to the system's
    QUrl proxy;                // http://host:port, or empty
    qint64 maxBodyBytes = 32 * 1024 * 1024;
    // Parallel connections to one host. QNetworkAccessManager opens at most 6 per host (Qt 6.4
    // has no setting for it); more is a small pool of managers used in turn. The containment
    // layers ask for more: a global stop of 100 agents should not queue behind 6 sockets.
    int connectionsPerHost = 6;
};

// The HTTP client of the connectors: QNetworkAccessManager with a deadline on every request,
// TLS verification always on (a ca_file only adds trust, it never removes checking), bodies
// bounded, and errors in words that name the provider and the URL. Callbacks run on the
// object's thread, exactly once.
class HttpClient : public QObject
{
    Q_OBJECT
public:
    explicit HttpClient(ClientOptions options, QObject *parent = nullptr);
    ~HttpClient() override;

    using Headers = QList<std::pair<QByteArray, QByteArray>>;
    using Done = std::function<void(const Result<ClientReply> &)>;

    // One request. Any HTTP status is a reply (the caller reads provider errors from it);
    // only a transport failure or the deadline is an Error.
    void send(const QByteArray &method, const QUrl &url, const Headers &headers,
              const QByteArray &body, Done done);

    // A long-lived response (server-sent events): onStatus once the headers arrived (return
    // false to abort, e.g. on a non-2xx status, then the body is collected and passed to
    // onEnd as an error reply), onBytes for every chunk, onEnd once. No deadline on the
    // whole stream: `idleTimeoutMs` (0: none) ends it when nothing arrives for that long.
    struct Stream
    {
        std::function<bool(const ClientReply &head)> onStatus;
        std::function<void(const QByteArray &chunk)> onBytes;
        std::function<void(const Result<ClientReply> &end)> onEnd;
    };
    // Returns a handle that abort() accepts.
    QNetworkReply *openStream(const QByteArray &method, const QUrl &url, const Headers &headers,
                              const QByteArray &body, Stream stream, int idleTimeoutMs = 0);
    static void abort(QNetworkReply *reply);

    const ClientOptions &options() const { return m_options; }
    // Reads ca_file. An unreadable or empty file is an error that names it.
    Result<void> loadCaFile();

private:
    QNetworkRequest makeRequest(const QUrl &url, const Headers &headers) const;
    Error transportError(QNetworkReply *reply, const QUrl &url) const;

    QNetworkAccessManager &nextManager();

    ClientOptions m_options;
    QNetworkAccessManager m_nam;
    std::vector<std::unique_ptr<QNetworkAccessManager>> m_pool; // besides m_nam
    size_t m_next = 0;
    QSslConfiguration m_ssl;
};

} // namespace Breaker::Net
