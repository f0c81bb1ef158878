#include "views/ProblemLog.h"

#include <QDateTime>

namespace Breaker {

ProblemLog::ProblemLog(QWidget *parent)
    : QListWidget(parent)
{
    setAccessibleName(tr("Problem log"));
    setToolTip(tr("Problems the providers reported, newest first"));
    setWordWrap(true);
    setAlternatingRowColors(true);
}

void ProblemLog::addProblem(const QString &message)
{
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss"));
    auto *item = new QListWidgetItem(stamp + QStringLiteral("  ") + message);
    item->setToolTip(message);
    insertItem(0, item);
    while (count() > kMaxEntries)
        delete takeItem(count() - 1);
}

} // namespace Breaker
