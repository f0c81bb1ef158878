// breakerctl stop and resume: the stop switch on the command line (issue 4; DESIGN.md section 9).
#include "app/breakerctl/CtlContext.h"
#include "app/breakerctl/CtlWait.h"
#include "app/services/LayerService.h"
#include "app/services/RuntimeService.h"
#include "app/services/StopDrill.h"
#include "app/services/StopSwitch.h"
#include "connectors/runtime/RuntimeConnector.h"
#include "models/ControlMap.h"
#include "models/Store.h"

#include <QDateTime>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonObject>

#include <memory>

namespace Breaker::Ctl {

namespace {

QJsonValue orNull(const QByteArray &v)
{
    return v.isEmpty() ? QJsonValue() : QJsonValue(QString::fromUtf8(v));
}

QJsonObject layerJson(const StopLayerResult &r)
{
    return QJsonObject{{QStringLiteral("layer"), QString::fromUtf8(r.layer)},
                       {QStringLiteral("agent"), orNull(r.agent)},
                       {QStringLiteral("run"), orNull(r.run)},
                       {QStringLiteral("provider"), orNull(r.provider)},
                       {QStringLiteral("target"), orNull(r.target)},
                       {QStringLiteral("action"), QString::fromUtf8(r.action)},
                       {QStringLiteral("outcome"), QString::fromUtf8(toWireName(r.outcome))},
                       {QStringLiteral("detail"), r.detail},
                       {QStringLiteral("ms"), r.ms}};
}

QJsonObject scopeJson(const StopScope &scope)
{
    return QJsonObject{{QStringLiteral("kind"), QString::fromUtf8(scope.wireKind())},
                       {QStringLiteral("value"), QString::fromUtf8(scope.value)}};
}

// The connectors one command needs, built on first use.
struct Connectors
{
    explicit Connectors(const std::optional<Profile> &p)
        : profile(p)
    {
        if (profile)
            layers.applyProfile(*profile);
    }
    RuntimeConnector *runtime(const QByteArray &provider)
    {
        if (runtimes.contains(provider))
            return runtimes.value(provider);
        const ProviderConfig *config = profile ? profile->provider(QString::fromUtf8(provider)) : nullptr;
        RuntimeConnector *c = nullptr;
        if (config) {
            auto made = RuntimeService::makeConnector(*config, &owner,
                                                      RuntimeService::runtimeSelectors(*profile, config->name));
            if (made.ok())
                c = made.value();
            else
                why.insert(provider, made.error().message);
        }
        runtimes.insert(provider, c);
        return c;
    }
    std::optional<Profile> profile;
    QObject owner;
    QHash<QByteArray, RuntimeConnector *> runtimes;
    QHash<QByteArray, QString> why;
    LayerService layers;
};

// Usage: exactly one scope. Returns an empty optional and fills `error` on a usage error.
std::optional<StopScope> scopeFrom(QCommandLineParser &p, bool resume, QString *error)
{
    int scopes = 0;
    for (const char *s : {"run", "agent", "principal", "all"})
        scopes += p.isSet(QString::fromLatin1(s)) ? 1 : 0;
    const QString verb = resume ? QStringLiteral("resume") : QStringLiteral("stop");
    if (scopes != 1 || (resume && (p.isSet(QStringLiteral("run")) || p.isSet(QStringLiteral("all"))))) {
        *error = resume ? QStringLiteral("resume: name exactly one scope: --agent NAME or --principal P")
                        : QStringLiteral("stop: name exactly one scope: --run ID, --agent NAME, --principal P or "
                                         "--all --confirm PROFILE_NAME");
        return std::nullopt;
    }
    StopScope scope;
    if (p.isSet(QStringLiteral("run"))) {
        scope.kind = StopScope::Kind::Run;
        scope.value = p.value(QStringLiteral("run")).toUtf8();
    } else if (p.isSet(QStringLiteral("agent"))) {
        scope.kind = StopScope::Kind::Agent;
        scope.value = p.value(QStringLiteral("agent")).toUtf8();
    } else if (p.isSet(QStringLiteral("principal"))) {
        scope.kind = StopScope::Kind::Principal;
        scope.value = p.value(QStringLiteral("principal")).toUtf8();
    } else {
        if (!p.isSet(QStringLiteral("confirm"))) {
            *error = QStringLiteral("stop --all needs --confirm PROFILE_NAME (the profile's name, typed to confirm)");
            return std::nullopt;
        }
        scope.kind = StopScope::Kind::All;
        scope.value = p.value(QStringLiteral("confirm")).toUtf8();
    }
    if (scope.value.trimmed().isEmpty()) {
        *error = QStringLiteral("%1: the scope's value is empty").arg(verb);
        return std::nullopt;
    }
    return scope;
}

void printRows(Context &ctx, const std::vector<StopLayerResult> &rows)
{
    for (const StopLayerResult &r : rows) {
        // One arg() call: agent names and details may hold "%1"-like text.
        const QString agent = QString::fromUtf8(r.agent.isEmpty() ? QByteArray("-") : r.agent);
        const QString provider
            = r.provider.isEmpty() ? QStringLiteral("-") : QString::fromUtf8(r.provider);
        ctx.out(QStringLiteral("  %1 %2 %3 %4 %5 ms  %6: %7")
                    .arg(QString::fromUtf8(r.layer).leftJustified(8),
                         agent.leftJustified(16),
                         QString::fromUtf8(toWireName(r.outcome)).leftJustified(22),
                         provider.leftJustified(16),
                         QString::number(r.ms).rightJustified(6),
                         QString::fromUtf8(r.target.isEmpty() ? r.action : r.action + ' ' + r.target),
                         r.detail));
    }
}

int runStopOrResume(Context &ctx, bool resume)
{
    QCommandLineParser &p = ctx.parser();
    const QString reason = p.value(QStringLiteral("reason")).trimmed();
    const bool dryRun = p.isSet(QStringLiteral("dry-run"));
    QString usage;
    const std::optional<StopScope> scope = scopeFrom(p, resume, &usage);
    if (!scope)
        return ctx.fail(UsageOrProfile, usage);
    if (reason.isEmpty() && !dryRun)
        return ctx.fail(UsageOrProfile, QStringLiteral("%1: --reason TEXT is required (it goes to the audit trail)")
                                            .arg(resume ? QStringLiteral("resume") : QStringLiteral("stop")));
    QStringList layers;
    if (p.isSet(QStringLiteral("layers"))) {
        if (resume)
            return ctx.fail(UsageOrProfile, QStringLiteral("resume: --layers is not taken (resume undoes what each "
                                                           "layer allows: cards and tools)"));
        layers = p.value(QStringLiteral("layers")).split(QLatin1Char(','), Qt::SkipEmptyParts);
        for (QString &l : layers)
            l = l.trimmed();
        for (const QString &l : layers)
            if (!StopSwitch::allLayers().contains(l))
                return ctx.fail(UsageOrProfile,
                                QStringLiteral("--layers: unknown layer \"%1\" (runtime, identity, payment, tools)").arg(l));
    }

    auto profile = ctx.loadProfile();
    if (!profile)
        return ctx.fail(UsageOrProfile, profile.error());
    auto store = ctx.openStore(false);
    if (!store)
        return ctx.fail(Unreachable, store.error());

    Connectors connectors(profile.value());
    StopSwitch stopSwitch(
        store.value(), profile.value(), [&](const QByteArray &provider) { return connectors.runtime(provider); },
        [&](const QByteArray &provider) { return connectors.layers.connector(provider); });
    auto plan = resume ? stopSwitch.planResume(*scope) : stopSwitch.plan(*scope, layers);
    if (!plan) {
        if (plan.error().kind == Error::Kind::NotFound)
            return ctx.fail(NotFullySucceeded, plan.error().message + QStringLiteral(" (the scope matches nothing)"));
        if (plan.error().kind == Error::Kind::Invalid)
            return ctx.fail(UsageOrProfile, plan.error());
        return ctx.fail(Unreachable, plan.error());
    }

    if (dryRun) {
        if (ctx.json()) {
            QJsonArray rows;
            for (const PlannedAction &a : plan->actions) {
                QJsonObject row = layerJson(a.row);
                row.remove(QStringLiteral("outcome"));
                row.remove(QStringLiteral("ms"));
                row.insert(QStringLiteral("detail"), a.configured ? a.describe : a.why);
                row.insert(QStringLiteral("configured"), a.configured);
                rows.append(row);
            }
            QJsonObject counts;
            for (const QString &l : plan->layers)
                counts.insert(l, plan->count(l.toUtf8()));
            ctx.printJson(QJsonDocument(QJsonObject{{QStringLiteral("scope"), scopeJson(*scope)},
                                                    {QStringLiteral("reason"), reason},
                                                    {QStringLiteral("dry_run"), true},
                                                    {QStringLiteral("summary"), plan->summary()},
                                                    {QStringLiteral("counts"), counts},
                                                    {QStringLiteral("layers"), rows}}));
        } else {
            ctx.out(QStringLiteral("Would %1 %2 %3: %4")
                        .arg(resume ? QStringLiteral("resume") : QStringLiteral("stop"),
                             QString::fromUtf8(scope->wireKind()), QString::fromUtf8(scope->value), plan->summary()));
            for (const PlannedAction &a : plan->actions)
                ctx.out(QStringLiteral("  %1 %2 %3")
                            .arg(QString::fromUtf8(a.row.layer).leftJustified(8),
                                 QString::fromUtf8(a.row.agent).leftJustified(16),
                                 a.configured ? a.describe
                                              : QStringLiteral("skipped_not_configured: ") + a.why));
        }
        return Ok;
    }

    // Nothing can be attempted when every provider the command needs is unreachable (exit 3).
    // With one provider reachable the stop goes ahead: each layer is independent, and the rows
    // of the unreachable ones say so.
    QSet<QByteArray> providers;
    for (const PlannedAction &a : plan->actions)
        if (a.configured && !a.row.provider.isEmpty())
            providers.insert(a.row.provider);
    if (!providers.isEmpty() && providers.size() == 1 && plan->actions.size() == 1
        && plan->actions.front().row.layer == "runtime") {
        const QByteArray provider = *providers.begin();
        RuntimeConnector *c = connectors.runtime(provider);
        if (!c)
            return ctx.fail(UsageOrProfile, connectors.why.value(provider, QStringLiteral("provider %1 has no connector")
                                                                               .arg(QString::fromUtf8(provider))));
        auto caps = waitFor<RuntimeCapabilities>([c](auto cb) { c->discover(cb); }, 30000,
                                                 QStringLiteral("discovering %1").arg(QString::fromUtf8(provider)));
        if (!caps.ok() && (caps.error().kind == Error::Kind::Unavailable || caps.error().kind == Error::Kind::Timeout))
            return ctx.fail(Unreachable, caps.error());
    }

    std::optional<StopOutcome> outcome;
    QEventLoop loop;
    auto progress = [&](int, const std::vector<StopLayerResult> &rows) {
        if (!ctx.json())
            printRows(ctx, rows);
    };
    auto done = [&](const StopOutcome &o) {
        outcome = o;
        loop.quit();
    };
    if (!ctx.json())
        ctx.out(QStringLiteral("%1 %2 %3: %4")
                    .arg(resume ? QStringLiteral("Resuming") : QStringLiteral("Stopping"),
                         QString::fromUtf8(scope->wireKind()), QString::fromUtf8(scope->value), plan->summary()));
    if (resume)
        stopSwitch.resume(*plan, reason, progress, done);
    else
        stopSwitch.execute(*plan, reason, progress, done);
    if (!outcome)
        loop.exec();

    if (ctx.json()) {
        QJsonArray rows;
        for (const StopLayerResult &r : outcome->rows)
            rows.append(layerJson(r));
        QJsonObject doc{{QStringLiteral("scope"), scopeJson(*scope)},
                        {QStringLiteral("reason"), reason},
                        {QStringLiteral("verified"), outcome->verified},
                        {QStringLiteral("released_approvals"), outcome->releasedApprovals},
                        {QStringLiteral("layers"), rows},
                        {QStringLiteral("ms"), outcome->ms}};
        if (!outcome->notes.isEmpty())
            doc.insert(QStringLiteral("notes"), QJsonArray::fromStringList(outcome->notes));
        if (const std::optional<StopClaim> &j = outcome->joined) {
            // Another process was stopping the same scope: this command joined it, and the
            // rows and the verdict are that stop's; "reason" stays the one this command was given.
            doc.insert(QStringLiteral("joined"),
                       QJsonObject{{QStringLiteral("operation"), QString::fromUtf8(j->operation)},
                                   {QStringLiteral("pid"), j->pid},
                                   {QStringLiteral("host"), QString::fromUtf8(j->host)},
                                   {QStringLiteral("actor"), j->actor},
                                   {QStringLiteral("started"), QDateTime::fromMSecsSinceEpoch(j->startedMs)
                                                                   .toUTC()
                                                                   .toString(Qt::ISODateWithMs)},
                                   {QStringLiteral("reason"), outcome->reason}});
        }
        ctx.printJson(QJsonDocument(doc));
    } else {
        if (outcome->joined)
            printRows(ctx, outcome->rows); // no row came as progress: they are the other stop's
        for (const QString &n : outcome->notes)
            ctx.out(QStringLiteral("  note: ") + n);
        QStringList notVerified;
        for (const StopLayerResult &r : outcome->rows)
            if (!r.provider.isEmpty() && r.outcome != LayerOutcome::Verified)
                notVerified << QStringLiteral("%1 (%2 %3)").arg(QString::fromUtf8(r.layer), QString::fromUtf8(r.provider),
                                                                 QString::fromUtf8(toWireName(r.outcome)));
        ctx.out(outcome->verified ? QStringLiteral("%1: verified at every configured layer in %2 ms")
                                        .arg(resume ? QStringLiteral("Resume") : QStringLiteral("Stop"))
                                        .arg(outcome->ms)
                                  : QStringLiteral("%1: NOT verified: %2")
                                        .arg(resume ? QStringLiteral("Resume") : QStringLiteral("Stop"),
                                             notVerified.isEmpty() ? QStringLiteral("no layer has a provider")
                                                                   : notVerified.join(QStringLiteral(", "))));
    }
    // Exit 0 only when every requested layer that has a provider is verified.
    return outcome->verified ? Ok : NotFullySucceeded;
}

} // namespace

int runStop(Context &ctx)
{
    return runStopOrResume(ctx, false);
}

int runResume(Context &ctx)
{
    return runStopOrResume(ctx, true);
}

// breakerctl drill --agent NAME --reason TEXT [--json]: a stop drill on a canary (issue 4 item 7).
// Exit 0 when the stop verified at every configured layer and the restore verified too.
int runDrill(Context &ctx)
{
    QCommandLineParser &p = ctx.parser();
    const QString reason = p.value(QStringLiteral("reason")).trimmed();
    const QByteArray agent = p.value(QStringLiteral("agent")).trimmed().toUtf8();
    if (agent.isEmpty())
        return ctx.fail(UsageOrProfile, QStringLiteral("drill: --agent NAME is required (a canary agent of the profile)"));
    if (reason.isEmpty())
        return ctx.fail(UsageOrProfile, QStringLiteral("drill: --reason TEXT is required (it goes to the audit trail)"));
    auto profile = ctx.loadProfile();
    if (!profile)
        return ctx.fail(UsageOrProfile, profile.error());
    auto store = ctx.openStore(false);
    if (!store)
        return ctx.fail(Unreachable, store.error());

    Connectors connectors(profile.value());
    auto runtimeFor = [&](const QByteArray &provider) { return connectors.runtime(provider); };
    StopSwitch stopSwitch(store.value(), profile.value(), runtimeFor,
                          [&](const QByteArray &provider) { return connectors.layers.connector(provider); });
    StopDrill drill(store.value(), profile.value(), &stopSwitch, runtimeFor);
    if (auto plan = drill.plan(agent); !plan.ok()) {
        if (plan.error().kind == Error::Kind::NotFound)
            return ctx.fail(NotFullySucceeded, plan.error().message);
        if (plan.error().kind == Error::Kind::Invalid)
            return ctx.fail(UsageOrProfile, plan.error());
        return ctx.fail(Unreachable, plan.error());
    }

    std::optional<DrillResult> result;
    QEventLoop loop;
    auto phase = [&](const QString &what) {
        if (!ctx.json())
            ctx.out(what);
    };
    auto progress = [&](int, const std::vector<StopLayerResult> &rows) {
        if (!ctx.json())
            printRows(ctx, rows);
    };
    drill.run(agent, reason, phase, progress, [&](const DrillResult &r) {
        result = r;
        loop.quit();
    });
    if (!result)
        loop.exec();

    auto proofs = store.value()->stopProofs(agent);
    if (ctx.json()) {
        auto outcomeJson = [](const StopOutcome &o) {
            QJsonArray rows;
            for (const StopLayerResult &r : o.rows)
                rows.append(layerJson(r));
            return QJsonObject{{QStringLiteral("verified"), o.verified},
                               {QStringLiteral("layers"), rows},
                               {QStringLiteral("notes"), QJsonArray::fromStringList(o.notes)},
                               {QStringLiteral("ms"), o.ms}};
        };
        QJsonArray proven;
        for (const StopProof &pr : result->proofs)
            proven.append(QJsonObject{{QStringLiteral("layer"), QString::fromUtf8(pr.layer)},
                                      {QStringLiteral("provider"), QString::fromUtf8(pr.provider)},
                                      {QStringLiteral("outcome"), QString::fromUtf8(toWireName(pr.outcome))},
                                      {QStringLiteral("ms"), pr.ms}});
        QJsonObject doc{{QStringLiteral("agent"), QString::fromUtf8(agent)},
                        {QStringLiteral("reason"), reason},
                        {QStringLiteral("ok"), result->ok()},
                        {QStringLiteral("canary_run"), orNull(result->canaryRun)},
                        {QStringLiteral("canary"), result->canary},
                        {QStringLiteral("stop"), outcomeJson(result->stop)},
                        {QStringLiteral("restore"), result->restore ? QJsonValue(outcomeJson(*result->restore)) : QJsonValue()},
                        {QStringLiteral("proofs"), proven},
                        {QStringLiteral("notes"), QJsonArray::fromStringList(result->notes)}};
        ctx.printJson(QJsonDocument(doc));
    } else {
        for (const QString &n : result->notes)
            ctx.out(QStringLiteral("  note: ") + n);
        ctx.out(QStringLiteral("Last proven stop of %1:").arg(QString::fromUtf8(agent)));
        if (proofs.ok()) {
            for (const StopProof &pr : proofs.value())
                ctx.out(QStringLiteral("  %1 %2").arg(QString::fromUtf8(pr.layer), -8).arg(describeProof(pr)));
        }
        ctx.out(result->ok() ? QStringLiteral("Drill: every configured layer verified, and restored")
                             : QStringLiteral("Drill: NOT fully proven (see the rows above)"));
    }
    return result->ok() ? Ok : NotFullySucceeded;
}

} // namespace Breaker::Ctl
