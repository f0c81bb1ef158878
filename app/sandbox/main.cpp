#include "BreakerVersion.h"
#include "app/sandbox/Sandbox.h"
#include "app/sandbox/SandboxOptions.h"
#include "app/services/LogSink.h"
#include "app/services/SignalWatcher.h"
#include "models/Logging.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>

using namespace Breaker;

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitUnavailable = 3;
constexpr int kFlushOnExitMs = 2000;

void printError(const QString &message)
{
    const QByteArray line = QByteArrayLiteral("breaker-sandbox: ") + message.toLocal8Bit() + '\n';
    std::fputs(line.constData(), stderr);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("breaker-sandbox"));
    QCoreApplication::setApplicationVersion(QStringLiteral(BREAKER_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Breaker's embedded sandbox fleet: four agents (refund-agent, claims-agent, email-agent,\n"
        "usage-analyst) whose runs send OTLP/HTTP GenAI spans to the console, including the\n"
        "cases an operator exists for (approvals, runaway loops, policy blocks, restricted data,\n"
        "prompt injection). It writes a profile that points at itself and prints one line,\n"
        "READY {\"profile\": ..., \"otlp_endpoint\": ..., \"agents\": [...]}, then runs until\n"
        "SIGTERM or SIGINT, when it sends what is queued (at most 2 s) and exits 0.\n"
        "--latency-ms and --fault are accepted and checked, but apply only to the providers\n"
        "the sandbox serves, which this version does not have yet (A2A, OAuth, payments, tools)."));
    parser.addHelpOption();
    parser.addVersionOption();
    addSandboxOptions(parser);
    if (!parser.parse(QCoreApplication::arguments())) {
        printError(parser.errorText() + QStringLiteral(" (see --help)"));
        return kExitUsage;
    }
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();

    auto options = sandboxOptionsFromParser(parser);
    if (!options) {
        printError(options.error().message);
        return kExitUsage;
    }

    LogSink::install(QStringLiteral("breaker-sandbox"));

    SignalWatcher signals_;
    Sandbox sandbox(*options);
    auto started = sandbox.start();
    if (!started) {
        printError(started.error().message);
        return started.error().kind == Error::Kind::Conflict
                       || started.error().kind == Error::Kind::Invalid
                   ? kExitUsage
                   : kExitUnavailable;
    }

    const QByteArray ready = sandbox.readyLine() + '\n';
    std::fputs(ready.constData(), stdout);
    std::fflush(stdout);

    bool stopping = false;
    QObject::connect(&signals_,
                     &SignalWatcher::terminationRequested,
                     &sandbox,
                     [&sandbox, &stopping](int signalNumber) {
                         if (stopping) {
                             qCInfo(lcSandbox) << "second signal: exiting without waiting";
                             QCoreApplication::exit(0);
                             return;
                         }
                         stopping = true;
                         qCInfo(lcSandbox)
                             << "signal" << signalNumber << "received; flushing and exiting";
                         sandbox.shutdown(kFlushOnExitMs);
                     });
    QObject::connect(&sandbox, &Sandbox::finished, &app, [] { QCoreApplication::exit(0); });
    return app.exec();
}
