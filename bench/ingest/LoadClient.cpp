#include "bench/ingest/LoadClient.h"

#include <QHostAddress>
#include <QTcpSocket>
#include <QTimer>

#include <time.h>

#include <algorithm>

namespace Breaker::Bench {

namespace {

double threadCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// The value of `name` in a block of header lines, or empty.
QByteArray headerValue(QByteArrayView headers, QByteArrayView name)
{
    qsizetype pos = 0;
    while (pos < headers.size()) {
        qsizetype end = headers.indexOf("\r\n", pos);
        if (end < 0)
            end = headers.size();
        const QByteArrayView line = headers.sliced(pos, end - pos);
        const qsizetype colon = line.indexOf(':');
        if (colon == name.size() && line.first(colon).compare(name, Qt::CaseInsensitive) == 0)
            return line.sliced(colon + 1).toByteArray().trimmed();
        pos = end + 2;
    }
    return {};
}

} // namespace

struct LoadClient::Connection
{
    QTcpSocket *socket = nullptr;
    QByteArray in;
    qint64 body = -1; // index of the body in flight
    Clock::time_point sentAt{};
};

LoadClient::LoadClient(QObject *context, quint16 port, QByteArray contentType,
                       const std::vector<QByteArray> *bodies, const std::vector<int> *spansPerBody,
                       int connections, qint64 segmentSpans)
    : m_context(context)
    , m_port(port)
    , m_contentType(std::move(contentType))
    , m_bodies(bodies)
    , m_spans(spansPerBody)
    , m_connectionCount(connections)
    , m_segmentSpans(segmentSpans)
{
    m_result.latencyMs.reserve(bodies->size());
}

LoadClient::~LoadClient()
{
    for (auto &c : m_connections) {
        if (c->socket) {
            c->socket->disconnect();
            c->socket->abort();
            delete c->socket;
        }
    }
}

void LoadClient::start(std::function<void()> finished)
{
    m_onFinished = std::move(finished);
    m_outstanding = qint64(m_bodies->size());
    m_cpuStart = threadCpuSeconds();
    for (int i = 0; i < m_connectionCount; ++i) {
        m_connections.push_back(std::make_unique<Connection>());
        connectOne(*m_connections.back());
    }
}

void LoadClient::connectOne(Connection &c)
{
    if (c.socket) {
        c.socket->disconnect();
        c.socket->deleteLater();
    }
    c.socket = new QTcpSocket(m_context);
    c.in.clear();
    Connection *cp = &c;
    QObject::connect(c.socket, &QTcpSocket::connected, m_context, [this, cp] {
        cp->socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        sendNext(*cp);
    });
    QObject::connect(c.socket, &QTcpSocket::readyRead, m_context, [this, cp] { onReadyRead(*cp); });
    QObject::connect(c.socket, &QTcpSocket::disconnected, m_context, [this, cp] {
        if (m_finished)
            return;
        if (cp->body >= 0) {
            fail("connection closed by the receiver with a request in flight");
            m_retry.push_back(size_t(cp->body));
            ++m_result.retries;
            cp->body = -1;
        }
        connectOne(*cp);
    });
    QObject::connect(c.socket, &QTcpSocket::errorOccurred, m_context,
                     [this, cp](QAbstractSocket::SocketError e) {
                         if (e != QAbstractSocket::RemoteHostClosedError)
                             fail("socket error: " + cp->socket->errorString().toUtf8());
                     });
    c.socket->connectToHost(QHostAddress(QHostAddress::LocalHost), m_port);
}

void LoadClient::sendNext(Connection &c)
{
    if (m_finished || c.body >= 0 || c.socket->state() != QAbstractSocket::ConnectedState)
        return;
    size_t index;
    if (!m_retry.empty()) {
        index = m_retry.front();
        m_retry.pop_front();
    } else if (m_next < m_bodies->size()) {
        index = m_next++;
    } else {
        return;
    }
    const QByteArray &body = (*m_bodies)[index];
    QByteArray head = QByteArrayLiteral("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:")
                      + QByteArray::number(m_port) + QByteArrayLiteral("\r\nContent-Type: ")
                      + m_contentType + QByteArrayLiteral("\r\nContent-Length: ")
                      + QByteArray::number(body.size()) + QByteArrayLiteral("\r\n\r\n");
    c.body = qint64(index);
    c.sentAt = Clock::now();
    if (!m_started) {
        m_started = true;
        m_result.firstSend = c.sentAt;
    }
    c.socket->write(head);
    c.socket->write(body);
}

void LoadClient::onReadyRead(Connection &c)
{
    c.in += c.socket->readAll();
    for (;;) {
        const qsizetype headerEnd = c.in.indexOf("\r\n\r\n");
        if (headerEnd < 0)
            return;
        const qsizetype lineEnd = c.in.indexOf("\r\n");
        const QByteArray statusLine = c.in.left(lineEnd);
        const QByteArray headers = c.in.mid(lineEnd + 2, headerEnd - lineEnd - 2);
        const qint64 length = headerValue(headers, "Content-Length").toLongLong();
        if (c.in.size() < headerEnd + 4 + length)
            return;
        const int status = statusLine.size() >= 12 ? statusLine.mid(9, 3).toInt() : 0;
        c.in.remove(0, headerEnd + 4 + length);
        onAnswer(c, status, headers);
        if (m_finished)
            return;
    }
}

void LoadClient::onAnswer(Connection &c, int status, const QByteArray &headers)
{
    if (c.body < 0) {
        fail("an answer without a request: " + QByteArray::number(status));
        return;
    }
    const size_t index = size_t(c.body);
    c.body = -1;
    if (status == 200) {
        const auto now = Clock::now();
        m_result.lastOk = now;
        m_result.latencyMs.push_back(std::chrono::duration<double, std::milli>(now - c.sentAt).count());
        ++m_result.requestsOk;
        const qint64 before = m_result.spansOk;
        m_result.spansOk += (*m_spans)[index];
        if (m_segmentSpans > 0 && m_result.spansOk / m_segmentSpans > before / m_segmentSpans)
            m_result.segmentEnd.push_back(now);
        --m_outstanding;
        checkDone();
    } else {
        ++m_result.retries;
        if (m_result.errors.size() < 5)
            m_result.errors.append("HTTP " + QByteArray::number(status) + " (retried)");
        const int retryAfterMs = std::clamp(headerValue(headers, "Retry-After").toInt() * 1000, 50, 1000);
        QTimer::singleShot(retryAfterMs, m_context, [this, index] {
            m_retry.push_back(index);
            for (auto &other : m_connections)
                sendNext(*other);
        });
    }
    sendNext(c);
}

void LoadClient::fail(const QByteArray &why)
{
    if (m_result.errors.size() < 5)
        m_result.errors.append(why);
}

void LoadClient::checkDone()
{
    if (m_outstanding > 0 || m_finished)
        return;
    m_finished = true;
    m_result.threadCpuSeconds = threadCpuSeconds() - m_cpuStart;
    if (m_onFinished)
        m_onFinished();
}

} // namespace Breaker::Bench
