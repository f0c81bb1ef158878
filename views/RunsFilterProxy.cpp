#include "views/RunsFilterProxy.h"

#include "views/RunFormat.h"
#include "views/RunsTableModel.h"

namespace Breaker {

std::vector<RunsFilterProxy::StatusChoice> RunsFilterProxy::statusChoices()
{
    return {
        {tr("All statuses"), {}},
        {tr("Active"),
         {RunStatus::Submitted,
          RunStatus::Working,
          RunStatus::WaitingApproval,
          RunStatus::Stopping}},
        {tr("Waiting approval"), {RunStatus::WaitingApproval}},
        {tr("Working"), {RunStatus::Working, RunStatus::Submitted}},
        {tr("Failed or rejected"), {RunStatus::Failed, RunStatus::Rejected}},
        {tr("Stopping or stopped"), {RunStatus::Stopping, RunStatus::Stopped}},
        {tr("Completed"), {RunStatus::Completed}},
    };
}

RunsFilterProxy::RunsFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(RunsTableModel::SortRole);
    setSortCaseSensitivity(Qt::CaseInsensitive);
    setDynamicSortFilter(true);
}

void RunsFilterProxy::setSearchText(const QString &text)
{
    if (text == m_searchText)
        return;
    m_searchText = text;
    m_terms = text.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    invalidateFilter();
}

void RunsFilterProxy::setStatusFilter(const QList<RunStatus> &statuses)
{
    if (statuses == m_statuses)
        return;
    m_statuses = statuses;
    invalidateFilter();
}

bool RunsFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QAbstractItemModel *source = sourceModel();
    if (!source)
        return false;
    const QModelIndex index = source->index(sourceRow, 0, sourceParent);
    const auto status = RunStatus(index.data(RunsTableModel::StatusRole).toInt());
    if (!m_statuses.isEmpty() && !m_statuses.contains(status))
        return false;
    if (m_terms.isEmpty())
        return true;

    const QString fields[] = {
        index.data(RunsTableModel::AgentRole).toString(),
        index.data(RunsTableModel::PrincipalRole).toString(),
        QString::fromUtf8(index.data(RunsTableModel::RunIdRole).toByteArray()),
        QString::fromLatin1(toWireName(status)),
        RunFormat::statusLabel(status),
    };
    for (const QString &term : m_terms) {
        bool found = false;
        for (const QString &field : fields) {
            if (field.contains(term, Qt::CaseInsensitive)) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

} // namespace Breaker
