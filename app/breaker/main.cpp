#include "BreakerVersion.h"
#include "app/breaker/Console.h"
#include "app/services/LogSink.h"
#include "app/services/SignalWatcher.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>

#include <cstdio>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("breaker"));
    QApplication::setApplicationDisplayName(QStringLiteral("Breaker"));
    QApplication::setApplicationVersion(QStringLiteral(BREAKER_VERSION));
    QApplication::setDesktopFileName(QStringLiteral(BREAKER_APP_ID));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Breaker: the operator console for AI agents in production.\n"
        "With no profile (and none at ~/.config/breaker/profile.json) it starts its own\n"
        "sandbox fleet and shows its runs."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        {QStringLiteral("profile"), QStringLiteral("The profile to use."), QStringLiteral("FILE")},
        {QStringLiteral("db"), QStringLiteral("The Store (default: ~/.local/share/breaker/breaker.db, sandbox.db on the sandbox)."), QStringLiteral("FILE")},
        {QStringLiteral("sandbox"), QStringLiteral("Run on the sandbox even when a default profile exists.")},
        {QStringLiteral("sandbox-arg"), QStringLiteral("An extra argument for breaker-sandbox (repeatable), e.g. --sandbox-arg=--burst."), QStringLiteral("ARG")},
    });
    parser.process(app);

    Breaker::LogSink::install(QStringLiteral("breaker"));

    Breaker::Console::Options options;
    options.profilePath = parser.value(QStringLiteral("profile"));
    options.dbPath = parser.value(QStringLiteral("db"));
    options.forceSandbox = parser.isSet(QStringLiteral("sandbox"));
    options.sandboxArguments = parser.values(QStringLiteral("sandbox-arg"));

    Breaker::Console console;
    auto started = console.start(options);
    if (!started) {
        const QString text = started.error().where.isEmpty()
                                 ? started.error().message
                                 : started.error().where + QStringLiteral(": ") + started.error().message;
        std::fprintf(stderr, "breaker: %s\n", qPrintable(text));
        // A desktop user started us from a menu: tell them in a window too (not headless).
        if (QGuiApplication::platformName() != QLatin1String("offscreen"))
            QMessageBox::critical(nullptr, QStringLiteral("Breaker"), text);
        return started.error().kind == Breaker::Error::Kind::Invalid ? 2 : 3;
    }
    Breaker::SignalWatcher watcher;
    QObject::connect(&watcher, &Breaker::SignalWatcher::terminationRequested, &app, [] { QApplication::quit(); });
    return app.exec();
}
