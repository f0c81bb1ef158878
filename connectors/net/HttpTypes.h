#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHostAddress>
#include <QList>

#include <utility>

// Value types of Breaker's small HTTP/1.1 server (HttpServer.h).
namespace Breaker::Net {

// Header fields in arrival order. Names compare case-insensitively; values are kept as sent
// (surrounding whitespace removed).
class HttpHeaders
{
public:
    using Entry = std::pair<QByteArray, QByteArray>;

    void append(QByteArray name, QByteArray value);
    // Replaces every field of that name with one.
    void set(QByteArray name, QByteArray value);
    void remove(QByteArrayView name);

    bool contains(QByteArrayView name) const;
    qsizetype count(QByteArrayView name) const;
    // The first field of that name, or an empty array.
    QByteArray value(QByteArrayView name) const;
    QList<QByteArray> values(QByteArrayView name) const;
    // True if a comma-separated list field (Connection, Transfer-Encoding, ...) holds token,
    // compared case-insensitively, in any of the fields of that name.
    bool hasToken(QByteArrayView name, QByteArrayView token) const;

    const QList<Entry> &entries() const { return m_entries; }
    bool isEmpty() const { return m_entries.isEmpty(); }
    qsizetype size() const { return m_entries.size(); }

private:
    QList<Entry> m_entries;
};

struct HttpRequest
{
    QByteArray method;    // case-sensitive, as sent ("GET", "POST")
    QByteArray target;    // the request-target as sent
    QByteArray path;      // target without query (origin form; an absolute-form target is reduced)
    QByteArray query;     // after '?', not decoded; empty if none
    int versionMinor = 1; // HTTP/1.<versionMinor>
    HttpHeaders headers;
    HttpHeaders trailers; // from a chunked body
    QByteArray body;      // decoded from chunked transfer coding; never content-decoded
    QHostAddress peerAddress;
    quint16 peerPort = 0;

    QByteArray header(QByteArrayView name) const { return headers.value(name); }
};

struct HttpResponse
{
    int status = 200;
    HttpHeaders headers; // the server sets Content-Length, Transfer-Encoding and Connection itself
    QByteArray body;

    static HttpResponse make(int status, QByteArray contentType, QByteArray body);
};

// "OK", "Not Found", ...; "Unknown" for codes it does not know.
QByteArray reasonPhrase(int status);

// Case-insensitive comparison of header names and tokens.
bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b);

} // namespace Breaker::Net
