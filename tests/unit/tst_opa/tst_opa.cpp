// The OPA tools connector against the sandbox's OPA fake (OpaFake, which evaluates the fixed
// policy of breaker_killswitch.rego in C++): a block is verified by the decisions, other agents'
// lists and concurrent writers survive, an undefined decision is never "verified", a policy that
// still allows is a failure, release allows again, each fault fails by the deadline with the
// reason, and the requests are the documented encodings, byte for byte.
#include "app/sandbox/fakes/OpaFake.h"
#include "connectors/tools/OpaConnector.h"
#include "connectors/tools/ToolsFactory.h"
#include "models/Profile.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <memory>

using namespace Breaker;

namespace {

QString s(const char *text)
{
    return QString::fromUtf8(text);
}

QJsonValue parse(const char *json)
{
    const QJsonDocument d = QJsonDocument::fromJson(QByteArray(json));
    return d.isArray() ? QJsonValue(d.array()) : QJsonValue(d.object());
}

ProviderConfig config(const QUrl &url, const QString &package = s("breaker"))
{
    ProviderConfig p;
    p.name = s("opa");
    p.layer = s("tools");
    p.kind = s("opa");
    p.url = url;
    p.package = package;
    p.timeoutS = 1;
    return p;
}

LayerTarget target(const char *agent = "refund-agent",
                   QStringList tools = {s("stripe.refund"), s("zendesk.reply")})
{
    LayerTarget t;
    t.agent = agent;
    t.operationKey = "op-1";
    t.tools = std::move(tools);
    return t;
}

LayerDeadlines shortDeadlines()
{
    LayerDeadlines d;
    d.actMs = 1500;
    d.verifyMs = 1500;
    return d;
}

// Runs one contain() or release() and waits (event loop, no sleep) for its one answer.
std::vector<StopLayerResult> run(LayerConnector &c,
                                 bool contain,
                                 const LayerTarget &t,
                                 const LayerDeadlines &d = shortDeadlines(),
                                 int *calls = nullptr)
{
    auto rows = std::make_shared<std::optional<std::vector<StopLayerResult>>>();
    auto count = std::make_shared<int>(0);
    auto done = [rows, count](std::vector<StopLayerResult> r) {
        ++*count;
        *rows = std::move(r);
    };
    if (contain)
        c.contain(t, d, done);
    else
        c.release(t, d, done);
    [&] { QTRY_VERIFY_WITH_TIMEOUT(rows->has_value(), d.actMs + d.verifyMs + 2000); }();
    if (calls)
        *calls = *count;
    return rows->value_or(std::vector<StopLayerResult>{});
}

QStringList listOf(const OpaFake &fake, const char *agent)
{
    QStringList out;
    const auto doc = fake.document(s("breaker/killswitch"));
    if (!doc)
        return out;
    for (const QJsonValue &v : doc->toObject()
                                   .value(QLatin1String("blocked_tools"))
                                   .toObject()
                                   .value(QLatin1String(agent))
                                   .toArray())
        out << v.toString();
    return out;
}

} // namespace

class tst_Opa : public QObject
{
    Q_OBJECT

private slots:
    void blockIsVerifiedByTheDecisions();
    void wireEncodings();
    void otherAgentsListUntouched();
    void alreadyBlockedToolNotDuplicated();
    void policyNotLoadedIsUnverified();
    void decisionStillTrueFails();
    void releaseAllowsAgain();
    void releaseWhileAgentBlockedFails();
    void faultsFailByTheDeadline_data();
    void faultsFailByTheDeadline();
    void createRaceRereads();
    void bearerMode();
    void noToolsIsSkipped();
    void leakWatch();
    void probe();
    void factory();
};

void tst_Opa::blockIsVerifiedByTheDecisions()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    OpaConnector c(config(fake.url()), {});
    int calls = 0;
    const auto rows = run(c, true, target(), shortDeadlines(), &calls);
    QCOMPARE(calls, 1);
    QCOMPARE(rows.size(), size_t(1));
    const StopLayerResult &row = rows.front();
    QCOMPARE(row.outcome, LayerOutcome::Verified);
    QCOMPARE(row.detail, s("opa denies stripe.refund, zendesk.reply for refund-agent"));
    QCOMPARE(row.layer, QByteArray("tools"));
    QCOMPARE(row.agent, QByteArray("refund-agent"));
    QCOMPARE(row.provider, QByteArray("opa"));
    QCOMPARE(row.action, QByteArray("block"));
    QCOMPARE(row.target, QByteArray("tools stripe.refund, zendesk.reply"));
    QVERIFY(row.ms >= 0 && row.ms < 3000);
    QCOMPARE(listOf(fake, "refund-agent"), (QStringList{s("stripe.refund"), s("zendesk.reply")}));
    // The fake's decision, as the gateway would ask it.
    QCOMPARE(
        fake.document(s("breaker/killswitch"))->toObject().value(QLatin1String("blocked_agents")),
        QJsonValue(QJsonArray()));
}

void tst_Opa::wireEncodings()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    fake.setPolicyLoaded(false); // the first read is then undefined
    fake.setBearerToken("tok-123");
    OpaConnector c(config(fake.url()), "tok-123");
    QCOMPARE(run(c, true, target("team/a~b", {s("t1"), s("t2")})).front().outcome,
             LayerOutcome::DoneUnverified);
    const QList<Net::HttpRequest> &r = fake.requests();
    QCOMPARE(r.size(), 6);
    for (const Net::HttpRequest &q : r)
        QCOMPARE(q.header("Authorization"), QByteArray("Bearer tok-123"));
    // 1. read the document: undefined.
    QCOMPARE(r[0].method, QByteArray("GET"));
    QCOMPARE(r[0].path, QByteArray("/v1/data/breaker/killswitch"));
    QCOMPARE(r[0].body, QByteArray());
    // 2. create it only if absent.
    QCOMPARE(r[1].method, QByteArray("PUT"));
    QCOMPARE(r[1].path, QByteArray("/v1/data/breaker/killswitch"));
    QCOMPARE(r[1].header("Content-Type"), QByteArray("application/json"));
    QCOMPARE(r[1].header("If-None-Match"), QByteArray("*"));
    QCOMPARE(r[1].body, QByteArray(R"({"blocked_agents":[],"blocked_tools":{}})"));
    // 3. read it again, 4. patch the agent's list in (its name escaped as a JSON Pointer token).
    QCOMPARE(r[2].method, QByteArray("GET"));
    QCOMPARE(r[3].method, QByteArray("PATCH"));
    QCOMPARE(r[3].path, QByteArray("/v1/data/breaker/killswitch"));
    QCOMPARE(r[3].header("Content-Type"), QByteArray("application/json-patch+json"));
    QCOMPARE(
        r[3].body,
        QByteArray(R"([{"op":"add","path":"/blocked_tools/team~1a~0b","value":["t1","t2"]}])"));
    // 5, 6. one decision per tool.
    QSet<QByteArray> bodies;
    for (int i : {4, 5}) {
        QCOMPARE(r[i].method, QByteArray("POST"));
        QCOMPARE(r[i].path, QByteArray("/v1/data/breaker/killswitch/allow"));
        QCOMPARE(r[i].header("Content-Type"), QByteArray("application/json"));
        bodies.insert(r[i].body);
    }
    QCOMPARE(bodies,
             (QSet<QByteArray>{R"({"input":{"agent":"team/a~b","tool":"t1"}})",
                               R"({"input":{"agent":"team/a~b","tool":"t2"}})"}));
    QCOMPARE(listOf(fake, "team/a~b"), (QStringList{s("t1"), s("t2")}));
}

void tst_Opa::otherAgentsListUntouched()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    fake.setDocument(
        s("breaker/killswitch"),
        parse(R"({"blocked_tools":{"support-agent":["zendesk.reply"]},"blocked_agents":["old"]})"));
    OpaConnector c(config(fake.url()), {});
    QCOMPARE(run(c, true, target()).front().outcome, LayerOutcome::Verified);
    QCOMPARE(listOf(fake, "support-agent"), QStringList{s("zendesk.reply")});
    QCOMPARE(fake.document(s("breaker/killswitch/blocked_agents")),
             std::optional<QJsonValue>(parse(R"(["old"])")));
    QCOMPARE(listOf(fake, "refund-agent"), (QStringList{s("stripe.refund"), s("zendesk.reply")}));
    // Nothing was created: the document existed.
    for (const Net::HttpRequest &q : fake.requests())
        QVERIFY(q.method != "PUT");
}

void tst_Opa::alreadyBlockedToolNotDuplicated()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    fake.setDocument(s("breaker/killswitch"),
                     parse(R"({"blocked_tools":{"refund-agent":["stripe.refund"]}})"));
    OpaConnector c(config(fake.url()), {});
    QCOMPARE(run(c, true, target()).front().outcome, LayerOutcome::Verified);
    QCOMPARE(listOf(fake, "refund-agent"), (QStringList{s("stripe.refund"), s("zendesk.reply")}));
    // A second stop: nothing to add, no patch, still verified.
    fake.clearRequests();
    const auto rows = run(c, true, target());
    QCOMPARE(rows.front().outcome, LayerOutcome::Verified);
    QCOMPARE(listOf(fake, "refund-agent"), (QStringList{s("stripe.refund"), s("zendesk.reply")}));
    for (const Net::HttpRequest &q : fake.requests())
        QVERIFY2(q.method != "PATCH" && q.method != "PUT", q.method.constData());
}

void tst_Opa::policyNotLoadedIsUnverified()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    fake.setPolicyLoaded(false);
    OpaConnector c(config(fake.url()), {});
    const auto rows = run(c, true, target());
    QCOMPARE(rows.front().outcome, LayerOutcome::DoneUnverified);
    QVERIFY2(rows.front().detail.contains(s("decision undefined")),
             qPrintable(rows.front().detail));
    QVERIFY2(rows.front().detail.contains(s("is breaker_killswitch.rego loaded?")),
             qPrintable(rows.front().detail));
    // The block itself was written.
    QCOMPARE(listOf(fake, "refund-agent"), (QStringList{s("stripe.refund"), s("zendesk.reply")}));
}

void tst_Opa::decisionStillTrueFails()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    fake.setForcedDecision(true);
    OpaConnector c(config(fake.url()), {});
    const auto rows = run(c, true, target());
    QCOMPARE(rows.front().outcome, LayerOutcome::Failed);
    QVERIFY2(rows.front().detail.startsWith(
                 s("opa still allows stripe.refund, zendesk.reply for refund-agent")),
             qPrintable(rows.front().detail));
}

void tst_Opa::releaseAllowsAgain()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    fake.setDocument(s("breaker/killswitch"),
                     parse(R"({"blocked_tools":{"refund-agent":["keep.me"]}})"));
    OpaConnector c(config(fake.url()), {});
    QVERIFY(c.canRelease());
    QCOMPARE(run(c, true, target()).front().outcome, LayerOutcome::Verified);
    fake.clearRequests();
    const auto rows = run(c, false, target());
    QCOMPARE(rows.front().outcome, LayerOutcome::Verified);
    QCOMPARE(rows.front().action, QByteArray("unblock"));
    QCOMPARE(rows.front().detail,
             s("opa allows stripe.refund, zendesk.reply for refund-agent again"));
    // Only Breaker's tools went; what someone else blocked stays.
    QCOMPARE(listOf(fake, "refund-agent"), QStringList{s("keep.me")});
    bool patched = false;
    for (const Net::HttpRequest &q : fake.requests()) {
        if (q.method == "PATCH") {
            patched = true;
            QCOMPARE(q.body,
                     QByteArray(R"([{"op":"remove","path":"/blocked_tools/refund-agent/2"},)"
                                R"({"op":"remove","path":"/blocked_tools/refund-agent/1"}])"));
        }
    }
    QVERIFY(patched);
}

void tst_Opa::releaseWhileAgentBlockedFails()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    fake.setDocument(
        s("breaker/killswitch"),
        parse(
            R"({"blocked_tools":{"refund-agent":["stripe.refund"]},"blocked_agents":["refund-agent"]})"));
    OpaConnector c(config(fake.url()), {});
    const auto rows = run(c, false, target("refund-agent", {s("stripe.refund")}));
    QCOMPARE(rows.front().outcome, LayerOutcome::Failed);
    QVERIFY2(rows.front().detail.contains(s("the agent is in blocked_agents")),
             qPrintable(rows.front().detail));
}

void tst_Opa::faultsFailByTheDeadline_data()
{
    QTest::addColumn<int>("fault");
    QTest::addColumn<QString>("words");
    QTest::newRow("error") << int(SandboxFault::Error)
                           << s("opa answered HTTP 500: internal_error: sandbox fault");
    QTest::newRow("garbage") << int(SandboxFault::Garbage) << s("not a JSON object");
    QTest::newRow("down") << int(SandboxFault::Down) << s("opa is unreachable at");
    QTest::newRow("slow") << int(SandboxFault::Slow)
                          << s("opa did not accept the block within 400 ms");
}

void tst_Opa::faultsFailByTheDeadline()
{
    QFETCH(int, fault);
    QFETCH(QString, words);
    OpaFake fake;
    fake.faults()->setFault(SandboxFault(fault));
    QVERIFY(fake.listen());
    OpaConnector c(config(fake.url()), {});
    LayerDeadlines d;
    d.actMs = 400;
    d.verifyMs = 400;
    QElapsedTimer clock;
    clock.start();
    const auto rows = run(c, true, target(), d);
    QVERIFY2(clock.elapsed() < d.actMs + d.verifyMs + 500,
             qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(rows.size(), size_t(1));
    QCOMPARE(rows.front().outcome, LayerOutcome::Failed);
    QVERIFY2(rows.front().detail.contains(words), qPrintable(rows.front().detail));
}

void tst_Opa::createRaceRereads()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    fake.setPolicyLoaded(true);
    // Between our read and our create, another writer creates the document.
    fake.setCreateRace(parse(R"({"blocked_tools":{"other":["x"]},"blocked_agents":["y"]})"));
    OpaConnector c(config(fake.url()), {});
    QCOMPARE(run(c, true, target()).front().outcome, LayerOutcome::Verified);
    QCOMPARE(listOf(fake, "other"), QStringList{s("x")});
    QCOMPARE(listOf(fake, "refund-agent"), (QStringList{s("stripe.refund"), s("zendesk.reply")}));
    QCOMPARE(fake.document(s("breaker/killswitch/blocked_agents")),
             std::optional<QJsonValue>(parse(R"(["y"])")));
    QStringList methods;
    for (const Net::HttpRequest &q : fake.requests())
        methods << QString::fromLatin1(q.method);
    QCOMPARE(methods.mid(0, 4), (QStringList{s("GET"), s("PUT"), s("GET"), s("PATCH")}));
    QCOMPARE(
        fake.requests().at(3).body,
        QByteArray(
            R"([{"op":"add","path":"/blocked_tools/refund-agent","value":["stripe.refund","zendesk.reply"]}])"));
}

void tst_Opa::bearerMode()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    fake.setBearerToken("s3cret-token");
    OpaConnector without(config(fake.url()), {});
    auto rows = run(without, true, target());
    QCOMPARE(rows.front().outcome, LayerOutcome::Failed);
    QVERIFY2(rows.front().detail.contains(s("opa answered HTTP 401")),
             qPrintable(rows.front().detail));
    QVERIFY2(rows.front().detail.contains(s("unauthorized")), qPrintable(rows.front().detail));
    OpaConnector wrong(config(fake.url()), "not-it");
    rows = run(wrong, true, target());
    QCOMPARE(rows.front().outcome, LayerOutcome::Failed);
    QVERIFY(!rows.front().detail.contains(s("not-it")));
    OpaConnector with(config(fake.url()), "s3cret-token");
    rows = run(with, true, target());
    QCOMPARE(rows.front().outcome, LayerOutcome::Verified);
    QVERIFY(!rows.front().detail.contains(s("s3cret")));
}

void tst_Opa::noToolsIsSkipped()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    OpaConnector c(config(fake.url()), {});
    const auto rows = run(c, true, target("refund-agent", {}));
    QCOMPARE(rows.front().outcome, LayerOutcome::SkippedNotConfigured);
    QVERIFY(fake.requests().isEmpty());
}

void tst_Opa::leakWatch()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    OpaConnector c(config(fake.url()), {});
    QCOMPARE(run(c, true, target()).front().outcome, LayerOutcome::Verified);
    std::optional<Result<std::vector<LayerLeak>>> leaks;
    c.checkLeaks(target(), 0, [&](Result<std::vector<LayerLeak>> r) { leaks = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(leaks.has_value(), 3000);
    QVERIFY(*leaks);
    QVERIFY((*leaks)->empty());
    // OPA restarted: REST-written data is gone, every tool is allowed again.
    fake.clearData();
    leaks.reset();
    c.checkLeaks(target(), 0, [&](Result<std::vector<LayerLeak>> r) { leaks = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(leaks.has_value(), 3000);
    QVERIFY(*leaks);
    QCOMPARE((*leaks)->size(), size_t(2));
    QCOMPARE((*leaks)->front().layer, QByteArray("tools"));
    QCOMPARE((*leaks)->front().agent, QByteArray("refund-agent"));
    QCOMPARE((*leaks)->front().what, s("opa allows stripe.refund for refund-agent"));
}

void tst_Opa::probe()
{
    OpaFake fake;
    QVERIFY(fake.listen());
    OpaConnector c(config(fake.url()), {});
    std::optional<Result<QString>> said;
    c.probe([&](Result<QString> r) { said = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(said.has_value(), 3000);
    QVERIFY2(*said, qPrintable(said->ok() ? QString() : said->error().message));
    QVERIFY2((*said)->contains(s("/v1/data/breaker/killswitch")), qPrintable(**said));

    OpaFake down;
    down.faults()->setFault(SandboxFault::Down);
    QVERIFY(down.listen());
    OpaConnector d(config(down.url()), {});
    said.reset();
    d.probe([&](Result<QString> r) { said = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(said.has_value(), 3000);
    QVERIFY(!*said);
    QCOMPARE(said->error().where, s("opa"));
}

void tst_Opa::factory()
{
    ProviderConfig p = config(QUrl(s("http://127.0.0.1:8181")));
    auto made = makeToolsConnector(p, {}, this);
    QVERIFY(made);
    QCOMPARE((*made)->kind(), QByteArray("opa"));
    QCOMPARE((*made)->layer(), QByteArray("tools"));
    delete *made;
    p.kind = s("litellm");
    QVERIFY(!makeToolsConnector(p, {}, this)); // the master key is required
    made = makeToolsConnector(p, "sk-master", this);
    QVERIFY(made);
    QCOMPARE((*made)->kind(), QByteArray("litellm"));
    delete *made;
    p.kind = s("mcp");
    auto bad = makeToolsConnector(p, {}, this);
    QVERIFY(!bad);
    QCOMPARE(bad.error().where, s("opa"));
    p.kind = s("opa");
    p.package = s("kill-switch");
    QVERIFY(!makeToolsConnector(p, {}, this));
}

QTEST_GUILESS_MAIN(tst_Opa)
#include "tst_opa.moc"
