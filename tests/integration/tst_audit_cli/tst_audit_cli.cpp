// `breakerctl audit` end to end (issue 5, "Done when"): a real export with breakerctl, verified
// by `breakerctl audit verify` and by the shell recipe of docs/AUDIT.md
// (tests/scripts/audit-recipe.sh: openssl, sha256sum, sh); one flipped byte of audit.jsonl makes
// both fail. --json output is checked against docs/schemas with Ajv; exit codes per DESIGN.md 9.
#include "models/AuditRecord.h"
#include "models/Store.h"
#include "tests/common/Breakerctl.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace Breaker;
using namespace Breaker::Test;


class tst_AuditCli : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void exportThenVerify();
    void recipeVerifiesTheSameFolder();
    void docsShowTheRecipeVerbatim();
    void oneFlippedByteFailsBoth();
    void continuityAndPinningOnTheCommandLine();
    void exitCodes_data();
    void exitCodes();
    void keychainUnavailableIsExit3AndSaysWhatToDo();
    void checkAndSeal();

private:
    QStringList common() const
    {
        return {QStringLiteral("--profile"), m_profile, QStringLiteral("--db"), m_db};
    }
    QTemporaryDir m_dir;
    QString m_profile;
    QString m_db;
    QString m_export;
    QString m_fingerprint;
};

void tst_AuditCli::initTestCase()
{
    if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty()
        || QStandardPaths::findExecutable(QStringLiteral("sha256sum")).isEmpty())
        QSKIP("the recipe needs openssl and sha256sum");
    m_profile = m_dir.filePath(QStringLiteral("profile.json"));
    m_db = m_dir.filePath(QStringLiteral("breaker.db"));
    QFile p(m_profile);
    QVERIFY(p.open(QIODevice::WriteOnly));
    p.write(QJsonDocument(
                QJsonObject{
                    {QStringLiteral("version"), 1},
                    {QStringLiteral("name"), QStringLiteral("audit-cli")},
                    {QStringLiteral("operator"), QStringLiteral("Ada")},
                    {QStringLiteral("audit"),
                     QJsonObject{{QStringLiteral("signing_key"),
                                  QString(QStringLiteral("file:")
                                          + m_dir.filePath(QStringLiteral("keys/audit.pem")))}}}})
                .toJson());
    p.close();
    auto store = Store::open(m_db);
    QVERIFY(store.ok());
    std::vector<AuditEntry> entries;
    for (int i = 1; i <= 40; ++i) {
        AuditEntry e;
        e.actor = {QStringLiteral("operator"), QStringLiteral("ada"), QStringLiteral("console-1")};
        e.action = i % 2 ? QStringLiteral("stop.layer") : QStringLiteral("approval.decided");
        e.target.agent = i % 4 ? QStringLiteral("refund-agent") : QStringLiteral("claims-agent");
        // Text a shell loop must keep byte for byte: quotes, backslashes, spaces, UTF-8.
        e.reason = QStringLiteral("case %1: \"quoted\" back\\slash  two spaces \u00e9\u20ac *glob*")
                       .arg(i);
        e.outcome = QStringLiteral("verified");
        e.detail = QJsonObject{{QStringLiteral("i"), i}};
        entries.push_back(e);
    }
    QVERIFY((*store)->appendAuditBatch(entries).ok());
}

void tst_AuditCli::exportThenVerify()
{
    m_export = m_dir.filePath(QStringLiteral("export-1"));
    const CtlRun ex = breakerctl(QStringList{QStringLiteral("audit"),
                                             QStringLiteral("export"),
                                             QStringLiteral("--out"),
                                             m_export,
                                             QStringLiteral("--to"),
                                             QStringLiteral("30"),
                                             QStringLiteral("--format"),
                                             QStringLiteral("jsonl,csv,ocsf"),
                                             QStringLiteral("--agent"),
                                             QStringLiteral("refund-agent"),
                                             QStringLiteral("--json")}
                                 + common());
    QVERIFY2(ex.code == 0, QByteArray(ex.out + ex.err).constData());
    const QJsonObject out = QJsonDocument::fromJson(ex.out).object();
    QCOMPARE(out.value(QStringLiteral("count")).toInteger(), 30);
    QCOMPARE(out.value(QStringLiteral("key_storage")).toString(), QStringLiteral("file"));
    m_fingerprint = out.value(QStringLiteral("key_fingerprint")).toString();
    QCOMPARE(m_fingerprint.size(), 64);
    if (peersAvailable()) {
        const QString verdict = schemaVerdict(QStringLiteral("audit-export.schema.json"), ex.out);
        QVERIFY2(verdict.isEmpty(), qPrintable(verdict));
    }

    const CtlRun v = breakerctl(QStringList{
        QStringLiteral("audit"), QStringLiteral("verify"), m_export, QStringLiteral("--json")});
    QVERIFY2(v.code == 0, QByteArray(v.out + v.err).constData());
    const QJsonObject report = QJsonDocument::fromJson(v.out).object();
    QCOMPARE(report.value(QStringLiteral("ok")).toBool(), true);
    QCOMPARE(report.value(QStringLiteral("records")).toInteger(), 30);
    QCOMPARE(report.value(QStringLiteral("pinned")).toBool(), false);
    QCOMPARE(report.value(QStringLiteral("key_fingerprint")).toString(), m_fingerprint);
    QVERIFY(report.value(QStringLiteral("first_bad_line")).isNull());
    if (peersAvailable()) {
        const QString verdict = schemaVerdict(QStringLiteral("audit-verify.schema.json"), v.out);
        QVERIFY2(verdict.isEmpty(), qPrintable(verdict));
    }
    // The text form says plainly that the origin is not proven.
    const CtlRun text
        = breakerctl(QStringList{QStringLiteral("audit"), QStringLiteral("verify"), m_export});
    QCOMPARE(text.code, 0);
    QVERIFY2(text.out.contains("integrity proven, origin not: the key was not pinned"),
             text.out.constData());
    const CtlRun pinned = breakerctl(QStringList{QStringLiteral("audit"),
                                                 QStringLiteral("verify"),
                                                 m_export,
                                                 QStringLiteral("--fingerprint"),
                                                 m_fingerprint});
    QCOMPARE(pinned.code, 0);
    QVERIFY2(pinned.out.contains("origin proven"), pinned.out.constData());
}

void tst_AuditCli::recipeVerifiesTheSameFolder()
{
    QVERIFY(!m_export.isEmpty());
    const AuditRecipe r = runAuditRecipe(m_export);
    QVERIFY2(r.code == 0, r.output.constData());
    QVERIFY2(r.output.contains("verified: 30 records"), r.output.constData());
    const AuditRecipe pinned = runAuditRecipe(m_export, m_fingerprint);
    QVERIFY2(pinned.code == 0, pinned.output.constData());
    const AuditRecipe wrongPin = runAuditRecipe(m_export, QString(64, u'0'));
    QVERIFY(wrongPin.code != 0);
    QVERIFY2(wrongPin.output.contains("not by the pinned key"), wrongPin.output.constData());
}

void tst_AuditCli::docsShowTheRecipeVerbatim()
{
    QFile script(QStringLiteral(BREAKER_SOURCE_DIR "/tests/scripts/audit-recipe.sh"));
    QFile doc(QStringLiteral(BREAKER_SOURCE_DIR "/docs/AUDIT.md"));
    QVERIFY(script.open(QIODevice::ReadOnly) && doc.open(QIODevice::ReadOnly));
    const QByteArray recipe = script.readAll();
    QVERIFY(recipe.contains("openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in "
                            "manifest.json -sigfile manifest.sig"));
    QVERIFY2(doc.readAll().contains(recipe),
             "docs/AUDIT.md must show tests/scripts/audit-recipe.sh verbatim");
}

void tst_AuditCli::oneFlippedByteFailsBoth()
{
    QVERIFY(!m_export.isEmpty());
    const QString copy = m_dir.filePath(QStringLiteral("export-1-flipped"));
    QVERIFY(QDir().mkpath(copy));
    for (const QString &name : QDir(m_export).entryList(QDir::Files))
        QVERIFY(QFile::copy(QDir(m_export).filePath(name), QDir(copy).filePath(name)));
    QFile f(QDir(copy).filePath(QStringLiteral("audit.jsonl")));
    QVERIFY(f.open(QIODevice::ReadWrite));
    QByteArray bytes = f.readAll();
    const qsizetype at = bytes.indexOf("case 7:") + 5; // the digit 7 on line 7
    bytes[at] = '8';
    QVERIFY(f.seek(0));
    QCOMPARE(f.write(bytes), bytes.size());
    f.close();

    const CtlRun v = breakerctl(QStringList{
        QStringLiteral("audit"), QStringLiteral("verify"), copy, QStringLiteral("--json")});
    QCOMPARE(v.code, 1);
    const QJsonObject report = QJsonDocument::fromJson(v.out).object();
    QCOMPARE(report.value(QStringLiteral("ok")).toBool(), false);
    QCOMPARE(report.value(QStringLiteral("first_bad_line")).toInteger(), 7);
    QVERIFY(report.value(QStringLiteral("reason"))
                .toString()
                .contains(QStringLiteral("line 7 was changed")));
    if (peersAvailable()) {
        const QString verdict = schemaVerdict(QStringLiteral("audit-verify.schema.json"), v.out);
        QVERIFY2(verdict.isEmpty(), qPrintable(verdict));
    }
    const AuditRecipe r = runAuditRecipe(copy);
    QVERIFY2(r.code != 0, r.output.constData());
}

void tst_AuditCli::continuityAndPinningOnTheCommandLine()
{
    QVERIFY(!m_export.isEmpty());
    // Seq 31 on: the rest of the trail, including the first export's own record.
    const QString second = m_dir.filePath(QStringLiteral("export-2"));
    const CtlRun ex = breakerctl(QStringList{QStringLiteral("audit"),
                                             QStringLiteral("export"),
                                             QStringLiteral("--out"),
                                             second,
                                             QStringLiteral("--from"),
                                             QStringLiteral("31")}
                                 + common());
    QVERIFY2(ex.code == 0, QByteArray(ex.out + ex.err).constData());
    const CtlRun v = breakerctl(QStringList{QStringLiteral("audit"),
                                            QStringLiteral("verify"),
                                            second,
                                            QStringLiteral("--previous"),
                                            m_export,
                                            QStringLiteral("--key"),
                                            QDir(second).filePath(QStringLiteral("public-key.pem")),
                                            QStringLiteral("--json")});
    QVERIFY2(v.code == 0, QByteArray(v.out + v.err).constData());
    const QJsonObject report = QJsonDocument::fromJson(v.out).object();
    QCOMPARE(report.value(QStringLiteral("pinned")).toBool(), true);
    QCOMPARE(report.value(QStringLiteral("previous_checked")).toBool(), true);
    // The export's own record is in the trail, with what and where.
    QFile jsonl(QDir(second).filePath(QStringLiteral("audit.jsonl")));
    QVERIFY(jsonl.open(QIODevice::ReadOnly));
    const QByteArray lines = jsonl.readAll();
    QVERIFY(lines.contains("\"action\":\"audit.exported\""));
    QVERIFY(lines.contains(m_export.toUtf8()));
    QVERIFY(lines.contains("\"id\":\"Ada (os: "));

    // Pinned to another key: exit 1, and it says so.
    const QString otherKey = m_dir.filePath(QStringLiteral("other.pem"));
    QProcess openssl;
    openssl.start(
        QStringLiteral("sh"),
        {QStringLiteral("-c"),
         QString(QStringLiteral("openssl genpkey -algorithm ed25519 | openssl pkey -pubout -out ")
                 + otherKey)});
    QVERIFY(openssl.waitForFinished(10000));
    QCOMPARE(openssl.exitCode(), 0);
    const CtlRun wrong = breakerctl(QStringList{QStringLiteral("audit"),
                                                QStringLiteral("verify"),
                                                second,
                                                QStringLiteral("--key"),
                                                otherKey});
    QCOMPARE(wrong.code, 1);
    QVERIFY2(wrong.out.contains("not by the pinned key"), wrong.out.constData());
}

void tst_AuditCli::exitCodes_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<bool>("withCommon");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");

    QTest::newRow("no subcommand")
        << QStringList{QStringLiteral("audit")} << false << 2 << QStringLiteral("which?");
    QTest::newRow("export without --out")
        << QStringList{QStringLiteral("audit"), QStringLiteral("export")} << true << 2
        << QStringLiteral("--out DIR is required");
    QTest::newRow("export into an existing folder")
        << QStringList{QStringLiteral("audit"),
                       QStringLiteral("export"),
                       QStringLiteral("--out"),
                       QStringLiteral("@DIR@")}
        << true << 2 << QStringLiteral("already exists");
    QTest::newRow("bad --from") << QStringList{QStringLiteral("audit"),
                                               QStringLiteral("export"),
                                               QStringLiteral("--out"),
                                               QStringLiteral("@NEW@"),
                                               QStringLiteral("--from"),
                                               QStringLiteral("last tuesday")}
                                << true << 2 << QStringLiteral("neither a seq nor a time");
    QTest::newRow("unknown format") << QStringList{QStringLiteral("audit"),
                                                   QStringLiteral("export"),
                                                   QStringLiteral("--out"),
                                                   QStringLiteral("@NEW@"),
                                                   QStringLiteral("--format"),
                                                   QStringLiteral("xml")}
                                    << true << 2 << QStringLiteral("unknown format");
    QTest::newRow("filter without a derived file")
        << QStringList{QStringLiteral("audit"),
                       QStringLiteral("export"),
                       QStringLiteral("--out"),
                       QStringLiteral("@NEW@"),
                       QStringLiteral("--agent"),
                       QStringLiteral("x")}
        << true << 2 << QStringLiteral("filters shape only");
    QTest::newRow("no store") << QStringList{QStringLiteral("audit"),
                                             QStringLiteral("export"),
                                             QStringLiteral("--out"),
                                             QStringLiteral("@NEW@"),
                                             QStringLiteral("--profile"),
                                             QStringLiteral("@PROFILE@"),
                                             QStringLiteral("--db"),
                                             QStringLiteral("@NEW@.db")}
                              << false << 3 << QStringLiteral("no Store at this path");
    QTest::newRow("verify without folder")
        << QStringList{QStringLiteral("audit"), QStringLiteral("verify")} << false << 2
        << QStringLiteral("one folder");
    QTest::newRow("verify a missing folder")
        << QStringList{QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("@NEW@")}
        << false << 2 << QStringLiteral("is not a folder");
    QTest::newRow("key and fingerprint") << QStringList{QStringLiteral("audit"),
                                                        QStringLiteral("verify"),
                                                        QStringLiteral("@DIR@"),
                                                        QStringLiteral("--key"),
                                                        QStringLiteral("x"),
                                                        QStringLiteral("--fingerprint"),
                                                        QStringLiteral("y")}
                                         << false << 2 << QStringLiteral("not both");
    QTest::newRow("bad fingerprint") << QStringList{QStringLiteral("audit"),
                                                    QStringLiteral("verify"),
                                                    QStringLiteral("@DIR@"),
                                                    QStringLiteral("--fingerprint"),
                                                    QStringLiteral("abc")}
                                     << false << 2 << QStringLiteral("64 hex characters");
    QTest::newRow("unreadable --key") << QStringList{QStringLiteral("audit"),
                                                     QStringLiteral("verify"),
                                                     QStringLiteral("@DIR@"),
                                                     QStringLiteral("--key"),
                                                     QStringLiteral("@NEW@.pem")}
                                      << false << 3 << QStringLiteral("--key");
}

void tst_AuditCli::exitCodes()
{
    QFETCH(QStringList, args);
    QFETCH(bool, withCommon);
    QFETCH(int, code);
    QFETCH(QString, message);
    QVERIFY(!m_export.isEmpty());
    const QString fresh = m_dir.filePath(
        QStringLiteral("never-%1")
            .arg(QString::fromLatin1(QTest::currentDataTag()).replace(u' ', u'-')));
    for (QString &a : args) {
        a.replace(QStringLiteral("@DIR@"), m_export);
        a.replace(QStringLiteral("@NEW@"), fresh);
        a.replace(QStringLiteral("@PROFILE@"), m_profile);
    }
    const CtlRun r = breakerctl(withCommon ? args + common() : args);
    QVERIFY2(r.code == code, QByteArray(r.out + r.err).constData());
    QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
    QVERIFY(!QFileInfo::exists(fresh));
}

void tst_AuditCli::keychainUnavailableIsExit3AndSaysWhatToDo()
{
    // A profile without an audit section: the OS keychain, which no Secret Service serves here.
    const QString profile = m_dir.filePath(QStringLiteral("keychain-profile.json"));
    QFile p(profile);
    QVERIFY(p.open(QIODevice::WriteOnly));
    p.write("{\"version\": 1, \"name\": \"keychain\"}\n");
    p.close();
    QProcess ctl;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"),
               QStringLiteral("unix:path=/nonexistent/breaker-test-bus"));
    env.remove(QStringLiteral("DISPLAY"));
    ctl.setProcessEnvironment(env);
    const QString out = m_dir.filePath(QStringLiteral("keychain-export"));
    ctl.start(QStringLiteral(BREAKER_BINARY_DIR "/app/breakerctl/breakerctl"),
              {QStringLiteral("audit"),
               QStringLiteral("export"),
               QStringLiteral("--out"),
               out,
               QStringLiteral("--profile"),
               profile,
               QStringLiteral("--db"),
               m_db});
    QVERIFY(ctl.waitForFinished(60000));
    QCOMPARE(ctl.exitCode(), 3);
    const QByteArray err = ctl.readAllStandardError();
    QVERIFY2(err.contains("keychain") && err.contains("Set audit.signing_key to file:PATH"),
             err.constData());
    QVERIFY(!QFileInfo::exists(out));
}

void tst_AuditCli::checkAndSeal()
{
    const CtlRun seal
        = breakerctl(QStringList{QStringLiteral("audit"), QStringLiteral("seal")} + common());
    QVERIFY2(seal.code == 0, QByteArray(seal.out + seal.err).constData());
    const CtlRun check = breakerctl(
        QStringList{QStringLiteral("audit"), QStringLiteral("check"), QStringLiteral("--json")}
        + common());
    QVERIFY2(check.code == 0, QByteArray(check.out + check.err).constData());
    const QJsonObject o = QJsonDocument::fromJson(check.out).object();
    QCOMPARE(o.value(QStringLiteral("ok")).toBool(), true);
    QVERIFY(o.value(QStringLiteral("last_good_checkpoint"))
                .toObject()
                .value(QStringLiteral("seq"))
                .toInteger()
            >= 42);
}

QTEST_GUILESS_MAIN(tst_AuditCli)
#include "tst_audit_cli.moc"
