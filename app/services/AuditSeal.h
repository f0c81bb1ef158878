#pragma once

#include "models/AuditSigner.h"
#include "models/Result.h"
#include "models/Store.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace Breaker {

// Signed checkpoints of the audit chain's head (DESIGN.md section 7, docs/AUDIT.md): an edit of
// the database itself, behind Breaker's back, no longer matches a checkpoint it signed.

// The exact bytes a checkpoint signs: "breaker-audit-checkpoint/1 seq=N head=HEX" (ASCII, no
// newline), HEX the lowercase SHA-256 of record N's line.
QByteArray auditCheckpointMessage(qint64 seq, QByteArrayView headHashHex);

// Signs the head when it moved since this key's last checkpoint (call after a stop completes,
// after an export, and on a timer). Returns the checkpoint written, or nullopt when the head
// had not moved (or the trail is empty).
Result<std::optional<AuditCheckpoint>> sealAuditHead(Store &store, const AuditSigner &signer);

struct AuditChainCheck
{
    bool ok = false;
    qint64 records = 0;               // records walked
    qint64 intactThrough = 0;         // the chain is good from seq 1 through this seq
    qint64 checkpoints = 0;           // checkpoints of this key that were checked
    qint64 lastGoodCheckpointSeq = 0; // 0: none
    qint64 lastGoodCheckpointTsMs = 0;
    qint64 otherKeyCheckpoints = 0; // signed by other keys (an earlier key): not checked
    qint64 firstBadSeq = 0;         // 0 when ok
    QString reason;                 // why, in words (empty when ok)

    // "intact through seq N; last good checkpoint seq C signed at T" or what broke.
    QString summary() const;
};

// Re-walks the whole chain from seq 1 (each line hashes to its stored hash, each prev is the
// previous line's hash, seqs contiguous) in pages, and checks every checkpoint of `key`: its
// signature, and that the record at its seq still hashes to the head it signed.
Result<AuditChainCheck> checkAuditChain(Store &store, const AuditPublicKey &key);

} // namespace Breaker
