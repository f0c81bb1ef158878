#include "views/EventDetailsTree.h"
#include "views/RunDetailPane.h"
#include "views/TimelineModel.h"
#include "views/TimelineView.h"

#include <QSignalSpy>
#include <QTest>

using namespace Breaker;

namespace {

constexpr qint64 kT0 = 1'741'010'602'000'000'000;
const QByteArray kRun = "run-1";

RunEvent span(const QByteArray &spanId,
              const QByteArray &parent,
              qint64 startMs,
              qint64 endMs,
              EventKind kind,
              int status = 0,
              const QByteArray &attributes = {})
{
    RunEvent e;
    e.runId = kRun;
    e.spanId = spanId;
    e.parentSpanId = parent;
    e.kind = kind;
    e.name = "span " + spanId;
    e.startNs = kT0 + startMs * 1'000'000;
    e.endNs = endMs < 0 ? 0 : kT0 + endMs * 1'000'000;
    e.statusCode = status;
    e.attributesJson = attributes;
    return e;
}

std::vector<RunEvent> sampleTimeline()
{
    return {
        span("root", {}, 0, 1'000, EventKind::AgentInvocation),
        span("llm", "root", 10, 400, EventKind::ModelCall),
        span("tool",
             "root",
             420,
             900,
             EventKind::ToolCall,
             2,
             R"({"gen_ai.tool.name":"stripe.refund","gen_ai.tool.call.arguments":)"
             R"({"order":"A-1","amount":{"value":24000,"currency":"usd"},"tags":["a","b"]}})"),
        span("read", "tool", 450, 600, EventKind::DataAccess),
        span("block", "root", 950, 950, EventKind::PolicyBlock),
    };
}

bool isRed(const QColor &c)
{
    return c.red() > 180 && c.green() < 90 && c.blue() < 90;
}

} // namespace

class TestTimelineView : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void barsShareOneTimeAxis();
    void keyboardNavigationEmitsEvents();
    void clickSelects();
    void errorBarsAreOutlinedRed();
    void placeholderWhenEmpty();
    void attributesPaneExpandsNestedJson();
    void detailPaneFollowsSelectedEvent();

private:
    TimelineModel *m_model = nullptr;
    TimelineView *m_view = nullptr;
};

void TestTimelineView::init()
{
    m_model = new TimelineModel;
    m_model->setRunId(kRun);
    m_model->setEvents(kRun, sampleTimeline());
    m_view = new TimelineView;
    m_view->setModel(m_model);
    m_view->resize(900, 300);
    m_view->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_view));
}

void TestTimelineView::cleanup()
{
    delete m_view;
    delete m_model;
}

void TestTimelineView::barsShareOneTimeAxis()
{
    // Rows: root, llm, tool, read, block.
    const QRectF root = m_view->barRect(0);
    const QRectF llm = m_view->barRect(1);
    const QRectF tool = m_view->barRect(2);
    const QRectF read = m_view->barRect(3);
    QVERIFY(root.left() >= m_view->labelWidth());
    QVERIFY(root.right() <= m_view->viewport()->width());
    QVERIFY(llm.left() >= root.left() && llm.right() <= root.right() + 1);
    QVERIFY(tool.left() > llm.right());
    QVERIFY(read.left() >= tool.left() && read.right() <= tool.right() + 1);
    // Widths are proportional to durations: tool (480 ms) vs llm (390 ms).
    QVERIFY(qAbs(tool.width() / llm.width() - 480.0 / 390.0) < 0.05);
    // Rows are stacked under the axis.
    QVERIFY(root.top() >= m_view->axisHeight());
    QVERIFY(llm.top() > root.top());
    QCOMPARE(m_view->axisStartNs(), kT0);
    QCOMPARE(m_view->axisEndNs(), kT0 + 1'000'000'000);
}

void TestTimelineView::keyboardNavigationEmitsEvents()
{
    m_view->setFocus();
    m_view->setCurrentIndex(m_model->index(0));
    QSignalSpy selected(m_view, &TimelineView::eventSelected);
    QTest::keyClick(m_view, Qt::Key_Down);
    QCOMPARE(selected.count(), 1);
    QCOMPARE(selected.last().at(0).value<RunEvent>().spanId, QByteArray("llm"));
    QTest::keyClick(m_view, Qt::Key_Down);
    QTest::keyClick(m_view, Qt::Key_Down);
    QCOMPARE(selected.last().at(0).value<RunEvent>().spanId, QByteArray("read"));
    QTest::keyClick(m_view, Qt::Key_Left); // to the parent span
    QCOMPARE(selected.last().at(0).value<RunEvent>().spanId, QByteArray("tool"));
    QTest::keyClick(m_view, Qt::Key_Up);
    QCOMPARE(selected.last().at(0).value<RunEvent>().spanId, QByteArray("llm"));
    QTest::keyClick(m_view, Qt::Key_End);
    QCOMPARE(selected.last().at(0).value<RunEvent>().spanId, QByteArray("block"));
    QTest::keyClick(m_view, Qt::Key_Down); // stays on the last row
    QCOMPARE(m_view->currentIndex().row(), 4);
    QTest::keyClick(m_view, Qt::Key_Home);
    QCOMPARE(selected.last().at(0).value<RunEvent>().spanId, QByteArray("root"));
    QVERIFY(m_view->selectionModel()->isRowSelected(0, {}));
}

void TestTimelineView::clickSelects()
{
    QSignalSpy selected(m_view, &TimelineView::eventSelected);
    const QRect row = m_view->visualRect(m_model->index(2));
    QVERIFY(row.isValid());
    QTest::mouseClick(m_view->viewport(), Qt::LeftButton, {}, row.center());
    QCOMPARE(selected.count(), 1);
    QCOMPARE(selected.last().at(0).value<RunEvent>().spanId, QByteArray("tool"));
    // The axis header is not a row.
    QVERIFY(!m_view->indexAt(QPoint(row.center().x(), 2)).isValid());
}

void TestTimelineView::errorBarsAreOutlinedRed()
{
    const QImage image = m_view->viewport()->grab().toImage();
    const auto sample = [&image](const QRectF &bar, double dx) {
        return image.pixelColor(int(bar.left() + dx), int(bar.center().y()));
    };
    const QRectF tool = m_view->barRect(2); // status error
    const QRectF llm = m_view->barRect(1);  // fine
    QVERIFY2(isRed(sample(tool, 1.5)), qPrintable(sample(tool, 1.5).name()));
    // Inside the outline the bar keeps its kind colour; a healthy bar has no red edge.
    QCOMPARE(sample(tool, tool.width() / 2).rgb(),
             TimelineModel::kindColor(EventKind::ToolCall).rgb());
    QVERIFY(!isRed(sample(llm, 1.5)));
    QCOMPARE(sample(llm, llm.width() / 2).rgb(),
             TimelineModel::kindColor(EventKind::ModelCall).rgb());
}

void TestTimelineView::placeholderWhenEmpty()
{
    m_view->setPlaceholderText(QStringLiteral("Select a run to see its timeline."));
    const QImage withRows = m_view->viewport()->grab().toImage();
    m_model->setRunId("other");
    QCOMPARE(m_view->barRect(0), QRectF());
    const QImage empty = m_view->viewport()->grab().toImage();
    QVERIFY(withRows != empty);
    // No kind colour is painted anywhere once the rows are gone.
    const QRgb modelCall = TimelineModel::kindColor(EventKind::ModelCall).rgb();
    for (int y = 0; y < empty.height(); y += 3) {
        for (int x = 0; x < empty.width(); x += 3)
            QVERIFY(empty.pixel(x, y) != modelCall);
    }
}

void TestTimelineView::attributesPaneExpandsNestedJson()
{
    EventDetailsTree tree;
    tree.setEvent(sampleTimeline().at(2));
    QCOMPARE(tree.valueAt({QStringLiteral("kind")}), QStringLiteral("tool_call"));
    QCOMPARE(tree.valueAt({QStringLiteral("status")}), QStringLiteral("error"));
    QCOMPARE(tree.valueAt({QStringLiteral("duration")}), QStringLiteral("480 ms"));
    QCOMPARE(tree.valueAt({QStringLiteral("attributes"), QStringLiteral("gen_ai.tool.name")}),
             QStringLiteral("stripe.refund"));
    QCOMPARE(tree.valueAt({QStringLiteral("attributes"),
                           QStringLiteral("gen_ai.tool.call.arguments"),
                           QStringLiteral("amount"),
                           QStringLiteral("value")}),
             QStringLiteral("24000"));
    QCOMPARE(tree.valueAt({QStringLiteral("attributes"),
                           QStringLiteral("gen_ai.tool.call.arguments"),
                           QStringLiteral("tags"),
                           QStringLiteral("[1]")}),
             QStringLiteral("b"));
    // Nested values are expanded, not folded away.
    QTreeWidgetItem *attributes
        = tree.findItems(QStringLiteral("attributes"), Qt::MatchExactly).value(0);
    QVERIFY(attributes && attributes->isExpanded());
    QVERIFY(attributes->child(0)->isExpanded() || attributes->child(1)->isExpanded());

    RunEvent broken = sampleTimeline().at(0);
    broken.attributesJson = "{not json";
    tree.setEvent(broken);
    QVERIFY(tree.valueAt({QStringLiteral("attributes")}).contains(QLatin1String("not JSON")));
    tree.clearEvent();
    QCOMPARE(tree.topLevelItemCount(), 0);
}

void TestTimelineView::detailPaneFollowsSelectedEvent()
{
    RunDetailPane pane;
    pane.resize(1000, 600);
    pane.show();
    Run run;
    run.id = kRun;
    run.agent = "refund-agent";
    run.agentBound = false;
    run.principal = "user:ada@example.com";
    run.provider = "a2a";
    run.status = RunStatus::WaitingApproval;
    run.startedMs = kT0 / 1'000'000;
    run.costMicros = 12'300;
    run.externalIdsJson = R"({"a2a_task_id":"task-9","trace_id":"abc"})";
    pane.showRun(run);
    QCOMPARE(pane.timelineView()->placeholderText(), QStringLiteral("Loading the timeline…"));
    const QString summary = pane.summaryText();
    QVERIFY2(summary.contains(QLatin1String("refund-agent (not in the profile)"))
                 && summary.contains(QLatin1String("waiting approval"))
                 && summary.contains(QLatin1String("Principal: user:ada@example.com"))
                 && summary.contains(QLatin1String("Provider: a2a"))
                 && summary.contains(QLatin1String("Cost: $0.0123"))
                 && summary.contains(QLatin1String("a2a_task_id task-9")),
             qPrintable(summary));

    pane.timelineModel()->setEvents(kRun, sampleTimeline());
    pane.timelineView()->setCurrentIndex(pane.timelineModel()->index(2));
    QCOMPARE(pane.eventDetails()->valueAt({QStringLiteral("name")}), QStringLiteral("span tool"));
    // The span ends later: the pane shows the new end without a new selection.
    RunEvent later = sampleTimeline().at(2);
    later.endNs += 100'000'000;
    pane.timelineModel()->appendEvents({later});
    QCOMPARE(pane.eventDetails()->valueAt({QStringLiteral("duration")}), QStringLiteral("580 ms"));

    Run other = run;
    other.id = "run-2";
    pane.showRun(other);
    QCOMPARE(pane.timelineModel()->rowCount(), 0);
    QCOMPARE(pane.eventDetails()->topLevelItemCount(), 0);
    pane.timelineModel()->setEvents("run-2", {});
    QCOMPARE(pane.timelineView()->placeholderText(),
             QStringLiteral("No events recorded for this run yet."));
}

QTEST_MAIN(TestTimelineView)
#include "tst_timelineview.moc"
