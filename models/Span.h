#pragma once

#include <QByteArray>
#include <QtGlobal>

#include <array>
#include <cstdint>
#include <vector>

namespace Breaker {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

// A span event (OTLP Span.Event) kept with the span.
struct SpanEvent
{
    QByteArray name;
    qint64 timeNs = 0;
    QByteArray attributesJson; // compact JSON object: {"key": value, ...}
};

// One OTLP span as the receiver decoded it. Text is UTF-8 (QByteArray) because it goes
// straight to SQLite; the attributes Breaker reads are lifted out of the attribute list so
// that RunMonitor never re-parses JSON. A field that was absent is empty (or -1 for counts).
struct Span
{
    TraceId traceId{};
    SpanId spanId{};
    SpanId parentSpanId{};
    bool hasParent = false;     // parentSpanId non-empty and non-zero
    QByteArray name;
    int kind = 0;               // OTLP SpanKind: 0 unspecified .. 5 consumer
    qint64 startNs = 0;
    qint64 endNs = 0;
    int statusCode = 0;         // 0 unset, 1 ok, 2 error
    QByteArray statusMessage;

    // Resource.
    QByteArray serviceName;     // resource service.name

    // GenAI semantic conventions (span attributes win over resource attributes).
    QByteArray operationName;   // gen_ai.operation.name
    QByteArray providerName;    // gen_ai.provider.name, or the deprecated gen_ai.system
    QByteArray requestModel;    // gen_ai.request.model
    QByteArray responseModel;   // gen_ai.response.model
    QByteArray agentName;       // gen_ai.agent.name
    QByteArray agentId;         // gen_ai.agent.id
    QByteArray conversationId;  // gen_ai.conversation.id
    QByteArray workflowName;    // gen_ai.workflow.name
    QByteArray toolName;        // gen_ai.tool.name
    QByteArray toolCallId;      // gen_ai.tool.call.id
    QByteArray dataSourceId;    // gen_ai.data_source.id, else db.collection.name / db.namespace
    QByteArray dbSystem;        // db.system.name or db.system
    QByteArray errorType;       // error.type
    qint64 inputTokens = -1;    // gen_ai.usage.input_tokens or prompt_tokens
    qint64 outputTokens = -1;   // gen_ai.usage.output_tokens or completion_tokens

    // Who the run acts for, and how (docs/ARCHITECTURE.md, "Span attributes").
    QByteArray principal;       // enduser.id
    QByteArray delegationJson;  // breaker.delegation: JSON array of actor ids, outermost first

    // Runtime correlation.
    QByteArray a2aTaskId;       // a2a.task.id
    QByteArray a2aTaskState;    // a2a.task.state
    QByteArray langgraphThreadId; // langgraph.thread_id
    QByteArray langgraphRunId;    // langgraph.run_id

    // Project conventions for what semconv has no name for (documented in docs/ARCHITECTURE.md).
    QByteArray policyDecision;  // breaker.policy.decision: "allow" | "deny"
    QByteArray policyReason;    // breaker.policy.reason
    qint64 spendMinor = -1;     // breaker.spend.amount_minor (integer, minor currency units)
    QByteArray spendCurrency;   // breaker.spend.currency (ISO 4217, lower case)

    QByteArray attributesJson;  // every span attribute, compact JSON object, secrets redacted
    std::vector<SpanEvent> events;
};

} // namespace Breaker
