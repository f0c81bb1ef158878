#pragma once

// Synthetic OTLP traffic that looks like a fleet of GenAI agents (bench_ingest only).
//
// Traces of 5 to 20 spans: children first (chat with token usage, execute_tool, retrieval),
// then the root invoke_agent span, in the order a batch span processor exports them (a span is
// exported when it ends, the root ends last). The root carries gen_ai.agent.name, enduser.id and
// gen_ai.conversation.id; the children carry no identifying attribute, so RunMonitor holds
// them until the root of their trace arrives, as it does with real instrumentations. Spans are
// cut into requests of `spansPerBatch` (a trace may straddle two requests), one ResourceSpans
// per agent service in each request, the way an OpenTelemetry Collector forwards them.

#include "connectors/observability/OtlpCodec.h"

#include <QByteArray>

#include <random>
#include <vector>

namespace Breaker::Bench {

struct TrafficStats
{
    qint64 spans = 0;
    qint64 traces = 0;
    qint64 spanEvents = 0;     // approval.requested / approval.decided span events
    qint64 bytes = 0;          // encoded bodies
    qint64 requests = 0;
};

class GenAiTraffic
{
public:
    explicit GenAiTraffic(quint64 seed, int spansPerBatch = 512);

    // Trace and span ids from a counter instead of random (an experiment: how much do random
    // ids cost the Store's (trace_id, span_id) and run-id indexes?).
    void setSequentialIds(bool on) { m_sequentialIds = on; }

    // The next request's spans (grouped by agent service), or an empty vector when `total`
    // spans have been produced. The last trace is cut short so that the total is exact; it
    // still ends with its root.
    std::vector<Otlp::OutResourceSpans> nextRequest(qint64 total);
    const TrafficStats &stats() const { return m_stats; }
    void countBytes(qint64 n) { m_stats.bytes += n; ++m_stats.requests; }

private:
    struct Pending
    {
        int agent = 0;
        Otlp::OutSpan span;
    };
    void makeTrace(int spans);
    QByteArray token(int chars);
    QByteArray hex(int chars);

    template<size_t N>
    void newId(std::array<uint8_t, N> &id);

    std::mt19937_64 m_rng;
    bool m_sequentialIds = false;
    quint64 m_idCounter = 0;
    int m_spansPerBatch;
    qint64 m_produced = 0;     // spans generated into m_queue so far
    qint64 m_clockNs = 1795665566992000000LL;
    std::vector<Pending> m_queue;
    size_t m_queueHead = 0;
    TrafficStats m_stats;
};

} // namespace Breaker::Bench
