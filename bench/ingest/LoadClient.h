#pragma once

#include <QByteArray>
#include <QList>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

class QObject;
class QTcpSocket;

namespace Breaker::Bench {

// A minimal HTTP/1.1 load client for bench_ingest: `connections` keep-alive connections to
// 127.0.0.1:port, each with one request in flight, POSTing pre-encoded bodies in order until
// every body got a 200. A non-200 answer (429, 503) is retried after its Retry-After (capped
// at 1 s) and counted. Lives on one thread (create, start and destroy it there); it is not a
// QObject itself, the sockets are children of `context`.
class LoadClient
{
public:
    using Clock = std::chrono::steady_clock;

    struct Result
    {
        Clock::time_point firstSend{};
        Clock::time_point lastOk{};
        qint64 requestsOk = 0;
        qint64 spansOk = 0;
        qint64 retries = 0;
        QList<QByteArray> errors;                  // first few transport errors / bad answers
        std::vector<double> latencyMs;             // per successful request, send → 200
        std::vector<Clock::time_point> segmentEnd; // when spansOk crossed each segment
        double threadCpuSeconds = 0;               // CPU the client thread used
    };

    LoadClient(QObject *context, quint16 port, QByteArray contentType,
               const std::vector<QByteArray> *bodies, const std::vector<int> *spansPerBody,
               int connections, qint64 segmentSpans);
    ~LoadClient();

    // Calls `finished` (on this thread) once every body is acknowledged, or after a fatal error.
    void start(std::function<void()> finished);
    const Result &result() const { return m_result; }

private:
    struct Connection;
    void connectOne(Connection &c);
    void sendNext(Connection &c);
    void onReadyRead(Connection &c);
    void onAnswer(Connection &c, int status, const QByteArray &headers);
    void fail(const QByteArray &why);
    void checkDone();

    QObject *m_context;
    quint16 m_port;
    QByteArray m_contentType;
    const std::vector<QByteArray> *m_bodies;
    const std::vector<int> *m_spans;
    int m_connectionCount;
    qint64 m_segmentSpans;
    std::vector<std::unique_ptr<Connection>> m_connections;
    size_t m_next = 0;
    std::deque<size_t> m_retry;
    qint64 m_outstanding = 0; // bodies not yet acknowledged
    bool m_started = false;
    bool m_finished = false;
    double m_cpuStart = 0;
    std::function<void()> m_onFinished;
    Result m_result;
};

} // namespace Breaker::Bench
