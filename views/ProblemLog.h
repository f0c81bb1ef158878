#pragma once

#include <QListWidget>

namespace Breaker {

// The recent problems the feed reported (which provider, what it said), newest first, capped.
class ProblemLog : public QListWidget
{
    Q_OBJECT
public:
    static constexpr int kMaxEntries = 200;

    explicit ProblemLog(QWidget *parent = nullptr);

    void addProblem(const QString &message);
};

} // namespace Breaker
