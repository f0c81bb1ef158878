#include "views/TimelineModel.h"

#include "views/RunFormat.h"

#include <algorithm>
#include <utility>

namespace Breaker {

TimelineModel::TimelineModel(QObject *parent)
    : QAbstractListModel(parent)
{}

QByteArray TimelineModel::keyOf(const RunEvent &event)
{
    if (!event.spanId.isEmpty())
        return QByteArrayLiteral("s:") + event.spanId;
    if (event.id != 0)
        return QByteArrayLiteral("i:") + QByteArray::number(event.id);
    return {};
}

void TimelineModel::setRunId(const QByteArray &runId)
{
    if (runId == m_runId)
        return;
    beginResetModel();
    m_runId = runId;
    m_rows.clear();
    m_rowByKey.clear();
    const bool wasLoaded = m_loaded;
    m_loaded = false;
    endResetModel();
    updateAxis();
    if (wasLoaded)
        emit loadedChanged(false);
}

void TimelineModel::clear()
{
    setRunId({});
}

void TimelineModel::setEvents(const QByteArray &runId, const std::vector<RunEvent> &events)
{
    if (runId != m_runId)
        return;
    beginResetModel();
    std::vector<Row> previous;
    previous.swap(m_rows);
    m_rowByKey.clear();
    for (const RunEvent &event : events) {
        const QByteArray key = keyOf(event);
        if (!key.isEmpty()) {
            const auto it = m_rowByKey.constFind(key);
            if (it != m_rowByKey.cend()) {
                m_rows[size_t(*it)].event = event;
                continue;
            }
            m_rowByKey.insert(key, int(m_rows.size()));
        }
        m_rows.push_back({event, 0});
    }
    // Live events that arrived while the load was under way and are newer than its snapshot.
    for (Row &row : previous) {
        const QByteArray key = keyOf(row.event);
        if (key.isEmpty() || m_rowByKey.contains(key))
            continue;
        m_rowByKey.insert(key, int(m_rows.size()));
        m_rows.push_back(std::move(row));
    }
    applyOrder(false);
    const bool wasLoaded = m_loaded;
    m_loaded = true;
    endResetModel();
    updateAxis();
    if (!wasLoaded)
        emit loadedChanged(true);
}

void TimelineModel::appendEvents(const std::vector<RunEvent> &events)
{
    if (m_runId.isEmpty())
        return;
    std::vector<int> replaced;
    std::vector<RunEvent> fresh;
    QHash<QByteArray, size_t> freshByKey;
    for (const RunEvent &event : events) {
        if (event.runId != m_runId)
            continue;
        const QByteArray key = keyOf(event);
        if (!key.isEmpty()) {
            const auto it = m_rowByKey.constFind(key);
            if (it != m_rowByKey.cend()) {
                m_rows[size_t(*it)].event = event;
                replaced.push_back(*it);
                continue;
            }
            const auto f = freshByKey.constFind(key);
            if (f != freshByKey.cend()) {
                fresh[*f] = event;
                continue;
            }
            freshByKey.insert(key, fresh.size());
        }
        fresh.push_back(event);
    }
    if (replaced.empty() && fresh.empty())
        return;

    for (int row : replaced)
        emit dataChanged(index(row), index(row));

    if (!fresh.empty()) {
        const int first = int(m_rows.size());
        beginInsertRows(QModelIndex(), first, first + int(fresh.size()) - 1);
        for (RunEvent &event : fresh) {
            const QByteArray key = keyOf(event);
            if (!key.isEmpty())
                m_rowByKey.insert(key, int(m_rows.size()));
            m_rows.push_back({std::move(event), 0});
        }
        endInsertRows();
    }
    // A replaced span may have a new parent or start; a new one may adopt earlier roots.
    applyOrder(true);
    updateAxis();
}

std::vector<int> TimelineModel::waterfallOrder(std::vector<int> &depths) const
{
    const int n = int(m_rows.size());
    QHash<QByteArray, int> bySpan;
    bySpan.reserve(n);
    for (int i = 0; i < n; ++i) {
        const QByteArray &spanId = m_rows[size_t(i)].event.spanId;
        if (!spanId.isEmpty())
            bySpan.insert(spanId, i);
    }
    const auto earlier = [this](int a, int b) {
        const RunEvent &ea = m_rows[size_t(a)].event;
        const RunEvent &eb = m_rows[size_t(b)].event;
        if (ea.startNs != eb.startNs)
            return ea.startNs < eb.startNs;
        if (ea.endNs != eb.endNs)
            return ea.endNs > eb.endNs; // the enclosing span first
        return a < b;                   // arrival order
    };

    std::vector<std::vector<int>> children(static_cast<size_t>(n));
    std::vector<int> roots;
    for (int i = 0; i < n; ++i) {
        const QByteArray &parentId = m_rows[size_t(i)].event.parentSpanId;
        const int parent = parentId.isEmpty() ? -1 : bySpan.value(parentId, -1);
        if (parent < 0 || parent == i)
            roots.push_back(i);
        else
            children[size_t(parent)].push_back(i);
    }
    std::sort(roots.begin(), roots.end(), earlier);
    for (auto &list : children)
        std::sort(list.begin(), list.end(), earlier);

    std::vector<int> order;
    order.reserve(size_t(n));
    depths.assign(size_t(n), 0);
    std::vector<bool> visited(static_cast<size_t>(n), false);
    std::vector<std::pair<int, int>> stack; // (row, depth)
    const auto walk = [&](int root) {
        stack.emplace_back(root, 0);
        while (!stack.empty()) {
            const auto [row, depth] = stack.back();
            stack.pop_back();
            if (visited[size_t(row)])
                continue;
            visited[size_t(row)] = true;
            order.push_back(row);
            depths[size_t(row)] = depth;
            const auto &kids = children[size_t(row)];
            for (auto it = kids.rbegin(); it != kids.rend(); ++it)
                stack.emplace_back(*it, depth + 1);
        }
    };
    for (int root : roots)
        walk(root);
    if (int(order.size()) < n) {
        // Spans whose parent links form a loop: show them as roots rather than lose them.
        std::vector<int> rest;
        for (int i = 0; i < n; ++i) {
            if (!visited[size_t(i)])
                rest.push_back(i);
        }
        std::sort(rest.begin(), rest.end(), earlier);
        for (int row : rest)
            walk(row);
    }
    return order;
}

void TimelineModel::applyOrder(bool emitLayout)
{
    std::vector<int> depths;
    const std::vector<int> order = waterfallOrder(depths);
    const int n = int(order.size());
    bool moved = false;
    for (int i = 0; i < n; ++i) {
        if (order[size_t(i)] != i) {
            moved = true;
            break;
        }
    }

    std::vector<int> depthChanged; // new row numbers
    if (!moved) {
        for (int i = 0; i < n; ++i) {
            if (m_rows[size_t(i)].depth != depths[size_t(i)]) {
                m_rows[size_t(i)].depth = depths[size_t(i)];
                depthChanged.push_back(i);
            }
        }
    } else {
        if (emitLayout)
            emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
        std::vector<Row> sorted;
        sorted.reserve(size_t(n));
        std::vector<int> newRowOf(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
            const int old = order[size_t(i)];
            newRowOf[size_t(old)] = i;
            Row row = std::move(m_rows[size_t(old)]);
            if (row.depth != depths[size_t(old)]) {
                row.depth = depths[size_t(old)];
                depthChanged.push_back(i);
            }
            sorted.push_back(std::move(row));
        }
        m_rows = std::move(sorted);
        rebuildKeys();
        if (emitLayout) {
            const QModelIndexList from = persistentIndexList();
            QModelIndexList to;
            to.reserve(from.size());
            for (const QModelIndex &idx : from)
                to.append(index(newRowOf[size_t(idx.row())], idx.column()));
            changePersistentIndexList(from, to);
            emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
        }
    }
    if (emitLayout) {
        for (int row : depthChanged)
            emit dataChanged(index(row), index(row), {DepthRole});
    }
}

void TimelineModel::rebuildKeys()
{
    m_rowByKey.clear();
    for (size_t i = 0; i < m_rows.size(); ++i) {
        const QByteArray key = keyOf(m_rows[i].event);
        if (!key.isEmpty())
            m_rowByKey.insert(key, int(i));
    }
}

void TimelineModel::updateAxis()
{
    qint64 start = 0;
    qint64 end = 0;
    for (const Row &row : m_rows) {
        const RunEvent &e = row.event;
        if (e.startNs > 0 && (start == 0 || e.startNs < start))
            start = e.startNs;
        end = std::max({end, e.startNs, e.endNs});
    }
    if (start == m_axisStartNs && end == m_axisEndNs)
        return;
    m_axisStartNs = start;
    m_axisEndNs = end;
    emit axisChanged();
}

std::vector<RunEvent> TimelineModel::events() const
{
    std::vector<RunEvent> out;
    out.reserve(m_rows.size());
    for (const Row &row : m_rows)
        out.push_back(row.event);
    return out;
}

int TimelineModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant TimelineModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    const RunEvent &e = row.event;
    switch (role) {
    case Qt::DisplayRole:
        return e.name.isEmpty() ? kindLabel(e.kind) : QString::fromUtf8(e.name);
    case Qt::ToolTipRole:
    case Qt::AccessibleTextRole: {
        QString text = (e.name.isEmpty() ? kindLabel(e.kind) : QString::fromUtf8(e.name))
                       + QStringLiteral(" — ") + kindLabel(e.kind);
        if (e.endNs > 0 && e.endNs >= e.startNs)
            text += QStringLiteral(", ") + RunFormat::durationNs(e.endNs - e.startNs);
        else if (e.endNs == 0)
            text += tr(", still open");
        if (e.statusCode == 2)
            text += tr(", error");
        return text;
    }
    case Qt::DecorationRole:
    case KindColorRole:
        return kindColor(e.kind);
    case KindRole:
        return int(e.kind);
    case DepthRole:
        return row.depth;
    case StartNsRole:
        return e.startNs;
    case EndNsRole:
        return e.endNs;
    case StatusCodeRole:
        return e.statusCode;
    case SpanIdRole:
        return e.spanId;
    case EventRole:
        return QVariant::fromValue(e);
    default:
        return {};
    }
}

QColor TimelineModel::kindColor(EventKind kind)
{
    // Distinct hues, dark enough for white text hints and visible on a dark theme.
    switch (kind) {
    case EventKind::ModelCall:
        return QColor(0x7e, 0x57, 0xc2); // purple
    case EventKind::ToolCall:
        return QColor(0x1e, 0x88, 0xe5); // blue
    case EventKind::DataAccess:
        return QColor(0x00, 0x89, 0x7b); // teal
    case EventKind::PolicyBlock:
        return QColor(0xd8, 0x1b, 0x60); // magenta
    case EventKind::ApprovalRequested:
        return QColor(0xff, 0xa0, 0x00); // amber
    case EventKind::ApprovalDecided:
        return QColor(0xef, 0x6c, 0x00); // orange
    case EventKind::Spend:
        return QColor(0x43, 0xa0, 0x47); // green
    case EventKind::StatusChange:
        return QColor(0x54, 0x6e, 0x7a); // blue grey
    case EventKind::Error:
        return QColor(0xc6, 0x28, 0x28); // red
    case EventKind::OperatorAction:
        return QColor(0x39, 0x49, 0xab); // indigo
    case EventKind::AgentInvocation:
        return QColor(0x90, 0xa4, 0xae); // slate
    case EventKind::Span:
        break;
    }
    return QColor(0xa0, 0xa0, 0xa0); // grey
}

QString TimelineModel::kindLabel(EventKind kind)
{
    switch (kind) {
    case EventKind::ModelCall:
        return tr("model call");
    case EventKind::ToolCall:
        return tr("tool call");
    case EventKind::DataAccess:
        return tr("data access");
    case EventKind::PolicyBlock:
        return tr("policy block");
    case EventKind::ApprovalRequested:
        return tr("approval requested");
    case EventKind::ApprovalDecided:
        return tr("approval decided");
    case EventKind::Spend:
        return tr("spend");
    case EventKind::StatusChange:
        return tr("status change");
    case EventKind::Error:
        return tr("error");
    case EventKind::OperatorAction:
        return tr("operator action");
    case EventKind::AgentInvocation:
        return tr("agent");
    case EventKind::Span:
        break;
    }
    return tr("span");
}

std::vector<EventKind> TimelineModel::legendKinds()
{
    return {EventKind::AgentInvocation,
            EventKind::ModelCall,
            EventKind::ToolCall,
            EventKind::DataAccess,
            EventKind::PolicyBlock,
            EventKind::ApprovalRequested,
            EventKind::ApprovalDecided,
            EventKind::Spend,
            EventKind::Error,
            EventKind::StatusChange,
            EventKind::OperatorAction,
            EventKind::Span};
}

} // namespace Breaker
