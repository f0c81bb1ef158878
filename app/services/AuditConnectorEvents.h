#pragma once

#include "models/RunTypes.h"

#include <QObject>
#include <QThreadPool>

#include <memory>
#include <vector>

namespace Breaker {

class Store;

// The connector events an auditor needs (issue 5 item 2), taken from what telemetry shows:
// a tool call refused by policy (`tools.policy_blocked`), an agent's token refused by its
// identity provider, i.e. a revocation seen taking effect (`identity.token_refused`), and a card
// authorization declined (`payment.declined`). Appended in order, in batches, on one worker
// thread (an audit append fsyncs: never on the GUI thread).
class AuditConnectorEvents : public QObject
{
    Q_OBJECT
public:
    AuditConnectorEvents(std::shared_ptr<Store> store, QString telemetryProvider, QObject *parent = nullptr);
    ~AuditConnectorEvents() override;

    // Fed with RunMonitor::eventsCommitted (only newly stored events arrive there, so a span
    // delivered twice is recorded once).
    void onEvents(const std::vector<Breaker::RunEvent> &events);
    // Tests: blocks until every batch handed over so far is appended.
    void waitForDone();

    // The audit action an event maps to, or empty when it is none of the above.
    static QString actionFor(const RunEvent &event);

private:
    std::shared_ptr<Store> m_store;
    QString m_provider;
    QThreadPool m_pool; // one thread: batches are appended in the order they came
};

} // namespace Breaker
