// libFuzzer target: Breaker::Otlp::decodeProtobuf on arbitrary bytes.
#include "tests/fuzz/FuzzChecks.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView body(reinterpret_cast<const char *>(data), qsizetype(size));
    const Breaker::Otlp::DecodeResult result = Breaker::Otlp::decodeProtobuf(body);
    Breaker::Fuzz::checkResult(result);
    Breaker::Fuzz::checkRoundTrip(result);
    return 0;
}
