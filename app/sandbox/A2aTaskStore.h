#pragma once

#include "app/sandbox/A2aCodec.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace Breaker::A2a {

// One A2A task as the sandbox keeps it (v1.0 shapes inside).
struct Task
{
    QString id;
    QString contextId;
    TaskState state = TaskState::Submitted;
    QJsonObject statusMessage; // the current status.message, if any
    QString timestamp;         // of the current status
    QJsonArray history;        // messages, oldest first
    QJsonArray artifacts;
    quint64 runId = 0; // the sandbox run behind it
};

// An agent's tasks in memory, like a2a-js's InMemoryTaskStore, but bounded: only the newest
// maxTerminal terminal tasks are kept (active ones always are).
class TaskStore
{
public:
    explicit TaskStore(int maxTerminal = 2000)
        : m_maxTerminal(maxTerminal)
    {}

    Task *find(const QString &id);
    Task &create(const QString &id, const QString &contextId, quint64 runId);
    // Moves the task to state (a terminal task never changes again: returns false). The
    // status message also goes into the history, as a2a-js does.
    bool setState(Task &task, TaskState state, const QJsonObject &message = {});
    int size() const { return int(m_tasks.size()); }

    struct ListQuery
    {
        QString contextId;
        std::optional<TaskState> status;
        int pageSize = 50;
        QString pageToken;
    };
    struct ListResult
    {
        std::vector<const Task *> tasks;
        QString nextPageToken; // "" on the last page
        int pageSize = 0;
        int totalSize = 0;
    };
    // Newest status first (ties: id descending), as a2a-js sorts. Errors: pageSize, pageToken.
    std::optional<ListResult> list(const ListQuery &query, Error *error) const;

private:
    void evict();

    int m_maxTerminal;
    QHash<QString, std::shared_ptr<Task>> m_tasks;
    std::deque<QString> m_terminalOrder; // oldest terminal first
};

} // namespace Breaker::A2a
