#pragma once

#include "models/Result.h"

#include <QEventLoop>
#include <QTimer>

#include <functional>
#include <optional>

namespace Breaker::Ctl {

// Runs an asynchronous call (one that answers through a callback exactly once) to completion
// on the command line's event loop, or gives up after timeoutMs with a Timeout error.
template<typename T>
Result<T> waitFor(const std::function<void(std::function<void(const Result<T> &)>)> &call, int timeoutMs,
                  const QString &what)
{
    std::optional<Result<T>> out;
    QEventLoop loop;
    call([&out, &loop](const Result<T> &r) {
        if (!out) {
            out = r;
            loop.quit();
        }
    });
    if (!out) {
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
        loop.exec();
    }
    if (!out)
        return makeError(Error::Kind::Timeout, QStringLiteral("%1 did not finish within %2 s").arg(what).arg(timeoutMs / 1000));
    return *out;
}

} // namespace Breaker::Ctl
