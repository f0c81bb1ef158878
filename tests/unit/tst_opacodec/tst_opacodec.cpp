// The OPA encodings of the kill-switch document: where it lives for a package, the JSON Patch
// bodies (RFC 6902, with RFC 6901 pointer escaping of agent names), and how an answer of OPA's
// Data API reads: a result, no result (undefined), or OPA's error object in words.
#include "connectors/tools/OpaCodec.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace Breaker;

namespace {

QString s(const char *text)
{
    return QString::fromUtf8(text);
}

Opa::Document doc(const char *json)
{
    auto d = Opa::parseDocument(QJsonDocument::fromJson(QByteArray(json)).object());
    if (!d)
        qFatal("bad test document: %s", qPrintable(d.error().message));
    return *d;
}

} // namespace

class tst_OpaCodec : public QObject
{
    Q_OBJECT

private slots:
    void paths_data();
    void paths();
    void pointerEscaping_data();
    void pointerEscaping();
    void addPatch_data();
    void addPatch();
    void removePatch_data();
    void removePatch();
    void decisionInput();
    void emptyDocument();
    void documents_data();
    void documents();
    void answers_data();
    void answers();
};

void tst_OpaCodec::paths_data()
{
    QTest::addColumn<QString>("package");
    QTest::addColumn<QString>("document");
    QTest::addColumn<QString>("decision");
    QTest::newRow("breaker") << s("breaker") << s("/v1/data/breaker/killswitch")
                             << s("/v1/data/breaker/killswitch/allow");
    QTest::newRow("breaker/killswitch")
        << s("breaker/killswitch") << s("/v1/data/breaker/killswitch")
        << s("/v1/data/breaker/killswitch/allow");
    QTest::newRow("dotted") << s("breaker.killswitch") << s("/v1/data/breaker/killswitch")
                            << s("/v1/data/breaker/killswitch/allow");
    QTest::newRow("deeper") << s("acme/agents") << s("/v1/data/acme/agents/killswitch")
                            << s("/v1/data/acme/agents/killswitch/allow");
    QTest::newRow("empty-is-breaker")
        << s("") << s("/v1/data/breaker/killswitch") << s("/v1/data/breaker/killswitch/allow");
    QTest::newRow("invalid-slashes") << s("breaker//x") << s("") << s("");
    QTest::newRow("invalid-char") << s("breaker/kill-switch") << s("") << s("");
    // Found by fuzz_opa: "$" also matched before a final newline.
    QTest::newRow("newline-in-segment") << s("a\n/b") << s("") << s("");
}

void tst_OpaCodec::paths()
{
    QFETCH(QString, package);
    QFETCH(QString, document);
    QFETCH(QString, decision);
    auto segments = Opa::documentSegments(package);
    if (document.isEmpty()) {
        QVERIFY(!segments);
        QVERIFY(segments.error().message.contains(package));
        return;
    }
    QVERIFY2(segments, qPrintable(segments ? QString() : segments.error().message));
    QCOMPARE(Opa::documentPath(*segments), document);
    QCOMPARE(Opa::decisionPath(*segments), decision);
}

void tst_OpaCodec::pointerEscaping_data()
{
    QTest::addColumn<QString>("token");
    QTest::addColumn<QString>("escaped");
    QTest::newRow("plain") << s("refund-agent") << s("refund-agent");
    QTest::newRow("slash") << s("team/agent") << s("team~1agent");
    QTest::newRow("tilde") << s("a~b") << s("a~0b");
    // "~1" literally must not come back as "/": escape "~" first.
    QTest::newRow("tilde-one") << s("~1") << s("~01");
    QTest::newRow("both") << s("~/") << s("~0~1");
    QTest::newRow("unicode") << s("агент") << s("агент");
}

void tst_OpaCodec::pointerEscaping()
{
    QFETCH(QString, token);
    QFETCH(QString, escaped);
    QCOMPARE(Opa::escapePointerToken(token), escaped);
    QCOMPARE(Opa::unescapePointerToken(escaped), token);
}

void tst_OpaCodec::addPatch_data()
{
    QTest::addColumn<QByteArray>("document");
    QTest::addColumn<QString>("agent");
    QTest::addColumn<QStringList>("tools");
    QTest::addColumn<QByteArray>("patch");
    const QStringList two{s("stripe.refund"), s("zendesk.reply")};
    QTest::newRow("new-agent")
        << QByteArray(R"({"blocked_agents":[],"blocked_tools":{"other":["x"]}})")
        << s("refund-agent") << two
        << QByteArray(
               R"([{"op":"add","path":"/blocked_tools/refund-agent","value":["stripe.refund","zendesk.reply"]}])");
    QTest::newRow("append-missing-only")
        << QByteArray(R"({"blocked_tools":{"refund-agent":["stripe.refund"]}})")
        << s("refund-agent") << two
        << QByteArray(
               R"([{"op":"add","path":"/blocked_tools/refund-agent/-","value":"zendesk.reply"}])");
    QTest::newRow("append-each")
        << QByteArray(R"({"blocked_tools":{"refund-agent":[]}})") << s("refund-agent") << two
        << QByteArray(
               R"([{"op":"add","path":"/blocked_tools/refund-agent/-","value":"stripe.refund"},)"
               R"({"op":"add","path":"/blocked_tools/refund-agent/-","value":"zendesk.reply"}])");
    QTest::newRow("all-there") << QByteArray(
        R"({"blocked_tools":{"refund-agent":["zendesk.reply","stripe.refund"]}})")
                               << s("refund-agent") << two << QByteArray();
    QTest::newRow("no-blocked-tools-object")
        << QByteArray(R"({"blocked_agents":["x"]})") << s("a") << QStringList{s("t")}
        << QByteArray(R"([{"op":"add","path":"/blocked_tools","value":{"a":["t"]}}])");
    QTest::newRow("escaped-agent")
        << QByteArray(R"({"blocked_tools":{"team/a~b":["t"]}})") << s("team/a~b")
        << QStringList{s("u")}
        << QByteArray(R"([{"op":"add","path":"/blocked_tools/team~1a~0b/-","value":"u"}])");
    QTest::newRow("duplicates-in-request")
        << QByteArray(R"({"blocked_tools":{}})") << s("a") << QStringList{s("t"), s("t")}
        << QByteArray(R"([{"op":"add","path":"/blocked_tools/a","value":["t"]}])");
}

void tst_OpaCodec::addPatch()
{
    QFETCH(QByteArray, document);
    QFETCH(QString, agent);
    QFETCH(QStringList, tools);
    QFETCH(QByteArray, patch);
    QCOMPARE(Opa::addToolsPatch(doc(document.constData()), agent, tools), patch);
}

void tst_OpaCodec::removePatch_data()
{
    QTest::addColumn<QByteArray>("document");
    QTest::addColumn<QString>("agent");
    QTest::addColumn<QStringList>("tools");
    QTest::addColumn<QByteArray>("patch");
    // Highest index first, so the lower ones still point at the right element.
    QTest::newRow("two-of-three")
        << QByteArray(R"({"blocked_tools":{"a":["x","keep","y"]}})") << s("a")
        << QStringList{s("x"), s("y")}
        << QByteArray(
               R"([{"op":"remove","path":"/blocked_tools/a/2"},{"op":"remove","path":"/blocked_tools/a/0"}])");
    QTest::newRow("none-there") << QByteArray(R"({"blocked_tools":{"a":["keep"]}})") << s("a")
                                << QStringList{s("x")} << QByteArray();
    QTest::newRow("no-list") << QByteArray(R"({"blocked_tools":{}})") << s("a")
                             << QStringList{s("x")} << QByteArray();
    QTest::newRow("escaped") << QByteArray(R"({"blocked_tools":{"t/a":["x"]}})") << s("t/a")
                             << QStringList{s("x")}
                             << QByteArray(R"([{"op":"remove","path":"/blocked_tools/t~1a/0"}])");
}

void tst_OpaCodec::removePatch()
{
    QFETCH(QByteArray, document);
    QFETCH(QString, agent);
    QFETCH(QStringList, tools);
    QFETCH(QByteArray, patch);
    QCOMPARE(Opa::removeToolsPatch(doc(document.constData()), agent, tools), patch);
}

void tst_OpaCodec::decisionInput()
{
    QCOMPARE(Opa::decisionInput(s("refund-agent"), s("stripe.refund")),
             QByteArray(R"({"input":{"agent":"refund-agent","tool":"stripe.refund"}})"));
    QCOMPARE(Opa::decisionInput(s("a\"b"), s("t")),
             QByteArray(R"({"input":{"agent":"a\"b","tool":"t"}})"));
}

void tst_OpaCodec::emptyDocument()
{
    QCOMPARE(Opa::emptyDocument(), QByteArray(R"({"blocked_agents":[],"blocked_tools":{}})"));
}

void tst_OpaCodec::documents_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("words");
    // A GET of the package path includes the policy's own rules: ignored.
    QTest::newRow("with-policy-rule") << QByteArray(
        R"({"result":{"allow":false,"blocked_agents":["z"],"blocked_tools":{"a":["t"]}}})")
                                      << true << QString();
    QTest::newRow("empty-object") << QByteArray(R"({"result":{}})") << true << QString();
    QTest::newRow("not-object") << QByteArray(R"({"result":[1]})") << false
                                << s("not a JSON object");
    QTest::newRow("tools-not-object")
        << QByteArray(R"({"result":{"blocked_tools":["t"]}})") << false << s("blocked_tools");
    QTest::newRow("list-not-strings") << QByteArray(R"({"result":{"blocked_tools":{"a":[1]}}})")
                                      << false << s("blocked_tools[\"a\"]");
    QTest::newRow("agents-not-array")
        << QByteArray(R"({"result":{"blocked_agents":"a"}})") << false << s("blocked_agents");
}

void tst_OpaCodec::documents()
{
    QFETCH(QByteArray, json);
    QFETCH(bool, ok);
    QFETCH(QString, words);
    const QJsonValue result = QJsonDocument::fromJson(json).object().value(QLatin1String("result"));
    auto d = Opa::parseDocument(result);
    QCOMPARE(bool(d), ok);
    if (!ok) {
        QVERIFY2(d.error().message.contains(words), qPrintable(d.error().message));
        return;
    }
    if (QTest::currentDataTag() == QByteArray("with-policy-rule")) {
        QVERIFY(d->hasBlockedTools);
        QCOMPARE(d->toolsOf(s("a")), std::optional<QStringList>(QStringList{s("t")}));
        QCOMPARE(d->toolsOf(s("b")), std::nullopt);
        QCOMPARE(d->blockedAgents, QStringList{s("z")});
    } else {
        QVERIFY(!d->hasBlockedTools);
    }
}

void tst_OpaCodec::answers_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<bool>("defined");
    QTest::addColumn<QString>("words");
    QTest::newRow("false") << 200 << QByteArray(R"({"result":false})") << true << true << QString();
    QTest::newRow("true-with-decision-id")
        << 200 << QByteArray(R"({"decision_id":"1b2c","result":true})") << true << true
        << QString();
    // The rule or document is undefined: 200 and no result (not a result of null).
    QTest::newRow("undefined") << 200 << QByteArray("{}") << true << false << QString();
    QTest::newRow("null-result") << 200 << QByteArray(R"({"result":null})") << true << true
                                 << QString();
    QTest::newRow("garbage")
        << 200 << QByteArray("<html>502 Bad Gateway</html>") << false << false
        << s("opa answered HTTP 200 with a body that is not a JSON object (<html>502");
    QTest::newRow("error-with-details")
        << 400
        << QByteArray(
               R"j({"code":"invalid_parameter","message":"error(s) occurred while compiling module(s)",)j"
               R"j("errors":[{"code":"rego_unsafe_var_error","message":"var x is unsafe",)j"
               R"j("location":{"file":"example","row":3,"col":1}}]})j")
        << false << false
        << s("opa answered HTTP 400: invalid_parameter: error(s) occurred while compiling "
             "module(s) "
             "(rego_unsafe_var_error: var x is unsafe at example:3)");
    QTest::newRow("unauthorized")
        << 401 << QByteArray(R"({"code":"unauthorized","message":"authentication failed"})")
        << false << false
        << s("opa answered HTTP 401 (unauthorized: check the provider's api_key): "
             "unauthorized: authentication failed");
    QTest::newRow("500-no-body") << 500 << QByteArray() << false << false
                                 << s("opa answered HTTP 500");
    QTest::newRow("health-error") << 500 << QByteArray(R"({"error":"not all plugins in OK state"})")
                                  << false << false
                                  << s("opa answered HTTP 500: not all plugins in OK state");
}

void tst_OpaCodec::answers()
{
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(bool, ok);
    QFETCH(bool, defined);
    QFETCH(QString, words);
    auto a = Opa::parseAnswer(status, body, s("opa"));
    QCOMPARE(bool(a), ok);
    if (!ok) {
        QCOMPARE(a.error().where, s("opa"));
        QVERIFY2(a.error().message.startsWith(words), qPrintable(a.error().message));
        return;
    }
    QCOMPARE(a->defined, defined);
}

QTEST_GUILESS_MAIN(tst_OpaCodec)
#include "tst_opacodec.moc"
