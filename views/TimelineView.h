#pragma once

#include "models/RunTypes.h"

#include <QAbstractItemView>
#include <QList>
#include <QMetaObject>

namespace Breaker {

// A run's waterfall: one row per event of a TimelineModel, the name on the left indented by
// span depth, a bar from start to end on a time axis shared by all rows, coloured by kind;
// error spans are outlined red, open spans fade out to the axis end, instant events are
// diamonds. Up/Down/PgUp/PgDn/Home/End move the selection, Left jumps to the parent span.
// Selecting a row emits eventSelected with the event.
class TimelineView : public QAbstractItemView
{
    Q_OBJECT
public:
    explicit TimelineView(QWidget *parent = nullptr);
    ~TimelineView() override;

    void setModel(QAbstractItemModel *model) override;
    QRect visualRect(const QModelIndex &index) const override;
    void scrollTo(const QModelIndex &index, ScrollHint hint = EnsureVisible) override;
    QModelIndex indexAt(const QPoint &point) const override;

    // Shown when there is no row ("Select a run", "Loading…", "No events recorded").
    void setPlaceholderText(const QString &text);
    QString placeholderText() const { return m_placeholder; }

    int rowHeight() const;
    int axisHeight() const;
    int labelWidth() const;
    // Where row `row`'s bar (or instant marker) is painted, in viewport coordinates.
    QRectF barRect(int row) const;
    qint64 axisStartNs() const { return m_axisStartNs; }
    qint64 axisEndNs() const { return m_axisEndNs; }

    QSize sizeHint() const override;

signals:
    void eventSelected(const Breaker::RunEvent &event);
    void selectionCleared();

protected:
    QModelIndex moveCursor(CursorAction cursorAction, Qt::KeyboardModifiers modifiers) override;
    int horizontalOffset() const override;
    int verticalOffset() const override;
    bool isIndexHidden(const QModelIndex &index) const override;
    void setSelection(const QRect &rect, QItemSelectionModel::SelectionFlags command) override;
    QRegion visualRegionForSelection(const QItemSelection &selection) const override;
    void updateGeometries() override;
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void scrollContentsBy(int dx, int dy) override;
    void currentChanged(const QModelIndex &current, const QModelIndex &previous) override;
    void dataChanged(const QModelIndex &topLeft,
                     const QModelIndex &bottomRight,
                     const QList<int> &roles = QList<int>()) override;
    void reset() override;

private:
    void relayout();
    void recomputeAxis();
    int rows() const;
    int visibleRowsHeight() const;
    double xOf(qint64 ns) const;
    void emitCurrentEvent(const QModelIndex &current);
    void paintAxis(QPainter &painter, qint64 step) const;
    void paintRow(QPainter &painter, const QModelIndex &index) const;

    QString m_placeholder;
    QList<QMetaObject::Connection> m_modelConnections;
    qint64 m_axisStartNs = 0;
    qint64 m_axisEndNs = 0;
};

} // namespace Breaker
