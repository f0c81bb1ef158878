#include "connectors/net/HttpClient.h"

#include <QFile>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QSslCertificate>
#include <QTimer>

namespace Breaker::Net {

QByteArray ClientReply::header(QByteArrayView name) const
{
    for (const auto &[n, v] : headers)
        if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) == 0)
            return v;
    return {};
}

HttpClient::HttpClient(ClientOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_nam(this)
    , m_ssl(QSslConfiguration::defaultConfiguration())
{
    const int extra = std::max(0, (m_options.connectionsPerHost + 5) / 6 - 1);
    for (int i = 0; i < extra; ++i)
        m_pool.push_back(std::make_unique<QNetworkAccessManager>());
    auto setUp = [this](QNetworkAccessManager &nam) {
        nam.setRedirectPolicy(QNetworkRequest::NoLessSafeRedirectPolicy);
        if (m_options.proxy.isValid() && !m_options.proxy.isEmpty()) {
            nam.setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, m_options.proxy.host(),
                                       quint16(m_options.proxy.port(8080))));
        } else {
            nam.setProxy(QNetworkProxy::NoProxy);
        }
    };
    setUp(m_nam);
    for (auto &nam : m_pool)
        setUp(*nam);
}

QNetworkAccessManager &HttpClient::nextManager()
{
    if (m_pool.empty())
        return m_nam;
    const size_t i = m_next++ % (m_pool.size() + 1);
    return i == 0 ? m_nam : *m_pool[i - 1];
}

HttpClient::~HttpClient() = default;

Result<void> HttpClient::loadCaFile()
{
    if (m_options.caFile.isEmpty())
        return {};
    QFile file(m_options.caFile);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1: cannot read ca_file %2: %3")
                             .arg(m_options.provider, m_options.caFile, file.errorString()),
                         m_options.provider);
    const QList<QSslCertificate> certs = QSslCertificate::fromData(file.readAll(), QSsl::Pem);
    if (certs.isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1: ca_file %2 holds no PEM certificate")
                             .arg(m_options.provider, m_options.caFile),
                         m_options.provider);
    m_ssl.addCaCertificates(certs);
    return {};
}

QNetworkRequest HttpClient::makeRequest(const QUrl &url, const Headers &headers) const
{
    QNetworkRequest request(url);
    request.setSslConfiguration(m_ssl); // peer verification stays VerifyPeer
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    for (const auto &[name, value] : headers)
        request.setRawHeader(name, value);
    return request;
}

Error HttpClient::transportError(QNetworkReply *reply, const QUrl &url) const
{
    const QString where = url.toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
    if (reply->error() == QNetworkReply::OperationCanceledError
        || reply->error() == QNetworkReply::TimeoutError)
        return makeError(Error::Kind::Timeout,
                         QStringLiteral("%1 did not answer within %2 s (%3)")
                             .arg(m_options.provider)
                             .arg(m_options.timeoutMs / 1000.0)
                             .arg(where),
                         m_options.provider);
    return makeError(Error::Kind::Unavailable,
                     QStringLiteral("%1 is unreachable at %2: %3")
                         .arg(m_options.provider, where, reply->errorString()),
                     m_options.provider);
}

namespace {

ClientReply replyHead(QNetworkReply *reply)
{
    ClientReply out;
    out.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    out.contentType = reply->rawHeader("Content-Type");
    for (const auto &pair : reply->rawHeaderPairs())
        out.headers.append(pair);
    return out;
}

bool isTransportFailure(QNetworkReply *reply)
{
    // An HTTP error status is an answer; only failures below HTTP are transport failures.
    if (reply->error() == QNetworkReply::NoError)
        return false;
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 0;
}

} // namespace

void HttpClient::send(const QByteArray &method, const QUrl &url, const Headers &headers,
                      const QByteArray &body, Done done)
{
    QNetworkRequest request = makeRequest(url, headers);
    request.setTransferTimeout(m_options.timeoutMs);
    QNetworkReply *reply = nextManager().sendCustomRequest(request, method, body);
    // transferTimeout counts idle time; the deadline covers the whole exchange.
    auto *deadline = new QTimer(reply);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, reply, [reply] { reply->abort(); });
    deadline->start(m_options.timeoutMs);
    auto tooBig = std::make_shared<bool>(false);
    connect(reply, &QNetworkReply::downloadProgress, reply, [this, reply, tooBig](qint64 received, qint64) {
        if (received > m_options.maxBodyBytes && !*tooBig) {
            *tooBig = true;
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply, url, done = std::move(done), tooBig] {
        reply->deleteLater();
        if (*tooBig) {
            done(makeError(Error::Kind::Invalid,
                           QStringLiteral("%1 sent a body larger than %2 bytes (%3)")
                               .arg(m_options.provider)
                               .arg(m_options.maxBodyBytes)
                               .arg(url.toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery)),
                           m_options.provider));
            return;
        }
        if (isTransportFailure(reply)) {
            done(transportError(reply, url));
            return;
        }
        ClientReply out = replyHead(reply);
        out.body = reply->readAll();
        done(out);
    });
}

QNetworkReply *HttpClient::openStream(const QByteArray &method, const QUrl &url, const Headers &headers,
                                      const QByteArray &body, Stream stream, int idleTimeoutMs)
{
    QNetworkRequest request = makeRequest(url, headers);
    if (idleTimeoutMs > 0)
        request.setTransferTimeout(idleTimeoutMs);
    QNetworkReply *reply = m_nam.sendCustomRequest(request, method, body);
    auto state = std::make_shared<Stream>(std::move(stream));
    auto accepted = std::make_shared<int>(0); // 0 unknown, 1 streaming, -1 collecting an error
    // Until the headers arrive, the ordinary deadline applies.
    auto *headDeadline = new QTimer(reply);
    headDeadline->setSingleShot(true);
    connect(headDeadline, &QTimer::timeout, reply, [reply] { reply->abort(); });
    headDeadline->start(m_options.timeoutMs);
    auto onHead = [reply, state, accepted, headDeadline] {
        if (*accepted != 0)
            return;
        headDeadline->stop();
        const ClientReply head = replyHead(reply);
        *accepted = (state->onStatus && !state->onStatus(head)) ? -1 : 1;
    };
    connect(reply, &QNetworkReply::metaDataChanged, reply, onHead);
    connect(reply, &QNetworkReply::readyRead, reply, [reply, state, accepted, onHead] {
        onHead();
        if (*accepted == 1 && state->onBytes)
            state->onBytes(reply->readAll());
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply, url, state, accepted, onHead] {
        reply->deleteLater();
        if (reply->property("breakerAborted").toBool())
            return; // the caller ended it and expects nothing more
        if (isTransportFailure(reply) && *accepted != -1) {
            if (state->onEnd)
                state->onEnd(transportError(reply, url));
            return;
        }
        onHead();
        ClientReply out = replyHead(reply);
        if (*accepted == 1 && state->onBytes) {
            const QByteArray rest = reply->readAll();
            if (!rest.isEmpty())
                state->onBytes(rest);
        } else {
            out.body = reply->readAll();
        }
        if (state->onEnd)
            state->onEnd(out);
    });
    return reply;
}

void HttpClient::abort(QNetworkReply *reply)
{
    if (reply) {
        reply->setProperty("breakerAborted", true);
        reply->abort();
    }
}

} // namespace Breaker::Net
