#pragma once

#include "models/RunTypes.h"

#include <QTreeWidget>

#include <optional>

class QJsonValue;

namespace Breaker {

// The attributes pane: the selected event's own fields (kind, name, times, status, ids, what
// it adds to the run) and its attributes JSON as key/value rows, nested objects and arrays
// expanded one level per key.
class EventDetailsTree : public QTreeWidget
{
    Q_OBJECT
public:
    explicit EventDetailsTree(QWidget *parent = nullptr);

    QSize sizeHint() const override;

    void setEvent(const RunEvent &event);
    void clearEvent();
    std::optional<RunEvent> event() const { return m_event; }

    // Times in UTC instead of the local zone.
    void setUtc(bool utc);
    // The currency of the run the event belongs to (its cost is shown in it).
    void setCurrency(const QByteArray &currency);

    // Value text of the top-level or attribute row whose key path is `path`
    // ({"attributes", "gen_ai.usage.input_tokens"}); empty if absent. For tests and a11y tools.
    QString valueAt(const QStringList &path) const;

private:
    void rebuild();
    void addValue(QTreeWidgetItem *parent, const QString &key, const QJsonValue &value);

    std::optional<RunEvent> m_event;
    QByteArray m_currency = QByteArrayLiteral("usd");
    bool m_utc = false;
};

} // namespace Breaker
