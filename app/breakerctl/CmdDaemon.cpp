// breakerctl daemon: the engine without a window.
#include "app/breakerctl/CtlContext.h"

#include "app/services/Engine.h"
#include "app/services/SignalWatcher.h"
#include "models/Logging.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace Breaker::Ctl {

int runDaemon(Context &ctx)
{
    if (!ctx.args().isEmpty())
        return ctx.fail(UsageOrProfile, QStringLiteral("usage: breakerctl daemon [--profile FILE] [--db FILE] [--otlp-listen HOST:PORT]"));
    auto profile = ctx.loadProfile();
    if (!profile)
        return ctx.fail(UsageOrProfile, profile.error());

    Engine::Options options;
    options.dbPath = ctx.dbPath();
    options.profile = profile.value();
    options.profilePath = profile.value() ? QFileInfo(ctx.profilePath()).absoluteFilePath() : QString();
    const QString listen = ctx.parser().value(QStringLiteral("otlp-listen"));
    if (!listen.isEmpty()) {
        const int colon = listen.lastIndexOf(QLatin1Char(':'));
        bool ok = false;
        const int port = colon > 0 ? listen.mid(colon + 1).toInt(&ok) : -1;
        QString host = colon > 0 ? listen.left(colon) : QString();
        if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
            host = host.mid(1, host.size() - 2);
        if (host == QLatin1String("localhost"))
            host = QStringLiteral("127.0.0.1");
        const QHostAddress address(host);
        if (!ok || port < 0 || port > 65535 || address.isNull()) {
            return ctx.fail(UsageOrProfile,
                            QStringLiteral("--otlp-listen: expected HOST:PORT with an IP address, got \"%1\"").arg(listen));
        }
        options.listenAddress = address;
        options.listenPort = port;
    }

    Engine engine;
    auto started = engine.start(options);
    if (!started) {
        const int code = started.error().kind == Error::Kind::Invalid ? UsageOrProfile : Unreachable;
        return ctx.fail(code, started.error());
    }

    const QJsonObject ready{{QStringLiteral("otlp"), engine.otlpHostPort()},
                            {QStringLiteral("db"), QFileInfo(options.dbPath).absoluteFilePath()},
                            {QStringLiteral("profile"), options.profilePath.isEmpty() ? QJsonValue() : QJsonValue(options.profilePath)}};
    ctx.out(QStringLiteral("READY ") + QString::fromUtf8(QJsonDocument(ready).toJson(QJsonDocument::Compact)));

    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::terminationRequested, [](int) {
        qCInfo(lcCli) << "daemon stopping";
        QCoreApplication::exit(Ok);
    });
    return QCoreApplication::exec();
}

} // namespace Breaker::Ctl
