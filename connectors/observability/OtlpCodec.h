#pragma once

#include "models/Span.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <variant>
#include <vector>

// OTLP trace payloads (ExportTraceServiceRequest), JSON and protobuf, both ways.
// Field numbers and JSON mapping rules: PROTOCOLS.md section 5.1 and specs/otlp-spec.md.
namespace Breaker::Otlp {

struct DecodeResult
{
    std::vector<Span> spans;  // every valid span of the request
    qint64 rejectedSpans = 0; // spans dropped for a defect of their own (partial success)
    QString rejectMessage;    // why, for partial_success.error_message (first reasons, bounded)
    QString error;            // non-empty: the body as a whole is malformed (answer 400)
};

// Decoders accept any input without crashing (they are fuzzed). A span-level defect (id of the
// wrong length, end before start, wrong type for a span field) rejects only that span.
DecodeResult decodeJson(QByteArrayView body);
DecodeResult decodeProtobuf(QByteArrayView body);

// --- Encoding, for the sandbox, the benches and the tests ---------------------------------

struct OutAttribute
{
    QByteArray key;
    std::variant<QByteArray, qint64, double, bool, QList<QByteArray>> value;
};

struct OutEvent
{
    QByteArray name;
    qint64 timeNs = 0;
    std::vector<OutAttribute> attributes;
};

struct OutSpan
{
    TraceId traceId{};
    SpanId spanId{};
    SpanId parentSpanId{};
    bool hasParent = false;
    QByteArray name;
    int kind = 1;
    qint64 startNs = 0;
    qint64 endNs = 0;
    int statusCode = 0;
    QByteArray statusMessage;
    std::vector<OutAttribute> attributes;
    std::vector<OutEvent> events;
};

struct OutResourceSpans
{
    std::vector<OutAttribute> resource;
    QByteArray scopeName;
    QByteArray scopeVersion;
    std::vector<OutSpan> spans;
};

// JSON as the OpenTelemetry JS exporter writes it (times as strings, intValue as a number).
QByteArray encodeJson(const std::vector<OutResourceSpans> &request);
QByteArray encodeProtobuf(const std::vector<OutResourceSpans> &request);

// ExportTraceServiceResponse bodies.
QByteArray encodeJsonResponse(qint64 rejectedSpans, const QString &errorMessage);
QByteArray encodeProtobufResponse(qint64 rejectedSpans, const QString &errorMessage);

// Hex helpers shared by the codec and its users.
QByteArray toHex(const TraceId &id);
QByteArray toHex(const SpanId &id);

} // namespace Breaker::Otlp
