#include "views/ProviderStatusBar.h"

#include "views/RunFormat.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QSet>
#include <QTime>
#include <QToolButton>

#include <algorithm>

namespace Breaker {

namespace {
constexpr int kRecentProblemsInTooltip = 5;
} // namespace

ProviderStatusBar::ProviderStatusBar(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(12);
    m_providers = new QHBoxLayout;
    m_providers->setSpacing(10);
    layout->addLayout(m_providers);

    m_rate = new QLabel(this);
    m_rate->setAccessibleName(tr("Ingest rate"));
    m_rate->setToolTip(tr("Telemetry spans received per second"));
    layout->addWidget(m_rate);
    setIngestRate(0.0);

    m_problems = new QToolButton(this);
    m_problems->setAutoRaise(true);
    m_problems->setText(tr("No problems"));
    m_problems->setAccessibleName(tr("Problems"));
    m_problems->setToolTip(tr("No problems reported by the providers"));
    layout->addWidget(m_problems);
    connect(m_problems, &QToolButton::clicked, this, &ProviderStatusBar::problemsRequested);

    setAccessibleName(tr("Provider status"));
}

QColor ProviderStatusBar::stateColor(ProviderState::State state)
{
    switch (state) {
    case ProviderState::State::Up:
        return QColor(0x2e, 0x9d, 0x45);
    case ProviderState::State::Degraded:
        return QColor(0xe0, 0x8e, 0x00);
    case ProviderState::State::Down:
        return QColor(0xd3, 0x2f, 0x2f);
    case ProviderState::State::Connecting:
        break;
    }
    return QColor(0x8a, 0x8a, 0x8a);
}

QString ProviderStatusBar::stateName(ProviderState::State state)
{
    switch (state) {
    case ProviderState::State::Up:
        return tr("up");
    case ProviderState::State::Degraded:
        return tr("degraded");
    case ProviderState::State::Down:
        return tr("down");
    case ProviderState::State::Connecting:
        break;
    }
    return tr("connecting");
}

void ProviderStatusBar::setProviderStates(const std::vector<ProviderState> &states)
{
    QSet<QString> seen;
    for (const ProviderState &state : states) {
        seen.insert(state.name);
        QLabel *label = m_labels.value(state.name);
        if (!label) {
            label = new QLabel(this);
            label->setTextFormat(Qt::RichText);
            m_providers->addWidget(label);
            label->show(); // now, not on the layout's next queued pass
            m_labels.insert(state.name, label);
        }
        const QColor color = stateColor(state.state);
        label->setText(QStringLiteral("<span style=\"color:%1\">&#9679;</span>&nbsp;%2")
                           .arg(color.name(), state.name.toHtmlEscaped()));
        QString tip = tr("%1 (%2): %3").arg(state.name, state.layer, stateName(state.state));
        if (!state.detail.isEmpty())
            tip += QStringLiteral("\n") + state.detail;
        label->setToolTip(tip);
        label->setAccessibleName(tr("Provider %1").arg(state.name));
        label->setAccessibleDescription(stateName(state.state) + QStringLiteral(": ")
                                        + state.detail);
        label->setProperty("providerState", int(state.state));
    }
    for (auto it = m_labels.begin(); it != m_labels.end();) {
        if (!seen.contains(it.key())) {
            delete it.value();
            it = m_labels.erase(it);
        } else {
            ++it;
        }
    }
}

void ProviderStatusBar::setIngestRate(double spansPerSecond)
{
    const double rate = std::max(0.0, spansPerSecond);
    const int decimals = rate < 10.0 ? 1 : 0;
    m_rate->setText(tr("%1 spans/s").arg(QLocale::c().toString(rate, 'f', decimals)));
}

void ProviderStatusBar::addProblem(const QString &message)
{
    ++m_problemCount;
    m_recentProblems.prepend(QTime::currentTime().toString(QStringLiteral("HH:mm:ss ")) + message);
    while (m_recentProblems.size() > kRecentProblemsInTooltip)
        m_recentProblems.removeLast();
    m_problems->setText(RunFormat::plural(m_problemCount, tr("%1 problem"), tr("%1 problems")));
    m_problems->setToolTip(tr("Latest problems (click for the log):\n%1")
                               .arg(m_recentProblems.join(QLatin1Char('\n'))));
}

QLabel *ProviderStatusBar::providerLabel(const QString &name) const
{
    return m_labels.value(name);
}

QString ProviderStatusBar::rateText() const
{
    return m_rate->text();
}

} // namespace Breaker
