#pragma once

#include "connectors/runtime/RuntimeTypes.h"
#include "models/Result.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <optional>
#include <vector>

// The LangGraph Platform / Agent Server wire format as pure functions (PROTOCOLS.md 1.2). No
// I/O: LangGraphConnector does the talking, and tst_langgraphcodec feeds these the bytes captured
// from the JS dev server (tests/data/langgraph/README.md).
//
// Status mapping. A run and its thread each have a status, and they are independent: a run
// paused by interrupt() ends `success` while its thread is `interrupted` (PROTOCOLS.md trap 2).
//
// | run status    | thread status  | RunStatus        | why                                          |
// |---------------|----------------|------------------|----------------------------------------------|
// | `pending`     | any            | Submitted        | queued, not started                          |
// | `running`     | any            | Working          |                                              |
// | `success`     | `interrupted`, | WaitingApproval  | paused at interrupt(); only the thread's     |
// |               | this run paused|                  | latest run (the state's metadata.run_id)     |
// | `success`     | other          | Completed        |                                              |
// | `error`       | any            | Failed           |                                              |
// | `timeout`     | any            | Failed           |                                              |
// | `interrupted` | any            | Stopped          | cancelled with action=interrupt; the caller  |
// |               |                |                  | verifies (CancelVerifier, langgraphjs#2755)  |
// | anything else | any            | Unknown          | rawState keeps the server's word             |
//
// Thread statuses (`idle`, `busy`, `interrupted`, `error`) never stand alone for a run; they are
// appended to rawState ("success/thread:interrupted") so the operator sees both words.
namespace Breaker::LangGraph {

std::optional<RunStatus> statusFromRunStatus(QByteArrayView status);
bool isKnownThreadStatus(QByteArrayView status);

// externalId is "<thread_id>:<run_id>".
struct RunIds
{
    QByteArray threadId;
    QByteArray runId;
};
Result<RunIds> splitExternalId(const QByteArray &externalId);
QByteArray externalId(const QByteArray &threadId, const QByteArray &runId);

// A Run object as a RuntimeRun (kind "langgraph", externalId, contextId = thread id, key,
// agentName = metadata.graph_id, else assistant_id; provider left empty).
Result<RuntimeRun> parseRun(const QJsonObject &run);

// One pending interrupt: its id and the value the graph passed to interrupt().
struct Interrupt
{
    QByteArray id;
    QJsonValue value;
};
// From GET /threads/{id} (`interrupts: {task id: [{id, value}]}`).
std::vector<Interrupt> interruptsFromThread(const QJsonObject &thread);
// From GET /threads/{id}/state (`tasks[].interrupts[]`, and `values.__interrupt__`).
std::vector<Interrupt> interruptsFromState(const QJsonObject &state);
// From a stream event's data (`{"__interrupt__":[{id, value}]}` in updates and values events).
std::vector<Interrupt> interruptsFromStreamData(const QJsonValue &data);

// The question of an interrupt. LangChain's human-in-the-loop middleware shape
// ({action_requests:[{name,args,description}], review_configs:[…]}, or the JS spelling
// actionRequests/reviewConfigs) gives action, arguments, amount and currency (args.amount,
// args.currency) and the description as message; any other value is shown in words (a string,
// or its question/message/description member, else the compact JSON).
RuntimeApprovalRequest approvalFromInterrupt(const Interrupt &interrupt, int pendingCount = 1);

// Applies the thread to one of its runs (see the table above): only the run that wrote the
// thread's current checkpoint (the state's metadata.run_id; without a state, the newest run,
// `isLatestRun`) gets "/thread:<status>" appended to rawState, and WaitingApproval with the
// question when it ended `success` on an `interrupted` thread.
void applyThread(RuntimeRun &run, const QJsonObject &thread, const QJsonObject &state, bool isLatestRun);

// The `command.resume` value answering `interrupt` (PROTOCOLS.md 1.2, Human in the loop).
// HITL payloads get {"decisions":[…]}, one decision per action request, in the spelling the
// interrupt used: approve → {"type":"approve"}; deny → {"type":"reject","message":reason};
// edit → {"type":"edit","edited_action":{"name":action,"args":edited}} (editedAction for the JS
// spelling; edit needs exactly one action request). Any other payload gets
// {"decision","reason"[,"arguments"]}. With several interrupts pending, the value is keyed by
// the interrupt's id ({"<id>": value}) so only this one is answered.
Result<QJsonValue> resumeValue(const ApprovalAnswer &answer, const Interrupt &interrupt, int pendingCount);

// A non-2xx answer in words naming the provider: the JS server's ZodError 400s (each issue's
// path and message), its plain-text HTTPException bodies ("Run not found"), Agent Protocol's
// {code, message}, FastAPI's {"detail"}; `request` is "GET /threads/…" for context.
// 404 → NotFound; 409, and 422 for a busy thread → Conflict; 408, 429, 5xx → Unavailable;
// anything else → Invalid.
Error errorFromResponse(int httpStatus, const QByteArray &body, const QString &provider,
                        const QString &request);

// A 2xx body that must be a JSON object or array; garbage is an error in words.
Result<QJsonObject> parseObject(const QByteArray &body, const QString &provider, const QString &request);
Result<QJsonArray> parseArray(const QByteArray &body, const QString &provider, const QString &request);

qint64 parseTimestampMs(const QString &text);

} // namespace Breaker::LangGraph
