#pragma once

#include "connectors/observability/OtlpCodec.h"

#include <QByteArray>
#include <QByteArrayView>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace Breaker::Otlp {

// Turns one OTLP request, walked by a decoder (JSON or protobuf), into Breaker::Span values.
//
// The decoder calls, in wire order:
//   beginResourceSpans()
//     resource attributes:  beginResourceAttribute(key) <value> endAttribute()
//     per span:             beginSpan(); set span() fields; span attributes
//                           (beginSpanAttribute(key) <value> endAttribute()); events
//                           (beginEvent() ... eventAttribute ... endEvent(name, time));
//                           finishSpan()
//   endResourceSpans()
// where <value> is one AnyValue: stringValue / boolValue / intValue / doubleValue /
// bytesValue / base64Value / emptyValue, or beginArray() <value>* endArray(), or
// beginKvList() (kvListKey(key) <value>)* endKvList().
//
// Resource attributes may arrive after the spans (JSON object keys are unordered and protobuf
// fields may come in any order), so resource values are applied to the spans of the
// ResourceSpans in endResourceSpans(); a field set by a span attribute is never overwritten.
//
// Every span attribute lands in Span::attributesJson (a compact JSON object) except that
// content attributes which may hold secrets or personal data are stored as "[redacted]":
// gen_ai.tool.call.arguments, gen_ai.tool.call.result, gen_ai.input.messages,
// gen_ai.output.messages, gen_ai.system_instructions, gen_ai.retrieval.query.text,
// gen_ai.retrieval.documents and the deprecated gen_ai.prompt / gen_ai.completion.
// A later profile switch ("store content") may allow keeping them; until then they never
// reach the Store. The same keys are redacted in span events.
//
// The JSON is appended to reused buffers; a span costs a handful of allocations (its lifted
// fields and one copy of the attribute JSON), not one per attribute.
class SpanBuilder
{
public:
    explicit SpanBuilder(DecodeResult &result);

    // Nesting allowed inside one attribute value (arrays / kvlists); deeper rejects the span.
    static constexpr int MaxValueDepth = 32;

    // --- ResourceSpans ------------------------------------------------------------------
    void beginResourceSpans();
    void endResourceSpans();
    // A defect of the resource itself: every span of this ResourceSpans is rejected.
    void rejectResource(const QByteArray &reason);

    // --- Span ---------------------------------------------------------------------------
    void beginSpan();
    Span &span() { return m_span; }
    // Record a defect of the current span; it will be rejected in finishSpan(). The first
    // reason is kept. Later value calls for this span are ignored.
    void rejectSpan(const QByteArray &reason);
    bool spanRejected() const { return m_spanRejected; }
    // Validates ids and times, then keeps the span or counts it as rejected.
    void finishSpan();
    // For messages: the span index within the request (0-based, counting rejected ones).
    qint64 spanIndex() const { return m_spanIndex; }

    // --- Attributes (the value calls below apply to the current attribute) --------------
    void beginSpanAttribute(QByteArrayView key);
    void beginResourceAttribute(QByteArrayView key);
    void beginEventAttribute(QByteArrayView key);
    void endAttribute();

    void stringValue(QByteArrayView utf8);
    void boolValue(bool v);
    void intValue(qint64 v);
    void doubleValue(double v);
    void bytesValue(QByteArrayView raw);     // raw bytes, stored base64
    void base64Value(QByteArrayView base64); // already base64 (OTLP/JSON bytesValue)
    void emptyValue();                       // AnyValue with nothing set: null
    void beginArray();
    void endArray();
    void beginKvList();
    void kvListKey(QByteArrayView key);
    void endKvList();
    int valueDepth() const { return m_depth; }

    // --- Events -------------------------------------------------------------------------
    void beginEvent();
    void endEvent(QByteArrayView name, qint64 timeNs);

    // A defect inside an attribute value: rejects the span, or the resource's spans.
    void rejectValue(const QByteArray &reason);

    // Call once after the last ResourceSpans: completes DecodeResult::rejectMessage.
    void finishRequest();
    // The body is malformed as a whole: drops every span and sets DecodeResult::error.
    void failRequest(const QString &error);

    // Lifted fields, in Span.h order. Public for the table in SpanBuilder.cpp.
    enum Field : uint8_t {
        OperationName,
        ProviderName,
        RequestModel,
        ResponseModel,
        AgentName,
        AgentId,
        ConversationId,
        WorkflowName,
        ToolName,
        ToolCallId,
        DataSourceId,
        DbSystem,
        ErrorType,
        Principal,
        DelegationJson,
        A2aTaskId,
        A2aTaskState,
        LanggraphThreadId,
        LanggraphRunId,
        PolicyDecision,
        PolicyReason,
        SpendCurrency,
        ServiceName,
        FirstIntField,
        InputTokens = FirstIntField,
        OutputTokens,
        SpendMinor,
        FieldCount,
        NoField = 0xff
    };

private:
    enum class Target : uint8_t { None, Span, Resource, Event };

    void beginAttribute(Target target, QByteArrayView key);
    bool writing() const { return m_out != nullptr && m_suppress == 0; }
    void writePrefix();
    void liftString(QByteArrayView utf8);
    void liftInt(qint64 v);
    bool accept(); // false when the value must be ignored (rejected span, redacted, ...)
    void addRejection(const QByteArray &reason, qint64 count);
    void appendDelegationItem(QByteArrayView actor);
    static QByteArray delegationFromString(QByteArrayView text);

    DecodeResult &m_result;
    Span m_span;
    Span m_resource; // resource values, in the same fields (only the lifted ones are used)
    std::array<uint8_t, FieldCount> m_spanRank{};
    std::array<uint8_t, FieldCount> m_resourceRank{};
    std::vector<uint32_t> m_spanFieldMasks; // per span since beginResourceSpans(): set by span
    size_t m_resourceFirst = 0;
    QByteArray m_resourceDefect;
    qint64 m_spanIndex = -1;
    bool m_spanRejected = false;
    QByteArray m_spanRejectReason;

    // Current attribute.
    Target m_target = Target::None;
    uint8_t m_field = NoField;
    uint8_t m_rank = 0;
    bool m_delegation = false;
    std::string *m_out = nullptr; // JSON being written (span or event attributes), or null
    int m_suppress = 0;           // > 0: inside a redacted or discarded value
    int m_depth = 0;              // nesting of the current value (0 = the attribute's value)
    bool m_afterKey = false;
    std::array<uint16_t, MaxValueDepth + 2> m_count{}; // items written per JSON level
    std::string m_delegationBuf;
    int m_delegationItems = 0;

    // std::string, not QByteArray: its inline append is several times cheaper per call here.
    std::string m_attrJson;  // span attributes, reused
    std::string m_eventJson; // current event's attributes, reused
    int m_spanAttrCount = 0;
    int m_eventAttrCount = 0;

    QByteArray m_rejectText;
    int m_rejectReasons = 0;
    qint64 m_rejectOmitted = 0;
};

// Appends utf8 to out as a JSON string literal (quotes included), escaping as RFC 8259 needs.
void appendJsonString(QByteArray &out, QByteArrayView utf8);
// Appends the standard base64 encoding of raw.
void appendBase64(QByteArray &out, QByteArrayView raw);
// Appends a JSON number (or "NaN" / "Infinity" / "-Infinity" strings, as proto3 JSON does).
void appendJsonDouble(QByteArray &out, double v);
void appendInt(QByteArray &out, qint64 v);
void appendUInt(QByteArray &out, quint64 v);

} // namespace Breaker::Otlp
