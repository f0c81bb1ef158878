#include "connectors/observability/SpanBuilder.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <string_view>

namespace Breaker::Otlp {

namespace {

using F = SpanBuilder::Field;

struct KeyEntry
{
    std::string_view key;
    uint8_t field; // SpanBuilder::Field, or NoField
    uint8_t rank;  // a higher rank wins; deprecated names rank lower than their successors
    bool redact;   // opt-in content that may carry secrets (see SpanBuilder.h)
};

// Attributes lifted into Span fields (models/Span.h names each one), and redacted content.
constexpr KeyEntry kKeys[] = {
    {"gen_ai.operation.name", F::OperationName, 1, false},
    {"gen_ai.provider.name", F::ProviderName, 2, false},
    {"gen_ai.system", F::ProviderName, 1, false}, // deprecated (semconv <= 1.36)
    {"gen_ai.request.model", F::RequestModel, 1, false},
    {"gen_ai.response.model", F::ResponseModel, 1, false},
    {"gen_ai.agent.name", F::AgentName, 1, false},
    {"gen_ai.agent.id", F::AgentId, 1, false},
    {"gen_ai.conversation.id", F::ConversationId, 1, false},
    {"gen_ai.workflow.name", F::WorkflowName, 1, false},
    {"gen_ai.tool.name", F::ToolName, 1, false},
    {"gen_ai.tool.call.id", F::ToolCallId, 1, false},
    {"gen_ai.data_source.id", F::DataSourceId, 3, false},
    {"db.collection.name", F::DataSourceId, 2, false},
    {"db.namespace", F::DataSourceId, 1, false},
    {"db.system.name", F::DbSystem, 2, false},
    {"db.system", F::DbSystem, 1, false}, // deprecated
    {"error.type", F::ErrorType, 1, false},
    {"enduser.id", F::Principal, 1, false},
    {"breaker.delegation", F::DelegationJson, 1, false},
    {"a2a.task.id", F::A2aTaskId, 1, false},
    {"a2a.task.state", F::A2aTaskState, 1, false},
    {"langgraph.thread_id", F::LanggraphThreadId, 1, false},
    {"langgraph.run_id", F::LanggraphRunId, 1, false},
    {"breaker.policy.decision", F::PolicyDecision, 1, false},
    {"breaker.policy.reason", F::PolicyReason, 1, false},
    {"breaker.spend.currency", F::SpendCurrency, 1, false},
    {"service.name", F::ServiceName, 1, false}, // resource only
    {"gen_ai.usage.input_tokens", F::InputTokens, 2, false},
    {"gen_ai.usage.prompt_tokens", F::InputTokens, 1, false}, // deprecated
    {"gen_ai.usage.output_tokens", F::OutputTokens, 2, false},
    {"gen_ai.usage.completion_tokens", F::OutputTokens, 1, false}, // deprecated
    {"breaker.spend.amount_minor", F::SpendMinor, 1, false},
    {"gen_ai.tool.call.arguments", F::NoField, 0, true},
    {"gen_ai.tool.call.result", F::NoField, 0, true},
    {"gen_ai.input.messages", F::NoField, 0, true},
    {"gen_ai.output.messages", F::NoField, 0, true},
    {"gen_ai.system_instructions", F::NoField, 0, true},
    {"gen_ai.retrieval.query.text", F::NoField, 0, true},
    {"gen_ai.retrieval.documents", F::NoField, 0, true},
    {"gen_ai.prompt", F::NoField, 0, true},     // deprecated content attribute
    {"gen_ai.completion", F::NoField, 0, true}, // deprecated content attribute
};

// kKeys indexed by key length, so that a lookup compares at most a few candidates.
constexpr size_t kMaxKeyLength = 40;
constexpr size_t kMaxPerLength = 8;
struct KeysByLength
{
    uint8_t count[kMaxKeyLength + 1];
    uint8_t index[kMaxKeyLength + 1][kMaxPerLength];
};
constexpr KeysByLength buildKeysByLength()
{
    KeysByLength t{};
    for (size_t i = 0; i < std::size(kKeys); ++i) {
        const size_t len = kKeys[i].key.size();
        t.index[len][t.count[len]++] = uint8_t(i); // out of bounds here is a compile error
    }
    return t;
}
constexpr KeysByLength kKeysByLength = buildKeysByLength();

const KeyEntry *findKey(QByteArrayView key)
{
    const size_t len = size_t(key.size());
    if (len > kMaxKeyLength)
        return nullptr;
    for (size_t j = 0; j < kKeysByLength.count[len]; ++j) {
        const KeyEntry &e = kKeys[kKeysByLength.index[len][j]];
        if (std::memcmp(e.key.data(), key.data(), len) == 0)
            return &e;
    }
    return nullptr;
}

constexpr char kRedacted[] = "\"[redacted]\"";

QByteArray Span::*const kStringMembers[F::FirstIntField] = {
    &Span::operationName, &Span::providerName,      &Span::requestModel,   &Span::responseModel,
    &Span::agentName,     &Span::agentId,           &Span::conversationId, &Span::workflowName,
    &Span::toolName,      &Span::toolCallId,        &Span::dataSourceId,   &Span::dbSystem,
    &Span::errorType,     &Span::principal,         &Span::delegationJson, &Span::a2aTaskId,
    &Span::a2aTaskState,  &Span::langgraphThreadId, &Span::langgraphRunId, &Span::policyDecision,
    &Span::policyReason,  &Span::spendCurrency,     &Span::serviceName,
};
qint64 Span::*const kIntMembers[F::FieldCount - F::FirstIntField]
    = {&Span::inputTokens, &Span::outputTokens, &Span::spendMinor};

// Strict decimal int64 ("-12", "120"); used when a count arrives as a string.
bool parseInt64(QByteArrayView s, qint64 *out)
{
    const char *b = s.data();
    const char *e = b + s.size();
    if (b != e && *b == '+')
        ++b;
    auto [ptr, ec] = std::from_chars(b, e, *out);
    return ec == std::errc() && ptr == e && b != e;
}

constexpr uint8_t kEscape[256] = {
    // 0x00-0x1f: control characters; 'u' means \u00XX, else the short escape letter
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f',  'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',  'u', 'u', 'u',
    0,   0,   '"', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0, // 0x20-0x2f
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\', 0,   0,   0, // 0x5c backslash
    // 0x60-0xff: nothing to escape (UTF-8 passes through)
};

// True when one of the 8 bytes of w is < 0x20, '"' or '\\' (SWAR: no false negatives, and
// exact for "is there any").
inline bool wordNeedsEscape(uint64_t w)
{
    constexpr uint64_t ones = 0x0101010101010101ull;
    constexpr uint64_t highs = 0x8080808080808080ull;
    const uint64_t control = (w - 0x20 * ones) & ~w;
    const uint64_t q = w ^ ('"' * ones);
    const uint64_t quote = (q - ones) & ~q;
    const uint64_t bs = w ^ ('\\' * ones);
    const uint64_t backslash = (bs - ones) & ~bs;
    return ((control | quote | backslash) & highs) != 0;
}

bool needsEscape(const char *p, size_t n)
{
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            if (wordNeedsEscape(w))
                return true;
        }
        if (i == n)
            return false;
        uint64_t w; // the last 8 bytes, overlapping what was checked already
        std::memcpy(&w, p + n - 8, 8);
        return wordNeedsEscape(w);
    }
    uint64_t w = 0x6161616161616161ull; // short string: pad with 'a'
    for (size_t i = 0; i < n; ++i)
        reinterpret_cast<unsigned char *>(&w)[i] = uint8_t(p[i]);
    return wordNeedsEscape(w);
}

// Works for QByteArray and std::string alike (append(const char *, n), push_back(char)).
template<typename Out> void appendJsonStringTo(Out &out, const char *p, size_t n)
{
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    if (!needsEscape(p, n)) { // the common case: one copy
        out.append(p, n);
        out.push_back('"');
        return;
    }
    const char *end = p + n;
    const char *run = p;
    for (; p < end; ++p) {
        const uint8_t e = kEscape[uint8_t(*p)];
        if (e == 0)
            continue;
        out.append(run, p - run);
        if (e == 'u') {
            const char esc[6]
                = {'\\', 'u', '0', '0', hex[uint8_t(*p) >> 4], hex[uint8_t(*p) & 0xf]};
            out.append(esc, 6);
        } else {
            const char esc[2] = {'\\', char(e)};
            out.append(esc, 2);
        }
        run = p + 1;
    }
    out.append(run, end - run);
    out.push_back('"');
}

template<typename Out> void appendBase64To(Out &out, const uint8_t *p, size_t n)
{
    static constexpr char alphabet[]
        = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        const uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8 | p[i + 2];
        const char quad[4] = {
            alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
        out.append(quad, 4);
    }
    if (i < n) {
        uint32_t v = uint32_t(p[i]) << 16;
        if (i + 1 < n)
            v |= uint32_t(p[i + 1]) << 8;
        const char quad[4] = {alphabet[v >> 18],
                              alphabet[(v >> 12) & 63],
                              i + 1 < n ? alphabet[(v >> 6) & 63] : '=',
                              '='};
        out.append(quad, 4);
    }
}

template<typename Out, typename Int> void appendIntTo(Out &out, Int v)
{
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr - buf);
}

template<typename Out> void appendJsonDoubleTo(Out &out, double v)
{
    if (std::isnan(v)) {
        out.append("\"NaN\"", 5);
    } else if (std::isinf(v)) {
        if (v > 0)
            out.append("\"Infinity\"", 10);
        else
            out.append("\"-Infinity\"", 11);
    } else {
        char buf[32];
        auto res = std::to_chars(buf, buf + sizeof buf, v);
        // The shortest form of an integral value past 64 bits is digits alone
        // ("-295147905179352825856"): valid JSON, but parsers that keep integers in 64 bits refuse
        // it (simdjson: BIGINT_ERROR; fuzz_otlp_proto found it). With an exponent every parser
        // reads it as the double it is.
        if (std::fabs(v) >= 9223372036854775808.0 && std::find_if(buf, res.ptr, [](char c) {
                                                          return c == '.' || c == 'e';
                                                      }) == res.ptr)
            res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
        out.append(buf, res.ptr - buf);
    }
}

void appendJsonString(std::string &out, QByteArrayView utf8)
{
    appendJsonStringTo(out, utf8.data(), size_t(utf8.size()));
}

QByteArray toQByteArray(const std::string &s)
{
    return QByteArray(s.data(), qsizetype(s.size()));
}

} // namespace

void appendJsonString(QByteArray &out, QByteArrayView utf8)
{
    appendJsonStringTo(out, utf8.data(), size_t(utf8.size()));
}

void appendBase64(QByteArray &out, QByteArrayView raw)
{
    appendBase64To(out, reinterpret_cast<const uint8_t *>(raw.data()), size_t(raw.size()));
}

void appendInt(QByteArray &out, qint64 v)
{
    appendIntTo(out, v);
}
void appendUInt(QByteArray &out, quint64 v)
{
    appendIntTo(out, v);
}
void appendJsonDouble(QByteArray &out, double v)
{
    appendJsonDoubleTo(out, v);
}

SpanBuilder::SpanBuilder(DecodeResult &result)
    : m_result(result)
{
    m_attrJson.reserve(2048);
    m_eventJson.reserve(256);
}

// --- ResourceSpans ----------------------------------------------------------------------

void SpanBuilder::beginResourceSpans()
{
    m_resource = Span{};
    m_resourceRank.fill(0);
    m_spanFieldMasks.clear();
    m_resourceDefect.clear();
    m_resourceFirst = m_result.spans.size();
    m_target = Target::None;
}

void SpanBuilder::rejectResource(const QByteArray &reason)
{
    if (m_resourceDefect.isEmpty())
        m_resourceDefect = reason;
}

void SpanBuilder::endResourceSpans()
{
    auto &spans = m_result.spans;
    if (!m_resourceDefect.isEmpty()) {
        const qint64 n = qint64(spans.size() - m_resourceFirst);
        spans.erase(spans.begin() + qsizetype(m_resourceFirst), spans.end());
        if (n > 0)
            addRejection(QByteArrayLiteral("resource: ") + m_resourceDefect, n);
    } else {
        for (size_t i = m_resourceFirst; i < spans.size(); ++i) {
            Span &s = spans[i];
            const uint32_t setBySpan = m_spanFieldMasks[i - m_resourceFirst];
            for (int f = 0; f < FieldCount; ++f) {
                if (m_resourceRank[f] == 0 || (setBySpan & (1u << f)))
                    continue;
                if (f < FirstIntField)
                    s.*kStringMembers[f] = m_resource.*kStringMembers[f];
                else
                    s.*kIntMembers[f - FirstIntField] = m_resource.*kIntMembers[f - FirstIntField];
            }
        }
    }
    m_spanFieldMasks.clear();
    m_resourceFirst = spans.size();
    m_resourceDefect.clear();
}

// --- Span -------------------------------------------------------------------------------

void SpanBuilder::beginSpan()
{
    m_span = Span{};
    m_spanRank.fill(0);
    ++m_spanIndex;
    m_spanRejected = false;
    m_spanRejectReason.clear();
    m_attrJson.clear();
    m_attrJson.push_back('{');
    m_spanAttrCount = 0;
    m_target = Target::None;
}

void SpanBuilder::rejectSpan(const QByteArray &reason)
{
    if (m_spanRejected)
        return;
    m_spanRejected = true;
    m_spanRejectReason = reason;
}

void SpanBuilder::rejectValue(const QByteArray &reason)
{
    if (m_target == Target::Resource)
        rejectResource(reason);
    else
        rejectSpan(reason);
}

void SpanBuilder::finishSpan()
{
    m_target = Target::None;
    static constexpr TraceId zeroTrace{};
    static constexpr SpanId zeroSpan{};
    if (!m_spanRejected) {
        if (m_span.traceId == zeroTrace)
            rejectSpan("traceId is missing or all zero");
        else if (m_span.spanId == zeroSpan)
            rejectSpan("spanId is missing or all zero");
        else if (m_span.endNs < m_span.startNs)
            rejectSpan("endTimeUnixNano is before startTimeUnixNano");
    }
    if (m_spanRejected) {
        QByteArray reason = QByteArrayLiteral("span #") + QByteArray::number(m_spanIndex);
        if (m_span.spanId != zeroSpan)
            reason += " (" + toHex(m_span.spanId) + ')';
        reason += ": " + m_spanRejectReason;
        addRejection(reason, 1);
        return;
    }
    m_span.hasParent = m_span.parentSpanId != zeroSpan;
    m_attrJson.push_back('}');
    m_span.attributesJson = toQByteArray(m_attrJson);
    uint32_t mask = 0;
    for (int f = 0; f < FieldCount; ++f) {
        if (m_spanRank[f] != 0)
            mask |= 1u << f;
    }
    m_spanFieldMasks.push_back(mask);
    m_result.spans.push_back(std::move(m_span));
}

void SpanBuilder::addRejection(const QByteArray &reason, qint64 count)
{
    constexpr int maxReasons = 3;
    m_result.rejectedSpans += count;
    if (m_rejectReasons < maxReasons) {
        if (!m_rejectText.isEmpty())
            m_rejectText += "; ";
        m_rejectText += reason;
        ++m_rejectReasons;
    } else {
        m_rejectOmitted += count;
    }
}

void SpanBuilder::finishRequest()
{
    QByteArray text = m_rejectText;
    if (m_rejectOmitted > 0)
        text += "; and " + QByteArray::number(m_rejectOmitted) + " more rejected";
    m_result.rejectMessage = QString::fromUtf8(text);
}

void SpanBuilder::failRequest(const QString &error)
{
    m_result.spans.clear();
    m_result.rejectedSpans = 0;
    m_result.rejectMessage.clear();
    m_result.error = error;
}

// --- Events -----------------------------------------------------------------------------

void SpanBuilder::beginEvent()
{
    m_eventJson.clear();
    m_eventJson.push_back('{');
    m_eventAttrCount = 0;
    m_target = Target::None;
}

void SpanBuilder::endEvent(QByteArrayView name, qint64 timeNs)
{
    m_target = Target::None;
    if (m_spanRejected)
        return;
    m_eventJson.push_back('}');
    SpanEvent ev;
    ev.name = name.toByteArray();
    ev.timeNs = timeNs;
    ev.attributesJson = toQByteArray(m_eventJson);
    m_span.events.push_back(std::move(ev));
}

// --- Attributes -------------------------------------------------------------------------

void SpanBuilder::beginSpanAttribute(QByteArrayView key)
{
    beginAttribute(Target::Span, key);
}
void SpanBuilder::beginResourceAttribute(QByteArrayView key)
{
    beginAttribute(Target::Resource, key);
}
void SpanBuilder::beginEventAttribute(QByteArrayView key)
{
    beginAttribute(Target::Event, key);
}

void SpanBuilder::beginAttribute(Target target, QByteArrayView key)
{
    m_target = target;
    m_depth = 0;
    m_afterKey = false;
    m_suppress = 0;
    m_out = nullptr;
    m_field = NoField;
    m_rank = 0;
    m_delegation = false;
    if (target != Target::Resource && m_spanRejected) {
        m_target = Target::None;
        return;
    }
    const KeyEntry *entry = findKey(key);
    // service.name describes the process: read from the resource only. Events lift nothing.
    if (entry && entry->field != NoField && target != Target::Event
        && !(target == Target::Span && entry->field == ServiceName)) {
        m_field = entry->field;
        m_rank = entry->rank;
        m_delegation = entry->field == DelegationJson;
    }
    if (target == Target::Resource)
        return;
    std::string &out = target == Target::Span ? m_attrJson : m_eventJson;
    int &count = target == Target::Span ? m_spanAttrCount : m_eventAttrCount;
    if (count++ > 0)
        out.push_back(',');
    if (entry) { // a known key: plain ASCII, nothing to escape
        out.push_back('"');
        out.append(key.data(), size_t(key.size()));
        out.append("\":", 2);
    } else {
        appendJsonString(out, key);
        out.push_back(':');
    }
    m_out = &out;
    m_afterKey = true;
    if (entry && entry->redact) {
        out.append(kRedacted, sizeof kRedacted - 1);
        m_suppress = 1;
        m_field = NoField;
        m_delegation = false;
    }
}

void SpanBuilder::endAttribute()
{
    // An attribute with no value call at all is written as null, to keep the JSON valid.
    if (m_out && m_afterKey && m_suppress == 0 && m_target != Target::None)
        m_out->append("null", 4);
    m_target = Target::None;
    m_out = nullptr;
    m_afterKey = false;
    m_depth = 0;
}

bool SpanBuilder::accept()
{
    if (m_target == Target::None)
        return false;
    if (m_target != Target::Resource && m_spanRejected) {
        m_target = Target::None;
        m_out = nullptr;
        return false;
    }
    return true;
}

void SpanBuilder::writePrefix()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (m_depth > 0 && m_count[m_depth]++ > 0)
        m_out->push_back(',');
}

void SpanBuilder::liftString(QByteArrayView utf8)
{
    if (m_field == NoField)
        return;
    Span &s = m_target == Target::Resource ? m_resource : m_span;
    auto &ranks = m_target == Target::Resource ? m_resourceRank : m_spanRank;
    if (m_rank < ranks[m_field])
        return;
    if (m_field >= FirstIntField) {
        qint64 v = 0;
        if (parseInt64(utf8, &v)) {
            s.*kIntMembers[m_field - FirstIntField] = v;
            ranks[m_field] = m_rank;
        }
        return;
    }
    if (m_field == DelegationJson) {
        s.delegationJson = delegationFromString(utf8);
        ranks[m_field] = m_rank;
        return;
    }
    s.*kStringMembers[m_field] = utf8.toByteArray();
    ranks[m_field] = m_rank;
}

void SpanBuilder::liftInt(qint64 v)
{
    if (m_field == NoField)
        return;
    Span &s = m_target == Target::Resource ? m_resource : m_span;
    auto &ranks = m_target == Target::Resource ? m_resourceRank : m_spanRank;
    if (m_rank < ranks[m_field])
        return;
    if (m_field >= FirstIntField) {
        s.*kIntMembers[m_field - FirstIntField] = v;
    } else if (m_field == DelegationJson) {
        QByteArray json("[\"");
        appendInt(json, v);
        json.append("\"]");
        s.delegationJson = json;
    } else {
        QByteArray text;
        appendInt(text, v);
        s.*kStringMembers[m_field] = text;
    }
    ranks[m_field] = m_rank;
}

void SpanBuilder::stringValue(QByteArrayView utf8)
{
    if (!accept())
        return;
    if (m_depth == 0)
        liftString(utf8);
    else if (m_delegation && m_depth == 1)
        appendDelegationItem(utf8);
    if (writing()) {
        writePrefix();
        appendJsonString(*m_out, utf8);
    }
}

void SpanBuilder::boolValue(bool v)
{
    if (!accept())
        return;
    if (writing()) {
        writePrefix();
        if (v)
            m_out->append("true", 4);
        else
            m_out->append("false", 5);
    }
}

void SpanBuilder::intValue(qint64 v)
{
    if (!accept())
        return;
    if (m_depth == 0) {
        liftInt(v);
    } else if (m_delegation && m_depth == 1) {
        QByteArray text;
        appendInt(text, v);
        appendDelegationItem(text);
    }
    if (writing()) {
        writePrefix();
        appendIntTo(*m_out, v);
    }
}

void SpanBuilder::doubleValue(double v)
{
    if (!accept())
        return;
    // Some SDKs send counts as doubles (120.0); take them when they are exact integers.
    if (m_depth == 0 && m_field >= FirstIntField && m_field != NoField && std::isfinite(v)
        && v == std::trunc(v) && std::fabs(v) < 9.0e15) {
        liftInt(qint64(v));
    }
    if (writing()) {
        writePrefix();
        appendJsonDoubleTo(*m_out, v);
    }
}

void SpanBuilder::bytesValue(QByteArrayView raw)
{
    if (!accept())
        return;
    if (writing()) {
        writePrefix();
        m_out->push_back('"');
        appendBase64To(*m_out, reinterpret_cast<const uint8_t *>(raw.data()), size_t(raw.size()));
        m_out->push_back('"');
    }
}

void SpanBuilder::base64Value(QByteArrayView base64)
{
    if (!accept())
        return;
    if (writing()) {
        writePrefix();
        appendJsonString(*m_out, base64);
    }
}

void SpanBuilder::emptyValue()
{
    if (!accept())
        return;
    if (writing()) {
        writePrefix();
        m_out->append("null", 4);
    }
}

void SpanBuilder::beginArray()
{
    if (!accept())
        return;
    if (m_depth >= MaxValueDepth) {
        rejectValue("attribute value nested too deeply");
        return;
    }
    if (writing()) {
        writePrefix();
        m_out->push_back('[');
    }
    if (m_delegation && m_depth == 0) {
        m_delegationBuf.clear();
        m_delegationBuf.push_back('[');
        m_delegationItems = 0;
    }
    ++m_depth;
    m_count[m_depth] = 0;
}

void SpanBuilder::endArray()
{
    if (!accept() || m_depth == 0)
        return;
    if (writing())
        m_out->push_back(']');
    --m_depth;
    if (m_delegation && m_depth == 0) {
        m_delegationBuf.push_back(']');
        Span &s = m_target == Target::Resource ? m_resource : m_span;
        auto &ranks = m_target == Target::Resource ? m_resourceRank : m_spanRank;
        if (m_rank >= ranks[DelegationJson]) {
            s.delegationJson = toQByteArray(m_delegationBuf);
            ranks[DelegationJson] = m_rank;
        }
    }
}

void SpanBuilder::beginKvList()
{
    if (!accept())
        return;
    if (m_depth >= MaxValueDepth) {
        rejectValue("attribute value nested too deeply");
        return;
    }
    if (writing()) {
        writePrefix();
        m_out->push_back('{');
    }
    ++m_depth;
    m_count[m_depth] = 0;
}

void SpanBuilder::kvListKey(QByteArrayView key)
{
    if (!accept() || m_depth == 0)
        return;
    if (writing()) {
        if (m_count[m_depth]++ > 0)
            m_out->push_back(',');
        appendJsonString(*m_out, key);
        m_out->push_back(':');
        m_afterKey = true;
    }
}

void SpanBuilder::endKvList()
{
    if (!accept() || m_depth == 0)
        return;
    if (writing())
        m_out->push_back('}');
    --m_depth;
}

void SpanBuilder::appendDelegationItem(QByteArrayView actor)
{
    if (m_delegationItems++ > 0)
        m_delegationBuf.push_back(',');
    appendJsonString(m_delegationBuf, actor);
}

// breaker.delegation sent as one string: either a JSON array of strings, or actor ids
// separated by commas ("user:alice,agent:planner").
QByteArray SpanBuilder::delegationFromString(QByteArrayView text)
{
    QByteArray out("[");
    int items = 0;
    const QByteArrayView trimmed = text.trimmed();
    if (trimmed.startsWith('[')) {
        simdjson::ondemand::parser parser;
        simdjson::padded_string padded(trimmed.data(), size_t(trimmed.size()));
        simdjson::ondemand::document doc;
        simdjson::ondemand::array arr;
        bool ok = !parser.iterate(padded).get(doc) && !doc.get_array().get(arr);
        if (ok) {
            for (auto item : arr) {
                std::string_view s;
                if (item.get_string().get(s)) {
                    ok = false;
                    break;
                }
                if (items++ > 0)
                    out.append(',');
                appendJsonString(out, QByteArrayView(s.data(), qsizetype(s.size())));
            }
            ok = ok && doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
        }
        if (ok)
            return out + ']';
        out.truncate(1);
        items = 0;
    }
    qsizetype from = 0;
    while (from <= trimmed.size()) {
        qsizetype comma = trimmed.indexOf(',', from);
        if (comma < 0)
            comma = trimmed.size();
        const QByteArrayView part = trimmed.sliced(from, comma - from).trimmed();
        from = comma + 1;
        if (part.isEmpty())
            continue;
        if (items++ > 0)
            out.append(',');
        appendJsonString(out, part);
    }
    return out + ']';
}

} // namespace Breaker::Otlp
