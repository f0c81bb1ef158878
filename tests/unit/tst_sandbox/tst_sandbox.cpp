#include "app/sandbox/AgentSpec.h"
#include "app/sandbox/Scenario.h"
#include "app/sandbox/Sandbox.h"
#include "app/sandbox/SandboxClock.h"
#include "app/sandbox/SandboxFleet.h"
#include "app/sandbox/SandboxOptions.h"
#include "app/sandbox/SandboxProfile.h"
#include "app/sandbox/SandboxRuntimeFolder.h"
#include "models/Profile.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <map>
#include <optional>
#include <set>

using namespace Breaker;
using namespace Qt::StringLiterals;
using Otlp::OutAttribute;
using Otlp::OutSpan;

namespace {

const OutAttribute *find(const std::vector<OutAttribute> &attributes, const char *key)
{
    for (const OutAttribute &a : attributes) {
        if (a.key == key)
            return &a;
    }
    return nullptr;
}

QByteArray str(const std::vector<OutAttribute> &attributes, const char *key)
{
    const OutAttribute *a = find(attributes, key);
    if (!a || !std::holds_alternative<QByteArray>(a->value))
        return {};
    return std::get<QByteArray>(a->value);
}

QByteArray str(const OutSpan &span, const char *key)
{
    return str(span.attributes, key);
}

qint64 num(const OutSpan &span, const char *key)
{
    const OutAttribute *a = find(span.attributes, key);
    if (!a || !std::holds_alternative<qint64>(a->value))
        return -1;
    return std::get<qint64>(a->value);
}

QList<QByteArray> list(const OutSpan &span, const char *key)
{
    const OutAttribute *a = find(span.attributes, key);
    if (!a || !std::holds_alternative<QList<QByteArray>>(a->value))
        return {};
    return std::get<QList<QByteArray>>(a->value);
}

template<size_t N> bool isZero(const std::array<uint8_t, N> &id)
{
    return std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; });
}

struct Trace
{
    int agent = -1;
    std::vector<OutSpan> children; // in export order
    std::optional<OutSpan> root;
    bool rootAfterChildren = true;
};

// Runs a fleet and keeps every span it exports, grouped by trace.
class Recorder
{
public:
    // approver: answers each approval after ~30 simulated seconds (10 ms real), approving
    // three in four, as a person in Breaker answers over A2A. Without it an approval waits for
    // the agent's timeout, which keeps a run reproducible from its seed.
    explicit Recorder(SandboxFleet &fleet, bool approver = true)
    {
        if (approver)
            fleet.setRunObserver([&fleet](const SandboxFleet::RunNotice &notice) {
                if (notice.kind != SandboxFleet::RunNotice::Kind::InputRequired)
                    return;
                const quint64 runId = notice.runId;
                const bool approve = runId % 4 != 0;
                QTimer::singleShot(10, &fleet, [&fleet, runId, approve] {
                    fleet.answerRun(
                        runId,
                        approve ? SandboxRun::Verdict::Approve : SandboxRun::Verdict::Deny,
                        QByteArrayLiteral("operator:test-approver"),
                        approve ? QByteArrayLiteral("verified") : QByteArrayLiteral("no"));
                });
            });
        fleet.setSpanHandler([this](int agent, OutSpan &&span) {
            const QByteArray key = Otlp::toHex(span.traceId);
            Trace &t = traces[key];
            if (t.agent < 0)
                t.agent = agent;
            agentMismatch |= t.agent != agent;
            order.push_back(Otlp::toHex(span.traceId) + '/' + Otlp::toHex(span.spanId) + '/'
                            + span.name + '/' + QByteArray::number(span.endNs - span.startNs));
            if (span.hasParent) {
                if (t.root)
                    t.rootAfterChildren = false;
                t.children.push_back(std::move(span));
            } else {
                t.root = std::move(span);
                ++finishedPerAgent[agent];
            }
        });
    }

    std::map<QByteArray, Trace> traces;
    std::map<int, int> finishedPerAgent;
    std::vector<QByteArray> order;
    bool agentMismatch = false;

    int minFinished(int agents) const
    {
        int least = INT_MAX;
        for (int i = 0; i < agents; ++i) {
            auto it = finishedPerAgent.find(i);
            least = std::min(least, it == finishedPerAgent.end() ? 0 : it->second);
        }
        return least;
    }

    std::vector<const Trace *> finished(const QByteArray &scenario) const
    {
        std::vector<const Trace *> out;
        for (const auto &[id, t] : traces) {
            if (t.root && str(*t.root, "breaker.sandbox.scenario") == scenario)
                out.push_back(&t);
        }
        return out;
    }
};

FleetConfig fastConfig(quint64 seed)
{
    FleetConfig config;
    config.seed = seed;
    config.speed = 3000; // 50 simulated minutes a second
    config.ratePerMinute = 3;
    return config;
}

const OutSpan *childNamed(const Trace &t, const QByteArray &name)
{
    for (const OutSpan &s : t.children) {
        if (s.name == name)
            return &s;
    }
    return nullptr;
}

} // namespace

class tst_Sandbox : public QObject
{
    Q_OBJECT

private slots:
    void fleetRunsEveryAgentAndScenario();
    void spansAreWellFormed();
    void approvalRunsPauseForADecision();
    void runawayLoopCostRises();
    void policyBlocksAndInjectionAreVisible();
    void restrictedReadsAreOutsideEntitlement();
    void sameSeedSameRuns();
    void burstIsShortAndDense();
    void throttleHoldsNewRuns();
    void clockScalesDelays();
    void longRunsStartAtOnce();

    void options_data();
    void options();
    void tracesUrl_data();
    void tracesUrl();

    void profileHasTheDesignKeys();
    void startWritesAValidProfile();
    void runtimeFolderWithoutXdg();
    void refusesToOverwriteAUsersProfile_data();
    void refusesToOverwriteAUsersProfile();
    void replacesItsOwnProfile();

private:
    void runFleet(quint64 seed, int minRunsPerAgent);
    std::unique_ptr<SandboxFleet> m_fleet;
    std::unique_ptr<Recorder> m_rec;
};

// The fleet's own runs last 15-90 s, but their first span ends within seconds of the start:
// it is what shows a run in the console when the agent's runtime cannot list tasks (README (1)
// promises every agent's runs within 10 s).
void tst_Sandbox::longRunsStartAtOnce()
{
    const std::vector<AgentSpec> specs = defaultSandboxAgents();
    for (const AgentSpec &spec : specs) {
        for (int k = 0; k < kScenarioCount; ++k) {
            const auto kind = ScenarioKind(k);
            for (quint32 seed = 1; seed <= 20; ++seed) {
                QRandomGenerator rng(seed);
                const RunPlan plan = Scenario::plan(kind, spec, rng, 1.0, true);
                QVERIFY(!plan.steps.empty());
                const RunStep &first = plan.steps.front();
                QVERIFY2(!first.approval && first.gapNs + first.span.durationNs < 5'000'000'000LL,
                         qPrintable(QStringLiteral("%1 %2 seed %3: first span ends %4 ms into the run")
                                        .arg(QString::fromUtf8(spec.name), QString::fromUtf8(scenarioName(kind)))
                                        .arg(seed)
                                        .arg((first.gapNs + first.span.durationNs) / 1'000'000)));
                qint64 total = plan.tailNs;
                for (const RunStep &step : plan.steps)
                    total += step.gapNs + (step.approval ? 0 : step.span.durationNs);
                QVERIFY2(total >= 15'000'000'000LL, qPrintable(QString::number(total / 1'000'000)));
            }
        }
    }
}

void tst_Sandbox::runFleet(quint64 seed, int minRunsPerAgent)
{
    if (m_fleet && m_fleet->config().seed == seed
        && m_rec->minFinished(m_fleet->agentCount()) >= minRunsPerAgent)
        return;
    m_fleet = std::make_unique<SandboxFleet>(defaultSandboxAgents(), fastConfig(seed));
    m_rec = std::make_unique<Recorder>(*m_fleet);
    m_fleet->start();
    QTRY_VERIFY_WITH_TIMEOUT(m_rec->minFinished(m_fleet->agentCount()) >= minRunsPerAgent, 60000);
    m_fleet->stop();
}

void tst_Sandbox::fleetRunsEveryAgentAndScenario()
{
    runFleet(42, 12);
    QCOMPARE(m_fleet->agentCount(), 4);
    const QStringList names = m_fleet->agentNames();
    QCOMPARE(names,
             (QStringList{QStringLiteral("refund-agent"),
                          QStringLiteral("claims-agent"),
                          QStringLiteral("email-agent"),
                          QStringLiteral("usage-analyst")}));
    QVERIFY(!m_rec->agentMismatch);
    for (int i = 0; i < 4; ++i)
        QVERIFY2(m_rec->finishedPerAgent[i] >= 12, qPrintable(names[i]));

    std::set<QByteArray> seen;
    std::map<QByteArray, std::set<QByteArray>> normalByAgent;
    for (const auto &[id, t] : m_rec->traces) {
        if (!t.root)
            continue;
        const QByteArray scenario = str(*t.root, "breaker.sandbox.scenario");
        seen.insert(scenario);
        if (scenario == "normal")
            normalByAgent[str(*t.root, "gen_ai.agent.name")].insert(id);
    }
    for (int k = 0; k < kScenarioCount; ++k)
        QVERIFY2(seen.count(scenarioName(ScenarioKind(k))),
                 scenarioName(ScenarioKind(k)).constData());
    QCOMPARE(int(normalByAgent.size()), 4); // a normal run for every agent
}

void tst_Sandbox::spansAreWellFormed()
{
    runFleet(42, 12);
    const std::vector<AgentSpec> specs = defaultSandboxAgents();
    int checkedChildren = 0;
    for (const auto &[id, t] : m_rec->traces) {
        if (!t.root)
            continue; // still running when the fleet stopped
        const OutSpan &root = *t.root;
        const AgentSpec &spec = specs[size_t(t.agent)];
        QVERIFY(!isZero(root.traceId));
        QVERIFY(!isZero(root.spanId));
        QVERIFY(!root.hasParent);
        QCOMPARE(root.name, QByteArrayLiteral("invoke_agent ") + spec.name);
        QCOMPARE(root.kind, 1);
        QVERIFY(root.endNs >= root.startNs);
        QCOMPARE(str(root, "gen_ai.operation.name"), QByteArrayLiteral("invoke_agent"));
        QCOMPARE(str(root, "gen_ai.agent.name"), spec.name);
        QCOMPARE(str(root, "gen_ai.agent.id"), spec.id);
        QCOMPARE(str(root, "gen_ai.provider.name"), spec.providerName);
        QVERIFY(str(root, "gen_ai.conversation.id").startsWith("conv_"));
        const QByteArray principal = str(root, "enduser.id");
        QVERIFY2(spec.principals.contains(principal), principal.constData());
        QCOMPARE(list(root, "breaker.delegation"), spec.delegation);
        QVERIFY(t.rootAfterChildren);
        QVERIFY(!t.children.empty());

        std::map<QByteArray, const OutSpan *> byId;
        byId[Otlp::toHex(root.spanId)] = &root;
        for (const OutSpan &s : t.children)
            QVERIFY2(byId.emplace(Otlp::toHex(s.spanId), &s).second,
                     "span ids are unique in a trace");
        qint64 previousEnd = 0;
        for (const OutSpan &s : t.children) {
            QCOMPARE(s.traceId, root.traceId);
            QVERIFY(!isZero(s.spanId));
            QVERIFY(s.endNs >= s.startNs);
            // Every child says whose run it is, so a live run is identifiable before its root.
            QCOMPARE(str(s, "gen_ai.agent.name"), spec.name);
            QCOMPARE(str(s, "enduser.id"), principal);
            QCOMPARE(str(s, "gen_ai.conversation.id"), str(root, "gen_ai.conversation.id"));
            // The parent exists in the same trace and contains the child in time.
            const auto parent = byId.find(Otlp::toHex(s.parentSpanId));
            QVERIFY2(parent != byId.end(), s.name.constData());
            QVERIFY(s.startNs >= parent->second->startNs);
            QVERIFY(s.endNs <= parent->second->endNs);
            // Exported as they end: in end-time order.
            QVERIFY(s.endNs >= previousEnd);
            previousEnd = s.endNs;
            const QByteArray op = str(s, "gen_ai.operation.name");
            if (op == "chat") {
                QCOMPARE(s.kind, 3);
                QCOMPARE(s.name, QByteArrayLiteral("chat ") + spec.model);
                QCOMPARE(str(s, "gen_ai.request.model"), spec.model);
                QCOMPARE(str(s, "gen_ai.response.model"), spec.responseModel);
                QVERIFY(num(s, "gen_ai.usage.input_tokens") > 0);
                QVERIFY(num(s, "gen_ai.usage.output_tokens") >= 0);
                QCOMPARE(int(list(s, "gen_ai.response.finish_reasons").size()), 1);
            } else if (op == "execute_tool") {
                QCOMPARE(s.name, QByteArrayLiteral("execute_tool ") + str(s, "gen_ai.tool.name"));
                QVERIFY(str(s, "gen_ai.tool.call.id").startsWith("call_"));
                QVERIFY(!str(s, "gen_ai.tool.type").isEmpty());
                const QByteArray tool = str(s, "gen_ai.tool.name");
                if (tool == "stripe.refund" || tool == "payments.disburse") {
                    QVERIFY(num(s, "breaker.spend.amount_minor") > 0);
                    QCOMPARE(str(s, "breaker.spend.currency"), QByteArrayLiteral("usd"));
                }
            } else if (op == "retrieval") {
                QCOMPARE(s.name, QByteArrayLiteral("retrieval ") + str(s, "gen_ai.data_source.id"));
                QVERIFY(!str(s, "breaker.data.classification").isEmpty());
            } else {
                QVERIFY2(!str(s, "db.system.name").isEmpty(), s.name.constData());
                QVERIFY(!str(s, "db.collection.name").isEmpty());
                QVERIFY(s.parentSpanId != root.spanId); // a database call happens inside a tool
            }
            if (s.statusCode == 2)
                QVERIFY2(!str(s, "error.type").isEmpty(), s.name.constData());
            ++checkedChildren;
        }
    }
    QVERIFY(checkedChildren > 200);
}

void tst_Sandbox::approvalRunsPauseForADecision()
{
    runFleet(42, 12);
    const std::vector<AgentSpec> specs = defaultSandboxAgents();
    const auto runs = m_rec->finished("approval");
    QVERIFY(!runs.empty());
    for (const Trace *t : runs) {
        const AgentSpec &spec = specs[size_t(t->agent)];
        const auto &events = t->root->events;
        QCOMPARE(int(events.size()), 2);
        const Otlp::OutEvent &asked = events[0];
        const Otlp::OutEvent &decided = events[1];
        QCOMPARE(asked.name, QByteArrayLiteral("approval.requested"));
        QCOMPARE(decided.name, QByteArrayLiteral("approval.decided"));
        const QByteArray action = str(asked.attributes, "action");
        QVERIFY(action == "stripe.refund" || action == "payments.disburse");
        QVERIFY(!str(asked.attributes, "reason").isEmpty());
        QCOMPARE(str(asked.attributes, "amount_currency"), QByteArrayLiteral("usd"));
        const double amount = str(asked.attributes, "amount_value").toDouble();
        QVERIFY2(amount * 100 > double(spec.approvalThresholdMinor),
                 str(asked.attributes, "amount_value").constData());
        // The run waits for the decision (15 s or more of simulated time).
        QVERIFY(decided.timeNs - asked.timeNs >= qint64(15e9));
        QVERIFY(asked.timeNs >= t->root->startNs && decided.timeNs <= t->root->endNs);
        const QByteArray decision = str(decided.attributes, "decision");
        QVERIFY(decision == "approve" || decision == "deny");
        // Nothing happens in the run while it waits.
        for (const OutSpan &s : t->children)
            QVERIFY(s.endNs <= asked.timeNs || s.startNs >= decided.timeNs);
        // Money moves only when approved, and only after the decision.
        const OutSpan *pay = childNamed(*t, QByteArrayLiteral("execute_tool ") + action);
        if (decision == "approve") {
            QVERIFY(pay);
            QVERIFY(pay->startNs >= decided.timeNs);
            QCOMPARE(QByteArray::number(num(*pay, "breaker.spend.amount_minor")),
                     QByteArray::number(qRound64(amount * 100)));
        } else {
            QVERIFY(!pay);
        }
    }
}

void tst_Sandbox::runawayLoopCostRises()
{
    runFleet(42, 12);
    const auto runs = m_rec->finished("runaway_loop");
    QVERIFY(!runs.empty());
    for (const Trace *t : runs) {
        std::vector<qint64> inputs;
        int failedTools = 0;
        for (const OutSpan &s : t->children) {
            if (str(s, "gen_ai.operation.name") == "chat")
                inputs.push_back(num(s, "gen_ai.usage.input_tokens"));
            if (str(s, "gen_ai.operation.name") == "execute_tool" && s.statusCode == 2) {
                QVERIFY(!str(s, "error.type").isEmpty());
                ++failedTools;
            }
        }
        QVERIFY2(inputs.size() >= 12, QByteArray::number(qsizetype(inputs.size())).constData());
        QVERIFY(failedTools >= 10);
        for (size_t i = 1; i < inputs.size(); ++i)
            QVERIFY(inputs[i] > inputs[i - 1]);
        QVERIFY(inputs.back() > 10 * inputs.front());
        QCOMPARE(t->root->statusCode, 2);
        QVERIFY(!str(*t->root, "error.type").isEmpty());
    }
}

void tst_Sandbox::policyBlocksAndInjectionAreVisible()
{
    runFleet(42, 12);
    const auto blocked = m_rec->finished("policy_block");
    QVERIFY(!blocked.empty());
    for (const Trace *t : blocked) {
        int denies = 0;
        for (const OutSpan &s : t->children) {
            if (str(s, "breaker.policy.decision") != "deny")
                continue;
            ++denies;
            QCOMPARE(str(s, "gen_ai.operation.name"), QByteArrayLiteral("execute_tool"));
            QVERIFY(!str(s, "breaker.policy.reason").isEmpty());
            QCOMPARE(s.statusCode, 2);
            QCOMPARE(str(s, "error.type"), QByteArrayLiteral("policy_denied"));
        }
        QCOMPARE(denies, 1);
    }
    const auto injected = m_rec->finished("prompt_injection");
    QVERIFY(!injected.empty());
    for (const Trace *t : injected) {
        const OutSpan *shell = childNamed(*t, "execute_tool shell.exec");
        if (!shell)
            shell = childNamed(*t, "execute_tool claims.delete_record");
        QVERIFY(shell);
        QCOMPARE(str(*shell, "breaker.policy.decision"), QByteArrayLiteral("deny"));
        QCOMPARE(shell->statusCode, 2);
        const QByteArray source = str(*shell, "breaker.injection.source");
        QVERIFY(!source.isEmpty());
        // The model call that read the injected text comes right before the tool call.
        const OutSpan *before = nullptr;
        for (const OutSpan &s : t->children) {
            if (&s == shell)
                break;
            if (s.parentSpanId == t->root->spanId)
                before = &s;
        }
        QVERIFY(before);
        QCOMPARE(str(*before, "gen_ai.operation.name"), QByteArrayLiteral("chat"));
        QCOMPARE(list(*before, "gen_ai.response.finish_reasons"), QList<QByteArray>{"tool_calls"});
        QVERIFY(before->endNs <= shell->startNs);
    }
}

void tst_Sandbox::restrictedReadsAreOutsideEntitlement()
{
    runFleet(42, 12);
    const std::vector<AgentSpec> specs = defaultSandboxAgents();
    int restrictedReads = 0;
    for (const auto &[id, t] : m_rec->traces) {
        if (!t.root)
            continue;
        const bool restrictedRun = str(*t.root, "breaker.sandbox.scenario") == "restricted_data";
        int restrictedHere = 0;
        for (const OutSpan &s : t.children) {
            QByteArray source = str(s, "gen_ai.data_source.id");
            if (source.isEmpty())
                source = str(s, "db.collection.name");
            if (source.isEmpty())
                continue;
            const bool entitled = specs[size_t(t.agent)].dataSources.contains(source);
            if (str(s, "breaker.data.classification") == "restricted") {
                QVERIFY2(!entitled, source.constData());
                ++restrictedHere;
            } else {
                // Ordinary reads stay inside what the profile lists, so they raise no alarm.
                QVERIFY2(entitled,
                         QByteArray(specs[size_t(t.agent)].name + ' ' + source).constData());
            }
        }
        QCOMPARE(restrictedHere > 0, restrictedRun);
        restrictedReads += restrictedHere;
    }
    QVERIFY(restrictedReads > 0);
}

void tst_Sandbox::sameSeedSameRuns()
{
    auto collect = [](quint64 seed) {
        SandboxFleet fleet(defaultSandboxAgents(), fastConfig(seed));
        Recorder rec(fleet, false);
        fleet.start();
        [&] { QTRY_VERIFY_WITH_TIMEOUT(rec.order.size() >= 400, 30000); }();
        fleet.stop();
        rec.order.resize(400);
        return rec.order;
    };
    const auto a = collect(7);
    const auto b = collect(7);
    const auto c = collect(8);
    QCOMPARE(a.size(), size_t(400));
    QVERIFY(a == b);
    QVERIFY(a != c);
}

void tst_Sandbox::burstIsShortAndDense()
{
    FleetConfig config;
    config.seed = 3;
    config.ratePerMinute = 12000;
    config.durationScale = 0.02;
    SandboxFleet fleet(defaultSandboxAgents(), config);
    Recorder rec(fleet);
    fleet.start();
    auto normalRoots = [&rec] {
        int n = 0;
        for (const auto &[id, t] : rec.traces)
            n += t.root && str(*t.root, "breaker.sandbox.scenario") == "normal";
        return n;
    };
    // Real time, not sped up: thousands of spans a second, and many short runs ended in 10 s
    // (counted as they end: the first spans of every run come at once, the roots last).
    QTRY_VERIFY_WITH_TIMEOUT(rec.order.size() >= 3000 && normalRoots() > 50, 10000);
    fleet.stop();
    for (const auto &[id, t] : rec.traces)
        if (t.root && str(*t.root, "breaker.sandbox.scenario") == "normal")
            QVERIFY(t.root->endNs - t.root->startNs < qint64(1e9));
    QVERIFY(fleet.stats().runsStarted > 200);
}

void tst_Sandbox::throttleHoldsNewRuns()
{
    SandboxFleet fleet(defaultSandboxAgents(), fastConfig(5));
    Recorder rec(fleet);
    bool behind = true;
    fleet.setThrottle([&behind] { return behind; });
    fleet.start();
    // While the consumer is behind, no run starts.
    QTRY_VERIFY_WITH_TIMEOUT(fleet.stats().runsThrottled >= 20, 10000);
    QCOMPARE(fleet.stats().runsStarted, quint64(0));
    QVERIFY(rec.order.empty());
    behind = false;
    QTRY_VERIFY_WITH_TIMEOUT(rec.minFinished(4) >= 2, 10000);
    fleet.stop();
}

void tst_Sandbox::clockScalesDelays()
{
    SandboxClock normal(1.0, 0);
    QCOMPARE(normal.realDelayMs(qint64(1500e6)), 1500);
    QCOMPARE(normal.realDelayMs(-5), 0);
    SandboxClock fast(1000.0, 0);
    QCOMPARE(fast.realDelayMs(qint64(60e9)), 60);
    QCOMPARE(fast.simulatedNs(2), qint64(2e9));
    QVERIFY(normal.nowNs() >= 0);
    const qint64 wall = SandboxClock::wallClockNs();
    SandboxClock live;
    QVERIFY(qAbs(live.nowNs() - wall) < qint64(5e9));
}

void tst_Sandbox::options_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("errorContains");

    auto args = [](std::initializer_list<const char *> items) {
        QStringList out;
        for (const char *item : items)
            out << QString::fromUtf8(item);
        return out;
    };
    QTest::newRow("defaults") << QStringList{} << true << QString();
    QTest::newRow("all") << args({"--profile-out",
                                  "/tmp/p.json",
                                  "--otlp-endpoint",
                                  "http://127.0.0.1:4318",
                                  "--rate",
                                  "12.5",
                                  "--burst",
                                  "--seed",
                                  "99",
                                  "--otlp-format",
                                  "proto",
                                  "--latency-ms",
                                  "payment=250",
                                  "--fault",
                                  "tools=down",
                                  "--fault",
                                  "identity=garbage"})
                         << true << QString();
    QTest::newRow("rate zero") << args({"--rate", "0"}) << false << u"--rate"_s;
    QTest::newRow("rate text") << args({"--rate", "lots"}) << false << u"--rate"_s;
    QTest::newRow("seed negative") << args({"--seed", "-3"}) << false << u"--seed"_s;
    QTest::newRow("format xml") << args({"--otlp-format", "xml"}) << false << u"--otlp-format"_s;
    QTest::newRow("endpoint ftp") << args({"--otlp-endpoint", "ftp://127.0.0.1/"}) << false
                                  << u"http"_s;
    QTest::newRow("endpoint no host")
        << args({"--otlp-endpoint", "http://"}) << false << u"--otlp-endpoint"_s;
    QTest::newRow("endpoint query")
        << args({"--otlp-endpoint", "http://h:1/?a=b"}) << false << u"query"_s;
    QTest::newRow("latency negative")
        << args({"--latency-ms", "payment=-1"}) << false << u"milliseconds"_s;
    QTest::newRow("latency no value")
        << args({"--latency-ms", "payment"}) << false << u"LAYER=VALUE"_s;
    QTest::newRow("latency twice")
        << args({"--latency-ms", "tools=1", "--latency-ms", "tools=2"}) << false << u"twice"_s;
    QTest::newRow("fault unknown layer")
        << args({"--fault", "database=down"}) << false << u"unknown layer"_s;
    QTest::newRow("fault unknown kind")
        << args({"--fault", "tools=explode"}) << false << u"explode"_s;
    QTest::newRow("kill_switch layer")
        << args({"--fault", "kill_switch=slow"}) << true << QString();
    QTest::newRow("positional") << args({"extra"}) << false << u"unexpected"_s;
}

void tst_Sandbox::options()
{
    QFETCH(QStringList, args);
    QFETCH(bool, ok);
    QFETCH(QString, errorContains);
    QCommandLineParser parser;
    addSandboxOptions(parser);
    QVERIFY2(parser.parse(QStringList{QStringLiteral("breaker-sandbox")} + args),
             qPrintable(parser.errorText()));
    const auto options = sandboxOptionsFromParser(parser);
    QCOMPARE(options.ok(), ok);
    if (!ok) {
        QVERIFY2(options.error().message.contains(errorContains),
                 qPrintable(options.error().message));
        QCOMPARE(options.error().kind, Error::Kind::Invalid);
        return;
    }
    if (QTest::currentDataTag() == QByteArray("defaults")) {
        QCOMPARE(options->ratePerMinute, 3.0);
        QCOMPARE(options->format, OtlpFormat::Both);
        QVERIFY(!options->burst);
        QVERIFY(!options->seedGiven);
        QVERIFY(options->otlpEndpoint.isEmpty());
    } else if (QTest::currentDataTag() == QByteArray("all")) {
        QCOMPARE(options->profileOut, QStringLiteral("/tmp/p.json"));
        QCOMPARE(options->otlpEndpoint, QUrl(QStringLiteral("http://127.0.0.1:4318")));
        QCOMPARE(options->ratePerMinute, 12.5);
        QVERIFY(options->burst);
        QCOMPARE(options->seed, quint64(99));
        QCOMPARE(options->format, OtlpFormat::Protobuf);
        QCOMPARE(options->latencyMs.value(QStringLiteral("payment")), 250);
        QCOMPARE(options->faults.value(QStringLiteral("tools")), SandboxFault::Down);
        QCOMPARE(options->faults.value(QStringLiteral("identity")), SandboxFault::Garbage);
    }
}

void tst_Sandbox::tracesUrl_data()
{
    QTest::addColumn<QString>("endpoint");
    QTest::addColumn<QString>("traces");
    QTest::newRow("bare") << u"http://127.0.0.1:4318"_s << u"http://127.0.0.1:4318/v1/traces"_s;
    QTest::newRow("slash") << u"http://127.0.0.1:4318/"_s << u"http://127.0.0.1:4318/v1/traces"_s;
    QTest::newRow("base path") << u"https://otel.example/collector/"_s
                               << u"https://otel.example/collector/v1/traces"_s;
    QTest::newRow("already") << u"http://[::1]:4318/v1/traces"_s
                             << u"http://[::1]:4318/v1/traces"_s;
}

void tst_Sandbox::tracesUrl()
{
    QFETCH(QString, endpoint);
    QFETCH(QString, traces);
    const auto url = parseOtlpEndpoint(endpoint);
    QVERIFY(url.ok());
    QCOMPARE(otlpTracesUrl(*url).toString(), traces);
}

void tst_Sandbox::profileHasTheDesignKeys()
{
    const QJsonObject profile
        = SandboxProfile::build(defaultSandboxAgents(), QStringLiteral("127.0.0.1:4318"));
    QCOMPARE(profile.keys(), (QStringList{u"agents"_s, u"name"_s, u"providers"_s, u"version"_s}));
    QCOMPARE(profile.value(u"version").toInt(), 1);
    QCOMPARE(profile.value(u"name").toString(), QStringLiteral("sandbox"));
    const QJsonObject providers = profile.value(u"providers").toObject();
    QCOMPARE(providers.keys(), QStringList{u"otlp"_s});
    const QJsonObject otlp = providers.value(u"otlp").toObject();
    QCOMPARE(otlp.keys(), (QStringList{u"kind"_s, u"layer"_s, u"listen"_s}));
    QCOMPARE(otlp.value(u"layer").toString(), QStringLiteral("observability"));
    QCOMPARE(otlp.value(u"kind").toString(), QStringLiteral("otlp"));
    QCOMPARE(otlp.value(u"listen").toString(), QStringLiteral("127.0.0.1:4318"));
    const QJsonObject agents = profile.value(u"agents").toObject();
    QCOMPARE(
        agents.keys(),
        (QStringList{u"claims-agent"_s, u"email-agent"_s, u"refund-agent"_s, u"usage-analyst"_s}));
    for (const QString &name : agents.keys()) {
        const QJsonObject a = agents.value(name).toObject();
        // The fleet's canary (drills run against it) says so; the others do not.
        QStringList keys{u"approval"_s, u"data"_s, u"otel_names"_s, u"owner"_s, u"principals"_s};
        if (name == u"claims-agent") {
            keys.insert(1, u"canary"_s); // keys() are sorted
            QVERIFY(a.value(u"canary").toBool());
        }
        QCOMPARE(a.keys(), keys);
        QVERIFY(!a.value(u"owner").toString().isEmpty());
        QVERIFY(!a.value(u"principals").toArray().isEmpty());
        QVERIFY(!a.value(u"data").toArray().isEmpty());
        QCOMPARE(a.value(u"otel_names").toArray(), QJsonArray{name});
        const QJsonObject approval = a.value(u"approval").toObject();
        QCOMPARE(approval.value(u"timeout_s").toInt(), 900);
        QCOMPARE(approval.value(u"on_timeout").toString(), QStringLiteral("deny"));
    }
    QCOMPARE(agents.value(u"refund-agent").toObject().value(u"owner").toString(),
             QStringLiteral("payments-oncall"));
    QVERIFY(agents.value(u"refund-agent")
                .toObject()
                .value(u"principals")
                .toArray()
                .contains(QStringLiteral("user:ada@example.com")));

    // The profile validator (models/Profile.h) accepts it, and sees what the sandbox meant.
    const QByteArray json = SandboxProfile::toJson(profile);
    const auto parsed = parseProfile(json, QStringLiteral("sandbox-profile.json"));
    QVERIFY2(parsed.ok(),
             parsed.ok() ? ""
                         : qPrintable(parsed.error().message + QStringLiteral(" @ ")
                                      + parsed.error().where));
    QCOMPARE(parsed->name, QStringLiteral("sandbox"));
    QCOMPARE(int(parsed->agents.size()), 4);
    const ProviderConfig *receiver = parsed->observabilityReceiver();
    QVERIFY(receiver);
    QCOMPARE(receiver->listenHost, QStringLiteral("127.0.0.1"));
    QCOMPARE(receiver->listenPort, 4318);
    const AgentConfig *refund = parsed->agentForOtelName("refund-agent");
    QVERIFY(refund);
    QCOMPARE(refund->approvalTimeoutS.value_or(-1), 900);
}

void tst_Sandbox::startWritesAValidProfile()
{
    QTemporaryDir xdg;
    QVERIFY(xdg.isValid());
    SandboxOptions options;
    options.otlpEndpoint = QUrl(QStringLiteral("http://127.0.0.1:9"));
    options.seed = 1;
    options.seedGiven = true;
    QString folder;
    {
        Sandbox sandbox(options);
        sandbox.setRuntimeDir(xdg.path());
        const auto started = sandbox.start();
        QVERIFY2(started.ok(), started.ok() ? "" : qPrintable(started.error().message));
        folder = sandbox.runtimeFolder();
        QVERIFY(folder.startsWith(xdg.path() + QStringLiteral("/breaker/sandbox-")));
        QCOMPARE(QFileInfo(folder).permissions() & 0x0077, QFileDevice::Permissions());
        QCOMPARE(QFileInfo(xdg.path() + QStringLiteral("/breaker")).permissions() & 0x0077,
                 QFileDevice::Permissions());
        QCOMPARE(sandbox.profilePath(), folder + QStringLiteral("/profile.json"));
        QFile file(sandbox.profilePath());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.permissions() & 0x0077, QFileDevice::Permissions());
        const auto parsed = parseProfile(file.readAll(), file.fileName());
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : qPrintable(parsed.error().message));
        QCOMPARE(parsed->observabilityReceiver()->listenPort, 9);

        const QByteArray ready = sandbox.readyLine();
        QVERIFY(ready.startsWith("READY {"));
        QVERIFY(!ready.contains('\n'));
        const QJsonObject o = QJsonDocument::fromJson(ready.mid(6)).object();
        QCOMPARE(o.value(u"profile").toString(), sandbox.profilePath());
        QCOMPARE(o.value(u"otlp_endpoint").toString(), QStringLiteral("http://127.0.0.1:9"));
        QCOMPARE(int(o.value(u"agents").toArray().size()), 4);
        QCOMPARE(sandbox.otlpTracesUrl().toString(),
                 QStringLiteral("http://127.0.0.1:9/v1/traces"));
        sandbox.fleet()->stop();
    }
    QVERIFY2(!QFileInfo::exists(folder), "the runtime folder goes away with the sandbox");

    // Without an endpoint, a free loopback port is chosen and written for the console.
    Sandbox second(SandboxOptions{});
    second.setRuntimeDir(xdg.path());
    QVERIFY(second.start().ok());
    QCOMPARE(second.otlpEndpoint().host(), QStringLiteral("127.0.0.1"));
    QVERIFY(second.otlpEndpoint().port() > 0);
    QFile file(second.profilePath());
    QVERIFY(file.open(QIODevice::ReadOnly));
    const auto parsed = parseProfile(file.readAll(), file.fileName());
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->observabilityReceiver()->listenPort, second.otlpEndpoint().port());
    second.fleet()->stop();
}

void tst_Sandbox::runtimeFolderWithoutXdg()
{
    auto folder = SandboxRuntimeFolder::create(QString());
    QVERIFY(folder.ok());
    const QString path = (*folder)->path();
    const QString base = QFileInfo(path).absolutePath();
    QVERIFY(QFileInfo(base).fileName().startsWith(QStringLiteral("breaker-")));
    QCOMPARE(QFileInfo(base).permissions() & 0x0077, QFileDevice::Permissions());
    QCOMPARE(QFileInfo(path).permissions() & 0x0077, QFileDevice::Permissions());
    QVERIFY(QFileInfo(path).isDir());
    folder->reset();
    QVERIFY(!QFileInfo::exists(path));
    QVERIFY(!QFileInfo::exists(base));
}

void tst_Sandbox::refusesToOverwriteAUsersProfile_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::newRow("user profile") << QByteArray(
        R"({"version":1,"name":"payments-prod","providers":{},"agents":{}})");
    QTest::newRow("no name") << QByteArray(R"({"version":1})");
    QTest::newRow("not json") << QByteArray("name: sandbox\n");
    QTest::newRow("empty") << QByteArray();
}

void tst_Sandbox::refusesToOverwriteAUsersProfile()
{
    QFETCH(QByteArray, content);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("profile.json"));
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
    }
    SandboxOptions options;
    options.profileOut = path;
    options.otlpEndpoint = QUrl(QStringLiteral("http://127.0.0.1:9"));
    Sandbox sandbox(options);
    sandbox.setRuntimeDir(dir.path());
    const auto started = sandbox.start();
    QVERIFY(!started.ok());
    QCOMPARE(started.error().kind, Error::Kind::Conflict);
    QVERIFY2(started.error().message.contains(path), qPrintable(started.error().message));
    QVERIFY(started.error().message.contains(QStringLiteral("--profile-out")));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), content);
    QVERIFY(!sandbox.fleet());
}

void tst_Sandbox::replacesItsOwnProfile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("sandbox.json"));
    SandboxOptions options;
    options.profileOut = path;
    options.otlpEndpoint = QUrl(QStringLiteral("http://127.0.0.1:1111"));
    {
        Sandbox first(options);
        first.setRuntimeDir(dir.path());
        QVERIFY(first.start().ok());
        first.fleet()->stop();
    }
    QVERIFY2(QFileInfo::exists(path), "a --profile-out file stays after the sandbox exits");
    options.otlpEndpoint = QUrl(QStringLiteral("http://127.0.0.1:2222"));
    Sandbox second(options);
    second.setRuntimeDir(dir.path());
    const auto started = second.start();
    QVERIFY2(started.ok(), started.ok() ? "" : qPrintable(started.error().message));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject profile = QJsonDocument::fromJson(f.readAll()).object();
    QCOMPARE(profile.value(u"providers")
                 .toObject()
                 .value(u"otlp")
                 .toObject()
                 .value(u"listen")
                 .toString(),
             QStringLiteral("127.0.0.1:2222"));
    second.fleet()->stop();
}

QTEST_GUILESS_MAIN(tst_Sandbox)
#include "tst_sandbox.moc"
