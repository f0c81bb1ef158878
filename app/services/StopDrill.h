#pragma once

#include "app/services/StopSwitch.h"

#include <QObject>

#include <functional>
#include <memory>
#include <optional>

namespace Breaker {

class Store;

// What a drill came to: the stop against the canary, the restore after it, and what the
// control map now records as the agent's last proven stop per layer.
struct DrillResult
{
    QByteArray agent;
    QByteArray canaryRun;   // the run the drill stopped (empty: none was in flight)
    QString canary;         // how the canary run was found or started, in words
    StopOutcome stop;
    std::optional<StopOutcome> restore; // unfreeze / unblock after the stop (a revoke stays)
    std::vector<StopProof> proofs;      // what the drill proved, per layer
    QStringList notes;

    // The stop verified at every configured layer and the restore verified too.
    bool ok() const { return stop.verified && restore && restore->verified; }
};

// Drills (issue 4 item 7): the whole stop, for real, against a canary — an agent the profile
// marks `"canary": true` (the sandbox marks one). A run of the canary is found in flight or
// started through its runtime where the runtime can start one (A2A), so that the runtime layer
// proves a cancel rather than "nothing in flight"; then the agent is stopped at every layer
// with the drill flag (audited as such), each layer's time to verified is recorded as the
// agent's last proven stop, and what can be undone is undone (card unfrozen, tools unblocked;
// a revoked token stays revoked — the agent needs a new grant, as after any stop).
class StopDrill : public QObject
{
    Q_OBJECT
public:
    StopDrill(std::shared_ptr<Store> store, std::optional<Profile> profile, StopSwitch *stops,
              RuntimeStop::ConnectorFor runtimeFor, QObject *parent = nullptr);

    // The stop the drill will carry out (marked as a drill). Invalid: the agent is not in the
    // profile, or it is not a canary (a drill stops it for real).
    Result<StopPlan> plan(const QByteArray &agent) const;

    using Phase = std::function<void(const QString &what)>;
    using Done = std::function<void(const DrillResult &)>;
    // `phase` narrates (finding the canary run, stopping, restoring); `progress` is the stop's
    // and then the restore's row progress. `done` once.
    void run(const QByteArray &agent, const QString &reason, Phase phase, StopSwitch::Progress progress, Done done);

    // How long to wait for a canary run started by the drill to reach the Store.
    void setCanaryWaitMs(int ms) { m_canaryWaitMs = ms; }

private:
    bool hasRunInFlight(const QByteArray &agent, QByteArray *runId) const;
    void startCanary(const QByteArray &agent, Phase phase, std::function<void(QByteArray run, QString how)> then);
    void stopAndRestore(const std::shared_ptr<DrillResult> &result, const QString &reason, Phase phase,
                        StopSwitch::Progress progress, Done done);

    std::shared_ptr<Store> m_store;
    std::optional<Profile> m_profile;
    StopSwitch *m_stops;
    RuntimeStop::ConnectorFor m_runtimeFor;
    int m_canaryWaitMs = 10000;
};

} // namespace Breaker
