#pragma once

#include "models/ControlMap.h"

#include <QTableWidget>

namespace Breaker {

// An agent's control map (DESIGN.md section 1): the seven layers, the provider bound to each (a
// gap shown as TBD), and for the layers a stop acts on, the last proven stop — when, how fast,
// by a stop or a drill — or "never proven" (issue 4 item 7).
class ControlMapView : public QTableWidget
{
    Q_OBJECT
public:
    explicit ControlMapView(QWidget *parent = nullptr);

    void showMap(const QByteArray &agent, const std::vector<ControlMapRow> &rows);
    QByteArray agent() const { return m_agent; }

    // Words for a layer id ("Spending" for payment, "Kill switch" for kill_switch).
    static QString layerLabel(const QString &layer);

private:
    QByteArray m_agent;
};

} // namespace Breaker
