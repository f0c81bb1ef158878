#include "models/EventBlock.h"

#include "models/StoreSchema.h"

#include <QtEndian>

#include <optional>

namespace Breaker::EventBlock {

namespace {

void putVarint(QByteArray &out, quint64 v)
{
    char buffer[10];
    int n = 0;
    while (v >= 0x80) {
        buffer[n++] = char((v & 0x7f) | 0x80);
        v >>= 7;
    }
    buffer[n++] = char(v);
    out.append(buffer, n);
}

quint64 zigzag(qint64 v)
{
    return (quint64(v) << 1) ^ quint64(v >> 63);
}

qint64 unzigzag(quint64 v)
{
    return qint64(v >> 1) ^ -qint64(v & 1);
}

void putText(QByteArray &out, QByteArrayView text)
{
    putVarint(out, quint64(text.size()));
    out.append(text);
}

void putId(QByteArray &out, QByteArrayView id)
{
    unsigned char bytes[16];
    if (const int n = StoreSchema::idToBytes(id, bytes); n > 0) {
        putVarint(out, quint64(n) << 1 | 1);
        out.append(reinterpret_cast<const char *>(bytes), n);
    } else {
        putVarint(out, quint64(id.size()) << 1);
        out.append(id);
    }
}

// Reads what the writer above wrote; every read checks the bounds.
class Reader
{
public:
    explicit Reader(QByteArrayView bytes)
        : m_p(reinterpret_cast<const unsigned char *>(bytes.data())), m_end(m_p + bytes.size())
    {
    }

    bool atEnd() const { return m_p == m_end; }
    bool failed() const { return m_failed; }

    quint64 varint()
    {
        quint64 v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_p == m_end)
                return fail();
            const unsigned char c = *m_p++;
            v |= quint64(c & 0x7f) << shift;
            if (!(c & 0x80)) {
                if (shift == 63 && c > 1)
                    return fail(); // more than 64 bits
                return v;
            }
        }
        return fail();
    }

    qint64 signedVarint() { return unzigzag(varint()); }

    QByteArray bytes(quint64 n)
    {
        if (m_failed || n > quint64(m_end - m_p)) {
            fail();
            return {};
        }
        QByteArray out(reinterpret_cast<const char *>(m_p), qsizetype(n));
        m_p += n;
        return out;
    }

    QByteArray text() { return bytes(varint()); }

    void skip(quint64 n)
    {
        if (m_failed || n > quint64(m_end - m_p)) {
            fail();
            return;
        }
        m_p += n;
    }

    void skipText() { skip(varint()); }

    QByteArray id()
    {
        const quint64 tag = varint();
        if (!(tag & 1))
            return bytes(tag >> 1);
        const quint64 n = tag >> 1;
        if (n != 8 && n != 16) {
            fail();
            return {};
        }
        return bytes(n).toHex();
    }

private:
    quint64 fail()
    {
        m_failed = true;
        m_p = m_end;
        return 0;
    }

    const unsigned char *m_p;
    const unsigned char *m_end;
    bool m_failed = false;
};

} // namespace

void append(QByteArray &body, const RunEvent &event, int ordinal)
{
    if (body.isEmpty())
        body.append(kFormat);
    putVarint(body, quint64(ordinal));
    putId(body, event.traceId);
    putId(body, event.spanId);
    putId(body, event.parentSpanId);
    putText(body, toWireName(event.kind));
    putText(body, event.name);
    putVarint(body, zigzag(event.startNs));
    putVarint(body, zigzag(qint64(quint64(event.endNs) - quint64(event.startNs))));
    putVarint(body, zigzag(event.statusCode));
    putText(body, event.attributesJson.isEmpty() ? QByteArrayView("{}") : QByteArrayView(event.attributesJson));
    putVarint(body, zigzag(event.inputTokens));
    putVarint(body, zigzag(event.outputTokens));
    putVarint(body, zigzag(event.costMicros));
}

namespace {

Error corrupt(const QByteArray &runId, qint64 blockId, const QString &what)
{
    return makeError(Error::Kind::Invalid, QStringLiteral("stored events of run %1 (block %2) are damaged: %3")
                                               .arg(QString::fromUtf8(runId))
                                               .arg(blockId)
                                               .arg(what));
}

// The header, and the block id's range (ids must fit in an event id).
std::optional<Error> checkHeader(QByteArrayView body, const QByteArray &runId, qint64 blockId)
{
    if (body.isEmpty())
        return corrupt(runId, blockId, QStringLiteral("the block is empty"));
    if (body.front() != kFormat)
        return corrupt(runId, blockId, QStringLiteral("unknown format %1").arg(int(uchar(body.front()))));
    if (blockId < 0 || blockId > kMaxBlockId)
        return corrupt(runId, blockId, QStringLiteral("the block id is out of range"));
    return std::nullopt;
}

// Ordinals increase within a block, so no two events share an id.
std::optional<Error> checkOrdinal(quint64 ordinal, qint64 previous, const QByteArray &runId, qint64 blockId)
{
    if (ordinal >= quint64(kMaxEvents))
        return corrupt(runId, blockId, QStringLiteral("event ordinal %1 is out of range").arg(ordinal));
    if (qint64(ordinal) <= previous)
        return corrupt(runId, blockId, QStringLiteral("event ordinal %1 does not follow %2").arg(ordinal).arg(previous));
    return std::nullopt;
}

} // namespace

Result<std::vector<RunEvent>> decode(QByteArrayView body, const QByteArray &runId, qint64 blockId)
{
    if (auto e = checkHeader(body, runId, blockId))
        return *e;
    Reader in(body.sliced(1));
    std::vector<RunEvent> events;
    qint64 previous = -1;
    while (!in.atEnd()) {
        RunEvent e;
        e.runId = runId;
        const quint64 ordinal = in.varint();
        if (in.failed())
            return corrupt(runId, blockId, QStringLiteral("event %1 is cut short").arg(events.size()));
        if (auto error = checkOrdinal(ordinal, previous, runId, blockId))
            return *error;
        previous = qint64(ordinal);
        e.id = eventId(blockId, int(ordinal));
        e.traceId = in.id();
        e.spanId = in.id();
        e.parentSpanId = in.id();
        e.kind = eventKindFromWireName(in.text()).value_or(EventKind::Span);
        e.name = in.text();
        e.startNs = in.signedVarint();
        e.endNs = qint64(quint64(e.startNs) + quint64(in.signedVarint()));
        const qint64 status = in.signedVarint();
        e.statusCode = int(status);
        e.attributesJson = in.text();
        e.inputTokens = in.signedVarint();
        e.outputTokens = in.signedVarint();
        e.costMicros = in.signedVarint();
        if (in.failed())
            return corrupt(runId, blockId, QStringLiteral("event %1 is cut short").arg(events.size()));
        if (status < INT_MIN || status > INT_MAX)
            return corrupt(runId, blockId, QStringLiteral("event %1 has status %2").arg(events.size()).arg(status));
        events.push_back(std::move(e));
    }
    return events;
}

Result<std::vector<QByteArray>> dedupeKeys(QByteArrayView body, const QByteArray &runId, qint64 blockId)
{
    if (auto e = checkHeader(body, runId, blockId))
        return *e;
    Reader in(body.sliced(1));
    std::vector<QByteArray> keys;
    RunEvent e; // only the fields of the key
    qint64 previous = -1;
    size_t index = 0;
    for (; !in.atEnd(); ++index) {
        const quint64 ordinal = in.varint();
        if (in.failed())
            break;
        if (auto error = checkOrdinal(ordinal, previous, runId, blockId))
            return *error;
        previous = qint64(ordinal);
        e.traceId = in.id();
        e.spanId = in.id();
        in.id();                   // parent span id
        in.skipText();             // kind
        in.skipText();             // name
        e.startNs = in.signedVarint();
        in.varint();               // duration
        in.varint();               // status
        in.skipText();             // attributes
        in.varint();
        in.varint();
        in.varint();
        if (in.failed())
            break;
        if (QByteArray key = dedupeKey(e); !key.isEmpty())
            keys.push_back(std::move(key));
    }
    if (in.failed())
        return corrupt(runId, blockId, QStringLiteral("event %1 is cut short").arg(index));
    return keys;
}

QByteArray dedupeKey(const RunEvent &event)
{
    if (event.traceId.isEmpty() || event.spanId.isEmpty())
        return {};
    // start time, the trace id's length, then both ids: two different pairs of ids never make
    // the same key.
    QByteArray key;
    key.reserve(12 + event.traceId.size() + event.spanId.size());
    char fixed[12];
    qToLittleEndian(event.startNs, fixed);
    qToLittleEndian(quint32(event.traceId.size()), fixed + 8);
    key.append(fixed, 12);
    key.append(event.traceId);
    key.append(event.spanId);
    return key;
}

} // namespace Breaker::EventBlock
