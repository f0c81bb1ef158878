// The connector events an auditor needs (issue 5 item 2), from telemetry: a policy block, a
// refused token (a revocation taking effect), a declined card; anything else is not recorded.
#include "app/services/AuditConnectorEvents.h"
#include "models/Store.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace Breaker;

Q_DECLARE_METATYPE(Breaker::RunEvent)

namespace {

RunEvent makeEvent(EventKind kind, const QByteArray &name, const QByteArray &attributes)
{
    RunEvent e;
    e.runId = "r1";
    e.traceId = "0af7651916cd43dd8448eb211c80319c";
    e.spanId = "b7ad6b7169203331";
    e.kind = kind;
    e.name = name;
    e.startNs = 1'700'000'000'000'000'000;
    e.attributesJson = attributes;
    return e;
}

} // namespace

class tst_AuditEvents : public QObject
{
    Q_OBJECT
private slots:
    void actionFor_data();
    void actionFor();
    void recordsAreAppendedWithTheRunsAgent();
};

void tst_AuditEvents::actionFor_data()
{
    QTest::addColumn<RunEvent>("event");
    QTest::addColumn<QString>("action");
    QTest::newRow("policy block") << makeEvent(EventKind::PolicyBlock, "execute_tool stripe.refund", "{}")
                                  << QStringLiteral("tools.policy_blocked");
    QTest::newRow("gateway block in the sandbox")
        << makeEvent(EventKind::ToolCall, "execute_tool stripe.refund", "{\"breaker.blocked_by\":\"tools\"}")
        << QStringLiteral("tools.policy_blocked");
    QTest::newRow("revoked grant") << makeEvent(EventKind::ModelCall, "chat", "{\"error.type\":\"invalid_grant\"}")
                                   << QStringLiteral("identity.token_refused");
    QTest::newRow("identity block") << makeEvent(EventKind::ToolCall, "execute_tool x", "{\"breaker.blocked_by\":\"identity\"}")
                                    << QStringLiteral("identity.token_refused");
    QTest::newRow("declined card") << makeEvent(EventKind::Spend, "spend", "{\"error.type\":\"card_declined\"}")
                                   << QStringLiteral("payment.declined");
    QTest::newRow("another error") << makeEvent(EventKind::ToolCall, "execute_tool x", "{\"error.type\":\"timeout\"}") << QString();
    QTest::newRow("a plain tool call") << makeEvent(EventKind::ToolCall, "execute_tool x", "{\"gen_ai.tool.name\":\"x\"}")
                                       << QString();
}

void tst_AuditEvents::actionFor()
{
    QFETCH(RunEvent, event);
    QFETCH(QString, action);
    QCOMPARE(AuditConnectorEvents::actionFor(event), action);
}

void tst_AuditEvents::recordsAreAppendedWithTheRunsAgent()
{
    QTemporaryDir dir;
    auto store = Store::open(dir.filePath(QStringLiteral("t.db")));
    QVERIFY(store.ok());
    WriteBatch batch;
    Run run;
    run.id = "r1";
    run.agent = "refund-agent";
    run.agentBound = true;
    run.principal = "user:ada";
    run.status = RunStatus::Working;
    batch.runs.push_back(run);
    QVERIFY((*store)->write(std::move(batch)).ok());

    AuditConnectorEvents events(*store, QStringLiteral("otlp"));
    events.onEvents({makeEvent(EventKind::PolicyBlock, "execute_tool stripe.refund", "{\"gen_ai.tool.name\":\"stripe.refund\"}"),
                     makeEvent(EventKind::ToolCall, "execute_tool zendesk.reply", "{\"gen_ai.tool.name\":\"zendesk.reply\"}"),
                     makeEvent(EventKind::Spend, "spend", "{\"error.type\":\"card_declined\",\"breaker.blocked_by\":\"payment\"}")});
    events.waitForDone();
    auto records = (*store)->auditRecords(1, 10);
    QVERIFY(records.ok());
    QCOMPARE(records->size(), size_t(2)); // the plain tool call is not an audit event
    const QJsonObject blocked = QJsonDocument::fromJson(records->at(0).line).object();
    QCOMPARE(blocked.value(QStringLiteral("action")).toString(), QStringLiteral("tools.policy_blocked"));
    QCOMPARE(blocked.value(QStringLiteral("actor")).toObject().value(QStringLiteral("kind")).toString(), QStringLiteral("connector"));
    QCOMPARE(blocked.value(QStringLiteral("actor")).toObject().value(QStringLiteral("id")).toString(), QStringLiteral("otlp"));
    const QJsonObject target = blocked.value(QStringLiteral("target")).toObject();
    QCOMPARE(target.value(QStringLiteral("agent")).toString(), QStringLiteral("refund-agent"));
    QCOMPARE(target.value(QStringLiteral("principal")).toString(), QStringLiteral("user:ada"));
    QCOMPARE(target.value(QStringLiteral("layer")).toString(), QStringLiteral("tools"));
    QCOMPARE(target.value(QStringLiteral("object")).toString(), QStringLiteral("stripe.refund"));
    QCOMPARE(blocked.value(QStringLiteral("detail")).toObject().value(QStringLiteral("span_id")).toString(),
             QStringLiteral("b7ad6b7169203331"));
    const QJsonObject declined = QJsonDocument::fromJson(records->at(1).line).object();
    QCOMPARE(declined.value(QStringLiteral("action")).toString(), QStringLiteral("payment.declined"));
    QCOMPARE(declined.value(QStringLiteral("outcome")).toString(), QStringLiteral("declined"));
    QCOMPARE(declined.value(QStringLiteral("detail")).toObject().value(QStringLiteral("error.type")).toString(),
             QStringLiteral("card_declined"));
}

QTEST_GUILESS_MAIN(tst_AuditEvents)
#include "tst_auditevents.moc"
