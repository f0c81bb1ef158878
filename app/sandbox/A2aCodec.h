#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <optional>

// The wire shapes of the sandbox's A2A host (PROTOCOLS.md section 1.1), written to match
// @a2a-js/sdk 1.3.0: tasks and messages are kept in the v1.0 shape and rendered for v0.3 when
// the request speaks it; errors are rendered per dialect and binding the way a2a-js renders them.
namespace Breaker::A2a {

// V03 is the v0.3 JSON-RPC shape (kind, "user"/"agent", parts); V03Rest the v0.3 HTTP+JSON
// shape, which a2a-js renders as v0.3 *proto* JSON (no kind, ROLE_*, "content", nested data
// parts, TASK_STATE_* with TASK_STATE_CANCELLED).
enum class Dialect { V1, V03, V03Rest };
enum class Binding { JsonRpc, Rest };

// v1.0 numbering (lf.a2a.v1.TaskState).
enum class TaskState {
    Unspecified = 0,
    Submitted = 1,
    Working = 2,
    Completed = 3,
    Failed = 4,
    Canceled = 5,
    InputRequired = 6,
    Rejected = 7,
    AuthRequired = 8,
};

bool isTerminal(TaskState state);
bool isInterrupted(TaskState state);
// "TASK_STATE_WORKING" / "working".
QString stateName(TaskState state, Dialect dialect);
// Accepts both dialects' names ("TASK_STATE_CANCELED", "canceled", "TASK_STATE_CANCELLED").
std::optional<TaskState> parseState(const QString &name);

// The A2A errors of the spec plus JSON-RPC's own, with a2a-js's class names as kinds.
enum class ErrorKind {
    ParseError,     // -32700
    InvalidRequest, // -32600 (v0.3); a2a-js v1.0 reports a malformed envelope as -32602
    MethodNotFound, // -32601
    InvalidParams,  // -32602 (a2a-js RequestMalformedError)
    Internal,       // -32603
    TaskNotFound,   // -32001
    TaskNotCancelable,
    PushNotSupported,
    UnsupportedOperation,
    ContentTypeNotSupported,
    InvalidAgentResponse,
    ExtendedCardNotConfigured,
    ExtensionSupportRequired,
    VersionNotSupported, // -32009
};

struct Error
{
    ErrorKind kind = ErrorKind::Internal;
    QString message;
};

int jsonRpcCode(ErrorKind kind);
QString errorReason(ErrorKind kind); // google.rpc.ErrorInfo reason, e.g. TASK_NOT_FOUND
int restHttpStatus(ErrorKind kind, Dialect dialect);
QString restStatusName(ErrorKind kind); // NOT_FOUND, FAILED_PRECONDITION, ...

// JSON-RPC `error` member: v1.0 carries data [ErrorInfo] (except -32700 and -32601, which a2a-js
// sends bare); v0.3 is {code, message}.
QJsonObject jsonRpcError(const Error &error, Dialect dialect);
// REST error body: v1.0 {"error":{code,status,message,details}}; v0.3 {code, message}.
QJsonObject restError(const Error &error, Dialect dialect);

// v1.0 Message/Part/Task/Artifact (the internal form) to the v0.3 shape.
QJsonObject partToV03(const QJsonObject &part);
QJsonObject messageToV03(const QJsonObject &message);
QJsonObject artifactToV03(const QJsonObject &artifact);
// ... and to the dialect's shape (V1: unchanged).
QJsonObject messageFor(const QJsonObject &message, Dialect dialect);
QJsonObject artifactFor(const QJsonObject &artifact, Dialect dialect);
// status {state, message?, timestamp} with the state named for the dialect.
QJsonObject
statusFor(TaskState state, const QJsonObject &message, const QString &timestamp, Dialect dialect);

// Reads a request's message in either dialect into the v1.0 shape. Errors name the field.
std::optional<QJsonObject> parseMessage(const QJsonValue &value, Dialect dialect, Error *error);

// "ROLE_AGENT" message with the given parts (v1.0 shape).
QJsonObject agentMessage(const QString &taskId, const QString &contextId, const QJsonArray &parts);
// An agent's parts carry their media type, as a2a-js's v1.0 wire shows them.
QJsonObject textPart(const QString &text);
QJsonObject dataPart(const QJsonObject &data);

// ListTasks cursor: base64("<timestamp>|<id>") as a2a-js encodes it.
QString encodePageToken(const QString &timestamp, const QString &id);
std::optional<std::pair<QString, QString>> decodePageToken(const QString &token, Error *error);

// The version of a request: A2A-Version header (or query parameter), empty meaning "0.3".
QString requestedVersion(const QByteArray &header, const QByteArray &query);

// ISO-8601 UTC with milliseconds, as JavaScript's Date.toISOString().
QString isoNow();

// What a reply to an input-required approval says: {"decision": ...} in a data part, or the
// words approve/deny in a text part.
struct Decision
{
    enum class Verdict { Approve, Deny, Edit } verdict = Verdict::Deny;
    QString reason;
    QJsonObject arguments;
};
std::optional<Decision> parseDecision(const QJsonObject &message, Error *error);

} // namespace Breaker::A2a
