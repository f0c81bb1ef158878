// libFuzzer target: the Cloudflare Agents frame decoder (connectors/runtime/CloudflareCodec) on
// arbitrary bytes. Invariants: never crash; an error says something; a frame's state maps to a
// status with the word it came from; an approval found in chat messages names its tool call;
// every close code has words.
#include "connectors/runtime/CloudflareCodec.h"

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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace Breaker;
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    auto frame = Cloudflare::parseFrame(bytes);
    if (!frame.ok()) {
        check(!frame.error().message.isEmpty(), "frame error without words");
    } else {
        QByteArray raw;
        const RunStatus status = Cloudflare::statusFromState(frame->state, &raw);
        check(status == RunStatus::Unknown || !raw.isEmpty(), "a status without the word it came from");
        QString toolCallId;
        const auto approval = Cloudflare::pendingApproval(frame->messages, &toolCallId);
        if (approval)
            check(!toolCallId.isEmpty(), "an approval without its tool call id");
    }
    if (size >= 2) {
        const int code = int(data[0]) << 8 | int(data[1]);
        check(!Cloudflare::closeCodeName(code).isEmpty(), "a close code without words");
        check(!Cloudflare::describeClose(code, QString::fromUtf8(bytes.mid(2, 64))).isEmpty(), "an empty close");
    }
    return 0;
}
