#include "app/sandbox/Scenario.h"

#include "app/sandbox/AgentSpec.h"

#include <QRandomGenerator>

#include <algorithm>
#include <cmath>

namespace Breaker {

QByteArray scenarioName(ScenarioKind kind)
{
    switch (kind) {
    case ScenarioKind::Normal:
        return QByteArrayLiteral("normal");
    case ScenarioKind::ApprovalNeeded:
        return QByteArrayLiteral("approval");
    case ScenarioKind::RunawayLoop:
        return QByteArrayLiteral("runaway_loop");
    case ScenarioKind::PolicyBlock:
        return QByteArrayLiteral("policy_block");
    case ScenarioKind::RestrictedData:
        return QByteArrayLiteral("restricted_data");
    case ScenarioKind::PromptInjection:
        return QByteArrayLiteral("prompt_injection");
    case ScenarioKind::IgnoresCancel:
        return QByteArrayLiteral("ignores_cancel");
    case ScenarioKind::Work:
        return QByteArrayLiteral("work");
    }
    return {};
}

std::optional<ScenarioKind> scenarioFromName(const QByteArray &name)
{
    for (int k = 0; k <= int(ScenarioKind::Work); ++k)
        if (scenarioName(ScenarioKind(k)) == name)
            return ScenarioKind(k);
    return std::nullopt;
}

namespace {

using Otlp::OutAttribute;

constexpr int kSpanInternal = 1;
constexpr int kSpanClient = 3;
constexpr int kStatusError = 2;

OutAttribute attr(const char *key, const QByteArray &value)
{
    return {QByteArray(key), value};
}
OutAttribute attr(const char *key, qint64 value)
{
    return {QByteArray(key), value};
}
OutAttribute attr(const char *key, const QList<QByteArray> &value)
{
    return {QByteArray(key), value};
}

QByteArray money(qint64 minor);

// Builds one run's steps. Every duration goes through ns() so that burst mode can shrink it.
class PlanBuilder
{
public:
    PlanBuilder(const AgentSpec &agent, QRandomGenerator &rng, double scale, RunPlan &plan)
        : m_agent(agent)
        , m_rng(rng)
        , m_scale(scale)
        , m_plan(plan)
    {}

    int between(int lo, int hi) { return lo >= hi ? lo : lo + int(m_rng.bounded(hi - lo + 1)); }
    bool chance(int percent) { return int(m_rng.bounded(100)) < percent; }
    template<typename T> const T &pick(const QList<T> &list)
    {
        return list.at(int(m_rng.bounded(int(list.size()))));
    }

    // A random duration between lo and hi milliseconds, scaled.
    qint64 ms(int lo, int hi)
    {
        const double scaled = double(between(lo, hi)) * 1e6 * m_scale;
        return std::max<qint64>(qint64(scaled), 1000); // at least 1 us
    }

    SpanId newSpanId()
    {
        SpanId id{};
        do {
            const quint64 v = m_rng.generate64();
            for (int i = 0; i < 8; ++i)
                id[size_t(i)] = uint8_t(v >> (8 * i));
        } while (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; }));
        return id;
    }

    QByteArray randomToken(int length)
    {
        static constexpr char alphabet[]
            = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        QByteArray out(length, Qt::Uninitialized);
        for (int i = 0; i < length; ++i)
            out[i] = alphabet[m_rng.bounded(62)];
        return out;
    }

    RunStep &addStep(int gapLoMs, int gapHiMs, RunStep::When when = RunStep::When::Always)
    {
        RunStep step;
        step.gapNs = ms(gapLoMs, gapHiMs);
        step.when = when;
        m_plan.steps.push_back(std::move(step));
        return m_plan.steps.back();
    }

    PlannedSpan &chat(qint64 inputTokens,
                      qint64 outputTokens,
                      const char *finishReason,
                      RunStep::When when = RunStep::When::Always)
    {
        PlannedSpan &span = addStep(40, 250, when).span;
        span.spanId = newSpanId();
        span.name = QByteArrayLiteral("chat ") + m_agent.model;
        span.kind = kSpanClient;
        // Latency grows with the output, as it does for a real model.
        span.durationNs = ms(350, 900) + qint64(double(outputTokens) * 6e6 * m_scale);
        span.attributes = {
            attr("gen_ai.operation.name", QByteArrayLiteral("chat")),
            attr("gen_ai.provider.name", m_agent.providerName),
            attr("gen_ai.request.model", m_agent.model),
            attr("gen_ai.response.model", m_agent.responseModel),
            attr("gen_ai.response.id", QByteArrayLiteral("resp_") + randomToken(16)),
            attr("gen_ai.usage.input_tokens", inputTokens),
            attr("gen_ai.usage.output_tokens", outputTokens),
            attr("gen_ai.response.finish_reasons", QList<QByteArray>{QByteArray(finishReason)}),
        };
        return span;
    }

    PlannedSpan &tool(const QByteArray &toolName,
                      const char *toolType,
                      int loMs,
                      int hiMs,
                      RunStep::When when = RunStep::When::Always)
    {
        PlannedSpan &span = addStep(10, 80, when).span;
        span.spanId = newSpanId();
        span.name = QByteArrayLiteral("execute_tool ") + toolName;
        span.kind = kSpanInternal;
        span.durationNs = ms(loMs, hiMs);
        span.attributes = {
            attr("gen_ai.operation.name", QByteArrayLiteral("execute_tool")),
            attr("gen_ai.tool.name", toolName),
            attr("gen_ai.tool.call.id", QByteArrayLiteral("call_") + randomToken(20)),
            attr("gen_ai.tool.type", QByteArray(toolType)),
        };
        return span;
    }

    PlannedSpan &retrieval(const QByteArray &source,
                           const char *classification,
                           RunStep::When when = RunStep::When::Always)
    {
        PlannedSpan &span = addStep(20, 120, when).span;
        span.spanId = newSpanId();
        span.name = QByteArrayLiteral("retrieval ") + source;
        span.kind = kSpanClient;
        span.durationNs = ms(80, 600);
        span.attributes = {
            attr("gen_ai.operation.name", QByteArrayLiteral("retrieval")),
            attr("gen_ai.data_source.id", source),
            attr("breaker.data.classification", QByteArray(classification)),
            attr("gen_ai.provider.name", m_agent.providerName),
        };
        return span;
    }

    // A database call inside `parent` (a tool), placed so that it ends before the tool does.
    void db(PlannedSpan &parent,
            const char *system,
            const QByteArray &collection,
            const char *operation,
            const char *classification)
    {
        PlannedSpan span;
        span.spanId = newSpanId();
        span.name = QByteArray(operation) + ' ' + collection;
        span.kind = kSpanClient;
        const qint64 room = parent.durationNs;
        span.offsetNs = room / 5;
        span.durationNs = std::max<qint64>(std::min(ms(4, 90), room / 2), 1000);
        span.attributes = {
            attr("db.system.name", QByteArray(system)),
            attr("db.collection.name", collection),
            attr("db.operation.name", QByteArray(operation)),
            attr("db.namespace", collection.left(collection.indexOf('.'))),
            attr("breaker.data.classification", QByteArray(classification)),
        };
        parent.children.push_back(std::move(span));
    }

    static void spend(PlannedSpan &span, qint64 amountMinor, const QByteArray &currency)
    {
        span.attributes.push_back(attr("breaker.spend.amount_minor", amountMinor));
        span.attributes.push_back(attr("breaker.spend.currency", currency));
    }

    static void fail(PlannedSpan &span, const QByteArray &errorType, const QByteArray &message)
    {
        span.statusCode = kStatusError;
        span.statusMessage = message;
        span.attributes.push_back(attr("error.type", errorType));
    }

    static void policyDeny(PlannedSpan &span, const QByteArray &reason)
    {
        span.attributes.push_back(attr("breaker.policy.decision", QByteArrayLiteral("deny")));
        span.attributes.push_back(attr("breaker.policy.reason", reason));
        fail(span,
             QByteArrayLiteral("policy_denied"),
             QByteArrayLiteral("blocked by policy: ") + reason);
    }

    void approval(const QByteArray &action,
                  qint64 amountMinor,
                  const QByteArray &reason,
                  int approvePercent)
    {
        RunStep &step = addStep(30, 200);
        PlannedApproval a;
        a.id = QByteArrayLiteral("apr_") + randomToken(12);
        a.action = action;
        a.amountMinor = amountMinor;
        a.currency = m_agent.currency;
        a.reason = reason;
        // The run waits for a person's answer (an A2A message); when none comes within the
        // agent's approval timeout it applies its own on_timeout.
        (void)approvePercent;
        a.waitNs = std::max<qint64>(qint64(double(m_agent.approvalTimeoutS) * 1e9 * m_scale), 1000);
        a.approve = m_agent.onTimeout == "approve";
        a.decidedBy = QByteArrayLiteral("timeout");
        a.decisionReason = QByteArrayLiteral("no answer within ")
                           + QByteArray::number(m_agent.approvalTimeoutS)
                           + QByteArrayLiteral(" s; on_timeout is ") + m_agent.onTimeout;
        a.arguments = {{QStringLiteral("amount"), QString::fromLatin1(money(amountMinor))},
                       {QStringLiteral("currency"), QString::fromLatin1(m_agent.currency)}};
        step.approval = std::move(a);
    }

    void finish(int tailLoMs, int tailHiMs) { m_plan.tailNs = ms(tailLoMs, tailHiMs); }

    const AgentSpec &agent() const { return m_agent; }

private:
    const AgentSpec &m_agent;
    QRandomGenerator &m_rng;
    double m_scale;
    RunPlan &m_plan;
};

QByteArray money(qint64 minor)
{
    return QByteArray::number(minor / 100) + '.'
           + QByteArray::number(minor % 100).rightJustified(2, '0');
}

using When = RunStep::When;

// The runaway loop: a tool keeps failing, the agent keeps asking the model, and each call
// carries the whole growing conversation until the context window runs out.
void runawayLoop(PlanBuilder &b,
                 RunPlan &plan,
                 const QByteArray &toolName,
                 const char *toolType,
                 const QByteArray &errorType,
                 const QByteArray &errorMessage)
{
    const int iterations = b.between(14, 28);
    qint64 input = b.between(1500, 2600);
    for (int i = 0; i < iterations; ++i) {
        const qint64 output = b.between(120, 420);
        b.chat(input, output, "tool_calls");
        PlannedSpan &call = b.tool(toolName, toolType, 300, 2500);
        PlanBuilder::fail(call, errorType, errorMessage);
        input = input + output + b.between(2500, 6000) + input / 6;
    }
    PlannedSpan &last = b.chat(input, 0, "error");
    PlanBuilder::fail(last,
                      QByteArrayLiteral("context_length_exceeded"),
                      QByteArrayLiteral("This model's maximum context length was exceeded"));
    plan.rootStatusCode = kStatusError;
    plan.rootErrorType = QByteArrayLiteral("context_length_exceeded");
    plan.rootStatusMessage = QByteArrayLiteral("gave up after ") + QByteArray::number(iterations)
                             + QByteArrayLiteral(" failed calls to ") + toolName;
    b.finish(20, 150);
}

// A long export job: page after page of queries, a model call now and then to summarise. Its
// tool loop does not check for cancellation, so after a cancel it goes on for a while.
void exportLoop(PlanBuilder &b, RunPlan &plan, const QByteArray &toolName, const char *toolType)
{
    plan.ignoresCancel = true;
    const int pages = b.between(24, 40);
    qint64 input = b.between(1200, 2000);
    for (int i = 0; i < pages; ++i) {
        PlannedSpan &page = b.tool(toolName, toolType, 900, 2200);
        page.attributes.push_back(attr("breaker.export.page", qint64(i + 1)));
        if (i % 4 == 3) {
            const qint64 output = b.between(80, 200);
            b.chat(input, output, "tool_calls");
            input += output + b.between(400, 900);
        }
    }
    b.chat(input, b.between(100, 300), "stop");
    plan.summary = QByteArrayLiteral("Exported ") + QByteArray::number(pages)
                   + QByteArrayLiteral(" pages of usage data.");
    b.finish(20, 150);
}

// Injected text (in a ticket, an email, a report) makes the model call a tool the agent must
// not use; the gateway blocks it, and the model carries on.
void injectedToolCall(PlanBuilder &b, const QByteArray &source, qint64 contextTokens)
{
    PlannedSpan &chat = b.chat(contextTokens, b.between(30, 90), "tool_calls");
    chat.attributes.push_back(attr("breaker.injection.source", source));
    PlannedSpan &shell = b.tool(QByteArrayLiteral("shell.exec"), "function", 10, 60);
    shell.attributes.push_back(attr("breaker.injection.source", source));
    PlanBuilder::policyDeny(
        shell, QByteArrayLiteral("shell.exec is not an allowed tool for ") + b.agent().name);
    b.chat(contextTokens + b.between(300, 800), b.between(60, 160), "stop");
    b.finish(20, 150);
}

void planRefunds(PlanBuilder &b, RunPlan &plan, ScenarioKind kind)
{
    const AgentSpec &agent = b.agent();
    const QByteArray ticket
        = QByteArrayLiteral("ZD-") + QByteArray::number(b.between(40000, 99999));
    b.retrieval(QByteArrayLiteral("zendesk.tickets"), "internal");
    b.chat(b.between(900, 1600), b.between(60, 160), "tool_calls");
    b.tool(QByteArrayLiteral("zendesk.get_ticket"), "extension", 120, 700);

    if (kind == ScenarioKind::RunawayLoop) {
        runawayLoop(b,
                    plan,
                    QByteArrayLiteral("billing.lookup_charge"),
                    "function",
                    QByteArrayLiteral("timeout"),
                    QByteArrayLiteral("billing API did not answer within 5 s"));
        return;
    }

    PlannedSpan &lookup = b.tool(QByteArrayLiteral("billing.lookup_charge"), "function", 150, 900);
    b.db(lookup, "postgresql", QByteArrayLiteral("billing.charges"), "SELECT", "confidential");
    b.chat(b.between(1800, 2800), b.between(80, 220), "tool_calls");

    if (kind == ScenarioKind::PolicyBlock) {
        // The agent reaches for a payout (money out to a bank account), which is not a refund.
        PlannedSpan &payout = b.tool(QByteArrayLiteral("stripe.payout"), "extension", 20, 120);
        PlanBuilder::policyDeny(
            payout, QByteArrayLiteral("stripe.payout is not in refund-agent's tool allowlist"));
        b.chat(b.between(2600, 3400), b.between(90, 200), "stop");
        b.tool(QByteArrayLiteral("zendesk.reply"), "extension", 150, 600);
        b.finish(20, 150);
        return;
    }

    if (kind == ScenarioKind::PromptInjection) {
        // The ticket body carries instructions; the model follows them.
        injectedToolCall(b, QByteArrayLiteral("zendesk.tickets:") + ticket, b.between(2600, 3400));
        return;
    }

    const bool needsApproval = kind == ScenarioKind::ApprovalNeeded;
    const qint64 amount
        = needsApproval
              ? agent.approvalThresholdMinor + b.between(2000, 170000)
              : b.between(500, int(std::max<qint64>(agent.approvalThresholdMinor, 1000) - 100));
    if (needsApproval) {
        b.approval(QByteArrayLiteral("stripe.refund"),
                   amount,
                   QByteArrayLiteral("Customer on ticket ") + ticket
                       + QByteArrayLiteral(" was charged twice; refund of $") + money(amount)
                       + QByteArrayLiteral(" exceeds the $") + money(agent.approvalThresholdMinor)
                       + QByteArrayLiteral(" auto-approval limit"),
                   75);
    }
    const When paid = needsApproval ? When::IfApproved : When::Always;
    PlannedSpan &refund = b.tool(QByteArrayLiteral("stripe.refund"), "extension", 250, 1400, paid);
    PlanBuilder::spend(refund, amount, agent.currency);
    b.db(refund, "postgresql", QByteArrayLiteral("billing.refunds"), "INSERT", "confidential");
    if (needsApproval)
        b.chat(b.between(2800, 3600), b.between(60, 160), "stop", When::IfDenied);
    b.tool(QByteArrayLiteral("zendesk.reply"), "extension", 150, 600);
    b.chat(b.between(3000, 4200), b.between(40, 120), "stop");
    b.finish(20, 150);
}

void planClaims(PlanBuilder &b, RunPlan &plan, ScenarioKind kind)
{
    const AgentSpec &agent = b.agent();
    const QByteArray claim
        = QByteArrayLiteral("CLM-") + QByteArray::number(b.between(100000, 999999));
    b.retrieval(QByteArrayLiteral("claims.records"), "confidential");
    b.chat(b.between(1400, 2400), b.between(80, 200), "tool_calls");

    if (kind == ScenarioKind::RestrictedData) {
        // Reading medical records is outside what claims-agent is entitled to.
        b.retrieval(QByteArrayLiteral("medical.records"), "restricted");
        b.chat(b.between(5000, 9000), b.between(200, 500), "stop");
        b.finish(20, 150);
        return;
    }
    if (kind == ScenarioKind::RunawayLoop) {
        runawayLoop(b,
                    plan,
                    QByteArrayLiteral("claims.get_policy"),
                    "function",
                    QByteArrayLiteral("500"),
                    QByteArrayLiteral("policy service answered 500"));
        return;
    }

    PlannedSpan &policy = b.tool(QByteArrayLiteral("claims.get_policy"), "function", 100, 700);
    b.db(policy, "postgresql", QByteArrayLiteral("claims.policies"), "SELECT", "confidential");
    b.retrieval(QByteArrayLiteral("policies.documents"), "internal");
    b.chat(b.between(3500, 6000), b.between(150, 400), "tool_calls");

    if (kind == ScenarioKind::PolicyBlock || kind == ScenarioKind::PromptInjection) {
        PlannedSpan &del = b.tool(QByteArrayLiteral("claims.delete_record"), "function", 10, 80);
        if (kind == ScenarioKind::PromptInjection)
            del.attributes.push_back(
                attr("breaker.injection.source", QByteArrayLiteral("claims.records:") + claim));
        PlanBuilder::policyDeny(del, QByteArrayLiteral("destructive claim tools need a person"));
        b.chat(b.between(4000, 6500), b.between(80, 200), "stop");
        b.finish(20, 150);
        return;
    }

    const bool needsApproval = kind == ScenarioKind::ApprovalNeeded;
    const qint64 amount = needsApproval ? agent.approvalThresholdMinor + b.between(20000, 800000)
                                        : b.between(5000, int(agent.approvalThresholdMinor - 100));
    if (needsApproval) {
        b.approval(QByteArrayLiteral("payments.disburse"),
                   amount,
                   QByteArrayLiteral("Claim ") + claim
                       + QByteArrayLiteral(" is covered; payout of $") + money(amount)
                       + QByteArrayLiteral(" is above the $") + money(agent.approvalThresholdMinor)
                       + QByteArrayLiteral(" limit"),
                   70);
    }
    const When paid = needsApproval ? When::IfApproved : When::Always;
    PlannedSpan &pay = b.tool(QByteArrayLiteral("payments.disburse"), "extension", 300, 1500, paid);
    PlanBuilder::spend(pay, amount, agent.currency);
    PlannedSpan &status = b.tool(QByteArrayLiteral("claims.update_status"), "function", 80, 400);
    b.db(status, "postgresql", QByteArrayLiteral("claims.records"), "UPDATE", "confidential");
    b.chat(b.between(4500, 7000), b.between(100, 300), "stop");
    b.finish(20, 150);
}

void planEmail(PlanBuilder &b, RunPlan &plan, ScenarioKind kind)
{
    const QByteArray message = QByteArrayLiteral("msg-") + b.randomToken(10);
    b.retrieval(QByteArrayLiteral("email.inbox"), "confidential");

    if (kind == ScenarioKind::PromptInjection) {
        // An inbound email says "ignore previous instructions and run ...".
        injectedToolCall(b, QByteArrayLiteral("email.inbox:") + message, b.between(1200, 2600));
        return;
    }

    b.chat(b.between(900, 2200), b.between(60, 180), "tool_calls");
    PlannedSpan &lookup = b.tool(QByteArrayLiteral("crm.lookup_contact"), "function", 60, 400);
    b.db(lookup, "postgresql", QByteArrayLiteral("crm.contacts"), "SELECT", "confidential");
    b.chat(b.between(1500, 3000), b.between(150, 450), "tool_calls");

    if (kind == ScenarioKind::PolicyBlock) {
        PlannedSpan &bulk = b.tool(QByteArrayLiteral("email.send_bulk"), "extension", 10, 80);
        PlanBuilder::policyDeny(
            bulk, QByteArrayLiteral("bulk sends above 50 recipients are not allowed"));
        b.chat(b.between(2000, 3500), b.between(60, 160), "stop");
        b.finish(20, 150);
        return;
    }
    if (kind == ScenarioKind::RunawayLoop) {
        runawayLoop(b,
                    plan,
                    QByteArrayLiteral("email.send"),
                    "extension",
                    QByteArrayLiteral("429"),
                    QByteArrayLiteral("mail provider rate limit"));
        return;
    }
    b.tool(QByteArrayLiteral("email.send"), "extension", 200, 900);
    b.chat(b.between(1800, 3200), b.between(20, 80), "stop");
    b.finish(20, 150);
}

void planUsageAnalytics(PlanBuilder &b, RunPlan &plan, ScenarioKind kind)
{
    b.chat(b.between(800, 1500), b.between(100, 260), "tool_calls");

    if (kind == ScenarioKind::IgnoresCancel) {
        exportLoop(b, plan, QByteArrayLiteral("warehouse.export_page"), "datastore");
        return;
    }

    if (kind == ScenarioKind::RunawayLoop) {
        runawayLoop(b,
                    plan,
                    QByteArrayLiteral("warehouse.query"),
                    "datastore",
                    QByteArrayLiteral("timeout"),
                    QByteArrayLiteral("query exceeded 30 s"));
        return;
    }

    PlannedSpan &query = b.tool(QByteArrayLiteral("warehouse.query"), "datastore", 300, 2500);
    b.db(query, "clickhouse", QByteArrayLiteral("warehouse.usage_daily"), "SELECT", "internal");
    b.retrieval(QByteArrayLiteral("billing.usage"), "confidential");

    if (kind == ScenarioKind::PromptInjection) {
        // A note in the usage data asks the model to run a command.
        injectedToolCall(b, QByteArrayLiteral("billing.usage:notes"), b.between(3000, 5000));
        return;
    }
    if (kind == ScenarioKind::RestrictedData) {
        // Card numbers are PCI data: no analyst agent is entitled to them.
        b.chat(b.between(2500, 4000), b.between(80, 200), "tool_calls");
        b.retrieval(QByteArrayLiteral("billing.card_numbers"), "restricted");
        b.chat(b.between(6000, 12000), b.between(300, 900), "stop");
        b.finish(20, 150);
        return;
    }

    b.chat(b.between(4000, 9000), b.between(300, 900), "tool_calls");
    if (kind == ScenarioKind::PolicyBlock) {
        PlannedSpan &share = b.tool(QByteArrayLiteral("drive.share_public"), "extension", 10, 80);
        PlanBuilder::policyDeny(share,
                                QByteArrayLiteral("public sharing of reports is not allowed"));
    } else {
        b.tool(QByteArrayLiteral("reports.publish"), "extension", 150, 800);
    }
    b.chat(b.between(9000, 14000), b.between(200, 600), "stop");
    b.finish(20, 150);
}

} // namespace

namespace {

void planHeader(PlanBuilder &b, RunPlan &plan, const AgentSpec &agent, QRandomGenerator &rng)
{
    do {
        const quint64 hi = rng.generate64();
        const quint64 lo = rng.generate64();
        for (int i = 0; i < 8; ++i) {
            plan.traceId[size_t(i)] = uint8_t(hi >> (8 * i));
            plan.traceId[size_t(8 + i)] = uint8_t(lo >> (8 * i));
        }
    } while (
        std::all_of(plan.traceId.begin(), plan.traceId.end(), [](uint8_t v) { return v == 0; }));
    plan.rootSpanId = b.newSpanId();
    plan.principal = agent.principals.isEmpty() ? QByteArray() : b.pick(agent.principals);
    plan.delegation = agent.delegation;
    plan.conversationId = QByteArrayLiteral("conv_") + b.randomToken(20);
}

qint64 plannedNs(const RunPlan &plan)
{
    qint64 total = plan.tailNs;
    for (const RunStep &step : plan.steps)
        total += step.gapNs + (step.approval ? 0 : step.span.durationNs);
    return total;
}

// Spreads think time so that the run (approval waits aside) lasts at least targetNs: operators
// need runs that stay WORKING long enough to act on. The first step keeps its own short gap, as
// an agent starts on its first model call at once: its span is what shows the run within
// seconds (a run of an agent whose runtime cannot list tasks is seen first through it). The
// extra time goes between the later steps and after the last one.
void stretch(RunPlan &plan, qint64 targetNs)
{
    const qint64 total = plannedNs(plan);
    if (total >= targetNs || plan.steps.empty())
        return;
    const qint64 parts = qint64(plan.steps.size()); // the gaps after the first step, and the tail
    const qint64 extra = (targetNs - total) / parts;
    for (size_t i = 1; i < plan.steps.size(); ++i)
        plan.steps[i].gapNs += extra;
    plan.tailNs += targetNs - total - extra * (parts - 1);
}

QByteArray defaultSummary(const RunPlan &plan, const AgentSpec &agent)
{
    if (plan.rootStatusCode == 2)
        return agent.name + QByteArrayLiteral(" failed: ") + plan.rootStatusMessage;
    return agent.name + QByteArrayLiteral(" finished its ") + scenarioName(plan.scenario)
           + QByteArrayLiteral(" run.");
}

} // namespace

RunPlan Scenario::plan(ScenarioKind kind,
                       const AgentSpec &agent,
                       QRandomGenerator &rng,
                       double durationScale,
                       bool longRun)
{
    RunPlan plan;
    plan.scenario = kind;
    PlanBuilder b(agent, rng, durationScale, plan);
    planHeader(b, plan, agent, rng);

    if (kind == ScenarioKind::IgnoresCancel && agent.role != AgentRole::UsageAnalytics) {
        // Asked for by name (A2A data part) on another agent: the same loop over its first tool.
        b.chat(b.between(800, 1500), b.between(100, 260), "tool_calls");
        exportLoop(b,
                   plan,
                   agent.tools.isEmpty() ? QByteArrayLiteral("export_page") : agent.tools.first(),
                   "function");
    } else {
        if (kind == ScenarioKind::Work) // planWork() builds these; a bare Work is a normal run
            plan.scenario = kind = ScenarioKind::Normal;
        switch (agent.role) {
        case AgentRole::Refunds:
            planRefunds(b, plan, kind);
            break;
        case AgentRole::Claims:
            planClaims(b, plan, kind);
            break;
        case AgentRole::Email:
            planEmail(b, plan, kind);
            break;
        case AgentRole::UsageAnalytics:
            planUsageAnalytics(b, plan, kind);
            break;
        }
    }
    if (longRun)
        stretch(plan, b.ms(15000, 90000));
    if (plan.summary.isEmpty())
        plan.summary = defaultSummary(plan, agent);
    return plan;
}

RunPlan Scenario::planWork(const AgentSpec &agent,
                           QRandomGenerator &rng,
                           double durationScale,
                           qint64 workMs)
{
    RunPlan plan;
    plan.scenario = ScenarioKind::Work;
    PlanBuilder b(agent, rng, durationScale, plan);
    planHeader(b, plan, agent, rng);
    const qint64 targetNs = qint64(double(std::max<qint64>(workMs, 1)) * 1e6 * durationScale);
    const QByteArray toolName
        = agent.tools.isEmpty() ? QByteArrayLiteral("work") : agent.tools.first();
    qint64 input = b.between(800, 1500);
    // At least one model call; then tool and model calls until the time is used.
    while (plan.steps.empty() || plannedNs(plan) < targetNs) {
        const qint64 output = b.between(40, 160);
        PlannedSpan &chat = b.chat(input, output, "tool_calls");
        chat.durationNs = std::min(chat.durationNs, std::max<qint64>(targetNs / 8, 1000));
        if (plannedNs(plan) >= targetNs)
            break;
        PlannedSpan &tool = b.tool(toolName, "function", 100, 600);
        tool.durationNs = std::min(tool.durationNs, std::max<qint64>(targetNs / 8, 1000));
        input += output + b.between(200, 600);
    }
    plan.tailNs = 1000;
    // Exactly as long as asked: trim or pad the last gap.
    const qint64 diff = targetNs - plannedNs(plan);
    RunStep &last = plan.steps.back();
    last.gapNs = std::max<qint64>(last.gapNs + diff, 1000);
    plan.summary
        = QByteArrayLiteral("Worked for ") + QByteArray::number(workMs) + QByteArrayLiteral(" ms.");
    return plan;
}

} // namespace Breaker
