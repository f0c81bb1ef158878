#include "views/TimelineModel.h"

#include <QAbstractItemModelTester>
#include <QSet>
#include <QSignalSpy>
#include <QTest>

using namespace Breaker;

namespace {

constexpr qint64 kT0 = 1'741'010'602'000'000'000; // Unix ns
const QByteArray kRun = "run-1";

RunEvent span(const QByteArray &spanId,
              const QByteArray &parent,
              qint64 startMs,
              qint64 endMs,
              EventKind kind = EventKind::Span,
              const QByteArray &runId = kRun)
{
    RunEvent e;
    e.runId = runId;
    e.traceId = QByteArray(32, 'a');
    e.spanId = spanId;
    e.parentSpanId = parent;
    e.kind = kind;
    e.name = "span " + spanId;
    e.startNs = kT0 + startMs * 1'000'000;
    e.endNs = endMs < 0 ? 0 : kT0 + endMs * 1'000'000;
    return e;
}

// "id:depth" per row, in display order.
QByteArrayList layout(const TimelineModel &model)
{
    QByteArrayList out;
    for (int row = 0; row < model.rowCount(); ++row) {
        out << model.index(row).data(TimelineModel::SpanIdRole).toByteArray() + ':'
                   + QByteArray::number(model.depthAt(row));
    }
    return out;
}

} // namespace

class TestTimelineModel : public QObject
{
    Q_OBJECT
private slots:
    void depthAndOrderFromParentLinks();
    void siblingsByStartThenLongestFirst();
    void loadIgnoresOtherRunsAndClearsOnRunChange();
    void liveAppendIsOneInsert();
    void childBeforeParentMovesUnderIt();
    void repeatedSpanReplacesRow();
    void loadKeepsLiveEventsMissingFromSnapshot();
    void parentLoopDoesNotHang();
    void axisSpansAllEvents();
    void kindsHaveDistinctColours();
    void rolesCarryTheEvent();
};

void TestTimelineModel::depthAndOrderFromParentLinks()
{
    TimelineModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setRunId(kRun);
    // Delivered out of order, as exporters do.
    model.setEvents(kRun,
                    {
                        span("c", "b", 30, 40),
                        span("d", "a", 50, 90),
                        span("a", {}, 0, 100, EventKind::AgentInvocation),
                        span("e", "zz", 60, 70), // parent never seen: a root
                        span("b", "a", 10, 45),
                    });
    QVERIFY(model.isLoaded());
    QCOMPARE(layout(model), (QByteArrayList{"a:0", "b:1", "c:2", "d:1", "e:0"}));
}

void TestTimelineModel::siblingsByStartThenLongestFirst()
{
    TimelineModel model;
    model.setRunId(kRun);
    model.setEvents(kRun,
                    {
                        span("root", {}, 0, 100),
                        span("late", "root", 50, 60),
                        span("short", "root", 10, 20),
                        span("long", "root", 10, 90),
                    });
    QCOMPARE(layout(model), (QByteArrayList{"root:0", "long:1", "short:1", "late:1"}));
}

void TestTimelineModel::loadIgnoresOtherRunsAndClearsOnRunChange()
{
    TimelineModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setRunId(kRun);
    model.setEvents("run-2", {span("x", {}, 0, 1, EventKind::Span, "run-2")});
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(!model.isLoaded());
    model.setEvents(kRun, {span("a", {}, 0, 1)});
    QCOMPARE(model.rowCount(), 1);
    model.appendEvents({span("y", {}, 2, 3, EventKind::Span, "run-2")});
    QCOMPARE(model.rowCount(), 1);

    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.setRunId("run-2");
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(!model.isLoaded());
    model.setRunId("run-2"); // same run: nothing to do
    QCOMPARE(reset.count(), 1);
}

void TestTimelineModel::liveAppendIsOneInsert()
{
    TimelineModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setRunId(kRun);
    model.setEvents(kRun,
                    {span("a", {}, 0, -1, EventKind::AgentInvocation),
                     span("b", "a", 10, 20, EventKind::ModelCall)});
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.appendEvents({
        span("c", "a", 30, 40, EventKind::ToolCall),
        span("d", "c", 32, 38, EventKind::DataAccess),
        span("e", "a", 25, 28, EventKind::ModelCall), // starts before c: goes between b and c
        span("f", "a", 50, -1, EventKind::ModelCall),
    });
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 2);
    QCOMPARE(inserted.at(0).at(2).toInt(), 5);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(layout(model), (QByteArrayList{"a:0", "b:1", "e:1", "c:1", "d:2", "f:1"}));
}

void TestTimelineModel::childBeforeParentMovesUnderIt()
{
    TimelineModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setRunId(kRun);
    model.setEvents(kRun, {span("root", {}, 0, 100), span("x", "root", 5, 6)});
    model.appendEvents({span("child", "parent", 40, 45)}); // parent not here yet
    QCOMPARE(layout(model), (QByteArrayList{"root:0", "x:1", "child:0"}));
    const QPersistentModelIndex child = model.index(2);

    QSignalSpy layoutChanged(&model, &QAbstractItemModel::layoutChanged);
    model.appendEvents({span("parent", "root", 30, 50)});
    QCOMPARE(layout(model), (QByteArrayList{"root:0", "x:1", "parent:1", "child:2"}));
    QCOMPARE(layoutChanged.count(), 1);
    // A selection on the child follows it to its new row.
    QVERIFY(child.isValid());
    QCOMPARE(child.row(), 3);
    QCOMPARE(child.data(TimelineModel::SpanIdRole).toByteArray(), QByteArray("child"));
}

void TestTimelineModel::repeatedSpanReplacesRow()
{
    TimelineModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setRunId(kRun);
    model.setEvents(kRun, {span("a", {}, 0, -1), span("b", "a", 5, -1)});
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    RunEvent ended = span("b", "a", 5, 9);
    ended.statusCode = 2;
    model.appendEvents({ended});
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(model.rowCount(), 2);
    QVERIFY(changed.count() >= 1);
    QCOMPARE(model.index(1).data(TimelineModel::EndNsRole).toLongLong(), kT0 + 9'000'000);
    QCOMPARE(model.index(1).data(TimelineModel::StatusCodeRole).toInt(), 2);

    // Twice in one batch: one row, the later copy.
    RunEvent first = span("c", "a", 10, -1);
    RunEvent second = span("c", "a", 10, 12);
    model.appendEvents({first, second});
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(2).data(TimelineModel::EndNsRole).toLongLong(), kT0 + 12'000'000);
}

void TestTimelineModel::loadKeepsLiveEventsMissingFromSnapshot()
{
    TimelineModel model;
    model.setRunId(kRun);
    model.appendEvents({span("live", "a", 80, 90)}); // arrived while loading
    model.setEvents(kRun, {span("a", {}, 0, 100), span("b", "a", 10, 20)});
    QCOMPARE(layout(model), (QByteArrayList{"a:0", "b:1", "live:1"}));
}

void TestTimelineModel::parentLoopDoesNotHang()
{
    TimelineModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setRunId(kRun);
    model.setEvents(kRun, {span("p", "q", 0, 10), span("q", "p", 1, 5), span("s", "s", 2, 3)});
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(layout(model), (QByteArrayList{"s:0", "p:0", "q:1"}));
}

void TestTimelineModel::axisSpansAllEvents()
{
    TimelineModel model;
    model.setRunId(kRun);
    QSignalSpy axis(&model, &TimelineModel::axisChanged);
    model.setEvents(kRun, {span("a", {}, 100, 200), span("b", "a", 150, -1)});
    QCOMPARE(model.axisStartNs(), kT0 + 100'000'000);
    QCOMPARE(model.axisEndNs(), kT0 + 200'000'000);
    model.appendEvents({span("c", "a", 50, 400)});
    QCOMPARE(model.axisStartNs(), kT0 + 50'000'000);
    QCOMPARE(model.axisEndNs(), kT0 + 400'000'000);
    QCOMPARE(axis.count(), 2);
}

void TestTimelineModel::kindsHaveDistinctColours()
{
    const auto kinds = TimelineModel::legendKinds();
    QCOMPARE(kinds.size(), size_t(12)); // every EventKind has a legend entry
    QSet<QRgb> colours;
    QSet<QString> labels;
    for (const EventKind kind : kinds) {
        colours.insert(TimelineModel::kindColor(kind).rgb());
        labels.insert(TimelineModel::kindLabel(kind));
    }
    QCOMPARE(colours.size(), 12);
    QCOMPARE(labels.size(), 12);
    const QColor error = TimelineModel::kindColor(EventKind::Error);
    QVERIFY(error.hsvHue() <= 10 || error.hsvHue() >= 350);
    QCOMPARE(TimelineModel::kindLabel(EventKind::ModelCall), QStringLiteral("model call"));

    TimelineModel model;
    model.setRunId(kRun);
    model.setEvents(
        kRun,
        {span("t", {}, 0, 1, EventKind::ToolCall), span("p", {}, 2, 2, EventKind::PolicyBlock)});
    QCOMPARE(model.index(0).data(Qt::DecorationRole).value<QColor>(),
             TimelineModel::kindColor(EventKind::ToolCall));
    QCOMPARE(model.index(1).data(TimelineModel::KindColorRole).value<QColor>(),
             TimelineModel::kindColor(EventKind::PolicyBlock));
}

void TestTimelineModel::rolesCarryTheEvent()
{
    TimelineModel model;
    model.setRunId(kRun);
    RunEvent e = span("a", {}, 0, 3, EventKind::ModelCall);
    e.attributesJson = R"({"gen_ai.request.model":"gpt-4o"})";
    e.statusCode = 2;
    model.setEvents(kRun, {e});
    const QModelIndex idx = model.index(0);
    const RunEvent back = idx.data(TimelineModel::EventRole).value<RunEvent>();
    QCOMPARE(back.spanId, e.spanId);
    QCOMPARE(back.attributesJson, e.attributesJson);
    QCOMPARE(idx.data().toString(), QStringLiteral("span a"));
    const QString tip = idx.data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QLatin1String("model call")) && tip.contains(QLatin1String("3.0 ms"))
                 && tip.contains(QLatin1String("error")),
             qPrintable(tip));
    QCOMPARE(model.events().size(), size_t(1));
}

QTEST_MAIN(TestTimelineModel)
#include "tst_timelinemodel.moc"
