#pragma once

#include "models/RunTypes.h"

#include <QAbstractListModel>
#include <QByteArray>
#include <QColor>
#include <QHash>

#include <vector>

namespace Breaker {

// The events of one run, in waterfall order: a span's children follow it (depth-first), siblings
// by start time. Depth comes from parentSpanId → spanId links inside the run; an event whose
// parent is not (yet) known is a root, and moves under its parent when that arrives. The model
// grows live with appendEvents: new rows are inserted as one batch, then the order is fixed with
// one layout change if it has to move rows.
class TimelineModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Role : int {
        KindRole = Qt::UserRole + 1, // int(EventKind)
        DepthRole,                   // int, 0 for roots
        StartNsRole,                 // qint64 Unix ns
        EndNsRole,                   // qint64 Unix ns, 0 while the span is open
        StatusCodeRole,              // int, OTLP: 0 unset, 1 ok, 2 error
        SpanIdRole,                  // QByteArray
        KindColorRole,               // QColor
        EventRole,                   // RunEvent
    };

    explicit TimelineModel(QObject *parent = nullptr);

    // Shows `runId`'s timeline: clears the rows when the run changes.
    void setRunId(const QByteArray &runId);
    QByteArray runId() const { return m_runId; }
    // The stored timeline of `runId` (RunFeed::eventsLoaded); ignored for another run. Events
    // appended before the load and missing from it are kept.
    void setEvents(const QByteArray &runId, const std::vector<RunEvent> &events);
    // Live events (RunFeed::eventsAppended); events of other runs are ignored, an event seen
    // before (same span id, or same store id) replaces the earlier copy.
    void appendEvents(const std::vector<RunEvent> &events);
    void clear();
    // True once setEvents answered for the current run.
    bool isLoaded() const { return m_loaded; }

    const RunEvent &eventAt(int row) const { return m_rows[size_t(row)].event; }
    int depthAt(int row) const { return m_rows[size_t(row)].depth; }
    std::vector<RunEvent> events() const; // in display order

    // The shared time axis: earliest start and latest end (or start) of all events, in Unix ns.
    qint64 axisStartNs() const { return m_axisStartNs; }
    qint64 axisEndNs() const { return m_axisEndNs; }

    static QColor kindColor(EventKind kind);
    static QString kindLabel(EventKind kind);
    // The kinds a legend lists, in legend order.
    static std::vector<EventKind> legendKinds();

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

signals:
    void axisChanged();
    void loadedChanged(bool loaded);

private:
    struct Row
    {
        RunEvent event;
        int depth = 0;
    };
    static QByteArray keyOf(const RunEvent &event);
    void rebuildKeys();
    // Computes waterfall order and depths for m_rows; returns the new order (old row numbers).
    std::vector<int> waterfallOrder(std::vector<int> &depths) const;
    void applyOrder(bool emitLayout);
    void updateAxis();

    QByteArray m_runId;
    std::vector<Row> m_rows;
    QHash<QByteArray, int> m_rowByKey;
    qint64 m_axisStartNs = 0;
    qint64 m_axisEndNs = 0;
    bool m_loaded = false;
};

} // namespace Breaker
