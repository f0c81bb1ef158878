#pragma once

#include "connectors/runtime/CloudflareCodec.h"
#include "connectors/runtime/RuntimeConnector.h"

#include <QHash>
#include <QJsonArray>
#include <QNetworkProxy>
#include <QSslConfiguration>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <map>
#include <memory>

class QWebSocket;

namespace Breaker {

struct ProviderConfig;

// Cloudflare Agents (PROTOCOLS.md 1.3) as a runtime: one WebSocket per agent instance, at
// {url}/agents/{kebab-class}/{instance}.
//
// Which instances: a Durable Object agent has no directory of its instances, so the connector
// follows the ones the profile names: every agent whose runtime is {"provider": this provider,
// "agent": "Class/instance"} (RuntimeService::runtimeSelectors). listRuns answers those. A run
// id that names another instance ("work-agent/room-9", e.g. from `breakerctl stop --run`) is
// reached on demand.
//
// Runs: one per agent instance. externalId = "<kebab-class>/<instance>" (as the agent's own
// cf_agent_identity names it), key = "cloudflare-agents:<externalId>". The status comes from
// the state's "status" word (Cloudflare::statusFromState) and changes with every
// cf_agent_state broadcast. RPC requests are not runs: a connection sees only its own RPC
// replies, never another client's, so request-level runs would show only Breaker's own calls.
//
// Cancel: an agent has no cancel frame. cancelRun calls the profile's stop_method over RPC (and
// sends cf_agent_chat_request_cancel for any chat request streaming on the connection).
// Without stop_method, cancelRun answers Error{Invalid, "skipped_not_configured: no
// stop_method in the profile for <provider>"} and capabilities().cancel is false.
//
// Links: followed and watched instances reconnect after 1, 2, 4, 8, 16, 30, 30... s. The link
// state is Connected when every followed instance is connected, Degraded when some are, Down
// when none is; the detail names the instance and the last close in words
// (Cloudflare::describeClose).
class CloudflareAgentsConnector : public RuntimeConnector
{
    Q_OBJECT
public:
    // `bearer` is the resolved api_key, sent as "Authorization: Bearer ..." on the upgrade
    // request when not empty (auth is the agent's own, in onConnect/onBeforeConnect).
    // `selectors` are the profile's "Class/instance" bindings for this provider.
    CloudflareAgentsConnector(const ProviderConfig &config, QByteArray bearer, const QStringList &selectors,
                              QObject *parent = nullptr);
    ~CloudflareAgentsConnector() override;

    QByteArray providerName() const override { return m_provider; }
    QByteArray kind() const override { return "cloudflare-agents"; }
    RuntimeCapabilities capabilities() const override { return m_capabilities; }

    void discover(RuntimeCallback<RuntimeCapabilities> done) override;
    void listRuns(const QByteArray &pageToken, int pageSize, RuntimeCallback<RuntimePage> done) override;
    void getRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done) override;
    void cancelRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done) override;
    void answer(const QByteArray &externalId, const ApprovalAnswer &answer,
                RuntimeCallback<RuntimeRun> done) override;
    void startFollowing() override;
    void stopFollowing() override;
    void watchRun(const QByteArray &externalId) override;

    // Calls a @callable method. `chunk` (may be empty) receives each streamed result
    // (done:false); `done` the final result or the agent's error. The deadline (timeout_s)
    // restarts with every chunk. Used by drills and tests.
    void callMethod(const QByteArray &externalId, const QString &method, const QJsonArray &args,
                    std::function<void(const QJsonValue &)> chunk, RuntimeCallback<QJsonValue> done);

    // Test knob: the first reconnect delay (1000 ms); later ones double up to 30 times it.
    void setBackoffUnitMs(int ms) { m_backoffUnitMs = ms; }
    // The delay before the next reconnect of an instance, 0 when none is planned.
    int nextRetryMs(const QByteArray &externalId) const;

private:
    struct PendingCall
    {
        std::function<void(const QJsonValue &)> chunk;
        RuntimeCallback<QJsonValue> done;
        QTimer *deadline = nullptr;
    };
    struct Link
    {
        Cloudflare::Selector selector;
        QString configured;        // the selector as the profile wrote it (agent binding)
        QUrl url;
        QWebSocket *socket = nullptr;
        QTimer *handshake = nullptr;
        QTimer *retry = nullptr;
        bool open = false;         // the socket is connected
        bool closing = false;      // a close frame arrived, or we closed it
        bool ready = false;        // identity (and the first state, when it follows) arrived
        bool configuredHere = false; // named by the profile: followed by startFollowing()
        bool watched = false;      // watchRun(): kept open even when not following
        int failures = 0;          // since the last ready
        int retryMs = 0;
        QString lastClose;         // the last close, in words
        QString agentName;         // from cf_agent_identity
        std::optional<RuntimeRun> run;
        QByteArray lastStateJson;
        QString pendingToolCallId;
        std::optional<RuntimeApprovalRequest> pendingApproval;
        QSet<QString> chatRequests; // cf_agent_use_chat_response ids not done yet
        std::vector<std::function<void(const Result<Link *> &)>> waiters;
        QHash<QString, PendingCall> calls;
    };

    Result<Link *> linkFor(const QByteArray &externalId);
    void sendCall(Link *link, const QString &method, const QJsonArray &args,
                  std::function<void(const QJsonValue &)> chunk, RuntimeCallback<QJsonValue> done);
    void prepare();
    void withReadyLink(const QByteArray &externalId, std::function<void(const Result<Link *> &)> then);
    void open(Link *link);
    void onText(Link *link, const QString &text);
    void onClosed(Link *link, const QString &words);
    void finishWaiters(Link *link, const std::optional<Error> &error);
    void failCalls(Link *link, const Error &error);
    void scheduleRetry(Link *link);
    void updateLinkState();
    RuntimeRun runFor(Link *link, const QJsonValue &state) const;
    void report(Link *link, const RuntimeRun &run);
    Error linkError(const Link *link, const QString &what) const;

    QByteArray m_provider;
    QUrl m_origin;
    QByteArray m_bearer;
    QString m_stopMethod;
    QStringList m_selectors;
    QSslConfiguration m_ssl;
    std::optional<QNetworkProxy> m_proxy;
    int m_timeoutMs = 10000;
    int m_backoffUnitMs = 1000;
    RuntimeCapabilities m_capabilities;
    std::optional<Error> m_configError;
    bool m_following = false;
    qint64 m_nextId = 1;
    std::map<QByteArray, std::unique_ptr<Link>> m_links; // external id → link
};

} // namespace Breaker
