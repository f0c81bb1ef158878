// The OCSF export (models/AuditOcsf): every kind of record Breaker writes maps to the class
// docs/OCSF.md names, and each event is checked against that class's definition in
// tests/data/ocsf/ by an independent validator (OcsfChecker), which is itself shown to catch
// missing, mistyped, unknown and inconsistent attributes.
#include "OcsfChecker.h"
#include "models/AuditOcsf.h"
#include "models/AuditRecord.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace Breaker;

namespace {

constexpr qint64 kT0 = 1785230000000; // 2026-07-28T09:13:20Z

const QString kDataDir = QStringLiteral(BREAKER_TEST_DATA_DIR "/ocsf");

AuditEntry::Actor operatorActor()
{
    return {QStringLiteral("operator"),
            QStringLiteral("dana (os: dkim)"),
            QStringLiteral("ops-laptop-3")};
}

AuditEntry::Actor systemActor()
{
    return {QStringLiteral("system"), QStringLiteral("breaker"), QStringLiteral("ops-laptop-3")};
}

QByteArray line(qint64 seq, const AuditEntry &e)
{
    return formatAuditLine(seq, kT0 + seq * 1137, e, sha256Hex(QByteArray::number(seq - 1)));
}

AuditEntry layer(const QString &action,
                 const QString &layerName,
                 const QString &provider,
                 const QString &object,
                 const QString &outcome,
                 const QString &layerAction,
                 const QString &words)
{
    AuditEntry e;
    e.actor = operatorActor();
    e.action = action;
    e.target.agent = QStringLiteral("billing-agent");
    e.target.layer = layerName;
    e.target.provider = provider;
    e.target.object = object;
    e.reason = QStringLiteral("refund loop: 40 refunds in 2 minutes");
    e.outcome = outcome;
    e.detail = QJsonObject{
        {QStringLiteral("action"), layerAction},
        {QStringLiteral("detail"), words},
        {QStringLiteral("ms"), 412},
        {QStringLiteral("operation"), QStringLiteral("stop:agent:billing-agent:1785230000")}};
    return e;
}

// Realistic records, shaped as StopSwitch, RuntimeStop and LeakWatch write them.
QMap<QString, QByteArray> sampleRecords()
{
    QMap<QString, QByteArray> out;
    qint64 seq = 100;
    const QString op = QStringLiteral("stop:agent:billing-agent:1785230000");

    AuditEntry requested;
    requested.actor = operatorActor();
    requested.action = QStringLiteral("stop.requested");
    requested.target.agent = QStringLiteral("billing-agent");
    requested.reason = QStringLiteral("refund loop: 40 refunds in 2 minutes");
    requested.detail = QJsonObject{
        {QStringLiteral("scope"),
         QJsonObject{{QStringLiteral("kind"), QStringLiteral("agent")},
                     {QStringLiteral("value"), QStringLiteral("billing-agent")}}},
        {QStringLiteral("layers"),
         QJsonArray{QStringLiteral("runtime"),
                    QStringLiteral("identity"),
                    QStringLiteral("payment"),
                    QStringLiteral("tools")}},
        {QStringLiteral("agents"), QJsonArray{QStringLiteral("billing-agent")}},
        {QStringLiteral("summary"),
         QStringLiteral("cancel 1 run, revoke 1 token, freeze 2 cards, block 2 tools")},
        {QStringLiteral("operation"), op},
        {QStringLiteral("actions"),
         QJsonArray{QJsonObject{{QStringLiteral("layer"), QStringLiteral("identity")},
                                {QStringLiteral("provider"), QStringLiteral("okta-prod")},
                                {QStringLiteral("action"), QStringLiteral("revoke")}}}}};
    out.insert(QStringLiteral("stop.requested"), line(++seq, requested));

    out.insert(QStringLiteral("stop.layer identity verified"),
               line(++seq,
                    layer(QStringLiteral("stop.layer"),
                          QStringLiteral("identity"),
                          QStringLiteral("okta-prod"),
                          QStringLiteral("token keychain:billing-agent/okta"),
                          QStringLiteral("verified"),
                          QStringLiteral("revoke"),
                          QStringLiteral("revoked (200); introspection says active=false"))));
    out.insert(QStringLiteral("stop.layer identity skipped"),
               line(++seq,
                    layer(QStringLiteral("stop.layer"),
                          QStringLiteral("identity"),
                          QString(),
                          QString(),
                          QStringLiteral("skipped_not_configured"),
                          QStringLiteral("revoke"),
                          QStringLiteral("the profile names no identity.token to revoke"))));
    out.insert(
        QStringLiteral("stop.layer identity failed"),
        line(++seq,
             layer(QStringLiteral("stop.layer"),
                   QStringLiteral("identity"),
                   QStringLiteral("okta-prod"),
                   QStringLiteral("token keychain:billing-agent/okta"),
                   QStringLiteral("failed"),
                   QStringLiteral("revoke"),
                   QStringLiteral(
                       "okta-prod answered 401: invalid_client (Client authentication failed.)"))));
    out.insert(QStringLiteral("stop.layer payment verified"),
               line(++seq,
                    layer(QStringLiteral("stop.layer"),
                          QStringLiteral("payment"),
                          QStringLiteral("stripe-issuing"),
                          QStringLiteral("cards ic_1PqA, ic_2RzB"),
                          QStringLiteral("verified"),
                          QStringLiteral("freeze"),
                          QStringLiteral("2 cards inactive (read back)"))));
    out.insert(
        QStringLiteral("stop.layer tools unverified"),
        line(++seq,
             layer(QStringLiteral("stop.layer"),
                   QStringLiteral("tools"),
                   QStringLiteral("litellm"),
                   QStringLiteral("tools refund_payment, send_email"),
                   QStringLiteral("done_unverified"),
                   QStringLiteral("block"),
                   QStringLiteral(
                       "blocked; litellm did not answer the decision check within 5000 ms"))));

    AuditEntry runtime;
    runtime.actor = operatorActor();
    runtime.action = QStringLiteral("stop.layer");
    runtime.target = {QStringLiteral("billing-agent"),
                      QStringLiteral("run-7c1e"),
                      QStringLiteral("alice@example.com"),
                      QStringLiteral("runtime"),
                      QStringLiteral("langgraph-prod"),
                      QStringLiteral("run 1ef4c2 thread t-93")};
    runtime.reason = QStringLiteral("wrong customer");
    runtime.outcome = QStringLiteral("verified");
    runtime.detail = QJsonObject{
        {QStringLiteral("action"), QStringLiteral("cancel")},
        {QStringLiteral("detail"), QStringLiteral("status cancelled (read back after 230 ms)")},
        {QStringLiteral("ms"), 230}};
    out.insert(QStringLiteral("stop.layer runtime (RuntimeStop)"), line(++seq, runtime));

    AuditEntry released;
    released.actor = operatorActor();
    released.action = QStringLiteral("approval.released");
    released.target.agent = QStringLiteral("billing-agent");
    released.target.run = QStringLiteral("run-7c1e");
    released.target.provider = QStringLiteral("langgraph-prod");
    released.target.layer = QStringLiteral("runtime");
    released.reason = QStringLiteral("refund loop: 40 refunds in 2 minutes");
    released.outcome = QStringLiteral("released");
    out.insert(QStringLiteral("approval.released"), line(++seq, released));

    AuditEntry completed;
    completed.actor = operatorActor();
    completed.action = QStringLiteral("stop.completed");
    completed.target.agent = QStringLiteral("billing-agent");
    completed.reason = QStringLiteral("refund loop: 40 refunds in 2 minutes");
    completed.outcome = QStringLiteral("not_verified");
    completed.detail = QJsonObject{
        {QStringLiteral("operation"), op},
        {QStringLiteral("ms"), 5120},
        {QStringLiteral("outcomes"),
         QJsonObject{{QStringLiteral("verified"), 2}, {QStringLiteral("done_unverified"), 1}}},
        {QStringLiteral("released_approvals"), 1}};
    out.insert(QStringLiteral("stop.completed not_verified"), line(++seq, completed));

    AuditEntry resume = requested;
    resume.action = QStringLiteral("resume.requested");
    resume.reason = QStringLiteral("fixed the refund rule");
    out.insert(QStringLiteral("resume.requested"), line(++seq, resume));
    out.insert(QStringLiteral("resume.layer payment"),
               line(++seq,
                    layer(QStringLiteral("resume.layer"),
                          QStringLiteral("payment"),
                          QStringLiteral("stripe-issuing"),
                          QStringLiteral("cards ic_1PqA, ic_2RzB"),
                          QStringLiteral("verified"),
                          QStringLiteral("unfreeze"),
                          QStringLiteral("2 cards active (read back)"))));
    out.insert(QStringLiteral("resume.layer identity none"),
               line(++seq,
                    layer(QStringLiteral("resume.layer"),
                          QStringLiteral("identity"),
                          QStringLiteral("okta-prod"),
                          QString(),
                          QStringLiteral("verified"),
                          QStringLiteral("none"),
                          QStringLiteral("a revoked token stays revoked"))));

    AuditEntry leak;
    leak.actor = systemActor();
    leak.action = QStringLiteral("stop.leak");
    leak.target.agent = QStringLiteral("billing-agent");
    leak.target.layer = QStringLiteral("identity");
    leak.outcome = QStringLiteral("leak");
    leak.detail = QJsonObject{{QStringLiteral("what"),
                               QStringLiteral("okta-prod: token still active 31 s after the stop")},
                              {QStringLiteral("at_ms"), double(kT0 + 31000)}};
    out.insert(QStringLiteral("stop.leak"), line(++seq, leak));

    AuditEntry joined;
    joined.actor = operatorActor();
    joined.action = QStringLiteral("stop.joined");
    joined.target.agent = QStringLiteral("billing-agent");
    joined.reason = QStringLiteral("me too");
    joined.detail = QJsonObject{
        {QStringLiteral("operation"), QStringLiteral("6f1c2a9e-0d4b-4c7e-9a51-3b2d8e7f6a10")},
        {QStringLiteral("scope"), QJsonObject{{QStringLiteral("kind"), QStringLiteral("agent")},
                                              {QStringLiteral("value"), QStringLiteral("billing-agent")}}},
        {QStringLiteral("joined"), QJsonObject{{QStringLiteral("actor"), QStringLiteral("bob")},
                                               {QStringLiteral("pid"), 4242},
                                               {QStringLiteral("host"), QStringLiteral("oncall-2")}}}};
    out.insert(QStringLiteral("stop.joined"), line(++seq, joined));

    AuditEntry decided;
    decided.actor = operatorActor();
    decided.action = QStringLiteral("approval.decided");
    decided.target = {QStringLiteral("billing-agent"),
                      QStringLiteral("run-7c1e"),
                      QStringLiteral("alice@example.com"),
                      QStringLiteral("runtime"),
                      QStringLiteral("langgraph-prod"),
                      QStringLiteral("approval apr-9")};
    decided.reason = QStringLiteral("amount above the refund policy, \"ask finance\"");
    decided.outcome = QStringLiteral("denied");
    decided.detail = QJsonObject{{QStringLiteral("tool"), QStringLiteral("refund_payment")},
                                 {QStringLiteral("amount"), QStringLiteral("EUR 1,240.00")}};
    out.insert(QStringLiteral("approval.decided denied"), line(++seq, decided));

    AuditEntry expired;
    expired.actor = systemActor();
    expired.action = QStringLiteral("approval.expired");
    expired.target.agent = QStringLiteral("billing-agent");
    expired.target.run = QStringLiteral("run-7c1e");
    expired.outcome = QStringLiteral("expired");
    expired.detail = QJsonObject{{QStringLiteral("after_s"), 900}};
    out.insert(QStringLiteral("approval.expired"), line(++seq, expired));

    AuditEntry exported;
    exported.actor = operatorActor();
    exported.action = QStringLiteral("audit.exported");
    exported.outcome = QStringLiteral("ok");
    exported.detail
        = QJsonObject{{QStringLiteral("first_seq"), 1},
                      {QStringLiteral("last_seq"), 812},
                      {QStringLiteral("files"),
                       QJsonArray{QStringLiteral("audit.jsonl"), QStringLiteral("audit.csv")}}};
    out.insert(QStringLiteral("audit.exported"), line(++seq, exported));

    AuditEntry profile;
    profile.actor = operatorActor();
    profile.action = QStringLiteral("profile.changed");
    profile.target.object = QStringLiteral("profile.json");
    profile.outcome = QStringLiteral("ok");
    profile.detail
        = QJsonObject{{QStringLiteral("changed"),
                       QJsonArray{QStringLiteral("agents.billing-agent.payment.cards")}}};
    out.insert(QStringLiteral("profile.changed"), line(++seq, profile));

    AuditEntry cancel;
    cancel.actor = operatorActor();
    cancel.action = QStringLiteral("cancel");
    cancel.target.agent = QStringLiteral("research-agent");
    cancel.target.run = QStringLiteral("run-0a9");
    cancel.target.layer = QStringLiteral("runtime");
    cancel.target.provider = QStringLiteral("a2a-host");
    cancel.reason = QStringLiteral("looping on search");
    cancel.outcome = QStringLiteral("verified");
    out.insert(QStringLiteral("cancel"), line(++seq, cancel));

    AuditEntry connector;
    connector.actor = {QStringLiteral("connector"),
                       QStringLiteral("stripe-issuing"),
                       QStringLiteral("ops-laptop-3")};
    connector.action = QStringLiteral("payment.card_state");
    connector.target.agent = QStringLiteral("billing-agent");
    connector.target.layer = QStringLiteral("payment");
    connector.target.provider = QStringLiteral("stripe-issuing");
    connector.target.object = QStringLiteral("card ic_1PqA");
    connector.outcome = QStringLiteral("inactive");
    out.insert(QStringLiteral("unknown action (connector)"), line(++seq, connector));

    AuditEntry principal;
    principal.actor = {QStringLiteral("operator"), QStringLiteral("dkim"), QString()};
    principal.action = QStringLiteral("stop.requested");
    principal.target.principal = QStringLiteral("alice@example.com");
    principal.reason = QStringLiteral("account compromised");
    out.insert(QStringLiteral("principal scope, no host"), line(++seq, principal));

    AuditEntry bare;
    out.insert(QStringLiteral("no action, no actor"), line(++seq, bare));
    return out;
}

QJsonObject parse(const QByteArray &bytes)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    if (!doc.isObject())
        qFatal("not a JSON object (%s): %s", qPrintable(error.errorString()), bytes.constData());
    return doc.object();
}

QJsonValue parseValue(const QByteArray &json)
{
    return QJsonDocument::fromJson("[" + json + "]").array().at(0);
}

// Sets (or removes, when value is undefined) the value at a dotted path; numbers index arrays.
QJsonValue edited(const QJsonValue &in, QStringList keys, const QJsonValue &value)
{
    if (keys.isEmpty())
        return value;
    const QString key = keys.takeFirst();
    if (in.isArray()) {
        QJsonArray a = in.toArray();
        const int i = key.toInt();
        a[i] = edited(a.at(i), keys, value);
        return a;
    }
    QJsonObject o = in.toObject();
    if (keys.isEmpty() && value.isUndefined())
        o.remove(key);
    else
        o.insert(key, edited(o.value(key), keys, value));
    return o;
}

bool hasResource(const QJsonObject &event, const QString &type, const QString &uid)
{
    for (const QJsonValue &r : event.value(QLatin1String("resources")).toArray())
        if (r[QLatin1String("type")].toString() == type
            && r[QLatin1String("uid")].toString() == uid)
            return true;
    return false;
}

} // namespace

class tst_AuditOcsf : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void copiedSpecMatchesShared();
    void versionIsTheSpecs();
    void requiredAttributesFollowInheritance();
    void mapping_data();
    void mapping();
    void checkerCatches_data();
    void checkerCatches();

private:
    OcsfChecker m_checker;
    QMap<QString, QByteArray> m_records;
};

void tst_AuditOcsf::initTestCase()
{
    QString error;
    QVERIFY2(m_checker.load(kDataDir, &error), qPrintable(error));
    m_records = sampleRecords();
}

void tst_AuditOcsf::copiedSpecMatchesShared()
{
    const QString shared = QStringLiteral(BREAKER_SHARED_SPECS_DIR "/ocsf");
    if (!QFileInfo::exists(shared))
        QSKIP("../shared/specs/ocsf is not in this checkout (a clean CI clone)");
    int files = 0;
    QDirIterator it(kDataDir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString relative = QDir(kDataDir).relativeFilePath(path);
        if (relative == QLatin1String("README.md"))
            continue; // ours, not the spec's
        QFile mine(path), theirs(shared + QLatin1Char('/') + relative);
        QVERIFY2(mine.open(QIODevice::ReadOnly) && theirs.open(QIODevice::ReadOnly),
                 qPrintable(relative));
        QVERIFY2(mine.readAll() == theirs.readAll(),
                 qPrintable(relative + QStringLiteral(" differs from the shared spec")));
        ++files;
    }
    QVERIFY(files > 40);
}

void tst_AuditOcsf::versionIsTheSpecs()
{
    QCOMPARE(QString::fromLatin1(kOcsfVersion), m_checker.version());
}

void tst_AuditOcsf::requiredAttributesFollowInheritance()
{
    // base_event's required set, reached through application / iam; profile attributes only
    // when applied (cloud and osint would otherwise require `cloud` and `osint`).
    const QStringList base = {QStringLiteral("activity_id"),
                              QStringLiteral("category_uid"),
                              QStringLiteral("class_uid"),
                              QStringLiteral("metadata"),
                              QStringLiteral("severity_id"),
                              QStringLiteral("time"),
                              QStringLiteral("type_uid")};
    auto plus = [&base](QStringList more) {
        more += base;
        more.sort();
        return more;
    };
    QCOMPARE(
        m_checker.requiredAttributes(6003),
        plus({QStringLiteral("actor"), QStringLiteral("api"), QStringLiteral("src_endpoint")}));
    QCOMPARE(m_checker.requiredAttributes(6003, {QStringLiteral("cloud")}),
             plus({QStringLiteral("actor"),
                   QStringLiteral("api"),
                   QStringLiteral("cloud"),
                   QStringLiteral("src_endpoint")}));
    QCOMPARE(m_checker.requiredAttributes(3007), plus({QStringLiteral("user")}));
    QCOMPARE(m_checker.requiredAttributes(3001), plus({QStringLiteral("user")}));
    QCOMPARE(m_checker.requiredAttributes(3003), plus({QStringLiteral("user")}));
}

void tst_AuditOcsf::mapping_data()
{
    QTest::addColumn<QByteArray>("record");
    QTest::addColumn<int>("classUid");
    QTest::addColumn<int>("activityId");
    QTest::addColumn<QString>("activityName");
    QTest::addColumn<int>("statusId");
    QTest::addColumn<int>("severityId");

    struct Row
    {
        const char *name;
        int classUid, activityId;
        const char *activityName;
        int statusId, severityId;
    } rows[] = {
        {"stop.requested", 6003, 1, "Create", 0, 1},
        {"stop.layer identity verified", 3007, 19, "Remove Programmatic Credentials", 1, 1},
        {"stop.layer identity skipped", 3007, 19, "Remove Programmatic Credentials", 99, 1},
        {"stop.layer identity failed", 3007, 19, "Remove Programmatic Credentials", 2, 3},
        {"stop.layer payment verified", 6003, 3, "Update", 1, 1},
        {"stop.layer tools unverified", 6003, 3, "Update", 99, 1},
        {"stop.layer runtime (RuntimeStop)", 6003, 3, "Update", 1, 1},
        {"approval.released", 6003, 3, "Update", 1, 1},
        {"stop.completed not_verified", 6003, 3, "Update", 2, 3},
        {"resume.requested", 6003, 1, "Create", 0, 1},
        {"resume.layer payment", 6003, 3, "Update", 1, 1},
        {"resume.layer identity none", 3007, 99, "resume.layer none", 1, 1},
        {"stop.leak", 6003, 2, "Read", 2, 4},
        {"stop.joined", 6003, 2, "Read", 0, 1},
        {"approval.decided denied", 6003, 3, "Update", 1, 1},
        {"approval.expired", 6003, 3, "Update", 1, 1},
        {"audit.exported", 6003, 2, "Read", 1, 1},
        {"profile.changed", 6003, 3, "Update", 1, 1},
        {"cancel", 6003, 3, "Update", 1, 1},
        {"unknown action (connector)", 6003, 99, "payment.card_state", 99, 1},
        {"principal scope, no host", 6003, 1, "Create", 0, 1},
        {"no action, no actor", 6003, 99, "unknown", 0, 1},
    };
    QCOMPARE(qsizetype(std::size(rows)), m_records.size()); // every sample has a row
    for (const Row &r : rows) {
        QVERIFY2(m_records.contains(QLatin1String(r.name)), r.name);
        QTest::newRow(r.name) << m_records.value(QLatin1String(r.name)) << r.classUid
                              << r.activityId << QString::fromUtf8(r.activityName) << r.statusId
                              << r.severityId;
    }
}

void tst_AuditOcsf::mapping()
{
    QFETCH(QByteArray, record);
    QFETCH(int, classUid);
    QFETCH(int, activityId);
    QFETCH(QString, activityName);
    QFETCH(int, statusId);
    QFETCH(int, severityId);

    const QJsonObject r = parse(record);
    const QJsonObject event = auditToOcsf(r);
    const QStringList errors = m_checker.check(event);
    QVERIFY2(errors.isEmpty(),
             qPrintable(errors.join(QLatin1Char('\n')) + QStringLiteral("\nin ")
                        + QString::fromUtf8(QJsonDocument(event).toJson(QJsonDocument::Compact))));

    QCOMPARE(event.value(QLatin1String("class_uid")).toInt(), classUid);
    QCOMPARE(event.value(QLatin1String("activity_id")).toInt(), activityId);
    QCOMPARE(event.value(QLatin1String("activity_name")).toString(), activityName);
    QCOMPARE(event.value(QLatin1String("status_id")).toInt(), statusId);
    QCOMPARE(event.value(QLatin1String("severity_id")).toInt(), severityId);
    QCOMPARE(event.value(QLatin1String("type_uid")).toInteger(),
             qint64(classUid) * 100 + activityId);

    // The record is all there: when, which record, who, what, on whose behalf.
    const qint64 seq = r.value(QLatin1String("seq")).toInteger();
    QCOMPARE(event.value(QLatin1String("time")).toInteger(), kT0 + seq * 1137);
    const QJsonObject metadata = event.value(QLatin1String("metadata")).toObject();
    QCOMPARE(metadata.value(QLatin1String("uid")).toString(), QString::number(seq));
    QCOMPARE(metadata.value(QLatin1String("product"))[QLatin1String("name")].toString(),
             QStringLiteral("Breaker"));
    const QJsonObject target = r.value(QLatin1String("target")).toObject();
    const QString run = target.value(QLatin1String("run")).toString();
    QCOMPARE(metadata.value(QLatin1String("correlation_uid")).toString(), run);
    const QString actorId = r.value(QLatin1String("actor"))[QLatin1String("id")].toString();
    if (!actorId.isEmpty())
        QCOMPARE(event.value(QLatin1String("actor"))[QLatin1String("user")][QLatin1String("name")]
                     .toString(),
                 actorId);
    const QString agent = target.value(QLatin1String("agent")).toString();
    const QString principal = target.value(QLatin1String("principal")).toString();
    if (!agent.isEmpty())
        QVERIFY(hasResource(event, QStringLiteral("ai_agent"), agent));
    if (!run.isEmpty())
        QVERIFY(hasResource(event, QStringLiteral("agent_run"), run));
    if (!principal.isEmpty()) {
        bool found = hasResource(event, QStringLiteral("principal"), principal);
        for (const QJsonValue &res : event.value(QLatin1String("resources")).toArray())
            found = found
                    || res[QLatin1String("owner")][QLatin1String("name")].toString() == principal;
        QVERIFY2(found, "the principal the agent acts for is in resources");
    }
    if (classUid == 3007)
        QCOMPARE(event.value(QLatin1String("user"))[QLatin1String("name")].toString(), agent);
    else
        QCOMPARE(event.value(QLatin1String("api"))[QLatin1String("operation")].toString(),
                 r.value(QLatin1String("action")).isNull()
                     ? QStringLiteral("unknown")
                     : r.value(QLatin1String("action")).toString());
    const QJsonObject unmapped
        = event.value(QLatin1String("unmapped"))[QLatin1String("breaker")].toObject();
    for (const char *key : {"actor", "target", "reason", "outcome", "detail", "prev"})
        QCOMPARE(unmapped.value(QLatin1String(key)), r.value(QLatin1String(key)));
    // One line of audit.ocsf.jsonl.
    QVERIFY(!QJsonDocument(event).toJson(QJsonDocument::Compact).contains('\n'));
}

void tst_AuditOcsf::checkerCatches_data()
{
    QTest::addColumn<QString>("record");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("value"); // JSON; empty removes the attribute
    QTest::addColumn<QString>("expected");

    const QString api = QStringLiteral("stop.layer payment verified");
    const QString revoke = QStringLiteral("stop.layer identity verified");
    auto row = [](const char *name,
                  const QString &record,
                  const char *path,
                  const QByteArray &value,
                  const char *expected) {
        QTest::newRow(name) << record << QString::fromUtf8(path) << value
                            << QString::fromUtf8(expected);
    };
    row("no actor", api, "actor", {}, "actor: required by api_activity but missing");
    row("no src_endpoint", api, "src_endpoint", {}, "src_endpoint: required by api_activity");
    row("no api.operation", api, "api.operation", {}, "api.operation: required by api");
    row("no metadata.product",
        api,
        "metadata.product",
        {},
        "metadata.product: required by metadata");
    row("no metadata.version",
        api,
        "metadata.version",
        {},
        "metadata.version: required by metadata");
    row("no severity_id (base event)",
        api,
        "severity_id",
        {},
        "severity_id: required by api_activity");
    row("no time", api, "time", {}, "time: required");
    row("null time", api, "time", "null", "time: required");
    row("time as text",
        api,
        "time",
        "\"2026-07-28T09:13:20Z\"",
        "time: must be of type timestamp_t");
    row("activity not of the class",
        api,
        "activity_id",
        "7",
        "activity_id: 7 is not a value of activity_id");
    row("type_uid disagrees",
        api,
        "type_uid",
        "600302",
        "type_uid: must be class_uid * 100 + activity_id = 600303");
    row("category disagrees",
        api,
        "category_uid",
        "3",
        "category_uid: API Activity is a class of category 6");
    row("status caption wrong",
        api,
        "status",
        "\"Failure\"",
        "status: must be the caption of status_id 1");
    row("severity caption wrong",
        api,
        "severity",
        "\"High\"",
        "severity: must be the caption of severity_id 1");
    row("Other without its label",
        QStringLiteral("unknown action (connector)"),
        "activity_name",
        {},
        "activity_id: 99 Other needs activity_name");
    row("unknown attribute",
        api,
        "agent",
        "\"billing-agent\"",
        "agent: not an attribute of api_activity");
    row("profile not applied",
        api,
        "cloud",
        "{\"provider\":\"aws\"}",
        "cloud: belongs to the cloud profile");
    row("applied profile's requirement",
        api,
        "metadata.profiles",
        "[\"cloud\"]",
        "cloud: required by api_activity");
    row("empty actor", api, "actor", "{}", "actor: actor needs at least one of");
    row("resource role not in enum",
        api,
        "resources.0.role_id",
        "9",
        "resources[0].role_id: 9 is not a value");
    row("resources not an array",
        api,
        "resources",
        "{\"name\":\"x\"}",
        "resources: must be an array of resource_details");
    row("other schema version",
        api,
        "metadata.version",
        "\"1.8.0\"",
        "metadata.version: the spec checked against is");
    row("ip pattern",
        api,
        "src_endpoint.ip",
        "\"not-an-ip\"",
        "src_endpoint.ip: \"not-an-ip\" does not match ip_t");
    row("unknown class", api, "class_uid", "6099", "class_uid: 6099 is not a class");
    row("revocation without user",
        revoke,
        "user",
        {},
        "user: required by user_management but missing");
    row("user without name or uid",
        revoke,
        "user",
        "{\"type_id\":4,\"type\":\"Service\"}",
        "user: user needs at least one of");
    row("api outside API Activity",
        revoke,
        "api",
        "{\"operation\":\"stop.layer\"}",
        "api: belongs to the cloud profile");
    row("deprecated class",
        revoke,
        "class_uid",
        "3001",
        "class_uid: Account Change (3001) is deprecated since 1.9.0");
    row("object not in the copy",
        revoke,
        "user.programmatic_credentials",
        "[{\"uid\":\"tok\"}]",
        "object type programmatic_credential is not among the copied objects");
}

void tst_AuditOcsf::checkerCatches()
{
    QFETCH(QString, record);
    QFETCH(QString, path);
    QFETCH(QByteArray, value);
    QFETCH(QString, expected);

    const QJsonObject event = auditToOcsf(parse(m_records.value(record)));
    QVERIFY2(m_checker.check(event).isEmpty(), "the unedited event conforms");
    const QJsonValue newValue
        = value.isEmpty() ? QJsonValue(QJsonValue::Undefined) : parseValue(value);
    QVERIFY(!value.isEmpty() == !newValue.isUndefined());
    const QJsonObject broken = edited(event, path.split(QLatin1Char('.')), newValue).toObject();
    QVERIFY(broken != event);
    const QStringList errors = m_checker.check(broken);
    QVERIFY2(std::any_of(errors.begin(),
                         errors.end(),
                         [&expected](const QString &e) { return e.contains(expected); }),
             qPrintable(QStringLiteral("expected \"%1\", got:\n%2")
                            .arg(expected, errors.join(QLatin1Char('\n')))));
}

QTEST_GUILESS_MAIN(tst_AuditOcsf)
#include "tst_auditocsf.moc"
