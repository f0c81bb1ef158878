// breaker-sandbox's A2A origins, driven over raw HTTP the way Breaker's connector (and a2a-js's
// client) drive a real A2A server: cards in both dialects, tasks over JSON-RPC and HTTP+JSON in
// v1.0 and v0.3, SSE, cancel, approvals, and the telemetry each of those leaves behind.
#include "connectors/observability/OtlpCodec.h"
#include "models/Profile.h"
#include "tests/common/PeerProcess.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>
#include <QUuid>

using namespace Breaker;
using namespace Qt::StringLiterals;

namespace {

// OTLP/HTTP JSON sink on loopback: answers 200 {} and keeps every span with the time it came.
class OtlpSink : public QObject
{
    Q_OBJECT

public:
    struct Received
    {
        Span span;
        qint64 atMs = 0;
    };

    OtlpSink()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, this, [this, s] { onData(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
        m_clock.start();
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    QString endpoint() const { return u"http://127.0.0.1:%1"_s.arg(m_server.serverPort()); }
    qint64 nowMs() const { return m_clock.elapsed(); }

    std::vector<Received> spansOf(const QByteArray &taskId) const
    {
        std::vector<Received> out;
        for (const Received &r : m_spans)
            if (r.span.a2aTaskId == taskId)
                out.push_back(r);
        return out;
    }
    const Received *rootOf(const QByteArray &taskId) const
    {
        for (const Received &r : m_spans)
            if (r.span.a2aTaskId == taskId && !r.span.hasParent)
                return &r;
        return nullptr;
    }

private:
    void onData(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        for (;;) {
            const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            qsizetype length = 0;
            for (const QByteArray &line : buffer.left(headEnd).split('\n')) {
                const qsizetype colon = line.indexOf(':');
                if (colon > 0 && line.left(colon).trimmed().toLower() == "content-length")
                    length = line.mid(colon + 1).trimmed().toLongLong();
            }
            if (buffer.size() < headEnd + 4 + length)
                return;
            const QByteArray body = buffer.mid(headEnd + 4, length);
            buffer.remove(0, headEnd + 4 + length);
            const Otlp::DecodeResult d = Otlp::decodeJson(body);
            for (const Span &s : d.spans)
                m_spans.push_back({s, m_clock.elapsed()});
            socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: 2\r\n\r\n{}");
        }
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    std::vector<Received> m_spans;
    QElapsedTimer m_clock;
};

struct Reply
{
    int status = 0;
    QByteArray contentType;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

// One SSE response, read as it arrives (PROTOCOLS.md 1.1: events end at a blank line).
class SseStream : public QObject
{
    Q_OBJECT

public:
    explicit SseStream(QNetworkReply *reply)
        : m_reply(reply)
    {
        connect(reply, &QNetworkReply::readyRead, this, [this] {
            m_buffer += m_reply->readAll();
            m_buffer.replace("\r\n", "\n");
            qsizetype end;
            while ((end = m_buffer.indexOf("\n\n")) >= 0) {
                QByteArray data;
                for (const QByteArray &line : m_buffer.left(end).split('\n'))
                    if (line.startsWith("data:"))
                        data += (data.isEmpty() ? "" : "\n") + line.mid(5).trimmed();
                m_buffer.remove(0, end + 2);
                if (!data.isEmpty())
                    events.push_back(QJsonDocument::fromJson(data).object());
            }
        });
        connect(reply, &QNetworkReply::finished, this, [this] { closed = true; });
    }
    ~SseStream() override
    {
        m_reply->abort();
        m_reply->deleteLater();
    }
    QByteArray contentType() const
    {
        return m_reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    }

    QList<QJsonObject> events;
    bool closed = false;

private:
    QNetworkReply *m_reply;
    QByteArray m_buffer;
};

QString newId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

QJsonObject
textMessage(const QString &text, bool v1, const QString &taskId = {}, const QString &contextId = {})
{
    QJsonObject part{{u"text"_s, text}};
    if (!v1)
        part.insert(u"kind"_s, u"text"_s);
    QJsonObject m{{u"messageId"_s, newId()},
                  {u"role"_s, v1 ? u"ROLE_USER"_s : u"user"_s},
                  {u"parts"_s, QJsonArray{part}}};
    if (!v1)
        m.insert(u"kind"_s, u"message"_s);
    if (!taskId.isEmpty())
        m.insert(u"taskId"_s, taskId);
    if (!contextId.isEmpty())
        m.insert(u"contextId"_s, contextId);
    return m;
}

QJsonObject
dataMessage(const QJsonObject &data, const QString &taskId = {}, const QString &contextId = {})
{
    QJsonObject m{{u"messageId"_s, newId()},
                  {u"role"_s, u"ROLE_USER"_s},
                  {u"parts"_s, QJsonArray{QJsonObject{{u"data"_s, data}}}}};
    if (!taskId.isEmpty())
        m.insert(u"taskId"_s, taskId);
    if (!contextId.isEmpty())
        m.insert(u"contextId"_s, contextId);
    return m;
}

QString errorReason(const QJsonObject &rpcError)
{
    return rpcError.value(u"data"_s).toArray().at(0).toObject().value(u"reason"_s).toString();
}

} // namespace

class tst_SandboxA2a : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void cardsFollowTheDialect();
    void profilePointsAtTheOrigins();
    void jsonRpcV1TaskLifecycle();
    void jsonRpcV1Errors();
    void jsonRpcV1ListPages();
    void jsonRpcV1StreamsAndSubscribe();
    void restV1OnClaims();
    void jsonRpcV03OnEmail();
    void restV03OnAnalyst();
    void cancelStopsTheRunAndItsTelemetry();
    void approvalIsAnsweredOverA2a();
    void ignoresCancelKeepsCallingTools();
    void a2aJsClientAccepts_data();
    void a2aJsClientAccepts();

private:
    Reply http(const QByteArray &method,
               const QUrl &url,
               const QJsonObject &body = {},
               const QByteArray &version = {},
               const QByteArray &contentType = "application/json");
    QJsonObject rpc(const QUrl &url,
                    const QString &method,
                    const QJsonObject &params,
                    const QByteArray &version,
                    int *status = nullptr);
    std::unique_ptr<SseStream> stream(const QUrl &url,
                                      const QJsonObject &body,
                                      const QByteArray &version,
                                      const QByteArray &method = "POST");
    QUrl origin(const QString &agent) const
    {
        QUrl card(m_cards.value(agent));
        card.setPath(QString());
        return card;
    }
    QUrl jsonRpc(const QString &agent) const
    {
        return QUrl(origin(agent).toString() + u"/a2a/jsonrpc"_s);
    }
    QUrl rest(const QString &agent, const QString &path) const
    {
        return QUrl(origin(agent).toString() + u"/a2a/rest"_s + path);
    }
    // SendMessage "work <ms>" on refund-agent (v1.0 JSON-RPC), returning at once: the task.
    QJsonObject startWork(int ms, const QString &contextId = {});

    OtlpSink m_sink;
    QTemporaryDir m_xdg;
    QProcess m_sandbox;
    QByteArray m_out;
    QHash<QString, QString> m_cards;
    QString m_profilePath;
    QNetworkAccessManager m_nam;
};

void tst_SandboxA2a::initTestCase()
{
    QVERIFY(m_sink.listen());
    QVERIFY(m_xdg.isValid());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"XDG_RUNTIME_DIR"_s, m_xdg.path());
    env.insert(u"BREAKER_LOG_DIR"_s, m_xdg.path());
    m_sandbox.setProcessEnvironment(env);
    m_sandbox.setProgram(QStringLiteral(BREAKER_BINARY_DIR "/app/sandbox/breaker-sandbox"));
    m_sandbox.setArguments({u"--otlp-endpoint"_s,
                            m_sink.endpoint(),
                            u"--otlp-format"_s,
                            u"json"_s,
                            u"--rate"_s,
                            u"2"_s,
                            u"--seed"_s,
                            u"7"_s});
    connect(&m_sandbox, &QProcess::readyReadStandardOutput, this, [this] {
        m_out += m_sandbox.readAllStandardOutput();
    });
    m_sandbox.start();
    QTRY_VERIFY_WITH_TIMEOUT(m_out.contains('\n'), 15000);
    const QByteArray line = m_out.left(m_out.indexOf('\n'));
    QVERIFY2(line.startsWith("READY {"), line.constData());
    const QJsonObject ready = QJsonDocument::fromJson(line.mid(6)).object();
    m_profilePath = ready.value(u"profile"_s).toString();
    const QJsonObject a2a = ready.value(u"a2a"_s).toObject();
    for (const QString &agent : a2a.keys())
        m_cards.insert(agent, a2a.value(agent).toString());
    QCOMPARE(m_cards.size(), 4);
    for (const QString &url : std::as_const(m_cards))
        QVERIFY2(url.startsWith(u"http://127.0.0.1:"_s)
                     && url.endsWith(u"/.well-known/agent-card.json"_s),
                 qPrintable(url));
}

void tst_SandboxA2a::cleanupTestCase()
{
    if (m_sandbox.state() != QProcess::NotRunning) {
        m_sandbox.kill(); // by its pid, the one this test started
        m_sandbox.waitForFinished(5000);
    }
}

Reply tst_SandboxA2a::http(const QByteArray &method,
                           const QUrl &url,
                           const QJsonObject &body,
                           const QByteArray &version,
                           const QByteArray &contentType)
{
    QNetworkRequest request(url);
    request.setTransferTimeout(60000);
    if (!version.isEmpty())
        request.setRawHeader("A2A-Version", version);
    QByteArray payload;
    if (method == "POST") {
        request.setHeader(QNetworkRequest::ContentTypeHeader, QString::fromLatin1(contentType));
        payload = QJsonDocument(body).toJson(QJsonDocument::Compact);
    }
    QNetworkReply *reply = m_nam.sendCustomRequest(request, method, payload);
    QSignalSpy done(reply, &QNetworkReply::finished);
    if (!reply->isFinished())
        done.wait(60000);
    Reply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    r.body = reply->readAll();
    reply->deleteLater();
    return r;
}

QJsonObject tst_SandboxA2a::rpc(const QUrl &url,
                                const QString &method,
                                const QJsonObject &params,
                                const QByteArray &version,
                                int *status)
{
    const Reply r = http(
        "POST",
        url,
        QJsonObject{
            {u"jsonrpc"_s, u"2.0"_s}, {u"id"_s, 7}, {u"method"_s, method}, {u"params"_s, params}},
        version);
    if (status)
        *status = r.status;
    return r.json();
}

std::unique_ptr<SseStream> tst_SandboxA2a::stream(const QUrl &url,
                                                  const QJsonObject &body,
                                                  const QByteArray &version,
                                                  const QByteArray &method)
{
    QNetworkRequest request(url);
    if (!version.isEmpty())
        request.setRawHeader("A2A-Version", version);
    request.setRawHeader("Accept", "text/event-stream");
    request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    QNetworkReply *reply = m_nam.sendCustomRequest(
        request,
        method,
        method == "POST" ? QJsonDocument(body).toJson(QJsonDocument::Compact) : QByteArray());
    return std::make_unique<SseStream>(reply);
}

QJsonObject tst_SandboxA2a::startWork(int ms, const QString &contextId)
{
    const QJsonObject r
        = rpc(jsonRpc(u"refund-agent"_s),
              u"SendMessage"_s,
              {{u"message"_s, textMessage(u"work %1"_s.arg(ms), true, {}, contextId)},
               {u"configuration"_s, QJsonObject{{u"returnImmediately"_s, true}}}},
              "1.0");
    return r.value(u"result"_s).toObject().value(u"task"_s).toObject();
}

void tst_SandboxA2a::cardsFollowTheDialect()
{
    // refund-agent: v1.0 with the header, v0.3 without (a2a-js with legacy compat).
    const Reply v1 = http("GET", QUrl(m_cards.value(u"refund-agent"_s)), {}, "1.0");
    QCOMPARE(v1.status, 200);
    const QJsonObject card = v1.json();
    QCOMPARE(card.value(u"name"_s).toString(), u"refund-agent"_s);
    const QJsonArray ifaces = card.value(u"supportedInterfaces"_s).toArray();
    QCOMPARE(ifaces.size(), 4);
    QCOMPARE(ifaces.at(0).toObject().value(u"protocolBinding"_s).toString(), u"JSONRPC"_s);
    QCOMPARE(ifaces.at(0).toObject().value(u"protocolVersion"_s).toString(), u"1.0"_s);
    QCOMPARE(ifaces.at(0).toObject().value(u"url"_s).toString(),
             jsonRpc(u"refund-agent"_s).toString());
    QCOMPARE(ifaces.at(3).toObject().value(u"protocolVersion"_s).toString(), u"0.3"_s);
    QCOMPARE(card.value(u"capabilities"_s).toObject().value(u"streaming"_s).toBool(), true);
    QCOMPARE(card.value(u"capabilities"_s).toObject().value(u"pushNotifications"_s).toBool(),
             false);
    QVERIFY(!card.contains(u"url"_s));

    const QJsonObject legacy = http("GET", QUrl(m_cards.value(u"refund-agent"_s))).json();
    QCOMPARE(legacy.value(u"protocolVersion"_s).toString(), u"0.3"_s);
    QCOMPARE(legacy.value(u"url"_s).toString(), jsonRpc(u"refund-agent"_s).toString());
    QCOMPARE(legacy.value(u"preferredTransport"_s).toString(), u"JSONRPC"_s);
    QCOMPARE(legacy.value(u"additionalInterfaces"_s)
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(u"transport"_s)
                 .toString(),
             u"HTTP+JSON"_s);
    // a2a-js with legacy compat embeds the v1.0 list in the v0.3 card too.
    QCOMPARE(legacy.value(u"supportedInterfaces"_s).toArray().size(), 4);

    // claims-agent prefers HTTP+JSON.
    const QJsonObject claims
        = http("GET", QUrl(m_cards.value(u"claims-agent"_s)), {}, "1.0").json();
    QCOMPARE(claims.value(u"supportedInterfaces"_s)
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(u"protocolBinding"_s)
                 .toString(),
             u"HTTP+JSON"_s);

    // email-agent is an older v0.3-only deployment: the header changes nothing.
    for (const QByteArray &version : {QByteArray("1.0"), QByteArray()}) {
        const QJsonObject email
            = http("GET", QUrl(m_cards.value(u"email-agent"_s)), {}, version).json();
        QCOMPARE(email.value(u"protocolVersion"_s).toString(), u"0.3"_s);
        QCOMPARE(email.value(u"preferredTransport"_s).toString(), u"JSONRPC"_s);
        QVERIFY(!email.contains(u"supportedInterfaces"_s));
        QVERIFY(!email.contains(u"additionalInterfaces"_s));
    }
    const QJsonObject analyst
        = http("GET", QUrl(m_cards.value(u"usage-analyst"_s)), {}, "1.0").json();
    QCOMPARE(analyst.value(u"preferredTransport"_s).toString(), u"HTTP+JSON"_s);
    QCOMPARE(analyst.value(u"url"_s).toString(), rest(u"usage-analyst"_s, {}).toString());
}

void tst_SandboxA2a::profilePointsAtTheOrigins()
{
    QFile file(m_profilePath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray json = file.readAll();
    const auto profile = parseProfile(json, m_profilePath);
    QVERIFY2(profile.ok(),
             profile.ok() ? ""
                          : qPrintable(profile.error().message + u" @ "_s + profile.error().where));
    const QJsonObject doc = QJsonDocument::fromJson(json).object();
    const QJsonObject providers = doc.value(u"providers"_s).toObject();
    const QHash<QString, QString> expected{
        {u"refund-agent"_s, jsonRpc(u"refund-agent"_s).toString()},
        {u"claims-agent"_s, rest(u"claims-agent"_s, {}).toString()},
        {u"email-agent"_s, jsonRpc(u"email-agent"_s).toString()},
        {u"usage-analyst"_s, rest(u"usage-analyst"_s, {}).toString()},
    };
    for (auto it = expected.begin(); it != expected.end(); ++it) {
        const QJsonObject p = providers.value(it.key() + u"-a2a"_s).toObject();
        QCOMPARE(p.value(u"layer"_s).toString(), u"runtime"_s);
        QCOMPARE(p.value(u"kind"_s).toString(), u"a2a"_s);
        QCOMPARE(p.value(u"url"_s).toString(), it.value());
        QCOMPARE(doc.value(u"agents"_s)
                     .toObject()
                     .value(it.key())
                     .toObject()
                     .value(u"runtime"_s)
                     .toString(),
                 it.key() + u"-a2a"_s);
    }
}

void tst_SandboxA2a::jsonRpcV1TaskLifecycle()
{
    const QUrl url = jsonRpc(u"refund-agent"_s);
    const QJsonObject task = startWork(60000);
    const QString id = task.value(u"id"_s).toString();
    QVERIFY2(!QUuid::fromString(id).isNull(), qPrintable(id));
    QVERIFY(!task.value(u"contextId"_s).toString().isEmpty());
    // returnImmediately: the task as created (a2a-js answers SUBMITTED); then it works.
    QCOMPARE(task.value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_SUBMITTED"_s);
    QCOMPARE(task.value(u"history"_s).toArray().size(), 1);

    QJsonObject got = rpc(url, u"GetTask"_s, {{u"id"_s, id}}, "1.0").value(u"result"_s).toObject();
    QCOMPARE(got.value(u"id"_s).toString(), id);
    QCOMPARE(got.value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_WORKING"_s);
    got = rpc(url, u"GetTask"_s, {{u"id"_s, id}, {u"historyLength"_s, 0}}, "1.0")
              .value(u"result"_s)
              .toObject();
    QCOMPARE(got.value(u"history"_s).toArray().size(), 0);

    // Cancel: CANCELED at once; a second cancel is no error.
    QJsonObject canceled
        = rpc(url, u"CancelTask"_s, {{u"id"_s, id}}, "1.0").value(u"result"_s).toObject();
    QCOMPARE(canceled.value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_CANCELED"_s);
    canceled = rpc(url, u"CancelTask"_s, {{u"id"_s, id}}, "1.0").value(u"result"_s).toObject();
    QCOMPARE(canceled.value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_CANCELED"_s);

    // A short blocking run comes back COMPLETED with its artifact.
    const QJsonObject done
        = rpc(url, u"SendMessage"_s, {{u"message"_s, textMessage(u"work 300"_s, true)}}, "1.0")
              .value(u"result"_s)
              .toObject()
              .value(u"task"_s)
              .toObject();
    QCOMPARE(done.value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_COMPLETED"_s);
    QCOMPARE(done.value(u"artifacts"_s).toArray().size(), 1);
    const QString doneId = done.value(u"id"_s).toString();
    const QJsonObject notCancelable
        = rpc(url, u"CancelTask"_s, {{u"id"_s, doneId}}, "1.0").value(u"error"_s).toObject();
    QCOMPARE(notCancelable.value(u"code"_s).toInt(), -32002);
    QCOMPARE(notCancelable.value(u"message"_s).toString(), u"Task not cancelable: "_s + doneId);
    QCOMPARE(errorReason(notCancelable), u"TASK_NOT_CANCELABLE"_s);

    // A message to a terminal task: UnsupportedOperation.
    const QJsonObject terminal = rpc(url,
                                     u"SendMessage"_s,
                                     {{u"message"_s, textMessage(u"approve"_s, true, doneId)}},
                                     "1.0")
                                     .value(u"error"_s)
                                     .toObject();
    QCOMPARE(terminal.value(u"code"_s).toInt(), -32004);
    QCOMPARE(terminal.value(u"message"_s).toString(),
             u"Task %1 is in a terminal state (3) and cannot be modified."_s.arg(doneId));
}

void tst_SandboxA2a::jsonRpcV1Errors()
{
    const QUrl url = jsonRpc(u"refund-agent"_s);
    int status = 0;
    QJsonObject e = rpc(url, u"GetTask"_s, {{u"id"_s, u"nope"_s}}, "1.0", &status)
                        .value(u"error"_s)
                        .toObject();
    QCOMPARE(status, 200);
    QCOMPARE(e.value(u"code"_s).toInt(), -32001);
    QCOMPARE(e.value(u"message"_s).toString(), u"Task not found: nope"_s);
    QCOMPARE(errorReason(e), u"TASK_NOT_FOUND"_s);
    QCOMPARE(e.value(u"data"_s).toArray().at(0).toObject().value(u"@type"_s).toString(),
             u"type.googleapis.com/google.rpc.ErrorInfo"_s);

    // A v0.3 method in a v1.0 request, and the other way round.
    e = rpc(url, u"tasks/get"_s, {{u"id"_s, u"nope"_s}}, "1.0").value(u"error"_s).toObject();
    QCOMPARE(e.value(u"code"_s).toInt(), -32601);
    e = rpc(url, u"GetTask"_s, {{u"id"_s, u"nope"_s}}, {}).value(u"error"_s).toObject();
    QCOMPARE(e.value(u"code"_s).toInt(), -32601);
    QCOMPARE(e.value(u"message"_s).toString(), u"Method not found: GetTask"_s);

    e = rpc(url, u"GetTask"_s, {{u"id"_s, u"x"_s}}, "2.0").value(u"error"_s).toObject();
    QCOMPARE(e.value(u"code"_s).toInt(), -32009);
    QCOMPARE(errorReason(e), u"VERSION_NOT_SUPPORTED"_s);

    const Reply r = [&] {
        QNetworkRequest request(url);
        request.setRawHeader("A2A-Version", "1.0");
        request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        QNetworkReply *reply = m_nam.post(request, QByteArray("{not json"));
        QSignalSpy done(reply, &QNetworkReply::finished);
        done.wait(10000);
        Reply out;
        out.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        out.body = reply->readAll();
        reply->deleteLater();
        return out;
    }();
    QCOMPARE(r.json().value(u"error"_s).toObject().value(u"code"_s).toInt(), -32700);
    QCOMPARE(r.json().value(u"id"_s), QJsonValue(QJsonValue::Null));

    e = rpc(url,
            u"SendMessage"_s,
            {{u"message"_s, dataMessage({{u"scenario"_s, u"no_such"_s}})}},
            "1.0")
            .value(u"error"_s)
            .toObject();
    QCOMPARE(e.value(u"code"_s).toInt(), -32602);
    QVERIFY2(e.value(u"message"_s).toString().contains(u"unknown scenario \"no_such\""_s),
             qPrintable(e.value(u"message"_s).toString()));
    e = rpc(url,
            u"SendMessage"_s,
            {{u"message"_s, QJsonObject{{u"role"_s, u"ROLE_USER"_s}}}},
            "1.0")
            .value(u"error"_s)
            .toObject();
    QCOMPARE(e.value(u"code"_s).toInt(), -32602);
    QCOMPARE(e.value(u"message"_s).toString(), u"message.messageId is required"_s);

    e = rpc(url, u"CreateTaskPushNotificationConfig"_s, {{u"taskId"_s, u"x"_s}}, "1.0")
            .value(u"error"_s)
            .toObject();
    QCOMPARE(e.value(u"code"_s).toInt(), -32003);
    for (const QJsonValue &bad : {QJsonValue(0),
                                  QJsonValue(101),
                                  QJsonValue(2.5),
                                  QJsonValue(1e300),
                                  QJsonValue(u"many"_s)}) {
        e = rpc(url, u"ListTasks"_s, {{u"pageSize"_s, bad}}, "1.0").value(u"error"_s).toObject();
        QCOMPARE(e.value(u"code"_s).toInt(), -32602);
        QCOMPARE(e.value(u"message"_s).toString(), u"pageSize must be between 1 and 100"_s);
    }
    e = rpc(url, u"ListTasks"_s, {{u"status"_s, u"TASK_STATE_DONE"_s}}, "1.0")
            .value(u"error"_s)
            .toObject();
    QCOMPARE(e.value(u"message"_s).toString(), u"Invalid status filter: TASK_STATE_DONE"_s);
}

void tst_SandboxA2a::jsonRpcV1ListPages()
{
    const QUrl url = jsonRpc(u"refund-agent"_s);
    const QString context = newId();
    QStringList started;
    for (int i = 0; i < 3; ++i) {
        started << startWork(60000, context).value(u"id"_s).toString();
        QTest::qWait(5); // distinct status timestamps
    }
    QStringList listed;
    QString token;
    int pages = 0;
    do {
        QJsonObject params{{u"contextId"_s, context}, {u"pageSize"_s, 2}};
        if (!token.isEmpty())
            params.insert(u"pageToken"_s, token);
        const QJsonObject page
            = rpc(url, u"ListTasks"_s, params, "1.0").value(u"result"_s).toObject();
        QVERIFY(page.contains(u"nextPageToken"_s));
        QCOMPARE(page.value(u"totalSize"_s).toInt(), 3);
        QCOMPARE(page.value(u"pageSize"_s).toInt(), 2);
        for (const QJsonValue &t : page.value(u"tasks"_s).toArray())
            listed << t.toObject().value(u"id"_s).toString();
        token = page.value(u"nextPageToken"_s).toString();
        ++pages;
    } while (!token.isEmpty() && pages < 5);
    QCOMPARE(pages, 2);
    // Newest first, each once.
    QCOMPARE(listed, (QStringList{started[2], started[1], started[0]}));

    rpc(url, u"CancelTask"_s, {{u"id"_s, started[1]}}, "1.0");
    const QJsonObject canceled
        = rpc(url,
              u"ListTasks"_s,
              {{u"contextId"_s, context}, {u"status"_s, u"TASK_STATE_CANCELED"_s}},
              "1.0")
              .value(u"result"_s)
              .toObject();
    QCOMPARE(canceled.value(u"tasks"_s).toArray().size(), 1);
    QCOMPARE(canceled.value(u"nextPageToken"_s).toString(), QString());
    for (const QString &id : {started[0], started[2]})
        rpc(url, u"CancelTask"_s, {{u"id"_s, id}}, "1.0");
}

void tst_SandboxA2a::jsonRpcV1StreamsAndSubscribe()
{
    const QUrl url = jsonRpc(u"refund-agent"_s);
    // SendStreamingMessage: task, WORKING, artifact, COMPLETED, then the stream closes.
    auto s = stream(url,
                    {{u"jsonrpc"_s, u"2.0"_s},
                     {u"id"_s, u"s1"_s},
                     {u"method"_s, u"SendStreamingMessage"_s},
                     {u"params"_s, QJsonObject{{u"message"_s, textMessage(u"work 800"_s, true)}}}},
                    "1.0");
    QTRY_VERIFY_WITH_TIMEOUT(s->closed, 15000);
    QVERIFY(s->contentType().startsWith("text/event-stream"));
    QCOMPARE(s->events.size(), 4);
    QCOMPARE(s->events[0].value(u"id"_s).toString(), u"s1"_s);
    const QJsonObject first = s->events[0].value(u"result"_s).toObject();
    QCOMPARE(first.value(u"task"_s)
                 .toObject()
                 .value(u"status"_s)
                 .toObject()
                 .value(u"state"_s)
                 .toString(),
             u"TASK_STATE_SUBMITTED"_s);
    QCOMPARE(s->events[1]
                 .value(u"result"_s)
                 .toObject()
                 .value(u"statusUpdate"_s)
                 .toObject()
                 .value(u"status"_s)
                 .toObject()
                 .value(u"state"_s)
                 .toString(),
             u"TASK_STATE_WORKING"_s);
    QVERIFY(s->events[2].value(u"result"_s).toObject().contains(u"artifactUpdate"_s));
    const QJsonObject last
        = s->events[3].value(u"result"_s).toObject().value(u"statusUpdate"_s).toObject();
    QCOMPARE(last.value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_COMPLETED"_s);
    QVERIFY(!last.contains(u"final"_s)); // v1.0 streams have no final flag

    // SubscribeToTask: the current task first, then every update, in order, to every subscriber.
    const QString id = startWork(1500).value(u"id"_s).toString();
    auto a = stream(url,
                    {{u"jsonrpc"_s, u"2.0"_s},
                     {u"id"_s, 1},
                     {u"method"_s, u"SubscribeToTask"_s},
                     {u"params"_s, QJsonObject{{u"id"_s, id}}}},
                    "1.0");
    auto b = stream(url,
                    {{u"jsonrpc"_s, u"2.0"_s},
                     {u"id"_s, 2},
                     {u"method"_s, u"SubscribeToTask"_s},
                     {u"params"_s, QJsonObject{{u"id"_s, id}}}},
                    "1.0");
    QTRY_VERIFY_WITH_TIMEOUT(a->closed && b->closed, 15000);
    for (const auto *sub : {a.get(), b.get()}) {
        QVERIFY(sub->events.size() >= 3);
        QCOMPARE(sub->events.first()
                     .value(u"result"_s)
                     .toObject()
                     .value(u"task"_s)
                     .toObject()
                     .value(u"id"_s)
                     .toString(),
                 id);
        QCOMPARE(sub->events.last()
                     .value(u"result"_s)
                     .toObject()
                     .value(u"statusUpdate"_s)
                     .toObject()
                     .value(u"status"_s)
                     .toObject()
                     .value(u"state"_s)
                     .toString(),
                 u"TASK_STATE_COMPLETED"_s);
    }
    QCOMPARE(a->events.size(), b->events.size());
    // A terminal task cannot be subscribed to.
    int status = 0;
    const QJsonObject e = rpc(url, u"SubscribeToTask"_s, {{u"id"_s, id}}, "1.0", &status)
                              .value(u"error"_s)
                              .toObject();
    QCOMPARE(status, 200);
    QCOMPARE(e.value(u"code"_s).toInt(), -32004);
    QCOMPARE(e.value(u"message"_s).toString(),
             u"Task %1 is in a terminal state (3) and cannot be subscribed to."_s.arg(id));
}

void tst_SandboxA2a::restV1OnClaims()
{
    Reply r = http("POST",
                   rest(u"claims-agent"_s, u"/message:send"_s),
                   {{u"message"_s, textMessage(u"work 60000"_s, true)},
                    {u"configuration"_s, QJsonObject{{u"returnImmediately"_s, true}}}},
                   "1.0",
                   "application/a2a+json");
    QCOMPARE(r.status, 200);
    QVERIFY(r.contentType.startsWith("application/a2a+json"));
    const QString id = r.json().value(u"task"_s).toObject().value(u"id"_s).toString();
    QVERIFY(!id.isEmpty());
    r = http("GET", rest(u"claims-agent"_s, u"/tasks/"_s + id + u"?historyLength=1"_s), {}, "1.0");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_WORKING"_s);
    r = http("GET", rest(u"claims-agent"_s, u"/tasks?pageSize=1"_s), {}, "1.0");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(u"tasks"_s).toArray().size(), 1);
    QVERIFY(!r.json().value(u"nextPageToken"_s).toString().isEmpty()); // the fleet's own tasks too
    r = http("POST", rest(u"claims-agent"_s, u"/tasks/"_s + id + u":cancel"_s), {}, "1.0");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_CANCELED"_s);

    r = http("GET", rest(u"claims-agent"_s, u"/tasks/nope"_s), {}, "1.0");
    QCOMPARE(r.status, 404);
    const QJsonObject e = r.json().value(u"error"_s).toObject();
    QCOMPARE(e.value(u"code"_s).toInt(), 404);
    QCOMPARE(e.value(u"status"_s).toString(), u"NOT_FOUND"_s);
    QCOMPARE(e.value(u"message"_s).toString(), u"Task not found: nope"_s);
    QCOMPARE(e.value(u"details"_s).toArray().at(0).toObject().value(u"reason"_s).toString(),
             u"TASK_NOT_FOUND"_s);
}

void tst_SandboxA2a::jsonRpcV03OnEmail()
{
    const QUrl url = jsonRpc(u"email-agent"_s);
    const QJsonObject task = rpc(url,
                                 u"message/send"_s,
                                 {{u"message"_s, textMessage(u"work 60000"_s, false)},
                                  {u"configuration"_s, QJsonObject{{u"blocking"_s, false}}}},
                                 {})
                                 .value(u"result"_s)
                                 .toObject();
    QCOMPARE(task.value(u"kind"_s).toString(), u"task"_s);
    QCOMPARE(task.value(u"status"_s).toObject().value(u"state"_s).toString(), u"submitted"_s);
    QCOMPARE(task.value(u"history"_s).toArray().at(0).toObject().value(u"role"_s).toString(),
             u"user"_s);
    const QString id = task.value(u"id"_s).toString();
    QCOMPARE(rpc(url, u"tasks/get"_s, {{u"id"_s, id}}, {})
                 .value(u"result"_s)
                 .toObject()
                 .value(u"id"_s)
                 .toString(),
             id);
    const QJsonObject canceled
        = rpc(url, u"tasks/cancel"_s, {{u"id"_s, id}}, {}).value(u"result"_s).toObject();
    QCOMPARE(canceled.value(u"status"_s).toObject().value(u"state"_s).toString(), u"canceled"_s);
    // v0.3 errors are bare {code, message}.
    const QJsonObject e
        = rpc(url, u"tasks/get"_s, {{u"id"_s, u"nope"_s}}, {}).value(u"error"_s).toObject();
    QCOMPARE(e.value(u"code"_s).toInt(), -32001);
    QVERIFY(!e.contains(u"data"_s));
    // This deployment has no v1.0.
    QCOMPARE(rpc(url, u"GetTask"_s, {{u"id"_s, id}}, "1.0")
                 .value(u"error"_s)
                 .toObject()
                 .value(u"code"_s)
                 .toInt(),
             -32009);

    auto s = stream(url,
                    {{u"jsonrpc"_s, u"2.0"_s},
                     {u"id"_s, 3},
                     {u"method"_s, u"message/stream"_s},
                     {u"params"_s, QJsonObject{{u"message"_s, textMessage(u"work 500"_s, false)}}}},
                    {});
    QTRY_VERIFY_WITH_TIMEOUT(s->closed, 15000);
    QVERIFY(s->events.size() >= 3);
    QCOMPARE(s->events.first().value(u"result"_s).toObject().value(u"kind"_s).toString(),
             u"task"_s);
    const QJsonObject last = s->events.last().value(u"result"_s).toObject();
    QCOMPARE(last.value(u"kind"_s).toString(), u"status-update"_s);
    QCOMPARE(last.value(u"final"_s).toBool(), true);
    QCOMPARE(last.value(u"status"_s).toObject().value(u"state"_s).toString(), u"completed"_s);
}

void tst_SandboxA2a::restV03OnAnalyst()
{
    // v0.3 HTTP+JSON is the v0.3 proto JSON: "content", ROLE_*, TASK_STATE_* (…CANCELLED).
    const QJsonObject message{
        {u"messageId"_s, newId()},
        {u"role"_s, u"ROLE_USER"_s},
        {u"content"_s, QJsonArray{QJsonObject{{u"text"_s, u"work 60000"_s}}}}};
    Reply r = http(
        "POST",
        rest(u"usage-analyst"_s, u"/v1/message:send"_s),
        {{u"message"_s, message}, {u"configuration"_s, QJsonObject{{u"blocking"_s, false}}}});
    QCOMPARE(r.status, 201);
    const QJsonObject task = r.json().value(u"task"_s).toObject();
    const QString id = task.value(u"id"_s).toString();
    QVERIFY(!id.isEmpty());
    QVERIFY(!task.contains(u"kind"_s));
    QCOMPARE(task.value(u"history"_s)
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(u"content"_s)
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(u"text"_s)
                 .toString(),
             u"work 60000"_s);
    r = http("GET", rest(u"usage-analyst"_s, u"/v1/tasks/"_s + id));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_WORKING"_s);
    r = http("POST", rest(u"usage-analyst"_s, u"/v1/tasks/"_s + id + u":cancel"_s));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_CANCELLED"_s);
    r = http("GET", rest(u"usage-analyst"_s, u"/v1/tasks/nope"_s));
    QCOMPARE(r.status, 404);
    QCOMPARE(r.json(),
             (QJsonObject{{u"code"_s, -32001}, {u"message"_s, u"Task not found: nope"_s}}));
    // A v0.3-only deployment has no v1.0 routes.
    r = http("GET", rest(u"usage-analyst"_s, u"/tasks/"_s + id), {}, "1.0");
    QCOMPARE(r.status, 404);
    // a2a-js's routing on a two-dialect origin: a /v1 path with A2A-Version 1.0 names tenant
    // "v1"; an unknown route is express's HTML 404.
    r = http("GET", rest(u"claims-agent"_s, u"/v1/tasks/"_s + id), {}, "1.0");
    QCOMPARE(r.status, 404);
    QCOMPARE(r.json().value(u"error"_s).toObject().value(u"status"_s).toString(), u"NOT_FOUND"_s);
    r = http("GET", rest(u"claims-agent"_s, u"/no-such-route"_s), {}, "1.0");
    QCOMPARE(r.status, 404);
    QVERIFY(r.contentType.startsWith("text/html"));
    QVERIFY(r.body.contains("Cannot GET /a2a/rest/no-such-route"));
}

void tst_SandboxA2a::cancelStopsTheRunAndItsTelemetry()
{
    const QJsonObject task = startWork(60000);
    const QByteArray id = task.value(u"id"_s).toString().toUtf8();
    QTRY_VERIFY_WITH_TIMEOUT(!m_sink.spansOf(id).empty(), 20000); // it works: spans flow
    rpc(jsonRpc(u"refund-agent"_s), u"CancelTask"_s, {{u"id"_s, QString::fromUtf8(id)}}, "1.0");
    QTRY_VERIFY_WITH_TIMEOUT(m_sink.rootOf(id), 10000);
    const OtlpSink::Received root = *m_sink.rootOf(id);
    QCOMPARE(root.span.statusCode, 2);
    QCOMPARE(root.span.errorType, QByteArrayLiteral("canceled"));
    QVERIFY(root.span.attributesJson.contains(
        QByteArray("\"a2a.context.id\":\"" + task.value(u"contextId"_s).toString().toUtf8())));
    const size_t count = m_sink.spansOf(id).size();
    QTest::qWait(3000);
    QCOMPARE(m_sink.spansOf(id).size(), count); // nothing after the root
}

void tst_SandboxA2a::approvalIsAnsweredOverA2a()
{
    const QUrl url = jsonRpc(u"refund-agent"_s);
    const QJsonObject task
        = rpc(url,
              u"SendMessage"_s,
              {{u"message"_s, dataMessage({{u"scenario"_s, u"approval"_s}})},
               {u"configuration"_s, QJsonObject{{u"returnImmediately"_s, true}}}},
              "1.0")
              .value(u"result"_s)
              .toObject()
              .value(u"task"_s)
              .toObject();
    const QString id = task.value(u"id"_s).toString();
    const QString context = task.value(u"contextId"_s).toString();
    QJsonObject current;
    QTRY_VERIFY_WITH_TIMEOUT(
        (current = rpc(url, u"GetTask"_s, {{u"id"_s, id}}, "1.0").value(u"result"_s).toObject())
                .value(u"status"_s)
                .toObject()
                .value(u"state"_s)
                .toString()
            == u"TASK_STATE_INPUT_REQUIRED"_s,
        30000);
    const QJsonObject question
        = current.value(u"status"_s).toObject().value(u"message"_s).toObject();
    QCOMPARE(question.value(u"role"_s).toString(), u"ROLE_AGENT"_s);
    const QJsonArray parts = question.value(u"parts"_s).toArray();
    QVERIFY(!parts.at(0).toObject().value(u"text"_s).toString().isEmpty());
    const QJsonObject approval
        = parts.at(1).toObject().value(u"data"_s).toObject().value(u"approval"_s).toObject();
    QCOMPARE(approval.value(u"action"_s).toString(), u"stripe.refund"_s);
    QCOMPARE(approval.value(u"amount"_s).toObject().value(u"currency"_s).toString(), u"usd"_s);
    QVERIFY(approval.value(u"amount"_s).toObject().value(u"value"_s).toString().toDouble() > 100.0);
    QVERIFY(approval.contains(u"arguments"_s));

    // The answer (blocking, as v1.0 is by default) comes back when the task is done.
    const QJsonObject answered
        = rpc(url,
              u"SendMessage"_s,
              {{u"message"_s,
                dataMessage({{u"decision"_s, u"approve"_s}, {u"reason"_s, u"checked the ticket"_s}},
                            id,
                            context)}},
              "1.0");
    const QJsonObject done = answered.value(u"result"_s).toObject().value(u"task"_s).toObject();
    QCOMPARE(done.value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_COMPLETED"_s);
    const QByteArray tid = id.toUtf8();
    QTRY_VERIFY_WITH_TIMEOUT(m_sink.rootOf(tid), 10000);
    bool refunded = false;
    for (const auto &r : m_sink.spansOf(tid))
        refunded = refunded || r.span.toolName == "stripe.refund";
    QVERIFY(refunded);
    QVERIFY(
        m_sink.rootOf(tid)->span.attributesJson.contains(QByteArray("\"a2a.task.id\":\"" + tid)));
}

void tst_SandboxA2a::ignoresCancelKeepsCallingTools()
{
    const QUrl url = jsonRpc(u"refund-agent"_s);
    const QJsonObject task
        = rpc(url,
              u"SendMessage"_s,
              {{u"message"_s, dataMessage({{u"scenario"_s, u"ignores_cancel"_s}})},
               {u"configuration"_s, QJsonObject{{u"returnImmediately"_s, true}}}},
              "1.0")
              .value(u"result"_s)
              .toObject()
              .value(u"task"_s)
              .toObject();
    const QByteArray id = task.value(u"id"_s).toString().toUtf8();
    QTRY_VERIFY_WITH_TIMEOUT(!m_sink.spansOf(id).empty(), 20000);
    const QJsonObject canceled
        = rpc(url, u"CancelTask"_s, {{u"id"_s, QString::fromUtf8(id)}}, "1.0")
              .value(u"result"_s)
              .toObject();
    const qint64 canceledAt = m_sink.nowMs();
    QCOMPARE(canceled.value(u"status"_s).toObject().value(u"state"_s).toString(),
             u"TASK_STATE_CANCELED"_s);
    // The task says CANCELED, yet tool spans keep coming for seconds; then the root ends.
    QTRY_VERIFY_WITH_TIMEOUT(m_sink.rootOf(id), 20000);
    int toolsLate = 0;
    for (const auto &r : m_sink.spansOf(id))
        if (r.span.operationName == "execute_tool" && r.atMs > canceledAt + 5000)
            ++toolsLate;
    QVERIFY2(toolsLate > 0, "no execute_tool span more than 5 s after the cancel");
    QVERIFY(m_sink.rootOf(id)->atMs >= canceledAt + 7000);
    QCOMPARE(m_sink.rootOf(id)->span.errorType, QByteArrayLiteral("canceled"));
    QCOMPARE(rpc(url, u"GetTask"_s, {{u"id"_s, QString::fromUtf8(id)}}, "1.0")
                 .value(u"result"_s)
                 .toObject()
                 .value(u"status"_s)
                 .toObject()
                 .value(u"state"_s)
                 .toString(),
             u"TASK_STATE_CANCELED"_s);
}

void tst_SandboxA2a::a2aJsClientAccepts_data()
{
    QTest::addColumn<QString>("agent");
    QTest::addColumn<QString>("dialect");
    QTest::addColumn<QString>("binding");
    QTest::newRow("v1.0 JSON-RPC") << u"refund-agent"_s << u"1.0"_s << u"JSONRPC"_s;
    QTest::newRow("v1.0 HTTP+JSON") << u"claims-agent"_s << u"1.0"_s << u"HTTP+JSON"_s;
    QTest::newRow("v0.3 JSON-RPC") << u"email-agent"_s << u"0.3"_s << u"JSONRPC"_s;
    QTest::newRow("v0.3 HTTP+JSON") << u"usage-analyst"_s << u"0.3"_s << u"HTTP+JSON"_s;
}

void tst_SandboxA2a::a2aJsClientAccepts()
{
    BREAKER_REQUIRE_PEERS();
    const QString script = Test::peersDir() + u"/a2a-client-check.mjs"_s;
    if (!QFile::exists(script)
        || !QFileInfo::exists(Test::peersDir() + u"/node_modules/@a2a-js/sdk"_s)) {
        if (qEnvironmentVariable("CI") == u"true"_s)
            QFAIL("tests/peers/a2a-client-check.mjs or @a2a-js/sdk is missing");
        QSKIP("tests/peers/a2a-client-check.mjs or node_modules/@a2a-js/sdk is not there yet");
    }
    QFETCH(QString, agent);
    QFETCH(QString, dialect);
    QFETCH(QString, binding);
    Test::PeerProcess check;
    QVERIFY2(check.startNode(u"a2a-client-check.mjs"_s,
                             {u"--card-url"_s,
                              m_cards.value(agent),
                              u"--dialect"_s,
                              dialect,
                              u"--binding"_s,
                              binding}),
             qPrintable(check.errorString()));
    QVERIFY2(check.waitForExit(std::chrono::seconds(120)), qPrintable(check.failureReport()));
    QVERIFY2(check.exitCode() == 0, qPrintable(check.failureReport()));
}

QTEST_GUILESS_MAIN(tst_SandboxA2a)
#include "tst_sandbox_a2a.moc"
