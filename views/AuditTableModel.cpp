#include "views/AuditTableModel.h"

#include <QDateTime>
#include <QJsonDocument>

namespace Breaker {

namespace {

QString text(const QJsonValue &v)
{
    return v.isString() ? v.toString() : QString();
}

} // namespace

AuditTableModel::Row AuditTableModel::rowFor(const AuditRecord &record)
{
    Row row;
    row.seq = record.seq;
    row.tsMs = record.tsMs;
    row.line = record.line;
    row.hash = record.hashHex;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(record.line, &error);
    if (!doc.isObject()) {
        row.action = QStringLiteral("(unreadable record: %1)").arg(error.errorString());
        return row;
    }
    const QJsonObject o = doc.object();
    const QJsonObject actor = o.value(QStringLiteral("actor")).toObject();
    row.actor = QStringList{text(actor.value(QStringLiteral("kind"))), text(actor.value(QStringLiteral("id")))}
                    .join(QLatin1Char(' '))
                    .trimmed();
    row.action = text(o.value(QStringLiteral("action")));
    row.outcome = text(o.value(QStringLiteral("outcome")));
    const QJsonObject target = o.value(QStringLiteral("target")).toObject();
    QStringList parts;
    for (const char *key : {"agent", "principal", "run", "layer", "provider", "object"}) {
        const QString v = text(target.value(QLatin1String(key)));
        if (!v.isEmpty())
            parts << QStringLiteral("%1 %2").arg(QLatin1String(key), v);
    }
    row.target = parts.join(QStringLiteral(" · "));
    row.run = text(target.value(QStringLiteral("run")));
    return row;
}

AuditTableModel::AuditTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void AuditTableModel::setRecords(const std::vector<AuditRecord> &records)
{
    beginResetModel();
    m_rows.clear();
    m_rows.reserve(records.size());
    for (auto it = records.rbegin(); it != records.rend(); ++it) // newest first
        m_rows.push_back(rowFor(*it));
    endResetModel();
}

const AuditTableModel::Row *AuditTableModel::rowAt(int row) const
{
    return row >= 0 && size_t(row) < m_rows.size() ? &m_rows[size_t(row)] : nullptr;
}

void AuditTableModel::setUtc(bool utc)
{
    if (m_utc == utc)
        return;
    m_utc = utc;
    if (!m_rows.empty())
        emit dataChanged(index(0, TimeColumn), index(rowCount() - 1, TimeColumn), {Qt::DisplayRole});
}

int AuditTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int AuditTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AuditTableModel::data(const QModelIndex &index, int role) const
{
    const Row *r = rowAt(index.row());
    if (!r)
        return {};
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn: {
            const QDateTime t = QDateTime::fromMSecsSinceEpoch(r->tsMs, m_utc ? Qt::UTC : Qt::LocalTime);
            return t.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
        }
        case ActorColumn:
            return r->actor;
        case ActionColumn:
            return r->action;
        case TargetColumn:
            return r->target;
        case OutcomeColumn:
            return r->outcome;
        }
        return {};
    case Qt::ToolTipRole:
        return index.column() == TargetColumn ? QVariant(r->target) : QVariant(QStringLiteral("seq %1").arg(r->seq));
    case SeqRole:
        return r->seq;
    case RunRole:
        return r->run;
    case LineRole:
        return r->line;
    }
    return {};
}

QVariant AuditTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case ActorColumn:
        return tr("Actor");
    case ActionColumn:
        return tr("Action");
    case TargetColumn:
        return tr("Target");
    case OutcomeColumn:
        return tr("Outcome");
    }
    return {};
}

} // namespace Breaker
