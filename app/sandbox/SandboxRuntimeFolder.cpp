#include "app/sandbox/SandboxRuntimeFolder.h"

#include <QDir>
#include <QFileInfo>

#include <cerrno>
#include <cstring>

#include <sys/stat.h>
#include <unistd.h>

namespace Breaker {

namespace {

constexpr QFileDevice::Permissions kOwnerOnly
    = QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner;

Result<void> ensurePrivateDir(const QString &path)
{
    const QByteArray native = QFile::encodeName(path);
    if (::mkdir(native.constData(), 0700) != 0 && errno != EEXIST)
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot create %1: %2")
                             .arg(path, QString::fromLocal8Bit(strerror(errno))),
                         path);
    struct stat st
    {
    };
    if (::lstat(native.constData(), &st) != 0 || !S_ISDIR(st.st_mode))
        return makeError(
            Error::Kind::Unavailable, QStringLiteral("%1 is not a directory").arg(path), path);
    if (st.st_uid != ::getuid())
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("%1 belongs to another user; refusing to use it").arg(path),
                         path);
    if ((st.st_mode & 0077) != 0 && ::chmod(native.constData(), 0700) != 0)
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot make %1 private: %2")
                             .arg(path, QString::fromLocal8Bit(strerror(errno))),
                         path);
    return {};
}

Result<std::unique_ptr<QTemporaryDir>> makeTemporaryDir(const QString &templatePath)
{
    auto dir = std::make_unique<QTemporaryDir>(templatePath);
    if (!dir->isValid())
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot create a folder like %1: %2")
                             .arg(templatePath, dir->errorString()),
                         templatePath);
    QFile::setPermissions(dir->path(), kOwnerOnly); // QTemporaryDir already makes it 0700
    return dir;
}

} // namespace

Result<std::unique_ptr<SandboxRuntimeFolder>> SandboxRuntimeFolder::createDefault()
{
    return create(QString::fromLocal8Bit(qgetenv("XDG_RUNTIME_DIR")));
}

Result<std::unique_ptr<SandboxRuntimeFolder>>
SandboxRuntimeFolder::create(const QString &runtimeDir)
{
    std::unique_ptr<SandboxRuntimeFolder> folder(new SandboxRuntimeFolder);
    QString base;
    if (!runtimeDir.isEmpty() && QFileInfo(runtimeDir).isDir()) {
        base = QDir(runtimeDir).filePath(QStringLiteral("breaker"));
        auto ok = ensurePrivateDir(base);
        if (!ok)
            return ok.error();
    } else {
        auto tmp = makeTemporaryDir(QDir::tempPath() + QStringLiteral("/breaker-XXXXXX"));
        if (!tmp)
            return tmp.error();
        folder->m_base = std::move(*tmp);
        base = folder->m_base->path();
    }
    auto instance = makeTemporaryDir(base + QStringLiteral("/sandbox-XXXXXX"));
    if (!instance)
        return instance.error();
    folder->m_instance = std::move(*instance);
    return folder;
}

SandboxRuntimeFolder::~SandboxRuntimeFolder()
{
    m_instance.reset(); // before its parent
    m_base.reset();
}

QString SandboxRuntimeFolder::path() const
{
    return m_instance ? m_instance->path() : QString();
}

QString SandboxRuntimeFolder::filePath(const QString &name) const
{
    return m_instance ? m_instance->filePath(name) : QString();
}

} // namespace Breaker
