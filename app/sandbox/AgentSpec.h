#pragma once

#include "app/sandbox/Scenario.h"

#include <QByteArray>
#include <QList>

#include <utility>
#include <vector>

namespace Breaker {

enum class AgentRole { Refunds, Claims, Email, UsageAnalytics };

// One sandbox agent: what it does, who it acts for, what it may touch, and its scenario mix.
struct AgentSpec
{
    QByteArray name;    // gen_ai.agent.name, the profile's agent key, service.name
    QByteArray id;      // gen_ai.agent.id
    QByteArray version; // gen_ai.agent.version, service.version
    AgentRole role = AgentRole::Refunds;
    QByteArray owner;                  // the team on call for it
    bool canary = false;               // drills may stop it (the profile marks it "canary")
    QList<QByteArray> principals;      // enduser.id values it acts for
    QList<QByteArray> delegation;      // actor chain, outermost (the agent itself) first
    QList<QByteArray> dataSources;     // the sources it is entitled to read
    QList<QByteArray> tools;           // the tools it may call
    QByteArray providerName;           // gen_ai.provider.name
    QByteArray model;                  // gen_ai.request.model
    QByteArray responseModel;          // gen_ai.response.model
    qint64 approvalThresholdMinor = 0; // payments above this wait for a person (0: none)
    QByteArray currency = QByteArrayLiteral("usd");
    int approvalTimeoutS = 900;
    QByteArray onTimeout = QByteArrayLiteral("deny");
    std::vector<ScenarioKind> firstRuns;           // the first runs, in order
    std::vector<std::pair<ScenarioKind, int>> mix; // then weighted at random

    // Resource attributes of its telemetry (service.name, ...).
    std::vector<Otlp::OutAttribute> resourceAttributes() const;
};

// The four agents production teams start with: refund-agent, claims-agent, email-agent,
// usage-analyst. Together their scenario mixes cover every ScenarioKind.
std::vector<AgentSpec> defaultSandboxAgents();

} // namespace Breaker
