#include "app/sandbox/SandboxFleet.h"

#include "app/sandbox/SandboxAgent.h"
#include "models/Logging.h"

#include <QMetaMethod>
#include <QPointer>
#include <QUuid>

#include <algorithm>

namespace Breaker {

namespace {
// A start that is this far (in real time) behind its due time is skipped rather than caught
// up with, so that an overloaded machine does not get a flood of runs at once.
constexpr qint64 kMaxStartLagRealMs = 2000;
} // namespace

SandboxFleet::SandboxFleet(std::vector<AgentSpec> agents, FleetConfig config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_clock(config.speed)
{
    if (!(m_config.ratePerMinute > 0))
        m_config.ratePerMinute = 3.0;
    if (!(m_config.durationScale > 0))
        m_config.durationScale = 1.0;
    m_config.maxActionsPerSlice = std::max(m_config.maxActionsPerSlice, 1);
    for (int i = 0; i < int(agents.size()); ++i)
        m_agents.push_back(
            std::make_unique<SandboxAgent>(std::move(agents[size_t(i)]), config.seed, i));
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &SandboxFleet::onTimer);
}

SandboxFleet::~SandboxFleet() = default;

const AgentSpec &SandboxFleet::agent(int index) const
{
    return m_agents.at(size_t(index))->spec();
}

QStringList SandboxFleet::agentNames() const
{
    QStringList names;
    for (const auto &a : m_agents)
        names << QString::fromUtf8(a->spec().name);
    return names;
}

void SandboxFleet::start()
{
    if (m_running)
        return;
    m_running = true;
    const qint64 now = m_clock.nowNs();
    // Stagger the first runs a little so the agents do not move in lockstep.
    const qint64 stagger
        = std::max<qint64>(qint64(300e6 * std::min(m_config.durationScale, 1.0)), 1000);
    for (int i = 0; i < int(m_agents.size()); ++i) {
        Entry e;
        e.dueNs = now + stagger * i;
        e.target = quint64(i);
        e.startRun = true;
        schedule(e);
    }
}

void SandboxFleet::stop()
{
    m_running = false;
    m_timer.stop();
    m_queue = {};
    for (const auto &[id, run] : m_runs)
        m_agents[size_t(run->agent().index())]->runEnded();
    m_runs.clear();
}

SandboxFleet::Stats SandboxFleet::stats() const
{
    Stats s = m_stats;
    s.activeRuns = int(m_runs.size());
    s.waitingApproval = int(std::count_if(m_runs.begin(), m_runs.end(), [](const auto &item) {
        return item.second->state() == SandboxRun::State::AwaitingApproval;
    }));
    return s;
}

void SandboxFleet::schedule(Entry entry)
{
    entry.seq = m_nextSeq++;
    const qint64 due = entry.dueNs;
    m_queue.push(std::move(entry));
    if (!m_inTimer && (!m_timer.isActive() || due < m_armedDueNs))
        arm();
}

void SandboxFleet::arm()
{
    if (m_queue.empty()) {
        m_timer.stop();
        return;
    }
    m_armedDueNs = m_queue.top().dueNs;
    m_timer.start(m_clock.realDelayMs(m_armedDueNs - m_clock.nowNs()));
}

void SandboxFleet::onTimer()
{
    m_inTimer = true;
    const qint64 now = m_clock.nowNs();
    int handled = 0;
    while (!m_queue.empty() && m_queue.top().dueNs <= now
           && handled < m_config.maxActionsPerSlice) {
        const Entry entry = m_queue.top();
        m_queue.pop();
        dispatch(entry);
        ++handled;
    }
    m_inTimer = false;
    if (m_running)
        arm();
}

void SandboxFleet::dispatch(const Entry &entry)
{
    if (entry.startRun) {
        startRun(int(entry.target), entry.dueNs);
        return;
    }
    const auto it = m_runs.find(entry.target);
    if (it == m_runs.end())
        return; // the run was dropped
    SandboxRun &run = *it->second;
    SandboxRun::Scheduled action = entry.action;
    action.dueNs = entry.dueNs;
    if (m_gate && action.action == SandboxRun::Action::EndStep && run.state() == SandboxRun::State::Working) {
        const RunStep &step = run.plan().steps[size_t(action.step)];
        if (!step.approval && isGatedCall(step.span)) {
            const quint64 runId = entry.target;
            QPointer<SandboxFleet> self(this);
            m_gate(run.agent().index(), run.plan(), step.span, [self, runId, action](SandboxRun::StepVerdict verdict) {
                if (!self)
                    return;
                const auto found = self->m_runs.find(runId);
                if (found == self->m_runs.end())
                    return; // cancelled or dropped meanwhile
                self->m_output.clear();
                found->second->endStepWith(action.step, verdict, self->m_clock.nowNs(), self->m_output);
                self->applyOutput(*found->second);
                if (!self->m_inTimer && self->m_running)
                    self->arm();
            });
            return;
        }
    }
    m_output.clear();
    run.handle(action, m_output);
    applyOutput(run);
}

bool SandboxFleet::isGatedCall(const PlannedSpan &span)
{
    return span.name.startsWith("execute_tool ") || span.name.startsWith("chat ");
}

void SandboxFleet::startRun(int agentIndex, qint64 dueNs)
{
    if (!m_running)
        return;
    SandboxAgent &agent = *m_agents[size_t(agentIndex)];
    const qint64 now = m_clock.nowNs();
    qint64 nextBase = dueNs;
    if (now - dueNs > m_clock.simulatedNs(kMaxStartLagRealMs)) {
        ++m_stats.runsSkipped;
        nextBase = now;
        qCDebug(lcSandbox) << "skipping a late run start for" << agent.spec().name;
    } else if (agent.activeRuns() >= m_config.maxActiveRunsPerAgent) {
        ++m_stats.runsSkipped;
    } else if (m_throttle && m_throttle()) {
        ++m_stats.runsThrottled;
    } else {
        const ScenarioKind kind = agent.nextScenario();
        RunPlan plan = agent.planRun(kind, m_config.durationScale, true);
        plan.taskId = QUuid::createUuid().toByteArray(QUuid::WithoutBraces);
        plan.contextId = QUuid::createUuid().toByteArray(QUuid::WithoutBraces);
        launch(agentIndex, std::move(plan), dueNs);
        if (!m_running)
            return; // a slot stopped the fleet
    }
    Entry next;
    next.dueNs = nextBase + agent.nextIntervalNs(m_config.ratePerMinute);
    next.target = quint64(agentIndex);
    next.startRun = true;
    schedule(next);
}

quint64 SandboxFleet::launch(int agentIndex, RunPlan plan, qint64 dueNs)
{
    SandboxAgent &agent = *m_agents[size_t(agentIndex)];
    const ScenarioKind kind = plan.scenario;
    auto run = std::make_unique<SandboxRun>(m_nextRunId++, agent, std::move(plan));
    SandboxRun &ref = *run;
    const quint64 runId = ref.id();
    const TraceId traceId = ref.plan().traceId;
    m_runs.emplace(runId, std::move(run));
    agent.runStarted();
    ++m_stats.runsStarted;
    notify(RunNotice::Kind::Started, ref);
    m_output.clear();
    ref.handle({dueNs, SandboxRun::Action::Start, 0, 0}, m_output);
    applyOutput(ref);
    static const QMetaMethod startedSignal = QMetaMethod::fromSignal(&SandboxFleet::runStarted);
    if (isSignalConnected(startedSignal)) {
        emit runStarted(QString::fromUtf8(agent.spec().name),
                        QString::fromLatin1(scenarioName(kind)),
                        Otlp::toHex(traceId));
    }
    return runId;
}

quint64 SandboxFleet::startRunNow(int agentIndex,
                                  std::optional<ScenarioKind> kind,
                                  qint64 workMs,
                                  const QByteArray &taskId,
                                  const QByteArray &contextId)
{
    SandboxAgent &agent = *m_agents.at(size_t(agentIndex));
    RunPlan plan = workMs > 0
                       ? agent.planWork(m_config.durationScale, workMs)
                       : agent.planRun(kind ? *kind : agent.nextScenario(), m_config.durationScale);
    plan.taskId = taskId;
    plan.contextId = contextId;
    const quint64 id = launch(agentIndex, std::move(plan), m_clock.nowNs());
    if (!m_inTimer)
        arm();
    return id;
}

bool SandboxFleet::cancelRun(quint64 runId)
{
    const auto it = m_runs.find(runId);
    if (it == m_runs.end() || it->second->cancelRequested())
        return false;
    m_output.clear();
    it->second->cancel(m_clock.nowNs(), m_output);
    applyOutput(*it->second);
    return true;
}

bool SandboxFleet::answerRun(quint64 runId,
                             SandboxRun::Verdict verdict,
                             const QByteArray &decidedBy,
                             const QByteArray &reason)
{
    const auto it = m_runs.find(runId);
    if (it == m_runs.end())
        return false;
    m_output.clear();
    if (!it->second->answer(verdict, decidedBy, reason, m_clock.nowNs(), m_output))
        return false;
    applyOutput(*it->second);
    return true;
}

void SandboxFleet::notify(RunNotice::Kind kind, const SandboxRun &run, bool failed)
{
    if (!m_observer)
        return;
    RunNotice n;
    n.kind = kind;
    n.agentIndex = run.agent().index();
    n.runId = run.id();
    n.plan = &run.plan();
    n.failed = failed;
    n.canceled = run.cancelRequested();
    n.denied = run.approvalDenied();
    m_observer(n);
}

void SandboxFleet::applyOutput(SandboxRun &run)
{
    // Copy what is needed first: a handler or a slot may stop the fleet, which drops `run`.
    const int agentIndex = run.agent().index();
    const quint64 runId = run.id();
    const bool finished = m_output.finished;
    const ScenarioKind scenario = run.plan().scenario;
    const TraceId traceId = run.plan().traceId;
    const int statusCode = run.plan().rootStatusCode;

    for (Otlp::OutSpan &span : m_output.spans) {
        ++m_stats.spansEnded;
        if (m_spanHandler)
            m_spanHandler(agentIndex, std::move(span));
    }
    if (m_runs.find(runId) == m_runs.end()) {
        m_output.clear();
        return;
    }
    if (m_observer && m_output.inputRequired) {
        RunNotice n;
        n.kind = RunNotice::Kind::InputRequired;
        n.agentIndex = agentIndex;
        n.runId = runId;
        n.plan = &run.plan();
        n.approval = m_output.inputRequired;
        m_observer(n);
    } else if (m_output.resumed) {
        notify(RunNotice::Kind::Resumed, run);
    }
    if (!finished) {
        for (const SandboxRun::Scheduled &s : m_output.schedule) {
            Entry e;
            e.dueNs = s.dueNs;
            e.target = runId;
            e.action = s;
            schedule(e);
        }
        m_output.clear();
        return;
    }
    m_output.clear();
    ++m_stats.runsFinished;
    m_agents[size_t(agentIndex)]->runEnded();
    notify(RunNotice::Kind::Finished, run, statusCode == 2);
    m_runs.erase(runId);
    static const QMetaMethod finishedSignal = QMetaMethod::fromSignal(&SandboxFleet::runFinished);
    if (isSignalConnected(finishedSignal)) {
        emit runFinished(QString::fromUtf8(m_agents[size_t(agentIndex)]->spec().name),
                         QString::fromLatin1(scenarioName(scenario)),
                         Otlp::toHex(traceId),
                         statusCode);
    }
}

} // namespace Breaker
