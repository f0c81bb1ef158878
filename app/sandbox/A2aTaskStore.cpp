#include "app/sandbox/A2aTaskStore.h"

#include <algorithm>

namespace Breaker::A2a {

Task *TaskStore::find(const QString &id)
{
    const auto it = m_tasks.constFind(id);
    return it == m_tasks.constEnd() ? nullptr : it->get();
}

Task &TaskStore::create(const QString &id, const QString &contextId, quint64 runId)
{
    auto task = std::make_shared<Task>();
    task->id = id;
    task->contextId = contextId;
    task->runId = runId;
    task->timestamp = isoNow();
    Task &ref = *task;
    m_tasks.insert(id, std::move(task));
    return ref;
}

bool TaskStore::setState(Task &task, TaskState state, const QJsonObject &message)
{
    if (isTerminal(task.state))
        return false;
    if (!message.isEmpty()) // a2a-js keeps every status message in the history as it comes
        task.history.append(message);
    task.state = state;
    task.statusMessage = message;
    task.timestamp = isoNow();
    if (isTerminal(state)) {
        m_terminalOrder.push_back(task.id);
        evict();
    }
    return true;
}

void TaskStore::evict()
{
    while (int(m_terminalOrder.size()) > m_maxTerminal) {
        m_tasks.remove(m_terminalOrder.front());
        m_terminalOrder.pop_front();
    }
}

std::optional<TaskStore::ListResult> TaskStore::list(const ListQuery &query, Error *error) const
{
    if (query.pageSize < 1 || query.pageSize > 100) {
        if (error)
            *error
                = {ErrorKind::InvalidParams, QStringLiteral("pageSize must be between 1 and 100")};
        return std::nullopt;
    }
    std::optional<std::pair<QString, QString>> cursor;
    if (!query.pageToken.isEmpty()) {
        cursor = decodePageToken(query.pageToken, error);
        if (!cursor)
            return std::nullopt;
    }
    std::vector<const Task *> all;
    all.reserve(size_t(m_tasks.size()));
    for (const auto &t : m_tasks) {
        if (!query.contextId.isEmpty() && t->contextId != query.contextId)
            continue;
        if (query.status && *query.status != TaskState::Unspecified && t->state != *query.status)
            continue;
        all.push_back(t.get());
    }
    std::sort(all.begin(), all.end(), [](const Task *a, const Task *b) {
        return a->timestamp != b->timestamp ? a->timestamp > b->timestamp : a->id > b->id;
    });
    ListResult result;
    result.totalSize = int(all.size());
    result.pageSize = query.pageSize;
    auto begin = all.begin();
    if (cursor) {
        const auto at = std::find_if(all.begin(), all.end(), [&](const Task *t) {
            return t->timestamp == cursor->first && t->id == cursor->second;
        });
        // As a2a-js: a cursor that no longer matches (the task changed) ends the listing.
        begin = at == all.end() ? all.end() : at + 1;
    }
    const auto remaining = std::distance(begin, all.end());
    const auto take = std::min<std::ptrdiff_t>(remaining, query.pageSize);
    result.tasks.assign(begin, begin + take);
    if (take > 0 && remaining > take) {
        const Task *last = result.tasks.back();
        result.nextPageToken = encodePageToken(last->timestamp, last->id);
    }
    return result;
}

} // namespace Breaker::A2a
