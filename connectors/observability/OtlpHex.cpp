#include "connectors/observability/OtlpCodec.h"

namespace Breaker::Otlp {

namespace {
template<size_t N>
QByteArray hexOf(const std::array<uint8_t, N> &id)
{
    static constexpr char digits[] = "0123456789abcdef";
    QByteArray out(int(N * 2), Qt::Uninitialized);
    char *p = out.data();
    for (uint8_t b : id) {
        *p++ = digits[b >> 4];
        *p++ = digits[b & 0xf];
    }
    return out;
}
} // namespace

QByteArray toHex(const TraceId &id) { return hexOf(id); }
QByteArray toHex(const SpanId &id) { return hexOf(id); }

} // namespace Breaker::Otlp
