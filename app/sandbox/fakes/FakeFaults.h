#pragma once

#include "app/sandbox/SandboxOptions.h"
#include "connectors/net/HttpServer.h"

#include <QObject>

#include <functional>
#include <optional>

namespace Breaker {

// The faults of one sandbox provider (`breakerctl sandbox --fault LAYER=... --latency-ms
// LAYER=N`), applied in front of its routes. They may change while the sandbox runs (tests,
// drills). What each fault does:
//  - latency: every answer waits latencyMs first;
//  - down:    the provider does not listen at all (the fake checks isDown() in listen(), so its
//             port refuses connections); set later, requests are dropped without an answer;
//  - slow:    answers wait kSlowMs (past any deadline a client should have);
//  - error:   500 with the provider's own error shape (the fake supplies it);
//  - garbage: 200 with a body that is not what the protocol says (HTML).
class FakeFaults : public QObject
{
    Q_OBJECT
public:
    static constexpr int kSlowMs = 60000;

    explicit FakeFaults(QObject *parent = nullptr)
        : QObject(parent)
    {}

    void setFault(std::optional<SandboxFault> fault) { m_fault = fault; }
    void setLatencyMs(int ms) { m_latencyMs = ms; }
    std::optional<SandboxFault> fault() const { return m_fault; }
    int latencyMs() const { return m_latencyMs; }
    bool isDown() const { return m_fault == SandboxFault::Down; }

    // Wraps a route handler. `errorResponse` builds the provider's 500 (its own error shape).
    Net::HttpServer::Handler wrap(Net::HttpServer::Handler inner,
                                  std::function<Net::HttpResponse()> errorResponse) const;

    // Applies the settings of `options` for `layer` ("identity", "payment", "tools", ...).
    void configure(const SandboxOptions &options, const QString &layer);

private:
    std::optional<SandboxFault> m_fault;
    int m_latencyMs = 0;
};

} // namespace Breaker
