#include "connectors/runtime/CloudflareCodec.h"

#include <QJsonDocument>

namespace Breaker::Cloudflare {

namespace {

QString str(const QJsonObject &o, const char *key) { return o.value(QLatin1String(key)).toString(); }

} // namespace

QString kebabCase(const QString &className)
{
    QString out;
    out.reserve(className.size() + 4);
    for (qsizetype i = 0; i < className.size(); ++i) {
        const QChar c = className.at(i);
        if (c == QLatin1Char('_')) {
            out += QLatin1Char('-');
            continue;
        }
        if (c.isUpper()) {
            // A new word starts at an upper-case letter that follows a lower-case one or a
            // digit, or that ends a run of capitals ("MCPServer" → "mcp-server").
            const bool afterLower = i > 0 && (className.at(i - 1).isLower() || className.at(i - 1).isDigit());
            const bool endsAcronym = i > 0 && className.at(i - 1).isUpper() && i + 1 < className.size()
                                     && className.at(i + 1).isLower();
            if ((afterLower || endsAcronym) && !out.endsWith(QLatin1Char('-')))
                out += QLatin1Char('-');
            out += c.toLower();
            continue;
        }
        out += c;
    }
    return out;
}

QString Selector::routeClass() const { return kebabCase(agentClass); }

QByteArray Selector::externalId() const { return (routeClass() + QLatin1Char('/') + instance).toUtf8(); }

Result<Selector> parseSelector(const QString &text)
{
    const qsizetype slash = text.indexOf(QLatin1Char('/'));
    if (slash <= 0 || slash == text.size() - 1 || text.indexOf(QLatin1Char('/'), slash + 1) >= 0)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("\"%1\" is not a Cloudflare agent selector: write it as "
                                        "\"Class/instance\", e.g. \"MyAgent/room-1\"")
                             .arg(text.left(200)));
    Selector s{text.left(slash), text.mid(slash + 1)};
    for (const QChar c : s.agentClass) {
        if (!(c.isLetterOrNumber() || c == QLatin1Char('-') || c == QLatin1Char('_')))
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("\"%1\" is not a Cloudflare agent class name: use letters, "
                                            "digits, '-' and '_'")
                                 .arg(s.agentClass.left(200)));
    }
    return s;
}

Result<QUrl> agentUrl(const QUrl &origin, const Selector &selector)
{
    QUrl url = origin;
    const QString scheme = url.scheme().toLower();
    if (scheme == QLatin1String("http"))
        url.setScheme(QStringLiteral("ws"));
    else if (scheme == QLatin1String("https"))
        url.setScheme(QStringLiteral("wss"));
    else if (scheme != QLatin1String("ws") && scheme != QLatin1String("wss"))
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the url \"%1\" is not a ws://, wss://, http:// or https:// origin")
                             .arg(origin.toString()));
    QString base = url.path();
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    const QString path = base + QStringLiteral("/agents/") + selector.routeClass() + QLatin1Char('/')
                         + QString::fromLatin1(QUrl::toPercentEncoding(selector.instance));
    url.setPath(path, QUrl::StrictMode);
    url.setQuery(QString());
    url.setFragment(QString());
    return url;
}

Result<Frame> parseFrame(const QByteArray &text)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(text, &pe);
    if (pe.error != QJsonParseError::NoError)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("a frame that is not JSON (%1 at offset %2): %3")
                             .arg(pe.errorString(),
                                  QString::number(pe.offset),
                                  QString::fromUtf8(text.left(120)).simplified()));
    if (!doc.isObject())
        return makeError(Error::Kind::Invalid, QStringLiteral("a frame that is not a JSON object: %1")
                                                   .arg(QString::fromUtf8(text.left(120)).simplified()));
    const QJsonObject o = doc.object();
    Frame f;
    f.typeName = str(o, "type").toUtf8();
    if (f.typeName.isEmpty())
        return makeError(Error::Kind::Invalid, QStringLiteral("a frame without a \"type\": %1")
                                                   .arg(QString::fromUtf8(text.left(120)).simplified()));
    if (f.typeName == "cf_agent_identity") {
        f.type = Frame::Type::Identity;
        f.name = str(o, "name");
        f.agent = str(o, "agent");
        f.stateFollows = o.value(QLatin1String("stateFollows")).toBool();
        if (f.name.isEmpty() || f.agent.isEmpty())
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("an identity frame without its agent or name: %1")
                                 .arg(QString::fromUtf8(text.left(200))));
    } else if (f.typeName == "cf_agent_state") {
        f.type = Frame::Type::State;
        if (!o.contains(QLatin1String("state")))
            return makeError(Error::Kind::Invalid, QStringLiteral("a state frame without a state"));
        f.state = o.value(QLatin1String("state"));
    } else if (f.typeName == "cf_agent_state_error") {
        f.type = Frame::Type::StateError;
        f.error = str(o, "error");
    } else if (f.typeName == "rpc") {
        f.type = Frame::Type::Rpc;
        f.id = str(o, "id");
        if (f.id.isEmpty())
            return makeError(Error::Kind::Invalid, QStringLiteral("an rpc frame without an id: %1")
                                                       .arg(QString::fromUtf8(text.left(200))));
        f.success = o.value(QLatin1String("success")).toBool();
        // A failure ends the call; agents 0.32.0 sends it without "done" [obs].
        f.done = !f.success || o.value(QLatin1String("done")).toBool();
        f.result = o.value(QLatin1String("result"));
        if (!f.success) {
            const QJsonValue e = o.value(QLatin1String("error"));
            f.error = e.isString() ? e.toString()
                      : e.isUndefined() ? QStringLiteral("the call failed and the agent gave no reason")
                                        : QString::fromUtf8(QJsonDocument(e.toObject()).toJson(QJsonDocument::Compact));
        }
    } else if (f.typeName == "cf_agent_mcp_servers") {
        f.type = Frame::Type::McpServers;
    } else if (f.typeName == "cf_agent_chat_messages") {
        f.type = Frame::Type::ChatMessages;
        f.messages = o.value(QLatin1String("messages")).toArray();
    } else if (f.typeName == "cf_agent_use_chat_response") {
        f.type = Frame::Type::ChatResponse;
        f.id = str(o, "id");
        f.done = o.value(QLatin1String("done")).toBool();
        f.success = !o.value(QLatin1String("error")).toBool();
    }
    return f;
}

QByteArray rpcRequest(const QString &id, const QString &method, const QJsonArray &args)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("type"), QStringLiteral("rpc")},
                                     {QStringLiteral("id"), id},
                                     {QStringLiteral("method"), method},
                                     {QStringLiteral("args"), args}})
        .toJson(QJsonDocument::Compact);
}

QByteArray chatCancelFrame(const QString &chatRequestId)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("type"), QStringLiteral("cf_agent_chat_request_cancel")},
                                     {QStringLiteral("id"), chatRequestId}})
        .toJson(QJsonDocument::Compact);
}

QByteArray toolApprovalFrame(const QString &toolCallId, bool approved)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("type"), QStringLiteral("cf_agent_tool_approval")},
                                     {QStringLiteral("toolCallId"), toolCallId},
                                     {QStringLiteral("approved"), approved}})
        .toJson(QJsonDocument::Compact);
}

RunStatus statusFromState(const QJsonValue &state, QByteArray *raw)
{
    const QJsonObject o = state.toObject();
    QString word = str(o, "status");
    if (word.isEmpty())
        word = str(o, "state");
    if (raw)
        *raw = word.toUtf8();
    const QString w = word.trimmed().toLower().replace(QLatin1Char('-'), QLatin1Char('_')).replace(QLatin1Char(' '), QLatin1Char('_'));
    static const struct { const char *word; RunStatus status; } table[] = {
        {"submitted", RunStatus::Submitted}, {"queued", RunStatus::Submitted},
        {"pending", RunStatus::Submitted}, {"scheduled", RunStatus::Submitted},
        {"working", RunStatus::Working}, {"running", RunStatus::Working},
        {"busy", RunStatus::Working}, {"in_progress", RunStatus::Working},
        {"processing", RunStatus::Working}, {"streaming", RunStatus::Working},
        {"waiting_approval", RunStatus::WaitingApproval}, {"awaiting_approval", RunStatus::WaitingApproval},
        {"approval_requested", RunStatus::WaitingApproval}, {"input_required", RunStatus::WaitingApproval},
        {"stopping", RunStatus::Stopping}, {"cancelling", RunStatus::Stopping},
        {"canceling", RunStatus::Stopping},
        {"stopped", RunStatus::Stopped}, {"canceled", RunStatus::Stopped},
        {"cancelled", RunStatus::Stopped}, {"aborted", RunStatus::Stopped},
        {"idle", RunStatus::Completed}, {"ready", RunStatus::Completed},
        {"done", RunStatus::Completed}, {"completed", RunStatus::Completed},
        {"complete", RunStatus::Completed}, {"finished", RunStatus::Completed},
        {"failed", RunStatus::Failed}, {"error", RunStatus::Failed}, {"errored", RunStatus::Failed},
        {"rejected", RunStatus::Rejected}, {"denied", RunStatus::Rejected},
    };
    for (const auto &entry : table) {
        if (w == QLatin1String(entry.word))
            return entry.status;
    }
    return RunStatus::Unknown;
}

std::optional<RuntimeApprovalRequest> pendingApproval(const QJsonArray &messages, QString *toolCallId)
{
    for (qsizetype m = messages.size() - 1; m >= 0; --m) {
        const QJsonArray parts = messages.at(m).toObject().value(QLatin1String("parts")).toArray();
        for (qsizetype p = parts.size() - 1; p >= 0; --p) {
            const QJsonObject part = parts.at(p).toObject();
            if (str(part, "state") != QLatin1String("approval-requested") || str(part, "toolCallId").isEmpty())
                continue;
            RuntimeApprovalRequest request;
            QString type = str(part, "type"); // "tool-<name>", or "dynamic-tool" with toolName
            QString action = str(part, "toolName");
            if (action.isEmpty() && type.startsWith(QLatin1String("tool-")))
                action = type.mid(5);
            request.action = action.toUtf8();
            if (part.value(QLatin1String("input")).isObject())
                request.argumentsJson = QJsonDocument(part.value(QLatin1String("input")).toObject())
                                            .toJson(QJsonDocument::Compact);
            request.message = QStringLiteral("the agent asks to run the tool %1").arg(action);
            request.source = "cloudflare.tool-approval";
            if (toolCallId)
                *toolCallId = str(part, "toolCallId");
            return request;
        }
    }
    return std::nullopt;
}

QString closeCodeName(int code)
{
    switch (code) {
    case 1000: return QStringLiteral("normal closure");
    case 1001: return QStringLiteral("going away: the agent or its host is shutting down or restarting");
    case 1002: return QStringLiteral("protocol error");
    case 1003: return QStringLiteral("unsupported data: the peer cannot accept this kind of frame");
    case 1004: return QStringLiteral("reserved code 1004");
    case 1005: return QStringLiteral("no status code: the peer closed without giving one");
    case 1006: return QStringLiteral("abnormal closure: the connection dropped without a close frame");
    case 1007: return QStringLiteral("invalid frame payload: a text frame that is not UTF-8");
    case 1008: return QStringLiteral("policy violation: the agent refused the connection (often its auth)");
    case 1009: return QStringLiteral("message too big");
    case 1010: return QStringLiteral("a required extension was not negotiated");
    case 1011: return QStringLiteral("internal error: the agent failed while handling the connection");
    case 1012: return QStringLiteral("service restart");
    case 1013: return QStringLiteral("try again later: the agent is overloaded");
    case 1014: return QStringLiteral("bad gateway: a proxy got no valid answer from the agent");
    case 1015: return QStringLiteral("TLS handshake failed");
    default: break;
    }
    if (code >= 3000 && code <= 3999)
        return QStringLiteral("library code %1 (3000-3999 are registered by libraries and frameworks)").arg(code);
    if (code >= 4000 && code <= 4999)
        return QStringLiteral("application code %1: the agent's own reason (4000-4999)").arg(code);
    if (code >= 1016 && code <= 2999)
        return QStringLiteral("reserved code %1 (1016-2999 are reserved for the WebSocket standard)").arg(code);
    return QStringLiteral("code %1, which is not a valid WebSocket close code").arg(code);
}

QString describeClose(int code, const QString &reason)
{
    QString out = QStringLiteral("closed with %1 (%2)").arg(code).arg(closeCodeName(code));
    if (!reason.trimmed().isEmpty())
        out += QStringLiteral(": ") + reason.trimmed().left(200);
    return out;
}

} // namespace Breaker::Cloudflare
