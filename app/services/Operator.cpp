#include "app/services/Operator.h"

#include <QHostInfo>

#include <pwd.h>
#include <unistd.h>

namespace Breaker {

namespace {

QString osUser()
{
    if (const passwd *pw = getpwuid(getuid()); pw && pw->pw_name)
        return QString::fromLocal8Bit(pw->pw_name);
    return QStringLiteral("uid:%1").arg(getuid());
}

} // namespace

AuditEntry::Actor currentOperator(const std::optional<Profile> &profile)
{
    AuditEntry::Actor actor;
    actor.kind = QStringLiteral("operator");
    const QString user = osUser();
    if (profile && !profile->operatorName.isEmpty() && profile->operatorName != user)
        actor.id = QStringLiteral("%1 (os: %2)").arg(profile->operatorName, user);
    else
        actor.id = user;
    actor.host = QHostInfo::localHostName();
    return actor;
}

AuditEntry::Actor systemActor()
{
    AuditEntry::Actor actor;
    actor.kind = QStringLiteral("system");
    actor.id = QStringLiteral("breaker");
    actor.host = QHostInfo::localHostName();
    return actor;
}

} // namespace Breaker
