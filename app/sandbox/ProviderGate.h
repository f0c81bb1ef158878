#pragma once

#include "app/sandbox/SandboxFleet.h"

#include <QHash>
#include <QObject>
#include <QUrl>

#include <functional>

namespace Breaker {

namespace Net {
class HttpClient;
}

// What a sandbox agent does with its providers before each model or tool call, over HTTP like a
// real agent (DESIGN.md section 6): it refreshes its access token at the OAuth server (a revoked
// grant answers invalid_grant: the agent cannot go on), asks the tool gateway's OPA-shaped
// decision API whether the tool may run (false: a policy block), and pays through its card
// (the Stripe-shaped test helper: a frozen card is declined). The answer shapes the call's span,
// so each containment shows in the trace.
class ProviderGate : public QObject
{
    Q_OBJECT
public:
    struct Endpoints
    {
        QUrl tokenEndpoint;   // OAuth token endpoint
        QUrl decisionUrl;     // POST {"input": {"agent", "tool"}} -> {"result": bool}
        QUrl stripeBase;      // the Stripe-shaped API's base URL
        QByteArray stripeKey; // its API key
    };
    struct AgentCredentials
    {
        QByteArray clientId;
        QByteArray clientSecret;
        QByteArray refreshToken;
        QByteArray cardId;
    };

    explicit ProviderGate(Endpoints endpoints, QObject *parent = nullptr);
    ~ProviderGate() override;

    void setAgent(const QByteArray &agentName, AgentCredentials credentials);
    // The SandboxFleet::Gate.
    void check(const QByteArray &agentName, const PlannedSpan &span,
               std::function<void(SandboxRun::StepVerdict)> answer);

private:
    void checkTool(const QByteArray &agentName, const PlannedSpan &span,
                   std::function<void(SandboxRun::StepVerdict)> answer);
    void pay(const QByteArray &agentName, qint64 amountMinor, const QByteArray &currency,
             std::function<void(SandboxRun::StepVerdict)> answer);

    Endpoints m_endpoints;
    QHash<QByteArray, AgentCredentials> m_agents;
    Net::HttpClient *m_http = nullptr;
};

} // namespace Breaker
