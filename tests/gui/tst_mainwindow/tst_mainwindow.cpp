#include "FakeRunFeed.h"
#include "SampleFleet.h"
#include "views/EventDetailsTree.h"
#include "app/services/RunActions.h"
#include "views/CancelRunDialog.h"
#include "views/MainWindow.h"
#include "views/ProblemLog.h"
#include "views/ProviderStatusBar.h"
#include "views/RunDetailPane.h"
#include "views/RunsFilterProxy.h"
#include "views/RunsTableModel.h"
#include "views/RunsTableView.h"
#include "views/TimelineExport.h"
#include "views/TimelineModel.h"
#include "views/TimelineView.h"

#include <QAbstractButton>
#include <QAction>
#include <QComboBox>
#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

using namespace Breaker;
using Breaker::Testing::FakeRunFeed;

namespace {

// Records what the window asks; answers previews as told.
class FakeRunActions : public RunActions
{
public:
    CancelPreview preview{true, QStringLiteral("runtime: cancel a2a task t-1 of run run-7f3a01 on provider refund-a2a"), {}};
    QList<QPair<QByteArray, QString>> cancels;
    CancelPreview previewCancel(const Run &) override { return preview; }
    void cancelRun(const QByteArray &runId, const QString &reason) override { cancels.append({runId, reason}); }
    void finish(const QByteArray &runId, LayerOutcome outcome, const QString &detail)
    {
        StopLayerResult r;
        r.layer = "runtime";
        r.run = runId;
        r.provider = "refund-a2a";
        r.action = "cancel";
        r.outcome = outcome;
        r.detail = detail;
        r.ms = 7200;
        emit cancelFinished(runId, r);
    }
};

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void asksForTheNewestPageOnStart();
    void showsRunsNewestFirstAfterLoad();
    void typingInSearchFiltersRows();
    void ctrlFFocusesSearch();
    void statusFilterCombo();
    void selectingARowLoadsItsTimeline();
    void liveUpdatesReachTheSelectedRun();
    void selectionSurvivesReload();
    void timelineJsonRoundTrips();
    void exportWritesTheSelectedRun();
    void everyControlHasAnAccessibleName();
    void statusBarShowsProvidersRateAndProblems();
    void titleAndUtcToggle();
    void cancelRunAsksForAReasonThenActs();
    void cancelOutcomeIsShown();

private:
    int rowOf(const QByteArray &runId) const;
    void clickRun(const QByteArray &runId);

    qint64 m_now = 0;
    std::vector<Run> m_runs;
    FakeRunFeed *m_feed = nullptr;
    MainWindow *m_window = nullptr;
};

void TestMainWindow::init()
{
    m_now = QDateTime::currentMSecsSinceEpoch();
    m_runs = Testing::sampleRuns(m_now);
    m_feed = new FakeRunFeed;
    m_window = new MainWindow(m_feed);
    m_window->resize(1300, 850);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
}

void TestMainWindow::cleanup()
{
    delete m_window;
    delete m_feed;
}

int TestMainWindow::rowOf(const QByteArray &runId) const
{
    const QAbstractItemModel *model = m_window->runsView()->model();
    for (int row = 0; row < model->rowCount(); ++row) {
        if (model->index(row, 0).data(RunsTableModel::RunIdRole).toByteArray() == runId)
            return row;
    }
    return -1;
}

void TestMainWindow::clickRun(const QByteArray &runId)
{
    const int row = rowOf(runId);
    QVERIFY2(row >= 0, runId.constData());
    RunsTableView *view = m_window->runsView();
    const QRect rect = view->visualRect(view->model()->index(row, RunsTableModel::AgentColumn));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
}

void TestMainWindow::asksForTheNewestPageOnStart()
{
    QCOMPARE(m_feed->recentRunsRequests(), QList<int>{MainWindow::kRecentRunsLimit});
    QVERIFY(m_feed->eventRequests().isEmpty());
    QCOMPARE(m_window->runsView()->model()->rowCount(), 0);
    QCOMPARE(m_window->detailPane()->timelineView()->placeholderText(),
             QStringLiteral("Select a run to see its timeline."));
}

void TestMainWindow::showsRunsNewestFirstAfterLoad()
{
    emit m_feed->runsLoaded(m_runs);
    const QAbstractItemModel *model = m_window->runsView()->model();
    QCOMPARE(model->rowCount(), int(m_runs.size()));
    // Newest first: the claims run submitted 5 s ago, then the email draft 40 s ago.
    QCOMPARE(model->index(0, 0).data(RunsTableModel::RunIdRole).toByteArray(),
             QByteArray("run-7f3a0b"));
    QCOMPARE(model->index(1, 0).data(RunsTableModel::RunIdRole).toByteArray(),
             QByteArray("run-7f3a07"));
    for (int row = 1; row < model->rowCount(); ++row) {
        QVERIFY(model->index(row - 1, RunsTableModel::StartedColumn)
                    .data(RunsTableModel::SortRole)
                    .toLongLong()
                >= model->index(row, RunsTableModel::StartedColumn)
                       .data(RunsTableModel::SortRole)
                       .toLongLong());
    }
    // The run id and provider columns are there but hidden; the others are visible and wide
    // enough for their text.
    RunsTableView *view = m_window->runsView();
    QVERIFY(view->isColumnHidden(RunsTableModel::RunIdColumn));
    QVERIFY(view->isColumnHidden(RunsTableModel::ProviderColumn));
    const QFontMetrics fm = view->fontMetrics();
    for (int column : {int(RunsTableModel::StatusColumn),
                       int(RunsTableModel::CostColumn),
                       int(RunsTableModel::TokensColumn),
                       int(RunsTableModel::DurationColumn)}) {
        for (int row = 0; row < model->rowCount(); ++row) {
            const QString text = model->index(row, column).data().toString();
            const int decoration = column == RunsTableModel::StatusColumn ? 16 + 6 : 0;
            QVERIFY2(fm.horizontalAdvance(text) + decoration + 12 <= view->columnWidth(column),
                     qPrintable(QStringLiteral("%1 does not fit column %2").arg(text).arg(column)));
        }
    }
}

void TestMainWindow::typingInSearchFiltersRows()
{
    emit m_feed->runsLoaded(m_runs);
    QTest::keyClicks(m_window->searchField(), QStringLiteral("claims"));
    const QAbstractItemModel *model = m_window->runsView()->model();
    QCOMPARE(model->rowCount(), 3);
    for (int row = 0; row < model->rowCount(); ++row)
        QCOMPARE(model->index(row, RunsTableModel::AgentColumn).data().toString(),
                 QStringLiteral("claims-agent"));
    m_window->searchField()->clear();
    QCOMPARE(model->rowCount(), int(m_runs.size()));
    QTest::keyClicks(m_window->searchField(), QStringLiteral("ada@"));
    QCOMPARE(model->rowCount(), 2); // refund-agent and email-agent act for ada
}

void TestMainWindow::ctrlFFocusesSearch()
{
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_window));
    m_window->runsView()->setFocus();
    QVERIFY(!m_window->searchField()->hasFocus());
    QTest::keySequence(m_window, QKeySequence::Find);
    QTRY_VERIFY(m_window->searchField()->hasFocus());
}

void TestMainWindow::statusFilterCombo()
{
    emit m_feed->runsLoaded(m_runs);
    QComboBox *combo = m_window->statusFilter();
    const int failed = combo->findText(QStringLiteral("Failed or rejected"));
    QVERIFY(failed > 0);
    combo->setCurrentIndex(failed);
    const QAbstractItemModel *model = m_window->runsView()->model();
    QCOMPARE(model->rowCount(), 3); // usage-analyst failed, refund rejected, email failed
    for (int row = 0; row < model->rowCount(); ++row) {
        const auto status
            = RunStatus(model->index(row, 0).data(RunsTableModel::StatusRole).toInt());
        QVERIFY(status == RunStatus::Failed || status == RunStatus::Rejected);
    }
    combo->setCurrentIndex(0);
    QCOMPARE(model->rowCount(), int(m_runs.size()));
}

void TestMainWindow::selectingARowLoadsItsTimeline()
{
    emit m_feed->runsLoaded(m_runs);
    QVERIFY(!m_window->exportAction()->isEnabled());
    clickRun("run-7f3a01");
    QCOMPARE(m_feed->eventRequests(), QByteArrayList{"run-7f3a01"});
    RunDetailPane *pane = m_window->detailPane();
    QVERIFY(pane->summaryText().contains(QLatin1String("refund-agent")));
    QVERIFY(pane->summaryText().contains(QLatin1String("waiting approval")));
    QCOMPARE(pane->timelineView()->placeholderText(), QStringLiteral("Loading the timeline…"));
    QVERIFY(m_window->exportAction()->isEnabled());

    const auto events = Testing::sampleEvents(m_runs[0]);
    emit m_feed->eventsLoaded("run-7f3a01", events);
    QCOMPARE(pane->timelineModel()->rowCount(), int(events.size()));
    // The waterfall is painted: the model-call colour appears in the timeline.
    const QImage image = pane->timelineView()->viewport()->grab().toImage();
    const QRgb modelCall = TimelineModel::kindColor(EventKind::ModelCall).rgb();
    bool painted = false;
    for (int y = 0; y < image.height() && !painted; ++y) {
        for (int x = 0; x < image.width() && !painted; ++x)
            painted = image.pixel(x, y) == modelCall;
    }
    QVERIFY(painted);

    // Selecting an event shows its attributes.
    pane->timelineView()->setFocus();
    pane->timelineView()->setCurrentIndex(pane->timelineModel()->index(1));
    QCOMPARE(pane->eventDetails()->valueAt({QStringLiteral("kind")}), QStringLiteral("model_call"));

    // Clicking the same run again does not reload; another run does.
    clickRun("run-7f3a01");
    QCOMPARE(m_feed->eventRequests().size(), 1);
    clickRun("run-7f3a02");
    QCOMPARE(m_feed->eventRequests(), (QByteArrayList{"run-7f3a01", "run-7f3a02"}));
    QCOMPARE(pane->timelineModel()->rowCount(), 0);
    // A late answer for the previous run does not land on this one.
    emit m_feed->eventsLoaded("run-7f3a01", events);
    QCOMPARE(pane->timelineModel()->rowCount(), 0);
}

void TestMainWindow::liveUpdatesReachTheSelectedRun()
{
    emit m_feed->runsLoaded(m_runs);
    clickRun("run-7f3a02");
    const auto events = Testing::sampleEvents(m_runs[1]);
    emit m_feed->eventsLoaded("run-7f3a02", events);
    RunDetailPane *pane = m_window->detailPane();
    const int before = pane->timelineModel()->rowCount();

    RunEvent more = events.back();
    more.spanId = "00000000000000ff";
    more.name = "chat gpt-4o (retry 7)";
    more.startNs += 1'000'000'000;
    RunEvent otherRun = more;
    otherRun.runId = "run-7f3a01";
    otherRun.spanId = "00000000000000fe";
    emit m_feed->eventsAppended({more, otherRun});
    QCOMPARE(pane->timelineModel()->rowCount(), before + 1);

    Run stopped = m_runs[1];
    stopped.status = RunStatus::Stopping;
    stopped.updatedMs += 1'000;
    emit m_feed->runsUpdated({stopped});
    QTRY_VERIFY(pane->summaryText().contains(QLatin1String("stopping")));
    const int row = rowOf("run-7f3a02");
    QCOMPARE(
        m_window->runsView()->model()->index(row, RunsTableModel::StatusColumn).data().toString(),
        QStringLiteral("stopping"));
    QCOMPARE(m_feed->eventRequests().size(), 1); // an update is not a new selection
}

void TestMainWindow::selectionSurvivesReload()
{
    emit m_feed->runsLoaded(m_runs);
    clickRun("run-7f3a04");
    emit m_feed->runsLoaded(m_runs);
    QCOMPARE(m_window->runsView()->currentRunId(), QByteArray("run-7f3a04"));
    QCOMPARE(m_window->detailPane()->runId(), QByteArray("run-7f3a04"));
    QCOMPARE(m_feed->eventRequests().size(), 1);
}

void TestMainWindow::timelineJsonRoundTrips()
{
    const Run &run = m_runs[0];
    const auto events = Testing::sampleEvents(run);
    const QByteArray json = timelineToJson(run, events);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    const QJsonObject r = doc.object().value(QStringLiteral("run")).toObject();
    QCOMPARE(r.value(QStringLiteral("id")).toString(), QStringLiteral("run-7f3a01"));
    QCOMPARE(r.value(QStringLiteral("agent")).toString(), QStringLiteral("refund-agent"));
    QCOMPARE(r.value(QStringLiteral("principal")).toString(),
             QStringLiteral("user:ada@example.com"));
    QCOMPARE(r.value(QStringLiteral("status")).toString(), QStringLiteral("waiting_approval"));
    QCOMPARE(r.value(QStringLiteral("provider")).toString(), QStringLiteral("a2a"));
    QCOMPARE(QDateTime::fromString(r.value(QStringLiteral("started")).toString(), Qt::ISODateWithMs)
                 .toMSecsSinceEpoch(),
             run.startedMs);
    QCOMPARE(
        r.value(QStringLiteral("tokens")).toObject().value(QStringLiteral("input")).toInteger(),
        run.inputTokens);
    const QJsonObject cost = r.value(QStringLiteral("cost")).toObject();
    QCOMPARE(cost.value(QStringLiteral("amount")).toDouble(), 0.02431);
    QCOMPARE(cost.value(QStringLiteral("currency")).toString(), QStringLiteral("usd"));
    QCOMPARE(r.value(QStringLiteral("approvals_pending")).toInt(), 1);
    QCOMPARE(r.value(QStringLiteral("external_ids"))
                 .toObject()
                 .value(QStringLiteral("a2a_task_id"))
                 .toString(),
             QStringLiteral("task-3a01"));
    QVERIFY(r.value(QStringLiteral("ended")).isNull()); // still waiting

    const QJsonArray list = doc.object().value(QStringLiteral("events")).toArray();
    QCOMPARE(list.size(), qsizetype(events.size()));
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonObject e = list.at(i).toObject();
        const RunEvent &source = events[size_t(i)];
        QCOMPARE(e.value(QStringLiteral("kind")).toString(),
                 QString::fromLatin1(toWireName(source.kind)));
        QCOMPARE(e.value(QStringLiteral("name")).toString(), QString::fromUtf8(source.name));
        QCOMPARE(e.value(QStringLiteral("id")).toInteger(), source.id);
        QCOMPARE(e.value(QStringLiteral("attributes")).toObject(),
                 QJsonDocument::fromJson(source.attributesJson).object());
        // RFC 3339 with nanoseconds: the exact start survives the round trip.
        const QString start = e.value(QStringLiteral("start")).toString();
        QVERIFY2(start.endsWith(QLatin1Char('Z')) && start.size() == 30, qPrintable(start));
        const qint64 seconds = QDateTime::fromString(start.left(19) + QLatin1Char('Z'), Qt::ISODate)
                                   .toSecsSinceEpoch();
        QCOMPARE(seconds * 1'000'000'000 + start.mid(20, 9).toLongLong(), source.startNs);
    }
    // The approval's nested amount survives.
    const QJsonObject approval = list.last().toObject();
    QCOMPARE(approval.value(QStringLiteral("kind")).toString(),
             QStringLiteral("approval_requested"));
    QCOMPARE(approval.value(QStringLiteral("attributes"))
                 .toObject()
                 .value(QStringLiteral("approval"))
                 .toObject()
                 .value(QStringLiteral("amount"))
                 .toObject()
                 .value(QStringLiteral("value"))
                 .toInt(),
             24000);
    QCOMPARE(list.first().toObject().value(QStringLiteral("end")).toString().isEmpty(), true);
}

void TestMainWindow::exportWritesTheSelectedRun()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("timeline.json"));
    QVERIFY(!m_window->exportTimelineTo(path).ok()); // nothing selected yet
    QVERIFY(!QFile::exists(path));

    emit m_feed->runsLoaded(m_runs);
    clickRun("run-7f3a03");
    const auto events = Testing::sampleEvents(m_runs[2]);
    emit m_feed->eventsLoaded("run-7f3a03", events);
    const Result<void> written = m_window->exportTimelineTo(path);
    QVERIFY2(written.ok(), written.ok() ? "" : qPrintable(written.error().message));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(root.value(QStringLiteral("run")).toObject().value(QStringLiteral("id")).toString(),
             QStringLiteral("run-7f3a03"));
    QCOMPARE(root.value(QStringLiteral("events")).toArray().size(), qsizetype(events.size()));

    const Result<void> refused
        = m_window->exportTimelineTo(dir.filePath(QStringLiteral("no/such/dir/x.json")));
    QVERIFY(!refused.ok());
    QVERIFY(!refused.error().message.isEmpty());
}

void TestMainWindow::everyControlHasAnAccessibleName()
{
    emit m_feed->runsLoaded(m_runs);
    emit m_feed->providerStatesChanged(Testing::sampleProviderStates());
    QStringList missing;
    const auto check = [&missing](QWidget *w, bool needsToolTip) {
        const QString what = QString::fromLatin1(w->metaObject()->className()) + QLatin1Char(' ')
                             + w->objectName();
        if (w->accessibleName().trimmed().isEmpty())
            missing << what + QStringLiteral(" (no accessible name)");
        if (needsToolTip && w->toolTip().trimmed().isEmpty())
            missing << what + QStringLiteral(" (no tooltip)");
    };
    int count = 0;
    for (QAbstractButton *w : m_window->findChildren<QAbstractButton *>()) {
        check(w, true);
        ++count;
    }
    for (QLineEdit *w : m_window->findChildren<QLineEdit *>()) {
        check(w, true);
        ++count;
    }
    for (QComboBox *w : m_window->findChildren<QComboBox *>()) {
        check(w, true);
        ++count;
    }
    for (QAbstractItemView *w : m_window->findChildren<QAbstractItemView *>()) {
        check(w, false);
        ++count;
    }
    QVERIFY2(missing.isEmpty(), qPrintable(missing.join(QStringLiteral("; "))));
    QVERIFY(count >= 8); // search, combo, UTC, export, problems, table, timeline, attributes
    QCOMPARE(m_window->searchField()->accessibleName(), QStringLiteral("Search runs"));
}

void TestMainWindow::statusBarShowsProvidersRateAndProblems()
{
    emit m_feed->providerStatesChanged(Testing::sampleProviderStates());
    ProviderStatusBar *status = m_window->providerStatus();
    QVERIFY(status->isVisible());
    for (const char *name : {"a2a", "idp", "stripe", "opa", "otlp"}) {
        QLabel *label = status->providerLabel(QString::fromLatin1(name));
        QVERIFY2(label && label->isVisible(), name);
        QVERIFY(label->text().contains(QString::fromLatin1(name)));
    }
    QLabel *opa = status->providerLabel(QStringLiteral("opa"));
    QVERIFY(opa->toolTip().contains(QLatin1String("down")));
    QVERIFY(opa->toolTip().contains(QLatin1String("connection refused (127.0.0.1:8181)")));
    QVERIFY(opa->text().contains(ProviderStatusBar::stateColor(ProviderState::State::Down).name()));
    QVERIFY(status->providerLabel(QStringLiteral("stripe"))
                ->text()
                .contains(ProviderStatusBar::stateColor(ProviderState::State::Degraded).name()));

    // A provider that leaves the profile leaves the status bar.
    auto states = Testing::sampleProviderStates();
    states.erase(states.begin() + 3);
    states[0].state = ProviderState::State::Down;
    emit m_feed->providerStatesChanged(states);
    QVERIFY(!status->providerLabel(QStringLiteral("opa")));
    QVERIFY(
        status->providerLabel(QStringLiteral("a2a"))->toolTip().contains(QLatin1String("down")));

    emit m_feed->ingestRateChanged(37.0);
    QCOMPARE(status->rateText(), QStringLiteral("37 spans/s"));
    emit m_feed->ingestRateChanged(2.5);
    QCOMPARE(status->rateText(), QStringLiteral("2.5 spans/s"));

    const QString problem = QStringLiteral("stripe: 401 invalid_api_key: Invalid API Key provided");
    emit m_feed->problem(problem);
    QCOMPARE(m_window->statusBar()->currentMessage(), problem);
    QCOMPARE(status->problemCount(), 1);
    QCOMPARE(m_window->problemLog()->count(), 1);
    QVERIFY(m_window->problemLog()->item(0)->text().contains(problem));
}

void TestMainWindow::titleAndUtcToggle()
{
    QCOMPARE(m_window->windowTitle(), QStringLiteral("Breaker"));
    m_window->setProfileName(QStringLiteral("payments-prod"));
    QCOMPARE(m_window->windowTitle(), QStringLiteral("Breaker — payments-prod"));

    emit m_feed->runsLoaded(m_runs);
    const QAbstractItemModel *model = m_window->runsView()->model();
    m_window->utcAction()->trigger();
    QCOMPARE(model->headerData(RunsTableModel::StartedColumn, Qt::Horizontal).toString(),
             QStringLiteral("Started (UTC)"));
    m_window->utcAction()->trigger();
    QCOMPARE(model->headerData(RunsTableModel::StartedColumn, Qt::Horizontal).toString(),
             QStringLiteral("Started"));
}

void TestMainWindow::cancelRunAsksForAReasonThenActs()
{
    FakeRunActions actions;
    emit m_feed->runsLoaded(m_runs);
    QAction *cancel = m_window->cancelRunAction();
    QVERIFY(!cancel->isEnabled()); // no actions, no selection
    m_window->setRunActions(&actions);
    QVERIFY(!cancel->isEnabled()); // no selection
    clickRun("run-7f3a01");
    QVERIFY(cancel->isEnabled());
    QCOMPARE(cancel->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));

    cancel->trigger();
    auto *dialog = m_window->findChild<CancelRunDialog *>();
    QVERIFY(dialog);
    QTRY_VERIFY(dialog->isVisible());
    // It names the run, the agent and the principal, and says what will be done.
    const QString shown = dialog->findChildren<QLabel *>().value(0)->text();
    QVERIFY2(shown.contains(QLatin1String("run-7f3a01")) && shown.contains(QLatin1String("refund-agent")),
             qPrintable(shown));
    QVERIFY(dialog->findChild<QLabel *>(QStringLiteral("cancelPlan"))->text().contains(QLatin1String("a2a task t-1")));
    // A reason is required; Enter alone keeps the run going.
    QVERIFY(!dialog->cancelRunButton()->isEnabled());
    QVERIFY(dialog->keepButton()->isDefault());
    QTest::keyClicks(dialog->reasonField(), QStringLiteral("   "));
    QVERIFY(!dialog->cancelRunButton()->isEnabled());
    dialog->reasonField()->clear();
    QTest::keyClicks(dialog->reasonField(), QStringLiteral("refund loop, INC-4711"));
    QVERIFY(dialog->cancelRunButton()->isEnabled());
    QVERIFY(!dialog->reasonField()->accessibleName().isEmpty());
    dialog->cancelRunButton()->click();
    QCOMPARE(actions.cancels.size(), 1);
    QCOMPARE(actions.cancels.front().first, QByteArray("run-7f3a01"));
    QCOMPARE(actions.cancels.front().second, QStringLiteral("refund loop, INC-4711"));

    // "Keep running" does nothing.
    cancel->trigger();
    auto *second = m_window->findChildren<CancelRunDialog *>().last();
    QTRY_VERIFY(second->isVisible());
    second->keepButton()->click();
    QCOMPARE(actions.cancels.size(), 1);

    // A run that already ended cannot be cancelled.
    for (const Run &run : m_runs) {
        if (isTerminal(run.status)) {
            clickRun(run.id);
            QVERIFY(!cancel->isEnabled());
            break;
        }
    }
}

void TestMainWindow::cancelOutcomeIsShown()
{
    FakeRunActions actions;
    m_window->setRunActions(&actions);
    emit m_feed->runsLoaded(m_runs);
    clickRun("run-7f3a01");
    actions.finish("run-7f3a01", LayerOutcome::Failed,
                   QStringLiteral("still active after cancel: the runtime reported TASK_STATE_CANCELED, but "
                                  "tool_call \"stripe.refund\" started 6.0 s later"));
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = m_window->findChild<QMessageBox *>(QStringLiteral("cancelOutcome"))) != nullptr);
    QVERIFY(box->text().contains(QLatin1String("still active after cancel")));
    QVERIFY(box->text().contains(QLatin1String("failed after 7.2 s")));
    QVERIFY(m_window->statusBar()->currentMessage().contains(QLatin1String("still active after cancel")));
    QVERIFY(m_window->problemLog()->count() > 0);
    box->close();
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
