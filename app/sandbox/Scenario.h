#pragma once

#include "connectors/observability/OtlpCodec.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>

#include <optional>
#include <vector>

class QRandomGenerator;

namespace Breaker {

struct AgentSpec;

// The cases an operator exists for (DESIGN.md section 6), plus the ordinary run.
enum class ScenarioKind {
    Normal,          // the agent does its job
    ApprovalNeeded,  // a payment above the approval threshold waits for a person
    RunawayLoop,     // a tool keeps failing and the agent keeps retrying, cost rising
    PolicyBlock,     // a tool call the policy denies
    RestrictedData,  // a read of a data source classified restricted
    PromptInjection, // injected text makes the model call a tool the agent must not use
    IgnoresCancel,   // a long export loop that reports CANCELED but keeps calling tools ~8 s
    Work,            // a plain long run of a given length (A2A "work <ms>"); never in a mix
};
inline constexpr int kScenarioCount = 7; // the kinds agents' mixes draw from (all but Work)

// "normal", "approval", "runaway_loop", "policy_block", "restricted_data", "prompt_injection",
// "ignores_cancel", "work".
QByteArray scenarioName(ScenarioKind kind);
std::optional<ScenarioKind> scenarioFromName(const QByteArray &name);

// One span of a run as planned: times are relative (the run places it when it runs it).
struct PlannedSpan
{
    SpanId spanId{};
    QByteArray name;
    int kind = 1;        // OTLP SpanKind
    qint64 offsetNs = 0; // children only: start, relative to the parent's start
    qint64 durationNs = 0;
    int statusCode = 0; // 0 unset, 2 error
    QByteArray statusMessage;
    std::vector<Otlp::OutAttribute> attributes;
    std::vector<PlannedSpan> children; // inside this span: they end before it ends
};

// A pause for a human decision, recorded as events on the run's root span.
struct PlannedApproval
{
    QByteArray id;
    QByteArray action; // the tool that waits, e.g. stripe.refund
    qint64 amountMinor = 0;
    QByteArray currency; // ISO 4217, lower case
    QByteArray reason;   // the agent's words
    qint64 waitNs = 0;   // until the (simulated) decision
    bool approve = true;
    QByteArray decidedBy;
    QByteArray decisionReason;
    QJsonObject arguments; // the tool call's arguments, as shown to the approver
};

struct RunStep
{
    enum class When { Always, IfApproved, IfDenied };
    qint64 gapNs = 0;                        // think time before the step starts
    When when = When::Always;                // relative to the run's latest approval decision
    std::optional<PlannedApproval> approval; // set: this step is a pause, not a span
    PlannedSpan span;
};

// One run, fully decided up front from the agent's random generator, so a seed reproduces it.
struct RunPlan
{
    ScenarioKind scenario = ScenarioKind::Normal;
    TraceId traceId{};
    SpanId rootSpanId{};
    QByteArray principal;         // enduser.id
    QList<QByteArray> delegation; // breaker.delegation, outermost actor first
    QByteArray conversationId;    // gen_ai.conversation.id
    std::vector<RunStep> steps;   // run one after the other
    qint64 tailNs = 0;            // after the last step, until the root ends
    int rootStatusCode = 0;
    QByteArray rootStatusMessage;
    QByteArray rootErrorType;
    // The A2A task this run is (a UUID) and its conversation; on the root span as a2a.task.id
    // and a2a.context.id.
    QByteArray taskId;
    QByteArray contextId;
    bool ignoresCancel = false; // keeps working for a while after it reported CANCELED
    QByteArray summary;         // the agent's closing words (the task's artifact)
};

class Scenario
{
public:
    // Plans one run of `kind` for `agent`. durationScale shrinks every duration and pause
    // (burst mode runs short runs). longRun spreads think time so the run lasts 15-90 s (scaled):
    // the fleet's own runs do, so that operators have working tasks to act on; runs asked for
    // over A2A keep their natural length.
    static RunPlan plan(ScenarioKind kind,
                        const AgentSpec &agent,
                        QRandomGenerator &rng,
                        double durationScale,
                        bool longRun = false);
    // A plain run of about workMs (scaled): model and tool calls, nothing unusual.
    static RunPlan
    planWork(const AgentSpec &agent, QRandomGenerator &rng, double durationScale, qint64 workMs);
};

} // namespace Breaker
