#include "views/StopDialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace Breaker {

namespace {

enum Column { Layer, Agent, Target, State, Ms, Detail, ColumnCount };

QColor stateColor(const QString &state)
{
    if (state == QLatin1String("verified"))
        return QColor(0x1b, 0x7f, 0x3b);
    if (state == QLatin1String("failed"))
        return QColor(0xc6, 0x28, 0x28);
    if (state == QLatin1String("done_unverified"))
        return QColor(0xb2, 0x6a, 0x00);
    return {};
}

} // namespace

StopDialog::StopDialog(const StopPlan &plan, const QString &scopeTitle, const QString &confirmName, QWidget *parent)
    : QDialog(parent)
    , m_plan(plan)
    , m_confirmName(confirmName)
{
    setObjectName(QStringLiteral("stopDialog"));
    setWindowTitle(tr("Stop %1").arg(scopeTitle));
    resize(900, 420);
    auto *layout = new QVBoxLayout(this);

    m_scopeTitle = scopeTitle;
    m_headline = new QLabel(this);
    setHeadline(tr("every layer"));
    m_headline->setTextFormat(Qt::RichText);
    m_headline->setWordWrap(true);
    layout->addWidget(m_headline);

    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("stopSummary"));
    m_summary->setWordWrap(true);
    layout->addWidget(m_summary);

    m_table = new QTableWidget(0, ColumnCount, this);
    m_table->setObjectName(QStringLiteral("stopRows"));
    m_table->setHorizontalHeaderLabels({tr("Layer"), tr("Agent"), tr("What"), tr("State"), tr("ms"), tr("Detail")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle); // long token paths keep both ends
    layout->addWidget(m_table, 1);

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("stopStatus"));
    m_status->setWordWrap(true);
    layout->addWidget(m_status);

    auto *form = new QFormLayout;
    m_reason = new QLineEdit(this);
    m_reason->setObjectName(QStringLiteral("stopReason"));
    m_reason->setPlaceholderText(tr("Why (required; recorded in the audit trail)"));
    m_reason->setAccessibleName(tr("Reason for stopping"));
    form->addRow(tr("&Reason:"), m_reason);
    if (!confirmName.isEmpty()) {
        m_confirm = new QLineEdit(this);
        m_confirm->setObjectName(QStringLiteral("stopConfirmName"));
        m_confirm->setPlaceholderText(tr("Type %1 to confirm").arg(confirmName));
        m_confirm->setAccessibleName(tr("Profile name, typed to confirm a global stop"));
        form->addRow(tr("Type the profile's &name:"), m_confirm);
        connect(m_confirm, &QLineEdit::textChanged, this, &StopDialog::updateStopEnabled);
    }
    layout->addLayout(form);

    auto *buttons = new QDialogButtonBox(this);
    m_keep = buttons->addButton(tr("&Keep running"), QDialogButtonBox::RejectRole);
    m_stop = buttons->addButton(tr("&Stop"), QDialogButtonBox::ActionRole);
    m_stop->setObjectName(QStringLiteral("confirmStop"));
    m_stop->setEnabled(false);
    m_keep->setDefault(true);
    m_keep->setAutoDefault(true);
    m_stop->setAutoDefault(false);
    connect(m_keep, &QPushButton::clicked, this, &QDialog::reject);
    connect(m_stop, &QPushButton::clicked, this, [this] {
        if (!m_stop->isEnabled())
            return;
        m_running = true;
        m_stop->setEnabled(false);
        m_reason->setEnabled(false);
        if (m_confirm)
            m_confirm->setEnabled(false);
        for (const auto &entry : m_layerBoxes)
            entry.second->setEnabled(false);
        m_keep->setText(tr("&Close"));
        m_keep->setEnabled(false); // until the outcome is in: nothing hangs past its deadline
        m_status->setText(m_drill ? tr("Drilling: finding or starting a canary run, then hitting and reading back "
                                       "every layer…")
                                  : tr("Stopping: every layer is being hit and read back…"));
        emit stopConfirmed(reason());
    });
    connect(m_reason, &QLineEdit::textChanged, this, &StopDialog::updateStopEnabled);
    layout->addWidget(buttons);
    fill(plan);
    m_reason->setFocus();
}

QString StopDialog::reason() const
{
    return m_reason->text().trimmed();
}

void StopDialog::offerLayerChoice(const QStringList &layers, Replan replan)
{
    if (m_drill || !m_layerBoxes.empty() || layers.isEmpty())
        return;
    m_replan = std::move(replan);
    auto *row = new QHBoxLayout;
    auto *label = new QLabel(tr("Act on:"), this);
    row->addWidget(label);
    for (const QString &layer : layers) {
        auto *box = new QCheckBox(layer, this);
        box->setObjectName(QStringLiteral("stopLayer_") + layer);
        box->setChecked(m_plan.layers.isEmpty() || m_plan.layers.contains(layer));
        box->setAccessibleName(tr("Act on the %1 layer").arg(layer));
        box->setToolTip(tr("Untick to leave the %1 layer alone (breakerctl stop --layers)").arg(layer));
        connect(box, &QCheckBox::toggled, this, &StopDialog::layersChanged);
        row->addWidget(box);
        m_layerBoxes.emplace_back(layer, box);
    }
    row->addStretch(1);
    // Just above the table: the choice changes the rows below it.
    auto *layout = qobject_cast<QVBoxLayout *>(this->layout());
    layout->insertLayout(layout->indexOf(m_table), row);
    label->setBuddy(m_layerBoxes.front().second);
}

void StopDialog::setHeadline(const QString &where)
{
    m_headline->setText(tr("<b>Stop %1 at %2?</b><br>Each layer is hit at once, then read back: "
                           "a row turns <b>verified</b> only when the provider proves it.")
                            .arg(m_scopeTitle.toHtmlEscaped(), where.toHtmlEscaped()));
}

QStringList StopDialog::chosenLayers() const
{
    if (m_layerBoxes.empty())
        return m_plan.layers;
    QStringList out;
    for (const auto &[layer, box] : m_layerBoxes)
        if (box->isChecked())
            out << layer;
    return out;
}

QCheckBox *StopDialog::layerBox(const QString &layer) const
{
    for (const auto &[name, box] : m_layerBoxes)
        if (name == layer)
            return box;
    return nullptr;
}

void StopDialog::layersChanged()
{
    if (m_running)
        return;
    const QStringList layers = chosenLayers();
    m_planOk = false;
    if (!layers.isEmpty())
        setHeadline(layers.size() == int(m_layerBoxes.size())
                        ? tr("every layer")
                        : tr("the %1 layer(s) only", "", int(layers.size())).arg(layers.join(QStringLiteral(", "))));
    if (layers.isEmpty()) {
        m_table->setRowCount(0);
        m_summary->setText(tr("No layer chosen: tick at least one."));
    } else if (auto plan = m_replan ? m_replan(layers) : Result<StopPlan>(m_plan); !plan.ok()) {
        m_table->setRowCount(0);
        m_summary->setText(tr("No plan for these layers: %1").arg(plan.error().message));
    } else {
        fill(plan.value());
        m_planOk = true;
    }
    updateStopEnabled();
}

void StopDialog::updateStopEnabled()
{
    bool ok = !m_running && !reason().isEmpty() && m_planOk;
    if (m_confirm)
        ok = ok && m_confirm->text() == m_confirmName;
    m_stop->setEnabled(ok);
}

void StopDialog::fill(const StopPlan &plan)
{
    m_plan = plan;
    m_summary->setText(plan.summary());
    m_table->setRowCount(0);
    m_firstRow.assign(plan.actions.size(), 0);
    m_rowCount.assign(plan.actions.size(), 1);
    for (size_t i = 0; i < plan.actions.size(); ++i) {
        const PlannedAction &a = plan.actions[i];
        const int row = m_table->rowCount();
        m_table->insertRow(row);
        m_firstRow[i] = row;
        setRow(row, a.row, a.configured ? tr("planned") : QStringLiteral("skipped_not_configured"),
               a.configured ? a.describe : a.why);
    }
    fitColumns();
}

void StopDialog::fitColumns()
{
    m_table->resizeColumnsToContents();
    // What was acted on can be long (a token file's path, many tools): the full text is in the
    // cell's tooltip; the outcome, the time and the provider's words must stay in view.
    m_table->setColumnWidth(Target, std::min(m_table->columnWidth(Target), 340));
    m_table->setColumnWidth(Detail, std::max(m_table->columnWidth(Detail), 200));
}

void StopDialog::setRow(int row, const StopLayerResult &r, const QString &state, const QString &detail)
{
    const QString what = QString::fromUtf8(r.target.isEmpty() ? r.action : r.action + ' ' + r.target);
    const QString cells[ColumnCount] = {QString::fromUtf8(r.layer), QString::fromUtf8(r.agent), what, state,
                                        r.ms > 0 ? QString::number(r.ms) : QString(), detail};
    for (int c = 0; c < ColumnCount; ++c) {
        auto *item = new QTableWidgetItem(cells[c]);
        if (c == Detail || c == Target)
            item->setToolTip(cells[c]);
        if (c == State) {
            const QColor color = stateColor(state);
            if (color.isValid())
                item->setForeground(color);
            QFont f = item->font();
            f.setBold(state == QLatin1String("failed") || state == QLatin1String("verified"));
            item->setFont(f);
        }
        m_table->setItem(row, c, item);
    }
}

void StopDialog::started(const StopPlan &plan)
{
    fill(plan);
    for (int i = 0; i < int(plan.actions.size()); ++i) {
        const PlannedAction &a = plan.actions[size_t(i)];
        if (a.configured)
            setRow(m_firstRow[size_t(i)], a.row, tr("pending"), a.describe);
    }
}

void StopDialog::progress(int action, const std::vector<StopLayerResult> &rows)
{
    if (action < 0 || action >= int(m_firstRow.size()) || rows.empty())
        return;
    const int first = m_firstRow[size_t(action)];
    // An action answered with several rows (one per card): make room below its first row.
    const int extra = int(rows.size()) - m_rowCount[size_t(action)];
    for (int k = 0; k < extra; ++k)
        m_table->insertRow(first + 1);
    if (extra > 0) {
        for (size_t j = size_t(action) + 1; j < m_firstRow.size(); ++j)
            m_firstRow[j] += extra;
        m_rowCount[size_t(action)] = int(rows.size());
    }
    for (size_t k = 0; k < rows.size(); ++k) {
        const StopLayerResult &r = rows[k];
        setRow(first + int(k), r, QString::fromUtf8(toWireName(r.outcome)), r.detail);
    }
    m_table->resizeColumnToContents(State);
    m_table->resizeColumnToContents(Ms);
}

void StopDialog::finished(const StopOutcome &outcome)
{
    m_running = false;
    m_keep->setEnabled(true);
    m_keep->setDefault(true);
    QStringList gaps, bad;
    for (const StopLayerResult &r : outcome.rows) {
        if (r.provider.isEmpty())
            gaps << QString::fromUtf8(r.layer);
        else if (r.outcome != LayerOutcome::Verified)
            bad << QStringLiteral("%1 (%2)").arg(QString::fromUtf8(r.layer), QString::fromUtf8(toWireName(r.outcome)));
    }
    QString text;
    if (outcome.verified && m_drill)
        text = tr("<b style='color:#1b7f3b'>Drill: every configured layer verified</b> in %1 ms; recorded as the "
                  "agent's last proven stop.")
                   .arg(outcome.ms);
    else if (outcome.verified)
        text = tr("<b style='color:#1b7f3b'>Stopped: every configured layer verified</b> in %1 ms.").arg(outcome.ms);
    else if (outcome.rows.empty())
        text = tr("<b style='color:#c62828'>Nothing was stopped.</b>");
    else
        text = tr("<b style='color:#c62828'>NOT verified:</b> %1. The rows say what each provider answered; "
                  "the layers that verified still contain the agent.")
                   .arg((bad.isEmpty() ? QStringList{tr("no layer has a provider")} : bad).join(QStringLiteral(", ")).toHtmlEscaped());
    if (!gaps.isEmpty())
        text += QStringLiteral("<br>") + tr("Not configured (gaps): %1.").arg(gaps.join(QStringLiteral(", ")).toHtmlEscaped());
    if (outcome.releasedApprovals.size() > 0)
        text += QStringLiteral("<br>") + tr("%n pending approval(s) released as denied.", "", int(outcome.releasedApprovals.size()));
    for (const QString &n : outcome.notes)
        text += QStringLiteral("<br>") + n.toHtmlEscaped();
    m_status->setTextFormat(Qt::RichText);
    m_status->setText(text);
    // When the plan changed since the preview (a run ended, a card was added), or the stop joined
    // one that another process carried out (no row came as progress), the outcome's rows are the
    // truth: show them all.
    if (!m_running && !outcome.rows.empty()
        && (outcome.joined || outcome.rows.size() != size_t(m_table->rowCount()))) {
        m_table->setRowCount(0);
        for (const StopLayerResult &r : outcome.rows) {
            const int row = m_table->rowCount();
            m_table->insertRow(row);
            setRow(row, r, QString::fromUtf8(toWireName(r.outcome)), r.detail);
        }
    }
    fitColumns();
}

void StopDialog::setDrill(bool drill)
{
    m_drill = drill;
    if (!drill)
        return;
    setWindowTitle(tr("Stop drill on %1").arg(m_scopeTitle));
    m_headline->setText(tr("<b>Run a stop drill on %1?</b><br>A run of the canary is stopped for real at every "
                           "layer and each layer is read back; each layer's time to verified becomes the agent's "
                           "<b>last proven stop</b> in its control map. Afterwards the card is unfrozen and the tools "
                           "unblocked; a revoked token stays revoked until the agent gets a new grant.")
                            .arg(m_scopeTitle.toHtmlEscaped()));
    m_stop->setText(tr("&Run drill"));
    m_keep->setText(tr("&Cancel"));
}

} // namespace Breaker
