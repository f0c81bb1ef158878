#include "models/AuditRecord.h"
#include "models/Store.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <algorithm>
#include <limits>

using namespace Breaker;

namespace {

// An independent SHA-256 (Qt's own implementation, not OpenSSL's).
QByteArray qtSha256Hex(const QByteArray &bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex();
}

QByteArray prevOf(const QByteArray &line)
{
    return QJsonDocument::fromJson(line).object().value(QStringLiteral("prev")).toString().toLatin1();
}

// Empty when records 1..n form one unbroken chain; otherwise what is wrong, in words.
QString chainProblem(const std::vector<AuditRecord> &records)
{
    QByteArray expectedPrev = QByteArray(64, '0');
    for (size_t i = 0; i < records.size(); ++i) {
        const AuditRecord &r = records[i];
        if (r.seq != qint64(i) + 1)
            return QStringLiteral("record %1 has seq %2").arg(i + 1).arg(r.seq);
        if (r.hashHex != qtSha256Hex(r.line))
            return QStringLiteral("record %1: stored hash does not match its line").arg(r.seq);
        if (prevOf(r.line) != expectedPrev)
            return QStringLiteral("record %1: prev does not match the previous line").arg(r.seq);
        if (QJsonDocument::fromJson(r.line).object().value(QStringLiteral("seq")).toInteger() != r.seq)
            return QStringLiteral("record %1: seq in the line differs").arg(r.seq);
        if (i > 0 && r.tsMs < records[i - 1].tsMs)
            return QStringLiteral("record %1: time went backwards").arg(r.seq);
        expectedPrev = qtSha256Hex(r.line);
    }
    return {};
}

AuditEntry sampleEntry(int n)
{
    AuditEntry e;
    e.actor = {QStringLiteral("operator"), QStringLiteral("alice"), QStringLiteral("laptop-1")};
    e.action = QStringLiteral("stop.layer");
    e.target.agent = QStringLiteral("billing-agent");
    e.target.layer = QStringLiteral("payment");
    e.reason = QStringLiteral("drill %1").arg(n);
    e.outcome = QStringLiteral("verified");
    e.detail = QJsonObject{{QStringLiteral("n"), n}};
    return e;
}

QList<qint64> seqsFrom(const QByteArray &out)
{
    QList<qint64> seqs;
    const int end = out.lastIndexOf('\n');
    if (end < 0)
        return seqs;
    for (const QByteArray &line : out.left(end).split('\n'))
        seqs << line.toLongLong();
    return seqs;
}

} // namespace

class tst_Audit : public QObject
{
    Q_OBJECT
private slots:
    void lineBytes_data();
    void lineBytes();
    void detailIsQtCompactJson_data();
    void detailIsQtCompactJson();
    void timestamps_data();
    void timestamps();
    void sha256KnownValues();
    void chainLinksEachRecordToThePrevious();
    void batchAppendContinuesTheChain();
    void bigBatchesAreChainedTheSame_data();
    void bigBatchesAreChainedTheSame();
    void failedBigBatchAppendsNothing();
    void headAndRanges();
    void twoProcessesKeepOneChain();
    void killedAppenderLeavesNoGap();
};

void tst_Audit::lineBytes_data()
{
    QTest::addColumn<qint64>("seq");
    QTest::addColumn<AuditEntry>("entry");
    QTest::addColumn<QByteArray>("prev");
    QTest::addColumn<QByteArray>("expected");

    // Every row is formatted at 1795735227123 ms = 2026-11-26T23:20:27.123Z.
    AuditEntry full;
    full.actor = {QStringLiteral("operator"), QStringLiteral("alice"), QStringLiteral("laptop-1")};
    full.action = QStringLiteral("stop.requested");
    full.target = {QStringLiteral("billing-agent"), QStringLiteral("run-42"), QStringLiteral("bob@example.com"),
                   QStringLiteral("payment"), QStringLiteral("issuing"), QStringLiteral("card_123")};
    full.reason = QStringLiteral("runaway spend");
    full.outcome = QStringLiteral("ok");
    full.detail = QJsonObject{{QStringLiteral("layers"), QJsonArray{QStringLiteral("runtime"), QStringLiteral("payment")}},
                              {QStringLiteral("count"), 2}};
    QTest::newRow("every field")
        << qint64(1) << full << zeroHash()
        << QByteArray(R"({"seq":1,"ts":"2026-11-26T23:20:27.123Z","actor":{"kind":"operator","id":"alice","host":"laptop-1"},)"
                      R"("action":"stop.requested","target":{"agent":"billing-agent","run":"run-42","principal":"bob@example.com",)"
                      R"("layer":"payment","provider":"issuing","object":"card_123"},"reason":"runaway spend","outcome":"ok",)"
                      R"("detail":{"count":2,"layers":["runtime","payment"]},)"
                      R"("prev":"0000000000000000000000000000000000000000000000000000000000000000"})");

    AuditEntry sparse;
    sparse.actor.kind = QStringLiteral("system");
    sparse.action = QStringLiteral("approval.expired");
    sparse.target.run = QStringLiteral("run-7");
    const QByteArray prev = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    QTest::newRow("unknown fields are null")
        << qint64(12) << sparse << prev
        << QByteArray(R"({"seq":12,"ts":"2026-11-26T23:20:27.123Z","actor":{"kind":"system","id":null,"host":null},)"
                      R"("action":"approval.expired","target":{"agent":null,"run":"run-7","principal":null,"layer":null,)"
                      R"("provider":null,"object":null},"reason":null,"outcome":null,"detail":{},)"
                      R"("prev":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})");

    AuditEntry escapes = sparse;
    escapes.reason = QStringLiteral("said \"stop\"\\now\n\ttab\r\b\f") + QChar(0x01) + QChar(0x1f)
                     + QStringLiteral("/ caf\u00e9 \u2192 \U0001F6D1");
    escapes.detail = QJsonObject{{QStringLiteral("quote"), QStringLiteral("a\"b")},
                                 {QStringLiteral("text"), QStringLiteral("\u00e9")}};
    QTest::newRow("escapes per RFC 8259, UTF-8 as is")
        << qint64(3) << escapes << prev
        << QByteArray("{\"seq\":3,\"ts\":\"2026-11-26T23:20:27.123Z\",\"actor\":{\"kind\":\"system\",\"id\":null,\"host\":null},"
                      "\"action\":\"approval.expired\",\"target\":{\"agent\":null,\"run\":\"run-7\",\"principal\":null,\"layer\":null,"
                      "\"provider\":null,\"object\":null},"
                      "\"reason\":\"said \\\"stop\\\"\\\\now\\n\\ttab\\r\\b\\f\\u0001\\u001f/ caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x9b\x91\","
                      "\"outcome\":null,\"detail\":{\"quote\":\"a\\\"b\",\"text\":\"\xc3\xa9\"},"
                      "\"prev\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}");
}

void tst_Audit::lineBytes()
{
    QFETCH(qint64, seq);
    QFETCH(AuditEntry, entry);
    QFETCH(QByteArray, prev);
    QFETCH(QByteArray, expected);
    const QByteArray line = formatAuditLine(seq, 1795735227123, entry, prev);
    QCOMPARE(line, expected);
    // It is one line of valid JSON whatever the input.
    QVERIFY(!line.contains('\n'));
    QJsonParseError error;
    QJsonDocument::fromJson(line, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
}

void tst_Audit::detailIsQtCompactJson_data()
{
    // The line's detail is written without QJsonDocument on the append path; it must stay the
    // bytes QJsonDocument's compact form gives for the same object.
    QTest::addColumn<QJsonObject>("detail");
    const QString allControls = []() -> QString {
        QString s;
        for (char16_t c = 0; c < 0x20; ++c)
            s += QChar(c);
        return s + QChar(0x7f) + QStringLiteral("\"/");
    }();
    QTest::newRow("empty") << QJsonObject{};
    QTest::newRow("keys sorted") << QJsonObject{{QStringLiteral("z"), 1}, {QStringLiteral("a"), 2}, {QStringLiteral("M"), 3}};
    QTest::newRow("integers") << QJsonObject{{QStringLiteral("zero"), 0}, {QStringLiteral("neg"), -42},
                                             {QStringLiteral("big"), qint64(9007199254740993)},
                                             {QStringLiteral("min"), std::numeric_limits<qint64>::min()},
                                             {QStringLiteral("max"), std::numeric_limits<qint64>::max()}};
    QTest::newRow("doubles") << QJsonObject{{QStringLiteral("half"), 0.5}, {QStringLiteral("whole"), 1000000.0},
                                            {QStringLiteral("tiny"), 1e-300}, {QStringLiteral("third"), 1.0 / 3},
                                            {QStringLiteral("negzero"), -0.0}, {QStringLiteral("huge"), 1.5e300},
                                            {QStringLiteral("inf"), std::numeric_limits<double>::infinity()},
                                            {QStringLiteral("nan"), std::numeric_limits<double>::quiet_NaN()}};
    QTest::newRow("bool and null") << QJsonObject{{QStringLiteral("t"), true}, {QStringLiteral("f"), false},
                                                  {QStringLiteral("n"), QJsonValue::Null}};
    QTest::newRow("strings") << QJsonObject{{QStringLiteral("empty"), QString()}, {QStringLiteral("controls"), allControls},
                                            {QStringLiteral("utf8"), QStringLiteral("caf\u00e9 \u2192 \U0001F6D1 \u4e2d")},
                                            {QStringLiteral("mixed"), QStringLiteral("\u00e9\"\n\\a")},
                                            {allControls, QStringLiteral("key escaped too")}};
    QTest::newRow("nested") << QJsonObject{{QStringLiteral("layers"), QJsonArray{QStringLiteral("runtime"), 2, QJsonArray{},
                                                                                 QJsonObject{{QStringLiteral("b"), QJsonArray{true, QJsonValue::Null}}}}},
                                           {QStringLiteral("o"), QJsonObject{{QStringLiteral("k"), QJsonObject{}}}}};
}

void tst_Audit::detailIsQtCompactJson()
{
    QFETCH(QJsonObject, detail);
    QCOMPARE(formatAuditDetail(detail), QJsonDocument(detail).toJson(QJsonDocument::Compact));
}

void tst_Audit::timestamps_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QByteArray>("ts");
    QTest::newRow("epoch") << qint64(0) << QByteArray("1970-01-01T00:00:00.000Z");
    QTest::newRow("milliseconds kept") << qint64(1795735227005) << QByteArray("2026-11-26T23:20:27.005Z");
    QTest::newRow("leap day") << qint64(1709251199999) << QByteArray("2024-02-29T23:59:59.999Z");
    QTest::newRow("day after a century leap day") << qint64(951868800000) << QByteArray("2000-03-01T00:00:00.000Z");
    QTest::newRow("no leap day in 2100") << qint64(4107542400000) << QByteArray("2100-03-01T00:00:00.000Z");
    QTest::newRow("new year's eve") << qint64(1767225599999) << QByteArray("2025-12-31T23:59:59.999Z");
    QTest::newRow("before the epoch") << qint64(-1) << QByteArray("1969-12-31T23:59:59.999Z");
    QTest::newRow("year 9999") << qint64(253402300799999) << QByteArray("9999-12-31T23:59:59.999Z");
}

void tst_Audit::timestamps()
{
    QFETCH(qint64, ms);
    QFETCH(QByteArray, ts);
    const QByteArray line = formatAuditLine(1, ms, AuditEntry{}, zeroHash());
    const QByteArray expected = "{\"seq\":1,\"ts\":\"" + ts + "\",\"actor\":";
    QVERIFY2(line.startsWith(expected), line.constData());
    // The append path's own formatter writes what Qt writes.
    QCOMPARE(formatAuditTime(ms), QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs).toLatin1());
}

void tst_Audit::sha256KnownValues()
{
    QCOMPARE(sha256Hex(""), QByteArray("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    QCOMPARE(sha256Hex("abc"), QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    QCOMPARE(zeroHash(), QByteArray(64, '0'));
}

void tst_Audit::chainLinksEachRecordToThePrevious()
{
    QTemporaryDir dir;
    auto opened = Store::open(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(opened.ok());
    auto store = *opened;
    QVERIFY(!store->auditHead()->has_value());

    std::vector<AuditRecord> appended;
    for (int i = 1; i <= 5; ++i) {
        const auto r = store->appendAudit(sampleEntry(i));
        QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
        QCOMPARE(r->seq, i);
        appended.push_back(*r);
    }
    QCOMPARE(prevOf(appended[0].line), zeroHash());
    for (size_t i = 1; i < appended.size(); ++i)
        QCOMPARE(prevOf(appended[i].line), qtSha256Hex(appended[i - 1].line));

    const auto stored = store->auditRecords(1, 5);
    QVERIFY(stored.ok());
    QCOMPARE(stored->size(), size_t(5));
    for (size_t i = 0; i < stored->size(); ++i) {
        QCOMPARE((*stored)[i].line, appended[i].line); // the exact bytes come back
        QCOMPARE((*stored)[i].hashHex, appended[i].hashHex);
        QCOMPARE((*stored)[i].tsMs, appended[i].tsMs);
    }
    QCOMPARE(chainProblem(*stored), QString());
    // The line carries the record's own time.
    const QByteArray ts = QJsonDocument::fromJson(appended[2].line).object().value(QStringLiteral("ts")).toString().toLatin1();
    QCOMPARE(ts, QDateTime::fromMSecsSinceEpoch(appended[2].tsMs, Qt::UTC).toString(Qt::ISODateWithMs).toLatin1());

    // Anyone can re-walk the chain with standard tools: cross-check one hash with sha256sum.
    if (QStandardPaths::findExecutable(QStringLiteral("sha256sum")).isEmpty())
        QSKIP("sha256sum is not installed");
    QProcess sum;
    sum.start(QStringLiteral("sha256sum"), {});
    sum.write(appended[3].line);
    sum.closeWriteChannel();
    QTRY_COMPARE_WITH_TIMEOUT(sum.state(), QProcess::NotRunning, 10000);
    QCOMPARE(sum.readAllStandardOutput().left(64), prevOf(appended[4].line));
}

void tst_Audit::batchAppendContinuesTheChain()
{
    QTemporaryDir dir;
    auto store = *Store::open(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store->appendAudit(sampleEntry(0)).ok());
    std::vector<AuditEntry> entries;
    for (int i = 1; i <= 10; ++i)
        entries.push_back(sampleEntry(i));
    const auto batch = store->appendAuditBatch(entries);
    QVERIFY(batch.ok());
    QCOMPARE(batch->size(), size_t(10));
    QCOMPARE(batch->front().seq, 2);
    QCOMPARE(batch->back().seq, 11);
    QVERIFY(store->appendAudit(sampleEntry(11)).ok());
    const auto all = store->auditRecords(1, 1000);
    QCOMPARE(all->size(), size_t(12));
    QCOMPARE(chainProblem(*all), QString());
    QVERIFY(store->appendAuditBatch({})->empty());
    QCOMPARE(store->auditRecords(1, 1000)->size(), size_t(12));
}

void tst_Audit::bigBatchesAreChainedTheSame_data()
{
    // From 256 records a batch is chained on a second thread beside the inserts.
    QTest::addColumn<int>("size");
    for (const int n : {1, 255, 256, 257, 3000})
        QTest::addRow("%d", n) << n;
}

void tst_Audit::bigBatchesAreChainedTheSame()
{
    QFETCH(int, size);
    QTemporaryDir dir;
    auto store = *Store::open(dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY(store->appendAudit(sampleEntry(0)).ok());
    std::vector<AuditEntry> entries;
    for (int i = 1; i <= size; ++i)
        entries.push_back(sampleEntry(i));
    const auto batch = store->appendAuditBatch(entries);
    QVERIFY2(batch.ok(), batch.ok() ? "" : qPrintable(batch.error().message));
    QCOMPARE(batch->size(), size_t(size));
    const auto all = store->auditRecords(1, size + 1);
    QCOMPARE(all->size(), size_t(size + 1));
    QCOMPARE(chainProblem(*all), QString());
    for (int i = 0; i < size; ++i) {
        const AuditRecord &stored = (*all)[size_t(i) + 1];
        const AuditRecord &returned = (*batch)[size_t(i)];
        QCOMPARE(returned.seq, stored.seq);
        QCOMPARE(returned.line, stored.line);
        QCOMPARE(returned.hashHex, stored.hashHex);
        // Byte for byte the line a one-record append would have written.
        QCOMPARE(stored.line, formatAuditLine(stored.seq, stored.tsMs, entries[size_t(i)], (*all)[size_t(i)].hashHex));
    }
}

void tst_Audit::failedBigBatchAppendsNothing()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    auto store = *Store::open(path);
    QVERIFY(store->appendAudit(sampleEntry(0)).ok());
    // An insert refused in the middle of a pipelined batch (a trigger added from outside).
    auto sql = [&path](const char *statement) {
        sqlite3 *db = nullptr;
        if (sqlite3_open(QFile::encodeName(path).constData(), &db) != SQLITE_OK)
            return false;
        sqlite3_busy_timeout(db, 5000);
        const int rc = sqlite3_exec(db, statement, nullptr, nullptr, nullptr);
        sqlite3_close(db);
        return rc == SQLITE_OK;
    };
    QVERIFY(sql("CREATE TRIGGER refuse_400 BEFORE INSERT ON audit WHEN NEW.seq = 400 "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"));
    std::vector<AuditEntry> entries;
    for (int i = 1; i <= 1000; ++i)
        entries.push_back(sampleEntry(i));
    const auto failed = store->appendAuditBatch(entries);
    QVERIFY(!failed.ok());
    QVERIFY2(failed.error().message.contains(QStringLiteral("refused by the test")), qPrintable(failed.error().message));
    QCOMPARE(store->auditRecords(1, 2000)->size(), size_t(1)); // nothing of the batch
    QVERIFY(sql("DROP TRIGGER refuse_400"));
    QVERIFY(store->appendAuditBatch(entries).ok());
    const auto all = store->auditRecords(1, 2000);
    QCOMPARE(all->size(), size_t(1001));
    QCOMPARE(chainProblem(*all), QString());
}

void tst_Audit::headAndRanges()
{
    QTemporaryDir dir;
    auto store = *Store::open(dir.filePath(QStringLiteral("breaker.db")));
    for (int i = 1; i <= 7; ++i)
        QVERIFY(store->appendAudit(sampleEntry(i)).ok());
    const auto head = store->auditHead();
    QVERIFY(head.ok() && head->has_value());
    QCOMPARE((*head)->seq, 7);
    QCOMPARE((*head)->hashHex, qtSha256Hex((*head)->line));
    const auto range = store->auditRecords(3, 5);
    QCOMPARE(range->size(), size_t(3));
    QCOMPARE(range->front().seq, 3);
    QCOMPARE(range->back().seq, 5);
    QCOMPARE(prevOf(range->at(1).line), range->at(0).hashHex);
    QVERIFY(store->auditRecords(8, 20)->empty());
}

void tst_Audit::twoProcessesKeepOneChain()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    QVERIFY(Store::open(path).ok()); // schema in place before the race
    QProcess a;
    QProcess b;
    a.start(QStringLiteral(AUDIT_APPEND_CHILD), {path, QStringLiteral("200"), QStringLiteral("child-a")});
    b.start(QStringLiteral(AUDIT_APPEND_CHILD), {path, QStringLiteral("200"), QStringLiteral("child-b")});
    QTRY_VERIFY_WITH_TIMEOUT(a.state() == QProcess::NotRunning && b.state() == QProcess::NotRunning, 120000);
    QVERIFY2(a.exitStatus() == QProcess::NormalExit && a.exitCode() == 0, a.readAllStandardError().constData());
    QVERIFY2(b.exitStatus() == QProcess::NormalExit && b.exitCode() == 0, b.readAllStandardError().constData());
    QList<qint64> seqs = seqsFrom(a.readAllStandardOutput()) + seqsFrom(b.readAllStandardOutput());
    QCOMPARE(seqs.size(), 400);
    std::sort(seqs.begin(), seqs.end());
    for (int i = 0; i < seqs.size(); ++i)
        QCOMPARE(seqs[i], qint64(i + 1)); // each seq handed out exactly once

    auto store = *Store::open(path);
    const auto records = store->auditRecords(1, 10000);
    QCOMPARE(records->size(), size_t(400));
    QCOMPARE(chainProblem(*records), QString());
    int fromA = 0;
    int fromB = 0;
    for (const AuditRecord &r : *records) {
        const QString actor = QJsonDocument::fromJson(r.line).object().value(QStringLiteral("actor")).toObject().value(QStringLiteral("id")).toString();
        fromA += actor == QStringLiteral("child-a");
        fromB += actor == QStringLiteral("child-b");
    }
    QCOMPARE(fromA, 200);
    QCOMPARE(fromB, 200);
}

void tst_Audit::killedAppenderLeavesNoGap()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("breaker.db"));
    QProcess child;
    QByteArray out;
    connect(&child, &QProcess::readyReadStandardOutput, this, [&] { out += child.readAllStandardOutput(); });
    child.start(QStringLiteral(AUDIT_APPEND_CHILD), {path, QStringLiteral("0"), QStringLiteral("doomed")});
    QTRY_VERIFY_WITH_TIMEOUT(out.count('\n') >= 50, 60000);
    child.kill();
    QTRY_COMPARE_WITH_TIMEOUT(child.state(), QProcess::NotRunning, 10000);
    QCOMPARE(child.exitStatus(), QProcess::CrashExit);
    out += child.readAllStandardOutput();
    const QList<qint64> reported = seqsFrom(out);
    QVERIFY(reported.size() >= 50);

    auto store = *Store::open(path);
    const auto head = store->auditHead();
    QVERIFY(head->has_value());
    QVERIFY((*head)->seq >= reported.last()); // everything reported is there
    auto records = store->auditRecords(1, (*head)->seq);
    QCOMPARE(qint64(records->size()), (*head)->seq);
    QCOMPARE(chainProblem(*records), QString());

    // The chain goes on from where the killed process left it.
    const auto next = store->appendAudit(sampleEntry(1));
    QVERIFY(next.ok());
    QCOMPARE(next->seq, (*head)->seq + 1);
    QCOMPARE(prevOf(next->line), qtSha256Hex((*head)->line));
    records = store->auditRecords(1, next->seq);
    QCOMPARE(chainProblem(*records), QString());
}

QTEST_GUILESS_MAIN(tst_Audit)
#include "tst_audit.moc"
