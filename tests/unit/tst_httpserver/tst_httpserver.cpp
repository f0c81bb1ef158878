#include "connectors/net/HttpServer.h"

#include <QCoreApplication>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <deque>
#include <memory>

using namespace Breaker::Net;

namespace {

struct ParsedResponse
{
    int status = 0;
    QByteArray reason;
    HttpHeaders headers;
    QByteArray body;
};

// A raw loopback client: exact bytes out, everything received kept in `received`.
class RawClient
{
public:
    explicit RawClient(quint16 port)
    {
        QObject::connect(
            &m_socket, &QTcpSocket::readyRead, [this] { received += m_socket.readAll(); });
        QObject::connect(&m_socket, &QTcpSocket::disconnected, [this] { disconnected = true; });
        m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    }

    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    QTcpSocket &socket() { return m_socket; }

    void send(const QByteArray &bytes)
    {
        // Before the connection is up, QTcpSocket keeps the bytes and sends them once connected.
        m_socket.write(bytes);
        if (isConnected())
            m_socket.flush();
    }

    // True once a complete response is there (parsed and removed from `received`); free of
    // side effects when called again, as QTRY_VERIFY does. headRequest: the response has no
    // body whatever its headers say.
    bool ready(bool headRequest = false)
    {
        if (!m_ready.empty())
            return true;
        ParsedResponse r;
        if (!parseOne(&r, headRequest))
            return false;
        m_ready.push_back(r);
        return true;
    }

    ParsedResponse next()
    {
        ParsedResponse r = m_ready.front();
        m_ready.pop_front();
        return r;
    }

    QByteArray received;
    bool disconnected = false;

private:
    bool parseOne(ParsedResponse *out, bool headRequest)
    {
        const qsizetype end = received.indexOf("\r\n\r\n");
        if (end < 0)
            return false;
        const QList<QByteArray> lines = received.left(end).split('\n');
        const QByteArray statusLine = lines.first().trimmed();
        if (!statusLine.startsWith("HTTP/1.1 "))
            return false;
        ParsedResponse r;
        r.status = statusLine.mid(9, 3).toInt();
        r.reason = statusLine.mid(13);
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines[i].trimmed();
            const qsizetype colon = line.indexOf(':');
            r.headers.append(line.left(colon), line.mid(colon + 1).trimmed());
        }
        qsizetype pos = end + 4;
        const bool bodyless = headRequest || r.status < 200 || r.status == 204 || r.status == 304;
        if (bodyless) {
            // nothing
        } else if (r.headers.hasToken("Transfer-Encoding", "chunked")) {
            for (;;) {
                const qsizetype nl = received.indexOf("\r\n", pos);
                if (nl < 0)
                    return false;
                bool ok = false;
                const qint64 size
                    = received.mid(pos, nl - pos).split(';').first().toLongLong(&ok, 16);
                if (!ok)
                    return false;
                if (size == 0) {
                    const qsizetype trailerEnd = received.indexOf("\r\n", nl + 2);
                    if (trailerEnd != nl + 2)
                        return false; // the test server sends no trailers
                    pos = trailerEnd + 2;
                    break;
                }
                if (received.size() < nl + 2 + size + 2)
                    return false;
                r.body += received.mid(nl + 2, size);
                pos = nl + 2 + size + 2;
            }
        } else if (r.headers.contains("Content-Length")) {
            const qint64 length = r.headers.value("Content-Length").toLongLong();
            if (received.size() < pos + length)
                return false;
            r.body = received.mid(pos, length);
            pos += length;
        } else {
            if (!disconnected)
                return false; // close-delimited
            r.body = received.mid(pos);
            pos = received.size();
        }
        received.remove(0, pos);
        *out = r;
        return true;
    }

    std::deque<ParsedResponse> m_ready;
    QTcpSocket m_socket;
};

QByteArray get(const QByteArray &path, const QByteArray &extra = {})
{
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

QByteArray post(const QByteArray &path, const QByteArray &body, const QByteArray &extra = {})
{
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
           + QByteArray::number(body.size()) + "\r\n" + extra + "\r\n" + body;
}

} // namespace

#define QTRY_TAKE(client, response)                                                                \
    QTRY_VERIFY((client)->ready());                                                                \
    response = (client)->next()

class tst_HttpServer : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void contentLengthBody();
    void headerNamesAreCaseInsensitive();
    void chunkedBody_data();
    void chunkedBody();
    void expectContinue();
    void pipelinedRequestsAreAnsweredInOrder();
    void keepAliveThenClose();
    void http10ClosesByDefault();
    void headRequestHasNoBody();
    void unknownPathAndMethod();
    void notFoundBodyIsDiscardedAndConnectionKept();
    void oversizedHeader();
    void oversizedBody_data();
    void oversizedBody();
    void malformedRequests_data();
    void malformedRequests();
    void stalledClientIsDropped();
    void idleKeepAliveIsClosed();
    void headCheckRefusesBeforeTheBody();
    void handlerAnswersLater();
    void streamingResponse();
    void streamingOverHttp10IsCloseDelimited();
    void clientDisconnectBeforeAsyncAnswer();
    void serverDestroyedBeforeAsyncAnswer();
    void answerTwiceIsRefused();

private:
    void startServer(const HttpServerLimits &limits = {});
    std::unique_ptr<RawClient> connectClient();

    std::unique_ptr<HttpServer> m_server;
    int m_echoCalls = 0;
    std::vector<HttpResponder> m_parked; // for handlers that answer later
    QList<QByteArray> m_parkedPaths;
};

void tst_HttpServer::init()
{
    m_echoCalls = 0;
    m_parked.clear();
    m_parkedPaths.clear();
}

void tst_HttpServer::cleanup()
{
    m_parked.clear();
    m_server.reset();
}

void tst_HttpServer::startServer(const HttpServerLimits &limits)
{
    m_server = std::make_unique<HttpServer>();
    m_server->setLimits(limits);
    auto echo = [this](HttpRequest request, HttpResponder responder) {
        ++m_echoCalls;
        HttpResponse r = HttpResponse::make(200, "application/octet-stream", request.body);
        r.headers.append("X-Method", request.method);
        r.headers.append("X-Path", request.path);
        r.headers.append("X-Query", request.query);
        r.headers.append("X-Probe", request.header("x-probe"));
        r.headers.append("X-Trailer", request.trailers.value("x-checksum"));
        r.headers.append("X-Body-Size", QByteArray::number(request.body.size()));
        responder.respond(r);
    };
    m_server->route("POST", "/echo", echo);
    m_server->route("GET", "/echo", echo);
    m_server->route("HEAD", "/echo", echo);
    m_server->route("GET", "/a", [](HttpRequest, HttpResponder responder) {
        responder.respond(200, "text/plain", "A");
    });
    m_server->route("HEAD", "/a", [](HttpRequest, HttpResponder responder) {
        responder.respond(200, "text/plain", "A");
    });
    m_server->route("GET", "/b", [](HttpRequest, HttpResponder responder) {
        responder.respond(200, "text/plain", "B");
    });
    m_server->route("GET", "/park", [this](HttpRequest request, HttpResponder responder) {
        m_parked.push_back(responder);
        m_parkedPaths.append(request.path);
    });
    m_server->route(
        "POST",
        "/guarded",
        [this](HttpRequest, HttpResponder responder) {
            ++m_echoCalls;
            responder.respond(200, "text/plain", "in");
        },
        [](const HttpRequest &head) -> std::optional<HttpResponse> {
            if (head.header("X-Key") == "open")
                return std::nullopt;
            return HttpResponse::make(401, "text/plain", "no key");
        });
    QVERIFY(m_server->listen(QHostAddress(QHostAddress::LocalHost), 0).ok());
    QVERIFY(m_server->port() != 0);
}

std::unique_ptr<RawClient> tst_HttpServer::connectClient()
{
    auto client = std::make_unique<RawClient>(m_server->port());
    return client;
}

void tst_HttpServer::contentLengthBody()
{
    startServer();
    auto c = connectClient();
    const QByteArray body = "hello, server\r\n\r\nwith a blank line inside";
    c->send(post("/echo?x=1&y=two", body, "X-Probe: p1\r\n"));
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.reason, QByteArray("OK"));
    QCOMPARE(r.body, body);
    QCOMPARE(r.headers.value("Content-Length"), QByteArray::number(body.size()));
    QCOMPARE(r.headers.value("X-Method"), QByteArray("POST"));
    QCOMPARE(r.headers.value("X-Path"), QByteArray("/echo"));
    QCOMPARE(r.headers.value("X-Query"), QByteArray("x=1&y=two"));
    QCOMPARE(r.headers.value("X-Probe"), QByteArray("p1"));
    QVERIFY(!r.headers.contains("Date"));
    QVERIFY(!c->disconnected);
}

void tst_HttpServer::headerNamesAreCaseInsensitive()
{
    startServer();
    auto c = connectClient();
    c->send("POST /echo HTTP/1.1\r\nhOsT: x\r\nCONTENT-length: 3\r\nX-PROBE:   spaced value  "
            "\r\n\r\nabc");
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("abc"));
    QCOMPARE(r.headers.value("X-Probe"), QByteArray("spaced value"));
}

void tst_HttpServer::chunkedBody_data()
{
    QTest::addColumn<QByteArray>("encoded");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<int>("pieceSize"); // bytes per write, 0: all at once
    QTest::addColumn<QByteArray>("trailer");

    const QByteArray plain = "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
    QTest::newRow("one write") << plain << QByteArray("hello, world") << 0 << QByteArray();
    QTest::newRow("byte by byte") << plain << QByteArray("hello, world") << 1 << QByteArray();
    QTest::newRow("3-byte pieces") << plain << QByteArray("hello, world") << 3 << QByteArray();
    QTest::newRow("extensions") << QByteArray(
        "5;name=value\r\nhello\r\n7 ; a=\"quoted;text\" ;b\r\n, world\r\n0;last\r\n\r\n")
                                << QByteArray("hello, world") << 2 << QByteArray();
    QTest::newRow("uppercase hex, zero-padded size")
        << QByteArray("00A\r\n0123456789\r\n0\r\n\r\n") << QByteArray("0123456789") << 4
        << QByteArray();
    QTest::newRow("trailers") << QByteArray("3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-Other: y\r\n\r\n")
                              << QByteArray("abc") << 5 << QByteArray("42");
    QByteArray big;
    QByteArray bigEncoded;
    for (int i = 0; i < 200; ++i) {
        const QByteArray piece = QByteArray(1000 + i, char('a' + i % 26));
        big += piece;
        bigEncoded += QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n";
    }
    bigEncoded += "0\r\n\r\n";
    QTest::newRow("200 chunks, 4 KiB writes") << bigEncoded << big << 4096 << QByteArray();
}

void tst_HttpServer::chunkedBody()
{
    QFETCH(QByteArray, encoded);
    QFETCH(QByteArray, expected);
    QFETCH(int, pieceSize);
    QFETCH(QByteArray, trailer);
    startServer();
    auto c = connectClient();
    QTRY_VERIFY(c->isConnected());
    const QByteArray all
        = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + encoded;
    if (pieceSize == 0) {
        c->send(all);
    } else {
        // Separate writes, each given to the server before the next, so the parser sees every
        // boundary split.
        for (qsizetype i = 0; i < all.size(); i += pieceSize) {
            c->send(all.mid(i, pieceSize));
            QCoreApplication::processEvents();
        }
    }
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body.size(), expected.size());
    QCOMPARE(r.body, expected);
    QCOMPARE(r.headers.value("X-Trailer"), trailer);
    // The connection goes on.
    c->send(get("/a"));
    QTRY_TAKE(c, r);
    QCOMPARE(r.body, QByteArray("A"));
}

void tst_HttpServer::expectContinue()
{
    startServer();
    auto c = connectClient();
    c->send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    ParsedResponse interim;
    QTRY_TAKE(c, interim);
    QCOMPARE(interim.status, 100);
    QCOMPARE(m_echoCalls, 0);
    c->send("body");
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("body"));

    // Over the limit: a final 413 instead of 100, and the body is never asked for.
    HttpServerLimits limits;
    limits.maxBodyBytes = 10;
    startServer(limits);
    auto c2 = connectClient();
    c2->send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n");
    QTRY_TAKE(c2, r);
    QCOMPARE(r.status, 413);
    QTRY_VERIFY(c2->disconnected);
}

void tst_HttpServer::pipelinedRequestsAreAnsweredInOrder()
{
    startServer();
    auto c = connectClient();
    c->send(get("/park") + post("/echo", "second") + get("/b"));
    QTRY_COMPARE(m_parked.size(), size_t(1));
    // The later requests wait for the first answer: nothing was dispatched, nothing sent.
    QCOMPARE(m_echoCalls, 0);
    QVERIFY(c->received.isEmpty());

    QVERIFY(m_parked.front().respond(200, "text/plain", "first"));
    ParsedResponse r1, r2, r3;
    QTRY_TAKE(c, r1);
    QTRY_TAKE(c, r2);
    QTRY_TAKE(c, r3);
    QCOMPARE(r1.body, QByteArray("first"));
    QCOMPARE(r2.body, QByteArray("second"));
    QCOMPARE(r3.body, QByteArray("B"));
    QCOMPARE(m_echoCalls, 1);
    QVERIFY(!c->disconnected);
}

void tst_HttpServer::keepAliveThenClose()
{
    startServer();
    auto c = connectClient();
    ParsedResponse r;
    c->send(get("/a"));
    QTRY_TAKE(c, r);
    QCOMPARE(r.body, QByteArray("A"));
    QVERIFY(!r.headers.contains("Connection"));
    c->send(post("/echo", "again"));
    QTRY_TAKE(c, r);
    QCOMPARE(r.body, QByteArray("again"));
    QCOMPARE(m_server->connectionCount(), 1);
    QVERIFY(!c->disconnected);

    c->send(get("/b", "Connection: close\r\n"));
    QTRY_TAKE(c, r);
    QCOMPARE(r.body, QByteArray("B"));
    QCOMPARE(r.headers.value("Connection"), QByteArray("close"));
    QTRY_VERIFY(c->disconnected);
    QTRY_COMPARE(m_server->connectionCount(), 0);
}

void tst_HttpServer::http10ClosesByDefault()
{
    startServer();
    auto c = connectClient();
    c->send("GET /a HTTP/1.0\r\n\r\n");
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.body, QByteArray("A"));
    QTRY_VERIFY(c->disconnected);

    auto k = connectClient();
    k->send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    QTRY_TAKE(k, r);
    QCOMPARE(r.headers.value("Connection"), QByteArray("keep-alive"));
    k->send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    QTRY_TAKE(k, r);
    QCOMPARE(r.body, QByteArray("B"));
    QVERIFY(!k->disconnected);
}

void tst_HttpServer::headRequestHasNoBody()
{
    startServer();
    auto c = connectClient();
    c->send("HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n" + get("/b"));
    ParsedResponse r;
    QTRY_VERIFY(c->ready(true));
    r = c->next();
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("Content-Length"), QByteArray("1"));
    QTRY_TAKE(c, r);
    QCOMPARE(r.body, QByteArray("B")); // had the HEAD response carried a body, this would break
}

void tst_HttpServer::unknownPathAndMethod()
{
    startServer();
    auto c = connectClient();
    ParsedResponse r;
    c->send(get("/nowhere"));
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 404);
    QCOMPARE(r.reason, QByteArray("Not Found"));
    c->send("DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 405);
    QCOMPARE(r.reason, QByteArray("Method Not Allowed"));
    QCOMPARE(r.headers.value("Allow"), QByteArray("POST, GET, HEAD"));
    // Methods are case-sensitive.
    c->send("get /a HTTP/1.1\r\nHost: x\r\n\r\n");
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 405);
    QVERIFY(!c->disconnected);
}

void tst_HttpServer::notFoundBodyIsDiscardedAndConnectionKept()
{
    startServer();
    auto c = connectClient();
    ParsedResponse r;
    c->send(post("/nowhere", QByteArray(50000, 'x')));
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 404);
    c->send("POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "3\r\nGET\r\n0\r\n\r\n");
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 404);
    // Had the body been parsed as a request, this would answer a different thing.
    c->send(get("/a"));
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("A"));
    QCOMPARE(m_echoCalls, 0);
}

void tst_HttpServer::oversizedHeader()
{
    HttpServerLimits limits;
    limits.maxHeaderBytes = 1024;
    startServer(limits);
    auto c = connectClient();
    c->send(get("/a", "X-Big: " + QByteArray(2000, 'h') + "\r\n"));
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 431);
    QCOMPARE(r.reason, QByteArray("Request Header Fields Too Large"));
    QCOMPARE(r.headers.value("Connection"), QByteArray("close"));
    QTRY_VERIFY(c->disconnected);

    // Many small headers add up the same way.
    auto c2 = connectClient();
    QByteArray many;
    for (int i = 0; i < 100; ++i)
        many += "X-H" + QByteArray::number(i) + ": 0123456789\r\n";
    c2->send(get("/a", many));
    QTRY_TAKE(c2, r);
    QCOMPARE(r.status, 431);

    // Just under the limit passes.
    auto c3 = connectClient();
    c3->send(get("/a", "X-Fits: " + QByteArray(900, 'h') + "\r\n"));
    QTRY_TAKE(c3, r);
    QCOMPARE(r.status, 200);
}

void tst_HttpServer::oversizedBody_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("Content-Length over the limit, body not sent")
        << QByteArray("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100001\r\n\r\n")
        << QByteArray();
    QTest::newRow("Content-Length over the limit, body sent anyway")
        << QByteArray("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
        << QByteArray(2000000, 'b');
    QByteArray chunks;
    for (int i = 0; i < 30; ++i)
        chunks += "1000\r\n" + QByteArray(0x1000, 'c') + "\r\n";
    QTest::newRow("chunked body growing over the limit")
        << QByteArray("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        << chunks;
    QTest::newRow("one huge chunk announced")
        << QByteArray("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "FFFFFFFFFFFF\r\n")
        << QByteArray(1000, 'd');
}

void tst_HttpServer::oversizedBody()
{
    QFETCH(QByteArray, head);
    QFETCH(QByteArray, body);
    HttpServerLimits limits;
    limits.maxBodyBytes = 100000;
    startServer(limits);
    auto c = connectClient();
    c->send(head + body);
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 413);
    QCOMPARE(r.reason, QByteArray("Content Too Large"));
    QCOMPARE(r.headers.value("Connection"), QByteArray("close"));
    QTRY_VERIFY(c->disconnected);
    QCOMPARE(m_echoCalls, 0);
}

void tst_HttpServer::malformedRequests_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::newRow("garbage") << QByteArray("GARBAGE\r\n\r\n") << 400;
    QTest::newRow("HTTP/0.9 style") << QByteArray("GET /\r\n\r\n") << 400;
    QTest::newRow("extra token") << QByteArray("GET / HTTP/1.1 x\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("double space") << QByteArray("GET  / HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("bad method") << QByteArray("G(T / HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("bad version") << QByteArray("GET / HTTX/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("HTTP/2.0") << QByteArray("GET / HTTP/2.0\r\nHost: x\r\n\r\n") << 505;
    QTest::newRow("relative target") << QByteArray("GET a/b HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("control char in target")
        << QByteArray("GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("no Host") << QByteArray("GET /a HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("two Hosts") << QByteArray("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
                               << 400;
    QTest::newRow("header without colon")
        << QByteArray("GET /a HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n") << 400;
    QTest::newRow("space before colon") << QByteArray("GET /a HTTP/1.1\r\nHost : x\r\n\r\n") << 400;
    QTest::newRow("obs-fold") << QByteArray("GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\r\n  c\r\n\r\n")
                              << 400;
    QTest::newRow("bare CR") << QByteArray("GET /a HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n") << 400;
    QByteArray nul("GET /a HTTP/1.1\r\nHost: x\r\nX-A: b");
    nul.append('\0');
    nul.append("c\r\n\r\n");
    QTest::newRow("NUL in value") << nul << 400;
    QTest::newRow("bad Content-Length")
        << QByteArray("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n1") << 400;
    QTest::newRow("negative Content-Length")
        << QByteArray("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n") << 400;
    QTest::newRow("conflicting Content-Length") << QByteArray(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
                                                << 400;
    QTest::newRow("CL and TE") << QByteArray("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                             "3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                               << 400;
    QTest::newRow("TE not chunked")
        << QByteArray("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n") << 400;
    QTest::newRow("TE gzip, chunked") << QByteArray(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
                                      << 501;
    QTest::newRow("bad chunk size")
        << QByteArray("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        << 400;
    QTest::newRow("chunk longer than size") << QByteArray(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n")
                                            << 400;
    QTest::newRow("chunk size overflow") << QByteArray(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n")
                                         << 400;
    QTest::newRow("unknown expectation")
        << QByteArray("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 1\r\n\r\n")
        << 417;
}

void tst_HttpServer::malformedRequests()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    startServer();
    auto c = connectClient();
    c->send(request);
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, status);
    QCOMPARE(r.headers.value("Connection"), QByteArray("close"));
    QTRY_VERIFY(c->disconnected);
    QCOMPARE(m_echoCalls, 0);
}

void tst_HttpServer::stalledClientIsDropped()
{
    HttpServerLimits limits;
    limits.readTimeoutMs = 200;
    startServer(limits);

    // Head never completed.
    auto c = connectClient();
    c->send("GET /a HTTP/1.1\r\nHost: x\r\n");
    ParsedResponse r;
    QTRY_VERIFY_WITH_TIMEOUT(c->ready(), 5000);
    r = c->next();
    QCOMPARE(r.status, 408);
    QTRY_VERIFY(c->disconnected);

    // Body stalls halfway.
    auto b = connectClient();
    b->send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf");
    QTRY_VERIFY_WITH_TIMEOUT(b->ready(), 5000);
    r = b->next();
    QCOMPARE(r.status, 408);
    QTRY_VERIFY(b->disconnected);
    QCOMPARE(m_echoCalls, 0);
}

void tst_HttpServer::idleKeepAliveIsClosed()
{
    HttpServerLimits limits;
    limits.idleTimeoutMs = 200;
    startServer(limits);
    auto c = connectClient();
    c->send(get("/a"));
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QTRY_VERIFY_WITH_TIMEOUT(c->disconnected, 5000);
    QVERIFY(c->received.isEmpty()); // closed without a response
    QTRY_COMPARE(m_server->connectionCount(), 0);
}

void tst_HttpServer::headCheckRefusesBeforeTheBody()
{
    startServer();
    auto c = connectClient();
    // The body is announced but never sent: the refusal comes from the head alone.
    c->send("POST /guarded HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 401);
    QCOMPARE(r.body, QByteArray("no key"));
    QTRY_VERIFY(c->disconnected);
    QCOMPARE(m_echoCalls, 0);

    auto ok = connectClient();
    ok->send(post("/guarded", "x", "X-Key: open\r\n"));
    QTRY_TAKE(ok, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(m_echoCalls, 1);
}

void tst_HttpServer::handlerAnswersLater()
{
    startServer();
    m_server->route("GET", "/later", [](HttpRequest, HttpResponder responder) {
        QTimer::singleShot(
            50, [responder]() mutable { responder.respond(202, "text/plain", "done later"); });
    });
    auto c = connectClient();
    c->send(get("/later"));
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.status, 202);
    QCOMPARE(r.reason, QByteArray("Accepted"));
    QCOMPARE(r.body, QByteArray("done later"));
}

void tst_HttpServer::streamingResponse()
{
    startServer();
    HttpResponder stream;
    m_server->route("GET", "/events", [&stream](HttpRequest, HttpResponder responder) {
        HttpHeaders h;
        h.append("Content-Type", "text/event-stream");
        h.append("Cache-Control", "no-cache");
        QVERIFY(responder.beginStream(200, h));
        QVERIFY(responder.write("data: one\n\n"));
        stream = responder;
    });
    auto c = connectClient();
    c->send(get("/events"));
    // The first event arrives while the response is still open.
    QTRY_VERIFY(c->received.contains("data: one\n\n"));
    QVERIFY(c->received.contains("Transfer-Encoding: chunked\r\n"));
    QVERIFY(c->received.contains("\r\nb\r\ndata: one\n\n\r\n"));
    QVERIFY(!c->received.contains("0\r\n\r\n"));
    QVERIFY(stream.isOpen());

    QVERIFY(stream.write("data: two\n\n"));
    QTRY_VERIFY(c->received.contains("data: two\n\n"));
    QVERIFY(stream.finish());
    QVERIFY(!stream.isOpen());
    QVERIFY(!stream.write("late"));
    ParsedResponse r;
    QTRY_TAKE(c, r);
    QCOMPARE(r.headers.value("Content-Type"), QByteArray("text/event-stream"));
    QCOMPARE(r.body, QByteArray("data: one\n\ndata: two\n\n"));

    // The connection is reusable after the stream.
    c->send(get("/a"));
    QTRY_TAKE(c, r);
    QCOMPARE(r.body, QByteArray("A"));
}

void tst_HttpServer::streamingOverHttp10IsCloseDelimited()
{
    startServer();
    HttpResponder stream;
    m_server->route("GET", "/events", [&stream](HttpRequest, HttpResponder responder) {
        responder.beginStream(200);
        responder.write("first;");
        stream = responder;
    });
    auto c = connectClient();
    c->send("GET /events HTTP/1.0\r\n\r\n");
    QTRY_VERIFY(c->received.endsWith("first;"));
    QVERIFY(!c->received.contains("Transfer-Encoding"));
    stream.write("second");
    stream.finish();
    QTRY_VERIFY(c->disconnected);
    QVERIFY(c->ready());
    const ParsedResponse r = c->next();
    QCOMPARE(r.body, QByteArray("first;second"));
}

void tst_HttpServer::clientDisconnectBeforeAsyncAnswer()
{
    startServer();
    bool closedCalled = false;
    auto c = connectClient();
    c->send(get("/park"));
    QTRY_COMPARE(m_parked.size(), size_t(1));
    HttpResponder parked = m_parked.front();
    parked.onClosed([&closedCalled] { closedCalled = true; });
    QVERIFY(parked.isOpen());
    c->socket().abort();
    QTRY_VERIFY(closedCalled);
    QTRY_COMPARE(m_server->connectionCount(), 0);
    QVERIFY(!parked.isOpen());
    QVERIFY(!parked.respond(200, "text/plain", "too late"));
    QVERIFY(!parked.beginStream(200));
    QVERIFY(!parked.write("x"));
    QVERIFY(!parked.finish());
    QCOMPARE(parked.bytesPending(), 0);
    // Let the connection object's deferred deletion run, then use the responder again.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QVERIFY(!parked.respond(200, "text/plain", "still too late"));
}

void tst_HttpServer::serverDestroyedBeforeAsyncAnswer()
{
    startServer();
    auto c = connectClient();
    c->send(get("/park"));
    QTRY_COMPARE(m_parked.size(), size_t(1));
    HttpResponder parked = m_parked.front();
    m_server.reset();
    QVERIFY(!parked.isOpen());
    QVERIFY(!parked.respond(200, "text/plain", "nobody to send it"));
    QTRY_VERIFY(c->disconnected);
}

void tst_HttpServer::answerTwiceIsRefused()
{
    startServer();
    auto c = connectClient();
    c->send(get("/park") + get("/a"));
    QTRY_COMPARE(m_parked.size(), size_t(1));
    HttpResponder parked = m_parked.front();
    QVERIFY(parked.respond(200, "text/plain", "once"));
    // The next request on the connection is a different one: the old handle cannot answer it.
    QVERIFY(!parked.respond(500, "text/plain", "twice"));
    ParsedResponse r1, r2;
    QTRY_TAKE(c, r1);
    QTRY_TAKE(c, r2);
    QCOMPARE(r1.body, QByteArray("once"));
    QCOMPARE(r2.body, QByteArray("A"));
}

QTEST_GUILESS_MAIN(tst_HttpServer)
#include "tst_httpserver.moc"
