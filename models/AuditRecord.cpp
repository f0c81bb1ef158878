#include "models/AuditRecord.h"

#include <QDateTime>
#include <QJsonArray>
#include <QLocale>
#include <QVariant>

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

namespace Breaker {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Writes a line into one buffer through a raw pointer: the append path formats every record,
// and QByteArray's per-character append (a capacity and detach check each time) was most of
// its cost. Each write makes room for its worst case first.
class LineWriter
{
public:
    explicit LineWriter(qsizetype capacity) : m_buf(capacity, Qt::Uninitialized), m_p(m_buf.data()) {}

    // Room for n more bytes at m_p.
    void reserve(qsizetype n)
    {
        const qsizetype used = m_p - m_buf.constData();
        if (used + n <= m_buf.size())
            return;
        m_buf.resize(std::max(m_buf.size() * 2, used + n));
        m_p = m_buf.data() + used;
    }
    void put(char c)
    {
        reserve(1);
        *m_p++ = c;
    }
    void put(QByteArrayView bytes)
    {
        reserve(bytes.size());
        std::memcpy(m_p, bytes.data(), size_t(bytes.size()));
        m_p += bytes.size();
    }
    template <std::size_t N>
    void put(const char (&literal)[N])
    {
        put(QByteArrayView(literal, N - 1));
    }
    void putNumber(qint64 value)
    {
        char digits[24];
        char *end = digits + sizeof digits;
        char *d = end;
        // Unsigned, so that the most negative value has a magnitude too.
        quint64 magnitude = value < 0 ? 0 - quint64(value) : quint64(value);
        do {
            *--d = char('0' + magnitude % 10);
            magnitude /= 10;
        } while (magnitude);
        if (value < 0)
            *--d = '-';
        put(QByteArrayView(d, end - d));
    }

    // Escapes UTF-8 bytes per RFC 8259 (", \ and control characters; everything else,
    // including non-ASCII UTF-8, as is), as Qt's JSON writer does.
    void putEscapedUtf8(QByteArrayView utf8)
    {
        reserve(utf8.size() * 6);
        for (const char c : utf8)
            escapeInto(c);
    }

    // A quoted JSON string. ASCII is escaped straight from UTF-16; from the first non-ASCII
    // character on, the rest goes through QString's UTF-8 encoder.
    void putQuoted(QStringView value)
    {
        const qsizetype n = value.size();
        reserve(n * 6 + 2); // the worst case: every unit a \u00XX escape
        *m_p++ = '"';
        const char16_t *units = value.utf16();
        qsizetype i = 0;
        for (; i < n; ++i) {
            const char16_t u = units[i];
            if (u >= 0x80)
                break;
            escapeInto(char(u));
        }
        if (i < n)
            putEscapedUtf8(value.mid(i).toUtf8());
        put('"');
    }

    // Empty means unknown and is written as null.
    void putStringOrNull(const QString &value)
    {
        if (value.isEmpty())
            put("null");
        else
            putQuoted(value);
    }

    template <std::size_t N>
    void putField(const char (&keyWithQuotes)[N], const QString &value)
    {
        put(keyWithQuotes);
        putStringOrNull(value);
    }

    // Qt's compact JSON, byte for byte (tst_audit compares the two over a table of values),
    // without building a QJsonDocument and its UTF-16 to UTF-8 copies for every record.
    void putJson(const QJsonObject &object)
    {
        put('{');
        bool first = true;
        // QJsonObject keeps its keys sorted: the order QJsonDocument writes them in.
        for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
            if (!first)
                put(',');
            first = false;
            putQuoted(it.key());
            put(':');
            putJson(it.value());
        }
        put('}');
    }

    void putJson(const QJsonValue &value)
    {
        switch (value.type()) {
        case QJsonValue::Null:
        case QJsonValue::Undefined:
            put("null");
            break;
        case QJsonValue::Bool:
            if (value.toBool())
                put("true");
            else
                put("false");
            break;
        case QJsonValue::Double: {
            // Qt keeps integers and doubles apart inside a QJsonValue and writes them
            // differently (an integer in full, a double in its shortest 'g' form: 1e+06).
            const QVariant number = value.toVariant();
            if (number.typeId() == QMetaType::LongLong) {
                putNumber(number.toLongLong());
            } else {
                const double d = number.toDouble();
                if (qIsFinite(d))
                    put(QByteArray::number(d, 'g', QLocale::FloatingPointShortest));
                else
                    put("null");
            }
            break;
        }
        case QJsonValue::String:
            putQuoted(value.toString());
            break;
        case QJsonValue::Array: {
            put('[');
            bool first = true;
            for (const QJsonValue &element : value.toArray()) {
                if (!first)
                    put(',');
                first = false;
                putJson(element);
            }
            put(']');
            break;
        }
        case QJsonValue::Object:
            putJson(value.toObject());
            break;
        }
    }

    QByteArray take()
    {
        m_buf.truncate(m_p - m_buf.constData());
        m_p = nullptr;
        return std::move(m_buf);
    }

private:
    // The caller has reserved 6 bytes.
    void escapeInto(char c)
    {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && c != '"' && c != '\\') {
            *m_p++ = c;
            return;
        }
        *m_p++ = '\\';
        switch (c) {
        case '"': *m_p++ = '"'; break;
        case '\\': *m_p++ = '\\'; break;
        case '\b': *m_p++ = 'b'; break;
        case '\f': *m_p++ = 'f'; break;
        case '\n': *m_p++ = 'n'; break;
        case '\r': *m_p++ = 'r'; break;
        case '\t': *m_p++ = 't'; break;
        default:
            *m_p++ = 'u';
            *m_p++ = '0';
            *m_p++ = '0';
            *m_p++ = kHex[u >> 4];
            *m_p++ = kHex[u & 0xf];
        }
    }

    QByteArray m_buf;
    char *m_p;
};

} // namespace

QByteArray formatAuditTime(qint64 tsMs)
{
    // Civil date from days since 1970-01-01 (proleptic Gregorian; Howard Hinnant's
    // days_from_civil inverse): the same text as QDateTime's ISODateWithMs in UTC for every year
    // 0000-9999, without a QDateTime per record on the append path.
    qint64 days = tsMs >= 0 ? tsMs / 86400000 : -((-tsMs + 86399999) / 86400000);
    qint64 msOfDay = tsMs - days * 86400000;
    days += 719468;
    const qint64 era = (days >= 0 ? days : days - 146096) / 146097;
    const qint64 doe = days - era * 146097;
    const qint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const qint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const qint64 mp = (5 * doy + 2) / 153;
    const qint64 day = doy - (153 * mp + 2) / 5 + 1;
    const qint64 month = mp < 10 ? mp + 3 : mp - 9;
    const qint64 year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    if (year < 0 || year > 9999)
        return QDateTime::fromMSecsSinceEpoch(tsMs, Qt::UTC).toString(Qt::ISODateWithMs).toLatin1();
    char text[25];
    auto put = [&text](int at, qint64 value, int width) {
        for (int i = width - 1; i >= 0; --i) {
            text[at + i] = char('0' + value % 10);
            value /= 10;
        }
    };
    put(0, year, 4);
    text[4] = '-';
    put(5, month, 2);
    text[7] = '-';
    put(8, day, 2);
    text[10] = 'T';
    put(11, msOfDay / 3600000, 2);
    text[13] = ':';
    put(14, msOfDay / 60000 % 60, 2);
    text[16] = ':';
    put(17, msOfDay / 1000 % 60, 2);
    text[19] = '.';
    put(20, msOfDay % 1000, 3);
    text[23] = 'Z';
    return QByteArray(text, 24);
}

QByteArray formatAuditDetail(const QJsonObject &detail)
{
    LineWriter out(64);
    out.putJson(detail);
    return out.take();
}

QByteArray formatAuditLine(qint64 seq, qint64 tsMs, const AuditEntry &entry, const QByteArray &prevHex)
{
    return formatAuditLine(seq, formatAuditTime(tsMs), entry, prevHex);
}

QByteArray formatAuditLine(qint64 seq, const QByteArray &tsText, const AuditEntry &entry, const QByteArray &prevHex)
{
    LineWriter out(512);
    out.put("{\"seq\":");
    out.putNumber(seq);
    out.put(",\"ts\":\"");
    out.put(tsText);
    out.put('"');
    out.putField(",\"actor\":{\"kind\":", entry.actor.kind);
    out.putField(",\"id\":", entry.actor.id);
    out.putField(",\"host\":", entry.actor.host);
    out.putField("},\"action\":", entry.action);
    out.putField(",\"target\":{\"agent\":", entry.target.agent);
    out.putField(",\"run\":", entry.target.run);
    out.putField(",\"principal\":", entry.target.principal);
    out.putField(",\"layer\":", entry.target.layer);
    out.putField(",\"provider\":", entry.target.provider);
    out.putField(",\"object\":", entry.target.object);
    out.putField("},\"reason\":", entry.reason);
    out.putField(",\"outcome\":", entry.outcome);
    // Qt's compact form: keys sorted, no spaces, non-ASCII left as UTF-8.
    out.put(",\"detail\":");
    out.putJson(entry.detail);
    out.put(",\"prev\":\"");
    out.put(prevHex);
    out.put("\"}");
    return out.take();
}

QByteArray sha256Hex(QByteArrayView bytes)
{
    // The implementation fetched once per thread, and one context reused: OpenSSL 3 otherwise
    // looks the algorithm up and allocates a context on every call, which costs more than
    // hashing a 300-byte record.
    struct Hasher
    {
        EVP_MD *md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        ~Hasher()
        {
            EVP_MD_CTX_free(ctx);
            EVP_MD_free(md);
        }
    };
    thread_local Hasher h;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!h.md || !h.ctx || EVP_DigestInit_ex2(h.ctx, h.md, nullptr) != 1
        || EVP_DigestUpdate(h.ctx, bytes.data() ? bytes.data() : "", size_t(bytes.size())) != 1
        || EVP_DigestFinal_ex(h.ctx, digest, &size) != 1)
        return {};
    QByteArray hex(int(size) * 2, Qt::Uninitialized);
    for (unsigned int i = 0; i < size; ++i) {
        hex[2 * i] = kHex[digest[i] >> 4];
        hex[2 * i + 1] = kHex[digest[i] & 15];
    }
    return hex;
}

} // namespace Breaker
