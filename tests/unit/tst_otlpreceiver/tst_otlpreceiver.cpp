#include "connectors/observability/OtlpReceiver.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QThreadPool>

#include <sys/resource.h>
#include <zlib.h>

#include <deque>
#include <memory>

using namespace Breaker;
using Breaker::Net::HttpHeaders;

namespace {

struct Response
{
    int status = 0;
    HttpHeaders headers;
    QByteArray body;
};

// A raw loopback HTTP client: exact request bytes, responses parsed from what arrives.
class Client
{
public:
    explicit Client(quint16 port)
    {
        QObject::connect(&m_socket, &QTcpSocket::readyRead, [this] { m_in += m_socket.readAll(); });
        QObject::connect(&m_socket, &QTcpSocket::disconnected, [this] { disconnected = true; });
        m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    }

    void send(const QByteArray &bytes) { m_socket.write(bytes); }

    // Side-effect free when repeated (QTRY_VERIFY evaluates twice).
    bool ready()
    {
        if (!m_ready.empty())
            return true;
        const qsizetype end = m_in.indexOf("\r\n\r\n");
        if (end < 0)
            return false;
        Response r;
        const QList<QByteArray> lines = m_in.left(end).split('\n');
        r.status = lines.first().mid(9, 3).toInt();
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines[i].trimmed();
            const qsizetype colon = line.indexOf(':');
            r.headers.append(line.left(colon), line.mid(colon + 1).trimmed());
        }
        const qint64 length = r.headers.value("Content-Length").toLongLong();
        if (m_in.size() < end + 4 + length)
            return false;
        r.body = m_in.mid(end + 4, length);
        m_in.remove(0, end + 4 + length);
        m_ready.push_back(r);
        return true;
    }

    Response next()
    {
        Response r = m_ready.front();
        m_ready.pop_front();
        return r;
    }

    bool hasBytes() const { return !m_in.isEmpty() || !m_ready.empty(); }
    bool disconnected = false;

private:
    QTcpSocket m_socket;
    QByteArray m_in;
    std::deque<Response> m_ready;
};

#define QTRY_RESPONSE(client, response)                                                            \
    QTRY_VERIFY_WITH_TIMEOUT((client).ready(), 10000);                                             \
    response = (client).next()

const QByteArray kJson = "application/json";
const QByteArray kProto = "application/x-protobuf";

QByteArray request(const QByteArray &body,
                   const QByteArray &contentType,
                   const QByteArray &extraHeaders = {},
                   const QByteArray &path = "/v1/traces")
{
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + contentType
           + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n" + extraHeaders
           + "\r\n" + body;
}

Otlp::OutSpan
makeSpan(int n, qint64 startNs = 1'700'000'000'000'000'000, qint64 durationNs = 5'000'000)
{
    Otlp::OutSpan s;
    for (size_t i = 0; i < s.traceId.size(); ++i)
        s.traceId[i] = uint8_t(0x10 + n + int(i));
    for (size_t i = 0; i < s.spanId.size(); ++i)
        s.spanId[i] = uint8_t(0xa0 + n + int(i));
    s.name = "chat model-" + QByteArray::number(n);
    s.kind = 3;
    s.startNs = startNs;
    s.endNs = startNs + durationNs;
    s.attributes.push_back({"gen_ai.operation.name", QByteArray("chat")});
    s.attributes.push_back({"gen_ai.usage.input_tokens", qint64(100 + n)});
    return s;
}

std::vector<Otlp::OutResourceSpans> payload(std::vector<Otlp::OutSpan> spans)
{
    Otlp::OutResourceSpans rs;
    rs.resource.push_back({"service.name", QByteArray("support-agent")});
    rs.scopeName = "tst_otlpreceiver";
    rs.scopeVersion = "1";
    rs.spans = std::move(spans);
    return {rs};
}

QByteArray zlibCompress(const QByteArray &data, int windowBits)
{
    z_stream zs{};
    deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
    QByteArray out(qsizetype(deflateBound(&zs, uLong(data.size())) + 64), Qt::Uninitialized);
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.constData()));
    zs.avail_in = uInt(data.size());
    zs.next_out = reinterpret_cast<Bytef *>(out.data());
    zs.avail_out = uInt(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(qsizetype(zs.total_out));
    deflateEnd(&zs);
    return out;
}

QByteArray gzip(const QByteArray &data)
{
    return zlibCompress(data, 16 + MAX_WBITS);
}

// `total` zero bytes gzip-compressed, streamed so the test itself never holds them.
QByteArray gzipZeros(qint64 total)
{
    z_stream zs{};
    deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
    const QByteArray zeros(1 << 20, '\0');
    QByteArray out;
    char buffer[65536];
    qint64 fed = 0;
    int flush = Z_NO_FLUSH;
    do {
        if (zs.avail_in == 0 && fed < total) {
            zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(zeros.constData()));
            zs.avail_in = uInt(std::min<qint64>(zeros.size(), total - fed));
            fed += zs.avail_in;
        }
        flush = fed >= total ? Z_FINISH : Z_NO_FLUSH;
        zs.next_out = reinterpret_cast<Bytef *>(buffer);
        zs.avail_out = sizeof buffer;
        deflate(&zs, flush);
        out.append(buffer, qsizetype(sizeof buffer - zs.avail_out));
    } while (!(flush == Z_FINISH && zs.avail_out != 0));
    deflateEnd(&zs);
    return out;
}

// google.rpc.Status from its protobuf form.
bool parseProtoStatus(const QByteArray &body, int *code, QString *message)
{
    qsizetype i = 0;
    auto varint = [&](quint64 *v) {
        *v = 0;
        for (int shift = 0; i < body.size() && shift < 64; shift += 7) {
            const auto b = quint8(body[i++]);
            *v |= quint64(b & 0x7f) << shift;
            if (!(b & 0x80))
                return true;
        }
        return false;
    };
    while (i < body.size()) {
        quint64 tag = 0, v = 0;
        if (!varint(&tag))
            return false;
        if (tag == 0x08) {
            if (!varint(&v))
                return false;
            *code = int(v);
        } else if (tag == 0x12) {
            if (!varint(&v) || i + qsizetype(v) > body.size())
                return false;
            *message = QString::fromUtf8(body.mid(i, qsizetype(v)));
            i += qsizetype(v);
        } else {
            return false;
        }
    }
    return true;
}

QJsonValue jsonField(const QByteArray &body, const char *key)
{
    return QJsonDocument::fromJson(body).object().value(QLatin1String(key));
}

long maxRssKiB()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

} // namespace

class tst_OtlpReceiver : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void gzipBombIsRefusedWithinTheCap(); // first: it checks the process's peak memory
    void jsonAccepted();
    void protobufAccepted();
    void contentTypeParametersAreIgnored();
    void chunkedRequestAccepted();
    void keepAliveCarriesSeveralExports();
    void partialSuccess_data();
    void partialSuccess();
    void malformedJsonIs400WithStatus();
    void malformedProtobufIs400WithStatus();
    void bodyOverTheLimitIs413();
    void unsupportedMediaType_data();
    void unsupportedMediaType();
    void compressedBodiesAccepted_data();
    void compressedBodiesAccepted();
    void corruptCompressedBodyIs400_data();
    void corruptCompressedBodyIs400();
    void bearerToken_data();
    void bearerToken();
    void sinkUnavailableIs503WithRetryAfter();
    void sinkOverloadedIs429();
    void noSinkIs503();
    void okOnlyAfterTheSinkReplies();
    void sinkDroppingTheReplyIs503();
    void sinkTimeoutIs503AndLateAcceptIsCounted();
    void sameSpanTwiceReachesTheSinkTwice();
    void unknownPathIs404WithStatus();

private:
    void start(OtlpReceiverOptions options = {});
    void acceptAll();
    void roundTrip();

    std::unique_ptr<OtlpReceiver> m_receiver;
    std::vector<Span> m_sunk;
    int m_sinkCalls = 0;
    bool m_sinkOnReceiverThread = true;
};

void tst_OtlpReceiver::init()
{
    m_sunk.clear();
    m_sinkCalls = 0;
    m_sinkOnReceiverThread = true;
}

void tst_OtlpReceiver::cleanup()
{
    m_receiver.reset();
    QVERIFY(QThreadPool::globalInstance()->waitForDone(10000));
}

void tst_OtlpReceiver::start(OtlpReceiverOptions options)
{
    options.port = 0;
    m_receiver = std::make_unique<OtlpReceiver>(options);
    const Result<void> listening = m_receiver->listen();
    QVERIFY2(listening.ok(), qPrintable(listening.ok() ? QString() : listening.error().message));
    QVERIFY(m_receiver->port() != 0);
    QCOMPARE(m_receiver->address(), QHostAddress(QHostAddress::LocalHost));
}

void tst_OtlpReceiver::acceptAll()
{
    m_receiver->setSink(
        [this](std::shared_ptr<Otlp::DecodeResult> result, OtlpReceiver::Reply reply) {
            ++m_sinkCalls;
            m_sinkOnReceiverThread = m_sinkOnReceiverThread && QThread::currentThread() == thread();
            m_sunk.insert(m_sunk.end(), result->spans.begin(), result->spans.end());
            reply(SinkVerdict::accepted());
        });
}

void tst_OtlpReceiver::roundTrip()
{
    Client probe(m_receiver->port());
    probe.send("GET /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n");
    Response r;
    QTRY_RESPONSE(probe, r);
    QCOMPARE(r.status, 405);
}

void tst_OtlpReceiver::gzipBombIsRefusedWithinTheCap()
{
    OtlpReceiverOptions options;
    options.maxBodyBytes = 1 << 20;
    start(options);
    acceptAll();
    const QByteArray bomb = gzipZeros(100LL * 1000 * 1000);
    QVERIFY2(bomb.size() < 1 << 20, "the bomb must pass the transport limit");
    QSignalSpy rejected(m_receiver.get(), &OtlpReceiver::requestRejected);

    const long rssBefore = maxRssKiB();
    QElapsedTimer timer;
    timer.start();
    Client c(m_receiver->port());
    c.send(request(bomb, kJson, "Content-Encoding: gzip\r\n"));
    Response r;
    QTRY_RESPONSE(c, r);
    const qint64 elapsed = timer.elapsed();
    QCOMPARE(r.status, 413);
    QCOMPARE(r.headers.value("Content-Type"), kJson);
    QVERIFY(jsonField(r.body, "message").toString().contains(QLatin1String("1048576")));
    QVERIFY2(elapsed < 3000, qPrintable(QString::number(elapsed)));
    // Inflating all 100 MB would have raised the peak by about that much.
    const long grownKiB = maxRssKiB() - rssBefore;
    QVERIFY2(grownKiB < 40 * 1024,
             qPrintable(QStringLiteral("peak RSS grew by %1 KiB").arg(grownKiB)));
    QCOMPARE(m_sinkCalls, 0);
    QCOMPARE(rejected.size(), 1);
    QCOMPARE(rejected.first().at(0).toInt(), 413);
}

void tst_OtlpReceiver::jsonAccepted()
{
    start();
    acceptAll();
    QSignalSpy accepted(m_receiver.get(), &OtlpReceiver::spansAccepted);
    Client c(m_receiver->port());
    c.send(request(Otlp::encodeJson(payload({makeSpan(1), makeSpan(2), makeSpan(3)})), kJson));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("Content-Type"), kJson);
    QCOMPARE(r.body, QByteArray("{}"));
    QCOMPARE(m_sinkCalls, 1);
    QVERIFY(m_sinkOnReceiverThread);
    QCOMPARE(m_sunk.size(), size_t(3));
    QCOMPARE(m_sunk[1].name, QByteArray("chat model-2"));
    QCOMPARE(m_sunk[1].spanId, makeSpan(2).spanId);
    QCOMPARE(m_sunk[1].traceId, makeSpan(2).traceId);
    QCOMPARE(m_sunk[1].serviceName, QByteArray("support-agent"));
    QCOMPARE(m_sunk[1].inputTokens, qint64(102));
    QCOMPARE(accepted.size(), 1);
    QCOMPARE(accepted.first().at(0).toLongLong(), qint64(3));
    QCOMPARE(m_receiver->spansAcceptedTotal(), qint64(3));
}

void tst_OtlpReceiver::protobufAccepted()
{
    start();
    acceptAll();
    Client c(m_receiver->port());
    c.send(request(Otlp::encodeProtobuf(payload({makeSpan(4), makeSpan(5)})), kProto));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("Content-Type"), kProto);
    QCOMPARE(r.headers.value("Content-Length"), QByteArray("0"));
    QVERIFY(r.body.isEmpty());
    QCOMPARE(m_sunk.size(), size_t(2));
    QCOMPARE(m_sunk[0].spanId, makeSpan(4).spanId);
    QCOMPARE(m_sunk[0].operationName, QByteArray("chat"));
}

void tst_OtlpReceiver::contentTypeParametersAreIgnored()
{
    start();
    acceptAll();
    Client c(m_receiver->port());
    c.send(request(Otlp::encodeJson(payload({makeSpan(1)})), "Application/JSON; charset=utf-8"));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("Content-Type"), kJson);
    QCOMPARE(m_sunk.size(), size_t(1));
}

void tst_OtlpReceiver::chunkedRequestAccepted()
{
    start();
    acceptAll();
    const QByteArray body = Otlp::encodeJson(payload({makeSpan(7)}));
    QByteArray chunked;
    for (qsizetype i = 0; i < body.size(); i += 100) {
        const QByteArray piece = body.mid(i, 100);
        chunked += QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n";
    }
    chunked += "0\r\n\r\n";
    Client c(m_receiver->port());
    c.send("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "User-Agent: OTel-OTLP-Exporter-JavaScript/0.223.1\r\nTransfer-Encoding: chunked\r\n\r\n"
           + chunked);
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(m_sunk.size(), size_t(1));
    QCOMPARE(m_sunk[0].spanId, makeSpan(7).spanId);
}

void tst_OtlpReceiver::keepAliveCarriesSeveralExports()
{
    start();
    acceptAll();
    Client c(m_receiver->port());
    // Pipelined, and one JSON and one protobuf: each answer in its own request's encoding.
    c.send(request(Otlp::encodeJson(payload({makeSpan(1)})), kJson)
           + request(Otlp::encodeProtobuf(payload({makeSpan(2)})), kProto)
           + request(Otlp::encodeJson(payload({makeSpan(3)})), kJson));
    Response r1, r2, r3;
    QTRY_RESPONSE(c, r1);
    QTRY_RESPONSE(c, r2);
    QTRY_RESPONSE(c, r3);
    QCOMPARE(r1.headers.value("Content-Type"), kJson);
    QCOMPARE(r2.headers.value("Content-Type"), kProto);
    QCOMPARE(r3.headers.value("Content-Type"), kJson);
    QCOMPARE(m_sunk.size(), size_t(3));
    QCOMPARE(m_sunk[0].spanId, makeSpan(1).spanId);
    QCOMPARE(m_sunk[2].spanId, makeSpan(3).spanId);
    QVERIFY(!c.disconnected);
}

void tst_OtlpReceiver::partialSuccess_data()
{
    QTest::addColumn<bool>("json");
    QTest::newRow("json") << true;
    QTest::newRow("protobuf") << false;
}

void tst_OtlpReceiver::partialSuccess()
{
    QFETCH(bool, json);
    start();
    acceptAll();
    Otlp::OutSpan backwards = makeSpan(9);
    backwards.endNs = backwards.startNs - 1; // ends before it starts
    const auto spans = payload({makeSpan(8), backwards});
    Client c(m_receiver->port());
    c.send(request(json ? Otlp::encodeJson(spans) : Otlp::encodeProtobuf(spans),
                   json ? kJson : kProto));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(m_sunk.size(), size_t(1));
    QCOMPARE(m_sunk[0].spanId, makeSpan(8).spanId);
    if (json) {
        QCOMPARE(r.headers.value("Content-Type"), kJson);
        const QJsonObject partial = jsonField(r.body, "partialSuccess").toObject();
        QCOMPARE(partial.value(QLatin1String("rejectedSpans")).toVariant().toLongLong(), qint64(1));
        QVERIFY2(partial.value(QLatin1String("errorMessage"))
                     .toString()
                     .contains(QLatin1String("before")),
                 r.body.constData());
    } else {
        QCOMPARE(r.headers.value("Content-Type"), kProto);
        QCOMPARE(r.body.left(1), QByteArray("\x0a")); // field 1 partial_success, length-delimited
        QVERIFY(r.body.contains("\x08\x01"));         // rejected_spans = 1
        QVERIFY(r.body.contains("before"));
    }
}

void tst_OtlpReceiver::malformedJsonIs400WithStatus()
{
    start();
    acceptAll();
    QSignalSpy rejected(m_receiver.get(), &OtlpReceiver::requestRejected);
    const QByteArray whole = Otlp::encodeJson(payload({makeSpan(1)}));
    Client c(m_receiver->port());
    c.send(request(whole.left(whole.size() / 2), kJson));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.headers.value("Content-Type"), kJson);
    const QJsonObject status = QJsonDocument::fromJson(r.body).object();
    QCOMPARE(status.value(QLatin1String("code")).toInt(), 3);
    QVERIFY2(status.value(QLatin1String("message")).toString().contains(QLatin1String("JSON")),
             r.body.constData());
    QCOMPARE(m_sinkCalls, 0);
    QCOMPARE(rejected.size(), 1);
    QCOMPARE(rejected.first().at(0).toInt(), 400);
    QCOMPARE(rejected.first().at(1).toString(), status.value(QLatin1String("message")).toString());
}

void tst_OtlpReceiver::malformedProtobufIs400WithStatus()
{
    start();
    acceptAll();
    const QByteArray whole = Otlp::encodeProtobuf(payload({makeSpan(1)}));
    Client c(m_receiver->port());
    c.send(request(whole.left(whole.size() - 7), kProto));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.headers.value("Content-Type"), kProto);
    int code = 0;
    QString message;
    QVERIFY(parseProtoStatus(r.body, &code, &message));
    QCOMPARE(code, 3);
    QVERIFY(!message.isEmpty());
    QCOMPARE(m_sinkCalls, 0);
}

void tst_OtlpReceiver::bodyOverTheLimitIs413()
{
    OtlpReceiverOptions options;
    options.maxBodyBytes = 1 << 20;
    start(options);
    acceptAll();
    QSignalSpy rejected(m_receiver.get(), &OtlpReceiver::requestRejected);
    std::vector<Otlp::OutSpan> spans;
    for (int i = 0; i < 40; ++i) {
        Otlp::OutSpan s = makeSpan(i);
        s.attributes.push_back({"gen_ai.input.messages", QByteArray(40000, 'm')});
        spans.push_back(s);
    }
    const QByteArray body = Otlp::encodeProtobuf(payload(spans));
    QVERIFY(body.size() > options.maxBodyBytes);
    Client c(m_receiver->port());
    c.send(request(body, kProto));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 413);
    QCOMPARE(r.headers.value("Content-Type"), kProto);
    int code = 0;
    QString message;
    QVERIFY(parseProtoStatus(r.body, &code, &message));
    QVERIFY(message.contains(QLatin1String("1048576")));
    QTRY_VERIFY(c.disconnected);
    QCOMPARE(m_sinkCalls, 0);
    QCOMPARE(rejected.size(), 1);
    QCOMPARE(rejected.first().at(0).toInt(), 413);
}

void tst_OtlpReceiver::unsupportedMediaType_data()
{
    QTest::addColumn<QByteArray>("headers");
    QTest::addColumn<QByteArray>("expectedContentType");
    QTest::newRow("text/plain") << QByteArray("Content-Type: text/plain\r\n") << kJson;
    QTest::newRow("no Content-Type") << QByteArray() << kJson;
    QTest::newRow("json as a prefix") << QByteArray("Content-Type: application/jsonx\r\n") << kJson;
    QTest::newRow("brotli") << QByteArray(
        "Content-Type: application/x-protobuf\r\nContent-Encoding: br\r\n")
                            << kProto;
}

void tst_OtlpReceiver::unsupportedMediaType()
{
    QFETCH(QByteArray, headers);
    QFETCH(QByteArray, expectedContentType);
    start();
    acceptAll();
    const QByteArray body = Otlp::encodeJson(payload({makeSpan(1)}));
    Client c(m_receiver->port());
    c.send("POST /v1/traces HTTP/1.1\r\nHost: x\r\n" + headers
           + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 415);
    QCOMPARE(r.headers.value("Content-Type"), expectedContentType);
    QCOMPARE(m_sinkCalls, 0);
}

void tst_OtlpReceiver::compressedBodiesAccepted_data()
{
    QTest::addColumn<QByteArray>("encoding");
    QTest::addColumn<int>("windowBits");
    QTest::addColumn<bool>("json");
    QTest::newRow("gzip json") << QByteArray("gzip") << 16 + MAX_WBITS << true;
    QTest::newRow("gzip protobuf") << QByteArray("gzip") << 16 + MAX_WBITS << false;
    QTest::newRow("x-gzip") << QByteArray("x-gzip") << 16 + MAX_WBITS << true;
    QTest::newRow("deflate (zlib)") << QByteArray("deflate") << MAX_WBITS << true;
    QTest::newRow("deflate (raw)") << QByteArray("deflate") << -MAX_WBITS << false;
}

void tst_OtlpReceiver::compressedBodiesAccepted()
{
    QFETCH(QByteArray, encoding);
    QFETCH(int, windowBits);
    QFETCH(bool, json);
    start();
    acceptAll();
    std::vector<Otlp::OutSpan> spans;
    for (int i = 0; i < 50; ++i)
        spans.push_back(makeSpan(i));
    const QByteArray plain
        = json ? Otlp::encodeJson(payload(spans)) : Otlp::encodeProtobuf(payload(spans));
    const QByteArray compressed = zlibCompress(plain, windowBits);
    QVERIFY(compressed.size() < plain.size());
    Client c(m_receiver->port());
    c.send(request(compressed, json ? kJson : kProto, "Content-Encoding: " + encoding + "\r\n"));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(m_sunk.size(), size_t(50));
    QCOMPARE(m_sunk[49].spanId, makeSpan(49).spanId);
}

void tst_OtlpReceiver::corruptCompressedBodyIs400_data()
{
    QTest::addColumn<QByteArray>("body");
    const QByteArray good = gzip(Otlp::encodeJson(payload({makeSpan(1), makeSpan(2)})));
    QByteArray flipped = good;
    for (qsizetype i = 12; i < flipped.size() - 8; i += 3)
        flipped[i] = char(flipped[i] ^ 0x5a);
    QTest::newRow("corrupted deflate data") << flipped;
    QTest::newRow("truncated") << good.left(good.size() / 2);
    QTest::newRow("not gzip at all") << QByteArray("{\"resourceSpans\":[]}");
    QByteArray badCrc = good;
    badCrc[badCrc.size() - 6] = char(badCrc[badCrc.size() - 6] ^ 0xff);
    QTest::newRow("bad CRC") << badCrc;
    QTest::newRow("trailing garbage") << good + "garbage";
}

void tst_OtlpReceiver::corruptCompressedBodyIs400()
{
    QFETCH(QByteArray, body);
    start();
    acceptAll();
    QSignalSpy rejected(m_receiver.get(), &OtlpReceiver::requestRejected);
    Client c(m_receiver->port());
    c.send(request(body, kJson, "Content-Encoding: gzip\r\n"));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 400);
    const QJsonObject status = QJsonDocument::fromJson(r.body).object();
    QCOMPARE(status.value(QLatin1String("code")).toInt(), 3);
    QVERIFY2(status.value(QLatin1String("message")).toString().contains(QLatin1String("gzip")),
             r.body.constData());
    QCOMPARE(m_sinkCalls, 0);
    QCOMPARE(rejected.size(), 1);
}

void tst_OtlpReceiver::bearerToken_data()
{
    QTest::addColumn<QByteArray>("authorization");
    QTest::addColumn<int>("status");
    QTest::newRow("missing") << QByteArray() << 401;
    QTest::newRow("wrong") << QByteArray("Bearer s3cret-but-not-quite") << 401;
    QTest::newRow("prefix of the token") << QByteArray("Bearer s3cr") << 401;
    QTest::newRow("other scheme") << QByteArray("Basic czNjcmV0") << 401;
    QTest::newRow("empty bearer") << QByteArray("Bearer ") << 401;
    QTest::newRow("right") << QByteArray("Bearer s3cret") << 200;
    QTest::newRow("scheme is case-insensitive") << QByteArray("bearer s3cret") << 200;
}

void tst_OtlpReceiver::bearerToken()
{
    QFETCH(QByteArray, authorization);
    QFETCH(int, status);
    OtlpReceiverOptions options;
    options.bearerToken = "s3cret";
    start(options);
    acceptAll();
    Client c(m_receiver->port());
    c.send(request(Otlp::encodeJson(payload({makeSpan(1)})),
                   kJson,
                   authorization.isEmpty() ? QByteArray()
                                           : "Authorization: " + authorization + "\r\n"));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, status);
    QCOMPARE(m_sinkCalls, status == 200 ? 1 : 0);
    if (status == 401) {
        QCOMPARE(r.headers.value("WWW-Authenticate"), QByteArray("Bearer"));
        QCOMPARE(jsonField(r.body, "code").toInt(), 16);
        QVERIFY(!r.body.contains("s3cret"));
    }
}

void tst_OtlpReceiver::sinkUnavailableIs503WithRetryAfter()
{
    start();
    m_receiver->setSink([](std::shared_ptr<Otlp::DecodeResult>, OtlpReceiver::Reply reply) {
        reply(SinkVerdict::unavailable(7, QStringLiteral("disk full: 12 MiB free")));
    });
    QSignalSpy accepted(m_receiver.get(), &OtlpReceiver::spansAccepted);
    QSignalSpy rejected(m_receiver.get(), &OtlpReceiver::requestRejected);
    Client c(m_receiver->port());
    c.send(request(Otlp::encodeProtobuf(payload({makeSpan(1)})), kProto));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 503);
    QCOMPARE(r.headers.value("Retry-After"), QByteArray("7"));
    QCOMPARE(r.headers.value("Content-Type"), kProto);
    int code = 0;
    QString message;
    QVERIFY(parseProtoStatus(r.body, &code, &message));
    QCOMPARE(code, 14);
    QCOMPARE(message, QStringLiteral("disk full: 12 MiB free"));
    QCOMPARE(accepted.size(), 0);
    QCOMPARE(rejected.size(), 1);
    QCOMPARE(rejected.first().at(0).toInt(), 503);
}

void tst_OtlpReceiver::sinkOverloadedIs429()
{
    start();
    m_receiver->setSink([](std::shared_ptr<Otlp::DecodeResult>, OtlpReceiver::Reply reply) {
        reply(SinkVerdict::overloaded(2));
    });
    Client c(m_receiver->port());
    c.send(request(Otlp::encodeJson(payload({makeSpan(1)})), kJson));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 429);
    QCOMPARE(r.headers.value("Retry-After"), QByteArray("2"));
    QCOMPARE(jsonField(r.body, "code").toInt(), 8);
}

void tst_OtlpReceiver::noSinkIs503()
{
    start();
    Client c(m_receiver->port());
    c.send(request(Otlp::encodeJson(payload({makeSpan(1)})), kJson));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 503);
    QVERIFY(r.headers.contains("Retry-After"));
}

void tst_OtlpReceiver::okOnlyAfterTheSinkReplies()
{
    start();
    OtlpReceiver::Reply parked;
    std::shared_ptr<Otlp::DecodeResult> parkedResult;
    m_receiver->setSink([&](std::shared_ptr<Otlp::DecodeResult> result, OtlpReceiver::Reply reply) {
        parked = std::move(reply);
        parkedResult = std::move(result);
    });
    QSignalSpy accepted(m_receiver.get(), &OtlpReceiver::spansAccepted);
    Client c(m_receiver->port());
    c.send(request(Otlp::encodeJson(payload({makeSpan(1), makeSpan(2)})), kJson));
    QTRY_VERIFY(parked != nullptr);
    QCOMPARE(parkedResult->spans.size(), size_t(2));
    QCOMPARE(m_receiver->requestsInFlight(), 1);
    // The store has not confirmed: the client must not have its 200 yet. A full round trip on
    // another connection lets anything the server had written reach this client first.
    roundTrip();
    if (QTest::currentTestFailed())
        return;
    QVERIFY(!c.hasBytes());
    QCOMPARE(accepted.size(), 0);

    // The store's writer thread confirms.
    QThread *writer = QThread::create([parked] { parked(SinkVerdict::accepted()); });
    writer->start();
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("{}"));
    QCOMPARE(accepted.size(), 1);
    QCOMPARE(accepted.first().at(0).toLongLong(), qint64(2));
    QCOMPARE(m_receiver->requestsInFlight(), 0);
    QVERIFY(writer->wait(5000));
    delete writer;
    // A second answer changes nothing.
    parked(SinkVerdict::unavailable(1, QStringLiteral("late")));
    roundTrip();
    if (QTest::currentTestFailed())
        return;
    QVERIFY(!c.hasBytes());
}

void tst_OtlpReceiver::sinkDroppingTheReplyIs503()
{
    start();
    m_receiver->setSink([](std::shared_ptr<Otlp::DecodeResult>, OtlpReceiver::Reply) {});
    Client c(m_receiver->port());
    c.send(request(Otlp::encodeJson(payload({makeSpan(1)})), kJson));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 503);
    QVERIFY(jsonField(r.body, "message").toString().contains(QLatin1String("dropped")));
}

void tst_OtlpReceiver::sinkTimeoutIs503AndLateAcceptIsCounted()
{
    OtlpReceiverOptions options;
    options.sinkTimeoutMs = 200;
    start(options);
    OtlpReceiver::Reply parked;
    m_receiver->setSink([&](std::shared_ptr<Otlp::DecodeResult>, OtlpReceiver::Reply reply) {
        parked = std::move(reply);
    });
    QSignalSpy accepted(m_receiver.get(), &OtlpReceiver::spansAccepted);
    Client c(m_receiver->port());
    c.send(request(Otlp::encodeJson(payload({makeSpan(1)})), kJson));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 503);
    QVERIFY(r.headers.contains("Retry-After"));
    QCOMPARE(m_receiver->requestsInFlight(), 0);
    parked(SinkVerdict::accepted());
    QTRY_COMPARE(accepted.size(), 1);
    QCOMPARE(m_receiver->spansAcceptedTotal(), qint64(1));
}

void tst_OtlpReceiver::sameSpanTwiceReachesTheSinkTwice()
{
    start();
    acceptAll();
    const QByteArray body = Otlp::encodeJson(payload({makeSpan(5)}));
    Client a(m_receiver->port());
    Client b(m_receiver->port());
    a.send(request(body, kJson));
    b.send(request(body, kJson));
    Response ra, rb;
    QTRY_RESPONSE(a, ra);
    QTRY_RESPONSE(b, rb);
    QCOMPARE(ra.status, 200);
    QCOMPARE(rb.status, 200);
    QCOMPARE(m_sinkCalls, 2);
    QCOMPARE(m_sunk.size(), size_t(2));
    QCOMPARE(m_sunk[0].spanId, m_sunk[1].spanId);
}

void tst_OtlpReceiver::unknownPathIs404WithStatus()
{
    start();
    acceptAll();
    QSignalSpy rejected(m_receiver.get(), &OtlpReceiver::requestRejected);
    Client c(m_receiver->port());
    c.send(request("{}", kJson, {}, "/v1/metrics"));
    Response r;
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 404);
    QCOMPARE(r.headers.value("Content-Type"), kJson);
    QCOMPARE(jsonField(r.body, "code").toInt(), 5);
    QCOMPARE(rejected.size(), 1);
    // The connection stays usable for traces.
    c.send(request(Otlp::encodeJson(payload({makeSpan(1)})), kJson));
    QTRY_RESPONSE(c, r);
    QCOMPARE(r.status, 200);
}

QTEST_GUILESS_MAIN(tst_OtlpReceiver)
#include "tst_otlpreceiver.moc"
