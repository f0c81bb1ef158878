#include "app/services/AuditSeal.h"

#include "app/services/AuditVerify.h"
#include "models/AuditRecord.h"

#include <QDateTime>

#include <map>

namespace Breaker {

namespace {

constexpr qint64 kPage = 8192;

struct SignedHead
{
    QByteArray headHash;
    qint64 tsMs = 0;
};

struct Walk
{
    qint64 records = 0;
    qint64 lastSeq = 0;  // last record walked that was good
    QByteArray lastHash; // its line's hash
    qint64 lastGoodCheckpointSeq = 0;
    qint64 lastGoodCheckpointTsMs = 0;
    qint64 checkpointsSeen = 0;
    qint64 firstBadSeq = 0;
    QString reason;
};

QString when(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

// Walks records fromSeq..toSeq (toSeq < 0: to the end), `prev` being the hash record fromSeq
// must point to. Stops at the first problem.
Result<Walk> walkStore(Store &store,
                       qint64 fromSeq,
                       qint64 toSeq,
                       QByteArray prev,
                       const std::map<qint64, SignedHead> &checkpoints,
                       qint64 goodCheckpointSeq)
{
    Walk w;
    w.lastSeq = fromSeq - 1;
    w.lastHash = prev;
    w.lastGoodCheckpointSeq = goodCheckpointSeq;
    if (auto it = checkpoints.find(goodCheckpointSeq); it != checkpoints.end())
        w.lastGoodCheckpointTsMs = it->second.tsMs;
    qint64 expected = fromSeq;
    while (toSeq < 0 || expected <= toSeq) {
        const qint64 pageEnd
            = toSeq < 0 ? expected + kPage - 1 : std::min(toSeq, expected + kPage - 1);
        auto page = store.auditRecords(expected, pageEnd);
        if (!page)
            return page.error();
        if (page->empty())
            break;
        for (const AuditRecord &record : *page) {
            if (record.seq != expected) {
                w.firstBadSeq = expected;
                w.reason = QStringLiteral(
                               "record %1 is missing (the next record is seq %2): it was deleted")
                               .arg(expected)
                               .arg(record.seq);
                return w;
            }
            AuditLineFields fields;
            if (const char *why = scanAuditLine(record.line, &fields)) {
                w.firstBadSeq = record.seq;
                w.reason = QStringLiteral("record %1 is not a record as Breaker writes it: %2")
                               .arg(record.seq)
                               .arg(QString::fromLatin1(why));
                return w;
            }
            if (fields.seq != record.seq) {
                w.firstBadSeq = record.seq;
                w.reason = QStringLiteral("record %1 says seq %2 in its line: it was changed")
                               .arg(record.seq)
                               .arg(fields.seq);
                return w;
            }
            const QByteArray hash = sha256Hex(record.line);
            if (hash != record.hashHex) {
                w.firstBadSeq = record.seq;
                w.reason = QStringLiteral("record %1 was changed: its line no longer hashes to the "
                                          "hash stored with it")
                               .arg(record.seq);
                return w;
            }
            if (fields.prev != w.lastHash) {
                // The line before no longer hashes to this prev: it was rewritten, hash and all.
                w.firstBadSeq = record.seq - 1 >= 1 ? record.seq - 1 : record.seq;
                w.reason = record.seq == 1
                               ? QStringLiteral("record 1's prev is not 64 zeros: it was changed")
                               : QStringLiteral("record %1 was changed (its stored hash too): "
                                                "record %2's prev is the hash of a different line")
                                     .arg(record.seq - 1)
                                     .arg(record.seq);
                if (record.seq > 1) {
                    w.lastSeq = record.seq - 2;
                }
                return w;
            }
            if (auto it = checkpoints.find(record.seq); it != checkpoints.end()) {
                ++w.checkpointsSeen;
                if (it->second.headHash != hash) {
                    w.firstBadSeq = w.lastGoodCheckpointSeq + 1;
                    w.reason
                        = QStringLiteral(
                              "the chain no longer matches the checkpoint at seq %1 signed at %2: "
                              "records between seq %3 and %1 were rewritten")
                              .arg(record.seq)
                              .arg(when(it->second.tsMs))
                              .arg(w.lastGoodCheckpointSeq + 1);
                    w.lastSeq = w.lastGoodCheckpointSeq;
                    return w;
                }
                w.lastGoodCheckpointSeq = record.seq;
                w.lastGoodCheckpointTsMs = it->second.tsMs;
            }
            ++w.records;
            w.lastSeq = record.seq;
            w.lastHash = hash;
            ++expected;
        }
    }
    return w;
}

struct KeyCheckpoints
{
    std::map<qint64, SignedHead> good;
    qint64 others = 0;
    qint64 forgedSeq = 0;
    qint64 forgedTsMs = 0;
};

Result<KeyCheckpoints> checkpointsOf(Store &store, const AuditPublicKey &key)
{
    auto all = store.auditCheckpoints();
    if (!all)
        return all.error();
    KeyCheckpoints k;
    const QByteArray fingerprint = key.fingerprint();
    for (const AuditCheckpoint &c : *all) {
        if (c.keyFingerprint != fingerprint) {
            ++k.others;
            continue;
        }
        if (!key.verify(auditCheckpointMessage(c.seq, c.headHash), c.signature)) {
            if (!k.forgedSeq || c.seq < k.forgedSeq) {
                k.forgedSeq = c.seq;
                k.forgedTsMs = c.tsMs;
            }
            continue;
        }
        k.good[c.seq] = SignedHead{c.headHash, c.tsMs};
    }
    return k;
}

} // namespace

QByteArray auditCheckpointMessage(qint64 seq, QByteArrayView headHashHex)
{
    return "breaker-audit-checkpoint/1 seq=" + QByteArray::number(seq)
           + " head=" + headHashHex.toByteArray();
}

Result<std::optional<AuditCheckpoint>> sealAuditHead(Store &store, const AuditSigner &signer)
{
    auto head = store.auditHead();
    if (!head)
        return head.error();
    if (!*head)
        return std::optional<AuditCheckpoint>();
    auto mine = checkpointsOf(store, signer.publicKey());
    if (!mine)
        return mine.error();
    qint64 fromSeq = 1;
    QByteArray prev = zeroHash();
    qint64 lastCheckpoint = 0;
    if (!mine->good.empty()) {
        const auto last = std::prev(mine->good.end());
        if (last->first == (*head)->seq)
            return std::optional<AuditCheckpoint>(); // the head has not moved
        if (last->first > (*head)->seq)
            return makeError(
                Error::Kind::Conflict,
                QStringLiteral(
                    "not sealing: the chain ends at seq %1 but a checkpoint covers seq %2 "
                    "(records were deleted)")
                    .arg((*head)->seq)
                    .arg(last->first));
        if (last->first < (*head)->seq) {
            // Walk on from the last checkpoint, starting with its own record.
            fromSeq = last->first;
            auto at = store.auditRecords(last->first, last->first);
            if (!at)
                return at.error();
            if (at->empty() || sha256Hex(at->front().line) != last->second.headHash)
                return makeError(
                    Error::Kind::Conflict,
                    QStringLiteral("not sealing: record %1 no longer matches its signed checkpoint "
                                   "(breakerctl audit check says more)")
                        .arg(last->first));
            lastCheckpoint = last->first;
            AuditLineFields fields;
            if (scanAuditLine(at->front().line, &fields))
                return makeError(
                    Error::Kind::Conflict,
                    QStringLiteral("not sealing: record %1 is damaged").arg(last->first));
            prev = fields.prev.toByteArray();
        }
    }
    // Never sign a head the chain does not lead to: an edit made since the last checkpoint
    // would otherwise be sealed as if Breaker had written it.
    auto walk = walkStore(store, fromSeq, (*head)->seq, prev, mine->good, lastCheckpoint);
    if (!walk)
        return walk.error();
    if (walk->firstBadSeq)
        return makeError(Error::Kind::Conflict,
                         QStringLiteral("not sealing the audit chain: %1").arg(walk->reason));
    if (walk->lastSeq <= lastCheckpoint && lastCheckpoint != 0)
        return std::optional<AuditCheckpoint>();
    AuditCheckpoint c;
    c.seq = walk->lastSeq;
    c.headHash = walk->lastHash;
    c.keyFingerprint = signer.fingerprint();
    c.tsMs = QDateTime::currentMSecsSinceEpoch();
    auto signature = signer.sign(auditCheckpointMessage(c.seq, c.headHash));
    if (!signature)
        return signature.error();
    c.signature = *signature;
    if (auto r = store.addAuditCheckpoint(c); !r)
        return r.error();
    return std::optional<AuditCheckpoint>(c);
}

Result<AuditChainCheck> checkAuditChain(Store &store, const AuditPublicKey &key)
{
    auto mine = checkpointsOf(store, key);
    if (!mine)
        return mine.error();
    auto walk = walkStore(store, 1, -1, zeroHash(), mine->good, 0);
    if (!walk)
        return walk.error();
    AuditChainCheck c;
    c.records = walk->records;
    c.intactThrough = walk->lastSeq;
    c.checkpoints = walk->checkpointsSeen;
    c.lastGoodCheckpointSeq = walk->lastGoodCheckpointSeq;
    c.lastGoodCheckpointTsMs = walk->lastGoodCheckpointTsMs;
    c.otherKeyCheckpoints = mine->others;
    c.firstBadSeq = walk->firstBadSeq;
    c.reason = walk->reason;
    // A checkpoint past the end: records it covered were deleted.
    if (!c.firstBadSeq && !mine->good.empty()) {
        const auto last = std::prev(mine->good.end());
        if (last->first > walk->lastSeq) {
            c.firstBadSeq = walk->lastSeq + 1;
            c.reason = QStringLiteral(
                           "the chain ends at seq %1 but a checkpoint signed at %2 covers seq %3: "
                           "records were deleted")
                           .arg(walk->lastSeq)
                           .arg(when(last->second.tsMs))
                           .arg(last->first);
        }
    }
    // A checkpoint whose signature does not verify: forged, or the row was edited.
    if (mine->forgedSeq && (!c.firstBadSeq || mine->forgedSeq < c.firstBadSeq)) {
        c.firstBadSeq = mine->forgedSeq;
        c.reason
            = QStringLiteral(
                  "the checkpoint at seq %1 (dated %2) is not signed by this console's key %3: "
                  "it was forged or edited")
                  .arg(mine->forgedSeq)
                  .arg(when(mine->forgedTsMs))
                  .arg(QString::fromLatin1(key.fingerprint()));
        c.intactThrough = std::min(c.intactThrough, mine->forgedSeq - 1);
    }
    c.ok = c.firstBadSeq == 0;
    return c;
}

QString AuditChainCheck::summary() const
{
    QString checkpoint = lastGoodCheckpointSeq
                             ? QStringLiteral("last good checkpoint: seq %1, signed at %2")
                                   .arg(lastGoodCheckpointSeq)
                                   .arg(when(lastGoodCheckpointTsMs))
                             : QStringLiteral("no checkpoint yet");
    if (ok)
        return QStringLiteral("intact through seq %1 (%2 records); %3")
            .arg(intactThrough)
            .arg(records)
            .arg(checkpoint);
    return QStringLiteral("BROKEN at seq %1: %2\nintact through seq %3; %4")
        .arg(firstBadSeq)
        .arg(reason)
        .arg(intactThrough)
        .arg(checkpoint);
}

} // namespace Breaker
