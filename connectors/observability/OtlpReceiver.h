#pragma once

#include "connectors/net/HttpResponder.h"
#include "connectors/net/HttpTypes.h"
#include "connectors/observability/OtlpCodec.h"
#include "models/Result.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace Breaker {

namespace Net {
class HttpServer;
}

// What the span sink (RunMonitor → Store) says about one request's spans.
struct SinkVerdict
{
    enum class Kind {
        Accepted,    // stored: answer 200
        Unavailable, // cannot store now (disk full, Store closed): 503 + Retry-After
        Overloaded,  // too much at once: 429 + Retry-After
    };
    Kind kind = Kind::Accepted;
    int retryAfterSeconds = 0;
    QString message;

    static SinkVerdict accepted() { return {}; }
    static SinkVerdict unavailable(int retryAfterSeconds, QString message)
    {
        return {Kind::Unavailable, retryAfterSeconds, std::move(message)};
    }
    static SinkVerdict overloaded(int retryAfterSeconds, QString message = {})
    {
        return {Kind::Overloaded, retryAfterSeconds, std::move(message)};
    }
};

struct OtlpReceiverOptions
{
    QHostAddress address = QHostAddress(QHostAddress::LocalHost);
    quint16 port = 4318;    // 0: any free port (see OtlpReceiver::port())
    QByteArray bearerToken; // non-empty: requests must carry "Authorization: Bearer <token>"
    qint64 maxBodyBytes = 64LL * 1024 * 1024; // after decompression; above → 413
    int readTimeoutMs = 30000;                // a client that stalls mid-request is dropped
    int sinkTimeoutMs = 30000;                // a sink that does not answer within this → 503
    int maxInFlight = 64; // requests being decoded or waiting on the sink; above → 429
};

// OTLP/HTTP trace receiver: POST /v1/traces, JSON or protobuf, optionally gzip/deflate
// (PROTOCOLS.md section 5.1). Bodies are decompressed and decoded on a worker thread; the spans
// go to the sink on this object's thread, and the client gets its 200 only once the sink has
// accepted them, so nothing acknowledged is lost.
class OtlpReceiver : public QObject
{
    Q_OBJECT

public:
    // May be called from any thread, once; later calls are ignored. Dropping every copy without
    // calling it answers the client 503.
    using Reply = std::function<void(SinkVerdict)>;
    using Sink = std::function<void(std::shared_ptr<Otlp::DecodeResult>, Reply)>;

    explicit OtlpReceiver(OtlpReceiverOptions options = {}, QObject *parent = nullptr);
    ~OtlpReceiver() override;

    void setSink(Sink sink);

    Result<void> listen();
    void close();
    bool isListening() const;
    quint16 port() const;
    QHostAddress address() const;
    const OtlpReceiverOptions &options() const { return m_options; }

    // Safe to read from any thread.
    qint64 spansAcceptedTotal() const { return m_spansAcceptedTotal.load(std::memory_order_relaxed); }
    int requestsInFlight() const { return m_inFlight.load(std::memory_order_relaxed); }

signals:
    void spansAccepted(qint64 count);
    void requestRejected(int httpStatus, QString reason);

private:
    struct Mailbox;
    struct Pending
    {
        Net::HttpResponder responder;
        bool json = true;
        QString peer;
        qint64 spanCount = 0;
        qint64 rejectedSpans = 0;
        QString rejectMessage;
        bool answered = false; // the client got an answer (a timeout) before the sink's verdict
    };

    std::optional<Net::HttpResponse> checkHead(const Net::HttpRequest &head);
    void handleTraces(Net::HttpRequest request, Net::HttpResponder responder);
    void onDecoded(quint64 id,
                   int status,
                   const QString &error,
                   std::shared_ptr<Otlp::DecodeResult> result);
    void onVerdict(quint64 id, const SinkVerdict &verdict);
    bool isAuthorized(const Net::HttpRequest &head) const;
    Net::HttpResponse rejection(bool json,
                                const QString &peer,
                                int status,
                                const QString &reason,
                                int retryAfterSeconds = 0);
    void answerAccepted(Pending pending);

    OtlpReceiverOptions m_options;
    QByteArray m_tokenDigest;
    Net::HttpServer *m_server;
    std::shared_ptr<Mailbox> m_mailbox;
    Sink m_sink;
    QHash<quint64, Pending> m_pending;
    quint64 m_nextRequestId = 1;
    std::atomic<int> m_inFlight{0};
    std::atomic<qint64> m_spansAcceptedTotal{0};
};

} // namespace Breaker
