// The LiteLLM tools connector against a LiteLLM-shaped fake: a stop blocks the agent's key and
// adds its tools to the key's blocked_tools (keeping what was there), the read-back and the key
// itself being refused make it verified, and release undoes exactly that. Keys never reach a
// detail.
#include "LiteLlmFake.h"

#include "connectors/tools/LiteLlmConnector.h"
#include "models/Profile.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QtTest>

#include <memory>

using namespace Breaker;

namespace {

QString s(const char *text)
{
    return QString::fromUtf8(text);
}

const QByteArray kMaster = "sk-master-1234";
const QByteArray kAgentKey = "sk-agent-secret-9876";

ProviderConfig config(const QUrl &url)
{
    ProviderConfig p;
    p.name = s("gateway");
    p.layer = s("tools");
    p.kind = s("litellm");
    p.url = url;
    p.timeoutS = 1;
    return p;
}

LayerTarget target(QByteArray key = kAgentKey)
{
    LayerTarget t;
    t.agent = "refund-agent";
    t.operationKey = "op-1";
    t.tools = {s("stripe.refund"), s("zendesk.reply")};
    t.agentKey = std::move(key);
    return t;
}

LayerDeadlines deadlines(int ms = 1500)
{
    LayerDeadlines d;
    d.actMs = ms;
    d.verifyMs = ms;
    return d;
}

StopLayerResult
run(LayerConnector &c, bool contain, const LayerTarget &t, const LayerDeadlines &d = deadlines())
{
    auto rows = std::make_shared<std::optional<std::vector<StopLayerResult>>>();
    auto done = [rows](std::vector<StopLayerResult> r) { *rows = std::move(r); };
    if (contain)
        c.contain(t, d, done);
    else
        c.release(t, d, done);
    [&] { QTRY_VERIFY_WITH_TIMEOUT(rows->has_value(), d.actMs + d.verifyMs + 2000); }();
    if (!rows->has_value() || (*rows)->size() != 1)
        return {};
    return (*rows)->front();
}

QStringList blockedTools(const LiteLlmFake &fake)
{
    QStringList out;
    for (const QJsonValue &v :
         fake.key(kAgentKey).objectPermission.value(QLatin1String("blocked_tools")).toArray())
        out << v.toString();
    return out;
}

std::unique_ptr<LiteLlmFake> makeFake()
{
    auto fake = std::make_unique<LiteLlmFake>(kMaster);
    LiteLlmFake::Key k;
    k.alias = s("refund-prod");
    k.objectPermission = QJsonObject{{QStringLiteral("blocked_tools"), QJsonArray{s("other.tool")}},
                                     {QStringLiteral("mcp_servers"), QJsonArray{s("billing")}}};
    fake->addKey(kAgentKey, k);
    if (!fake->listen())
        qFatal("the LiteLLM fake cannot listen");
    return fake;
}

} // namespace

class tst_LiteLlm : public QObject
{
    Q_OBJECT

private slots:
    void blockIsVerified();
    void blockedKeyIsRefusedOnTheNextCall();
    void noAgentKeyIsSkipped();
    void masterKeyRefused();
    void keyStillAcceptedFails();
    void releaseRestores();
    void silentProxyFailsByTheDeadline();
    void leakWatch();
    void probe();
};

void tst_LiteLlm::blockIsVerified()
{
    auto fake = makeFake();
    LiteLlmConnector c(config(fake->url()), kMaster);
    const StopLayerResult row = run(c, true, target());
    QCOMPARE(row.outcome, LayerOutcome::Verified);
    QCOMPARE(row.detail,
             s("gateway refuses key refund-prod (HTTP 401); blocked_tools holds stripe.refund, "
               "zendesk.reply"));
    QCOMPARE(row.layer, QByteArray("tools"));
    QCOMPARE(row.action, QByteArray("block"));
    QCOMPARE(row.target, QByteArray("key of refund-agent, tools stripe.refund, zendesk.reply"));
    QVERIFY(!row.detail.contains(QString::fromUtf8(kAgentKey)));
    QVERIFY(fake->key(kAgentKey).blocked);
    QCOMPARE(blockedTools(*fake),
             (QStringList{s("other.tool"), s("stripe.refund"), s("zendesk.reply")}));
    QCOMPARE(fake->key(kAgentKey).objectPermission.value(QLatin1String("mcp_servers")),
             QJsonValue(QJsonArray{s("billing")}));

    // On the wire: master key on the admin routes, the agent's own key only on the model route.
    const auto &r = fake->requests();
    QCOMPARE(r.size(), 5);
    QCOMPARE(r[0].method + ' ' + r[0].path, QByteArray("GET /key/info"));
    QCOMPARE(r[0].query, QByteArray("key=") + kAgentKey);
    QCOMPARE(r[1].method + ' ' + r[1].path, QByteArray("POST /key/block"));
    QCOMPARE(r[1].header("Content-Type"), QByteArray("application/json"));
    QCOMPARE(r[1].body, QByteArray(R"({"key":"sk-agent-secret-9876"})"));
    QCOMPARE(r[2].method + ' ' + r[2].path, QByteArray("POST /key/update"));
    QCOMPARE(r[2].body,
             QByteArray(R"({"key":"sk-agent-secret-9876","object_permission":{"blocked_tools":)"
                        R"(["other.tool","stripe.refund","zendesk.reply"]}})"));
    QCOMPARE(r[3].method + ' ' + r[3].path, QByteArray("GET /key/info"));
    for (int i = 0; i < 4; ++i)
        QCOMPARE(r[i].header("Authorization"), QByteArray("Bearer ") + kMaster);
    QCOMPARE(r[4].method + ' ' + r[4].path, QByteArray("GET /v1/models"));
    QCOMPARE(r[4].header("Authorization"), QByteArray("Bearer ") + kAgentKey);
}

void tst_LiteLlm::blockedKeyIsRefusedOnTheNextCall()
{
    auto fake = makeFake();
    LiteLlmConnector c(config(fake->url()), kMaster);
    QCOMPARE(run(c, true, target()).outcome, LayerOutcome::Verified);
    // What the agent sees: its next completion is an auth error.
    QNetworkAccessManager nam;
    QNetworkRequest req(fake->url().resolved(QUrl(s("/v1/chat/completions"))));
    req.setRawHeader("Authorization", "Bearer " + kAgentKey);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    QNetworkReply *reply = nam.post(req, QByteArray(R"({"model":"gpt-4o","messages":[]})"));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 3000);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 401);
    reply->deleteLater();
}

void tst_LiteLlm::noAgentKeyIsSkipped()
{
    auto fake = makeFake();
    LiteLlmConnector c(config(fake->url()), kMaster);
    const StopLayerResult row = run(c, true, target(QByteArray()));
    QCOMPARE(row.outcome, LayerOutcome::SkippedNotConfigured);
    QCOMPARE(row.detail, s("the agent has no LiteLLM key in the profile"));
    QVERIFY(fake->requests().isEmpty());
}

void tst_LiteLlm::masterKeyRefused()
{
    auto fake = makeFake();
    LiteLlmConnector c(config(fake->url()), "sk-wrong");
    const StopLayerResult row = run(c, true, target());
    QCOMPARE(row.outcome, LayerOutcome::Failed);
    QVERIFY2(row.detail.startsWith(
                 s("gateway answered HTTP 401 to GET /key/info (the master key was refused")),
             qPrintable(row.detail));
    QVERIFY2(row.detail.contains(s("auth_error: Authentication Error")), qPrintable(row.detail));
    QVERIFY(!row.detail.contains(s("sk-wrong")));
    QVERIFY(!fake->key(kAgentKey).blocked);
}

void tst_LiteLlm::keyStillAcceptedFails()
{
    auto fake = makeFake();
    fake->setAuthIgnoresBlock(true);
    LiteLlmConnector c(config(fake->url()), kMaster);
    const StopLayerResult row = run(c, true, target());
    QCOMPARE(row.outcome, LayerOutcome::Failed);
    QVERIFY2(row.detail.contains(s("still accepts it (GET /v1/models answered HTTP 200)")),
             qPrintable(row.detail));
}

void tst_LiteLlm::releaseRestores()
{
    auto fake = makeFake();
    LiteLlmConnector c(config(fake->url()), kMaster);
    QVERIFY(c.canRelease());
    QCOMPARE(run(c, true, target()).outcome, LayerOutcome::Verified);
    const StopLayerResult row = run(c, false, target());
    QCOMPARE(row.outcome, LayerOutcome::Verified);
    QCOMPARE(row.action, QByteArray("unblock"));
    QVERIFY(!fake->key(kAgentKey).blocked);
    QCOMPARE(blockedTools(*fake), QStringList{s("other.tool")});
}

void tst_LiteLlm::silentProxyFailsByTheDeadline()
{
    auto fake = makeFake();
    fake->setSilent(true);
    LiteLlmConnector c(config(fake->url()), kMaster);
    QElapsedTimer clock;
    clock.start();
    const StopLayerResult row = run(c, true, target(), deadlines(300));
    QVERIFY(clock.elapsed() < 300 + 300 + 500);
    QCOMPARE(row.outcome, LayerOutcome::Failed);
    QCOMPARE(row.detail, s("gateway did not accept the block within 300 ms"));
}

void tst_LiteLlm::leakWatch()
{
    auto fake = makeFake();
    LiteLlmConnector c(config(fake->url()), kMaster);
    std::optional<Result<std::vector<LayerLeak>>> leaks;
    c.checkLeaks(target(), 0, [&](Result<std::vector<LayerLeak>> r) { leaks = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(leaks.has_value(), 3000);
    QVERIFY(*leaks);
    QCOMPARE((*leaks)->size(), size_t(2));
    QCOMPARE((*leaks)->at(0).what, s("gateway reads the key of refund-agent as not blocked"));
    QCOMPARE((*leaks)->at(1).what,
             s("gateway allows stripe.refund, zendesk.reply for the key of refund-agent"));
    QCOMPARE(run(c, true, target()).outcome, LayerOutcome::Verified);
    leaks.reset();
    c.checkLeaks(target(), 0, [&](Result<std::vector<LayerLeak>> r) { leaks = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(leaks.has_value(), 3000);
    QVERIFY(*leaks);
    QVERIFY((*leaks)->empty());
}

void tst_LiteLlm::probe()
{
    auto fake = makeFake();
    LiteLlmConnector good(config(fake->url()), kMaster);
    std::optional<Result<QString>> said;
    good.probe([&](Result<QString> r) { said = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(said.has_value(), 3000);
    QVERIFY2(*said, qPrintable(said->ok() ? QString() : said->error().message));
    QCOMPARE(**said, s("gateway is alive and accepts the master key"));

    LiteLlmConnector bad(config(fake->url()), "sk-wrong");
    said.reset();
    bad.probe([&](Result<QString> r) { said = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(said.has_value(), 3000);
    QVERIFY(!*said);
    QCOMPARE(said->error().where, s("gateway"));
    QVERIFY2(said->error().message.contains(s("HTTP 401")), qPrintable(said->error().message));
}

QTEST_GUILESS_MAIN(tst_LiteLlm)
#include "tst_litellm.moc"
