// The LangGraph codec against bytes captured from the LangGraph JS dev server
// (@langchain/langgraph-cli 1.5.1, langgraph-api 1.5.1; tests/data/langgraph/README.md says which
// request produced each file).
#include "connectors/runtime/LangGraphCodec.h"
#include "connectors/runtime/SseParser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace Breaker;

namespace {

QByteArray sample(const QString &name)
{
    QFile file(QStringLiteral(BREAKER_TEST_DATA_DIR "/langgraph/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open sample %s", qPrintable(file.fileName()));
    return file.readAll();
}

QJsonObject object(const QString &name)
{
    return QJsonDocument::fromJson(sample(name)).object();
}

QJsonArray array(const QString &name)
{
    return QJsonDocument::fromJson(sample(name)).array();
}

QString s(const char *text) { return QString::fromUtf8(text); }

QJsonObject compactObject(const QByteArray &json) { return QJsonDocument::fromJson(json).object(); }

LangGraph::Interrupt hitlInterrupt()
{
    return LangGraph::interruptsFromThread(object(s("thread-get-interrupted.json"))).front();
}

} // namespace

class tst_LangGraphCodec : public QObject
{
    Q_OBJECT

private slots:
    void runStatuses_data();
    void runStatuses();
    void capturedRuns_data();
    void capturedRuns();
    void successWhileInterrupted();
    void olderRunOfInterruptedThread();
    void interruptsEverywhere();
    void hitlQuestion();
    void plainInterrupts_data();
    void plainInterrupts();
    void resumeShapes_data();
    void resumeShapes();
    void resumeSeveralPending();
    void editNeedsOneObject();
    void externalIds_data();
    void externalIds();
    void errors_data();
    void errors();
    void garbage();
    void streams_data();
    void streams();
};

void tst_LangGraphCodec::runStatuses_data()
{
    QTest::addColumn<QByteArray>("status");
    QTest::addColumn<int>("expected");
    QTest::newRow("pending") << QByteArray("pending") << int(RunStatus::Submitted);
    QTest::newRow("running") << QByteArray("running") << int(RunStatus::Working);
    QTest::newRow("success") << QByteArray("success") << int(RunStatus::Completed);
    QTest::newRow("error") << QByteArray("error") << int(RunStatus::Failed);
    QTest::newRow("timeout") << QByteArray("timeout") << int(RunStatus::Failed);
    QTest::newRow("interrupted") << QByteArray("interrupted") << int(RunStatus::Stopped);
    QTest::newRow("unknown word") << QByteArray("exploded") << -1;
    QTest::newRow("thread word is not a run word") << QByteArray("busy") << -1;
}

void tst_LangGraphCodec::runStatuses()
{
    QFETCH(QByteArray, status);
    QFETCH(int, expected);
    const auto mapped = LangGraph::statusFromRunStatus(status);
    QCOMPARE(mapped ? int(*mapped) : -1, expected);
    for (const char *t : {"idle", "busy", "interrupted", "error"})
        QVERIFY(LangGraph::isKnownThreadStatus(t));
    QVERIFY(!LangGraph::isKnownThreadStatus("success"));
}

void tst_LangGraphCodec::capturedRuns_data()
{
    QTest::addColumn<QString>("run");
    QTest::addColumn<QString>("thread");
    QTest::addColumn<QString>("state");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("rawState");
    QTest::newRow("pending") << s("run-create-slow.json") << QString() << QString() << int(RunStatus::Submitted)
                             << QByteArray("pending");
    QTest::newRow("running, thread busy") << s("run-get-running.json") << s("thread-get-busy.json") << QString()
                                          << int(RunStatus::Working) << QByteArray("running/thread:busy");
    QTest::newRow("success, thread idle") << s("run-get-after-approve.json") << s("thread-get-after-approve.json")
                                          << QString() << int(RunStatus::Completed)
                                          << QByteArray("success/thread:idle");
    QTest::newRow("cancelled: interrupted, thread idle")
        << s("run-get-after-cancel.json") << s("thread-get-after-cancel.json") << s("thread-state-after-cancel.json")
        << int(RunStatus::Stopped) << QByteArray("interrupted/thread:idle");
    QTest::newRow("rollback on the JS server: error") << s("run-get-after-rollback.json") << s("thread-get-after-rollback.json")
                                                      << QString() << int(RunStatus::Failed)
                                                      << QByteArray("error/thread:error");
    QTest::newRow("graph raised: error") << s("run-get-error.json") << s("thread-get-error.json") << QString()
                                         << int(RunStatus::Failed) << QByteArray("error/thread:error");
    QTest::newRow("success while interrupted") << s("run-get-success-while-interrupted.json")
                                               << s("thread-get-interrupted.json") << s("thread-state-interrupted.json")
                                               << int(RunStatus::WaitingApproval)
                                               << QByteArray("success/thread:interrupted");
}

void tst_LangGraphCodec::capturedRuns()
{
    QFETCH(QString, run);
    QFETCH(QString, thread);
    QFETCH(QString, state);
    QFETCH(int, status);
    QFETCH(QByteArray, rawState);
    auto parsed = LangGraph::parseRun(object(run));
    QVERIFY2(parsed.ok(), parsed.ok() ? "" : qPrintable(parsed.error().message));
    const QJsonObject runJson = object(run);
    const QByteArray threadId = runJson.value(QLatin1String("thread_id")).toString().toUtf8();
    const QByteArray runId = runJson.value(QLatin1String("run_id")).toString().toUtf8();
    QCOMPARE(parsed->externalId, threadId + ':' + runId);
    QCOMPARE(parsed->contextId, threadId);
    QCOMPARE(parsed->key, QByteArray("langgraph:") + threadId + ':' + runId);
    QCOMPARE(parsed->agentName, QByteArray("agent")); // metadata.graph_id, not the assistant's UUID
    QCOMPARE(parsed->kind, QByteArray("langgraph"));
    QVERIFY(parsed->updatedMs > 0);
    if (!thread.isEmpty())
        LangGraph::applyThread(*parsed, object(thread), state.isEmpty() ? QJsonObject() : object(state), true);
    QCOMPARE(int(parsed->status), status);
    QCOMPARE(parsed->rawState, rawState);
    QCOMPARE(parsed->approval.has_value(), status == int(RunStatus::WaitingApproval));
}

void tst_LangGraphCodec::successWhileInterrupted()
{
    // PROTOCOLS.md trap 2: the run says success; only the thread knows it waits.
    auto run = LangGraph::parseRun(object(s("run-get-success-while-interrupted.json")));
    QVERIFY(run.ok());
    QCOMPARE(run->status, RunStatus::Completed);
    // From the thread alone (a listing has no state): the newest run is the one that paused.
    RuntimeRun fromThread = *run;
    LangGraph::applyThread(fromThread, object(s("thread-get-interrupted.json")), {}, true);
    QCOMPARE(fromThread.status, RunStatus::WaitingApproval);
    QVERIFY(fromThread.approval);
    QCOMPARE(fromThread.approval->action, QByteArray("stripe.refund"));
    // Also from a search result (threads/search carries the interrupts too).
    RuntimeRun fromSearch = *run;
    LangGraph::applyThread(fromSearch, array(s("threads-search-interrupted.json")).first().toObject(), {}, true);
    QCOMPARE(fromSearch.status, RunStatus::WaitingApproval);
    QCOMPARE(fromSearch.approval->amountValue, QByteArray("1250.00"));
}

void tst_LangGraphCodec::olderRunOfInterruptedThread()
{
    // The state names the run that wrote the checkpoint; another run of the thread does not wait.
    auto run = LangGraph::parseRun(object(s("run-get-success-while-interrupted.json")));
    QVERIFY(run.ok());
    QJsonObject state = object(s("thread-state-interrupted.json"));
    QJsonObject metadata = state.value(QLatin1String("metadata")).toObject();
    metadata.insert(QStringLiteral("run_id"), QStringLiteral("01a2ffff-0000-7000-8000-000000000000"));
    state.insert(QStringLiteral("metadata"), metadata);
    LangGraph::applyThread(*run, object(s("thread-get-interrupted.json")), state, true);
    QCOMPARE(run->status, RunStatus::Completed);
    QCOMPARE(run->rawState, QByteArray("success"));
    QVERIFY(!run->approval);
    // Without a state, a run that is not the newest keeps its own word too.
    auto older = LangGraph::parseRun(object(s("run-get-success-while-interrupted.json")));
    LangGraph::applyThread(*older, object(s("thread-get-interrupted.json")), {}, false);
    QCOMPARE(older->status, RunStatus::Completed);
}

void tst_LangGraphCodec::interruptsEverywhere()
{
    // The same question in the thread, the state and the stream.
    const auto fromThread = LangGraph::interruptsFromThread(object(s("thread-get-interrupted.json")));
    const auto fromState = LangGraph::interruptsFromState(object(s("thread-state-interrupted.json")));
    QCOMPARE(fromThread.size(), size_t(1));
    QCOMPARE(fromState.size(), size_t(1));
    QVERIFY(!fromThread.front().id.isEmpty());
    QCOMPARE(fromThread.front().value, fromState.front().value);

    SseParser parser;
    std::vector<LangGraph::Interrupt> fromStream;
    for (const SseEvent &e : parser.feed(sample(s("run-join-refund.sse"))))
        for (const auto &i : LangGraph::interruptsFromStreamData(QJsonDocument::fromJson(e.data).object()))
            fromStream.push_back(i);
    QVERIFY(!fromStream.empty()); // in `updates` and in `values`
    QCOMPARE(fromStream.front().value.toObject().keys(), fromThread.front().value.toObject().keys());

    // Nothing pending after the answer.
    QVERIFY(LangGraph::interruptsFromThread(object(s("thread-get-after-approve.json"))).empty());
    QVERIFY(LangGraph::interruptsFromState(object(s("thread-state-after-cancel.json"))).empty());
}

void tst_LangGraphCodec::hitlQuestion()
{
    const RuntimeApprovalRequest r = LangGraph::approvalFromInterrupt(hitlInterrupt());
    QCOMPARE(r.source, QByteArray("langgraph.hitl"));
    QCOMPARE(r.action, QByteArray("stripe.refund"));
    QCOMPARE(r.amountValue, QByteArray("1250.00"));
    QCOMPARE(r.currency, QByteArray("usd"));
    QVERIFY(r.message.contains(s("above the 1000.00 usd threshold")));
    QCOMPARE(compactObject(r.argumentsJson).value(QLatin1String("charge")).toString(), s("ch_3QxRefund1250"));
}

void tst_LangGraphCodec::plainInterrupts_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("action");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QByteArray>("source");
    QTest::newRow("PROTOCOLS sample") << QByteArray(R"({"action":"delete_file","question":"approve?"})")
                                      << QByteArray("delete_file") << s("approve?") << QByteArray("langgraph.interrupt");
    QTest::newRow("a string") << QByteArray(R"("Proceed with the wire transfer?")") << QByteArray()
                              << s("Proceed with the wire transfer?") << QByteArray("langgraph.interrupt");
    QTest::newRow("unknown object") << QByteArray(R"({"x":1})") << QByteArray() << s(R"({"x":1})")
                                    << QByteArray("langgraph.interrupt");
    QTest::newRow("JS middleware spelling")
        << QByteArray(R"({"actionRequests":[{"name":"write_file","args":{"path":"a.txt"},"description":"Write?"}],)"
                      R"("reviewConfigs":[{"actionName":"write_file","allowedDecisions":["approve","edit","reject"]}]})")
        << QByteArray("write_file") << s("Write?") << QByteArray("langgraph.hitl");
    QTest::newRow("amount as a number")
        << QByteArray(R"({"action_requests":[{"name":"stripe.refund","args":{"amount":99.5,"currency":"EUR"}}],"review_configs":[]})")
        << QByteArray("stripe.refund") << s("stripe.refund asks for review") << QByteArray("langgraph.hitl");
}

void tst_LangGraphCodec::plainInterrupts()
{
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, action);
    QFETCH(QString, message);
    QFETCH(QByteArray, source);
    const QJsonValue v = QJsonDocument::fromJson("[" + value + "]").array().first();
    const RuntimeApprovalRequest r = LangGraph::approvalFromInterrupt({"i1", v});
    QCOMPARE(r.action, action);
    QCOMPARE(r.message, message);
    QCOMPARE(r.source, source);
    if (qstrcmp(QTest::currentDataTag(), "amount as a number") == 0) {
        QCOMPARE(r.amountValue, QByteArray("99.50"));
        QCOMPARE(r.currency, QByteArray("eur"));
    }
}

void tst_LangGraphCodec::resumeShapes_data()
{
    QTest::addColumn<int>("decision");
    QTest::addColumn<QByteArray>("arguments");
    QTest::addColumn<QByteArray>("interrupt");
    QTest::addColumn<QByteArray>("expected");
    const QByteArray snake = QJsonDocument(hitlInterrupt().value.toObject()).toJson(QJsonDocument::Compact);
    const QByteArray camel = R"({"actionRequests":[{"name":"write_file","args":{"path":"a"}}],"reviewConfigs":[]})";
    // The exact bodies the graph was resumed with in the captures (resume-*.json).
    QTest::newRow("approve") << int(ApprovalDecision::Approve) << QByteArray() << snake
                             << QByteArray(R"({"decisions":[{"type":"approve"}]})");
    QTest::newRow("deny → reject with the reason") << int(ApprovalDecision::Deny) << QByteArray() << snake
                                                   << QByteArray(R"({"decisions":[{"message":"customer already refunded by card issuer","type":"reject"}]})");
    QTest::newRow("edit") << int(ApprovalDecision::Edit)
                          << QByteArray(R"({"charge":"ch_3QxRefund1250","amount":"1000.00","currency":"usd"})") << snake
                          << QByteArray(R"({"decisions":[{"edited_action":{"args":{"amount":"1000.00","charge":"ch_3QxRefund1250","currency":"usd"},"name":"stripe.refund"},"type":"edit"}]})");
    QTest::newRow("edit, JS spelling") << int(ApprovalDecision::Edit) << QByteArray(R"({"path":"b"})") << camel
                                       << QByteArray(R"({"decisions":[{"editedAction":{"args":{"path":"b"},"name":"write_file"},"type":"edit"}]})");
    QTest::newRow("plain interrupt") << int(ApprovalDecision::Deny) << QByteArray()
                                     << QByteArray(R"({"question":"approve?"})")
                                     << QByteArray(R"({"decision":"deny","reason":"customer already refunded by card issuer"})");
}

void tst_LangGraphCodec::resumeShapes()
{
    QFETCH(int, decision);
    QFETCH(QByteArray, arguments);
    QFETCH(QByteArray, interrupt);
    QFETCH(QByteArray, expected);
    ApprovalAnswer answer;
    answer.decision = ApprovalDecision(decision);
    answer.reason = s("customer already refunded by card issuer");
    answer.argumentsJson = arguments;
    auto value = LangGraph::resumeValue(answer, {"i1", QJsonDocument::fromJson(interrupt).object()}, 1);
    QVERIFY2(value.ok(), value.ok() ? "" : qPrintable(value.error().message));
    QCOMPARE(QJsonDocument(value->toObject()).toJson(QJsonDocument::Compact), expected);
    // The captured resume requests carried these decisions and the graph read them.
    if (qstrcmp(QTest::currentDataTag(), "approve") == 0)
        QCOMPARE(object(s("resume-approve.json")).value(QLatin1String("kwargs")).toObject()
                     .value(QLatin1String("command")).toObject().value(QLatin1String("resume")),
                 value.value());
}

void tst_LangGraphCodec::resumeSeveralPending()
{
    ApprovalAnswer answer;
    answer.decision = ApprovalDecision::Approve;
    auto value = LangGraph::resumeValue(answer, hitlInterrupt(), 2);
    QVERIFY(value.ok());
    const QJsonObject keyed = value->toObject();
    QCOMPARE(keyed.keys(), QStringList{QString::fromUtf8(hitlInterrupt().id)});
}

void tst_LangGraphCodec::editNeedsOneObject()
{
    ApprovalAnswer answer;
    answer.decision = ApprovalDecision::Edit;
    answer.argumentsJson = "[1,2]";
    auto notObject = LangGraph::resumeValue(answer, hitlInterrupt(), 1);
    QVERIFY(!notObject.ok());
    QCOMPARE(notObject.error().where, s("answer.arguments"));
    answer.argumentsJson = R"({"a":1})";
    const QJsonObject two = QJsonDocument::fromJson(
        R"({"action_requests":[{"name":"a","args":{}},{"name":"b","args":{}}],"review_configs":[]})").object();
    auto twoActions = LangGraph::resumeValue(answer, {"i", two}, 1);
    QVERIFY(!twoActions.ok());
    QVERIFY2(twoActions.error().message.contains(s("exactly one action")), qPrintable(twoActions.error().message));
    // Approve and deny answer every action alike.
    answer.decision = ApprovalDecision::Approve;
    auto both = LangGraph::resumeValue(answer, {"i", two}, 1);
    QVERIFY(both.ok());
    QCOMPARE(both->toObject().value(QLatin1String("decisions")).toArray().size(), 2);
}

void tst_LangGraphCodec::externalIds_data()
{
    QTest::addColumn<QByteArray>("id");
    QTest::addColumn<bool>("valid");
    QTest::newRow("thread:run") << QByteArray("t-1:r-1") << true;
    QTest::newRow("no colon") << QByteArray("r-1") << false;
    QTest::newRow("empty thread") << QByteArray(":r-1") << false;
    QTest::newRow("empty run") << QByteArray("t-1:") << false;
    QTest::newRow("two colons") << QByteArray("a:b:c") << false;
}

void tst_LangGraphCodec::externalIds()
{
    QFETCH(QByteArray, id);
    QFETCH(bool, valid);
    auto ids = LangGraph::splitExternalId(id);
    QCOMPARE(ids.ok(), valid);
    if (valid) {
        QCOMPARE(LangGraph::externalId(ids->threadId, ids->runId), id);
    } else {
        QVERIFY(ids.error().message.contains(s("<thread_id>:<run_id>")));
    }
}

void tst_LangGraphCodec::errors_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("words");
    QTest::newRow("404 run (plain text)") << 404 << s("run-get-unknown.txt") << QByteArray() << int(Error::Kind::NotFound)
                                         << s("peer answered HTTP 404 to GET /x: Run not found");
    QTest::newRow("404 thread") << 404 << s("thread-get-unknown.txt") << QByteArray() << int(Error::Kind::NotFound)
                                << s("Thread with ID 01a21b03-0000-7000-8000-000000000000 not found");
    QTest::newRow("404 cancel") << 404 << s("cancel-unknown.txt") << QByteArray() << int(Error::Kind::NotFound)
                                << s("Run not found");
    QTest::newRow("404 unknown assistant") << 404 << s("run-create-unknown-assistant.txt") << QByteArray()
                                           << int(Error::Kind::NotFound) << s("No assistant found for \"no-such-graph\"");
    QTest::newRow("400 zod, not a uuid") << 400 << s("run-get-not-a-uuid.json") << QByteArray() << int(Error::Kind::Invalid)
                                         << s("run_id: Invalid uuid (ZodError)");
    QTest::newRow("400 zod, enum") << 400 << s("cancel-bad-action.json") << QByteArray() << int(Error::Kind::Invalid)
                                   << s("action: Invalid enum value. Expected 'interrupt' | 'rollback', received 'explode'");
    QTest::newRow("400 zod, type") << 400 << s("threads-search-bad-limit.json") << QByteArray() << int(Error::Kind::Invalid)
                                   << s("limit: Expected number, received string");
    QTest::newRow("422 busy thread (JS)") << 422 << s("run-create-on-busy-thread.txt") << QByteArray()
                                         << int(Error::Kind::Conflict) << s("Thread is already running a task");
    QTest::newRow("409 busy (Python)") << 409 << QString() << QByteArray(R"({"detail":"Thread is busy"})")
                                       << int(Error::Kind::Conflict) << s("Thread is busy");
    QTest::newRow("422 Agent Protocol") << 422 << QString() << QByteArray(R"({"code":"invalid","message":"bad input"})")
                                        << int(Error::Kind::Invalid) << s("bad input [invalid]");
    QTest::newRow("422 FastAPI") << 422 << QString()
                                 << QByteArray(R"({"detail":[{"loc":["body","assistant_id"],"msg":"field required"}]})")
                                 << int(Error::Kind::Invalid) << s("body.assistant_id: field required");
    QTest::newRow("500") << 500 << QString() << QByteArray("Internal Server Error") << int(Error::Kind::Unavailable)
                         << s("HTTP 500 to GET /x: Internal Server Error");
    QTest::newRow("503 empty") << 503 << QString() << QByteArray() << int(Error::Kind::Unavailable) << s("(empty body)");
    QTest::newRow("403") << 403 << QString() << QByteArray(R"({"error":"Forbidden","message":"bad key"})")
                         << int(Error::Kind::Invalid) << s("Forbidden: bad key (check the provider's api_key, sent as x-api-key)");
    QTest::newRow("HTML") << 502 << QString() << QByteArray("<html><body>Bad gateway</body></html>")
                          << int(Error::Kind::Unavailable) << s("<html><body>Bad gateway</body></html>");
}

void tst_LangGraphCodec::errors()
{
    QFETCH(int, status);
    QFETCH(QString, file);
    QFETCH(QByteArray, body);
    QFETCH(int, kind);
    QFETCH(QString, words);
    const QByteArray bytes = file.isEmpty() ? body : sample(file);
    const Error e = LangGraph::errorFromResponse(status, bytes, s("peer"), s("GET /x"));
    QCOMPARE(int(e.kind), kind);
    QCOMPARE(e.where, s("peer"));
    QVERIFY2(e.message.startsWith(QStringLiteral("peer answered HTTP %1 to GET /x: ").arg(status)), qPrintable(e.message));
    QVERIFY2(e.message.contains(words), qPrintable(e.message));
}

void tst_LangGraphCodec::garbage()
{
    auto notJson = LangGraph::parseObject("<html>", s("peer"), s("GET /threads/x"));
    QVERIFY(!notJson.ok());
    QCOMPARE(notJson.error().where, s("peer"));
    QVERIFY(notJson.error().message.contains(s("not a JSON object: <html>")));
    QVERIFY(!LangGraph::parseArray("{}", s("peer"), s("POST /threads/search")).ok());
    QVERIFY(LangGraph::parseArray(sample(s("threads-search-page1.json")), s("peer"), s("x")).ok());
    // A run without ids or status is refused, in words naming the field.
    auto noThread = LangGraph::parseRun(compactObject(R"({"run_id":"r","status":"success"})"));
    QVERIFY(!noThread.ok());
    QCOMPARE(noThread.error().where, s("thread_id"));
    auto noStatus = LangGraph::parseRun(compactObject(R"({"run_id":"r","thread_id":"t"})"));
    QVERIFY(!noStatus.ok());
    QCOMPARE(noStatus.error().where, s("status"));
    auto unknown = LangGraph::parseRun(compactObject(R"({"run_id":"r","thread_id":"t","status":"frozen"})"));
    QVERIFY(unknown.ok());
    QCOMPARE(unknown->status, RunStatus::Unknown);
    QCOMPARE(unknown->rawState, QByteArray("frozen"));
}

void tst_LangGraphCodec::streams_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("firstType");
    QTest::addColumn<QByteArray>("lastType");
    QTest::addColumn<QByteArray>("lastId");
    QTest::addColumn<int>("chunk");
    for (int chunk : {1, 7, 4096}) {
        QTest::addRow("refund join /%d", chunk) << s("run-join-refund.sse") << QByteArray("metadata")
                                                         << QByteArray("values") << QByteArray("3") << chunk;
        QTest::addRow("resumed after id 2 /%d", chunk)
            << s("run-join-slow-last-event-id-2.sse") << QByteArray("values") << QByteArray("values")
            << QByteArray("5") << chunk;
        QTest::addRow("unknown run: 200 and an error event /%d", chunk)
            << s("run-join-unknown.sse") << QByteArray("error") << QByteArray("error") << QByteArray() << chunk;
        QTest::addRow("error event /%d", chunk) << s("run-stream-bad-resume.sse") << QByteArray("metadata")
                                                         << QByteArray("error") << QByteArray("2") << chunk;
    }
}

void tst_LangGraphCodec::streams()
{
    QFETCH(QString, file);
    QFETCH(QByteArray, firstType);
    QFETCH(QByteArray, lastType);
    QFETCH(QByteArray, lastId);
    QFETCH(int, chunk);
    const QByteArray bytes = sample(file);
    SseParser parser;
    std::vector<SseEvent> events;
    for (qsizetype i = 0; i < bytes.size(); i += chunk)
        for (SseEvent &e : parser.feed(QByteArrayView(bytes).sliced(i, std::min<qsizetype>(chunk, bytes.size() - i))))
            events.push_back(std::move(e));
    QVERIFY(!parser.finish());
    QVERIFY(!events.empty());
    QCOMPARE(events.front().type, firstType);
    QCOMPARE(events.back().type, lastType);
    QCOMPARE(parser.lastEventId(), lastId); // what a reconnect sends as Last-Event-ID
    if (file == s("run-join-unknown.sse"))
        QCOMPARE(events.back().data, QByteArray("\"Run not found\"")); // a JSON string, not {error, message}
    else if (lastType == "error") {
        const QJsonObject e = QJsonDocument::fromJson(events.back().data).object();
        QVERIFY(e.value(QLatin1String("message")).toString().contains(s("unexpected resume value")));
    }
    // The resumed stream starts after the id it was given.
    if (file == s("run-join-slow-last-event-id-2.sse"))
        QCOMPARE(events.front().id, QByteArray("3"));
}

QTEST_MAIN(tst_LangGraphCodec)
#include "tst_langgraphcodec.moc"
