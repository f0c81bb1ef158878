#pragma once

#include "models/Result.h"
#include "models/RunTypes.h"

#include <QByteArray>
#include <QMetaType>
#include <QString>

#include <functional>
#include <optional>
#include <vector>

namespace Breaker {

// What a runtime asks a person (A2A input-required, a LangGraph interrupt, a Cloudflare tool
// approval). DESIGN.md section 4, Approval.
struct RuntimeApprovalRequest
{
    QByteArray action;        // "stripe.refund"; empty when the agent sent only words
    QByteArray argumentsJson; // compact JSON object, or empty
    QByteArray amountValue;   // decimal string as sent ("1250.00"), or empty
    QByteArray currency;      // lower case ("usd"), or empty
    QString message;          // the agent's own words
    QByteArray source;        // "a2a.input-required", "a2a.auth-required", ...
};

// One run as its runtime reports it.
struct RuntimeRun
{
    QByteArray provider;   // profile provider name
    QByteArray kind;       // provider kind: "a2a", "langgraph", "cloudflare-agents"
    QByteArray externalId; // the runtime's id (A2A task id, "thread:run", ...)
    QByteArray contextId;  // A2A context id, LangGraph thread id, ...
    QByteArray key;        // the RunMonitor correlation key ("a2a:<task id>", ...)
    QByteArray agentName;  // the name the runtime reports (A2A card name, assistant id, ...)
    RunStatus status = RunStatus::Unknown;
    QByteArray rawState;   // the runtime's own word ("TASK_STATE_WORKING", "working", ...)
    qint64 updatedMs = 0;  // the runtime's status timestamp (0 when it gave none)
    QString statusText;    // text of the status message, if any
    std::optional<RuntimeApprovalRequest> approval; // set while it waits for a person
};

struct RuntimePage
{
    std::vector<RuntimeRun> runs;
    QByteArray nextPageToken; // empty on the last page
    std::optional<qint64> totalSize;
};

enum class ApprovalDecision { Approve, Deny, Edit };
QByteArray toWireName(ApprovalDecision decision); // "approve", "deny", "edit"

struct ApprovalAnswer
{
    ApprovalDecision decision = ApprovalDecision::Deny;
    QString reason;
    QByteArray argumentsJson; // edit: the arguments to use instead (a JSON object)
};

// Which verbs a provider supports, as found out from it (the A2A card, the server's API).
struct RuntimeCapabilities
{
    bool list = false;
    bool follow = false;    // a live stream of one run
    bool get = false;
    bool cancel = false;    // cooperative
    bool terminate = false; // forced (LangGraph rollback, ...)
    bool answer = false;
    QString dialect;        // "A2A 1.0 JSON-RPC", "A2A 0.3 HTTP+JSON", ...

    // The verbs in the order of the command-line contract: list, follow, get, cancel, ...
    std::vector<QByteArray> verbs() const;
};

template<typename T>
using RuntimeCallback = std::function<void(const Result<T> &)>;

} // namespace Breaker

Q_DECLARE_METATYPE(Breaker::RuntimeRun)
