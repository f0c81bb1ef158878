// breakerctl stop: the runtime layer of the stop switch (issue 3 item 8; DESIGN.md section 9).
#include "app/breakerctl/CtlContext.h"
#include "app/breakerctl/CtlWait.h"
#include "app/services/RuntimeService.h"
#include "app/services/RuntimeStop.h"
#include "connectors/runtime/RuntimeConnector.h"
#include "models/Store.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonObject>

#include <memory>

namespace Breaker::Ctl {

namespace {

QJsonObject layerJson(const StopLayerResult &r)
{
    auto orNull = [](const QByteArray &v) { return v.isEmpty() ? QJsonValue() : QJsonValue(QString::fromUtf8(v)); };
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

} // namespace

int runStop(Context &ctx)
{
    QCommandLineParser &p = ctx.parser();
    const QString reason = p.value(QStringLiteral("reason")).trimmed();
    const bool dryRun = p.isSet(QStringLiteral("dry-run"));
    int scopes = 0;
    for (const char *s : {"run", "agent", "principal", "all"})
        scopes += p.isSet(QString::fromLatin1(s)) ? 1 : 0;
    if (scopes != 1)
        return ctx.fail(UsageOrProfile, QStringLiteral("stop: name exactly one scope: --run ID, --agent NAME, "
                                                       "--principal P or --all --confirm PROFILE_NAME"));
    if (!p.isSet(QStringLiteral("run")))
        return ctx.fail(UsageOrProfile,
                        QStringLiteral("stop: only --run is built so far; --agent, --principal and --all come "
                                       "with the multi-layer stop switch"));
    if (reason.isEmpty() && !dryRun)
        return ctx.fail(UsageOrProfile, QStringLiteral("stop: --reason TEXT is required (it goes to the audit trail)"));
    QStringList layers{QStringLiteral("runtime")};
    if (p.isSet(QStringLiteral("layers")))
        layers = p.value(QStringLiteral("layers")).split(QLatin1Char(','), Qt::SkipEmptyParts);
    for (const QString &layer : layers) {
        if (layer != QLatin1String("runtime")) {
            const bool known = layer == QLatin1String("identity") || layer == QLatin1String("payment")
                               || layer == QLatin1String("tools");
            return ctx.fail(UsageOrProfile,
                            known ? QStringLiteral("--layers: the %1 layer of the stop switch is not built yet; "
                                                   "use --layers runtime")
                                        .arg(layer)
                                  : QStringLiteral("--layers: unknown layer \"%1\" (runtime, identity, payment, tools)")
                                        .arg(layer));
        }
    }
    const QByteArray runId = p.value(QStringLiteral("run")).toUtf8();

    auto profile = ctx.loadProfile();
    if (!profile)
        return ctx.fail(UsageOrProfile, profile.error());
    auto store = ctx.openStore(false);
    if (!store)
        return ctx.fail(Unreachable, store.error());

    QHash<QByteArray, RuntimeConnector *> connectors;
    QObject owner;
    std::optional<Profile> prof = profile.value();
    auto connectorFor = [&](const QByteArray &provider) -> RuntimeConnector * {
        if (connectors.contains(provider))
            return connectors.value(provider);
        const ProviderConfig *config = prof ? prof->provider(QString::fromUtf8(provider)) : nullptr;
        RuntimeConnector *c = nullptr;
        if (config) {
            auto made = RuntimeService::makeConnector(*config, &owner);
            if (made.ok())
                c = made.value();
        }
        connectors.insert(provider, c);
        return c;
    };
    RuntimeStop stop(store.value(), prof, connectorFor);
    auto plan = stop.plan(runId);
    if (!plan) {
        if (plan.error().kind == Error::Kind::NotFound)
            return ctx.fail(NotFullySucceeded, plan.error().message + QStringLiteral(" (the scope matches nothing)"));
        return ctx.fail(Unreachable, plan.error());
    }
    const QJsonObject scope{{QStringLiteral("kind"), QStringLiteral("run")},
                            {QStringLiteral("value"), QString::fromUtf8(runId)}};
    if (dryRun) {
        if (ctx.json()) {
            StopLayerResult planned;
            planned.layer = "runtime";
            planned.agent = plan->agent;
            planned.run = plan->runId;
            planned.provider = plan->provider;
            planned.target = plan->externalId.isEmpty() ? QByteArray() : plan->kind + " task " + plan->externalId;
            planned.action = "cancel";
            QJsonObject layer = layerJson(planned);
            layer.remove(QStringLiteral("outcome"));
            layer.remove(QStringLiteral("ms"));
            layer.insert(QStringLiteral("detail"), plan->describe());
            ctx.printJson(QJsonDocument(QJsonObject{{QStringLiteral("scope"), scope},
                                                    {QStringLiteral("reason"), reason},
                                                    {QStringLiteral("dry_run"), true},
                                                    {QStringLiteral("layers"), QJsonArray{layer}}}));
        } else {
            ctx.out(QStringLiteral("Would stop run %1 (agent %2, principal %3, status %4):")
                        .arg(QString::fromUtf8(runId), QString::fromUtf8(plan->agent),
                             plan->principal.isEmpty() ? QStringLiteral("unknown") : QString::fromUtf8(plan->principal),
                             QString::fromUtf8(plan->status)));
            ctx.out(QStringLiteral("  ") + plan->describe());
        }
        return Ok;
    }

    // Nothing can be attempted when the one provider the command needs does not answer.
    if (!plan->provider.isEmpty()) {
        RuntimeConnector *c = connectorFor(plan->provider);
        if (!c) {
            const ProviderConfig *config = prof ? prof->provider(QString::fromUtf8(plan->provider)) : nullptr;
            auto made = config ? RuntimeService::makeConnector(*config, &owner)
                               : Result<RuntimeConnector *>(makeError(Error::Kind::Invalid, QStringLiteral("no such provider")));
            return ctx.fail(UsageOrProfile, made.ok() ? QStringLiteral("provider %1 has no connector").arg(QString::fromUtf8(plan->provider))
                                                      : made.error().message);
        }
        auto caps = waitFor<RuntimeCapabilities>([c](auto cb) { c->discover(cb); }, 30000,
                                                 QStringLiteral("discovering %1").arg(QString::fromUtf8(plan->provider)));
        if (!caps.ok() && (caps.error().kind == Error::Kind::Unavailable || caps.error().kind == Error::Kind::Timeout))
            return ctx.fail(Unreachable, caps.error());
        if (!caps.ok())
            return ctx.fail(NotFullySucceeded, caps.error());
    }

    std::optional<StopLayerResult> result;
    QEventLoop loop;
    stop.execute(*plan, reason, [&](const StopLayerResult &r) {
        result = r;
        loop.quit();
    });
    if (!result)
        loop.exec();
    // Exit 0 only when every requested layer that has a provider is verified; a layer without
    // one is reported skipped_not_configured and does not count as verified either.
    const bool verified = result->outcome == LayerOutcome::Verified;
    if (ctx.json()) {
        ctx.printJson(QJsonDocument(QJsonObject{{QStringLiteral("scope"), scope},
                                                {QStringLiteral("reason"), reason},
                                                {QStringLiteral("verified"), verified},
                                                {QStringLiteral("released_approvals"), QJsonArray()},
                                                {QStringLiteral("layers"), QJsonArray{layerJson(*result)}}}));
    } else {
        ctx.out(QStringLiteral("Stop of run %1 (%2): %3")
                    .arg(QString::fromUtf8(runId), reason,
                         verified ? QStringLiteral("verified") : QStringLiteral("NOT verified")));
        ctx.out(QStringLiteral("  %1 %2 %3 %4 ms  %5")
                    .arg(QString::fromUtf8(result->layer), -8)
                    .arg(QString::fromUtf8(toWireName(result->outcome)), -22)
                    .arg(result->provider.isEmpty() ? QStringLiteral("-") : QString::fromUtf8(result->provider), -16)
                    .arg(result->ms, 6)
                    .arg(result->detail));
    }
    return verified ? Ok : NotFullySucceeded;
}

} // namespace Breaker::Ctl
