// libFuzzer target: the Store's event blocks (models/EventBlock), read back from a database file
// that may have been damaged. Invariants: never crash or read past the end; the keys read alone
// are the events' keys; what decodes encodes again to a body that decodes to the same events.
#include "models/EventBlock.h"

#include <cstdio>
#include <cstdlib>

using namespace Breaker;

namespace {

[[noreturn]] void fail(const char *what, size_t index)
{
    std::fprintf(stderr, "%s (event %zu)\n", what, index);
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView body(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto first = EventBlock::decode(body, "run", 5);
    if (!first.ok())
        return 0;
    // The writer's key reader agrees with the events.
    const auto keys = EventBlock::dedupeKeys(body, "run", 5);
    if (!keys.ok())
        fail("a body that decodes has no keys", 0);
    std::vector<QByteArray> expected;
    for (const RunEvent &e : *first) {
        if (QByteArray key = EventBlock::dedupeKey(e); !key.isEmpty())
            expected.push_back(std::move(key));
    }
    if (*keys != expected)
        fail("the keys read alone differ from the events' keys", keys->size());
    QByteArray again;
    if (first->empty())
        again.append(EventBlock::kFormat);
    for (const RunEvent &e : *first)
        EventBlock::append(again, e, int(e.id - EventBlock::eventId(5, 0)));
    const auto second = EventBlock::decode(again, "run", 5);
    if (!second.ok())
        fail("a body this code wrote does not decode", 0);
    if (second->size() != first->size())
        fail("the event count changed", second->size());
    for (size_t i = 0; i < first->size(); ++i) {
        const RunEvent &a = (*first)[i];
        const RunEvent &b = (*second)[i];
        const QByteArray attributes = a.attributesJson.isEmpty() ? QByteArray("{}") : a.attributesJson;
        if (a.id != b.id || a.traceId != b.traceId || a.spanId != b.spanId || a.parentSpanId != b.parentSpanId
            || a.kind != b.kind || a.name != b.name || a.startNs != b.startNs || a.endNs != b.endNs
            || a.statusCode != b.statusCode || attributes != b.attributesJson || a.inputTokens != b.inputTokens
            || a.outputTokens != b.outputTokens || a.costMicros != b.costMicros) {
            fail("an event changed on the way round", i);
        }
        if (EventBlock::dedupeKey(a) != EventBlock::dedupeKey(b))
            fail("the dedupe key changed", i);
    }
    return 0;
}
