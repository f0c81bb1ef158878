// bench_otlp_parse: parse-only throughput of the OTLP receiver's decoders.
//
// Generates realistic GenAI spans (inference, tool, agent and retrieval spans with the
// attributes the semantic conventions and the JS exporter produce, ~12-15 per span), encodes
// them in batches of 512 (one ExportTraceServiceRequest each, as the JS batch processor sends
// them), then times decodeJson and decodeProtobuf over many batches.
//
//   bench_otlp_parse [batches=200] [spansPerBatch=512]
#include "connectors/observability/OtlpCodec.h"

#include <QByteArray>
#include <QElapsedTimer>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>

using namespace Breaker;
using namespace Breaker::Otlp;

namespace {

template<size_t N> void randomId(std::mt19937_64 &rng, std::array<uint8_t, N> &id)
{
    for (auto &b : id)
        b = uint8_t(rng());
}

QByteArray hexToken(std::mt19937_64 &rng, int chars)
{
    static constexpr char digits[] = "0123456789abcdef";
    QByteArray out(chars, Qt::Uninitialized);
    for (int i = 0; i < chars; ++i)
        out[i] = digits[rng() & 15];
    return out;
}

OutSpan
makeSpan(std::mt19937_64 &rng, int i, const TraceId &trace, const SpanId &root, qint64 baseNs)
{
    static const QByteArray agents[] = {"RefundsAgent", "WeatherBot", "TriageAgent", "Planner"};
    static const QByteArray models[] = {"gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro"};
    static const QByteArray providers[] = {"openai", "anthropic", "gcp.gemini"};
    static const QByteArray tools[]
        = {"get_weather", "issue_refund", "search_orders", "send_email"};
    const int m = int(rng() % 3);
    const QByteArray agent = agents[rng() % 4];

    OutSpan s;
    s.traceId = trace;
    randomId(rng, s.spanId);
    s.parentSpanId = root;
    s.hasParent = true;
    s.startNs = baseNs + qint64(i) * 1'000'000;
    s.endNs = s.startNs + qint64(rng() % 5'000'000'000ULL);
    s.attributes = {
        {"gen_ai.provider.name", providers[m]},
        {"gen_ai.agent.name", agent},
        {"gen_ai.agent.id", "agent_" + hexToken(rng, 8)},
        {"gen_ai.conversation.id", "conv_" + hexToken(rng, 16)},
        {"enduser.id", "user:" + hexToken(rng, 10)},
    };
    switch (i % 4) {
    case 0:
    case 1: { // inference: the most common span
        s.name = "chat " + models[m];
        s.kind = 3;
        s.attributes.insert(s.attributes.begin(), {"gen_ai.operation.name", QByteArray("chat")});
        s.attributes.push_back({"gen_ai.request.model", models[m]});
        s.attributes.push_back({"gen_ai.response.model", models[m] + "-2025-08-06"});
        s.attributes.push_back({"gen_ai.response.id", "chatcmpl-" + hexToken(rng, 20)});
        s.attributes.push_back({"gen_ai.usage.input_tokens", qint64(rng() % 20000)});
        s.attributes.push_back({"gen_ai.usage.output_tokens", qint64(rng() % 2000)});
        s.attributes.push_back({"gen_ai.response.finish_reasons",
                                QList<QByteArray>{rng() % 2 ? "stop" : "tool_calls"}});
        break;
    }
    case 2: { // tool call
        const QByteArray tool = tools[rng() % 4];
        s.name = "execute_tool " + tool;
        s.kind = 1;
        s.attributes.insert(s.attributes.begin(),
                            {"gen_ai.operation.name", QByteArray("execute_tool")});
        s.attributes.push_back({"gen_ai.tool.name", tool});
        s.attributes.push_back({"gen_ai.tool.call.id", "call_" + hexToken(rng, 24)});
        s.attributes.push_back({"a2a.task.id", "task-" + hexToken(rng, 16)});
        s.attributes.push_back({"breaker.spend.amount_minor", qint64(rng() % 100000)});
        s.attributes.push_back({"breaker.spend.currency", QByteArray("eur")});
        if (rng() % 8 == 0) {
            s.statusCode = 2;
            s.statusMessage = "upstream timeout";
            s.attributes.push_back({"error.type", QByteArray("timeout")});
        }
        break;
    }
    default: { // retrieval
        s.name = "retrieval kb-orders";
        s.kind = 3;
        s.attributes.insert(s.attributes.begin(),
                            {"gen_ai.operation.name", QByteArray("retrieval")});
        s.attributes.push_back({"gen_ai.data_source.id", QByteArray("kb-orders")});
        s.attributes.push_back({"db.system.name", QByteArray("postgresql")});
        s.attributes.push_back({"db.collection.name", QByteArray("orders_embeddings")});
        s.attributes.push_back({"gen_ai.request.model", QByteArray("text-embedding-3-large")});
        s.attributes.push_back({"gen_ai.usage.input_tokens", qint64(rng() % 512)});
        s.attributes.push_back({"langgraph.thread_id", hexToken(rng, 16)});
        OutEvent ev;
        ev.name = "approval.requested";
        ev.timeNs = s.startNs + 1000;
        ev.attributes = {{"tool", QByteArray("issue_refund")}};
        s.events.push_back(ev);
        break;
    }
    }
    return s;
}

OutResourceSpans makeBatch(std::mt19937_64 &rng, int spans)
{
    OutResourceSpans rs;
    rs.resource = {{"service.name", QByteArray("refunds-agent")},
                   {"service.version", QByteArray("1.14.2")},
                   {"telemetry.sdk.language", QByteArray("nodejs")},
                   {"telemetry.sdk.name", QByteArray("opentelemetry")},
                   {"telemetry.sdk.version", QByteArray("2.0.1")},
                   {"host.name", QByteArray("agent-worker-3")}};
    rs.scopeName = "@opentelemetry/instrumentation-genai";
    rs.scopeVersion = "0.5.0";
    TraceId trace{};
    SpanId root{};
    const qint64 base = 1795665566992000000;
    for (int i = 0; i < spans; ++i) {
        if (i % 16 == 0) { // a new agent run every 16 spans
            randomId(rng, trace);
            randomId(rng, root);
        }
        rs.spans.push_back(makeSpan(rng, i, trace, root, base));
    }
    return rs;
}

// The machine may be shared (CI, parallel builds): the rate is computed over the CPU time of
// this thread, with the wall-clock rate printed alongside.
qint64 threadCpuNs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return qint64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Measure
{
    double spansPerSecond = 0;
    double megabytesPerSecond = 0;
    double wallSpansPerSecond = 0;
};

template<typename Decode>
Measure run(const std::vector<QByteArray> &bodies, int batches, int spansPerBatch, Decode decode)
{
    // Warm up (thread-local buffers, page faults), then time.
    for (const QByteArray &b : bodies)
        (void)decode(b);
    qint64 bytes = 0;
    qint64 spans = 0;
    QElapsedTimer timer;
    timer.start();
    const qint64 cpuStart = threadCpuNs();
    for (int i = 0; i < batches; ++i) {
        const QByteArray &body = bodies[size_t(i) % bodies.size()];
        const DecodeResult r = decode(body);
        if (!r.error.isEmpty() || r.rejectedSpans != 0 || int(r.spans.size()) != spansPerBatch) {
            std::fprintf(stderr, "decode failed: %s\n", qPrintable(r.error + r.rejectMessage));
            std::exit(1);
        }
        spans += qint64(r.spans.size());
        bytes += body.size();
    }
    const double seconds = double(threadCpuNs() - cpuStart) / 1e9;
    const double wall = double(timer.nsecsElapsed()) / 1e9;
    return {double(spans) / seconds, double(bytes) / seconds / 1e6, double(spans) / wall};
}

} // namespace

int main(int argc, char **argv)
{
    const int batches = argc > 1 ? std::atoi(argv[1]) : 200;
    const int spansPerBatch = argc > 2 ? std::atoi(argv[2]) : 512;
    if (batches <= 0 || spansPerBatch <= 0) {
        std::fprintf(stderr, "usage: bench_otlp_parse [batches] [spansPerBatch]\n");
        return 2;
    }

    std::mt19937_64 rng(20250101);
    std::vector<QByteArray> json;
    std::vector<QByteArray> proto;
    for (int i = 0; i < 8; ++i) {
        const std::vector<OutResourceSpans> request{makeBatch(rng, spansPerBatch)};
        json.push_back(encodeJson(request));
        proto.push_back(encodeProtobuf(request));
    }
    const double jsonBytes = double(json.front().size()) / spansPerBatch;
    const double protoBytes = double(proto.front().size()) / spansPerBatch;

    const Measure j
        = run(json, batches, spansPerBatch, [](const QByteArray &b) { return decodeJson(b); });
    const Measure p
        = run(proto, batches, spansPerBatch, [](const QByteArray &b) { return decodeProtobuf(b); });

    std::printf("otlp batches: %d x %d spans\n", batches, spansPerBatch);
    std::printf(
        "otlp_json parse: %.0f spans/s (%.0f bytes/span, %.0f MB/s; wall clock %.0f spans/s)\n",
        j.spansPerSecond,
        jsonBytes,
        j.megabytesPerSecond,
        j.wallSpansPerSecond);
    std::printf(
        "otlp_proto parse: %.0f spans/s (%.0f bytes/span, %.0f MB/s; wall clock %.0f spans/s)\n",
        p.spansPerSecond,
        protoBytes,
        p.megabytesPerSecond,
        p.wallSpansPerSecond);
    return 0;
}
