#include "app/services/Secrets.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

using namespace Breaker;

class tst_Secrets : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void cleanup();

    void envPresent();
    void envMissingNamesTheVariable();
    void envEmpty();
    void fileModes_data();
    void fileModes();
    void fileContentLosesOneTrailingNewline_data();
    void fileContentLosesOneTrailingNewline();
    void fileOfAnotherUserIsRefused();
    void fileMissing();
    void directoryIsRefused();
    void keychainIsRefusedNotDowngraded();

private:
    QString writeSecret(const QByteArray &content, mode_t mode);

    QTemporaryDir *m_dir = nullptr;
};

void tst_Secrets::init()
{
    m_dir = new QTemporaryDir;
    QVERIFY(m_dir->isValid());
}

void tst_Secrets::cleanup()
{
    delete m_dir;
    m_dir = nullptr;
    qunsetenv("BREAKER_TST_SECRET");
}

QString tst_Secrets::writeSecret(const QByteArray &content, mode_t mode)
{
    const QString path = m_dir->filePath(QStringLiteral("secret"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(content) != content.size())
        return {};
    f.close();
    if (::chmod(QFile::encodeName(path).constData(), mode) != 0)
        return {};
    return path;
}

void tst_Secrets::envPresent()
{
    qputenv("BREAKER_TST_SECRET", "rk_test_abc");
    const Result<QByteArray> r
        = resolveSecret({SecretRef::Kind::Env, QStringLiteral("BREAKER_TST_SECRET")});
    QVERIFY(r.ok());
    QCOMPARE(*r, QByteArray("rk_test_abc"));
}

void tst_Secrets::envMissingNamesTheVariable()
{
    const Result<QByteArray> r
        = resolveSecret({SecretRef::Kind::Env, QStringLiteral("BREAKER_TST_SECRET")});
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::NotFound);
    QCOMPARE(r.error().message,
             QStringLiteral("environment variable BREAKER_TST_SECRET is not set"));
    QCOMPARE(r.error().where, QStringLiteral("env:BREAKER_TST_SECRET"));
}

void tst_Secrets::envEmpty()
{
    qputenv("BREAKER_TST_SECRET", "");
    const Result<QByteArray> r
        = resolveSecret({SecretRef::Kind::Env, QStringLiteral("BREAKER_TST_SECRET")});
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.contains(QStringLiteral("is empty")));
}

void tst_Secrets::fileModes_data()
{
    QTest::addColumn<uint>("mode");
    QTest::addColumn<QString>("refusal"); // empty: accepted
    QTest::newRow("0600") << 0600u << QString();
    QTest::newRow("0400") << 0400u << QString();
    QTest::newRow("0644") << 0644u << QStringLiteral("has mode 0644; it must be 0600 or 0400");
    QTest::newRow("0640") << 0640u << QStringLiteral("has mode 0640");
    QTest::newRow("0660") << 0660u << QStringLiteral("has mode 0660");
    QTest::newRow("0700") << 0700u << QStringLiteral("has mode 0700");
    QTest::newRow("0604") << 0604u << QStringLiteral("has mode 0604");
}

void tst_Secrets::fileModes()
{
    QFETCH(uint, mode);
    QFETCH(QString, refusal);
    const QByteArray secret = "whsec_Tz81-secret-content";
    const QString path = writeSecret(secret + '\n', mode_t(mode));
    QVERIFY(!path.isEmpty());
    const Result<QByteArray> r = resolveSecret({SecretRef::Kind::File, path});
    if (refusal.isEmpty()) {
        QVERIFY2(r.ok(), r ? "" : qPrintable(r.error().message));
        QCOMPARE(*r, secret);
        return;
    }
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::Invalid);
    QVERIFY2(r.error().message.contains(refusal), qPrintable(r.error().message));
    QVERIFY(r.error().message.contains(path));
    QVERIFY(!r.error().message.contains(QString::fromLatin1(secret)));
    QCOMPARE(r.error().where, QStringLiteral("file:") + path);
}

void tst_Secrets::fileContentLosesOneTrailingNewline_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QByteArray>("secret");
    QTest::newRow("no newline") << QByteArray("abc") << QByteArray("abc");
    QTest::newRow("newline") << QByteArray("abc\n") << QByteArray("abc");
    QTest::newRow("crlf") << QByteArray("abc\r\n") << QByteArray("abc");
    QTest::newRow("two newlines") << QByteArray("abc\n\n") << QByteArray("abc\n");
    QTest::newRow("inner space kept") << QByteArray(" a b \n") << QByteArray(" a b ");
}

void tst_Secrets::fileContentLosesOneTrailingNewline()
{
    QFETCH(QByteArray, content);
    QFETCH(QByteArray, secret);
    const QString path = writeSecret(content, 0600);
    QVERIFY(!path.isEmpty());
    const Result<QByteArray> r = resolveSecret({SecretRef::Kind::File, path});
    QVERIFY(r.ok());
    QCOMPARE(*r, secret);

    // A file holding only a newline holds no secret.
    QVERIFY(!writeSecret("\n", 0600).isEmpty());
    const Result<QByteArray> empty = resolveSecret({SecretRef::Kind::File, path});
    QVERIFY(!empty.ok());
    QVERIFY(empty.error().message.contains(QStringLiteral("is empty")));
}

void tst_Secrets::fileOfAnotherUserIsRefused()
{
    if (::geteuid() != 0)
        QSKIP("handing a file to another user needs root");
    const QString path = writeSecret("s3cret", 0600);
    QVERIFY(!path.isEmpty());
    QVERIFY(::chown(QFile::encodeName(path).constData(), 65534, 65534) == 0);
    const Result<QByteArray> r = resolveSecret({SecretRef::Kind::File, path});
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.contains(QStringLiteral("is owned by uid 65534, not by the current "
                                                       "user (uid 0)")),
             qPrintable(r.error().message));
}

void tst_Secrets::fileMissing()
{
    const QString path = m_dir->filePath(QStringLiteral("absent"));
    const Result<QByteArray> r = resolveSecret({SecretRef::Kind::File, path});
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::NotFound);
    QVERIFY2(r.error().message.startsWith(QStringLiteral("cannot open secret file ") + path),
             qPrintable(r.error().message));
}

void tst_Secrets::directoryIsRefused()
{
    QVERIFY(::chmod(QFile::encodeName(m_dir->path()).constData(), 0700) == 0);
    const Result<QByteArray> r = resolveSecret({SecretRef::Kind::File, m_dir->path()});
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.contains(QStringLiteral("is not a regular file")),
             qPrintable(r.error().message));
}

void tst_Secrets::keychainIsRefusedNotDowngraded()
{
    // Even with a variable of the same name around, keychain: never falls back to it.
    qputenv("BREAKER_TST_SECRET", "fallback-would-be-wrong");
    const Result<QByteArray> r
        = resolveSecret({SecretRef::Kind::Keychain, QStringLiteral("BREAKER_TST_SECRET")});
    QVERIFY(!r.ok());
    QCOMPARE(r.error().message,
             QStringLiteral("keychain: references need the OS secret service, which this build "
                            "does not have yet (QtKeychain comes with the identity layer); use "
                            "env: or file:"));
    QCOMPARE(r.error().where, QStringLiteral("keychain:BREAKER_TST_SECRET"));
}

QTEST_APPLESS_MAIN(tst_Secrets)
#include "tst_secrets.moc"
