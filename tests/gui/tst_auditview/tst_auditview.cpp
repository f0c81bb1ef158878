// The audit trail in the console (issue 5 items 4 and 6), over a scripted AuditActions: the
// table and its filter, a record's exact line, "Show in run", the chain's state, and the export
// dialog's checks, progress and outcome. The model passes QAbstractItemModelTester.
#include "views/AuditExportDialog.h"
#include "views/AuditTableModel.h"
#include "views/AuditView.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace Breaker;

namespace {

// Answers what the test scripts, synchronously recording what it was asked.
class ScriptedAuditActions : public AuditActions
{
public:
    std::vector<AuditRecord> records;
    AuditChainState chain;
    std::vector<AuditExportOptions> exports;
    int loads = 0, checks = 0;

    void loadRecent(int) override
    {
        ++loads;
        emit recordsLoaded(records, QString());
    }
    void checkChain() override
    {
        ++checks;
        emit chainChecked(chain);
    }
    void exportTrail(const AuditExportOptions &options) override { exports.push_back(options); }
    void checkRetention() override { emit retentionChecked(QString()); }
};

AuditRecord record(qint64 seq, const QString &action, const QString &agent, const QString &run, const QString &outcome)
{
    AuditEntry e;
    e.actor = {QStringLiteral("operator"), QStringLiteral("ada"), QStringLiteral("oncall-1")};
    e.action = action;
    e.target.agent = agent;
    e.target.run = run;
    e.target.layer = QStringLiteral("payment");
    e.reason = QStringLiteral("INC-4711");
    e.outcome = outcome;
    AuditRecord r;
    r.seq = seq;
    r.tsMs = 1795735227000 + seq;
    r.line = formatAuditLine(seq, r.tsMs, e, zeroHash());
    r.hashHex = sha256Hex(r.line);
    return r;
}

} // namespace

class tst_AuditView : public QObject
{
    Q_OBJECT
private slots:
    void tableFilterDetailAndShowInRun();
    void chainStateSaysWhatBroke();
    void exportDialogChecksItsInput_data();
    void exportDialogChecksItsInput();
    void exportDialogShowsProgressAndOutcome();
};

void tst_AuditView::tableFilterDetailAndShowInRun()
{
    ScriptedAuditActions actions;
    actions.records = {record(1, QStringLiteral("stop.requested"), QStringLiteral("refund-agent"), QString(), QString()),
                       record(2, QStringLiteral("stop.layer"), QStringLiteral("refund-agent"), QStringLiteral("r42"),
                              QStringLiteral("verified")),
                       record(3, QStringLiteral("audit.exported"), QString(), QString(), QStringLiteral("ok"))};
    actions.chain.ok = true;
    actions.chain.summary = QStringLiteral("intact through seq 3; last good checkpoint seq 3");
    actions.chain.keyFingerprint = QString(64, u'a');
    AuditView view(&actions);
    QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.resize(1000, 500);
    view.show();
    view.refresh();
    QCOMPARE(actions.loads, 1);
    QCOMPARE(view.table()->model()->rowCount(), 3);
    // Newest first.
    QCOMPARE(view.table()->model()->index(0, AuditTableModel::ActionColumn).data().toString(), QStringLiteral("audit.exported"));
    QVERIFY(view.chainLabel()->text().contains(QStringLiteral("intact through seq 3")));
    QVERIFY(view.chainLabel()->text().contains(QString(64, u'a')));

    QTest::keyClicks(view.filterField(), QStringLiteral("r42"));
    QCOMPARE(view.table()->model()->rowCount(), 1);
    view.table()->setCurrentIndex(view.table()->model()->index(0, 0));
    // The exact line, as hashed, and its hash.
    QVERIFY(view.detail()->toPlainText().contains(QString::fromUtf8(actions.records[1].line)));
    QVERIFY(view.detail()->toPlainText().contains(QString::fromLatin1(actions.records[1].hashHex)));
    QVERIFY(view.showInRunButton()->isEnabled());
    QSignalSpy showRun(&view, &AuditView::showRunRequested);
    view.showInRunButton()->click();
    QCOMPARE(showRun.count(), 1);
    QCOMPARE(showRun.at(0).at(0).toByteArray(), QByteArray("r42"));

    // A record about no run offers nothing to show.
    view.filterField()->clear();
    QTest::keyClicks(view.filterField(), QStringLiteral("stop.requested"));
    view.table()->setCurrentIndex(view.table()->model()->index(0, 0));
    QVERIFY(!view.showInRunButton()->isEnabled());
    if (const QByteArray dir = qgetenv("BREAKER_SCREENSHOTS"); !dir.isEmpty()) {
        view.filterField()->clear();
        view.table()->setCurrentIndex(view.table()->model()->index(1, 0));
        QTest::qWait(50); // let the layout settle before the picture
        view.grab().save(QString::fromLocal8Bit(dir) + QStringLiteral("/audit-view.png"));
    }
}

void tst_AuditView::chainStateSaysWhatBroke()
{
    ScriptedAuditActions actions;
    actions.chain.ok = false;
    actions.chain.summary = QStringLiteral("broken at seq 7: its line no longer hashes to the stored hash");
    AuditView view(&actions);
    view.refresh();
    QVERIFY(view.chainLabel()->text().contains(QStringLiteral("BROKEN")));
    QVERIFY(view.chainLabel()->text().contains(QStringLiteral("seq 7")));
    actions.chain = {};
    actions.chain.error = QStringLiteral("no OS keychain answered");
    view.refresh();
    QVERIFY(view.chainLabel()->text().contains(QStringLiteral("not checked")));
    QVERIFY(view.chainLabel()->text().contains(QStringLiteral("no OS keychain answered")));
}

void tst_AuditView::exportDialogChecksItsInput_data()
{
    QTest::addColumn<bool>("existingFolder");
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("error"); // empty: accepted
    QTest::newRow("whole chain") << false << QString() << QString() << QString();
    QTest::newRow("by seq") << false << QStringLiteral("10") << QStringLiteral("20") << QString();
    QTest::newRow("by time") << false << QStringLiteral("2026-11-27") << QStringLiteral("2026-11-28T00:00:00Z") << QString();
    QTest::newRow("existing folder") << true << QString() << QString() << QStringLiteral("already exists");
    QTest::newRow("seq zero") << false << QStringLiteral("0") << QString() << QStringLiteral("From: a seq starts at 1");
    QTest::newRow("not a time") << false << QString() << QStringLiteral("yesterday") << QStringLiteral("To: \"yesterday\"");
}

void tst_AuditView::exportDialogChecksItsInput()
{
    QFETCH(bool, existingFolder);
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, error);
    QTemporaryDir dir;
    ScriptedAuditActions actions;
    AuditExportDialog dialog(&actions);
    dialog.folderField()->setText(existingFolder ? dir.path() : dir.filePath(QStringLiteral("export")));
    dialog.fromField()->setText(from);
    dialog.toField()->setText(to);
    auto options = dialog.options();
    if (error.isEmpty()) {
        QVERIFY2(options.ok(), options.ok() ? "" : qPrintable(options.error().message));
        QVERIFY(options->csv && options->ocsf);
        return;
    }
    QVERIFY(!options.ok());
    QVERIFY2(options.error().message.contains(error), qPrintable(options.error().message));
    // The Export button says the same and asks nothing of the actions.
    dialog.exportButton()->click();
    QVERIFY(actions.exports.empty());
    QVERIFY(dialog.statusLabel()->text().contains(error.toHtmlEscaped()));
}

void tst_AuditView::exportDialogShowsProgressAndOutcome()
{
    QTemporaryDir dir;
    ScriptedAuditActions actions;
    AuditExportDialog dialog(&actions);
    dialog.folderField()->setText(dir.filePath(QStringLiteral("export")));
    dialog.csvBox()->setChecked(false);
    dialog.exportButton()->click();
    QCOMPARE(actions.exports.size(), size_t(1));
    QVERIFY(!actions.exports[0].csv);
    QVERIFY(actions.exports[0].ocsf);
    QVERIFY(dialog.isRunning());
    QVERIFY(!dialog.exportButton()->isEnabled());
    emit actions.exportProgress(250, 1000);
    QCOMPARE(dialog.progressBar()->maximum(), 1000);
    QCOMPARE(dialog.progressBar()->value(), 250);
    QVERIFY(dialog.statusLabel()->text().contains(QStringLiteral("250 of 1000")));
    emit actions.exportFinished(true, QStringLiteral("1000 records (seq 1–1000) exported to %1").arg(dir.path()),
                                dir.path());
    QVERIFY(!dialog.isRunning());
    QVERIFY(dialog.statusLabel()->text().contains(QStringLiteral("Exported.")));

    // A failure says so and lets the operator try again.
    AuditExportDialog again(&actions);
    again.folderField()->setText(dir.filePath(QStringLiteral("export2")));
    again.exportButton()->click();
    emit actions.exportFinished(false, QStringLiteral("no space left on device"), QString());
    QVERIFY(again.statusLabel()->text().contains(QStringLiteral("Export failed")));
    QVERIFY(again.statusLabel()->text().contains(QStringLiteral("no space left on device")));
    QVERIFY(again.exportButton()->isEnabled());
}

QTEST_MAIN(tst_AuditView)
#include "tst_auditview.moc"
