#include "models/AuditCsv.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

#include <cmath>

namespace Breaker {

namespace {

// A cell's text: strings as they are, numbers as written in JSON, objects as compact JSON.
QByteArray cellText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::String:
        return value.toString().toUtf8();
    case QJsonValue::Double: {
        const double d = value.toDouble();
        if (std::trunc(d) == d && std::fabs(d) < 9007199254740992.0)
            return QByteArray::number(qint64(d));
        return QByteArray::number(d, 'g', 17);
    }
    case QJsonValue::Bool:
        return value.toBool() ? QByteArrayLiteral("true") : QByteArrayLiteral("false");
    case QJsonValue::Object:
        return QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    case QJsonValue::Array:
        return QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact);
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

void appendCell(QByteArray &out, QByteArray text)
{
    // OWASP: a leading = + - @ tab or CR makes a formula; the apostrophe makes it text.
    if (!text.isEmpty()) {
        switch (text.front()) {
        case '=':
        case '+':
        case '-':
        case '@':
        case '\t':
        case '\r':
            text.prepend('\'');
            break;
        default:
            break;
        }
    }
    const bool quote
        = text.contains(',') || text.contains('"') || text.contains('\r') || text.contains('\n');
    if (!quote) {
        out += text;
        return;
    }
    out += '"';
    out += text.replace("\"", "\"\"");
    out += '"';
}

} // namespace

QByteArray auditCsvHeader()
{
    return QByteArrayLiteral("seq,ts,actor_kind,actor_id,actor_host,action,agent,run,principal,"
                             "layer,provider,object,reason,outcome,detail,prev\r\n");
}

QByteArray auditCsvRow(const QJsonObject &record)
{
    const QJsonObject actor = record.value(QLatin1String("actor")).toObject();
    const QJsonObject target = record.value(QLatin1String("target")).toObject();
    const QJsonValue cells[] = {
        record.value(QLatin1String("seq")),
        record.value(QLatin1String("ts")),
        actor.value(QLatin1String("kind")),
        actor.value(QLatin1String("id")),
        actor.value(QLatin1String("host")),
        record.value(QLatin1String("action")),
        target.value(QLatin1String("agent")),
        target.value(QLatin1String("run")),
        target.value(QLatin1String("principal")),
        target.value(QLatin1String("layer")),
        target.value(QLatin1String("provider")),
        target.value(QLatin1String("object")),
        record.value(QLatin1String("reason")),
        record.value(QLatin1String("outcome")),
        record.value(QLatin1String("detail")),
        record.value(QLatin1String("prev")),
    };
    QByteArray out;
    out.reserve(512);
    bool first = true;
    for (const QJsonValue &cell : cells) {
        if (!first)
            out += ',';
        first = false;
        appendCell(out, cellText(cell));
    }
    out += "\r\n";
    return out;
}

} // namespace Breaker
