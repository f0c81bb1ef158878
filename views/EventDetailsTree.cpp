#include "views/EventDetailsTree.h"

#include "views/RunFormat.h"
#include "views/TimelineModel.h"

#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

#include <algorithm>

namespace Breaker {

namespace {

QString statusText(int code)
{
    switch (code) {
    case 0:
        return QObject::tr("unset");
    case 1:
        return QObject::tr("ok");
    case 2:
        return QObject::tr("error");
    default:
        return QString::number(code);
    }
}

QString scalarText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double: {
        const double d = value.toDouble();
        const qint64 i = value.toInteger();
        if (double(i) == d)
            return QString::number(i);
        return QString::number(d, 'g', 15);
    }
    case QJsonValue::String:
        return value.toString();
    default:
        return {};
    }
}

} // namespace

EventDetailsTree::EventDetailsTree(QWidget *parent)
    : QTreeWidget(parent)
{
    setColumnCount(2);
    setHeaderLabels({tr("Field"), tr("Value")});
    setRootIsDecorated(true);
    setUniformRowHeights(true);
    setAlternatingRowColors(true);
    setSelectionBehavior(SelectRows);
    setTextElideMode(Qt::ElideRight);
    setWordWrap(false);
    header()->setSectionResizeMode(0, QHeaderView::Interactive);
    header()->setStretchLastSection(true);
    header()->resizeSection(0, fontMetrics().horizontalAdvance(QLatin1Char('m')) * 11);
    header()->setAccessibleName(tr("Event attribute columns"));
    setAccessibleName(tr("Event attributes"));
    setToolTip(tr("The selected event's fields and attributes"));
}

QSize EventDetailsTree::sizeHint() const
{
    // Room for a key and a value side by side.
    const int em = fontMetrics().horizontalAdvance(QLatin1Char('m'));
    return {em * 40, em * 24};
}

void EventDetailsTree::setEvent(const RunEvent &event)
{
    m_event = event;
    rebuild();
}

void EventDetailsTree::clearEvent()
{
    m_event.reset();
    clear();
}

void EventDetailsTree::setUtc(bool utc)
{
    if (utc == m_utc)
        return;
    m_utc = utc;
    if (m_event)
        rebuild();
}

void EventDetailsTree::setCurrency(const QByteArray &currency)
{
    if (currency == m_currency)
        return;
    m_currency = currency;
    if (m_event)
        rebuild();
}

void EventDetailsTree::rebuild()
{
    clear();
    if (!m_event)
        return;
    const RunEvent &e = *m_event;
    const auto field = [this](const QString &key, const QString &value) {
        auto *item = new QTreeWidgetItem(this, {key, value});
        item->setToolTip(1, value);
        return item;
    };
    field(tr("kind"), QString::fromLatin1(toWireName(e.kind)));
    field(tr("name"), QString::fromUtf8(e.name));
    field(tr("start"), RunFormat::fullTimeNs(e.startNs, m_utc));
    field(tr("end"), e.endNs > 0 ? RunFormat::fullTimeNs(e.endNs, m_utc) : tr("still open"));
    if (e.endNs > 0 && e.endNs == e.startNs)
        field(tr("duration"), tr("instant"));
    else if (e.endNs > 0 && e.endNs > e.startNs)
        field(tr("duration"), RunFormat::durationNs(e.endNs - e.startNs));
    QTreeWidgetItem *status = field(tr("status"), statusText(e.statusCode));
    if (e.statusCode == 2)
        status->setForeground(1, QColor(0xd3, 0x2f, 0x2f));
    if (e.inputTokens || e.outputTokens)
        field(tr("tokens"), RunFormat::tokens(e.inputTokens, e.outputTokens));
    if (e.costMicros)
        field(tr("cost"), RunFormat::money(e.costMicros, m_currency));
    if (!e.spanId.isEmpty())
        field(tr("span id"), QString::fromLatin1(e.spanId));
    if (!e.parentSpanId.isEmpty())
        field(tr("parent span id"), QString::fromLatin1(e.parentSpanId));
    if (!e.traceId.isEmpty())
        field(tr("trace id"), QString::fromLatin1(e.traceId));
    if (e.id != 0)
        field(tr("event id"), QString::number(e.id));

    auto *attributes = new QTreeWidgetItem(this, {tr("attributes")});
    if (!e.attributesJson.isEmpty()) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(e.attributesJson, &error);
        if (error.error != QJsonParseError::NoError) {
            attributes->setText(
                1,
                tr("not JSON (%1): %2")
                    .arg(error.errorString(), QString::fromUtf8(e.attributesJson.left(200))));
        } else if (doc.isObject()) {
            const QJsonObject object = doc.object();
            for (auto it = object.begin(); it != object.end(); ++it)
                addValue(attributes, it.key(), it.value());
        } else if (doc.isArray()) {
            addValue(attributes, tr("(array)"), doc.array());
        }
    }
    if (attributes->childCount() == 0 && attributes->text(1).isEmpty())
        attributes->setText(1, tr("none"));
    expandAll();
    // Long attribute keys ("gen_ai.usage.output_tokens") fit, up to half the width.
    resizeColumnToContents(0);
    const int limit
        = std::max(viewport()->width() / 2, fontMetrics().horizontalAdvance(QLatin1Char('m')) * 11);
    if (columnWidth(0) > limit)
        setColumnWidth(0, limit);
}

void EventDetailsTree::addValue(QTreeWidgetItem *parent,
                                const QString &key,
                                const QJsonValue &value)
{
    auto *item = new QTreeWidgetItem(parent, {key});
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        item->setText(1,
                      QLatin1Char('{')
                          + RunFormat::plural(object.size(), tr("%1 key"), tr("%1 keys"))
                          + QLatin1Char('}'));
        for (auto it = object.begin(); it != object.end(); ++it)
            addValue(item, it.key(), it.value());
    } else if (value.isArray()) {
        const QJsonArray array = value.toArray();
        item->setText(1,
                      QLatin1Char('[')
                          + RunFormat::plural(array.size(), tr("%1 item"), tr("%1 items"))
                          + QLatin1Char(']'));
        for (qsizetype i = 0; i < array.size(); ++i)
            addValue(item, QStringLiteral("[%1]").arg(i), array.at(i));
    } else {
        const QString text = scalarText(value);
        item->setText(1, text);
        item->setToolTip(1, text);
    }
}

QString EventDetailsTree::valueAt(const QStringList &path) const
{
    if (path.isEmpty())
        return {};
    QTreeWidgetItem *item = nullptr;
    for (int i = 0; i < topLevelItemCount(); ++i) {
        if (topLevelItem(i)->text(0) == path.first()) {
            item = topLevelItem(i);
            break;
        }
    }
    for (qsizetype depth = 1; item && depth < path.size(); ++depth) {
        QTreeWidgetItem *next = nullptr;
        for (int i = 0; i < item->childCount(); ++i) {
            if (item->child(i)->text(0) == path.at(depth)) {
                next = item->child(i);
                break;
            }
        }
        item = next;
    }
    return item ? item->text(1) : QString();
}

} // namespace Breaker
