// The audit signing key (issue 5 item 3): Ed25519 through OpenSSL's EVP API, its fingerprint
// as `openssl pkey -pubin -outform DER | sha256sum` prints it, and where it is kept: a file
// created 0600 with O_EXCL (a wider one refused), or the OS keychain, never a silent fallback.
#include "app/services/AuditKeyStore.h"
#include "models/AuditSigner.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace Breaker;

class tst_AuditSigner : public QObject
{
    Q_OBJECT
private slots:
    void signsAndVerifies();
    void signatureIsBoundToMessageAndKey();
    void pemRoundTrip();
    void fingerprintIsSha256OfDer();
    void fingerprintMatchesOpensslCli();
    void refusesOtherKeyTypes();
    void keyFileIsCreated0600AndReused();
    void keyFileWithWiderModeIsRefused_data();
    void keyFileWithWiderModeIsRefused();
    void keyFileThatIsNotAKey();
    void keychainUnreachableSaysHowToUseAFile();
    void profileChoosesTheStore();
};

void tst_AuditSigner::signsAndVerifies()
{
    auto signer = AuditSigner::generate();
    QVERIFY(signer.ok());
    const QByteArray message = "breaker-audit-checkpoint/1 seq=7 head=" + QByteArray(64, 'a');
    auto signature = signer->sign(message);
    QVERIFY(signature.ok());
    QCOMPARE(signature->size(), 64);
    QVERIFY(signer->publicKey().verify(message, *signature));
    // Ed25519 is deterministic: the same message gives the same signature.
    QCOMPARE(*signer->sign(message), *signature);
}

void tst_AuditSigner::signatureIsBoundToMessageAndKey()
{
    auto a = AuditSigner::generate();
    auto b = AuditSigner::generate();
    QVERIFY(a.ok() && b.ok());
    QVERIFY(a->fingerprint() != b->fingerprint());
    const QByteArray message = "manifest bytes";
    const QByteArray sig = *a->sign(message);
    QVERIFY(!a->publicKey().verify("manifest byteS", sig));
    QVERIFY(!b->publicKey().verify(message, sig));
    QByteArray flipped = sig;
    flipped[10] = char(flipped[10] ^ 0x01);
    QVERIFY(!a->publicKey().verify(message, flipped));
    QVERIFY(!a->publicKey().verify(message, sig.left(63)));
    QVERIFY(!a->publicKey().verify(message, QByteArray()));
}

void tst_AuditSigner::pemRoundTrip()
{
    auto signer = AuditSigner::generate();
    QVERIFY(signer.ok());
    const QByteArray pem = signer->privatePem();
    QVERIFY(pem.startsWith("-----BEGIN PRIVATE KEY-----")); // PKCS#8
    auto again = AuditSigner::fromPrivatePem(pem);
    QVERIFY(again.ok());
    QCOMPARE(again->fingerprint(), signer->fingerprint());
    const QByteArray pub = signer->publicKey().pem();
    QVERIFY(pub.startsWith("-----BEGIN PUBLIC KEY-----"));
    auto key = AuditPublicKey::fromPem(pub);
    QVERIFY(key.ok());
    QCOMPARE(key->fingerprint(), signer->fingerprint());
    QVERIFY(key->verify("x", *again->sign("x")));
    QVERIFY(!AuditSigner::fromPrivatePem(
                 "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
                 .ok());
    QVERIFY(!AuditPublicKey::fromPem("garbage").ok());
}

void tst_AuditSigner::fingerprintIsSha256OfDer()
{
    auto signer = AuditSigner::generate();
    QVERIFY(signer.ok());
    const QByteArray der = signer->publicKey().der();
    QCOMPARE(der.size(), 44); // SubjectPublicKeyInfo of an Ed25519 key: 12 + 32 bytes
    QCOMPARE(signer->fingerprint(),
             QCryptographicHash::hash(der, QCryptographicHash::Sha256).toHex());
    QCOMPARE(signer->fingerprint().size(), 64);
}

void tst_AuditSigner::fingerprintMatchesOpensslCli()
{
    if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty())
        QSKIP("no openssl command");
    auto signer = AuditSigner::generate();
    QVERIFY(signer.ok());
    QTemporaryDir dir;
    const QString pemPath = dir.filePath(QStringLiteral("public-key.pem"));
    QFile f(pemPath);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(signer->publicKey().pem());
    f.close();
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("pkey"),
                   QStringLiteral("-pubin"),
                   QStringLiteral("-in"),
                   pemPath,
                   QStringLiteral("-outform"),
                   QStringLiteral("DER")});
    QVERIFY(openssl.waitForFinished(10000));
    QCOMPARE(openssl.exitCode(), 0);
    const QByteArray der = openssl.readAllStandardOutput();
    QCOMPARE(QCryptographicHash::hash(der, QCryptographicHash::Sha256).toHex(),
             signer->fingerprint());

    // And openssl verifies our signature with -rawin, as docs/AUDIT.md tells reviewers to.
    const QString msgPath = dir.filePath(QStringLiteral("manifest.json"));
    const QString sigPath = dir.filePath(QStringLiteral("manifest.sig"));
    QFile msg(msgPath);
    QVERIFY(msg.open(QIODevice::WriteOnly));
    msg.write("{\"format\": \"breaker-audit/1\"}\n");
    msg.close();
    QFile sig(sigPath);
    QVERIFY(sig.open(QIODevice::WriteOnly));
    sig.write(*signer->sign("{\"format\": \"breaker-audit/1\"}\n"));
    sig.close();
    QProcess verify;
    verify.start(QStringLiteral("openssl"),
                 {QStringLiteral("pkeyutl"),
                  QStringLiteral("-verify"),
                  QStringLiteral("-pubin"),
                  QStringLiteral("-inkey"),
                  pemPath,
                  QStringLiteral("-rawin"),
                  QStringLiteral("-in"),
                  msgPath,
                  QStringLiteral("-sigfile"),
                  sigPath});
    QVERIFY(verify.waitForFinished(10000));
    QVERIFY2(verify.exitCode() == 0, verify.readAllStandardError().constData());
}

void tst_AuditSigner::refusesOtherKeyTypes()
{
    if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty())
        QSKIP("no openssl command");
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("genpkey"),
                   QStringLiteral("-algorithm"),
                   QStringLiteral("EC"),
                   QStringLiteral("-pkeyopt"),
                   QStringLiteral("ec_paramgen_curve:P-256")});
    QVERIFY(openssl.waitForFinished(10000));
    const QByteArray ec = openssl.readAllStandardOutput();
    QVERIFY(ec.contains("PRIVATE KEY"));
    auto r = AuditSigner::fromPrivatePem(ec);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.contains(QStringLiteral("not an Ed25519 key")),
             qPrintable(r.error().message));
}

void tst_AuditSigner::keyFileIsCreated0600AndReused()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("keys/audit-key.pem"));
    auto first = loadAuditKeyFile(path);
    QVERIFY2(first.ok(), first.ok() ? "" : qPrintable(first.error().message));
    QVERIFY(first->created);
    QCOMPARE(first->storage, QStringLiteral("file"));
    struct stat st = {};
    QCOMPARE(::stat(QFile::encodeName(path).constData(), &st), 0);
    QCOMPARE(st.st_mode & 07777, mode_t(0600));
    auto second = loadAuditKeyFile(path);
    QVERIFY(second.ok());
    QVERIFY(!second->created);
    QCOMPARE(second->signer.fingerprint(), first->signer.fingerprint());
}

void tst_AuditSigner::keyFileWithWiderModeIsRefused_data()
{
    QTest::addColumn<int>("mode");
    QTest::newRow("0644") << 0644;
    QTest::newRow("0640") << 0640;
    QTest::newRow("0604") << 0604;
    QTest::newRow("0700") << 0700;
    QTest::newRow("0666") << 0666;
}

void tst_AuditSigner::keyFileWithWiderModeIsRefused()
{
    QFETCH(int, mode);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("audit-key.pem"));
    QVERIFY(loadAuditKeyFile(path).ok());
    QCOMPARE(::chmod(QFile::encodeName(path).constData(), mode_t(mode)), 0);
    auto r = loadAuditKeyFile(path);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().where, path);
    const QString octal = QStringLiteral("0") + QString::number(mode, 8);
    QVERIFY2(r.error().message.contains(path) && r.error().message.contains(octal)
                 && r.error().message.contains(QStringLiteral("wider than 0600")),
             qPrintable(r.error().message));
    // 0400 is narrower: fine.
    QCOMPARE(::chmod(QFile::encodeName(path).constData(), 0400), 0);
    QVERIFY(loadAuditKeyFile(path).ok());
}

void tst_AuditSigner::keyFileThatIsNotAKey()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("audit-key.pem"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a key\n");
    f.close();
    QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    auto r = loadAuditKeyFile(path);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.contains(QStringLiteral("does not hold an Ed25519 key")),
             qPrintable(r.error().message));
    QVERIFY(!r.error().message.contains(QStringLiteral("not a key"))); // never echoes the content
}

void tst_AuditSigner::keychainUnreachableSaysHowToUseAFile()
{
    // No session bus and no display: no Secret Service can answer (as on a headless CI runner).
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/breaker-test-bus");
    qunsetenv("DISPLAY");
    auto r = loadAuditKeyFromKeychain(QStringLiteral("test-profile"),
                                      QStringLiteral("audit-signing-key"));
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::Unavailable);
    QVERIFY2(r.error().message.contains(QStringLiteral("set audit.signing_key to file:PATH"),
                                        Qt::CaseInsensitive),
             qPrintable(r.error().message));
    QVERIFY2(r.error().where.contains(QStringLiteral("keychain:audit-signing-key")),
             qPrintable(r.error().where));
}

void tst_AuditSigner::profileChoosesTheStore()
{
    QTemporaryDir dir;
    Profile p;
    p.name = QStringLiteral("ops");
    p.audit.signingKey = SecretRef{SecretRef::Kind::File, dir.filePath(QStringLiteral("k.pem"))};
    auto fromFile = loadAuditKey(p);
    QVERIFY(fromFile.ok());
    QCOMPARE(fromFile->storage, QStringLiteral("file"));
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("k.pem"))));

    // No audit section: the keychain, and no file appears anywhere as a fallback.
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/breaker-test-bus");
    qunsetenv("DISPLAY");
    p.audit.signingKey.reset();
    auto fromKeychain = loadAuditKey(p);
    QVERIFY(!fromKeychain.ok());
    QVERIFY(fromKeychain.error().where.startsWith(QStringLiteral("keychain:")));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), qsizetype(1));
}

QTEST_GUILESS_MAIN(tst_AuditSigner)
#include "tst_auditsigner.moc"
