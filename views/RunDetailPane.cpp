#include "views/RunDetailPane.h"

#include "views/ControlMapView.h"
#include "views/EventDetailsTree.h"
#include "views/RunFormat.h"
#include "views/TimelineLegend.h"
#include "views/TimelineModel.h"
#include "views/TimelineView.h"

#include <QGridLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>

namespace Breaker {

namespace {

QString externalIdsText(const QByteArray &json)
{
    if (json.isEmpty())
        return QStringLiteral("—");
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    if (!doc.isObject())
        return QString::fromUtf8(json);
    QStringList parts;
    const QJsonObject object = doc.object();
    for (auto it = object.begin(); it != object.end(); ++it) {
        const QJsonValue v = it.value();
        QString value;
        if (v.isString())
            value = v.toString();
        else if (v.isDouble())
            value = QString::number(v.toDouble(), 'g', 17);
        else if (v.isBool())
            value = v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
        else if (v.isObject())
            value = QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
        else if (v.isArray())
            value = QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
        parts << it.key() + QStringLiteral(" ") + value;
    }
    return parts.isEmpty() ? QStringLiteral("—") : parts.join(QStringLiteral(" · "));
}

// "user:ada@example.com via support-portal → refund-agent" from a JSON array of actors
// (strings, or objects with "sub"/"id"/"name").
QString delegationText(const QByteArray &json)
{
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    if (!doc.isArray())
        return {};
    QStringList actors;
    for (const QJsonValue &v : doc.array()) {
        if (v.isString()) {
            actors << v.toString();
        } else if (v.isObject()) {
            const QJsonObject o = v.toObject();
            for (const auto *key : {"sub", "id", "name"}) {
                if (o.value(QLatin1String(key)).isString()) {
                    actors << o.value(QLatin1String(key)).toString();
                    break;
                }
            }
        }
    }
    return actors.join(QStringLiteral(" → "));
}

} // namespace

RunDetailPane::RunDetailPane(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);

    m_header = new QWidget(this);
    m_grid = new QGridLayout(m_header);
    m_grid->setContentsMargins(8, 6, 8, 2);
    m_grid->setHorizontalSpacing(10);
    m_grid->setVerticalSpacing(3);

    m_title = new QLabel(m_header);
    m_title->setObjectName(QStringLiteral("runTitle"));
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.3);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_title->setAccessibleName(tr("Agent"));
    m_status = new QLabel(m_header);
    m_status->setObjectName(QStringLiteral("runStatus"));
    QFont statusFont = m_status->font();
    statusFont.setBold(true);
    m_status->setFont(statusFont);
    m_status->setAccessibleName(tr("Status"));
    auto *titleRow = new QHBoxLayout;
    titleRow->addWidget(m_title);
    titleRow->addSpacing(8);
    titleRow->addWidget(m_status);
    titleRow->addStretch(1);
    m_grid->addLayout(titleRow, 0, 0, 1, 6);

    m_principal = addField(1, 0, tr("Principal"), tr("Who the run acts for, and through whom"));
    m_provider = addField(1, 2, tr("Provider"), tr("Profile provider that reported the run"));
    m_started = addField(1, 4, tr("Started"), tr("When the run started"));
    m_tokens = addField(2, 0, tr("Tokens in/out"), tr("Model tokens, input / output"));
    m_cost = addField(2, 2, tr("Cost"), tr("Model and tool spend"));
    m_ended = addField(2, 4, tr("Ended"), tr("When the run ended"));
    m_counters = addField(3, 0, tr("Activity"), tr("Tool calls, policy blocks, data sources"));
    m_runId = addField(3, 2, tr("Run id"), tr("Breaker's run id"));
    m_externalIds = addField(4, 0, tr("External ids"), tr("Ids the providers know the run by"));
    m_grid->addWidget(m_externalIds, 4, 1, 1, 5);
    m_goal = addField(5, 0, tr("Goal"), tr("What the run was asked to do"));
    m_grid->addWidget(m_goal, 5, 1, 1, 5);
    m_goal->setWordWrap(true);
    m_grid->setColumnStretch(1, 3);
    m_grid->setColumnStretch(3, 2);
    m_grid->setColumnStretch(5, 2);
    layout->addWidget(m_header);

    m_timelineModel = new TimelineModel(this);
    m_timelineView = new TimelineView(this);
    m_timelineView->setModel(m_timelineModel);
    m_timelineView->setAccessibleName(tr("Run timeline"));
    m_timelineView->setToolTip(tr("The run's events on one time axis; Up/Down to move, "
                                  "Left to the parent span"));
    m_legend = new TimelineLegend(this);
    m_details = new EventDetailsTree(this);

    auto *timelineBox = new QWidget(this);
    auto *timelineLayout = new QVBoxLayout(timelineBox);
    timelineLayout->setContentsMargins(0, 0, 0, 0);
    timelineLayout->setSpacing(2);
    timelineLayout->addWidget(m_timelineView, 1);
    timelineLayout->addWidget(m_legend);

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(timelineBox);
    // The selected event's attributes, and beside them the agent's control map.
    m_side = new QTabWidget(this);
    m_side->setObjectName(QStringLiteral("runSideTabs"));
    m_side->setDocumentMode(true);
    m_controlMap = new ControlMapView(this);
    m_side->addTab(m_details, tr("&Event"));
    m_side->addTab(m_controlMap, tr("Control &map"));
    m_splitter->addWidget(m_side);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    m_splitter->setSizes({650, 350});
    layout->addWidget(m_splitter, 1);

    connect(m_timelineView, &TimelineView::eventSelected, m_details, &EventDetailsTree::setEvent);
    connect(m_timelineView, &TimelineView::eventSelected, this, [this] { m_side->setCurrentWidget(m_details); });
    connect(
        m_timelineView, &TimelineView::selectionCleared, m_details, &EventDetailsTree::clearEvent);
    connect(
        m_timelineModel, &TimelineModel::loadedChanged, this, &RunDetailPane::updatePlaceholder);
    connect(m_timelineModel, &TimelineModel::modelReset, this, &RunDetailPane::updatePlaceholder);

    clearRun();
}

QLabel *RunDetailPane::addField(int row, int column, const QString &caption, const QString &toolTip)
{
    auto *captionLabel = new QLabel(caption + QLatin1Char(':'), m_header);
    QPalette pal = captionLabel->palette();
    pal.setColor(QPalette::WindowText, pal.color(QPalette::PlaceholderText));
    captionLabel->setPalette(pal);
    auto *value = new QLabel(m_header);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    value->setAccessibleName(caption);
    value->setToolTip(toolTip);
    value->setTextFormat(Qt::PlainText);
    captionLabel->setBuddy(value);
    m_grid->addWidget(captionLabel, row, column, Qt::AlignRight | Qt::AlignTop);
    m_grid->addWidget(value, row, column + 1);
    return value;
}

void RunDetailPane::showRun(const Run &run)
{
    const bool otherRun = !m_run || m_run->id != run.id;
    m_run = run;
    if (otherRun) {
        m_details->clearEvent();
        m_details->setCurrency(run.currency);
        m_timelineModel->setRunId(run.id);
    }
    updateHeader();
    updatePlaceholder();
}

void RunDetailPane::clearRun()
{
    m_run.reset();
    m_details->clearEvent();
    m_timelineModel->clear();
    updateHeader();
    updatePlaceholder();
}

void RunDetailPane::setUtc(bool utc)
{
    if (utc == m_utc)
        return;
    m_utc = utc;
    m_details->setUtc(utc);
    updateHeader();
}

void RunDetailPane::updatePlaceholder()
{
    if (!m_run)
        m_timelineView->setPlaceholderText(tr("Select a run to see its timeline."));
    else if (!m_timelineModel->isLoaded())
        m_timelineView->setPlaceholderText(tr("Loading the timeline…"));
    else
        m_timelineView->setPlaceholderText(tr("No events recorded for this run yet."));
}

void RunDetailPane::updateHeader()
{
    const QList<QLabel *> values = {m_principal,
                                    m_provider,
                                    m_started,
                                    m_ended,
                                    m_tokens,
                                    m_cost,
                                    m_counters,
                                    m_runId,
                                    m_externalIds,
                                    m_goal};
    m_header->setEnabled(m_run.has_value());
    if (!m_run) {
        m_title->setText(tr("No run selected"));
        m_title->setToolTip({});
        m_status->clear();
        for (QLabel *label : values)
            label->setText(QStringLiteral("—"));
        return;
    }
    const Run &run = *m_run;
    QFont titleFont = m_title->font();
    titleFont.setItalic(!run.agentBound);
    m_title->setFont(titleFont);
    m_title->setText(QString::fromUtf8(run.agent)
                     + (run.agentBound ? QString() : tr(" (not in the profile)")));
    m_title->setToolTip(run.agentBound ? QString() : tr("not in the profile: control map all TBD"));

    m_status->setText(RunFormat::statusLabel(run.status));
    const QColor color = RunFormat::statusColor(run.status);
    QPalette pal = palette();
    if (color.isValid())
        pal.setColor(QPalette::WindowText, color);
    m_status->setPalette(pal);

    QString principal
        = run.principal.isEmpty() ? QStringLiteral("—") : QString::fromUtf8(run.principal);
    QString chain = delegationText(run.delegationJson);
    // The chain starts with the principal itself; say only who it went through.
    const QString principalPrefix = QString::fromUtf8(run.principal) + QStringLiteral(" → ");
    if (chain.startsWith(principalPrefix))
        chain = chain.mid(principalPrefix.size());
    else if (chain == QString::fromUtf8(run.principal))
        chain.clear();
    if (!chain.isEmpty())
        principal += tr(" (via %1)").arg(chain);
    m_principal->setText(principal);
    m_provider->setText(run.provider.isEmpty() ? QStringLiteral("—")
                                               : QString::fromUtf8(run.provider));
    m_started->setText(RunFormat::fullTime(run.startedMs, m_utc));
    m_ended->setText(run.endedMs > 0          ? RunFormat::fullTime(run.endedMs, m_utc)
                     : isTerminal(run.status) ? RunFormat::fullTime(run.updatedMs, m_utc)
                                              : tr("still running"));
    m_tokens->setText(RunFormat::count(run.inputTokens) + QStringLiteral(" / ")
                      + RunFormat::count(run.outputTokens));
    m_cost->setText(RunFormat::money(run.costMicros, run.currency));
    m_counters->setText(
        RunFormat::plural(run.toolCalls, tr("%1 tool call"), tr("%1 tool calls"))
        + QStringLiteral(" · ")
        + RunFormat::plural(run.policyBlocks, tr("%1 policy block"), tr("%1 policy blocks"))
        + QStringLiteral(" · ")
        + RunFormat::plural(run.dataSources, tr("%1 data source"), tr("%1 data sources"))
        + (run.approvalsPending > 0 ? QStringLiteral(" · ")
                                          + RunFormat::plural(run.approvalsPending,
                                                              tr("%1 approval pending"),
                                                              tr("%1 approvals pending"))
                                    : QString())
        + (run.errors > 0 ? QStringLiteral(" · ")
                                + RunFormat::plural(run.errors, tr("%1 error"), tr("%1 errors"))
                          : QString()));
    m_runId->setText(QString::fromUtf8(run.id));
    m_externalIds->setText(externalIdsText(run.externalIdsJson));
    m_goal->setText(run.goal.isEmpty() ? QStringLiteral("—") : QString::fromUtf8(run.goal));
}

QString RunDetailPane::summaryText() const
{
    QStringList lines;
    lines << m_title->text() + QStringLiteral(" — ") + m_status->text();
    for (QLabel *label : {m_principal,
                          m_provider,
                          m_started,
                          m_ended,
                          m_tokens,
                          m_cost,
                          m_counters,
                          m_runId,
                          m_externalIds,
                          m_goal}) {
        lines << label->accessibleName() + QStringLiteral(": ") + label->text();
    }
    return lines.join(QLatin1Char('\n'));
}

void RunDetailPane::showControlMap(const QByteArray &agent, const std::vector<ControlMapRow> &rows)
{
    m_controlMap->showMap(agent, rows);
    m_side->setTabText(m_side->indexOf(m_controlMap),
                       agent.isEmpty() ? tr("Control &map") : tr("Control &map: %1").arg(QString::fromUtf8(agent)));
}

void RunDetailPane::showControlMapTab()
{
    m_side->setCurrentWidget(m_controlMap);
}

} // namespace Breaker
