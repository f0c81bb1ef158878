#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace Breaker {

// What a caller asks to record (DESIGN.md section 7). The Store adds seq, ts and prev.
struct AuditEntry
{
    struct Actor
    {
        QString kind; // operator | system | connector
        QString id;
        QString host;
    } actor;
    QString action;   // dotted: stop.requested, stop.layer, approval.decided, ...
    struct Target
    {
        QString agent, run, principal, layer, provider, object; // empty → null
    } target;
    QString reason;   // empty → null
    QString outcome;  // empty → null
    QJsonObject detail;
};

// A stored record: the exact line bytes that were hashed.
struct AuditRecord
{
    qint64 seq = 0;
    qint64 tsMs = 0;
    QByteArray line;      // one line of JSON, no trailing newline
    QByteArray hashHex;   // lowercase hex SHA-256 of line
};

// The record's exact line: fields in the order of DESIGN.md section 7, null where unknown,
// ts as RFC 3339 UTC with milliseconds, prev as 64 lowercase hex characters.
QByteArray formatAuditLine(qint64 seq, qint64 tsMs, const AuditEntry &entry, const QByteArray &prevHex);
// The same with ts already formatted (a batch shares one timestamp).
QByteArray formatAuditLine(qint64 seq, const QByteArray &tsText, const AuditEntry &entry, const QByteArray &prevHex);
// "2026-11-27T10:02:26.123Z": RFC 3339 UTC with milliseconds, as Qt's ISODateWithMs writes it.
QByteArray formatAuditTime(qint64 tsMs);
// The detail object as the line carries it: Qt's compact JSON (keys sorted, no spaces).
QByteArray formatAuditDetail(const QJsonObject &detail);
QByteArray sha256Hex(QByteArrayView bytes);
inline QByteArray zeroHash() { return QByteArray(64, '0'); }

} // namespace Breaker
