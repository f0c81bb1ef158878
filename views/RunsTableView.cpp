#include "views/RunsTableView.h"

#include "views/RunsTableModel.h"

#include <QHeaderView>
#include <QMenu>

namespace Breaker {

RunsTableView::RunsTableView(QWidget *parent)
    : QTableView(parent)
{
    setSelectionBehavior(SelectRows);
    setSelectionMode(SingleSelection);
    setEditTriggers(NoEditTriggers);
    setAlternatingRowColors(true);
    setShowGrid(false);
    setWordWrap(false);
    setTextElideMode(Qt::ElideRight);
    setSortingEnabled(true);
    setTabKeyNavigation(false);
    verticalHeader()->hide();
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 10);
    verticalHeader()->setAccessibleName(tr("Run rows"));
    horizontalHeader()->setAccessibleName(tr("Run columns"));
    horizontalHeader()->setToolTip(tr("Click to sort; right-click to show or hide columns"));
    horizontalHeader()->setHighlightSections(false);
    horizontalHeader()->setSectionsMovable(true);
    horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(horizontalHeader(),
            &QHeaderView::customContextMenuRequested,
            this,
            &RunsTableView::showHeaderMenu);
    setAccessibleName(tr("Runs"));
    setToolTip(tr("Agent runs, newest first; select one to see its timeline"));
}

void RunsTableView::setModel(QAbstractItemModel *newModel)
{
    QTableView::setModel(newModel);
    m_currentRunId.clear();
    if (!newModel)
        return;
    connect(
        selectionModel(),
        &QItemSelectionModel::currentRowChanged,
        this,
        [this](const QModelIndex &current, const QModelIndex &) { onCurrentRowChanged(current); });
    applyDefaultColumns();
}

void RunsTableView::applyDefaultColumns()
{
    QHeaderView *header = horizontalHeader();
    const QFontMetrics fm = fontMetrics();
    const auto chars = [&fm](int n) { return fm.horizontalAdvance(QLatin1Char('0')) * n + 24; };
    header->setStretchLastSection(false);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->resizeSection(RunsTableModel::AgentColumn, chars(16));
    header->resizeSection(RunsTableModel::PrincipalColumn, chars(24));
    header->setSectionResizeMode(RunsTableModel::PrincipalColumn, QHeaderView::Stretch);
    header->resizeSection(RunsTableModel::StatusColumn, chars(17));
    header->resizeSection(RunsTableModel::StartedColumn, chars(14));
    header->resizeSection(RunsTableModel::DurationColumn, chars(9));
    header->resizeSection(RunsTableModel::TokensColumn, chars(14));
    header->resizeSection(RunsTableModel::CostColumn, chars(10));
    header->resizeSection(RunsTableModel::ToolCallsColumn, chars(9));
    header->resizeSection(RunsTableModel::PolicyBlocksColumn, chars(7));
    header->resizeSection(RunsTableModel::ApprovalsColumn, chars(9));
    header->resizeSection(RunsTableModel::ProviderColumn, chars(10));
    header->resizeSection(RunsTableModel::RunIdColumn, chars(20));
    setColumnHidden(RunsTableModel::ProviderColumn, true);
    setColumnHidden(RunsTableModel::RunIdColumn, true);
    sortByColumn(RunsTableModel::StartedColumn, Qt::DescendingOrder);
}

void RunsTableView::showHeaderMenu(const QPoint &pos)
{
    if (!model())
        return;
    // popup(), not exec(): no nested event loop while the menu is open.
    auto *menu = new QMenu(this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->setAccessibleName(tr("Columns"));
    for (int column = 0; column < model()->columnCount(); ++column) {
        QAction *action = menu->addAction(model()->headerData(column, Qt::Horizontal).toString());
        action->setCheckable(true);
        action->setChecked(!isColumnHidden(column));
        // Keep at least the agent column: a table with no columns cannot be clicked back.
        action->setEnabled(column != RunsTableModel::AgentColumn);
        connect(action, &QAction::toggled, this, [this, column](bool shown) {
            setColumnHidden(column, !shown);
        });
    }
    menu->popup(horizontalHeader()->viewport()->mapToGlobal(pos));
}

QByteArray RunsTableView::currentRunId() const
{
    const QModelIndex current = currentIndex();
    return current.isValid() ? current.data(RunsTableModel::RunIdRole).toByteArray() : QByteArray();
}

bool RunsTableView::selectRun(const QByteArray &runId)
{
    if (!model())
        return false;
    for (int row = 0; row < model()->rowCount(); ++row) {
        const QModelIndex idx = model()->index(row, RunsTableModel::AgentColumn);
        if (idx.data(RunsTableModel::RunIdRole).toByteArray() == runId) {
            selectionModel()->setCurrentIndex(
                idx, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
            scrollTo(idx);
            return true;
        }
    }
    return false;
}

void RunsTableView::onCurrentRowChanged(const QModelIndex &current)
{
    if (!current.isValid())
        return; // filtered away or reset: the detail pane keeps what it shows
    const QByteArray runId = current.data(RunsTableModel::RunIdRole).toByteArray();
    if (runId == m_currentRunId)
        return;
    m_currentRunId = runId;
    emit currentRunChanged(runId);
}

} // namespace Breaker
