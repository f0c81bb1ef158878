#pragma once

#include "app/services/AuditActions.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace Breaker {

class AuditTableModel;

// The audit trail in the console (issue 5 item 6): the newest records as a filterable table
// (time, actor, action, target, outcome), the selected record's full detail (its exact line,
// hash and prev), "Show in run" for records about a run, and the chain's state — intact through
// seq N, last checkpoint signed at T, by which key — re-checked on demand.
class AuditView : public QWidget
{
    Q_OBJECT
public:
    explicit AuditView(AuditActions *actions, QWidget *parent = nullptr);

    // Reloads the newest records and re-checks the chain.
    void refresh();
    void setUtc(bool utc);

    AuditTableModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QLineEdit *filterField() const { return m_filter; }
    QLabel *chainLabel() const { return m_chain; }
    QPlainTextEdit *detail() const { return m_detail; }
    QPushButton *showInRunButton() const { return m_showInRun; }

    static constexpr int kRecentRecords = 5000;

signals:
    void showRunRequested(const QByteArray &runId);
    void exportRequested();

private:
    void onRecords(const std::vector<AuditRecord> &records, const QString &error);
    void onChain(const AuditChainState &state);
    void showSelected();

    AuditActions *m_actions;
    AuditTableModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table = nullptr;
    QLineEdit *m_filter = nullptr;
    QLabel *m_chain = nullptr;
    QLabel *m_count = nullptr;
    QPlainTextEdit *m_detail = nullptr;
    QPushButton *m_showInRun = nullptr;
    QPushButton *m_refresh = nullptr;
};

} // namespace Breaker
