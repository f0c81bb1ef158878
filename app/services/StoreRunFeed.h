#pragma once

#include "app/services/RunFeed.h"

#include <QElapsedTimer>
#include <QHash>
#include <QTimer>

#include <atomic>
#include <memory>

namespace Breaker {

class RunMonitor;
class Store;

// The console's RunFeed: backfill from the Store on a worker thread, live deltas from this
// process's RunMonitor (coalesced to at most ten emissions a second), and other processes'
// writes noticed by polling PRAGMA data_version. The throttle is leading-edge: after a quiet
// spell an update goes out on the next turn of the event loop; later ones wait until
// kFlushIntervalMs has passed since the previous emission.
class StoreRunFeed : public RunFeed
{
    Q_OBJECT
public:
    StoreRunFeed(std::shared_ptr<Store> store, QObject *parent = nullptr);
    ~StoreRunFeed() override;

    // Live updates from the engine of this process (optional: breakerctl-only setups poll).
    void attachMonitor(RunMonitor *monitor);

    void loadRecentRuns(int limit) override;
    void loadEvents(const QByteArray &runId) override;

    void setProviderStates(const std::vector<ProviderState> &states);
    void updateProviderState(const ProviderState &state);
    void reportProblem(const QString &message);
    // Counts spans accepted by the receiver, for the spans-per-second readout.
    void countSpans(qint64 n);

private:
    void queueRuns(const std::vector<Run> &runs);
    void queueEvents(const std::vector<RunEvent> &events);
    void scheduleFlush();
    void flush();
    void pollOtherWriters();
    void tickRate();

    std::shared_ptr<Store> m_store;
    QHash<QByteArray, Run> m_pendingRuns;
    std::vector<RunEvent> m_pendingEvents;
    QTimer m_flushTimer;
    QElapsedTimer m_lastFlush; // invalid until the first flush
    QTimer m_pollTimer;
    QTimer m_rateTimer;
    std::vector<ProviderState> m_states;
    qint64 m_spansThisWindow = 0;
    QElapsedTimer m_rateClock;
    qint64 m_lastDataVersion = -1;
    qint64 m_lastSeenUpdatedMs = 0;
    std::shared_ptr<std::atomic_bool> m_pollBusy = std::make_shared<std::atomic_bool>(false);
};

} // namespace Breaker
