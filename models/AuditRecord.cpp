#include "models/AuditRecord.h"

#include <QDateTime>
#include <QJsonDocument>

#include <openssl/evp.h>

namespace Breaker {

namespace {

// A JSON string per RFC 8259: ", \ and control characters escaped, everything else (including
// non-ASCII UTF-8) as is. Empty means unknown and is written as null.
void appendString(QByteArray &out, const QString &value)
{
    if (value.isEmpty()) {
        out += "null";
        return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    const QByteArray utf8 = value.toUtf8();
    out += '"';
    for (const char c : utf8) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (u < 0x20) {
                out += "\\u00";
                out += kHex[u >> 4];
                out += kHex[u & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

void appendField(QByteArray &out, const char *key, const QString &value, bool first = false)
{
    if (!first)
        out += ',';
    out += '"';
    out += key;
    out += "\":";
    appendString(out, value);
}

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

QByteArray formatAuditLine(qint64 seq, qint64 tsMs, const AuditEntry &entry, const QByteArray &prevHex)
{
    return formatAuditLine(seq, formatAuditTime(tsMs), entry, prevHex);
}

QByteArray formatAuditLine(qint64 seq, const QByteArray &tsText, const AuditEntry &entry, const QByteArray &prevHex)
{
    QByteArray out;
    out.reserve(512);
    out += "{\"seq\":";
    out += QByteArray::number(seq);
    out += ",\"ts\":\"";
    out += tsText;
    out += '"';
    out += ",\"actor\":{";
    appendField(out, "kind", entry.actor.kind, true);
    appendField(out, "id", entry.actor.id);
    appendField(out, "host", entry.actor.host);
    out += '}';
    appendField(out, "action", entry.action);
    out += ",\"target\":{";
    appendField(out, "agent", entry.target.agent, true);
    appendField(out, "run", entry.target.run);
    appendField(out, "principal", entry.target.principal);
    appendField(out, "layer", entry.target.layer);
    appendField(out, "provider", entry.target.provider);
    appendField(out, "object", entry.target.object);
    out += '}';
    appendField(out, "reason", entry.reason);
    appendField(out, "outcome", entry.outcome);
    // Qt's compact form: keys sorted, no spaces, non-ASCII left as UTF-8.
    out += ",\"detail\":";
    out += QJsonDocument(entry.detail).toJson(QJsonDocument::Compact);
    out += ",\"prev\":\"";
    out += prevHex;
    out += "\"}";
    return out;
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
    static constexpr char kHex[] = "0123456789abcdef";
    QByteArray hex(int(size) * 2, Qt::Uninitialized);
    for (unsigned int i = 0; i < size; ++i) {
        hex[2 * i] = kHex[digest[i] >> 4];
        hex[2 * i + 1] = kHex[digest[i] & 15];
    }
    return hex;
}

} // namespace Breaker
