#pragma once

// Invariants every OTLP decode result must hold, whatever the input. A violation aborts, which
// libFuzzer reports as a crash with the input that caused it.
#include "connectors/observability/OtlpCodec.h"

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace Breaker::Fuzz {

[[noreturn]] inline void violated(const char *what, int line)
{
    std::fprintf(stderr, "fuzz invariant violated (line %d): %s\n", line, what);
    std::abort();
}

#define BREAKER_FUZZ_CHECK(cond)                                                                   \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ::Breaker::Fuzz::violated(#cond, __LINE__);                                            \
    } while (0)

inline bool isValidJson(const QByteArray &json)
{
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element element;
    return !parser.parse(json.constData(), size_t(json.size())).get(element);
}

inline bool isJsonObject(const QByteArray &json)
{
    return json.startsWith('{') && json.endsWith('}') && isValidJson(json);
}

// Every content attribute that may hold secrets is stored as "[redacted]", never its value.
inline bool contentIsRedacted(const QByteArray &json)
{
    static constexpr std::string_view redacted[] = {"gen_ai.tool.call.arguments",
                                                    "gen_ai.tool.call.result",
                                                    "gen_ai.input.messages",
                                                    "gen_ai.output.messages",
                                                    "gen_ai.system_instructions"};
    thread_local simdjson::dom::parser parser;
    simdjson::dom::object object;
    if (parser.parse(json.constData(), size_t(json.size())).get(object))
        return false;
    for (auto field : object) {
        for (std::string_view key : redacted) {
            if (field.key != key)
                continue;
            std::string_view value;
            if (field.value.get(value) || value != "[redacted]")
                return false;
        }
    }
    return true;
}

inline void checkResult(const Otlp::DecodeResult &r)
{
    BREAKER_FUZZ_CHECK(r.rejectedSpans >= 0);
    BREAKER_FUZZ_CHECK(r.rejectMessage.size() < 4096); // bounded, whatever the input
    if (!r.error.isEmpty()) {
        BREAKER_FUZZ_CHECK(r.spans.empty());
        BREAKER_FUZZ_CHECK(r.rejectedSpans == 0);
    }
    if (r.rejectedSpans > 0)
        BREAKER_FUZZ_CHECK(!r.rejectMessage.isEmpty());
    for (const Span &s : r.spans) {
        BREAKER_FUZZ_CHECK(s.traceId != TraceId{});
        BREAKER_FUZZ_CHECK(s.spanId != SpanId{});
        BREAKER_FUZZ_CHECK(s.hasParent == (s.parentSpanId != SpanId{}));
        BREAKER_FUZZ_CHECK(s.startNs >= 0);
        BREAKER_FUZZ_CHECK(s.endNs >= s.startNs);
        BREAKER_FUZZ_CHECK(s.kind >= 0 && s.kind <= 5);
        BREAKER_FUZZ_CHECK(s.statusCode >= 0 && s.statusCode <= 2);
        BREAKER_FUZZ_CHECK(isJsonObject(s.attributesJson));
        BREAKER_FUZZ_CHECK(s.delegationJson.isEmpty()
                           || (s.delegationJson.startsWith('[') && isValidJson(s.delegationJson)));
        BREAKER_FUZZ_CHECK(simdjson::validate_utf8(s.name.constData(), size_t(s.name.size())));
        BREAKER_FUZZ_CHECK(contentIsRedacted(s.attributesJson));
        for (const SpanEvent &e : s.events) {
            BREAKER_FUZZ_CHECK(e.timeNs >= 0);
            BREAKER_FUZZ_CHECK(isJsonObject(e.attributesJson));
            BREAKER_FUZZ_CHECK(contentIsRedacted(e.attributesJson));
        }
    }
}

// Whatever was kept survives our own encoders and decoders unchanged (ids, times, names, ...).
inline void checkRoundTrip(const Otlp::DecodeResult &r)
{
    if (r.spans.empty())
        return;
    Otlp::OutResourceSpans rs;
    rs.scopeName = "fuzz";
    for (const Span &s : r.spans) {
        Otlp::OutSpan o;
        o.traceId = s.traceId;
        o.spanId = s.spanId;
        o.parentSpanId = s.parentSpanId;
        o.hasParent = s.hasParent;
        o.name = s.name;
        o.kind = s.kind;
        o.startNs = s.startNs;
        o.endNs = s.endNs;
        o.statusCode = s.statusCode;
        o.statusMessage = s.statusMessage;
        o.attributes.push_back({"name", s.name});
        for (const SpanEvent &e : s.events)
            o.events.push_back({e.name, e.timeNs, {}});
        rs.spans.push_back(std::move(o));
    }
    const std::vector<Otlp::OutResourceSpans> request{rs};
    for (const Otlp::DecodeResult &back : {Otlp::decodeJson(Otlp::encodeJson(request)),
                                           Otlp::decodeProtobuf(Otlp::encodeProtobuf(request))}) {
        BREAKER_FUZZ_CHECK(back.error.isEmpty());
        BREAKER_FUZZ_CHECK(back.rejectedSpans == 0);
        BREAKER_FUZZ_CHECK(back.spans.size() == r.spans.size());
        for (size_t i = 0; i < r.spans.size(); ++i) {
            const Span &a = r.spans[i];
            const Span &b = back.spans[i];
            BREAKER_FUZZ_CHECK(a.traceId == b.traceId && a.spanId == b.spanId);
            BREAKER_FUZZ_CHECK(a.hasParent == b.hasParent && a.parentSpanId == b.parentSpanId);
            BREAKER_FUZZ_CHECK(a.name == b.name && a.kind == b.kind);
            BREAKER_FUZZ_CHECK(a.startNs == b.startNs && a.endNs == b.endNs);
            BREAKER_FUZZ_CHECK(a.statusCode == b.statusCode && a.statusMessage == b.statusMessage);
            BREAKER_FUZZ_CHECK(a.events.size() == b.events.size());
            BREAKER_FUZZ_CHECK(isJsonObject(b.attributesJson));
        }
    }
}

} // namespace Breaker::Fuzz
