// The console as an operator uses it, on the embedded sandbox (issue 3, "Done when"): a working
// sandbox run is cancelled from Run > Cancel run… (reason typed, Cancel run clicked) and the
// outcome is `verified`; a run of the ignores-cancel scenario is cancelled and the outcome is
// `failed` with "still active after cancel". Then the stop switch (issue 4, "Done when"): Run >
// Stop agent… on the runaway refund agent shows the plan, takes a reason, and turns every row —
// runtime, identity, payment, tools — verified.
#include "app/breaker/Console.h"
#include "connectors/runtime/A2aConnector.h"
#include "models/Profile.h"
#include "views/CancelRunDialog.h"
#include "views/ControlMapView.h"
#include "views/MainWindow.h"
#include "views/RunDetailPane.h"
#include "views/RunsTableModel.h"
#include "views/RunsTableView.h"
#include "views/StopDialog.h"

#include <QCheckBox>

#include <QAction>
#include <QDirIterator>
#include <QEventLoop>
#include <QLineEdit>
#include <QMessageBox>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace Breaker;

namespace {

QString sandboxProfile(const QString &runtimeRoot)
{
    QDirIterator it(runtimeRoot, {QStringLiteral("profile.json")}, QDir::Files, QDirIterator::Subdirectories);
    return it.hasNext() ? it.next() : QString();
}

} // namespace

class tst_ConsoleCancel : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void cancelAWorkingSandboxRun();
    void cancelARunThatIgnoresIt();
    void stopTheRunawayAgentFromTheWindow();
    void drillTheCanaryFromTheWindow();

private:
    const Run *findRun(const std::function<bool(const Run &)> &match) const;
    void select(const QByteArray &runId);
    QString cancelThroughTheWindow(const QByteArray &runId, const QString &reason);
    QTemporaryDir m_home;
    std::unique_ptr<Console> m_console;
};

void tst_ConsoleCancel::initTestCase()
{
    // Everything this console writes stays in the temporary folder.
    qputenv("XDG_RUNTIME_DIR", m_home.filePath(QStringLiteral("run")).toUtf8());
    qputenv("XDG_DATA_HOME", m_home.filePath(QStringLiteral("data")).toUtf8());
    qputenv("XDG_CONFIG_HOME", m_home.filePath(QStringLiteral("config")).toUtf8());
    qputenv("XDG_STATE_HOME", m_home.filePath(QStringLiteral("state")).toUtf8());
    qputenv("BREAKER_SANDBOX", BREAKER_BINARY_DIR "/app/sandbox/breaker-sandbox");
    QDir().mkpath(m_home.filePath(QStringLiteral("run")));
    QFile::setPermissions(m_home.filePath(QStringLiteral("run")), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    m_console = std::make_unique<Console>();
    Console::Options options;
    options.forceSandbox = true;
    options.dbPath = m_home.filePath(QStringLiteral("sandbox.db"));
    auto started = m_console->start(options);
    QVERIFY2(started.ok(), qPrintable(started.ok() ? QString() : started.error().message));
    QVERIFY(QTest::qWaitForWindowExposed(m_console->window()));
}

void tst_ConsoleCancel::cleanupTestCase()
{
    m_console.reset(); // stops the sandbox
}

const Run *tst_ConsoleCancel::findRun(const std::function<bool(const Run &)> &match) const
{
    RunsTableModel *model = m_console->window()->runsModel();
    for (int row = 0; row < model->rowCount(); ++row)
        if (const Run *run = model->runAt(row); run && match(*run))
            return run;
    return nullptr;
}

void tst_ConsoleCancel::select(const QByteArray &runId)
{
    RunsTableView *view = m_console->window()->runsView();
    const QAbstractItemModel *model = view->model();
    for (int row = 0; row < model->rowCount(); ++row) {
        if (model->index(row, 0).data(RunsTableModel::RunIdRole).toByteArray() == runId) {
            const QRect rect = view->visualRect(model->index(row, RunsTableModel::AgentColumn));
            view->scrollTo(model->index(row, 0));
            QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->visualRect(model->index(row, RunsTableModel::AgentColumn)).center());
            Q_UNUSED(rect);
            return;
        }
    }
}

// Run > Cancel run…, a reason, Cancel run; returns the outcome box's text.
QString tst_ConsoleCancel::cancelThroughTheWindow(const QByteArray &runId, const QString &reason)
{
    MainWindow *window = m_console->window();
    select(runId);
    if (!QTest::qWaitFor([&] { return window->cancelRunAction()->isEnabled(); }, 5000))
        return QStringLiteral("the cancel action stayed disabled");
    window->cancelRunAction()->trigger();
    CancelRunDialog *dialog = nullptr;
    if (!QTest::qWaitFor([&] { return (dialog = window->findChild<CancelRunDialog *>()) && dialog->isVisible(); }, 5000))
        return QStringLiteral("no confirmation dialog (the run may have no runtime)");
    QTest::keyClicks(dialog->reasonField(), reason);
    dialog->cancelRunButton()->click();
    QMessageBox *box = nullptr;
    if (!QTest::qWaitFor([&] { return (box = window->findChild<QMessageBox *>(QStringLiteral("cancelOutcome"))) != nullptr; }, 40000))
        return QStringLiteral("no outcome within 40 s");
    const QString text = box->text();
    box->close();
    delete box;
    return text;
}

void tst_ConsoleCancel::cancelAWorkingSandboxRun()
{
    // A refund-agent run its runtime reports working (the sandbox's runs last 15-90 s).
    const Run *run = nullptr;
    QVERIFY2(QTest::qWaitFor([&] {
                 run = findRun([](const Run &r) {
                     return r.agent == "refund-agent" && r.provider == "refund-agent-a2a" && r.status == RunStatus::Working;
                 });
                 return run != nullptr;
             }, 60000),
             "no working refund-agent run reported by its A2A runtime within 60 s");
    const QByteArray runId = run->id;
    const QString text = cancelThroughTheWindow(runId, QStringLiteral("drill: cancel a working run"));
    QVERIFY2(text.contains(QLatin1String(": verified after")), qPrintable(text));
    QTRY_VERIFY_WITH_TIMEOUT(findRun([&](const Run &r) { return r.id == runId && r.status == RunStatus::Stopped; }), 10000);
}

void tst_ConsoleCancel::cancelARunThatIgnoresIt()
{
    const QString profilePath = sandboxProfile(m_home.filePath(QStringLiteral("run")));
    QVERIFY2(!profilePath.isEmpty(), "the sandbox wrote no profile");
    auto profile = loadProfile(profilePath);
    QVERIFY(profile.ok());
    const ProviderConfig *usage = profile->provider(QStringLiteral("usage-analyst-a2a"));
    QVERIFY(usage);
    A2aConnector a2a(*usage, {});
    std::optional<Result<RuntimeRun>> started;
    a2a.startTask(QStringLiteral("export the usage report"),
                  QJsonObject{{QStringLiteral("scenario"), QStringLiteral("ignores_cancel")}},
                  [&](const Result<RuntimeRun> &r) { started = r; });
    QTRY_VERIFY_WITH_TIMEOUT(started.has_value(), 20000);
    QVERIFY2(started->ok(), qPrintable(started->ok() ? QString() : started->error().message));
    const QByteArray taskId = started->value().externalId;
    const Run *run = nullptr;
    QVERIFY2(QTest::qWaitFor([&] {
                 run = findRun([&](const Run &r) { return r.externalIdsJson.contains(taskId) && r.toolCalls > 0; });
                 return run != nullptr;
             }, 30000),
             "the ignores-cancel run did not appear with tool calls within 30 s");
    const QString text = cancelThroughTheWindow(run->id, QStringLiteral("drill: the export ignores cancels"));
    QVERIFY2(text.contains(QLatin1String(": failed after")), qPrintable(text));
    QVERIFY2(text.contains(QLatin1String("still active after cancel")), qPrintable(text));
}

void tst_ConsoleCancel::stopTheRunawayAgentFromTheWindow()
{
    const QString profilePath = sandboxProfile(m_home.filePath(QStringLiteral("run")));
    auto profile = loadProfile(profilePath);
    QVERIFY(profile.ok());
    A2aConnector a2a(*profile->provider(QStringLiteral("refund-agent-a2a")), {});
    std::optional<Result<RuntimeRun>> started;
    a2a.startTask(QStringLiteral("refund the duplicate charges"),
                  QJsonObject{{QStringLiteral("scenario"), QStringLiteral("runaway_loop")}},
                  [&](const Result<RuntimeRun> &r) { started = r; });
    QTRY_VERIFY_WITH_TIMEOUT(started.has_value(), 20000);
    QVERIFY(started->ok());
    const QByteArray taskId = started->value().externalId;
    const Run *run = nullptr;
    QVERIFY2(QTest::qWaitFor([&] {
                 run = findRun([&](const Run &r) {
                     return r.externalIdsJson.contains(taskId) && r.status == RunStatus::Working;
                 });
                 return run != nullptr;
             }, 30000),
             "the runaway run did not show as working within 30 s");
    const QByteArray runId = run->id;
    MainWindow *window = m_console->window();
    select(runId);
    QTRY_VERIFY_WITH_TIMEOUT(window->stopAgentAction()->isEnabled(), 5000);
    QCOMPARE(window->stopAgentAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    window->stopAgentAction()->trigger();
    StopDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = window->findChild<StopDialog *>()) && dialog->isVisible(), 5000);
    // The plan first: every layer's row, nothing done yet; Stop needs a reason.
    QVERIFY(dialog->table()->rowCount() >= 4); // one runtime row per run in flight
    QVERIFY(!dialog->stopButton()->isEnabled());
    QVERIFY(dialog->keepButton()->isDefault());
    QTest::keyClicks(dialog->reasonField(), QStringLiteral("runaway refund loop"));
    QVERIFY(dialog->stopButton()->isEnabled());
    // The layers can be chosen (breakerctl stop --layers): unticking one re-plans without it;
    // with none ticked there is nothing to confirm; ticking them back restores the whole plan.
    const int planned = dialog->table()->rowCount();
    auto rowsOf = [dialog](const QString &layer) {
        int n = 0;
        for (int row = 0; row < dialog->table()->rowCount(); ++row)
            n += dialog->table()->item(row, 0)->text() == layer;
        return n;
    };
    QCheckBox *payment = dialog->layerBox(QStringLiteral("payment"));
    QVERIFY(payment && payment->isChecked());
    QVERIFY(!payment->accessibleName().isEmpty());
    QVERIFY(rowsOf(QStringLiteral("payment")) > 0);
    payment->click();
    QCOMPARE(rowsOf(QStringLiteral("payment")), 0);
    QVERIFY(rowsOf(QStringLiteral("identity")) > 0);
    QCOMPARE(dialog->chosenLayers(),
             (QStringList{QStringLiteral("runtime"), QStringLiteral("identity"), QStringLiteral("tools")}));
    QVERIFY(dialog->stopButton()->isEnabled());
    for (const QString &layer : {QStringLiteral("runtime"), QStringLiteral("identity"), QStringLiteral("tools")})
        dialog->layerBox(layer)->click();
    QCOMPARE(dialog->table()->rowCount(), 0);
    QVERIFY(!dialog->stopButton()->isEnabled());
    for (const QString &layer : StopSwitch::allLayers())
        dialog->layerBox(layer)->click();
    QCOMPARE(dialog->chosenLayers(), StopSwitch::allLayers());
    QCOMPARE(dialog->table()->rowCount(), planned);
    QVERIFY(dialog->stopButton()->isEnabled());
    dialog->stopButton()->click();
    QVERIFY(!payment->isEnabled()); // the choice is fixed once the stop runs
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isRunning(), 40000);
    const QString status = dialog->statusLabel()->text();
    QVERIFY2(status.contains(QLatin1String("every configured layer verified")), qPrintable(status));
    QStringList layers;
    for (int row = 0; row < dialog->table()->rowCount(); ++row) {
        QCOMPARE(dialog->table()->item(row, 3)->text(), QStringLiteral("verified"));
        layers << dialog->table()->item(row, 0)->text();
    }
    layers.removeDuplicates();
    QCOMPARE(layers, (QStringList{QStringLiteral("runtime"), QStringLiteral("identity"), QStringLiteral("payment"),
                                  QStringLiteral("tools")}));
    if (const QByteArray dir = qgetenv("BREAKER_SCREENSHOTS"); !dir.isEmpty())
        dialog->grab().save(QString::fromLocal8Bit(dir) + QStringLiteral("/stop-dialog.png"));
    dialog->close();
    QTRY_VERIFY_WITH_TIMEOUT(findRun([&](const Run &r) { return r.id == runId && isTerminal(r.status); }), 10000);
}

void tst_ConsoleCancel::drillTheCanaryFromTheWindow()
{
    // Any run of the sandbox's canary will do: the drill finds one in flight or starts one.
    const Run *run = nullptr;
    QVERIFY2(QTest::qWaitFor([&] {
                 run = findRun([](const Run &r) { return r.agent == "claims-agent"; });
                 return run != nullptr;
             }, 60000),
             "no run of claims-agent showed within 60 s");
    const QByteArray runId = run->id;
    MainWindow *window = m_console->window();
    select(runId);
    QTRY_VERIFY_WITH_TIMEOUT(window->drillAction()->isEnabled(), 5000);
    QCOMPARE(window->drillAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    // Before: the control map of the canary says its stop layers were never proven.
    ControlMapView *map = window->detailPane()->controlMapView();
    QTRY_COMPARE_WITH_TIMEOUT(map->agent(), QByteArray("claims-agent"), 5000);
    QCOMPARE(map->rowCount(), 7);
    QVERIFY2(map->item(1, 3)->text().startsWith(QStringLiteral("never proven")), qPrintable(map->item(1, 3)->text()));

    window->drillAction()->trigger();
    StopDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = window->findChild<StopDialog *>()) && dialog->isVisible(), 5000);
    QVERIFY(dialog->isDrill());
    QVERIFY(!dialog->layerBox(QStringLiteral("payment"))); // a drill is the whole stop
    QCOMPARE(dialog->stopButton()->text(), QStringLiteral("&Run drill"));
    QTest::keyClicks(dialog->reasonField(), QStringLiteral("monthly drill"));
    dialog->stopButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isRunning(), 60000);
    const QString status = dialog->statusLabel()->text();
    QVERIFY2(status.contains(QLatin1String("Drill: every configured layer verified")), qPrintable(status));
    QVERIFY2(status.contains(QLatin1String("restored after the drill")), qPrintable(status));
    dialog->close();

    // After: every stop layer shows its time to verified, by a drill; the kill switch row too.
    select(runId);
    window->detailPane()->showControlMapTab();
    QTRY_VERIFY_WITH_TIMEOUT(map->item(0, 3) && map->item(0, 3)->text().contains(QStringLiteral("by a drill")), 10000);
    int proven = 0;
    for (int row = 0; row < map->rowCount(); ++row) {
        const QString layer = map->item(row, 0)->data(Qt::UserRole).toString();
        const QString proof = map->item(row, 3)->text();
        if (layer == u"runtime" || layer == u"identity" || layer == u"payment" || layer == u"tools") {
            QVERIFY2(proof.startsWith(QStringLiteral("verified in ")) && proof.contains(QStringLiteral("by a drill")),
                     qPrintable(layer + QStringLiteral(": ") + proof));
            ++proven;
        }
        if (layer == u"kill_switch")
            QVERIFY2(proof.contains(QStringLiteral("4 proven; last drill")), qPrintable(proof));
    }
    QCOMPARE(proven, 4);
    if (const QByteArray dir = qgetenv("BREAKER_SCREENSHOTS"); !dir.isEmpty())
        window->grab().save(QString::fromLocal8Bit(dir) + QStringLiteral("/control-map.png"));
}

QTEST_MAIN(tst_ConsoleCancel)
#include "tst_console_cancel.moc"
