#include "app/services/StopDrill.h"

#include "connectors/runtime/RuntimeConnector.h"
#include "models/Store.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QPointer>
#include <QTimer>

namespace Breaker {

namespace {

QString s(const QByteArray &v)
{
    return QString::fromUtf8(v);
}

// What the drill asks a canary's runtime to do: the sandbox's (and a2a-js samples') convention
// for "keep working for a minute", so that the run is still in flight when the stop lands. A
// canary outside the sandbox gets it as an ordinary message, with a data part saying it is a
// drill.
constexpr int kCanaryWorkMs = 60000;

} // namespace

StopDrill::StopDrill(std::shared_ptr<Store> store, std::optional<Profile> profile, StopSwitch *stops,
                     RuntimeStop::ConnectorFor runtimeFor, QObject *parent)
    : QObject(parent)
    , m_store(std::move(store))
    , m_profile(std::move(profile))
    , m_stops(stops)
    , m_runtimeFor(std::move(runtimeFor))
{
}

Result<StopPlan> StopDrill::plan(const QByteArray &agent) const
{
    const AgentConfig *config = m_profile ? m_profile->agent(s(agent)) : nullptr;
    if (!config)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("no agent %1 in the profile: a drill needs a canary the profile names").arg(s(agent)));
    if (!config->canary)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("agent %1 is not a canary: a drill stops it for real at every layer; mark it "
                                        "\"canary\": true in the profile (agents.%1.canary) to allow drills")
                             .arg(s(agent)));
    auto plan = m_stops->plan(StopScope{StopScope::Kind::Agent, agent});
    if (!plan.ok())
        return plan.error();
    plan->drill = true;
    return plan;
}

bool StopDrill::hasRunInFlight(const QByteArray &agent, QByteArray *runId) const
{
    RunQuery q;
    q.agent = agent;
    q.limit = 50;
    auto runs = m_store->runs(q);
    if (!runs.ok())
        return false;
    for (const Run &r : runs.value()) {
        if (!isTerminal(r.status) && r.status != RunStatus::Unknown) {
            *runId = r.id;
            return true;
        }
    }
    return false;
}

void StopDrill::run(const QByteArray &agent, const QString &reason, Phase phase, StopSwitch::Progress progress,
                    Done done)
{
    auto result = std::make_shared<DrillResult>();
    result->agent = agent;
    auto fail = [&](const QString &why) {
        result->stop.scope = StopScope{StopScope::Kind::Agent, agent};
        result->stop.reason = reason;
        result->stop.notes << why;
        result->notes << why;
        done(*result);
    };
    if (reason.trimmed().isEmpty())
        return fail(QStringLiteral("not attempted: a reason is required"));
    if (auto p = plan(agent); !p.ok())
        return fail(QStringLiteral("not attempted: %1").arg(p.error().message));

    QByteArray inFlight;
    if (hasRunInFlight(agent, &inFlight)) {
        result->canaryRun = inFlight;
        result->canary = QStringLiteral("run %1 of the canary was in flight").arg(s(inFlight));
        if (phase)
            phase(result->canary);
        stopAndRestore(result, reason, phase, progress, done);
        return;
    }
    QPointer<StopDrill> self(this);
    startCanary(agent, phase, [self, result, reason, phase, progress, done](QByteArray run, QString how) {
        if (!self)
            return;
        result->canaryRun = run;
        result->canary = how;
        if (phase)
            phase(how);
        self->stopAndRestore(result, reason, phase, progress, done);
    });
}

void StopDrill::startCanary(const QByteArray &agent, Phase phase, std::function<void(QByteArray, QString)> then)
{
    const AgentConfig *config = m_profile->agent(s(agent));
    const QByteArray provider = config->runtimeProvider.toUtf8();
    RuntimeConnector *connector = provider.isEmpty() || !m_runtimeFor ? nullptr : m_runtimeFor(provider);
    if (!connector || !connector->canStartRuns()) {
        then({}, provider.isEmpty()
                     ? QStringLiteral("no run of the canary was in flight and it has no runtime: the runtime row stays "
                                      "unproven")
                     : QStringLiteral("no run of the canary was in flight and %1 cannot be asked to start one: the "
                                      "runtime layer will be verified only by asking it (not a proven cancel)")
                           .arg(s(provider)));
        return;
    }
    if (phase)
        phase(QStringLiteral("no run of the canary in flight: asking %1 to start one").arg(s(provider)));
    QPointer<StopDrill> self(this);
    auto onStarted = [self, agent, provider, then](const Result<RuntimeRun> &started) {
        if (!self)
            return;
        if (!started.ok()) {
            then({}, QStringLiteral("%1 did not start a canary run (%2): the runtime layer will be "
                                    "verified only by asking it")
                         .arg(s(provider), started.error().message));
            return;
        }
        // Wait for the run to reach the Store (telemetry or the runtime's listing), so
        // the stop plans its cancel and proves it like any run's.
        const QByteArray task = started->externalId;
        auto clock = std::make_shared<QElapsedTimer>();
        clock->start();
        auto poll = std::make_shared<std::function<void()>>();
        *poll = [self, agent, provider, task, then, clock, poll] {
            if (!self)
                return;
            QByteArray run;
            if (self->hasRunInFlight(agent, &run)) {
                then(run, QStringLiteral("started canary run %1 (%2 task %3)")
                              .arg(s(run), s(provider), s(task)));
                *poll = nullptr; // break the cycle
                return;
            }
            if (clock->elapsed() > self->m_canaryWaitMs) {
                then({}, QStringLiteral("started %1 task %2, which Breaker had not seen after %3 ms: "
                                        "the stop asks the runtime for it")
                             .arg(s(provider), s(task),
                                  QString::number(clock->elapsed())));
                *poll = nullptr;
                return;
            }
            QTimer::singleShot(200, self, [poll] {
                if (*poll)
                    (*poll)();
            });
        };
        (*poll)();
    };
    connector->startRunWithMessage(QStringLiteral("work %1").arg(kCanaryWorkMs),
                                   QJsonObject{{QStringLiteral("breaker_drill"), true}}, std::move(onStarted));
}

void StopDrill::stopAndRestore(const std::shared_ptr<DrillResult> &result, const QString &reason, Phase phase,
                               StopSwitch::Progress progress, Done done)
{
    auto plan = this->plan(result->agent);
    if (!plan.ok()) {
        result->stop.notes << plan.error().message;
        result->notes << plan.error().message;
        done(*result);
        return;
    }
    if (phase)
        phase(QStringLiteral("stopping %1 at every layer: %2").arg(s(result->agent), plan->summary()));
    const QString why = QStringLiteral("drill: ") + reason.trimmed();
    QPointer<StopDrill> self(this);
    m_stops->execute(*plan, why, progress, [self, result, why, phase, progress, done](const StopOutcome &stopped) {
        result->stop = stopped;
        result->proofs = stopProofsOf(stopped, true);
        if (!self) {
            done(*result);
            return;
        }
        auto restore = self->m_stops->planResume(StopScope{StopScope::Kind::Agent, result->agent});
        if (!restore.ok()) {
            result->notes << QStringLiteral("not restored: %1").arg(restore.error().message);
            done(*result);
            return;
        }
        if (phase)
            phase(QStringLiteral("restoring what can be undone: %1").arg(restore->summary()));
        self->m_stops->resume(*restore, why, progress, [result, done](const StopOutcome &restored) {
            result->restore = restored;
            result->notes << QStringLiteral("a revoked token stays revoked: the canary needs a new grant before it "
                                            "can act again");
            done(*result);
        });
    });
}

} // namespace Breaker
