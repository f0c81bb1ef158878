#pragma once

#include "connectors/runtime/RuntimeTypes.h"

#include <QJsonObject>
#include <QObject>

namespace Breaker {

// The runtime layer's interface (issue 3; DESIGN.md section 1, "where it runs"). One object per
// profile provider of layer "runtime". Every call is asynchronous, answers exactly once on the
// object's thread, and never later than the provider's deadline (timeout_s, 10 s by default).
// Errors carry the provider's own words and, in Error::where, the provider's name.
class RuntimeConnector : public QObject
{
    Q_OBJECT
public:
    enum class LinkState { Idle, Connecting, Connected, Degraded, Down };
    Q_ENUM(LinkState)

    using QObject::QObject;
    ~RuntimeConnector() override = default;

    virtual QByteArray providerName() const = 0;
    virtual QByteArray kind() const = 0;
    // Known after discover() succeeded; all false before.
    virtual RuntimeCapabilities capabilities() const = 0;

    // Reads what the provider offers (the A2A card, ...). Every other call discovers first
    // when it has not been done.
    virtual void discover(RuntimeCallback<RuntimeCapabilities> done) = 0;
    // One page, newest first. An empty token asks for the first page.
    virtual void listRuns(const QByteArray &pageToken, int pageSize,
                          RuntimeCallback<RuntimePage> done) = 0;
    virtual void getRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done) = 0;
    // Cooperative cancel. The answer is what the runtime said right away; it proves nothing
    // by itself (see CancelVerifier).
    virtual void cancelRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done) = 0;
    // Answers the pending request of a run that waits for a person.
    virtual void answer(const QByteArray &externalId, const ApprovalAnswer &answer,
                        RuntimeCallback<RuntimeRun> done) = 0;

    // Starts a new run (a message with a text part, plus a data part when `data` is not empty),
    // without waiting for it to finish: drills start a canary run this way. Only runtimes whose
    // canStartRuns() is true can; the others answer Invalid.
    virtual bool canStartRuns() const { return false; }
    virtual void startRunWithMessage(const QString &text, const QJsonObject &data, RuntimeCallback<RuntimeRun> done);

    // Live following: keeps every run the provider reports up to date through runUpdated(),
    // reconnecting with backoff when the provider goes away.
    virtual void startFollowing() = 0;
    virtual void stopFollowing() = 0;
    // Follows one run closely (a stream where the provider has one), e.g. while it is being
    // cancelled or shown.
    virtual void watchRun(const QByteArray &externalId) = 0;

    LinkState linkState() const { return m_linkState; }
    QString linkDetail() const { return m_linkDetail; }

signals:
    void runUpdated(const Breaker::RuntimeRun &run);
    void linkStateChanged(Breaker::RuntimeConnector::LinkState state, const QString &detail);

protected:
    void setLinkState(LinkState state, const QString &detail)
    {
        if (state == m_linkState && detail == m_linkDetail)
            return;
        m_linkState = state;
        m_linkDetail = detail;
        emit linkStateChanged(state, detail);
    }

private:
    LinkState m_linkState = LinkState::Idle;
    QString m_linkDetail;
};

} // namespace Breaker
