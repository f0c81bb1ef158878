#pragma once

#include "connectors/runtime/RuntimeTypes.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QUrl>

#include <optional>

// The Cloudflare Agents WebSocket frames (PROTOCOLS.md 1.3), as pure functions so they can be
// tested from captured samples (tests/data/cloudflare/).
namespace Breaker::Cloudflare {

// "WorkAgent/room-1" (the agent binding's selector, or a run's external id). The class may be
// written as the Durable Object class ("WorkAgent") or as its route ("work-agent").
struct Selector
{
    QString agentClass; // as written
    QString instance;

    QString routeClass() const;            // kebab-case: "work-agent"
    QByteArray externalId() const;         // "work-agent/room-1": the run's id
};
Result<Selector> parseSelector(const QString &text);

// "WorkAgent" → "work-agent", "MCPServer" → "mcp-server", "work_agent" → "work-agent"; a name
// already in kebab-case is kept. wrangler 4.86 answers the class name itself with HTTP 400.
QString kebabCase(const QString &className);

// ws(s)://origin[/base]/agents/{kebab-class}/{instance}. http(s) origins become ws(s).
Result<QUrl> agentUrl(const QUrl &origin, const Selector &selector);

struct Frame
{
    enum class Type { Identity, State, StateError, Rpc, McpServers, ChatMessages, ChatResponse, Other };
    Type type = Type::Other;
    QByteArray typeName; // the frame's own "type"

    // Identity.
    QString name;  // instance
    QString agent; // kebab class
    bool stateFollows = false;
    // State.
    QJsonValue state;
    // StateError, and a failed Rpc.
    QString error;
    // Rpc reply; ChatResponse (cf_agent_use_chat_response) uses id and done too.
    QString id;
    bool success = false;
    bool done = false;
    QJsonValue result;
    // ChatMessages.
    QJsonArray messages;
};
// A text frame. Errors say what was wrong, in words.
Result<Frame> parseFrame(const QByteArray &text);

QByteArray rpcRequest(const QString &id, const QString &method, const QJsonArray &args);
QByteArray chatCancelFrame(const QString &chatRequestId);
QByteArray toolApprovalFrame(const QString &toolCallId, bool approved);

// The run status an agent's state says, from its "status" (or "state") word; Unknown when the
// state carries neither. `raw` receives the word as sent.
RunStatus statusFromState(const QJsonValue &state, QByteArray *raw = nullptr);

// A tool call waiting for a person in cf_agent_chat_messages: the newest part in state
// "approval-requested". `toolCallId` receives its id.
std::optional<RuntimeApprovalRequest> pendingApproval(const QJsonArray &messages, QString *toolCallId);

// A WebSocket close in words: "closed with 1011 (internal error: ...): <reason>". Every code
// has words: the RFC 6455 and IANA registry codes, 3000-3999 (libraries), 4000-4999 (the
// agent's own), and anything else as "not a valid close code".
QString closeCodeName(int code);
QString describeClose(int code, const QString &reason);

} // namespace Breaker::Cloudflare
