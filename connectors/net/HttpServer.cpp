#include "connectors/net/HttpServer.h"

#include "models/Logging.h"

#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

#include <algorithm>

namespace Breaker::Net {

namespace {

// The socket stops reading from the kernel when this much is buffered, so a client that sends
// faster than we consume (or pipelines while a request is being answered) is held back by TCP.
constexpr qint64 kSocketReadBuffer = 1 << 20;
constexpr qint64 kMaxChunkSizeLine = 4096;
constexpr qint64 kInitialBodyReserve = 1 << 20;
constexpr int kMaxLeadingEmptyLines = 8;
// After an error response, keep reading (and dropping) what the client still sends for this
// long, so that closing does not reset the connection before the client read our answer.
constexpr int kLingerMs = 2000;

bool isTchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool isToken(QByteArrayView v)
{
    return !v.isEmpty() && std::all_of(v.begin(), v.end(), isTchar);
}

// Field values: visible characters, obs-text, space and tab; no other control characters.
bool isFieldValue(QByteArrayView v)
{
    return std::all_of(v.begin(), v.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u == '\t' || (u >= 0x20 && u != 0x7f);
    });
}

QByteArrayView trimmedView(QByteArrayView v)
{
    while (!v.isEmpty() && (v.front() == ' ' || v.front() == '\t'))
        v = v.sliced(1);
    while (!v.isEmpty() && (v.back() == ' ' || v.back() == '\t'))
        v.chop(1);
    return v;
}

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool isBodylessStatus(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

QString latin(QByteArrayView v)
{
    return QString::fromLatin1(v.data(), v.size());
}

} // namespace

// One accepted TCP connection: parses requests one after another, hands each to its route and
// waits for the answer before parsing the next (so pipelined requests are answered in order).
class HttpConnection : public QObject
{
public:
    HttpConnection(HttpServer *server, QTcpSocket *socket, quint64 id);

    bool isAnswering(quint64 seq) const;
    bool respond(quint64 seq, HttpResponse response);
    bool beginStream(quint64 seq, int status, const HttpHeaders &headers);
    bool write(quint64 seq, const QByteArray &data);
    bool finish(quint64 seq);
    qint64 bytesPending(quint64 seq) const;
    void setClosedCallback(quint64 seq, std::function<void()> callback);

    // The server closes us (close()); notify runs the pending onClosed callback.
    void closeNow(bool notify);
    // The server is being destroyed: drop the socket, call nobody.
    void abandon();

private:
    enum class State {
        WaitRequest, // between requests, nothing of the next one received
        Head,        // request line and headers
        Body,        // Content-Length body
        ChunkSize,
        ChunkData,
        ChunkEnd,
        Trailers,
        Dispatched, // the handler has the request; input is paused
        Streaming,  // a streamed response is being written
        Closing,    // flushing the last response
        Lingering,  // write side shut down; dropping input until the client closes
        Closed,
    };
    enum class LineResult { Line, NeedMore, TooLong };

    bool isReadingState() const;
    void onReadyRead();
    void onBytesWritten();
    void onTimeout();
    void processInput();
    void scheduleProcessInput();
    bool fillFromSocket();
    void compactInput();
    bool step();
    LineResult takeLine(QByteArrayView *line, qint64 budget);
    bool parseRequestLine(QByteArrayView line);
    bool parseFieldLine(QByteArrayView line, HttpHeaders *into);
    void onHeadComplete();
    void startBody();
    qint64 consumeBody(qint64 want);
    void dispatch();
    void fail(int status, const QString &reason);
    void sendResponse(HttpResponse response, bool close);
    QByteArray buildHead(int status,
                         const HttpHeaders &headers,
                         qint64 contentLength,
                         bool chunked,
                         bool close) const;
    void responseDone(bool close);
    void resetRequest();
    void startClosing();
    void halfClose();

    HttpServer *m_server;
    QTcpSocket *m_socket;
    quint64 m_id;
    HttpServerLimits m_limits;
    QTimer m_timer;
    State m_state = State::WaitRequest;
    bool m_inProcess = false;
    bool m_processScheduled = false;

    QByteArray m_in;
    qsizetype m_pos = 0;

    // The request being read.
    HttpRequest m_request;
    qint64 m_headerBytes = 0;
    int m_emptyLines = 0;
    bool m_sawRequestLine = false;
    bool m_chunked = false;
    qint64 m_contentLength = 0;
    qint64 m_bodyReceived = 0;
    quint64 m_chunkRemaining = 0;
    bool m_expectContinue = false;
    bool m_closeAfter = false;
    bool m_isHead = false;
    int m_versionMinor = 1;
    HttpServer::Handler m_handler;
    // Set when the request has no route: its body is read and dropped, then this is answered.
    int m_pendingErrorStatus = 0;
    QString m_pendingErrorReason;
    QByteArray m_pendingAllow;

    // The request being answered.
    quint64 m_seq = 0;
    bool m_streamChunked = false;
    std::function<void()> m_closedCallback;
};

HttpConnection::HttpConnection(HttpServer *server, QTcpSocket *socket, quint64 id)
    : QObject(server)
    , m_server(server)
    , m_socket(socket)
    , m_id(id)
    , m_limits(server->limits())
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(kSocketReadBuffer);
    m_request.peerAddress = m_socket->peerAddress();
    m_request.peerPort = m_socket->peerPort();
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &HttpConnection::onTimeout);
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &HttpConnection::onBytesWritten);
    connect(m_socket, &QTcpSocket::disconnected, this, [this] { closeNow(true); });
    connect(m_socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError) {
        if (m_socket->state() == QAbstractSocket::UnconnectedState)
            closeNow(true);
    });
    m_timer.start(m_limits.idleTimeoutMs);
    if (m_socket->bytesAvailable() > 0)
        scheduleProcessInput();
}

bool HttpConnection::isReadingState() const
{
    switch (m_state) {
    case State::WaitRequest:
    case State::Head:
    case State::Body:
    case State::ChunkSize:
    case State::ChunkData:
    case State::ChunkEnd:
    case State::Trailers:
        return true;
    default:
        return false;
    }
}

void HttpConnection::onReadyRead()
{
    if (isReadingState()) {
        processInput();
    } else if (m_state == State::Closing || m_state == State::Lingering) {
        m_socket->skip(m_socket->bytesAvailable());
    }
    // Dispatched / Streaming: the bytes wait in the socket (bounded by its read buffer).
}

void HttpConnection::onBytesWritten()
{
    if (m_state == State::Closing && m_socket->bytesToWrite() == 0)
        halfClose();
}

void HttpConnection::onTimeout()
{
    switch (m_state) {
    case State::WaitRequest:
        qCDebug(lcNet) << "http: closing idle connection from" << m_request.peerAddress;
        startClosing();
        break;
    case State::Head:
    case State::Body:
    case State::ChunkSize:
    case State::ChunkData:
    case State::ChunkEnd:
    case State::Trailers:
        fail(408,
             QStringLiteral("the request was not received within %1 ms")
                 .arg(m_limits.readTimeoutMs));
        break;
    case State::Closing:
    case State::Lingering:
        closeNow(false);
        break;
    default:
        break;
    }
}

void HttpConnection::scheduleProcessInput()
{
    if (m_processScheduled)
        return;
    m_processScheduled = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_processScheduled = false;
            processInput();
        },
        Qt::QueuedConnection);
}

void HttpConnection::processInput()
{
    if (m_inProcess)
        return; // the running loop below picks the new state up
    m_inProcess = true;
    QPointer<HttpConnection> self(this);
    // step() reads body bytes from the socket itself; everything else goes through m_in.
    while (self && isReadingState()) {
        if (step())
            continue;
        if (!self || !isReadingState() || !fillFromSocket())
            break;
    }
    if (self)
        m_inProcess = false;
}

bool HttpConnection::fillFromSocket()
{
    const qint64 available = m_socket->bytesAvailable();
    if (available <= 0)
        return false;
    compactInput();
    const qsizetype old = m_in.size();
    m_in.resize(old + available);
    const qint64 n = m_socket->read(m_in.data() + old, available);
    m_in.resize(old + std::max<qint64>(n, 0));
    return n > 0;
}

void HttpConnection::compactInput()
{
    if (m_pos == 0)
        return;
    if (m_pos >= m_in.size()) {
        m_in.resize(0);
        m_pos = 0;
    } else if (m_pos > 64 * 1024 || m_pos > m_in.size() / 2) {
        m_in.remove(0, m_pos);
        m_pos = 0;
    }
}

HttpConnection::LineResult HttpConnection::takeLine(QByteArrayView *line, qint64 budget)
{
    const qsizetype nl = m_in.indexOf('\n', m_pos);
    if (nl < 0)
        return m_in.size() - m_pos > budget ? LineResult::TooLong : LineResult::NeedMore;
    const qsizetype length = nl + 1 - m_pos;
    if (length > budget)
        return LineResult::TooLong;
    QByteArrayView v(m_in.constData() + m_pos, nl - m_pos);
    if (!v.isEmpty() && v.back() == '\r')
        v.chop(1);
    m_pos = nl + 1;
    *line = v;
    return LineResult::Line;
}

bool HttpConnection::step()
{
    const qsizetype available = m_in.size() - m_pos;
    switch (m_state) {
    case State::WaitRequest:
        if (available <= 0)
            return false;
        m_state = State::Head;
        m_timer.start(m_limits.readTimeoutMs); // the whole head must arrive within this
        return true;

    case State::Head:
    case State::Trailers: {
        QByteArrayView line;
        const qint64 budget = m_limits.maxHeaderBytes - m_headerBytes;
        const qsizetype before = m_pos;
        switch (takeLine(&line, budget)) {
        case LineResult::NeedMore:
            return false;
        case LineResult::TooLong:
            if (m_state == State::Head && !m_sawRequestLine)
                fail(414,
                     QStringLiteral("the request line exceeds %1 bytes")
                         .arg(m_limits.maxHeaderBytes));
            else
                fail(431,
                     QStringLiteral("the request header fields exceed %1 bytes")
                         .arg(m_limits.maxHeaderBytes));
            return true;
        case LineResult::Line:
            break;
        }
        m_headerBytes += m_pos - before;
        if (line.contains('\r')) {
            fail(400, QStringLiteral("bare CR in the request head"));
            return true;
        }
        if (m_state == State::Trailers) {
            if (line.isEmpty()) {
                dispatch();
                return true;
            }
            if (!parseFieldLine(line, &m_request.trailers))
                return true;
            return true;
        }
        if (!m_sawRequestLine) {
            if (line.isEmpty() && ++m_emptyLines <= kMaxLeadingEmptyLines)
                return true;
            if (!parseRequestLine(line))
                return true;
            m_sawRequestLine = true;
            return true;
        }
        if (line.isEmpty()) {
            onHeadComplete();
            return true;
        }
        parseFieldLine(line, &m_request.headers);
        return true;
    }

    case State::Body: {
        if (consumeBody(m_contentLength - m_bodyReceived) <= 0)
            return false;
        if (m_bodyReceived == m_contentLength)
            dispatch();
        return true;
    }

    case State::ChunkSize: {
        QByteArrayView line;
        switch (takeLine(&line, kMaxChunkSizeLine)) {
        case LineResult::NeedMore:
            return false;
        case LineResult::TooLong:
            fail(400,
                 QStringLiteral("chunk size line longer than %1 bytes").arg(kMaxChunkSizeLine));
            return true;
        case LineResult::Line:
            break;
        }
        quint64 size = 0;
        qsizetype i = 0;
        for (; i < line.size() && hexDigit(line[i]) >= 0; ++i) {
            if (i >= 15) {
                fail(400, QStringLiteral("chunk size too large"));
                return true;
            }
            size = size * 16 + quint64(hexDigit(line[i]));
        }
        const QByteArrayView rest = trimmedView(line.sliced(i));
        if (i == 0 || (!rest.isEmpty() && rest.front() != ';') || !isFieldValue(rest)) {
            fail(400,
                 QStringLiteral("invalid chunk size line \"%1\"")
                     .arg(latin(line.first(std::min<qsizetype>(line.size(), 40)))));
            return true;
        }
        if (size == 0) {
            m_state = State::Trailers;
            return true;
        }
        if (quint64(m_bodyReceived) + size > quint64(m_limits.maxBodyBytes)) {
            fail(413,
                 QStringLiteral("the body exceeds the limit of %1 bytes")
                     .arg(m_limits.maxBodyBytes));
            return true;
        }
        m_chunkRemaining = size;
        m_state = State::ChunkData;
        return true;
    }

    case State::ChunkData: {
        if (consumeBody(qint64(m_chunkRemaining)) <= 0)
            return false;
        return true; // consumeBody moves on to ChunkEnd
    }

    case State::ChunkEnd: {
        if (available < 1)
            return false;
        const char c = m_in.at(m_pos);
        if (c == '\n') {
            m_pos += 1;
        } else if (c == '\r') {
            if (available < 2)
                return false;
            if (m_in.at(m_pos + 1) != '\n') {
                fail(400, QStringLiteral("chunk data not followed by CRLF"));
                return true;
            }
            m_pos += 2;
        } else {
            fail(400, QStringLiteral("chunk data longer than its chunk size"));
            return true;
        }
        m_state = State::ChunkSize;
        return true;
    }

    default:
        return false;
    }
}

bool HttpConnection::parseRequestLine(QByteArrayView line)
{
    const qsizetype sp1 = line.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) {
        fail(400, QStringLiteral("malformed request line"));
        return false;
    }
    const QByteArrayView method = line.first(sp1);
    const QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = line.sliced(sp2 + 1);
    if (!isToken(method)) {
        fail(400, QStringLiteral("malformed request method"));
        return false;
    }
    if (version == "HTTP/1.1") {
        m_versionMinor = 1;
    } else if (version == "HTTP/1.0") {
        m_versionMinor = 0;
    } else if (version.size() == 8 && version.startsWith("HTTP/") && version[5] >= '0'
               && version[5] <= '9' && version[6] == '.' && version[7] >= '0'
               && version[7] <= '9') {
        fail(505, QStringLiteral("HTTP version %1 is not supported").arg(latin(version)));
        return false;
    } else {
        fail(400, QStringLiteral("malformed HTTP version"));
        return false;
    }
    const bool targetOk
        = !target.isEmpty() && std::all_of(target.begin(), target.end(), [](char c) {
              const auto u = static_cast<unsigned char>(c);
              return u > 0x20 && u != 0x7f;
          });
    if (!targetOk) {
        fail(400, QStringLiteral("malformed request target"));
        return false;
    }
    m_request.method = method.toByteArray();
    m_request.target = target.toByteArray();
    m_request.versionMinor = m_versionMinor;
    m_isHead = method == "HEAD";

    QByteArrayView pathAndQuery = target;
    if (const qsizetype hash = pathAndQuery.indexOf('#'); hash >= 0)
        pathAndQuery = pathAndQuery.first(hash);
    if (pathAndQuery.isEmpty()) {
        fail(400, QStringLiteral("malformed request target"));
        return false;
    }
    if (pathAndQuery.front() == '/') {
        // origin-form
    } else if (pathAndQuery == "*" && method == "OPTIONS") {
        // asterisk-form
    } else if (qstrnicmp(
                   pathAndQuery.data(), std::min<qsizetype>(pathAndQuery.size(), 7), "http://", 7)
                   == 0
               || qstrnicmp(pathAndQuery.data(),
                            std::min<qsizetype>(pathAndQuery.size(), 8),
                            "https://",
                            8)
                      == 0) {
        // absolute-form: keep what follows the authority
        const qsizetype schemeEnd = pathAndQuery.indexOf("://") + 3;
        const qsizetype slash = pathAndQuery.indexOf('/', schemeEnd);
        const qsizetype question = pathAndQuery.indexOf('?', schemeEnd);
        if (slash >= 0 && (question < 0 || slash < question))
            pathAndQuery = pathAndQuery.sliced(slash);
        else
            pathAndQuery = question >= 0 ? pathAndQuery.sliced(question) : QByteArrayView("/");
        if (pathAndQuery.front() == '?') {
            m_request.path = QByteArrayLiteral("/");
            m_request.query = pathAndQuery.sliced(1).toByteArray();
            return true;
        }
    } else {
        fail(400, QStringLiteral("unsupported request target form"));
        return false;
    }
    const qsizetype question = pathAndQuery.indexOf('?');
    if (question >= 0) {
        m_request.path = pathAndQuery.first(question).toByteArray();
        m_request.query = pathAndQuery.sliced(question + 1).toByteArray();
    } else {
        m_request.path = pathAndQuery.toByteArray();
    }
    return true;
}

bool HttpConnection::parseFieldLine(QByteArrayView line, HttpHeaders *into)
{
    if (line.front() == ' ' || line.front() == '\t') {
        fail(400, QStringLiteral("obsolete header line folding"));
        return false;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0 || !isToken(line.first(colon))) {
        fail(400,
             QStringLiteral("malformed header field \"%1\"")
                 .arg(latin(line.first(std::min<qsizetype>(line.size(), 40)))));
        return false;
    }
    const QByteArrayView value = trimmedView(line.sliced(colon + 1));
    if (!isFieldValue(value)) {
        fail(400,
             QStringLiteral("control character in header field %1").arg(latin(line.first(colon))));
        return false;
    }
    into->append(line.first(colon).toByteArray(), value.toByteArray());
    return true;
}

void HttpConnection::onHeadComplete()
{
    const HttpHeaders &h = m_request.headers;
    if (m_versionMinor >= 1 && h.count("Host") != 1) {
        fail(400, QStringLiteral("an HTTP/1.1 request needs exactly one Host header"));
        return;
    }
    if (h.hasToken("Connection", "close"))
        m_closeAfter = true;
    else if (m_versionMinor == 0 && !h.hasToken("Connection", "keep-alive"))
        m_closeAfter = true;

    // Message framing (RFC 9112 section 6). Both framings at once is how requests get smuggled:
    // refuse it.
    if (h.contains("Transfer-Encoding")) {
        if (h.contains("Content-Length")) {
            fail(400, QStringLiteral("both Transfer-Encoding and Content-Length"));
            return;
        }
        QList<QByteArray> codings;
        for (const QByteArray &v : h.values("Transfer-Encoding")) {
            for (const QByteArray &item : v.split(','))
                codings.append(item.trimmed().toLower());
        }
        codings.removeAll(QByteArray());
        if (codings.isEmpty() || codings.last() != "chunked") {
            fail(400, QStringLiteral("the final transfer coding of a request must be chunked"));
            return;
        }
        if (codings.size() != 1) {
            fail(501,
                 QStringLiteral("transfer coding \"%1\" is not supported")
                     .arg(QString::fromLatin1(codings.first())));
            return;
        }
        m_chunked = true;
    } else if (h.contains("Content-Length")) {
        qint64 length = -1;
        for (const QByteArray &v : h.values("Content-Length")) {
            for (const QByteArray &item : v.split(',')) {
                const QByteArray digits = item.trimmed();
                bool ok = !digits.isEmpty() && digits.size() <= 18
                          && std::all_of(digits.begin(), digits.end(), [](char c) {
                                 return c >= '0' && c <= '9';
                             });
                const qint64 n = ok ? digits.toLongLong(&ok) : -1;
                if (!ok || (length >= 0 && n != length)) {
                    fail(400, QStringLiteral("invalid Content-Length"));
                    return;
                }
                length = n;
            }
        }
        m_contentLength = length;
    }

    if (h.contains("Expect")) {
        if (h.count("Expect") != 1 || !equalsIgnoringCase(h.value("Expect"), "100-continue")) {
            fail(417,
                 QStringLiteral("unsupported expectation \"%1\"")
                     .arg(QString::fromLatin1(h.value("Expect"))));
            return;
        }
        m_expectContinue = m_versionMinor >= 1;
    }

    const bool hasBody = m_chunked || m_contentLength > 0;
    if (m_contentLength > m_limits.maxBodyBytes) {
        fail(413,
             QStringLiteral("Content-Length %1 exceeds the limit of %2 bytes")
                 .arg(m_contentLength)
                 .arg(m_limits.maxBodyBytes));
        return;
    }

    HttpServer::RouteMatch match = HttpServer::RouteMatch::NoPath;
    QByteArray allow;
    const HttpServer::Route *route = m_server->findRoute(m_request, &match, &allow);
    if (!route) {
        const int status = match == HttpServer::RouteMatch::NoMethod ? 405 : 404;
        const QString reason = status == 405
                                   ? QStringLiteral("method %1 is not allowed on %2")
                                         .arg(latin(m_request.method), latin(m_request.path))
                                   : QStringLiteral("no resource at %1").arg(latin(m_request.path));
        if (!hasBody || !m_expectContinue) {
            // Read the body (without keeping it) so the connection stays usable.
            m_pendingErrorStatus = status;
            m_pendingErrorReason = reason;
            m_pendingAllow = allow;
            startBody();
            return;
        }
        HttpResponse r = m_server->errorResponse(m_request, status, reason);
        if (!allow.isEmpty())
            r.headers.set(QByteArrayLiteral("Allow"), allow);
        sendResponse(std::move(r), true);
        return;
    }
    HttpServer::Handler handler = route->handler;
    if (const HttpServer::HeadCheck check = route->check) {
        QPointer<HttpConnection> self(this);
        std::optional<HttpResponse> refused = check(m_request);
        if (!self || m_state != State::Head)
            return;
        if (refused) {
            // Do not read a body we already refused; the connection cannot go on without it.
            sendResponse(std::move(*refused), m_closeAfter || hasBody);
            return;
        }
    }
    m_handler = std::move(handler);
    startBody();
}

void HttpConnection::startBody()
{
    const bool hasBody = m_chunked || m_contentLength > 0;
    if (hasBody && m_expectContinue && m_pendingErrorStatus == 0)
        m_socket->write(QByteArrayLiteral("HTTP/1.1 100 Continue\r\n\r\n"));
    if (m_chunked) {
        m_state = State::ChunkSize;
    } else if (m_contentLength > 0) {
        if (m_pendingErrorStatus == 0)
            m_request.body.reserve(std::min(m_contentLength, kInitialBodyReserve));
        m_state = State::Body;
    } else {
        dispatch();
        return;
    }
    m_timer.start(m_limits.readTimeoutMs);
}

qint64 HttpConnection::consumeBody(qint64 want)
{
    const bool keep = m_pendingErrorStatus == 0;
    qint64 got = 0;
    const qint64 fromBuffer = std::min<qint64>(want, m_in.size() - m_pos);
    if (fromBuffer > 0) {
        if (keep)
            m_request.body.append(m_in.constData() + m_pos, fromBuffer);
        m_pos += fromBuffer;
        got += fromBuffer;
    }
    if (got < want && m_pos >= m_in.size()) {
        // Large bodies go straight from the socket into the request, without the line buffer.
        const qint64 n = std::min(want - got, m_socket->bytesAvailable());
        if (n > 0) {
            if (keep) {
                const qsizetype old = m_request.body.size();
                m_request.body.resize(old + n);
                const qint64 r = m_socket->read(m_request.body.data() + old, n);
                m_request.body.resize(old + std::max<qint64>(r, 0));
                got += std::max<qint64>(r, 0);
            } else {
                got += std::max<qint64>(m_socket->skip(n), 0);
            }
        }
    }
    if (got > 0) {
        m_bodyReceived += got;
        m_timer.start(m_limits.readTimeoutMs); // the body must keep moving
        if (m_state == State::ChunkData) {
            m_chunkRemaining -= quint64(got);
            if (m_chunkRemaining == 0)
                m_state = State::ChunkEnd;
        }
    }
    return got;
}

void HttpConnection::dispatch()
{
    m_timer.stop();
    if (m_pendingErrorStatus != 0) {
        HttpResponse r
            = m_server->errorResponse(m_request, m_pendingErrorStatus, m_pendingErrorReason);
        if (!m_pendingAllow.isEmpty())
            r.headers.set(QByteArrayLiteral("Allow"), m_pendingAllow);
        sendResponse(std::move(r), m_closeAfter);
        return;
    }
    m_state = State::Dispatched;
    ++m_seq;
    HttpRequest request = std::move(m_request);
    m_request = HttpRequest();
    m_request.peerAddress = request.peerAddress;
    m_request.peerPort = request.peerPort;
    HttpServer::Handler handler = std::move(m_handler);
    m_handler = nullptr;
    handler(std::move(request), HttpResponder(m_server, m_id, m_seq));
}

void HttpConnection::fail(int status, const QString &reason)
{
    sendResponse(m_server->errorResponse(m_request, status, reason), true);
}

QByteArray HttpConnection::buildHead(
    int status, const HttpHeaders &headers, qint64 contentLength, bool chunked, bool close) const
{
    QByteArray out;
    out.reserve(256);
    out += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    for (const HttpHeaders::Entry &e : headers.entries()) {
        if (equalsIgnoringCase(e.first, "Content-Length")
            || equalsIgnoringCase(e.first, "Transfer-Encoding")
            || equalsIgnoringCase(e.first, "Connection"))
            continue;
        if (!isToken(e.first) || !isFieldValue(e.second)) {
            qCWarning(lcNet) << "http: dropping a malformed response header" << e.first;
            continue;
        }
        out += e.first + ": " + e.second + "\r\n";
    }
    if (contentLength >= 0)
        out += "Content-Length: " + QByteArray::number(contentLength) + "\r\n";
    if (chunked)
        out += "Transfer-Encoding: chunked\r\n";
    if (close)
        out += "Connection: close\r\n";
    else if (m_versionMinor == 0)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
    return out;
}

void HttpConnection::sendResponse(HttpResponse response, bool close)
{
    if (m_state == State::Closed || m_state == State::Closing || m_state == State::Lingering)
        return;
    close = close || m_closeAfter || response.headers.hasToken("Connection", "close");
    const bool bodyless = isBodylessStatus(response.status);
    QByteArray head = buildHead(
        response.status, response.headers, bodyless ? -1 : response.body.size(), false, close);
    if (bodyless || m_isHead || response.body.isEmpty()) {
        m_socket->write(head);
    } else if (response.body.size() <= 16 * 1024) {
        head += response.body;
        m_socket->write(head);
    } else {
        m_socket->write(head);
        m_socket->write(response.body);
    }
    responseDone(close);
}

void HttpConnection::responseDone(bool close)
{
    m_closedCallback = nullptr;
    if (close) {
        startClosing();
        return;
    }
    resetRequest();
    m_state = State::WaitRequest;
    m_timer.start(m_limits.idleTimeoutMs);
    if (!m_inProcess)
        scheduleProcessInput();
}

void HttpConnection::resetRequest()
{
    const QHostAddress peer = m_request.peerAddress;
    const quint16 peerPort = m_request.peerPort;
    m_request = HttpRequest();
    m_request.peerAddress = peer;
    m_request.peerPort = peerPort;
    m_headerBytes = 0;
    m_emptyLines = 0;
    m_sawRequestLine = false;
    m_chunked = false;
    m_contentLength = 0;
    m_bodyReceived = 0;
    m_chunkRemaining = 0;
    m_expectContinue = false;
    m_closeAfter = false;
    m_isHead = false;
    m_versionMinor = 1;
    m_handler = nullptr;
    m_pendingErrorStatus = 0;
    m_pendingErrorReason.clear();
    m_pendingAllow.clear();
    m_streamChunked = false;
}

void HttpConnection::startClosing()
{
    m_state = State::Closing;
    m_handler = nullptr;
    m_in.clear();
    m_pos = 0;
    m_timer.start(m_limits.readTimeoutMs); // a client that never reads our answer
    if (m_socket->bytesToWrite() == 0)
        halfClose();
}

void HttpConnection::halfClose()
{
    m_state = State::Lingering;
    m_timer.start(std::min(kLingerMs, m_limits.readTimeoutMs));
#ifdef Q_OS_UNIX
    // Send FIN but keep reading: closing with unread input would reset the connection and the
    // client could lose the answer it has not read yet (a 413 sent mid-upload, for one).
    if (m_socket->socketDescriptor() >= 0
        && ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR) == 0) {
        m_socket->skip(m_socket->bytesAvailable());
        return;
    }
#endif
    m_socket->disconnectFromHost();
}

void HttpConnection::closeNow(bool notify)
{
    if (m_state == State::Closed)
        return;
    const State previous = m_state;
    m_state = State::Closed;
    m_timer.stop();
    disconnect(m_socket, nullptr, this, nullptr);
    m_socket->abort();
    std::function<void()> callback = std::move(m_closedCallback);
    m_closedCallback = nullptr;
    m_handler = nullptr;
    m_server->connectionClosed(m_id);
    deleteLater();
    if (notify && callback && (previous == State::Dispatched || previous == State::Streaming))
        callback();
}

void HttpConnection::abandon()
{
    m_state = State::Closed;
    m_timer.stop();
    disconnect(m_socket, nullptr, this, nullptr);
    m_socket->abort();
    m_closedCallback = nullptr;
    m_handler = nullptr;
}

bool HttpConnection::isAnswering(quint64 seq) const
{
    return seq == m_seq && (m_state == State::Dispatched || m_state == State::Streaming);
}

bool HttpConnection::respond(quint64 seq, HttpResponse response)
{
    if (seq != m_seq || m_state != State::Dispatched)
        return false;
    sendResponse(std::move(response), false);
    return true;
}

bool HttpConnection::beginStream(quint64 seq, int status, const HttpHeaders &headers)
{
    if (seq != m_seq || m_state != State::Dispatched)
        return false;
    m_streamChunked = m_versionMinor >= 1;
    if (!m_streamChunked || headers.hasToken("Connection", "close"))
        m_closeAfter = true;
    m_socket->write(buildHead(status, headers, -1, m_streamChunked && !m_isHead, m_closeAfter));
    m_state = State::Streaming;
    return true;
}

bool HttpConnection::write(quint64 seq, const QByteArray &data)
{
    if (seq != m_seq || m_state != State::Streaming)
        return false;
    if (data.isEmpty() || m_isHead)
        return true;
    if (m_streamChunked) {
        QByteArray framed = QByteArray::number(data.size(), 16);
        framed.reserve(framed.size() + data.size() + 4);
        framed += "\r\n";
        framed += data;
        framed += "\r\n";
        m_socket->write(framed);
    } else {
        m_socket->write(data);
    }
    return true;
}

bool HttpConnection::finish(quint64 seq)
{
    if (seq != m_seq || m_state != State::Streaming)
        return false;
    if (m_streamChunked && !m_isHead)
        m_socket->write(QByteArrayLiteral("0\r\n\r\n"));
    responseDone(m_closeAfter);
    return true;
}

qint64 HttpConnection::bytesPending(quint64 seq) const
{
    return isAnswering(seq) ? m_socket->bytesToWrite() : 0;
}

void HttpConnection::setClosedCallback(quint64 seq, std::function<void()> callback)
{
    if (isAnswering(seq))
        m_closedCallback = std::move(callback);
}

// --- HttpServer ---------------------------------------------------------------------------

HttpServer::HttpServer(QObject *parent)
    : QObject(parent)
    , m_tcp(new QTcpServer(this))
{
    connect(m_tcp, &QTcpServer::newConnection, this, &HttpServer::onNewConnection);
}

HttpServer::~HttpServer()
{
    const QList<HttpConnection *> connections = m_connections.values();
    m_connections.clear();
    for (HttpConnection *c : connections)
        c->abandon();
}

void HttpServer::setLimits(const HttpServerLimits &limits)
{
    m_limits = limits;
}

Result<void> HttpServer::listen(const QHostAddress &address, quint16 port)
{
    if (m_tcp->isListening())
        m_tcp->close();
    if (!m_tcp->listen(address, port)) {
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot listen on %1:%2: %3")
                             .arg(address.toString())
                             .arg(port)
                             .arg(m_tcp->errorString()));
    }
    return {};
}

void HttpServer::close()
{
    m_tcp->close();
    const QList<HttpConnection *> connections = m_connections.values();
    for (HttpConnection *c : connections)
        c->closeNow(true);
}

bool HttpServer::isListening() const
{
    return m_tcp->isListening();
}

quint16 HttpServer::port() const
{
    return m_tcp->serverPort();
}

QHostAddress HttpServer::address() const
{
    return m_tcp->serverAddress();
}

void HttpServer::route(QByteArray method, QByteArray path, Handler handler, HeadCheck check)
{
    m_routes.push_back(
        Route{std::move(method), std::move(path), false, std::move(handler), std::move(check)});
}

void HttpServer::routePrefix(QByteArray method, QByteArray prefix, Handler handler, HeadCheck check)
{
    m_routes.push_back(
        Route{std::move(method), std::move(prefix), true, std::move(handler), std::move(check)});
}

void HttpServer::setErrorPage(ErrorPage page)
{
    m_errorPage = std::move(page);
}

void HttpServer::onNewConnection()
{
    while (QTcpSocket *socket = m_tcp->nextPendingConnection()) {
        if (m_connections.size() >= m_limits.maxConnections) {
            qCWarning(lcNet) << "http: refusing a connection from" << socket->peerAddress()
                             << "- already" << m_connections.size() << "open";
            socket->abort();
            socket->deleteLater();
            continue;
        }
        const quint64 id = m_nextConnectionId++;
        m_connections.insert(id, new HttpConnection(this, socket, id));
    }
}

const HttpServer::Route *
HttpServer::findRoute(const HttpRequest &head, RouteMatch *match, QByteArray *allow) const
{
    const Route *exact = nullptr;
    const Route *prefix = nullptr;
    QList<QByteArray> methods;
    for (const Route &r : m_routes) {
        const bool pathMatches = r.prefix ? head.path.startsWith(r.path) : head.path == r.path;
        if (!pathMatches)
            continue;
        if (r.method != head.method) {
            if (!methods.contains(r.method))
                methods.append(r.method);
            continue;
        }
        if (!r.prefix && !exact)
            exact = &r;
        else if (r.prefix && (!prefix || r.path.size() > prefix->path.size()))
            prefix = &r;
    }
    const Route *found = exact ? exact : prefix;
    if (found) {
        *match = RouteMatch::Found;
        return found;
    }
    *match = methods.isEmpty() ? RouteMatch::NoPath : RouteMatch::NoMethod;
    *allow = methods.join(", ");
    return nullptr;
}

HttpResponse
HttpServer::errorResponse(const HttpRequest &head, int status, const QString &reason) const
{
    qCDebug(lcNet).noquote() << "http:" << status << head.peerAddress.toString() << head.method
                             << head.path << "-" << reason;
    if (m_errorPage)
        return m_errorPage(head, status, reason);
    return HttpResponse::make(status,
                              QByteArrayLiteral("text/plain; charset=utf-8"),
                              QByteArray::number(status) + ' ' + reasonPhrase(status) + ": "
                                  + reason.toUtf8() + '\n');
}

void HttpServer::connectionClosed(quint64 id)
{
    m_connections.remove(id);
}

HttpConnection *HttpServer::connectionFor(quint64 connectionId) const
{
    return m_connections.value(connectionId, nullptr);
}

// --- HttpResponder -------------------------------------------------------------------------

HttpResponder::HttpResponder(HttpServer *server, quint64 connectionId, quint64 requestSeq)
    : m_server(server)
    , m_connectionId(connectionId)
    , m_requestSeq(requestSeq)
{}

HttpConnection *HttpResponder::connection() const
{
    if (!m_server)
        return nullptr;
    Q_ASSERT_X(QThread::currentThread() == m_server->thread(),
               "HttpResponder",
               "use a responder on its server's thread only");
    return m_server->connectionFor(m_connectionId);
}

bool HttpResponder::isOpen() const
{
    HttpConnection *c = connection();
    return c && c->isAnswering(m_requestSeq);
}

bool HttpResponder::respond(HttpResponse response)
{
    HttpConnection *c = connection();
    return c && c->respond(m_requestSeq, std::move(response));
}

bool HttpResponder::respond(int status, QByteArray contentType, QByteArray body)
{
    return respond(HttpResponse::make(status, std::move(contentType), std::move(body)));
}

bool HttpResponder::beginStream(int status, HttpHeaders headers)
{
    HttpConnection *c = connection();
    return c && c->beginStream(m_requestSeq, status, headers);
}

bool HttpResponder::write(QByteArray data)
{
    HttpConnection *c = connection();
    return c && c->write(m_requestSeq, data);
}

bool HttpResponder::finish()
{
    HttpConnection *c = connection();
    return c && c->finish(m_requestSeq);
}

qint64 HttpResponder::bytesPending() const
{
    HttpConnection *c = connection();
    return c ? c->bytesPending(m_requestSeq) : 0;
}

void HttpResponder::onClosed(std::function<void()> callback)
{
    if (HttpConnection *c = connection())
        c->setClosedCallback(m_requestSeq, std::move(callback));
}

} // namespace Breaker::Net
