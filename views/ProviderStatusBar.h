#pragma once

#include "app/services/RunFeed.h"

#include <QHash>
#include <QString>
#include <QWidget>

#include <vector>

class QHBoxLayout;
class QLabel;
class QToolButton;

namespace Breaker {

// The status bar's permanent part: one label per provider (a coloured dot, its name; the
// tooltip says its layer, state and last words), the ingest rate in spans/s, and a button that
// counts the feed's problems and opens their log.
class ProviderStatusBar : public QWidget
{
    Q_OBJECT
public:
    explicit ProviderStatusBar(QWidget *parent = nullptr);

    void setProviderStates(const std::vector<ProviderState> &states);
    void setIngestRate(double spansPerSecond);
    void addProblem(const QString &message);

    static QColor stateColor(ProviderState::State state);
    static QString stateName(ProviderState::State state);

    // What is shown, for tests: the label of provider `name` (nullptr if none), the rate text.
    QLabel *providerLabel(const QString &name) const;
    QString rateText() const;
    int problemCount() const { return m_problemCount; }

signals:
    void problemsRequested();

private:
    QHBoxLayout *m_providers = nullptr;
    QHash<QString, QLabel *> m_labels;
    QLabel *m_rate = nullptr;
    QToolButton *m_problems = nullptr;
    QStringList m_recentProblems;
    int m_problemCount = 0;
};

} // namespace Breaker
