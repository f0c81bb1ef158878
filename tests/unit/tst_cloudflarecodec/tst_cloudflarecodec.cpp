// The Cloudflare Agents codec against frames captured from wrangler 4.86.0 + agents 0.32.0
// (tests/data/cloudflare/README.md says what was sent for each file).
#include "connectors/runtime/CloudflareCodec.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace Breaker;
using namespace Breaker::Cloudflare;

namespace {

// The frames of one capture, in order, with their direction ("sent", "received").
struct Captured
{
    QByteArray dir;
    QByteArray frame; // compact JSON
};

std::vector<Captured> capture(const QString &name)
{
    QFile file(QStringLiteral(BREAKER_TEST_DATA_DIR "/cloudflare/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open capture %s", qPrintable(file.fileName()));
    std::vector<Captured> out;
    for (const QByteArray &line : file.readAll().split('\n')) {
        if (line.trimmed().isEmpty())
            continue;
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        if (!o.value(QLatin1String("frame")).isObject())
            continue;
        out.push_back({o.value(QLatin1String("dir")).toString().toUtf8(),
                       QJsonDocument(o.value(QLatin1String("frame")).toObject()).toJson(QJsonDocument::Compact)});
    }
    return out;
}

// The n-th received frame of a capture whose type is `type` (and id, for rpc).
QByteArray received(const QString &file, const char *type, int n = 0, const char *id = nullptr)
{
    for (const Captured &c : capture(file)) {
        if (c.dir != "received")
            continue;
        const QJsonObject o = QJsonDocument::fromJson(c.frame).object();
        if (o.value(QLatin1String("type")).toString() != QLatin1String(type))
            continue;
        if (id && o.value(QLatin1String("id")).toString() != QLatin1String(id))
            continue;
        if (n-- == 0)
            return c.frame;
    }
    qFatal("capture %s has no such %s frame", qPrintable(file), type);
    return {};
}

QByteArray compactJson(const QJsonValue &v)
{
    if (v.isObject())
        return QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact);
    if (v.isArray())
        return QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact);
    return QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
}

} // namespace

class tst_CloudflareCodec : public QObject
{
    Q_OBJECT

private slots:
    void identity_data();
    void identity();
    void states_data();
    void states();
    void rpcReplies_data();
    void rpcReplies();
    void streamingOrder();
    void otherFrames_data();
    void otherFrames();
    void malformed_data();
    void malformed();
    void outgoingMatchesCapture();
    void chatFrames();
    void selectors_data();
    void selectors();
    void closeCodes_data();
    void closeCodes();
};

void tst_CloudflareCodec::identity_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("agent");
    QTest::newRow("connect") << received(QStringLiteral("connect.jsonl"), "cf_agent_identity")
                             << QStringLiteral("capture-connect") << QStringLiteral("work-agent");
    QTest::newRow("rpc session") << received(QStringLiteral("rpc.jsonl"), "cf_agent_identity")
                                 << QStringLiteral("capture-rpc") << QStringLiteral("work-agent");
}

void tst_CloudflareCodec::identity()
{
    QFETCH(QByteArray, frame);
    QFETCH(QString, name);
    QFETCH(QString, agent);
    auto f = parseFrame(frame);
    QVERIFY2(f.ok(), qPrintable(f.ok() ? QString() : f.error().message));
    QCOMPARE(f->type, Frame::Type::Identity);
    QCOMPARE(f->name, name);
    QCOMPARE(f->agent, agent); // kebab-case, as in the route
    QVERIFY(f->stateFollows);
    // The identity names the run: the same id as the selector the profile writes.
    QCOMPARE(parseSelector(QStringLiteral("WorkAgent/") + name)->externalId(), (agent + QLatin1Char('/') + name).toUtf8());
}

void tst_CloudflareCodec::states_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("raw");
    QTest::newRow("initial idle") << received(QStringLiteral("connect.jsonl"), "cf_agent_state")
                                  << int(RunStatus::Completed) << QByteArray("idle");
    QTest::newRow("working") << received(QStringLiteral("stream-work.jsonl"), "cf_agent_state", 1)
                             << int(RunStatus::Working) << QByteArray("working");
    QTest::newRow("done") << received(QStringLiteral("stream-work.jsonl"), "cf_agent_state", 5)
                          << int(RunStatus::Completed) << QByteArray("done");
    QTest::newRow("stopping") << received(QStringLiteral("stop.jsonl"), "cf_agent_state", 2)
                              << int(RunStatus::Stopping) << QByteArray("stopping");
    QTest::newRow("stopped") << received(QStringLiteral("stop.jsonl"), "cf_agent_state", 3)
                             << int(RunStatus::Stopped) << QByteArray("stopped");
    QTest::newRow("observer sees done") << received(QStringLiteral("stream-observer.jsonl"), "cf_agent_state", 5)
                                        << int(RunStatus::Completed) << QByteArray("done");
    // Not captured: states other agents keep.
    QTest::newRow("state word") << QByteArray(R"({"type":"cf_agent_state","state":{"state":"Awaiting-Approval"}})")
                                << int(RunStatus::WaitingApproval) << QByteArray("Awaiting-Approval");
    QTest::newRow("failed") << QByteArray(R"({"type":"cf_agent_state","state":{"status":"error"}})")
                            << int(RunStatus::Failed) << QByteArray("error");
    QTest::newRow("no status") << QByteArray(R"({"type":"cf_agent_state","state":{"count":3}})")
                               << int(RunStatus::Unknown) << QByteArray();
    QTest::newRow("unknown word") << QByteArray(R"({"type":"cf_agent_state","state":{"status":"pondering"}})")
                                  << int(RunStatus::Unknown) << QByteArray("pondering");
    QTest::newRow("scalar state") << QByteArray(R"({"type":"cf_agent_state","state":42})")
                                  << int(RunStatus::Unknown) << QByteArray();
}

void tst_CloudflareCodec::states()
{
    QFETCH(QByteArray, frame);
    QFETCH(int, status);
    QFETCH(QByteArray, raw);
    auto f = parseFrame(frame);
    QVERIFY2(f.ok(), qPrintable(f.ok() ? QString() : f.error().message));
    QCOMPARE(f->type, Frame::Type::State);
    QByteArray word;
    QCOMPARE(int(statusFromState(f->state, &word)), status);
    QCOMPARE(word, raw);
}

void tst_CloudflareCodec::rpcReplies_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<QString>("id");
    QTest::addColumn<bool>("success");
    QTest::addColumn<bool>("done");
    QTest::addColumn<QByteArray>("result");
    QTest::addColumn<QString>("error");
    const QString rpc = QStringLiteral("rpc.jsonl");
    QTest::newRow("plain result") << received(rpc, "rpc", 0, "r1") << QStringLiteral("r1") << true << true
                                  << QByteArray(R"({"pong":"hello"})") << QString();
    QTest::newRow("unknown method") << received(rpc, "rpc", 0, "r2") << QStringLiteral("r2") << false << true
                                    << QByteArray() << QStringLiteral("Method noSuchMethod does not exist");
    QTest::newRow("method threw") << received(rpc, "rpc", 0, "r3") << QStringLiteral("r3") << false << true
                                  << QByteArray() << QStringLiteral("refused: no budget");
    QTest::newRow("not callable") << received(rpc, "rpc", 0, "r4") << QStringLiteral("r4") << false << true
                                  << QByteArray() << QStringLiteral("Method setState is not callable");
    const QString work = QStringLiteral("stream-work.jsonl");
    QTest::newRow("stream chunk 1") << received(work, "rpc", 0) << QStringLiteral("w1") << true << false
                                    << QByteArray(R"({"step":1})") << QString();
    QTest::newRow("stream chunk 3") << received(work, "rpc", 2) << QStringLiteral("w1") << true << false
                                    << QByteArray(R"({"step":3})") << QString();
    QTest::newRow("stream end") << received(work, "rpc", 3) << QStringLiteral("w1") << true << true
                                << QByteArray(R"({"done":true,"steps":3})") << QString();
    const QString stop = QStringLiteral("stop.jsonl");
    QTest::newRow("stop answer") << received(stop, "rpc", 0, "s1") << QStringLiteral("s1") << true << true
                                 << QByteArray(R"({"stopped":true})") << QString();
    QTest::newRow("stopped stream end") << received(stop, "rpc", 0, "w1") << QStringLiteral("w1") << true << true
                                        << QByteArray(R"({"step":1,"stopped":true})") << QString();
    QTest::newRow("error object") << QByteArray(R"({"type":"rpc","id":"x","success":false,"error":{"code":7}})")
                                  << QStringLiteral("x") << false << true << QByteArray() << QStringLiteral(R"({"code":7})");
    QTest::newRow("error without words") << QByteArray(R"({"type":"rpc","id":"y","success":false})")
                                         << QStringLiteral("y") << false << true << QByteArray()
                                         << QStringLiteral("the call failed and the agent gave no reason");
}

void tst_CloudflareCodec::rpcReplies()
{
    QFETCH(QByteArray, frame);
    QFETCH(QString, id);
    QFETCH(bool, success);
    QFETCH(bool, done);
    QFETCH(QByteArray, result);
    QFETCH(QString, error);
    auto f = parseFrame(frame);
    QVERIFY2(f.ok(), qPrintable(f.ok() ? QString() : f.error().message));
    QCOMPARE(f->type, Frame::Type::Rpc);
    QCOMPARE(f->id, id);
    QCOMPARE(f->success, success);
    QCOMPARE(f->done, done);
    if (!result.isEmpty())
        QCOMPARE(compactJson(f->result), result);
    QCOMPARE(f->error, error);
}

void tst_CloudflareCodec::streamingOrder()
{
    // A streamed call: every reply carries the request id; only the last is done.
    int chunks = 0;
    bool ended = false;
    for (const Captured &c : capture(QStringLiteral("stream-work.jsonl"))) {
        if (c.dir != "received")
            continue;
        auto f = parseFrame(c.frame);
        QVERIFY(f.ok());
        if (f->type != Frame::Type::Rpc)
            continue;
        QVERIFY2(!ended, "a reply after done:true");
        QCOMPARE(f->id, QStringLiteral("w1"));
        if (f->done)
            ended = true;
        else
            ++chunks;
    }
    QCOMPARE(chunks, 3);
    QVERIFY(ended);
}

void tst_CloudflareCodec::otherFrames_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<int>("type");
    QTest::newRow("mcp servers") << received(QStringLiteral("connect.jsonl"), "cf_agent_mcp_servers")
                                 << int(Frame::Type::McpServers);
    QTest::newRow("state error") << QByteArray(R"({"type":"cf_agent_state_error","error":"Connection is readonly"})")
                                 << int(Frame::Type::StateError);
    QTest::newRow("mcp event") << QByteArray(R"({"type":"cf_mcp_agent_event","event":{}})") << int(Frame::Type::Other);
    QTest::newRow("session") << QByteArray(R"({"type":"cf_agent_session_x"})") << int(Frame::Type::Other);
}

void tst_CloudflareCodec::otherFrames()
{
    QFETCH(QByteArray, frame);
    QFETCH(int, type);
    auto f = parseFrame(frame);
    QVERIFY2(f.ok(), qPrintable(f.ok() ? QString() : f.error().message));
    QCOMPARE(int(f->type), type);
    if (f->type == Frame::Type::StateError)
        QCOMPARE(f->error, QStringLiteral("Connection is readonly"));
}

void tst_CloudflareCodec::malformed_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<QString>("words");
    QTest::newRow("not json") << QByteArray("hello") << QStringLiteral("not JSON");
    QTest::newRow("array") << QByteArray("[1]") << QStringLiteral("not a JSON object");
    QTest::newRow("no type") << QByteArray(R"({"id":"r1"})") << QStringLiteral("without a \"type\"");
    QTest::newRow("rpc without id") << QByteArray(R"({"type":"rpc","success":true})") << QStringLiteral("without an id");
    QTest::newRow("identity without name") << QByteArray(R"({"type":"cf_agent_identity","agent":"a"})")
                                           << QStringLiteral("without its agent or name");
    QTest::newRow("state without state") << QByteArray(R"({"type":"cf_agent_state"})")
                                         << QStringLiteral("without a state");
}

void tst_CloudflareCodec::malformed()
{
    QFETCH(QByteArray, frame);
    QFETCH(QString, words);
    auto f = parseFrame(frame);
    QVERIFY(!f.ok());
    QVERIFY2(f.error().message.contains(words), qPrintable(f.error().message));
}

void tst_CloudflareCodec::outgoingMatchesCapture()
{
    // What Breaker sends is what the capture sent and the agent answered.
    const auto sent = capture(QStringLiteral("rpc.jsonl"));
    const auto first = std::find_if(sent.begin(), sent.end(), [](const Captured &c) { return c.dir == "sent"; });
    QVERIFY(first != sent.end());
    QCOMPARE(QJsonDocument::fromJson(rpcRequest(QStringLiteral("r1"), QStringLiteral("ping"), {QStringLiteral("hello")})),
             QJsonDocument::fromJson(first->frame));
    const auto chat = capture(QStringLiteral("push-and-chat-frames.jsonl"));
    QByteArray cancel, approval;
    for (const Captured &c : chat) {
        if (c.dir == "sent" && c.frame.contains("cf_agent_chat_request_cancel"))
            cancel = c.frame;
        if (c.dir == "sent" && c.frame.contains("cf_agent_tool_approval"))
            approval = c.frame;
    }
    QCOMPARE(QJsonDocument::fromJson(chatCancelFrame(QStringLiteral("chat-1"))), QJsonDocument::fromJson(cancel));
    QCOMPARE(QJsonDocument::fromJson(toolApprovalFrame(QStringLiteral("call-1"), true)), QJsonDocument::fromJson(approval));
}

void tst_CloudflareCodec::chatFrames()
{
    // Shapes from agents 0.32.0's chat wire types (no chat model runs here, so not captured).
    const QByteArray messages = R"({"type":"cf_agent_chat_messages","messages":[
        {"id":"m1","role":"user","parts":[{"type":"text","text":"refund order 7"}]},
        {"id":"m2","role":"assistant","parts":[
            {"type":"tool-lookup","toolCallId":"c0","state":"output-available","input":{},"output":{}},
            {"type":"tool-refund","toolCallId":"c1","state":"approval-requested","input":{"order":7,"amount":"12.50"},
             "approval":{"id":"ap1"}}]}]})";
    auto f = parseFrame(messages);
    QVERIFY(f.ok());
    QCOMPARE(f->type, Frame::Type::ChatMessages);
    QString toolCallId;
    auto approval = pendingApproval(f->messages, &toolCallId);
    QVERIFY(approval);
    QCOMPARE(toolCallId, QStringLiteral("c1"));
    QCOMPARE(approval->action, QByteArray("refund"));
    QCOMPARE(approval->argumentsJson, QByteArray(R"({"amount":"12.50","order":7})"));
    QCOMPARE(approval->source, QByteArray("cloudflare.tool-approval"));

    // Answered: nothing waits any more.
    QByteArray answered = messages;
    answered.replace("approval-requested", "approval-responded");
    QVERIFY(!pendingApproval(parseFrame(answered)->messages, &toolCallId));

    auto response = parseFrame(R"({"type":"cf_agent_use_chat_response","id":"req-1","body":"x","done":false})");
    QVERIFY(response.ok());
    QCOMPARE(response->type, Frame::Type::ChatResponse);
    QCOMPARE(response->id, QStringLiteral("req-1"));
    QVERIFY(!response->done);
}

void tst_CloudflareCodec::selectors_data()
{
    QTest::addColumn<QString>("selector");
    QTest::addColumn<QString>("origin");
    QTest::addColumn<QString>("url");     // empty: the selector or origin is refused
    QTest::addColumn<QByteArray>("externalId");
    QTest::newRow("class name") << QStringLiteral("WorkAgent/room-1") << QStringLiteral("ws://127.0.0.1:8787")
                                << QStringLiteral("ws://127.0.0.1:8787/agents/work-agent/room-1")
                                << QByteArray("work-agent/room-1");
    QTest::newRow("already kebab") << QStringLiteral("work-agent/room-1") << QStringLiteral("wss://agents.example/")
                                   << QStringLiteral("wss://agents.example/agents/work-agent/room-1")
                                   << QByteArray("work-agent/room-1");
    QTest::newRow("acronym") << QStringLiteral("MCPServer/a") << QStringLiteral("https://h.example/base")
                             << QStringLiteral("wss://h.example/base/agents/mcp-server/a") << QByteArray("mcp-server/a");
    QTest::newRow("digits and underscore") << QStringLiteral("Agent2Chat_v1/x") << QStringLiteral("http://h")
                                           << QStringLiteral("ws://h/agents/agent2-chat-v1/x")
                                           << QByteArray("agent2-chat-v1/x");
    QTest::newRow("instance escaped") << QStringLiteral("A/user 7") << QStringLiteral("ws://h")
                                      << QStringLiteral("ws://h/agents/a/user%207") << QByteArray("a/user 7");
    QTest::newRow("no instance") << QStringLiteral("WorkAgent") << QStringLiteral("ws://h") << QString() << QByteArray();
    QTest::newRow("empty instance") << QStringLiteral("WorkAgent/") << QStringLiteral("ws://h") << QString() << QByteArray();
    QTest::newRow("two slashes") << QStringLiteral("a/b/c") << QStringLiteral("ws://h") << QString() << QByteArray();
    QTest::newRow("bad class") << QStringLiteral("Work.Agent/x") << QStringLiteral("ws://h") << QString() << QByteArray();
    QTest::newRow("ftp origin") << QStringLiteral("A/x") << QStringLiteral("ftp://h") << QString() << QByteArray();
}

void tst_CloudflareCodec::selectors()
{
    QFETCH(QString, selector);
    QFETCH(QString, origin);
    QFETCH(QString, url);
    QFETCH(QByteArray, externalId);
    auto s = parseSelector(selector);
    if (!s) {
        QVERIFY(url.isEmpty());
        QVERIFY(s.error().message.contains(QLatin1String("Class/instance")) || s.error().message.contains(QLatin1String("class name")));
        return;
    }
    auto u = agentUrl(QUrl(origin), *s);
    if (url.isEmpty()) {
        QVERIFY(!u.ok());
        QVERIFY(u.error().message.contains(QLatin1String("ws://")));
        return;
    }
    QVERIFY(u.ok());
    QCOMPARE(u->toString(QUrl::FullyEncoded), url);
    QCOMPARE(s->externalId(), externalId);
    // An external id is itself a selector that leads to the same agent.
    QCOMPARE(agentUrl(QUrl(origin), *parseSelector(QString::fromUtf8(externalId)))->toString(QUrl::FullyEncoded), url);
}

void tst_CloudflareCodec::closeCodes_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<QString>("words");
    QTest::newRow("1000") << 1000 << QStringLiteral("capture done") << QStringLiteral("closed with 1000 (normal closure): capture done");
    QTest::newRow("1001") << 1001 << QString() << QStringLiteral("closed with 1001 (going away: the agent or its host is shutting down or restarting)");
    QTest::newRow("1002") << 1002 << QString() << QStringLiteral("protocol error");
    QTest::newRow("1003") << 1003 << QString() << QStringLiteral("unsupported data");
    QTest::newRow("1004") << 1004 << QString() << QStringLiteral("reserved code 1004");
    QTest::newRow("1005") << 1005 << QString() << QStringLiteral("no status code");
    QTest::newRow("1006") << 1006 << QString() << QStringLiteral("abnormal closure: the connection dropped without a close frame");
    QTest::newRow("1007") << 1007 << QString() << QStringLiteral("not UTF-8");
    QTest::newRow("1008") << 1008 << QStringLiteral("bad token") << QStringLiteral("policy violation: the agent refused the connection (often its auth)): bad token");
    QTest::newRow("1009") << 1009 << QString() << QStringLiteral("message too big");
    QTest::newRow("1010") << 1010 << QString() << QStringLiteral("extension");
    QTest::newRow("1011") << 1011 << QStringLiteral("boom") << QStringLiteral("internal error: the agent failed while handling the connection): boom");
    QTest::newRow("1012") << 1012 << QString() << QStringLiteral("service restart");
    QTest::newRow("1013") << 1013 << QString() << QStringLiteral("try again later");
    QTest::newRow("1014") << 1014 << QString() << QStringLiteral("bad gateway");
    QTest::newRow("1015") << 1015 << QString() << QStringLiteral("TLS handshake failed");
    QTest::newRow("1016") << 1016 << QString() << QStringLiteral("reserved code 1016");
    QTest::newRow("2999") << 2999 << QString() << QStringLiteral("reserved code 2999");
    QTest::newRow("3000") << 3000 << QString() << QStringLiteral("library code 3000");
    QTest::newRow("3999") << 3999 << QString() << QStringLiteral("library code 3999");
    QTest::newRow("4000") << 4000 << QStringLiteral("quota") << QStringLiteral("application code 4000: the agent's own reason (4000-4999)): quota");
    QTest::newRow("4401") << 4401 << QString() << QStringLiteral("application code 4401");
    QTest::newRow("4999") << 4999 << QString() << QStringLiteral("application code 4999");
    QTest::newRow("999") << 999 << QString() << QStringLiteral("not a valid WebSocket close code");
    QTest::newRow("5000") << 5000 << QString() << QStringLiteral("not a valid WebSocket close code");
}

void tst_CloudflareCodec::closeCodes()
{
    QFETCH(int, code);
    QFETCH(QString, reason);
    QFETCH(QString, words);
    const QString text = describeClose(code, reason);
    QVERIFY2(text.startsWith(QStringLiteral("closed with %1 (").arg(code)), qPrintable(text));
    QVERIFY2(text.contains(words), qPrintable(text));
}

QTEST_GUILESS_MAIN(tst_CloudflareCodec)
#include "tst_cloudflarecodec.moc"
