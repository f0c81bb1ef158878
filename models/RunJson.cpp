#include "models/RunJson.h"

#include <QDateTime>
#include <QJsonDocument>

namespace Breaker::RunJson {

namespace {

QJsonValue textOrNull(const QByteArray &utf8)
{
    return utf8.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(QString::fromUtf8(utf8));
}

QJsonObject objectFrom(const QByteArray &json)
{
    if (json.isEmpty())
        return {};
    return QJsonDocument::fromJson(json).object();
}

QJsonValue timeOrNull(qint64 ms)
{
    return ms > 0 ? QJsonValue(isoTime(ms)) : QJsonValue(QJsonValue::Null);
}

} // namespace

QString isoTime(qint64 unixMs)
{
    if (unixMs <= 0)
        return {};
    return QDateTime::fromMSecsSinceEpoch(unixMs, Qt::UTC).toString(Qt::ISODateWithMs);
}

QString isoTimeNs(qint64 unixNs)
{
    if (unixNs <= 0)
        return {};
    const qint64 seconds = unixNs / 1000000000;
    const qint64 nanos = unixNs % 1000000000;
    return QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC).toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss"))
           + QStringLiteral(".%1Z").arg(nanos, 9, 10, QLatin1Char('0'));
}

QJsonObject run(const Run &r)
{
    QJsonObject o;
    o.insert(QStringLiteral("id"), QString::fromUtf8(r.id));
    o.insert(QStringLiteral("agent"), textOrNull(r.agent));
    o.insert(QStringLiteral("agent_bound"), r.agentBound);
    o.insert(QStringLiteral("principal"), textOrNull(r.principal));
    o.insert(QStringLiteral("status"), QString::fromLatin1(toWireName(r.status)));
    o.insert(QStringLiteral("provider"), textOrNull(r.provider));
    o.insert(QStringLiteral("goal"), textOrNull(r.goal));
    o.insert(QStringLiteral("started"), timeOrNull(r.startedMs));
    o.insert(QStringLiteral("updated"), timeOrNull(r.updatedMs));
    o.insert(QStringLiteral("ended"), timeOrNull(r.endedMs));
    o.insert(QStringLiteral("tokens"),
             QJsonObject{{QStringLiteral("input"), r.inputTokens},
                         {QStringLiteral("output"), r.outputTokens}});
    o.insert(QStringLiteral("cost"),
             QJsonObject{{QStringLiteral("amount"), double(r.costMicros) / 1e6},
                         {QStringLiteral("currency"), QString::fromUtf8(r.currency)}});
    o.insert(QStringLiteral("tool_calls"), r.toolCalls);
    o.insert(QStringLiteral("policy_blocks"), r.policyBlocks);
    o.insert(QStringLiteral("data_sources"), r.dataSources);
    o.insert(QStringLiteral("errors"), r.errors);
    o.insert(QStringLiteral("approvals_pending"), r.approvalsPending);
    o.insert(QStringLiteral("external_ids"), objectFrom(r.externalIdsJson));
    if (!r.delegationJson.isEmpty())
        o.insert(QStringLiteral("delegation"), QJsonDocument::fromJson(r.delegationJson).array());
    return o;
}

QJsonObject event(const RunEvent &e)
{
    QJsonObject o;
    o.insert(QStringLiteral("id"), e.id);
    o.insert(QStringLiteral("kind"), QString::fromLatin1(toWireName(e.kind)));
    o.insert(QStringLiteral("name"), QString::fromUtf8(e.name));
    o.insert(QStringLiteral("start"), e.startNs > 0 ? QJsonValue(isoTimeNs(e.startNs)) : QJsonValue());
    o.insert(QStringLiteral("end"), e.endNs > 0 ? QJsonValue(isoTimeNs(e.endNs)) : QJsonValue());
    o.insert(QStringLiteral("duration_ms"), double(e.endNs - e.startNs) / 1e6);
    static const char *statusNames[] = {"unset", "ok", "error"};
    o.insert(QStringLiteral("status"),
             QString::fromLatin1(statusNames[std::clamp(e.statusCode, 0, 2)]));
    o.insert(QStringLiteral("trace_id"), textOrNull(e.traceId == kRuntimeEventTraceId ? QByteArray() : e.traceId));
    o.insert(QStringLiteral("span_id"), textOrNull(e.spanId));
    o.insert(QStringLiteral("parent_span_id"), textOrNull(e.parentSpanId));
    o.insert(QStringLiteral("attributes"), objectFrom(e.attributesJson));
    return o;
}

QJsonArray events(const std::vector<RunEvent> &list)
{
    QJsonArray a;
    for (const RunEvent &e : list)
        a.append(event(e));
    return a;
}

} // namespace Breaker::RunJson
