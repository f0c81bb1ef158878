// After a stop, keep watching (issue 4 item 5): work that started after the stop and went
// through is a leak naming the layer that let it through; failed (contained) calls, work from
// before the stop and other agents are not; each leak is raised and audited once.
#include "app/services/LeakWatch.h"
#include "models/Store.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Breaker;

class tst_LeakWatch : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void workAfterTheStopIsALeak_data();
    void workAfterTheStopIsALeak();
    void eachLeakOnceAndAudited();
    void otherAgentsAreNotWatched();

private:
    RunEvent event(EventKind kind, const QByteArray &name, qint64 startMs, int status) const;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::shared_ptr<Store> m_store;
    std::unique_ptr<LeakWatch> m_watch;
    qint64 m_stopEndMs = 0;
};

void tst_LeakWatch::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    auto store = Store::open(m_dir->filePath(QStringLiteral("t.db")));
    QVERIFY(store.ok());
    m_store = store.value();
    WriteBatch batch;
    for (const char *id : {"r1", "r2"}) {
        Run r;
        r.id = id;
        r.agent = QByteArray(id) == "r1" ? "refund-agent" : "email-agent";
        r.status = RunStatus::Working;
        r.startedMs = r.updatedMs = QDateTime::currentMSecsSinceEpoch();
        batch.runs.push_back(r);
    }
    QVERIFY(m_store->write(std::move(batch)).ok());

    m_watch = std::make_unique<LeakWatch>(m_store, nullptr);
    StopOutcome o;
    o.scope = {StopScope::Kind::Agent, "refund-agent"};
    o.startedAtMs = QDateTime::currentMSecsSinceEpoch() - 2000;
    o.ms = 1000;
    m_stopEndMs = o.startedAtMs + o.ms;
    for (const char *layer : {"runtime", "identity", "payment", "tools"}) {
        StopLayerResult r;
        r.layer = layer;
        r.agent = "refund-agent";
        r.provider = "p";
        r.outcome = LayerOutcome::Verified;
        o.rows.push_back(r);
    }
    m_watch->watch(o, {"refund-agent"});
    QVERIFY(m_watch->isWatching("refund-agent"));
}

void tst_LeakWatch::cleanup()
{
    m_watch.reset();
    m_store.reset();
    m_dir.reset();
}

RunEvent tst_LeakWatch::event(EventKind kind, const QByteArray &name, qint64 startMs, int status) const
{
    RunEvent e;
    e.runId = "r1";
    e.kind = kind;
    e.name = name;
    e.startNs = startMs * 1000000;
    e.endNs = e.startNs + 1000000;
    e.statusCode = status;
    return e;
}

void tst_LeakWatch::workAfterTheStopIsALeak_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<qint64>("offsetMs"); // from the end of the stop
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("layer"); // empty: no leak
    QTest::newRow("tool call went through") << int(EventKind::ToolCall) << qint64(500) << 1 << QByteArray("tools");
    QTest::newRow("tool call unset status") << int(EventKind::ToolCall) << qint64(500) << 0 << QByteArray("tools");
    QTest::newRow("spend went through") << int(EventKind::Spend) << qint64(500) << 0 << QByteArray("payment");
    QTest::newRow("model call went through") << int(EventKind::ModelCall) << qint64(500) << 0 << QByteArray("identity");
    QTest::newRow("tool call blocked") << int(EventKind::ToolCall) << qint64(500) << 2 << QByteArray();
    QTest::newRow("before the stop ended") << int(EventKind::ToolCall) << qint64(-500) << 1 << QByteArray();
    QTest::newRow("a data read is not work") << int(EventKind::DataAccess) << qint64(500) << 1 << QByteArray();
}

void tst_LeakWatch::workAfterTheStopIsALeak()
{
    QFETCH(int, kind);
    QFETCH(qint64, offsetMs);
    QFETCH(int, status);
    QFETCH(QByteArray, layer);
    QSignalSpy spy(m_watch.get(), &LeakWatch::leak);
    m_watch->onEvents({event(EventKind(kind), "stripe.refund", m_stopEndMs + offsetMs, status)});
    if (layer.isEmpty()) {
        QCOMPARE(spy.count(), 0);
        return;
    }
    QCOMPARE(spy.count(), 1);
    const auto leak = spy.at(0).at(0).value<LayerLeak>();
    QCOMPARE(leak.layer, layer);
    QCOMPARE(leak.agent, QByteArray("refund-agent"));
    QCOMPARE(spy.at(0).at(1).toByteArray(), QByteArray("r1"));
    QVERIFY(leak.what.contains(QStringLiteral("stripe.refund")));
}

void tst_LeakWatch::eachLeakOnceAndAudited()
{
    QSignalSpy spy(m_watch.get(), &LeakWatch::leak);
    const RunEvent e = event(EventKind::ToolCall, "zendesk.reply", m_stopEndMs + 100, 1);
    m_watch->onEvents({e});
    m_watch->onEvents({e}); // delivered again
    QCOMPARE(spy.count(), 1);
    auto head = m_store->auditHead();
    QVERIFY(head.ok() && head.value());
    const QJsonObject record = QJsonDocument::fromJson(head.value()->line).object();
    QCOMPARE(record.value(QStringLiteral("action")).toString(), QStringLiteral("stop.leak"));
    QCOMPARE(record.value(QStringLiteral("target")).toObject().value(QStringLiteral("layer")).toString(),
             QStringLiteral("tools"));
    QCOMPARE(record.value(QStringLiteral("actor")).toObject().value(QStringLiteral("kind")).toString(),
             QStringLiteral("system"));
}

void tst_LeakWatch::otherAgentsAreNotWatched()
{
    QSignalSpy spy(m_watch.get(), &LeakWatch::leak);
    RunEvent e = event(EventKind::ToolCall, "email.send", m_stopEndMs + 100, 1);
    e.runId = "r2";
    m_watch->onEvents({e});
    QCOMPARE(spy.count(), 0);
    // A run of the stopped agent that starts later is learnt from the runs the monitor commits.
    Run later;
    later.id = "r3";
    later.agent = "refund-agent";
    m_watch->onRuns({later});
    RunEvent f = event(EventKind::ToolCall, "stripe.refund", m_stopEndMs + 100, 1);
    f.runId = "r3";
    m_watch->onEvents({f});
    QCOMPARE(spy.count(), 1);
}

QTEST_GUILESS_MAIN(tst_LeakWatch)
#include "tst_leakwatch.moc"
