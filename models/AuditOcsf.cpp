#include "models/AuditOcsf.h"

#include "BreakerVersion.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonValue>

namespace Breaker {

namespace {

// OCSF class and category uids (tests/data/ocsf/categories.json and the class files).
constexpr int kApplicationCategory = 6;
constexpr int kIamCategory = 3;
constexpr int kApiActivity = 6003;    // events/application/api_activity.json, uid 3
constexpr int kUserManagement = 3007; // events/iam/user_management.json, uid 7

constexpr int kOther = 99;
constexpr int kRemoveProgrammaticCredentials = 19; // User Management activity 19

QString text(const QJsonObject &object, const char *key)
{
    return object.value(QLatin1String(key)).toString();
}

struct Activity
{
    int id = kOther;
    QString name;
};

// API Activity's activity by what the action does to its object (docs/OCSF.md). Nothing in
// Breaker deletes: a stop changes state, the trail is never pruned, a revocation is User
// Management. An action not in the table is 99 Other under its own name, never dropped.
Activity apiActivity(const QString &action)
{
    static const struct
    {
        const char *action;
        int id;
    } kTable[] = {
        {"stop.requested", 1},
        {"resume.requested", 1},
        {"approval.requested", 1},
        {"stop.leak", 2},
        {"stop.joined", 2},
        {"resume.joined", 2},
        {"audit.exported", 2},
        {"stop.layer", 3},
        {"resume.layer", 3},
        {"stop.completed", 3},
        {"resume.completed", 3},
        {"approval.decided", 3},
        {"approval.released", 3},
        {"approval.expired", 3},
        {"profile.changed", 3},
        {"cancel", 3},
    };
    static const char *const kCaptions[] = {"Unknown", "Create", "Read", "Update", "Delete"};
    for (const auto &row : kTable)
        if (action == QLatin1String(row.action))
            return {row.id, QLatin1String(kCaptions[row.id])};
    return {kOther, action.isEmpty() ? QStringLiteral("unknown") : action};
}

bool isTokenRevocation(const QString &action, const QJsonObject &target)
{
    return (action == QLatin1String("stop.layer") || action == QLatin1String("resume.layer"))
           && text(target, "layer") == QLatin1String("identity");
}

struct Status
{
    int id = 0;
    QString caption;
};

// The record's outcome as OCSF status: did the activity itself succeed? An approval denied by
// the operator is a decision taken successfully; "done_unverified" and "skipped_not_configured"
// are neither, so they are 99 Other under their own words.
Status statusFor(const QString &outcome)
{
    static const char *const kSuccess[] = {"ok",
                                           "verified",
                                           "approved",
                                           "denied",
                                           "released",
                                           "expired",
                                           "done",
                                           "exported",
                                           "changed",
                                           "cancelled",
                                           "canceled",
                                           "success"};
    static const char *const kFailure[]
        = {"failed", "failure", "not_verified", "leak", "error", "refused", "timeout", "rejected"};
    if (outcome.isEmpty())
        return {0, QStringLiteral("Unknown")};
    for (const char *word : kSuccess)
        if (outcome == QLatin1String(word))
            return {1, QStringLiteral("Success")};
    for (const char *word : kFailure)
        if (outcome == QLatin1String(word))
            return {2, QStringLiteral("Failure")};
    return {kOther, outcome};
}

QJsonObject userObject(const QString &name, int typeId)
{
    static const char *const kTypes[] = {"Unknown", "User", "Admin", "System", "Service"};
    return QJsonObject{{QStringLiteral("name"), name.isEmpty() ? QStringLiteral("unknown") : name},
                       {QStringLiteral("type_id"), typeId},
                       {QStringLiteral("type"), QLatin1String(kTypes[typeId])}};
}

QJsonObject resource(const QString &type, const QString &uid, const QString &name, bool target)
{
    QJsonObject r{
        {QStringLiteral("type"), type},
        {QStringLiteral("role_id"), target ? 1 : 4},
        {QStringLiteral("role"), target ? QStringLiteral("Target") : QStringLiteral("Related")}};
    if (!uid.isEmpty())
        r.insert(QStringLiteral("uid"), uid);
    if (!name.isEmpty())
        r.insert(QStringLiteral("name"), name);
    return r;
}

QString objectType(const QString &layer)
{
    if (layer == QLatin1String("identity"))
        return QStringLiteral("oauth_token");
    if (layer == QLatin1String("payment"))
        return QStringLiteral("payment_card");
    if (layer == QLatin1String("tools"))
        return QStringLiteral("tool");
    if (layer == QLatin1String("runtime"))
        return QStringLiteral("agent_run");
    return QStringLiteral("object");
}

// What the action touched: the agent (owned by the principal it acts for), or the principal
// alone, the run, and the provider's object (a token, cards, tools).
QJsonArray resourcesFor(const QString &action, const QJsonObject &target)
{
    const QString agent = text(target, "agent");
    const QString principal = text(target, "principal");
    const QString run = text(target, "run");
    const QString layer = text(target, "layer");
    const QString object = text(target, "object");
    QJsonArray out;
    if (!agent.isEmpty()) {
        QJsonObject r = resource(QStringLiteral("ai_agent"), agent, agent, true);
        if (!principal.isEmpty())
            r.insert(QStringLiteral("owner"), userObject(principal, 1));
        out.append(r);
    } else if (!principal.isEmpty()) {
        out.append(resource(QStringLiteral("principal"), principal, principal, true));
    }
    if (!run.isEmpty()) {
        const bool runIsTarget = layer == QLatin1String("runtime")
                                 || action.startsWith(QLatin1String("cancel")) || agent.isEmpty();
        out.append(resource(QStringLiteral("agent_run"), run, QString(), runIsTarget));
    }
    if (!object.isEmpty()) {
        QJsonObject r = resource(objectType(layer), QString(), object, true);
        // Not resource_details.provider: that is the cloud profile's "Cloud Provider".
        QJsonObject data;
        if (!layer.isEmpty())
            data.insert(QStringLiteral("layer"), layer);
        if (const QString provider = text(target, "provider"); !provider.isEmpty())
            data.insert(QStringLiteral("provider"), provider);
        if (!data.isEmpty())
            r.insert(QStringLiteral("data"), data);
        out.append(r);
    }
    return out;
}

QString messageFor(const QString &who,
                   const QString &action,
                   const QJsonObject &target,
                   const QString &outcome,
                   const QString &reason)
{
    QString m = (who.isEmpty() ? QStringLiteral("unknown") : who) + QLatin1Char(' ')
                + (action.isEmpty() ? QStringLiteral("(no action)") : action);
    for (const char *key : {"agent", "run", "principal", "layer"})
        if (const QString v = text(target, key); !v.isEmpty())
            m += QLatin1Char(' ') + QLatin1String(key) + QLatin1Char(' ') + v;
    if (const QString provider = text(target, "provider"); !provider.isEmpty())
        m += QStringLiteral(" at ") + provider;
    if (!outcome.isEmpty())
        m += QStringLiteral(": ") + outcome;
    if (!reason.isEmpty())
        m += QStringLiteral(" (reason: ") + reason + QLatin1Char(')');
    return m;
}

} // namespace

QJsonObject auditToOcsf(const QJsonObject &record)
{
    const QJsonObject actor = record.value(QLatin1String("actor")).toObject();
    const QJsonObject target = record.value(QLatin1String("target")).toObject();
    const QJsonObject detail = record.value(QLatin1String("detail")).toObject();
    const QString action = text(record, "action");
    const QString outcome = text(record, "outcome");
    const QString reason = text(record, "reason");
    const QString ts = text(record, "ts");
    const QString actorId = text(actor, "id");
    const QString actorKind = text(actor, "kind");
    const QString host = text(actor, "host");
    const QString run = text(target, "run");
    const QString provider = text(target, "provider");
    const QString agent = text(target, "agent");
    // The provider's own words on a layer, or what a leak check saw.
    QString words = text(detail, "detail");
    if (words.isEmpty())
        words = text(detail, "what");

    const bool revocation = isTokenRevocation(action, target);
    int classUid = kApiActivity;
    QString className = QStringLiteral("API Activity");
    int categoryUid = kApplicationCategory;
    QString categoryName = QStringLiteral("Application Activity");
    Activity activity;
    if (revocation) {
        classUid = kUserManagement;
        className = QStringLiteral("User Management");
        categoryUid = kIamCategory;
        categoryName = QStringLiteral("Identity & Access Management");
        const QString layerAction = text(detail, "action");
        if (layerAction == QLatin1String("revoke"))
            activity = {kRemoveProgrammaticCredentials,
                        QStringLiteral("Remove Programmatic Credentials")};
        else
            activity = {kOther,
                        layerAction.isEmpty() ? action : action + QLatin1Char(' ') + layerAction};
    } else {
        activity = apiActivity(action);
    }

    const Status status = statusFor(outcome);
    int severityId = 1;
    QString severity = QStringLiteral("Informational");
    if (action == QLatin1String("stop.leak") || outcome == QLatin1String("leak")) {
        severityId = 4; // the agent still acts after a stop: act now
        severity = QStringLiteral("High");
    } else if (status.id == 2) {
        severityId = 3; // a control action failed: the agent may not be contained
        severity = QStringLiteral("Medium");
    }

    QJsonObject product{{QStringLiteral("name"), QStringLiteral("Breaker")},
                        {QStringLiteral("vendor_name"), QStringLiteral("Breaker")},
                        {QStringLiteral("version"), QStringLiteral(BREAKER_VERSION)}};
    QJsonObject metadata{
        {QStringLiteral("version"), QLatin1String(kOcsfVersion)},
        {QStringLiteral("product"), product},
        {QStringLiteral("uid"), QString::number(record.value(QLatin1String("seq")).toInteger())},
        {QStringLiteral("log_name"), QStringLiteral("audit")},
        {QStringLiteral("event_code"), action}};
    if (!run.isEmpty())
        metadata.insert(QStringLiteral("correlation_uid"), run);
    if (!ts.isEmpty())
        metadata.insert(QStringLiteral("original_time"), ts);

    int actorType = 0;
    if (actorKind == QLatin1String("operator"))
        actorType = 1;
    else if (actorKind == QLatin1String("system"))
        actorType = 3;
    else if (actorKind == QLatin1String("connector"))
        actorType = 4;
    const QJsonObject ocsfActor{
        {QStringLiteral("user"), userObject(actorId.isEmpty() ? actorKind : actorId, actorType)},
        {QStringLiteral("app_name"), QStringLiteral("Breaker")}};
    const QJsonObject source
        = host.isEmpty() ? QJsonObject{{QStringLiteral("name"), QStringLiteral("unknown")}}
                         : QJsonObject{{QStringLiteral("hostname"), host}};

    const QDateTime when = QDateTime::fromString(ts, Qt::ISODateWithMs);
    QJsonObject event{
        {QStringLiteral("class_uid"), classUid},
        {QStringLiteral("class_name"), className},
        {QStringLiteral("category_uid"), categoryUid},
        {QStringLiteral("category_name"), categoryName},
        {QStringLiteral("activity_id"), activity.id},
        {QStringLiteral("activity_name"), activity.name},
        {QStringLiteral("type_uid"), qint64(classUid) * 100 + activity.id},
        {QStringLiteral("type_name"), QString(className + QStringLiteral(": ") + activity.name)},
        {QStringLiteral("time"), when.isValid() ? when.toMSecsSinceEpoch() : qint64(0)},
        {QStringLiteral("timezone_offset"), 0},
        {QStringLiteral("severity_id"), severityId},
        {QStringLiteral("severity"), severity},
        {QStringLiteral("status_id"), status.id},
        {QStringLiteral("status"), status.caption},
        {QStringLiteral("message"), messageFor(actorId, action, target, outcome, reason)},
        {QStringLiteral("metadata"), metadata},
        {QStringLiteral("actor"), ocsfActor},
        {QStringLiteral("src_endpoint"), source},
    };
    if (!outcome.isEmpty())
        event.insert(QStringLiteral("status_code"), outcome);
    if (!words.isEmpty())
        event.insert(QStringLiteral("status_detail"), words);
    if (const QJsonArray resources = resourcesFor(action, target); !resources.isEmpty())
        event.insert(QStringLiteral("resources"), resources);

    if (revocation) {
        // The account whose credential was removed: the agent's identity at the provider, a
        // non-human (service) account. Its principal is the owner of the agent resource.
        QJsonObject user = userObject(agent, agent.isEmpty() ? 0 : 4);
        if (!agent.isEmpty())
            user.insert(QStringLiteral("uid"), agent);
        event.insert(QStringLiteral("user"), user);
    } else {
        QJsonObject api{
            {QStringLiteral("operation"), action.isEmpty() ? QStringLiteral("unknown") : action}};
        if (!provider.isEmpty()) {
            api.insert(QStringLiteral("service"), QJsonObject{{QStringLiteral("name"), provider}});
            event.insert(QStringLiteral("dst_endpoint"),
                         QJsonObject{{QStringLiteral("svc_name"), provider}});
            if (!words.isEmpty())
                api.insert(QStringLiteral("response"),
                           QJsonObject{{QStringLiteral("message"), words}});
        }
        // One stop or resume is one request from the operator, fanned out over the layers.
        if (const QString operation = text(detail, "operation"); !operation.isEmpty())
            api.insert(QStringLiteral("request"), QJsonObject{{QStringLiteral("uid"), operation}});
        event.insert(QStringLiteral("api"), api);
    }

    QJsonObject breaker;
    for (const char *key : {"actor", "target", "reason", "outcome", "detail", "prev"})
        breaker.insert(QLatin1String(key), record.value(QLatin1String(key)));
    event.insert(QStringLiteral("unmapped"), QJsonObject{{QStringLiteral("breaker"), breaker}});
    return event;
}

} // namespace Breaker
