// OTLP/JSON ExportTraceServiceRequest decoder (PROTOCOLS.md 5.1, specs/otlp-spec.md).
//
// simdjson On-Demand walks the document once, forward only. Each span is read field by field
// into a SpanBuilder; a span-level defect (bad id, wrong type, end before start) only marks the
// span rejected, and the walk goes on: the rest of the span is skipped by the iterator.
// A structural error (not JSON, truncated, bad literal) stops the walk and fails the body.
// Defects of the envelope (resourceSpans, scopeSpans or spans not an array) fail the body too;
// a defect of a resource rejects the spans of that ResourceSpans. Values that are skipped
// (unknown fields, scope, links) are only checked for balanced brackets, as On-Demand does.
#include "connectors/observability/OtlpCodec.h"
#include "connectors/observability/SpanBuilder.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

namespace Breaker::Otlp {

namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

QByteArrayView bv(std::string_view s)
{
    return QByteArrayView(s.data(), qsizetype(s.size()));
}

// Type errors leave the iterator usable (the value is skipped by its parent); every other
// error means the document itself is broken.
// A read helper consumed a well-formed value whose content is wrong ("12abc" as an int64,
// 1.5 as a time). simdjson never returns this code from the On-Demand calls used here.
constexpr error_code kBadContent = simdjson::INDEX_OUT_OF_BOUNDS;

bool isTypeError(error_code e)
{
    return e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_OUT_OF_RANGE || e == kBadContent;
}

constexpr int8_t hexValue(char c)
{
    return c >= '0' && c <= '9'   ? int8_t(c - '0')
           : c >= 'a' && c <= 'f' ? int8_t(c - 'a' + 10)
           : c >= 'A' && c <= 'F' ? int8_t(c - 'A' + 10)
                                  : int8_t(-1);
}

enum class IdParse { Ok, Empty, BadLength, NotHex };

template<size_t N> IdParse parseHexId(std::string_view s, std::array<uint8_t, N> &out)
{
    if (s.empty())
        return IdParse::Empty;
    if (s.size() != N * 2)
        return IdParse::BadLength;
    for (size_t i = 0; i < N; ++i) {
        const int8_t hi = hexValue(s[2 * i]);
        const int8_t lo = hexValue(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return IdParse::NotHex;
        out[i] = uint8_t(hi << 4 | lo);
    }
    return IdParse::Ok;
}

bool isBase64(std::string_view s)
{
    for (char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                        || c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

template<typename T> bool parseDecimal(std::string_view s, T &out)
{
    const char *b = s.data();
    const char *e = b + s.size();
    if (b == e)
        return false;
    auto [ptr, ec] = std::from_chars(b, e, out);
    return ec == std::errc() && ptr == e;
}

// A body reused across calls on the same thread: simdjson needs SIMDJSON_PADDING readable
// bytes after the document.
struct PaddedBuffer
{
    std::unique_ptr<char[]> data;
    size_t capacity = 0;

    const char *fill(QByteArrayView body)
    {
        const size_t need = size_t(body.size()) + simdjson::SIMDJSON_PADDING;
        if (need > capacity) {
            data = std::make_unique<char[]>(need);
            capacity = need;
        }
        if (!body.isEmpty())
            std::memcpy(data.get(), body.data(), size_t(body.size()));
        std::memset(data.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
        return data.get();
    }
};

// Large bodies get a parser of their own so that one 60 MB request does not pin that much
// memory in every worker thread forever.
constexpr qsizetype kReusableLimit = 4 * 1024 * 1024;

class JsonDecoder
{
public:
    explicit JsonDecoder(SpanBuilder &builder)
        : b(builder)
    {}

    void run(QByteArrayView body);

private:
    enum class Where { Span, Resource, Event };

    bool fatal(error_code e, const char *what);
    bool bodyError(const QString &message);
    // Records a defect of the current span (or resource) when e is a type error;
    // returns false when e is fatal for the body.
    bool defect(od::value &v, error_code e, Where where, const char *reason);
    bool valueDefect(od::value &v, error_code e, const char *reason);
    bool validToken(od::value &v);

    bool parseRequest(od::document &doc);
    bool parseResourceSpans(od::value v);
    bool parseResource(od::value v);
    bool parseScopeSpans(od::value v);
    bool parseSpan(od::value v);
    bool parseStatus(od::value v);
    bool parseEvent(od::value v);
    bool parseAttributes(od::value v, Where where);
    bool parseKeyValue(od::value v, Where where);
    bool parseAnyValue(od::value v, int depth);
    bool parseArrayValue(od::value v, int depth);
    bool parseKvListValue(od::value v, int depth);

    // 64-bit values as a JSON number or a decimal string (proto3 JSON mapping).
    error_code readInt64(od::value &v, int64_t &out);
    error_code readUInt64(od::value &v, uint64_t &out);
    error_code readDouble(od::value &v, double &out);
    template<size_t N>
    bool readId(od::value &v, std::array<uint8_t, N> &out, const char *name, bool optional);

    SpanBuilder &b;
    QString m_error;
};

bool JsonDecoder::fatal(error_code e, const char *what)
{
    if (m_error.isEmpty()) {
        m_error = QStringLiteral("malformed OTLP/JSON body (%1): %2")
                      .arg(QLatin1String(what), QLatin1String(simdjson::error_message(e)));
    }
    return false;
}

bool JsonDecoder::bodyError(const QString &message)
{
    if (m_error.isEmpty())
        m_error = message;
    return false;
}

// A value of the wrong type: make sure it is at least valid JSON (On-Demand parses a scalar only
// when asked for it, so "tru" or "1x" would otherwise pass as merely "not a string").
bool JsonDecoder::validToken(od::value &v)
{
    od::json_type t;
    if (auto e = v.type().get(t))
        return fatal(e, "value");
    error_code e = simdjson::SUCCESS;
    switch (t) {
    case od::json_type::boolean: {
        bool x;
        e = v.get_bool().get(x);
        break;
    }
    case od::json_type::null: {
        bool x;
        e = v.is_null().get(x);
        break;
    }
    case od::json_type::number: {
        double x;
        e = v.get_double().get(x);
        break;
    }
    case od::json_type::string: {
        std::string_view x;
        e = v.get_string().get(x);
        break;
    }
    default:
        break; // arrays and objects: their parent skips them structurally
    }
    if (e)
        return bodyError(QStringLiteral("malformed OTLP/JSON body: invalid JSON literal, number "
                                        "or string (%1)")
                             .arg(QLatin1String(simdjson::error_message(e))));
    return true;
}

bool JsonDecoder::defect(od::value &v, error_code e, Where where, const char *reason)
{
    if (!isTypeError(e))
        return fatal(e, reason);
    if (e != kBadContent && !validToken(v))
        return false;
    if (where == Where::Resource)
        b.rejectResource(reason);
    else
        b.rejectSpan(reason);
    return true;
}

bool JsonDecoder::valueDefect(od::value &v, error_code e, const char *reason)
{
    if (!isTypeError(e))
        return fatal(e, reason);
    if (e != kBadContent && !validToken(v))
        return false;
    b.rejectValue(reason);
    return true;
}

error_code JsonDecoder::readInt64(od::value &v, int64_t &out)
{
    od::json_type t;
    if (auto e = v.type().get(t))
        return e;
    if (t == od::json_type::string) {
        std::string_view s;
        if (auto e = v.get_string().get(s))
            return e;
        return parseDecimal(s, out) ? simdjson::SUCCESS : kBadContent;
    }
    if (t != od::json_type::number)
        return simdjson::INCORRECT_TYPE;
    error_code e = v.get_int64().get(out);
    if (e == simdjson::INCORRECT_TYPE) {
        // 1.2e3 or 120.0: accept when it is an exact integer.
        double d = 0;
        if (auto e2 = v.get_double().get(d))
            return e2;
        if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) >= 9.2e18)
            return kBadContent;
        out = int64_t(d);
        return simdjson::SUCCESS;
    }
    return e;
}

error_code JsonDecoder::readUInt64(od::value &v, uint64_t &out)
{
    od::json_type t;
    if (auto e = v.type().get(t))
        return e;
    if (t == od::json_type::string) {
        std::string_view s;
        if (auto e = v.get_string().get(s))
            return e;
        return parseDecimal(s, out) ? simdjson::SUCCESS : kBadContent;
    }
    if (t != od::json_type::number)
        return simdjson::INCORRECT_TYPE;
    error_code e = v.get_uint64().get(out);
    if (e == simdjson::INCORRECT_TYPE) {
        double d = 0;
        if (auto e2 = v.get_double().get(d))
            return e2;
        if (!std::isfinite(d) || d != std::trunc(d) || d < 0 || d >= 1.8e19)
            return kBadContent;
        out = uint64_t(d);
        return simdjson::SUCCESS;
    }
    return e;
}

error_code JsonDecoder::readDouble(od::value &v, double &out)
{
    od::json_type t;
    if (auto e = v.type().get(t))
        return e;
    if (t == od::json_type::string) {
        // proto3 JSON writes non-finite doubles as strings, and allows numbers as strings.
        std::string_view s;
        if (auto e = v.get_string().get(s))
            return e;
        if (s == "NaN")
            out = std::numeric_limits<double>::quiet_NaN();
        else if (s == "Infinity")
            out = std::numeric_limits<double>::infinity();
        else if (s == "-Infinity")
            out = -std::numeric_limits<double>::infinity();
        else if (!parseDecimal(s, out) || !std::isfinite(out))
            return kBadContent;
        return simdjson::SUCCESS;
    }
    if (t != od::json_type::number)
        return simdjson::INCORRECT_TYPE;
    return v.get_double().get(out);
}

template<size_t N>
bool JsonDecoder::readId(od::value &v, std::array<uint8_t, N> &out, const char *name, bool optional)
{
    std::string_view s;
    if (auto e = v.get_string().get(s)) {
        const QByteArray reason = QByteArray(name) + " is not a string";
        return defect(v, e, Where::Span, reason.constData());
    }
    std::array<uint8_t, N> id{};
    switch (parseHexId(s, id)) {
    case IdParse::Ok:
        out = id;
        break;
    case IdParse::Empty:
        if (!optional)
            b.rejectSpan(QByteArray(name) + " is empty");
        break;
    case IdParse::BadLength:
        b.rejectSpan(QByteArray(name) + " must be " + QByteArray::number(int(N * 2))
                     + " hex characters, got " + QByteArray::number(qsizetype(s.size())));
        break;
    case IdParse::NotHex:
        b.rejectSpan(QByteArray(name) + " is not hex");
        break;
    }
    return true;
}

// Iterates an object's fields; f(key, value) returns false on a fatal error.
#define BREAKER_FOR_FIELDS(obj, what, BODY)                                                        \
    for (auto fieldResult : obj) {                                                                 \
        if (auto fe = fieldResult.error())                                                         \
            return fatal(fe, what);                                                                \
        od::field fieldItem = std::move(fieldResult).value_unsafe();                               \
        std::string_view key;                                                                      \
        if (auto ke = fieldItem.unescaped_key().get(key))                                          \
            return fatal(ke, what);                                                                \
        od::value value = std::move(fieldItem).value();                                            \
        BODY                                                                                       \
    }

#define BREAKER_FOR_ITEMS(arr, what, BODY)                                                         \
    for (auto itemResult : arr) {                                                                  \
        if (auto ie = itemResult.error())                                                          \
            return fatal(ie, what);                                                                \
        od::value item = std::move(itemResult).value_unsafe();                                     \
        BODY                                                                                       \
    }

// True when v is JSON null (proto3 JSON: the field is absent). err is set on a broken literal.
bool isNull(od::value &v, error_code &err)
{
    bool null = false;
    err = v.is_null().get(null); // consumes a null; "nul" or "nulx" is an error
    return !err && null;
}

void JsonDecoder::run(QByteArrayView body)
{
    thread_local PaddedBuffer tlsBuffer;
    thread_local od::parser tlsParser;
    PaddedBuffer bigBuffer;
    std::unique_ptr<od::parser> bigParser;
    PaddedBuffer *buffer = &tlsBuffer;
    od::parser *parser = &tlsParser;
    if (body.size() > kReusableLimit) {
        buffer = &bigBuffer;
        bigParser = std::make_unique<od::parser>();
        parser = bigParser.get();
    }
    const char *data = buffer->fill(body);

    od::document doc;
    bool ok = false;
    if (auto e = parser->iterate(data, size_t(body.size()), buffer->capacity).get(doc))
        ok = fatal(e, "document");
    else
        ok = parseRequest(doc);
    if (!ok) {
        b.failRequest(m_error);
        return;
    }
    b.finishRequest();
}

bool JsonDecoder::parseRequest(od::document &doc)
{
    od::object root;
    if (auto e = doc.get_object().get(root)) {
        if (e == simdjson::INCORRECT_TYPE)
            return bodyError(QStringLiteral("OTLP/JSON body is not a JSON object"));
        return fatal(e, "document");
    }
    BREAKER_FOR_FIELDS(root, "request", {
        if (key != "resourceSpans")
            continue;
        error_code ne;
        if (isNull(value, ne))
            continue;
        if (ne)
            return fatal(ne, "resourceSpans");
        od::array list;
        if (auto e = value.get_array().get(list)) {
            if (e == simdjson::INCORRECT_TYPE)
                return bodyError(QStringLiteral("resourceSpans is not an array"));
            return fatal(e, "resourceSpans");
        }
        BREAKER_FOR_ITEMS(list, "resourceSpans", {
            if (!parseResourceSpans(item))
                return false;
        })
    })
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
        return bodyError(QStringLiteral("malformed OTLP/JSON body: content after the object"));
    return true;
}

bool JsonDecoder::parseResourceSpans(od::value v)
{
    od::object obj;
    if (auto e = v.get_object().get(obj)) {
        if (e == simdjson::INCORRECT_TYPE)
            return bodyError(QStringLiteral("resourceSpans[] holds a value that is not an object"));
        return fatal(e, "resourceSpans[]");
    }
    b.beginResourceSpans();
    BREAKER_FOR_FIELDS(obj, "resourceSpans[]", {
        if (key == "resource") {
            if (!parseResource(value))
                return false;
        } else if (key == "scopeSpans") {
            error_code ne;
            if (isNull(value, ne))
                continue;
            if (ne)
                return fatal(ne, "scopeSpans");
            od::array list;
            if (auto e = value.get_array().get(list)) {
                if (e == simdjson::INCORRECT_TYPE)
                    return bodyError(QStringLiteral("scopeSpans is not an array"));
                return fatal(e, "scopeSpans");
            }
            BREAKER_FOR_ITEMS(list, "scopeSpans", {
                if (!parseScopeSpans(item))
                    return false;
            })
        }
    })
    b.endResourceSpans();
    return true;
}

bool JsonDecoder::parseResource(od::value v)
{
    error_code ne;
    if (isNull(v, ne))
        return true;
    if (ne)
        return fatal(ne, "resource");
    od::object obj;
    if (auto e = v.get_object().get(obj))
        return defect(v, e, Where::Resource, "resource is not an object");
    BREAKER_FOR_FIELDS(obj, "resource", {
        if (key == "attributes" && !parseAttributes(value, Where::Resource))
            return false;
    })
    return true;
}

bool JsonDecoder::parseScopeSpans(od::value v)
{
    od::object obj;
    if (auto e = v.get_object().get(obj)) {
        if (e == simdjson::INCORRECT_TYPE)
            return bodyError(QStringLiteral("scopeSpans[] holds a value that is not an object"));
        return fatal(e, "scopeSpans[]");
    }
    // scope (name, version) is not used by Breaker; the iterator skips it.
    BREAKER_FOR_FIELDS(obj, "scopeSpans[]", {
        if (key != "spans")
            continue;
        error_code ne;
        if (isNull(value, ne))
            continue;
        if (ne)
            return fatal(ne, "spans");
        od::array list;
        if (auto e = value.get_array().get(list)) {
            if (e == simdjson::INCORRECT_TYPE)
                return bodyError(QStringLiteral("spans is not an array"));
            return fatal(e, "spans");
        }
        BREAKER_FOR_ITEMS(list, "spans", {
            if (!parseSpan(item))
                return false;
        })
    })
    return true;
}

bool JsonDecoder::parseSpan(od::value v)
{
    b.beginSpan();
    od::object obj;
    if (auto e = v.get_object().get(obj)) {
        if (!defect(v, e, Where::Span, "span is not an object"))
            return false;
        b.finishSpan();
        return true;
    }
    Span &s = b.span();
    BREAKER_FOR_FIELDS(obj, "span", {
        error_code ne;
        if (isNull(value, ne))
            continue;
        if (ne)
            return fatal(ne, "span");
        if (key == "traceId") {
            if (!readId(value, s.traceId, "traceId", false))
                return false;
        } else if (key == "spanId") {
            if (!readId(value, s.spanId, "spanId", false))
                return false;
        } else if (key == "parentSpanId") {
            if (!readId(value, s.parentSpanId, "parentSpanId", true))
                return false;
        } else if (key == "name") {
            std::string_view name;
            if (auto e = value.get_string().get(name)) {
                if (!defect(value, e, Where::Span, "name is not a string"))
                    return false;
            } else if (!b.spanRejected()) {
                s.name = bv(name).toByteArray();
            }
        } else if (key == "kind") {
            int64_t kind = 0;
            if (auto e = value.get_int64().get(kind)) {
                if (!defect(value, e, Where::Span, "kind is not an integer"))
                    return false;
            } else {
                s.kind = kind >= 0 && kind <= 5 ? int(kind) : 0;
            }
        } else if (key == "startTimeUnixNano" || key == "endTimeUnixNano") {
            const bool start = key.front() == 's';
            uint64_t t = 0;
            if (auto e = readUInt64(value, t)) {
                if (!defect(value,
                            e,
                            Where::Span,
                            start ? "startTimeUnixNano is not a uint64"
                                  : "endTimeUnixNano is not a uint64"))
                    return false;
            } else if (t > uint64_t(std::numeric_limits<qint64>::max())) {
                b.rejectSpan(start ? "startTimeUnixNano is out of range"
                                   : "endTimeUnixNano is out of range");
            } else {
                (start ? s.startNs : s.endNs) = qint64(t);
            }
        } else if (key == "attributes") {
            if (!parseAttributes(value, Where::Span))
                return false;
        } else if (key == "events") {
            od::array list;
            if (auto e = value.get_array().get(list)) {
                if (!defect(value, e, Where::Span, "events is not an array"))
                    return false;
                continue;
            }
            BREAKER_FOR_ITEMS(list, "events", {
                if (!parseEvent(item))
                    return false;
            })
        } else if (key == "status") {
            if (!parseStatus(value))
                return false;
        } else if (key == "flags") {
            uint64_t flags = 0;
            if (auto e = readUInt64(value, flags)) {
                if (!defect(value, e, Where::Span, "flags is not a uint32"))
                    return false;
            } else if (flags > 0xffffffffu) {
                b.rejectSpan("flags is not a uint32");
            }
        }
        // Unknown fields, traceState, links and the dropped counts are skipped.
    })
    b.finishSpan();
    return true;
}

bool JsonDecoder::parseStatus(od::value v)
{
    od::object obj;
    if (auto e = v.get_object().get(obj))
        return defect(v, e, Where::Span, "status is not an object");
    Span &s = b.span();
    BREAKER_FOR_FIELDS(obj, "status", {
        error_code ne;
        if (isNull(value, ne))
            continue;
        if (ne)
            return fatal(ne, "status");
        if (key == "code") {
            int64_t code = 0;
            if (auto e = value.get_int64().get(code)) {
                if (!defect(value, e, Where::Span, "status.code is not an integer"))
                    return false;
            } else {
                s.statusCode = code >= 0 && code <= 2 ? int(code) : 0;
            }
        } else if (key == "message") {
            std::string_view msg;
            if (auto e = value.get_string().get(msg)) {
                if (!defect(value, e, Where::Span, "status.message is not a string"))
                    return false;
            } else if (!b.spanRejected()) {
                s.statusMessage = bv(msg).toByteArray();
            }
        }
    })
    return true;
}

bool JsonDecoder::parseEvent(od::value v)
{
    od::object obj;
    if (auto e = v.get_object().get(obj))
        return defect(v, e, Where::Span, "event is not an object");
    b.beginEvent();
    std::string_view name;
    qint64 timeNs = 0;
    BREAKER_FOR_FIELDS(obj, "event", {
        error_code ne;
        if (isNull(value, ne))
            continue;
        if (ne)
            return fatal(ne, "event");
        if (key == "name") {
            if (auto e = value.get_string().get(name)) {
                if (!defect(value, e, Where::Span, "event name is not a string"))
                    return false;
            }
        } else if (key == "timeUnixNano") {
            uint64_t t = 0;
            if (auto e = readUInt64(value, t)) {
                if (!defect(value, e, Where::Span, "event timeUnixNano is not a uint64"))
                    return false;
            } else if (t > uint64_t(std::numeric_limits<qint64>::max())) {
                b.rejectSpan("event timeUnixNano is out of range");
            } else {
                timeNs = qint64(t);
            }
        } else if (key == "attributes") {
            if (!parseAttributes(value, Where::Event))
                return false;
        }
    })
    b.endEvent(bv(name), timeNs);
    return true;
}

bool JsonDecoder::parseAttributes(od::value v, Where where)
{
    error_code ne;
    if (isNull(v, ne))
        return true;
    if (ne)
        return fatal(ne, "attributes");
    od::array list;
    if (auto e = v.get_array().get(list))
        return defect(v, e, where, "attributes is not an array");
    BREAKER_FOR_ITEMS(list, "attributes", {
        if (!parseKeyValue(item, where))
            return false;
    })
    return true;
}

bool JsonDecoder::parseKeyValue(od::value v, Where where)
{
    od::object obj;
    if (auto e = v.get_object().get(obj))
        return defect(v, e, where, "attribute is not an object");
    // "key" normally comes first; find_field_unordered also copes with "value" first.
    std::string_view key;
    {
        od::value k;
        error_code e = obj.find_field_unordered("key").get(k);
        if (e == simdjson::NO_SUCH_FIELD) {
            key = {};
        } else if (e) {
            return fatal(e, "attribute");
        } else if (auto e2 = k.get_string().get(key)) {
            return defect(k, e2, where, "attribute key is not a string");
        }
    }
    switch (where) {
    case Where::Span:
        b.beginSpanAttribute(bv(key));
        break;
    case Where::Resource:
        b.beginResourceAttribute(bv(key));
        break;
    case Where::Event:
        b.beginEventAttribute(bv(key));
        break;
    }
    od::value val;
    error_code e = obj.find_field_unordered("value").get(val);
    bool ok = true;
    if (e == simdjson::NO_SUCH_FIELD)
        b.emptyValue();
    else if (e)
        ok = fatal(e, "attribute value");
    else
        ok = parseAnyValue(val, 0);
    b.endAttribute();
    return ok;
}

bool JsonDecoder::parseAnyValue(od::value v, int depth)
{
    error_code ne;
    if (isNull(v, ne)) {
        b.emptyValue();
        return true;
    }
    if (ne)
        return fatal(ne, "AnyValue");
    od::object obj;
    if (auto e = v.get_object().get(obj))
        return valueDefect(v, e, "attribute value is not an AnyValue object");
    bool done = false;
    BREAKER_FOR_FIELDS(obj, "AnyValue", {
        if (done)
            continue; // a oneof: the first value field counts
        if (key == "stringValue") {
            std::string_view s;
            if (auto e = value.get_string().get(s)) {
                if (!valueDefect(value, e, "stringValue is not a string"))
                    return false;
            } else {
                b.stringValue(bv(s));
            }
            done = true;
        } else if (key == "boolValue") {
            bool x = false;
            if (auto e = value.get_bool().get(x)) {
                if (!valueDefect(value, e, "boolValue is not a boolean"))
                    return false;
            } else {
                b.boolValue(x);
            }
            done = true;
        } else if (key == "intValue") {
            int64_t x = 0;
            if (auto e = readInt64(value, x)) {
                if (!valueDefect(value, e, "intValue is not an int64"))
                    return false;
            } else {
                b.intValue(x);
            }
            done = true;
        } else if (key == "doubleValue") {
            double x = 0;
            if (auto e = readDouble(value, x)) {
                if (!valueDefect(value, e, "doubleValue is not a number"))
                    return false;
            } else {
                b.doubleValue(x);
            }
            done = true;
        } else if (key == "bytesValue") {
            std::string_view s;
            if (auto e = value.get_string().get(s)) {
                if (!valueDefect(value, e, "bytesValue is not a string"))
                    return false;
            } else if (!isBase64(s)) {
                b.rejectValue("bytesValue is not base64");
            } else {
                b.base64Value(bv(s));
            }
            done = true;
        } else if (key == "arrayValue") {
            if (!parseArrayValue(value, depth))
                return false;
            done = true;
        } else if (key == "kvlistValue") {
            if (!parseKvListValue(value, depth))
                return false;
            done = true;
        }
    })
    if (!done)
        b.emptyValue();
    return true;
}

bool JsonDecoder::parseArrayValue(od::value v, int depth)
{
    if (depth >= SpanBuilder::MaxValueDepth) {
        b.rejectValue("attribute value nested too deeply");
        return true;
    }
    od::object obj;
    if (auto e = v.get_object().get(obj))
        return valueDefect(v, e, "arrayValue is not an object");
    b.beginArray();
    BREAKER_FOR_FIELDS(obj, "arrayValue", {
        if (key != "values")
            continue;
        error_code ne;
        if (isNull(value, ne))
            continue;
        if (ne)
            return fatal(ne, "arrayValue.values");
        od::array list;
        if (auto e = value.get_array().get(list)) {
            if (!valueDefect(value, e, "arrayValue.values is not an array"))
                return false;
            continue;
        }
        BREAKER_FOR_ITEMS(list, "arrayValue.values", {
            if (!parseAnyValue(item, depth + 1))
                return false;
        })
    })
    b.endArray();
    return true;
}

bool JsonDecoder::parseKvListValue(od::value v, int depth)
{
    if (depth >= SpanBuilder::MaxValueDepth) {
        b.rejectValue("attribute value nested too deeply");
        return true;
    }
    od::object obj;
    if (auto e = v.get_object().get(obj))
        return valueDefect(v, e, "kvlistValue is not an object");
    b.beginKvList();
    BREAKER_FOR_FIELDS(obj, "kvlistValue", {
        if (key != "values")
            continue;
        error_code ne;
        if (isNull(value, ne))
            continue;
        if (ne)
            return fatal(ne, "kvlistValue.values");
        od::array list;
        if (auto e = value.get_array().get(list)) {
            if (!valueDefect(value, e, "kvlistValue.values is not an array"))
                return false;
            continue;
        }
        BREAKER_FOR_ITEMS(list, "kvlistValue.values", {
            od::object kv;
            if (auto e = item.get_object().get(kv)) {
                if (!valueDefect(item, e, "kvlistValue entry is not an object"))
                    return false;
                continue;
            }
            std::string_view k;
            od::value kval;
            error_code ke = kv.find_field_unordered("key").get(kval);
            if (ke && ke != simdjson::NO_SUCH_FIELD)
                return fatal(ke, "kvlistValue key");
            if (!ke) {
                if (auto e = kval.get_string().get(k)) {
                    if (!valueDefect(kval, e, "kvlistValue key is not a string"))
                        return false;
                    continue;
                }
            }
            b.kvListKey(bv(k));
            od::value val;
            error_code ve = kv.find_field_unordered("value").get(val);
            if (ve == simdjson::NO_SUCH_FIELD) {
                b.emptyValue();
            } else if (ve) {
                return fatal(ve, "kvlistValue value");
            } else if (!parseAnyValue(val, depth + 1)) {
                return false;
            }
        })
    })
    b.endKvList();
    return true;
}

#undef BREAKER_FOR_FIELDS
#undef BREAKER_FOR_ITEMS

} // namespace

DecodeResult decodeJson(QByteArrayView body)
{
    DecodeResult result;
    SpanBuilder builder(result);
    JsonDecoder(builder).run(body);
    return result;
}

} // namespace Breaker::Otlp
