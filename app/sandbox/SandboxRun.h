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

    // What one call produced: actions to schedule, spans that ended (to export).
    struct Output
    {
        std::vector<Scheduled> schedule;
        std::vector<Otlp::OutSpan> spans;
        bool finished = false;
        void clear()
        {
            schedule.clear();
            spans.clear();
            finished = false;
        }
    };

    SandboxRun(quint64 id, const SandboxAgent &agent, RunPlan plan);

    quint64 id() const { return m_id; }
    const SandboxAgent &agent() const { return m_agent; }
    const RunPlan &plan() const { return m_plan; }
    State state() const { return m_state; }
    qint64 startNs() const { return m_startNs; }

    // Runs one scheduled action at simulated time nowNs.
    void handle(const Scheduled &action, Output &out);

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
    enum class Decision { None, Approved, Denied } m_decision = Decision::None;
    std::vector<Otlp::OutEvent> m_rootEvents;
};

} // namespace Breaker
