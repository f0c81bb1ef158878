// The cloudflare-agents connector against a scripted QWebSocketServer on loopback: the close
// codes a real agent rarely sends on demand (1008, 1011, 4xxx) reach the link detail in words,
// a refused upgrade and a silent server answer by the deadline, the bearer goes on the upgrade,
// and a profile mistake is an error before any connection.
#include "connectors/runtime/CloudflareAgentsConnector.h"
#include "models/Profile.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

using namespace Breaker;

namespace {

template<typename T>
Result<T> await(const std::function<void(RuntimeCallback<T>)> &call, int timeoutMs = 10000)
{
    std::optional<Result<T>> out;
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    QObject::connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    call([&](const Result<T> &r) {
        if (!out) {
            out = r;
            loop.quit();
        }
    });
    if (!out) {
        timer.start(timeoutMs);
        loop.exec();
    }
    if (!out)
        return makeError(Error::Kind::Timeout, QStringLiteral("the test waited %1 ms").arg(timeoutMs));
    return *out;
}

ProviderConfig config(quint16 port, const QString &stopMethod = QStringLiteral("stop"))
{
    ProviderConfig p;
    p.name = QStringLiteral("cf");
    p.layer = QStringLiteral("runtime");
    p.kind = QStringLiteral("cloudflare-agents");
    p.url = QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(port));
    p.stopMethod = stopMethod;
    p.timeoutS = 1;
    return p;
}

// An agent that greets like agents 0.32.0 and then does what the test says.
class ScriptedAgent : public QObject
{
public:
    ScriptedAgent()
        : m_server(QStringLiteral("scripted"), QWebSocketServer::NonSecureMode)
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        connect(&m_server, &QWebSocketServer::newConnection, this, [this] {
            QWebSocket *s = m_server.nextPendingConnection();
            s->setParent(this);
            lastPath = s->requestUrl().path();
            lastAuthorization = s->request().rawHeader("Authorization");
            ++connections;
            if (!greet)
                return;
            s->sendTextMessage(QStringLiteral(R"({"type":"cf_agent_identity","name":"i1","agent":"work-agent","stateFollows":true})"));
            s->sendTextMessage(QStringLiteral(R"({"type":"cf_agent_state","state":{"status":"working"}})"));
            connect(s, &QWebSocket::textMessageReceived, this, [this, s](const QString &text) {
                received << text;
                if (closeOnMessage)
                    s->close(QWebSocketProtocol::CloseCode(closeCode), closeReason);
            });
        });
    }
    quint16 port() const { return m_server.serverPort(); }

    bool greet = true;
    bool closeOnMessage = false;
    int closeCode = 1000;
    QString closeReason;
    int connections = 0;
    QString lastPath;
    QByteArray lastAuthorization;
    QStringList received;

private:
    QWebSocketServer m_server;
};

} // namespace

class tst_CloudflareConnector : public QObject
{
    Q_OBJECT

private slots:
    void closeCodesReachTheLink_data();
    void closeCodesReachTheLink();
    void bearerAndPath();
    void silentServerAnswersByDeadline();
    void refusedUpgrade();
    void noStopMethod();
    void badSelector();
};

void tst_CloudflareConnector::closeCodesReachTheLink_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<QString>("words");
    QTest::newRow("1001") << 1001 << QStringLiteral("deploy") << QStringLiteral("closed with 1001 (going away: the agent or its host is shutting down or restarting): deploy");
    QTest::newRow("1008") << 1008 << QStringLiteral("bad token") << QStringLiteral("closed with 1008 (policy violation: the agent refused the connection (often its auth)): bad token");
    QTest::newRow("1011") << 1011 << QStringLiteral("boom") << QStringLiteral("closed with 1011 (internal error: the agent failed while handling the connection): boom");
    QTest::newRow("4001") << 4001 << QStringLiteral("quota") << QStringLiteral("closed with 4001 (application code 4001: the agent's own reason (4000-4999)): quota");
}

void tst_CloudflareConnector::closeCodesReachTheLink()
{
    QFETCH(int, code);
    QFETCH(QString, reason);
    QFETCH(QString, words);
    ScriptedAgent agent;
    agent.closeOnMessage = true;
    agent.closeCode = code;
    agent.closeReason = reason;
    CloudflareAgentsConnector cf(config(agent.port()), {}, {QStringLiteral("WorkAgent/i1")});
    cf.startFollowing();
    QTRY_COMPARE_WITH_TIMEOUT(cf.linkState(), RuntimeConnector::LinkState::Connected, 5000);
    // A call the agent answers by closing: the call fails with the close, the link says it.
    auto r = await<QJsonValue>([&](auto cb) { cf.callMethod("work-agent/i1", QStringLiteral("work"), {}, {}, cb); });
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::Unavailable);
    QVERIFY2(r.error().message.contains(words), qPrintable(r.error().message));
    QTRY_VERIFY_WITH_TIMEOUT(cf.linkState() != RuntimeConnector::LinkState::Connected, 2000);
    QCOMPARE(cf.linkDetail(), QStringLiteral("work-agent/i1: ") + words + QStringLiteral("; reconnecting in 1 s"));
    QCOMPARE(cf.linkState(), RuntimeConnector::LinkState::Down);
    // And it comes back by itself (the server still accepts).
    QTRY_COMPARE_WITH_TIMEOUT(cf.linkState(), RuntimeConnector::LinkState::Connected, 5000);
    QCOMPARE(agent.connections, 2);
}

void tst_CloudflareConnector::bearerAndPath()
{
    ScriptedAgent agent;
    CloudflareAgentsConnector cf(config(agent.port()), "s3cret", {});
    auto run = await<RuntimeRun>([&](auto cb) { cf.getRun("MyAgent/room 1", cb); });
    QVERIFY2(run.ok(), qPrintable(run.ok() ? QString() : run.error().message));
    QCOMPARE(agent.lastPath, QStringLiteral("/agents/my-agent/room 1"));
    QCOMPARE(agent.lastAuthorization, QByteArray("Bearer s3cret"));
    QCOMPARE(run->key, QByteArray("cloudflare-agents:my-agent/room 1"));
    QCOMPARE(run->status, RunStatus::Working);
}

void tst_CloudflareConnector::silentServerAnswersByDeadline()
{
    ScriptedAgent agent;
    agent.greet = false; // accepts the upgrade and never says who it is
    CloudflareAgentsConnector cf(config(agent.port()), {}, {});
    QElapsedTimer clock;
    clock.start();
    auto run = await<RuntimeRun>([&](auto cb) { cf.getRun("WorkAgent/i1", cb); });
    QVERIFY(!run.ok());
    QVERIFY2(clock.elapsed() < 2500, qPrintable(QString::number(clock.elapsed())));
    QVERIFY2(run.error().message.contains(QLatin1String("within 1 s")), qPrintable(run.error().message));
}

void tst_CloudflareConnector::refusedUpgrade()
{
    // A plain HTTP server that answers 400, like routeAgentRequest for an unknown class.
    QTcpServer http;
    QVERIFY(http.listen(QHostAddress::LocalHost, 0));
    connect(&http, &QTcpServer::newConnection, this, [&http] {
        QTcpSocket *s = http.nextPendingConnection();
        connect(s, &QTcpSocket::readyRead, s, [s] {
            s->readAll();
            s->write("HTTP/1.1 400 Bad Request\r\nContent-Length: 15\r\nConnection: close\r\n\r\nInvalid request");
            s->disconnectFromHost();
        });
    });
    CloudflareAgentsConnector cf(config(http.serverPort()), {}, {});
    auto run = await<RuntimeRun>([&](auto cb) { cf.getRun("NoSuch/x", cb); });
    QVERIFY(!run.ok());
    QCOMPARE(run.error().kind, Error::Kind::Unavailable);
    QVERIFY2(run.error().message.contains(QLatin1String("could not connect")), qPrintable(run.error().message));
}

void tst_CloudflareConnector::noStopMethod()
{
    ScriptedAgent agent;
    CloudflareAgentsConnector cf(config(agent.port(), QString()), {}, {QStringLiteral("WorkAgent/i1")});
    auto caps = await<RuntimeCapabilities>([&](auto cb) { cf.discover(cb); });
    QVERIFY(caps.ok());
    QVERIFY(!caps->cancel);
    auto r = await<RuntimeRun>([&](auto cb) { cf.cancelRun("work-agent/i1", cb); });
    QVERIFY(!r.ok());
    QCOMPARE(r.error().message, QStringLiteral("skipped_not_configured: no stop_method in the profile for cf"));
    QCOMPARE(agent.connections, 0); // nothing was attempted
}

void tst_CloudflareConnector::badSelector()
{
    CloudflareAgentsConnector cf(config(1), {}, {QStringLiteral("WorkAgent")});
    auto caps = await<RuntimeCapabilities>([&](auto cb) { cf.discover(cb); });
    QVERIFY(!caps.ok());
    QVERIFY2(caps.error().message.startsWith(QLatin1String("cf: \"WorkAgent\" is not a Cloudflare agent selector")),
             qPrintable(caps.error().message));
    QCOMPARE(cf.linkState(), RuntimeConnector::LinkState::Down);
}

QTEST_GUILESS_MAIN(tst_CloudflareConnector)
#include "tst_cloudflareconnector.moc"
