#pragma once

#include "models/Result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QString>

namespace Breaker {

// Verifying an audit export folder (DESIGN.md section 7, docs/AUDIT.md) with nothing but the
// folder: no Store, no profile. audit.jsonl is mapped and checked on two threads (its pages are
// the page cache's, not the process's memory), or, to name the first bad line, read in blocks.

// The fields of one record line the chain needs, read by a strict scanner: the line must be
// one JSON object with exactly the fields of DESIGN.md section 7 in their order (seq, ts, actor
// {kind, id, host}, action, target {agent, run, principal, layer, provider, object}, reason,
// outcome, detail, prev), valid JSON throughout (strings, escapes, UTF-8, numbers, nesting),
// seq a positive integer and prev 64 lowercase hex characters. Anything else is refused: no
// line that Breaker could not have written passes, and no QJsonDocument is built per line.
struct AuditLineFields
{
    qint64 seq = 0;
    QByteArrayView prev; // 64 hex characters, inside the line
};
// nullptr when the line is good; otherwise why not, in words (a static string).
const char *scanAuditLine(QByteArrayView line, AuditLineFields *fields);

struct AuditVerifyOptions
{
    QString dir;
    // Pinning: the fingerprint (64 lowercase hex) the key must have, from --key FILE or
    // --fingerprint HEX; empty when the key is not pinned. pinSource says which, for messages.
    QByteArray pinnedFingerprint;
    QString pinSource;
    QString previousDir; // --previous: an earlier export this one must continue
    // Tests: the size of the pieces audit.jsonl is cut into for the two threads (0: the
    // default, 2 MiB); -1: only the sequential walk that names the first bad line.
    qint64 chunkBytes = 0;
};

struct AuditVerifyReport
{
    bool ok = false;
    qint64 records = 0;        // lines of audit.jsonl that verified
    qint64 firstBadLine = 0;   // 1-based line of audit.jsonl to blame; 0 when no line is
    QString file;              // the file the problem is in (empty when ok)
    QString reason;            // what is wrong, in plain words (empty when ok)
    QByteArray keyFingerprint; // of the public key shipped in the folder
    bool pinned = false;       // the key matched --key / --fingerprint
    bool previousChecked = false;
    qint64 firstSeq = 0;
    qint64 lastSeq = 0;
    QString keyStorage; // the manifest's key_storage
    QString note;       // "integrity proven, origin not: the key was not pinned", ...

    // {"ok", "records", "first_bad_line", "reason", "key_fingerprint", "pinned", ...}:
    // docs/schemas/audit-verify.schema.json.
    QJsonObject toJson() const;
    QString summary() const; // the same in a few lines of text
};

AuditVerifyReport verifyAuditExport(const AuditVerifyOptions &options);

// Lowercase hex SHA-256 of a file's bytes, streamed.
Result<QByteArray> sha256FileHex(const QString &path);

} // namespace Breaker
