#pragma once

#include "models/Result.h"
#include "app/services/StopSwitch.h"
#include "models/StopTypes.h"

#include <QMainWindow>
#include <QPointer>

class QAction;
class QComboBox;
class QDockWidget;
class QLineEdit;
class QMenu;
class QSplitter;

namespace Breaker {

class AuditActions;
class AuditExportDialog;
class AuditView;
class ProblemLog;
class StopDialog;
class ProviderStatusBar;
class RunDetailPane;
class RunActions;
class RunFeed;
class RunsFilterProxy;
class RunsTableModel;
class RunsTableView;

// The console's main window: search and filters on top, the runs table above the selected
// run's detail (summary, timeline, attributes), provider states, ingest rate and problems in
// the status bar. It only wires: the data comes from a RunFeed, the logic lives in the models
// and widgets it holds. The feed is not owned and may be destroyed first.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    static constexpr int kRecentRunsLimit = 200;

    explicit MainWindow(RunFeed *feed, QWidget *parent = nullptr);
    ~MainWindow() override;

    // "Breaker — <profile name>" in the title bar.
    void setProfileName(const QString &name);
    QString profileName() const { return m_profileName; }

    // Writes the selected run and its loaded timeline (timelineToJson) to `path`.
    Result<void> exportTimelineTo(const QString &path) const;
    // Asks for a file name (a window-modal dialog, no nested event loop), then exports.
    void exportTimeline();

    RunsTableModel *runsModel() const { return m_runsModel; }
    RunsFilterProxy *runsProxy() const { return m_runsProxy; }
    RunsTableView *runsView() const { return m_runsView; }
    RunDetailPane *detailPane() const { return m_detail; }
    ProviderStatusBar *providerStatus() const { return m_providerStatus; }
    ProblemLog *problemLog() const { return m_problemLog; }
    QLineEdit *searchField() const { return m_search; }
    QComboBox *statusFilter() const { return m_statusFilter; }
    QAction *utcAction() const { return m_utcAction; }
    QAction *exportAction() const { return m_exportAction; }
    QAction *cancelRunAction() const { return m_cancelRunAction; }
    QAction *stopRunAction() const { return m_stopRunAction; }
    QAction *stopAgentAction() const { return m_stopAgentAction; }
    QAction *stopPrincipalAction() const { return m_stopPrincipalAction; }
    QAction *stopAllAction() const { return m_stopAllAction; }
    QAction *drillAction() const { return m_drillAction; }
    QAction *exportAuditAction() const { return m_exportAuditAction; }
    AuditView *auditView() const { return m_auditView; }
    QDockWidget *auditDock() const { return m_auditDock; }

    // Operator actions on runs (not owned; may be absent: then the actions stay disabled).
    void setRunActions(RunActions *actions);
    // The audit trail's view, export and retention warning (not owned; set once).
    void setAuditActions(AuditActions *actions);
    AuditExportDialog *openAuditExportDialog();
    // Asks to confirm (window-modal, no nested event loop), then cancels the selected run.
    void cancelSelectedRun();
    // Opens the stop dialog for the selected run's run, agent or principal, or for everything.
    // Returns the dialog (nullptr when there is nothing to stop; a message says why).
    StopDialog *openStopDialog(StopScope::Kind kind, bool drill = false);

private:
    void buildActions();
    void buildToolBar();
    void buildCentre();
    void buildStatusBar();
    void buildMenus();
    void connectFeed();
    void showSelectedRun(const QByteArray &runId);
    void onRunsLoaded();
    void onRunsChanged(const QList<QByteArray> &runIds);
    void onProblem(const QString &message);
    void setUtc(bool utc);
    void updateRunActions();
    void refreshControlMap();
    void onCancelFinished(const QByteArray &runId, const StopLayerResult &result);
    void onStopFinished(const QByteArray &scopeKey, const StopOutcome &outcome);

    QPointer<RunFeed> m_feed;
    QString m_profileName;
    RunsTableModel *m_runsModel = nullptr;
    RunsFilterProxy *m_runsProxy = nullptr;
    RunsTableView *m_runsView = nullptr;
    RunDetailPane *m_detail = nullptr;
    QSplitter *m_splitter = nullptr;
    QLineEdit *m_search = nullptr;
    QComboBox *m_statusFilter = nullptr;
    QAction *m_findAction = nullptr;
    QAction *m_utcAction = nullptr;
    QAction *m_exportAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_cancelRunAction = nullptr;
    QAction *m_stopRunAction = nullptr;
    QAction *m_stopAgentAction = nullptr;
    QAction *m_stopPrincipalAction = nullptr;
    QAction *m_stopAllAction = nullptr;
    QAction *m_drillAction = nullptr;
    QAction *m_exportAuditAction = nullptr;
    QMenu *m_viewMenu = nullptr;
    AuditActions *m_auditActions = nullptr;
    AuditView *m_auditView = nullptr;
    QDockWidget *m_auditDock = nullptr;
    QPointer<RunActions> m_actions;
    ProviderStatusBar *m_providerStatus = nullptr;
    ProblemLog *m_problemLog = nullptr;
    QDockWidget *m_problemDock = nullptr;
};

} // namespace Breaker
