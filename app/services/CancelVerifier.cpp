#include "app/services/CancelVerifier.h"

#include "models/Logging.h"
#include "models/Store.h"

#include <QDateTime>

namespace Breaker {

CancelVerifier::CancelVerifier(RuntimeConnector *connector, std::shared_ptr<Store> store, QObject *parent)
    : QObject(parent)
    , m_connector(connector)
    , m_store(std::move(store))
{
    m_timer.setSingleShot(true);
}

void CancelVerifier::cancel(StopLayerResult result, const QByteArray &externalId, Done done)
{
    m_result = std::move(result);
    m_externalId = externalId;
    m_done = std::move(done);
    m_clock.start();
    if (!m_connector) {
        finish(LayerOutcome::SkippedNotConfigured, QStringLiteral("no runtime connector"));
        return;
    }
    // The hard deadline: whatever happens, answer by then.
    auto *hard = new QTimer(this);
    hard->setSingleShot(true);
    connect(hard, &QTimer::timeout, this, [this] {
        if (m_terminalAtMs == 0)
            finish(LayerOutcome::DoneUnverified,
                   QStringLiteral("%1; the runtime did not report the run ended within %2 s (last state: %3)")
                       .arg(m_cancelAnswer.isEmpty() ? QStringLiteral("the cancel got no answer")
                                                     : m_cancelAnswer,
                            QString::number((m_deadlines.actMs + m_deadlines.verifyMs) / 1000),
                            m_lastState.isEmpty() ? QStringLiteral("unknown")
                                                  : QString::fromUtf8(m_lastState)));
    });
    hard->start(m_deadlines.actMs + m_deadlines.verifyMs);

    m_connector->watchRun(externalId); // a stream where there is one: the terminal state arrives sooner
    m_connector->cancelRun(externalId, [this](const Result<RuntimeRun> &r) {
        if (m_finished)
            return;
        if (!r.ok()) {
            const Error &e = r.error();
            // A runtime without a way to stop this run (a Cloudflare agent without stop_method).
            if (e.message.startsWith(QLatin1String("skipped_not_configured:"))) {
                finish(LayerOutcome::SkippedNotConfigured, e.message);
                return;
            }
            if (e.kind == Error::Kind::Conflict) {
                // Not cancelable: it may have ended by itself. Read it back to tell.
                m_cancelAnswer = QStringLiteral("cancel refused: %1").arg(e.message);
                readBack();
                return;
            }
            finish(LayerOutcome::Failed, e.kind == Error::Kind::NotFound
                                             ? QStringLiteral("%1 — the runtime no longer knows this run, so "
                                                              "Breaker cannot prove it stopped")
                                                   .arg(e.message)
                                             : e.message);
            return;
        }
        m_lastState = r->rawState;
        m_result.finalStatus = r->status;
        m_cancelAnswer = QStringLiteral("cancel accepted (%1)").arg(QString::fromUtf8(r->rawState));
        if (isTerminal(r->status)) {
            m_terminalAtMs = r->updatedMs > 0 ? r->updatedMs : QDateTime::currentMSecsSinceEpoch();
            watchTelemetry();
        } else {
            readBack();
        }
    });
}

void CancelVerifier::readBack()
{
    m_connector->getRun(m_externalId, [this](const Result<RuntimeRun> &r) {
        if (m_finished)
            return;
        if (r.ok()) {
            m_lastState = r->rawState;
            m_result.finalStatus = r->status;
            if (isTerminal(r->status)) {
                if (r->status != RunStatus::Stopped && m_cancelAnswer.startsWith(QLatin1String("cancel refused"))) {
                    // It had already ended by itself: nothing is in flight, which is what a stop wants.
                    m_cancelAnswer += QStringLiteral("; the run had already ended (%1)").arg(QString::fromUtf8(r->rawState));
                }
                m_terminalAtMs = r->updatedMs > 0 ? r->updatedMs : QDateTime::currentMSecsSinceEpoch();
                watchTelemetry();
                return;
            }
        } else if (r.error().kind == Error::Kind::NotFound) {
            finish(LayerOutcome::Failed, QStringLiteral("%1 — the run vanished after the cancel; Breaker "
                                                        "cannot prove it stopped")
                                             .arg(r.error().message));
            return;
        }
        // Not terminal yet (or a transient error): ask again shortly; the hard deadline ends it.
        QTimer::singleShot(m_deadlines.pollMs, this, &CancelVerifier::readBack);
    });
}

void CancelVerifier::watchTelemetry()
{
    if (m_watchUntilMs == 0) {
        m_watchUntilMs = m_clock.elapsed() + m_deadlines.stillActiveMs + m_deadlines.settleMs;
        // Never past the overall deadline (plus the settle time when the runtime answered late).
        m_watchUntilMs = std::min<qint64>(m_watchUntilMs, m_deadlines.actMs + m_deadlines.verifyMs
                                                               + m_deadlines.settleMs);
    }
    const qint64 leakFromNs = (m_terminalAtMs + m_deadlines.stillActiveMs) * 1000000;
    auto work = m_store->firstWorkEventAfter(m_result.run, leakFromNs);
    if (work.ok() && work.value()) {
        const RunEvent &e = *work.value();
        const qint64 lastMs = std::max(e.startNs, e.endNs) / 1000000;
        finish(LayerOutcome::Failed,
               QStringLiteral("still active after cancel: the runtime reported %1, but %2 \"%3\" was running "
                              "%4 s later")
                   .arg(QString::fromUtf8(m_lastState), QString::fromUtf8(toWireName(e.kind)),
                        QString::fromUtf8(e.name),
                        QString::number(double(lastMs - m_terminalAtMs) / 1000.0, 'f', 1)));
        return;
    }
    if (m_clock.elapsed() < m_watchUntilMs) {
        QTimer::singleShot(std::max(m_deadlines.pollMs, 100), this, &CancelVerifier::watchTelemetry);
        return;
    }
    auto any = m_store->firstWorkEventAfter(m_result.run, 0);
    const bool hadTelemetry = any.ok() && any.value();
    finish(LayerOutcome::Verified,
           QStringLiteral("%1; read back %2; %3")
               .arg(m_cancelAnswer, QString::fromUtf8(m_lastState),
                    hadTelemetry ? QStringLiteral("no tool or model call was running %1 s or more after it ended")
                                       .arg(double(m_deadlines.stillActiveMs) / 1000.0, 0, 'g', 3)
                                 : QStringLiteral("no telemetry seen for this run, so the runtime's state is the "
                                                  "only evidence")));
}

void CancelVerifier::finish(LayerOutcome outcome, const QString &detail)
{
    if (m_finished)
        return;
    m_finished = true;
    m_result.outcome = outcome;
    m_result.detail = detail;
    m_result.ms = m_clock.isValid() ? m_clock.elapsed() : 0;
    qCInfo(lcRuntime) << "cancel of run" << m_result.run << "on" << m_result.provider << ":"
                      << toWireName(outcome) << "-" << detail << "(" << m_result.ms << "ms)";
    if (m_done) {
        Done d = std::move(m_done);
        m_done = nullptr;
        d(m_result);
    }
}

} // namespace Breaker
