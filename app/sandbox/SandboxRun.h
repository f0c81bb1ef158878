#pragma once

#include "app/sandbox/Scenario.h"

#include <vector>

namespace Breaker {

class SandboxAgent;

// One run as a state machine: working through its steps, waiting for an approval, finished.
// It owns no timer: it tells its caller what to schedule (the fleet runs one timer for all
// runs) and hands each span over the moment the span ends, children before their parents.
// A step completes through a call back into the run, so a later step can just as well finish
// when a provider's HTTP reply arrives.
class SandboxRun
{
public:
    enum class State { Pending, Working, AwaitingApproval, Finished };
    enum class Action : quint8 { Start, BeginStep, EndStep, EndChild, DecideApproval, End };

    struct Scheduled
    {
        qint64 dueNs = 0;
        Action action = Action::Start;
        int step = 0;
        int child = 0;
    };

    // What one call produced: actions to schedule, spans that ended (to export), and what the
    // run's A2A task should show.
    struct Output
    {
        std::vector<Scheduled> schedule;
        std::vector<Otlp::OutSpan> spans;
        bool finished = false;
        const PlannedApproval *inputRequired = nullptr; // the run now waits for this answer
        bool resumed = false;                           // an answer (or the timeout) came
        void clear()
        {
            schedule.clear();
            spans.clear();
            finished = false;
            inputRequired = nullptr;
            resumed = false;
        }
    };
    enum class Verdict { Approve, Deny, Edit };

    // What the providers said when the agent made a step's call (ProviderGate): a revoked token,
    // a blocked tool, a declined card. The step's span ends in error with these attributes;
    // endsRun: the agent cannot go on (no token) and the run ends failed.
    struct StepVerdict
    {
        bool blocked = false;
        bool endsRun = false;
        QByteArray errorType;
        QByteArray message;
        std::vector<Otlp::OutAttribute> attributes;
    };
    // Ends step `index` (an EndStep that was held while its call was checked) with `verdict`.
    void endStepWith(int index, const StepVerdict &verdict, qint64 nowNs, Output &out);

    SandboxRun(quint64 id, const SandboxAgent &agent, RunPlan plan);

    quint64 id() const { return m_id; }
    const SandboxAgent &agent() const { return m_agent; }
    const RunPlan &plan() const { return m_plan; }
    State state() const { return m_state; }
    qint64 startNs() const { return m_startNs; }

    // Runs one scheduled action at simulated time nowNs.
    void handle(const Scheduled &action, Output &out);
    // A person's answer to the pending approval. False when the run is not waiting for one.
    bool answer(Verdict verdict,
                const QByteArray &decidedBy,
                const QByteArray &reason,
                qint64 nowNs,
                Output &out);
    // A cooperative cancel: the run ends at once, its root span ending with error.type
    // "canceled" and no further spans. A run whose plan ignores cancels goes on for
    // kIgnoredCancelNs more before it stops the same way.
    void cancel(qint64 nowNs, Output &out);
    bool cancelRequested() const { return m_cancelRequested; }
    bool approvalDenied() const { return m_decision == Decision::Denied; }
    static constexpr qint64 kIgnoredCancelNs = 8'000'000'000;

private:
    void start(qint64 nowNs, Output &out);
    void beginStep(int index, qint64 nowNs, Output &out);
    void endStep(int index, qint64 nowNs, Output &out);
    void endChild(int index, int child, qint64 nowNs, Output &out);
    void decideApproval(int index, qint64 nowNs, Output &out);
    void end(qint64 nowNs, Output &out);
    void scheduleNext(int afterIndex, qint64 nowNs, Output &out);
    bool shouldRun(const RunStep &step) const;
    Otlp::OutSpan
    childSpan(const PlannedSpan &planned, const SpanId &parent, qint64 startNs, qint64 endNs) const;

    quint64 m_id = 0;
    const SandboxAgent &m_agent;
    RunPlan m_plan;
    State m_state = State::Pending;
    qint64 m_startNs = 0;
    qint64 m_stepStartNs = 0;
    void decide(int index,
                Verdict verdict,
                const QByteArray &decidedBy,
                const QByteArray &reason,
                qint64 nowNs,
                Output &out);

    enum class Decision { None, Approved, Denied } m_decision = Decision::None;
    int m_waitingStep = -1; // the approval step waiting for an answer
    bool m_cancelRequested = false;
    qint64 m_stopAtNs = 0; // ignores-cancel: when it really stops
    std::vector<Otlp::OutEvent> m_rootEvents;
};

} // namespace Breaker
