#pragma once

#include "app/sandbox/AgentSpec.h"
#include "app/sandbox/SandboxClock.h"
#include "app/sandbox/SandboxRun.h"

#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>
#include <queue>
#include <unordered_map>
#include <vector>

namespace Breaker {

class SandboxAgent;

struct FleetConfig
{
    double ratePerMinute = 3.0; // runs started per minute per agent
    double durationScale = 1.0; // every span duration and pause is multiplied by this
    double speed = 1.0;         // simulated seconds per real second (tests speed it up)
    quint64 seed = 0;
    int maxActiveRunsPerAgent = 4000; // a run that would exceed this is skipped (and counted)
    int maxActionsPerSlice = 500;     // then the event loop gets a turn (network, signals)
};

// The sandbox's agents and their runs, in real time: one QTimer drives every run's state
// machine from a queue ordered by simulated due time. Spans are handed to the span handler as
// soon as they end (child spans during the run, the root when the run ends), the way a
// SimpleSpanProcessor exports them.
class SandboxFleet : public QObject
{
    Q_OBJECT

public:
    using SpanHandler = std::function<void(int agentIndex, Otlp::OutSpan &&span)>;

    // What a run's A2A task should show. Sent after the spans of the same step were handed on.
    struct RunNotice
    {
        enum class Kind { Started, InputRequired, Resumed, Finished };
        Kind kind = Kind::Started;
        int agentIndex = 0;
        quint64 runId = 0;
        const RunPlan *plan = nullptr;
        const PlannedApproval *approval = nullptr; // InputRequired
        bool failed = false;                       // Finished: the root span ended in error
        bool canceled = false;                     // Finished: after a cancel
        bool denied = false;                       // Finished: its approval was denied
    };
    using RunObserver = std::function<void(const RunNotice &notice)>;

    struct Stats
    {
        quint64 runsStarted = 0;
        quint64 runsFinished = 0;
        quint64 runsSkipped = 0;   // over maxActiveRunsPerAgent, or too late to start
        quint64 runsThrottled = 0; // not started because the consumer is behind
        quint64 spansEnded = 0;
        int activeRuns = 0;
        int waitingApproval = 0;
    };

    SandboxFleet(std::vector<AgentSpec> agents, FleetConfig config, QObject *parent = nullptr);
    ~SandboxFleet() override;

    const FleetConfig &config() const { return m_config; }
    int agentCount() const { return int(m_agents.size()); }
    const AgentSpec &agent(int index) const;
    QStringList agentNames() const;
    const SandboxClock &clock() const { return m_clock; }

    void setSpanHandler(SpanHandler handler) { m_spanHandler = std::move(handler); }
    // Asked before each run starts: true skips the run (the span consumer is behind), so that
    // a fleet asked for more than the machine can deliver slows down instead of piling up.
    void setThrottle(std::function<bool()> throttle) { m_throttle = std::move(throttle); }
    void setRunObserver(RunObserver observer) { m_observer = std::move(observer); }
    // Asked at the end of each model or tool call: what the agent's providers said about it
    // (ProviderGate, over HTTP). The step is held until `answer` runs; the run goes on from there.
    using Gate = std::function<void(int agentIndex, const RunPlan &plan, const PlannedSpan &span,
                                    std::function<void(SandboxRun::StepVerdict)> answer)>;
    void setGate(Gate gate) { m_gate = std::move(gate); }
    static bool isGatedCall(const PlannedSpan &span);

    // Starts a run at once (an A2A SendMessage), whatever the rate and the throttle say.
    // workMs > 0 plans a plain run of that length instead of `kind`. Returns the run id.
    // No kind: the agent's own mix decides.
    quint64 startRunNow(int agentIndex,
                        std::optional<ScenarioKind> kind,
                        qint64 workMs,
                        const QByteArray &taskId,
                        const QByteArray &contextId);
    // False when the run is not active (finished, or unknown).
    bool cancelRun(quint64 runId);
    bool answerRun(quint64 runId,
                   SandboxRun::Verdict verdict,
                   const QByteArray &decidedBy,
                   const QByteArray &reason);
    bool isRunActive(quint64 runId) const { return m_runs.count(runId) != 0; }

    // Starts every agent (the first runs within a second or so of simulated time).
    void start();
    // Starts no more runs and drops the runs in flight (their unexported spans are lost).
    void stop();
    bool isRunning() const { return m_running; }

    Stats stats() const;

signals:
    void runStarted(const QString &agent, const QString &scenario, const QByteArray &traceIdHex);
    void runFinished(const QString &agent,
                     const QString &scenario,
                     const QByteArray &traceIdHex,
                     int statusCode);

private:
    struct Entry
    {
        qint64 dueNs = 0;
        quint64 seq = 0;    // ties break in scheduling order: the run is deterministic
        quint64 target = 0; // run id, or agent index for StartRun
        bool startRun = false;
        SandboxRun::Scheduled action;
        bool operator>(const Entry &other) const
        {
            return dueNs != other.dueNs ? dueNs > other.dueNs : seq > other.seq;
        }
    };

    void schedule(Entry entry);
    void arm();
    void onTimer();
    void dispatch(const Entry &entry);
    void startRun(int agentIndex, qint64 dueNs);
    quint64 launch(int agentIndex, RunPlan plan, qint64 dueNs);
    void notify(RunNotice::Kind kind, const SandboxRun &run, bool failed = false);
    void applyOutput(SandboxRun &run);

    FleetConfig m_config;
    SandboxClock m_clock;
    std::vector<std::unique_ptr<SandboxAgent>> m_agents;
    std::unordered_map<quint64, std::unique_ptr<SandboxRun>> m_runs;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> m_queue;
    QTimer m_timer;
    qint64 m_armedDueNs = 0;
    bool m_inTimer = false;
    bool m_running = false;
    quint64 m_nextSeq = 0;
    quint64 m_nextRunId = 1;
    SandboxRun::Output m_output;
    SpanHandler m_spanHandler;
    std::function<bool()> m_throttle;
    RunObserver m_observer;
    Gate m_gate;
    Stats m_stats;
};

} // namespace Breaker
