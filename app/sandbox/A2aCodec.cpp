#include "app/sandbox/A2aCodec.h"

#include <QDateTime>
#include <QRegularExpression>
#include <QUrlQuery>
#include <QUuid>

#include <algorithm>

namespace Breaker::A2a {

namespace {

struct StateNames
{
    TaskState state;
    const char *v1;
    const char *v03;
};

constexpr StateNames kStates[] = {
    {TaskState::Unspecified, "TASK_STATE_UNSPECIFIED", "unknown"},
    {TaskState::Submitted, "TASK_STATE_SUBMITTED", "submitted"},
    {TaskState::Working, "TASK_STATE_WORKING", "working"},
    {TaskState::Completed, "TASK_STATE_COMPLETED", "completed"},
    {TaskState::Failed, "TASK_STATE_FAILED", "failed"},
    {TaskState::Canceled, "TASK_STATE_CANCELED", "canceled"},
    {TaskState::InputRequired, "TASK_STATE_INPUT_REQUIRED", "input-required"},
    {TaskState::Rejected, "TASK_STATE_REJECTED", "rejected"},
    {TaskState::AuthRequired, "TASK_STATE_AUTH_REQUIRED", "auth-required"},
};

QJsonObject errorInfo(ErrorKind kind)
{
    return QJsonObject{
        {QStringLiteral("@type"), QStringLiteral("type.googleapis.com/google.rpc.ErrorInfo")},
        {QStringLiteral("reason"), errorReason(kind)},
        {QStringLiteral("domain"), QStringLiteral("a2a-protocol.org")}};
}

} // namespace

bool isTerminal(TaskState state)
{
    return state == TaskState::Completed || state == TaskState::Failed
           || state == TaskState::Canceled || state == TaskState::Rejected;
}

bool isInterrupted(TaskState state)
{
    return state == TaskState::InputRequired || state == TaskState::AuthRequired;
}

QString stateName(TaskState state, Dialect dialect)
{
    if (dialect == Dialect::V03Rest && state == TaskState::Canceled)
        return QStringLiteral("TASK_STATE_CANCELLED"); // the v0.3 proto's spelling
    for (const StateNames &s : kStates)
        if (s.state == state)
            return QString::fromLatin1(dialect == Dialect::V03 ? s.v03 : s.v1);
    return QString::fromLatin1(dialect == Dialect::V03 ? "unknown" : "TASK_STATE_UNSPECIFIED");
}

std::optional<TaskState> parseState(const QString &name)
{
    if (name == QLatin1String("TASK_STATE_CANCELLED") || name == QLatin1String("cancelled"))
        return TaskState::Canceled;
    for (const StateNames &s : kStates)
        if (name == QLatin1String(s.v1) || name == QLatin1String(s.v03))
            return s.state;
    return std::nullopt;
}

int jsonRpcCode(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::ParseError:
        return -32700;
    case ErrorKind::InvalidRequest:
        return -32600;
    case ErrorKind::MethodNotFound:
        return -32601;
    case ErrorKind::InvalidParams:
        return -32602;
    case ErrorKind::Internal:
        return -32603;
    case ErrorKind::TaskNotFound:
        return -32001;
    case ErrorKind::TaskNotCancelable:
        return -32002;
    case ErrorKind::PushNotSupported:
        return -32003;
    case ErrorKind::UnsupportedOperation:
        return -32004;
    case ErrorKind::ContentTypeNotSupported:
        return -32005;
    case ErrorKind::InvalidAgentResponse:
        return -32006;
    case ErrorKind::ExtendedCardNotConfigured:
        return -32007;
    case ErrorKind::ExtensionSupportRequired:
        return -32008;
    case ErrorKind::VersionNotSupported:
        return -32009;
    }
    return -32603;
}

QString errorReason(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::ParseError:
    case ErrorKind::InvalidRequest:
    case ErrorKind::InvalidParams:
        return QStringLiteral("INVALID_PARAMS"); // a2a-js: RequestMalformedError
    case ErrorKind::MethodNotFound:
        return QStringLiteral("UNSUPPORTED_OPERATION");
    case ErrorKind::Internal:
        return QStringLiteral("INTERNAL_ERROR");
    case ErrorKind::TaskNotFound:
        return QStringLiteral("TASK_NOT_FOUND");
    case ErrorKind::TaskNotCancelable:
        return QStringLiteral("TASK_NOT_CANCELABLE");
    case ErrorKind::PushNotSupported:
        return QStringLiteral("PUSH_NOTIFICATION_NOT_SUPPORTED");
    case ErrorKind::UnsupportedOperation:
        return QStringLiteral("UNSUPPORTED_OPERATION");
    case ErrorKind::ContentTypeNotSupported:
        return QStringLiteral("CONTENT_TYPE_NOT_SUPPORTED");
    case ErrorKind::InvalidAgentResponse:
        return QStringLiteral("INVALID_AGENT_RESPONSE");
    case ErrorKind::ExtendedCardNotConfigured:
        return QStringLiteral("EXTENDED_AGENT_CARD_NOT_CONFIGURED");
    case ErrorKind::ExtensionSupportRequired:
        return QStringLiteral("EXTENSION_SUPPORT_REQUIRED");
    case ErrorKind::VersionNotSupported:
        return QStringLiteral("VERSION_NOT_SUPPORTED");
    }
    return QStringLiteral("INTERNAL_ERROR");
}

int restHttpStatus(ErrorKind kind, Dialect dialect)
{
    switch (kind) {
    case ErrorKind::TaskNotFound:
        return 404;
    case ErrorKind::Internal:
    case ErrorKind::InvalidAgentResponse:
        return 500;
    case ErrorKind::MethodNotFound:
        return dialect == Dialect::V1 ? 404 : 501;
    default:
        return 400;
    }
}

QString restStatusName(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::TaskNotFound:
        return QStringLiteral("NOT_FOUND");
    case ErrorKind::TaskNotCancelable:
    case ErrorKind::PushNotSupported:
    case ErrorKind::UnsupportedOperation:
    case ErrorKind::ExtendedCardNotConfigured:
    case ErrorKind::ExtensionSupportRequired:
    case ErrorKind::VersionNotSupported:
        return QStringLiteral("FAILED_PRECONDITION");
    case ErrorKind::Internal:
    case ErrorKind::InvalidAgentResponse:
        return QStringLiteral("INTERNAL");
    case ErrorKind::MethodNotFound:
        return QStringLiteral("NOT_FOUND");
    default:
        return QStringLiteral("INVALID_ARGUMENT");
    }
}

QJsonObject jsonRpcError(const Error &error, Dialect dialect)
{
    QJsonObject out{{QStringLiteral("code"), jsonRpcCode(error.kind)},
                    {QStringLiteral("message"), error.message}};
    // a2a-js v1.0 answers an unparsable body and an unknown method without data.
    if (dialect == Dialect::V1 && error.kind != ErrorKind::ParseError
        && error.kind != ErrorKind::MethodNotFound && error.kind != ErrorKind::Internal)
        out.insert(QStringLiteral("data"), QJsonArray{errorInfo(error.kind)});
    return out;
}

QJsonObject restError(const Error &error, Dialect dialect)
{
    if (dialect != Dialect::V1)
        return QJsonObject{{QStringLiteral("code"), jsonRpcCode(error.kind)},
                           {QStringLiteral("message"), error.message}};
    const int status = restHttpStatus(error.kind, dialect);
    return QJsonObject{
        {QStringLiteral("error"),
         QJsonObject{{QStringLiteral("code"), status},
                     {QStringLiteral("status"), restStatusName(error.kind)},
                     {QStringLiteral("message"), error.message},
                     {QStringLiteral("details"), QJsonArray{errorInfo(error.kind)}}}}};
}

QJsonObject partToV03(const QJsonObject &part)
{
    QJsonObject out;
    if (part.contains(QLatin1String("text"))) {
        out.insert(QStringLiteral("kind"), QStringLiteral("text"));
        out.insert(QStringLiteral("text"), part.value(QLatin1String("text")));
    } else if (part.contains(QLatin1String("data"))) {
        out.insert(QStringLiteral("kind"), QStringLiteral("data"));
        out.insert(QStringLiteral("data"), part.value(QLatin1String("data")));
    } else {
        QJsonObject file;
        if (part.contains(QLatin1String("url")))
            file.insert(QStringLiteral("uri"), part.value(QLatin1String("url")));
        else
            file.insert(QStringLiteral("bytes"), part.value(QLatin1String("raw")));
        if (part.contains(QLatin1String("mediaType")))
            file.insert(QStringLiteral("mimeType"), part.value(QLatin1String("mediaType")));
        if (part.contains(QLatin1String("filename")))
            file.insert(QStringLiteral("name"), part.value(QLatin1String("filename")));
        out.insert(QStringLiteral("kind"), QStringLiteral("file"));
        out.insert(QStringLiteral("file"), file);
    }
    if (part.contains(QLatin1String("metadata")))
        out.insert(QStringLiteral("metadata"), part.value(QLatin1String("metadata")));
    return out;
}

static QJsonArray partsToV03(const QJsonArray &parts)
{
    QJsonArray out;
    for (const QJsonValue &p : parts)
        out.append(partToV03(p.toObject()));
    return out;
}

QJsonObject messageToV03(const QJsonObject &message)
{
    QJsonObject out = message;
    out.insert(QStringLiteral("kind"), QStringLiteral("message"));
    out.insert(QStringLiteral("role"),
               message.value(QLatin1String("role")).toString() == QLatin1String("ROLE_AGENT")
                   ? QStringLiteral("agent")
                   : QStringLiteral("user"));
    out.insert(QStringLiteral("parts"),
               partsToV03(message.value(QLatin1String("parts")).toArray()));
    return out;
}

QJsonObject artifactToV03(const QJsonObject &artifact)
{
    QJsonObject out = artifact;
    out.insert(QStringLiteral("parts"),
               partsToV03(artifact.value(QLatin1String("parts")).toArray()));
    return out;
}

static QJsonObject partToV03Proto(const QJsonObject &part)
{
    if (part.contains(QLatin1String("text")))
        return QJsonObject{{QStringLiteral("text"), part.value(QLatin1String("text"))}};
    if (part.contains(QLatin1String("data")))
        return QJsonObject{
            {QStringLiteral("data"),
             QJsonObject{{QStringLiteral("data"), part.value(QLatin1String("data"))}}}};
    QJsonObject file;
    if (part.contains(QLatin1String("url")))
        file.insert(QStringLiteral("fileWithUri"), part.value(QLatin1String("url")));
    else
        file.insert(QStringLiteral("fileWithBytes"), part.value(QLatin1String("raw")));
    if (part.contains(QLatin1String("mediaType")))
        file.insert(QStringLiteral("mimeType"), part.value(QLatin1String("mediaType")));
    return QJsonObject{{QStringLiteral("file"), file}};
}

static QJsonArray partsToV03Proto(const QJsonArray &parts)
{
    QJsonArray out;
    for (const QJsonValue &p : parts)
        out.append(partToV03Proto(p.toObject()));
    return out;
}

QJsonObject messageFor(const QJsonObject &message, Dialect dialect)
{
    switch (dialect) {
    case Dialect::V1:
        return message;
    case Dialect::V03:
        return messageToV03(message);
    case Dialect::V03Rest: {
        QJsonObject out = message;
        out.remove(QStringLiteral("parts"));
        out.insert(QStringLiteral("content"),
                   partsToV03Proto(message.value(QLatin1String("parts")).toArray()));
        return out;
    }
    }
    return message;
}

QJsonObject artifactFor(const QJsonObject &artifact, Dialect dialect)
{
    switch (dialect) {
    case Dialect::V1:
        return artifact;
    case Dialect::V03:
        return artifactToV03(artifact);
    case Dialect::V03Rest: {
        QJsonObject out = artifact;
        out.insert(QStringLiteral("parts"),
                   partsToV03Proto(artifact.value(QLatin1String("parts")).toArray()));
        return out;
    }
    }
    return artifact;
}

QJsonObject
statusFor(TaskState state, const QJsonObject &message, const QString &timestamp, Dialect dialect)
{
    QJsonObject status{{QStringLiteral("state"), stateName(state, dialect)}};
    if (!message.isEmpty())
        status.insert(QStringLiteral("message"), messageFor(message, dialect));
    status.insert(QStringLiteral("timestamp"), timestamp);
    return status;
}

std::optional<QJsonObject> parseMessage(const QJsonValue &value, Dialect dialect, Error *error)
{
    auto fail = [error](const QString &text) {
        if (error)
            *error = {ErrorKind::InvalidParams, text};
        return std::nullopt;
    };
    if (!value.isObject())
        return fail(value.isUndefined() ? QStringLiteral("message is required")
                                        : QStringLiteral("message must be an object"));
    const QJsonObject in = value.toObject();
    const QJsonValue id = in.value(QLatin1String("messageId"));
    if (!id.isString() || id.toString().isEmpty())
        return fail(QStringLiteral("message.messageId is required"));
    QJsonObject out;
    out.insert(QStringLiteral("messageId"), id);
    for (const char *key : {"contextId", "taskId"}) {
        const QJsonValue v = in.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull() || (v.isString() && v.toString().isEmpty()))
            continue;
        if (!v.isString())
            return fail(QStringLiteral("message.%1 must be a string").arg(QLatin1String(key)));
        out.insert(QLatin1String(key), v);
    }
    const QString role = in.value(QLatin1String("role")).toString();
    const bool user = role == QLatin1String("ROLE_USER") || role == QLatin1String("user");
    const bool agent = role == QLatin1String("ROLE_AGENT") || role == QLatin1String("agent");
    if (!user && !agent)
        return fail(QStringLiteral("message.role must be %1")
                        .arg(dialect == Dialect::V1 ? QStringLiteral("ROLE_USER or ROLE_AGENT")
                                                    : QStringLiteral("\"user\" or \"agent\"")));
    out.insert(QStringLiteral("role"),
               user ? QStringLiteral("ROLE_USER") : QStringLiteral("ROLE_AGENT"));
    const bool proto = dialect == Dialect::V03Rest;
    const QString partsKey = proto ? QStringLiteral("content") : QStringLiteral("parts");
    const QJsonValue partsValue = in.value(partsKey);
    if (!partsValue.isArray())
        return fail(QStringLiteral("message.%1 must be an array").arg(partsKey));
    QJsonArray parts;
    const QJsonArray inParts = partsValue.toArray();
    for (qsizetype i = 0; i < inParts.size(); ++i) {
        const QJsonObject p = inParts.at(i).toObject();
        const QString where = QStringLiteral("message.%1[%2]").arg(partsKey).arg(i);
        QJsonObject part;
        if (p.contains(QLatin1String("text"))) {
            if (!p.value(QLatin1String("text")).isString())
                return fail(where + QStringLiteral(".text must be a string"));
            part.insert(QStringLiteral("text"), p.value(QLatin1String("text")));
        } else if (p.contains(QLatin1String("data"))) {
            // v0.3 proto: {"data": {"data": {...}}}
            const QJsonValue data = p.value(QLatin1String("data"));
            part.insert(QStringLiteral("data"),
                        proto ? data.toObject().value(QLatin1String("data")) : data);
        } else if (p.contains(QLatin1String("url")) || p.contains(QLatin1String("raw"))) {
            part = p;
        } else if (p.contains(QLatin1String("file"))) {
            const QJsonObject file = p.value(QLatin1String("file")).toObject();
            if (file.contains(QLatin1String("uri")))
                part.insert(QStringLiteral("url"), file.value(QLatin1String("uri")));
            else if (file.contains(QLatin1String("fileWithUri")))
                part.insert(QStringLiteral("url"), file.value(QLatin1String("fileWithUri")));
            else if (file.contains(QLatin1String("bytes")))
                part.insert(QStringLiteral("raw"), file.value(QLatin1String("bytes")));
            else if (file.contains(QLatin1String("fileWithBytes")))
                part.insert(QStringLiteral("raw"), file.value(QLatin1String("fileWithBytes")));
            else
                return fail(where + QStringLiteral(".file needs a uri or bytes"));
            if (file.contains(QLatin1String("mimeType")))
                part.insert(QStringLiteral("mediaType"), file.value(QLatin1String("mimeType")));
        } else {
            return fail(where + QStringLiteral(" has no content (text, data, url, raw or file)"));
        }
        if (p.contains(QLatin1String("metadata")))
            part.insert(QStringLiteral("metadata"), p.value(QLatin1String("metadata")));
        parts.append(part);
    }
    out.insert(QStringLiteral("parts"), parts);
    if (in.contains(QLatin1String("metadata")))
        out.insert(QStringLiteral("metadata"), in.value(QLatin1String("metadata")));
    return out;
}

QJsonObject textPart(const QString &text)
{
    return QJsonObject{{QStringLiteral("text"), text},
                       {QStringLiteral("mediaType"), QStringLiteral("text/plain")}};
}

QJsonObject dataPart(const QJsonObject &data)
{
    return QJsonObject{{QStringLiteral("data"), data},
                       {QStringLiteral("mediaType"), QStringLiteral("application/json")}};
}

QJsonObject agentMessage(const QString &taskId, const QString &contextId, const QJsonArray &parts)
{
    return QJsonObject{
        {QStringLiteral("messageId"), QUuid::createUuid().toString(QUuid::WithoutBraces)},
        {QStringLiteral("contextId"), contextId},
        {QStringLiteral("taskId"), taskId},
        {QStringLiteral("role"), QStringLiteral("ROLE_AGENT")},
        {QStringLiteral("parts"), parts}};
}

QString encodePageToken(const QString &timestamp, const QString &id)
{
    return QString::fromLatin1((timestamp + QLatin1Char('|') + id).toUtf8().toBase64());
}

std::optional<std::pair<QString, QString>> decodePageToken(const QString &token, Error *error)
{
    const auto decoded
        = QByteArray::fromBase64Encoding(token.toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded) {
        if (error)
            *error = {ErrorKind::InvalidParams,
                      QStringLiteral("Token is not a valid base64-encoded cursor.")};
        return std::nullopt;
    }
    const QString text = QString::fromUtf8(*decoded);
    const qsizetype bar = text.indexOf(QLatin1Char('|'));
    if (bar < 0) {
        if (error)
            *error = {ErrorKind::InvalidParams, QStringLiteral("Invalid page token format.")};
        return std::nullopt;
    }
    return std::make_pair(text.left(bar), text.mid(bar + 1));
}

QString requestedVersion(const QByteArray &header, const QByteArray &query)
{
    QString v = QString::fromLatin1(header).trimmed();
    if (v.isEmpty() && !query.isEmpty())
        v = QUrlQuery(QString::fromLatin1(query)).queryItemValue(QStringLiteral("A2A-Version"));
    return v.isEmpty() ? QStringLiteral("0.3") : v;
}

QString isoNow()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

std::optional<Decision> parseDecision(const QJsonObject &message, Error *error)
{
    QStringList words;
    for (const QJsonValue &pv : message.value(QLatin1String("parts")).toArray()) {
        const QJsonObject part = pv.toObject();
        if (part.contains(QLatin1String("data"))) {
            const QJsonObject data = part.value(QLatin1String("data")).toObject();
            if (!data.contains(QLatin1String("decision")))
                continue;
            const QString verdict = data.value(QLatin1String("decision")).toString();
            Decision d;
            if (verdict == QLatin1String("approve"))
                d.verdict = Decision::Verdict::Approve;
            else if (verdict == QLatin1String("deny"))
                d.verdict = Decision::Verdict::Deny;
            else if (verdict == QLatin1String("edit"))
                d.verdict = Decision::Verdict::Edit;
            else {
                if (error)
                    *error = {ErrorKind::InvalidParams,
                              QStringLiteral("data.decision must be \"approve\", \"deny\" or "
                                             "\"edit\", not \"%1\"")
                                  .arg(verdict)};
                return std::nullopt;
            }
            d.reason = data.value(QLatin1String("reason")).toString();
            d.arguments = data.value(QLatin1String("arguments")).toObject();
            return d;
        }
        if (part.contains(QLatin1String("text")))
            words << part.value(QLatin1String("text")).toString();
    }
    const QString text = words.join(QLatin1Char(' ')).toLower();
    static const QStringList deny = {QStringLiteral("deny"),
                                     QStringLiteral("denied"),
                                     QStringLiteral("reject"),
                                     QStringLiteral("rejected"),
                                     QStringLiteral("no")};
    static const QStringList approve
        = {QStringLiteral("approve"), QStringLiteral("approved"), QStringLiteral("yes")};
    const QStringList tokens
        = text.split(QRegularExpression(QStringLiteral("[^a-z]+")), Qt::SkipEmptyParts);
    const bool saysDeny = std::any_of(
        tokens.begin(), tokens.end(), [](const QString &t) { return deny.contains(t); });
    const bool saysApprove = std::any_of(
        tokens.begin(), tokens.end(), [](const QString &t) { return approve.contains(t); });
    if (saysDeny == saysApprove) {
        if (error)
            *error = {ErrorKind::InvalidParams,
                      QStringLiteral("the task waits for an approval: send a data part "
                                     "{\"decision\": \"approve\"|\"deny\"|\"edit\"} or the word "
                                     "approve or deny")};
        return std::nullopt;
    }
    Decision d;
    d.verdict = saysApprove ? Decision::Verdict::Approve : Decision::Verdict::Deny;
    d.reason = words.join(QLatin1Char(' '));
    return d;
}

} // namespace Breaker::A2a
