#pragma once

#include "models/Result.h"
#include "models/StopTypes.h"

#include <QByteArray>
#include <QObject>
#include <QStringList>

#include <functional>
#include <vector>

namespace Breaker {

// What one containment layer (identity, payment, tools) acts on for one agent, resolved from
// the profile at the moment the stop (or resume) runs, never from a stale preview.
struct LayerTarget
{
    QByteArray agent;        // the profile's agent name
    QByteArray run;          // Breaker's run id when the stop's scope is one run; else empty
    // Unique per operator action (one stop, one resume). Idempotency keys derive from it and the
    // target, so a retry of the same action never applies twice and a new action is new.
    QByteArray operationKey;
    // identity: the agent's token (the resolved secret: never logged, never in a detail) and the
    // reference it came from ("file:/...", for messages); the token's subject (user id) and the
    // agent's OAuth client id where the provider's admin API needs them.
    QByteArray token;
    QString tokenRef;
    QByteArray subject;
    QByteArray clientId;
    QStringList cards;  // payment: Stripe Issuing card ids (ic_...)
    QStringList tools;  // tools: the tool names to block
    QByteArray agentKey; // tools (litellm): the agent's virtual key, resolved; may be empty
};

struct LayerDeadlines
{
    int actMs = 10000;    // to get the action accepted
    int verifyMs = 10000; // more, to read it back
};

// One row per thing acted on (the token; each card; the agent's tool set), each with layer,
// agent, run, provider, target, action, outcome, detail and ms filled in.
using LayerDone = std::function<void(std::vector<StopLayerResult>)>;

// Something a provider saw after a stop that should not have happened (the leak watch).
struct LayerLeak
{
    QByteArray layer;
    QByteArray agent;
    QString what;   // "authorization iauth_… of 12.00 usd on card ic_… approved"
    qint64 atMs = 0; // the provider's timestamp (ms since the epoch)
};

// The interface of a containment layer's provider (issue 4). One object per profile provider of
// layer identity, payment or tools; another provider of a layer is one more file behind this.
// Every call answers exactly once, on the object's thread, within its deadlines, with the
// provider's own words in the detail. Outcomes are only the four of StopTypes.h: an action the
// provider accepted but that could not be read back is done_unverified, never verified.
class LayerConnector : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~LayerConnector() override = default;

    virtual QByteArray layer() const = 0;    // "identity", "payment" or "tools"
    virtual QByteArray provider() const = 0; // the profile's provider name
    virtual QByteArray kind() const = 0;     // "oauth2", "stripe-issuing", "opa", ...

    // Acts (revoke, freeze, block), then proves it by reading back (introspection, the card,
    // a decision), all within actMs + verifyMs.
    virtual void contain(const LayerTarget &target, const LayerDeadlines &deadlines,
                         LayerDone done) = 0;

    // Whether release() can undo contain() on this layer (a revoked token cannot be un-revoked:
    // the agent needs a new grant).
    virtual bool canRelease() const = 0;
    // Undoes contain() (unfreeze, unblock) and reads it back. Rows as for contain().
    virtual void release(const LayerTarget &target, const LayerDeadlines &deadlines,
                         LayerDone done) = 0;

    // The leak watch: what the provider saw for the target since `sinceMs` (ms since the epoch)
    // that a contained agent must not be able to do (an approved authorization, a token that
    // introspects active, a decision that allows a blocked tool).
    virtual void checkLeaks(const LayerTarget &target, qint64 sinceMs,
                            std::function<void(Result<std::vector<LayerLeak>>)> done) = 0;

    // Reachable and authorized (discovery, a cheap authenticated read): a line saying so, or the
    // provider's words.
    virtual void probe(std::function<void(Result<QString>)> done) = 0;
};

} // namespace Breaker
