#pragma once

#include "connectors/runtime/RuntimeConnector.h"
#include "models/StopTypes.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>

namespace Breaker {

class Store;

// A cancel that is proven (issue 3 item 6; DESIGN.md section 4). Asks the runtime to cancel,
// reads the run back until the runtime reports a terminal state, then watches the run's
// telemetry in the Store: a tool or model span still running 5 s or more after the runtime said
// the run ended means the cancel did not hold ("still active after cancel": failed, with the
// span as evidence). Outcomes, nothing else: verified, done_unverified, failed.
class CancelVerifier : public QObject
{
    Q_OBJECT
public:
    struct Deadlines
    {
        int actMs = 10000;         // to get the cancel accepted
        int verifyMs = 10000;      // more, to see the terminal state and watch the telemetry
        int stillActiveMs = 5000;  // spans starting this long after the terminal state are a leak
        int settleMs = 5000;       // time for those spans to be exported (OTel JS batches every 5 s)
        int pollMs = 250;
    };

    CancelVerifier(RuntimeConnector *connector, std::shared_ptr<Store> store, QObject *parent = nullptr);
    void setDeadlines(const Deadlines &deadlines) { m_deadlines = deadlines; }

    using Done = std::function<void(const StopLayerResult &)>;
    // `result` carries layer, agent, run, provider, target and action; the verifier fills in
    // outcome, detail and ms. `done` is called exactly once, within actMs + verifyMs (+ the
    // settle time when the runtime answers at the very end).
    void cancel(StopLayerResult result, const QByteArray &externalId, Done done);

private:
    void readBack();
    void watchTelemetry();
    void finish(LayerOutcome outcome, const QString &detail);

    QPointer<RuntimeConnector> m_connector;
    std::shared_ptr<Store> m_store;
    Deadlines m_deadlines;
    StopLayerResult m_result;
    QByteArray m_externalId;
    Done m_done;
    QElapsedTimer m_clock;
    QTimer m_timer;
    QByteArray m_lastState;
    QString m_cancelAnswer;
    qint64 m_terminalAtMs = 0;    // the runtime's timestamp of the terminal state (or ours)
    qint64 m_watchUntilMs = 0;    // m_clock time when the telemetry watch ends
    bool m_finished = false;
};

} // namespace Breaker
