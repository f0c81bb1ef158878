#include "app/services/StoreRunFeed.h"

#include "app/services/RunMonitor.h"
#include "models/Logging.h"
#include "models/Store.h"

#include <QCoreApplication>
#include <QPointer>
#include <QThreadPool>

#include <algorithm>

namespace Breaker {

namespace {
constexpr int kFlushIntervalMs = 100; // at most ~10 updates a second reach the views
constexpr int kPollIntervalMs = 1000;
} // namespace

StoreRunFeed::StoreRunFeed(std::shared_ptr<Store> store, QObject *parent)
    : RunFeed(parent)
    , m_store(std::move(store))
{
    qRegisterMetaType<std::vector<Breaker::Run>>();
    qRegisterMetaType<std::vector<Breaker::RunEvent>>();
    qRegisterMetaType<std::vector<Breaker::ProviderState>>();

    m_flushTimer.setObjectName(QStringLiteral("StoreRunFeed flush"));
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(kFlushIntervalMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &StoreRunFeed::flush);

    m_pollTimer.setInterval(kPollIntervalMs);
    connect(&m_pollTimer, &QTimer::timeout, this, &StoreRunFeed::pollOtherWriters);
    m_pollTimer.start();

    m_rateTimer.setInterval(1000);
    connect(&m_rateTimer, &QTimer::timeout, this, &StoreRunFeed::tickRate);
    m_rateTimer.start();
    m_rateClock.start();
}

StoreRunFeed::~StoreRunFeed()
{
    // Workers hold the Store by shared_ptr and post back through QPointer: nothing to wait for.
}

void StoreRunFeed::attachMonitor(RunMonitor *monitor)
{
    connect(monitor, &RunMonitor::runsCommitted, this, &StoreRunFeed::queueRuns);
    connect(monitor, &RunMonitor::eventsCommitted, this, &StoreRunFeed::queueEvents);
    connect(monitor, &RunMonitor::writeFailed, this, [this](const QString &message) {
        reportProblem(tr("Store: %1").arg(message));
    });
}

void StoreRunFeed::loadRecentRuns(int limit)
{
    QPointer<StoreRunFeed> self(this);
    auto store = m_store;
    QThreadPool::globalInstance()->start([self, store, limit] {
        RunQuery query;
        query.limit = limit;
        auto runs = store->runs(query);
        QMetaObject::invokeMethod(
            qApp,
            [self, runs = std::move(runs)]() mutable {
                if (!self)
                    return;
                if (!runs.ok()) {
                    self->reportProblem(tr("Store: %1").arg(runs.error().message));
                    return;
                }
                for (const Run &r : runs.value())
                    self->m_lastSeenUpdatedMs = std::max(self->m_lastSeenUpdatedMs, r.updatedMs);
                emit self->runsLoaded(runs.value());
            },
            Qt::QueuedConnection);
    });
}

void StoreRunFeed::loadEvents(const QByteArray &runId)
{
    QPointer<StoreRunFeed> self(this);
    auto store = m_store;
    QThreadPool::globalInstance()->start([self, store, runId] {
        auto events = store->events(runId);
        QMetaObject::invokeMethod(
            qApp,
            [self, runId, events = std::move(events)]() mutable {
                if (!self)
                    return;
                if (!events.ok()) {
                    self->reportProblem(tr("Store: %1").arg(events.error().message));
                    return;
                }
                emit self->eventsLoaded(runId, events.value());
            },
            Qt::QueuedConnection);
    });
}

void StoreRunFeed::setProviderStates(const std::vector<ProviderState> &states)
{
    m_states = states;
    emit providerStatesChanged(m_states);
}

void StoreRunFeed::updateProviderState(const ProviderState &state)
{
    for (ProviderState &s : m_states) {
        if (s.name == state.name) {
            if (s.state == state.state && s.detail == state.detail)
                return;
            s = state;
            emit providerStatesChanged(m_states);
            return;
        }
    }
    m_states.push_back(state);
    emit providerStatesChanged(m_states);
}

void StoreRunFeed::reportProblem(const QString &message)
{
    qCWarning(lcUi).noquote() << message;
    emit problem(message);
}

void StoreRunFeed::countSpans(qint64 n)
{
    m_spansThisWindow += n;
}

void StoreRunFeed::queueRuns(const std::vector<Run> &runs)
{
    for (const Run &r : runs) {
        m_pendingRuns.insert(r.id, r);
        m_lastSeenUpdatedMs = std::max(m_lastSeenUpdatedMs, r.updatedMs);
    }
    scheduleFlush();
}

void StoreRunFeed::queueEvents(const std::vector<RunEvent> &events)
{
    m_pendingEvents.insert(m_pendingEvents.end(), events.begin(), events.end());
    scheduleFlush();
}

void StoreRunFeed::scheduleFlush()
{
    if (m_flushTimer.isActive())
        return;
    // Leading edge: nothing went out for kFlushIntervalMs, so this goes out at once (on the
    // next turn of the event loop, together with whatever else that turn queues). Otherwise it
    // waits for the rest of the interval: still at most ~10 emissions a second.
    const qint64 since = m_lastFlush.isValid() ? m_lastFlush.elapsed() : qint64(kFlushIntervalMs);
    m_flushTimer.start(int(std::max<qint64>(0, kFlushIntervalMs - since)));
}

void StoreRunFeed::flush()
{
    m_lastFlush.start();
    if (!m_pendingRuns.isEmpty()) {
        std::vector<Run> runs;
        runs.reserve(size_t(m_pendingRuns.size()));
        for (auto it = m_pendingRuns.cbegin(); it != m_pendingRuns.cend(); ++it)
            runs.push_back(it.value());
        m_pendingRuns.clear();
        emit runsUpdated(runs);
    }
    if (!m_pendingEvents.empty()) {
        std::vector<RunEvent> events;
        events.swap(m_pendingEvents);
        emit eventsAppended(events);
    }
}

void StoreRunFeed::pollOtherWriters()
{
    // Another process (breakerctl, a second console) may have written: pick up runs changed
    // since the newest one we have seen. One poll at a time.
    if (m_pollBusy->exchange(true))
        return;
    QPointer<StoreRunFeed> self(this);
    auto store = m_store;
    auto busy = m_pollBusy;
    const qint64 lastVersion = m_lastDataVersion;
    const qint64 since = m_lastSeenUpdatedMs;
    QThreadPool::globalInstance()->start([self, store, busy, lastVersion, since] {
        auto version = store->dataVersion();
        std::vector<Run> changed;
        const bool moved = version.ok() && version.value() != lastVersion;
        if (moved && lastVersion >= 0) {
            RunQuery query;
            query.limit = 500;
            query.updatedSinceMs = since;
            auto runs = store->runs(query);
            if (runs.ok())
                changed = std::move(runs.value());
        }
        const qint64 newVersion = version.ok() ? version.value() : lastVersion;
        QMetaObject::invokeMethod(
            qApp,
            [self, busy, newVersion, changed = std::move(changed)]() {
                busy->store(false);
                if (!self)
                    return;
                self->m_lastDataVersion = newVersion;
                if (!changed.empty())
                    self->queueRuns(changed);
            },
            Qt::QueuedConnection);
    });
}

void StoreRunFeed::tickRate()
{
    const qint64 elapsed = m_rateClock.restart();
    const double rate = elapsed > 0 ? double(m_spansThisWindow) * 1000.0 / double(elapsed) : 0.0;
    m_spansThisWindow = 0;
    emit ingestRateChanged(rate);
}

} // namespace Breaker
