#pragma once

#include "models/ControlMap.h"
#include "models/RunTypes.h"

#include <QWidget>

#include <optional>

class QGridLayout;
class QLabel;
class QSplitter;
class QTabWidget;

namespace Breaker {

class ControlMapView;
class EventDetailsTree;
class TimelineLegend;
class TimelineModel;
class TimelineView;

// The selected run: a summary header (agent, status, principal, provider, times, tokens, cost,
// external ids, goal), its timeline with a legend, and the selected event's attributes.
// It owns the TimelineModel; whoever feeds it events (MainWindow) calls timelineModel().
class RunDetailPane : public QWidget
{
    Q_OBJECT
public:
    explicit RunDetailPane(QWidget *parent = nullptr);

    // Shows `run`. Another run than before clears the timeline (its events are to be loaded);
    // the same run only refreshes the header.
    void showRun(const Run &run);
    void clearRun();
    std::optional<Run> run() const { return m_run; }
    QByteArray runId() const { return m_run ? m_run->id : QByteArray(); }

    void setUtc(bool utc);

    TimelineModel *timelineModel() const { return m_timelineModel; }
    TimelineView *timelineView() const { return m_timelineView; }
    EventDetailsTree *eventDetails() const { return m_details; }
    ControlMapView *controlMapView() const { return m_controlMap; }

    // The control map of the run's agent (beside the event details).
    void showControlMap(const QByteArray &agent, const std::vector<ControlMapRow> &rows);
    void showControlMapTab();

    // The header as plain text, one "caption: value" per line (tests, screen readers' summary).
    QString summaryText() const;

private:
    void updateHeader();
    void updatePlaceholder();
    QLabel *addField(int row, int column, const QString &caption, const QString &toolTip);

    std::optional<Run> m_run;
    bool m_utc = false;
    TimelineModel *m_timelineModel = nullptr;
    TimelineView *m_timelineView = nullptr;
    TimelineLegend *m_legend = nullptr;
    EventDetailsTree *m_details = nullptr;
    ControlMapView *m_controlMap = nullptr;
    QTabWidget *m_side = nullptr;
    QSplitter *m_splitter = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_principal = nullptr;
    QLabel *m_provider = nullptr;
    QLabel *m_started = nullptr;
    QLabel *m_ended = nullptr;
    QLabel *m_tokens = nullptr;
    QLabel *m_cost = nullptr;
    QLabel *m_counters = nullptr;
    QLabel *m_runId = nullptr;
    QLabel *m_externalIds = nullptr;
    QLabel *m_goal = nullptr;
    QWidget *m_header = nullptr;
    QGridLayout *m_grid = nullptr;
};

} // namespace Breaker
