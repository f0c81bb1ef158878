// libFuzzer target: the LangGraph codec (Breaker::LangGraph) and the SSE framer on arbitrary
// bytes, read as a run, a thread, a state, a stream and an error body at once.
#include "connectors/runtime/LangGraphCodec.h"
#include "connectors/runtime/SseParser.h"
#include "tests/fuzz/FuzzChecks.h"

#include <QJsonDocument>

#include <cstddef>
#include <cstdint>

namespace {

using namespace Breaker;

void checkRun(RuntimeRun run, const QJsonObject &thread, const QJsonObject &state, bool latest)
{
    LangGraph::applyThread(run, thread, state, latest);
    // Waiting for a person always comes with the question, and only then.
    BREAKER_FUZZ_CHECK((run.status == RunStatus::WaitingApproval) == run.approval.has_value());
    BREAKER_FUZZ_CHECK(run.key == "langgraph:" + run.externalId);
}

void checkInterrupts(const std::vector<LangGraph::Interrupt> &interrupts)
{
    for (const LangGraph::Interrupt &i : interrupts) {
        const RuntimeApprovalRequest request = LangGraph::approvalFromInterrupt(i, int(interrupts.size()));
        BREAKER_FUZZ_CHECK(!request.source.isEmpty());
        for (ApprovalDecision d : {ApprovalDecision::Approve, ApprovalDecision::Deny, ApprovalDecision::Edit}) {
            ApprovalAnswer answer;
            answer.decision = d;
            answer.reason = QStringLiteral("r");
            answer.argumentsJson = "{\"amount\":\"1.00\"}";
            const auto value = LangGraph::resumeValue(answer, i, int(interrupts.size()));
            BREAKER_FUZZ_CHECK(value.ok() || !value.error().message.isEmpty());
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QJsonDocument doc = QJsonDocument::fromJson(bytes);
    const QJsonObject object = doc.object();
    if (auto run = LangGraph::parseRun(object); run.ok()) {
        checkRun(*run, object, object, true);
        checkRun(*run, object, {}, false);
    }
    checkInterrupts(LangGraph::interruptsFromThread(object));
    checkInterrupts(LangGraph::interruptsFromState(object));
    checkInterrupts(LangGraph::interruptsFromStreamData(object));

    const int status = 400 + int(size % 200);
    const Error e = LangGraph::errorFromResponse(status, bytes, QStringLiteral("p"), QStringLiteral("GET /x"));
    BREAKER_FUZZ_CHECK(e.message.startsWith(QStringLiteral("p answered HTTP ")));
    BREAKER_FUZZ_CHECK(e.where == QStringLiteral("p"));

    if (auto ids = LangGraph::splitExternalId(bytes); ids.ok())
        BREAKER_FUZZ_CHECK(LangGraph::externalId(ids->threadId, ids->runId) == bytes);

    SseParser parser(1 << 16);
    for (const SseEvent &event : parser.feed(bytes))
        checkInterrupts(LangGraph::interruptsFromStreamData(QJsonDocument::fromJson(event.data).object()));
    parser.finish();
    return 0;
}
