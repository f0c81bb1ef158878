#include "views/MainWindow.h"

#include "views/AuditExportDialog.h"
#include "views/AuditView.h"

#include "app/services/RunActions.h"
#include "views/CancelRunDialog.h"
#include "views/StopDialog.h"

#include "app/services/RunFeed.h"
#include "models/Logging.h"
#include "views/ProblemLog.h"
#include "views/ProviderStatusBar.h"
#include "views/RunDetailPane.h"
#include "views/RunsFilterProxy.h"
#include "views/RunsTableModel.h"
#include "views/RunsTableView.h"
#include "views/TimelineExport.h"
#include "views/TimelineModel.h"

#include <QAbstractButton>
#include <QAction>
#include <QDockWidget>
#include <QComboBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QHeaderView>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSaveFile>
#include <QSplitter>
#include <QStatusBar>
#include <QToolBar>
#include <QToolButton>

namespace Breaker {

namespace {

constexpr int kProblemMessageMs = 15'000;

QString plainActionText(const QAction *action)
{
    QString text = action->text();
    text.remove(QLatin1Char('&'));
    if (text.endsWith(QStringLiteral("…")))
        text.chop(1);
    return text;
}

// Qt creates some controls of its own (a toolbar's overflow button, a line edit's clear
// button, dock title buttons, a table's corner button, header views): give each a name a
// screen reader can say, from what it does.
void nameBuiltInControls(QWidget *root)
{
    const auto nameFor = [](QAbstractButton *button) -> QString {
        if (auto *tool = qobject_cast<QToolButton *>(button); tool && tool->defaultAction()) {
            const QString text = plainActionText(tool->defaultAction());
            if (!text.isEmpty())
                return text;
        }
        const QString object = button->objectName();
        if (object == QLatin1String("qt_toolbar_ext_button"))
            return MainWindow::tr("More toolbar actions");
        if (object == QLatin1String("qt_menubar_ext_button"))
            return MainWindow::tr("More menus");
        if (object == QLatin1String("qt_dockwidget_closebutton"))
            return MainWindow::tr("Close panel");
        if (object == QLatin1String("qt_dockwidget_floatbutton"))
            return MainWindow::tr("Float panel");
        if (qobject_cast<QLineEdit *>(button->parentWidget()))
            return MainWindow::tr("Clear");
        if (qobject_cast<QTableView *>(button->parentWidget()))
            return MainWindow::tr("Select all rows");
        if (!button->text().isEmpty())
            return button->text().remove(QLatin1Char('&'));
        return button->toolTip();
    };
    const auto all = root->findChildren<QAbstractButton *>();
    for (QAbstractButton *button : all) {
        if (button->accessibleName().isEmpty())
            button->setAccessibleName(nameFor(button));
        if (button->toolTip().isEmpty())
            button->setToolTip(button->accessibleName());
    }
    const auto headers = root->findChildren<QHeaderView *>();
    for (QHeaderView *header : headers) {
        if (!header->accessibleName().isEmpty())
            continue;
        const QString owner
            = header->parentWidget() ? header->parentWidget()->accessibleName() : QString();
        header->setAccessibleName(header->orientation() == Qt::Horizontal
                                      ? MainWindow::tr("%1 columns").arg(owner)
                                      : MainWindow::tr("%1 rows").arg(owner));
    }
}

} // namespace

MainWindow::MainWindow(RunFeed *feed, QWidget *parent)
    : QMainWindow(parent)
    , m_feed(feed)
{
    setObjectName(QStringLiteral("breakerMainWindow"));
    m_runsModel = new RunsTableModel(this);
    m_runsProxy = new RunsFilterProxy(this);
    m_runsProxy->setSourceModel(m_runsModel);

    buildActions();
    buildToolBar();
    buildCentre();
    buildStatusBar();
    buildMenus();
    nameBuiltInControls(this);
    setProfileName({});
    resize(1400, 900);

    connectFeed();
    if (m_feed)
        m_feed->loadRecentRuns(kRecentRunsLimit);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions()
{
    m_findAction = new QAction(tr("&Find runs"), this);
    m_findAction->setShortcut(QKeySequence::Find);
    m_findAction->setToolTip(tr("Search runs by agent, principal, run id or status (%1)")
                                 .arg(m_findAction->shortcut().toString(QKeySequence::NativeText)));
    connect(m_findAction, &QAction::triggered, this, [this] {
        m_search->setFocus(Qt::ShortcutFocusReason);
        m_search->selectAll();
    });
    addAction(m_findAction);

    m_utcAction = new QAction(tr("&UTC"), this);
    m_utcAction->setCheckable(true);
    m_utcAction->setToolTip(tr("Show times in UTC instead of local time"));
    connect(m_utcAction, &QAction::toggled, this, &MainWindow::setUtc);

    m_exportAction = new QAction(tr("&Export timeline…"), this);
    m_exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_exportAction->setToolTip(
        tr("Save the selected run and its timeline as JSON (%1)")
            .arg(m_exportAction->shortcut().toString(QKeySequence::NativeText)));
    m_exportAction->setEnabled(false);
    connect(m_exportAction, &QAction::triggered, this, &MainWindow::exportTimeline);
    addAction(m_exportAction);

    m_cancelRunAction = new QAction(tr("&Cancel run…"), this);
    m_cancelRunAction->setObjectName(QStringLiteral("cancelRunAction"));
    m_cancelRunAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    m_cancelRunAction->setToolTip(tr("Ask the selected run's runtime to cancel it, and prove it stopped (%1)")
                                      .arg(m_cancelRunAction->shortcut().toString(QKeySequence::NativeText)));
    m_cancelRunAction->setEnabled(false);
    connect(m_cancelRunAction, &QAction::triggered, this, &MainWindow::cancelSelectedRun);
    addAction(m_cancelRunAction);

    // The stop switch: every layer at once, each proven (issue 4).
    auto stopAction = [this](const QString &text, const char *name, const QKeySequence &keys, const QString &tip,
                             StopScope::Kind kind) {
        auto *a = new QAction(text, this);
        a->setObjectName(QString::fromLatin1(name));
        a->setShortcut(keys);
        a->setToolTip(tip.arg(keys.toString(QKeySequence::NativeText)));
        a->setEnabled(false);
        connect(a, &QAction::triggered, this, [this, kind] { openStopDialog(kind); });
        addAction(a);
        return a;
    };
    m_stopAgentAction = stopAction(tr("&Stop agent…"), "stopAgentAction", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S),
                                   tr("Stop the selected run's agent at every layer: cancel its runs, revoke its token, "
                                      "freeze its cards, block its tools; each verified (%1)"),
                                   StopScope::Kind::Agent);
    m_stopRunAction = stopAction(tr("Stop &run at every layer…"), "stopRunAction",
                                 QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R),
                                 tr("Cancel the selected run, and contain its agent at the identity, payment and tools "
                                    "layers (%1)"),
                                 StopScope::Kind::Run);
    m_stopPrincipalAction = stopAction(tr("Stop &principal…"), "stopPrincipalAction",
                                       QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P),
                                       tr("Stop every agent acting for the selected run's principal (%1)"),
                                       StopScope::Kind::Principal);
    m_stopAllAction = stopAction(tr("Stop &everything…"), "stopAllAction",
                                 QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::ALT | Qt::Key_S),
                                 tr("Stop every agent of the profile at every layer; confirmed by typing the profile's "
                                    "name (%1)"),
                                 StopScope::Kind::All);

    m_drillAction = new QAction(tr("Stop &drill on this canary…"), this);
    m_drillAction->setObjectName(QStringLiteral("drillAction"));
    m_drillAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    m_drillAction->setToolTip(tr("Stop a run of the selected canary agent at every layer for real, record each layer's "
                                 "time to verified as its last proven stop, then undo what can be undone (%1)")
                                  .arg(m_drillAction->shortcut().toString(QKeySequence::NativeText)));
    m_drillAction->setEnabled(false);
    connect(m_drillAction, &QAction::triggered, this, [this] { openStopDialog(StopScope::Kind::Agent, true); });
    addAction(m_drillAction);

    m_exportAuditAction = new QAction(tr("Export &audit trail…"), this);
    m_exportAuditAction->setObjectName(QStringLiteral("exportAuditAction"));
    m_exportAuditAction->setToolTip(tr("A signed export of the audit trail that anyone can verify with openssl"));
    m_exportAuditAction->setEnabled(false);
    connect(m_exportAuditAction, &QAction::triggered, this, [this] { openAuditExportDialog(); });
    addAction(m_exportAuditAction);

    m_quitAction = new QAction(tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    m_quitAction->setToolTip(tr("Close the console"));
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);
}

void MainWindow::buildToolBar()
{
    auto *toolBar = addToolBar(tr("Runs"));
    toolBar->setObjectName(QStringLiteral("runsToolBar"));
    toolBar->setMovable(false);
    toolBar->setFloatable(false);
    toolBar->setAccessibleName(tr("Run filters"));

    m_search = new QLineEdit(toolBar);
    m_search->setObjectName(QStringLiteral("runSearch"));
    m_search->setPlaceholderText(tr("Search agent, principal, run id, status"));
    m_search->setClearButtonEnabled(true);
    m_search->setAccessibleName(tr("Search runs"));
    m_search->setToolTip(m_findAction->toolTip());
    m_search->setMinimumWidth(320);
    toolBar->addWidget(m_search);
    connect(m_search, &QLineEdit::textChanged, m_runsProxy, &RunsFilterProxy::setSearchText);

    m_statusFilter = new QComboBox(toolBar);
    m_statusFilter->setObjectName(QStringLiteral("statusFilter"));
    m_statusFilter->setAccessibleName(tr("Status filter"));
    m_statusFilter->setToolTip(tr("Show only runs with these statuses"));
    m_statusFilter->view()->setAccessibleName(tr("Statuses"));
    const auto choices = RunsFilterProxy::statusChoices();
    for (const auto &choice : choices)
        m_statusFilter->addItem(choice.label);
    connect(m_statusFilter, &QComboBox::currentIndexChanged, this, [this](int index) {
        const auto all = RunsFilterProxy::statusChoices();
        if (index >= 0 && size_t(index) < all.size())
            m_runsProxy->setStatusFilter(all[size_t(index)].statuses);
    });
    toolBar->addWidget(m_statusFilter);

    toolBar->addSeparator();
    toolBar->addAction(m_utcAction);
    toolBar->addAction(m_exportAction);
    toolBar->addSeparator();
    toolBar->addAction(m_cancelRunAction);
    toolBar->addAction(m_stopAgentAction);
}

void MainWindow::buildCentre()
{
    m_runsView = new RunsTableView(this);
    m_runsView->setModel(m_runsProxy);
    m_detail = new RunDetailPane(this);

    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->setObjectName(QStringLiteral("runsSplitter"));
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(m_runsView);
    m_splitter->addWidget(m_detail);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({400, 500});
    setCentralWidget(m_splitter);

    connect(m_runsView, &RunsTableView::currentRunChanged, this, &MainWindow::showSelectedRun);
    m_runsView->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_runsView->addAction(m_cancelRunAction);
    m_runsView->addAction(m_stopRunAction);
    m_runsView->addAction(m_stopAgentAction);
    m_runsView->addAction(m_stopPrincipalAction);
    m_runsView->addAction(m_drillAction);
    connect(m_runsModel, &RunsTableModel::runsChanged, this, &MainWindow::onRunsChanged);
    connect(m_runsModel, &RunsTableModel::modelReset, this, &MainWindow::onRunsLoaded);
}

void MainWindow::buildStatusBar()
{
    m_providerStatus = new ProviderStatusBar(statusBar());
    statusBar()->addPermanentWidget(m_providerStatus);
    statusBar()->setAccessibleName(tr("Status"));

    m_problemLog = new ProblemLog(this);
    m_problemDock = new QDockWidget(tr("Problems"), this);
    m_problemDock->setObjectName(QStringLiteral("problemsDock"));
    m_problemDock->setAccessibleName(tr("Problems"));
    m_problemDock->setWidget(m_problemLog);
    addDockWidget(Qt::BottomDockWidgetArea, m_problemDock);
    m_problemDock->hide();
    connect(m_providerStatus, &ProviderStatusBar::problemsRequested, this, [this] {
        m_problemDock->show();
        m_problemDock->raise();
    });
}

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_exportAction);
    file->addAction(m_exportAuditAction);
    file->addSeparator();
    file->addAction(m_quitAction);
    QMenu *runMenu = menuBar()->addMenu(tr("&Run"));
    runMenu->addAction(m_cancelRunAction);
    runMenu->addSeparator();
    runMenu->addAction(m_stopRunAction);
    runMenu->addAction(m_stopAgentAction);
    runMenu->addAction(m_stopPrincipalAction);
    runMenu->addSeparator();
    runMenu->addAction(m_stopAllAction);
    runMenu->addSeparator();
    runMenu->addAction(m_drillAction);
    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_findAction);
    view->addAction(m_utcAction);
    m_viewMenu = view;
    QAction *problems = m_problemDock->toggleViewAction();
    problems->setToolTip(tr("Show the log of provider problems"));
    view->addAction(problems);
}

void MainWindow::connectFeed()
{
    if (!m_feed)
        return;
    connect(m_feed, &RunFeed::runsLoaded, m_runsModel, &RunsTableModel::setRuns);
    connect(m_feed, &RunFeed::runsUpdated, m_runsModel, &RunsTableModel::updateRuns);
    connect(m_feed, &RunFeed::eventsLoaded, m_detail->timelineModel(), &TimelineModel::setEvents);
    connect(
        m_feed, &RunFeed::eventsAppended, m_detail->timelineModel(), &TimelineModel::appendEvents);
    connect(m_feed,
            &RunFeed::providerStatesChanged,
            m_providerStatus,
            &ProviderStatusBar::setProviderStates);
    connect(
        m_feed, &RunFeed::ingestRateChanged, m_providerStatus, &ProviderStatusBar::setIngestRate);
    connect(m_feed, &RunFeed::problem, this, &MainWindow::onProblem);
}

void MainWindow::setProfileName(const QString &name)
{
    m_profileName = name;
    setWindowTitle(name.isEmpty() ? tr("Breaker") : tr("Breaker — %1").arg(name));
}

void MainWindow::showSelectedRun(const QByteArray &runId)
{
    const Run *run = m_runsModel->runById(runId);
    if (!run)
        return;
    const bool otherRun = m_detail->runId() != runId;
    const bool otherAgent = !m_detail->run() || m_detail->run()->agent != run->agent;
    m_detail->showRun(*run);
    if (otherAgent)
        refreshControlMap();
    m_exportAction->setEnabled(true);
    updateRunActions();
    if (otherRun && m_feed)
        m_feed->loadEvents(runId);
}

void MainWindow::onRunsLoaded()
{
    // A fresh page replaced the rows: keep the operator's selection if the run is still there.
    const QByteArray selected = m_detail->runId();
    if (selected.isEmpty())
        return;
    if (m_runsView->selectRun(selected)) {
        if (const Run *run = m_runsModel->runById(selected))
            m_detail->showRun(*run);
    }
}

void MainWindow::onRunsChanged(const QList<QByteArray> &runIds)
{
    const QByteArray selected = m_detail->runId();
    if (selected.isEmpty() || !runIds.contains(selected))
        return;
    if (const Run *run = m_runsModel->runById(selected))
        m_detail->showRun(*run);
    updateRunActions();
}

void MainWindow::setRunActions(RunActions *actions)
{
    if (m_actions)
        disconnect(m_actions, nullptr, this, nullptr);
    m_actions = actions;
    if (m_actions)
    {
        connect(m_actions, &RunActions::cancelFinished, this, &MainWindow::onCancelFinished);
        connect(m_actions, &RunActions::stopFinished, this, &MainWindow::onStopFinished);
    }
    updateRunActions();
}

void MainWindow::updateRunActions()
{
    const Run *run = m_runsModel->runById(m_detail->runId());
    m_cancelRunAction->setEnabled(m_actions && run && !isTerminal(run->status));
    m_stopRunAction->setEnabled(m_actions && run);
    m_stopAgentAction->setEnabled(m_actions && run && !run->agent.isEmpty());
    m_stopPrincipalAction->setEnabled(m_actions && run && !run->principal.isEmpty());
    m_stopAllAction->setEnabled(m_actions && !m_actions->profileName().isEmpty());
    m_drillAction->setEnabled(m_actions && run && !run->agent.isEmpty());
}

void MainWindow::refreshControlMap()
{
    const std::optional<Run> run = m_detail->run();
    if (!m_actions || !run)
        return;
    m_detail->showControlMap(run->agent, m_actions->controlMap(run->agent));
}

StopDialog *MainWindow::openStopDialog(StopScope::Kind kind, bool drill)
{
    if (!m_actions)
        return nullptr;
    const Run *run = m_runsModel->runById(m_detail->runId());
    StopScope scope;
    scope.kind = kind;
    QString title;
    switch (kind) {
    case StopScope::Kind::Run:
        if (!run)
            return nullptr;
        scope.value = run->id;
        title = tr("run %1 (agent %2)").arg(QString::fromUtf8(run->id), QString::fromUtf8(run->agent));
        break;
    case StopScope::Kind::Agent:
        if (!run || run->agent.isEmpty())
            return nullptr;
        scope.value = run->agent;
        title = tr("agent %1").arg(QString::fromUtf8(run->agent));
        break;
    case StopScope::Kind::Principal:
        if (!run || run->principal.isEmpty())
            return nullptr;
        scope.value = run->principal;
        title = tr("every agent acting for %1").arg(QString::fromUtf8(run->principal));
        break;
    case StopScope::Kind::All:
        scope.value = m_actions->profileName().toUtf8();
        title = tr("everything in profile %1").arg(m_actions->profileName());
        break;
    }
    if (drill)
        title = tr("canary agent %1").arg(QString::fromUtf8(scope.value));
    const QStringList layers = StopSwitch::allLayers();
    auto plan = drill ? m_actions->previewDrill(scope.value) : m_actions->previewStop(scope, layers);
    if (!plan && drill) {
        auto *box = new QMessageBox(QMessageBox::Information, tr("No drill"),
                                    tr("Breaker cannot drill %1: %2").arg(title, plan.error().message), QMessageBox::Ok,
                                    this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
        return nullptr;
    }
    if (!plan) {
        auto *box = new QMessageBox(QMessageBox::Information, tr("Nothing to stop"),
                                    tr("Breaker cannot stop %1: %2").arg(title, plan.error().message), QMessageBox::Ok,
                                    this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
        return nullptr;
    }
    auto *dialog = new StopDialog(*plan, title, kind == StopScope::Kind::All ? m_actions->profileName() : QString(),
                                  this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setDrill(drill);
    const QByteArray key = scope.key();
    QPointer<StopDialog> guard(dialog);
    connect(m_actions, &RunActions::stopStarted, dialog, [guard, key](const QByteArray &k, const StopPlan &p) {
        if (guard && k == key)
            guard->started(p);
    });
    connect(m_actions, &RunActions::stopProgress, dialog,
            [guard, key](const QByteArray &k, int action, const std::vector<StopLayerResult> &rows) {
                if (guard && k == key)
                    guard->progress(action, rows);
            });
    connect(m_actions, &RunActions::stopFinished, dialog, [guard, key](const QByteArray &k, const StopOutcome &o) {
        if (guard && k == key)
            guard->finished(o);
    });
    if (!drill) {
        QPointer<RunActions> actions(m_actions);
        dialog->offerLayerChoice(layers, [actions, scope](const QStringList &chosen) -> Result<StopPlan> {
            if (!actions)
                return makeError(Error::Kind::Unavailable, QStringLiteral("the engine is gone"));
            return actions->previewStop(scope, chosen);
        });
    }
    connect(dialog, &StopDialog::stopConfirmed, this, [this, scope, title, drill, guard](const QString &reason) {
        if (!m_actions || !guard)
            return;
        const QStringList chosen = guard->chosenLayers();
        if (drill) {
            statusBar()->showMessage(tr("Drilling %1…").arg(title));
            m_actions->drill(scope.value, reason);
            return;
        }
        statusBar()->showMessage(chosen.size() == StopSwitch::allLayers().size()
                                     ? tr("Stopping %1 at every layer…").arg(title)
                                     : tr("Stopping %1 at %2…").arg(title, chosen.join(QStringLiteral(", "))));
        m_actions->stop(scope, chosen, reason);
    });
    dialog->open();
    return dialog;
}

void MainWindow::onStopFinished(const QByteArray &scopeKey, const StopOutcome &outcome)
{
    refreshControlMap(); // the last proven stop may have moved
    QStringList bad;
    for (const StopLayerResult &r : outcome.rows)
        if (!r.provider.isEmpty() && r.outcome != LayerOutcome::Verified)
            bad << QStringLiteral("%1 %2 %3: %4")
                       .arg(QString::fromUtf8(r.layer), QString::fromUtf8(r.agent),
                            QString::fromUtf8(toWireName(r.outcome)), r.detail);
    const QString scope = QString::fromUtf8(scopeKey);
    const QString text = outcome.verified ? tr("Stop of %1: every configured layer verified in %2 ms")
                                                .arg(scope, QString::number(outcome.ms))
                                          : tr("Stop of %1: NOT verified").arg(scope);
    statusBar()->showMessage(text, 15000);
    for (const QString &b : bad)
        onProblem(tr("Stop of %1: %2").arg(scope, b));
    if (outcome.rows.empty())
        for (const QString &n : outcome.notes)
            onProblem(tr("Stop of %1: %2").arg(scope, n));
}

void MainWindow::cancelSelectedRun()
{
    const Run *selected = m_runsModel->runById(m_detail->runId());
    if (!m_actions || !selected)
        return;
    const Run run = *selected;
    const RunActions::CancelPreview preview = m_actions->previewCancel(run);
    if (!preview.possible) {
        auto *box = new QMessageBox(QMessageBox::Information, tr("Cannot cancel run %1").arg(QString::fromUtf8(run.id)),
                                    tr("Breaker cannot cancel this run: %1").arg(preview.why), QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
        return;
    }
    auto *dialog = new CancelRunDialog(run, preview.plan, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, id = run.id] {
        if (!m_actions)
            return;
        statusBar()->showMessage(tr("Cancelling run %1: asking its runtime, then verifying…").arg(QString::fromUtf8(id)));
        m_actions->cancelRun(id, dialog->reason());
    });
    dialog->open();
}

void MainWindow::onCancelFinished(const QByteArray &runId, const StopLayerResult &result)
{
    const QString outcome = QString::fromUtf8(toWireName(result.outcome));
    const QString text = tr("Cancel of run %1 on %2: %3 after %4 s. %5")
                             .arg(QString::fromUtf8(runId),
                                  result.provider.isEmpty() ? tr("no runtime") : QString::fromUtf8(result.provider),
                                  outcome,
                                  QString::number(double(result.ms) / 1000.0, 'f', 1),
                                  result.detail);
    statusBar()->showMessage(text, 15000);
    if (result.outcome != LayerOutcome::Verified)
        onProblem(text);
    auto *box = new QMessageBox(result.outcome == LayerOutcome::Verified ? QMessageBox::Information : QMessageBox::Warning,
                                tr("Run %1: cancel %2").arg(QString::fromUtf8(runId), outcome), text, QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("cancelOutcome"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::onProblem(const QString &message)
{
    qCWarning(lcUi).noquote() << "provider problem:" << message;
    m_providerStatus->addProblem(message);
    m_problemLog->addProblem(message);
    statusBar()->showMessage(message, kProblemMessageMs);
}

void MainWindow::setUtc(bool utc)
{
    m_runsModel->setUtc(utc);
    m_detail->setUtc(utc);
    if (m_auditView)
        m_auditView->setUtc(utc);
}

void MainWindow::setAuditActions(AuditActions *actions)
{
    if (!actions || m_auditActions)
        return;
    m_auditActions = actions;
    m_auditView = new AuditView(actions, this);
    m_auditDock = new QDockWidget(tr("Audit trail"), this);
    m_auditDock->setObjectName(QStringLiteral("auditDock"));
    m_auditDock->setAccessibleName(tr("Audit trail"));
    m_auditDock->setWidget(m_auditView);
    addDockWidget(Qt::BottomDockWidgetArea, m_auditDock);
    tabifyDockWidget(m_problemDock, m_auditDock);
    m_auditDock->hide();
    QAction *toggle = m_auditDock->toggleViewAction();
    toggle->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
    toggle->setToolTip(tr("The audit trail: every operator action and automatic decision, hash-chained and signed (%1)")
                           .arg(toggle->shortcut().toString(QKeySequence::NativeText)));
    if (m_viewMenu)
        m_viewMenu->addAction(toggle);
    addAction(toggle);
    connect(m_auditDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible)
            m_auditView->refresh();
    });
    connect(m_auditView, &AuditView::exportRequested, this, [this] { openAuditExportDialog(); });
    connect(m_auditView, &AuditView::showRunRequested, this, [this](const QByteArray &runId) {
        if (m_runsView->selectRun(runId))
            showSelectedRun(runId);
        else
            statusBar()->showMessage(tr("Run %1 is not in the runs table (it may be older than the rows loaded)")
                                         .arg(QString::fromUtf8(runId)),
                                     10000);
    });
    connect(actions, &AuditActions::retentionChecked, this, [this](const QString &warning) {
        if (!warning.isEmpty())
            onProblem(warning);
    });
    m_exportAuditAction->setEnabled(true);
    actions->checkRetention();
}

AuditExportDialog *MainWindow::openAuditExportDialog()
{
    if (!m_auditActions)
        return nullptr;
    if (auto *open = findChild<AuditExportDialog *>(); open && open->isVisible()) {
        open->raise();
        return open;
    }
    auto *dialog = new AuditExportDialog(m_auditActions, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_auditActions, &AuditActions::exportFinished, dialog, [this](bool ok, const QString &message) {
        statusBar()->showMessage(ok ? tr("Audit trail exported") : tr("Audit export failed: %1").arg(message), 15000);
        if (m_auditView && m_auditDock->isVisible())
            m_auditView->refresh(); // the export is itself a record
    });
    dialog->open();
    return dialog;
}

Result<void> MainWindow::exportTimelineTo(const QString &path) const
{
    const std::optional<Run> run = m_detail->run();
    if (!run)
        return Error{Error::Kind::Invalid, tr("No run is selected."), path};
    const QByteArray json = timelineToJson(*run, m_detail->timelineModel()->events());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return Error{Error::Kind::Unavailable, file.errorString(), path};
    if (file.write(json) != json.size() || !file.commit())
        return Error{Error::Kind::Unavailable, file.errorString(), path};
    return {};
}

void MainWindow::exportTimeline()
{
    const std::optional<Run> run = m_detail->run();
    if (!run)
        return;
    auto *dialog = new QFileDialog(this, tr("Export timeline"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->setNameFilter(tr("JSON files (*.json)"));
    dialog->setDefaultSuffix(QStringLiteral("json"));
    dialog->selectFile(QStringLiteral("run-%1.json").arg(QString::fromUtf8(run->id)));
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString &path) {
        const Result<void> written = exportTimelineTo(path);
        if (written) {
            statusBar()->showMessage(tr("Timeline saved to %1").arg(path), kProblemMessageMs);
        } else {
            onProblem(
                tr("Could not save the timeline to %1: %2").arg(path, written.error().message));
        }
    });
    dialog->open(); // window-modal, returns at once
}

} // namespace Breaker
