#include "models/AuditFilter.h"

namespace Breaker {

namespace {

bool actionMatches(QStringView wanted, QStringView action)
{
    while (wanted.endsWith(u'.'))
        wanted.chop(1);
    if (wanted.isEmpty())
        return true;
    if (!action.startsWith(wanted))
        return false;
    return action.size() == wanted.size() || action.at(wanted.size()) == u'.';
}

} // namespace

bool AuditFilter::isEmpty() const
{
    return agent.isEmpty() && run.isEmpty() && principal.isEmpty() && action.isEmpty();
}

bool AuditFilter::matches(const QJsonObject &record) const
{
    const QJsonObject target = record.value(QLatin1String("target")).toObject();
    auto same = [&target](const QString &wanted, QLatin1String key) {
        return wanted.isEmpty() || target.value(key).toString() == wanted;
    };
    return same(agent, QLatin1String("agent")) && same(run, QLatin1String("run"))
           && same(principal, QLatin1String("principal"))
           && (action.isEmpty()
               || actionMatches(action, record.value(QLatin1String("action")).toString()));
}

} // namespace Breaker
