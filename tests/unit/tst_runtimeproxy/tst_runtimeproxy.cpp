// The runtime connectors live on a thread of their own (RuntimeConnectorProxy): calls reach the
// connector there, in order; answers, capabilities and link states come back to the caller's
// thread; the connector is made and deleted on its thread.
#include "app/services/RuntimeConnectorProxy.h"
#include "app/services/Threads.h"
#include "tests/common/ScriptedRuntime.h"

#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <atomic>

using namespace Breaker;

namespace {

// Where the connector was made and deleted, written on the connector's thread and read by the
// test once it has seen the effect (QTRY): the atomics make that hand-over well defined.
struct Trace
{
    std::atomic<QThread *> madeOn{nullptr};
    std::atomic<QThread *> deletedOn{nullptr};
    std::atomic<QThread *> answeredOn{nullptr};
};

class TracedRuntime : public Testing::ScriptedRuntime
{
public:
    explicit TracedRuntime(std::shared_ptr<Trace> trace) : m_trace(std::move(trace))
    {
        m_trace->madeOn = QThread::currentThread();
    }
    ~TracedRuntime() override { m_trace->deletedOn = QThread::currentThread(); }
    void announce(LinkState state, const QString &detail) { setLinkState(state, detail); }

private:
    std::shared_ptr<Trace> m_trace;
};

} // namespace

class tst_RuntimeProxy : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void madeOnItsThreadAnsweredOnOurs();
    void callsKeepTheirOrder();
    void capabilitiesAndLinkStateMirrored();
    void deletedOnItsThread();
    void noConnectorAnswersUnavailable();
    void startRunWithMessageRefusedWhereUnsupported();

private:
    RuntimeConnectorProxy *makeProxy(RuntimeConnectorProxy::Factory factory);
    QThread *m_thread = nullptr;
    QObject *m_host = nullptr;
    std::shared_ptr<Trace> m_trace;
};

void tst_RuntimeProxy::init()
{
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("runtime"));
    m_host = new QObject;
    m_host->moveToThread(m_thread);
    m_thread->start();
    m_trace = std::make_shared<Trace>();
}

void tst_RuntimeProxy::cleanup()
{
    endOnItsThread(m_host, m_thread);
}

RuntimeConnectorProxy *tst_RuntimeProxy::makeProxy(RuntimeConnectorProxy::Factory factory)
{
    return new RuntimeConnectorProxy("scripted", "a2a", m_host, this, std::move(factory), this);
}

void tst_RuntimeProxy::madeOnItsThreadAnsweredOnOurs()
{
    auto trace = m_trace;
    auto *proxy = makeProxy([trace](QObject *parent) {
        auto *r = new TracedRuntime(trace);
        r->setParent(parent);
        r->reads = {Testing::scriptedTask(RunStatus::Working, "working")};
        return r;
    });
    QThread *answeredOn = nullptr;
    std::optional<Result<RuntimeRun>> got;
    proxy->getRun("task-1", [&](const Result<RuntimeRun> &r) {
        answeredOn = QThread::currentThread();
        got = r;
    });
    QVERIFY(!got); // never answered inside the call
    QTRY_VERIFY(got.has_value());
    QVERIFY(got->ok());
    QCOMPARE((*got)->externalId, QByteArray("task-1"));
    QCOMPARE((*got)->rawState, QByteArray("working"));
    QCOMPARE(answeredOn, QThread::currentThread());
    QCOMPARE(m_trace->madeOn.load(), m_thread);
    delete proxy;
}

void tst_RuntimeProxy::callsKeepTheirOrder()
{
    auto calls = std::make_shared<std::vector<QByteArray>>(); // written on the connector's thread
    auto *proxy = makeProxy([](QObject *parent) {
        auto *r = new Testing::ScriptedRuntime;
        r->setParent(parent);
        r->cancelAnswer = Testing::scriptedTask(RunStatus::Stopped, "canceled");
        return r;
    });
    int answered = 0;
    for (const QByteArray &id : {QByteArray("a"), QByteArray("b"), QByteArray("c")})
        proxy->cancelRun(id, [&](const Result<RuntimeRun> &) { ++answered; });
    proxy->onConnector([calls](RuntimeConnector *c) { *calls = static_cast<Testing::ScriptedRuntime *>(c)->calls; });
    QTRY_COMPARE(answered, 3);
    // The snapshot was taken on the connector's thread after the three calls were made there.
    QCOMPARE(*calls, (std::vector<QByteArray>{"cancel:a", "cancel:b", "cancel:c"}));
    delete proxy;
}

void tst_RuntimeProxy::capabilitiesAndLinkStateMirrored()
{
    auto trace = m_trace;
    auto *proxy = makeProxy([trace](QObject *parent) {
        auto *r = new TracedRuntime(trace);
        r->setParent(parent);
        r->canList = true;
        return r;
    });
    QVERIFY(proxy->capabilities().dialect.isEmpty()); // not known before the connector exists
    QTRY_COMPARE(proxy->capabilities().dialect, QStringLiteral("scripted"));
    QVERIFY(proxy->capabilities().list);

    QSignalSpy states(proxy, &RuntimeConnector::linkStateChanged);
    proxy->onConnector([](RuntimeConnector *c) {
        static_cast<TracedRuntime *>(c)->announce(RuntimeConnector::LinkState::Degraded, QStringLiteral("HTTP 503"));
    });
    QTRY_COMPARE(states.size(), 1);
    QCOMPARE(proxy->linkState(), RuntimeConnector::LinkState::Degraded);
    QCOMPARE(proxy->linkDetail(), QStringLiteral("HTTP 503"));
    QCOMPARE(states.at(0).at(1).toString(), QStringLiteral("HTTP 503"));
    delete proxy;
}

void tst_RuntimeProxy::deletedOnItsThread()
{
    auto trace = m_trace;
    auto *proxy = makeProxy([trace](QObject *parent) {
        auto *r = new TracedRuntime(trace);
        r->setParent(parent);
        return r;
    });
    QTRY_VERIFY(m_trace->madeOn.load() != nullptr);
    delete proxy;
    QTRY_VERIFY(m_trace->deletedOn.load() != nullptr);
    QCOMPARE(m_trace->deletedOn.load(), m_thread);
}

void tst_RuntimeProxy::noConnectorAnswersUnavailable()
{
    auto *proxy = makeProxy([](QObject *) -> RuntimeConnector * { return nullptr; });
    std::optional<Result<RuntimeRun>> got;
    proxy->getRun("task-1", [&](const Result<RuntimeRun> &r) { got = r; });
    QTRY_VERIFY(got.has_value());
    QVERIFY(!got->ok());
    QCOMPARE(got->error().kind, Error::Kind::Unavailable);
    QCOMPARE(got->error().where, QStringLiteral("scripted"));
    QVERIFY2(got->error().message.contains(QLatin1String("closed")), qPrintable(got->error().message));
    delete proxy;
}

void tst_RuntimeProxy::startRunWithMessageRefusedWhereUnsupported()
{
    auto *proxy = makeProxy([](QObject *parent) {
        auto *r = new Testing::ScriptedRuntime;
        r->setParent(parent);
        return r;
    });
    QTRY_COMPARE(proxy->capabilities().dialect, QStringLiteral("scripted"));
    QVERIFY(!proxy->canStartRuns());
    std::optional<Result<RuntimeRun>> got;
    proxy->startRunWithMessage(QStringLiteral("work 1"), {}, [&](const Result<RuntimeRun> &r) { got = r; });
    QTRY_VERIFY(got.has_value());
    QVERIFY(!got->ok());
    QCOMPARE(got->error().kind, Error::Kind::Invalid);
    QVERIFY2(got->error().message.contains(QLatin1String("cannot be asked to start a run")),
             qPrintable(got->error().message));
    delete proxy;
}

QTEST_GUILESS_MAIN(tst_RuntimeProxy)
#include "tst_runtimeproxy.moc"
