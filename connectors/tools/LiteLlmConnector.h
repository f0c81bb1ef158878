#pragma once

#include "connectors/containment/LayerConnector.h"
#include "connectors/net/HttpClient.h"

#include <QJsonObject>
#include <QUrl>

#include <memory>

namespace Breaker {

struct ProviderConfig;

// The tools layer on a LiteLLM proxy (PROTOCOLS.md 4.3), with the master key as bearer. A stop
// blocks the agent's own virtual key (POST /key/block: every call with it is refused) and adds
// the agent's tools to the key's object_permission.blocked_tools (POST /key/update), keeping the
// tools someone else put there. The proof: /key/info reads blocked: true and the tools back, and
// the agent's own key is refused (401/403) on GET /v1/models, a call that costs nothing.
//
// Why blocked_tools and not mcp_tool_permissions: mcp_tool_permissions is an allow-list per MCP
// server ({} or absent means every tool), so "emptying" it would not block anything; the key's
// blocked_tools list is the deny-list LiteLLM's tool policy checks.
class LiteLlmConnector : public LayerConnector
{
    Q_OBJECT
public:
    // `masterKey` is the resolved api_key of the provider (a proxy admin key).
    LiteLlmConnector(const ProviderConfig &config, QByteArray masterKey, QObject *parent = nullptr);
    ~LiteLlmConnector() override;

    QByteArray layer() const override { return "tools"; }
    QByteArray provider() const override { return m_provider; }
    QByteArray kind() const override { return "litellm"; }

    void
    contain(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done) override;
    bool canRelease() const override { return true; }
    void
    release(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done) override;
    void checkLeaks(const LayerTarget &target,
                    qint64 sinceMs,
                    std::function<void(Result<std::vector<LayerLeak>>)> done) override;
    void probe(std::function<void(Result<QString>)> done) override;

private:
    struct Op;
    using Reply = std::function<void(const Result<Net::ClientReply> &)>;
    using InfoDone = std::function<void(const Result<QJsonObject> &)>;

    void send(const QByteArray &method,
              const QString &path,
              const QByteArray &query,
              const QByteArray &bearer,
              const QByteArray &body,
              Reply done);
    void keyInfo(const QByteArray &key, InfoDone done);
    QString answerWords(const Net::ClientReply &reply, const QString &what) const;

    std::shared_ptr<Op>
    startOp(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done, bool block);
    void act(const std::shared_ptr<Op> &op);
    void updateTools(const std::shared_ptr<Op> &op);
    void verify(const std::shared_ptr<Op> &op);
    void finish(const std::shared_ptr<Op> &op, LayerOutcome outcome, const QString &detail);

    QByteArray m_provider;
    QUrl m_base;
    QByteArray m_masterKey;
    Net::HttpClient *m_http = nullptr;
    bool m_caChecked = false;
    bool m_destroying = false;
};

} // namespace Breaker
