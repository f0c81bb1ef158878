#include "connectors/tools/OpaCodec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>

namespace Breaker::Opa {

namespace {

const QLatin1String kBlockedTools("blocked_tools");
const QLatin1String kBlockedAgents("blocked_agents");

QByteArray compact(const QJsonValue &value)
{
    if (value.isArray())
        return QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact);
    return QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
}

QJsonObject op(const char *name, const QString &path, const std::optional<QJsonValue> &value = {})
{
    QJsonObject o{{QStringLiteral("op"), QLatin1String(name)}, {QStringLiteral("path"), path}};
    if (value)
        o.insert(QStringLiteral("value"), *value);
    return o;
}

QString agentPointer(const QString &agent)
{
    return QStringLiteral("/blocked_tools/") + escapePointerToken(agent);
}

Result<QStringList> stringList(const QJsonValue &value, const QString &what)
{
    if (!value.isArray())
        return makeError(Error::Kind::Invalid, QStringLiteral("%1 is not an array").arg(what));
    QStringList out;
    for (const QJsonValue &v : value.toArray()) {
        if (!v.isString())
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("%1 holds something that is not a string").arg(what));
        out << v.toString();
    }
    return out;
}

} // namespace

Result<QStringList> documentSegments(const QString &package)
{
    // The profile schema's pattern: identifiers separated by "." or "/".
    // \z, not $: $ also matches before a final newline ("a\n" was accepted; found by fuzz_opa).
    static const QRegularExpression identifier(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*\\z"));
    QString p = package.trimmed();
    if (p.isEmpty())
        p = QStringLiteral("breaker");
    QStringList segments = p.split(QRegularExpression(QStringLiteral("[./]")));
    for (const QString &s : std::as_const(segments)) {
        if (!identifier.match(s).hasMatch())
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("the OPA package \"%1\" is not a path of identifiers "
                                            "separated by \"/\" or \".\"")
                                 .arg(package),
                             QStringLiteral("package"));
    }
    if (segments.last() != QLatin1String("killswitch"))
        segments << QStringLiteral("killswitch");
    return segments;
}

QString documentPath(const QStringList &segments)
{
    return QStringLiteral("/v1/data/") + segments.join(QLatin1Char('/'));
}

QString decisionPath(const QStringList &segments)
{
    return documentPath(segments) + QStringLiteral("/allow");
}

QString escapePointerToken(const QString &token)
{
    // Order matters (RFC 6901 section 4): "~" first, or "/" → "~1" would become "~01".
    QString out = token;
    out.replace(QLatin1Char('~'), QLatin1String("~0"));
    out.replace(QLatin1Char('/'), QLatin1String("~1"));
    return out;
}

QString unescapePointerToken(const QString &token)
{
    // The reverse order: "~01" is the token "~1", not "/".
    QString out = token;
    out.replace(QLatin1String("~1"), QLatin1String("/"));
    out.replace(QLatin1String("~0"), QLatin1String("~"));
    return out;
}

QByteArray emptyDocument()
{
    return compact(QJsonObject{{kBlockedAgents, QJsonArray()}, {kBlockedTools, QJsonObject()}});
}

std::optional<QStringList> Document::toolsOf(const QString &agent) const
{
    const auto it = blockedTools.constFind(agent);
    if (it == blockedTools.constEnd())
        return std::nullopt;
    return *it;
}

Result<Document> parseDocument(const QJsonValue &result)
{
    if (!result.isObject())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the kill-switch document is not a JSON object"));
    const QJsonObject o = result.toObject();
    Document doc;
    if (o.contains(kBlockedTools)) {
        const QJsonValue tools = o.value(kBlockedTools);
        if (!tools.isObject())
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("blocked_tools in the kill-switch document is not an "
                                            "object of agent → tool names"));
        doc.hasBlockedTools = true;
        const QJsonObject byAgent = tools.toObject();
        for (auto it = byAgent.begin(); it != byAgent.end(); ++it) {
            auto list
                = stringList(it.value(), QStringLiteral("blocked_tools[\"%1\"]").arg(it.key()));
            if (!list)
                return list.error();
            doc.blockedTools.insert(it.key(), *list);
        }
    }
    if (o.contains(kBlockedAgents)) {
        auto agents = stringList(o.value(kBlockedAgents), QStringLiteral("blocked_agents"));
        if (!agents)
            return agents.error();
        doc.blockedAgents = *agents;
    }
    return doc;
}

QByteArray addToolsPatch(const Document &doc, const QString &agent, const QStringList &tools)
{
    const std::optional<QStringList> existing = doc.toolsOf(agent);
    QStringList missing;
    for (const QString &t : tools) {
        if (!missing.contains(t) && !(existing && existing->contains(t)))
            missing << t;
    }
    if (missing.isEmpty())
        return {};
    QJsonArray ops;
    if (!doc.hasBlockedTools) {
        ops.append(op("add",
                      QStringLiteral("/blocked_tools"),
                      QJsonObject{{agent, QJsonArray::fromStringList(missing)}}));
    } else if (!existing) {
        // "add" on an object member replaces it if someone created it meanwhile; appending with
        // "/-" would need the list to exist. The decisions read afterwards catch a lost tool.
        ops.append(op("add", agentPointer(agent), QJsonArray::fromStringList(missing)));
    } else {
        // Appending never clobbers what another writer put in the list since we read it.
        for (const QString &t : std::as_const(missing))
            ops.append(op("add", agentPointer(agent) + QStringLiteral("/-"), t));
    }
    return compact(ops);
}

QByteArray removeToolsPatch(const Document &doc, const QString &agent, const QStringList &tools)
{
    const std::optional<QStringList> existing = doc.toolsOf(agent);
    if (!existing)
        return {};
    QList<int> indexes;
    for (int i = 0; i < existing->size(); ++i) {
        if (tools.contains(existing->at(i)))
            indexes << i;
    }
    if (indexes.isEmpty())
        return {};
    std::sort(indexes.begin(), indexes.end(), std::greater<int>());
    QJsonArray ops;
    for (int i : std::as_const(indexes))
        ops.append(op("remove", agentPointer(agent) + QLatin1Char('/') + QString::number(i)));
    return compact(ops);
}

QByteArray decisionInput(const QString &agent, const QString &tool)
{
    return compact(QJsonObject{
        {QStringLiteral("input"),
         QJsonObject{{QStringLiteral("agent"), agent}, {QStringLiteral("tool"), tool}}}});
}

QString errorWords(const QByteArray &body)
{
    QJsonParseError pe;
    const QJsonDocument d = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !d.isObject())
        return {};
    const QJsonObject o = d.object();
    const QString code = o.value(QLatin1String("code")).toString();
    const QString message = o.value(QLatin1String("message")).toString();
    if (code.isEmpty() && message.isEmpty()) {
        // /health answers {"error": "..."} when unhealthy.
        return o.value(QLatin1String("error")).toString();
    }
    QString words = code.isEmpty()      ? message
                    : message.isEmpty() ? code
                                        : code + QStringLiteral(": ") + message;
    QStringList details;
    for (const QJsonValue &e : o.value(QLatin1String("errors")).toArray()) {
        const QJsonObject eo = e.toObject();
        QString d1 = eo.value(QLatin1String("code")).toString();
        const QString m = eo.value(QLatin1String("message")).toString();
        if (!m.isEmpty())
            d1 = d1.isEmpty() ? m : d1 + QStringLiteral(": ") + m;
        const QJsonObject loc = eo.value(QLatin1String("location")).toObject();
        if (!loc.isEmpty())
            d1 += QStringLiteral(" at %1:%2")
                      .arg(loc.value(QLatin1String("file")).toString(),
                           QString::number(loc.value(QLatin1String("row")).toInt()));
        if (!d1.isEmpty())
            details << d1;
    }
    if (!details.isEmpty())
        words += QStringLiteral(" (") + details.join(QStringLiteral("; ")) + QLatin1Char(')');
    return words;
}

Result<Answer> parseAnswer(int status, const QByteArray &body, const QString &provider)
{
    if (status / 100 != 2) {
        const QString words = errorWords(body);
        const Error::Kind kind = status == 401 || status == 403 ? Error::Kind::Invalid
                                 : status == 404                ? Error::Kind::NotFound
                                                                : Error::Kind::Unavailable;
        QString message = QStringLiteral("%1 answered HTTP %2").arg(provider).arg(status);
        if (status == 401)
            message += QStringLiteral(" (unauthorized: check the provider's api_key)");
        if (!words.isEmpty())
            message += QStringLiteral(": ") + words;
        return makeError(kind, message, provider);
    }
    QJsonParseError pe;
    const QJsonDocument d = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !d.isObject()) {
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1 answered HTTP %2 with a body that is not a JSON "
                                        "object (%3)")
                             .arg(provider)
                             .arg(status)
                             .arg(QString::fromUtf8(body.left(80)).simplified()),
                         provider);
    }
    const QJsonObject o = d.object();
    Answer a;
    a.defined = o.contains(QLatin1String("result"));
    a.result = o.value(QLatin1String("result"));
    return a;
}

} // namespace Breaker::Opa
