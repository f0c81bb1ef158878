#include "app/sandbox/OtlpSender.h"
#include "app/sandbox/Sandbox.h"
#include "app/sandbox/SandboxFleet.h"
#include "connectors/observability/OtlpCodec.h"
#include "connectors/observability/OtlpReceiver.h"
#include "models/Profile.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <set>

using namespace Breaker;
using namespace Qt::StringLiterals;

namespace {

// A minimal HTTP/1.1 server that answers OTLP posts: 200 with the request's Content-Type
// ({} for JSON, empty for protobuf) unless a scripted answer comes first.
class MiniSink : public QObject
{
    Q_OBJECT

public:
    struct Request
    {
        QByteArray method;
        QByteArray path;
        QByteArray contentType;
        QByteArray body;
        int answeredStatus = 0;
        qint64 receivedMs = 0;
    };
    struct Answer
    {
        int status = 200;
        QByteArray retryAfter;
        QByteArray body;
    };

    MiniSink()
    {
        connect(&m_server, &QTcpServer::newConnection, this, &MiniSink::onConnection);
        m_clock.start();
    }

    bool listen(quint16 port = 0) { return m_server.listen(QHostAddress::LocalHost, port); }
    quint16 port() const { return m_server.serverPort(); }
    QUrl endpoint() const { return QUrl(u"http://127.0.0.1:%1"_s.arg(port())); }
    qint64 nowMs() const { return m_clock.elapsed(); }

    QList<Answer> script;
    QList<Request> requests;

    // Spans of every request answered 200, decoded with the codec Breaker's receiver uses.
    std::vector<Span> acceptedSpans(bool *allDecoded = nullptr) const
    {
        std::vector<Span> out;
        bool ok = true;
        for (const Request &r : requests) {
            if (r.answeredStatus != 200)
                continue;
            const Otlp::DecodeResult d = r.contentType == "application/json"
                                             ? Otlp::decodeJson(r.body)
                                             : Otlp::decodeProtobuf(r.body);
            ok = ok && d.error.isEmpty() && d.rejectedSpans == 0;
            out.insert(out.end(), d.spans.begin(), d.spans.end());
        }
        if (allDecoded)
            *allDecoded = ok;
        return out;
    }
    int count(const QByteArray &contentType) const
    {
        return int(std::count_if(requests.begin(), requests.end(), [&](const Request &r) {
            return r.contentType == contentType;
        }));
    }

signals:
    void received();

private:
    void onConnection()
    {
        while (QTcpSocket *socket = m_server.nextPendingConnection()) {
            connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onData(socket); });
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        }
    }

    void onData(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        for (;;) {
            const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
            Request r;
            const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
            r.method = first.value(0);
            r.path = first.value(1);
            qsizetype length = 0;
            for (const QByteArray &line : lines.mid(1)) {
                const qsizetype colon = line.indexOf(':');
                const QByteArray name = line.left(colon).trimmed().toLower();
                const QByteArray value = line.mid(colon + 1).trimmed();
                if (name == "content-length")
                    length = value.toLongLong();
                else if (name == "content-type")
                    r.contentType = value.split(';').value(0).trimmed();
            }
            if (buffer.size() < headEnd + 4 + length)
                return;
            r.body = buffer.mid(headEnd + 4, length);
            buffer.remove(0, headEnd + 4 + length);
            const Answer a = script.isEmpty() ? Answer{} : script.takeFirst();
            r.answeredStatus = a.status;
            r.receivedMs = m_clock.elapsed();
            QByteArray body = a.body;
            if (a.status == 200 && body.isEmpty() && r.contentType == "application/json")
                body = "{}";
            QByteArray response = "HTTP/1.1 " + QByteArray::number(a.status)
                                  + " X\r\nContent-Type: " + r.contentType + "\r\nContent-Length: "
                                  + QByteArray::number(body.size()) + "\r\n";
            if (!a.retryAfter.isEmpty())
                response += "Retry-After: " + a.retryAfter + "\r\n";
            response += "\r\n" + body;
            socket->write(response);
            requests.push_back(std::move(r));
            emit received();
        }
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QElapsedTimer m_clock;
};

SandboxOptions optionsFor(const QUrl &endpoint, double rate = 120)
{
    SandboxOptions o;
    o.otlpEndpoint = endpoint;
    o.ratePerMinute = rate;
    o.rateGiven = true;
    o.seed = 11;
    o.seedGiven = true;
    return o;
}

Otlp::OutSpan numberedSpan(int i)
{
    Otlp::OutSpan s;
    s.traceId.fill(1);
    s.spanId.fill(0);
    s.spanId[0] = uint8_t(i & 0xff);
    s.spanId[1] = uint8_t((i >> 8) & 0xff);
    s.spanId[7] = 1;
    s.name = "span " + QByteArray::number(i);
    s.startNs = 1000;
    s.endNs = 2000;
    return s;
}

QString sandboxBinary()
{
    return QStringLiteral(BREAKER_BINARY_DIR "/app/sandbox/breaker-sandbox");
}

} // namespace

class tst_SandboxOtlp : public QObject
{
    Q_OBJECT

private slots:
    void jsonAndProtobufArrive();
    void retryAfter503LosesNothing();
    void deliversOnceAListenerAppears();
    void badRequestIsNotRetried();
    void boundedQueueDropsTheOldest();
    void realReceiverAcceptsEverything();
    void executableRunsAndStopsOnSigterm();
    void executableUsageErrors_data();
    void executableUsageErrors();
    void executableNeverOverwritesAUsersProfile();
    void burstThroughput();

private:
    QTemporaryDir m_xdg;
};

void tst_SandboxOtlp::jsonAndProtobufArrive()
{
    MiniSink sink;
    QVERIFY(sink.listen());
    Sandbox sandbox(optionsFor(sink.endpoint()));
    sandbox.setRuntimeDir(m_xdg.path());
    sandbox.setSpeed(20);
    QVERIFY(sandbox.start().ok());
    QTRY_VERIFY_WITH_TIMEOUT(
        sink.count("application/json") >= 3 && sink.count("application/x-protobuf") >= 3, 30000);
    QSignalSpy done(&sandbox, &Sandbox::finished);
    sandbox.shutdown(2000);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 5000);
    QCOMPARE(done.at(0).at(0).toBool(), true);

    for (const MiniSink::Request &r : sink.requests) {
        QCOMPARE(r.method, QByteArrayLiteral("POST"));
        QCOMPARE(r.path, QByteArrayLiteral("/v1/traces"));
        QVERIFY(r.contentType == "application/json" || r.contentType == "application/x-protobuf");
    }
    // Both encodings alternate.
    for (int i = 1; i < sink.requests.size(); ++i)
        QVERIFY(sink.requests[i].contentType != sink.requests[i - 1].contentType);

    bool decoded = false;
    const std::vector<Span> spans = sink.acceptedSpans(&decoded);
    QVERIFY(decoded);
    QCOMPARE(qint64(spans.size()), sandbox.sender()->stats().spansEnqueued);
    QCOMPARE(sandbox.sender()->stats().spansDelivered, qint64(spans.size()));
    const QStringList agents = sandbox.agentNames();
    std::set<QByteArray> services;
    std::set<std::pair<QByteArray, QByteArray>> ids;
    for (const Span &s : spans) {
        services.insert(s.serviceName);
        QVERIFY2(agents.contains(QString::fromUtf8(s.agentName)), s.name.constData());
        QVERIFY(!s.principal.isEmpty());
        QVERIFY(s.endNs >= s.startNs);
        QVERIFY(ids.insert({Otlp::toHex(s.traceId), Otlp::toHex(s.spanId)}).second); // sent once
        if (s.operationName == "chat") {
            QVERIFY(s.inputTokens > 0);
            QVERIFY(!s.requestModel.isEmpty());
        }
        if (!s.hasParent)
            QVERIFY(s.delegationJson.startsWith('['));
    }
    QCOMPARE(int(services.size()), 4);
}

void tst_SandboxOtlp::retryAfter503LosesNothing()
{
    MiniSink sink;
    QVERIFY(sink.listen());
    sink.script = {{503, "1", {}}, {503, "1", {}}};
    Sandbox sandbox(optionsFor(sink.endpoint()));
    sandbox.setRuntimeDir(m_xdg.path());
    sandbox.setSpeed(20);
    QVERIFY(sandbox.start().ok());
    QTRY_VERIFY_WITH_TIMEOUT(sink.requests.size() >= 8, 30000);
    QSignalSpy done(&sandbox, &Sandbox::finished);
    sandbox.shutdown(5000);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 10000);
    QCOMPARE(done.at(0).at(0).toBool(), true);

    // The refused bodies were sent again, no sooner than Retry-After said.
    QCOMPARE(sink.requests[0].answeredStatus, 503);
    for (int i = 0; i < sink.requests.size(); ++i) {
        const MiniSink::Request &refused = sink.requests[i];
        if (refused.answeredStatus != 503)
            continue;
        bool resent = false;
        for (int j = i + 1; j < sink.requests.size(); ++j) {
            if (sink.requests[j].body == refused.body) {
                QVERIFY2(sink.requests[j].receivedMs - refused.receivedMs >= 900,
                         QByteArray::number(sink.requests[j].receivedMs - refused.receivedMs)
                             .constData());
                resent = true;
                break;
            }
        }
        QVERIFY(resent);
    }
    bool decoded = false;
    const std::vector<Span> spans = sink.acceptedSpans(&decoded);
    QVERIFY(decoded);
    const OtlpSender::Stats stats = sandbox.sender()->stats();
    QCOMPARE(qint64(spans.size()), stats.spansEnqueued);
    QCOMPARE(stats.spansDropped, 0);
    QVERIFY(stats.retries >= 2);
    std::set<QByteArray> ids;
    for (const Span &s : spans)
        QVERIFY(ids.insert(Otlp::toHex(s.spanId)).second);
}

void tst_SandboxOtlp::deliversOnceAListenerAppears()
{
    const auto port = Sandbox::pickFreeLoopbackPort();
    QVERIFY(port.ok());
    Sandbox sandbox(optionsFor(QUrl(u"http://127.0.0.1:%1"_s.arg(*port))));
    sandbox.setRuntimeDir(m_xdg.path());
    sandbox.setSpeed(20);
    QVERIFY(sandbox.start().ok());
    // Nobody listens: connection refused, again and again, spans kept.
    QTRY_VERIFY_WITH_TIMEOUT(sandbox.sender()->stats().requestsFailed >= 3, 30000);
    QCOMPARE(sandbox.sender()->stats().spansDelivered, 0);
    QVERIFY(sandbox.sender()->stats().queuedSpans > 0);

    MiniSink sink;
    QVERIFY(sink.listen(*port));
    QTRY_VERIFY_WITH_TIMEOUT(sandbox.sender()->stats().spansDelivered > 0, 15000);
    QSignalSpy done(&sandbox, &Sandbox::finished);
    sandbox.shutdown(5000);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 10000);
    QCOMPARE(done.at(0).at(0).toBool(), true);
    bool decoded = false;
    const std::vector<Span> spans = sink.acceptedSpans(&decoded);
    QVERIFY(decoded);
    QCOMPARE(qint64(spans.size()), sandbox.sender()->stats().spansEnqueued);
    QCOMPARE(sandbox.sender()->stats().spansDropped, 0);
}

void tst_SandboxOtlp::badRequestIsNotRetried()
{
    MiniSink sink;
    QVERIFY(sink.listen());
    sink.script = {{400, {}, R"({"code":3,"message":"span 7 has an invalid trace id"})"}};
    OtlpSenderConfig config;
    config.url = QUrl(sink.endpoint().toString() + u"/v1/traces"_s);
    config.format = OtlpFormat::Json;
    OtlpSender sender(config);
    const int resource = sender.addResource({{"service.name", QByteArray("x")}}, "scope", "1");
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(u"HTTP 400.*span 7 has an invalid trace id"_s));
    for (int i = 0; i < 5; ++i)
        sender.enqueue(resource, numberedSpan(i));
    QTRY_COMPARE_WITH_TIMEOUT(sender.stats().spansRejected, 5, 5000);
    for (int i = 5; i < 8; ++i)
        sender.enqueue(resource, numberedSpan(i));
    QTRY_COMPARE_WITH_TIMEOUT(sender.stats().spansDelivered, 3, 5000);
    QCOMPARE(sink.requests.size(), 2); // the refused batch was not sent again
    QCOMPARE(sender.stats().retries, 0);
}

void tst_SandboxOtlp::boundedQueueDropsTheOldest()
{
    const auto port = Sandbox::pickFreeLoopbackPort();
    QVERIFY(port.ok());
    OtlpSenderConfig config;
    config.url = QUrl(u"http://127.0.0.1:%1/v1/traces"_s.arg(*port));
    config.format = OtlpFormat::Protobuf;
    config.maxBatchSpans = 100;
    config.maxQueuedSpans = 1000;
    config.maxBackoffMs = 300;
    OtlpSender sender(config);
    const int resource = sender.addResource({{"service.name", QByteArray("x")}}, "scope", "1");
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"is not accepting spans"_s));
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(u"OTLP queue over 1000 spans: dropped the oldest"_s));
    for (int i = 0; i < 3000; ++i)
        sender.enqueue(resource, numberedSpan(i));
    // Up to maxInFlight batches are on their way (to be refused); the rest is bounded.
    QVERIFY(sender.stats().queuedSpans <= 1000);
    QVERIFY(sender.stats().spansDropped >= 3000 - 1000 - config.maxInFlight * config.maxBatchSpans);
    // The refused batches come back to the queue, which stays bounded.
    QTRY_VERIFY_WITH_TIMEOUT(sender.stats().retries >= 1 && sender.stats().inFlight == 0, 10000);
    QVERIFY(sender.stats().queuedSpans <= 1000);
    QVERIFY(sender.stats().spansDropped >= 2000);

    MiniSink sink;
    QVERIFY(sink.listen(*port));
    QTRY_COMPARE_WITH_TIMEOUT(sender.stats().queuedSpans + sender.stats().inFlight, 0, 15000);
    const std::vector<Span> spans = sink.acceptedSpans();
    QCOMPARE(qint64(spans.size()), 3000 - sender.stats().spansDropped);
    // What survived is the newest: the last span enqueued arrived, the first did not.
    std::set<QByteArray> names;
    for (const Span &s : spans)
        names.insert(s.name);
    QVERIFY(names.count("span 2999"));
    QVERIFY(!names.count("span 0"));
}

void tst_SandboxOtlp::realReceiverAcceptsEverything()
{
    OtlpReceiverOptions ro;
    ro.port = 0;
    OtlpReceiver receiver(ro);
    int calls = 0;
    qint64 stored = 0;
    receiver.setSink([&](std::shared_ptr<Otlp::DecodeResult> result, OtlpReceiver::Reply reply) {
        // The console's store is briefly unavailable at first.
        if (++calls == 1) {
            reply(SinkVerdict::unavailable(1, u"store busy"_s));
            return;
        }
        stored += qint64(result->spans.size());
        reply(SinkVerdict::accepted());
    });
    QVERIFY(receiver.listen().ok());
    Sandbox sandbox(optionsFor(QUrl(u"http://127.0.0.1:%1"_s.arg(receiver.port()))));
    sandbox.setRuntimeDir(m_xdg.path());
    sandbox.setSpeed(20);
    QVERIFY(sandbox.start().ok());
    QTRY_VERIFY_WITH_TIMEOUT(stored >= 200, 30000);
    QSignalSpy done(&sandbox, &Sandbox::finished);
    sandbox.shutdown(5000);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 10000);
    QCOMPARE(done.at(0).at(0).toBool(), true);
    const OtlpSender::Stats stats = sandbox.sender()->stats();
    QCOMPARE(stored, stats.spansEnqueued);
    QCOMPARE(stats.spansDelivered, stats.spansEnqueued);
    QVERIFY(stats.jsonRequests > 0 && stats.protobufRequests > 0);
    QVERIFY(stats.retries >= 1);
}

void tst_SandboxOtlp::executableRunsAndStopsOnSigterm()
{
    MiniSink sink;
    QVERIFY(sink.listen());
    QTemporaryDir xdg;
    QProcess proc;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"XDG_RUNTIME_DIR"_s, xdg.path());
    env.insert(u"BREAKER_LOG_DIR"_s, xdg.path());
    proc.setProcessEnvironment(env);
    proc.setProgram(sandboxBinary());
    proc.setArguments({u"--otlp-endpoint"_s,
                       sink.endpoint().toString(),
                       u"--rate"_s,
                       u"120"_s,
                       u"--seed"_s,
                       u"5"_s});
    QByteArray out;
    connect(&proc, &QProcess::readyReadStandardOutput, this, [&] {
        out += proc.readAllStandardOutput();
    });
    QSignalSpy finished(&proc, &QProcess::finished);
    proc.start();
    QTRY_VERIFY_WITH_TIMEOUT(out.contains('\n'), 15000);
    const QByteArray line = out.left(out.indexOf('\n'));
    QVERIFY2(line.startsWith("READY {"), line.constData());
    QJsonParseError error;
    const QJsonObject ready = QJsonDocument::fromJson(line.mid(6), &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);
    const QString profilePath = ready.value(u"profile").toString();
    QVERIFY(profilePath.startsWith(xdg.path() + u"/breaker/sandbox-"_s));
    QCOMPARE(ready.value(u"otlp_endpoint").toString(), sink.endpoint().toString());
    QCOMPARE(ready.value(u"agents").toArray().size(), 4);
    QFile profileFile(profilePath);
    QVERIFY(profileFile.open(QIODevice::ReadOnly));
    const auto profile = parseProfile(profileFile.readAll(), profilePath);
    QVERIFY2(profile.ok(), profile.ok() ? "" : qPrintable(profile.error().message));
    QCOMPARE(profile->observabilityReceiver()->listenPort, int(sink.port()));

    QTRY_VERIFY_WITH_TIMEOUT(sink.acceptedSpans().size() >= 10, 20000);
    proc.terminate(); // SIGTERM
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(proc.exitStatus(), QProcess::NormalExit);
    QCOMPARE(proc.exitCode(), 0);
    QCOMPARE(out.count('\n'), 1); // exactly one line on stdout
    bool decoded = false;
    sink.acceptedSpans(&decoded);
    QVERIFY(decoded);
    QVERIFY2(!QFileInfo::exists(profilePath), "the runtime folder is removed on exit");
}

void tst_SandboxOtlp::executableUsageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("rate") << QStringList{u"--rate"_s, u"0"_s} << u"--rate"_s;
    QTest::newRow("fault") << QStringList{u"--fault"_s, u"tools=explode"_s} << u"explode"_s;
    QTest::newRow("latency layer")
        << QStringList{u"--latency-ms"_s, u"network=5"_s} << u"unknown layer"_s;
    QTest::newRow("unknown option") << QStringList{u"--frobnicate"_s} << u"frobnicate"_s;
    QTest::newRow("endpoint") << QStringList{u"--otlp-endpoint"_s, u"localhost:4318"_s}
                              << u"http"_s;
}

void tst_SandboxOtlp::executableUsageErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    QProcess proc;
    QSignalSpy finished(&proc, &QProcess::finished);
    proc.start(sandboxBinary(), args);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(proc.exitCode(), 2);
    const QString err = QString::fromUtf8(proc.readAllStandardError());
    QVERIFY2(err.contains(message), qPrintable(err));
    QVERIFY(proc.readAllStandardOutput().isEmpty());
}

void tst_SandboxOtlp::executableNeverOverwritesAUsersProfile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"profile.json"_s);
    const QByteArray mine = R"({"version":1,"name":"payments-prod","providers":{},"agents":{}})";
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(mine);
    }
    QProcess proc;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"XDG_RUNTIME_DIR"_s, dir.path());
    env.insert(u"BREAKER_LOG_DIR"_s, dir.path());
    proc.setProcessEnvironment(env);
    QSignalSpy finished(&proc, &QProcess::finished);
    proc.start(sandboxBinary(),
               {u"--profile-out"_s, path, u"--otlp-endpoint"_s, u"http://127.0.0.1:9"_s});
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(proc.exitCode(), 2);
    QVERIFY(QString::fromUtf8(proc.readAllStandardError()).contains(u"refusing to overwrite"_s));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), mine);
}

void tst_SandboxOtlp::burstThroughput()
{
    // The real executable in burst mode against Breaker's own receiver (a separate process, so
    // the sink does not share the sandbox's thread). The rate is printed for the record; the
    // bound asserted is low enough for a busy shared machine and a sanitizer build.
    OtlpReceiverOptions ro;
    ro.port = 0;
    OtlpReceiver receiver(ro);
    receiver.setSink([](std::shared_ptr<Otlp::DecodeResult>, OtlpReceiver::Reply reply) {
        reply(SinkVerdict::accepted());
    });
    QVERIFY(receiver.listen().ok());
    QTemporaryDir xdg;
    QProcess proc;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"XDG_RUNTIME_DIR"_s, xdg.path());
    env.insert(u"BREAKER_LOG_DIR"_s, xdg.path());
    proc.setProcessEnvironment(env);
    QSignalSpy finished(&proc, &QProcess::finished);
    proc.start(sandboxBinary(),
               {u"--burst"_s,
                u"--seed"_s,
                u"2"_s,
                u"--otlp-endpoint"_s,
                u"http://127.0.0.1:%1"_s.arg(receiver.port())});
    // Warm up for a second, then measure five.
    QTRY_VERIFY_WITH_TIMEOUT(receiver.spansAcceptedTotal() > 0, 15000);
    QElapsedTimer clock;
    clock.start();
    QTRY_VERIFY_WITH_TIMEOUT(clock.elapsed() >= 1000, 5000);
    const qint64 before = receiver.spansAcceptedTotal();
    clock.restart();
    QTRY_VERIFY_WITH_TIMEOUT(clock.elapsed() >= 5000, 10000);
    const qint64 delivered = receiver.spansAcceptedTotal() - before;
    const double rate = double(delivered) / (double(clock.elapsed()) / 1000.0);
    proc.terminate();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(proc.exitCode(), 0);
    qInfo("burst: %.0f spans/s accepted by OtlpReceiver over 5 s", rate);
    QVERIFY2(rate > 1000, QByteArray::number(rate).constData());
}

QTEST_GUILESS_MAIN(tst_SandboxOtlp)
#include "tst_sandbox_otlp.moc"
