#pragma once

#include "models/RunTypes.h"

#include <QByteArray>
#include <QDateTime>
#include <QObject>
#include <QString>

#include <vector>

namespace Breaker {

// A provider's connection state, for the status bar.
struct ProviderState
{
    QString name;     // profile provider name ("otlp", "a2a", ...)
    QString layer;    // runtime, identity, ..., observability
    enum class State { Connecting, Up, Degraded, Down } state = State::Connecting;
    QString detail;   // what the provider last said, in words
};

// What the console shows, as a stream of value types on the GUI thread. The views depend only
// on this interface: the engine implements it over RunMonitor and the Store; tests implement it
// with a fake. All signals are emitted on the thread the feed lives on (the GUI thread).
class RunFeed : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~RunFeed() override = default;

    // Asks for the newest `limit` runs; answered by runsLoaded (replaces what the view has).
    virtual void loadRecentRuns(int limit) = 0;
    // Asks for one run's timeline; answered by eventsLoaded.
    virtual void loadEvents(const QByteArray &runId) = 0;

signals:
    void runsLoaded(const std::vector<Breaker::Run> &runs);
    // Live: runs inserted or changed since (coalesced, at most ~10 emissions per second).
    void runsUpdated(const std::vector<Breaker::Run> &runs);
    void eventsLoaded(const QByteArray &runId, const std::vector<Breaker::RunEvent> &events);
    // Live: new events of runs (the timeline of a selected run grows while it runs).
    void eventsAppended(const std::vector<Breaker::RunEvent> &events);
    void providerStatesChanged(const std::vector<Breaker::ProviderState> &states);
    void ingestRateChanged(double spansPerSecond);
    // A problem the operator should see (which provider, what it said).
    void problem(const QString &message);
};

} // namespace Breaker

Q_DECLARE_METATYPE(std::vector<Breaker::Run>)
Q_DECLARE_METATYPE(std::vector<Breaker::RunEvent>)
Q_DECLARE_METATYPE(std::vector<Breaker::ProviderState>)
