#include "app/services/RunMonitor.h"
#include "connectors/observability/OtlpCodec.h"
#include "connectors/runtime/RuntimeTypes.h"
#include "models/Store.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Breaker;

namespace {

TraceId traceOf(uint8_t seed)
{
    TraceId t{};
    for (size_t i = 0; i < t.size(); ++i)
        t[i] = uint8_t(seed + i + 1);
    return t;
}

SpanId spanOf(uint8_t seed)
{
    SpanId s{};
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = uint8_t(seed * 7 + i + 1);
    return s;
}

constexpr qint64 kBase = 1795665566000000000; // ns

Span makeSpan(uint8_t trace, uint8_t id, int parent, const QByteArray &op, qint64 startMs, qint64 endMs)
{
    Span s;
    s.traceId = traceOf(trace);
    s.spanId = spanOf(id);
    if (parent >= 0) {
        s.hasParent = true;
        s.parentSpanId = spanOf(uint8_t(parent));
    }
    s.operationName = op;
    s.name = op;
    s.kind = parent < 0 ? 1 : 3;
    s.startNs = kBase + startMs * 1000000;
    s.endNs = kBase + endMs * 1000000;
    s.serviceName = "svc-refunds";
    s.attributesJson = "{}";
    return s;
}

Span agentSpan(Span s, const QByteArray &agent = "refund-agent")
{
    s.agentName = agent;
    s.principal = "user:ada@example.com";
    return s;
}

RuntimeRun runtimeRun(const QByteArray &task, RunStatus status, const QByteArray &raw, qint64 atMs)
{
    RuntimeRun r;
    r.provider = "refund-a2a";
    r.kind = "a2a";
    r.externalId = task;
    r.contextId = "ctx-1";
    r.key = "a2a:" + task;
    r.agentName = "Refund Agent";
    r.status = status;
    r.rawState = raw;
    r.updatedMs = kBase / 1000000 + atMs;
    return r;
}

} // namespace

class tst_RunMonitor : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void childrenBeforeRootMakeOneRun();
    void runIdsAreTimeOrderedAndSurviveARestart();
    void anonymousChildrenAreHeldUntilTheirRunIsKnown();
    void heldChildrenBecomeARunAfterTheHoldTime();
    void a2aTaskIdJoinsTraces();
    void spansOfOneTraceInOneBatchFollowTheTraceKey();
    void duplicateSpansAreCountedOnce();
    void unboundAgentIsShownUnderItsOwnName();
    void approvalsAndPolicyBlocks();
    void failedRootFailsTheRun();
    void runtimeRunJoinsItsSpans();
    void runtimeStateWinsOverTheRootSpan();
    void runtimeUpdatesAreIdempotent();
    void workAfterCancelIsFlagged();
    void approvalFromTheRuntime();

private:
    Result<void> ingest(std::vector<Span> spans);
    std::unique_ptr<QTemporaryDir> m_dir;
    std::shared_ptr<Store> m_store;
    std::unique_ptr<RunMonitor> m_monitor;
};

void tst_RunMonitor::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    auto store = Store::open(m_dir->filePath(QStringLiteral("t.db")));
    QVERIFY2(store.ok(), qPrintable(store ? QString() : store.error().message));
    m_store = store.value();
    PriceTable prices;
    prices.set("gpt-4o", {2.5, 10.0});
    m_monitor = std::make_unique<RunMonitor>(m_store, prices);
    m_monitor->setAgentResolver([](QByteArrayView name) -> std::optional<QByteArray> {
        if (name == "refund-agent")
            return QByteArray("refund-agent");
        return std::nullopt;
    });
    m_monitor->setHoldMs(200);
}

void tst_RunMonitor::cleanup()
{
    m_monitor.reset();
    m_store.reset();
    m_dir.reset();
}

Result<void> tst_RunMonitor::ingest(std::vector<Span> spans)
{
    std::optional<Result<void>> outcome;
    m_monitor->ingestSpans(std::move(spans), [&outcome](const Result<void> &r) { outcome = r; });
    [&] { QTRY_VERIFY_WITH_TIMEOUT(outcome.has_value(), 10000); }();
    return outcome.value_or(Result<void>(makeError(Error::Kind::Timeout, QStringLiteral("no answer"))));
}

// New runs get ids in creation order ('r' + 15 hex digits); a trace seen again by a new
// RunMonitor (a restart) joins its run through the Store's run_keys.
void tst_RunMonitor::runIdsAreTimeOrderedAndSurviveARestart()
{
    QVERIFY(ingest({agentSpan(makeSpan(1, 2, 1, "chat", 10, 20))}).ok());
    QTest::qWait(2);
    QVERIFY(ingest({agentSpan(makeSpan(2, 2, 1, "chat", 10, 20))}).ok());
    const auto first = m_store->runIdForKey(RunMonitor::traceKey(Otlp::toHex(traceOf(1))));
    const auto second = m_store->runIdForKey(RunMonitor::traceKey(Otlp::toHex(traceOf(2))));
    QVERIFY(first.ok() && first->has_value() && second.ok() && second->has_value());
    const QByteArray a = **first;
    const QByteArray b = **second;
    QCOMPARE(a.size(), 16);
    QVERIFY(a.startsWith('r'));
    QVERIFY2(a < b, QByteArray(a + " " + b).constData());

    // Restart: the new monitor knows nothing, the Store does.
    m_monitor = std::make_unique<RunMonitor>(m_store, PriceTable());
    Span root = agentSpan(makeSpan(1, 1, -1, "invoke_agent", 0, 40));
    QVERIFY(ingest({root}).ok());
    auto runs = m_store->runs({});
    QVERIFY(runs.ok());
    QCOMPARE(runs->size(), size_t(2));
    const auto run = m_store->run(a);
    QVERIFY(run.ok() && run->has_value());
    QCOMPARE((*run)->status, RunStatus::Completed);
    QCOMPARE(m_store->events(a)->size(), size_t(2));
}

void tst_RunMonitor::childrenBeforeRootMakeOneRun()
{
    Span chat = agentSpan(makeSpan(1, 2, 1, "chat", 10, 20));
    chat.requestModel = "gpt-4o";
    chat.responseModel = "gpt-4o-2024-08-06";
    chat.inputTokens = 1000;
    chat.outputTokens = 100;
    Span tool = agentSpan(makeSpan(1, 3, 1, "execute_tool", 21, 30));
    tool.toolName = "stripe.refund";
    QVERIFY(ingest({chat}).ok());
    QVERIFY(ingest({tool}).ok());

    auto runs = m_store->runs({});
    QVERIFY(runs.ok());
    QCOMPARE(runs->size(), size_t(1));
    QCOMPARE(runs->front().status, RunStatus::Working);
    QCOMPARE(runs->front().agent, QByteArray("refund-agent"));
    QVERIFY(runs->front().agentBound);

    Span root = agentSpan(makeSpan(1, 1, -1, "invoke_agent", 0, 40));
    root.name = "invoke_agent refund-agent";
    QVERIFY(ingest({root}).ok());
    runs = m_store->runs({});
    QCOMPARE(runs->size(), size_t(1));
    const Run &run = runs->front();
    QCOMPARE(run.status, RunStatus::Completed);
    QCOMPARE(run.inputTokens, 1000);
    QCOMPARE(run.outputTokens, 100);
    // 1000 * 2.5 + 100 * 10 micro-dollars (the dated model name falls back to its prefix).
    QCOMPARE(run.costMicros, 3500);
    QCOMPARE(run.toolCalls, 1);
    QCOMPARE(run.principal, QByteArray("user:ada@example.com"));
    QCOMPARE(run.startedMs, kBase / 1000000);
    QCOMPARE(run.endedMs, kBase / 1000000 + 40);
    auto events = m_store->events(run.id);
    QCOMPARE(events->size(), size_t(3));
    QCOMPARE(events->front().kind, EventKind::AgentInvocation);
}

void tst_RunMonitor::anonymousChildrenAreHeldUntilTheirRunIsKnown()
{
    m_monitor->setHoldMs(60000);
    Span anonymous = makeSpan(2, 2, 1, "", 5, 6);
    anonymous.name = "GET /internal";
    bool answered = false;
    m_monitor->ingestSpans({anonymous}, [&](const Result<void> &) { answered = true; });
    QCOMPARE(m_monitor->heldSpanCount(), 1);
    QTest::qWait(50); // give a wrong implementation the chance to answer early
    QVERIFY2(!answered, "a held span must not be acknowledged before it is written");
    QCOMPARE(m_store->runs({})->size(), size_t(0));

    QVERIFY(ingest({agentSpan(makeSpan(2, 1, -1, "invoke_agent", 0, 10))}).ok());
    QTRY_VERIFY(answered);
    QCOMPARE(m_monitor->heldSpanCount(), 0);
    auto runs = m_store->runs({});
    QCOMPARE(runs->size(), size_t(1));
    QCOMPARE(m_store->events(runs->front().id)->size(), size_t(2));
}

void tst_RunMonitor::heldChildrenBecomeARunAfterTheHoldTime()
{
    Span anonymous = makeSpan(3, 2, 1, "", 5, 6);
    QVERIFY(ingest({anonymous}).ok()); // answered once the hold expired and it was written
    auto runs = m_store->runs({});
    QCOMPARE(runs->size(), size_t(1));
    QCOMPARE(runs->front().agent, QByteArray("svc-refunds"));
    QVERIFY(!runs->front().agentBound);
}

void tst_RunMonitor::a2aTaskIdJoinsTraces()
{
    Span first = agentSpan(makeSpan(4, 1, -1, "invoke_agent", 0, 10));
    first.a2aTaskId = "task-77";
    Span second = agentSpan(makeSpan(5, 1, -1, "invoke_agent", 20, 30));
    second.a2aTaskId = "task-77";
    QVERIFY(ingest({first}).ok());
    QVERIFY(ingest({second}).ok());
    auto runs = m_store->runs({});
    QCOMPARE(runs->size(), size_t(1));
    QVERIFY(runs->front().externalIdsJson.contains("task-77"));
    auto id = m_store->runIdForKey(RunMonitor::a2aTaskKey("task-77"));
    QVERIFY(id.ok() && id->has_value());
    QCOMPARE(id->value(), runs->front().id);
}

// A batch carries a trace's spans together, and RunMonitor sends the next span of the same
// trace straight to the run the trace's key names. A span in between that joins another run by
// its task id must not take the trace's later spans with it: they follow the trace's key.
void tst_RunMonitor::spansOfOneTraceInOneBatchFollowTheTraceKey()
{
    Span other = agentSpan(makeSpan(20, 1, -1, "invoke_agent", 0, 5));
    other.a2aTaskId = "task-elsewhere";
    QVERIFY(ingest({other}).ok());
    const auto otherRun = m_store->runIdForKey(RunMonitor::a2aTaskKey("task-elsewhere"));
    QVERIFY(otherRun.ok() && otherRun->has_value());

    Span root = agentSpan(makeSpan(21, 1, -1, "invoke_agent", 10, 90));
    Span joined = makeSpan(21, 2, 1, "execute_tool", 20, 30);
    joined.a2aTaskId = "task-elsewhere";
    Span after = makeSpan(21, 3, 1, "chat", 40, 50);
    Span last = makeSpan(21, 4, 1, "execute_tool", 60, 70);
    QVERIFY(ingest({root, joined, after, last}).ok());

    const auto traceRun = m_store->runIdForKey(RunMonitor::traceKey(Otlp::toHex(traceOf(21))));
    QVERIFY(traceRun.ok() && traceRun->has_value());
    QVERIFY(**traceRun != **otherRun);
    auto names = [this](const QByteArray &runId) {
        QList<QByteArray> out;
        const auto events = m_store->events(runId);
        if (!events.ok())
            return out;
        for (const RunEvent &e : events.value())
            out << e.name;
        return out;
    };
    QCOMPARE(names(**traceRun), (QList<QByteArray>{"invoke_agent", "chat", "execute_tool"}));
    QCOMPARE(names(**otherRun), (QList<QByteArray>{"invoke_agent", "execute_tool"}));
}

void tst_RunMonitor::duplicateSpansAreCountedOnce()
{
    Span tool = agentSpan(makeSpan(6, 2, 1, "execute_tool", 1, 2));
    QVERIFY(ingest({tool}).ok());
    QVERIFY(ingest({tool}).ok());
    QVERIFY(ingest({tool, tool}).ok());
    auto runs = m_store->runs({});
    QCOMPARE(runs->size(), size_t(1));
    QCOMPARE(runs->front().toolCalls, 1);
    QCOMPARE(m_store->events(runs->front().id)->size(), size_t(1));
}

void tst_RunMonitor::unboundAgentIsShownUnderItsOwnName()
{
    QVERIFY(ingest({agentSpan(makeSpan(7, 1, -1, "invoke_agent", 0, 1), "shadow-agent")}).ok());
    auto runs = m_store->runs({});
    QCOMPARE(runs->size(), size_t(1));
    QCOMPARE(runs->front().agent, QByteArray("shadow-agent"));
    QVERIFY(!runs->front().agentBound);
}

void tst_RunMonitor::approvalsAndPolicyBlocks()
{
    Span blocked = agentSpan(makeSpan(8, 2, 1, "execute_tool", 1, 2));
    blocked.policyDecision = "deny";
    blocked.statusCode = 2;
    Span waiting = agentSpan(makeSpan(8, 3, 1, "execute_tool", 3, 4));
    waiting.events.push_back(SpanEvent{"approval.requested", kBase + 3500000, "{\"action\":\"stripe.refund\"}"});
    QVERIFY(ingest({blocked, waiting}).ok());
    auto runs = m_store->runs({});
    QCOMPARE(runs->size(), size_t(1));
    QCOMPARE(runs->front().policyBlocks, 1);
    QCOMPARE(runs->front().approvalsPending, 1);
    QCOMPARE(runs->front().status, RunStatus::WaitingApproval);

    Span decided = agentSpan(makeSpan(8, 4, 1, "execute_tool", 5, 6));
    decided.events.push_back(SpanEvent{"approval.decided", kBase + 5500000, "{}"});
    QVERIFY(ingest({decided}).ok());
    runs = m_store->runs({});
    QCOMPARE(runs->front().approvalsPending, 0);
    QCOMPARE(runs->front().status, RunStatus::Working);
}

void tst_RunMonitor::failedRootFailsTheRun()
{
    Span root = agentSpan(makeSpan(9, 1, -1, "invoke_agent", 0, 10));
    root.statusCode = 2;
    root.errorType = "timeout";
    QVERIFY(ingest({root}).ok());
    // A late child does not bring a failed run back to life.
    QVERIFY(ingest({agentSpan(makeSpan(9, 2, 1, "chat", 11, 12))}).ok());
    auto runs = m_store->runs({});
    QCOMPARE(runs->front().status, RunStatus::Failed);
    QCOMPARE(runs->front().errors, 1);
}

void tst_RunMonitor::runtimeRunJoinsItsSpans()
{
    // The runtime reports the task first; the spans that carry its id join the same run.
    QSignalSpy committed(m_monitor.get(), &RunMonitor::runsCommitted);
    m_monitor->ingestRuntime(runtimeRun("task-9", RunStatus::Working, "TASK_STATE_WORKING", 0),
                             QByteArray("refund-agent"));
    QTRY_VERIFY(committed.size() >= 1);
    Span root = agentSpan(makeSpan(9, 1, -1, "invoke_agent", 0, 0));
    root.endNs = 0;
    root.a2aTaskId = "task-9";
    Span tool = makeSpan(9, 2, 1, "execute_tool", 100, 200);
    QVERIFY(ingest({root, tool}).ok());
    auto runs = m_store->runs({});
    QCOMPARE(runs->size(), size_t(1));
    const Run &run = runs->front();
    QCOMPARE(run.provider, QByteArray("refund-a2a"));
    QCOMPARE(run.agent, QByteArray("refund-agent"));
    QVERIFY(run.agentBound);
    QCOMPARE(run.status, RunStatus::Working);
    QCOMPARE(run.toolCalls, 1);
    QVERIFY(run.externalIdsJson.contains("\"a2a_task_id\":\"task-9\""));
    QVERIFY(run.externalIdsJson.contains("\"a2a_context_id\":\"ctx-1\""));
    QVERIFY(run.externalIdsJson.contains("trace_id"));
}

void tst_RunMonitor::runtimeStateWinsOverTheRootSpan()
{
    Span root = agentSpan(makeSpan(10, 1, -1, "invoke_agent", 0, 0));
    root.endNs = 0;
    root.a2aTaskId = "task-10";
    QVERIFY(ingest({root}).ok());
    QSignalSpy committed(m_monitor.get(), &RunMonitor::runsCommitted);
    m_monitor->ingestRuntime(runtimeRun("task-10", RunStatus::Stopped, "TASK_STATE_CANCELED", 50), QByteArray("refund-agent"));
    QTRY_VERIFY(committed.size() >= 1);
    // The root span ends later, successfully: the run stays stopped, as the runtime said.
    Span end = root;
    end.endNs = kBase + 900 * 1000000LL;
    QVERIFY(ingest({end}).ok());
    auto runs = m_store->runs({});
    QCOMPARE(runs->size(), size_t(1));
    QCOMPARE(runs->front().status, RunStatus::Stopped);
}

void tst_RunMonitor::runtimeUpdatesAreIdempotent()
{
    QSignalSpy committed(m_monitor.get(), &RunMonitor::runsCommitted);
    const RuntimeRun working = runtimeRun("task-11", RunStatus::Working, "TASK_STATE_WORKING", 0);
    const RuntimeRun done = runtimeRun("task-11", RunStatus::Completed, "TASK_STATE_COMPLETED", 500);
    m_monitor->ingestRuntime(working, std::nullopt);
    m_monitor->ingestRuntime(done, std::nullopt);
    m_monitor->ingestRuntime(done, std::nullopt); // listed again
    m_store->flush();
    QTRY_VERIFY(committed.size() >= 3);
    // A new monitor (a restart) sees the same task listed again: nothing is added.
    m_monitor = std::make_unique<RunMonitor>(m_store, PriceTable());
    QSignalSpy again(m_monitor.get(), &RunMonitor::runsCommitted);
    m_monitor->ingestRuntime(done, std::nullopt);
    QTRY_VERIFY(again.size() >= 1);
    auto runs = m_store->runs({});
    QCOMPARE(runs->size(), size_t(1));
    QCOMPARE(runs->front().status, RunStatus::Completed);
    QCOMPARE(runs->front().agent, QByteArray("Refund Agent")); // unbound: the card's name
    auto events = m_store->events(runs->front().id);
    int statusChanges = 0;
    for (const RunEvent &e : events.value())
        statusChanges += e.kind == EventKind::StatusChange ? 1 : 0;
    QCOMPARE(statusChanges, 2); // working, completed
}

void tst_RunMonitor::workAfterCancelIsFlagged()
{
    QSignalSpy flagged(m_monitor.get(), &RunMonitor::stillActiveAfterCancel);
    QSignalSpy committed(m_monitor.get(), &RunMonitor::runsCommitted);
    Span root = agentSpan(makeSpan(12, 1, -1, "invoke_agent", 0, 0));
    root.endNs = 0;
    root.a2aTaskId = "task-12";
    QVERIFY(ingest({root}).ok());
    m_monitor->ingestRuntime(runtimeRun("task-12", RunStatus::Stopped, "TASK_STATE_CANCELED", 1000), QByteArray("refund-agent"));
    QTRY_VERIFY(committed.size() >= 1);
    // A tool call 2 s after the cancel: still within the grace of 5 s.
    QVERIFY(ingest({makeSpan(12, 2, 1, "execute_tool", 3000, 3100)}).ok());
    QCOMPARE(flagged.size(), 0);
    // 6 s after: the cancel did not hold.
    QVERIFY(ingest({makeSpan(12, 3, 1, "execute_tool", 7000, 7100)}).ok());
    QCOMPARE(flagged.size(), 1);
    QCOMPARE(flagged.front().at(2).toLongLong(), 6100); // the tool call was still running 6.1 s after
    QVERIFY(ingest({makeSpan(12, 4, 1, "chat", 8000, 8100)}).ok());
    QCOMPARE(flagged.size(), 1); // once per run
    auto runs = m_store->runs({});
    QCOMPARE(runs->front().status, RunStatus::Stopped);
    auto events = m_store->events(runs->front().id);
    bool alarm = false;
    for (const RunEvent &e : events.value())
        alarm = alarm || (e.kind == EventKind::Error && e.name == "still active after cancel");
    QVERIFY(alarm);
    auto evidence = m_store->firstWorkEventAfter(runs->front().id, kBase + 6000 * 1000000LL);
    QVERIFY(evidence.ok() && evidence->has_value());
    QCOMPARE(evidence->value().startNs, kBase + 7000 * 1000000LL);
}

void tst_RunMonitor::approvalFromTheRuntime()
{
    QSignalSpy committed(m_monitor.get(), &RunMonitor::runsCommitted);
    RuntimeRun waiting = runtimeRun("task-13", RunStatus::WaitingApproval, "TASK_STATE_INPUT_REQUIRED", 0);
    RuntimeApprovalRequest request;
    request.action = "stripe.refund";
    request.argumentsJson = R"({"amount_minor":125000})";
    request.amountValue = "1250.00";
    request.currency = "usd";
    request.message = QStringLiteral("Refund of 1250.00 USD exceeds the threshold. Approve?");
    request.source = "a2a.input-required";
    waiting.approval = request;
    m_monitor->ingestRuntime(waiting, QByteArray("refund-agent"));
    QTRY_VERIFY(committed.size() >= 1);
    auto runs = m_store->runs({});
    QCOMPARE(runs->front().status, RunStatus::WaitingApproval);
    auto events = m_store->events(runs->front().id);
    const RunEvent *approval = nullptr;
    for (const RunEvent &e : events.value())
        if (e.kind == EventKind::ApprovalRequested)
            approval = &e;
    QVERIFY(approval);
    QCOMPARE(approval->name, QByteArray("approval stripe.refund"));
    QVERIFY(approval->attributesJson.contains("\"breaker.approval.amount\":\"1250.00\""));
    QVERIFY(approval->attributesJson.contains("\"breaker.approval.arguments\":{\"amount_minor\":125000}"));
}

QTEST_GUILESS_MAIN(tst_RunMonitor)
#include "tst_runmonitor.moc"
