#pragma once

#include "connectors/net/HttpResponder.h"
#include "connectors/net/HttpTypes.h"
#include "models/Result.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>

#include <functional>
#include <optional>
#include <vector>

class QTcpServer;

namespace Breaker::Net {

class HttpConnection;

struct HttpServerLimits
{
    qint64 maxHeaderBytes = 64 * 1024;        // request line + headers (and trailers) → 431
    qint64 maxBodyBytes = 64LL * 1024 * 1024; // checked while reading → 413, then close
    int readTimeoutMs = 30000;  // headers must be complete, and a body must progress, within this
    int idleTimeoutMs = 120000; // a keep-alive connection without a request is closed after this
    int maxConnections = 512;   // further connections are closed at once
};

// A small HTTP/1.1 server on QTcpServer: keep-alive, pipelining (answered in order), chunked
// request bodies, Expect: 100-continue, limits checked while reading, asynchronous and streamed
// responses. It lives on the thread that created it; handlers run there.
//
// Why not QHttpServer: in Qt 6.4 it is a technical preview that buffers whole bodies before any
// limit applies and cannot stream a response (server-sent events).
class HttpServer : public QObject
{
    Q_OBJECT

public:
    using Handler = std::function<void(HttpRequest request, HttpResponder responder)>;
    // Looks at a request before its body is read; a response refuses it there (the body is then
    // not read and the connection closes). Returns nothing to go on.
    using HeadCheck = std::function<std::optional<HttpResponse>(const HttpRequest &head)>;
    // Builds the server's own error responses (400, 404, 405, 408, 413, 431, ...). head holds
    // what was parsed so far (possibly nothing). Also the place to log them.
    using ErrorPage
        = std::function<HttpResponse(const HttpRequest &head, int status, const QString &reason)>;

    explicit HttpServer(QObject *parent = nullptr);
    ~HttpServer() override;

    void setLimits(const HttpServerLimits &limits); // applies to connections accepted afterwards
    const HttpServerLimits &limits() const { return m_limits; }

    Result<void> listen(const QHostAddress &address = QHostAddress(QHostAddress::LocalHost),
                        quint16 port = 0);
    // Stops listening and closes every connection (their onClosed callbacks run).
    void close();
    bool isListening() const;
    quint16 port() const;
    QHostAddress address() const;

    // Exact path match; method is case-sensitive ("POST").
    void route(QByteArray method, QByteArray path, Handler handler, HeadCheck check = {});
    // Any path starting with prefix; the longest matching prefix wins, exact routes first.
    void routePrefix(QByteArray method, QByteArray prefix, Handler handler, HeadCheck check = {});
    void setErrorPage(ErrorPage page);

    int connectionCount() const { return int(m_connections.size()); }

private:
    friend class HttpConnection;
    friend class HttpResponder;

    struct Route
    {
        QByteArray method;
        QByteArray path;
        bool prefix = false;
        Handler handler;
        HeadCheck check;
    };
    enum class RouteMatch { Found, NoPath, NoMethod };

    void onNewConnection();
    const Route *findRoute(const HttpRequest &head, RouteMatch *match, QByteArray *allow) const;
    HttpResponse errorResponse(const HttpRequest &head, int status, const QString &reason) const;
    void connectionClosed(quint64 id);
    HttpConnection *connectionFor(quint64 connectionId) const;

    QTcpServer *m_tcp = nullptr;
    HttpServerLimits m_limits;
    std::vector<Route> m_routes;
    ErrorPage m_errorPage;
    QHash<quint64, HttpConnection *> m_connections;
    quint64 m_nextConnectionId = 1;
};

} // namespace Breaker::Net
