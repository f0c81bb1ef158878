#pragma once

#include "models/RunTypes.h"

#include <QList>
#include <QSortFilterProxyModel>
#include <QString>
#include <QStringList>

#include <vector>

namespace Breaker {

// Sorting and filtering of RunsTableModel: sorts by RunsTableModel::SortRole (raw numbers and
// times, never the display text), keeps sorting while rows change (dynamic sort), and filters by
// free text and by status.
class RunsFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    // A choice for the status filter control: a label and the statuses it keeps (empty: all).
    struct StatusChoice
    {
        QString label;
        QList<RunStatus> statuses;
    };
    static std::vector<StatusChoice> statusChoices();

    explicit RunsFilterProxy(QObject *parent = nullptr);

    // Whitespace-separated words, each of which must occur (case-insensitive) in the agent,
    // principal, run id or status of a row.
    void setSearchText(const QString &text);
    QString searchText() const { return m_searchText; }

    // Rows whose status is one of `statuses`; empty keeps every status.
    void setStatusFilter(const QList<RunStatus> &statuses);
    QList<RunStatus> statusFilter() const { return m_statuses; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_searchText;
    QStringList m_terms;
    QList<RunStatus> m_statuses;
};

} // namespace Breaker
