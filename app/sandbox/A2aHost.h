#pragma once

#include "app/sandbox/A2aCodec.h"
#include "app/sandbox/A2aTaskStore.h"
#include "app/sandbox/AgentSpec.h"
#include "app/sandbox/SandboxFleet.h"
#include "app/sandbox/fakes/FakeFaults.h"
#include "connectors/net/HttpServer.h"
#include "models/Result.h"

#include <QHash>
#include <QObject>
#include <QUrl>

#include <unordered_map>
#include <vector>

namespace Breaker {

// Which A2A interfaces an agent's origin offers (its card lists them, in this order of
// preference: the first one of a dialect is its preferred transport).
struct A2aInterfaces
{
    bool v1 = true;  // v1.0 interfaces (and v0.3 ones too when v03 is set: a2a-js legacy compat)
    bool v03 = true; // v0.3 interfaces
    bool jsonRpc = true;
    bool rest = true;
    bool restFirst = false; // HTTP+JSON is listed (and preferred) before JSON-RPC
};

// One sandbox agent's A2A origin on its own loopback port (DESIGN.md section 6): agent card,
// JSON-RPC at /a2a/jsonrpc, HTTP+JSON at /a2a/rest (v0.3 under /a2a/rest/v1/...), with the
// shapes and errors of @a2a-js/sdk 1.3.0. Each run of the agent is a task here; SendMessage
// starts one, CancelTask stops one, and an answer to an INPUT_REQUIRED task decides its
// approval. Lives on the fleet's thread.
class A2aHost : public QObject
{
    Q_OBJECT

public:
    A2aHost(SandboxFleet *fleet,
            int agentIndex,
            A2aInterfaces interfaces,
            int maxTerminalTasks = 2000,
            QObject *parent = nullptr);
    ~A2aHost() override;

    Result<void> listen(); // 127.0.0.1, a port the OS picks
    void close();
    quint16 port() const { return m_server.port(); }
    FakeFaults *faults() { return &m_faults; }
    QUrl origin() const;
    QUrl jsonRpcUrl() const;
    QUrl restUrl() const;
    // The URL a client should be pointed at: the card's first interface.
    QUrl preferredUrl() const;
    const A2aInterfaces &interfaces() const { return m_interfaces; }
    const AgentSpec &spec() const;

    // Fed from the fleet's run observer (the sandbox dispatches by agent index).
    void onRunNotice(const SandboxFleet::RunNotice &notice);

    int taskCount() const { return m_store.size(); }

private:
    struct Call
    {
        A2a::Dialect dialect = A2a::Dialect::V1;
        A2a::Binding binding = A2a::Binding::JsonRpc;
        QJsonValue rpcId = QJsonValue::Null;
        Net::HttpResponder responder;
        int historyLength = -1; // -1: all
    };

    void handleCard(const Net::HttpRequest &request, Net::HttpResponder responder);
    void handleJsonRpc(const Net::HttpRequest &request, Net::HttpResponder responder);
    void handleRest(const Net::HttpRequest &request, Net::HttpResponder responder);

    // Operations, shared by every dialect and binding.
    void sendMessage(Call call, const QJsonObject &params, bool streaming);
    void getTask(Call call, const QString &id);
    void listTasks(Call call, const QJsonObject &params);
    void cancelTask(Call call, const QString &id);
    void subscribe(Call call, const QString &id);

    // Answers.
    void replyResult(const Call &call, const QJsonValue &result, int restStatus = 200);
    void replyError(const Call &call, const A2a::Error &error);
    void replyTask(const Call &call, const A2a::Task &task, bool wrapForSend);
    void beginStream(const Call &call);
    void writeEvent(const Call &call, const QJsonObject &event);

    QJsonObject card(A2a::Dialect dialect) const;
    QJsonObject taskJson(const A2a::Task &task, A2a::Dialect dialect, int historyLength) const;
    QJsonObject taskEvent(const A2a::Task &task, A2a::Dialect dialect) const;
    QJsonObject statusEvent(const A2a::Task &task, A2a::Dialect dialect) const;
    QJsonObject
    artifactEvent(const A2a::Task &task, const QJsonObject &artifact, A2a::Dialect dialect) const;
    QStringList supportedVersions(A2a::Binding binding) const;

    // Task changes, published to subscribers in order; blocking senders are answered when the
    // task is terminal or interrupted.
    void publishStatus(A2a::Task &task);
    void publishArtifact(A2a::Task &task, const QJsonObject &artifact);
    void settle(const QString &taskId);
    void transition(A2a::Task &task, A2a::TaskState state, const QJsonObject &message = {});

    SandboxFleet *m_fleet;
    int m_agentIndex;
    A2aInterfaces m_interfaces;
    FakeFaults m_faults; // before the server: its routes hold a pointer to it
    Net::HttpServer m_server;
    A2a::TaskStore m_store;
    std::unordered_map<quint64, QString> m_taskOfRun;
    QHash<QString, std::vector<Call>> m_streams; // per task: open SSE responses
    QHash<QString, std::vector<Call>> m_waiters; // per task: blocking SendMessage calls
    // Set while SendMessage starts a run, so the Started notice reuses its ids and message.
    struct Pending
    {
        QString taskId;
        QString contextId;
        QJsonObject message;
    };
    const Pending *m_pending = nullptr;
};

} // namespace Breaker
