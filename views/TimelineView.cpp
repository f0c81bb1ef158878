#include "views/TimelineView.h"

#include "views/RunFormat.h"
#include "views/TimelineModel.h"

#include <QPainter>
#include <QPainterPath>
#include <QResizeEvent>
#include <QScrollBar>

#include <algorithm>
#include <cmath>

namespace Breaker {

namespace {

constexpr int kIndent = 14;
constexpr int kGap = 10;
constexpr int kRightMargin = 12;
constexpr int kMinTickSpacingPx = 90;

// 1, 2 or 5 times a power of ten nanoseconds, so ticks are at least kMinTickSpacingPx apart.
qint64 niceStep(qint64 spanNs, double widthPx)
{
    if (spanNs <= 0 || widthPx <= 0)
        return 1;
    const double target = double(spanNs) * kMinTickSpacingPx / widthPx;
    double magnitude = std::pow(10.0, std::floor(std::log10(std::max(target, 1.0))));
    for (const double m : {1.0, 2.0, 5.0, 10.0}) {
        if (m * magnitude >= target)
            return std::max<qint64>(1, qint64(m * magnitude));
    }
    return std::max<qint64>(1, qint64(10 * magnitude));
}

QColor withAlpha(QColor color, int alpha)
{
    color.setAlpha(alpha);
    return color;
}

} // namespace

TimelineView::TimelineView(QWidget *parent)
    : QAbstractItemView(parent)
{
    setSelectionMode(SingleSelection);
    setSelectionBehavior(SelectRows);
    setEditTriggers(NoEditTriggers);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setVerticalScrollMode(ScrollPerPixel);
    setMouseTracking(true);
    viewport()->setAutoFillBackground(false);
}

TimelineView::~TimelineView() = default;

void TimelineView::setModel(QAbstractItemModel *newModel)
{
    for (const auto &connection : std::as_const(m_modelConnections))
        disconnect(connection);
    m_modelConnections.clear();
    QAbstractItemView::setModel(newModel);
    if (newModel) {
        // After the base class's own handlers: the geometry depends on every row.
        m_modelConnections
            << connect(newModel, &QAbstractItemModel::rowsInserted, this, &TimelineView::relayout)
            << connect(newModel, &QAbstractItemModel::rowsRemoved, this, &TimelineView::relayout)
            << connect(newModel, &QAbstractItemModel::modelReset, this, &TimelineView::relayout)
            << connect(newModel, &QAbstractItemModel::layoutChanged, this, &TimelineView::relayout);
    }
    relayout();
}

int TimelineView::rows() const
{
    return model() ? model()->rowCount(rootIndex()) : 0;
}

int TimelineView::rowHeight() const
{
    return fontMetrics().height() + 10;
}

int TimelineView::axisHeight() const
{
    return fontMetrics().height() + 10;
}

int TimelineView::labelWidth() const
{
    return std::clamp(viewport()->width() * 3 / 10, 150, 320);
}

int TimelineView::visibleRowsHeight() const
{
    return std::max(0, viewport()->height() - axisHeight());
}

QSize TimelineView::sizeHint() const
{
    return {640, 320};
}

void TimelineView::setPlaceholderText(const QString &text)
{
    if (text == m_placeholder)
        return;
    m_placeholder = text;
    viewport()->update();
}

void TimelineView::recomputeAxis()
{
    qint64 start = 0;
    qint64 end = 0;
    bool anyOpen = false;
    const int n = rows();
    for (int row = 0; row < n; ++row) {
        const QModelIndex idx = model()->index(row, 0, rootIndex());
        const qint64 s = idx.data(TimelineModel::StartNsRole).toLongLong();
        const qint64 e = idx.data(TimelineModel::EndNsRole).toLongLong();
        if (s > 0 && (start == 0 || s < start))
            start = s;
        end = std::max({end, s, e});
        anyOpen = anyOpen || e == 0;
    }
    // Open spans run on past the last thing seen: leave them a visible tail rather than let
    // one that just started have no width at all.
    if (anyOpen)
        end += std::max<qint64>((end - start) / 20, 1'000'000);
    m_axisStartNs = start;
    m_axisEndNs = end;
}

void TimelineView::relayout()
{
    recomputeAxis();
    updateGeometries();
    viewport()->update();
}

double TimelineView::xOf(qint64 ns) const
{
    const double left = labelWidth() + kGap;
    const double width = std::max(1, viewport()->width() - labelWidth() - kGap - kRightMargin);
    const qint64 span = std::max<qint64>(1, m_axisEndNs - m_axisStartNs);
    return left + double(ns - m_axisStartNs) * width / double(span);
}

QRect TimelineView::visualRect(const QModelIndex &index) const
{
    if (!index.isValid() || index.model() != model())
        return {};
    return {0,
            axisHeight() + index.row() * rowHeight() - verticalOffset(),
            viewport()->width(),
            rowHeight()};
}

QRectF TimelineView::barRect(int row) const
{
    if (!model() || row < 0 || row >= rows())
        return {};
    const QModelIndex idx = model()->index(row, 0, rootIndex());
    const QRect rowRect = visualRect(idx);
    const qint64 start = idx.data(TimelineModel::StartNsRole).toLongLong();
    qint64 end = idx.data(TimelineModel::EndNsRole).toLongLong();
    const bool open = end == 0;
    if (open)
        end = std::max(start, m_axisEndNs);
    const double x1 = xOf(start);
    const double x2 = xOf(std::max(start, end));
    const double top = rowRect.top() + 5;
    const double height = rowRect.height() - 10;
    if (!open && x2 - x1 < 1.0 && end <= start) {
        // An instant: a diamond as wide as it is high, centred on the time.
        return {x1 - height / 2, top, height, height};
    }
    return {x1, top, std::max(2.0, x2 - x1), height};
}

void TimelineView::scrollTo(const QModelIndex &index, ScrollHint hint)
{
    if (!index.isValid())
        return;
    const int top = index.row() * rowHeight();
    const int visible = visibleRowsHeight();
    QScrollBar *bar = verticalScrollBar();
    switch (hint) {
    case PositionAtTop:
        bar->setValue(top);
        break;
    case PositionAtBottom:
        bar->setValue(top + rowHeight() - visible);
        break;
    case PositionAtCenter:
        bar->setValue(top - (visible - rowHeight()) / 2);
        break;
    case EnsureVisible:
        if (top < bar->value())
            bar->setValue(top);
        else if (top + rowHeight() > bar->value() + visible)
            bar->setValue(top + rowHeight() - visible);
        break;
    }
}

QModelIndex TimelineView::indexAt(const QPoint &point) const
{
    if (!model() || point.y() < axisHeight())
        return {};
    const int row = (point.y() - axisHeight() + verticalOffset()) / rowHeight();
    if (row < 0 || row >= rows())
        return {};
    return model()->index(row, 0, rootIndex());
}

QModelIndex TimelineView::moveCursor(CursorAction cursorAction, Qt::KeyboardModifiers)
{
    const int n = rows();
    if (n == 0)
        return {};
    const QModelIndex current = currentIndex();
    int row = current.isValid() ? current.row() : -1;
    const int page = std::max(1, visibleRowsHeight() / rowHeight() - 1);
    switch (cursorAction) {
    case MoveUp:
    case MovePrevious:
        row = row < 0 ? 0 : row - 1;
        break;
    case MoveDown:
    case MoveNext:
        row = row + 1;
        break;
    case MovePageUp:
        row = row < 0 ? 0 : row - page;
        break;
    case MovePageDown:
        row = row + page;
        break;
    case MoveHome:
        row = 0;
        break;
    case MoveEnd:
        row = n - 1;
        break;
    case MoveLeft:
        // To the parent span: the nearest row above with a smaller depth.
        if (row > 0) {
            const int depth = current.data(TimelineModel::DepthRole).toInt();
            for (int r = row - 1; r >= 0; --r) {
                if (model()->index(r, 0, rootIndex()).data(TimelineModel::DepthRole).toInt()
                    < depth) {
                    row = r;
                    break;
                }
            }
        }
        break;
    case MoveRight:
        break;
    }
    row = std::clamp(row, 0, n - 1);
    return model()->index(row, 0, rootIndex());
}

int TimelineView::horizontalOffset() const
{
    return 0;
}

int TimelineView::verticalOffset() const
{
    return verticalScrollBar()->value();
}

bool TimelineView::isIndexHidden(const QModelIndex &) const
{
    return false;
}

void TimelineView::setSelection(const QRect &rect, QItemSelectionModel::SelectionFlags command)
{
    if (!model() || !selectionModel())
        return;
    const QRect r = rect.normalized();
    const QModelIndex first = indexAt(QPoint(0, std::max(r.top(), axisHeight())));
    QModelIndex last = indexAt(QPoint(0, r.bottom()));
    if (!first.isValid()) {
        selectionModel()->select(QItemSelection(), command);
        return;
    }
    if (!last.isValid())
        last = model()->index(rows() - 1, 0, rootIndex());
    selectionModel()->select(QItemSelection(first, last), command);
}

QRegion TimelineView::visualRegionForSelection(const QItemSelection &selection) const
{
    QRegion region;
    for (const QItemSelectionRange &range : selection) {
        for (int row = range.top(); row <= range.bottom(); ++row)
            region += visualRect(model()->index(row, 0, rootIndex()));
    }
    return region;
}

void TimelineView::updateGeometries()
{
    const int content = rows() * rowHeight();
    const int visible = visibleRowsHeight();
    verticalScrollBar()->setRange(0, std::max(0, content - visible));
    verticalScrollBar()->setPageStep(std::max(1, visible));
    verticalScrollBar()->setSingleStep(rowHeight());
    QAbstractItemView::updateGeometries();
}

void TimelineView::resizeEvent(QResizeEvent *event)
{
    QAbstractItemView::resizeEvent(event);
    updateGeometries();
}

void TimelineView::scrollContentsBy(int, int)
{
    // The axis stays put while rows scroll: repaint rather than blit.
    viewport()->update();
}

void TimelineView::currentChanged(const QModelIndex &current, const QModelIndex &previous)
{
    QAbstractItemView::currentChanged(current, previous);
    emitCurrentEvent(current);
    viewport()->update();
}

void TimelineView::emitCurrentEvent(const QModelIndex &current)
{
    if (!current.isValid()) {
        emit selectionCleared();
        return;
    }
    const QVariant event = current.data(TimelineModel::EventRole);
    if (event.canConvert<RunEvent>())
        emit eventSelected(event.value<RunEvent>());
}

void TimelineView::dataChanged(const QModelIndex &topLeft,
                               const QModelIndex &bottomRight,
                               const QList<int> &roles)
{
    QAbstractItemView::dataChanged(topLeft, bottomRight, roles);
    relayout();
    const QModelIndex current = currentIndex();
    if (roles.isEmpty() && current.isValid() && current.row() >= topLeft.row()
        && current.row() <= bottomRight.row()) {
        emitCurrentEvent(current); // the selected span got its end, status or attributes
    }
}

void TimelineView::reset()
{
    QAbstractItemView::reset();
    emit selectionCleared();
    relayout();
}

void TimelineView::paintEvent(QPaintEvent *)
{
    QPainter painter(viewport());
    const QRect area = viewport()->rect();
    painter.fillRect(area, palette().base());
    const int n = rows();
    if (n == 0) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(
            area.adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
        return;
    }

    const qint64 span = std::max<qint64>(1, m_axisEndNs - m_axisStartNs);
    const qint64 step = niceStep(span, xOf(m_axisEndNs) - xOf(m_axisStartNs));

    // Grid lines under the rows.
    painter.setPen(withAlpha(palette().color(QPalette::Text), 28));
    for (qint64 t = 0; t <= span; t += step) {
        const int x = int(std::lround(xOf(m_axisStartNs + t)));
        painter.drawLine(x, axisHeight(), x, area.bottom());
    }

    const int first = std::max(0, verticalOffset() / rowHeight());
    const int last = std::min(n - 1, (verticalOffset() + visibleRowsHeight()) / rowHeight());
    for (int row = first; row <= last; ++row)
        paintRow(painter, model()->index(row, 0, rootIndex()));

    painter.setPen(withAlpha(palette().color(QPalette::Text), 50));
    painter.drawLine(labelWidth(), axisHeight(), labelWidth(), area.bottom());
    paintAxis(painter, step);
}

void TimelineView::paintAxis(QPainter &painter, qint64 step) const
{
    const QRect header(0, 0, viewport()->width(), axisHeight());
    painter.fillRect(header, palette().window());
    painter.setPen(withAlpha(palette().color(QPalette::Text), 70));
    painter.drawLine(header.bottomLeft(), header.bottomRight());
    painter.setPen(palette().color(QPalette::WindowText));
    const QFontMetrics fm = fontMetrics();
    painter.drawText(QRect(8, 0, labelWidth() - 16, header.height()),
                     Qt::AlignLeft | Qt::AlignVCenter,
                     RunFormat::plural(rows(), tr("%1 event"), tr("%1 events")));
    const qint64 span = std::max<qint64>(1, m_axisEndNs - m_axisStartNs);
    const int right = viewport()->width() - 2;
    for (qint64 t = 0; t <= span; t += step) {
        const int x = int(std::lround(xOf(m_axisStartNs + t)));
        const QString label = t == 0 ? QStringLiteral("0") : RunFormat::durationNs(t);
        const int width = fm.horizontalAdvance(label);
        const int textX = std::min(x + 3, right - width);
        painter.drawLine(x, header.bottom() - 4, x, header.bottom());
        painter.drawText(QRect(textX, 0, width + 2, header.height() - 2),
                         Qt::AlignLeft | Qt::AlignVCenter,
                         label);
    }
}

void TimelineView::paintRow(QPainter &painter, const QModelIndex &index) const
{
    const QRect rowRect = visualRect(index);
    const bool selected = selectionModel() && selectionModel()->isSelected(index);
    if (selected) {
        painter.fillRect(rowRect, withAlpha(palette().color(QPalette::Highlight), 70));
    } else if (index.row() % 2 == 1) {
        painter.fillRect(rowRect, withAlpha(palette().color(QPalette::AlternateBase), 160));
    }
    if (index == currentIndex() && hasFocus()) {
        painter.setPen(QPen(palette().color(QPalette::Highlight), 1, Qt::DotLine));
        painter.drawRect(rowRect.adjusted(0, 0, -1, -1));
    }

    const QColor color = index.data(TimelineModel::KindColorRole).value<QColor>();
    const int depth = index.data(TimelineModel::DepthRole).toInt();
    const bool error = index.data(TimelineModel::StatusCodeRole).toInt() == 2;
    const qint64 start = index.data(TimelineModel::StartNsRole).toLongLong();
    const qint64 end = index.data(TimelineModel::EndNsRole).toLongLong();
    const bool open = end == 0;

    // Label: indent, kind swatch, name.
    const QFontMetrics fm = fontMetrics();
    const int indent = std::min(8 + depth * kIndent, labelWidth() / 2);
    const int swatch = 9;
    const QRect swatchRect(indent, rowRect.center().y() - swatch / 2, swatch, swatch);
    painter.fillRect(swatchRect, color);
    const int textX = swatchRect.right() + 6;
    const QString name = fm.elidedText(
        index.data(Qt::DisplayRole).toString(), Qt::ElideRight, labelWidth() - textX - 6);
    painter.setPen(error ? QColor(0xd3, 0x2f, 0x2f) : palette().color(QPalette::Text));
    painter.drawText(QRect(textX, rowRect.top(), labelWidth() - textX, rowRect.height()),
                     Qt::AlignLeft | Qt::AlignVCenter,
                     name);

    // Bar.
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, true);
    const QRectF bar = barRect(index.row());
    const bool instant = !open && end <= start;
    const QColor errorColor(0xe5, 0x1c, 0x23);
    if (instant) {
        QPainterPath diamond;
        const QPointF c = bar.center();
        const double r = bar.height() / 2;
        diamond.moveTo(c.x(), c.y() - r);
        diamond.lineTo(c.x() + r, c.y());
        diamond.lineTo(c.x(), c.y() + r);
        diamond.lineTo(c.x() - r, c.y());
        diamond.closeSubpath();
        painter.fillPath(diamond, color);
        if (error)
            painter.strokePath(diamond, QPen(errorColor, 2));
    } else if (open) {
        QLinearGradient fade(bar.topLeft(), bar.topRight());
        fade.setColorAt(0, color);
        fade.setColorAt(1, withAlpha(color, 40));
        painter.fillRect(bar, fade);
        painter.setPen(QPen(error ? errorColor : color, error ? 2 : 1, Qt::DashLine));
        painter.drawRect(bar);
    } else {
        painter.fillRect(bar, color);
        if (error) {
            painter.setPen(QPen(errorColor, 2));
            painter.drawRect(bar.adjusted(1, 1, -1, -1));
        }
    }
    painter.restore();

    // Duration beside the bar, where it fits.
    const QString duration = open      ? tr("open")
                             : instant ? QString()
                                       : RunFormat::durationNs(end - start);
    if (!duration.isEmpty()) {
        const int width = fm.horizontalAdvance(duration);
        const int right = viewport()->width() - 2;
        int x = int(bar.right()) + 5;
        if (x + width > right)
            x = int(bar.left()) - 5 - width;
        if (x >= labelWidth() + 2) {
            painter.setPen(withAlpha(palette().color(QPalette::Text), 170));
            painter.drawText(QRect(x, rowRect.top(), width + 2, rowRect.height()),
                             Qt::AlignLeft | Qt::AlignVCenter,
                             duration);
        }
    }
}

} // namespace Breaker
