// The A2A codec against bytes captured from @a2a-js/sdk 1.3.0 (tests/data/a2a/README.md says
// which request produced each file).
#include "connectors/runtime/A2aCodec.h"
#include "connectors/runtime/SseParser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace Breaker;

namespace {

QByteArray sample(const QString &name)
{
    QFile file(QStringLiteral(BREAKER_TEST_DATA_DIR "/a2a/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open sample %s", qPrintable(file.fileName()));
    return file.readAll();
}

QJsonObject object(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

// The origin the card was captured on (its port changes with every capture).
QString cardOrigin()
{
    const QJsonObject card = object(sample(QStringLiteral("card-v1.json")));
    const QUrl url(card.value(QLatin1String("supportedInterfaces")).toArray().first().toObject()
                       .value(QLatin1String("url")).toString());
    return url.adjusted(QUrl::RemovePath).toString();
}

QString s(const char *text) { return QString::fromUtf8(text); }

} // namespace

class tst_A2aCodec : public QObject
{
    Q_OBJECT

private slots:
    void chooseEndpoint_data();
    void chooseEndpoint();
    void v03OnlyCard();
    void cardErrors();
    void states_data();
    void states();
    void tasks_data();
    void tasks();
    void errors_data();
    void errors();
    void streams_data();
    void streams();
    void answerShapes();
    void listPage();
};

void tst_A2aCodec::chooseEndpoint_data()
{
    QTest::addColumn<QString>("profilePath");
    QTest::addColumn<QString>("expectedPath");
    QTest::addColumn<int>("dialect");
    QTest::addColumn<int>("binding");
    // The origin or the card URL: the first 1.0 interface (JSON-RPC on a2a-js).
    QTest::newRow("origin") << s("") << s("/a2a/jsonrpc") << int(A2a::Dialect::V1_0) << int(A2a::Binding::JsonRpc);
    QTest::newRow("card-url") << s("/.well-known/agent-card.json") << s("/a2a/jsonrpc")
                              << int(A2a::Dialect::V1_0) << int(A2a::Binding::JsonRpc);
    // An interface URL keeps its binding; 1.0 wins when the URL serves both dialects.
    QTest::newRow("rest-url") << s("/a2a/rest") << s("/a2a/rest") << int(A2a::Dialect::V1_0)
                              << int(A2a::Binding::HttpJson);
    QTest::newRow("rest-url-trailing-slash") << s("/a2a/rest/") << s("/a2a/rest") << int(A2a::Dialect::V1_0)
                                             << int(A2a::Binding::HttpJson);
    QTest::newRow("jsonrpc-url") << s("/a2a/jsonrpc") << s("/a2a/jsonrpc") << int(A2a::Dialect::V1_0)
                                 << int(A2a::Binding::JsonRpc);
}

void tst_A2aCodec::chooseEndpoint()
{
    QFETCH(QString, profilePath);
    QFETCH(QString, expectedPath);
    QFETCH(int, dialect);
    QFETCH(int, binding);
    const QUrl cardUrl(cardOrigin() + QStringLiteral("/.well-known/agent-card.json"));
    auto e = A2a::chooseEndpoint(sample(QStringLiteral("card-v1.json")), cardUrl, QUrl(cardOrigin() + profilePath));
    QVERIFY2(e.ok(), e.ok() ? "" : qPrintable(e.error().message));
    QCOMPARE(e->url.path(), expectedPath);
    QCOMPARE(int(e->dialect), dialect);
    QCOMPARE(int(e->binding), binding);
    QVERIFY(e->streaming);
    QVERIFY(!e->agentName.isEmpty());
}

void tst_A2aCodec::v03OnlyCard()
{
    // An older deployment: a v0.3 card without supportedInterfaces.
    QJsonObject card = object(sample(QStringLiteral("card-v03.json")));
    card.remove(QStringLiteral("supportedInterfaces"));
    const QByteArray json = QJsonDocument(card).toJson();
    const QUrl cardUrl(cardOrigin() + QStringLiteral("/.well-known/agent-card.json"));
    auto e = A2a::chooseEndpoint(json, cardUrl, QUrl(cardOrigin()));
    QVERIFY(e.ok());
    QCOMPARE(int(e->dialect), int(A2a::Dialect::V0_3));
    QCOMPARE(int(e->binding), int(A2a::Binding::JsonRpc));
    auto rest = A2a::chooseEndpoint(json, cardUrl, QUrl(cardOrigin() + QStringLiteral("/a2a/rest")));
    QVERIFY(rest.ok());
    QCOMPARE(int(rest->dialect), int(A2a::Dialect::V0_3));
    QCOMPARE(int(rest->binding), int(A2a::Binding::HttpJson));
    QCOMPARE(A2a::dialectName(rest->dialect, rest->binding), s("A2A 0.3 HTTP+JSON"));
}

void tst_A2aCodec::cardErrors()
{
    const QUrl cardUrl(s("http://127.0.0.1:1/.well-known/agent-card.json"));
    auto garbage = A2a::chooseEndpoint("<html>oops</html>", cardUrl, cardUrl);
    QVERIFY(!garbage.ok());
    QVERIFY(garbage.error().message.contains(s("not a JSON object")));
    QVERIFY(garbage.error().message.contains(s("<html>oops</html>")));
    auto grpcOnly = A2a::chooseEndpoint(
        R"({"name":"x","supportedInterfaces":[{"url":"http://h/","protocolBinding":"GRPC","protocolVersion":"1.0"}]})",
        cardUrl, cardUrl);
    QVERIFY(!grpcOnly.ok());
    QVERIFY(grpcOnly.error().message.contains(s("gRPC is not supported")));
    // An interface that is not reachable over HTTP(S) is never chosen (fuzz_a2a found one).
    auto notHttp = A2a::chooseEndpoint(
        R"({"name":"x","supportedInterfaces":[{"url":"ftp://h/a2a","protocolBinding":"JSONRPC","protocolVersion":"1.0"},
            {"url":"http://","protocolBinding":"JSONRPC","protocolVersion":"1.0"}]})",
        cardUrl, cardUrl);
    QVERIFY(!notHttp.ok());
    QVERIFY2(notHttp.error().message.contains(s("offers no JSON-RPC or HTTP+JSON interface")),
             qPrintable(notHttp.error().message));
    auto neither = A2a::chooseEndpoint(R"({"name":"x"})", cardUrl, cardUrl);
    QVERIFY(!neither.ok());
    QVERIFY(neither.error().message.contains(s("supportedInterfaces")));
}

void tst_A2aCodec::states_data()
{
    QTest::addColumn<QByteArray>("state");
    QTest::addColumn<int>("status");
    const struct
    {
        const char *state;
        RunStatus status;
    } rows[] = {
        {"TASK_STATE_UNSPECIFIED", RunStatus::Unknown},  {"unknown", RunStatus::Unknown},
        {"TASK_STATE_SUBMITTED", RunStatus::Submitted},  {"submitted", RunStatus::Submitted},
        {"TASK_STATE_WORKING", RunStatus::Working},      {"working", RunStatus::Working},
        {"TASK_STATE_COMPLETED", RunStatus::Completed},  {"completed", RunStatus::Completed},
        {"TASK_STATE_FAILED", RunStatus::Failed},        {"failed", RunStatus::Failed},
        {"TASK_STATE_CANCELED", RunStatus::Stopped},     {"canceled", RunStatus::Stopped},
        {"TASK_STATE_CANCELLED", RunStatus::Stopped},    {"cancelled", RunStatus::Stopped},
        {"TASK_STATE_INPUT_REQUIRED", RunStatus::WaitingApproval}, {"input-required", RunStatus::WaitingApproval},
        {"TASK_STATE_REJECTED", RunStatus::Rejected},    {"rejected", RunStatus::Rejected},
        {"TASK_STATE_AUTH_REQUIRED", RunStatus::WaitingApproval}, {"auth-required", RunStatus::WaitingApproval},
    };
    for (const auto &row : rows)
        QTest::newRow(row.state) << QByteArray(row.state) << int(row.status);
}

void tst_A2aCodec::states()
{
    QFETCH(QByteArray, state);
    QFETCH(int, status);
    QCOMPARE(int(A2a::statusFromState(state).value()), status);
    QVERIFY(!A2a::statusFromState("TASK_STATE_PAUSED").has_value());
}

// Each sample's task, however it is wrapped, read to the same fields.
void tst_A2aCodec::tasks_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("wrap"); // jsonrpc: result; rest: the body
    QTest::addColumn<QByteArray>("state");
    QTest::addColumn<QByteArray>("action"); // approval action, if waiting
    for (const char *dialect : {"v1", "v03"}) {
        for (const char *binding : {"jsonrpc", "rest"}) {
            const QString prefix = QStringLiteral("%1-%2-").arg(s(dialect), s(binding));
            const bool v1 = QByteArrayView(dialect) == "v1";
            const bool rest = QByteArrayView(binding) == "rest";
            auto add = [&](const char *name, const char *v1State, const char *v03State, const char *action) {
                const QByteArray state = v1 || rest ? QByteArray(v1State) : QByteArray(v03State);
                QTest::newRow(qPrintable(prefix + s(name))) << prefix + s(name) + s(".json") << s(binding) << state
                                                           << QByteArray(action);
            };
            add("get-task", "TASK_STATE_WORKING", "working", "");
            add("cancel-working", v1 || !rest ? "TASK_STATE_CANCELED" : "TASK_STATE_CANCELLED", "canceled", "");
            add("cancel-again", v1 || !rest ? "TASK_STATE_CANCELED" : "TASK_STATE_CANCELLED", "canceled", "");
            add("ask-input-required", "TASK_STATE_INPUT_REQUIRED", "input-required", "stripe.refund");
            add("ask-after-approve", "TASK_STATE_COMPLETED", "completed", "");
            add("send-nonblocking", "TASK_STATE_SUBMITTED", "submitted", "");
        }
    }
}

void tst_A2aCodec::tasks()
{
    QFETCH(QString, file);
    QFETCH(QString, wrap);
    QFETCH(QByteArray, state);
    QFETCH(QByteArray, action);
    QJsonObject body = object(sample(file));
    if (wrap == QLatin1String("jsonrpc"))
        body = body.value(QLatin1String("result")).toObject();
    if (body.value(QLatin1String("task")).isObject())
        body = body.value(QLatin1String("task")).toObject(); // SendMessage answers {"task": …}
    auto run = A2a::parseTask(body);
    QVERIFY2(run.ok(), run.ok() ? "" : qPrintable(run.error().message));
    if (file.contains(QLatin1String("send-nonblocking")) && run->rawState != state) {
        // A non-blocking send may already be WORKING when it answers.
        QVERIFY(run->status == RunStatus::Working || run->status == RunStatus::Submitted);
    } else {
        QCOMPARE(run->rawState, state);
    }
    QCOMPARE(run->externalId.size(), 36);
    QVERIFY(!run->contextId.isEmpty());
    QVERIFY(run->updatedMs > 1700000000000);
    QCOMPARE(run->approval.has_value(), !action.isEmpty());
    if (!action.isEmpty()) {
        QCOMPARE(run->status, RunStatus::WaitingApproval);
        QCOMPARE(run->approval->action, action);
        QCOMPARE(run->approval->amountValue, QByteArray("1250.00"));
        QCOMPARE(run->approval->currency, QByteArray("usd"));
        QCOMPARE(run->approval->argumentsJson, QByteArray(R"({"amount_minor":125000,"customer":"cus_42"})"));
        QVERIFY(run->approval->message.contains(s("exceeds the 500 USD threshold")));
        QCOMPARE(run->approval->source, QByteArray("a2a.input-required"));
    }
}

void tst_A2aCodec::errors_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("httpStatus"); // 0: a JSON-RPC body
    QTest::addColumn<int>("kind");
    QTest::addColumn<QStringList>("words");
    using K = Error::Kind;
    auto words = [](std::initializer_list<const char *> list) {
        QStringList out;
        for (const char *w : list)
            out << s(w);
        return out;
    };
    QTest::newRow("v1-jsonrpc-unknown-task") << s("v1-jsonrpc-get-task-unknown.json") << 0 << int(K::NotFound)
        << words({"TaskNotFound (-32001)", "Task not found: no-such-task", "[TASK_NOT_FOUND]", "peer answered"});
    QTest::newRow("v1-jsonrpc-not-cancelable") << s("v1-jsonrpc-cancel-completed.json") << 0 << int(K::Conflict)
        << words({"TaskNotCancelable (-32002)", "[TASK_NOT_CANCELABLE]"});
    QTest::newRow("v03-jsonrpc-not-cancelable") << s("v03-jsonrpc-cancel-completed.json") << 0 << int(K::Conflict)
        << words({"TaskNotCancelable (-32002)", "Task not cancelable"});
    QTest::newRow("v1-jsonrpc-terminal-subscribe") << s("v1-jsonrpc-subscribe-terminal.json") << 0 << int(K::Conflict)
        << words({"UnsupportedOperation (-32004)", "terminal state"});
    QTest::newRow("v1-jsonrpc-version") << s("v1-jsonrpc-unsupported-version.json") << 0 << int(K::Invalid)
        << words({"VersionNotSupported (-32009)", "'9.9'"});
    QTest::newRow("v1-jsonrpc-parse") << s("v1-jsonrpc-malformed-json.json") << 0 << int(K::Invalid)
        << words({"ParseError (-32700)"});
    QTest::newRow("v1-jsonrpc-method") << s("v1-jsonrpc-unknown-method.json") << 0 << int(K::Invalid)
        << words({"MethodNotFound (-32601)"});
    QTest::newRow("v1-jsonrpc-content-type") << s("v1-jsonrpc-content-type-text-plain.json") << 0 << int(K::Invalid)
        << words({"ContentTypeNotSupported (-32005)"});
    QTest::newRow("v1-rest-unknown-task") << s("v1-rest-get-task-unknown.json") << 404 << int(K::NotFound)
        << words({"HTTP 404 NOT_FOUND", "[TASK_NOT_FOUND]"});
    QTest::newRow("v1-rest-not-cancelable") << s("v1-rest-cancel-completed.json") << 400 << int(K::Conflict)
        << words({"HTTP 400 FAILED_PRECONDITION", "Task not cancelable", "[TASK_NOT_CANCELABLE]"});
    QTest::newRow("v1-rest-terminal-subscribe") << s("v1-rest-subscribe-terminal.json") << 400 << int(K::Conflict)
        << words({"[UNSUPPORTED_OPERATION]"});
    QTest::newRow("v1-rest-malformed") << s("v1-rest-malformed-json.json") << 400 << int(K::Invalid)
        << words({"INVALID_ARGUMENT", "Invalid JSON payload."});
    QTest::newRow("v03-rest-unknown-task") << s("v03-rest-get-task-unknown.json") << 404 << int(K::NotFound)
        << words({"HTTP 404 TaskNotFound (-32001)", "no-such-task"});
    QTest::newRow("v03-rest-not-cancelable") << s("v03-rest-cancel-completed.json") << 400 << int(K::Conflict)
        << words({"TaskNotCancelable (-32002)"});
    QTest::newRow("html-404") << s("v1-rest-unknown-method.txt") << 404 << int(K::NotFound)
        << words({"HTTP 404:"});
}

void tst_A2aCodec::errors()
{
    QFETCH(QString, file);
    QFETCH(int, httpStatus);
    QFETCH(int, kind);
    QFETCH(QStringList, words);
    const QByteArray body = sample(file);
    Error e;
    if (httpStatus == 0) {
        auto r = A2a::parseJsonRpcResponse(body, s("peer"));
        QVERIFY(!r.ok());
        e = r.error();
    } else {
        e = A2a::errorFromRest(httpStatus, body, s("peer"));
    }
    QCOMPARE(int(e.kind), kind);
    QCOMPARE(e.where, s("peer"));
    for (const QString &w : words)
        QVERIFY2(e.message.contains(w), qPrintable(e.message + s(" lacks ") + w));
}

void tst_A2aCodec::streams_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("jsonRpc");
    QTest::addColumn<QByteArrayList>("states"); // of task and status events, in order
    QTest::newRow("v1-jsonrpc-stream") << s("v1-jsonrpc-stream-work.sse") << true
        << QByteArrayList{"TASK_STATE_SUBMITTED", "TASK_STATE_WORKING", "TASK_STATE_WORKING", "TASK_STATE_WORKING", "TASK_STATE_COMPLETED"};
    QTest::newRow("v03-jsonrpc-stream") << s("v03-jsonrpc-stream-work.sse") << true
        << QByteArrayList{"submitted", "working", "working", "working", "completed"};
    QTest::newRow("v1-jsonrpc-subscribe-cancel") << s("v1-jsonrpc-subscribe-cancel.sse") << true
        << QByteArrayList{"TASK_STATE_WORKING", "TASK_STATE_WORKING", "TASK_STATE_CANCELED"};
    QTest::newRow("v03-jsonrpc-subscribe-cancel") << s("v03-jsonrpc-subscribe-cancel.sse") << true
        << QByteArrayList{"working", "working", "canceled"};
    QTest::newRow("v1-rest-subscribe-cancel") << s("v1-rest-subscribe-cancel.sse") << false
        << QByteArrayList{"TASK_STATE_WORKING", "TASK_STATE_WORKING", "TASK_STATE_CANCELED"};
    QTest::newRow("v03-rest-subscribe-cancel") << s("v03-rest-subscribe-cancel.sse") << false
        << QByteArrayList{"TASK_STATE_WORKING", "TASK_STATE_WORKING", "TASK_STATE_CANCELLED"};
}

void tst_A2aCodec::streams()
{
    QFETCH(QString, file);
    QFETCH(bool, jsonRpc);
    QFETCH(QByteArrayList, states);
    SseParser parser;
    QByteArrayList seen;
    bool final = false;
    const QByteArray bytes = sample(file);
    // Feed in small uneven chunks, as a socket would deliver them.
    for (qsizetype i = 0; i < bytes.size(); i += 37) {
        for (const SseEvent &event : parser.feed(QByteArrayView(bytes).sliced(i, std::min<qsizetype>(37, bytes.size() - i)))) {
            QVERIFY(!final); // nothing after the final event
            QJsonObject response = object(event.data);
            if (jsonRpc)
                response = response.value(QLatin1String("result")).toObject();
            auto parsed = A2a::parseStreamResponse(response);
            QVERIFY2(parsed.ok(), parsed.ok() ? "" : qPrintable(parsed.error().message));
            if (parsed->type == A2a::StreamEvent::Type::Task || parsed->type == A2a::StreamEvent::Type::StatusUpdate) {
                seen << parsed->run.rawState;
                QVERIFY(!parsed->run.externalId.isEmpty());
            }
            final = parsed->final;
        }
    }
    QCOMPARE(seen, states);
    QVERIFY(final);
    QVERIFY(!parser.finish());
}

void tst_A2aCodec::answerShapes()
{
    ApprovalAnswer answer;
    answer.decision = ApprovalDecision::Edit;
    answer.reason = s("cap at 500");
    answer.argumentsJson = R"({"customer":"cus_42","amount_minor":50000})";
    // v1.0: parts with {"data"} and {"text"}, ROLE_USER, same task and context.
    QJsonObject v1 = A2a::answerMessage(answer, "t1", "c1", "m1", A2a::Dialect::V1_0, A2a::Binding::JsonRpc);
    QCOMPARE(v1.value(QLatin1String("role")).toString(), s("ROLE_USER"));
    QCOMPARE(v1.value(QLatin1String("taskId")).toString(), s("t1"));
    QCOMPARE(v1.value(QLatin1String("contextId")).toString(), s("c1"));
    const QJsonObject decision = v1.value(QLatin1String("parts")).toArray().at(0).toObject().value(QLatin1String("data")).toObject();
    QCOMPARE(decision.value(QLatin1String("decision")).toString(), s("edit"));
    QCOMPARE(decision.value(QLatin1String("arguments")).toObject().value(QLatin1String("amount_minor")).toInt(), 50000);
    QVERIFY(v1.value(QLatin1String("parts")).toArray().at(1).toObject().value(QLatin1String("text")).toString().contains(s("cap at 500")));
    QVERIFY(!v1.contains(QLatin1String("kind")));
    // v0.3 JSON-RPC: kind tags and role "user".
    QJsonObject v03 = A2a::answerMessage(answer, "t1", "c1", "m1", A2a::Dialect::V0_3, A2a::Binding::JsonRpc);
    QCOMPARE(v03.value(QLatin1String("kind")).toString(), s("message"));
    QCOMPARE(v03.value(QLatin1String("role")).toString(), s("user"));
    QCOMPARE(v03.value(QLatin1String("parts")).toArray().at(0).toObject().value(QLatin1String("kind")).toString(), s("data"));
    // v0.3 REST: proto JSON as a2a-js reads it (the captured request in tests/data/a2a/README.md).
    QJsonObject rest = A2a::answerMessage(answer, "t1", "c1", "m1", A2a::Dialect::V0_3, A2a::Binding::HttpJson);
    QCOMPARE(rest.value(QLatin1String("role")).toString(), s("ROLE_USER"));
    QVERIFY(!rest.contains(QLatin1String("parts")));
    const QJsonObject nested = rest.value(QLatin1String("content")).toArray().at(0).toObject()
                                   .value(QLatin1String("data")).toObject().value(QLatin1String("data")).toObject();
    QCOMPARE(nested.value(QLatin1String("decision")).toString(), s("edit"));
}

void tst_A2aCodec::listPage()
{
    const QJsonObject page1 = object(sample(QStringLiteral("v1-jsonrpc-list-tasks-page1.json"))).value(QLatin1String("result")).toObject();
    QCOMPARE(page1.value(QLatin1String("tasks")).toArray().size(), 2);
    QVERIFY(!page1.value(QLatin1String("nextPageToken")).toString().isEmpty());
    const QJsonObject last = object(sample(QStringLiteral("v1-rest-list-tasks-last.json")));
    QVERIFY(last.contains(QLatin1String("nextPageToken")));
    QVERIFY(last.value(QLatin1String("nextPageToken")).toString().isEmpty());
    for (const QJsonValue &v : page1.value(QLatin1String("tasks")).toArray())
        QVERIFY(A2a::parseTask(v.toObject()).ok());
}

QTEST_APPLESS_MAIN(tst_A2aCodec)
#include "tst_a2acodec.moc"
