#include "app/services/RunMonitor.h"

#include "connectors/observability/OtlpCodec.h"
#include "connectors/runtime/RuntimeTypes.h"
#include "models/Logging.h"
#include "models/Store.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMetaMethod>
#include <QPointer>
#include <QRandomGenerator>

#include <algorithm>

namespace Breaker {

// One ingest call: answered once every part of it is committed (or one part failed).
struct RunMonitor::Ticket
{
    int pending = 0;
    bool failed = false;
    Error error;
    Done done;

    void addPart() { ++pending; }
    void finishPart(const Result<void> &result)
    {
        if (!result.ok() && !failed) {
            failed = true;
            error = result.error();
        }
        if (--pending == 0 && done) {
            Done d = std::move(done);
            done = nullptr;
            if (failed)
                d(Result<void>(error));
            else
                d(Result<void>());
        }
    }
};

struct RunMonitor::RunState
{
    QByteArray id;
    QByteArray agent;
    bool bound = false;
    QByteArray principal;
    QByteArray delegationJson;
    QByteArray goal;
    RunStatus status = RunStatus::Unknown;
    qint64 startedMs = 0;
    qint64 updatedMs = 0;
    qint64 endedMs = 0;
    QList<QByteArray> traceIds;
    QByteArray a2aTaskId;
    QByteArray conversationId;
    QByteArray langgraphThreadId;
    QByteArray langgraphRunId;
    qint64 lastTouchMs = 0;
    // Set once a runtime connector reported this run: from then on the runtime, not the spans,
    // decides the status.
    QByteArray runtimeProvider;
    QByteArray runtimeContextId;
    qint64 runtimeTerminalMs = 0;   // wall clock when the runtime first reported it terminal
    bool flaggedStillActive = false;
    qint64 queuedTouchMs = -1;     // the newest lastTouchMs in m_touchOrder
    std::vector<QByteArray> keys;  // this run's entries in m_keyToRun
};

namespace {

constexpr int kMaxTracesPerRun = 16;
constexpr qint64 kEvictAfterMs = 10 * 60 * 1000;
// DESIGN.md section 4: tool or model spans this long after the runtime reported the run
// terminal mean the cancel did not hold.
constexpr qint64 kStillActiveAfterMs = 5000;

bool isModelOperation(const QByteArray &op)
{
    return op == "chat" || op == "generate_content" || op == "text_completion"
           || op == "embeddings";
}

bool isRunRootOperation(const QByteArray &op)
{
    return op == "invoke_agent" || op == "invoke_workflow";
}

EventKind classify(const Span &span)
{
    const QByteArray &op = span.operationName;
    if (span.policyDecision == "deny")
        return EventKind::PolicyBlock;
    if (isModelOperation(op))
        return EventKind::ModelCall;
    if (op == "execute_tool")
        return EventKind::ToolCall;
    if (op == "retrieval" || !span.dbSystem.isEmpty())
        return EventKind::DataAccess;
    if (isRunRootOperation(op) || op == "create_agent")
        return EventKind::AgentInvocation;
    if (span.spendMinor >= 0)
        return EventKind::Spend;
    return EventKind::Span;
}

QByteArray jsonString(const QByteArray &utf8)
{
    QByteArray out;
    out.reserve(utf8.size() + 2);
    out += '"';
    for (char c : utf8) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

} // namespace

RunMonitor::RunMonitor(std::shared_ptr<Store> store, PriceTable prices, QObject *parent)
    : QObject(parent)
    , m_store(std::move(store))
    , m_prices(std::move(prices))
    , m_holdTimer(this) // a child, so that it moves with the monitor to the engine's thread
{
    m_clock.start();
    m_holdTimer.setObjectName(QStringLiteral("RunMonitor hold"));
    m_holdTimer.setInterval(250);
    connect(&m_holdTimer, &QTimer::timeout, this, &RunMonitor::releaseExpiredHeld);
}

RunMonitor::~RunMonitor()
{
    // Let the writer finish while this object still exists; the queued callbacks it posts are
    // discarded with the object.
    if (m_store)
        m_store->flush();
}

void RunMonitor::setAgentResolver(AgentResolver resolver)
{
    m_resolver = std::move(resolver);
}

void RunMonitor::setTelemetryProvider(const QByteArray &providerName)
{
    m_telemetryProvider = providerName;
}

void RunMonitor::setHoldMs(int ms)
{
    m_holdMs = std::max(ms, 0);
}

int RunMonitor::holdMs() const
{
    return m_holdMs;
}

int RunMonitor::heldSpanCount() const
{
    int n = 0;
    for (const auto &list : m_held)
        n += int(list.size());
    return n;
}

QByteArray RunMonitor::traceKey(const QByteArray &traceHex)
{
    return QByteArrayLiteral("trace:") + traceHex;
}

QByteArray RunMonitor::a2aTaskKey(const QByteArray &taskId)
{
    return QByteArrayLiteral("a2a:") + taskId;
}

QByteArray RunMonitor::langgraphKey(const QByteArray &threadId, const QByteArray &runId)
{
    return QByteArrayLiteral("langgraph:") + threadId + ':' + runId;
}

QByteArray RunMonitor::runIdForKey(const QByteArray &key)
{
    // Deterministic, so that a run seen again after a restart keeps its id.
    return 'r' + QCryptographicHash::hash(key, QCryptographicHash::Sha256).toHex().left(15);
}

// 'r' + 15 hex digits, as before, but in creation order: 11 digits of Unix milliseconds, then 4
// of a sequence that starts at a random value in each process. Ids that sort by time make the
// Store append to its run-id indexes (runs, run_keys, events by run) instead of dirtying a
// random page of each for every new run. Never repeats within a process: the millisecond part
// is kept monotonic and moves on when the sequence wraps.
QByteArray RunMonitor::newRunId()
{
    if (m_lastIdMs == 0)
        m_idSequence = QRandomGenerator::global()->bounded(0x10000u);
    qint64 ms = std::max(QDateTime::currentMSecsSinceEpoch(), m_lastIdMs);
    m_idSequence = (m_idSequence + 1) & 0xffff;
    if (ms == m_lastIdMs && m_idSequence == m_firstSequenceOfMs)
        ++ms; // 65,536 runs in one millisecond: borrow the next one
    if (ms != m_lastIdMs)
        m_firstSequenceOfMs = m_idSequence;
    m_lastIdMs = ms;
    QByteArray id = 'r' + QByteArray::number(ms, 16).rightJustified(11, '0').right(11)
                    + QByteArray::number(m_idSequence, 16).rightJustified(4, '0');
    return id;
}

RunMonitor::RunState *RunMonitor::createRun(const QByteArray &firstKey)
{
    auto state = std::make_shared<RunState>();
    // A run seen before (by an earlier process, or evicted from memory) keeps its id: the
    // Store's run_keys table has it. One indexed read per new run.
    auto known = m_store->runIdForKey(firstKey);
    if (known.ok() && known->has_value())
        state->id = **known;
    else
        state->id = newRunId();
    RunState *raw = state.get();
    m_runs.insert(state->id, std::move(state));
    return raw;
}

void RunMonitor::addKey(RunState *run, const QByteArray &key,
                        std::vector<std::pair<QByteArray, QByteArray>> &newKeys)
{
    auto it = m_keyToRun.constFind(key);
    if (it != m_keyToRun.constEnd())
        return;
    m_keyToRun.insert(key, run->id);
    run->keys.push_back(key);
    newKeys.emplace_back(key, run->id);
}

RunMonitor::RunState *RunMonitor::resolveRun(const Span &span, const QByteArray &traceHex,
                                             bool *identifying)
{
    QByteArray keys[3];
    int n = 0;
    if (!span.a2aTaskId.isEmpty())
        keys[n++] = a2aTaskKey(span.a2aTaskId);
    if (!span.langgraphThreadId.isEmpty() && !span.langgraphRunId.isEmpty())
        keys[n++] = langgraphKey(span.langgraphThreadId, span.langgraphRunId);
    keys[n++] = traceKey(traceHex);

    for (int i = 0; i < n; ++i) {
        auto it = m_keyToRun.constFind(keys[i]);
        if (it != m_keyToRun.constEnd()) {
            auto run = m_runs.constFind(it.value());
            if (run != m_runs.constEnd()) {
                *identifying = true;
                return run.value().get();
            }
        }
    }
    *identifying = !span.hasParent || !span.agentName.isEmpty() || !span.a2aTaskId.isEmpty()
                   || !span.principal.isEmpty() || !span.conversationId.isEmpty()
                   || !span.langgraphRunId.isEmpty();
    if (!*identifying)
        return nullptr;
    return createRun(keys[0]);
}

void RunMonitor::applySpan(RunState *run, const Span &span, const QByteArray &traceHex,
                           std::vector<RunEvent> &events)
{
    const qint64 startMs = span.startNs / 1000000;
    const qint64 endMs = span.endNs / 1000000;
    if (run->startedMs == 0 || (startMs > 0 && startMs < run->startedMs))
        run->startedMs = startMs;
    run->updatedMs = std::max({run->updatedMs, endMs, startMs});
    run->lastTouchMs = m_clock.elapsed();
    if (run->queuedTouchMs != run->lastTouchMs) {
        run->queuedTouchMs = run->lastTouchMs;
        m_touchOrder.emplace_back(run->lastTouchMs, run->id);
    }

    if (!run->traceIds.contains(traceHex) && run->traceIds.size() < kMaxTracesPerRun)
        run->traceIds.append(traceHex);
    if (run->a2aTaskId.isEmpty())
        run->a2aTaskId = span.a2aTaskId;
    if (run->conversationId.isEmpty())
        run->conversationId = span.conversationId;
    if (run->langgraphThreadId.isEmpty())
        run->langgraphThreadId = span.langgraphThreadId;
    if (run->langgraphRunId.isEmpty())
        run->langgraphRunId = span.langgraphRunId;

    // Agent: the GenAI agent name, else the service that emitted the span.
    if (!run->bound) {
        const QByteArray &reported = !span.agentName.isEmpty() ? span.agentName : span.serviceName;
        if (!reported.isEmpty() && (run->agent.isEmpty() || !span.agentName.isEmpty())) {
            std::optional<QByteArray> bound = m_resolver ? m_resolver(reported) : std::nullopt;
            run->agent = bound ? *bound : reported;
            run->bound = bound.has_value();
        }
    }
    if (run->principal.isEmpty())
        run->principal = span.principal;
    if (run->delegationJson.isEmpty())
        run->delegationJson = span.delegationJson;

    RunEvent event;
    event.runId = run->id;
    event.traceId = traceHex;
    event.spanId = Otlp::toHex(span.spanId);
    if (span.hasParent)
        event.parentSpanId = Otlp::toHex(span.parentSpanId);
    event.kind = classify(span);
    event.name = span.name;
    event.startNs = span.startNs;
    event.endNs = span.endNs;
    event.statusCode = span.statusCode;
    event.attributesJson = span.attributesJson.isEmpty() ? QByteArrayLiteral("{}")
                                                         : span.attributesJson;
    if (event.kind == EventKind::ModelCall) {
        event.inputTokens = std::max<qint64>(span.inputTokens, 0);
        event.outputTokens = std::max<qint64>(span.outputTokens, 0);
        const QByteArray &model = !span.responseModel.isEmpty() ? span.responseModel
                                                                : span.requestModel;
        event.costMicros = m_prices.costMicros(model, event.inputTokens, event.outputTokens);
    }
    if (isRunRootOperation(span.operationName) && run->goal.isEmpty())
        run->goal = span.name;

    if (!isTerminal(run->status) && run->status != RunStatus::WaitingApproval)
        run->status = RunStatus::Working;

    // Span events the console shows on the timeline: approvals (a project convention).
    int index = 0;
    std::vector<const SpanEvent *> ordered;
    ordered.reserve(span.events.size());
    for (const SpanEvent &e : span.events)
        ordered.push_back(&e);
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const SpanEvent *a, const SpanEvent *b) { return a->timeNs < b->timeNs; });
    for (const SpanEvent *e : ordered) {
        ++index;
        EventKind kind;
        if (e->name == "approval.requested")
            kind = EventKind::ApprovalRequested;
        else if (e->name == "approval.decided")
            kind = EventKind::ApprovalDecided;
        else
            continue;
        RunEvent approval;
        approval.runId = run->id;
        approval.traceId = traceHex;
        approval.spanId = event.spanId + '#' + QByteArray::number(index);
        approval.parentSpanId = event.spanId;
        approval.kind = kind;
        approval.name = e->name;
        approval.startNs = e->timeNs;
        approval.endNs = e->timeNs;
        approval.attributesJson = e->attributesJson.isEmpty() ? QByteArrayLiteral("{}")
                                                              : e->attributesJson;
        events.push_back(std::move(approval));
        if (!isTerminal(run->status)) {
            run->status = kind == EventKind::ApprovalRequested ? RunStatus::WaitingApproval
                                                               : RunStatus::Working;
        }
    }

    // Tool or model work after the runtime called the run finished: the cancel did not hold.
    const qint64 lastActiveMs = std::max(startMs, endMs);
    if (run->runtimeTerminalMs > 0 && (event.kind == EventKind::ToolCall || event.kind == EventKind::ModelCall)
        && lastActiveMs >= run->runtimeTerminalMs + kStillActiveAfterMs) {
        if (!run->flaggedStillActive) {
            run->flaggedStillActive = true;
            RunEvent alarm;
            alarm.runId = run->id;
            alarm.traceId = traceHex;
            alarm.spanId = event.spanId + "#still-active";
            alarm.parentSpanId = event.spanId;
            alarm.kind = EventKind::Error;
            alarm.name = "still active after cancel";
            alarm.startNs = span.startNs;
            alarm.endNs = span.startNs;
            alarm.statusCode = 2;
            alarm.attributesJson = "{\"breaker.evidence.span\":" + jsonString(span.name)
                                   + ",\"breaker.evidence.kind\":\"" + toWireName(event.kind)
                                   + "\",\"breaker.evidence.after_terminal_ms\":"
                                   + QByteArray::number(lastActiveMs - run->runtimeTerminalMs)
                                   + ",\"breaker.runtime.provider\":" + jsonString(run->runtimeProvider) + "}";
            events.push_back(std::move(alarm));
            emit stillActiveAfterCancel(run->id, QString::fromUtf8(span.name),
                                        lastActiveMs - run->runtimeTerminalMs);
        }
    }

    // The run's own root span ends the run, unless a runtime reports it: then the runtime has
    // the last word (a cancelled run whose root span ends later is still stopped).
    if (!span.hasParent && span.endNs > 0 && run->runtimeProvider.isEmpty()) {
        run->status = span.statusCode == 2 ? RunStatus::Failed : RunStatus::Completed;
        run->endedMs = std::max(run->endedMs, endMs);
    }
    events.push_back(std::move(event));
}

Run RunMonitor::snapshot(const RunState &state) const
{
    Run run;
    run.id = state.id;
    run.agent = state.agent;
    run.agentBound = state.bound;
    run.principal = state.principal;
    run.delegationJson = state.delegationJson;
    run.provider = state.runtimeProvider.isEmpty() ? m_telemetryProvider : state.runtimeProvider;
    run.goal = state.goal;
    run.status = state.status;
    run.startedMs = state.startedMs;
    run.updatedMs = state.updatedMs;
    run.endedMs = state.endedMs;

    QByteArray ids = "{";
    auto add = [&ids](const char *key, const QByteArray &value) {
        if (value.isEmpty())
            return;
        if (ids.size() > 1)
            ids += ',';
        ids += '"';
        ids += key;
        ids += "\":";
        ids += jsonString(value);
    };
    if (!state.traceIds.isEmpty())
        add("trace_id", state.traceIds.first());
    add("a2a_task_id", state.a2aTaskId);
    add("conversation_id", state.conversationId);
    add("langgraph_thread_id", state.langgraphThreadId);
    add("langgraph_run_id", state.langgraphRunId);
    if (!state.runtimeContextId.isEmpty() && !state.a2aTaskId.isEmpty())
        add("a2a_context_id", state.runtimeContextId);
    ids += '}';
    run.externalIdsJson = ids;
    return run;
}

void RunMonitor::ingestSpans(std::vector<Span> spans, Done done)
{
    auto ticket = std::make_shared<Ticket>();
    ticket->done = std::move(done);
    ticket->addPart(); // this call itself

    std::vector<RunEvent> events;
    events.reserve(spans.size());
    std::vector<std::pair<QByteArray, QByteArray>> keys;
    std::vector<QByteArray> touched;
    std::vector<std::shared_ptr<Ticket>> tickets;
    tickets.push_back(ticket);

    const qint64 nowMs = m_clock.elapsed();
    // An exporter sends a trace's spans together: while the trace stays the same and its key
    // names the run the last span went to, the next span without runtime keys goes there too
    // (what resolveRun would find), without hashing and allocating its keys again.
    RunState *lastRun = nullptr;
    TraceId lastTrace{};
    QByteArray lastTraceHex;
    for (Span &span : spans) {
        const bool traceKeyOnly = span.a2aTaskId.isEmpty()
                                  && (span.langgraphThreadId.isEmpty() || span.langgraphRunId.isEmpty());
        if (lastRun && traceKeyOnly && span.traceId == lastTrace) {
            applySpan(lastRun, span, lastTraceHex, events);
            continue;
        }
        lastRun = nullptr;
        const QByteArray traceHex = Otlp::toHex(span.traceId);
        bool identifying = false;
        RunState *run = resolveRun(span, traceHex, &identifying);
        if (!run) {
            ticket->addPart();
            m_held[traceHex].push_back(Held{std::move(span), ticket, nowMs});
            if (!m_holdTimer.isActive())
                m_holdTimer.start();
            continue;
        }
        const QByteArray runTraceKey = traceKey(traceHex);
        addKey(run, runTraceKey, keys);
        if (!span.a2aTaskId.isEmpty())
            addKey(run, a2aTaskKey(span.a2aTaskId), keys);
        if (!span.langgraphThreadId.isEmpty() && !span.langgraphRunId.isEmpty())
            addKey(run, langgraphKey(span.langgraphThreadId, span.langgraphRunId), keys);
        applySpan(run, span, traceHex, events);
        if (std::find(touched.begin(), touched.end(), run->id) == touched.end())
            touched.push_back(run->id);

        // Children that waited for this trace's run join it now.
        auto held = m_held.find(traceHex);
        if (held != m_held.end()) {
            std::vector<Held> waiting = std::move(held.value());
            m_held.erase(held);
            for (Held &h : waiting) {
                applySpan(run, h.span, traceHex, events);
                tickets.push_back(h.ticket);
            }
        }
        // The trace's key may name another run (this span joined its run by a runtime key
        // while the trace was known before): then the next span goes through resolveRun.
        if (m_keyToRun.value(runTraceKey) == run->id) {
            lastRun = run;
            lastTrace = span.traceId;
            lastTraceHex = traceHex;
        }
    }
    m_spansIngested += qint64(spans.size());

    if (events.empty()) {
        ticket->finishPart(Result<void>());
        return;
    }
    submit(std::move(touched), std::move(events), std::move(keys), std::move(tickets));
}

void RunMonitor::releaseExpiredHeld()
{
    const qint64 nowMs = m_clock.elapsed();
    std::vector<RunEvent> events;
    std::vector<std::pair<QByteArray, QByteArray>> keys;
    std::vector<QByteArray> touched;
    std::vector<std::shared_ptr<Ticket>> tickets;
    for (auto it = m_held.begin(); it != m_held.end();) {
        const bool expired = std::any_of(it->begin(), it->end(), [&](const Held &h) {
            return nowMs - h.heldAtMs >= m_holdMs;
        });
        if (!expired) {
            ++it;
            continue;
        }
        // No span ever identified this trace: it becomes a run of its own, named after the
        // service that sent it.
        const QByteArray traceHex = it.key();
        RunState *run = createRun(traceKey(traceHex));
        addKey(run, traceKey(traceHex), keys);
        for (Held &h : it.value()) {
            applySpan(run, h.span, traceHex, events);
            tickets.push_back(h.ticket);
        }
        touched.push_back(run->id);
        it = m_held.erase(it);
    }
    if (m_held.isEmpty())
        m_holdTimer.stop();

    evictIdleRuns(nowMs);

    if (!events.empty())
        submit(std::move(touched), std::move(events), std::move(keys), std::move(tickets));
}

// Forgets runs that ended (or went quiet) long ago; the Store keeps them. O(runs evicted): the
// touch queue is in time order, so only its expired front is looked at.
void RunMonitor::evictIdleRuns(qint64 nowMs)
{
    while (!m_touchOrder.empty() && nowMs - m_touchOrder.front().first > kEvictAfterMs) {
        const QByteArray id = std::move(m_touchOrder.front().second);
        m_touchOrder.pop_front();
        auto it = m_runs.find(id);
        if (it == m_runs.end() || nowMs - it.value()->lastTouchMs <= kEvictAfterMs)
            continue; // gone already, or touched since (a newer entry is queued)
        for (const QByteArray &key : it.value()->keys) {
            auto k = m_keyToRun.find(key);
            if (k != m_keyToRun.end() && k.value() == id)
                m_keyToRun.erase(k);
        }
        m_runs.erase(it);
    }
}

void RunMonitor::submit(std::vector<QByteArray> touchedRuns, std::vector<RunEvent> events,
                        std::vector<std::pair<QByteArray, QByteArray>> keys,
                        std::vector<std::shared_ptr<Ticket>> tickets)
{
    WriteBatch batch;
    batch.runs.reserve(touchedRuns.size());
    for (const QByteArray &id : touchedRuns) {
        auto it = m_runs.constFind(id);
        if (it != m_runs.constEnd())
            batch.runs.push_back(snapshot(*it.value()));
    }
    std::vector<RunEvent> liveEvents; // shares the events' text with the batch (implicit sharing)
    if (isSignalConnected(QMetaMethod::fromSignal(&RunMonitor::eventsCommitted)))
        liveEvents = events;
    batch.events = std::move(events);
    batch.keys.reserve(keys.size());
    for (auto &[key, runId] : keys)
        batch.keys.push_back(RunKey{std::move(key), std::move(runId)});

    QPointer<RunMonitor> self(this);
    m_store->submit(std::move(batch),
                    [self, tickets = std::move(tickets),
                     liveEvents = std::move(liveEvents)](Result<WriteOutcome> outcome) mutable {
                        // Writer thread: hop back to the monitor's thread. Called once, so
                        // what it carries is moved on, not copied.
                        Result<void> status;
                        std::vector<Run> runs;
                        if (outcome.ok())
                            runs = std::move(outcome.value().runs);
                        else
                            status = Result<void>(outcome.error());
                        if (!self)
                            return;
                        QMetaObject::invokeMethod(
                            self.data(),
                            [self, tickets = std::move(tickets), status, runs = std::move(runs),
                             liveEvents = std::move(liveEvents)]() {
                                if (!status.ok()) {
                                    qCWarning(lcMonitor) << "write failed:" << status.error().message;
                                    emit self->writeFailed(status.error().message);
                                } else {
                                    emit self->runsCommitted(runs);
                                    if (!liveEvents.empty())
                                        emit self->eventsCommitted(liveEvents);
                                }
                                for (const auto &t : tickets)
                                    t->finishPart(status);
                            },
                            Qt::QueuedConnection);
                    });
}

// ---- runtime updates (issue 3) ---------------------------------------------------------------

RunMonitor::RunState *RunMonitor::runForKey(const QByteArray &key, bool create)
{
    auto it = m_keyToRun.constFind(key);
    if (it != m_keyToRun.constEnd()) {
        auto run = m_runs.constFind(it.value());
        if (run != m_runs.constEnd())
            return run.value().get();
    }
    // Not in memory: a run the Store knows (seen before a restart, or evicted) keeps its id
    // and its descriptive fields.
    QByteArray runId;
    std::optional<Run> stored;
    if (auto known = m_store->runIdForKey(key); known.ok() && known.value()) {
        runId = *known.value();
        if (auto r = m_store->run(runId); r.ok())
            stored = r.value();
    }
    if (runId.isEmpty() && !create)
        return nullptr;
    auto state = std::make_shared<RunState>();
    state->id = runId.isEmpty() ? newRunId() : runId;
    if (stored) {
        state->agent = stored->agent;
        state->bound = stored->agentBound;
        state->principal = stored->principal;
        state->delegationJson = stored->delegationJson;
        state->goal = stored->goal;
        state->status = stored->status;
        state->startedMs = stored->startedMs;
        state->updatedMs = stored->updatedMs;
        state->endedMs = stored->endedMs;
        const QJsonObject ids = QJsonDocument::fromJson(stored->externalIdsJson).object();
        if (ids.contains(QLatin1String("trace_id")))
            state->traceIds.append(ids.value(QLatin1String("trace_id")).toString().toUtf8());
        state->conversationId = ids.value(QLatin1String("conversation_id")).toString().toUtf8();
        state->langgraphThreadId = ids.value(QLatin1String("langgraph_thread_id")).toString().toUtf8();
        state->langgraphRunId = ids.value(QLatin1String("langgraph_run_id")).toString().toUtf8();
        if (stored->provider != m_telemetryProvider)
            state->runtimeProvider = stored->provider;
    }
    RunState *raw = state.get();
    m_runs.insert(state->id, std::move(state));
    m_keyToRun.insert(key, raw->id);
    raw->keys.push_back(key);
    return raw;
}

void RunMonitor::ingestRuntime(const RuntimeRun &update, const std::optional<QByteArray> &boundAgent)
{
    if (update.key.isEmpty() || update.externalId.isEmpty())
        return;
    std::vector<std::pair<QByteArray, QByteArray>> keys;
    const bool known = m_keyToRun.contains(update.key);
    RunState *run = runForKey(update.key, true);
    if (!known)
        keys.emplace_back(update.key, run->id);
    run->lastTouchMs = m_clock.elapsed();
    if (run->queuedTouchMs != run->lastTouchMs) {
        run->queuedTouchMs = run->lastTouchMs;
        m_touchOrder.emplace_back(run->lastTouchMs, run->id);
    }
    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
    const qint64 atMs = update.updatedMs > 0 ? update.updatedMs : nowMs;

    run->runtimeProvider = update.provider;
    if (update.kind == "a2a") {
        run->a2aTaskId = update.externalId;
        run->runtimeContextId = update.contextId;
    }
    if (boundAgent) {
        run->agent = *boundAgent;
        run->bound = true;
    } else if (!run->bound && run->agent.isEmpty()) {
        run->agent = update.agentName;
    }
    if (run->startedMs == 0 || atMs < run->startedMs)
        run->startedMs = atMs;
    run->updatedMs = std::max(run->updatedMs, atMs);

    std::vector<RunEvent> events;
    const RunStatus before = run->status;
    const bool wasTerminal = isTerminal(before);
    if (update.status != RunStatus::Unknown && (!wasTerminal || isTerminal(update.status)))
        run->status = update.status;
    if (isTerminal(update.status)) {
        run->endedMs = std::max(run->endedMs, atMs);
        if (run->runtimeTerminalMs == 0)
            run->runtimeTerminalMs = atMs;
    }
    // One timeline event per state the runtime reported, with an id made of the run's key, the
    // state and its time, so a task listed again (after a restart) adds nothing.
    if (run->status != before || !known) {
        RunEvent e;
        e.runId = run->id;
        e.traceId = kRuntimeEventTraceId;
        e.spanId = update.key + "/status:" + update.rawState + '@' + QByteArray::number(atMs);
        e.kind = EventKind::StatusChange;
        e.name = "status " + update.rawState;
        e.startNs = atMs * 1000000;
        e.endNs = e.startNs;
        e.attributesJson = "{\"breaker.runtime.provider\":" + jsonString(update.provider)
                           + ",\"breaker.runtime.state\":" + jsonString(update.rawState)
                           + ",\"breaker.status.from\":\"" + toWireName(before) + "\""
                           + ",\"breaker.status.to\":\"" + toWireName(run->status) + "\""
                           + (update.statusText.isEmpty() ? QByteArray()
                                                          : ",\"breaker.runtime.message\":" + jsonString(update.statusText.toUtf8()))
                           + "}";
        events.push_back(std::move(e));
    }
    if (update.approval && run->status == RunStatus::WaitingApproval) {
        const RuntimeApprovalRequest &a = *update.approval;
        RunEvent e;
        e.runId = run->id;
        e.traceId = kRuntimeEventTraceId;
        e.spanId = update.key + "/approval@" + QByteArray::number(atMs);
        e.kind = EventKind::ApprovalRequested;
        e.name = a.action.isEmpty() ? QByteArray("approval requested") : "approval " + a.action;
        e.startNs = atMs * 1000000;
        e.endNs = e.startNs;
        QByteArray attrs = "{\"breaker.approval.source\":" + jsonString(a.source)
                           + ",\"breaker.approval.message\":" + jsonString(a.message.toUtf8());
        if (!a.action.isEmpty())
            attrs += ",\"breaker.approval.action\":" + jsonString(a.action);
        if (!a.argumentsJson.isEmpty())
            attrs += ",\"breaker.approval.arguments\":" + a.argumentsJson;
        if (!a.amountValue.isEmpty())
            attrs += ",\"breaker.approval.amount\":" + jsonString(a.amountValue)
                     + ",\"breaker.approval.currency\":" + jsonString(a.currency);
        attrs += '}';
        e.attributesJson = attrs;
        events.push_back(std::move(e));
    }
    emit runtimeRunUpdated(run->id, update);
    submit({run->id}, std::move(events), std::move(keys), {});
}

void RunMonitor::recordOperatorAction(const QByteArray &runId, const QByteArray &name,
                                      const QByteArray &attributesJson, qint64 atMs)
{
    RunEvent e;
    e.runId = runId;
    e.kind = EventKind::OperatorAction;
    e.name = name;
    e.startNs = atMs * 1000000;
    e.endNs = e.startNs;
    e.attributesJson = attributesJson.isEmpty() ? QByteArrayLiteral("{}") : attributesJson;
    WriteBatch batch;
    batch.events.push_back(std::move(e));
    m_store->submit(std::move(batch), [](const Result<WriteOutcome> &r) {
        if (!r.ok())
            qCWarning(lcMonitor) << "operator action not recorded:" << r.error().message;
    });
}

std::optional<QByteArray> RunMonitor::runIdForExternalKey(const QByteArray &key) const
{
    auto it = m_keyToRun.constFind(key);
    if (it != m_keyToRun.constEnd())
        return it.value();
    return std::nullopt;
}

} // namespace Breaker
