#pragma once

#include "connectors/net/HttpTypes.h"

#include <QPointer>

#include <functional>

namespace Breaker::Net {

class HttpConnection;
class HttpServer;

// The answer side of one request, handed to a route handler. A cheap copyable handle: the
// handler may answer at once or keep it and answer later. Use it on the server's thread only.
// Every call is safe after the client went away or the server was destroyed: it then does
// nothing and returns false.
//
// Either respond() once, or beginStream(), write() any number of times, then finish().
class HttpResponder
{
public:
    HttpResponder() = default;

    // The connection is open and this request has not been answered completely yet.
    bool isOpen() const;

    // A complete response; Content-Length is set from the body.
    bool respond(HttpResponse response);
    bool respond(int status, QByteArray contentType, QByteArray body);

    // A streamed response (server-sent events and the like): chunked on HTTP/1.1, on HTTP/1.0
    // a body without length ended by closing the connection.
    bool beginStream(int status, HttpHeaders headers = {});
    bool write(QByteArray data);
    bool finish();

    // Bytes accepted by write() that the socket has not sent yet (for flow control).
    qint64 bytesPending() const;

    // Called once, on the server's thread, if the connection closes before the response is
    // complete. Not called when the server itself is destroyed.
    void onClosed(std::function<void()> callback);

private:
    friend class HttpConnection;
    HttpResponder(HttpServer *server, quint64 connectionId, quint64 requestSeq);
    HttpConnection *connection() const;

    QPointer<HttpServer> m_server;
    quint64 m_connectionId = 0;
    quint64 m_requestSeq = 0;
};

} // namespace Breaker::Net
