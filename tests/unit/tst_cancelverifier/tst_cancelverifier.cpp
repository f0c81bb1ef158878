// The proven cancel (issue 3 item 6) against a scripted runtime: each of the outcomes of
// DESIGN.md section 4, the deadlines, and the provider's words carried through.
#include "app/services/CancelVerifier.h"
#include "models/Store.h"
#include "tests/common/ScriptedRuntime.h"

#include <QDateTime>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace Breaker;

namespace {

using Testing::ScriptedRuntime;

RuntimeRun task(RunStatus status, const QByteArray &raw, qint64 atMs = 0)
{
    return Testing::scriptedTask(status, raw, atMs);
}

} // namespace

class tst_CancelVerifier : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void outcomes_data();
    void outcomes();
    void workAfterTheEndFails();
    void workBeforeTheGraceIsFine();
    void percentInStateVerbatim();
    void percentInSpanNameVerbatim();

private:
    StopLayerResult runCancel(ScriptedRuntime &runtime, qint64 *elapsedMs = nullptr);
    void addWork(qint64 startMs, const QByteArray &name = "stripe.refund");
    std::unique_ptr<QTemporaryDir> m_dir;
    std::shared_ptr<Store> m_store;
    CancelVerifier::Deadlines m_deadlines;
};

void tst_CancelVerifier::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    auto store = Store::open(m_dir->filePath(QStringLiteral("t.db")));
    QVERIFY(store.ok());
    m_store = store.value();
    WriteBatch batch;
    Run run;
    run.id = "r1";
    run.agent = "refund-agent";
    batch.runs.push_back(run);
    QVERIFY(m_store->write(std::move(batch)).ok());
    m_deadlines.actMs = 400;
    m_deadlines.verifyMs = 400;
    m_deadlines.stillActiveMs = 200;
    m_deadlines.settleMs = 200;
    m_deadlines.pollMs = 30;
}

void tst_CancelVerifier::cleanup()
{
    m_store.reset();
    m_dir.reset();
}

StopLayerResult tst_CancelVerifier::runCancel(ScriptedRuntime &runtime, qint64 *elapsedMs)
{
    CancelVerifier verifier(&runtime, m_store);
    verifier.setDeadlines(m_deadlines);
    StopLayerResult start;
    start.layer = "runtime";
    start.run = "r1";
    start.provider = "scripted";
    start.action = "cancel";
    std::optional<StopLayerResult> out;
    int calls = 0;
    QElapsedTimer clock;
    clock.start();
    verifier.cancel(start, "task-1", [&](const StopLayerResult &r) {
        out = r;
        ++calls;
    });
    [&] { QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 5000); }();
    if (elapsedMs)
        *elapsedMs = clock.elapsed();
    QTest::qWait(50);
    [&] { QCOMPARE(calls, 1); }(); // exactly once
    return out.value_or(StopLayerResult{});
}

void tst_CancelVerifier::addWork(qint64 startMs, const QByteArray &name)
{
    WriteBatch batch;
    RunEvent e;
    e.runId = "r1";
    e.traceId = QByteArray(32, 'a');
    e.spanId = QByteArray::number(startMs, 16).rightJustified(16, '0');
    e.kind = EventKind::ToolCall;
    e.name = name;
    e.startNs = startMs * 1000000;
    e.endNs = e.startNs + 1000000;
    e.attributesJson = "{}";
    batch.events.push_back(e);
    QVERIFY(m_store->write(std::move(batch)).ok());
}

void tst_CancelVerifier::outcomes_data()
{
    QTest::addColumn<int>("script");
    QTest::addColumn<int>("outcome");
    QTest::addColumn<QString>("words");
    QTest::newRow("cancelled at once") << 0 << int(LayerOutcome::Verified) << QStringLiteral("cancel accepted (TASK_STATE_CANCELED)");
    QTest::newRow("cancelled after a while") << 1 << int(LayerOutcome::Verified) << QStringLiteral("read back canceled");
    QTest::newRow("accepted, never ends") << 2 << int(LayerOutcome::DoneUnverified) << QStringLiteral("did not report the run ended");
    QTest::newRow("no answer at all") << 3 << int(LayerOutcome::DoneUnverified) << QStringLiteral("the cancel got no answer");
    QTest::newRow("task vanished") << 4 << int(LayerOutcome::Failed) << QStringLiteral("Task not found: task-1");
    QTest::newRow("had already ended") << 5 << int(LayerOutcome::Verified) << QStringLiteral("had already ended (TASK_STATE_COMPLETED)");
    QTest::newRow("provider down") << 6 << int(LayerOutcome::Failed) << QStringLiteral("scripted is unreachable");
    QTest::newRow("no way to stop it") << 7 << int(LayerOutcome::SkippedNotConfigured)
                                       << QStringLiteral("no stop_method in the profile for scripted");
}

void tst_CancelVerifier::outcomes()
{
    QFETCH(int, script);
    QFETCH(int, outcome);
    QFETCH(QString, words);
    ScriptedRuntime runtime;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    switch (script) {
    case 0:
        runtime.cancelAnswer = task(RunStatus::Stopped, "TASK_STATE_CANCELED", now);
        runtime.reads = {task(RunStatus::Stopped, "TASK_STATE_CANCELED", now)};
        break;
    case 1:
        runtime.cancelAnswer = task(RunStatus::Working, "working");
        runtime.reads = {task(RunStatus::Working, "working"), task(RunStatus::Working, "working"),
                         task(RunStatus::Stopped, "canceled", now)};
        break;
    case 2:
        runtime.cancelAnswer = task(RunStatus::Working, "TASK_STATE_WORKING");
        runtime.reads = {task(RunStatus::Working, "TASK_STATE_WORKING")};
        break;
    case 3:
        runtime.reads = {task(RunStatus::Working, "TASK_STATE_WORKING")};
        break;
    case 4:
        runtime.cancelAnswer = Result<RuntimeRun>(makeError(Error::Kind::NotFound,
            QStringLiteral("scripted answered TaskNotFound (-32001): Task not found: task-1"), QStringLiteral("scripted")));
        break;
    case 5:
        runtime.cancelAnswer = Result<RuntimeRun>(makeError(Error::Kind::Conflict,
            QStringLiteral("scripted answered TaskNotCancelable (-32002): Task not cancelable"), QStringLiteral("scripted")));
        runtime.reads = {task(RunStatus::Completed, "TASK_STATE_COMPLETED", now)};
        break;
    case 7:
        runtime.cancelAnswer = Result<RuntimeRun>(makeError(Error::Kind::Invalid,
            QStringLiteral("skipped_not_configured: no stop_method in the profile for scripted"), QStringLiteral("scripted")));
        break;
    case 6:
        runtime.cancelAnswer = Result<RuntimeRun>(makeError(Error::Kind::Unavailable,
            QStringLiteral("scripted is unreachable at http://127.0.0.1:1/: Connection refused"), QStringLiteral("scripted")));
        break;
    }
    qint64 elapsed = 0;
    const StopLayerResult r = runCancel(runtime, &elapsed);
    QCOMPARE(toWireName(r.outcome), toWireName(LayerOutcome(outcome)));
    QVERIFY2(r.detail.contains(words), qPrintable(r.detail));
    QCOMPARE(r.provider, QByteArray("scripted"));
    QCOMPARE(r.run, QByteArray("r1"));
    QVERIFY(r.ms >= 0);
    // Never past the deadlines (act + verify, plus the settle time after a late end).
    QVERIFY2(elapsed <= m_deadlines.actMs + m_deadlines.verifyMs + m_deadlines.settleMs + 500,
             qPrintable(QString::number(elapsed)));
    QCOMPARE(runtime.cancelCount, 1);
}

void tst_CancelVerifier::workAfterTheEndFails()
{
    ScriptedRuntime runtime;
    const qint64 ended = QDateTime::currentMSecsSinceEpoch() - 1000;
    runtime.cancelAnswer = task(RunStatus::Stopped, "TASK_STATE_CANCELED", ended);
    runtime.reads = {*runtime.cancelAnswer};
    addWork(ended - 500);                               // before the cancel: fine
    addWork(ended + m_deadlines.stillActiveMs + 299);   // after the grace: the cancel did not hold
    const StopLayerResult r = runCancel(runtime);
    QCOMPARE(toWireName(r.outcome), QByteArray("failed"));
    QVERIFY2(r.detail.startsWith(QLatin1String("still active after cancel")), qPrintable(r.detail));
    QVERIFY2(r.detail.contains(QLatin1String("tool_call \"stripe.refund\" was running 0.5 s later")), qPrintable(r.detail));
}

void tst_CancelVerifier::workBeforeTheGraceIsFine()
{
    ScriptedRuntime runtime;
    const qint64 ended = QDateTime::currentMSecsSinceEpoch();
    runtime.cancelAnswer = task(RunStatus::Stopped, "TASK_STATE_CANCELED", ended);
    runtime.reads = {*runtime.cancelAnswer};
    addWork(ended + m_deadlines.stillActiveMs / 2); // in flight when the cancel landed
    const StopLayerResult r = runCancel(runtime);
    QCOMPARE(toWireName(r.outcome), QByteArray("verified"));
    QVERIFY2(r.detail.contains(QLatin1String("no tool or model call was running 0.2 s or more after it ended")), qPrintable(r.detail));
}

// The runtime's words arrive verbatim, even when they hold "%1" (one arg() call, not a chain).
void tst_CancelVerifier::percentInStateVerbatim()
{
    ScriptedRuntime runtime;
    runtime.cancelAnswer = task(RunStatus::Working, "TASK_STATE_%1_WORKING");
    runtime.reads = {task(RunStatus::Working, "TASK_STATE_%1_WORKING")};
    const StopLayerResult r = runCancel(runtime);
    QCOMPARE(toWireName(r.outcome), QByteArray("done_unverified"));
    QCOMPARE(r.detail, QStringLiteral("cancel accepted (TASK_STATE_%1_WORKING); the runtime did not report the "
                                      "run ended within 0 s (last state: TASK_STATE_%1_WORKING)"));
}

void tst_CancelVerifier::percentInSpanNameVerbatim()
{
    ScriptedRuntime runtime;
    const qint64 ended = QDateTime::currentMSecsSinceEpoch() - 1000;
    runtime.cancelAnswer = task(RunStatus::Stopped, "TASK_STATE_CANCELED", ended);
    runtime.reads = {*runtime.cancelAnswer};
    addWork(ended + m_deadlines.stillActiveMs + 299, "refund 100%1");
    const StopLayerResult r = runCancel(runtime);
    QCOMPARE(toWireName(r.outcome), QByteArray("failed"));
    QVERIFY2(r.detail.contains(QLatin1String("tool_call \"refund 100%1\" was running 0.5 s later")),
             qPrintable(r.detail));
}

QTEST_GUILESS_MAIN(tst_CancelVerifier)
#include "tst_cancelverifier.moc"
