#include "app/services/Secrets.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Breaker {

namespace {

// A secret is a token or a key, not a document.
constexpr qint64 kMaxSecretBytes = 64 * 1024;

QString octalMode(mode_t mode)
{
    return QStringLiteral("0") + QString::number(uint(mode & 07777), 8).rightJustified(3, u'0');
}

QString systemError(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

QByteArray withoutOneTrailingNewline(QByteArray bytes)
{
    if (bytes.endsWith("\r\n"))
        bytes.chop(2);
    else if (bytes.endsWith('\n'))
        bytes.chop(1);
    return bytes;
}

Result<QByteArray> resolveEnv(const SecretRef &ref)
{
    const QString where = ref.toString();
    const QByteArray name = ref.name.toLocal8Bit();
    if (!qEnvironmentVariableIsSet(name.constData()))
        return makeError(Error::Kind::NotFound,
                         QStringLiteral("environment variable ") + ref.name
                             + QStringLiteral(" is not set"),
                         where);
    QByteArray value = qgetenv(name.constData());
    if (value.isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("environment variable ") + ref.name
                             + QStringLiteral(" is empty"),
                         where);
    return value;
}

Result<QByteArray> resolveFile(const SecretRef &ref)
{
    const QString where = ref.toString();
    const QByteArray path = QFile::encodeName(ref.name);
    // Open first and check the opened file, so what is checked is what is read.
    const int fd = ::open(path.constData(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        const int error = errno;
        return makeError(error == ENOENT ? Error::Kind::NotFound : Error::Kind::Unavailable,
                         QStringLiteral("cannot open secret file ") + ref.name
                             + QStringLiteral(": ") + systemError(error),
                         where);
    }
    struct Closer
    {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};

    struct stat st = {};
    if (::fstat(fd, &st) != 0) {
        const int error = errno;
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot inspect secret file ") + ref.name
                             + QStringLiteral(": ") + systemError(error),
                         where);
    }
    if (!S_ISREG(st.st_mode))
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("secret file ") + ref.name
                             + QStringLiteral(" is not a regular file"),
                         where);
    if (st.st_uid != ::geteuid())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("secret file ") + ref.name
                             + QStringLiteral(" is owned by uid ") + QString::number(st.st_uid)
                             + QStringLiteral(", not by the current user (uid ")
                             + QString::number(::geteuid()) + u')',
                         where);
    const mode_t mode = st.st_mode & 07777;
    if (mode != 0600 && mode != 0400)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("secret file ") + ref.name + QStringLiteral(" has mode ")
                             + octalMode(mode)
                             + QStringLiteral("; it must be 0600 or 0400 (chmod 600 ") + ref.name
                             + u')',
                         where);
    if (st.st_size > kMaxSecretBytes)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("secret file ") + ref.name + QStringLiteral(" holds ")
                             + QString::number(qint64(st.st_size))
                             + QStringLiteral(" bytes; a secret is at most 64 KiB"),
                         where);

    QFile file;
    if (!file.open(fd, QIODevice::ReadOnly, QFileDevice::DontCloseHandle))
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot read secret file ") + ref.name
                             + QStringLiteral(": ") + file.errorString(),
                         where);
    QByteArray content = file.read(kMaxSecretBytes + 1);
    if (file.error() != QFileDevice::NoError)
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot read secret file ") + ref.name
                             + QStringLiteral(": ") + file.errorString(),
                         where);
    content = withoutOneTrailingNewline(std::move(content));
    if (content.isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("secret file ") + ref.name + QStringLiteral(" is empty"),
                         where);
    return content;
}

} // namespace

Result<QByteArray> resolveSecret(const SecretRef &ref)
{
    switch (ref.kind) {
    case SecretRef::Kind::Env:
        return resolveEnv(ref);
    case SecretRef::Kind::File:
        return resolveFile(ref);
    case SecretRef::Kind::Keychain:
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("keychain: references need the OS secret service, which "
                                        "this build does not have yet (QtKeychain comes with the "
                                        "identity layer); use env: or file:"),
                         ref.toString());
    }
    return makeError(Error::Kind::Internal, QStringLiteral("unknown secret reference kind"));
}

} // namespace Breaker
