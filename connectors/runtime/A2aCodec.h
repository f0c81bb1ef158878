#pragma once

#include "connectors/runtime/RuntimeTypes.h"
#include "models/Result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QUrl>

#include <optional>

// The A2A wire format, v1.0 and v0.3, as pure functions (PROTOCOLS.md section 1.1). No I/O:
// A2aConnector does the talking, and the tests feed these the bytes captured from @a2a-js/sdk.
namespace Breaker::A2a {

enum class Dialect { V1_0, V0_3 };
enum class Binding { JsonRpc, HttpJson };

QString dialectName(Dialect dialect, Binding binding); // "A2A 1.0 JSON-RPC"

// The interface Breaker talks to, chosen from the agent card.
struct Endpoint
{
    QUrl url;              // the interface URL (JSON-RPC endpoint or REST base)
    Dialect dialect = Dialect::V1_0;
    Binding binding = Binding::JsonRpc;
    QString tenant;        // v1.0 interface tenant, or empty
    QString agentName;     // the card's name
    bool streaming = false;
};

// Reads a card fetched with `A2A-Version: 1.0` (a v1.0 server answers the v1.0 shape, an older
// one its own) and chooses the interface: the one whose URL is the profile's URL when there is
// one (its binding; v1.0 over v0.3 when both are offered for that binding), else the first v1.0
// JSON-RPC or HTTP+JSON interface, else the v0.3 `url` with its preferred transport. gRPC is
// never chosen. Relative interface URLs resolve against cardUrl.
Result<Endpoint> chooseEndpoint(const QByteArray &cardJson, const QUrl &cardUrl,
                                const QUrl &profileUrl,
                                std::optional<Dialect> onlyDialect = std::nullopt);

// All nine task states, in both dialects and both spellings of canceled.
std::optional<RunStatus> statusFromState(QByteArrayView state);
bool isInterrupted(QByteArrayView state); // input-required / auth-required

// A Task object (v1.0 or v0.3 JSON) as a RuntimeRun (provider, kind and key left empty).
Result<RuntimeRun> parseTask(const QJsonObject &task);

// One StreamResponse (the `result` of a JSON-RPC stream event, or a REST stream event).
struct StreamEvent
{
    enum class Type { Task, StatusUpdate, ArtifactUpdate, Message };
    Type type = Type::Task;
    RuntimeRun run;      // Task, StatusUpdate: the run as of this event (id, context, state)
    bool final = false;  // v0.3 `final`, or a terminal state
};
Result<StreamEvent> parseStreamResponse(const QJsonObject &response);

// A JSON-RPC response body: the `result`, or the error in words.
Result<QJsonObject> parseJsonRpcResponse(const QByteArray &body, const QString &provider);
// A JSON-RPC error object in words: "TaskNotFound (-32001): Task not found: nope [TASK_NOT_FOUND]".
Error errorFromJsonRpc(const QJsonObject &error, const QString &provider);
// A REST error answer: {"error":{"code","status","message","details"}} or whatever came.
Error errorFromRest(int httpStatus, const QByteArray &body, const QString &provider);
// The name of an A2A or JSON-RPC error code ("TaskNotCancelable"), or empty.
QString errorCodeName(int code);

// JSON-RPC method names per dialect.
enum class Op { Send, Stream, Get, List, Cancel, Subscribe };
QByteArray jsonRpcMethod(Op op, Dialect dialect); // empty when the dialect has none (v0.3 list)
QByteArray jsonRpcRequest(const QByteArray &method, const QJsonObject &params, qint64 id);

// A user message in the shape the dialect and binding expect: v1.0 ProtoJSON (`parts`,
// ROLE_USER), v0.3 JSON-RPC (`kind` tags, role "user") or v0.3 REST proto JSON (`content`,
// ROLE_USER, data payload nested as {"data":{"data":…}}). `v1Parts` are written as v1.0 parts
// ({"text"} / {"data"}). taskId and contextId are left out when empty.
QJsonObject userMessage(const QJsonArray &v1Parts, const QByteArray &taskId, const QByteArray &contextId,
                        const QByteArray &messageId, Dialect dialect, Binding binding);

// The answer to an input-required task: a user message on the same task and context with a
// data part {"decision", "reason", "arguments"} and a text part saying the same in words
// (DESIGN.md section 4). `messageId` is made by the caller.
QJsonObject answerMessage(const ApprovalAnswer &answer, const QByteArray &taskId,
                          const QByteArray &contextId, const QByteArray &messageId,
                          Dialect dialect, Binding binding);

// v1.0 timestamps are RFC 3339 ("2026-11-27T01:02:03.456Z"); 0 when unreadable.
qint64 parseTimestampMs(const QString &text);

} // namespace Breaker::A2a
