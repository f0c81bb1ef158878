#pragma once

#include <QElapsedTimer>
#include <QtGlobal>

namespace Breaker {

// The sandbox's simulated clock: wall-clock time at start plus real elapsed time times a speed
// factor. At speed 1 span timestamps are wall-clock times; tests run the fleet at a high speed
// to cover hours of runs in a second without changing what the runs look like.
class SandboxClock
{
public:
    explicit SandboxClock(double speed = 1.0);
    SandboxClock(double speed, qint64 baseNs);

    qint64 nowNs() const;
    double speed() const { return m_speed; }
    // Real milliseconds until a simulated delay has passed (rounded up, never negative).
    int realDelayMs(qint64 simulatedDelayNs) const;
    // A real duration expressed in simulated nanoseconds.
    qint64 simulatedNs(qint64 realMs) const;

    static qint64 wallClockNs();

private:
    QElapsedTimer m_elapsed;
    qint64 m_baseNs = 0;
    double m_speed = 1.0;
};

} // namespace Breaker
