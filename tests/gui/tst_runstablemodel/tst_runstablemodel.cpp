#include "views/RunFormat.h"
#include "views/RunsFilterProxy.h"
#include "views/RunsTableModel.h"

#include <QAbstractItemModelTester>
#include <QBrush>
#include <QDateTime>
#include <QFont>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>

#include <ctime>

using namespace Breaker;

namespace {

constexpr qint64 kNow = 1'741'010'602'000; // 2025-03-03T14:03:22Z

Run makeRun(const QByteArray &id,
            const QByteArray &agent,
            RunStatus status,
            qint64 startedMs = kNow - 60'000,
            qint64 costMicros = 0)
{
    Run run;
    run.id = id;
    run.agent = agent;
    run.agentBound = true;
    run.principal = "user:" + agent.left(4) + "@example.com";
    run.provider = "a2a";
    run.status = status;
    run.startedMs = startedMs;
    run.updatedMs = startedMs + 1'000;
    run.endedMs = isTerminal(status) ? startedMs + 30'000 : 0;
    run.costMicros = costMicros;
    return run;
}

std::vector<Run> manyRuns(int first, int count, RunStatus status = RunStatus::Completed)
{
    std::vector<Run> runs;
    for (int i = first; i < first + count; ++i)
        runs.push_back(makeRun("run-" + QByteArray::number(i),
                               "agent-" + QByteArray::number(i % 4),
                               status,
                               kNow - i * 1'000,
                               i * 1'000));
    return runs;
}

} // namespace

class TestRunsTableModel : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void modelCheckerThroughLoadInsertUpdateReset();
    void batchOfNewRunsIsOneInsert();
    void firstUpdateAfterQuietIsNotDelayed();
    void updatesChangeRowsWithoutInserting();
    void changedStartMovesTheRowInASortedView();
    void staleAndRepeatedUpdates();
    void pendingUpdatesSurviveReload();
    void sortingUsesRawValues_data();
    void sortingUsesRawValues();
    void dynamicSortKeepsNewestFirst();
    void filterByText_data();
    void filterByText();
    void filterByStatus();
    void moneyFormatting_data();
    void moneyFormatting();
    void durationFormatting_data();
    void durationFormatting();
    void runningDurationsTick();
    void statusColoursAndUnboundAgents();
    void utcToggle();

private:
    std::unique_ptr<RunsTableModel> m_model;
};

void TestRunsTableModel::initTestCase()
{
    // A zone five and a half hours east of UTC, so that local and UTC times differ.
    qputenv("TZ", "IST-5:30");
    tzset();
}

void TestRunsTableModel::init()
{
    m_model = std::make_unique<RunsTableModel>();
    m_model->setClock([] { return kNow; });
}

void TestRunsTableModel::modelCheckerThroughLoadInsertUpdateReset()
{
    RunsFilterProxy proxy;
    proxy.setSourceModel(m_model.get());
    proxy.sort(RunsTableModel::CostColumn, Qt::DescendingOrder);
    QAbstractItemModelTester sourceTester(m_model.get(),
                                          QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester proxyTester(&proxy,
                                         QAbstractItemModelTester::FailureReportingMode::Fatal);

    m_model->setRuns(manyRuns(0, 20));
    QCOMPARE(proxy.rowCount(), 20);

    auto batch = manyRuns(20, 15, RunStatus::Working);
    auto updates = manyRuns(3, 4);
    for (Run &run : updates) {
        run.costMicros += 50'000'000;
        run.updatedMs += 10'000;
    }
    batch.insert(batch.end(), updates.begin(), updates.end());
    m_model->updateRuns(batch);
    m_model->flushPending();
    QCOMPARE(m_model->rowCount(), 35);
    // The updated runs now cost the most, and the proxy re-sorted them to the top.
    QCOMPARE(proxy.index(0, 0).data(RunsTableModel::RunIdRole).toByteArray(), QByteArray("run-6"));

    proxy.setSearchText(QStringLiteral("agent-1"));
    QVERIFY(proxy.rowCount() > 0);
    m_model->updateRuns(manyRuns(35, 5));
    m_model->flushPending();
    proxy.setStatusFilter({RunStatus::Working});
    m_model->refreshRunningDurations();
    proxy.setSearchText({});
    proxy.setStatusFilter({});
    QCOMPARE(proxy.rowCount(), 40);

    m_model->setRuns(manyRuns(100, 7));
    QCOMPARE(proxy.rowCount(), 7);
    m_model->setRuns({});
    QCOMPARE(proxy.rowCount(), 0);
}

void TestRunsTableModel::batchOfNewRunsIsOneInsert()
{
    m_model->setRuns(manyRuns(0, 5));
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);

    // Three feed emissions inside one flush window...
    m_model->updateRuns(manyRuns(5, 20));
    m_model->updateRuns(manyRuns(25, 20));
    m_model->updateRuns(manyRuns(45, 10));
    // ...are not applied synchronously...
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(m_model->rowCount(), 5);
    QVERIFY(m_model->hasPendingUpdates());
    // ...and land as one insert of all fifty when the deferred flush runs.
    QTRY_COMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 5);
    QCOMPARE(inserted.at(0).at(2).toInt(), 54);
    QCOMPARE(m_model->rowCount(), 55);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(m_model->rowOfRun("run-54"), 54);
    QCOMPARE(m_model->index(54, RunsTableModel::RunIdColumn).data().toString(),
             QStringLiteral("run-54"));
}

// Leading-edge throttle: after a quiet spell an update is applied on the next turn of the event
// loop, not kFlushDelayMs later; the next one within kFlushDelayMs waits for the rest of it.
void TestRunsTableModel::firstUpdateAfterQuietIsNotDelayed()
{
    m_model->setRuns(manyRuns(0, 5));
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    // When each flush happened, taken in the flush itself: a busy machine may run this thread
    // late at any point, which can only make the gap between the flushes longer, never shorter.
    QElapsedTimer clock;
    clock.start();
    std::vector<qint64> flushedAtMs;
    connect(m_model.get(), &QAbstractItemModel::rowsInserted, this,
            [&] { flushedAtMs.push_back(clock.elapsed()); });
    m_model->updateRuns(manyRuns(5, 1));
    QCOMPARE(inserted.count(), 0); // still not synchronous
    for (int i = 0; i < 20 && inserted.count() == 0; ++i)
        QCoreApplication::processEvents();
    QCOMPARE(inserted.count(), 1);

    m_model->updateRuns(manyRuns(6, 1));
    QTRY_COMPARE(inserted.count(), 2);
    // Throttled: at most ~10 flushes a second (a coarse timer may fire up to 5% early).
    QCOMPARE(flushedAtMs.size(), size_t(2));
    QVERIFY2(flushedAtMs[1] - flushedAtMs[0] >= RunsTableModel::kFlushDelayMs * 9 / 10,
             qPrintable(QStringLiteral("second flush %1 ms after the first").arg(flushedAtMs[1] - flushedAtMs[0])));
    QCOMPARE(m_model->rowCount(), 7);
}

void TestRunsTableModel::updatesChangeRowsWithoutInserting()
{
    m_model->setRuns(manyRuns(0, 10));
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    QSignalSpy runsChanged(m_model.get(), &RunsTableModel::runsChanged);

    std::vector<Run> updates;
    for (int row : {2, 3, 4, 7}) {
        Run run = *m_model->runAt(row);
        run.status = RunStatus::Failed;
        run.toolCalls = 9;
        run.updatedMs += 5'000;
        updates.push_back(run);
    }
    m_model->updateRuns(updates);
    QTRY_COMPARE(runsChanged.count(), 1);
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(m_model->rowCount(), 10);
    // One dataChanged per contiguous range of rows (2..4 and 7), for the columns before the
    // start time and for those after it: the start did not change, so a sorted view keeps the
    // rows where they are.
    QCOMPARE(changed.count(), 4);
    auto range = [&](int i) {
        const QModelIndex tl = changed.at(i).at(0).value<QModelIndex>();
        const QModelIndex br = changed.at(i).at(1).value<QModelIndex>();
        return QList<int>{tl.row(), br.row(), tl.column(), br.column()};
    };
    const int last = RunsTableModel::ColumnCount - 1;
    const int started = RunsTableModel::StartedColumn;
    QCOMPARE(range(0), (QList<int>{2, 4, 0, started - 1}));
    QCOMPARE(range(1), (QList<int>{7, 7, 0, started - 1}));
    QCOMPARE(range(2), (QList<int>{2, 4, started + 1, last}));
    QCOMPARE(range(3), (QList<int>{7, 7, started + 1, last}));
    QCOMPARE(m_model->index(3, RunsTableModel::StatusColumn).data().toString(),
             QStringLiteral("failed"));
    QCOMPARE(m_model->index(7, RunsTableModel::ToolCallsColumn).data().toString(),
             QStringLiteral("9"));
    QCOMPARE(runsChanged.at(0).at(0).value<QList<QByteArray>>().size(), 4);
}

void TestRunsTableModel::changedStartMovesTheRowInASortedView()
{
    m_model->setRuns(manyRuns(0, 5));
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(m_model.get());
    proxy.setSortRole(RunsTableModel::SortRole);
    proxy.setDynamicSortFilter(true);
    proxy.sort(RunsTableModel::StartedColumn, Qt::DescendingOrder);
    auto order = [&] {
        QList<QByteArray> ids;
        for (int r = 0; r < proxy.rowCount(); ++r)
            ids << proxy.index(r, 0).data(RunsTableModel::RunIdRole).toByteArray();
        return ids;
    };
    const QList<QByteArray> before = order();
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);

    // Tokens change, the start does not: the order stays.
    Run busy = *m_model->runById(before.last());
    busy.inputTokens += 100;
    busy.updatedMs += 1'000;
    m_model->updateRuns({busy});
    QTRY_VERIFY(!changed.isEmpty());
    QCOMPARE(order(), before);
    for (const auto &signal : changed) {
        const int from = signal.at(0).value<QModelIndex>().column();
        const int to = signal.at(1).value<QModelIndex>().column();
        QVERIFY(!(from <= RunsTableModel::StartedColumn && RunsTableModel::StartedColumn <= to));
    }

    // An earlier child moved the start later than every other run: the row moves to the top.
    changed.clear();
    Run moved = *m_model->runById(before.last());
    moved.startedMs = m_model->runById(before.first())->startedMs + 60'000;
    moved.updatedMs += 2'000;
    m_model->updateRuns({moved});
    QTRY_VERIFY(!changed.isEmpty());
    QCOMPARE(order().first(), before.last());
    QCOMPARE(proxy.rowCount(), 5);
}

void TestRunsTableModel::staleAndRepeatedUpdates()
{
    m_model->setRuns({makeRun("r1", "refund-agent", RunStatus::Working)});
    Run newer = *m_model->runAt(0);
    newer.updatedMs += 2'000;
    newer.toolCalls = 2;
    Run newest = newer;
    newest.updatedMs += 2'000;
    newest.toolCalls = 3;
    // Two updates of one run in a window collapse to the newest, whatever their order.
    m_model->updateRuns({newest});
    m_model->updateRuns({newer});
    m_model->flushPending();
    QCOMPARE(m_model->runAt(0)->toolCalls, 3);

    // An update older than the row never rolls it back.
    Run stale = newer;
    stale.toolCalls = 1;
    m_model->updateRuns({stale});
    m_model->flushPending();
    QCOMPARE(m_model->runAt(0)->toolCalls, 3);
}

void TestRunsTableModel::pendingUpdatesSurviveReload()
{
    Run live = makeRun("late", "claims-agent", RunStatus::Working);
    live.updatedMs = kNow;
    m_model->updateRuns({live});
    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);
    m_model->setRuns(manyRuns(0, 3));
    QCOMPARE(reset.count(), 1);
    QCOMPARE(m_model->rowCount(), 3);
    QTRY_COMPARE(m_model->rowCount(), 4);
    QCOMPARE(m_model->runAt(3)->id, QByteArray("late"));
}

void TestRunsTableModel::sortingUsesRawValues_data()
{
    QTest::addColumn<int>("column");
    QTest::addColumn<QByteArrayList>("ascending");
    // Costs whose text sorts differently from their value: as text "$1,234.00" < "$10.00".
    QTest::newRow("cost") << int(RunsTableModel::CostColumn)
                          << QByteArrayList{"cheap", "nine", "ten", "thousand"};
    // Start times whose short text would sort wrongly ("Mar 2, ..." vs "09:00:00").
    QTest::newRow("started") << int(RunsTableModel::StartedColumn)
                             << QByteArrayList{"thousand", "ten", "nine", "cheap"};
    QTest::newRow("duration") << int(RunsTableModel::DurationColumn)
                              << QByteArrayList{"nine", "cheap", "ten", "thousand"};
}

void TestRunsTableModel::sortingUsesRawValues()
{
    QFETCH(int, column);
    QFETCH(QByteArrayList, ascending);
    auto run = [](const QByteArray &id, qint64 cost, qint64 started, qint64 durationMs) {
        Run r = makeRun(id, "agent", RunStatus::Completed, started, cost);
        r.endedMs = started + durationMs;
        return r;
    };
    m_model->setRuns({
        run("ten", 10'000'000, kNow - 3'600'000, 65'000),                   // $10.00, 1 h ago
        run("nine", 9'000'000, kNow - 60'000, 900),                         // $9.00, 1 min ago
        run("thousand", 1'234'000'000, kNow - 5 * 86'400'000LL, 7'200'000), // $1,234.00
        run("cheap", 950'000, kNow - 1'000, 9'000),                         // $0.95
    });
    RunsFilterProxy proxy;
    proxy.setSourceModel(m_model.get());
    proxy.sort(column, Qt::AscendingOrder);
    QByteArrayList ids;
    for (int row = 0; row < proxy.rowCount(); ++row)
        ids << proxy.index(row, 0).data(RunsTableModel::RunIdRole).toByteArray();
    QCOMPARE(ids, ascending);
}

void TestRunsTableModel::dynamicSortKeepsNewestFirst()
{
    m_model->setRuns(manyRuns(0, 5)); // run-0 newest
    RunsFilterProxy proxy;
    proxy.setSourceModel(m_model.get());
    proxy.sort(RunsTableModel::StartedColumn, Qt::DescendingOrder);
    Run fresh = makeRun("fresh", "email-agent", RunStatus::Submitted, kNow + 1'000);
    m_model->updateRuns({fresh});
    m_model->flushPending();
    QCOMPARE(proxy.index(0, 0).data(RunsTableModel::RunIdRole).toByteArray(), QByteArray("fresh"));
}

void TestRunsTableModel::filterByText_data()
{
    QTest::addColumn<QString>("search");
    QTest::addColumn<QByteArrayList>("expected");
    QTest::newRow("empty") << QString() << QByteArrayList{"a", "b", "c", "d"};
    QTest::newRow("agent") << QStringLiteral("claims") << QByteArrayList{"b", "d"};
    QTest::newRow("agent, any case") << QStringLiteral("CLAIMS") << QByteArrayList{"b", "d"};
    QTest::newRow("principal") << QStringLiteral("ada@") << QByteArrayList{"a"};
    QTest::newRow("run id") << QStringLiteral("7f3a0c") << QByteArrayList{"c"};
    QTest::newRow("status wire name") << QStringLiteral("waiting_approval") << QByteArrayList{"a"};
    QTest::newRow("status words") << QStringLiteral("waiting approval") << QByteArrayList{"a"};
    QTest::newRow("two words, all must match")
        << QStringLiteral("claims failed") << QByteArrayList{"d"};
    QTest::newRow("nothing") << QStringLiteral("zzz") << QByteArrayList{};
}

void TestRunsTableModel::filterByText()
{
    QFETCH(QString, search);
    QFETCH(QByteArrayList, expected);
    auto run = [](const char *id,
                  const char *runId,
                  const char *agent,
                  const char *principal,
                  RunStatus status) {
        Run r = makeRun(id, agent, status);
        r.principal = principal;
        r.id = runId;
        return r;
    };
    m_model->setRuns({
        run("a", "run-7f3a0a", "refund-agent", "user:ada@example.com", RunStatus::WaitingApproval),
        run("b", "run-7f3a0b", "claims-agent", "user:grace@example.com", RunStatus::Working),
        run("c", "run-7f3a0c", "email-agent", "user:linus@example.com", RunStatus::Completed),
        run("d", "run-7f3a0d", "claims-agent", "user:edsger@example.com", RunStatus::Failed),
    });
    RunsFilterProxy proxy;
    proxy.setSourceModel(m_model.get());
    proxy.sort(RunsTableModel::RunIdColumn, Qt::AscendingOrder);
    proxy.setSearchText(search);
    QByteArrayList ids;
    for (int row = 0; row < proxy.rowCount(); ++row) {
        const QByteArray runId = proxy.index(row, 0).data(RunsTableModel::RunIdRole).toByteArray();
        ids << QByteArray(1, runId.back()); // "run-7f3a0a" -> "a"
    }
    QCOMPARE(ids, expected);
}

void TestRunsTableModel::filterByStatus()
{
    m_model->setRuns({
        makeRun("w", "a", RunStatus::Working),
        makeRun("q", "a", RunStatus::WaitingApproval),
        makeRun("f", "a", RunStatus::Failed),
        makeRun("r", "a", RunStatus::Rejected),
        makeRun("c", "a", RunStatus::Completed),
        makeRun("s", "b", RunStatus::Stopped),
    });
    RunsFilterProxy proxy;
    proxy.setSourceModel(m_model.get());
    proxy.sort(RunsTableModel::RunIdColumn, Qt::AscendingOrder);
    const auto ids = [&proxy] {
        QByteArrayList out;
        for (int row = 0; row < proxy.rowCount(); ++row)
            out << proxy.index(row, 0).data(RunsTableModel::RunIdRole).toByteArray();
        return out;
    };
    proxy.setStatusFilter({RunStatus::Failed, RunStatus::Rejected});
    QCOMPARE(ids(), (QByteArrayList{"f", "r"}));
    const auto choices = RunsFilterProxy::statusChoices();
    const auto active = std::find_if(choices.begin(), choices.end(), [](const auto &c) {
        return c.label == QLatin1String("Active");
    });
    QVERIFY(active != choices.end());
    proxy.setStatusFilter(active->statuses);
    QCOMPARE(ids(), (QByteArrayList{"q", "w"}));
    // Text and status together.
    proxy.setStatusFilter({});
    proxy.setSearchText(QStringLiteral("b"));
    QCOMPARE(ids(), (QByteArrayList{"s"}));
    // A live status change moves a run in or out of the filtered view.
    proxy.setSearchText({});
    proxy.setStatusFilter({RunStatus::Failed});
    Run working = *m_model->runById("w");
    working.status = RunStatus::Failed;
    working.updatedMs += 1;
    m_model->updateRuns({working});
    m_model->flushPending();
    QCOMPARE(ids(), (QByteArrayList{"f", "w"}));
}

void TestRunsTableModel::moneyFormatting_data()
{
    QTest::addColumn<qint64>("micros");
    QTest::addColumn<QByteArray>("currency");
    QTest::addColumn<QString>("expected");
    QTest::newRow("zero") << qint64(0) << QByteArray("usd") << QStringLiteral("$0.00");
    QTest::newRow("one micro") << qint64(1) << QByteArray("usd") << QStringLiteral("$0.000001");
    QTest::newRow("sub hundredth-cent")
        << qint64(42) << QByteArray("usd") << QStringLiteral("$0.000042");
    QTest::newRow("hundredth of a cent")
        << qint64(100) << QByteArray("usd") << QStringLiteral("$0.0001");
    QTest::newRow("model call") << qint64(12'300) << QByteArray("usd") << QStringLiteral("$0.0123");
    QTest::newRow("rounds half up")
        << qint64(12'350) << QByteArray("usd") << QStringLiteral("$0.0124");
    QTest::newRow("just under a dollar")
        << qint64(999'949) << QByteArray("usd") << QStringLiteral("$0.9999");
    QTest::newRow("rounds to a dollar")
        << qint64(999'950) << QByteArray("usd") << QStringLiteral("$1.00");
    QTest::newRow("dollars") << qint64(12'345'678) << QByteArray("usd") << QStringLiteral("$12.35");
    QTest::newRow("thousands") << qint64(1'234'567'890) << QByteArray("usd")
                               << QStringLiteral("$1,234.57");
    QTest::newRow("millions") << qint64(2'000'000'000'000) << QByteArray("usd")
                              << QStringLiteral("$2,000,000.00");
    QTest::newRow("refund") << qint64(-5'000'000) << QByteArray("usd") << QStringLiteral("-$5.00");
    QTest::newRow("upper-case code")
        << qint64(2'500'000) << QByteArray("USD") << QStringLiteral("$2.50");
    QTest::newRow("euro") << qint64(2'500'000) << QByteArray("eur") << QStringLiteral("€2.50");
    QTest::newRow("other") << qint64(2'500'000) << QByteArray("chf") << QStringLiteral("2.50 CHF");
}

void TestRunsTableModel::moneyFormatting()
{
    QFETCH(qint64, micros);
    QFETCH(QByteArray, currency);
    QFETCH(QString, expected);
    QCOMPARE(RunFormat::money(micros, currency), expected);
    // And the table shows the same text in the cost column.
    Run run = makeRun("m", "agent", RunStatus::Completed, kNow - 1'000, micros);
    run.currency = currency;
    m_model->setRuns({run});
    QCOMPARE(m_model->index(0, RunsTableModel::CostColumn).data().toString(), expected);
    QCOMPARE(
        m_model->index(0, RunsTableModel::CostColumn).data(RunsTableModel::SortRole).toLongLong(),
        micros);
}

void TestRunsTableModel::durationFormatting_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown") << qint64(-1) << QStringLiteral("—");
    QTest::newRow("0") << qint64(0) << QStringLiteral("0 ms");
    QTest::newRow("ms") << qint64(350) << QStringLiteral("350 ms");
    QTest::newRow("seconds, one decimal") << qint64(4'270) << QStringLiteral("4.2 s");
    QTest::newRow("seconds") << qint64(42'900) << QStringLiteral("42 s");
    QTest::newRow("minutes") << qint64(187'000) << QStringLiteral("3m 07s");
    QTest::newRow("hours") << qint64(7'500'000) << QStringLiteral("2h 05m");
    QTest::newRow("days") << qint64(3 * 86'400'000LL + 4 * 3'600'000LL) << QStringLiteral("3d 04h");
}

void TestRunsTableModel::durationFormatting()
{
    QFETCH(qint64, ms);
    QFETCH(QString, expected);
    QCOMPARE(RunFormat::duration(ms), expected);
}

void TestRunsTableModel::runningDurationsTick()
{
    qint64 now = kNow;
    m_model->setClock([&now] { return now; });
    Run running = makeRun("running", "claims-agent", RunStatus::Working, kNow - 5'000);
    Run done = makeRun("done", "email-agent", RunStatus::Completed, kNow - 100'000);
    done.endedMs = done.startedMs + 42'000;
    Run waiting = makeRun("waiting", "refund-agent", RunStatus::WaitingApproval, kNow - 61'000);
    m_model->setRuns({running, done, waiting});
    const QModelIndex runningDuration = m_model->index(0, RunsTableModel::DurationColumn);
    QCOMPARE(runningDuration.data().toString(), QStringLiteral("5.0 s"));
    QCOMPARE(m_model->index(1, RunsTableModel::DurationColumn).data().toString(),
             QStringLiteral("42 s"));

    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    now += 60'000;
    m_model->refreshRunningDurations();
    QCOMPARE(runningDuration.data().toString(), QStringLiteral("1m 05s"));
    QCOMPARE(m_model->index(1, RunsTableModel::DurationColumn).data().toString(),
             QStringLiteral("42 s"));
    // Only the duration cells of the two non-terminal rows were announced.
    QCOMPARE(changed.count(), 2);
    for (const auto &args : changed) {
        const auto tl = args.at(0).value<QModelIndex>();
        const auto br = args.at(1).value<QModelIndex>();
        QCOMPARE(tl.column(), int(RunsTableModel::DurationColumn));
        QCOMPARE(br.column(), int(RunsTableModel::DurationColumn));
        QVERIFY(tl.row() != 1 && br.row() != 1);
    }

    // The 1 s timer drives the same refresh while anything runs.
    changed.clear();
    QTRY_VERIFY_WITH_TIMEOUT(changed.count() > 0, 10'000);
    // When nothing runs any more, the table stops ticking.
    Run finished = running;
    finished.status = RunStatus::Completed;
    finished.endedMs = now;
    finished.updatedMs = now;
    Run decided = waiting;
    decided.status = RunStatus::Rejected;
    decided.endedMs = now;
    decided.updatedMs = now;
    m_model->updateRuns({finished, decided});
    m_model->flushPending();
    changed.clear();
    m_model->refreshRunningDurations();
    QCOMPARE(changed.count(), 0);
}

void TestRunsTableModel::statusColoursAndUnboundAgents()
{
    Run unbound = makeRun("u", "pricing-bot", RunStatus::Stopped);
    unbound.agentBound = false;
    m_model->setRuns({
        makeRun("q", "refund-agent", RunStatus::WaitingApproval),
        makeRun("f", "usage-analyst", RunStatus::Failed),
        makeRun("w", "claims-agent", RunStatus::Working),
        unbound,
        makeRun("c", "email-agent", RunStatus::Completed),
    });
    const auto fg = [this](int row) {
        return m_model->index(row, RunsTableModel::StatusColumn)
            .data(Qt::ForegroundRole)
            .value<QBrush>()
            .color();
    };
    const auto hue = [](const QColor &c) { return c.hsvHue(); };
    QVERIFY(hue(fg(0)) >= 30 && hue(fg(0)) <= 50);   // amber
    QVERIFY(hue(fg(1)) <= 10 || hue(fg(1)) >= 350);  // red
    QVERIFY(hue(fg(2)) >= 195 && hue(fg(2)) <= 225); // blue
    QCOMPARE(fg(3).hsvSaturation(), 0);              // grey
    QCOMPARE(
        m_model->index(0, RunsTableModel::StatusColumn).data(Qt::DecorationRole).value<QColor>(),
        fg(0));
    QCOMPARE(m_model->index(0, RunsTableModel::StatusColumn).data().toString(),
             QStringLiteral("waiting approval"));

    const QModelIndex agent = m_model->index(3, RunsTableModel::AgentColumn);
    QVERIFY(agent.data(Qt::FontRole).value<QFont>().italic());
    QVERIFY(agent.data(Qt::ToolTipRole)
                .toString()
                .contains(QLatin1String("not in the profile: control map all TBD")));
    QVERIFY(!m_model->index(0, RunsTableModel::AgentColumn).data(Qt::FontRole).isValid());
}

void TestRunsTableModel::utcToggle()
{
    const qint64 started = kNow - 3'600'000; // 13:03:22Z
    m_model->setRuns({makeRun("r", "agent", RunStatus::Completed, started)});
    const QModelIndex cell = m_model->index(0, RunsTableModel::StartedColumn);
    QSignalSpy header(m_model.get(), &QAbstractItemModel::headerDataChanged);
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    m_model->setUtc(true);
    QCOMPARE(header.count(), 1);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(cell.data().toString(), QStringLiteral("13:03:22"));
    QCOMPARE(m_model->headerData(RunsTableModel::StartedColumn, Qt::Horizontal).toString(),
             QStringLiteral("Started (UTC)"));
    QVERIFY(cell.data(Qt::ToolTipRole).toString().endsWith(QLatin1String("13:03:22.000 UTC")));
    m_model->setUtc(false);
    QCOMPARE(cell.data().toString(), QStringLiteral("18:33:22"));
    QCOMPARE(m_model->headerData(RunsTableModel::StartedColumn, Qt::Horizontal).toString(),
             QStringLiteral("Started"));
}

QTEST_MAIN(TestRunsTableModel)
#include "tst_runstablemodel.moc"
