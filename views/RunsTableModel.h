#pragma once

#include "models/RunTypes.h"

#include <QAbstractTableModel>
#include <QByteArray>
#include <QElapsedTimer>
#include <QFont>
#include <QHash>
#include <QList>
#include <QTimer>

#include <functional>
#include <vector>

namespace Breaker {

// The runs table: one row per run, newest page first loaded by runsLoaded, then kept live by
// runsUpdated. Rows are plain Run values in a vector plus an id→row hash (Wireshark's
// packet_list_model layout). Live updates go to a pending buffer; one deferred flush applies
// them: changed rows as one dataChanged per contiguous range, new rows appended with one
// beginInsertRows for the whole batch. The flush is leading-edge: after a quiet spell it runs on
// the next turn of the event loop, later ones no sooner than kFlushDelayMs after the previous
// flush (at most ~10 a second, DESIGN.md section 3). The feed throttles the same way, so a new
// run is not delayed twice. Sorting and filtering live in
// RunsFilterProxy; this model keeps arrival order.
//
// Only the newest page is loaded (RunFeed::loadRecentRuns); backfill with canFetchMore/
// fetchMore needs a paging call on RunFeed and is not there yet.
class RunsTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column : int {
        AgentColumn,
        PrincipalColumn,
        StatusColumn,
        StartedColumn,
        DurationColumn,
        TokensColumn,
        CostColumn,
        ToolCallsColumn,
        PolicyBlocksColumn,
        ApprovalsColumn,
        ProviderColumn, // hidden by default
        RunIdColumn,    // hidden by default
        ColumnCount
    };
    enum Role : int {
        SortRole = Qt::UserRole + 1, // raw values: numbers, Unix ms, lower-case text
        RunIdRole,                   // QByteArray
        StatusRole,                  // int(RunStatus)
        AgentRole,                   // QString
        PrincipalRole,               // QString
        TerminalRole,                // bool
    };
    static constexpr int kFlushDelayMs = 100;
    static constexpr int kTickIntervalMs = 1000;
    using Clock = std::function<qint64()>; // Unix ms

    explicit RunsTableModel(QObject *parent = nullptr);
    ~RunsTableModel() override;

    // Replaces every row (a model reset). Pending updates newer than the snapshot survive it.
    void setRuns(const std::vector<Run> &runs);
    // Queues inserts/changes; they appear on the next turn of the event loop, or within
    // kFlushDelayMs of the previous flush. Several updates of one run before the flush
    // collapse to the last one; an update older than the row (updatedMs) is dropped.
    void updateRuns(const std::vector<Run> &runs);
    // Applies the queued updates now (the flush timer calls this).
    void flushPending();
    bool hasPendingUpdates() const { return !m_pending.empty(); }

    int rowOfRun(const QByteArray &runId) const; // -1 if absent
    const Run *runAt(int row) const;             // nullptr if out of range
    const Run *runById(const QByteArray &runId) const;

    // Times in the Started column (and tooltips) in UTC instead of the local zone.
    void setUtc(bool utc);
    bool isUtc() const { return m_utc; }

    // The clock used for the duration of running runs (tests pin it).
    void setClock(Clock nowMs);
    qint64 nowMs() const;
    // Durations of non-terminal runs grow; this ticks them (the 1 s timer calls it).
    void refreshRunningDurations();

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant
    headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

signals:
    // Rows that a flush replaced with newer values (not emitted for inserts or ticks).
    void runsChanged(const QList<QByteArray> &runIds);

private:
    QVariant displayData(const Run &run, int column) const;
    QVariant sortData(const Run &run, int column) const;
    QVariant toolTipData(const Run &run, int column) const;
    qint64 durationMs(const Run &run) const;
    void updateTicking();
    void
    emitRowRanges(std::vector<int> rows, int firstColumn, int lastColumn, const QList<int> &roles);

    std::vector<Run> m_rows;
    QHash<QByteArray, int> m_rowById;
    std::vector<Run> m_pending;
    QHash<QByteArray, int> m_pendingById;
    QTimer m_flushTimer;
    QElapsedTimer m_lastFlush; // invalid until the first flush
    QTimer m_tickTimer;
    Clock m_clock;
    bool m_utc = false;
    QFont m_unboundFont;
};

} // namespace Breaker
