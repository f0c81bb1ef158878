#pragma once

#include "app/sandbox/AgentSpec.h"
#include "app/sandbox/Scenario.h"

#include <QRandomGenerator>

namespace Breaker {

// One agent of the fleet: its spec, its own random generator (seeded from the fleet's seed and
// the agent's position, so each agent's sequence of runs depends on the seed alone) and the
// choice of what each next run does.
class SandboxAgent
{
public:
    SandboxAgent(AgentSpec spec, quint64 fleetSeed, int index);

    const AgentSpec &spec() const { return m_spec; }
    int index() const { return m_index; }

    // The scenario of the next run: the spec's first runs in order, then its weighted mix.
    ScenarioKind nextScenario();
    RunPlan planRun(ScenarioKind kind, double durationScale, bool longRun = false);
    RunPlan planWork(double durationScale, qint64 workMs);
    // Simulated time until the next run starts, for `ratePerMinute` runs a minute on average.
    qint64 nextIntervalNs(double ratePerMinute);

    quint64 runsPlanned() const { return m_runsPlanned; }
    int activeRuns() const { return m_activeRuns; }
    void runStarted() { ++m_activeRuns; }
    void runEnded() { --m_activeRuns; }

private:
    AgentSpec m_spec;
    int m_index = 0;
    QRandomGenerator m_rng;
    quint64 m_runsPlanned = 0;
    int m_activeRuns = 0;
};

} // namespace Breaker
