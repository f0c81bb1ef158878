#pragma once

#include "app/services/AuditExport.h"
#include "models/AuditRecord.h"

#include <QObject>
#include <QString>

#include <vector>

namespace Breaker {

// The chain's state as the audit view shows it ("intact through seq N; last good checkpoint C
// signed at T", or what broke and where).
struct AuditChainState
{
    bool ok = false;
    QString summary;
    QString keyFingerprint; // the signing key's, for recording out of band
    QString keyLocation;
    QString error;          // the check could not run (key or Store unreachable)
};

// What the console does with the audit trail (issue 5 items 4, 6, 7). The views depend only on
// this interface; EngineAuditActions does the work off the GUI thread, tests use a fake. Every
// request answers with exactly one signal.
class AuditActions : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~AuditActions() override = default;

    // The newest `limit` records, oldest first → recordsLoaded.
    virtual void loadRecent(int limit) = 0;
    // Re-walks the chain against its signed checkpoints (signing one for the head first when
    // it moved) → chainChecked.
    virtual void checkChain() = 0;
    // An export as `breakerctl audit export` makes it → exportProgress..., exportFinished.
    virtual void exportTrail(const AuditExportOptions &options) = 0;
    // Records older than the profile's audit.keep_after_export_days that were never exported
    // (empty when there are none, or no such limit is set) → retentionChecked.
    virtual void checkRetention() = 0;

signals:
    void recordsLoaded(const std::vector<Breaker::AuditRecord> &records, const QString &error);
    void chainChecked(const Breaker::AuditChainState &state);
    void exportProgress(qint64 done, qint64 total);
    void exportFinished(bool ok, const QString &message, const QString &dir);
    void retentionChecked(const QString &warning);
};

} // namespace Breaker

Q_DECLARE_METATYPE(Breaker::AuditChainState)
