// breakerctl: the console's twin on the command line (DESIGN.md section 9).
#include "BreakerVersion.h"
#include "app/breakerctl/CtlContext.h"
#include "app/services/LogSink.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>
#include <cstring>

using namespace Breaker;

namespace Breaker::Ctl {
int runAudit(Context &ctx); // CmdAudit.cpp
} // namespace Breaker::Ctl

namespace {

const char *kUsage =
    "Commands:\n"
    "  sandbox [--profile-out FILE] [--otlp-endpoint URL] [--rate R] [--burst]\n"
    "          [--latency-ms LAYER=N]... [--fault LAYER=down|slow|error|garbage]...\n"
    "                        run the sandbox fleet until SIGTERM\n"
    "  daemon                the engine without a window; prints one line\n"
    "                        READY {\"otlp\": \"HOST:PORT\", \"db\": PATH, \"profile\": PATH}\n"
    "  runs [--status S] [--agent A] [--principal P] [--limit N]\n"
    "  run RUN_ID            one run: fields, events (timeline), control map\n"
    "  watch                 run updates as they happen (JSON Lines with --json)\n"
    "  stop (--run ID | --agent NAME | --principal P | --all --confirm PROFILE_NAME)\n"
    "       --reason TEXT [--layers runtime,identity,payment,tools] [--dry-run]\n"
    "                        stop at every layer at once (cancel the runs, revoke the token,\n"
    "                        freeze the cards, block the tools) and prove each layer\n"
    "  resume (--agent NAME | --principal P) --reason TEXT\n"
    "                        unfreeze the cards, unblock the tools (a revoked token stays)\n"
    "  drill --agent NAME --reason TEXT\n"
    "                        a stop drill on a canary agent: stop a run of it at every layer,\n"
    "                        record each layer's time to verified, then undo what can be undone\n"
    "  audit export --out DIR [--from T] [--to T] [--agent A] [--run R] [--principal P]\n"
    "               [--action X] [--format jsonl,csv,ocsf]\n"
    "                        a signed, verifiable export of the audit trail (docs/AUDIT.md)\n"
    "  audit verify DIR [--key FILE | --fingerprint HEX] [--previous DIR]\n"
    "                        check an export: file hashes, signature, chain, pinned key\n"
    "  audit check           re-walk the Store's chain against its signed checkpoints\n"
    "  audit seal            sign a checkpoint of the chain head now\n"
    "\n"
    "Exit status: 0 success; 1 ran but did not fully succeed; 2 usage or profile error;\n"
    "3 the Store or the provider the command needed was unreachable.\n";

} // namespace

int main(int argc, char *argv[])
{
    // `sandbox` takes the sandbox's own options: hand the rest of the line to it untouched.
    if (argc >= 2 && std::strcmp(argv[1], "sandbox") == 0) {
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("breakerctl"));
        QCoreApplication::setApplicationVersion(QStringLiteral(BREAKER_VERSION));
        QCommandLineParser unused;
        Ctl::Context ctx(unused, {});
        return Ctl::runSandbox(ctx, argc, argv);
    }

    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("breakerctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(BREAKER_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Breaker on the command line: watch, approve, "
                                                    "stop and audit AI agents.\n\n")
                                     + QString::fromLatin1(kUsage));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        {QStringLiteral("profile"), QStringLiteral("The profile (default: ~/.config/breaker/profile.json)."), QStringLiteral("FILE")},
        {QStringLiteral("db"), QStringLiteral("The Store (default: ~/.local/share/breaker/breaker.db)."), QStringLiteral("FILE")},
        {QStringLiteral("json"), QStringLiteral("Machine-readable output (one JSON document; JSON Lines for watch).")},
        {QStringLiteral("status"), QStringLiteral("runs: only runs in this status."), QStringLiteral("S")},
        {QStringLiteral("agent"), QStringLiteral("runs: only this agent; stop, resume, drill: the agent to act on."), QStringLiteral("A")},
        {QStringLiteral("principal"), QStringLiteral("runs: only runs acting for this principal; stop, resume: every agent acting for them."), QStringLiteral("P")},
        {QStringLiteral("limit"), QStringLiteral("runs: at most N runs, newest first (default 200)."), QStringLiteral("N")},
        {QStringLiteral("run"), QStringLiteral("stop: the run to stop."), QStringLiteral("ID")},
        {QStringLiteral("all"), QStringLiteral("stop: every agent of the profile (needs --confirm).")},
        {QStringLiteral("confirm"), QStringLiteral("stop --all: the profile's name, typed to confirm."), QStringLiteral("PROFILE_NAME")},
        {QStringLiteral("reason"), QStringLiteral("stop, resume, drill: why (required; written to the audit trail)."), QStringLiteral("TEXT")},
        {QStringLiteral("layers"), QStringLiteral("stop: which layers (default for --run: runtime; otherwise all four)."), QStringLiteral("LIST")},
        {QStringLiteral("dry-run"), QStringLiteral("stop: show what would be done, do nothing.")},
        {QStringLiteral("out"), QStringLiteral("audit export: the folder to create (must not exist)."), QStringLiteral("DIR")},
        {QStringLiteral("from"), QStringLiteral("audit export: the first record, by seq or time (inclusive)."), QStringLiteral("T")},
        {QStringLiteral("to"), QStringLiteral("audit export: the last record, by seq (inclusive) or time (exclusive)."), QStringLiteral("T")},
        {QStringLiteral("action"), QStringLiteral("audit export: only these actions in audit.csv/audit.ocsf.jsonl (a dotted prefix)."), QStringLiteral("X")},
        {QStringLiteral("format"), QStringLiteral("audit export: jsonl (always), csv, ocsf, comma-separated."), QStringLiteral("LIST")},
        {QStringLiteral("key"), QStringLiteral("audit verify: the PEM public key the export must be signed with."), QStringLiteral("FILE")},
        {QStringLiteral("fingerprint"), QStringLiteral("audit verify: the SHA-256 fingerprint the signing key must have."), QStringLiteral("HEX")},
        {QStringLiteral("previous"), QStringLiteral("audit verify: an earlier export this one must continue."), QStringLiteral("DIR")},
        {QStringLiteral("otlp-listen"), QStringLiteral("daemon: where to receive OTLP (default: the profile's otlp provider)."), QStringLiteral("HOST:PORT")},
    });
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("sandbox, daemon, runs, run, watch, stop, resume, drill"));
    parser.addPositionalArgument(QStringLiteral("args"), QStringLiteral("The command's arguments."), QStringLiteral("[args...]"));

    if (!parser.parse(QCoreApplication::arguments())) {
        std::fprintf(stderr, "breakerctl: %s\n", qPrintable(parser.errorText()));
        return Ctl::UsageOrProfile;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return Ctl::Ok;
    }
    if (parser.isSet(QStringLiteral("version"))) {
        std::printf("breakerctl %s\n", BREAKER_VERSION);
        return Ctl::Ok;
    }
    QStringList positional = parser.positionalArguments();
    if (positional.isEmpty()) {
        std::fputs(qPrintable(parser.helpText()), stderr);
        return Ctl::UsageOrProfile;
    }
    const QString command = positional.takeFirst();
    LogSink::install(QStringLiteral("breakerctl"));
    Ctl::Context ctx(parser, positional);
    if (command == QLatin1String("runs"))
        return Ctl::runRuns(ctx);
    if (command == QLatin1String("run"))
        return Ctl::runRun(ctx);
    if (command == QLatin1String("watch"))
        return Ctl::runWatch(ctx);
    if (command == QLatin1String("daemon"))
        return Ctl::runDaemon(ctx);
    if (command == QLatin1String("stop"))
        return Ctl::runStop(ctx);
    if (command == QLatin1String("audit"))
        return Ctl::runAudit(ctx);
    if (command == QLatin1String("resume"))
        return Ctl::runResume(ctx);
    if (command == QLatin1String("drill"))
        return Ctl::runDrill(ctx);
    return ctx.fail(Ctl::UsageOrProfile,
                    QStringLiteral("unknown command \"%1\" (see breakerctl --help)").arg(command));
}
