#pragma once

#include "connectors/net/HttpClient.h"
#include "connectors/runtime/A2aCodec.h"
#include "connectors/runtime/RuntimeConnector.h"
#include "connectors/runtime/SseParser.h"

#include <QHash>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <deque>
#include <memory>
#include <optional>

namespace Breaker {

struct ProviderConfig;

// An A2A agent (v1.0 and v0.3, JSON-RPC and HTTP+JSON) as a runtime (PROTOCOLS.md 1.1).
//
// Discovery reads the agent card from the origin of the profile's URL (or the URL itself when
// it names a .json card) with `A2A-Version: 1.0`, and chooses the dialect and binding from it.
//
// Following: A2A has no stream of every task, and one SSE stream per task would not scale
// (and QNetworkAccessManager opens at most six connections to a host). So the connector polls
// ListTasks with statusTimestampAfter (v1.0, and v0.3 over REST) and reports what changed, and
// opens an SSE subscription (SubscribeToTask / tasks/resubscribe) only for the few runs being
// watched closely (shown, cancelled, answered), polling GetTask for the rest of those when the
// limit is reached or the dialect has no list.
class A2aConnector : public RuntimeConnector
{
    Q_OBJECT
public:
    // `bearer` is the resolved api_key, sent as "Authorization: Bearer ..." when not empty.
    A2aConnector(const ProviderConfig &config, QByteArray bearer, QObject *parent = nullptr);
    ~A2aConnector() override;

    QByteArray providerName() const override { return m_provider; }
    QByteArray kind() const override { return "a2a"; }
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
    bool canStartRuns() const override { return true; }
    void startRunWithMessage(const QString &text, const QJsonObject &data, RuntimeCallback<RuntimeRun> done) override
    {
        startTask(text, data, std::move(done));
    }

    // Test and tuning knobs.
    void setPollIntervalMs(int ms) { m_pollIntervalMs = ms; }
    void setMaxStreams(int n) { m_maxStreams = n; }
    // Speak this dialect even when the card offers a newer one (tests of a server's v0.3 side;
    // the card must still list an interface of that dialect).
    void setDialectOverride(std::optional<A2a::Dialect> dialect) { m_dialectOverride = dialect; }
    std::optional<A2a::Endpoint> endpoint() const { return m_endpoint; }

    // Sends a new message (a text part, plus a data part when `data` is an object) that starts
    // a task, without waiting for it to finish. Used by drills and tests.
    void startTask(const QString &text, const QJsonObject &data, RuntimeCallback<RuntimeRun> done);

private:
    using JsonDone = std::function<void(const Result<QJsonObject> &)>;
    void ensureDiscovered(std::function<void(const Result<void> &)> then);
    void fetchCard(const QUrl &cardUrl, bool fallbackAllowed);
    void finishDiscovery(const Result<A2a::Endpoint> &endpoint);
    void call(A2a::Op op, const QByteArray &taskId, const QJsonObject &params, JsonDone done);
    // Runs `parse` over a reply's body: here for a small one, on a pool thread for a big one
    // (the answer comes back on this object's thread; never after it is gone).
    void decode(const QByteArray &body, JsonDone done, std::function<Result<QJsonObject>(const QByteArray &)> parse);
    QUrl restUrl(const QString &path) const;
    Net::HttpClient::Headers headers(bool json) const;
    RuntimeRun complete(RuntimeRun run) const;
    void reportTask(const RuntimeRun &run);

    void poll();
    void pollPage(const QByteArray &pageToken, int pagesLeft, qint64 newestSeen, qint64 oldestSeen);
    void pollFailed(const Error &error);
    void openStream(const QByteArray &taskId);
    void streamEnded(const QByteArray &taskId, const std::optional<Error> &error);
    void pollWatched();

    QByteArray m_provider;
    QUrl m_profileUrl;
    QByteArray m_bearer;
    Net::HttpClient *m_http = nullptr;
    std::optional<A2a::Endpoint> m_endpoint;
    std::optional<A2a::Dialect> m_dialectOverride;
    RuntimeCapabilities m_capabilities;
    bool m_discovering = false;
    std::vector<std::function<void(const Result<void> &)>> m_discoveryWaiters;
    qint64 m_nextRpcId = 1;

    // Following.
    bool m_following = false;
    bool m_pollInFlight = false;
    int m_pollIntervalMs = 250; // bench_runtime_follow: 500 ms missed the 1 s lag target
    int m_failures = 0;
    QTimer m_pollTimer;
    qint64 m_watermarkMs = 0; // newest status timestamp seen by the list poll
    QHash<QByteArray, QByteArray> m_lastSeen; // task id → state + timestamp last reported
    std::deque<QByteArray> m_lastSeenOrder;   // bounds m_lastSeen

    struct Watch
    {
        QPointer<QNetworkReply> reply;
        SseParser parser;
        int attempts = 0;
        bool done = false;
    };
    QHash<QByteArray, std::shared_ptr<Watch>> m_watches; // task id → stream
    QSet<QByteArray> m_polledWatches;                    // watched without a stream
    int m_maxStreams = 4;
    QTimer m_watchPollTimer;
};

} // namespace Breaker
