#pragma once

#include <QByteArray>
#include <QString>
#include <QtGlobal>

#include <optional>
#include <vector>

namespace Breaker {

enum class RunStatus {
    Submitted,
    Working,
    WaitingApproval,
    Stopping,
    Stopped,
    Completed,
    Failed,
    Rejected,
    Unknown,
};

// The wire names of DESIGN.md section 4 ("submitted", "waiting_approval", ...).
QByteArray toWireName(RunStatus status);
std::optional<RunStatus> runStatusFromWireName(QByteArrayView name);
bool isTerminal(RunStatus status);

enum class EventKind {
    ModelCall,
    ToolCall,
    DataAccess,
    PolicyBlock,
    ApprovalRequested,
    ApprovalDecided,
    Spend,
    StatusChange,
    Error,
    OperatorAction,
    AgentInvocation, // invoke_agent / invoke_workflow: the run's own span
    Span,            // any other span: kept as a generic event, never dropped
};

QByteArray toWireName(EventKind kind);
std::optional<EventKind> eventKindFromWireName(QByteArrayView name);

// One summary row per run (the runs table). Times are Unix milliseconds; money is in minor
// units (cents) of `currency` times 10,000 so that sub-cent model prices add up exactly.
struct Run
{
    QByteArray id;              // Breaker's own id
    QByteArray agent;           // profile agent name, or the name the run reported
    bool agentBound = false;    // the agent is in the profile
    QByteArray principal;       // who it acts for
    QByteArray delegationJson;  // JSON array, outermost actor first; empty when unknown
    QByteArray provider;        // profile provider name that reported it ("otlp", "a2a", ...)
    QByteArray goal;
    RunStatus status = RunStatus::Unknown;
    qint64 startedMs = 0;
    qint64 updatedMs = 0;
    qint64 endedMs = 0;         // 0 while running
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 costMicros = 0;      // millionths of the currency unit
    QByteArray currency = "usd";
    int toolCalls = 0;
    int policyBlocks = 0;
    int dataSources = 0;
    int approvalsPending = 0;
    int errors = 0;
    QByteArray externalIdsJson; // {"trace_id": "...", "a2a_task_id": "...", ...}
};

// The trace id of timeline events that come from a runtime rather than from a span: the Store
// dedupes events on (trace id, span id), and a runtime event's span id is made of the run's key,
// the state and its time, so the same state listed again adds nothing. Shown as no trace.
inline constexpr char kRuntimeEventTraceId[] = "runtime";

// One entry on a run's timeline.
struct RunEvent
{
    qint64 id = 0;              // Store event id (EventBlock::eventId; 0 before it is stored)
    QByteArray runId;
    QByteArray traceId;         // 32 lowercase hex chars, empty for non-span events
    QByteArray spanId;          // 16 lowercase hex chars
    QByteArray parentSpanId;    // 16 lowercase hex chars, or empty
    EventKind kind = EventKind::Span;
    QByteArray name;
    qint64 startNs = 0;
    qint64 endNs = 0;
    int statusCode = 0;         // OTLP status: 0 unset, 1 ok, 2 error
    QByteArray attributesJson;  // compact JSON object

    // What this event adds to its run's summary. The Store adds these to the run row only when
    // the event is new, so a span delivered twice is counted once.
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 costMicros = 0;
};

} // namespace Breaker
