#include "FakeRunFeed.h"

#include <QTimer>

#include <algorithm>

namespace Breaker::Testing {

void FakeRunFeed::loadRecentRuns(int limit)
{
    m_recentRunsRequests.append(limit);
    if (!m_autoAnswer)
        return;
    QTimer::singleShot(0, this, [this, limit] {
        std::vector<Run> page = m_runs;
        std::sort(page.begin(), page.end(), [](const Run &a, const Run &b) {
            return a.startedMs > b.startedMs;
        });
        if (limit >= 0 && page.size() > size_t(limit))
            page.resize(size_t(limit));
        emit runsLoaded(page);
    });
}

void FakeRunFeed::loadEvents(const QByteArray &runId)
{
    m_eventRequests.append(runId);
    if (!m_autoAnswer)
        return;
    QTimer::singleShot(0, this, [this, runId] { emit eventsLoaded(runId, m_events.value(runId)); });
}

void FakeRunFeed::setEvents(const QByteArray &runId, std::vector<RunEvent> events)
{
    m_events.insert(runId, std::move(events));
}

} // namespace Breaker::Testing
