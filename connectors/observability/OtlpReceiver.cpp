#include "connectors/observability/OtlpReceiver.h"

#include "connectors/net/HttpServer.h"
#include "models/Logging.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QMutexLocker>
#include <QThreadPool>
#include <QTimer>

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <climits>

namespace Breaker {

namespace {

enum class Format { Json, Protobuf };
enum class Coding { Identity, Gzip, Deflate };

const QByteArray kJson = QByteArrayLiteral("application/json");
const QByteArray kProtobuf = QByteArrayLiteral("application/x-protobuf");
constexpr qsizetype kMaxStatusMessage = 1024;

std::optional<Format> formatOf(const Net::HttpRequest &head)
{
    QByteArray type = head.header("Content-Type");
    if (const qsizetype semicolon = type.indexOf(';'); semicolon >= 0)
        type.truncate(semicolon);
    type = type.trimmed().toLower();
    if (type == kJson)
        return Format::Json;
    if (type == kProtobuf || type == "application/protobuf")
        return Format::Protobuf;
    return std::nullopt;
}

std::optional<Coding> codingOf(const Net::HttpRequest &head)
{
    const QByteArray coding = head.header("Content-Encoding").trimmed().toLower();
    if (head.headers.count("Content-Encoding") > 1)
        return std::nullopt;
    if (coding.isEmpty() || coding == "identity")
        return Coding::Identity;
    if (coding == "gzip" || coding == "x-gzip")
        return Coding::Gzip;
    if (coding == "deflate")
        return Coding::Deflate;
    return std::nullopt;
}

QString peerOf(const Net::HttpRequest &head)
{
    return head.peerAddress.toString() + u':' + QString::number(head.peerPort);
}

// google.rpc.Code for an HTTP status, for the Status body of a failure.
int rpcCodeFor(int httpStatus)
{
    switch (httpStatus) {
    case 400:
    case 414:
    case 415:
    case 431:
        return 3; // INVALID_ARGUMENT
    case 401:
        return 16; // UNAUTHENTICATED
    case 403:
        return 7; // PERMISSION_DENIED
    case 404:
        return 5; // NOT_FOUND
    case 405:
    case 501:
    case 505:
        return 12; // UNIMPLEMENTED
    case 408:
        return 4; // DEADLINE_EXCEEDED
    case 413:
    case 429:
        return 8; // RESOURCE_EXHAUSTED
    case 503:
        return 14; // UNAVAILABLE
    case 500:
        return 13; // INTERNAL
    default:
        return 2; // UNKNOWN
    }
}

void appendVarint(QByteArray &out, quint64 v)
{
    while (v >= 0x80) {
        out.append(char((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.append(char(v));
}

// google.rpc.Status {int32 code = 1; string message = 2;} in the request's encoding.
QByteArray statusBody(bool json, int code, const QString &message)
{
    const QString bounded = message.left(kMaxStatusMessage);
    if (json) {
        QJsonObject o;
        o.insert(QStringLiteral("code"), code);
        o.insert(QStringLiteral("message"), bounded);
        return QJsonDocument(o).toJson(QJsonDocument::Compact);
    }
    QByteArray out;
    const QByteArray text = bounded.toUtf8();
    out.append(char(0x08));
    appendVarint(out, quint64(quint32(code)));
    out.append(char(0x12));
    appendVarint(out, quint64(text.size()));
    out.append(text);
    return out;
}

struct Inflated
{
    int status = 200; // 400 corrupt, 413 over the cap
    QString error;
    QByteArray data;
};

// Decompresses a gzip (or zlib / raw deflate) body, never producing more than cap + 1 bytes:
// a compression bomb costs at most the cap.
Inflated inflateBody(const QByteArray &in, Coding coding, qint64 cap)
{
    const char *what = coding == Coding::Gzip ? "gzip" : "deflate";
    for (int attempt = 0; attempt < 2; ++attempt) {
        // gzip: gzip header only. deflate: zlib-wrapped as HTTP says, else raw as some send it.
        const int windowBits
            = coding == Coding::Gzip ? 16 + MAX_WBITS : (attempt == 0 ? MAX_WBITS : -MAX_WBITS);
        z_stream zs{};
        if (inflateInit2(&zs, windowBits) != Z_OK)
            return {500, QStringLiteral("cannot initialise zlib"), {}};
        Inflated result;
        QByteArray &out = result.data;
        qint64 used = 0;
        qint64 inPos = 0;
        bool retryRaw = false;
        for (;;) {
            if (zs.avail_in == 0 && inPos < in.size()) {
                const qint64 n = std::min<qint64>(in.size() - inPos, 1 << 30);
                zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.constData() + inPos));
                zs.avail_in = uInt(n);
                inPos += n;
            }
            if (used == out.size()) {
                const qint64 grown
                    = std::min<qint64>(std::max<qint64>(used * 2, 256 * 1024), cap + 1);
                if (grown <= used) {
                    result = {413,
                              QStringLiteral("the %1 body inflates to more than %2 bytes")
                                  .arg(QLatin1String(what))
                                  .arg(cap),
                              {}};
                    break;
                }
                out.resize(grown);
            }
            zs.next_out = reinterpret_cast<Bytef *>(out.data() + used);
            zs.avail_out = uInt(std::min<qint64>(out.size() - used, UINT_MAX));
            const uInt outBefore = zs.avail_out;
            const int ret = inflate(&zs, Z_NO_FLUSH);
            used += outBefore - zs.avail_out;
            if (used > cap) {
                result = {413,
                          QStringLiteral("the %1 body inflates to more than %2 bytes")
                              .arg(QLatin1String(what))
                              .arg(cap),
                          {}};
                break;
            }
            if (ret == Z_STREAM_END) {
                if (zs.avail_in == 0 && inPos == in.size()) {
                    out.resize(used);
                    break;
                }
                // gzip allows several members one after another.
                if (coding == Coding::Gzip && zs.avail_in >= 2 && zs.next_in[0] == 0x1f
                    && zs.next_in[1] == 0x8b) {
                    inflateReset(&zs);
                    continue;
                }
                result = {400,
                          QStringLiteral("unexpected data after the end of the %1 stream")
                              .arg(QLatin1String(what)),
                          {}};
                break;
            }
            if (ret == Z_OK)
                continue;
            if (ret == Z_BUF_ERROR) {
                if (zs.avail_in == 0 && inPos == in.size()) {
                    result = {400,
                              QStringLiteral("the %1 body is truncated").arg(QLatin1String(what)),
                              {}};
                    break;
                }
                continue; // output space ran out: grown above
            }
            if (coding == Coding::Deflate && attempt == 0 && used == 0 && ret == Z_DATA_ERROR) {
                retryRaw = true;
                break;
            }
            result = {400,
                      QStringLiteral("corrupt %1 body: %2")
                          .arg(QLatin1String(what),
                               QString::fromLatin1(zs.msg ? zs.msg : "invalid data")),
                      {}};
            break;
        }
        inflateEnd(&zs);
        if (!retryRaw)
            return result;
    }
    return {400, QStringLiteral("corrupt deflate body"), {}};
}

struct Decoded
{
    int status = 200;
    QString error;
    std::shared_ptr<Otlp::DecodeResult> result;
};

// Runs on a worker thread.
Decoded decodeBody(QByteArray body, Format format, Coding coding, qint64 cap)
{
    Decoded d;
    if (coding != Coding::Identity) {
        Inflated inflated = inflateBody(body, coding, cap);
        body = QByteArray(); // the compressed copy is not needed any more
        if (inflated.status != 200) {
            d.status = inflated.status;
            d.error = inflated.error;
            return d;
        }
        body = std::move(inflated.data);
    } else if (body.size() > cap) {
        d.status = 413;
        d.error = QStringLiteral("the body exceeds the limit of %1 bytes").arg(cap);
        return d;
    }
    d.result = std::make_shared<Otlp::DecodeResult>(
        format == Format::Json ? Otlp::decodeJson(body) : Otlp::decodeProtobuf(body));
    if (!d.result->error.isEmpty()) {
        d.status = 400;
        d.error = d.result->error;
    }
    return d;
}

} // namespace

// Carries work back to the receiver's thread from any thread, and refuses once the receiver is
// gone: the destructor clears `receiver` under the lock, and Qt drops events already posted to a
// deleted object.
struct OtlpReceiver::Mailbox
{
    QMutex mutex;
    OtlpReceiver *receiver = nullptr;

    void post(std::function<void(OtlpReceiver *)> work)
    {
        QMutexLocker lock(&mutex);
        if (!receiver)
            return;
        OtlpReceiver *r = receiver;
        QMetaObject::invokeMethod(
            r, [r, work = std::move(work)] { work(r); }, Qt::QueuedConnection);
    }
};

namespace {

// Shared by every copy of one Reply: the first verdict wins; no verdict at all answers 503.
struct ReplyState
{
    std::function<void(SinkVerdict)> deliver; // posts to the receiver's thread
    std::atomic<bool> done{false};

    ~ReplyState()
    {
        if (!done.exchange(true))
            deliver(SinkVerdict::unavailable(
                5, QStringLiteral("the span sink dropped the request without an answer")));
    }
};

} // namespace

OtlpReceiver::OtlpReceiver(OtlpReceiverOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_server(new Net::HttpServer(this))
    , m_mailbox(std::make_shared<Mailbox>())
{
    m_mailbox->receiver = this;
    if (!m_options.bearerToken.isEmpty())
        m_tokenDigest = QCryptographicHash::hash(m_options.bearerToken, QCryptographicHash::Sha256);

    Net::HttpServerLimits limits;
    limits.maxBodyBytes = m_options.maxBodyBytes;
    limits.readTimeoutMs = m_options.readTimeoutMs;
    m_server->setLimits(limits);
    m_server->route(
        QByteArrayLiteral("POST"),
        QByteArrayLiteral("/v1/traces"),
        [this](Net::HttpRequest request, Net::HttpResponder responder) {
            handleTraces(std::move(request), std::move(responder));
        },
        [this](const Net::HttpRequest &head) { return checkHead(head); });
    m_server->setErrorPage([this](const Net::HttpRequest &head, int status, const QString &reason) {
        const std::optional<Format> format = formatOf(head);
        return rejection(!format || *format == Format::Json, peerOf(head), status, reason);
    });
}

OtlpReceiver::~OtlpReceiver()
{
    QMutexLocker lock(&m_mailbox->mutex);
    m_mailbox->receiver = nullptr;
}

void OtlpReceiver::setSink(Sink sink)
{
    m_sink = std::move(sink);
}

Result<void> OtlpReceiver::listen()
{
    Result<void> r = m_server->listen(m_options.address, m_options.port);
    if (r.ok()) {
        qCInfo(lcOtlp).noquote() << "OTLP/HTTP receiver listening on"
                                 << m_server->address().toString() + u':'
                                        + QString::number(m_server->port());
    } else {
        qCWarning(lcOtlp).noquote() << r.error().message;
    }
    return r;
}

void OtlpReceiver::close()
{
    m_server->close();
}

bool OtlpReceiver::isListening() const
{
    return m_server->isListening();
}

quint16 OtlpReceiver::port() const
{
    return m_server->port();
}

QHostAddress OtlpReceiver::address() const
{
    return m_server->address();
}

bool OtlpReceiver::isAuthorized(const Net::HttpRequest &head) const
{
    const QByteArray value = head.header("Authorization");
    QByteArray presented;
    if (value.size() > 7 && Net::equalsIgnoringCase(QByteArrayView(value).first(7), "Bearer "))
        presented = value.mid(7).trimmed();
    // Compare digests in constant time: neither the content nor the length of the token leaks.
    const QByteArray digest = QCryptographicHash::hash(presented, QCryptographicHash::Sha256);
    unsigned char diff = presented.isEmpty() ? 1 : 0;
    for (qsizetype i = 0; i < digest.size() && i < m_tokenDigest.size(); ++i)
        diff |= static_cast<unsigned char>(digest[i] ^ m_tokenDigest[i]);
    return diff == 0 && digest.size() == m_tokenDigest.size();
}

Net::HttpResponse OtlpReceiver::rejection(
    bool json, const QString &peer, int status, const QString &reason, int retryAfterSeconds)
{
    qCWarning(lcOtlp).noquote() << QStringLiteral("rejected request from %1: %2 %3: %4")
                                       .arg(peer,
                                            QString::number(status),
                                            QString::fromLatin1(Net::reasonPhrase(status)),
                                            reason);
    Net::HttpResponse r = Net::HttpResponse::make(
        status, json ? kJson : kProtobuf, statusBody(json, rpcCodeFor(status), reason));
    if (status == 401)
        r.headers.append(QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Bearer"));
    if (status == 429 || status == 503)
        r.headers.append(QByteArrayLiteral("Retry-After"),
                         QByteArray::number(std::max(1, retryAfterSeconds)));
    emit requestRejected(status, reason);
    return r;
}

std::optional<Net::HttpResponse> OtlpReceiver::checkHead(const Net::HttpRequest &head)
{
    const std::optional<Format> format = formatOf(head);
    const bool json = !format || *format == Format::Json;
    const QString peer = peerOf(head);
    if (!m_tokenDigest.isEmpty() && !isAuthorized(head)) {
        return rejection(json,
                         peer,
                         401,
                         head.headers.contains("Authorization")
                             ? QStringLiteral("wrong bearer token")
                             : QStringLiteral("missing Authorization: Bearer header"));
    }
    if (!format) {
        const QByteArray type = head.header("Content-Type");
        return rejection(json,
                         peer,
                         415,
                         QStringLiteral("unsupported Content-Type \"%1\"; use application/json "
                                        "or application/x-protobuf")
                             .arg(QString::fromLatin1(type.left(100))));
    }
    if (!codingOf(head)) {
        return rejection(json,
                         peer,
                         415,
                         QStringLiteral("unsupported Content-Encoding \"%1\"; use gzip, deflate "
                                        "or none")
                             .arg(QString::fromLatin1(head.header("Content-Encoding").left(100))));
    }
    if (!m_sink) {
        return rejection(json, peer, 503, QStringLiteral("no span store is attached yet"), 5);
    }
    if (m_inFlight >= m_options.maxInFlight) {
        return rejection(json,
                         peer,
                         429,
                         QStringLiteral("%1 requests are already being processed").arg(m_inFlight.load()),
                         1);
    }
    return std::nullopt;
}

void OtlpReceiver::handleTraces(Net::HttpRequest request, Net::HttpResponder responder)
{
    const Format format = formatOf(request).value_or(Format::Json);
    const Coding coding = codingOf(request).value_or(Coding::Identity);
    const quint64 id = m_nextRequestId++;
    Pending pending;
    pending.responder = responder;
    pending.json = format == Format::Json;
    pending.peer = peerOf(request);
    m_pending.insert(id, pending);
    ++m_inFlight;

    std::shared_ptr<Mailbox> mailbox = m_mailbox;
    const qint64 cap = m_options.maxBodyBytes;
    QThreadPool::globalInstance()->start(
        [mailbox, id, body = std::move(request.body), format, coding, cap]() mutable {
            Decoded d = decodeBody(std::move(body), format, coding, cap);
            mailbox->post(
                [id, d](OtlpReceiver *r) { r->onDecoded(id, d.status, d.error, d.result); });
        });
}

void OtlpReceiver::onDecoded(quint64 id,
                             int status,
                             const QString &error,
                             std::shared_ptr<Otlp::DecodeResult> result)
{
    auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    if (!it->responder.isOpen()) {
        // The client is gone and will send again; the spans were not acknowledged.
        qCDebug(lcOtlp) << "client" << it->peer << "left before its request was decoded";
        m_pending.erase(it);
        --m_inFlight;
        return;
    }
    if (status != 200) {
        Pending p = *it;
        m_pending.erase(it);
        --m_inFlight;
        p.responder.respond(rejection(p.json, p.peer, status, error));
        return;
    }
    it->spanCount = qint64(result->spans.size());
    it->rejectedSpans = result->rejectedSpans;
    it->rejectMessage = result->rejectMessage;
    if (result->spans.empty() || !m_sink) {
        Pending p = *it;
        m_pending.erase(it);
        --m_inFlight;
        if (result->spans.empty()) {
            answerAccepted(std::move(p)); // nothing to store: an empty request is a success
        } else {
            p.responder.respond(
                rejection(p.json, p.peer, 503, QStringLiteral("no span store is attached"), 5));
        }
        return;
    }

    auto state = std::make_shared<ReplyState>();
    std::shared_ptr<Mailbox> mailbox = m_mailbox;
    state->deliver = [mailbox, id](SinkVerdict verdict) {
        mailbox->post([id, verdict](OtlpReceiver *r) { r->onVerdict(id, verdict); });
    };
    Reply reply = [state](SinkVerdict verdict) {
        if (!state->done.exchange(true))
            state->deliver(std::move(verdict));
    };
    QTimer::singleShot(m_options.sinkTimeoutMs, this, [this, id] {
        auto late = m_pending.find(id);
        if (late == m_pending.end() || late->answered)
            return;
        late->answered = true;
        --m_inFlight;
        late->responder.respond(
            rejection(late->json,
                      late->peer,
                      503,
                      QStringLiteral("the span store did not answer within %1 ms")
                          .arg(m_options.sinkTimeoutMs),
                      5));
    });
    const Sink sink = m_sink; // the sink may replace itself
    sink(std::move(result), std::move(reply));
}

void OtlpReceiver::onVerdict(quint64 id, const SinkVerdict &verdict)
{
    auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    Pending p = *it;
    m_pending.erase(it);
    if (p.answered) {
        // The client already got a 503 for the timeout; the spans are stored all the same.
        if (verdict.kind == SinkVerdict::Kind::Accepted) {
            m_spansAcceptedTotal += p.spanCount;
            emit spansAccepted(p.spanCount);
        }
        return;
    }
    --m_inFlight;
    switch (verdict.kind) {
    case SinkVerdict::Kind::Accepted:
        m_spansAcceptedTotal += p.spanCount;
        answerAccepted(p);
        emit spansAccepted(p.spanCount);
        break;
    case SinkVerdict::Kind::Unavailable:
        p.responder.respond(rejection(p.json,
                                      p.peer,
                                      503,
                                      verdict.message.isEmpty()
                                          ? QStringLiteral("the span store is unavailable")
                                          : verdict.message,
                                      verdict.retryAfterSeconds));
        break;
    case SinkVerdict::Kind::Overloaded:
        p.responder.respond(rejection(p.json,
                                      p.peer,
                                      429,
                                      verdict.message.isEmpty()
                                          ? QStringLiteral("the span store is overloaded")
                                          : verdict.message,
                                      verdict.retryAfterSeconds));
        break;
    }
}

void OtlpReceiver::answerAccepted(Pending p)
{
    if (p.rejectedSpans > 0) {
        qCWarning(lcOtlp).noquote()
            << QStringLiteral("partial success for %1: accepted %2 spans, rejected %3: %4")
                   .arg(p.peer,
                        QString::number(p.spanCount),
                        QString::number(p.rejectedSpans),
                        p.rejectMessage);
    }
    const QByteArray body = p.json ? Otlp::encodeJsonResponse(p.rejectedSpans, p.rejectMessage)
                                   : Otlp::encodeProtobufResponse(p.rejectedSpans, p.rejectMessage);
    p.responder.respond(200, p.json ? kJson : kProtobuf, body);
}

} // namespace Breaker
