#include "app/sandbox/SandboxRun.h"

#include "app/sandbox/SandboxAgent.h"

namespace Breaker {

namespace {

using Otlp::OutAttribute;

OutAttribute attr(const char *key, const QByteArray &value)
{
    return {QByteArray(key), value};
}
OutAttribute attr(const char *key, qint64 value)
{
    return {QByteArray(key), value};
}

QByteArray decimal(qint64 minor)
{
    const QByteArray sign = minor < 0 ? QByteArrayLiteral("-") : QByteArray();
    const qint64 v = minor < 0 ? -minor : minor;
    return sign + QByteArray::number(v / 100) + '.'
           + QByteArray::number(v % 100).rightJustified(2, '0');
}

} // namespace

SandboxRun::SandboxRun(quint64 id, const SandboxAgent &agent, RunPlan plan)
    : m_id(id)
    , m_agent(agent)
    , m_plan(std::move(plan))
{}

void SandboxRun::handle(const Scheduled &action, Output &out)
{
    if (m_state == State::Finished)
        return;
    if (m_cancelRequested && action.dueNs >= m_stopAtNs && action.action != Action::End) {
        end(action.dueNs, out);
        return;
    }
    switch (action.action) {
    case Action::Start:
        start(action.dueNs, out);
        break;
    case Action::BeginStep:
        beginStep(action.step, action.dueNs, out);
        break;
    case Action::EndStep:
        endStep(action.step, action.dueNs, out);
        break;
    case Action::EndChild:
        endChild(action.step, action.child, action.dueNs, out);
        break;
    case Action::DecideApproval:
        decideApproval(action.step, action.dueNs, out);
        break;
    case Action::End:
        end(action.dueNs, out);
        break;
    }
}

void SandboxRun::start(qint64 nowNs, Output &out)
{
    m_state = State::Working;
    m_startNs = nowNs;
    scheduleNext(-1, nowNs, out);
}

bool SandboxRun::shouldRun(const RunStep &step) const
{
    switch (step.when) {
    case RunStep::When::Always:
        return true;
    case RunStep::When::IfApproved:
        return m_decision == Decision::Approved;
    case RunStep::When::IfDenied:
        return m_decision == Decision::Denied;
    }
    return true;
}

void SandboxRun::scheduleNext(int afterIndex, qint64 nowNs, Output &out)
{
    for (int i = afterIndex + 1; i < int(m_plan.steps.size()); ++i) {
        const RunStep &step = m_plan.steps[size_t(i)];
        if (shouldRun(step)) {
            out.schedule.push_back({nowNs + step.gapNs, Action::BeginStep, i, 0});
            return;
        }
    }
    out.schedule.push_back({nowNs + m_plan.tailNs, Action::End, 0, 0});
}

void SandboxRun::beginStep(int index, qint64 nowNs, Output &out)
{
    const RunStep &step = m_plan.steps[size_t(index)];
    m_stepStartNs = nowNs;
    if (step.approval) {
        const PlannedApproval &a = *step.approval;
        m_state = State::AwaitingApproval;
        m_rootEvents.push_back(Otlp::OutEvent{QByteArrayLiteral("approval.requested"),
                                              nowNs,
                                              {attr("approval_id", a.id),
                                               attr("action", a.action),
                                               attr("amount_value", decimal(a.amountMinor)),
                                               attr("amount_minor", a.amountMinor),
                                               attr("amount_currency", a.currency),
                                               attr("reason", a.reason)}});
        m_waitingStep = index;
        out.inputRequired = &a;
        out.schedule.push_back({nowNs + a.waitNs, Action::DecideApproval, index, 0});
        return;
    }
    const PlannedSpan &span = step.span;
    for (int c = 0; c < int(span.children.size()); ++c) {
        const PlannedSpan &child = span.children[size_t(c)];
        out.schedule.push_back(
            {nowNs + child.offsetNs + child.durationNs, Action::EndChild, index, c});
    }
    out.schedule.push_back({nowNs + span.durationNs, Action::EndStep, index, 0});
}

void SandboxRun::endChild(int index, int child, qint64 nowNs, Output &out)
{
    const PlannedSpan &parent = m_plan.steps[size_t(index)].span;
    const PlannedSpan &planned = parent.children[size_t(child)];
    out.spans.push_back(childSpan(planned, parent.spanId, m_stepStartNs + planned.offsetNs, nowNs));
}

void SandboxRun::endStep(int index, qint64 nowNs, Output &out)
{
    const PlannedSpan &planned = m_plan.steps[size_t(index)].span;
    out.spans.push_back(childSpan(planned, m_plan.rootSpanId, m_stepStartNs, nowNs));
    scheduleNext(index, nowNs, out);
}

void SandboxRun::endStepWith(int index, const StepVerdict &verdict, qint64 nowNs, Output &out)
{
    if (m_state == State::Finished)
        return;
    if (!verdict.blocked) {
        endStep(index, nowNs, out);
        return;
    }
    const PlannedSpan &planned = m_plan.steps[size_t(index)].span;
    Otlp::OutSpan span = childSpan(planned, m_plan.rootSpanId, m_stepStartNs, nowNs);
    span.statusCode = 2;
    span.statusMessage = verdict.message;
    // The provider's answer replaces whatever error the plan had for this call.
    std::erase_if(span.attributes, [](const OutAttribute &a) { return a.key == "error.type"; });
    span.attributes.push_back(attr("error.type", verdict.errorType));
    span.attributes.insert(span.attributes.end(), verdict.attributes.begin(), verdict.attributes.end());
    out.spans.push_back(std::move(span));
    if (verdict.endsRun) {
        m_plan.rootStatusCode = 2;
        m_plan.rootStatusMessage = verdict.message;
        m_plan.rootErrorType = verdict.errorType;
        end(nowNs, out);
        return;
    }
    scheduleNext(index, nowNs, out);
}

void SandboxRun::decideApproval(int index, qint64 nowNs, Output &out)
{
    if (m_waitingStep != index)
        return; // answered before the timeout
    const PlannedApproval &a = *m_plan.steps[size_t(index)].approval;
    decide(index,
           a.approve ? Verdict::Approve : Verdict::Deny,
           a.decidedBy,
           a.decisionReason,
           nowNs,
           out);
}

bool SandboxRun::answer(Verdict verdict,
                        const QByteArray &decidedBy,
                        const QByteArray &reason,
                        qint64 nowNs,
                        Output &out)
{
    if (m_state != State::AwaitingApproval || m_waitingStep < 0)
        return false;
    decide(m_waitingStep, verdict, decidedBy, reason, nowNs, out);
    return true;
}

void SandboxRun::decide(int index,
                        Verdict verdict,
                        const QByteArray &decidedBy,
                        const QByteArray &reason,
                        qint64 nowNs,
                        Output &out)
{
    const PlannedApproval &a = *m_plan.steps[size_t(index)].approval;
    m_waitingStep = -1;
    m_decision = verdict == Verdict::Deny ? Decision::Denied : Decision::Approved;
    m_state = State::Working;
    const QByteArray word = verdict == Verdict::Approve ? QByteArrayLiteral("approve")
                            : verdict == Verdict::Edit  ? QByteArrayLiteral("edit")
                                                        : QByteArrayLiteral("deny");
    m_rootEvents.push_back(Otlp::OutEvent{QByteArrayLiteral("approval.decided"),
                                          nowNs,
                                          {attr("approval_id", a.id),
                                           attr("action", a.action),
                                           attr("decision", word),
                                           attr("decided_by", decidedBy),
                                           attr("reason", reason)}});
    out.resumed = true;
    scheduleNext(index, nowNs, out);
}

void SandboxRun::cancel(qint64 nowNs, Output &out)
{
    if (m_state == State::Finished || m_cancelRequested)
        return;
    m_cancelRequested = true;
    m_waitingStep = -1;
    if (m_plan.ignoresCancel && m_state != State::AwaitingApproval) {
        // Reported canceled by the caller at once, but the loop does not look at the flag.
        m_stopAtNs = nowNs + kIgnoredCancelNs;
        out.schedule.push_back({m_stopAtNs, Action::End, 0, 0});
        return;
    }
    end(nowNs, out);
}

void SandboxRun::end(qint64 nowNs, Output &out)
{
    const AgentSpec &spec = m_agent.spec();
    Otlp::OutSpan root;
    root.traceId = m_plan.traceId;
    root.spanId = m_plan.rootSpanId;
    root.hasParent = false;
    root.name = QByteArrayLiteral("invoke_agent ") + spec.name;
    root.kind = 1; // INTERNAL: the agent runs in this process
    root.startNs = m_startNs;
    root.endNs = nowNs;
    root.statusCode = m_plan.rootStatusCode;
    root.statusMessage = m_plan.rootStatusMessage;
    if (m_cancelRequested) {
        root.statusCode = 2;
        root.statusMessage = m_plan.ignoresCancel
                                 ? QByteArrayLiteral("canceled by A2A CancelTask; stopped only "
                                                     "after its export loop noticed")
                                 : QByteArrayLiteral("canceled by A2A CancelTask");
    }
    root.attributes = {
        attr("gen_ai.operation.name", QByteArrayLiteral("invoke_agent")),
        attr("gen_ai.agent.name", spec.name),
        attr("gen_ai.agent.id", spec.id),
        attr("gen_ai.agent.version", spec.version),
        attr("gen_ai.conversation.id", m_plan.conversationId),
        attr("gen_ai.provider.name", spec.providerName),
        attr("gen_ai.request.model", spec.model),
        attr("enduser.id", m_plan.principal),
        OutAttribute{QByteArrayLiteral("breaker.delegation"), m_plan.delegation},
        attr("breaker.sandbox.scenario", scenarioName(m_plan.scenario)),
    };
    if (!m_plan.taskId.isEmpty()) {
        root.attributes.push_back(attr("a2a.task.id", m_plan.taskId));
        root.attributes.push_back(attr("a2a.context.id", m_plan.contextId));
    }
    if (m_cancelRequested)
        root.attributes.push_back(attr("error.type", QByteArrayLiteral("canceled")));
    else if (!m_plan.rootErrorType.isEmpty())
        root.attributes.push_back(attr("error.type", m_plan.rootErrorType));
    root.events = std::move(m_rootEvents);
    m_rootEvents.clear();
    out.spans.push_back(std::move(root));
    out.finished = true;
    m_state = State::Finished;
}

Otlp::OutSpan SandboxRun::childSpan(const PlannedSpan &planned,
                                    const SpanId &parent,
                                    qint64 startNs,
                                    qint64 endNs) const
{
    const AgentSpec &spec = m_agent.spec();
    Otlp::OutSpan span;
    span.traceId = m_plan.traceId;
    span.spanId = planned.spanId;
    span.parentSpanId = parent;
    span.hasParent = true;
    span.name = planned.name;
    span.kind = planned.kind;
    span.startNs = startNs;
    span.endNs = endNs;
    span.statusCode = planned.statusCode;
    span.statusMessage = planned.statusMessage;
    span.attributes.reserve(planned.attributes.size() + 3);
    span.attributes.insert(
        span.attributes.end(), planned.attributes.begin(), planned.attributes.end());
    // So that a live run is identifiable before its root span arrives.
    span.attributes.push_back(attr("gen_ai.agent.name", spec.name));
    span.attributes.push_back(attr("enduser.id", m_plan.principal));
    span.attributes.push_back(attr("gen_ai.conversation.id", m_plan.conversationId));
    if (!m_plan.taskId.isEmpty())
        span.attributes.push_back(attr("a2a.task.id", m_plan.taskId));
    return span;
}

} // namespace Breaker
