// The stop switch (issue 4 item 4) against scripted layers: scopes resolved at execution time,
// the intent audited before anything is done, all layers hit at once, each outcome carried
// through with the provider's words, gaps shown as gaps, deadlines kept, approvals released,
// two stops of one scope joined, and resume; each stop's proofs for the control map, and drills.
#include "app/services/StopDrill.h"
#include "app/services/StopSwitch.h"
#include "models/ControlMap.h"
#include "models/Store.h"
#include "tests/common/ScriptedRuntime.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace Breaker;
using Testing::ScriptedRuntime;

namespace {

// One containment layer that answers what the test says, after `delayMs` (never when < 0).
class ScriptedLayer : public LayerConnector
{
public:
    ScriptedLayer(QByteArray layer, QByteArray provider, std::vector<QByteArray> *calls)
        : m_layer(std::move(layer))
        , m_provider(std::move(provider))
        , m_calls(calls)
    {}
    LayerOutcome outcome = LayerOutcome::Verified;
    QString detail = QStringLiteral("read back");
    int delayMs = 10;
    bool releasable = true;
    int contains = 0, releases = 0;
    std::vector<LayerTarget> targets;

    QByteArray layer() const override { return m_layer; }
    QByteArray provider() const override { return m_provider; }
    QByteArray kind() const override { return "scripted"; }
    void contain(const LayerTarget &t, const LayerDeadlines &, LayerDone done) override
    {
        ++contains;
        answer(t, "contain", std::move(done));
    }
    bool canRelease() const override { return releasable; }
    void release(const LayerTarget &t, const LayerDeadlines &, LayerDone done) override
    {
        ++releases;
        answer(t, "release", std::move(done));
    }
    void checkLeaks(const LayerTarget &, qint64, std::function<void(Result<std::vector<LayerLeak>>)> done) override
    {
        done(std::vector<LayerLeak>{});
    }
    void probe(std::function<void(Result<QString>)> done) override { done(QStringLiteral("ok")); }

private:
    void answer(const LayerTarget &t, const char *verb, LayerDone done)
    {
        targets.push_back(t);
        m_calls->push_back(m_layer + ':' + verb + ':' + t.agent);
        if (delayMs < 0)
            return;
        std::vector<StopLayerResult> rows;
        const QStringList items = m_layer == "payment" ? t.cards : QStringList{QString()};
        for (const QString &item : items) {
            StopLayerResult r;
            r.layer = m_layer;
            r.provider = m_provider;
            r.agent = t.agent;
            r.target = item.isEmpty() ? QByteArray("x") : "card " + item.toUtf8();
            r.outcome = outcome;
            r.detail = detail;
            r.ms = delayMs;
            rows.push_back(r);
        }
        const QByteArray tag = m_layer + ":answered:" + t.agent;
        QTimer::singleShot(delayMs, this, [rows, done, calls = m_calls, tag] {
            calls->push_back(tag);
            done(rows);
        });
    }
    QByteArray m_layer, m_provider;
    std::vector<QByteArray> *m_calls;
};

// A claim of `plan`'s stop by process `pid` of this host, made now.
StopClaim claimOf(const StopPlan &plan, qint64 pid, const QByteArray &operation)
{
    StopClaim claim;
    claim.scope = StopSwitch::stopKey(plan);
    claim.operation = operation;
    claim.pid = pid;
    claim.host = QSysInfo::machineHostName().toUtf8();
    claim.actor = QStringLiteral("operator:someone");
    claim.startedMs = QDateTime::currentMSecsSinceEpoch();
    return claim;
}

// Two agents: refund-agent with all four layers, email-agent with a runtime and tools only.
const char *kProfileFile = BREAKER_TEST_DATA_DIR "/profiles/valid/stop-switch.json";

} // namespace

class tst_StopSwitch : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void planForAnAgent();
    void planForAPrincipal();
    void scopeMatchingNothing();
    void allNeedsTheProfileName();
    void everyLayerAtOnceAllVerified();
    void oneLayerFailsTheOthersStillVerify();
    void aLayerThatNeverAnswersIsFailedAtTheDeadline();
    void aSecretThatDoesNotResolveIsNotAttempted();
    void runsInFlightAreCancelledAndApprovalsReleased();
    void nothingInFlightAsksTheRuntime();
    void twoStopsOfOneScopeJoin();
    void aStopOfAnotherProcessIsJoined();
    void aClaimOfAProcessThatExitedIsTakenOver();
    void aJoinedStopWhoseHolderDiesIsCarriedOut();
    void aJoinedStopWhoseHolderHangsIsCarriedOut();
    void aStopOfOtherLayersDoesNotJoin();
    void aLeftoverClaimOfThisProcessIsTakenOver();
    void reasonIsRequired();
    void resumeUndoesWhatLayersAllow();
    void aStopWhileTheApprovalIsBeingDecided();
    void proofsOfAStopAggregatePerLayer();
    void aStopRecordsTheLastProvenStop();
    void aDrillNeedsACanary();
    void aDrillStopsTheCanaryRecordsAndRestores();

private:
    std::unique_ptr<StopSwitch> makeSwitch(std::shared_ptr<Store> store = {});
    StopOutcome run(StopSwitch &s, const StopPlan &plan, const QString &reason = QStringLiteral("drill"));
    void addRun(const QByteArray &id, const QByteArray &agent, RunStatus status, const QByteArray &principal,
                const QByteArray &task);
    QList<QJsonObject> audit();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::shared_ptr<Store> m_store;
    std::optional<Profile> m_profile;
    std::vector<QByteArray> m_calls;
    std::unique_ptr<ScriptedRuntime> m_runtime;
    std::unique_ptr<ScriptedLayer> m_idp, m_pay, m_gw;
};

void tst_StopSwitch::init()
{
    qputenv("TST_STOP_TOKEN", "secret-refresh-token");
    m_dir = std::make_unique<QTemporaryDir>();
    auto store = Store::open(m_dir->filePath(QStringLiteral("t.db")));
    QVERIFY(store.ok());
    m_store = store.value();
    auto profile = loadProfile(QString::fromUtf8(kProfileFile));
    QVERIFY2(profile.ok(), profile.ok() ? "" : qPrintable(profile.error().message));
    m_profile = profile.value();
    m_calls.clear();
    m_runtime = std::make_unique<ScriptedRuntime>();
    m_runtime->canList = true;
    m_idp = std::make_unique<ScriptedLayer>("identity", "idp", &m_calls);
    m_pay = std::make_unique<ScriptedLayer>("payment", "pay", &m_calls);
    m_gw = std::make_unique<ScriptedLayer>("tools", "gw", &m_calls);
}

void tst_StopSwitch::cleanup()
{
    m_runtime.reset();
    m_idp.reset();
    m_pay.reset();
    m_gw.reset();
    m_store.reset();
    m_dir.reset();
}

std::unique_ptr<StopSwitch> tst_StopSwitch::makeSwitch(std::shared_ptr<Store> store)
{
    auto s = std::make_unique<StopSwitch>(
        store ? store : m_store, m_profile, [this](const QByteArray &) -> RuntimeConnector * { return m_runtime.get(); },
        [this](const QByteArray &provider) -> Result<LayerConnector *> {
            if (provider == "idp")
                return static_cast<LayerConnector *>(m_idp.get());
            if (provider == "pay")
                return static_cast<LayerConnector *>(m_pay.get());
            if (provider == "gw")
                return static_cast<LayerConnector *>(m_gw.get());
            return makeError(Error::Kind::NotFound, QStringLiteral("no provider"));
        });
    LayerDeadlines d;
    d.actMs = 300;
    d.verifyMs = 300;
    s->setDeadlines(d);
    s->setRuntimeTimings(300, 300, 100, 100);
    return s;
}

StopOutcome tst_StopSwitch::run(StopSwitch &s, const StopPlan &plan, const QString &reason)
{
    std::optional<StopOutcome> out;
    int doneCalls = 0;
    s.execute(plan, reason, {}, [&](const StopOutcome &o) {
        out = o;
        ++doneCalls;
    });
    [&] { QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 10000); }();
    QTest::qWait(20);
    [&] { QCOMPARE(doneCalls, 1); }();
    return out.value_or(StopOutcome{});
}

void tst_StopSwitch::addRun(const QByteArray &id, const QByteArray &agent, RunStatus status,
                            const QByteArray &principal, const QByteArray &task)
{
    WriteBatch batch;
    Run r;
    r.id = id;
    r.agent = agent;
    r.agentBound = true;
    r.principal = principal;
    r.provider = "rt";
    r.status = status;
    r.startedMs = r.updatedMs = QDateTime::currentMSecsSinceEpoch();
    batch.runs.push_back(r);
    batch.keys.push_back(RunKey{"a2a:" + task, id});
    QVERIFY(m_store->write(std::move(batch)).ok());
}

QList<QJsonObject> tst_StopSwitch::audit()
{
    QList<QJsonObject> out;
    auto head = m_store->auditHead();
    if (!head.ok() || !head.value())
        return out;
    auto records = m_store->auditRecords(1, head.value()->seq);
    if (!records.ok())
        return out;
    for (const AuditRecord &r : records.value())
        out << QJsonDocument::fromJson(r.line).object();
    return out;
}

void tst_StopSwitch::planForAnAgent()
{
    auto s = makeSwitch();
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    QCOMPARE(plan->layers, StopSwitch::allLayers());
    QCOMPARE(plan->agents, QList<QByteArray>{"refund-agent"});
    QCOMPARE(plan->actions.size(), size_t(4));
    QCOMPARE(plan->actions[0].row.layer, QByteArray("runtime"));
    QVERIFY(plan->actions[0].row.run.isEmpty()); // nothing in flight: the runtime is asked
    QCOMPARE(plan->actions[1].row.layer, QByteArray("identity"));
    QCOMPARE(plan->actions[1].row.target, QByteArray("token env:TST_STOP_TOKEN"));
    QCOMPARE(plan->actions[2].row.target, QByteArray("cards ic_1, ic_2"));
    QCOMPARE(plan->count("payment"), 2);
    QCOMPARE(plan->count("tools"), 1);
    QVERIFY2(plan->summary().contains(QStringLiteral("2 cards to freeze")), qPrintable(plan->summary()));
    QVERIFY(!plan->summary().contains(QStringLiteral("secret-refresh-token")));

    // The email agent has no identity or payment provider: gaps, shown as gaps.
    auto email = s->plan({StopScope::Kind::Agent, "email-agent"});
    QVERIFY(email.ok());
    int gaps = 0;
    for (const PlannedAction &a : email->actions)
        if (!a.configured) {
            ++gaps;
            QVERIFY(a.why.contains(QStringLiteral("no ")));
        }
    QCOMPARE(gaps, 2);
}

void tst_StopSwitch::planForAPrincipal()
{
    auto s = makeSwitch();
    auto ada = s->plan({StopScope::Kind::Principal, "user:ada"});
    QVERIFY(ada.ok());
    QCOMPARE(ada->agents, (QList<QByteArray>{"refund-agent", "email-agent"}));
    auto bo = s->plan({StopScope::Kind::Principal, "user:bo"});
    QVERIFY(bo.ok());
    QCOMPARE(bo->agents, QList<QByteArray>{"email-agent"});
    // A run in flight for a principal the profile does not name brings its agent in.
    addRun("r-cy", "refund-agent", RunStatus::Working, "user:cy", "t-cy");
    auto cy = s->plan({StopScope::Kind::Principal, "user:cy"});
    QVERIFY(cy.ok());
    QCOMPARE(cy->agents, QList<QByteArray>{"refund-agent"});
    QCOMPARE(cy->actions[0].row.run, QByteArray("r-cy"));
}

void tst_StopSwitch::scopeMatchingNothing()
{
    auto s = makeSwitch();
    for (const StopScope &scope : {StopScope{StopScope::Kind::Agent, "nobody"}, StopScope{StopScope::Kind::Principal, "user:zed"},
                                   StopScope{StopScope::Kind::Run, "no-such-run"}}) {
        auto plan = s->plan(scope);
        QVERIFY(!plan.ok());
        QCOMPARE(plan.error().kind, Error::Kind::NotFound);
    }
    auto badLayer = s->plan({StopScope::Kind::Agent, "refund-agent"}, {QStringLiteral("network")});
    QVERIFY(!badLayer.ok());
    QCOMPARE(badLayer.error().kind, Error::Kind::Invalid);
}

void tst_StopSwitch::allNeedsTheProfileName()
{
    auto s = makeSwitch();
    auto wrong = s->plan({StopScope::Kind::All, "prod"});
    QVERIFY(!wrong.ok());
    QVERIFY(wrong.error().message.contains(QStringLiteral("test-profile")));
    auto right = s->plan({StopScope::Kind::All, "test-profile"});
    QVERIFY(right.ok());
    QCOMPARE(right->agents.size(), 2);
}

void tst_StopSwitch::everyLayerAtOnceAllVerified()
{
    auto s = makeSwitch();
    m_idp->delayMs = m_pay->delayMs = m_gw->delayMs = 100;
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    const StopOutcome o = run(*s, *plan);
    QVERIFY(o.verified);
    QCOMPARE(o.rows.size(), size_t(5)); // runtime, identity, two cards, tools
    for (const StopLayerResult &r : o.rows)
        QCOMPARE(r.outcome, LayerOutcome::Verified);
    QVERIFY(o.rows[0].detail.startsWith(QStringLiteral("nothing in flight")));
    // All three layers were hit before any of them answered: in parallel, not one after another.
    QVERIFY(m_calls.size() >= 6);
    for (size_t i = 0; i < 3; ++i)
        QVERIFY2(m_calls[i].contains(":contain:"), m_calls[i].constData());
    // The identity connector got the resolved token; nothing else carries it.
    QCOMPARE(m_idp->targets.at(0).token, QByteArray("secret-refresh-token"));
    QCOMPARE(m_pay->targets.at(0).cards, (QStringList{QStringLiteral("ic_1"), QStringLiteral("ic_2")}));
    QVERIFY(!m_pay->targets.at(0).operationKey.isEmpty());
    // The trail: the intent first, with the plan; then each layer; then the result.
    const QList<QJsonObject> records = audit();
    QVERIFY(records.size() >= 6);
    QCOMPARE(records.first().value(QStringLiteral("action")).toString(), QStringLiteral("stop.requested"));
    QCOMPARE(records.first().value(QStringLiteral("detail")).toObject().value(QStringLiteral("actions")).toArray().size(), 4);
    QCOMPARE(records.last().value(QStringLiteral("action")).toString(), QStringLiteral("stop.completed"));
    QCOMPARE(records.last().value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
    int layerRecords = 0;
    for (const QJsonObject &r : records)
        if (r.value(QStringLiteral("action")).toString() == QLatin1String("stop.layer"))
            ++layerRecords;
    QCOMPARE(layerRecords, 5);
    for (const QJsonObject &r : records)
        QVERIFY(!QJsonDocument(r).toJson().contains("secret-refresh-token"));
}

void tst_StopSwitch::oneLayerFailsTheOthersStillVerify()
{
    auto s = makeSwitch();
    m_pay->outcome = LayerOutcome::Failed;
    m_pay->detail = QStringLiteral("pay answered 500: Stripe api_error: An unknown error occurred");
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    const StopOutcome o = run(*s, *plan);
    QVERIFY(!o.verified);
    int verified = 0, failed = 0;
    for (const StopLayerResult &r : o.rows) {
        if (r.outcome == LayerOutcome::Verified)
            ++verified;
        if (r.outcome == LayerOutcome::Failed) {
            ++failed;
            QCOMPARE(r.layer, QByteArray("payment"));
            QVERIFY(r.detail.contains(QStringLiteral("api_error")));
        }
    }
    QCOMPARE(verified, 3);
    QCOMPARE(failed, 2);
}

void tst_StopSwitch::aLayerThatNeverAnswersIsFailedAtTheDeadline()
{
    auto s = makeSwitch();
    m_gw->delayMs = -1;
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    QElapsedTimer clock;
    clock.start();
    const StopOutcome o = run(*s, *plan);
    QVERIFY(!o.verified);
    bool sawTools = false;
    for (const StopLayerResult &r : o.rows) {
        if (r.layer == "tools") {
            sawTools = true;
            QCOMPARE(r.outcome, LayerOutcome::Failed);
            QVERIFY2(r.detail.contains(QStringLiteral("no answer within")), qPrintable(r.detail));
        } else {
            QCOMPARE(r.outcome, LayerOutcome::Verified);
        }
    }
    QVERIFY(sawTools);
}

void tst_StopSwitch::aSecretThatDoesNotResolveIsNotAttempted()
{
    qunsetenv("TST_STOP_TOKEN");
    auto s = makeSwitch();
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"}, {QStringLiteral("identity")});
    QVERIFY(plan.ok());
    QCOMPARE(plan->actions.size(), size_t(1));
    const StopOutcome o = run(*s, *plan);
    QCOMPARE(o.rows.size(), size_t(1));
    QCOMPARE(o.rows[0].outcome, LayerOutcome::Failed);
    QVERIFY2(o.rows[0].detail.contains(QStringLiteral("TST_STOP_TOKEN")), qPrintable(o.rows[0].detail));
    QCOMPARE(m_idp->contains, 0);
}

void tst_StopSwitch::runsInFlightAreCancelledAndApprovalsReleased()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    addRun("r1", "refund-agent", RunStatus::Working, "user:ada", "t1");
    addRun("r2", "refund-agent", RunStatus::WaitingApproval, "user:ada", "t2");
    addRun("r3", "refund-agent", RunStatus::Completed, "user:ada", "t3");
    m_runtime->cancelAnswer = Testing::scriptedTask(RunStatus::Stopped, "TASK_STATE_CANCELED", now);
    m_runtime->reads = {Testing::scriptedTask(RunStatus::Stopped, "TASK_STATE_CANCELED", now)};
    auto s = makeSwitch();
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"}, {QStringLiteral("runtime")});
    QVERIFY(plan.ok());
    QCOMPARE(plan->actions.size(), size_t(2)); // the completed run is not in flight
    const StopOutcome o = run(*s, *plan);
    QVERIFY(o.verified);
    QCOMPARE(m_runtime->cancelCount, 2);
    QCOMPARE(o.releasedApprovals.size(), 1);
    QCOMPARE(o.releasedApprovals.at(0).toObject().value(QStringLiteral("run")).toString(), QStringLiteral("r2"));
    QCOMPARE(m_runtime->answers.size(), size_t(1));
    QCOMPARE(m_runtime->answers[0].second.decision, ApprovalDecision::Deny);
    // Released before it was cancelled.
    const auto answerAt = std::find(m_runtime->calls.begin(), m_runtime->calls.end(), QByteArray("answer:t2"));
    const auto cancelAt = std::find(m_runtime->calls.begin(), m_runtime->calls.end(), QByteArray("cancel:t2"));
    QVERIFY(answerAt != m_runtime->calls.end() && cancelAt != m_runtime->calls.end());
    QVERIFY(answerAt < cancelAt);
    bool releasedAudited = false;
    for (const QJsonObject &r : audit())
        releasedAudited |= r.value(QStringLiteral("action")).toString() == QLatin1String("approval.released");
    QVERIFY(releasedAudited);
}

void tst_StopSwitch::nothingInFlightAsksTheRuntime()
{
    auto s = makeSwitch();
    auto plan = s->plan({StopScope::Kind::Agent, "email-agent"}, {QStringLiteral("runtime")});
    QVERIFY(plan.ok());
    StopOutcome o = run(*s, *plan);
    QVERIFY(o.verified);
    QCOMPARE(m_runtime->listCount, 1);
    QVERIFY(o.rows[0].detail.startsWith(QStringLiteral("nothing in flight")));

    // The runtime knows of a run Breaker has not seen: it is cancelled like any other.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_runtime->page.runs = {Testing::scriptedTask(RunStatus::Working, "TASK_STATE_WORKING", 0, "t-unseen")};
    m_runtime->cancelAnswer = Testing::scriptedTask(RunStatus::Stopped, "TASK_STATE_CANCELED", now, "t-unseen");
    m_runtime->reads = {Testing::scriptedTask(RunStatus::Stopped, "TASK_STATE_CANCELED", now, "t-unseen")};
    o = run(*s, *plan);
    QCOMPARE(m_runtime->cancelCount, 1);
    QCOMPARE(o.rows.size(), size_t(1));
    QCOMPARE(o.rows[0].outcome, LayerOutcome::Verified);
    QCOMPARE(o.rows[0].target, QByteArray("a2a task t-unseen"));
}

void tst_StopSwitch::twoStopsOfOneScopeJoin()
{
    auto s = makeSwitch();
    m_idp->delayMs = m_pay->delayMs = m_gw->delayMs = 100;
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    std::optional<StopOutcome> first, second;
    s->execute(*plan, QStringLiteral("one"), {}, [&](const StopOutcome &o) { first = o; });
    QVERIFY(s->isStopping(plan->scope));
    s->execute(*plan, QStringLiteral("two"), {}, [&](const StopOutcome &o) { second = o; });
    QTRY_VERIFY_WITH_TIMEOUT(first && second, 10000);
    QCOMPARE(m_idp->contains, 1);
    QCOMPARE(m_pay->contains, 1);
    QCOMPARE(second->reason, QStringLiteral("one"));
    QCOMPARE(second->rows.size(), first->rows.size());
    QVERIFY(!s->isStopping(plan->scope));
    // The second request is in the trail with its own reason, as part of the first's operation.
    QString operation, joinedReason, joinedOperation;
    for (const QJsonObject &r : audit()) {
        const QString action = r.value(QStringLiteral("action")).toString();
        const QString op = r.value(QStringLiteral("detail")).toObject().value(QStringLiteral("operation")).toString();
        if (action == QLatin1String("stop.requested"))
            operation = op;
        if (action == QLatin1String("stop.joined")) {
            joinedReason = r.value(QStringLiteral("reason")).toString();
            joinedOperation = op;
        }
    }
    QCOMPARE(joinedReason, QStringLiteral("two"));
    QCOMPARE(joinedOperation, operation);
}

// Another process stopping the same scope: a second Store on the same file has its own
// connections and writer, as another process would; only the process id is shared (alive).
void tst_StopSwitch::aStopOfAnotherProcessIsJoined()
{
    auto other = Store::open(m_dir->filePath(QStringLiteral("t.db")));
    QVERIFY(other.ok());
    auto first = makeSwitch();
    auto second = makeSwitch(other.value());
    second->setJoinTimings(60000, 20);
    m_idp->delayMs = m_pay->delayMs = m_gw->delayMs = 300;
    auto plan = first->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    std::optional<StopOutcome> a, b;
    first->execute(*plan, QStringLiteral("card fraud"), {}, [&](const StopOutcome &o) { a = o; });
    auto claim = m_store->stopClaim(StopSwitch::stopKey(*plan));
    QVERIFY(claim.ok() && claim.value());
    QCOMPARE(claim.value()->pid, qint64(QCoreApplication::applicationPid()));
    second->execute(*plan, QStringLiteral("also me"), {}, [&](const StopOutcome &o) { b = o; });
    QVERIFY(second->isStopping(plan->scope)); // joined, waiting for the first one's result
    QTRY_VERIFY_WITH_TIMEOUT(a && b, 10000);
    // Each layer was asked once: the second stop acted on nothing.
    QCOMPARE(m_idp->contains, 1);
    QCOMPARE(m_pay->contains, 1);
    QCOMPARE(m_gw->contains, 1);
    QVERIFY(!a->joined);
    QVERIFY(b->joined);
    QCOMPARE(b->joined->operation, claim.value()->operation);
    QCOMPARE(b->reason, QStringLiteral("card fraud"));
    QCOMPARE(b->verified, a->verified);
    QVERIFY(a->verified);
    QCOMPARE(b->ms, a->ms);
    // The same rows, read back from the trail (in the order they were recorded).
    QCOMPARE(b->rows.size(), a->rows.size());
    auto key = [](const StopLayerResult &r) -> QByteArray {
        return r.layer + '|' + r.agent + '|' + r.provider + '|' + r.target + '|' + r.action + '|'
               + toWireName(r.outcome) + '|' + r.detail.toUtf8() + '|' + QByteArray::number(r.ms);
    };
    QStringList rowsA, rowsB;
    for (const StopLayerResult &r : a->rows)
        rowsA << QString::fromUtf8(key(r));
    for (const StopLayerResult &r : b->rows)
        rowsB << QString::fromUtf8(key(r));
    rowsA.sort();
    rowsB.sort();
    QCOMPARE(rowsB, rowsA);
    QVERIFY(b->notes.join(QLatin1Char(' ')).contains(QStringLiteral("joined the stop")));
    // Nothing is left claimed, and only one stop is in the trail.
    auto after = m_store->stopClaim(StopSwitch::stopKey(*plan));
    QVERIFY(after.ok() && !after.value());
    int requested = 0;
    std::optional<QJsonObject> joinRecord;
    for (const QJsonObject &r : audit()) {
        requested += r.value(QStringLiteral("action")).toString() == QLatin1String("stop.requested");
        if (r.value(QStringLiteral("action")).toString() == QLatin1String("stop.joined"))
            joinRecord = r;
    }
    QCOMPARE(requested, 1);
    // The second operator's request is in the trail, with their reason, as part of that operation.
    QVERIFY(joinRecord);
    QCOMPARE(joinRecord->value(QStringLiteral("reason")).toString(), QStringLiteral("also me"));
    QCOMPARE(joinRecord->value(QStringLiteral("detail")).toObject().value(QStringLiteral("operation")).toString(),
             QString::fromUtf8(claim.value()->operation));
}

// A claim left by a process that has exited (kill -9 mid-stop) does not hold anyone up.
void tst_StopSwitch::aClaimOfAProcessThatExitedIsTakenOver()
{
    QProcess gone;
    gone.start(QStringLiteral("true"), {});
    QVERIFY(gone.waitForStarted());
    const qint64 deadPid = gone.processId();
    QVERIFY(gone.waitForFinished());
    auto s = makeSwitch();
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    const StopClaim ghost = claimOf(*plan, deadPid, "op-of-a-dead-process");
    QVERIFY(!Store::holderAlive(ghost));
    QVERIFY(m_store->claimStop(ghost, 60000).ok());

    const StopOutcome o = run(*s, *plan);
    QVERIFY(!o.joined);
    QVERIFY(o.verified);
    QCOMPARE(m_idp->contains, 1);
    QVERIFY2(o.notes.join(QLatin1Char(' ')).contains(QStringLiteral("never finished: this stop took over")),
             qPrintable(o.notes.join(QLatin1Char('|'))));
    auto after = m_store->stopClaim(StopSwitch::stopKey(*plan));
    QVERIFY(after.ok() && !after.value());
}

// The process a stop joined dies before its result is in the trail: the waiting stop acts.
void tst_StopSwitch::aJoinedStopWhoseHolderDiesIsCarriedOut()
{
    QProcess holder;
    holder.start(QStringLiteral("sleep"), {QStringLiteral("60")});
    QVERIFY(holder.waitForStarted());
    auto s = makeSwitch();
    s->setJoinTimings(60000, 20);
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    QVERIFY(m_store->claimStop(claimOf(*plan, holder.processId(), "op-of-a-process-about-to-die"), 60000).ok());
    std::optional<StopOutcome> out;
    s->execute(*plan, QStringLiteral("contain it"), {}, [&](const StopOutcome &o) { out = o; });
    QTest::qWait(150);
    QVERIFY(!out);
    QCOMPARE(m_idp->contains, 0); // joined: waiting, acting on nothing
    holder.kill();
    QVERIFY(holder.waitForFinished());
    QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 10000);
    QVERIFY(!out->joined);
    QVERIFY(out->verified);
    QCOMPARE(out->reason, QStringLiteral("contain it"));
    QCOMPARE(m_idp->contains, 1);
    QVERIFY2(out->notes.join(QLatin1Char(' ')).contains(QStringLiteral("ended without a result")),
             qPrintable(out->notes.join(QLatin1Char('|'))));
}

// The holder is alive but never finishes (its event loop is stuck): past the longest action
// guard the waiting stop takes the scope over and acts, instead of leaving the agent running.
void tst_StopSwitch::aJoinedStopWhoseHolderHangsIsCarriedOut()
{
    QProcess holder;
    holder.start(QStringLiteral("sleep"), {QStringLiteral("60")});
    QVERIFY(holder.waitForStarted());
    auto s = makeSwitch();
    s->setJoinTimings(60000, 20, 100);
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    StopClaim hung = claimOf(*plan, holder.processId(), "op-of-a-hung-process");
    hung.deadlineMs = 2000; // its longest action's guard: the waiting stop gives it 2 s + 0.1 s
    QVERIFY(m_store->claimStop(hung, 60000).ok());
    std::optional<StopOutcome> out;
    s->execute(*plan, QStringLiteral("contain it"), {}, [&](const StopOutcome &o) { out = o; });
    QTest::qWait(300);
    QCOMPARE(m_idp->contains, 0);
    QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 15000);
    QCOMPARE(m_idp->contains, 1);
    QVERIFY(out->verified);
    QVERIFY2(out->notes.join(QLatin1Char(' ')).contains(QStringLiteral("past every deadline")),
             qPrintable(out->notes.join(QLatin1Char('|'))));
    // Its claim replaced the hung one's and is released; the hung holder's late release is a no-op.
    auto after = m_store->stopClaim(StopSwitch::stopKey(*plan));
    QVERIFY(after.ok() && !after.value());
    holder.kill();
    holder.waitForFinished();
}

// Only the same stop joins: a stop of the payment layer alone must act, not report a stop of
// every layer (nor a drill) as its own.
void tst_StopSwitch::aStopOfOtherLayersDoesNotJoin()
{
    auto other = Store::open(m_dir->filePath(QStringLiteral("t.db")));
    QVERIFY(other.ok());
    auto first = makeSwitch();
    auto second = makeSwitch(other.value());
    m_idp->delayMs = m_pay->delayMs = m_gw->delayMs = 300;
    auto all = first->plan({StopScope::Kind::Agent, "refund-agent"});
    auto paymentOnly = second->plan({StopScope::Kind::Agent, "refund-agent"}, {QStringLiteral("payment")});
    QVERIFY(all.ok() && paymentOnly.ok());
    QVERIFY(StopSwitch::stopKey(*all) != StopSwitch::stopKey(*paymentOnly));
    StopPlan drill = *all;
    drill.drill = true;
    QVERIFY(StopSwitch::stopKey(drill) != StopSwitch::stopKey(*all));
    std::optional<StopOutcome> a, b;
    first->execute(*all, QStringLiteral("everything"), {}, [&](const StopOutcome &o) { a = o; });
    second->execute(*paymentOnly, QStringLiteral("the card"), {}, [&](const StopOutcome &o) { b = o; });
    QTRY_VERIFY_WITH_TIMEOUT(a && b, 10000);
    QVERIFY(!b->joined);
    QCOMPARE(m_pay->contains, 2); // each froze the card
    QCOMPARE(m_idp->contains, 1);
    QCOMPARE(b->rows.size(), size_t(2)); // two cards, nothing else
}

// This process's own claim, left behind because its release failed, does not make the next stop
// of the scope wait for nobody.
void tst_StopSwitch::aLeftoverClaimOfThisProcessIsTakenOver()
{
    auto s = makeSwitch();
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    QVERIFY(m_store->claimStop(claimOf(*plan, QCoreApplication::applicationPid(), "op-whose-release-failed"), 60000)
                .ok());
    const StopOutcome o = run(*s, *plan);
    QVERIFY(!o.joined);
    QVERIFY(o.verified);
    QCOMPARE(m_idp->contains, 1);
    QVERIFY2(o.notes.join(QLatin1Char(' ')).contains(QStringLiteral("this stop took over")),
             qPrintable(o.notes.join(QLatin1Char('|'))));
}

void tst_StopSwitch::reasonIsRequired()
{
    auto s = makeSwitch();
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    const StopOutcome o = run(*s, *plan, QStringLiteral("   "));
    QVERIFY(!o.verified);
    QCOMPARE(m_idp->contains + m_pay->contains + m_gw->contains, 0);
    QVERIFY(audit().isEmpty());
}

void tst_StopSwitch::resumeUndoesWhatLayersAllow()
{
    auto s = makeSwitch();
    auto plan = s->planResume({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    QVERIFY2(plan->summary().contains(QStringLiteral("2 cards to unfreeze, 1 tool set to unblock")), qPrintable(plan->summary()));
    for (const PlannedAction &a : plan->actions)
        QVERIFY(a.row.layer == "payment" || a.row.layer == "tools");
    std::optional<StopOutcome> out;
    s->resume(*plan, QStringLiteral("incident closed"), {}, [&](const StopOutcome &o) { out = o; });
    QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 10000);
    QVERIFY(out->verified);
    QCOMPARE(m_pay->releases, 1);
    QCOMPARE(m_gw->releases, 1);
    QCOMPARE(m_idp->releases + m_idp->contains, 0);
    QVERIFY(out->notes.join(QLatin1Char(' ')).contains(QStringLiteral("revoked token stays revoked")));
    const QList<QJsonObject> records = audit();
    QCOMPARE(records.first().value(QStringLiteral("action")).toString(), QStringLiteral("resume.requested"));
    QCOMPARE(records.last().value(QStringLiteral("action")).toString(), QStringLiteral("resume.completed"));
    auto run = s->planResume({StopScope::Kind::Run, "r1"});
    QVERIFY(!run.ok());
}

void tst_StopSwitch::aStopWhileTheApprovalIsBeingDecided()
{
    // The run waits for a person; while the stop's deny is on its way, someone approves it
    // elsewhere: the runtime refuses the deny (Conflict). The release says so, and the run is
    // cancelled and proven all the same.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    addRun("r2", "refund-agent", RunStatus::WaitingApproval, "user:ada", "t2");
    m_runtime->answerDelayMs = 150;
    m_runtime->answerError = makeError(Error::Kind::Conflict,
                                       QStringLiteral("rt: task t2 no longer waits for an answer: it is "
                                                      "TASK_STATE_WORKING (someone else may have answered it)"));
    m_runtime->cancelAnswer = Testing::scriptedTask(RunStatus::Stopped, "TASK_STATE_CANCELED", now, "t2");
    m_runtime->reads = {Testing::scriptedTask(RunStatus::Stopped, "TASK_STATE_CANCELED", now, "t2")};
    auto s = makeSwitch();
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"}, {QStringLiteral("runtime")});
    QVERIFY(plan.ok());
    const StopOutcome o = run(*s, *plan);
    QVERIFY(o.verified);
    QCOMPARE(m_runtime->cancelCount, 1);
    QCOMPARE(o.releasedApprovals.size(), 1);
    const QJsonObject released = o.releasedApprovals.at(0).toObject();
    QCOMPARE(released.value(QStringLiteral("state")).toString(), QStringLiteral("decided_elsewhere"));
    QVERIFY(released.value(QStringLiteral("detail")).toString().contains(QStringLiteral("no longer waits")));
    const auto answerAt = std::find(m_runtime->calls.begin(), m_runtime->calls.end(), QByteArray("answer:t2"));
    const auto cancelAt = std::find(m_runtime->calls.begin(), m_runtime->calls.end(), QByteArray("cancel:t2"));
    QVERIFY(answerAt < cancelAt && cancelAt != m_runtime->calls.end());
    bool audited = false;
    for (const QJsonObject &r : audit())
        if (r.value(QStringLiteral("action")).toString() == QLatin1String("approval.released"))
            audited = r.value(QStringLiteral("outcome")).toString() == QLatin1String("decided_elsewhere");
    QVERIFY(audited);
}

void tst_StopSwitch::proofsOfAStopAggregatePerLayer()
{
    StopOutcome o;
    o.startedAtMs = 1000;
    auto row = [](const char *layer, LayerOutcome outcome, qint64 ms, bool idle = false) {
        StopLayerResult r;
        r.layer = layer;
        r.agent = "a";
        r.provider = "p";
        r.outcome = outcome;
        r.ms = ms;
        r.idle = idle;
        r.detail = QString::fromLatin1(layer) + QStringLiteral(" said ") + QString::number(ms);
        return r;
    };
    o.rows = {row("runtime", LayerOutcome::Verified, 50, true), // asked only: proves no cancel
              row("payment", LayerOutcome::Verified, 30), row("payment", LayerOutcome::Failed, 20),
              row("payment", LayerOutcome::DoneUnverified, 40), row("tools", LayerOutcome::Verified, 70)};
    StopLayerResult gap = row("identity", LayerOutcome::SkippedNotConfigured, 0);
    gap.provider.clear();
    o.rows.push_back(gap);
    const std::vector<StopProof> proofs = stopProofsOf(o, true);
    QCOMPARE(proofs.size(), size_t(2));
    QCOMPARE(proofs[0].layer, QByteArray("payment"));
    QCOMPARE(proofs[0].outcome, LayerOutcome::Failed); // the worst row decides
    QCOMPARE(proofs[0].detail, QStringLiteral("payment said 20"));
    QCOMPARE(proofs[0].ms, qint64(40));               // the slowest row
    QCOMPARE(proofs[0].atMs, qint64(1040));
    QVERIFY(proofs[0].drill);
    QCOMPARE(proofs[1].layer, QByteArray("tools"));
    QCOMPARE(proofs[1].outcome, LayerOutcome::Verified);
}

void tst_StopSwitch::aStopRecordsTheLastProvenStop()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    addRun("r1", "refund-agent", RunStatus::Working, "user:ada", "t1");
    m_runtime->cancelAnswer = Testing::scriptedTask(RunStatus::Stopped, "TASK_STATE_CANCELED", now, "t1");
    m_runtime->reads = {Testing::scriptedTask(RunStatus::Stopped, "TASK_STATE_CANCELED", now, "t1")};
    auto s = makeSwitch();
    auto plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(plan.ok());
    QVERIFY(run(*s, *plan).verified);
    auto proofs = m_store->stopProofs("refund-agent");
    QVERIFY(proofs.ok());
    QCOMPARE(proofs->size(), size_t(4));
    for (const StopProof &p : proofs.value()) {
        QCOMPARE(p.outcome, LayerOutcome::Verified);
        QVERIFY2(p.provenAtMs > 0, p.layer.constData());
        QVERIFY(!p.drill);
    }
    const qint64 provenPaymentAt = [&] {
        for (const StopProof &p : proofs.value())
            if (p.layer == "payment")
                return p.provenAtMs;
        return qint64(0);
    }();

    // A later stop whose payment layer fails: the map shows the failure and keeps the last proof.
    QTest::qWait(5);
    m_pay->outcome = LayerOutcome::Failed;
    m_pay->detail = QStringLiteral("pay answered 500");
    plan = s->plan({StopScope::Kind::Agent, "refund-agent"});
    QVERIFY(!run(*s, *plan).verified);
    proofs = m_store->stopProofs("refund-agent");
    QVERIFY(proofs.ok());
    std::optional<StopProof> payment, runtime;
    for (const StopProof &p : proofs.value()) {
        if (p.layer == "payment")
            payment = p;
        if (p.layer == "runtime")
            runtime = p;
    }
    QVERIFY(payment && runtime);
    QCOMPARE(payment->outcome, LayerOutcome::Failed);
    QCOMPARE(payment->detail, QStringLiteral("pay answered 500"));
    QCOMPARE(payment->provenAtMs, provenPaymentAt);
    // The second stop found nothing in flight: that proves no cancel, the runtime proof stands.
    QCOMPARE(runtime->outcome, LayerOutcome::Verified);

    // In the control map: payment shows both, identity its proof; email-agent was never stopped.
    const AgentConfig *refund = m_profile->agent(QStringLiteral("refund-agent"));
    const std::vector<ControlMapRow> map = buildControlMap(&*m_profile, refund, proofs.value());
    QCOMPARE(map.size(), size_t(7));
    for (const ControlMapRow &r : map) {
        if (r.layer == u"payment") {
            QVERIFY2(r.detail.startsWith(QStringLiteral("verified in ")), qPrintable(r.detail));
            QVERIFY2(r.detail.contains(QStringLiteral("failed after")), qPrintable(r.detail));
            QVERIFY(r.detail.contains(QStringLiteral("pay answered 500")));
        }
        if (r.layer == u"kill_switch")
            QVERIFY2(r.detail.startsWith(QStringLiteral("4 of 4 stop layers wired, 4 proven; never drilled")),
                     qPrintable(r.detail));
    }
    const AgentConfig *email = m_profile->agent(QStringLiteral("email-agent"));
    auto none = m_store->stopProofs("email-agent");
    QVERIFY(none.ok() && none->empty());
    for (const ControlMapRow &r : buildControlMap(&*m_profile, email, none.value())) {
        if (r.layer == u"tools")
            QVERIFY2(r.detail.startsWith(QStringLiteral("never proven")), qPrintable(r.detail));
        if (r.layer == u"identity") {
            QCOMPARE(r.state(), QStringLiteral("tbd"));
            QCOMPARE(r.detail, QStringLiteral("no provider bound"));
        }
    }
    const QJsonArray json = controlMapJson(buildControlMap(&*m_profile, email, none.value()));
    for (const QJsonValue &v : json) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("layer")).toString() == QLatin1String("tools")) {
            QVERIFY(o.contains(QStringLiteral("last_proven")));
            QVERIFY(o.value(QStringLiteral("last_proven")).isNull());
        }
    }
}

void tst_StopSwitch::aDrillNeedsACanary()
{
    auto s = makeSwitch();
    StopDrill drill(m_store, m_profile, s.get(), [this](const QByteArray &) -> RuntimeConnector * { return m_runtime.get(); });
    auto plan = drill.plan("email-agent");
    QVERIFY(!plan.ok());
    QCOMPARE(plan.error().kind, Error::Kind::Invalid);
    QVERIFY2(plan.error().message.contains(QStringLiteral("not a canary")), qPrintable(plan.error().message));
    QVERIFY(!drill.plan("nobody").ok());
    std::optional<DrillResult> out;
    drill.run("email-agent", QStringLiteral("monthly drill"), {}, {}, [&](const DrillResult &r) { out = r; });
    QVERIFY(out.has_value());
    QVERIFY(!out->ok());
    QCOMPARE(m_idp->contains + m_pay->contains + m_gw->contains + m_runtime->cancelCount, 0);
    QVERIFY(audit().isEmpty());
}

void tst_StopSwitch::aDrillStopsTheCanaryRecordsAndRestores()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    addRun("r1", "refund-agent", RunStatus::Working, "user:ada", "t1");
    m_runtime->cancelAnswer = Testing::scriptedTask(RunStatus::Stopped, "TASK_STATE_CANCELED", now, "t1");
    m_runtime->reads = {Testing::scriptedTask(RunStatus::Stopped, "TASK_STATE_CANCELED", now, "t1")};
    auto s = makeSwitch();
    StopDrill drill(m_store, m_profile, s.get(), [this](const QByteArray &) -> RuntimeConnector * { return m_runtime.get(); });
    auto plan = drill.plan("refund-agent");
    QVERIFY(plan.ok());
    QVERIFY(plan->drill);
    QStringList phases;
    std::optional<DrillResult> out;
    drill.run("refund-agent", QStringLiteral("monthly drill"), [&](const QString &p) { phases << p; }, {},
              [&](const DrillResult &r) { out = r; });
    QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 10000);
    QVERIFY2(out->ok(), qPrintable(out->notes.join(QLatin1Char(';'))));
    QCOMPARE(out->canaryRun, QByteArray("r1"));
    QCOMPARE(m_runtime->cancelCount, 1);
    QCOMPARE(m_pay->contains, 1);
    QCOMPARE(m_pay->releases, 1); // the card is unfrozen again
    QCOMPARE(m_gw->releases, 1);  // the tools unblocked
    QCOMPARE(m_idp->releases, 0); // a revoke stays
    QVERIFY(out->restore && out->restore->verified);
    QCOMPARE(out->proofs.size(), size_t(4));
    QVERIFY(phases.join(QLatin1Char('\n')).contains(QStringLiteral("run r1 of the canary was in flight")));

    // The trail says it was a drill, from the intent to each layer.
    bool intent = false;
    int drillLayers = 0;
    for (const QJsonObject &r : audit()) {
        const QJsonObject detail = r.value(QStringLiteral("detail")).toObject();
        if (r.value(QStringLiteral("action")).toString() == QLatin1String("stop.requested")) {
            intent = detail.value(QStringLiteral("drill")).toBool();
            QCOMPARE(r.value(QStringLiteral("reason")).toString(), QStringLiteral("drill: monthly drill"));
        }
        if (r.value(QStringLiteral("action")).toString() == QLatin1String("stop.layer") && detail.value(QStringLiteral("drill")).toBool())
            ++drillLayers;
    }
    QVERIFY(intent);
    QCOMPARE(drillLayers, 5);

    auto proofs = m_store->stopProofs("refund-agent");
    QVERIFY(proofs.ok());
    const std::vector<ControlMapRow> map =
        buildControlMap(&*m_profile, m_profile->agent(QStringLiteral("refund-agent")), proofs.value());
    for (const ControlMapRow &r : map) {
        if (r.stoppable) {
            QVERIFY2(r.proven(), qPrintable(r.layer));
            QVERIFY2(r.detail.contains(QStringLiteral("by a drill")), qPrintable(r.detail));
        }
        if (r.layer == u"kill_switch")
            QVERIFY2(r.detail.contains(QStringLiteral("4 proven; last drill ")), qPrintable(r.detail));
    }
}

QTEST_GUILESS_MAIN(tst_StopSwitch)
#include "tst_stopswitch.moc"
