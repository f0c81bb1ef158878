// The sandbox's A2A host: its codec (states, errors, parts, cursors, decisions) and its task
// store (paging, filters, bounds), checked against the shapes @a2a-js/sdk 1.3.0 produces.
#include "app/sandbox/A2aCodec.h"
#include "app/sandbox/A2aTaskStore.h"

#include <QJsonDocument>
#include <QTest>

using namespace Breaker;
using namespace Breaker::A2a;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Breaker::A2a::ErrorKind)
Q_DECLARE_METATYPE(Breaker::A2a::Dialect)

namespace {

QJsonObject obj(const char *json)
{
    return QJsonDocument::fromJson(QByteArray(json)).object();
}

} // namespace

class tst_A2aHost : public QObject
{
    Q_OBJECT

private slots:
    void stateNames_data();
    void stateNames();
    void jsonRpcErrors_data();
    void jsonRpcErrors();
    void restErrors_data();
    void restErrors();
    void parseMessage_data();
    void parseMessage();
    void v03Shapes();
    void decisions_data();
    void decisions();
    void pageTokens();
    void versions_data();
    void versions();
    void storeListsNewestFirstInPages();
    void storeFiltersAndRejectsBadQueries();
    void storeKeepsTerminalStateAndBound();
};

void tst_A2aHost::stateNames_data()
{
    QTest::addColumn<int>("state");
    QTest::addColumn<QString>("v1");
    QTest::addColumn<QString>("v03");
    QTest::addColumn<bool>("terminal");
    QTest::addColumn<bool>("interrupted");
    QTest::newRow("working") << 2 << u"TASK_STATE_WORKING"_s << u"working"_s << false << false;
    QTest::newRow("completed") << 3 << u"TASK_STATE_COMPLETED"_s << u"completed"_s << true << false;
    QTest::newRow("canceled") << 5 << u"TASK_STATE_CANCELED"_s << u"canceled"_s << true << false;
    QTest::newRow("input") << 6 << u"TASK_STATE_INPUT_REQUIRED"_s << u"input-required"_s << false
                           << true;
    QTest::newRow("rejected") << 7 << u"TASK_STATE_REJECTED"_s << u"rejected"_s << true << false;
    QTest::newRow("auth") << 8 << u"TASK_STATE_AUTH_REQUIRED"_s << u"auth-required"_s << false
                          << true;
}

void tst_A2aHost::stateNames()
{
    QFETCH(int, state);
    QFETCH(QString, v1);
    QFETCH(QString, v03);
    QFETCH(bool, terminal);
    QFETCH(bool, interrupted);
    const TaskState s = TaskState(state);
    QCOMPARE(stateName(s, Dialect::V1), v1);
    QCOMPARE(stateName(s, Dialect::V03), v03);
    QCOMPARE(parseState(v1), std::optional<TaskState>(s));
    QCOMPARE(parseState(v03), std::optional<TaskState>(s));
    QCOMPARE(isTerminal(s), terminal);
    QCOMPARE(isInterrupted(s), interrupted);
    QCOMPARE(parseState(u"TASK_STATE_CANCELLED"_s), std::optional<TaskState>(TaskState::Canceled));
    QVERIFY(!parseState(u"done"_s));
}

void tst_A2aHost::jsonRpcErrors_data()
{
    QTest::addColumn<ErrorKind>("kind");
    QTest::addColumn<Dialect>("dialect");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("v1 not found")
        << ErrorKind::TaskNotFound << Dialect::V1
        << QByteArray(
               R"({"code":-32001,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","reason":"TASK_NOT_FOUND"}],"message":"m"})");
    QTest::newRow("v1 not cancelable")
        << ErrorKind::TaskNotCancelable << Dialect::V1
        << QByteArray(
               R"({"code":-32002,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","reason":"TASK_NOT_CANCELABLE"}],"message":"m"})");
    QTest::newRow("v1 params")
        << ErrorKind::InvalidParams << Dialect::V1
        << QByteArray(
               R"({"code":-32602,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","reason":"INVALID_PARAMS"}],"message":"m"})");
    QTest::newRow("v1 version")
        << ErrorKind::VersionNotSupported << Dialect::V1
        << QByteArray(
               R"({"code":-32009,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","reason":"VERSION_NOT_SUPPORTED"}],"message":"m"})");
    // a2a-js sends these two bare.
    QTest::newRow("v1 method") << ErrorKind::MethodNotFound << Dialect::V1
                               << QByteArray(R"({"code":-32601,"message":"m"})");
    QTest::newRow("v1 parse") << ErrorKind::ParseError << Dialect::V1
                              << QByteArray(R"({"code":-32700,"message":"m"})");
    QTest::newRow("v03 not found") << ErrorKind::TaskNotFound << Dialect::V03
                                   << QByteArray(R"({"code":-32001,"message":"m"})");
    QTest::newRow("v03 push") << ErrorKind::PushNotSupported << Dialect::V03
                              << QByteArray(R"({"code":-32003,"message":"m"})");
    QTest::newRow("v03 request") << ErrorKind::InvalidRequest << Dialect::V03
                                 << QByteArray(R"({"code":-32600,"message":"m"})");
}

void tst_A2aHost::jsonRpcErrors()
{
    QFETCH(ErrorKind, kind);
    QFETCH(Dialect, dialect);
    QFETCH(QByteArray, expected);
    const QJsonObject error = jsonRpcError(Error{kind, u"m"_s}, dialect);
    QCOMPARE(QJsonDocument(error).toJson(QJsonDocument::Compact), expected);
}

void tst_A2aHost::restErrors_data()
{
    QTest::addColumn<ErrorKind>("kind");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("statusName");
    QTest::addColumn<QString>("reason");
    QTest::newRow("not found") << ErrorKind::TaskNotFound << 404 << u"NOT_FOUND"_s
                               << u"TASK_NOT_FOUND"_s;
    QTest::newRow("not cancelable") << ErrorKind::TaskNotCancelable << 400
                                    << u"FAILED_PRECONDITION"_s << u"TASK_NOT_CANCELABLE"_s;
    QTest::newRow("unsupported") << ErrorKind::UnsupportedOperation << 400
                                 << u"FAILED_PRECONDITION"_s << u"UNSUPPORTED_OPERATION"_s;
    QTest::newRow("params") << ErrorKind::InvalidParams << 400 << u"INVALID_ARGUMENT"_s
                            << u"INVALID_PARAMS"_s;
    QTest::newRow("version") << ErrorKind::VersionNotSupported << 400 << u"FAILED_PRECONDITION"_s
                             << u"VERSION_NOT_SUPPORTED"_s;
}

void tst_A2aHost::restErrors()
{
    QFETCH(ErrorKind, kind);
    QFETCH(int, status);
    QFETCH(QString, statusName);
    QFETCH(QString, reason);
    const QJsonObject body = restError(Error{kind, u"words"_s}, Dialect::V1);
    QCOMPARE(body.keys(), QStringList{u"error"_s});
    const QJsonObject e = body.value(u"error").toObject();
    QCOMPARE(e.keys(), (QStringList{u"code"_s, u"details"_s, u"message"_s, u"status"_s}));
    QCOMPARE(e.value(u"code").toInt(), status);
    QCOMPARE(restHttpStatus(kind, Dialect::V1), status);
    QCOMPARE(e.value(u"status").toString(), statusName);
    QCOMPARE(e.value(u"message").toString(), u"words"_s);
    const QJsonObject info = e.value(u"details").toArray().at(0).toObject();
    QCOMPARE(info.value(u"reason").toString(), reason);
    QCOMPARE(info.value(u"domain").toString(), u"a2a-protocol.org"_s);
    // v0.3 REST: a2a-js's free-form {code, message}.
    const QJsonObject legacy = restError(Error{kind, u"words"_s}, Dialect::V03);
    QCOMPARE(legacy.keys(), (QStringList{u"code"_s, u"message"_s}));
    QCOMPARE(legacy.value(u"code").toInt(), jsonRpcCode(kind));
}

void tst_A2aHost::parseMessage_data()
{
    QTest::addColumn<Dialect>("dialect");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("expected"); // v1.0 shape, or empty for an error
    QTest::addColumn<QString>("error");
    QTest::newRow("v1 text")
        << Dialect::V1
        << QByteArray(R"({"messageId":"m1","role":"ROLE_USER","parts":[{"text":"hi"}]})")
        << QByteArray(R"({"messageId":"m1","parts":[{"text":"hi"}],"role":"ROLE_USER"})")
        << QString();
    QTest::newRow("v03 data")
        << Dialect::V03
        << QByteArray(
               R"({"kind":"message","messageId":"m2","role":"user","taskId":"t","parts":[{"kind":"data","data":{"decision":"approve"}}]})")
        << QByteArray(
               R"({"messageId":"m2","parts":[{"data":{"decision":"approve"}}],"role":"ROLE_USER","taskId":"t"})")
        << QString();
    QTest::newRow("v03 file")
        << Dialect::V03
        << QByteArray(
               R"({"messageId":"m3","role":"user","parts":[{"kind":"file","file":{"uri":"https://x/y","mimeType":"text/csv"}}]})")
        << QByteArray(
               R"({"messageId":"m3","parts":[{"mediaType":"text/csv","url":"https://x/y"}],"role":"ROLE_USER"})")
        << QString();
    // v0.3 HTTP+JSON is v0.3 proto JSON: "content", nested data (a2a-js's client sends this).
    QTest::newRow("v03 rest")
        << Dialect::V03Rest
        << QByteArray(
               R"({"messageId":"m4","role":"ROLE_USER","taskId":"t","content":[{"text":"approved"},{"data":{"data":{"decision":"approve"}}}]})")
        << QByteArray(
               R"({"messageId":"m4","parts":[{"text":"approved"},{"data":{"decision":"approve"}}],"role":"ROLE_USER","taskId":"t"})")
        << QString();
    QTest::newRow("v03 rest parts")
        << Dialect::V03Rest
        << QByteArray(R"({"messageId":"m5","role":"ROLE_USER","parts":[{"text":"x"}]})")
        << QByteArray() << u"message.content must be an array"_s;
    QTest::newRow("no id") << Dialect::V1 << QByteArray(R"({"role":"ROLE_USER","parts":[]})")
                           << QByteArray() << u"message.messageId is required"_s;
    QTest::newRow("bad role") << Dialect::V1
                              << QByteArray(R"({"messageId":"x","role":"user2","parts":[]})")
                              << QByteArray() << u"message.role must be ROLE_USER or ROLE_AGENT"_s;
    QTest::newRow("empty part")
        << Dialect::V1 << QByteArray(R"({"messageId":"x","role":"ROLE_USER","parts":[{}]})")
        << QByteArray() << u"message.parts[0] has no content (text, data, url, raw or file)"_s;
    QTest::newRow("parts missing")
        << Dialect::V03 << QByteArray(R"({"messageId":"x","role":"user"})") << QByteArray()
        << u"message.parts must be an array"_s;
}

void tst_A2aHost::parseMessage()
{
    QFETCH(Dialect, dialect);
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, expected);
    QFETCH(QString, error);
    Error e;
    const auto message = A2a::parseMessage(QJsonDocument::fromJson(json).object(), dialect, &e);
    if (expected.isEmpty()) {
        QVERIFY(!message);
        QCOMPARE(e.kind, ErrorKind::InvalidParams);
        QCOMPARE(e.message, error);
        return;
    }
    QVERIFY2(message, qPrintable(e.message));
    QCOMPARE(QJsonDocument(*message).toJson(QJsonDocument::Compact), expected);
}

void tst_A2aHost::v03Shapes()
{
    const QJsonObject m
        = agentMessage(u"t1"_s,
                       u"c1"_s,
                       QJsonArray{textPart(u"Approve?"_s),
                                  dataPart(obj(R"({"approval":{"action":"stripe.refund"}})"))});
    const QJsonObject legacy = messageToV03(m);
    QCOMPARE(legacy.value(u"kind").toString(), u"message"_s);
    QCOMPARE(legacy.value(u"role").toString(), u"agent"_s);
    QCOMPARE(legacy.value(u"parts").toArray().at(0).toObject(),
             obj(R"({"kind":"text","text":"Approve?"})"));
    QCOMPARE(legacy.value(u"parts").toArray().at(1).toObject().value(u"kind").toString(),
             u"data"_s);
    const QJsonObject status
        = statusFor(TaskState::InputRequired, m, u"2026-01-01T00:00:00.000Z"_s, Dialect::V03);
    QCOMPARE(status.value(u"state").toString(), u"input-required"_s);
    QCOMPARE(status.value(u"message").toObject().value(u"role").toString(), u"agent"_s);
    // v0.3 proto (HTTP+JSON): content, nested data, ROLE_*, and CANCELLED with two Ls.
    const QJsonObject proto = messageFor(m, Dialect::V03Rest);
    QCOMPARE(proto.value(u"role"_s).toString(), u"ROLE_AGENT"_s);
    QVERIFY(!proto.contains(u"parts"_s));
    QCOMPARE(
        QJsonDocument(proto.value(u"content"_s).toArray()).toJson(QJsonDocument::Compact),
        QByteArray(
            R"([{"text":"Approve?"},{"data":{"data":{"approval":{"action":"stripe.refund"}}}}])"));
    QCOMPARE(stateName(TaskState::Canceled, Dialect::V03Rest), u"TASK_STATE_CANCELLED"_s);
    QCOMPARE(stateName(TaskState::Working, Dialect::V03Rest), u"TASK_STATE_WORKING"_s);
    const QJsonObject artifact{{u"artifactId"_s, u"a"_s},
                               {u"parts"_s, QJsonArray{textPart(u"done"_s)}}};
    QCOMPARE(artifactFor(artifact, Dialect::V03Rest).value(u"parts"_s).toArray().at(0).toObject(),
             obj(R"({"text":"done"})"));
    // v1.0 keeps the agent's media types, as a2a-js sends them.
    QCOMPARE(m.value(u"parts"_s).toArray().at(0).toObject(),
             obj(R"({"text":"Approve?","mediaType":"text/plain"})"));
    const QJsonObject v1
        = statusFor(TaskState::InputRequired, m, u"2026-01-01T00:00:00.000Z"_s, Dialect::V1);
    QCOMPARE(v1.value(u"state").toString(), u"TASK_STATE_INPUT_REQUIRED"_s);
    QCOMPARE(v1.value(u"message").toObject().value(u"role").toString(), u"ROLE_AGENT"_s);
}

void tst_A2aHost::decisions_data()
{
    QTest::addColumn<QByteArray>("parts");
    QTest::addColumn<int>("verdict"); // -1: error
    QTest::addColumn<QString>("reason");
    QTest::newRow("data approve") << QByteArray(
        R"([{"data":{"decision":"approve","reason":"ok"}},{"text":"Approved: ok"}])")
                                  << int(Decision::Verdict::Approve) << u"ok"_s;
    QTest::newRow("data deny") << QByteArray(
        R"([{"data":{"decision":"deny","reason":"no ticket"}}])")
                               << int(Decision::Verdict::Deny) << u"no ticket"_s;
    QTest::newRow("data edit") << QByteArray(
        R"([{"data":{"decision":"edit","arguments":{"amount":"10.00"}}}])")
                               << int(Decision::Verdict::Edit) << QString();
    QTest::newRow("text approve") << QByteArray(R"([{"text":"Approve."}])")
                                  << int(Decision::Verdict::Approve) << u"Approve."_s;
    QTest::newRow("text deny") << QByteArray(R"([{"text":"deny - not our customer"}])")
                               << int(Decision::Verdict::Deny) << u"deny - not our customer"_s;
    QTest::newRow("text unclear") << QByteArray(R"([{"text":"maybe later"}])") << -1 << QString();
    QTest::newRow("text both") << QByteArray(R"([{"text":"approve? no"}])") << -1 << QString();
    QTest::newRow("bad verdict") << QByteArray(R"([{"data":{"decision":"ok"}}])") << -1
                                 << QString();
}

void tst_A2aHost::decisions()
{
    QFETCH(QByteArray, parts);
    QFETCH(int, verdict);
    QFETCH(QString, reason);
    const QJsonObject message{{u"parts"_s, QJsonDocument::fromJson(parts).array()}};
    Error e;
    const auto d = parseDecision(message, &e);
    if (verdict < 0) {
        QVERIFY(!d);
        QCOMPARE(e.kind, ErrorKind::InvalidParams);
        QVERIFY(!e.message.isEmpty());
        return;
    }
    QVERIFY2(d, qPrintable(e.message));
    QCOMPARE(int(d->verdict), verdict);
    QCOMPARE(d->reason, reason);
}

void tst_A2aHost::pageTokens()
{
    const QString token = encodePageToken(u"2026-11-27T03:00:00.000Z"_s, u"abc|def"_s);
    // a2a-js: Buffer.from(`${timestamp}|${id}`).toString("base64")
    QCOMPARE(token, u"MjAyNi0xMS0yN1QwMzowMDowMC4wMDBafGFiY3xkZWY="_s);
    const auto decoded = decodePageToken(token, nullptr);
    QVERIFY(decoded);
    QCOMPARE(decoded->first, u"2026-11-27T03:00:00.000Z"_s);
    QCOMPARE(decoded->second, u"abc|def"_s);
    Error e;
    QVERIFY(!decodePageToken(u"!!!"_s, &e));
    QCOMPARE(e.message, u"Token is not a valid base64-encoded cursor."_s);
    QVERIFY(!decodePageToken(QString::fromLatin1(QByteArray("nobar").toBase64()), &e));
    QCOMPARE(e.message, u"Invalid page token format."_s);
}

void tst_A2aHost::versions_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QString>("version");
    QTest::newRow("absent") << QByteArray() << QByteArray() << u"0.3"_s;
    QTest::newRow("header") << QByteArray("1.0") << QByteArray() << u"1.0"_s;
    QTest::newRow("spaces") << QByteArray(" 1.0 ") << QByteArray() << u"1.0"_s;
    QTest::newRow("query") << QByteArray() << QByteArray("A2A-Version=1.0") << u"1.0"_s;
    QTest::newRow("other") << QByteArray("2.1") << QByteArray() << u"2.1"_s;
}

void tst_A2aHost::versions()
{
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, query);
    QFETCH(QString, version);
    QCOMPARE(requestedVersion(header, query), version);
}

void tst_A2aHost::storeListsNewestFirstInPages()
{
    TaskStore store;
    for (int i = 0; i < 7; ++i) {
        Task &t = store.create(u"t%1"_s.arg(i), u"c"_s, quint64(i));
        t.timestamp = u"2026-11-27T03:00:0%1.000Z"_s.arg(i);
    }
    TaskStore::ListQuery q;
    q.pageSize = 3;
    QStringList seen;
    int pages = 0;
    for (;;) {
        Error e;
        const auto page = store.list(q, &e);
        QVERIFY2(page, qPrintable(e.message));
        QCOMPARE(page->totalSize, 7);
        QCOMPARE(page->pageSize, 3);
        for (const Task *t : page->tasks)
            seen << t->id;
        ++pages;
        if (page->nextPageToken.isEmpty())
            break;
        q.pageToken = page->nextPageToken;
    }
    QCOMPARE(pages, 3);
    QCOMPARE(seen, (QStringList{u"t6"_s, u"t5"_s, u"t4"_s, u"t3"_s, u"t2"_s, u"t1"_s, u"t0"_s}));
}

void tst_A2aHost::storeFiltersAndRejectsBadQueries()
{
    TaskStore store;
    Task &a = store.create(u"a"_s, u"ctx1"_s, 1);
    store.create(u"b"_s, u"ctx2"_s, 2);
    Task &c = store.create(u"c"_s, u"ctx1"_s, 3);
    store.setState(a, TaskState::Working);
    store.setState(c, TaskState::Completed);
    TaskStore::ListQuery q;
    q.contextId = u"ctx1"_s;
    auto r = store.list(q, nullptr);
    QVERIFY(r);
    QCOMPARE(int(r->tasks.size()), 2);
    QVERIFY(r->nextPageToken.isEmpty());
    q.status = TaskState::Completed;
    r = store.list(q, nullptr);
    QVERIFY(r);
    QCOMPARE(int(r->tasks.size()), 1);
    QCOMPARE(r->tasks.front()->id, u"c"_s);

    for (int bad : {0, 101, -1}) {
        TaskStore::ListQuery b;
        b.pageSize = bad;
        Error e;
        QVERIFY(!store.list(b, &e));
        QCOMPARE(e.message, u"pageSize must be between 1 and 100"_s);
    }
}

void tst_A2aHost::storeKeepsTerminalStateAndBound()
{
    TaskStore store(3);
    Task &t = store.create(u"x"_s, u"c"_s, 1);
    QVERIFY(store.setState(
        t, TaskState::Canceled, agentMessage(u"x"_s, u"c"_s, QJsonArray{textPart(u"bye"_s)})));
    // Terminal is final: a late "completed" from the run does not replace CANCELED.
    QVERIFY(!store.setState(t, TaskState::Completed));
    QCOMPARE(t.state, TaskState::Canceled);
    Task &active = store.create(u"active"_s, u"c"_s, 2);
    store.setState(active, TaskState::Working);
    for (int i = 0; i < 5; ++i) {
        Task &d = store.create(u"done%1"_s.arg(i), u"c"_s, quint64(10 + i));
        store.setState(d, TaskState::Completed);
    }
    // Only the newest 3 terminal tasks remain; active ones are never dropped.
    QCOMPARE(store.size(), 4);
    QVERIFY(!store.find(u"x"_s));
    QVERIFY(!store.find(u"done1"_s));
    QVERIFY(store.find(u"done2"_s));
    QVERIFY(store.find(u"done4"_s));
    QVERIFY(store.find(u"active"_s));
}

QTEST_GUILESS_MAIN(tst_A2aHost)
#include "tst_a2a_host.moc"
