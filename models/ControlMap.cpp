#include "models/ControlMap.h"

#include <QDateTime>
#include <QJsonObject>

namespace Breaker {

namespace {

bool isStopLayer(const QString &layer)
{
    return layer == u"runtime" || layer == u"identity" || layer == u"payment" || layer == u"tools";
}

QString utc(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
}

QString iso(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

QString by(bool drill)
{
    return drill ? QStringLiteral("a drill") : QStringLiteral("a stop");
}

} // namespace

std::vector<ControlMapRow> buildControlMap(const Profile *profile, const AgentConfig *agent,
                                           const std::vector<StopProof> &proofs, const QString &whyNoAgent)
{
    std::vector<ControlMapRow> rows;
    if (!profile || !agent) {
        for (const char *id : kLayerIds) {
            ControlMapRow row;
            row.layer = QString::fromLatin1(id);
            row.stoppable = isStopLayer(row.layer);
            row.detail = whyNoAgent.isEmpty() ? QStringLiteral("agent not in the profile") : whyNoAgent;
            rows.push_back(std::move(row));
        }
        return rows;
    }
    int wired = 0, proven = 0;
    qint64 lastDrillAt = 0;
    for (const LayerBinding &b : profile->layersFor(*agent)) {
        ControlMapRow row;
        row.layer = b.layer;
        row.provider = b.provider;
        row.configured = b.configured;
        row.stoppable = isStopLayer(b.layer);
        if (!b.configured)
            row.detail = QStringLiteral("no provider bound");
        if (row.stoppable) {
            for (const StopProof &p : proofs)
                if (p.agent == agent->name.toUtf8() && p.layer == b.layer.toUtf8())
                    row.proof = p;
            if (b.configured) {
                ++wired;
                row.detail = describeProof(row.proof);
                if (row.proven())
                    ++proven;
                if (row.proof && row.proof->drill)
                    lastDrillAt = std::max(lastDrillAt, row.proof->atMs);
            }
        }
        rows.push_back(std::move(row));
    }
    // The kill switch row answers "who can stop it?": which stop layers are wired, which proven.
    for (ControlMapRow &row : rows) {
        if (row.layer != u"kill_switch" || !row.configured)
            continue;
        row.detail = QStringLiteral("%1 of 4 stop layers wired, %2 proven").arg(wired).arg(proven);
        row.detail += lastDrillAt > 0 ? QStringLiteral("; last drill %1").arg(utc(lastDrillAt))
                                      : QStringLiteral("; never drilled");
    }
    return rows;
}

QString describeProof(const std::optional<StopProof> &proof)
{
    if (!proof)
        return QStringLiteral("never proven: no stop or drill has reached this layer");
    const StopProof &p = *proof;
    QString text;
    if (p.provenAtMs > 0)
        text = QStringLiteral("verified in %1 ms by %2, %3").arg(p.provenMs).arg(by(p.provenDrill), utc(p.provenAtMs));
    else
        text = QStringLiteral("never proven");
    if (p.outcome != LayerOutcome::Verified || p.atMs != p.provenAtMs) {
        text += QStringLiteral("; last %1 %2: %3 after %4 ms")
                    .arg(p.drill ? QStringLiteral("drill") : QStringLiteral("stop"), utc(p.atMs),
                         QString::fromLatin1(toWireName(p.outcome)))
                    .arg(p.ms);
        if (p.outcome != LayerOutcome::Verified && !p.detail.isEmpty())
            text += QStringLiteral(" (%1)").arg(p.detail);
    }
    return text;
}

QJsonArray controlMapJson(const std::vector<ControlMapRow> &rows)
{
    QJsonArray out;
    for (const ControlMapRow &r : rows) {
        QJsonObject o{{QStringLiteral("layer"), r.layer},
                      {QStringLiteral("state"), r.state()},
                      {QStringLiteral("provider"), r.provider.isEmpty() ? QJsonValue() : QJsonValue(r.provider)},
                      {QStringLiteral("detail"), r.detail}};
        if (r.stoppable) {
            QJsonValue proven, attempt;
            if (r.proven())
                proven = QJsonObject{{QStringLiteral("at"), iso(r.proof->provenAtMs)},
                                     {QStringLiteral("ms"), r.proof->provenMs},
                                     {QStringLiteral("drill"), r.proof->provenDrill},
                                     {QStringLiteral("provider"), QString::fromUtf8(r.proof->provenProvider)}};
            if (r.proof)
                attempt = QJsonObject{{QStringLiteral("at"), iso(r.proof->atMs)},
                                      {QStringLiteral("outcome"), QString::fromLatin1(toWireName(r.proof->outcome))},
                                      {QStringLiteral("ms"), r.proof->ms},
                                      {QStringLiteral("drill"), r.proof->drill},
                                      {QStringLiteral("detail"), r.proof->detail}};
            o.insert(QStringLiteral("last_proven"), proven);
            o.insert(QStringLiteral("last_attempt"), attempt);
        }
        out.append(o);
    }
    return out;
}

} // namespace Breaker
