#pragma once

#include <QWidget>

namespace Breaker {

// The key to the timeline's colours: a swatch and a name per event kind, wrapped onto as many
// lines as the width needs.
class TimelineLegend : public QWidget
{
    Q_OBJECT
public:
    explicit TimelineLegend(QWidget *parent = nullptr);

    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    // Lays out the entries for `width`; calls `place` for each (kind index, rect); returns the
    // height used.
    template<typename Place> int layoutEntries(int width, Place &&place) const;
};

} // namespace Breaker
