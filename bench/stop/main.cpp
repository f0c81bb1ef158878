// bench_stop: the stop switch's two targets of issue 4 (docs/BENCHMARKS.md, "Stop switch").
//  1. One agent, four layers, every provider with 100 ms of injected latency: time from the call
//     to every layer verified, p50 and p99; beside it the same stop done one layer after another
//     (StopSwitch::setSequential), in the same run. Goal: parallel <= 0.35 of sequential.
//  2. --all over 100 agents x 4 layers, 50 ms per call, the Stripe-shaped API enforcing Stripe's
//     live-mode limit of 100 requests/s: total time to all verified. Goal: under 5 s.
// Everything runs against the sandbox's own providers (in this process, over loopback HTTP):
// its A2A hosts, OAuth server, Stripe- and OPA-shaped APIs, with their latency injection.
#include "app/sandbox/A2aHost.h"
#include "app/sandbox/Sandbox.h"
#include "app/sandbox/fakes/OAuthFake.h"
#include "app/sandbox/fakes/StripeFake.h"
#include "app/services/LayerService.h"
#include "app/services/RuntimeService.h"
#include "app/services/StopSwitch.h"
#include "connectors/payment/StripeIssuingConnector.h"
#include "models/Store.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>

using namespace Breaker;

namespace {

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

StopOutcome runStop(StopSwitch &s, const StopPlan &plan, bool resume)
{
    std::optional<StopOutcome> out;
    QEventLoop loop;
    auto done = [&](const StopOutcome &o) {
        out = o;
        loop.quit();
    };
    if (resume)
        s.resume(plan, QStringLiteral("bench"), {}, done);
    else
        s.execute(plan, QStringLiteral("bench"), {}, done);
    if (!out)
        loop.exec();
    return *out;
}

QString secretFile(const QTemporaryDir &dir, const QString &name, const QByteArray &secret)
{
    QSaveFile f(dir.filePath(name));
    f.open(QIODevice::WriteOnly);
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    f.write(secret);
    f.commit();
    return QStringLiteral("file:") + dir.filePath(name);
}

struct Harness
{
    std::unique_ptr<StopSwitch> stopSwitch;
    std::unique_ptr<LayerService> layers;
    std::unique_ptr<QObject> owner;
    QHash<QByteArray, RuntimeConnector *> runtimes;
};

void makeSwitch(Harness &h, const std::shared_ptr<Store> &store, const Profile &profile)
{
    h.owner = std::make_unique<QObject>();
    h.layers = std::make_unique<LayerService>();
    h.layers->applyProfile(profile);
    Harness *hp = &h;
    const Profile copy = profile;
    h.stopSwitch = std::make_unique<StopSwitch>(
        store, profile,
        [hp, copy](const QByteArray &provider) -> RuntimeConnector * {
            if (!hp->runtimes.contains(provider)) {
                const ProviderConfig *p = copy.provider(QString::fromUtf8(provider));
                auto made = p ? RuntimeService::makeConnector(*p, hp->owner.get()) : Result<RuntimeConnector *>(nullptr);
                hp->runtimes.insert(provider, made.ok() ? made.value() : nullptr);
            }
            return hp->runtimes.value(provider);
        },
        [hp](const QByteArray &provider) { return hp->layers->connector(provider); });
}

void report(const char *label, const StopOutcome &o)
{
    int verified = 0;
    for (const StopLayerResult &r : o.rows)
        verified += r.outcome == LayerOutcome::Verified ? 1 : 0;
    if (verified != int(o.rows.size())) {
        std::fprintf(stderr, "%s: %d of %zu rows verified\n", label, verified, o.rows.size());
        for (const StopLayerResult &r : o.rows)
            if (r.outcome != LayerOutcome::Verified)
                std::fprintf(stderr, "  %s %s %s: %s\n", r.layer.constData(), r.agent.constData(),
                             toWireName(r.outcome).constData(), qPrintable(r.detail));
    }
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOptions({{QStringLiteral("rounds"), QStringLiteral("stops of one agent, each way"), QStringLiteral("N"), QStringLiteral("30")},
                       {QStringLiteral("latency-ms"), QStringLiteral("latency per provider, one-agent part"), QStringLiteral("MS"), QStringLiteral("100")},
                       {QStringLiteral("agents"), QStringLiteral("agents in the --all part"), QStringLiteral("N"), QStringLiteral("100")},
                       {QStringLiteral("all-latency-ms"), QStringLiteral("latency per call, --all part"), QStringLiteral("MS"), QStringLiteral("50")},
                       {QStringLiteral("all-rounds"), QStringLiteral("--all stops"), QStringLiteral("N"), QStringLiteral("3")}});
    parser.process(app);
    const int rounds = parser.value(QStringLiteral("rounds")).toInt();
    const int latency = parser.value(QStringLiteral("latency-ms")).toInt();
    const int agentCount = parser.value(QStringLiteral("agents")).toInt();
    const int allLatency = parser.value(QStringLiteral("all-latency-ms")).toInt();
    const int allRounds = parser.value(QStringLiteral("all-rounds")).toInt();
    qputenv("QT_LOGGING_RULES", "breaker.*.info=false");

    QTemporaryDir dir;
    // ---- 1. One agent, four layers, `latency` ms on every provider.
    {
        SandboxOptions options;
        options.ratePerMinute = 0.001; // no runs of its own: the stop finds nothing in flight
        options.rateGiven = true;
        for (const char *layer : {"runtime", "identity", "payment", "tools"})
            options.latencyMs.insert(QString::fromLatin1(layer), latency);
        Sandbox sandbox(options);
        sandbox.setRuntimeDir(dir.path());
        if (auto s = sandbox.start(); !s) {
            std::fprintf(stderr, "sandbox: %s\n", qPrintable(s.error().message));
            return 1;
        }
        auto profile = loadProfile(sandbox.profilePath());
        auto store = Store::open(dir.filePath(QStringLiteral("one.db")));
        if (!profile || !store) {
            std::fprintf(stderr, "profile or store\n");
            return 1;
        }
        Harness h;
        makeSwitch(h, store.value(), profile.value());
        const StopScope scope{StopScope::Kind::Agent, "refund-agent"};
        std::vector<double> parallel, sequential;
        for (int round = -1; round < rounds; ++round) { // round -1 warms up discovery
            for (bool seq : {false, true}) {
                h.stopSwitch->setSequential(seq);
                auto plan = h.stopSwitch->plan(scope);
                QElapsedTimer clock;
                clock.start();
                const StopOutcome o = runStop(*h.stopSwitch, *plan, false);
                const double ms = double(clock.nsecsElapsed()) / 1e6;
                report(seq ? "sequential" : "parallel", o);
                if (round >= 0)
                    (seq ? sequential : parallel).push_back(ms);
                auto undo = h.stopSwitch->planResume(scope);
                runStop(*h.stopSwitch, *undo, true);
            }
        }
        const double p50 = percentile(parallel, 0.5), s50 = percentile(sequential, 0.5);
        std::printf("one agent, 4 layers, %d ms per provider, %d rounds each way\n", latency, rounds);
        std::printf("  parallel   p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms\n", p50, percentile(parallel, 0.99),
                    percentile(parallel, 1.0));
        std::printf("  sequential p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms\n", s50, percentile(sequential, 0.99),
                    percentile(sequential, 1.0));
        std::printf("  parallel / sequential (p50) = %.2f (goal <= 0.35)\n", s50 > 0 ? p50 / s50 : 0.0);
        sandbox.shutdown(0);
    }

    // ---- 2. --all over `agentCount` agents x 4 layers, `allLatency` ms per call.
    {
        SandboxOptions options;
        options.ratePerMinute = 0.001;
        options.rateGiven = true;
        for (const char *layer : {"runtime", "identity", "payment", "tools"})
            options.latencyMs.insert(QString::fromLatin1(layer), allLatency);
        Sandbox sandbox(options);
        QTemporaryDir runDir;
        sandbox.setRuntimeDir(runDir.path());
        if (auto s = sandbox.start(); !s) {
            std::fprintf(stderr, "sandbox: %s\n", qPrintable(s.error().message));
            return 1;
        }
        // Stripe's live-mode limit, enforced by the Stripe-shaped API.
        sandbox.stripe()->setRateLimit(100);
        QJsonObject base = QJsonDocument::fromJson([&] {
                               QFile f(sandbox.profilePath());
                               f.open(QIODevice::ReadOnly);
                               return f.readAll();
                           }())
                               .object();
        QJsonObject providers = base.value(QStringLiteral("providers")).toObject();
        QJsonObject agents;
        sandbox.oauth()->registerClient("bench-agent", "bench-agent-secret");
        for (int i = 0; i < agentCount; ++i) {
            const QString name = QStringLiteral("agent-%1").arg(i, 3, 10, QLatin1Char('0'));
            const QByteArray token = sandbox.oauth()->issueRefreshToken("bench-agent", name.toUtf8(), "tools");
            const QByteArray holder = sandbox.stripe()->createCardholder(name);
            const QByteArray card = sandbox.stripe()->createCard(holder);
            // Runtimes: the sandbox's four A2A hosts, shared round robin, each agent by its own
            // selector: none has a run in flight, so the runtime is asked and says so (a run in
            // flight would add the cancel's proof, 5 s of no work by DESIGN.md section 4).
            static const char *runtimes[] = {"refund-agent-a2a", "claims-agent-a2a", "email-agent-a2a", "usage-analyst-a2a"};
            agents.insert(name, QJsonObject{
                                    {QStringLiteral("runtime"),
                                     QJsonObject{{QStringLiteral("provider"), QString::fromLatin1(runtimes[i % 4])},
                                                 {QStringLiteral("agent"), name}}},
                                    {QStringLiteral("identity"),
                                     QJsonObject{{QStringLiteral("provider"), QStringLiteral("sandbox-idp")},
                                                 {QStringLiteral("token"), secretFile(dir, name + QStringLiteral(".token"), token)}}},
                                    {QStringLiteral("payment"),
                                     QJsonObject{{QStringLiteral("provider"), QStringLiteral("sandbox-stripe")},
                                                 {QStringLiteral("cards"), QJsonArray{QString::fromUtf8(card)}}}},
                                    {QStringLiteral("tools"),
                                     QJsonObject{{QStringLiteral("provider"), QStringLiteral("sandbox-opa")},
                                                 {QStringLiteral("names"), QJsonArray{QStringLiteral("crm.lookup"),
                                                                                     QStringLiteral("email.send"),
                                                                                     QStringLiteral("stripe.refund")}}}}});
        }
        base.insert(QStringLiteral("name"), QStringLiteral("bench-all"));
        base.insert(QStringLiteral("agents"), agents);
        const QString path = dir.filePath(QStringLiteral("all-profile.json"));
        {
            QSaveFile f(path);
            f.open(QIODevice::WriteOnly);
            f.write(QJsonDocument(base).toJson());
            f.commit();
        }
        auto profile = loadProfile(path);
        auto store = Store::open(dir.filePath(QStringLiteral("all.db")));
        if (!profile || !store) {
            std::fprintf(stderr, "profile: %s\n", profile ? "" : qPrintable(profile.error().message));
            return 1;
        }
        Harness h;
        makeSwitch(h, store.value(), profile.value());
        // The live-mode pace (the connector paces test keys at 20/s by default).
        if (auto c = h.layers->connector("sandbox-stripe"); c)
            if (auto *stripe = qobject_cast<StripeIssuingConnector *>(c.value()))
                stripe->setRequestRate(80); // under the 100/s the API enforces, with room for its window edges
        const StopScope scope{StopScope::Kind::All, "bench-all"};
        std::vector<double> totals;
        for (int round = 0; round < allRounds; ++round) {
            auto plan = h.stopSwitch->plan(scope);
            if (!plan) {
                std::fprintf(stderr, "plan: %s\n", qPrintable(plan.error().message));
                return 1;
            }
            const int rateLimitedBefore = sandbox.stripe()->rateLimitedCount();
            QElapsedTimer clock;
            clock.start();
            const StopOutcome o = runStop(*h.stopSwitch, *plan, false);
            const double ms = double(clock.nsecsElapsed()) / 1e6;
            report("--all", o);
            totals.push_back(ms);
            int verified = 0;
            for (const StopLayerResult &r : o.rows)
                verified += r.outcome == LayerOutcome::Verified ? 1 : 0;
            std::printf("--all round %d: %zu rows, %d verified, %.0f ms, Stripe 429s: %d\n", round + 1, o.rows.size(),
                        verified, ms, sandbox.stripe()->rateLimitedCount() - rateLimitedBefore);
            QMap<QByteArray, qint64> slowest;
            for (const StopLayerResult &r : o.rows)
                slowest[r.layer] = std::max(slowest.value(r.layer), r.ms);
            for (const StopLayerResult &r : o.rows)
                if (r.ms == slowest.value(r.layer) && qEnvironmentVariableIsSet("BENCH_STOP_DETAIL"))
                    std::printf("  %s %s (%s): %s\n", r.layer.constData(), r.agent.constData(), r.provider.constData(),
                                qPrintable(r.detail));
            for (auto it = slowest.cbegin(); it != slowest.cend(); ++it)
                std::printf("  slowest %-8s row: %lld ms\n", it.key().constData(), static_cast<long long>(it.value()));
            auto undo = h.stopSwitch->planResume({StopScope::Kind::Principal, "none"});
            Q_UNUSED(undo);
            for (int i = 0; i < agentCount; ++i) {
                auto r = h.stopSwitch->planResume(
                    {StopScope::Kind::Agent, QStringLiteral("agent-%1").arg(i, 3, 10, QLatin1Char('0')).toUtf8()});
                if (r)
                    runStop(*h.stopSwitch, *r, true);
            }
        }
        std::printf("--all over %d agents x 4 layers, %d ms per call, Stripe limit 100 req/s: p50 %.0f ms, max %.0f ms "
                    "(goal < 5000 ms)\n",
                    agentCount, allLatency, percentile(totals, 0.5), percentile(totals, 1.0));
        sandbox.shutdown(0);
    }
    return 0;
}
