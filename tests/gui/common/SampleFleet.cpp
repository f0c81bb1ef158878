#include "SampleFleet.h"

#include <QCryptographicHash>

namespace Breaker::Testing {

namespace {

constexpr qint64 kMinute = 60'000;

Run makeRun(const char *id,
            const char *agent,
            bool bound,
            const char *principal,
            const char *provider,
            RunStatus status,
            qint64 startedMs,
            qint64 durationMs,
            qint64 in,
            qint64 out,
            qint64 costMicros,
            int tools,
            int blocks,
            int approvals,
            const char *goal)
{
    Run run;
    run.id = id;
    run.agent = agent;
    run.agentBound = bound;
    run.principal = principal;
    run.provider = provider;
    run.status = status;
    run.startedMs = startedMs;
    run.updatedMs = startedMs + durationMs;
    run.endedMs = isTerminal(status) ? startedMs + durationMs : 0;
    run.inputTokens = in;
    run.outputTokens = out;
    run.costMicros = costMicros;
    run.toolCalls = tools;
    run.policyBlocks = blocks;
    run.approvalsPending = approvals;
    run.dataSources = tools > 0 ? 1 + tools / 3 : 0;
    run.goal = goal;
    run.externalIdsJson
        = QByteArrayLiteral("{\"trace_id\":\"")
          + QCryptographicHash::hash(QByteArray(id), QCryptographicHash::Md5).toHex()
          + QByteArrayLiteral("\",\"a2a_task_id\":\"task-") + QByteArray(id).right(4)
          + QByteArrayLiteral("\"}");
    return run;
}

struct Builder
{
    const Run &run;
    std::vector<RunEvent> events;

    QByteArray spanId(int n) const
    {
        return QCryptographicHash::hash(QByteArray(run.id + QByteArray::number(n)),
                                        QCryptographicHash::Sha1)
            .toHex()
            .left(16);
    }

    // Offsets in milliseconds from the run's start; endMs < 0: still open.
    int add(EventKind kind,
            const QByteArray &name,
            int parent,
            qint64 startMs,
            qint64 endMs,
            const QByteArray &attributes,
            int status = 0,
            qint64 in = 0,
            qint64 out = 0,
            qint64 cost = 0)
    {
        RunEvent e;
        const int n = int(events.size());
        e.id = 1000 + n;
        e.runId = run.id;
        e.traceId = QCryptographicHash::hash(run.id, QCryptographicHash::Md5).toHex();
        e.spanId = spanId(n);
        e.parentSpanId = parent >= 0 ? spanId(parent) : QByteArray();
        e.kind = kind;
        e.name = name;
        e.startNs = (run.startedMs + startMs) * 1'000'000 + 137'000 * n;
        e.endNs = endMs < 0          ? 0
                  : endMs == startMs ? e.startNs // an instant: policy decision, approval ask
                                     : (run.startedMs + endMs) * 1'000'000 + 211'000 * n;
        e.statusCode = status;
        e.attributesJson = attributes;
        e.inputTokens = in;
        e.outputTokens = out;
        e.costMicros = cost;
        events.push_back(e);
        return n;
    }

    int chat(int parent,
             qint64 startMs,
             qint64 endMs,
             qint64 in,
             qint64 out,
             qint64 cost,
             int status = 0)
    {
        const QByteArray attrs
            = QByteArrayLiteral("{\"gen_ai.operation.name\":\"chat\","
                                "\"gen_ai.request.model\":\"gpt-4o\","
                                "\"gen_ai.usage.input_tokens\":")
              + QByteArray::number(in) + QByteArrayLiteral(",\"gen_ai.usage.output_tokens\":")
              + QByteArray::number(out) + QByteArrayLiteral(",\"gen_ai.agent.name\":\"") + run.agent
              + QByteArrayLiteral("\"}");
        return add(EventKind::ModelCall,
                   "chat gpt-4o",
                   parent,
                   startMs,
                   endMs,
                   attrs,
                   status,
                   in,
                   out,
                   cost);
    }

    int tool(int parent,
             const QByteArray &name,
             qint64 startMs,
             qint64 endMs,
             const QByteArray &arguments,
             int status = 0)
    {
        const QByteArray attrs = QByteArrayLiteral("{\"gen_ai.operation.name\":\"execute_tool\","
                                                   "\"gen_ai.tool.name\":\"")
                                 + name + QByteArrayLiteral("\",\"gen_ai.tool.call.arguments\":")
                                 + arguments + QByteArrayLiteral("}");
        return add(
            EventKind::ToolCall, "execute_tool " + name, parent, startMs, endMs, attrs, status);
    }
};

} // namespace

std::vector<Run> sampleRuns(qint64 nowMs)
{
    const qint64 t = nowMs;
    std::vector<Run> runs = {
        makeRun("run-7f3a01",
                "refund-agent",
                true,
                "user:ada@example.com",
                "a2a",
                RunStatus::WaitingApproval,
                t - 4 * kMinute,
                3 * kMinute,
                6'420,
                812,
                24'310,
                3,
                0,
                1,
                "Refund order A-10442 ($240.00): duplicate charge"),
        makeRun("run-7f3a02",
                "claims-agent",
                true,
                "user:grace@example.com",
                "a2a",
                RunStatus::Working,
                t - 9 * kMinute,
                9 * kMinute,
                184'220,
                9'410,
                1'902'400,
                41,
                0,
                0,
                "Assess claim CLM-88213 (water damage)"),
        makeRun("run-7f3a03",
                "email-agent",
                true,
                "user:linus@example.com",
                "a2a",
                RunStatus::Completed,
                t - 22 * kMinute,
                47'000,
                3'112,
                655,
                9'870,
                2,
                1,
                0,
                "Answer ticket #5521 about invoice copies"),
        makeRun("run-7f3a04",
                "usage-analyst",
                true,
                "group:finance-analysts",
                "otlp",
                RunStatus::Failed,
                t - 31 * kMinute,
                2 * kMinute + 12'000,
                12'880,
                1'904,
                48'200,
                4,
                1,
                0,
                "Monthly usage report for ACME Corp"),
        makeRun("run-7f3a05",
                "refund-agent",
                true,
                "user:barbara@example.com",
                "a2a",
                RunStatus::Completed,
                t - 48 * kMinute,
                38'500,
                4'210,
                530,
                15'020,
                3,
                0,
                0,
                "Refund order A-10398 ($18.50)"),
        makeRun("run-7f3a06",
                "claims-agent",
                true,
                "user:edsger@example.com",
                "a2a",
                RunStatus::Stopped,
                t - 65 * kMinute,
                6 * kMinute,
                52'300,
                4'100,
                411'000,
                17,
                0,
                0,
                "Assess claim CLM-88190 (stopped by operator)"),
        makeRun("run-7f3a07",
                "email-agent",
                true,
                "user:margaret@example.com",
                "a2a",
                RunStatus::Working,
                t - 40'000,
                40'000,
                1'020,
                0,
                2'550,
                0,
                0,
                0,
                "Draft a reply to ticket #5530"),
        makeRun("run-7f3a08",
                "usage-analyst",
                true,
                "group:finance-analysts",
                "otlp",
                RunStatus::Completed,
                t - 95 * kMinute,
                3 * kMinute + 5'000,
                22'410,
                3'880,
                71'900,
                6,
                0,
                0,
                "Weekly token spend by team"),
        makeRun("run-7f3a09",
                "pricing-bot",
                false,
                "service:pricing-cron",
                "otlp",
                RunStatus::Completed,
                t - 120 * kMinute,
                14'000,
                2'200,
                190,
                4'100,
                1,
                0,
                0,
                "Recompute price list"),
        makeRun("run-7f3a0a",
                "refund-agent",
                true,
                "user:ken@example.com",
                "a2a",
                RunStatus::Rejected,
                t - 150 * kMinute,
                15 * kMinute,
                5'900,
                701,
                21'700,
                2,
                0,
                0,
                "Refund order A-10211 ($1,250.00): approval denied"),
        makeRun("run-7f3a0b",
                "claims-agent",
                true,
                "user:barbara@example.com",
                "a2a",
                RunStatus::Submitted,
                t - 5'000,
                5'000,
                0,
                0,
                0,
                0,
                0,
                0,
                "Assess claim CLM-88220"),
        makeRun("run-7f3a0c",
                "email-agent",
                true,
                "user:ada@example.com",
                "a2a",
                RunStatus::Failed,
                t - 200 * kMinute,
                21'000,
                1'870,
                122,
                5'300,
                1,
                0,
                0,
                "Send the quarterly statement"),
    };
    runs[0].delegationJson = QByteArrayLiteral("[\"user:ada@example.com\",\"support-portal\"]");
    runs[3].errors = 2;
    runs[11].errors = 1;
    return runs;
}

std::vector<RunEvent> sampleEvents(const Run &run)
{
    Builder b{run, {}};
    const qint64 total = (run.endedMs > 0 ? run.endedMs : run.updatedMs) - run.startedMs;
    const bool open = !isTerminal(run.status);
    const int root = b.add(EventKind::AgentInvocation,
                           "invoke_agent " + run.agent,
                           -1,
                           0,
                           open ? -1 : total,
                           QByteArrayLiteral("{\"gen_ai.operation.name\":\"invoke_agent\","
                                             "\"gen_ai.agent.name\":\"")
                               + run.agent + QByteArrayLiteral("\",\"enduser.id\":\"")
                               + run.principal + QByteArrayLiteral("\"}"));
    if (run.agent == "refund-agent") {
        b.chat(root, 40, 1'900, 1'850, 210, 7'100);
        const int t1 = b.tool(
            root, "zendesk.get_ticket", 1'950, 2'600, QByteArrayLiteral("{\"ticket\":5512}"));
        b.add(EventKind::DataAccess,
              "read zendesk.tickets",
              t1,
              2'000,
              2'540,
              QByteArrayLiteral("{\"db.system\":\"zendesk\",\"breaker.data.source\":"
                                "\"zendesk.tickets\",\"breaker.data.rows\":1}"));
        const int t2 = b.tool(root,
                              "billing.lookup_order",
                              2'650,
                              3'900,
                              QByteArrayLiteral("{\"order\":\"A-10442\"}"));
        b.add(EventKind::DataAccess,
              "read billing.usage",
              t2,
              2'700,
              3'800,
              QByteArrayLiteral("{\"breaker.data.source\":\"billing.usage\"}"));
        b.chat(root, 3'950, 6'400, 3'900, 480, 13'400);
        b.add(EventKind::Spend,
              "spend gpt-4o",
              root,
              6'400,
              6'400,
              QByteArrayLiteral("{\"breaker.cost.micros\":20500,\"currency\":\"usd\"}"),
              0,
              0,
              0,
              20'500);
        b.add(EventKind::ApprovalRequested,
              "approval stripe.refund",
              root,
              6'450,
              6'450,
              QByteArrayLiteral("{\"approval\":{\"action\":\"stripe.refund\",\"arguments\":"
                                "{\"order\":\"A-10442\",\"charge\":\"ch_3Qx81\"},\"amount\":"
                                "{\"value\":24000,\"currency\":\"usd\"}},\"waiting_on\":"
                                "\"operator\"}"));
    } else if (run.agent == "claims-agent") {
        // The runaway retry loop: the same lookup failing, each retry costing more.
        qint64 at = 50;
        for (int i = 0; i < 6; ++i) {
            b.chat(root, at, at + 900 + i * 250, 9'000 + i * 4'000, 300, 40'000 + i * 18'000);
            at += 950 + i * 250;
            b.tool(root,
                   "claims.lookup_policy",
                   at,
                   at + 1'400,
                   QByteArrayLiteral("{\"claim\":\"CLM-88213\",\"attempt\":")
                       + QByteArray::number(i + 1) + QByteArrayLiteral("}"),
                   2);
            at += 1'450;
        }
        b.add(EventKind::Error,
              "claims.lookup_policy 503",
              root,
              at,
              at,
              QByteArrayLiteral("{\"error.type\":\"http.503\",\"message\":"
                                "\"upstream unavailable (attempt 6)\"}"),
              2);
        b.chat(root, at + 50, -1, 33'000, 0, 0);
    } else if (run.agent == "email-agent") {
        b.chat(root, 30, 2'100, 1'400, 320, 4'100);
        const int t1 = b.tool(root,
                              "gmail.send",
                              2'150,
                              2'300,
                              QByteArrayLiteral("{\"to\":\"all-customers@example.com\"}"),
                              2);
        b.add(EventKind::PolicyBlock,
              "policy deny gmail.send",
              t1,
              2'200,
              2'200,
              QByteArrayLiteral("{\"policy\":\"breaker/tools\",\"decision\":\"deny\","
                                "\"reason\":\"bulk recipients not allowed\"}"));
        b.tool(root, "zendesk.reply", 2'400, 3'100, QByteArrayLiteral("{\"ticket\":5521}"));
        b.chat(root, 3'150, 5'200, 1'712, 335, 5'770);
    } else if (run.agent == "usage-analyst") {
        b.chat(root, 20, 3'200, 4'100, 600, 15'000);
        const int t1 = b.tool(root,
                              "warehouse.query",
                              3'250,
                              9'800,
                              QByteArrayLiteral("{\"sql\":\"select team, sum(tokens) from usage "
                                                "group by team\"}"));
        b.add(EventKind::DataAccess,
              "read warehouse.usage",
              t1,
              3'300,
              9'700,
              QByteArrayLiteral("{\"breaker.data.source\":\"warehouse.usage\"}"));
        const int t2 = b.tool(root,
                              "warehouse.query",
                              10'000,
                              10'400,
                              QByteArrayLiteral("{\"sql\":\"select * from payroll\"}"),
                              2);
        b.add(EventKind::DataAccess,
              "read warehouse.payroll",
              t2,
              10'050,
              10'300,
              QByteArrayLiteral("{\"breaker.data.source\":\"warehouse.payroll\","
                                "\"breaker.data.classification\":\"restricted\"}"),
              2);
        b.add(EventKind::PolicyBlock,
              "policy deny warehouse.payroll",
              t2,
              10'350,
              10'350,
              QByteArrayLiteral("{\"decision\":\"deny\",\"reason\":\"principal not entitled to "
                                "restricted data\"}"));
        b.add(EventKind::Error,
              "run failed",
              root,
              10'500,
              10'500,
              QByteArrayLiteral("{\"error.type\":\"PermissionDenied\"}"),
              2);
    } else {
        b.chat(root, 30, 1'500, 1'100, 90, 2'000);
        b.tool(root, "prices.update", 1'550, 2'400, QByteArrayLiteral("{\"rows\":412}"));
    }
    return b.events;
}

std::vector<ProviderState> sampleProviderStates()
{
    using State = ProviderState::State;
    return {
        {QStringLiteral("a2a"),
         QStringLiteral("runtime"),
         State::Up,
         QStringLiteral("agent card read; 3 agents")},
        {QStringLiteral("idp"), QStringLiteral("identity"), State::Up, QStringLiteral("ok")},
        {QStringLiteral("stripe"),
         QStringLiteral("payment"),
         State::Degraded,
         QStringLiteral("429 rate_limit: Too many requests, retrying in 2 s")},
        {QStringLiteral("opa"),
         QStringLiteral("tools"),
         State::Down,
         QStringLiteral("connection refused (127.0.0.1:8181)")},
        {QStringLiteral("otlp"),
         QStringLiteral("observability"),
         State::Up,
         QStringLiteral("listening on 127.0.0.1:4318")},
    };
}

} // namespace Breaker::Testing
