// breakerctl runs | run ID | watch
#include "app/breakerctl/CtlContext.h"
#include "app/breakerctl/CtlWait.h"
#include "app/services/RuntimeService.h"
#include "app/services/RuntimeStop.h"
#include "connectors/runtime/RuntimeConnector.h"

#include "app/services/SignalWatcher.h"
#include "models/ControlMap.h"
#include "models/RunJson.h"
#include "models/Store.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QTimer>


namespace Breaker::Ctl {

namespace {

QString money(qint64 micros)
{
    return QStringLiteral("$%1").arg(double(micros) / 1e6, 0, 'f', micros < 10000 ? 4 : 2);
}

QString localTime(qint64 ms)
{
    return ms > 0 ? QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                  : QStringLiteral("-");
}

QString text(const QByteArray &utf8)
{
    return utf8.isEmpty() ? QStringLiteral("-") : QString::fromUtf8(utf8);
}

QString runLine(const Run &r)
{
    const QString agent = text(r.agent) + (r.agentBound ? QString() : QStringLiteral("*"));
    // One arg() call: the id, agent and principal come from telemetry and may hold "%1".
    return QStringLiteral("%1  %2 %3 %4 %5 %6 %7 %8 %9")
        .arg(QString::fromUtf8(r.id).leftJustified(16),
             agent.leftJustified(16),
             text(r.principal).leftJustified(24),
             QString::fromLatin1(toWireName(r.status)).leftJustified(16),
             localTime(r.startedMs).leftJustified(19),
             QStringLiteral("%1/%2").arg(r.inputTokens).arg(r.outputTokens).leftJustified(13),
             money(r.costMicros).rightJustified(9),
             QStringLiteral("tools %1 blocks %2").arg(r.toolCalls).arg(r.policyBlocks).leftJustified(18),
             r.approvalsPending > 0 ? QStringLiteral("approvals %1").arg(r.approvalsPending)
                                    : QString());
}

QString runHeader()
{
    return QStringLiteral("%1  %2 %3 %4 %5 %6 %7 %8")
        .arg(QStringLiteral("ID"), -16)
        .arg(QStringLiteral("AGENT"), -16)
        .arg(QStringLiteral("PRINCIPAL"), -24)
        .arg(QStringLiteral("STATUS"), -16)
        .arg(QStringLiteral("STARTED"), -19)
        .arg(QStringLiteral("TOKENS IN/OUT"), -13)
        .arg(QStringLiteral("COST"), 9)
        .arg(QStringLiteral("CALLS"));
}

bool validStatus(const QString &status)
{
    return runStatusFromWireName(status.toUtf8()).has_value();
}

} // namespace

int runRuns(Context &ctx)
{
    QCommandLineParser &p = ctx.parser();
    RunQuery query;
    query.status = p.value(QStringLiteral("status")).toUtf8();
    query.agent = p.value(QStringLiteral("agent")).toUtf8();
    query.principal = p.value(QStringLiteral("principal")).toUtf8();
    if (!query.status.isEmpty() && !validStatus(p.value(QStringLiteral("status")))) {
        return ctx.fail(UsageOrProfile,
                        QStringLiteral("--status: unknown status \"%1\" (one of submitted, working, "
                                       "waiting_approval, stopping, stopped, completed, failed, "
                                       "rejected, unknown)")
                            .arg(p.value(QStringLiteral("status"))));
    }
    if (p.isSet(QStringLiteral("limit"))) {
        bool ok = false;
        query.limit = p.value(QStringLiteral("limit")).toInt(&ok);
        if (!ok || query.limit <= 0)
            return ctx.fail(UsageOrProfile, QStringLiteral("--limit must be a positive number"));
    }
    auto store = ctx.openStore(true);
    if (!store)
        return ctx.fail(Unreachable, store.error());
    auto runs = (*store)->runs(query);
    if (!runs)
        return ctx.fail(Unreachable, runs.error());

    if (ctx.json()) {
        QJsonArray list;
        for (const Run &r : runs.value())
            list.append(RunJson::run(r));
        ctx.printJson(QJsonDocument(QJsonObject{{QStringLiteral("runs"), list}}));
        return Ok;
    }
    ctx.out(runHeader());
    for (const Run &r : runs.value())
        ctx.out(runLine(r));
    if (runs.value().empty())
        ctx.out(QStringLiteral("(no runs)"));
    return Ok;
}

int runRun(Context &ctx)
{
    if (ctx.args().size() != 1)
        return ctx.fail(UsageOrProfile, QStringLiteral("usage: breakerctl run RUN_ID"));
    const QByteArray id = ctx.args().first().toUtf8();

    auto profile = ctx.loadProfile();
    if (!profile)
        return ctx.fail(UsageOrProfile, profile.error());
    auto store = ctx.openStore(true);
    if (!store)
        return ctx.fail(Unreachable, store.error());
    auto run = (*store)->run(id);
    if (!run)
        return ctx.fail(Unreachable, run.error());
    if (!run.value())
        return ctx.fail(NotFullySucceeded, QStringLiteral("no run with id %1").arg(ctx.args().first()));
    const Run &r = *run.value();
    auto events = (*store)->events(id);
    if (!events)
        return ctx.fail(Unreachable, events.error());

    // The control map as the profile binds the run's agent now, with its last proven stops.
    const AgentConfig *agent = nullptr;
    if (profile.value() && r.agentBound)
        agent = profile.value()->agent(QString::fromUtf8(r.agent));
    std::vector<StopProof> proofs;
    if (agent) {
        auto read = (*store)->stopProofs(r.agent);
        if (!read)
            return ctx.fail(Unreachable, read.error());
        proofs = read.value();
    }
    const std::vector<ControlMapRow> mapRows =
        buildControlMap(profile.value() ? &*profile.value() : nullptr, agent, proofs,
                        profile.value() ? QStringLiteral("agent not in the profile") : QStringLiteral("no profile"));
    const QJsonArray controlMap = controlMapJson(mapRows);

    // The runtime's own word on the run, asked now, and the verbs the runtime supports.
    QJsonObject runtime{{QStringLiteral("provider"), QJsonValue()}};
    {
        QObject owner;
        const std::optional<Profile> prof = profile.value();
        RuntimeStop resolver(store.value(), prof, nullptr);
        auto plan = resolver.plan(r.id);
        if (plan.ok() && !plan->provider.isEmpty()) {
            runtime.insert(QStringLiteral("provider"), QString::fromUtf8(plan->provider));
            runtime.insert(QStringLiteral("kind"), QString::fromUtf8(plan->kind));
            runtime.insert(QStringLiteral("external_id"), QString::fromUtf8(plan->externalId));
            auto made = RuntimeService::makeConnector(*prof->provider(QString::fromUtf8(plan->provider)), &owner);
            if (!made.ok()) {
                runtime.insert(QStringLiteral("error"), made.error().message);
            } else {
                RuntimeConnector *c = made.value();
                const QByteArray externalId = plan->externalId;
                auto live = waitFor<RuntimeRun>([c, externalId](auto cb) { c->getRun(externalId, cb); }, 20000,
                                                QStringLiteral("asking %1").arg(QString::fromUtf8(plan->provider)));
                QJsonArray verbs;
                for (const QByteArray &v : c->capabilities().verbs())
                    verbs.append(QString::fromUtf8(v));
                runtime.insert(QStringLiteral("dialect"), c->capabilities().dialect);
                runtime.insert(QStringLiteral("verbs"), verbs);
                if (live.ok()) {
                    runtime.insert(QStringLiteral("state"), QString::fromLatin1(toWireName(live->status)));
                    runtime.insert(QStringLiteral("raw_state"), QString::fromUtf8(live->rawState));
                    if (!live->statusText.isEmpty())
                        runtime.insert(QStringLiteral("message"), live->statusText);
                } else {
                    runtime.insert(QStringLiteral("error"), live.error().message);
                }
            }
        } else {
            runtime.insert(QStringLiteral("detail"), plan.ok() ? plan->why : plan.error().message);
        }
    }

    if (ctx.json()) {
        ctx.printJson(QJsonDocument(QJsonObject{{QStringLiteral("run"), RunJson::run(r)},
                                                {QStringLiteral("events"), RunJson::events(events.value())},
                                                {QStringLiteral("control_map"), controlMap},
                                                {QStringLiteral("runtime"), runtime}}));
        return Ok;
    }
    ctx.out(QStringLiteral("Run %1").arg(QString::fromUtf8(r.id)));
    ctx.out(QStringLiteral("  agent      %1%2").arg(text(r.agent), r.agentBound ? QString() : QStringLiteral(" (not in the profile)")));
    ctx.out(QStringLiteral("  principal  %1").arg(text(r.principal)));
    ctx.out(QStringLiteral("  status     %1").arg(QString::fromLatin1(toWireName(r.status))));
    ctx.out(QStringLiteral("  provider   %1").arg(text(r.provider)));
    ctx.out(QStringLiteral("  started    %1   ended %2").arg(localTime(r.startedMs), localTime(r.endedMs)));
    ctx.out(QStringLiteral("  tokens     %1 in / %2 out   cost %3").arg(r.inputTokens).arg(r.outputTokens).arg(money(r.costMicros)));
    ctx.out(QStringLiteral("  calls      %1 tool calls, %2 policy blocks, %3 data reads, %4 errors, %5 approvals pending")
                .arg(r.toolCalls).arg(r.policyBlocks).arg(r.dataSources).arg(r.errors).arg(r.approvalsPending));
    ctx.out(QStringLiteral("  ids        %1").arg(QString::fromUtf8(r.externalIdsJson)));
    if (runtime.value(QStringLiteral("provider")).isNull()) {
        ctx.out(QStringLiteral("  runtime    none (%1)").arg(runtime.value(QStringLiteral("detail")).toString()));
    } else {
        QStringList verbs;
        for (const auto &v : runtime.value(QStringLiteral("verbs")).toArray())
            verbs << v.toString();
        ctx.out(QStringLiteral("  runtime    %1 says %2 (%3; %4 %5)")
                    .arg(runtime.value(QStringLiteral("provider")).toString(),
                         runtime.contains(QStringLiteral("error")) ? QStringLiteral("nothing: ") + runtime.value(QStringLiteral("error")).toString()
                                                                   : runtime.value(QStringLiteral("raw_state")).toString(),
                         runtime.value(QStringLiteral("dialect")).toString(),
                         QStringLiteral("verbs:"), verbs.join(QLatin1Char(' '))));
    }
    ctx.out(QStringLiteral("Control map"));
    for (const ControlMapRow &row : mapRows) {
        QString what = row.provider.isEmpty() ? row.detail : row.provider;
        if (!row.provider.isEmpty() && !row.detail.isEmpty())
            what += QStringLiteral("  ") + row.detail;
        ctx.out(QStringLiteral("  %1 %2 %3").arg(row.layer, -14).arg(row.state(), -6).arg(what));
    }
    ctx.out(QStringLiteral("Timeline (%1 events)").arg(events.value().size()));
    const qint64 origin = events.value().empty() ? 0 : events.value().front().startNs;
    for (const RunEvent &e : events.value()) {
        ctx.out(QStringLiteral("  +%1 ms %2 %3 %4%5")
                    .arg(QString::number(double(e.startNs - origin) / 1e6, 'f', 1).rightJustified(9),
                         QString::number(double(e.endNs - e.startNs) / 1e6, 'f', 1).rightJustified(8),
                         QString::fromLatin1(toWireName(e.kind)).leftJustified(18),
                         QString::fromUtf8(e.name), // a span name: may hold "%1"
                         e.statusCode == 2 ? QStringLiteral("  [error]") : QString()));
    }
    return Ok;
}

int runWatch(Context &ctx)
{
    auto store = ctx.openStore(true);
    if (!store)
        return ctx.fail(Unreachable, store.error());
    std::shared_ptr<Store> s = store.value();

    // Runs changed since we started (by their updated time), polled twice a second; the
    // data_version check keeps idle polls to one cheap PRAGMA.
    qint64 since = QDateTime::currentMSecsSinceEpoch() - 1000;
    qint64 lastVersion = -1;
    QHash<QByteArray, QPair<qint64, RunStatus>> seen;
    if (!ctx.json())
        ctx.out(runHeader());

    QTimer timer;
    timer.setInterval(500);
    int exitCode = Ok;
    QObject::connect(&timer, &QTimer::timeout, [&] {
        auto version = s->dataVersion();
        if (!version) {
            exitCode = ctx.fail(Unreachable, version.error());
            QCoreApplication::exit(exitCode);
            return;
        }
        if (version.value() == lastVersion)
            return;
        lastVersion = version.value();
        RunQuery query;
        query.limit = 1000;
        query.updatedSinceMs = since;
        auto runs = s->runs(query);
        if (!runs)
            return;
        std::vector<Run> list = runs.value();
        std::reverse(list.begin(), list.end()); // oldest first
        for (const Run &r : list) {
            auto it = seen.constFind(r.id);
            const auto key = qMakePair(r.updatedMs + r.inputTokens + r.outputTokens + r.toolCalls, r.status);
            if (it != seen.constEnd() && it.value() == key)
                continue;
            seen.insert(r.id, key);
            since = std::max(since, r.updatedMs - 5000);
            if (ctx.json())
                ctx.printJsonLine(QJsonObject{{QStringLiteral("run"), RunJson::run(r)}});
            else
                ctx.out(runLine(r));
        }
    });
    timer.start();

    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::terminationRequested, [] { QCoreApplication::exit(Ok); });
    QCoreApplication::exec();
    return exitCode;
}

} // namespace Breaker::Ctl
