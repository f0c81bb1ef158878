#include "connectors/runtime/RuntimeConnector.h"

namespace Breaker {

void RuntimeConnector::startRunWithMessage(const QString &, const QJsonObject &, RuntimeCallback<RuntimeRun> done)
{
    // Answered later, as every call is: a caller may still be setting up when it is called.
    const QString provider = QString::fromUtf8(providerName());
    QMetaObject::invokeMethod(
        this,
        [done = std::move(done), provider, kind = QString::fromUtf8(kind())] {
            done(makeError(Error::Kind::Invalid,
                           QStringLiteral("%1 (%2) cannot be asked to start a run").arg(provider, kind), provider));
        },
        Qt::QueuedConnection);
}

} // namespace Breaker
