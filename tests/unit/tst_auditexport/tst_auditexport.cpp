// Audit exports and their verification (issue 5 items 4 and 5, "Bad input and tampering"):
// the folder as DESIGN.md section 7 lays it out, and every way of tampering with it caught and
// named: what, and on which line.
#include "app/services/AuditExport.h"
#include "app/services/AuditKeyStore.h"
#include "app/services/AuditSeal.h"
#include "app/services/AuditVerify.h"
#include "models/AuditRecord.h"
#include "models/Store.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace Breaker;

namespace {

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeAll(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}

QByteArray sha(const QByteArray &bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex();
}

void copyFolder(const QString &from, const QString &to)
{
    QVERIFY(QDir().mkpath(to));
    for (const QString &name : QDir(from).entryList(QDir::Files | QDir::Hidden))
        QVERIFY(QFile::copy(QDir(from).filePath(name), QDir(to).filePath(name)));
}

QList<QByteArray> linesOf(const QByteArray &jsonl)
{
    QList<QByteArray> lines = jsonl.split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    return lines;
}

QByteArray joinLines(const QList<QByteArray> &lines)
{
    QByteArray out;
    for (const QByteArray &l : lines)
        out += l + '\n';
    return out;
}

AuditEntry sampleEntry(int n)
{
    AuditEntry e;
    e.actor = {QStringLiteral("operator"), QStringLiteral("alice"), QStringLiteral("laptop-1")};
    e.action = n % 3 == 0 ? QStringLiteral("approval.decided") : QStringLiteral("stop.layer");
    e.target.agent = n % 2 ? QStringLiteral("refund-agent") : QStringLiteral("claims-agent");
    e.target.layer = QStringLiteral("payment");
    e.reason = QStringLiteral("drill %1 \u00e9t\u00e9").arg(n, 3, 10, QLatin1Char('0'));
    e.outcome = QStringLiteral("verified");
    e.detail = QJsonObject{
        {QStringLiteral("n"), n},
        {QStringLiteral("nested"), QJsonObject{{QStringLiteral("a"), QJsonArray{1, 2.5, true}}}}};
    return e;
}

AuditEntry::Actor exporter()
{
    return {QStringLiteral("operator"), QStringLiteral("auditor"), QStringLiteral("laptop-1")};
}

// An attacker's re-signing: a new key, the manifest's key_fingerprint and file hashes made to
// agree, the manifest signed again. Only pinning or --previous can tell.
void resignWithAttackerKey(const QString &dir, const std::function<void(QJsonObject &)> &edit = {})
{
    auto attacker = AuditSigner::generate();
    QVERIFY(attacker.ok());
    writeAll(QDir(dir).filePath(QStringLiteral("public-key.pem")), attacker->publicKey().pem());
    QJsonObject m
        = QJsonDocument::fromJson(readAll(QDir(dir).filePath(QStringLiteral("manifest.json"))))
              .object();
    m.insert(QStringLiteral("key_fingerprint"), QString::fromLatin1(attacker->fingerprint()));
    if (edit)
        edit(m);
    QJsonObject files = m.value(QStringLiteral("files")).toObject();
    for (auto it = files.begin(); it != files.end(); ++it)
        it.value() = QString::fromLatin1(sha(readAll(QDir(dir).filePath(it.key()))));
    m.insert(QStringLiteral("files"), files);
    const QByteArray bytes = QJsonDocument(m).toJson();
    writeAll(QDir(dir).filePath(QStringLiteral("manifest.json")), bytes);
    writeAll(QDir(dir).filePath(QStringLiteral("manifest.sig")), *attacker->sign(bytes));
}

} // namespace

class tst_AuditExport : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();

    void scanner_data();
    void scanner();
    void scannerAgreesWithTheWriter();

    void folderAsDesigned();
    void exportIsRecordedAndSealed();
    void derivedFilesFollowTheFilter();
    void progressIsReported();
    void verifiesIntact();

    void tampering_data();
    void tampering();
    void splitAcrossThreads_data();
    void splitAcrossThreads();
    void exportsALineLongerThanABuffer();

    void emptyRange();
    void emptyStore();
    void rangeBeyondTheEndIsRefused();
    void existingFolderIsRefused();
    void fullDiskLeavesNoFolder_data();
    void fullDiskLeavesNoFolder();
    void timeBounds();
    void parsesTimes_data();
    void parsesTimes();

private:
    Result<AuditExportResult> runExport(const QString &out,
                                        std::optional<qint64> from,
                                        std::optional<qint64> to,
                                        bool derived = false);
    QTemporaryDir m_dir;
    std::shared_ptr<Store> m_store;
    std::optional<AuditKey> m_key;
    QString m_first;  // seq 1..10
    QString m_second; // seq 11..20, with csv and ocsf
    QString m_gap;    // seq 1..9
    QString m_firstTampered;
};

Result<AuditExportResult> tst_AuditExport::runExport(const QString &out,
                                                     std::optional<qint64> from,
                                                     std::optional<qint64> to,
                                                     bool derived)
{
    AuditExportOptions o;
    o.outDir = out;
    o.fromSeq = from;
    o.toSeq = to;
    o.csv = derived;
    o.ocsf = derived;
    o.actor = exporter();
    o.program = QStringLiteral("tst_auditexport");
    return exportAudit(*m_store, *m_key, o);
}

void tst_AuditExport::initTestCase()
{
    QVERIFY(m_dir.isValid());
    auto store = Store::open(m_dir.filePath(QStringLiteral("breaker.db")));
    QVERIFY2(store.ok(), store.ok() ? "" : qPrintable(store.error().message));
    m_store = *store;
    std::vector<AuditEntry> entries;
    for (int i = 1; i <= 20; ++i)
        entries.push_back(sampleEntry(i));
    QVERIFY(m_store->appendAuditBatch(entries).ok());
    auto key = loadAuditKeyFile(m_dir.filePath(QStringLiteral("audit-key.pem")));
    QVERIFY(key.ok());
    m_key = *key;

    m_first = m_dir.filePath(QStringLiteral("export-1-10"));
    m_second = m_dir.filePath(QStringLiteral("export-11-20"));
    m_gap = m_dir.filePath(QStringLiteral("export-1-9"));
    auto a = runExport(m_first, 1, 10);
    QVERIFY2(a.ok(), a.ok() ? "" : qPrintable(a.error().message));
    auto b = runExport(m_second, 11, 20, true);
    QVERIFY2(b.ok(), b.ok() ? "" : qPrintable(b.error().message));
    auto c = runExport(m_gap, 1, 9);
    QVERIFY(c.ok());
    m_firstTampered = m_dir.filePath(QStringLiteral("export-1-10-tampered"));
    copyFolder(m_first, m_firstTampered);
    const QString jsonl = QDir(m_firstTampered).filePath(QStringLiteral("audit.jsonl"));
    QByteArray bytes = readAll(jsonl);
    bytes.replace("drill 003", "drill 004");
    writeAll(jsonl, bytes);
}

// ---- the strict line scanner ----------------------------------------------------------------

void tst_AuditExport::scanner_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("why"); // empty: accepted

    const QByteArray prev = QByteArray(64, 'a');
    auto line = [&](const QByteArray &middle) -> QByteArray {
        return "{\"seq\":12,\"ts\":\"2026-11-26T23:20:27.123Z\"," + middle + ",\"prev\":\"" + prev
               + "\"}";
    };
    const QByteArray actor = "\"actor\":{\"kind\":\"operator\",\"id\":\"alice\",\"host\":null}";
    const QByteArray target = "\"target\":{\"agent\":\"a\",\"run\":null,\"principal\":null,"
                              "\"layer\":null,\"provider\":null,\"object\":null}";
    const QByteArray tail = "\"reason\":\"r\",\"outcome\":null,\"detail\":{}";
    auto rec = [&](const QByteArray &detail) -> QByteArray {
        return line(actor + ",\"action\":\"stop.layer\"," + target
                    + ",\"reason\":\"r\",\"outcome\":null,\"detail\":" + detail);
    };
    QTest::newRow("good") << line(actor + ",\"action\":\"x\"," + target + "," + tail) << QString();
    QTest::newRow("good, detail of every kind") << rec(
        "{\"a\":[1,-2.5e+3,0,true,false,null,\"s\\u00e9\\n\\\"\"],\"b\":{\"c\":{}},\"d\":[]}")
                                                << QString();
    QTest::newRow("good, utf-8") << rec(
        "{\"w\":\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}")
                                 << QString();
    QTest::newRow("fields out of order")
        << line("\"action\":\"x\"," + actor + "," + target + "," + tail)
        << QStringLiteral("actor is missing or out of order");
    QTest::newRow("field missing")
        << line(actor + "," + target + "," + tail) << QStringLiteral("action is missing");
    QTest::newRow("field added") << line(actor + ",\"action\":\"x\",\"extra\":1," + target + ","
                                         + tail)
                                 << QStringLiteral("target is missing");
    QTest::newRow("actor field missing")
        << line("\"actor\":{\"kind\":\"operator\",\"id\":\"alice\"},\"action\":\"x\"," + target
                + "," + tail)
        << QStringLiteral("actor or target is missing a field");
    QTest::newRow("prev not last")
        << QByteArray("{\"seq\":1,\"ts\":\"t\"," + actor + ",\"action\":\"x\"," + target + ","
                      + tail + ",\"prev\":\"" + prev + "\",\"x\":1}")
        << QStringLiteral("field after prev");
    QTest::newRow("bytes after the object")
        << line(actor + ",\"action\":\"x\"," + target + "," + tail) + " "
        << QStringLiteral("after the record");
    QTest::newRow("seq zero") << QByteArray("{\"seq\":0,")
                              << QStringLiteral("seq is not a positive integer");
    QTest::newRow("seq leading zero")
        << QByteArray("{\"seq\":012,\"ts\":") << QStringLiteral("seq is not a positive integer");
    QTest::newRow("seq fraction") << QByteArray("{\"seq\":1.5,")
                                  << QStringLiteral("seq is not a positive integer");
    QTest::newRow("seq string") << QByteArray("{\"seq\":\"1\",")
                                << QStringLiteral("seq is not a positive integer");
    QTest::newRow("not an object") << QByteArray("[1]") << QStringLiteral("not a JSON object");
    QTest::newRow("empty") << QByteArray() << QStringLiteral("empty");
    QTest::newRow("prev uppercase")
        << QByteArray(line(actor + ",\"action\":\"x\"," + target + "," + tail))
               .replace(prev, QByteArray(64, 'A'))
        << QStringLiteral("prev is not 64 lowercase hex");
    QTest::newRow("prev short") << QByteArray(
                                       line(actor + ",\"action\":\"x\"," + target + "," + tail))
                                       .replace(prev, QByteArray(63, 'a'))
                                << QStringLiteral("prev is not 64 lowercase hex");
    QTest::newRow("bad escape") << rec("{\"a\":\"\\x41\"}") << QStringLiteral("invalid escape");
    QTest::newRow("short \\u") << rec("{\"a\":\"\\u12\"}") << QStringLiteral("four hex digits");
    QTest::newRow("raw tab in a string")
        << rec("{\"a\":\"x\ty\"}") << QStringLiteral("raw control character");
    QTest::newRow("invalid utf-8") << rec("{\"a\":\"\xff\"}") << QStringLiteral("not valid UTF-8");
    QTest::newRow("overlong utf-8")
        << rec("{\"a\":\"\xc0\xaf\"}") << QStringLiteral("not valid UTF-8");
    QTest::newRow("utf-8 surrogate")
        << rec("{\"a\":\"\xed\xa0\x80\"}") << QStringLiteral("not valid UTF-8");
    QTest::newRow("truncated utf-8")
        << rec("{\"a\":\"\xe2\x82\"}") << QStringLiteral("not valid UTF-8");
    QTest::newRow("number with leading zero")
        << rec("{\"a\":01}") << QStringLiteral("not followed by ',' or '}'");
    QTest::newRow("number without digits after dot")
        << rec("{\"a\":1.}") << QStringLiteral("number is not valid");
    QTest::newRow("trailing comma") << rec("{\"a\":1,}") << QStringLiteral("key is not a string");
    QTest::newRow("single quotes") << rec("{'a':1}") << QStringLiteral("key is not a string");
    QTest::newRow("bare word") << rec("{\"a\":yes}") << QStringLiteral("not valid JSON");
    QTest::newRow("detail not an object")
        << rec("[1]") << QStringLiteral("detail is not a JSON object");
    QTest::newRow("unclosed array")
        << rec("{\"a\":[1,2}") << QStringLiteral("not followed by ',' or ']'");
    QTest::newRow("too deep") << rec("{\"a\":" + QByteArray(70, '[') + QByteArray(70, ']') + "}")
                              << QStringLiteral("nested too deeply");
    QTest::newRow("actor not an object")
        << line("\"actor\":\"alice\",\"action\":\"x\"," + target + "," + tail)
        << QStringLiteral("not an object");
}

void tst_AuditExport::scanner()
{
    QFETCH(QByteArray, line);
    QFETCH(QString, why);
    AuditLineFields fields;
    const char *got = scanAuditLine(line, &fields);
    if (why.isEmpty()) {
        QVERIFY2(!got, got);
        QCOMPARE(fields.seq, qint64(12));
        QCOMPARE(fields.prev.toByteArray(), QByteArray(64, 'a'));
        // What the scanner accepts is JSON (Qt's parser agrees).
        QJsonParseError error;
        QJsonDocument::fromJson(line, &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
    } else {
        QVERIFY2(got, "accepted a line it must refuse");
        QVERIFY2(QString::fromLatin1(got).contains(why), got);
    }
}

void tst_AuditExport::scannerAgreesWithTheWriter()
{
    // Every line the Store wrote passes, with the seq and prev it holds.
    auto records = m_store->auditRecords(1, 1000);
    QVERIFY(records.ok());
    QByteArray prev = zeroHash();
    for (const AuditRecord &r : *records) {
        AuditLineFields fields;
        const char *why = scanAuditLine(r.line, &fields);
        QVERIFY2(!why, why);
        QCOMPARE(fields.seq, r.seq);
        QCOMPARE(fields.prev.toByteArray(), prev);
        prev = r.hashHex;
    }
}

// ---- the folder ----------------------------------------------------------------------------

void tst_AuditExport::folderAsDesigned()
{
    QDir dir(m_second);
    QStringList names = dir.entryList(QDir::Files | QDir::Hidden);
    names.sort();
    QCOMPARE(names,
             (QStringList{QStringLiteral("audit.csv"),
                          QStringLiteral("audit.jsonl"),
                          QStringLiteral("audit.ocsf.jsonl"),
                          QStringLiteral("manifest.json"),
                          QStringLiteral("manifest.sig"),
                          QStringLiteral("public-key.pem")}));
    // audit.jsonl: the Store's exact line bytes, one per line.
    auto records = m_store->auditRecords(10, 20);
    QVERIFY(records.ok());
    QByteArray expected;
    for (size_t i = 1; i < records->size(); ++i)
        expected += (*records)[i].line + '\n';
    const QByteArray jsonl = readAll(dir.filePath(QStringLiteral("audit.jsonl")));
    QCOMPARE(jsonl, expected);

    const QByteArray manifestBytes = readAll(dir.filePath(QStringLiteral("manifest.json")));
    const QJsonObject m = QJsonDocument::fromJson(manifestBytes).object();
    QCOMPARE(m.value(QStringLiteral("format")).toString(), QStringLiteral("breaker-audit/1"));
    const QJsonObject range = m.value(QStringLiteral("range")).toObject();
    QCOMPARE(range.value(QStringLiteral("first_seq")).toInteger(), 11);
    QCOMPARE(range.value(QStringLiteral("last_seq")).toInteger(), 20);
    QCOMPARE(
        range.value(QStringLiteral("from")).toString(),
        QDateTime::fromMSecsSinceEpoch((*records)[1].tsMs, Qt::UTC).toString(Qt::ISODateWithMs));
    QVERIFY(range.contains(QStringLiteral("to")));
    QCOMPARE(m.value(QStringLiteral("count")).toInteger(), 10);
    QCOMPARE(m.value(QStringLiteral("anchor_prev")).toString().toLatin1(), (*records)[0].hashHex);
    QCOMPARE(m.value(QStringLiteral("last_hash")).toString().toLatin1(), records->back().hashHex);
    QCOMPARE(m.value(QStringLiteral("key_fingerprint")).toString().toLatin1(),
             m_key->signer.fingerprint());
    QCOMPARE(m.value(QStringLiteral("key_storage")).toString(), QStringLiteral("file"));
    QVERIFY(!m.value(QStringLiteral("exported_at")).toString().isEmpty());
    QCOMPARE(
        m.value(QStringLiteral("exporter")).toObject().value(QStringLiteral("operator")).toString(),
        QStringLiteral("auditor"));
    const QJsonObject files = m.value(QStringLiteral("files")).toObject();
    QCOMPARE(files.keys(),
             (QStringList{QStringLiteral("audit.csv"),
                          QStringLiteral("audit.jsonl"),
                          QStringLiteral("audit.ocsf.jsonl"),
                          QStringLiteral("public-key.pem")}));
    for (auto it = files.begin(); it != files.end(); ++it)
        QCOMPARE(it.value().toString().toLatin1(), sha(readAll(dir.filePath(it.key()))));
    // The signature is over the manifest's exact bytes; the key is the console's.
    const QByteArray sig = readAll(dir.filePath(QStringLiteral("manifest.sig")));
    QCOMPARE(sig.size(), 64);
    QVERIFY(m_key->signer.publicKey().verify(manifestBytes, sig));
    QCOMPARE(readAll(dir.filePath(QStringLiteral("public-key.pem"))),
             m_key->signer.publicKey().pem());
    // No partial folder is left beside it.
    for (const QString &name :
         QDir(m_dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot))
        QVERIFY2(!name.contains(QStringLiteral(".partial-")), qPrintable(name));
}

void tst_AuditExport::exportIsRecordedAndSealed()
{
    // initTestCase made three exports after the 20 records: seq 21, 22, 23.
    auto records = m_store->auditRecords(21, 23);
    QVERIFY(records.ok());
    QCOMPARE(records->size(), size_t(3));
    const QJsonObject second = QJsonDocument::fromJson((*records)[1].line).object();
    QCOMPARE(second.value(QStringLiteral("action")).toString(), QStringLiteral("audit.exported"));
    QCOMPARE(
        second.value(QStringLiteral("actor")).toObject().value(QStringLiteral("id")).toString(),
        QStringLiteral("auditor"));
    QCOMPARE(second.value(QStringLiteral("target"))
                 .toObject()
                 .value(QStringLiteral("object"))
                 .toString(),
             m_second);
    const QJsonObject detail = second.value(QStringLiteral("detail")).toObject();
    QCOMPARE(detail.value(QStringLiteral("count")).toInteger(), 10);
    QCOMPARE(detail.value(QStringLiteral("range"))
                 .toObject()
                 .value(QStringLiteral("first_seq"))
                 .toInteger(),
             11);
    QCOMPARE(detail.value(QStringLiteral("folder")).toString(), m_second);
    QCOMPARE(detail.value(QStringLiteral("formats")).toArray(),
             (QJsonArray{QStringLiteral("jsonl"), QStringLiteral("csv"), QStringLiteral("ocsf")}));
    QCOMPARE(detail.value(QStringLiteral("key_fingerprint")).toString().toLatin1(),
             m_key->signer.fingerprint());
    QVERIFY(detail.contains(QStringLiteral("filters")));
    // Never the key itself.
    QVERIFY(!(*records)[1].line.contains("PRIVATE"));
    QVERIFY(!(*records)[1].line.contains(m_key->signer.privatePem().mid(28, 20)));
    // The range never holds its own record: audit.jsonl ends at 20.
    QVERIFY(!readAll(QDir(m_second).filePath(QStringLiteral("audit.jsonl")))
                 .contains("audit.exported"));
    // Each export sealed the head it left.
    auto checkpoints = m_store->auditCheckpoints();
    QVERIFY(checkpoints.ok());
    QVERIFY(!checkpoints->empty());
    QCOMPARE(checkpoints->back().seq, qint64(23));
    auto check = checkAuditChain(*m_store, m_key->signer.publicKey());
    QVERIFY(check.ok());
    QVERIFY2(check->ok, qPrintable(check->summary()));
    QCOMPARE(check->lastGoodCheckpointSeq, qint64(23));
}

void tst_AuditExport::derivedFilesFollowTheFilter()
{
    AuditExportOptions o;
    o.outDir = m_dir.filePath(QStringLiteral("filtered"));
    o.fromSeq = 1;
    o.toSeq = 20;
    o.csv = true;
    o.ocsf = true;
    o.filter.agent = QStringLiteral("refund-agent"); // the odd records
    o.actor = exporter();
    auto r = exportAudit(*m_store, *m_key, o);
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->count, qint64(20));
    QCOMPARE(r->csvRows, qint64(10));
    QCOMPARE(r->ocsfEvents, qint64(10));
    QCOMPARE(linesOf(readAll(QDir(o.outDir).filePath(QStringLiteral("audit.jsonl")))).size(),
             qsizetype(20));
    const QByteArray csv = readAll(QDir(o.outDir).filePath(QStringLiteral("audit.csv")));
    QCOMPARE(csv.count("\r\n"), qsizetype(11)); // header + 10 rows
    QVERIFY(!csv.contains("claims-agent"));
    QCOMPARE(linesOf(readAll(QDir(o.outDir).filePath(QStringLiteral("audit.ocsf.jsonl")))).size(),
             qsizetype(10));
    const QJsonObject filters
        = QJsonDocument::fromJson(readAll(QDir(o.outDir).filePath(QStringLiteral("manifest.json"))))
              .object()
              .value(QStringLiteral("filters"))
              .toObject();
    QCOMPARE(filters.value(QStringLiteral("agent")).toString(), QStringLiteral("refund-agent"));
    AuditVerifyOptions v;
    v.dir = o.outDir;
    QVERIFY(verifyAuditExport(v).ok);
}

void tst_AuditExport::progressIsReported()
{
    std::vector<std::pair<qint64, qint64>> calls;
    AuditExportOptions o;
    o.outDir = m_dir.filePath(QStringLiteral("progress"));
    o.fromSeq = 1;
    o.toSeq = 20;
    o.actor = exporter();
    o.progress = [&](qint64 done, qint64 total) { calls.emplace_back(done, total); };
    QVERIFY(exportAudit(*m_store, *m_key, o).ok());
    QVERIFY(!calls.empty());
    QCOMPARE(calls.back(), (std::pair<qint64, qint64>(20, 20)));
    for (size_t i = 1; i < calls.size(); ++i)
        QVERIFY(calls[i].first >= calls[i - 1].first);
}

void tst_AuditExport::verifiesIntact()
{
    AuditVerifyOptions o;
    o.dir = m_second;
    const AuditVerifyReport r = verifyAuditExport(o);
    QVERIFY2(r.ok, qPrintable(r.reason));
    QCOMPARE(r.records, qint64(10));
    QCOMPARE(r.firstSeq, qint64(11));
    QCOMPARE(r.lastSeq, qint64(20));
    QVERIFY(!r.pinned);
    QCOMPARE(r.keyFingerprint, m_key->signer.fingerprint());
    QVERIFY2(
        r.note.contains(QStringLiteral("integrity proven, origin not: the key was not pinned")),
        qPrintable(r.note));
    QVERIFY(r.summary().contains(QStringLiteral("origin not")));
    const QJsonObject json = r.toJson();
    QCOMPARE(json.value(QStringLiteral("ok")).toBool(), true);
    QVERIFY(json.value(QStringLiteral("first_bad_line")).isNull());
    QVERIFY(json.value(QStringLiteral("reason")).isNull());
    QCOMPARE(json.value(QStringLiteral("pinned")).toBool(), false);
}

// ---- tampering -----------------------------------------------------------------------------

void tst_AuditExport::tampering_data()
{
    QTest::addColumn<QString>("tamper");
    QTest::addColumn<QString>("pin");      // "", "fingerprint", "other"
    QTest::addColumn<QString>("previous"); // "", "first", "gap", "tampered"
    QTest::addColumn<bool>("ok");
    QTest::addColumn<bool>("pinned");
    QTest::addColumn<int>("badLine");
    QTest::addColumn<QString>("reason"); // a fragment of the reason (or of the note when ok)

    auto row = [](const char *name,
                  const char *tamper,
                  const char *pin,
                  const char *previous,
                  bool ok,
                  bool pinned,
                  int badLine,
                  const char *reason) {
        QTest::newRow(name) << QString::fromLatin1(tamper) << QString::fromLatin1(pin)
                            << QString::fromLatin1(previous) << ok << pinned << badLine
                            << QString::fromUtf8(reason);
    };
    row("intact",
        "",
        "",
        "",
        true,
        false,
        0,
        "integrity proven, origin not: the key was not pinned");
    row("intact, pinned", "", "fingerprint", "", true, true, 0, "integrity and origin proven");
    row("intact, pinned to another key", "", "other", "", false, false, 0, "not by the pinned key");
    row("intact, continues the previous",
        "",
        "",
        "first",
        true,
        false,
        0,
        "same key as the previous export");
    row("one byte changed",
        "byte",
        "",
        "",
        false,
        false,
        4,
        "line 4 was changed: it no longer hashes to the prev of line 5");
    row("one byte changed in the last line",
        "byte-last",
        "",
        "",
        false,
        false,
        10,
        "line 10 was changed: the last line does not hash to the manifest's last_hash");
    row("one byte changed in a prev",
        "byte-prev",
        "",
        "",
        false,
        false,
        5,
        "line 5 was changed: its prev is not the hash of line 4");
    row("first line's prev changed", "byte-anchor", "", "", false, false, 1, "anchor_prev");
    row("a line removed",
        "remove",
        "",
        "",
        false,
        false,
        6,
        "line 6 has seq 17 where seq 16 was expected");
    row("the last line removed",
        "remove-last",
        "",
        "",
        false,
        false,
        10,
        "the records from line 10 on were removed");
    row("two lines swapped",
        "swap",
        "",
        "",
        false,
        false,
        3,
        "line 3 has seq 14 where seq 13 was expected");
    row("a line appended",
        "append",
        "",
        "",
        false,
        false,
        11,
        "line 11 is beyond the 10 record(s) the manifest covers");
    row("text appended without newline",
        "append-partial",
        "",
        "",
        false,
        false,
        11,
        "does not end with a newline");
    row("manifest edited",
        "manifest",
        "",
        "",
        false,
        false,
        0,
        "the signature does not verify with public-key.pem");
    row("signature from another key",
        "signature",
        "",
        "",
        false,
        false,
        0,
        "the signature does not verify");
    row("public key swapped alone",
        "key-only",
        "",
        "",
        false,
        false,
        0,
        "the signature does not verify with public-key.pem");
    row("key and signature swapped, unpinned",
        "attacker",
        "",
        "",
        true,
        false,
        0,
        "integrity proven, origin not: the key was not pinned");
    row("key and signature swapped, pinned",
        "attacker",
        "fingerprint",
        "",
        false,
        false,
        0,
        "not by the pinned key");
    row("key and signature swapped, with previous",
        "attacker",
        "",
        "first",
        false,
        false,
        0,
        "the previous one by");
    row("manifest names another key than the one shipped",
        "attacker-misnamed",
        "",
        "",
        false,
        false,
        0,
        "the key was replaced");
    row("attacker rewrote a line and re-signed, unpinned",
        "attacker-rewrite",
        "",
        "",
        true,
        false,
        0,
        "origin not");
    row("attacker rewrote a line and re-signed, pinned",
        "attacker-rewrite",
        "fingerprint",
        "",
        false,
        false,
        0,
        "not by the pinned key");
    row("previous not adjacent",
        "",
        "",
        "gap",
        false,
        false,
        0,
        "records in between were not exported");
    row("previous tampered", "", "", "tampered", false, false, 0, "the previous export");
    row("csv edited",
        "csv",
        "",
        "",
        false,
        false,
        0,
        "audit.csv does not match its hash in the manifest");
    row("a file added",
        "extra",
        "",
        "",
        false,
        false,
        0,
        "notes.txt is in the folder but not in the manifest");
    row("manifest.sig missing", "no-sig", "", "", false, false, 0, "manifest.sig cannot be read");
}

void tst_AuditExport::tampering()
{
    QFETCH(QString, tamper);
    QFETCH(QString, pin);
    QFETCH(QString, previous);
    QFETCH(bool, ok);
    QFETCH(bool, pinned);
    QFETCH(int, badLine);
    QFETCH(QString, reason);

    QTemporaryDir work;
    const QString dir = work.filePath(QStringLiteral("export"));
    copyFolder(m_second, dir);
    const QString jsonlPath = QDir(dir).filePath(QStringLiteral("audit.jsonl"));
    QList<QByteArray> lines = linesOf(readAll(jsonlPath));
    QCOMPARE(lines.size(), qsizetype(10));

    if (tamper == u"byte") {
        lines[3].replace("drill 014", "drill 015");
        writeAll(jsonlPath, joinLines(lines));
    } else if (tamper == u"byte-last") {
        lines[9].replace("drill 020", "drill 021");
        writeAll(jsonlPath, joinLines(lines));
    } else if (tamper == u"byte-prev" || tamper == u"byte-anchor") {
        QByteArray &l = lines[tamper == u"byte-prev" ? 4 : 0];
        const qsizetype at = l.size() - 3; // inside the prev hex
        l[at] = l[at] == '0' ? '1' : '0';
        writeAll(jsonlPath, joinLines(lines));
    } else if (tamper == u"remove") {
        lines.removeAt(5);
        writeAll(jsonlPath, joinLines(lines));
    } else if (tamper == u"remove-last") {
        lines.removeLast();
        writeAll(jsonlPath, joinLines(lines));
    } else if (tamper == u"swap") {
        lines.swapItemsAt(2, 3);
        writeAll(jsonlPath, joinLines(lines));
    } else if (tamper == u"append") {
        // The next record of the Store: it chains perfectly, but the manifest did not cover it.
        auto next = m_store->auditRecords(21, 21);
        QVERIFY(next.ok() && next->size() == 1);
        lines.append(next->front().line);
        writeAll(jsonlPath, joinLines(lines));
    } else if (tamper == u"append-partial") {
        writeAll(jsonlPath, joinLines(lines) + "{\"seq\":21");
    } else if (tamper == u"manifest") {
        const QString path = QDir(dir).filePath(QStringLiteral("manifest.json"));
        QByteArray m = readAll(path);
        m.replace("\"count\": 10", "\"count\": 9 ");
        QVERIFY(m.contains("\"count\": 9 "));
        writeAll(path, m);
    } else if (tamper == u"signature") {
        auto other = AuditSigner::generate();
        writeAll(QDir(dir).filePath(QStringLiteral("manifest.sig")),
                 *other->sign(readAll(QDir(dir).filePath(QStringLiteral("manifest.json")))));
    } else if (tamper == u"key-only") {
        writeAll(QDir(dir).filePath(QStringLiteral("public-key.pem")),
                 AuditSigner::generate()->publicKey().pem());
    } else if (tamper == u"attacker") {
        resignWithAttackerKey(dir);
    } else if (tamper == u"attacker-misnamed") {
        const QString original = QString::fromLatin1(m_key->signer.fingerprint());
        resignWithAttackerKey(
            dir, [&](QJsonObject &m) { m.insert(QStringLiteral("key_fingerprint"), original); });
    } else if (tamper == u"attacker-rewrite") {
        lines[9].replace("drill 020", "drill 666");
        writeAll(jsonlPath, joinLines(lines));
        const QByteArray lastHash = sha(lines[9]);
        resignWithAttackerKey(dir, [&](QJsonObject &m) {
            m.insert(QStringLiteral("last_hash"), QString::fromLatin1(lastHash));
        });
    } else if (tamper == u"csv") {
        const QString path = QDir(dir).filePath(QStringLiteral("audit.csv"));
        QByteArray csv = readAll(path);
        csv.replace("drill 015", "drill 016");
        writeAll(path, csv);
    } else if (tamper == u"extra") {
        writeAll(QDir(dir).filePath(QStringLiteral("notes.txt")), "hi\n");
    } else if (tamper == u"no-sig") {
        QVERIFY(QFile::remove(QDir(dir).filePath(QStringLiteral("manifest.sig"))));
    } else {
        QVERIFY(tamper.isEmpty());
    }

    AuditVerifyOptions o;
    o.dir = dir;
    if (pin == u"fingerprint") {
        o.pinnedFingerprint = m_key->signer.fingerprint();
        o.pinSource = QStringLiteral("--fingerprint");
    } else if (pin == u"other") {
        o.pinnedFingerprint = AuditSigner::generate()->fingerprint();
        o.pinSource = QStringLiteral("--fingerprint");
    }
    if (previous == u"first")
        o.previousDir = m_first;
    else if (previous == u"gap")
        o.previousDir = m_gap;
    else if (previous == u"tampered")
        o.previousDir = m_firstTampered;

    const AuditVerifyReport r = verifyAuditExport(o);
    QVERIFY2(r.ok == ok, qPrintable(r.summary()));
    QCOMPARE(r.pinned, pinned);
    QCOMPARE(r.firstBadLine, qint64(badLine));
    const QString text = ok ? r.note : r.reason;
    QVERIFY2(text.contains(reason), qPrintable(text));
    if (!ok)
        QVERIFY(r.summary().startsWith(QStringLiteral("FAILED")));
    const QJsonObject json = r.toJson();
    QCOMPARE(json.value(QStringLiteral("ok")).toBool(), ok);
    QCOMPARE(json.value(QStringLiteral("first_bad_line")).isNull(), badLine == 0);
}

// ---- the verifier's two threads -----------------------------------------------------------
// audit.jsonl is cut into pieces checked on two threads, the links between pieces checked after;
// anything wrong and the sequential walk names the first bad line. Each row is verified with
// pieces of many sizes (one byte, a line and a byte either side, cut exactly at the line the
// row breaks, half the file, uneven, the whole file and more) and must give the same report as
// the sequential walk alone.

void tst_AuditExport::splitAcrossThreads_data()
{
    QTest::addColumn<QString>("source"); // "second" (seq 11..20), "single" (seq 11 alone)
    QTest::addColumn<QString>("tamper");
    QTest::addColumn<int>("cutAtLine"); // a piece starts exactly at this line (1-based; 0: none)
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("badLine");
    QTest::addColumn<QString>("reason");

    auto row = [](const char *name,
                  const char *source,
                  const char *tamper,
                  int cutAtLine,
                  bool ok,
                  int badLine,
                  const char *reason) {
        QTest::newRow(name) << QString::fromLatin1(source) << QString::fromLatin1(tamper)
                            << cutAtLine << ok << badLine << QString::fromUtf8(reason);
    };
    row("intact", "second", "", 6, true, 0, "origin not");
    row("a byte changed in the second half",
        "second",
        "byte-8",
        9,
        false,
        8,
        "line 8 was changed: it no longer hashes to the prev of line 9");
    row("the line before the cut changed",
        "second",
        "byte-5",
        6,
        false,
        5,
        "line 5 was changed: it no longer hashes to the prev of line 6");
    row("the prev right after the cut changed",
        "second",
        "prev-6",
        6,
        false,
        6,
        "line 6 was changed: its prev is not the hash of line 5");
    row("not a record in the second half",
        "second",
        "scan-7",
        7,
        false,
        7,
        "line 7 is not a record as Breaker writes it: reason is missing or out of order");
    row("a line removed in the second half",
        "second",
        "remove-9",
        9,
        false,
        9,
        "line 9 has seq 20 where seq 19 was expected");
    row("an empty line at the cut", "second", "empty-6", 6, false, 6, "the line is empty");
    row("no newline at the end", "second", "partial", 10, false, 11, "does not end with a newline");
    row("the last newline removed",
        "second",
        "no-final-newline",
        10,
        false,
        10,
        "does not end with a newline");
    row("whitespace between tokens, re-chained and re-signed",
        "second",
        "whitespace-7",
        7,
        true,
        0,
        "origin not");
    row("a single line", "single", "", 1, true, 0, "origin not");
    row("a single line, changed",
        "single",
        "byte-1",
        1,
        false,
        1,
        "line 1 was changed: the last line does not hash to the manifest's last_hash");
    row("a single line, doubled",
        "single",
        "double",
        2,
        false,
        2,
        "line 2 is beyond the 1 record(s) the manifest covers");
}

void tst_AuditExport::splitAcrossThreads()
{
    QFETCH(QString, source);
    QFETCH(QString, tamper);
    QFETCH(int, cutAtLine);
    QFETCH(bool, ok);
    QFETCH(int, badLine);
    QFETCH(QString, reason);

    QTemporaryDir work;
    const QString dir = work.filePath(QStringLiteral("export"));
    if (source == u"single") {
        auto r = runExport(dir, 11, 11);
        QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    } else {
        copyFolder(m_second, dir);
    }
    const QString jsonlPath = QDir(dir).filePath(QStringLiteral("audit.jsonl"));
    QList<QByteArray> lines = linesOf(readAll(jsonlPath));
    QByteArray bytes;
    if (tamper.startsWith(u"byte-")) {
        QByteArray &l = lines[tamper.mid(5).toInt() - 1];
        l.replace("drill 0", "drill 9");
    } else if (tamper == u"prev-6") {
        QByteArray &l = lines[5];
        const qsizetype at = l.size() - 3; // inside the prev hex
        l[at] = l[at] == '0' ? '1' : '0';
    } else if (tamper == u"scan-7") {
        lines[6].replace("\"reason\":", "\"reasn\":");
    } else if (tamper == u"remove-9") {
        lines.removeAt(8);
    } else if (tamper == u"empty-6") {
        lines.insert(5, QByteArray());
    } else if (tamper == u"double") {
        lines.append(lines.front());
    } else if (tamper == u"whitespace-7") {
        // Valid JSON that Breaker does not write (only the strict scanner reads it), made to
        // chain again from line 7 on and signed again by an attacker: it verifies, unpinned.
        lines[6].replace("\"reason\":", "\"reason\" :\t ");
        for (qsizetype i = 7; i < lines.size(); ++i)
            lines[i] = lines[i].left(lines[i].size() - 66) + sha(lines[i - 1]) + "\"}";
    } else {
        QVERIFY(tamper.isEmpty() || tamper == u"partial" || tamper == u"no-final-newline");
    }
    bytes = joinLines(lines);
    if (tamper == u"partial")
        bytes += "{\"seq\":21";
    else if (tamper == u"no-final-newline")
        bytes.chop(1);
    writeAll(jsonlPath, bytes);
    if (tamper == u"whitespace-7") {
        const QByteArray lastHash = sha(lines.last());
        resignWithAttackerKey(dir, [&](QJsonObject &m) {
            m.insert(QStringLiteral("last_hash"), QString::fromLatin1(lastHash));
        });
    }

    AuditVerifyOptions o;
    o.dir = dir;
    o.chunkBytes = -1;
    const AuditVerifyReport sequential = verifyAuditExport(o);
    QVERIFY2(sequential.ok == ok, qPrintable(sequential.summary()));
    QCOMPARE(sequential.firstBadLine, qint64(badLine));
    QVERIFY2((ok ? sequential.note : sequential.reason).contains(reason),
             qPrintable(sequential.summary()));

    // Where the lines start, for pieces that start exactly at one.
    QList<qint64> starts{0};
    for (qsizetype i = 0; i < bytes.size(); ++i)
        if (bytes[i] == '\n')
            starts.append(i + 1);
    const qint64 size = bytes.size();
    QList<qint64> chunkSizes{0, 1, 2, 7, 100, size / 2, size / 2 + 1, size - 1, size, size + 1};
    const qint64 firstLine = starts.size() > 1 ? starts[1] : size;
    chunkSizes << firstLine - 1 << firstLine << firstLine + 1;
    if (cutAtLine > 1 && cutAtLine - 1 < starts.size()) {
        const qint64 cut = starts[cutAtLine - 1];
        chunkSizes << cut - 1 << cut << cut + 1;
    }
    for (const qint64 chunk : std::as_const(chunkSizes)) {
        if (chunk < 0)
            continue;
        o.chunkBytes = chunk;
        const AuditVerifyReport r = verifyAuditExport(o);
        const QByteArray where = "pieces of " + QByteArray::number(chunk) + " bytes: ";
        QVERIFY2(r.ok == sequential.ok, QByteArray(where + r.summary().toUtf8()).constData());
        QCOMPARE(r.records, sequential.records);
        QCOMPARE(r.firstBadLine, sequential.firstBadLine);
        QCOMPARE(r.reason, sequential.reason);
        QCOMPARE(r.file, sequential.file);
    }
}

// A record longer than the export's write buffer (1 MiB) goes out whole, and verifies.
void tst_AuditExport::exportsALineLongerThanABuffer()
{
    QTemporaryDir dir;
    auto store = Store::open(dir.filePath(QStringLiteral("long.db")));
    QVERIFY(store.ok());
    std::vector<AuditEntry> entries;
    for (int i = 1; i <= 5; ++i)
        entries.push_back(sampleEntry(i));
    entries[2].detail.insert(QStringLiteral("blob"),
                             QString(QString(1536 * 1024, QLatin1Char('x')) + u'\u00e9'));
    QVERIFY((*store)->appendAuditBatch(entries).ok());
    AuditExportOptions o;
    o.outDir = dir.filePath(QStringLiteral("out"));
    o.actor = exporter();
    o.toSeq = 5;
    auto r = exportAudit(**store, *m_key, o);
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->count, qint64(5));
    auto all = (*store)->auditRecords(1, 5);
    QVERIFY(all.ok());
    QByteArray expected;
    for (const AuditRecord &record : *all)
        expected += record.line + '\n';
    QCOMPARE(readAll(QDir(o.outDir).filePath(QStringLiteral("audit.jsonl"))), expected);
    QCOMPARE(r->lastHash, all->back().hashHex);
    for (const qint64 chunk : {qint64(-1), qint64(0), qint64(1000)}) {
        AuditVerifyOptions v;
        v.dir = o.outDir;
        v.chunkBytes = chunk;
        const AuditVerifyReport report = verifyAuditExport(v);
        QVERIFY2(report.ok, qPrintable(report.summary()));
        QCOMPARE(report.records, qint64(5));
    }
}

// ---- edges ---------------------------------------------------------------------------------

void tst_AuditExport::emptyRange()
{
    auto head = m_store->auditHead();
    QVERIFY(head.ok() && *head);
    const qint64 headSeq = (*head)->seq;
    const QString out = m_dir.filePath(QStringLiteral("empty"));
    auto r = runExport(out, headSeq + 1, std::nullopt);
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->count, qint64(0));
    QCOMPARE(r->firstSeq, headSeq + 1);
    QCOMPARE(r->lastSeq, headSeq);
    // Both hashes are the hash of the record before the range: the empty export still proves
    // where in the chain it stands, and the next export continues it.
    QCOMPARE(r->anchorPrev, (*head)->hashHex);
    QCOMPARE(r->lastHash, (*head)->hashHex);
    QCOMPARE(readAll(QDir(out).filePath(QStringLiteral("audit.jsonl"))), QByteArray());
    const QJsonObject m
        = QJsonDocument::fromJson(readAll(QDir(out).filePath(QStringLiteral("manifest.json"))))
              .object();
    QVERIFY(m.value(QStringLiteral("range")).toObject().value(QStringLiteral("from")).isNull());
    AuditVerifyOptions o;
    o.dir = out;
    const AuditVerifyReport v = verifyAuditExport(o);
    QVERIFY2(v.ok, qPrintable(v.reason));
    QCOMPARE(v.records, qint64(0));

    // The next export continues the empty one.
    const QString next = m_dir.filePath(QStringLiteral("after-empty"));
    auto n = runExport(next, headSeq + 1, headSeq + 1);
    QVERIFY(n.ok());
    QCOMPARE(n->count, qint64(1));
    o.dir = next;
    o.previousDir = out;
    const AuditVerifyReport c = verifyAuditExport(o);
    QVERIFY2(c.ok && c.previousChecked, qPrintable(c.reason));
}

void tst_AuditExport::emptyStore()
{
    QTemporaryDir dir;
    auto store = Store::open(dir.filePath(QStringLiteral("empty.db")));
    QVERIFY(store.ok());
    AuditExportOptions o;
    o.outDir = dir.filePath(QStringLiteral("out"));
    o.actor = exporter();
    auto r = exportAudit(**store, *m_key, o);
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->count, qint64(0));
    QCOMPARE(r->firstSeq, qint64(1));
    QCOMPARE(r->lastSeq, qint64(0));
    QCOMPARE(r->anchorPrev, zeroHash());
    QCOMPARE(r->lastHash, zeroHash());
    AuditVerifyOptions v;
    v.dir = o.outDir;
    QVERIFY(verifyAuditExport(v).ok);
    QCOMPARE(r->recordSeq, qint64(1)); // and the export is the trail's first record
}

void tst_AuditExport::rangeBeyondTheEndIsRefused()
{
    auto r = runExport(m_dir.filePath(QStringLiteral("beyond")), 5000, std::nullopt);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::Invalid);
    QVERIFY2(r.error().message.contains(QStringLiteral("past the end")),
             qPrintable(r.error().message));
    auto backwards = runExport(m_dir.filePath(QStringLiteral("backwards")), 10, 5);
    QVERIFY(!backwards.ok());
    QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("beyond"))));
}

void tst_AuditExport::existingFolderIsRefused()
{
    const QString out = m_dir.filePath(QStringLiteral("already-there"));
    QVERIFY(QDir().mkpath(out));
    writeAll(QDir(out).filePath(QStringLiteral("keep.txt")), "mine\n");
    auto head = m_store->auditHead();
    auto r = runExport(out, 1, 5);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::Conflict);
    QVERIFY2(r.error().message.contains(QStringLiteral("already exists")),
             qPrintable(r.error().message));
    QCOMPARE(QDir(out).entryList(QDir::Files), QStringList{QStringLiteral("keep.txt")});
    // Nothing was recorded either.
    QCOMPARE((*m_store->auditHead())->seq, (*head)->seq);
    // An empty folder too: an export never takes over a folder.
    const QString empty = m_dir.filePath(QStringLiteral("empty-there"));
    QVERIFY(QDir().mkpath(empty));
    QVERIFY(!runExport(empty, 1, 5).ok());
}

void tst_AuditExport::fullDiskLeavesNoFolder_data()
{
    QTest::addColumn<qint64>("failAfter");
    QTest::newRow("at once") << qint64(0);
    QTest::newRow("inside audit.jsonl") << qint64(1500);
    QTest::newRow("inside the csv") << qint64(6000);
    QTest::newRow("at the manifest") << qint64(-2); // computed: after every data file
}

void tst_AuditExport::fullDiskLeavesNoFolder()
{
    QFETCH(qint64, failAfter);
    QTemporaryDir parent;
    // How many bytes the data files take, to fail exactly at the manifest.
    if (failAfter == -2) {
        qint64 bytes = 0;
        for (const QString &name : {QStringLiteral("audit.jsonl"),
                                    QStringLiteral("audit.csv"),
                                    QStringLiteral("audit.ocsf.jsonl"),
                                    QStringLiteral("public-key.pem")})
            bytes += QFileInfo(QDir(m_second).filePath(name)).size();
        failAfter = bytes + 10;
    }
    const qint64 headBefore = (*m_store->auditHead())->seq;
    AuditExportOptions o;
    o.outDir = parent.filePath(QStringLiteral("export"));
    o.fromSeq = 11;
    o.toSeq = 20;
    o.csv = true;
    o.ocsf = true;
    o.actor = exporter();
    o.failAfterBytes = failAfter;
    auto r = exportAudit(*m_store, *m_key, o);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::DiskFull);
    QVERIFY2(r.error().message.contains(QStringLiteral("No space left on device")),
             qPrintable(r.error().message));
    QVERIFY(!QFileInfo::exists(o.outDir));
    // Nothing at all is left: no folder that looks complete, and no hidden partial one either.
    QCOMPARE(QDir(parent.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
             QStringList());
    QCOMPARE((*m_store->auditHead())->seq, headBefore); // a failed export is not recorded as done
}

void tst_AuditExport::timeBounds()
{
    auto all = m_store->auditRecords(1, 20);
    QVERIFY(all.ok());
    const qint64 before = all->front().tsMs - 60000;
    const qint64 after = QDateTime::currentMSecsSinceEpoch() + 3600000;
    // --to before the first record: empty, anchored at the beginning.
    AuditExportOptions o;
    o.outDir = m_dir.filePath(QStringLiteral("time-before"));
    o.toMs = before;
    o.actor = exporter();
    auto r = exportAudit(*m_store, *m_key, o);
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->count, qint64(0));
    QCOMPARE(r->firstSeq, qint64(1));
    QCOMPARE(r->anchorPrev, zeroHash());
    // --from before the first, --to seq 20: all twenty.
    o.outDir = m_dir.filePath(QStringLiteral("time-all"));
    o.toMs.reset();
    o.fromMs = before;
    o.toSeq = 20;
    r = exportAudit(*m_store, *m_key, o);
    QVERIFY(r.ok());
    QCOMPARE(r->firstSeq, qint64(1));
    QCOMPARE(r->count, qint64(20));
    // --from in the future: empty, at the end.
    o.outDir = m_dir.filePath(QStringLiteral("time-future"));
    o.toSeq.reset();
    o.fromMs = after;
    const qint64 head = (*m_store->auditHead())->seq;
    r = exportAudit(*m_store, *m_key, o);
    QVERIFY(r.ok());
    QCOMPARE(r->count, qint64(0));
    QCOMPARE(r->firstSeq, head + 1);
    // --to before --from.
    o.outDir = m_dir.filePath(QStringLiteral("time-backwards"));
    o.fromMs = after;
    o.toMs = before;
    QVERIFY(!exportAudit(*m_store, *m_key, o).ok());
}

void tst_AuditExport::parsesTimes_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("ms"); // -1: refused
    QTest::newRow("date") << QStringLiteral("2026-01-31") << qint64(1769817600000);
    QTest::newRow("utc") << QStringLiteral("2026-01-31T12:00:00Z") << qint64(1769860800000);
    QTest::newRow("millis") << QStringLiteral("2026-01-31T12:00:00.250Z") << qint64(1769860800250);
    QTest::newRow("offset") << QStringLiteral("2026-01-31T14:00:00+02:00") << qint64(1769860800000);
    QTest::newRow("no zone") << QStringLiteral("2026-01-31T12:00:00") << qint64(-1);
    QTest::newRow("bad date") << QStringLiteral("2026-02-30") << qint64(-1);
    QTest::newRow("words") << QStringLiteral("yesterday") << qint64(-1);
}

void tst_AuditExport::parsesTimes()
{
    QFETCH(QString, text);
    QFETCH(qint64, ms);
    const auto got = parseAuditTime(text);
    if (ms < 0)
        QVERIFY(!got);
    else
        QCOMPARE(got.value_or(-1), ms);
}

QTEST_GUILESS_MAIN(tst_AuditExport)
#include "tst_auditexport.moc"
