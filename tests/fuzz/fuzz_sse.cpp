// libFuzzer target: the SSE framer (connectors/runtime/SseParser). Invariants: never crash,
// and the same bytes give the same events however they are split into reads.
#include "connectors/runtime/SseParser.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    // The first byte picks the read size for the split feed.
    const qsizetype step = qsizetype(data[0] % 16) + 1;
    const QByteArrayView bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));

    Breaker::SseParser whole(4096);
    const std::vector<Breaker::SseEvent> once = whole.feed(bytes);
    whole.finish();

    Breaker::SseParser split(4096);
    std::vector<Breaker::SseEvent> pieces;
    for (qsizetype i = 0; i < bytes.size(); i += step) {
        auto events = split.feed(bytes.sliced(i, std::min(step, bytes.size() - i)));
        pieces.insert(pieces.end(), events.begin(), events.end());
    }
    split.finish();

    if (whole.failed() != split.failed()) {
        std::fprintf(stderr, "failed state differs between whole and split feeds\n");
        std::abort();
    }
    if (!whole.failed()) {
        if (once.size() != pieces.size()) {
            std::fprintf(stderr, "event count differs: %zu whole, %zu split\n", once.size(), pieces.size());
            std::abort();
        }
        for (size_t i = 0; i < once.size(); ++i) {
            if (once[i].data != pieces[i].data || once[i].type != pieces[i].type || once[i].id != pieces[i].id) {
                std::fprintf(stderr, "event %zu differs between whole and split feeds\n", i);
                std::abort();
            }
            if (once[i].data.size() > 4096) {
                std::fprintf(stderr, "event over the limit was dispatched\n");
                std::abort();
            }
        }
    }
    return 0;
}
