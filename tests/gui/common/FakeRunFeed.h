#pragma once

#include "app/services/RunFeed.h"

#include <QByteArrayList>
#include <QHash>

#include <vector>

namespace Breaker::Testing {

// A RunFeed for GUI tests: records what the views ask for, answers from canned data when
// told to (asynchronously, like the real feed), and lets the test emit any signal.
class FakeRunFeed : public RunFeed
{
    Q_OBJECT
public:
    using RunFeed::RunFeed;

    void loadRecentRuns(int limit) override;
    void loadEvents(const QByteArray &runId) override;

    // Canned answers; with autoAnswer on, requests are answered on the next event-loop turn.
    void setRuns(std::vector<Run> runs) { m_runs = std::move(runs); }
    void setEvents(const QByteArray &runId, std::vector<RunEvent> events);
    void setAutoAnswer(bool on) { m_autoAnswer = on; }

    QList<int> recentRunsRequests() const { return m_recentRunsRequests; }
    QByteArrayList eventRequests() const { return m_eventRequests; }

private:
    std::vector<Run> m_runs;
    QHash<QByteArray, std::vector<RunEvent>> m_events;
    bool m_autoAnswer = false;
    QList<int> m_recentRunsRequests;
    QByteArrayList m_eventRequests;
};

} // namespace Breaker::Testing
