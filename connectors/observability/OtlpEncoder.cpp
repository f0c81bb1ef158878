// OTLP trace encoders: requests as the OpenTelemetry JS exporter writes them (for the sandbox,
// the benches and the tests) and ExportTraceServiceResponse bodies (for the receiver).
#include "connectors/observability/OtlpCodec.h"
#include "connectors/observability/SpanBuilder.h"

#include <bit>
#include <cstring>
#include <type_traits>

namespace Breaker::Otlp {

namespace {

// --- JSON -------------------------------------------------------------------------------

void appendJsonAnyValue(QByteArray &out, const OutAttribute &a)
{
    out.append('{');
    std::visit(
        [&out](const auto &v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, QByteArray>) {
                out.append("\"stringValue\":");
                appendJsonString(out, v);
            } else if constexpr (std::is_same_v<T, qint64>) {
                out.append("\"intValue\":"); // a number, as the JS exporter sends it
                appendInt(out, v);
            } else if constexpr (std::is_same_v<T, double>) {
                out.append("\"doubleValue\":");
                appendJsonDouble(out, v);
            } else if constexpr (std::is_same_v<T, bool>) {
                out.append(v ? "\"boolValue\":true" : "\"boolValue\":false");
            } else {
                out.append("\"arrayValue\":{\"values\":[");
                for (qsizetype i = 0; i < v.size(); ++i) {
                    if (i > 0)
                        out.append(',');
                    out.append("{\"stringValue\":");
                    appendJsonString(out, v.at(i));
                    out.append('}');
                }
                out.append("]}");
            }
        },
        a.value);
    out.append('}');
}

void appendJsonAttributes(QByteArray &out, const std::vector<OutAttribute> &attributes)
{
    out.append('[');
    bool first = true;
    for (const OutAttribute &a : attributes) {
        if (!first)
            out.append(',');
        first = false;
        out.append("{\"key\":");
        appendJsonString(out, a.key);
        out.append(",\"value\":");
        appendJsonAnyValue(out, a);
        out.append('}');
    }
    out.append(']');
}

void appendQuotedInt(QByteArray &out, qint64 v)
{
    out.append('"');
    appendInt(out, v);
    out.append('"');
}

void appendJsonSpan(QByteArray &out, const OutSpan &s)
{
    out.append("{\"traceId\":\"");
    out.append(toHex(s.traceId));
    out.append("\",\"spanId\":\"");
    out.append(toHex(s.spanId));
    out.append('"');
    if (s.hasParent) {
        out.append(",\"parentSpanId\":\"");
        out.append(toHex(s.parentSpanId));
        out.append('"');
    }
    out.append(",\"name\":");
    appendJsonString(out, s.name);
    out.append(",\"kind\":");
    appendInt(out, s.kind);
    out.append(",\"startTimeUnixNano\":");
    appendQuotedInt(out, s.startNs);
    out.append(",\"endTimeUnixNano\":");
    appendQuotedInt(out, s.endNs);
    out.append(",\"attributes\":");
    appendJsonAttributes(out, s.attributes);
    out.append(",\"droppedAttributesCount\":0,\"events\":[");
    bool first = true;
    for (const OutEvent &e : s.events) {
        if (!first)
            out.append(',');
        first = false;
        out.append("{\"attributes\":");
        appendJsonAttributes(out, e.attributes);
        out.append(",\"name\":");
        appendJsonString(out, e.name);
        out.append(",\"timeUnixNano\":");
        appendQuotedInt(out, e.timeNs);
        out.append(",\"droppedAttributesCount\":0}");
    }
    out.append("],\"droppedEventsCount\":0,\"status\":{\"code\":");
    appendInt(out, s.statusCode);
    if (!s.statusMessage.isEmpty()) {
        out.append(",\"message\":");
        appendJsonString(out, s.statusMessage);
    }
    out.append("},\"links\":[],\"droppedLinksCount\":0,\"flags\":257}");
}

// --- Protobuf ---------------------------------------------------------------------------

constexpr size_t varintSize(uint64_t v)
{
    return v < 0x80 ? 1 : 1 + varintSize(v >> 7);
}
constexpr size_t tagSize(uint32_t field)
{
    return varintSize(uint64_t(field) << 3);
}
constexpr size_t lenFieldSize(uint32_t field, size_t len)
{
    return tagSize(field) + varintSize(len) + len;
}

size_t anyValueSize(const OutAttribute &a)
{
    return std::visit(
        [](const auto &v) -> size_t {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, QByteArray>) {
                return lenFieldSize(1, size_t(v.size()));
            } else if constexpr (std::is_same_v<T, qint64>) {
                return 1 + varintSize(uint64_t(v));
            } else if constexpr (std::is_same_v<T, double>) {
                return 1 + 8;
            } else if constexpr (std::is_same_v<T, bool>) {
                return 1 + 1;
            } else {
                size_t array = 0;
                for (const QByteArray &s : v)
                    array += lenFieldSize(1, lenFieldSize(1, size_t(s.size())));
                return lenFieldSize(5, array);
            }
        },
        a.value);
}

size_t keyValueSize(const OutAttribute &a)
{
    return lenFieldSize(1, size_t(a.key.size())) + lenFieldSize(2, anyValueSize(a));
}

size_t attributesSize(uint32_t field, const std::vector<OutAttribute> &attributes)
{
    size_t n = 0;
    for (const OutAttribute &a : attributes)
        n += lenFieldSize(field, keyValueSize(a));
    return n;
}

size_t eventSize(const OutEvent &e)
{
    return 1 + 8 + lenFieldSize(2, size_t(e.name.size())) + attributesSize(3, e.attributes);
}

size_t statusSize(const OutSpan &s)
{
    size_t n = 1 + varintSize(uint64_t(qint64(s.statusCode)));
    if (!s.statusMessage.isEmpty())
        n += lenFieldSize(2, size_t(s.statusMessage.size()));
    return n;
}

size_t spanSize(const OutSpan &s)
{
    size_t n = lenFieldSize(1, 16) + lenFieldSize(2, 8);
    if (s.hasParent)
        n += lenFieldSize(4, 8);
    n += lenFieldSize(5, size_t(s.name.size()));
    n += 1 + varintSize(uint64_t(qint64(s.kind)));
    n += 2 * (1 + 8);
    n += attributesSize(9, s.attributes);
    for (const OutEvent &e : s.events)
        n += lenFieldSize(11, eventSize(e));
    n += lenFieldSize(15, statusSize(s));
    n += tagSize(16) + 4;
    return n;
}

size_t scopeSize(const OutResourceSpans &rs)
{
    size_t n = 0;
    if (!rs.scopeName.isEmpty())
        n += lenFieldSize(1, size_t(rs.scopeName.size()));
    if (!rs.scopeVersion.isEmpty())
        n += lenFieldSize(2, size_t(rs.scopeVersion.size()));
    return n;
}

size_t scopeSpansSize(const OutResourceSpans &rs)
{
    size_t n = lenFieldSize(1, scopeSize(rs));
    for (const OutSpan &s : rs.spans)
        n += lenFieldSize(2, spanSize(s));
    return n;
}

size_t resourceSpansSize(const OutResourceSpans &rs)
{
    return lenFieldSize(1, attributesSize(1, rs.resource)) + lenFieldSize(2, scopeSpansSize(rs));
}

class ProtoWriter
{
public:
    explicit ProtoWriter(char *p)
        : m_p(reinterpret_cast<uint8_t *>(p))
    {}

    void varint(uint64_t v)
    {
        while (v >= 0x80) {
            *m_p++ = uint8_t(v | 0x80);
            v >>= 7;
        }
        *m_p++ = uint8_t(v);
    }
    void tag(uint32_t field, uint32_t wireType) { varint(uint64_t(field) << 3 | wireType); }
    void lenHeader(uint32_t field, size_t len)
    {
        tag(field, 2);
        varint(len);
    }
    void bytes(uint32_t field, const void *data, size_t len)
    {
        lenHeader(field, len);
        if (len)
            std::memcpy(m_p, data, len);
        m_p += len;
    }
    void bytes(uint32_t field, const QByteArray &b)
    {
        bytes(field, b.constData(), size_t(b.size()));
    }
    void fixed64(uint32_t field, uint64_t v)
    {
        tag(field, 1);
        for (int i = 0; i < 8; ++i)
            *m_p++ = uint8_t(v >> (8 * i));
    }
    void fixed32(uint32_t field, uint32_t v)
    {
        tag(field, 5);
        for (int i = 0; i < 4; ++i)
            *m_p++ = uint8_t(v >> (8 * i));
    }
    const char *pos() const { return reinterpret_cast<const char *>(m_p); }

private:
    uint8_t *m_p;
};

void writeKeyValue(ProtoWriter &w, uint32_t field, const OutAttribute &a)
{
    w.lenHeader(field, keyValueSize(a));
    w.bytes(1, a.key);
    w.lenHeader(2, anyValueSize(a));
    std::visit(
        [&w](const auto &v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, QByteArray>) {
                w.bytes(1, v);
            } else if constexpr (std::is_same_v<T, qint64>) {
                w.tag(3, 0);
                w.varint(uint64_t(v));
            } else if constexpr (std::is_same_v<T, double>) {
                w.fixed64(4, std::bit_cast<uint64_t>(v));
            } else if constexpr (std::is_same_v<T, bool>) {
                w.tag(2, 0);
                w.varint(v ? 1 : 0);
            } else {
                size_t array = 0;
                for (const QByteArray &s : v)
                    array += lenFieldSize(1, lenFieldSize(1, size_t(s.size())));
                w.lenHeader(5, array);
                for (const QByteArray &s : v) {
                    w.lenHeader(1, lenFieldSize(1, size_t(s.size())));
                    w.bytes(1, s);
                }
            }
        },
        a.value);
}

void writeSpan(ProtoWriter &w, const OutSpan &s)
{
    w.lenHeader(2, spanSize(s));
    w.bytes(1, s.traceId.data(), 16);
    w.bytes(2, s.spanId.data(), 8);
    if (s.hasParent)
        w.bytes(4, s.parentSpanId.data(), 8);
    w.bytes(5, s.name);
    w.tag(6, 0);
    w.varint(uint64_t(qint64(s.kind)));
    w.fixed64(7, uint64_t(s.startNs));
    w.fixed64(8, uint64_t(s.endNs));
    for (const OutAttribute &a : s.attributes)
        writeKeyValue(w, 9, a);
    for (const OutEvent &e : s.events) {
        w.lenHeader(11, eventSize(e));
        w.fixed64(1, uint64_t(e.timeNs));
        w.bytes(2, e.name);
        for (const OutAttribute &a : e.attributes)
            writeKeyValue(w, 3, a);
    }
    w.lenHeader(15, statusSize(s));
    if (!s.statusMessage.isEmpty())
        w.bytes(2, s.statusMessage);
    w.tag(3, 0);
    w.varint(uint64_t(qint64(s.statusCode)));
    w.fixed32(16, 257); // sampled, parent is-remote known
}

} // namespace

QByteArray encodeJson(const std::vector<OutResourceSpans> &request)
{
    QByteArray out;
    out.reserve(1024);
    out.append("{\"resourceSpans\":[");
    bool firstRs = true;
    for (const OutResourceSpans &rs : request) {
        if (!firstRs)
            out.append(',');
        firstRs = false;
        out.append("{\"resource\":{\"attributes\":");
        appendJsonAttributes(out, rs.resource);
        out.append(",\"droppedAttributesCount\":0},\"scopeSpans\":[{\"scope\":{\"name\":");
        appendJsonString(out, rs.scopeName);
        if (!rs.scopeVersion.isEmpty()) {
            out.append(",\"version\":");
            appendJsonString(out, rs.scopeVersion);
        }
        out.append("},\"spans\":[");
        bool first = true;
        for (const OutSpan &s : rs.spans) {
            if (!first)
                out.append(',');
            first = false;
            appendJsonSpan(out, s);
        }
        out.append("]}]}");
    }
    out.append("]}");
    return out;
}

QByteArray encodeProtobuf(const std::vector<OutResourceSpans> &request)
{
    size_t total = 0;
    for (const OutResourceSpans &rs : request)
        total += lenFieldSize(1, resourceSpansSize(rs));
    QByteArray out(qsizetype(total), Qt::Uninitialized);
    ProtoWriter w(out.data());
    for (const OutResourceSpans &rs : request) {
        w.lenHeader(1, resourceSpansSize(rs));
        w.lenHeader(1, attributesSize(1, rs.resource));
        for (const OutAttribute &a : rs.resource)
            writeKeyValue(w, 1, a);
        w.lenHeader(2, scopeSpansSize(rs));
        w.lenHeader(1, scopeSize(rs));
        if (!rs.scopeName.isEmpty())
            w.bytes(1, rs.scopeName);
        if (!rs.scopeVersion.isEmpty())
            w.bytes(2, rs.scopeVersion);
        for (const OutSpan &s : rs.spans)
            writeSpan(w, s);
    }
    Q_ASSERT(w.pos() == out.constData() + out.size());
    return out;
}

QByteArray encodeJsonResponse(qint64 rejectedSpans, const QString &errorMessage)
{
    // Nothing rejected and nothing to say: full success. A message without rejections is a
    // warning, which the spec allows in partial_success too.
    if (rejectedSpans == 0 && errorMessage.isEmpty())
        return QByteArrayLiteral("{}");
    QByteArray out("{\"partialSuccess\":{");
    if (rejectedSpans != 0) {
        out.append("\"rejectedSpans\":"); // int64: a string in proto3 JSON
        appendQuotedInt(out, rejectedSpans);
        if (!errorMessage.isEmpty())
            out.append(',');
    }
    if (!errorMessage.isEmpty()) {
        out.append("\"errorMessage\":");
        appendJsonString(out, errorMessage.toUtf8());
    }
    out.append("}}");
    return out;
}

QByteArray encodeProtobufResponse(qint64 rejectedSpans, const QString &errorMessage)
{
    if (rejectedSpans == 0 && errorMessage.isEmpty())
        return {};
    const QByteArray message = errorMessage.toUtf8();
    size_t inner = 0;
    if (rejectedSpans != 0)
        inner += 1 + varintSize(uint64_t(rejectedSpans));
    if (!message.isEmpty())
        inner += lenFieldSize(2, size_t(message.size()));
    QByteArray out(qsizetype(lenFieldSize(1, inner)), Qt::Uninitialized);
    ProtoWriter w(out.data());
    w.lenHeader(1, inner);
    if (rejectedSpans != 0) {
        w.tag(1, 0);
        w.varint(uint64_t(rejectedSpans));
    }
    if (!message.isEmpty())
        w.bytes(2, message);
    return out;
}

} // namespace Breaker::Otlp
