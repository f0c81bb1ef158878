#pragma once

#include "connectors/runtime/RuntimeConnector.h"

#include <QPointer>

#include <functional>
#include <memory>
#include <optional>

namespace Breaker {

// A runtime connector that lives on another thread, seen from this one (DESIGN.md section 3).
// The engine's runtime connectors follow every run of their providers: at a burst's thousands of
// runs a minute, their replies and streams are as many events, which on the GUI thread were a
// quarter of its time. They now live on the runtime service's own thread; the stop switch, the
// drill and the views keep calling them through this proxy, on their thread, unchanged.
//
// Every call is queued to the connector, in order, and its answer is queued back to
// `replyContext`'s thread (the RuntimeService, which outlives the connectors' thread), where the
// callback runs, also when the proxy is gone by then; a call that finds no connector answers
// Unavailable. A connector deleted with calls in flight drops them, as it always did. capabilities() and
// linkState() are the connector's, as of its last answer or state change. runUpdated() is not
// re-emitted here: runtime updates go from the connector's thread straight to the RunMonitor.
class RuntimeConnectorProxy : public RuntimeConnector
{
    Q_OBJECT
public:
    using Factory = std::function<RuntimeConnector *(QObject *parent)>;

    // `factory` is called on `host`'s thread with `host` as the parent; the connector is
    // deleted there with the proxy, or with `host`.
    RuntimeConnectorProxy(QByteArray provider, QByteArray kind, QObject *host, QObject *replyContext,
                          Factory factory, QObject *parent = nullptr);
    ~RuntimeConnectorProxy() override;

    // Runs `job` on the connector's thread with the connector (not when it is gone).
    void onConnector(std::function<void(RuntimeConnector *)> job);

    QByteArray providerName() const override { return m_provider; }
    QByteArray kind() const override { return m_kind; }
    RuntimeCapabilities capabilities() const override { return m_capabilities; }

    void discover(RuntimeCallback<RuntimeCapabilities> done) override;
    void listRuns(const QByteArray &pageToken, int pageSize, RuntimeCallback<RuntimePage> done) override;
    void getRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done) override;
    void cancelRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done) override;
    void answer(const QByteArray &externalId, const ApprovalAnswer &answer,
                RuntimeCallback<RuntimeRun> done) override;
    bool canStartRuns() const override { return m_canStartRuns; }
    void startRunWithMessage(const QString &text, const QJsonObject &data, RuntimeCallback<RuntimeRun> done) override;
    void startFollowing() override;
    void stopFollowing() override;
    void watchRun(const QByteArray &externalId) override;

    // What the proxy mirrors of its connector, read on the connector's thread.
    struct Mirror
    {
        RuntimeCapabilities capabilities;
        bool canStartRuns = false;
    };

private:
    void mirror(const Mirror &m);
    // The connector's side; touched on the host's thread only.
    struct Remote
    {
        RuntimeConnector *connector = nullptr;
    };

    // Queues `job` to the host's thread; false when the host is gone (the engine is shutting down).
    bool post(std::function<void()> job);
    template<typename T>
    void call(RuntimeCallback<T> done, std::function<void(RuntimeConnector &, RuntimeCallback<T>)> job);

    QByteArray m_provider;
    QByteArray m_kind;
    // Deleted when its thread ends, which happens while this thread waits for it: so reading it
    // here never races with that deletion.
    QPointer<QObject> m_host;
    QObject *m_replyContext;
    std::shared_ptr<Remote> m_remote;
    RuntimeCapabilities m_capabilities;
    bool m_canStartRuns = false;
};

} // namespace Breaker
