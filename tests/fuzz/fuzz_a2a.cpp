// libFuzzer target: the A2A decoders (connectors/runtime/A2aCodec) on arbitrary bytes: a card,
// a JSON-RPC response, a REST error body and a stream event. Invariants: never crash; an error
// always names the provider and says something; a parsed task always has an id and a state.
#include "connectors/runtime/A2aCodec.h"

#include <QJsonDocument>

#include <cstdio>
#include <cstdlib>

namespace {

void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
        std::abort();
    }
}

void checkError(const Breaker::Error &e)
{
    check(!e.message.isEmpty(), "error without words");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace Breaker;
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QString provider = QStringLiteral("fuzz");
    const QUrl cardUrl(QStringLiteral("http://127.0.0.1:1/.well-known/agent-card.json"));

    auto endpoint = A2a::chooseEndpoint(bytes, cardUrl, cardUrl);
    if (endpoint.ok())
        check(endpoint->url.isValid(), "chosen endpoint with an invalid URL");
    else
        checkError(endpoint.error());

    auto rpc = A2a::parseJsonRpcResponse(bytes, provider);
    if (!rpc.ok()) {
        checkError(rpc.error());
        check(rpc.error().where == provider, "JSON-RPC error without the provider");
    }

    const Error rest = A2a::errorFromRest(int(size % 600), bytes, provider);
    checkError(rest);
    check(rest.where == provider, "REST error without the provider");

    const QJsonObject object = QJsonDocument::fromJson(bytes).object();
    auto event = A2a::parseStreamResponse(object);
    if (event.ok()) {
        if (event->type == A2a::StreamEvent::Type::Task || event->type == A2a::StreamEvent::Type::StatusUpdate)
            check(!event->run.externalId.isEmpty(), "task event without a task id");
    } else {
        checkError(event.error());
    }
    auto task = A2a::parseTask(object);
    if (task.ok())
        check(!task->externalId.isEmpty() && !task->rawState.isEmpty(), "task without id or state");
    return 0;
}
