// libsecret's GLib headers use `signals` as a name, which Qt defines as a keyword: include them
// first, without Qt's macro.
#ifdef BREAKER_HAVE_LIBSECRET
#pragma push_macro("signals")
#undef signals
#include <libsecret/secret.h>
#pragma pop_macro("signals")
#endif

#include "app/services/AuditKeyStore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Breaker {

namespace {

constexpr qint64 kMaxKeyFileBytes = 16 * 1024;

QString systemError(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

QString octalMode(mode_t mode)
{
    return QStringLiteral("0") + QString::number(uint(mode & 07777), 8).rightJustified(3, u'0');
}

// Clears a buffer that held a private key before it is released.
void scrub(QByteArray &bytes)
{
    if (!bytes.isEmpty())
        OPENSSL_cleanse(bytes.data(), size_t(bytes.size()));
    bytes.clear();
}

struct FdCloser
{
    int fd;
    ~FdCloser()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

Result<AuditKey> createKeyFile(const QString &path, const QByteArray &encoded)
{
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot create the folder for the audit key file"),
                         info.absolutePath());
    // O_EXCL with the mode given here: the file never exists with a wider mode, not even
    // between creating and chmod, and a file someone else created meanwhile is not taken over.
    const int fd
        = ::open(encoded.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        const int error = errno;
        return makeError(error == EEXIST ? Error::Kind::Conflict : Error::Kind::Unavailable,
                         QStringLiteral("cannot create the audit key file: ") + systemError(error),
                         path);
    }
    FdCloser closer{fd};
    auto generated = AuditSigner::generate();
    if (!generated)
        return generated.error();
    QByteArray pem = generated->privatePem();
    qint64 written = 0;
    while (written < pem.size()) {
        const ssize_t n = ::write(fd, pem.constData() + written, size_t(pem.size() - written));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int error = errno;
            scrub(pem);
            ::unlink(encoded.constData());
            return makeError(error == ENOSPC ? Error::Kind::DiskFull : Error::Kind::Unavailable,
                             QStringLiteral("cannot write the audit key file: ")
                                 + systemError(error),
                             path);
        }
        written += n;
    }
    scrub(pem);
    if (::fsync(fd) != 0) {
        const int error = errno;
        ::unlink(encoded.constData());
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot write the audit key file: ") + systemError(error),
                         path);
    }
    return AuditKey{std::move(generated.value()), QStringLiteral("file"), path, true};
}

} // namespace

Result<AuditKey> loadAuditKeyFile(const QString &path)
{
    if (!QFileInfo(path).isAbsolute())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the audit key file must be an absolute path"),
                         path);
    const QByteArray encoded = QFile::encodeName(path);
    for (int attempt = 0; attempt < 2; ++attempt) {
        const int fd = ::open(encoded.constData(),
                              O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0) {
            const int error = errno;
            if (error != ENOENT)
                return makeError(Error::Kind::Unavailable,
                                 QStringLiteral("cannot open the audit key file: ")
                                     + systemError(error),
                                 path);
            auto created = createKeyFile(path, encoded);
            if (!created && created.error().kind == Error::Kind::Conflict)
                continue; // another process created it first: read theirs
            return created;
        }
        FdCloser closer{fd};
        struct stat st = {};
        if (::fstat(fd, &st) != 0)
            return makeError(Error::Kind::Unavailable,
                             QStringLiteral("cannot inspect the audit key file: ")
                                 + systemError(errno),
                             path);
        if (!S_ISREG(st.st_mode))
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("the audit key file is not a regular file"),
                             path);
        if (st.st_uid != ::geteuid())
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("the audit key file is owned by uid %1, not by the "
                                            "current user (uid %2)")
                                 .arg(st.st_uid)
                                 .arg(::geteuid()),
                             path);
        const mode_t mode = st.st_mode & 07777;
        if ((mode & ~mode_t(0600)) != 0)
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("the audit key file %1 has mode %2, wider than 0600: "
                                            "anyone it lets read it could sign as this console "
                                            "(chmod 600 %1, and replace the key if it was read)")
                                 .arg(path, octalMode(mode)),
                             path);
        if (st.st_size > kMaxKeyFileBytes)
            return makeError(
                Error::Kind::Invalid,
                QStringLiteral("the audit key file is %1 bytes; a key is at most 16 KiB")
                    .arg(qint64(st.st_size)),
                path);
        QByteArray pem(qsizetype(st.st_size), '\0');
        qint64 done = 0;
        while (done < pem.size()) {
            const ssize_t n = ::read(fd, pem.data() + done, size_t(pem.size() - done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            done += n;
        }
        pem.truncate(qsizetype(done));
        auto signer = AuditSigner::fromPrivatePem(pem);
        scrub(pem);
        if (!signer)
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("the audit key file does not hold an Ed25519 key: ")
                                 + signer.error().message,
                             path);
        return AuditKey{std::move(signer.value()), QStringLiteral("file"), path, false};
    }
    return makeError(Error::Kind::Unavailable,
                     QStringLiteral("the audit key file appeared and vanished while it was read"),
                     path);
}

#ifdef BREAKER_HAVE_LIBSECRET

namespace {

struct SchemaHolder
{
    SchemaHolder()
        : schema(secret_schema_new("org.breaker.AuditKey",
                                   SECRET_SCHEMA_NONE,
                                   "profile",
                                   SECRET_SCHEMA_ATTRIBUTE_STRING,
                                   "name",
                                   SECRET_SCHEMA_ATTRIBUTE_STRING,
                                   nullptr))
    {}
    ~SchemaHolder() { secret_schema_unref(schema); }
    SecretSchema *schema;
};

const SecretSchema *auditKeySchema()
{
    static SchemaHolder holder;
    return holder.schema;
}

Error keychainError(const QString &where, const char *doing, GError *error)
{
    const QString said
        = error && error->message ? QString::fromUtf8(error->message) : QStringLiteral("no answer");
    if (error)
        g_error_free(error);
    return makeError(Error::Kind::Unavailable,
                     QStringLiteral("the OS keychain (Secret Service, via libsecret) could not %1 "
                                    "the audit signing key: %2. Set audit.signing_key to file:PATH "
                                    "in the profile to keep the key in a 0600 file instead.")
                         .arg(QString::fromLatin1(doing), said),
                     where);
}

// The stored PEM, or an empty array when there is none.
Result<QByteArray> lookup(const QString &where, const QByteArray &profile, const QByteArray &name)
{
    GError *error = nullptr;
    gchar *secret = secret_password_lookup_sync(auditKeySchema(),
                                                nullptr,
                                                &error,
                                                "profile",
                                                profile.constData(),
                                                "name",
                                                name.constData(),
                                                nullptr);
    if (error)
        return keychainError(where, "read", error);
    if (!secret)
        return QByteArray();
    QByteArray pem(secret);
    secret_password_free(secret); // clears it
    return pem;
}

} // namespace

Result<AuditKey> loadAuditKeyFromKeychain(const QString &profileName, const QString &name)
{
    const QString where = QStringLiteral("keychain:%1 (profile %2)").arg(name, profileName);
    const QByteArray profile = profileName.toUtf8();
    const QByteArray entry = name.toUtf8();
    auto stored = lookup(where, profile, entry);
    if (!stored)
        return stored.error();
    bool created = false;
    if (stored->isEmpty()) {
        auto generated = AuditSigner::generate();
        if (!generated)
            return generated.error();
        QByteArray pem = generated->privatePem();
        const QByteArray label = "Breaker audit signing key (" + profile + ")";
        GError *error = nullptr;
        const gboolean ok = secret_password_store_sync(auditKeySchema(),
                                                       SECRET_COLLECTION_DEFAULT,
                                                       label.constData(),
                                                       pem.constData(),
                                                       nullptr,
                                                       &error,
                                                       "profile",
                                                       profile.constData(),
                                                       "name",
                                                       entry.constData(),
                                                       nullptr);
        scrub(pem);
        if (!ok || error)
            return keychainError(where, "store", error);
        // Read back what is stored: if another process stored its own key at the same moment,
        // both use the one that won.
        stored = lookup(where, profile, entry);
        if (!stored)
            return stored.error();
        if (stored->isEmpty())
            return makeError(Error::Kind::Unavailable,
                             QStringLiteral("the OS keychain accepted the audit signing key but "
                                            "does not return it (a locked or read-only "
                                            "collection?). Set audit.signing_key to file:PATH in "
                                            "the profile to keep the key in a 0600 file instead."),
                             where);
        created = true;
    }
    auto signer = AuditSigner::fromPrivatePem(*stored);
    scrub(*stored);
    if (!signer)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the keychain entry does not hold an Ed25519 key: ")
                             + signer.error().message,
                         where);
    return AuditKey{std::move(signer.value()), QStringLiteral("keychain"), where, created};
}

#else

Result<AuditKey> loadAuditKeyFromKeychain(const QString &profileName, const QString &name)
{
    return makeError(Error::Kind::Unavailable,
                     QStringLiteral("this build has no OS keychain support (built without "
                                    "libsecret-1). Set audit.signing_key to file:PATH in the "
                                    "profile to keep the key in a 0600 file instead."),
                     QStringLiteral("keychain:%1 (profile %2)").arg(name, profileName));
}

#endif

Result<AuditKey> loadAuditKey(const std::optional<Profile> &profile)
{
    const QString profileName
        = profile && !profile->name.isEmpty() ? profile->name : QStringLiteral("default");
    if (profile && profile->audit.signingKey) {
        const SecretRef &ref = *profile->audit.signingKey;
        switch (ref.kind) {
        case SecretRef::Kind::File:
            return loadAuditKeyFile(ref.name);
        case SecretRef::Kind::Keychain:
            return loadAuditKeyFromKeychain(profileName, ref.name);
        case SecretRef::Kind::Env:
            break;
        }
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("audit.signing_key must be keychain:NAME or file:PATH"),
                         ref.toString());
    }
    return loadAuditKeyFromKeychain(profileName, defaultAuditKeyName());
}

} // namespace Breaker
