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

QByteArray formatAuditLine(qint64 seq, qint64 tsMs, const AuditEntry &entry, const QByteArray &prevHex)
{
    QByteArray out;
    out.reserve(512);
    out += "{\"seq\":";
    out += QByteArray::number(seq);
    appendField(out, "ts",
                QDateTime::fromMSecsSinceEpoch(tsMs, Qt::UTC).toString(Qt::ISODateWithMs));
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
    appendField(out, "prev", QString::fromLatin1(prevHex));
    out += '}';
    return out;
}

QByteArray sha256Hex(QByteArrayView bytes)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(bytes.data() ? bytes.data() : "", size_t(bytes.size()), digest, &size, EVP_sha256(), nullptr) != 1)
        return {};
    return QByteArray(reinterpret_cast<const char *>(digest), int(size)).toHex();
}

} // namespace Breaker
