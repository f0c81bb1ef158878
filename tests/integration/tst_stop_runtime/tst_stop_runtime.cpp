// `breakerctl stop --run ID --layers runtime` on a working task of the real @a2a-js/sdk server:
// prints verified for the runtime layer, the server itself then reports the task canceled, and
// the audit trail holds the intent before the outcome, then the stop's result (issue 3, "Done
// when"; the result record came with the stop switch of issue 4).
#include "app/services/RunMonitor.h"
#include "connectors/runtime/A2aConnector.h"
#include "models/Profile.h"
#include "models/Store.h"
#include "tests/common/Breakerctl.h"
#include "tests/common/PeerProcess.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace Breaker;
using namespace Breaker::Test;
using namespace std::chrono_literals;

namespace {

template<typename T>
Result<T> await(const std::function<void(RuntimeCallback<T>)> &call)
{
    std::optional<Result<T>> out;
    QEventLoop loop;
    call([&](const Result<T> &r) {
        if (!out) {
            out = r;
            loop.quit();
        }
    });
    if (!out) {
        QTimer::singleShot(20000, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return out.value_or(Result<T>(makeError(Error::Kind::Timeout, QStringLiteral("no answer in 20 s"))));
}

} // namespace

class tst_StopRuntime : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void stopsAWorkingTask();
    void stopOfAFinishedRunIsVerified();
    void usageErrors();
    void unreachableProvider();

private:
    QByteArray seedRun(const QByteArray &text, RunStatus waitFor);
    QStringList common() const
    {
        return {QStringLiteral("--profile"), m_profilePath, QStringLiteral("--db"), m_dbPath};
    }
    std::unique_ptr<PeerProcess> m_peer;
    QTemporaryDir m_dir;
    QString m_origin;
    QString m_profilePath;
    QString m_dbPath;
    std::unique_ptr<A2aConnector> m_a2a;
    QByteArray m_lastTask;
};

void tst_StopRuntime::initTestCase()
{
    BREAKER_REQUIRE_PEERS();
    m_peer = std::make_unique<PeerProcess>();
    QVERIFY2(m_peer->startNode(QStringLiteral("a2a-peer.mjs")), qPrintable(m_peer->errorString()));
    const auto line = m_peer->waitForLine("LISTENING ", 30s);
    QVERIFY2(line, qPrintable(m_peer->failureReport()));
    m_origin = QStringLiteral("http://127.0.0.1:%1").arg(line->section(QLatin1Char(' '), 1).toInt());

    m_profilePath = m_dir.filePath(QStringLiteral("profile.json"));
    m_dbPath = m_dir.filePath(QStringLiteral("breaker.db"));
    QJsonObject provider;
    provider.insert(QStringLiteral("layer"), QStringLiteral("runtime"));
    provider.insert(QStringLiteral("kind"), QStringLiteral("a2a"));
    provider.insert(QStringLiteral("url"), QString(m_origin + QStringLiteral("/a2a/jsonrpc")));
    QJsonObject providers;
    providers.insert(QStringLiteral("peer-a2a"), provider);
    QJsonObject agent;
    agent.insert(QStringLiteral("owner"), QStringLiteral("payments-oncall"));
    agent.insert(QStringLiteral("runtime"), QStringLiteral("peer-a2a"));
    QJsonObject agents;
    agents.insert(QStringLiteral("refund-agent"), agent);
    QJsonObject profile;
    profile.insert(QStringLiteral("version"), 1);
    profile.insert(QStringLiteral("name"), QStringLiteral("stop-test"));
    profile.insert(QStringLiteral("providers"), providers);
    profile.insert(QStringLiteral("agents"), agents);
    QFile file(m_profilePath);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QJsonDocument(profile).toJson());
    file.close();
    auto parsed = loadProfile(m_profilePath);
    QVERIFY2(parsed.ok(), qPrintable(parsed.ok() ? QString() : parsed.error().message));
    m_a2a = std::make_unique<A2aConnector>(*parsed->provider(QStringLiteral("peer-a2a")), QByteArray());
}

void tst_StopRuntime::cleanupTestCase()
{
    m_a2a.reset();
    if (m_peer)
        m_peer->stop();
}

// A task on the peer, known to the Store the way the engine records it.
QByteArray tst_StopRuntime::seedRun(const QByteArray &text, RunStatus waitFor)
{
    auto task = await<RuntimeRun>([&](auto cb) { m_a2a->startTask(QString::fromUtf8(text), {}, cb); });
    if (!task.ok())
        return {};
    Result<RuntimeRun> now = task;
    for (int i = 0; i < 100 && now.ok() && now->status != waitFor; ++i) {
        QTest::qWait(100);
        now = await<RuntimeRun>([&](auto cb) { m_a2a->getRun(task->externalId, cb); });
    }
    if (!now.ok() || now->status != waitFor)
        return {};
    auto store = Store::open(m_dbPath);
    if (!store.ok())
        return {};
    RunMonitor monitor(store.value(), PriceTable());
    QSignalSpy committed(&monitor, &RunMonitor::runsCommitted);
    monitor.ingestRuntime(*now, QByteArray("refund-agent"));
    if (!committed.wait(5000))
        return {};
    m_lastTask = now->externalId;
    return committed.front().at(0).value<std::vector<Run>>().front().id;
}

void tst_StopRuntime::stopsAWorkingTask()
{
    const QByteArray runId = seedRun("work 60000", RunStatus::Working);
    QVERIFY(!runId.isEmpty());

    // Dry run: says what it would do, does nothing.
    CtlRun dry = breakerctl(common() + QStringList{QStringLiteral("stop"), QStringLiteral("--run"), QString::fromUtf8(runId),
                                                   QStringLiteral("--layers"), QStringLiteral("runtime"), QStringLiteral("--dry-run"),
                                                   QStringLiteral("--json")});
    QVERIFY2(dry.code == 0, dry.err.constData());
    QCOMPARE(schemaVerdict(QStringLiteral("stop.schema.json"), dry.out), QString());
    QVERIFY(dry.out.contains(m_lastTask));
    auto still = await<RuntimeRun>([&](auto cb) { m_a2a->getRun(m_lastTask, cb); });
    QCOMPARE(still->status, RunStatus::Working);

    CtlRun r = breakerctl(common() + QStringList{QStringLiteral("stop"), QStringLiteral("--run"), QString::fromUtf8(runId),
                                                 QStringLiteral("--layers"), QStringLiteral("runtime"),
                                                 QStringLiteral("--reason"), QStringLiteral("refund loop, INC-4711"),
                                                 QStringLiteral("--json")});
    QVERIFY2(r.code == 0, QByteArray(r.out).append(r.err).constData());
    QCOMPARE(schemaVerdict(QStringLiteral("stop.schema.json"), r.out), QString());
    const QJsonObject doc = QJsonDocument::fromJson(r.out).object();
    QVERIFY(doc.value(QStringLiteral("verified")).toBool());
    const QJsonObject layer = doc.value(QStringLiteral("layers")).toArray().first().toObject();
    QCOMPARE(layer.value(QStringLiteral("layer")).toString(), QStringLiteral("runtime"));
    QCOMPARE(layer.value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
    QCOMPARE(layer.value(QStringLiteral("provider")).toString(), QStringLiteral("peer-a2a"));
    QCOMPARE(layer.value(QStringLiteral("agent")).toString(), QStringLiteral("refund-agent"));
    QVERIFY(layer.value(QStringLiteral("target")).toString().contains(QString::fromUtf8(m_lastTask)));

    // The A2A server itself says canceled.
    auto after = await<RuntimeRun>([&](auto cb) { m_a2a->getRun(m_lastTask, cb); });
    QVERIFY(after.ok());
    QCOMPARE(after->rawState, QByteArray("TASK_STATE_CANCELED"));

    // The audit trail: the intent first, then the outcome, with the reason and the operator.
    auto store = Store::open(m_dbPath, StoreOptions{true, 5000});
    QVERIFY(store.ok());
    auto head = store.value()->auditHead();
    QVERIFY(head.ok() && head.value());
    auto records = store.value()->auditRecords(head.value()->seq - 2, head.value()->seq);
    QVERIFY(records.ok());
    QCOMPARE(records->size(), size_t(3));
    const QJsonObject intent = QJsonDocument::fromJson(records->at(0).line).object();
    const QJsonObject outcome = QJsonDocument::fromJson(records->at(1).line).object();
    const QJsonObject completed = QJsonDocument::fromJson(records->at(2).line).object();
    QCOMPARE(completed.value(QStringLiteral("action")).toString(), QStringLiteral("stop.completed"));
    QCOMPARE(completed.value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
    QCOMPARE(intent.value(QStringLiteral("action")).toString(), QStringLiteral("stop.requested"));
    QCOMPARE(intent.value(QStringLiteral("reason")).toString(), QStringLiteral("refund loop, INC-4711"));
    QCOMPARE(intent.value(QStringLiteral("actor")).toObject().value(QStringLiteral("kind")).toString(), QStringLiteral("operator"));
    QCOMPARE(outcome.value(QStringLiteral("action")).toString(), QStringLiteral("stop.layer"));
    QCOMPARE(outcome.value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
    QCOMPARE(outcome.value(QStringLiteral("target")).toObject().value(QStringLiteral("run")).toString(), QString::fromUtf8(runId));

    // The run shows who cancelled it, and the runtime's state and verbs.
    CtlRun show = breakerctl(common() + QStringList{QStringLiteral("run"), QString::fromUtf8(runId), QStringLiteral("--json")});
    QVERIFY2(show.code == 0, show.err.constData());
    QCOMPARE(schemaVerdict(QStringLiteral("run.schema.json"), show.out), QString());
    const QJsonObject shown = QJsonDocument::fromJson(show.out).object();
    const QJsonObject runtime = shown.value(QStringLiteral("runtime")).toObject();
    QCOMPARE(runtime.value(QStringLiteral("provider")).toString(), QStringLiteral("peer-a2a"));
    QCOMPARE(runtime.value(QStringLiteral("state")).toString(), QStringLiteral("stopped"));
    QCOMPARE(runtime.value(QStringLiteral("raw_state")).toString(), QStringLiteral("TASK_STATE_CANCELED"));
    QCOMPARE(runtime.value(QStringLiteral("dialect")).toString(), QStringLiteral("A2A 1.0 JSON-RPC"));
    QVERIFY(runtime.value(QStringLiteral("verbs")).toArray().contains(QStringLiteral("cancel")));
    QCOMPARE(shown.value(QStringLiteral("run")).toObject().value(QStringLiteral("status")).toString(), QStringLiteral("stopped"));
    bool whoAndWhen = false;
    for (const auto &v : shown.value(QStringLiteral("events")).toArray()) {
        const QJsonObject e = v.toObject();
        if (e.value(QStringLiteral("kind")).toString() == QLatin1String("operator_action")
            && e.value(QStringLiteral("name")).toString().startsWith(QLatin1String("cancel requested by "))
            && e.value(QStringLiteral("attributes")).toObject().value(QStringLiteral("breaker.reason")).toString()
                   == QLatin1String("refund loop, INC-4711")
            && !e.value(QStringLiteral("start")).toString().isEmpty())
            whoAndWhen = true;
    }
    QVERIFY(whoAndWhen);
}

void tst_StopRuntime::stopOfAFinishedRunIsVerified()
{
    // Nothing in flight: the runtime refuses the cancel (-32002), Breaker reads the task back,
    // and the layer is verified with that as its evidence.
    const QByteArray runId = seedRun("quick", RunStatus::Completed);
    QVERIFY(!runId.isEmpty());
    CtlRun r = breakerctl(common() + QStringList{QStringLiteral("stop"), QStringLiteral("--run"), QString::fromUtf8(runId),
                                                 QStringLiteral("--reason"), QStringLiteral("drill"), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, QByteArray(r.out).append(r.err).constData());
    const QJsonObject layer = QJsonDocument::fromJson(r.out).object().value(QStringLiteral("layers")).toArray().first().toObject();
    QCOMPARE(layer.value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
    QVERIFY2(layer.value(QStringLiteral("detail")).toString().contains(QLatin1String("Task not cancelable")),
             qPrintable(layer.value(QStringLiteral("detail")).toString()));
    QVERIFY(layer.value(QStringLiteral("detail")).toString().contains(QLatin1String("already ended")));
}

void tst_StopRuntime::usageErrors()
{
    const QStringList stop{QStringLiteral("stop")};
    // No reason: refused before anything is written.
    CtlRun noReason = breakerctl(common() + stop + QStringList{QStringLiteral("--run"), QStringLiteral("r0")});
    QCOMPARE(noReason.code, 2);
    QVERIFY(noReason.err.contains("--reason TEXT is required"));
    CtlRun twoScopes = breakerctl(common() + stop + QStringList{QStringLiteral("--run"), QStringLiteral("r0"),
                                                                 QStringLiteral("--agent"), QStringLiteral("a"),
                                                                 QStringLiteral("--reason"), QStringLiteral("x")});
    QCOMPARE(twoScopes.code, 2);
    CtlRun badLayer = breakerctl(common() + stop + QStringList{QStringLiteral("--run"), QStringLiteral("r0"),
                                                                QStringLiteral("--layers"), QStringLiteral("runtime,bogus"),
                                                                QStringLiteral("--reason"), QStringLiteral("x")});
    QCOMPARE(badLayer.code, 2);
    QVERIFY(badLayer.err.contains("unknown layer \"bogus\""));
    // A scope that matches nothing: exit 1.
    CtlRun nothing = breakerctl(common() + stop + QStringList{QStringLiteral("--run"), QStringLiteral("r-no-such-run"),
                                                               QStringLiteral("--reason"), QStringLiteral("x")});
    QCOMPARE(nothing.code, 1);
    QVERIFY(nothing.err.contains("matches nothing"));
}

void tst_StopRuntime::unreachableProvider()
{
    // The same run, but the profile now points at a port where nothing listens: exit 3, and
    // the message names the provider.
    const QByteArray runId = seedRun("work 60000", RunStatus::Working);
    QVERIFY(!runId.isEmpty());
    QTemporaryDir dir;
    const QString profile = dir.filePath(QStringLiteral("p.json"));
    QFile in(m_profilePath);
    QVERIFY(in.open(QIODevice::ReadOnly));
    QByteArray text = in.readAll();
    text.replace(m_origin.toUtf8(), "http://127.0.0.1:1");
    QFile out(profile);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(text);
    out.close();
    CtlRun r = breakerctl({QStringLiteral("--profile"), profile, QStringLiteral("--db"), m_dbPath, QStringLiteral("stop"),
                           QStringLiteral("--run"), QString::fromUtf8(runId), QStringLiteral("--reason"), QStringLiteral("x")});
    QCOMPARE(r.code, 3);
    QVERIFY2(r.err.contains("peer-a2a is unreachable at http://127.0.0.1:1"), r.err.constData());
    auto task = await<RuntimeRun>([&](auto cb) { m_a2a->cancelRun(m_lastTask, cb); }); // tidy up
    QVERIFY(task.ok());
}

QTEST_GUILESS_MAIN(tst_StopRuntime)
#include "tst_stop_runtime.moc"
