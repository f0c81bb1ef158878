#pragma once

#include "app/services/AuditKeyStore.h"
#include "models/AuditFilter.h"
#include "models/AuditRecord.h"
#include "models/Result.h"
#include "models/Store.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace Breaker {

// An audit export folder (DESIGN.md section 7, docs/AUDIT.md): a contiguous range of the chain
// in audit.jsonl, optional audit.csv and audit.ocsf.jsonl (shaped by the filter), manifest.json,
// manifest.sig and public-key.pem. Written into a hidden sibling folder and renamed into place
// when complete, so that a crash or a full disk never leaves a folder that looks complete.
struct AuditExportOptions
{
    QString outDir; // must not exist
    // The range: each bound by seq (inclusive) or by time (from inclusive, to exclusive: an
    // export --to T and the next --from T meet without a gap or an overlap); unset = open.
    std::optional<qint64> fromSeq, toSeq;
    std::optional<qint64> fromMs, toMs;
    AuditFilter filter; // shapes audit.csv and audit.ocsf.jsonl only
    bool csv = false;
    bool ocsf = false;
    AuditEntry::Actor actor; // who exports: the manifest's exporter and the audit.exported record
    QString program;         // "breakerctl 0.1.0"
    // Records done / total, after every page; on the calling thread.
    std::function<void(qint64 done, qint64 total)> progress;
    // Tests: writing fails as on a full disk (ENOSPC) once this many bytes were written.
    qint64 failAfterBytes = -1;
};

struct AuditExportResult
{
    QString dir; // absolute
    qint64 firstSeq = 0;
    qint64 lastSeq = 0; // firstSeq - 1 when the range is empty
    qint64 count = 0;
    QByteArray anchorPrev;
    QByteArray lastHash;
    QByteArray keyFingerprint;
    QString keyStorage;
    QStringList files;
    qint64 csvRows = 0;
    qint64 ocsfEvents = 0;
    qint64 recordSeq = 0; // the audit.exported record; 0 when it could not be written
    QString warning;      // the export is complete but recording or sealing it failed

    QJsonObject toJson() const; // docs/schemas/audit-export.schema.json
};

Result<AuditExportResult>
exportAudit(Store &store, const AuditKey &key, const AuditExportOptions &options);

// "2026-01-31", "2026-01-31T12:00:00Z", "2026-01-31T12:00:00.250+02:00" → ms since the epoch
// (a date alone is midnight UTC). nullopt when it is none of these.
std::optional<qint64> parseAuditTime(const QString &text);

} // namespace Breaker
