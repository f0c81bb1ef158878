#pragma once

#include "app/services/StopSwitch.h"

#include <QDialog>

#include <functional>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace Breaker {

// The stop switch's dialog (issue 4 item 8). First it shows the plan — what will be done to
// what, with counts, gaps shown as gaps — and takes a reason (required); a global stop also asks
// for the profile's name to be typed. "Keep running" is the default button. Once confirmed it
// stays open and each row turns from pending to its outcome: verified in green; done_unverified,
// failed (in red, with what the provider said) and not configured as they are.
class StopDialog : public QDialog
{
    Q_OBJECT
public:
    // `confirmName`: the text a global stop must be confirmed with (the profile's name); empty
    // for the other scopes.
    StopDialog(const StopPlan &plan, const QString &scopeTitle, const QString &confirmName,
               QWidget *parent = nullptr);

    QString reason() const;
    QLineEdit *reasonField() const { return m_reason; }
    QLineEdit *confirmField() const { return m_confirm; }
    QPushButton *stopButton() const { return m_stop; }
    QPushButton *keepButton() const { return m_keep; }
    QTableWidget *table() const { return m_table; }
    QLabel *statusLabel() const { return m_status; }
    // Lets the operator choose the layers (`breakerctl stop --layers`): a box per layer, all of
    // `layers` ticked; each change asks `replan` for the plan of the ticked layers and shows it.
    // Not offered for a drill (it is the whole stop, by definition).
    using Replan = std::function<Result<StopPlan>(const QStringList &layers)>;
    void offerLayerChoice(const QStringList &layers, Replan replan);
    QStringList chosenLayers() const;
    QCheckBox *layerBox(const QString &layer) const;

    // A drill against a canary (issue 4 item 7): the same plan and rows, in a drill's words.
    void setDrill(bool drill);
    bool isDrill() const { return m_drill; }

    // The plan actually carried out (it is resolved again when the stop runs).
    void started(const StopPlan &plan);
    void progress(int action, const std::vector<StopLayerResult> &rows);
    void finished(const StopOutcome &outcome);
    bool isRunning() const { return m_running; }

signals:
    void stopConfirmed(const QString &reason);

private:
    void fill(const StopPlan &plan);
    void setRow(int row, const StopLayerResult &r, const QString &state, const QString &detail);
    void updateStopEnabled();
    void fitColumns();
    void layersChanged();
    void setHeadline(const QString &where);

    StopPlan m_plan;
    QString m_confirmName;
    QString m_scopeTitle;
    QLabel *m_headline = nullptr;
    bool m_drill = false;
    QLabel *m_summary = nullptr;
    QLabel *m_status = nullptr;
    QTableWidget *m_table = nullptr;
    QLineEdit *m_reason = nullptr;
    QLineEdit *m_confirm = nullptr;
    QPushButton *m_stop = nullptr;
    QPushButton *m_keep = nullptr;
    std::vector<int> m_firstRow; // table row of each action's first row
    std::vector<int> m_rowCount; // rows each action takes in the table
    bool m_running = false;
    std::vector<std::pair<QString, QCheckBox *>> m_layerBoxes;
    Replan m_replan;
    bool m_planOk = true;
};

} // namespace Breaker
