#include "views/TimelineLegend.h"

#include "views/TimelineModel.h"

#include <QPainter>

namespace Breaker {

namespace {
constexpr int kSwatch = 10;
constexpr int kSpacing = 14;
constexpr int kMargin = 4;
} // namespace

TimelineLegend::TimelineLegend(QWidget *parent)
    : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Preferred);
    QStringList names;
    for (const EventKind kind : TimelineModel::legendKinds())
        names << TimelineModel::kindLabel(kind);
    setAccessibleName(tr("Timeline legend"));
    setAccessibleDescription(tr("Event colours: %1").arg(names.join(QStringLiteral(", "))));
    setToolTip(tr("What the timeline colours mean"));
}

template<typename Place> int TimelineLegend::layoutEntries(int width, Place &&place) const
{
    const QFontMetrics fm = fontMetrics();
    const int lineHeight = std::max(fm.height(), kSwatch) + 4;
    int x = kMargin;
    int y = kMargin;
    const auto kinds = TimelineModel::legendKinds();
    for (size_t i = 0; i < kinds.size(); ++i) {
        const int entry = kSwatch + 5 + fm.horizontalAdvance(TimelineModel::kindLabel(kinds[i]));
        if (x > kMargin && x + entry > width - kMargin) {
            x = kMargin;
            y += lineHeight;
        }
        place(kinds[i], QRect(x, y, entry, lineHeight));
        x += entry + kSpacing;
    }
    return y + lineHeight + kMargin;
}

int TimelineLegend::heightForWidth(int width) const
{
    return layoutEntries(width, [](EventKind, const QRect &) {});
}

QSize TimelineLegend::sizeHint() const
{
    int width = 0;
    layoutEntries(100000, [&width](EventKind, const QRect &r) { width = r.right(); });
    return {width + kMargin, heightForWidth(width + kMargin)};
}

QSize TimelineLegend::minimumSizeHint() const
{
    return {120, heightForWidth(120)};
}

void TimelineLegend::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    const QFontMetrics fm = fontMetrics();
    layoutEntries(width(), [&](EventKind kind, const QRect &r) {
        const QRect swatch(r.left(), r.center().y() - kSwatch / 2, kSwatch, kSwatch);
        painter.fillRect(swatch, TimelineModel::kindColor(kind));
        painter.setPen(palette().color(QPalette::WindowText));
        painter.drawText(QRect(swatch.right() + 5, r.top(), r.width() - kSwatch - 5, r.height()),
                         Qt::AlignLeft | Qt::AlignVCenter,
                         TimelineModel::kindLabel(kind));
    });
}

} // namespace Breaker
