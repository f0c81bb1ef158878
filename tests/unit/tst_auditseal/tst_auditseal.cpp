// Signed checkpoints of the audit chain (issue 5 item 3, "A database row edited behind
// Breaker's back → the next checkpoint check reports it"). The tests edit the SQLite file the
// way an intruder would: raw SQL, the append-only triggers dropped first.
#include "app/services/AuditExport.h"
#include "app/services/AuditSeal.h"
#include "models/AuditRecord.h"
#include "models/AuditSigner.h"
#include "models/Store.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

using namespace Breaker;

namespace {

AuditEntry entry(int n)
{
    AuditEntry e;
    e.actor = {QStringLiteral("operator"), QStringLiteral("alice"), QStringLiteral("laptop-1")};
    e.action = QStringLiteral("approval.decided");
    e.target.agent = QStringLiteral("refund-agent");
    e.reason = QStringLiteral("refund %1 approved").arg(n);
    e.outcome = QStringLiteral("approved");
    e.detail = QJsonObject{{QStringLiteral("amount"), n * 10}};
    return e;
}

// Raw SQL on the Store's file, from outside Breaker.
bool tamperSql(const QString &path, const QByteArray &sql)
{
    sqlite3 *db = nullptr;
    if (sqlite3_open(QFile::encodeName(path).constData(), &db) != SQLITE_OK)
        return false;
    sqlite3_busy_timeout(db, 5000);
    char *error = nullptr;
    const int rc = sqlite3_exec(
        db,
        QByteArray(
            "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete; "
            + sql)
            .constData(),
        nullptr,
        nullptr,
        &error);
    if (error) {
        qWarning("%s", error);
        sqlite3_free(error);
    }
    sqlite3_close(db);
    return rc == SQLITE_OK;
}

struct Fixture
{
    QTemporaryDir dir;
    QString path;
    std::shared_ptr<Store> store;
    std::optional<AuditSigner> signer;

    bool open(int records)
    {
        path = dir.filePath(QStringLiteral("breaker.db"));
        auto s = Store::open(path);
        if (!s)
            return false;
        store = *s;
        std::vector<AuditEntry> entries;
        for (int i = 1; i <= records; ++i)
            entries.push_back(entry(i));
        if (!store->appendAuditBatch(entries))
            return false;
        auto k = AuditSigner::generate();
        if (!k)
            return false;
        signer = *k;
        return true;
    }
    QByteArray lineOf(qint64 seq) { return store->auditRecords(seq, seq)->front().line; }
};

} // namespace

class tst_AuditSeal : public QObject
{
    Q_OBJECT
private slots:
    void checkpointMessageIsFixed();
    void sealsOnlyWhenTheHeadMoved();
    void intactChain();
    void editedRowIsReported_data();
    void editedRowIsReported();
    void forgedCheckpointIsReported();
    void deletedTailIsReported();
    void sealingRefusesATamperedChain();
    void exportRefusesATamperedChain();
};

void tst_AuditSeal::checkpointMessageIsFixed()
{
    QCOMPARE(auditCheckpointMessage(42, QByteArray(64, 'b')),
             QByteArray("breaker-audit-checkpoint/1 seq=42 head=") + QByteArray(64, 'b'));
}

void tst_AuditSeal::sealsOnlyWhenTheHeadMoved()
{
    Fixture f;
    QVERIFY(f.open(0));
    auto none = sealAuditHead(*f.store, *f.signer);
    QVERIFY(none.ok());
    QVERIFY(!*none); // an empty trail has no head to seal
    QVERIFY(f.store->appendAudit(entry(1)).ok());
    QVERIFY(f.store->appendAudit(entry(2)).ok());
    auto first = sealAuditHead(*f.store, *f.signer);
    QVERIFY2(first.ok(), first.ok() ? "" : qPrintable(first.error().message));
    QVERIFY(*first);
    QCOMPARE((*first)->seq, qint64(2));
    QCOMPARE((*first)->headHash, sha256Hex(f.lineOf(2)));
    QCOMPARE((*first)->keyFingerprint, f.signer->fingerprint());
    QVERIFY(f.signer->publicKey().verify(auditCheckpointMessage(2, (*first)->headHash),
                                         (*first)->signature));
    auto again = sealAuditHead(*f.store, *f.signer);
    QVERIFY(again.ok());
    QVERIFY(!*again);
    QVERIFY(f.store->appendAudit(entry(3)).ok());
    auto third = sealAuditHead(*f.store, *f.signer);
    QVERIFY(third.ok() && *third);
    QCOMPARE((*third)->seq, qint64(3));
    QCOMPARE(f.store->auditCheckpoints()->size(), size_t(2));
}

void tst_AuditSeal::intactChain()
{
    Fixture f;
    QVERIFY(f.open(50));
    QVERIFY(sealAuditHead(*f.store, *f.signer).ok());
    QVERIFY(f.store->appendAudit(entry(51)).ok());
    auto check = checkAuditChain(*f.store, f.signer->publicKey());
    QVERIFY(check.ok());
    QVERIFY2(check->ok, qPrintable(check->summary()));
    QCOMPARE(check->records, qint64(51));
    QCOMPARE(check->intactThrough, qint64(51));
    QCOMPARE(check->lastGoodCheckpointSeq, qint64(50));
    QCOMPARE(check->checkpoints, qint64(1));
    QVERIFY(check->summary().startsWith(QStringLiteral("intact through seq 51")));
    QVERIFY(check->summary().contains(QStringLiteral("last good checkpoint: seq 50, signed at ")));
}

void tst_AuditSeal::editedRowIsReported_data()
{
    QTest::addColumn<QByteArray>("sql");
    QTest::addColumn<qint64>("badSeq");
    QTest::addColumn<QString>("reason");

    // The line alone: the stored hash no longer matches.
    QTest::newRow("line edited")
        << QByteArray("UPDATE audit SET line = replace(line, 'refund 17 approved', 'refund 17 "
                      "denied!!') WHERE seq = 17")
        << qint64(17)
        << QStringLiteral(
               "record 17 was changed: its line no longer hashes to the hash stored with it");
    // Line and stored hash: the next record's prev gives it away.
    QTest::newRow("line and hash edited")
        << QByteArray("UPDATE audit SET line = replace(line, 'refund 17 approved', 'refund 17 "
                      "denied!!') WHERE seq = 17; "
                      "UPDATE audit SET hash = 'HASH17' WHERE seq = 17")
        << qint64(17) << QStringLiteral("record 17 was changed (its stored hash too)");
    // The last record before the checkpoint, hash and all: only the signed checkpoint knows.
    QTest::newRow("checkpointed head rewritten")
        << QByteArray("UPDATE audit SET line = replace(line, 'refund 30 approved', 'refund 30 "
                      "denied!!') WHERE seq = 30; "
                      "UPDATE audit SET hash = 'HASH30' WHERE seq = 30")
        << qint64(1) << QStringLiteral("no longer matches the checkpoint at seq 30");
    QTest::newRow("a record deleted") << QByteArray("DELETE FROM audit WHERE seq = 12")
                                      << qint64(12) << QStringLiteral("record 12 is missing");
    QTest::newRow("seq renumbered") << QByteArray(
        "UPDATE audit SET line = replace(line, '{\"seq\":9,', '{\"seq\":99,') WHERE seq = 9; "
        "UPDATE audit SET hash = 'HASH9' WHERE seq = 9")
                                    << qint64(9) << QStringLiteral("record 9 says seq 99");
}

void tst_AuditSeal::editedRowIsReported()
{
    QFETCH(QByteArray, sql);
    QFETCH(qint64, badSeq);
    QFETCH(QString, reason);
    Fixture f;
    QVERIFY(f.open(30));
    QVERIFY(sealAuditHead(*f.store, *f.signer).ok()); // checkpoint at 30
    QVERIFY(f.store->appendAudit(entry(31)).ok());
    // 'HASHn' stands for the real hash of the edited line: an intruder who knows the scheme.
    QByteArray finalSql = sql;
    for (const qint64 seq : {qint64(9), qint64(17), qint64(30)}) {
        const QByteArray tag = "'HASH" + QByteArray::number(seq) + "'";
        if (!finalSql.contains(tag))
            continue;
        // Compute the edited line's hash here (SQLite has no sha256() by default).
        const QByteArray before = f.lineOf(seq);
        QByteArray after = before;
        if (seq == 9)
            after.replace("{\"seq\":9,", "{\"seq\":99,");
        else
            after.replace(QByteArray("refund " + QByteArray::number(seq) + " approved"),
                          QByteArray("refund " + QByteArray::number(seq) + " denied!!"));
        finalSql.replace(tag, QByteArray("'" + sha256Hex(after) + "'"));
    }
    QVERIFY(tamperSql(f.path, finalSql));

    auto check = checkAuditChain(*f.store, f.signer->publicKey());
    QVERIFY(check.ok());
    QVERIFY2(!check->ok, qPrintable(check->summary()));
    QCOMPARE(check->firstBadSeq, badSeq);
    QVERIFY2(check->reason.contains(reason), qPrintable(check->reason));
    QVERIFY(check->intactThrough < badSeq || badSeq == 1);
    QVERIFY(check->summary().startsWith(QStringLiteral("BROKEN at seq ")));
}

void tst_AuditSeal::forgedCheckpointIsReported()
{
    Fixture f;
    QVERIFY(f.open(10));
    QVERIFY(sealAuditHead(*f.store, *f.signer).ok());
    QVERIFY(f.store->appendAudit(entry(11)).ok());
    QVERIFY(f.store->appendAudit(entry(12)).ok());
    // Someone adds a checkpoint claiming the console's key, signed with their own.
    auto forger = AuditSigner::generate();
    AuditCheckpoint forged;
    forged.seq = 12;
    forged.headHash = sha256Hex(f.lineOf(12));
    forged.keyFingerprint = f.signer->fingerprint();
    forged.signature = *forger->sign(auditCheckpointMessage(forged.seq, forged.headHash));
    forged.tsMs = 1;
    QVERIFY(f.store->addAuditCheckpoint(forged).ok());
    auto check = checkAuditChain(*f.store, f.signer->publicKey());
    QVERIFY(check.ok());
    QVERIFY(!check->ok);
    QCOMPARE(check->firstBadSeq, qint64(12));
    QVERIFY2(check->reason.contains(QStringLiteral("the checkpoint at seq 12"))
                 && check->reason.contains(QStringLiteral("forged")),
             qPrintable(check->reason));
    QCOMPARE(check->lastGoodCheckpointSeq, qint64(10));

    // A checkpoint row edited in place (its head changed, signature kept) is caught the same way.
    Fixture g;
    QVERIFY(g.open(5));
    QVERIFY(sealAuditHead(*g.store, *g.signer).ok());
    QVERIFY(tamperSql(g.path,
                      "UPDATE audit_checkpoints SET head_hash = '" + QByteArray(64, 'c') + "'"));
    auto edited = checkAuditChain(*g.store, g.signer->publicKey());
    QVERIFY(edited.ok());
    QVERIFY(!edited->ok);
    QCOMPARE(edited->firstBadSeq, qint64(5));
}

void tst_AuditSeal::deletedTailIsReported()
{
    Fixture f;
    QVERIFY(f.open(20));
    QVERIFY(sealAuditHead(*f.store, *f.signer).ok());
    QVERIFY(tamperSql(f.path, "DELETE FROM audit WHERE seq > 15"));
    auto check = checkAuditChain(*f.store, f.signer->publicKey());
    QVERIFY(check.ok());
    QVERIFY(!check->ok);
    QCOMPARE(check->firstBadSeq, qint64(16));
    QVERIFY2(check->reason.contains(QStringLiteral("records were deleted")),
             qPrintable(check->reason));
    QVERIFY(!sealAuditHead(*f.store, *f.signer).ok()); // and it is not sealed over
}

void tst_AuditSeal::sealingRefusesATamperedChain()
{
    Fixture f;
    QVERIFY(f.open(10));
    QVERIFY(sealAuditHead(*f.store, *f.signer).ok());
    QVERIFY(f.store->appendAudit(entry(11)).ok());
    QVERIFY(f.store->appendAudit(entry(12)).ok());
    // An edit after the last checkpoint: sealing now would sign it as Breaker's own.
    QVERIFY(tamperSql(
        f.path, "UPDATE audit SET line = replace(line, 'refund 11', 'refund 99') WHERE seq = 11"));
    auto sealed = sealAuditHead(*f.store, *f.signer);
    QVERIFY(!sealed.ok());
    QCOMPARE(sealed.error().kind, Error::Kind::Conflict);
    QVERIFY2(sealed.error().message.contains(QStringLiteral("record 11 was changed")),
             qPrintable(sealed.error().message));
    QCOMPARE(f.store->auditCheckpoints()->size(), size_t(1));
}

void tst_AuditSeal::exportRefusesATamperedChain()
{
    Fixture f;
    QVERIFY(f.open(10));
    QByteArray edited = f.lineOf(4);
    edited.replace("refund 4 approved", "refund 4 denied!!");
    QVERIFY(tamperSql(
        f.path,
        "UPDATE audit SET line = replace(line, 'refund 4 approved', 'refund 4 denied!!'), hash = '"
            + sha256Hex(edited) + "' WHERE seq = 4"));
    auto key = AuditSigner::generate();
    AuditKey k{*key, QStringLiteral("file"), QStringLiteral("test"), false};
    AuditExportOptions o;
    o.outDir = f.dir.filePath(QStringLiteral("out"));
    auto r = exportAudit(*f.store, k, o);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.contains(QStringLiteral("broken at seq 5")),
             qPrintable(r.error().message));
    QVERIFY(!QFileInfo::exists(o.outDir));
}

QTEST_GUILESS_MAIN(tst_AuditSeal)
#include "tst_auditseal.moc"
