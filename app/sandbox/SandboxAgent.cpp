#include "app/sandbox/SandboxAgent.h"

#include <array>

namespace Breaker {

namespace {

std::array<quint32, 4> seedFor(quint64 fleetSeed, int index)
{
    // splitmix64 spreads nearby seeds (0, 1, 2...) into unrelated generator states.
    auto mix = [](quint64 z) {
        z += 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    const quint64 a = mix(fleetSeed);
    const quint64 b = mix(a ^ quint64(index + 1) * 0x632be59bd9b4e019ULL);
    return {quint32(a), quint32(a >> 32), quint32(b), quint32(b >> 32)};
}

} // namespace

SandboxAgent::SandboxAgent(AgentSpec spec, quint64 fleetSeed, int index)
    : m_spec(std::move(spec))
    , m_index(index)
{
    const auto seed = seedFor(fleetSeed, index);
    m_rng = QRandomGenerator(seed.data(), seed.data() + seed.size());
}

ScenarioKind SandboxAgent::nextScenario()
{
    const quint64 n = m_runsPlanned;
    if (n < m_spec.firstRuns.size())
        return m_spec.firstRuns[size_t(n)];
    int total = 0;
    for (const auto &[kind, weight] : m_spec.mix)
        total += weight;
    if (total <= 0)
        return ScenarioKind::Normal;
    int roll = int(m_rng.bounded(total));
    for (const auto &[kind, weight] : m_spec.mix) {
        if (roll < weight)
            return kind;
        roll -= weight;
    }
    return ScenarioKind::Normal;
}

RunPlan SandboxAgent::planRun(ScenarioKind kind, double durationScale, bool longRun)
{
    ++m_runsPlanned;
    return Scenario::plan(kind, m_spec, m_rng, durationScale, longRun);
}

RunPlan SandboxAgent::planWork(double durationScale, qint64 workMs)
{
    ++m_runsPlanned;
    return Scenario::planWork(m_spec, m_rng, durationScale, workMs);
}

qint64 SandboxAgent::nextIntervalNs(double ratePerMinute)
{
    const double meanNs = 60e9 / ratePerMinute;
    // Uniform between half and one and a half times the mean: irregular, never bunched.
    const double factor = 0.5 + m_rng.generateDouble();
    return std::max<qint64>(qint64(meanNs * factor), 1000);
}

} // namespace Breaker
