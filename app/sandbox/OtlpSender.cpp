#include "app/sandbox/OtlpSender.h"

#include "BreakerVersion.h"
#include "models/Logging.h"

#include <QDateTime>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>

#include <algorithm>

namespace Breaker {

namespace {

// Retry-After as delay-seconds or an HTTP-date; -1 when absent or unreadable.
int retryAfterMs(const QByteArray &value)
{
    const QByteArray text = value.trimmed();
    if (text.isEmpty())
        return -1;
    bool ok = false;
    const qint64 seconds = text.toLongLong(&ok);
    if (ok)
        return seconds < 0 ? -1 : int(std::min<qint64>(seconds, 24 * 3600) * 1000);
    const QDateTime when = QDateTime::fromString(QString::fromLatin1(text), Qt::RFC2822Date);
    if (!when.isValid())
        return -1;
    return int(
        std::clamp<qint64>(QDateTime::currentDateTimeUtc().msecsTo(when), 0, 24 * 3600 * 1000));
}

bool readVarint(const QByteArray &data, qsizetype &pos, quint64 &value)
{
    value = 0;
    for (int shift = 0; shift < 64 && pos < data.size(); shift += 7) {
        const auto byte = quint8(data[pos++]);
        value |= quint64(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return true;
    }
    return false;
}

struct PartialSuccess
{
    qint64 rejected = 0;
    QString message;
};

// ExportTraceServiceResponse.partial_success (field 1) {1 rejected_spans, 2 error_message}.
PartialSuccess partialFromProtobuf(const QByteArray &body)
{
    PartialSuccess result;
    qsizetype pos = 0;
    quint64 key = 0;
    while (pos < body.size() && readVarint(body, pos, key)) {
        const int field = int(key >> 3);
        const int wire = int(key & 7);
        if (wire != 2) {
            quint64 skip = 0;
            if (wire == 0 && readVarint(body, pos, skip))
                continue;
            if (wire == 1) {
                pos += 8;
                continue;
            }
            if (wire == 5) {
                pos += 4;
                continue;
            }
            break;
        }
        quint64 len = 0;
        if (!readVarint(body, pos, len) || len > quint64(body.size() - pos))
            break;
        if (field == 1) {
            const QByteArray inner = body.mid(pos, qsizetype(len));
            qsizetype p = 0;
            quint64 k = 0;
            while (p < inner.size() && readVarint(inner, p, k)) {
                quint64 v = 0;
                if ((k >> 3) == 1 && (k & 7) == 0 && readVarint(inner, p, v)) {
                    result.rejected = qint64(v);
                } else if ((k >> 3) == 2 && (k & 7) == 2 && readVarint(inner, p, v)
                           && v <= quint64(inner.size() - p)) {
                    result.message = QString::fromUtf8(inner.mid(p, qsizetype(v)));
                    p += qsizetype(v);
                } else {
                    break;
                }
            }
        }
        pos += qsizetype(len);
    }
    return result;
}

PartialSuccess partialFromJson(const QByteArray &body)
{
    PartialSuccess result;
    const QJsonObject partial
        = QJsonDocument::fromJson(body).object().value(QLatin1String("partialSuccess")).toObject();
    const QJsonValue rejected = partial.value(QLatin1String("rejectedSpans"));
    result.rejected = rejected.isString() ? rejected.toString().toLongLong() : rejected.toInteger();
    result.message = partial.value(QLatin1String("errorMessage")).toString();
    return result;
}

QString excerpt(const QByteArray &body)
{
    QString text = QString::fromUtf8(body.left(1024)).simplified();
    if (body.size() > 1024)
        text += QStringLiteral(" …");
    return text;
}

} // namespace

OtlpSender::OtlpSender(OtlpSenderConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_nam(new QNetworkAccessManager(this))
{
    m_config.maxBatchSpans = std::max(m_config.maxBatchSpans, 1);
    m_config.maxInFlight = std::max(m_config.maxInFlight, 1);
    m_nam->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    const QString host = m_config.url.host();
    if (host == QLatin1String("localhost") || QHostAddress(host).isLoopback())
        m_nam->setProxy(QNetworkProxy::NoProxy); // a console on this machine, never via a proxy

    m_windowTimer.setSingleShot(true);
    connect(&m_windowTimer, &QTimer::timeout, this, [this] {
        seal();
        pump();
    });
    m_backoffTimer.setSingleShot(true);
    connect(&m_backoffTimer, &QTimer::timeout, this, &OtlpSender::pump);
    m_flushDeadline.setSingleShot(true);
    connect(&m_flushDeadline, &QTimer::timeout, this, [this] {
        if (!m_flushing)
            return;
        m_flushing = false;
        const qint64 left = m_queuedSpans + m_openSpans;
        int inFlight = 0;
        for (const Batch &b : std::as_const(m_inFlight))
            inFlight += b.spans;
        m_stats.spansDropped += left;
        qCWarning(lcSandbox).nospace()
            << "flush deadline reached: " << left << " spans not sent and " << inFlight
            << " spans still in flight to " << m_config.url.toDisplayString();
        emit flushed(false);
    });
}

OtlpSender::~OtlpSender()
{
    const auto replies = m_inFlight.keys();
    m_inFlight.clear();
    for (QNetworkReply *reply : replies) {
        disconnect(reply, nullptr, this, nullptr);
        reply->abort();
        delete reply;
    }
}

int OtlpSender::addResource(std::vector<Otlp::OutAttribute> attributes,
                            QByteArray scopeName,
                            QByteArray scopeVersion)
{
    m_resources.push_back({std::move(attributes), std::move(scopeName), std::move(scopeVersion)});
    m_open.emplace_back();
    return int(m_resources.size()) - 1;
}

void OtlpSender::enqueue(int resource, Otlp::OutSpan &&span)
{
    if (resource < 0 || resource >= int(m_open.size())) {
        qCWarning(lcSandbox) << "span for an unknown resource" << resource << "dropped";
        return;
    }
    m_open[size_t(resource)].push_back(std::move(span));
    ++m_openSpans;
    ++m_stats.spansEnqueued;
    if (m_openSpans >= m_config.maxBatchSpans) {
        seal();
        pump();
    } else if (!m_windowTimer.isActive()) {
        m_windowTimer.start(m_config.batchWindowMs);
    }
}

void OtlpSender::seal()
{
    m_windowTimer.stop();
    if (m_openSpans == 0)
        return;
    std::vector<Otlp::OutResourceSpans> request;
    for (size_t i = 0; i < m_open.size(); ++i) {
        if (m_open[i].empty())
            continue;
        Otlp::OutResourceSpans rs;
        rs.resource = m_resources[i].attributes;
        rs.scopeName = m_resources[i].scopeName;
        rs.scopeVersion = m_resources[i].scopeVersion;
        rs.spans = std::move(m_open[i]);
        m_open[i].clear();
        request.push_back(std::move(rs));
    }
    Batch batch;
    switch (m_config.format) {
    case OtlpFormat::Json:
        batch.json = true;
        break;
    case OtlpFormat::Protobuf:
        batch.json = false;
        break;
    case OtlpFormat::Both:
        batch.json = m_nextJson;
        m_nextJson = !m_nextJson;
        break;
    }
    batch.body = batch.json ? Otlp::encodeJson(request) : Otlp::encodeProtobuf(request);
    batch.spans = m_openSpans;
    m_openSpans = 0;
    m_queuedSpans += batch.spans;
    m_queue.push_back(std::move(batch));
    enforceBound();
}

void OtlpSender::enforceBound()
{
    while (m_queuedSpans > m_config.maxQueuedSpans && !m_queue.empty()) {
        const int n = m_queue.front().spans;
        m_queue.pop_front();
        m_queuedSpans -= n;
        m_stats.spansDropped += n;
        m_dropsSinceWarning += n;
    }
    if (m_dropsSinceWarning > 0
        && (!m_lastDropWarning.isValid() || m_lastDropWarning.elapsed() >= 5000)) {
        qCWarning(lcSandbox).nospace()
            << "OTLP queue over " << m_config.maxQueuedSpans << " spans: dropped the oldest "
            << m_dropsSinceWarning << " (" << m_stats.spansDropped << " in all); is a console "
            << "receiving at " << m_config.url.toDisplayString() << "?";
        m_dropsSinceWarning = 0;
        m_lastDropWarning.start();
    }
}

void OtlpSender::pump()
{
    if (m_backoffTimer.isActive())
        return;
    const int limit = m_probing ? 1 : m_config.maxInFlight;
    while (!m_queue.empty() && m_inFlight.size() < limit) {
        Batch batch = std::move(m_queue.front());
        m_queue.pop_front();
        m_queuedSpans -= batch.spans;
        send(std::move(batch));
    }
}

void OtlpSender::send(Batch batch)
{
    QNetworkRequest request(m_config.url);
    request.setHeader(QNetworkRequest::ContentTypeHeader,
                      batch.json ? QByteArrayLiteral("application/json")
                                 : QByteArrayLiteral("application/x-protobuf"));
    request.setHeader(QNetworkRequest::UserAgentHeader,
                      QByteArrayLiteral("breaker-sandbox/" BREAKER_VERSION));
    request.setTransferTimeout(m_config.requestTimeoutMs);
    if (batch.json)
        ++m_stats.jsonRequests;
    else
        ++m_stats.protobufRequests;
    QNetworkReply *reply = m_nam->post(request, batch.body);
    m_inFlight.insert(reply, std::move(batch));
    connect(reply, &QNetworkReply::finished, this, [this, reply] { onFinished(reply); });
}

void OtlpSender::onFinished(QNetworkReply *reply)
{
    reply->deleteLater();
    const auto it = m_inFlight.find(reply);
    if (it == m_inFlight.end())
        return;
    Batch batch = std::move(*it);
    m_inFlight.erase(it);

    const QVariant statusAttribute = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    const int status = statusAttribute.isValid() ? statusAttribute.toInt() : 0;
    if (status >= 200 && status < 300) {
        const QByteArray body = reply->readAll();
        const PartialSuccess partial
            = batch.json ? partialFromJson(body) : partialFromProtobuf(body);
        const qint64 rejected = std::clamp<qint64>(partial.rejected, 0, batch.spans);
        if (rejected > 0 || !partial.message.isEmpty()) {
            qCWarning(lcSandbox).nospace() << "OTLP receiver rejected " << rejected << " of "
                                           << batch.spans << " spans: " << partial.message;
        }
        ++m_stats.requestsOk;
        m_stats.spansDelivered += batch.spans - rejected;
        m_stats.spansRejected += rejected;
        m_backoffMs = 0;
        m_probing = false;
        if (m_unreachableLogged) {
            qCInfo(lcSandbox) << "OTLP receiver at" << m_config.url.toDisplayString()
                              << "is accepting spans again";
            m_unreachableLogged = false;
        }
        emit batchDelivered(batch.spans, batch.json);
    } else if (status == 0 || status == 429 || status == 502 || status == 503 || status == 504) {
        ++m_stats.requestsFailed;
        const QString why
            = status == 0 ? reply->errorString() : QStringLiteral("HTTP %1").arg(status);
        const int after = status == 0 ? -1 : retryAfterMs(reply->rawHeader("Retry-After"));
        retryLater(std::move(batch), after, why);
    } else {
        ++m_stats.requestsFailed;
        m_stats.spansRejected += batch.spans;
        qCWarning(lcSandbox).nospace()
            << "OTLP receiver at " << m_config.url.toDisplayString() << " refused a "
            << (batch.json ? "JSON" : "protobuf") << " batch of " << batch.spans
            << " spans with HTTP " << status << " (not retried): " << excerpt(reply->readAll());
    }
    pump();
    checkFlushDone();
}

void OtlpSender::retryLater(Batch batch, int retryAfter, const QString &why)
{
    ++batch.attempts;
    ++m_stats.retries;
    m_queuedSpans += batch.spans;
    m_queue.push_front(std::move(batch));
    m_probing = true;
    if (!m_unreachableLogged) {
        qCWarning(lcSandbox).nospace()
            << "OTLP receiver at " << m_config.url.toDisplayString() << " is not accepting spans ("
            << why << "); keeping them and retrying";
        m_unreachableLogged = true;
    } else {
        qCDebug(lcSandbox) << "OTLP send failed again:" << why;
    }
    int delay = 0;
    if (retryAfter >= 0) {
        delay = std::min(retryAfter, m_config.maxRetryAfterMs);
    } else if (m_backoffTimer.isActive()) {
        delay = m_backoffTimer.remainingTime(); // several requests failed together: back off once
    } else {
        m_backoffMs = m_backoffMs == 0 ? m_config.initialBackoffMs
                                       : std::min(m_backoffMs * 2, m_config.maxBackoffMs);
        // ±20% jitter so that several senders do not retry in lockstep.
        delay = int(m_backoffMs * (0.8 + 0.4 * QRandomGenerator::global()->generateDouble()));
    }
    if (m_flushing)
        delay = std::min(delay, 200);
    if (!m_backoffTimer.isActive() || m_backoffTimer.remainingTime() < delay)
        m_backoffTimer.start(std::max(delay, 0));
    enforceBound();
}

void OtlpSender::flush(int timeoutMs)
{
    seal();
    m_flushing = true;
    m_flushDeadline.start(std::max(timeoutMs, 0));
    if (m_backoffTimer.isActive() && m_backoffTimer.remainingTime() > 200)
        m_backoffTimer.start(200); // one more try before the deadline
    pump();
    QMetaObject::invokeMethod(this, &OtlpSender::checkFlushDone, Qt::QueuedConnection);
}

void OtlpSender::checkFlushDone()
{
    if (!m_flushing || !m_queue.empty() || !m_inFlight.isEmpty() || m_openSpans > 0)
        return;
    m_flushing = false;
    m_flushDeadline.stop();
    emit flushed(true);
}

bool OtlpSender::isBehind() const
{
    return !m_probing && !m_backoffTimer.isActive()
           && m_queuedSpans >= m_config.maxInFlight * m_config.maxBatchSpans;
}

OtlpSender::Stats OtlpSender::stats() const
{
    Stats s = m_stats;
    s.queuedSpans = m_queuedSpans + m_openSpans;
    s.inFlight = int(m_inFlight.size());
    return s;
}

} // namespace Breaker
