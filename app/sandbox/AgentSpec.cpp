#include "app/sandbox/AgentSpec.h"

#include "BreakerVersion.h"

namespace Breaker {

namespace {

Otlp::OutAttribute text(const char *key, const QByteArray &value)
{
    return Otlp::OutAttribute{QByteArray(key), value};
}

} // namespace

std::vector<Otlp::OutAttribute> AgentSpec::resourceAttributes() const
{
    return {
        text("service.name", name),
        text("service.version", version),
        text("service.namespace", QByteArrayLiteral("breaker-sandbox")),
        text("deployment.environment.name", QByteArrayLiteral("sandbox")),
        text("telemetry.sdk.name", QByteArrayLiteral("breaker-sandbox")),
        text("telemetry.sdk.language", QByteArrayLiteral("cpp")),
        text("telemetry.sdk.version", QByteArrayLiteral(BREAKER_VERSION)),
    };
}

std::vector<AgentSpec> defaultSandboxAgents()
{
    std::vector<AgentSpec> agents;

    AgentSpec refund;
    refund.name = QByteArrayLiteral("refund-agent");
    refund.id = QByteArrayLiteral("agt_refund_7f3a");
    refund.version = QByteArrayLiteral("2.4.1");
    refund.role = AgentRole::Refunds;
    refund.owner = QByteArrayLiteral("payments-oncall");
    refund.principals = {QByteArrayLiteral("user:ada@example.com"),
                         QByteArrayLiteral("user:grace@example.com"),
                         QByteArrayLiteral("user:linus@example.com")};
    refund.delegation
        = {QByteArrayLiteral("agent:refund-agent"), QByteArrayLiteral("agent:support-copilot")};
    refund.dataSources = {QByteArrayLiteral("zendesk.tickets"),
                          QByteArrayLiteral("billing.charges"),
                          QByteArrayLiteral("billing.refunds")};
    refund.tools = {QByteArrayLiteral("zendesk.get_ticket"),
                    QByteArrayLiteral("billing.lookup_charge"),
                    QByteArrayLiteral("stripe.refund"),
                    QByteArrayLiteral("zendesk.reply")};
    refund.providerName = QByteArrayLiteral("openai");
    refund.model = QByteArrayLiteral("gpt-4o");
    refund.responseModel = QByteArrayLiteral("gpt-4o-2024-08-06");
    refund.approvalThresholdMinor = 10000; // $100.00
    refund.firstRuns = {ScenarioKind::Normal,
                        ScenarioKind::ApprovalNeeded,
                        ScenarioKind::PolicyBlock,
                        ScenarioKind::Normal,
                        ScenarioKind::RunawayLoop};
    refund.mix = {{ScenarioKind::Normal, 55},
                  {ScenarioKind::ApprovalNeeded, 20},
                  {ScenarioKind::PolicyBlock, 12},
                  {ScenarioKind::RunawayLoop, 8},
                  {ScenarioKind::PromptInjection, 5}};
    agents.push_back(refund);

    AgentSpec claims;
    claims.name = QByteArrayLiteral("claims-agent");
    claims.id = QByteArrayLiteral("agt_claims_1c9e");
    claims.version = QByteArrayLiteral("1.9.0");
    claims.role = AgentRole::Claims;
    claims.owner = QByteArrayLiteral("claims-oncall");
    // The fleet's canary: stop drills run against it (its grant comes back after a revoke).
    claims.canary = true;
    claims.principals
        = {QByteArrayLiteral("user:maria@example.com"), QByteArrayLiteral("user:omar@example.com")};
    claims.delegation = {QByteArrayLiteral("agent:claims-agent")};
    claims.dataSources = {QByteArrayLiteral("claims.records"),
                          QByteArrayLiteral("policies.documents"),
                          QByteArrayLiteral("claims.policies")};
    claims.tools = {QByteArrayLiteral("claims.get_policy"),
                    QByteArrayLiteral("payments.disburse"),
                    QByteArrayLiteral("claims.update_status")};
    claims.providerName = QByteArrayLiteral("anthropic");
    claims.model = QByteArrayLiteral("claude-sonnet-4");
    claims.responseModel = QByteArrayLiteral("claude-sonnet-4-20250514");
    claims.approvalThresholdMinor = 100000; // $1,000.00
    claims.firstRuns = {ScenarioKind::Normal,
                        ScenarioKind::RestrictedData,
                        ScenarioKind::ApprovalNeeded,
                        ScenarioKind::PolicyBlock};
    claims.mix = {{ScenarioKind::Normal, 60},
                  {ScenarioKind::ApprovalNeeded, 15},
                  {ScenarioKind::RestrictedData, 12},
                  {ScenarioKind::PolicyBlock, 13}};
    agents.push_back(claims);

    AgentSpec email;
    email.name = QByteArrayLiteral("email-agent");
    email.id = QByteArrayLiteral("agt_email_52d0");
    email.version = QByteArrayLiteral("3.1.2");
    email.role = AgentRole::Email;
    email.owner = QByteArrayLiteral("messaging-oncall");
    email.principals = {QByteArrayLiteral("user:sam@example.com"),
                        QByteArrayLiteral("user:priya@example.com"),
                        QByteArrayLiteral("user:kenji@example.com")};
    email.delegation
        = {QByteArrayLiteral("agent:email-agent"), QByteArrayLiteral("agent:workspace-assistant")};
    email.dataSources = {QByteArrayLiteral("email.inbox"), QByteArrayLiteral("crm.contacts")};
    email.tools = {QByteArrayLiteral("crm.lookup_contact"), QByteArrayLiteral("email.send")};
    email.providerName = QByteArrayLiteral("openai");
    email.model = QByteArrayLiteral("gpt-4o-mini");
    email.responseModel = QByteArrayLiteral("gpt-4o-mini-2024-07-18");
    email.firstRuns = {ScenarioKind::Normal,
                       ScenarioKind::PromptInjection,
                       ScenarioKind::Normal,
                       ScenarioKind::PolicyBlock};
    email.mix = {{ScenarioKind::Normal, 65},
                 {ScenarioKind::PromptInjection, 20},
                 {ScenarioKind::PolicyBlock, 15}};
    agents.push_back(email);

    AgentSpec analyst;
    analyst.name = QByteArrayLiteral("usage-analyst");
    analyst.id = QByteArrayLiteral("agt_usage_a804");
    analyst.version = QByteArrayLiteral("0.8.3");
    analyst.role = AgentRole::UsageAnalytics;
    analyst.owner = QByteArrayLiteral("data-platform");
    analyst.principals = {QByteArrayLiteral("user:finn@example.com"),
                          QByteArrayLiteral("service:finance-reporting")};
    analyst.delegation = {QByteArrayLiteral("agent:usage-analyst")};
    analyst.dataSources
        = {QByteArrayLiteral("billing.usage"), QByteArrayLiteral("warehouse.usage_daily")};
    analyst.tools = {QByteArrayLiteral("warehouse.query"), QByteArrayLiteral("reports.publish")};
    analyst.providerName = QByteArrayLiteral("gcp.gemini");
    analyst.model = QByteArrayLiteral("gemini-2.5-pro");
    analyst.responseModel = QByteArrayLiteral("gemini-2.5-pro");
    analyst.firstRuns = {ScenarioKind::Normal,
                         ScenarioKind::RestrictedData,
                         ScenarioKind::Normal,
                         ScenarioKind::RunawayLoop,
                         ScenarioKind::IgnoresCancel};
    // IgnoresCancel: the long usage export, whose page loop does not look at the cancel flag.
    analyst.mix = {{ScenarioKind::Normal, 56},
                   {ScenarioKind::RestrictedData, 20},
                   {ScenarioKind::RunawayLoop, 10},
                   {ScenarioKind::PolicyBlock, 8},
                   {ScenarioKind::IgnoresCancel, 6}};
    agents.push_back(analyst);

    return agents;
}

} // namespace Breaker
