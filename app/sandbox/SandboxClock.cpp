#include "app/sandbox/SandboxClock.h"

#include <QDateTime>

#include <algorithm>
#include <cmath>

namespace Breaker {

SandboxClock::SandboxClock(double speed)
    : SandboxClock(speed, wallClockNs())
{}

SandboxClock::SandboxClock(double speed, qint64 baseNs)
    : m_baseNs(baseNs)
    , m_speed(speed > 0 && std::isfinite(speed) ? speed : 1.0)
{
    m_elapsed.start();
}

qint64 SandboxClock::wallClockNs()
{
    return QDateTime::currentMSecsSinceEpoch() * 1000000;
}

qint64 SandboxClock::nowNs() const
{
    const qint64 elapsed = m_elapsed.nsecsElapsed();
    if (m_speed == 1.0)
        return m_baseNs + elapsed;
    return m_baseNs + qint64(double(elapsed) * m_speed);
}

int SandboxClock::realDelayMs(qint64 simulatedDelayNs) const
{
    if (simulatedDelayNs <= 0)
        return 0;
    const double ms = std::ceil(double(simulatedDelayNs) / m_speed / 1e6);
    return int(std::clamp(ms, 0.0, 24.0 * 3600 * 1000));
}

qint64 SandboxClock::simulatedNs(qint64 realMs) const
{
    return qint64(double(realMs) * 1e6 * m_speed);
}

} // namespace Breaker
