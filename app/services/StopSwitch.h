#pragma once

#include "app/services/RuntimeStop.h"
#include "connectors/containment/LayerConnector.h"
#include "models/AuditRecord.h"
#include "models/Profile.h"
#include "models/Result.h"
#include "models/StopTypes.h"

#include <QHash>
#include <QJsonArray>
#include <QObject>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace Breaker {

class Store;

// What a stop acts on (DESIGN.md section 9): one run, one agent, one principal (every agent
// acting for them), or everything the profile names.
struct StopScope
{
    enum class Kind { Run, Agent, Principal, All };
    Kind kind = Kind::Run;
    QByteArray value; // run id, agent name, principal; the profile's name for All

    QByteArray wireKind() const; // "run", "agent", "principal", "all"
    QByteArray key() const { return wireKind() + ':' + value; }
};

// One action of a plan: one row of the stop dialog. For the runtime one per run in flight (or
// one "nothing in flight" row per agent); for the other layers one per agent (the connector
// answers a row per card, per token, per tool set).
struct PlannedAction
{
    StopLayerResult row;     // layer, agent, run, provider, target, action; no outcome yet
    QString describe;        // what will be done to what, in words
    QString why;             // not configured: why (the row then ends skipped_not_configured)
    bool configured = true;
    RuntimeStop::Plan runtime; // runtime rows: the run
    bool releaseApproval = false; // runtime rows: the run waits for a person; deny it first
    QByteArray principal;
};

struct StopPlan
{
    StopScope scope;
    QStringList layers;         // the layers asked for, in control-map order
    QList<QByteArray> agents;   // the agents in scope
    std::vector<PlannedAction> actions;
    qint64 resolvedAtMs = 0;    // when the Store and the profile were read
    bool drill = false;         // a drill against a canary (audited as such; proofs say so)
    bool resume = false;        // planResume's: the summary says unfreeze / unblock

    // "2 agents: cancel 3 runs, revoke 2 tokens, freeze 3 cards, block 5 tools; 1 layer not
    // configured".
    QString summary() const;
    int count(QByteArrayView layer) const;
};

struct StopOutcome
{
    StopScope scope;
    QString reason;
    bool verified = false;            // every row whose layer has a provider is verified
    std::vector<StopLayerResult> rows; // in plan order
    QJsonArray releasedApprovals;
    QStringList notes;                // what the operator should know besides the rows
    qint64 startedAtMs = 0;
    qint64 ms = 0;
    // Set when this stop joined one that another process (or another StopSwitch on the same
    // Store) was carrying out: the rows, the reason and the verdict are that stop's, read back
    // from the audit trail.
    std::optional<StopClaim> joined;
};

// What a containment layer acts on for one agent, from the profile as it is now, secrets
// resolved (an unresolvable secret sets `error`, naming the reference, never the secret).
LayerTarget layerTargetFor(const std::optional<Profile> &profile, const QByteArray &agent, QByteArrayView layer,
                           QString *error);

// What a finished stop proved, per agent and layer, for the control map's "last proven stop".
std::vector<StopProof> stopProofsOf(const StopOutcome &outcome, bool drill);

// The stop switch (issue 4 item 4; DESIGN.md section 4). Resolves a scope to layer actions from
// the Store and the profile at execution time, writes the intent to the audit trail before
// anything is done, hits every layer at once with its deadlines, then reports each action's
// outcome (verified, done_unverified, failed, skipped_not_configured) with the provider's words
// and the milliseconds. Pending approvals in scope are released as denied first. The console
// and `breakerctl stop` / `resume` share it.
class StopSwitch : public QObject
{
    Q_OBJECT
public:
    // The connector of a provider of layer identity, payment or tools, or why there is none.
    using LayerFor = std::function<Result<LayerConnector *>(const QByteArray &provider)>;

    StopSwitch(std::shared_ptr<Store> store, std::optional<Profile> profile,
               RuntimeStop::ConnectorFor runtimeFor, LayerFor layerFor, QObject *parent = nullptr);

    // The layers a scope acts on when none are named: run → runtime; otherwise all four.
    static QStringList defaultLayers(const StopScope &scope);
    static const QStringList &allLayers(); // runtime, identity, payment, tools

    // NotFound: the scope matches nothing (no such run, agent or principal). Invalid: a layer
    // name that does not exist, or --all without the profile.
    Result<StopPlan> plan(const StopScope &scope, const QStringList &layers = {}) const;

    using Progress = std::function<void(int action, const std::vector<StopLayerResult> &rows)>;
    using Done = std::function<void(const StopOutcome &)>;
    // `reason` is required. A second execute() of a scope that is being stopped joins the first
    // and gets its result, also when the first runs in another process on the same Store (its
    // claim is in the Store; the result is read back from the audit trail). `progress` is called
    // once per action when its rows are final (not for a stop that joined another process's).
    void execute(const StopPlan &plan, const QString &reason, Progress progress, Done done);

    // Undoes what a layer allows (unfreeze the cards, unblock the tools) for an agent or a
    // principal; a revoked token stays revoked (a note says so). Audited like a stop.
    Result<StopPlan> planResume(const StopScope &scope) const;
    void resume(const StopPlan &plan, const QString &reason, Progress progress, Done done);

    bool isStopping(const StopScope &scope) const;
    // The key a stop is claimed and joined under: scope, layers, and whether it is a drill.
    static QByteArray stopKey(const StopPlan &plan, bool resume = false);
    ~StopSwitch() override;

    // How long a claim of another process counts as live (it is then taken over), how often a
    // stop that joined one looks for its result, and how long past the longest action guard it
    // waits for a live holder before acting itself. Tests shorten them.
    void setJoinTimings(qint64 staleAfterMs, int pollMs, int slackMs = 10000)
    {
        m_claimStaleMs = staleAfterMs;
        m_joinPollMs = pollMs;
        m_joinSlackMs = slackMs;
    }

    // Test and bench knobs (the deadlines of DESIGN.md section 4 otherwise).
    void setDeadlines(const LayerDeadlines &deadlines) { m_deadlines = deadlines; }
    void setRuntimeTimings(int actMs, int verifyMs, int stillActiveMs, int settleMs);
    RuntimeStop *runtimeStop() const { return m_runtime; }
    // The baseline the benches compare with: the same stop, one action after another.
    void setSequential(bool sequential) { m_sequential = sequential; }

signals:
    // A stop finished: the leak watch starts watching its agents from `outcome.startedAtMs`.
    void stopFinished(const Breaker::StopOutcome &outcome, const QList<QByteArray> &agents);
    // A resume finished: the agents were let go (the leak watch stops watching them).
    void resumeFinished(const Breaker::StopOutcome &outcome, const QList<QByteArray> &agents);

private:
    struct Running;
    Result<QList<QByteArray>> agentsInScope(const StopScope &scope) const;
    void addLayerActions(StopPlan &plan, const QByteArray &agent, bool resume) const;
    void runAction(const std::shared_ptr<Running> &running, int index);
    void runRuntimeNothingInFlight(const std::shared_ptr<Running> &running, int index);
    void finishAction(const std::shared_ptr<Running> &running, int index,
                      std::vector<StopLayerResult> rows, bool alreadyAudited = false);
    void writeLayerAudit(const Running &running, const StopLayerResult &row);
    void start(const StopPlan &plan, const QString &reason, bool resume, Progress progress, Done done);
    void begin(const std::shared_ptr<Running> &running);
    void join(const std::shared_ptr<Running> &running, const StopClaim &holder);
    void pollJoined(const std::shared_ptr<Running> &running);
    std::optional<StopOutcome> joinedOutcome(const Running &running, bool *readFailed) const;
    void releaseClaim(Running &running, QStringList *notes);
    QString auditJoin(const Running &joiner, const QByteArray &operation, const QString &holderActor,
                      qint64 holderPid, const QByteArray &holderHost);
    static QByteArray runningKey(const Running &running);
    int guardMsFor(const PlannedAction &action) const;

    std::shared_ptr<Store> m_store;
    std::optional<Profile> m_profile;
    RuntimeStop::ConnectorFor m_runtimeFor;
    LayerFor m_layerFor;
    RuntimeStop *m_runtime = nullptr;
    LayerDeadlines m_deadlines;
    int m_settleMs = 5000;
    bool m_sequential = false;
    qint64 m_claimStaleMs = 10 * 60 * 1000;
    int m_joinPollMs = 200;
    int m_joinSlackMs = 10000;
    QHash<QByteArray, std::shared_ptr<Running>> m_running;
};

} // namespace Breaker

Q_DECLARE_METATYPE(Breaker::StopOutcome)
