#include "connectors/runtime/A2aCodec.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

namespace Breaker::A2a {

namespace {

QString snippet(const QByteArray &bytes)
{
    constexpr qsizetype kMax = 200;
    QString text = QString::fromUtf8(bytes.first(std::min(bytes.size(), kMax))).simplified();
    if (bytes.size() > kMax)
        text += QStringLiteral("…");
    return text.isEmpty() ? QStringLiteral("(empty body)") : text;
}

std::optional<Binding> bindingFromName(const QString &name)
{
    if (name.compare(QLatin1String("JSONRPC"), Qt::CaseInsensitive) == 0)
        return Binding::JsonRpc;
    if (name.compare(QLatin1String("HTTP+JSON"), Qt::CaseInsensitive) == 0)
        return Binding::HttpJson;
    return std::nullopt; // GRPC and anything else: not spoken here
}

std::optional<Dialect> dialectFromVersion(const QString &version)
{
    if (version.isEmpty() || version.startsWith(QLatin1String("1.")) || version == QLatin1String("1"))
        return Dialect::V1_0;
    if (version.startsWith(QLatin1String("0.3")))
        return Dialect::V0_3;
    return std::nullopt;
}

QString normalizedUrl(const QUrl &url)
{
    QUrl u = url.adjusted(QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::StripTrailingSlash
                          | QUrl::NormalizePathSegments);
    if (u.port() == -1)
        u.setPort(u.scheme() == QLatin1String("https") ? 443 : 80);
    return u.toString(QUrl::FullyEncoded);
}

// Text parts joined; the data part named `key`, if any. Parts are {"text"} / {"data"} in v1.0
// and {"kind":"text","text"} / {"kind":"data","data"} in v0.3: both are read the same way.
// The v0.3 proto JSON (v0.3 REST) names the array `content` and nests a data part's payload
// once more: {"data":{"data":{…}}}.
QJsonArray messageParts(const QJsonObject &message)
{
    if (message.value(QLatin1String("parts")).isArray())
        return message.value(QLatin1String("parts")).toArray();
    return message.value(QLatin1String("content")).toArray();
}

QJsonObject dataPayload(const QJsonObject &part)
{
    QJsonObject data = part.value(QLatin1String("data")).toObject();
    if (data.size() == 1 && data.value(QLatin1String("data")).isObject())
        data = data.value(QLatin1String("data")).toObject();
    return data;
}

void readParts(const QJsonArray &parts, QString *text, QJsonObject *approval)
{
    for (const QJsonValue &partValue : parts) {
        const QJsonObject part = partValue.toObject();
        if (part.contains(QLatin1String("text"))) {
            if (!text->isEmpty())
                text->append(QLatin1Char('\n'));
            text->append(part.value(QLatin1String("text")).toString());
        } else if (part.value(QLatin1String("data")).isObject()) {
            const QJsonObject data = dataPayload(part);
            if (approval && data.value(QLatin1String("approval")).isObject())
                *approval = data.value(QLatin1String("approval")).toObject();
        }
    }
}

QByteArray compact(const QJsonValue &value)
{
    if (value.isObject())
        return QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    if (value.isArray())
        return QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact);
    return {};
}

// Fills status fields of `run` from a TaskStatus object.
void readStatus(const QJsonObject &status, RuntimeRun &run)
{
    run.rawState = status.value(QLatin1String("state")).toString().toUtf8();
    run.status = statusFromState(run.rawState).value_or(RunStatus::Unknown);
    run.updatedMs = parseTimestampMs(status.value(QLatin1String("timestamp")).toString());
    QJsonObject approval;
    const QJsonObject message = status.value(QLatin1String("message")).toObject();
    readParts(messageParts(message), &run.statusText, &approval);
    if (isInterrupted(run.rawState)) {
        RuntimeApprovalRequest request;
        request.message = run.statusText;
        request.source = run.rawState.contains("AUTH") || run.rawState.contains("auth")
                             ? "a2a.auth-required"
                             : "a2a.input-required";
        request.action = approval.value(QLatin1String("action")).toString().toUtf8();
        request.argumentsJson = compact(approval.value(QLatin1String("arguments")));
        const QJsonObject amount = approval.value(QLatin1String("amount")).toObject();
        const QJsonValue value = amount.value(QLatin1String("value"));
        request.amountValue = value.isDouble() ? QByteArray::number(value.toDouble(), 'f', 2)
                                               : value.toString().toUtf8();
        request.currency = amount.value(QLatin1String("currency")).toString().toLower().toUtf8();
        run.approval = std::move(request);
    }
}

Error::Kind kindForCode(int code)
{
    switch (code) {
    case -32001: return Error::Kind::NotFound;
    case -32002:
    case -32004: return Error::Kind::Conflict;
    case -32603:
    case -32006: return Error::Kind::Internal;
    default: return Error::Kind::Invalid;
    }
}

} // namespace

QString dialectName(Dialect dialect, Binding binding)
{
    return QStringLiteral("A2A %1 %2")
        .arg(dialect == Dialect::V1_0 ? QStringLiteral("1.0") : QStringLiteral("0.3"),
             binding == Binding::JsonRpc ? QStringLiteral("JSON-RPC") : QStringLiteral("HTTP+JSON"));
}

Result<Endpoint> chooseEndpoint(const QByteArray &cardJson, const QUrl &cardUrl, const QUrl &profileUrl,
                                std::optional<Dialect> onlyDialect)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(cardJson, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the agent card at %1 is not a JSON object (%2): %3")
                             .arg(cardUrl.toString(),
                                  parseError.error != QJsonParseError::NoError
                                      ? parseError.errorString()
                                      : QStringLiteral("not an object"),
                                  snippet(cardJson)));
    const QJsonObject card = doc.object();
    const QString name = card.value(QLatin1String("name")).toString();
    const bool streaming = card.value(QLatin1String("capabilities"))
                               .toObject()
                               .value(QLatin1String("streaming"))
                               .toBool();
    std::vector<Endpoint> candidates;
    auto add = [&](const QString &url, const QString &bindingName, Dialect dialect, const QString &tenant) {
        const auto binding = bindingFromName(bindingName);
        if (!binding || url.isEmpty() || (onlyDialect && dialect != *onlyDialect))
            return;
        Endpoint e;
        e.url = cardUrl.resolved(QUrl(url));
        // An interface Breaker cannot reach over HTTP(S) is not a candidate (found by fuzz_a2a).
        if (!e.url.isValid() || e.url.host().isEmpty()
            || (e.url.scheme() != QLatin1String("http") && e.url.scheme() != QLatin1String("https")))
            return;
        e.dialect = dialect;
        e.binding = *binding;
        e.tenant = tenant;
        e.agentName = name;
        e.streaming = streaming;
        candidates.push_back(std::move(e));
    };
    if (card.value(QLatin1String("supportedInterfaces")).isArray()) {
        for (const QJsonValue &v : card.value(QLatin1String("supportedInterfaces")).toArray()) {
            const QJsonObject i = v.toObject();
            const auto dialect = dialectFromVersion(i.value(QLatin1String("protocolVersion")).toString());
            if (dialect)
                add(i.value(QLatin1String("url")).toString(),
                    i.value(QLatin1String("protocolBinding")).toString(), *dialect,
                    i.value(QLatin1String("tenant")).toString());
        }
    } else if (card.contains(QLatin1String("url"))) {
        // A v0.3 card: `url` speaks `preferredTransport` (JSONRPC when absent).
        const QString preferred = card.value(QLatin1String("preferredTransport")).toString(QStringLiteral("JSONRPC"));
        add(card.value(QLatin1String("url")).toString(), preferred, Dialect::V0_3, {});
        for (const QJsonValue &v : card.value(QLatin1String("additionalInterfaces")).toArray()) {
            const QJsonObject i = v.toObject();
            add(i.value(QLatin1String("url")).toString(), i.value(QLatin1String("transport")).toString(),
                Dialect::V0_3, {});
        }
    } else {
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the agent card at %1 has neither supportedInterfaces "
                                        "(A2A 1.0) nor url (A2A 0.3)")
                             .arg(cardUrl.toString()));
    }
    if (candidates.empty())
        return makeError(Error::Kind::Invalid,
                         onlyDialect ? QStringLiteral("the agent card at %1 offers no A2A %2 interface")
                                           .arg(cardUrl.toString(), *onlyDialect == Dialect::V1_0
                                                                        ? QStringLiteral("1.0")
                                                                        : QStringLiteral("0.3"))
                                     : QStringLiteral("the agent card at %1 offers no JSON-RPC or HTTP+JSON "
                                                      "interface (gRPC is not supported)")
                                           .arg(cardUrl.toString()));

    const QString wanted = normalizedUrl(profileUrl);
    const Endpoint *match = nullptr;
    for (const Endpoint &e : candidates) {
        if (normalizedUrl(e.url) != wanted)
            continue;
        if (!match || (match->dialect == Dialect::V0_3 && e.dialect == Dialect::V1_0))
            match = &e;
    }
    if (match)
        return *match; // the interface the profile named (1.0 when it serves both dialects)
    for (const Endpoint &e : candidates)
        if (e.dialect == Dialect::V1_0)
            return e;
    return candidates.front();
}

std::optional<RunStatus> statusFromState(QByteArrayView state)
{
    static const struct
    {
        const char *v1;
        const char *v03;
        RunStatus status;
    } kStates[] = {
        {"TASK_STATE_UNSPECIFIED", "unknown", RunStatus::Unknown},
        {"TASK_STATE_SUBMITTED", "submitted", RunStatus::Submitted},
        {"TASK_STATE_WORKING", "working", RunStatus::Working},
        {"TASK_STATE_COMPLETED", "completed", RunStatus::Completed},
        {"TASK_STATE_FAILED", "failed", RunStatus::Failed},
        {"TASK_STATE_CANCELED", "canceled", RunStatus::Stopped},
        {"TASK_STATE_INPUT_REQUIRED", "input-required", RunStatus::WaitingApproval},
        {"TASK_STATE_REJECTED", "rejected", RunStatus::Rejected},
        {"TASK_STATE_AUTH_REQUIRED", "auth-required", RunStatus::WaitingApproval},
    };
    for (const auto &s : kStates)
        if (state == s.v1 || state == s.v03)
            return s.status;
    // The v0.3 proto spelled it CANCELLED; some servers write "cancelled".
    if (state == "TASK_STATE_CANCELLED" || state == "cancelled")
        return RunStatus::Stopped;
    return std::nullopt;
}

bool isInterrupted(QByteArrayView state)
{
    return state == "TASK_STATE_INPUT_REQUIRED" || state == "input-required"
           || state == "TASK_STATE_AUTH_REQUIRED" || state == "auth-required";
}

Result<RuntimeRun> parseTask(const QJsonObject &task)
{
    RuntimeRun run;
    run.kind = "a2a";
    run.externalId = task.value(QLatin1String("id")).toString().toUtf8();
    if (run.externalId.isEmpty())
        return makeError(Error::Kind::Invalid, QStringLiteral("a task without an id"), QStringLiteral("id"));
    run.contextId = task.value(QLatin1String("contextId")).toString().toUtf8();
    if (!task.value(QLatin1String("status")).isObject())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("task %1 has no status object").arg(QString::fromUtf8(run.externalId)),
                         QStringLiteral("status"));
    readStatus(task.value(QLatin1String("status")).toObject(), run);
    if (run.rawState.isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("task %1 has no status.state").arg(QString::fromUtf8(run.externalId)),
                         QStringLiteral("status.state"));
    return run;
}

Result<StreamEvent> parseStreamResponse(const QJsonObject &response)
{
    StreamEvent event;
    QJsonObject body;
    QString kind = response.value(QLatin1String("kind")).toString();
    if (!kind.isEmpty()) {
        body = response; // v0.3: the object itself, tagged by kind
    } else {
        static const char *const kMembers[] = {"task", "statusUpdate", "artifactUpdate", "message"};
        int found = 0;
        for (const char *member : kMembers) {
            if (response.value(QLatin1String(member)).isObject()) {
                ++found;
                kind = QLatin1String(member);
                body = response.value(QLatin1String(member)).toObject();
            }
        }
        if (found != 1)
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("a stream event must hold exactly one of task, message, "
                                            "statusUpdate, artifactUpdate; it held %1")
                                 .arg(found));
    }
    if (kind == QLatin1String("task")) {
        auto run = parseTask(body);
        if (!run)
            return run.error();
        event.type = StreamEvent::Type::Task;
        event.run = *run;
    } else if (kind == QLatin1String("statusUpdate") || kind == QLatin1String("status-update")) {
        event.type = StreamEvent::Type::StatusUpdate;
        event.run.kind = "a2a";
        event.run.externalId = body.value(QLatin1String("taskId")).toString().toUtf8();
        event.run.contextId = body.value(QLatin1String("contextId")).toString().toUtf8();
        if (event.run.externalId.isEmpty() || !body.value(QLatin1String("status")).isObject())
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("a status update without taskId or status"));
        readStatus(body.value(QLatin1String("status")).toObject(), event.run);
    } else if (kind == QLatin1String("artifactUpdate") || kind == QLatin1String("artifact-update")) {
        event.type = StreamEvent::Type::ArtifactUpdate;
        event.run.kind = "a2a";
        event.run.externalId = body.value(QLatin1String("taskId")).toString().toUtf8();
        event.run.contextId = body.value(QLatin1String("contextId")).toString().toUtf8();
    } else if (kind == QLatin1String("message")) {
        event.type = StreamEvent::Type::Message;
        event.run.kind = "a2a";
        event.run.externalId = body.value(QLatin1String("taskId")).toString().toUtf8();
        event.run.contextId = body.value(QLatin1String("contextId")).toString().toUtf8();
        event.final = true; // a Message ends the stream
        return event;
    } else {
        return makeError(Error::Kind::Invalid, QStringLiteral("unknown stream event kind \"%1\"").arg(kind));
    }
    if (body.value(QLatin1String("final")).toBool())
        event.final = true;
    if ((event.type == StreamEvent::Type::Task || event.type == StreamEvent::Type::StatusUpdate)
        && isTerminal(event.run.status))
        event.final = true;
    return event;
}

QString errorCodeName(int code)
{
    switch (code) {
    case -32700: return QStringLiteral("ParseError");
    case -32600: return QStringLiteral("InvalidRequest");
    case -32601: return QStringLiteral("MethodNotFound");
    case -32602: return QStringLiteral("InvalidParams");
    case -32603: return QStringLiteral("InternalError");
    case -32001: return QStringLiteral("TaskNotFound");
    case -32002: return QStringLiteral("TaskNotCancelable");
    case -32003: return QStringLiteral("PushNotificationNotSupported");
    case -32004: return QStringLiteral("UnsupportedOperation");
    case -32005: return QStringLiteral("ContentTypeNotSupported");
    case -32006: return QStringLiteral("InvalidAgentResponse");
    case -32007: return QStringLiteral("ExtendedAgentCardNotConfigured");
    case -32008: return QStringLiteral("ExtensionSupportRequired");
    case -32009: return QStringLiteral("VersionNotSupported");
    default: return {};
    }
}

Error errorFromJsonRpc(const QJsonObject &error, const QString &provider)
{
    const int code = error.value(QLatin1String("code")).toInt();
    const QString message = error.value(QLatin1String("message")).toString();
    QStringList reasons;
    // v1.0: data is an array of google.rpc.ErrorInfo; v0.3: free-form.
    const QJsonValue data = error.value(QLatin1String("data"));
    for (const QJsonValue &d : data.toArray()) {
        const QString reason = d.toObject().value(QLatin1String("reason")).toString();
        if (!reason.isEmpty())
            reasons << reason;
    }
    QString name = errorCodeName(code);
    QString text = QStringLiteral("%1 answered %2(%3): %4")
                       .arg(provider, name.isEmpty() ? QString() : name + QLatin1Char(' '))
                       .arg(code)
                       .arg(message.isEmpty() ? QStringLiteral("(no message)") : message);
    if (!reasons.isEmpty())
        text += QStringLiteral(" [%1]").arg(reasons.join(QLatin1String(", ")));
    return makeError(kindForCode(code), text, provider);
}

Error errorFromRest(int httpStatus, const QByteArray &body, const QString &provider)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    const QJsonObject root = doc.object();
    Error::Kind kind = Error::Kind::Invalid;
    if (httpStatus == 404)
        kind = Error::Kind::NotFound;
    else if (httpStatus == 408 || httpStatus == 429 || httpStatus >= 500)
        kind = Error::Kind::Unavailable;
    if (root.value(QLatin1String("error")).isObject()) {
        const QJsonObject e = root.value(QLatin1String("error")).toObject();
        QStringList reasons;
        for (const QJsonValue &d : e.value(QLatin1String("details")).toArray()) {
            const QString reason = d.toObject().value(QLatin1String("reason")).toString();
            if (!reason.isEmpty())
                reasons << reason;
        }
        if (reasons.contains(QLatin1String("TASK_NOT_CANCELABLE"))
            || reasons.contains(QLatin1String("UNSUPPORTED_OPERATION")))
            kind = Error::Kind::Conflict;
        QString text = QStringLiteral("%1 answered HTTP %2 %3: %4")
                           .arg(provider)
                           .arg(httpStatus)
                           .arg(e.value(QLatin1String("status")).toString(),
                                e.value(QLatin1String("message")).toString());
        if (!reasons.isEmpty())
            text += QStringLiteral(" [%1]").arg(reasons.join(QLatin1String(", ")));
        return makeError(kind, text, provider);
    }
    if (root.value(QLatin1String("code")).isDouble()) {
        // v0.3 REST servers answer the JSON-RPC error object itself.
        Error e = errorFromJsonRpc(root, provider);
        e.message.replace(QStringLiteral("%1 answered ").arg(provider),
                          QStringLiteral("%1 answered HTTP %2 ").arg(provider).arg(httpStatus));
        return e;
    }
    return makeError(kind,
                     QStringLiteral("%1 answered HTTP %2: %3").arg(provider).arg(httpStatus).arg(snippet(body)),
                     provider);
}

Result<QJsonObject> parseJsonRpcResponse(const QByteArray &body, const QString &provider)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1 answered something that is not a JSON-RPC response: %2")
                             .arg(provider, snippet(body)),
                         provider);
    const QJsonObject root = doc.object();
    if (root.value(QLatin1String("error")).isObject())
        return errorFromJsonRpc(root.value(QLatin1String("error")).toObject(), provider);
    if (!root.value(QLatin1String("result")).isObject())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1 answered a JSON-RPC response without a result object: %2")
                             .arg(provider, snippet(body)),
                         provider);
    return root.value(QLatin1String("result")).toObject();
}

QByteArray jsonRpcMethod(Op op, Dialect dialect)
{
    const bool v1 = dialect == Dialect::V1_0;
    switch (op) {
    case Op::Send: return v1 ? "SendMessage" : "message/send";
    case Op::Stream: return v1 ? "SendStreamingMessage" : "message/stream";
    case Op::Get: return v1 ? "GetTask" : "tasks/get";
    case Op::List: return v1 ? "ListTasks" : QByteArray();
    case Op::Cancel: return v1 ? "CancelTask" : "tasks/cancel";
    case Op::Subscribe: return v1 ? "SubscribeToTask" : "tasks/resubscribe";
    }
    return {};
}

QByteArray jsonRpcRequest(const QByteArray &method, const QJsonObject &params, qint64 id)
{
    const QJsonObject request{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                              {QStringLiteral("id"), id},
                              {QStringLiteral("method"), QString::fromUtf8(method)},
                              {QStringLiteral("params"), params}};
    return QJsonDocument(request).toJson(QJsonDocument::Compact);
}

QJsonObject userMessage(const QJsonArray &v1Parts, const QByteArray &taskId, const QByteArray &contextId,
                        const QByteArray &messageId, Dialect dialect, Binding binding)
{
    QJsonObject message{{QStringLiteral("messageId"), QString::fromUtf8(messageId)}};
    if (!taskId.isEmpty())
        message.insert(QStringLiteral("taskId"), QString::fromUtf8(taskId));
    if (!contextId.isEmpty())
        message.insert(QStringLiteral("contextId"), QString::fromUtf8(contextId));
    if (dialect == Dialect::V1_0) {
        message.insert(QStringLiteral("role"), QStringLiteral("ROLE_USER"));
        message.insert(QStringLiteral("parts"), v1Parts);
        return message;
    }
    QJsonArray parts;
    if (binding == Binding::HttpJson) {
        // v0.3 proto JSON: `content`, proto role names, data payload nested once more.
        for (const QJsonValue &v : v1Parts) {
            QJsonObject part = v.toObject();
            if (part.contains(QLatin1String("data")))
                part.insert(QStringLiteral("data"), QJsonObject{{QStringLiteral("data"), part.value(QLatin1String("data"))}});
            parts.append(part);
        }
        message.insert(QStringLiteral("role"), QStringLiteral("ROLE_USER"));
        message.insert(QStringLiteral("content"), parts);
        return message;
    }
    for (const QJsonValue &v : v1Parts) {
        QJsonObject part = v.toObject();
        part.insert(QStringLiteral("kind"), part.contains(QLatin1String("data")) ? QStringLiteral("data")
                                                                                  : QStringLiteral("text"));
        parts.append(part);
    }
    message.insert(QStringLiteral("kind"), QStringLiteral("message"));
    message.insert(QStringLiteral("role"), QStringLiteral("user"));
    message.insert(QStringLiteral("parts"), parts);
    return message;
}

QJsonObject answerMessage(const ApprovalAnswer &answer, const QByteArray &taskId,
                          const QByteArray &contextId, const QByteArray &messageId, Dialect dialect,
                          Binding binding)
{
    QJsonObject decision{{QStringLiteral("decision"), QString::fromLatin1(toWireName(answer.decision))},
                         {QStringLiteral("reason"), answer.reason}};
    QString words;
    switch (answer.decision) {
    case ApprovalDecision::Approve:
        words = QStringLiteral("Approved by the operator. Reason: %1").arg(answer.reason);
        break;
    case ApprovalDecision::Deny:
        words = QStringLiteral("Denied by the operator; do not perform this action. Reason: %1").arg(answer.reason);
        break;
    case ApprovalDecision::Edit: {
        const QJsonObject args = QJsonDocument::fromJson(answer.argumentsJson).object();
        decision.insert(QStringLiteral("arguments"), args);
        words = QStringLiteral("Approved with edited arguments %1. Reason: %2")
                    .arg(QString::fromUtf8(QJsonDocument(args).toJson(QJsonDocument::Compact)), answer.reason);
        break;
    }
    }
    const QJsonArray parts{QJsonObject{{QStringLiteral("data"), decision}},
                           QJsonObject{{QStringLiteral("text"), words}}};
    return userMessage(parts, taskId, contextId, messageId, dialect, binding);
}

qint64 parseTimestampMs(const QString &text)
{
    if (text.isEmpty())
        return 0;
    QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(text, Qt::ISODate);
    return t.isValid() ? t.toMSecsSinceEpoch() : 0;
}

} // namespace Breaker::A2a
