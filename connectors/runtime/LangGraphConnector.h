#pragma once

#include "connectors/net/HttpClient.h"
#include "connectors/runtime/LangGraphCodec.h"
#include "connectors/runtime/RuntimeConnector.h"
#include "connectors/runtime/SseParser.h"

#include <QHash>
#include <QJsonObject>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <deque>
#include <memory>

namespace Breaker {

struct ProviderConfig;

// A LangGraph Platform / Agent Server (LangSmith Deployment, `langgraph dev`, `langgraphjs dev`)
// as a runtime (PROTOCOLS.md 1.2). The status mapping is in LangGraphCodec.h.
//
// Runs: a run lives in a thread; externalId is "<thread_id>:<run_id>", the key
// "langgraph:<thread_id>:<run_id>" (RunMonitor::langgraphKey), contextId the thread id and
// agentName the graph id (else the assistant id). listRuns pages over POST /threads/search
// (newest update first) and lists each thread's runs (GET /threads/{t}/runs), newest first.
//
// Following: the API has no change feed, so the connector polls /threads/search sorted by
// updated_at and reads the runs of the threads that changed since the last poll. watchRun joins
// a run's SSE stream (GET /threads/{t}/runs/{r}/stream), resumes it with Last-Event-ID after a
// drop (the server replays only runs created with stream_resumable), reconnects with backoff and
// falls back to reading the run every second when the stream keeps failing.
//
// Waiting for a person: a run that ended `success` while its thread is `interrupted` paused at
// interrupt(); getRun reads the thread and its state and reports WaitingApproval with the
// question (LangChain's human-in-the-loop action_requests shape, or any interrupt value in
// words). answer() resumes the thread with a Command — a new run on the same thread, reported
// (and watched) under its own id; a thread that no longer waits is a Conflict.
//
// Cancel: POST /threads/{t}/runs/{r}/cancel?wait=false&action=interrupt (cooperative: the run
// becomes `interrupted`, the thread keeps its checkpoints). The server answers 202 even while
// the graph runs on (langgraphjs#2755) and even for a run that already ended, so the connector
// reads the run back and reports what the server then says; it refuses to "cancel" a run that
// has ended or waits at an interrupt (Conflict, in words). Proving the stop is the caller's job
// (CancelVerifier).
class LangGraphConnector : public RuntimeConnector
{
    Q_OBJECT
public:
    // `apiKey` is the resolved api_key, sent as "x-api-key" when not empty.
    LangGraphConnector(const ProviderConfig &config, QByteArray apiKey, QObject *parent = nullptr);
    ~LangGraphConnector() override;

    QByteArray providerName() const override { return m_provider; }
    QByteArray kind() const override { return "langgraph"; }
    RuntimeCapabilities capabilities() const override { return m_capabilities; }

    void discover(RuntimeCallback<RuntimeCapabilities> done) override;
    void listRuns(const QByteArray &pageToken, int pageSize, RuntimeCallback<RuntimePage> done) override;
    void getRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done) override;
    // action=interrupt (cooperative).
    void cancelRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done) override;
    void answer(const QByteArray &externalId, const ApprovalAnswer &answer,
                RuntimeCallback<RuntimeRun> done) override;
    void startFollowing() override;
    void stopFollowing() override;
    void watchRun(const QByteArray &externalId) override;

    enum class CancelAction {
        Interrupt, // stop at the next step boundary; the run ends `interrupted`, checkpoints kept
        // capabilities().terminate. DESTRUCTIVE: the server deletes the run and every checkpoint
        // it wrote, so the thread returns to its state before the run and the run's own record
        // and history are gone (a later getRun answers NotFound). Observed on the JS dev server:
        // a running run is left `error` with its checkpoints kept (PROTOCOLS.md 6.4); Breaker
        // reports whichever the server does.
        Rollback,
    };
    void cancelRun(const QByteArray &externalId, CancelAction action, RuntimeCallback<RuntimeRun> done);

    // Starts a background run of `assistantId` (an assistant id or a graph id) on a new thread.
    // Used by drills and tests. `streamResumable` lets a watcher resume with Last-Event-ID.
    void startRun(const QByteArray &assistantId, const QJsonObject &input, RuntimeCallback<RuntimeRun> done,
                  bool streamResumable = true);

    // Test and tuning knobs.
    void setPollIntervalMs(int ms) { m_pollIntervalMs = ms; }
    void setMaxStreams(int n) { m_maxStreams = n; }
    int streamCount() const { return int(m_watches.size()); }

private:
    using JsonDone = std::function<void(const Result<QJsonValue> &)>;
    struct Detail
    {
        QJsonObject run;
        QJsonObject thread;
        QJsonObject state;
        RuntimeRun runtimeRun;
        std::vector<LangGraph::Interrupt> interrupts;
    };
    using DetailDone = std::function<void(const Result<Detail> &)>;

    void ensureDiscovered(std::function<void(const Result<void> &)> then);
    QUrl url(const QString &path) const;
    Net::HttpClient::Headers headers(bool json) const;
    // One request whose 2xx answer is JSON (or empty when allowEmpty); errors in words.
    void request(const QByteArray &method, const QString &path, const QJsonValue &body, JsonDone done,
                 bool allowEmpty = false);
    void readDetail(const QByteArray &externalId, DetailDone done);
    RuntimeRun complete(RuntimeRun run) const;
    void report(const RuntimeRun &run);

    void poll();
    void pollPage(int offset, int pagesLeft, qint64 newestSeen);
    void pollThreads(std::vector<QJsonObject> threads, std::function<void()> then);
    void listThreadRuns(const QJsonObject &thread, std::function<void(std::vector<RuntimeRun>)> done);
    void pollFailed(const Error &error);
    void openStream(const QByteArray &externalId);
    void streamEnded(const QByteArray &externalId, const std::optional<Error> &error);
    void pollWatched();

    QByteArray m_provider;
    QUrl m_baseUrl;
    QByteArray m_apiKey;
    Net::HttpClient *m_http = nullptr;
    RuntimeCapabilities m_capabilities;
    bool m_discovered = false;
    bool m_discovering = false;
    std::vector<std::function<void(const Result<void> &)>> m_discoveryWaiters;

    // Following.
    bool m_following = false;
    bool m_pollInFlight = false;
    int m_pollIntervalMs = 2000;
    int m_failures = 0;
    QTimer m_pollTimer;
    qint64 m_watermarkMs = 0; // newest thread updated_at seen by the poll
    QHash<QByteArray, QByteArray> m_lastSeen; // externalId → what was last reported
    std::deque<QByteArray> m_lastSeenOrder;

    struct Watch
    {
        QPointer<QNetworkReply> reply;
        SseParser parser; // kept across reconnects: it holds the Last-Event-ID
        int attempts = 0;
        bool done = false;
        bool readInFlight = false;
    };
    QHash<QByteArray, std::shared_ptr<Watch>> m_watches;
    QSet<QByteArray> m_polledWatches;
    int m_maxStreams = 4;
    QTimer m_watchPollTimer;
};

} // namespace Breaker
