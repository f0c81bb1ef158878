#include "app/sandbox/fakes/FakeFaults.h"

#include <QPointer>
#include <QTimer>

namespace Breaker {

Net::HttpServer::Handler FakeFaults::wrap(Net::HttpServer::Handler inner,
                                          std::function<Net::HttpResponse()> errorResponse) const
{
    QPointer<const FakeFaults> self(this);
    return [self, inner = std::move(inner), errorResponse = std::move(errorResponse)](
               Net::HttpRequest request, Net::HttpResponder responder) {
        if (!self) {
            inner(std::move(request), std::move(responder));
            return;
        }
        const std::optional<SandboxFault> fault = self->m_fault;
        int delay = self->m_latencyMs;
        if (fault == SandboxFault::Down)
            return; // no answer: the client's deadline decides
        if (fault == SandboxFault::Slow)
            delay += kSlowMs;
        auto answer = [fault, inner, errorResponse, request = std::move(request),
                       responder]() mutable {
            if (!responder.isOpen())
                return;
            if (fault == SandboxFault::Error) {
                responder.respond(errorResponse());
            } else if (fault == SandboxFault::Garbage) {
                responder.respond(200,
                                  QByteArrayLiteral("text/html"),
                                  QByteArrayLiteral("<html><body>502 Bad Gateway "
                                                    "(sandbox fault: garbage)</body></html>"));
            } else {
                inner(std::move(request), responder);
            }
        };
        if (delay <= 0)
            answer();
        else
            QTimer::singleShot(delay, Qt::PreciseTimer, std::move(answer));
    };
}

void FakeFaults::configure(const SandboxOptions &options, const QString &layer)
{
    m_latencyMs = options.latencyMs.value(layer, 0);
    if (options.faults.contains(layer))
        m_fault = options.faults.value(layer);
    else
        m_fault.reset();
}

} // namespace Breaker
