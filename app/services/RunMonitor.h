#pragma once

#include "app/services/PriceTable.h"
#include "models/Result.h"
#include "models/RunTypes.h"
#include "models/Span.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace Breaker {

class Store;
struct RuntimeRun;

// Turns telemetry (and, later, runtime updates) into runs and timeline events, and hands them
// to the Store's writer (DESIGN.md section 3). Lives on one thread: the engine's `run-monitor`
// thread in the console and the daemon (Engine), the caller's in tests. Call it there (queued
// from other threads); its signals reach other threads as queued calls. The Store commits on
// its own thread and the results come back here as queued calls.
//
// Correlation: a run is identified by, in order of precedence, the A2A task id
// (span attribute a2a.task.id), the LangGraph (thread id, run id), else the trace id of its
// spans. A span that carries none of the identifying attributes (no agent name, principal,
// conversation or task id), has a parent, and belongs to a trace not seen yet is held for up to
// holdMs() until a span of its trace identifies the run; only then is it written. Its HTTP
// request is answered after that write, so nothing acknowledged is ever only in memory.
class RunMonitor : public QObject
{
    Q_OBJECT
public:
    // Maps a reported agent name (gen_ai.agent.name or service.name) to the profile's agent
    // name, or nullopt when the agent is not in the profile (the run is shown unbound).
    using AgentResolver = std::function<std::optional<QByteArray>(QByteArrayView reportedName)>;
    using Done = std::function<void(const Result<void> &)>;

    RunMonitor(std::shared_ptr<Store> store, PriceTable prices, QObject *parent = nullptr);
    ~RunMonitor() override;

    void setAgentResolver(AgentResolver resolver);
    void setTelemetryProvider(const QByteArray &providerName);
    void setHoldMs(int ms);
    int holdMs() const;

    // Correlates, writes, and calls `done` (on this thread) once every span is committed or
    // the write failed (Error::Kind::DiskFull when the disk is full).
    void ingestSpans(std::vector<Span> spans, Done done);

    qint64 spansIngested() const { return m_spansIngested; }

    // A run as its runtime reports it (connectors/runtime). The runtime's state wins over what
    // the spans suggest; the run joins the spans that carry its key (a2a.task.id, ...).
    // `boundAgent` is the profile agent bound to that runtime, when there is one.
    void ingestRuntime(const RuntimeRun &update, const std::optional<QByteArray> &boundAgent);
    // An operator_action event on a run's timeline ("cancel requested by ...").
    void recordOperatorAction(const QByteArray &runId, const QByteArray &name,
                              const QByteArray &attributesJson, qint64 atMs);
    std::optional<QByteArray> runIdForExternalKey(const QByteArray &key) const;
    int heldSpanCount() const;

    // Key formats shared with the runtime connectors.
    static QByteArray traceKey(const QByteArray &traceHex);
    static QByteArray a2aTaskKey(const QByteArray &taskId);
    static QByteArray langgraphKey(const QByteArray &threadId, const QByteArray &runId);
    // The run id schema version 1 derived from a run's first key (r + 15 hex digits of its
    // SHA-256). New runs get time-ordered ids instead (newRunId); kept for reading old data.
    static QByteArray runIdForKey(const QByteArray &key);

signals:
    // Runs as committed (after each write), and the events that write inserted.
    void runsCommitted(const std::vector<Breaker::Run> &runs);
    void eventsCommitted(const std::vector<Breaker::RunEvent> &events);
    void writeFailed(const QString &message);
    // Every runtime update, after correlation (runId is Breaker's run id).
    void runtimeRunUpdated(const QByteArray &runId, const Breaker::RuntimeRun &update);
    // A tool or model span still running 5 s or more after the runtime reported the run ended.
    void stillActiveAfterCancel(const QByteArray &runId, const QString &spanName, qint64 afterMs);

private:
    struct Ticket;
    struct RunState;
    struct Held
    {
        Span span;
        std::shared_ptr<Ticket> ticket;
        qint64 heldAtMs = 0;
    };

    RunState *resolveRun(const Span &span, const QByteArray &traceHex, bool *identifying);
    RunState *createRun(const QByteArray &firstKey);
    RunState *runForKey(const QByteArray &key, bool create);
    QByteArray newRunId();
    void addKey(RunState *run, const QByteArray &key, std::vector<std::pair<QByteArray, QByteArray>> &newKeys);
    void applySpan(RunState *run, const Span &span, const QByteArray &traceHex,
                   std::vector<RunEvent> &events);
    void releaseExpiredHeld();
    void evictIdleRuns(qint64 nowMs);
    void submit(std::vector<QByteArray> touchedRuns, std::vector<RunEvent> events,
                std::vector<std::pair<QByteArray, QByteArray>> keys,
                std::vector<std::shared_ptr<Ticket>> tickets);
    Run snapshot(const RunState &state) const;

    std::shared_ptr<Store> m_store;
    PriceTable m_prices;
    AgentResolver m_resolver;
    QByteArray m_telemetryProvider = "otlp";
    int m_holdMs = 3000;
    QHash<QByteArray, QByteArray> m_keyToRun;             // external key → run id
    QHash<QByteArray, std::shared_ptr<RunState>> m_runs;  // run id → live state
    QHash<QByteArray, std::vector<Held>> m_held;          // trace hex → held spans
    // (lastTouchMs, run id) in touch order, for evictIdleRuns: one entry per run per
    // millisecond it was touched in; entries older than the run's lastTouchMs are stale.
    std::deque<std::pair<qint64, QByteArray>> m_touchOrder;
    QTimer m_holdTimer;
    qint64 m_spansIngested = 0;
    QElapsedTimer m_clock;
    qint64 m_lastIdMs = 0;
    quint32 m_idSequence = 0;
    quint32 m_firstSequenceOfMs = 0;
};

} // namespace Breaker
