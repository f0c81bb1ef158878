#include "app/services/Paths.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>

#include <unistd.h>

namespace Breaker::Paths {

QString dataDir()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
           + QStringLiteral("/breaker");
}

QString defaultDbPath()
{
    return dataDir() + QStringLiteral("/breaker.db");
}

QString sandboxDbPath()
{
    return dataDir() + QStringLiteral("/sandbox.db");
}

QString defaultProfilePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation)
           + QStringLiteral("/breaker/profile.json");
}

QString runtimeDir()
{
    QString base = QString::fromLocal8Bit(qgetenv("XDG_RUNTIME_DIR"));
    QString dir = base.isEmpty() ? QStringLiteral("/tmp/breaker-%1").arg(getuid())
                                 : base + QStringLiteral("/breaker");
    if (!QDir().mkpath(dir))
        return {};
    const auto owner = QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner;
    if (!QFile::setPermissions(dir, owner))
        return {};
    return dir;
}

} // namespace Breaker::Paths
