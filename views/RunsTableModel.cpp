#include "views/RunsTableModel.h"

#include "views/RunFormat.h"

#include <QBrush>
#include <QDateTime>

#include <algorithm>

namespace Breaker {

namespace {

QString text(const QByteArray &bytes)
{
    return QString::fromUtf8(bytes);
}

bool isNumericColumn(int column)
{
    switch (column) {
    case RunsTableModel::DurationColumn:
    case RunsTableModel::TokensColumn:
    case RunsTableModel::CostColumn:
    case RunsTableModel::ToolCallsColumn:
    case RunsTableModel::PolicyBlocksColumn:
    case RunsTableModel::ApprovalsColumn:
        return true;
    default:
        return false;
    }
}

} // namespace

RunsTableModel::RunsTableModel(QObject *parent)
    : QAbstractTableModel(parent)
    , m_clock([] { return QDateTime::currentMSecsSinceEpoch(); })
{
    m_flushTimer.setObjectName(QStringLiteral("RunsTableModel flush"));
    m_tickTimer.setObjectName(QStringLiteral("RunsTableModel tick"));
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(kFlushDelayMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &RunsTableModel::flushPending);
    m_tickTimer.setInterval(kTickIntervalMs);
    connect(&m_tickTimer, &QTimer::timeout, this, &RunsTableModel::refreshRunningDurations);
    m_unboundFont.setItalic(true);
}

RunsTableModel::~RunsTableModel() = default;

void RunsTableModel::setRuns(const std::vector<Run> &runs)
{
    beginResetModel();
    m_rows.clear();
    m_rows.reserve(runs.size());
    m_rowById.clear();
    for (const Run &run : runs) {
        // A snapshot should not hold a run twice; if it does, the later entry wins.
        const auto it = m_rowById.constFind(run.id);
        if (it != m_rowById.cend()) {
            m_rows[size_t(*it)] = run;
            continue;
        }
        m_rowById.insert(run.id, int(m_rows.size()));
        m_rows.push_back(run);
    }
    endResetModel();
    updateTicking();
}

void RunsTableModel::updateRuns(const std::vector<Run> &runs)
{
    for (const Run &run : runs) {
        const auto it = m_pendingById.constFind(run.id);
        if (it != m_pendingById.cend()) {
            Run &queued = m_pending[size_t(*it)];
            if (run.updatedMs >= queued.updatedMs)
                queued = run;
            continue;
        }
        m_pendingById.insert(run.id, int(m_pending.size()));
        m_pending.push_back(run);
    }
    if (!m_pending.empty() && !m_flushTimer.isActive()) {
        const qint64 since = m_lastFlush.isValid() ? m_lastFlush.elapsed() : qint64(kFlushDelayMs);
        m_flushTimer.start(int(std::max<qint64>(0, kFlushDelayMs - since)));
    }
}

void RunsTableModel::flushPending()
{
    m_flushTimer.stop();
    if (m_pending.empty())
        return;
    m_lastFlush.start();
    std::vector<Run> pending;
    pending.swap(m_pending);
    m_pendingById.clear();

    std::vector<int> changedRows;
    std::vector<int> restartedRows;
    QList<QByteArray> changedIds;
    std::vector<Run> inserts;
    for (Run &run : pending) {
        const auto it = m_rowById.constFind(run.id);
        if (it == m_rowById.cend()) {
            inserts.push_back(std::move(run));
            continue;
        }
        Run &row = m_rows[size_t(*it)];
        if (run.updatedMs < row.updatedMs)
            continue; // stale: the table already shows something newer
        (run.startedMs != row.startedMs ? restartedRows : changedRows).push_back(*it);
        changedIds.append(run.id);
        row = std::move(run);
    }

    // The start time of a run seldom changes once it is shown, and the table is sorted by it by
    // default: a change that leaves it alone says so, so that a sorting proxy does not move the
    // row out and back in (QSortFilterProxyModel re-sorts only when the sort column is in the
    // changed range; at a busy fleet's ~150 changed rows per flush that re-sort was most of the
    // GUI thread's time: bench_liveview).
    emitRowRanges(changedRows, 0, StartedColumn - 1, {});
    emitRowRanges(std::move(changedRows), StartedColumn + 1, ColumnCount - 1, {});
    emitRowRanges(std::move(restartedRows), 0, ColumnCount - 1, {});

    if (!inserts.empty()) {
        const int first = int(m_rows.size());
        beginInsertRows(QModelIndex(), first, first + int(inserts.size()) - 1);
        for (Run &run : inserts) {
            m_rowById.insert(run.id, int(m_rows.size()));
            m_rows.push_back(std::move(run));
        }
        endInsertRows();
    }
    if (!changedIds.isEmpty())
        emit runsChanged(changedIds);
    updateTicking();
}

void RunsTableModel::emitRowRanges(std::vector<int> rows,
                                   int firstColumn,
                                   int lastColumn,
                                   const QList<int> &roles)
{
    if (rows.empty())
        return;
    std::sort(rows.begin(), rows.end());
    size_t start = 0;
    for (size_t i = 1; i <= rows.size(); ++i) {
        if (i < rows.size() && rows[i] <= rows[i - 1] + 1)
            continue;
        emit dataChanged(index(rows[start], firstColumn), index(rows[i - 1], lastColumn), roles);
        start = i;
    }
}

int RunsTableModel::rowOfRun(const QByteArray &runId) const
{
    return m_rowById.value(runId, -1);
}

const Run *RunsTableModel::runAt(int row) const
{
    if (row < 0 || size_t(row) >= m_rows.size())
        return nullptr;
    return &m_rows[size_t(row)];
}

const Run *RunsTableModel::runById(const QByteArray &runId) const
{
    return runAt(rowOfRun(runId));
}

void RunsTableModel::setUtc(bool utc)
{
    if (m_utc == utc)
        return;
    m_utc = utc;
    emit headerDataChanged(Qt::Horizontal, StartedColumn, StartedColumn);
    if (!m_rows.empty())
        emit dataChanged(index(0, StartedColumn),
                         index(rowCount() - 1, StartedColumn),
                         {Qt::DisplayRole, Qt::ToolTipRole});
}

void RunsTableModel::setClock(Clock nowMs)
{
    m_clock = std::move(nowMs);
}

qint64 RunsTableModel::nowMs() const
{
    return m_clock();
}

void RunsTableModel::refreshRunningDurations()
{
    std::vector<int> running;
    for (size_t row = 0; row < m_rows.size(); ++row) {
        if (!isTerminal(m_rows[row].status))
            running.push_back(int(row));
    }
    emitRowRanges(std::move(running),
                  DurationColumn,
                  DurationColumn,
                  {Qt::DisplayRole, Qt::ToolTipRole, SortRole});
    updateTicking();
}

void RunsTableModel::updateTicking()
{
    const bool anyRunning = std::any_of(
        m_rows.cbegin(), m_rows.cend(), [](const Run &run) { return !isTerminal(run.status); });
    if (anyRunning && !m_tickTimer.isActive())
        m_tickTimer.start();
    else if (!anyRunning)
        m_tickTimer.stop();
}

int RunsTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RunsTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

qint64 RunsTableModel::durationMs(const Run &run) const
{
    if (run.startedMs <= 0)
        return -1;
    qint64 end = run.endedMs;
    if (end <= 0)
        end = isTerminal(run.status) ? run.updatedMs : nowMs();
    return std::max<qint64>(0, end - run.startedMs);
}

QVariant RunsTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Run &run = m_rows[size_t(index.row())];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return displayData(run, column);
    case SortRole:
        return sortData(run, column);
    case Qt::ToolTipRole:
        return toolTipData(run, column);
    case Qt::TextAlignmentRole:
        return isNumericColumn(column) ? int(Qt::AlignRight | Qt::AlignVCenter)
                                       : int(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        if (column == StatusColumn) {
            const QColor color = RunFormat::statusColor(run.status);
            if (color.isValid())
                return QBrush(color);
        }
        return {};
    case Qt::DecorationRole:
        if (column == StatusColumn) {
            const QColor color = RunFormat::statusColor(run.status);
            if (color.isValid())
                return color;
        }
        return {};
    case Qt::FontRole:
        if (column == AgentColumn && !run.agentBound)
            return m_unboundFont;
        return {};
    case Qt::AccessibleTextRole:
        if (column == AgentColumn && !run.agentBound)
            return QString(text(run.agent) + tr(" (not in the profile)"));
        return displayData(run, column);
    case RunIdRole:
        return run.id;
    case StatusRole:
        return int(run.status);
    case AgentRole:
        return text(run.agent);
    case PrincipalRole:
        return text(run.principal);
    case TerminalRole:
        return isTerminal(run.status);
    default:
        return {};
    }
}

QVariant RunsTableModel::displayData(const Run &run, int column) const
{
    switch (column) {
    case AgentColumn:
        return text(run.agent);
    case PrincipalColumn:
        return text(run.principal);
    case StatusColumn:
        return RunFormat::statusLabel(run.status);
    case StartedColumn:
        return RunFormat::shortTime(run.startedMs, m_utc, nowMs());
    case DurationColumn:
        return RunFormat::duration(durationMs(run));
    case TokensColumn:
        return RunFormat::tokens(run.inputTokens, run.outputTokens);
    case CostColumn:
        return RunFormat::money(run.costMicros, run.currency);
    case ToolCallsColumn:
        return RunFormat::count(run.toolCalls);
    case PolicyBlocksColumn:
        return RunFormat::count(run.policyBlocks);
    case ApprovalsColumn:
        return RunFormat::count(run.approvalsPending);
    case ProviderColumn:
        return text(run.provider);
    case RunIdColumn:
        return text(run.id);
    default:
        return {};
    }
}

QVariant RunsTableModel::sortData(const Run &run, int column) const
{
    switch (column) {
    case AgentColumn:
        return text(run.agent);
    case PrincipalColumn:
        return text(run.principal);
    case StatusColumn:
        return RunFormat::statusLabel(run.status);
    case StartedColumn:
        return run.startedMs;
    case DurationColumn:
        return durationMs(run);
    case TokensColumn:
        return run.inputTokens + run.outputTokens;
    case CostColumn:
        return run.costMicros;
    case ToolCallsColumn:
        return qint64(run.toolCalls);
    case PolicyBlocksColumn:
        return qint64(run.policyBlocks);
    case ApprovalsColumn:
        return qint64(run.approvalsPending);
    case ProviderColumn:
        return text(run.provider);
    case RunIdColumn:
        return text(run.id);
    default:
        return {};
    }
}

QVariant RunsTableModel::toolTipData(const Run &run, int column) const
{
    switch (column) {
    case AgentColumn:
        if (!run.agentBound)
            return tr("%1 is not in the profile: control map all TBD").arg(text(run.agent));
        return text(run.agent);
    case StartedColumn:
        return tr("Started %1").arg(RunFormat::fullTime(run.startedMs, m_utc));
    case DurationColumn:
        if (run.endedMs > 0)
            return tr("Ended %1").arg(RunFormat::fullTime(run.endedMs, m_utc));
        return isTerminal(run.status)
                   ? tr("Last update %1").arg(RunFormat::fullTime(run.updatedMs, m_utc))
                   : tr("Still running");
    case TokensColumn:
        return tr("%1 input tokens, %2 output tokens")
            .arg(RunFormat::count(run.inputTokens), RunFormat::count(run.outputTokens));
    case CostColumn:
        return tr("%1 (%2 millionths of %3)")
            .arg(RunFormat::money(run.costMicros, run.currency),
                 RunFormat::count(run.costMicros),
                 QString::fromLatin1(run.currency.toUpper()));
    case RunIdColumn:
        return text(run.id);
    default:
        return {};
    }
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::TextAlignmentRole)
        return isNumericColumn(section) ? int(Qt::AlignRight | Qt::AlignVCenter)
                                        : int(Qt::AlignLeft | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    const bool tip = role == Qt::ToolTipRole;
    switch (section) {
    case AgentColumn:
        return tip ? tr("The agent that runs; italic when it is not in the profile") : tr("Agent");
    case PrincipalColumn:
        return tip ? tr("Who the run acts for") : tr("Principal");
    case StatusColumn:
        return tr("Status");
    case StartedColumn:
        if (tip)
            return m_utc ? tr("Start time, UTC") : tr("Start time, local time");
        return m_utc ? tr("Started (UTC)") : tr("Started");
    case DurationColumn:
        return tip ? tr("Run time; grows while the run is active") : tr("Duration");
    case TokensColumn:
        return tip ? tr("Model tokens: input / output") : tr("Tokens in/out");
    case CostColumn:
        return tip ? tr("Model and tool spend of the run") : tr("Cost");
    case ToolCallsColumn:
        return tr("Tool calls");
    case PolicyBlocksColumn:
        return tip ? tr("Tool calls or data reads blocked by policy") : tr("Blocks");
    case ApprovalsColumn:
        return tip ? tr("Approvals waiting for a person") : tr("Approvals");
    case ProviderColumn:
        return tip ? tr("Profile provider that reported the run") : tr("Provider");
    case RunIdColumn:
        return tip ? tr("Breaker's run id") : tr("Run id");
    default:
        return {};
    }
}

} // namespace Breaker
