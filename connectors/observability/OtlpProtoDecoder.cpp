// OTLP/protobuf ExportTraceServiceRequest decoder, written by hand (no libprotobuf).
//
// Field numbers: opentelemetry/proto/{collector/trace,trace,common,resource}/v1/*.proto,
// summarised in PROTOCOLS.md 5.1. Unknown fields are skipped by wire type (0, 1, 2, 5).
// Groups (3, 4), invalid wire types, overlong varints and lengths past the end make the whole
// body malformed. A known span field of the wrong wire type, an id of the wrong size, invalid
// UTF-8 or end before start rejects only that span, as in the JSON decoder.
#include "connectors/observability/OtlpCodec.h"
#include "connectors/observability/SpanBuilder.h"

#include <simdjson.h>

#include <bit>
#include <cstring>
#include <limits>

namespace Breaker::Otlp {

namespace {

enum WireType : uint32_t {
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5
};

bool isUtf8(QByteArrayView s)
{
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    const qsizetype n = s.size();
    qsizetype i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull)
            return simdjson::validate_utf8(s.data(), size_t(n));
    }
    for (; i < n; ++i) {
        if (p[i] & 0x80)
            return simdjson::validate_utf8(s.data(), size_t(n));
    }
    return true;
}

// One protobuf field as read from the wire.
struct Field
{
    uint32_t number = 0;
    uint32_t wireType = 0;
    uint64_t scalar = 0;  // varint, fixed64 or fixed32 payload
    QByteArrayView bytes; // length-delimited payload
};

class ProtoDecoder
{
public:
    ProtoDecoder(SpanBuilder &builder, QByteArrayView body)
        : b(builder)
        , m_base(reinterpret_cast<const uint8_t *>(body.data()))
    {}

    bool parseRequest(QByteArrayView body);
    const QString &error() const { return m_error; }

private:
    // Reads fields of one message; next() returns false at the end or on malformation
    // (then ok() is false).
    class Reader
    {
    public:
        Reader(ProtoDecoder &d, QByteArrayView msg)
            : m_d(d)
            , m_p(reinterpret_cast<const uint8_t *>(msg.data()))
            , m_end(m_p + msg.size())
        {}
        bool next(Field &f);
        bool ok() const { return m_ok; }

    private:
        bool varint(uint64_t &v)
        {
            if (m_p < m_end && *m_p < 0x80) { // most tags and lengths fit in one byte
                v = *m_p++;
                return true;
            }
            return varintSlow(v);
        }
        bool varintSlow(uint64_t &v);
        bool fail(const char *why);

        ProtoDecoder &m_d;
        const uint8_t *m_p;
        const uint8_t *m_end;
        bool m_ok = true;
    };

    enum class Where { Span, Resource, Event };

    bool malformed(const uint8_t *at, const char *why);
    void reject(Where where, const QByteArray &reason);
    void wrongWireType(Where where, const char *message, const Field &f);

    bool parseResourceSpans(QByteArrayView msg);
    bool parseResource(QByteArrayView msg);
    bool parseScopeSpans(QByteArrayView msg);
    bool parseSpan(QByteArrayView msg);
    bool parseStatus(QByteArrayView msg);
    bool parseEvent(QByteArrayView msg);
    bool parseKeyValue(QByteArrayView msg, Where where);
    bool parseAnyValue(QByteArrayView msg, int depth);
    bool parseKvListEntry(QByteArrayView msg, int depth);

    SpanBuilder &b;
    const uint8_t *m_base;
    QString m_error;
};

bool ProtoDecoder::malformed(const uint8_t *at, const char *why)
{
    if (m_error.isEmpty()) {
        m_error = QStringLiteral("malformed OTLP/protobuf body at byte %1: %2")
                      .arg(qint64(at - m_base))
                      .arg(QLatin1String(why));
    }
    return false;
}

bool ProtoDecoder::Reader::fail(const char *why)
{
    m_ok = false;
    return m_d.malformed(m_p, why);
}

bool ProtoDecoder::Reader::varintSlow(uint64_t &v)
{
    v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (m_p >= m_end)
            return fail("truncated varint");
        const uint8_t byte = *m_p++;
        v |= uint64_t(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return true;
        if (shift == 63)
            break;
    }
    return fail("varint longer than 10 bytes");
}

bool ProtoDecoder::Reader::next(Field &f)
{
    if (!m_ok || m_p >= m_end)
        return false;
    uint64_t tag = 0;
    if (!varint(tag))
        return false;
    if (tag > 0xffffffffu || (tag >> 3) == 0)
        return fail("invalid field number");
    f.number = uint32_t(tag >> 3);
    f.wireType = uint32_t(tag & 7);
    f.scalar = 0;
    f.bytes = {};
    switch (f.wireType) {
    case Varint:
        return varint(f.scalar);
    case Fixed64:
        if (m_end - m_p < 8)
            return fail("truncated fixed64");
        for (int i = 7; i >= 0; --i)
            f.scalar = f.scalar << 8 | m_p[i]; // little endian on the wire
        m_p += 8;
        return true;
    case Fixed32: {
        if (m_end - m_p < 4)
            return fail("truncated fixed32");
        f.scalar = uint64_t(m_p[0]) | uint64_t(m_p[1]) << 8 | uint64_t(m_p[2]) << 16
                   | uint64_t(m_p[3]) << 24;
        m_p += 4;
        return true;
    }
    case Len: {
        uint64_t len = 0;
        if (!varint(len))
            return false;
        if (len > uint64_t(m_end - m_p))
            return fail("length past the end of the message");
        f.bytes = QByteArrayView(reinterpret_cast<const char *>(m_p), qsizetype(len));
        m_p += len;
        return true;
    }
    case StartGroup:
    case EndGroup:
        return fail("groups are not supported");
    default:
        return fail("invalid wire type");
    }
}

void ProtoDecoder::reject(Where where, const QByteArray &reason)
{
    if (where == Where::Resource)
        b.rejectResource(reason);
    else
        b.rejectSpan(reason);
}

void ProtoDecoder::wrongWireType(Where where, const char *message, const Field &f)
{
    reject(where,
           QByteArray(message) + " field " + QByteArray::number(f.number) + " has wire type "
               + QByteArray::number(f.wireType));
}

bool ProtoDecoder::parseRequest(QByteArrayView body)
{
    Reader r(*this, body);
    Field f;
    while (r.next(f)) {
        if (f.number != 1)
            continue;
        if (f.wireType != Len)
            return malformed(m_base, "resource_spans is not length-delimited");
        if (!parseResourceSpans(f.bytes))
            return false;
    }
    return r.ok();
}

bool ProtoDecoder::parseResourceSpans(QByteArrayView msg)
{
    b.beginResourceSpans();
    Reader r(*this, msg);
    Field f;
    while (r.next(f)) {
        if (f.number == 1) {
            if (f.wireType != Len)
                wrongWireType(Where::Resource, "ResourceSpans", f);
            else if (!parseResource(f.bytes))
                return false;
        } else if (f.number == 2) {
            if (f.wireType != Len)
                return malformed(reinterpret_cast<const uint8_t *>(msg.data()),
                                 "scope_spans is not length-delimited");
            if (!parseScopeSpans(f.bytes))
                return false;
        }
    }
    if (!r.ok())
        return false;
    b.endResourceSpans();
    return true;
}

bool ProtoDecoder::parseResource(QByteArrayView msg)
{
    Reader r(*this, msg);
    Field f;
    while (r.next(f)) {
        if (f.number != 1)
            continue;
        if (f.wireType != Len)
            wrongWireType(Where::Resource, "Resource", f);
        else if (!parseKeyValue(f.bytes, Where::Resource))
            return false;
    }
    return r.ok();
}

bool ProtoDecoder::parseScopeSpans(QByteArrayView msg)
{
    Reader r(*this, msg);
    Field f;
    while (r.next(f)) {
        if (f.number != 2)
            continue; // scope and schema_url are not used
        if (f.wireType != Len)
            return malformed(reinterpret_cast<const uint8_t *>(msg.data()),
                             "spans is not length-delimited");
        if (!parseSpan(f.bytes))
            return false;
    }
    return r.ok();
}

bool ProtoDecoder::parseSpan(QByteArrayView msg)
{
    // Expected wire type of Span fields 1..16 (trace.proto); 0xff: field number unused.
    static constexpr uint8_t expected[17] = {0xff,
                                             Len,
                                             Len,
                                             Len,
                                             Len,
                                             Len,
                                             Varint,
                                             Fixed64,
                                             Fixed64,
                                             Len,
                                             Varint,
                                             Len,
                                             Varint,
                                             Len,
                                             Varint,
                                             Len,
                                             Fixed32};
    b.beginSpan();
    Span &s = b.span();
    Reader r(*this, msg);
    Field f;
    while (r.next(f)) {
        if (f.number > 16 || expected[f.number] == 0xff)
            continue;
        if (f.wireType != expected[f.number]) {
            wrongWireType(Where::Span, "Span", f);
            continue;
        }
        switch (f.number) {
        case 1:
        case 2:
        case 4: {
            const qsizetype want = f.number == 1 ? 16 : 8;
            const char *name = f.number == 1   ? "trace_id"
                               : f.number == 2 ? "span_id"
                                               : "parent_span_id";
            if (f.bytes.isEmpty()) {
                // Absent: finishSpan() rejects a zero trace or span id; no parent is a root.
                if (f.number == 4)
                    s.parentSpanId = {};
                break;
            }
            if (f.bytes.size() != want) {
                b.rejectSpan(QByteArray(name) + " must be " + QByteArray::number(want)
                             + " bytes, got " + QByteArray::number(f.bytes.size()));
                break;
            }
            uint8_t *dst = f.number == 1   ? s.traceId.data()
                           : f.number == 2 ? s.spanId.data()
                                           : s.parentSpanId.data();
            std::memcpy(dst, f.bytes.data(), size_t(want));
            break;
        }
        case 5:
            if (!isUtf8(f.bytes))
                b.rejectSpan("name is not valid UTF-8");
            else if (!b.spanRejected())
                s.name = f.bytes.toByteArray();
            break;
        case 6: {
            const auto kind = int64_t(f.scalar);
            s.kind = kind >= 0 && kind <= 5 ? int(kind) : 0;
            break;
        }
        case 7:
        case 8:
            if (f.scalar > uint64_t(std::numeric_limits<qint64>::max()))
                b.rejectSpan(f.number == 7 ? "start_time_unix_nano is out of range"
                                           : "end_time_unix_nano is out of range");
            else
                (f.number == 7 ? s.startNs : s.endNs) = qint64(f.scalar);
            break;
        case 9:
            if (!parseKeyValue(f.bytes, Where::Span))
                return false;
            break;
        case 11:
            if (!parseEvent(f.bytes))
                return false;
            break;
        case 15:
            if (!parseStatus(f.bytes))
                return false;
            break;
        default:
            break; // trace_state, dropped counts, links, flags: not used
        }
    }
    if (!r.ok())
        return false;
    b.finishSpan();
    return true;
}

bool ProtoDecoder::parseStatus(QByteArrayView msg)
{
    Span &s = b.span();
    Reader r(*this, msg);
    Field f;
    while (r.next(f)) {
        if (f.number == 2) {
            if (f.wireType != Len)
                wrongWireType(Where::Span, "Status", f);
            else if (!isUtf8(f.bytes))
                b.rejectSpan("status message is not valid UTF-8");
            else if (!b.spanRejected())
                s.statusMessage = f.bytes.toByteArray();
        } else if (f.number == 3) {
            if (f.wireType != Varint) {
                wrongWireType(Where::Span, "Status", f);
            } else {
                const auto code = int64_t(f.scalar);
                s.statusCode = code >= 0 && code <= 2 ? int(code) : 0;
            }
        }
    }
    return r.ok();
}

bool ProtoDecoder::parseEvent(QByteArrayView msg)
{
    b.beginEvent();
    QByteArrayView name;
    qint64 timeNs = 0;
    Reader r(*this, msg);
    Field f;
    while (r.next(f)) {
        if (f.number == 1) {
            if (f.wireType != Fixed64)
                wrongWireType(Where::Event, "Event", f);
            else if (f.scalar > uint64_t(std::numeric_limits<qint64>::max()))
                b.rejectSpan("event time_unix_nano is out of range");
            else
                timeNs = qint64(f.scalar);
        } else if (f.number == 2) {
            if (f.wireType != Len)
                wrongWireType(Where::Event, "Event", f);
            else if (!isUtf8(f.bytes))
                b.rejectSpan("event name is not valid UTF-8");
            else
                name = f.bytes;
        } else if (f.number == 3) {
            if (f.wireType != Len)
                wrongWireType(Where::Event, "Event", f);
            else if (!parseKeyValue(f.bytes, Where::Event))
                return false;
        }
    }
    if (!r.ok())
        return false;
    b.endEvent(name, timeNs);
    return true;
}

bool ProtoDecoder::parseKeyValue(QByteArrayView msg, Where where)
{
    QByteArrayView key;
    QByteArrayView value;
    bool hasValue = false;
    bool badWire = false;
    Reader r(*this, msg);
    Field f;
    while (r.next(f)) {
        if (f.number != 1 && f.number != 2)
            continue;
        if (f.wireType != Len) {
            badWire = true;
            continue;
        }
        if (f.number == 1) {
            key = f.bytes;
        } else {
            value = f.bytes;
            hasValue = true;
        }
    }
    if (!r.ok())
        return false;
    if (badWire) {
        reject(where, "KeyValue field has the wrong wire type");
        return true;
    }
    if (!isUtf8(key)) {
        reject(where, "attribute key is not valid UTF-8");
        return true;
    }
    switch (where) {
    case Where::Span:
        b.beginSpanAttribute(key);
        break;
    case Where::Resource:
        b.beginResourceAttribute(key);
        break;
    case Where::Event:
        b.beginEventAttribute(key);
        break;
    }
    const bool ok = hasValue ? parseAnyValue(value, 0) : (b.emptyValue(), true);
    b.endAttribute();
    return ok;
}

bool ProtoDecoder::parseAnyValue(QByteArrayView msg, int depth)
{
    // AnyValue is a oneof: the last value field on the wire wins, as in libprotobuf.
    static constexpr uint8_t expected[8] = {0xff, Len, Varint, Varint, Fixed64, Len, Len, Len};
    Field chosen;
    bool found = false;
    bool badWire = false;
    Reader r(*this, msg);
    Field f;
    while (r.next(f)) {
        if (f.number > 7)
            continue; // 8 string_value_strindex (profiles) and unknown fields
        if (f.wireType != expected[f.number]) {
            badWire = true;
            continue;
        }
        chosen = f;
        found = true;
    }
    if (!r.ok())
        return false;
    if (badWire) {
        b.rejectValue("AnyValue field has the wrong wire type");
        return true;
    }
    if (!found) {
        b.emptyValue();
        return true;
    }
    switch (chosen.number) {
    case 1:
        if (!isUtf8(chosen.bytes))
            b.rejectValue("string_value is not valid UTF-8");
        else
            b.stringValue(chosen.bytes);
        return true;
    case 2:
        b.boolValue(chosen.scalar != 0);
        return true;
    case 3:
        b.intValue(qint64(chosen.scalar)); // int64: two's complement in a 10-byte varint
        return true;
    case 4:
        b.doubleValue(std::bit_cast<double>(chosen.scalar));
        return true;
    case 7:
        b.bytesValue(chosen.bytes);
        return true;
    case 5:
    case 6: {
        if (depth >= SpanBuilder::MaxValueDepth) {
            b.rejectValue("attribute value nested too deeply");
            return true;
        }
        const bool array = chosen.number == 5;
        array ? b.beginArray() : b.beginKvList();
        Reader items(*this, chosen.bytes);
        Field item;
        while (items.next(item)) {
            if (item.number != 1)
                continue;
            if (item.wireType != Len) {
                b.rejectValue(array ? "ArrayValue.values has the wrong wire type"
                                    : "KeyValueList.values has the wrong wire type");
                continue;
            }
            if (!(array ? parseAnyValue(item.bytes, depth + 1)
                        : parseKvListEntry(item.bytes, depth + 1)))
                return false;
        }
        if (!items.ok())
            return false;
        array ? b.endArray() : b.endKvList();
        return true;
    }
    default:
        return true;
    }
}

bool ProtoDecoder::parseKvListEntry(QByteArrayView msg, int depth)
{
    QByteArrayView key;
    QByteArrayView value;
    bool hasValue = false;
    Reader r(*this, msg);
    Field f;
    while (r.next(f)) {
        if (f.number != 1 && f.number != 2)
            continue;
        if (f.wireType != Len) {
            b.rejectValue("KeyValue field has the wrong wire type");
            continue;
        }
        if (f.number == 1) {
            key = f.bytes;
        } else {
            value = f.bytes;
            hasValue = true;
        }
    }
    if (!r.ok())
        return false;
    if (!isUtf8(key)) {
        b.rejectValue("kvlist key is not valid UTF-8");
        return true;
    }
    b.kvListKey(key);
    if (!hasValue) {
        b.emptyValue();
        return true;
    }
    return parseAnyValue(value, depth);
}

} // namespace

DecodeResult decodeProtobuf(QByteArrayView body)
{
    DecodeResult result;
    SpanBuilder builder(result);
    ProtoDecoder decoder(builder, body);
    if (!decoder.parseRequest(body))
        builder.failRequest(decoder.error());
    else
        builder.finishRequest();
    return result;
}

} // namespace Breaker::Otlp
