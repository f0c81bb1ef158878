#pragma once

#include "app/sandbox/SandboxOptions.h"
#include "connectors/observability/OtlpCodec.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <deque>
#include <vector>

class QNetworkAccessManager;
class QNetworkReply;

namespace Breaker {

struct OtlpSenderConfig
{
    QUrl url; // the full traces URL (…/v1/traces)
    OtlpFormat format = OtlpFormat::Both;
    int batchWindowMs = 150; // spans that end within this window share a request
    int maxBatchSpans = 512;
    int maxQueuedSpans = 50000; // above this the oldest batches are dropped
    int requestTimeoutMs = 10000;
    int maxInFlight = 6; // QNetworkAccessManager opens at most 6 connections per host
    int initialBackoffMs = 250;
    int maxBackoffMs = 5000;
    int maxRetryAfterMs = 60000; // a longer Retry-After is capped to this
};

// Sends spans to an OTLP/HTTP receiver, the way an OpenTelemetry batch exporter does: spans are
// batched, one request per batch, JSON and protobuf bodies alternating when both are asked for.
// It keeps sending until a receiver listens: connection errors, timeouts and 429/502/503/504
// keep the batch for a retry with exponential backoff (Retry-After wins when given); a 400 or
// any other status is final and logged with the receiver's words. The queue is bounded: when
// it grows over maxQueuedSpans the oldest batches are dropped, counted and warned about.
class OtlpSender : public QObject
{
    Q_OBJECT

public:
    struct Stats
    {
        qint64 spansEnqueued = 0;
        qint64 spansDelivered = 0;
        qint64 spansDropped = 0; // over the queue bound, or still queued at the flush deadline
        qint64 spansRejected
            = 0; // refused by the receiver (400, other final statuses, partial success)
        qint64 requestsOk = 0;
        qint64 requestsFailed = 0; // every failed attempt, retried or not
        qint64 retries = 0;
        qint64 jsonRequests = 0;
        qint64 protobufRequests = 0;
        int queuedSpans = 0; // sealed and waiting, plus the open batch
        int inFlight = 0;
    };

    explicit OtlpSender(OtlpSenderConfig config, QObject *parent = nullptr);
    ~OtlpSender() override;

    const OtlpSenderConfig &config() const { return m_config; }

    // Registers a resource (service.name, ...); spans are enqueued against its index.
    int addResource(std::vector<Otlp::OutAttribute> attributes,
                    QByteArray scopeName,
                    QByteArray scopeVersion);
    void enqueue(int resource, Otlp::OutSpan &&span);

    // Sends what is queued, then emits flushed(true); at the deadline emits flushed(false)
    // with what is left counted as dropped. Enqueued spans after this are still sent.
    void flush(int timeoutMs);

    Stats stats() const;
    // True when the receiver is reachable but more is waiting than one round of requests
    // carries: the producer should slow down. (While the receiver is unreachable this stays
    // false: the queue's bound handles that, dropping the oldest.)
    bool isBehind() const;

signals:
    void batchDelivered(int spans, bool json);
    void flushed(bool complete);

private:
    struct Batch
    {
        QByteArray body;
        bool json = true;
        int spans = 0;
        int attempts = 0;
    };
    struct Resource
    {
        std::vector<Otlp::OutAttribute> attributes;
        QByteArray scopeName;
        QByteArray scopeVersion;
    };

    void seal();
    void enforceBound();
    void pump();
    void send(Batch batch);
    void onFinished(QNetworkReply *reply);
    void retryLater(Batch batch, int retryAfterMs, const QString &why);
    void checkFlushDone();
    int queuedSealedSpans() const { return m_queuedSpans; }

    OtlpSenderConfig m_config;
    QNetworkAccessManager *m_nam = nullptr;
    std::vector<Resource> m_resources;
    std::vector<std::vector<Otlp::OutSpan>> m_open; // per resource
    int m_openSpans = 0;
    QTimer m_windowTimer;
    std::deque<Batch> m_queue;
    int m_queuedSpans = 0;
    QHash<QNetworkReply *, Batch> m_inFlight;
    QTimer m_backoffTimer;
    int m_backoffMs = 0;
    bool m_probing = false; // after a failure: one request at a time until one succeeds
    bool m_nextJson = true;
    bool m_flushing = false;
    QTimer m_flushDeadline;
    QElapsedTimer m_lastDropWarning;
    qint64 m_dropsSinceWarning = 0;
    bool m_unreachableLogged = false;
    Stats m_stats;
};

} // namespace Breaker
