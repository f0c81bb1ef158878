#include "bench/ingest/GenAiTraffic.h"

#include <algorithm>
#include <array>

namespace Breaker::Bench {

namespace {

using Otlp::OutAttribute;
using Otlp::OutEvent;
using Otlp::OutResourceSpans;
using Otlp::OutSpan;

struct Agent
{
    const char *name;
    const char *id;
    const char *description;
    const char *service;
    const char *provider;
    const char *model;
    const char *responseModel;
    const char *host;
    std::array<const char *, 4> tools;
    std::array<const char *, 2> dataSources;
};

const std::array<Agent, 6> kAgents = {{
    {"refund-agent", "agt_refund_7f3a", "Issues refunds for disputed charges", "refund-agent",
     "openai", "gpt-4o", "gpt-4o-2024-08-06", "api.openai.com",
     {"zendesk.get_ticket", "billing.lookup_charge", "stripe.refund", "zendesk.reply"},
     {"billing.charges", "zendesk.tickets"}},
    {"claims-agent", "agt_claims_19c2", "Triages insurance claims", "claims-agent", "anthropic",
     "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "api.anthropic.com",
     {"claims.get", "claims.update", "documents.ocr", "email.send"},
     {"claims.records", "policies.terms"}},
    {"support-copilot", "agt_support_0b11", "Answers customer questions", "support-copilot",
     "openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "api.openai.com",
     {"kb.search", "orders.lookup", "zendesk.reply", "crm.note"},
     {"kb.articles", "orders.orders"}},
    {"research-agent", "agt_research_5d4e", "Summarises market research", "research-agent",
     "gcp.gemini", "gemini-2.5-pro", "gemini-2.5-pro", "generativelanguage.googleapis.com",
     {"web.fetch", "web.search", "docs.write", "sheets.append"},
     {"research.corpus", "news.feed"}},
    {"payments-agent", "agt_payments_a8f0", "Moves money between ledgers", "payments-agent",
     "openai", "gpt-4.1", "gpt-4.1-2025-04-14", "api.openai.com",
     {"ledger.balance", "stripe.transfer", "fx.quote", "ledger.post"},
     {"ledger.accounts", "fx.rates"}},
    {"ops-agent", "agt_ops_3c77", "Handles on-call runbooks", "ops-agent", "anthropic",
     "claude-haiku-4-5", "claude-haiku-4-5-20251001", "api.anthropic.com",
     {"k8s.get_pods", "k8s.rollout_restart", "pagerduty.ack", "slack.post"},
     {"runbooks.pages", "metrics.prometheus"}},
}};

const std::array<const char *, 8> kPrincipals = {
    "user:ada@example.com",   "user:grace@example.com", "user:linus@example.com",
    "user:barbara@example.com", "user:ken@example.com", "user:margaret@example.com",
    "svc:nightly-batch",      "user:dennis@example.com"};

OutAttribute attr(const char *key, const QByteArray &value) { return {QByteArray(key), value}; }
OutAttribute attr(const char *key, const char *value) { return {QByteArray(key), QByteArray(value)}; }
OutAttribute attr(const char *key, qint64 value) { return {QByteArray(key), value}; }
OutAttribute attr(const char *key, double value) { return {QByteArray(key), value}; }
OutAttribute attr(const char *key, const QList<QByteArray> &value) { return {QByteArray(key), value}; }

std::vector<OutAttribute> resourceOf(const Agent &agent, int index)
{
    return {attr("service.name", agent.service),
            attr("service.version", "2.4.1"),
            attr("service.namespace", "agents"),
            attr("deployment.environment.name", "production"),
            attr("telemetry.sdk.language", "nodejs"),
            attr("telemetry.sdk.name", "opentelemetry"),
            attr("telemetry.sdk.version", "2.0.1"),
            attr("host.name", QByteArray("agent-worker-") + QByteArray::number(index)),
            attr("process.pid", qint64(4100 + index)),
            attr("process.runtime.name", "nodejs"),
            attr("process.runtime.version", "22.11.0")};
}

template<size_t N>
void randomId(std::mt19937_64 &rng, std::array<uint8_t, N> &id)
{
    do {
        for (auto &b : id)
            b = uint8_t(rng());
    } while (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; }));
}

} // namespace

GenAiTraffic::GenAiTraffic(quint64 seed, int spansPerBatch)
    : m_rng(seed)
    , m_spansPerBatch(spansPerBatch)
{
}

template<size_t N>
void GenAiTraffic::newId(std::array<uint8_t, N> &id)
{
    if (!m_sequentialIds) {
        randomId(m_rng, id);
        return;
    }
    // Big-endian counter: ids sort in creation order, so index inserts append.
    id.fill(0);
    const quint64 v = ++m_idCounter;
    for (size_t i = 0; i < 8; ++i)
        id[N - 1 - i] = uint8_t(v >> (8 * i));
}

QByteArray GenAiTraffic::token(int chars)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    QByteArray out(chars, Qt::Uninitialized);
    for (int i = 0; i < chars; ++i)
        out[i] = alphabet[m_rng() % 62];
    return out;
}

QByteArray GenAiTraffic::hex(int chars)
{
    static constexpr char digits[] = "0123456789abcdef";
    QByteArray out(chars, Qt::Uninitialized);
    for (int i = 0; i < chars; ++i)
        out[i] = digits[m_rng() & 15];
    return out;
}

void GenAiTraffic::makeTrace(int spans)
{
    const int agentIndex = int(m_rng() % kAgents.size());
    const Agent &agent = kAgents[size_t(agentIndex)];
    TraceId trace{};
    newId(trace);
    SpanId root{};
    newId(root);

    const qint64 rootStart = m_clockNs;
    m_clockNs += 2'000'000; // a new run every 2 ms of simulated time
    qint64 t = rootStart + 5'000'000;
    qint64 inputSum = 0;
    qint64 outputSum = 0;
    bool failed = false;

    for (int i = 1; i < spans; ++i) {
        OutSpan s;
        s.traceId = trace;
        newId(s.spanId);
        s.parentSpanId = root;
        s.hasParent = true;
        s.startNs = t;
        const unsigned kindPick = unsigned(m_rng() % 10);
        if (kindPick < 5) { // inference: the most common span
            const qint64 in = 200 + qint64(m_rng() % 12000);
            const qint64 out = 20 + qint64(m_rng() % 1500);
            inputSum += in;
            outputSum += out;
            s.name = QByteArray("chat ") + agent.model;
            s.kind = 3;
            s.endNs = t + 300'000'000 + qint64(m_rng() % 4'000'000'000ULL);
            s.attributes = {
                attr("gen_ai.operation.name", "chat"),
                attr("gen_ai.provider.name", agent.provider),
                attr("gen_ai.request.model", agent.model),
                attr("gen_ai.response.model", agent.responseModel),
                attr("gen_ai.response.id", "chatcmpl-" + token(29)),
                attr("gen_ai.usage.input_tokens", in),
                attr("gen_ai.usage.output_tokens", out),
                attr("gen_ai.response.finish_reasons",
                     QList<QByteArray>{m_rng() % 3 ? QByteArray("tool_calls") : QByteArray("stop")}),
                attr("gen_ai.request.temperature", 0.2),
                attr("gen_ai.request.max_tokens", qint64(4096)),
                attr("gen_ai.output.type", "text"),
                attr("server.address", agent.host),
                attr("server.port", qint64(443)),
            };
        } else if (kindPick < 8) { // tool call
            const char *tool = agent.tools[m_rng() % agent.tools.size()];
            s.name = QByteArray("execute_tool ") + tool;
            s.kind = 1;
            s.endNs = t + 20'000'000 + qint64(m_rng() % 800'000'000);
            s.attributes = {
                attr("gen_ai.operation.name", "execute_tool"),
                attr("gen_ai.tool.name", tool),
                attr("gen_ai.tool.call.id", "call_" + token(24)),
                attr("gen_ai.tool.type", "function"),
                attr("gen_ai.tool.call.arguments",
                     "{\"id\":\"" + hex(12) + "\",\"reason\":\"customer request\"}"),
                attr("http.request.method", "POST"),
                attr("http.response.status_code", qint64(200)),
                attr("url.full", QByteArray("https://internal.example.com/api/") + tool),
            };
            const unsigned extra = unsigned(m_rng() % 20);
            if (extra < 3) { // money moved
                s.attributes.push_back(attr("breaker.spend.amount_minor", qint64(m_rng() % 50000)));
                s.attributes.push_back(attr("breaker.spend.currency", "usd"));
            }
            if (extra == 3) { // an approval wait on the timeline
                OutEvent requested;
                requested.name = "approval.requested";
                requested.timeNs = t + 1'000'000;
                requested.attributes = {attr("approver", "user:grace@example.com"),
                                        attr("reason", "amount over threshold")};
                OutEvent decided;
                decided.name = "approval.decided";
                decided.timeNs = t + 15'000'000;
                decided.attributes = {attr("decision", "approved")};
                s.events = {requested, decided};
                m_stats.spanEvents += 2;
            }
            if (extra == 4) {
                s.attributes.push_back(attr("breaker.policy.decision", "deny"));
                s.attributes.push_back(attr("breaker.policy.reason", "tool not allowed for this principal"));
                s.statusCode = 2;
                s.statusMessage = "blocked by policy";
            } else if (extra == 5) {
                s.statusCode = 2;
                s.statusMessage = "upstream timeout";
                s.attributes.push_back(attr("error.type", "timeout"));
                failed = m_rng() % 4 == 0;
            }
        } else { // retrieval
            const char *source = agent.dataSources[m_rng() % agent.dataSources.size()];
            s.name = QByteArray("retrieval ") + source;
            s.kind = 3;
            s.endNs = t + 5'000'000 + qint64(m_rng() % 200'000'000);
            s.attributes = {
                attr("gen_ai.operation.name", "retrieval"),
                attr("gen_ai.data_source.id", source),
                attr("db.system.name", "postgresql"),
                attr("db.collection.name", QByteArray(source) + "_embeddings"),
                attr("db.namespace", "vectors"),
                attr("db.operation.name", "SELECT"),
                attr("db.query.summary", QByteArray("SELECT ") + source),
                attr("gen_ai.request.model", "text-embedding-3-large"),
                attr("gen_ai.usage.input_tokens", qint64(8 + m_rng() % 500)),
                attr("server.address", "pg-vectors.internal"),
                attr("server.port", qint64(5432)),
            };
        }
        t = s.endNs + 1'000'000;
        m_queue.push_back({agentIndex, std::move(s)});
    }

    OutSpan r;
    r.traceId = trace;
    r.spanId = root;
    r.name = QByteArray("invoke_agent ") + agent.name;
    r.kind = 2;
    r.startNs = rootStart;
    r.endNs = t + 2'000'000;
    if (failed) {
        r.statusCode = 2;
        r.statusMessage = "tool failed";
    }
    const QByteArray principal = kPrincipals[m_rng() % kPrincipals.size()];
    r.attributes = {
        attr("gen_ai.operation.name", "invoke_agent"),
        attr("gen_ai.agent.name", agent.name),
        attr("gen_ai.agent.id", agent.id),
        attr("gen_ai.agent.description", agent.description),
        attr("gen_ai.conversation.id", "conv_" + token(24)),
        attr("gen_ai.provider.name", agent.provider),
        attr("gen_ai.request.model", agent.model),
        attr("gen_ai.usage.input_tokens", inputSum),
        attr("gen_ai.usage.output_tokens", outputSum),
        attr("enduser.id", principal),
        attr("breaker.delegation", QList<QByteArray>{principal, QByteArray("agent:") + agent.name}),
    };
    m_queue.push_back({agentIndex, std::move(r)});
    ++m_stats.traces;
}

std::vector<OutResourceSpans> GenAiTraffic::nextRequest(qint64 total)
{
    // Generate whole traces until the request can be filled (or the total is reached).
    while (qint64(m_queue.size() - m_queueHead) < m_spansPerBatch && m_produced < total) {
        const int size = int(std::min<qint64>(5 + qint64(m_rng() % 16), total - m_produced));
        makeTrace(size);
        m_produced += size;
    }
    const size_t n = std::min<size_t>(size_t(m_spansPerBatch), m_queue.size() - m_queueHead);
    if (n == 0)
        return {};

    std::vector<OutResourceSpans> request;
    std::array<int, kAgents.size()> slot{};
    slot.fill(-1);
    for (size_t i = m_queueHead; i < m_queueHead + n; ++i) {
        Pending &p = m_queue[i];
        int &s = slot[size_t(p.agent)];
        if (s < 0) {
            s = int(request.size());
            OutResourceSpans rs;
            rs.resource = resourceOf(kAgents[size_t(p.agent)], p.agent);
            rs.scopeName = "@opentelemetry/instrumentation-genai";
            rs.scopeVersion = "0.5.0";
            request.push_back(std::move(rs));
        }
        request[size_t(s)].spans.push_back(std::move(p.span));
    }
    m_queueHead += n;
    if (m_queueHead > 4096) { // keep the queue small
        m_queue.erase(m_queue.begin(), m_queue.begin() + qsizetype(m_queueHead));
        m_queueHead = 0;
    }
    m_stats.spans += qint64(n);
    return request;
}

} // namespace Breaker::Bench
