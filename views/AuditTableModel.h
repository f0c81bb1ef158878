#pragma once

#include "models/AuditRecord.h"

#include <QAbstractTableModel>
#include <QJsonObject>

#include <vector>

namespace Breaker {

// The audit trail as a table (issue 5 item 6): time, actor, action, target, outcome; one plain
// row struct per record (the record's exact line kept for the detail view), newest first.
class AuditTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { TimeColumn, ActorColumn, ActionColumn, TargetColumn, OutcomeColumn, ColumnCount };
    enum Role { SeqRole = Qt::UserRole + 1, RunRole, LineRole };

    struct Row
    {
        qint64 seq = 0;
        qint64 tsMs = 0;
        QString actor;   // "operator ada@host"
        QString action;
        QString target;  // "agent refund-agent · layer payment · card ic_…"
        QString outcome;
        QString run;     // the record's target.run, for "show in run"
        QByteArray line; // the exact bytes that were hashed
        QByteArray hash;
    };
    // A stored record as a row; a line that is not a JSON object still gets a row, saying so.
    static Row rowFor(const AuditRecord &record);

    explicit AuditTableModel(QObject *parent = nullptr);

    // Replaces the rows (a layout reset, not a row-by-row change).
    void setRecords(const std::vector<AuditRecord> &records);
    const Row *rowAt(int row) const;
    void setUtc(bool utc);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    std::vector<Row> m_rows;
    bool m_utc = false;
};

} // namespace Breaker
