#include "views/TimelineExport.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

namespace Breaker {

namespace {

QJsonValue rfc3339Ms(qint64 ms)
{
    if (ms <= 0)
        return QJsonValue::Null;
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

QJsonValue rfc3339Ns(qint64 ns)
{
    if (ns <= 0)
        return QJsonValue::Null;
    const qint64 seconds = ns / 1'000'000'000;
    const qint64 fraction = ns % 1'000'000'000;
    const QString whole = QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC)
                              .toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss"));
    return QString(whole + QLatin1Char('.')
                   + QStringLiteral("%1").arg(fraction, 9, 10, QLatin1Char('0'))
                   + QLatin1Char('Z'));
}

QJsonValue jsonOrNull(const QByteArray &json)
{
    if (json.isEmpty())
        return QJsonValue::Null;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        return QString::fromUtf8(json); // keep what the provider said rather than drop it
    if (doc.isArray())
        return doc.array();
    return doc.object();
}

QJsonObject objectOrEmpty(const QByteArray &json)
{
    const QJsonValue value = jsonOrNull(json);
    return value.isObject() ? value.toObject() : QJsonObject();
}

QString eventStatus(int code)
{
    switch (code) {
    case 1:
        return QStringLiteral("ok");
    case 2:
        return QStringLiteral("error");
    default:
        return QStringLiteral("unset");
    }
}

QJsonValue textOrNull(const QByteArray &bytes)
{
    return bytes.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(QString::fromUtf8(bytes));
}

} // namespace

QJsonObject runToJson(const Run &run)
{
    return QJsonObject{
        {QStringLiteral("id"), QString::fromUtf8(run.id)},
        {QStringLiteral("agent"), QString::fromUtf8(run.agent)},
        {QStringLiteral("agent_bound"), run.agentBound},
        {QStringLiteral("principal"), textOrNull(run.principal)},
        {QStringLiteral("delegation"), jsonOrNull(run.delegationJson)},
        {QStringLiteral("status"), QString::fromLatin1(toWireName(run.status))},
        {QStringLiteral("provider"), textOrNull(run.provider)},
        {QStringLiteral("goal"), textOrNull(run.goal)},
        {QStringLiteral("started"), rfc3339Ms(run.startedMs)},
        {QStringLiteral("updated"), rfc3339Ms(run.updatedMs)},
        {QStringLiteral("ended"), rfc3339Ms(run.endedMs)},
        {QStringLiteral("tokens"),
         QJsonObject{{QStringLiteral("input"), run.inputTokens},
                     {QStringLiteral("output"), run.outputTokens}}},
        {QStringLiteral("cost"),
         QJsonObject{{QStringLiteral("amount"), double(run.costMicros) / 1e6},
                     {QStringLiteral("micros"), run.costMicros},
                     {QStringLiteral("currency"), QString::fromLatin1(run.currency)}}},
        {QStringLiteral("tool_calls"), run.toolCalls},
        {QStringLiteral("policy_blocks"), run.policyBlocks},
        {QStringLiteral("data_sources"), run.dataSources},
        {QStringLiteral("approvals_pending"), run.approvalsPending},
        {QStringLiteral("errors"), run.errors},
        {QStringLiteral("external_ids"), objectOrEmpty(run.externalIdsJson)},
    };
}

QJsonObject runEventToJson(const RunEvent &event)
{
    return QJsonObject{
        {QStringLiteral("id"), event.id},
        {QStringLiteral("kind"), QString::fromLatin1(toWireName(event.kind))},
        {QStringLiteral("name"), QString::fromUtf8(event.name)},
        {QStringLiteral("start"), rfc3339Ns(event.startNs)},
        {QStringLiteral("end"), rfc3339Ns(event.endNs)},
        {QStringLiteral("status"), eventStatus(event.statusCode)},
        {QStringLiteral("attributes"), objectOrEmpty(event.attributesJson)},
        {QStringLiteral("trace_id"), textOrNull(event.traceId)},
        {QStringLiteral("span_id"), textOrNull(event.spanId)},
        {QStringLiteral("parent_span_id"), textOrNull(event.parentSpanId)},
        {QStringLiteral("tokens"),
         QJsonObject{{QStringLiteral("input"), event.inputTokens},
                     {QStringLiteral("output"), event.outputTokens}}},
        {QStringLiteral("cost_micros"), event.costMicros},
    };
}

QByteArray timelineToJson(const Run &run, const std::vector<RunEvent> &events)
{
    QJsonArray list;
    for (const RunEvent &event : events)
        list.append(runEventToJson(event));
    const QJsonObject root{{QStringLiteral("run"), runToJson(run)},
                           {QStringLiteral("events"), list}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

} // namespace Breaker
