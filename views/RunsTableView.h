#pragma once

#include <QByteArray>
#include <QTableView>

namespace Breaker {

// The runs table: sortable (newest first by default), one row selected at a time, the provider
// and run-id columns hidden until the header's context menu shows them. Works on
// RunsTableModel directly or through RunsFilterProxy.
class RunsTableView : public QTableView
{
    Q_OBJECT
public:
    explicit RunsTableView(QWidget *parent = nullptr);

    void setModel(QAbstractItemModel *model) override;

    // The run of the current row; empty when there is none.
    QByteArray currentRunId() const;
    // Makes `runId`'s row current and selected; false if it is not shown (filtered or absent).
    bool selectRun(const QByteArray &runId);

signals:
    // The current row moved to another run (not emitted when the row merely moves).
    void currentRunChanged(const QByteArray &runId);

private:
    void showHeaderMenu(const QPoint &pos);
    void onCurrentRowChanged(const QModelIndex &current);
    void applyDefaultColumns();

    QByteArray m_currentRunId;
};

} // namespace Breaker
