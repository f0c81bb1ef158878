// The stop switch end to end on the sandbox (issue 4, "Done when"): `breakerctl sandbox` serves
// the A2A agents, the OAuth server, the Stripe- and OPA-shaped APIs; `breakerctl daemon` follows
// them; `breakerctl stop --agent NAME --json` cancels the agent's run, revokes its token, freezes
// its card and blocks its tools, each verified; the agent's next call then fails in its trace.
// With a provider down the others still verify and the command exits 1 naming the one that did
// not. All processes are real, talking HTTP on loopback.
#include "connectors/runtime/A2aConnector.h"
#include "models/Profile.h"
#include "tests/common/Breakerctl.h"
#include "tests/common/PeerProcess.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace Breaker;
using namespace Breaker::Test;
using namespace std::chrono_literals;

namespace {

// The sandbox and an engine following it, in one temporary folder.
struct Fleet
{
    std::unique_ptr<QTemporaryDir> dir;
    std::unique_ptr<PeerProcess> sandbox;
    std::unique_ptr<PeerProcess> daemon;
    QString profile;
    QString db;
    QJsonObject ready;
    QStringList common() const { return {QStringLiteral("--profile"), profile, QStringLiteral("--db"), db}; }
};

bool startFleet(Fleet &f, const QStringList &sandboxArgs, QString *why)
{
    f.dir = std::make_unique<QTemporaryDir>();
    f.profile = f.dir->filePath(QStringLiteral("profile.json"));
    f.db = f.dir->filePath(QStringLiteral("breaker.db"));
    f.sandbox = std::make_unique<PeerProcess>();
    f.sandbox->setEnvironmentValue(QStringLiteral("XDG_RUNTIME_DIR"), f.dir->path());
    // A slow rate: the test starts the runs it needs itself, over A2A.
    if (!f.sandbox->startProgram(QStringLiteral(BREAKER_BINARY_DIR "/app/breakerctl/breakerctl"),
                                 QStringList{QStringLiteral("sandbox"), QStringLiteral("--profile-out"), f.profile,
                                             QStringLiteral("--rate"), QStringLiteral("0.2")}
                                     + sandboxArgs)) {
        *why = f.sandbox->errorString();
        return false;
    }
    const auto line = f.sandbox->waitForLine("READY ", 30s);
    if (!line) {
        *why = f.sandbox->failureReport();
        return false;
    }
    f.ready = QJsonDocument::fromJson(line->mid(6).toUtf8()).object();
    const QString otlp = QUrl(f.ready.value(QStringLiteral("otlp_endpoint")).toString()).authority();
    f.daemon = std::make_unique<PeerProcess>();
    if (!f.daemon->startProgram(QStringLiteral(BREAKER_BINARY_DIR "/app/breakerctl/breakerctl"),
                                QStringList{QStringLiteral("daemon"), QStringLiteral("--otlp-listen"), otlp} + f.common())) {
        *why = f.daemon->errorString();
        return false;
    }
    if (!f.daemon->waitForLine("READY ", 30s)) {
        *why = f.daemon->failureReport();
        return false;
    }
    return true;
}

void stopFleet(Fleet &f)
{
    if (f.daemon)
        f.daemon->stop();
    if (f.sandbox)
        f.sandbox->stop();
    f.daemon.reset();
    f.sandbox.reset();
}

Result<RuntimeRun> startRun(const Fleet &f, const QString &agent, const QString &scenario)
{
    const QString card = f.ready.value(QStringLiteral("a2a")).toObject().value(agent).toString();
    ProviderConfig p;
    p.name = agent + QStringLiteral("-a2a");
    p.layer = QStringLiteral("runtime");
    p.kind = QStringLiteral("a2a");
    p.url = QUrl(card);
    A2aConnector a2a(p, {});
    std::optional<Result<RuntimeRun>> out;
    QEventLoop loop;
    a2a.startTask(QStringLiteral("please work"), QJsonObject{{QStringLiteral("scenario"), scenario}},
                  [&](const Result<RuntimeRun> &r) {
                      out = r;
                      loop.quit();
                  });
    if (!out) {
        QTimer::singleShot(20000, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return out.value_or(Result<RuntimeRun>(makeError(Error::Kind::Timeout, QStringLiteral("no answer"))));
}

// Breaker's run id for an A2A task, once the engine has it (in `status`, when given).
QByteArray runForTask(const Fleet &f, const QByteArray &task, const QString &status = {})
{
    QByteArray found;
    QDeadlineTimer deadline(30000);
    while (found.isEmpty() && !deadline.hasExpired()) {
        const CtlRun r = breakerctl(QStringList{QStringLiteral("runs"), QStringLiteral("--json")} + f.common());
        const QJsonArray runs = QJsonDocument::fromJson(r.out).object().value(QStringLiteral("runs")).toArray();
        for (const QJsonValue &v : runs) {
            const QJsonObject run = v.toObject();
            const QString a2a
                = run.value(QStringLiteral("external_ids")).toObject().value(QStringLiteral("a2a_task_id")).toString();
            if (a2a.toUtf8() == task && (status.isEmpty() || run.value(QStringLiteral("status")).toString() == status))
                found = run.value(QStringLiteral("id")).toString().toUtf8();
        }
        if (found.isEmpty())
            QTest::qWait(250);
    }
    return found;
}

QJsonObject layerRow(const QJsonObject &stop, const QString &layer)
{
    for (const QJsonValue &v : stop.value(QStringLiteral("layers")).toArray())
        if (v.toObject().value(QStringLiteral("layer")).toString() == layer)
            return v.toObject();
    return {};
}

} // namespace

class tst_StopSandbox : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void stopsTheRunawayAgentAtEveryLayer();
    void theStoppedAgentsNextCallsFail();
    void anAgentThatIgnoresCancelIsStillContained();
    void resumeUnfreezesAndUnblocks();
    void aDrillOnTheCanaryIsItsLastProvenStop();
    void theTrailOfTheseStopsExportsAndVerifies();
    void aLayerDownIsNamedAndTheOthersVerify(); // last: it stops the shared fleet

private:
    Fleet m_fleet;
};

void tst_StopSandbox::initTestCase()
{
    BREAKER_REQUIRE_PEERS(); // the JSON Schema check uses the peers' Ajv
    QString why;
    QVERIFY2(startFleet(m_fleet, {}, &why), qPrintable(why));
}

void tst_StopSandbox::cleanupTestCase()
{
    stopFleet(m_fleet);
}

void tst_StopSandbox::stopsTheRunawayAgentAtEveryLayer()
{
    auto task = startRun(m_fleet, QStringLiteral("refund-agent"), QStringLiteral("runaway_loop"));
    QVERIFY2(task.ok(), task.ok() ? "" : qPrintable(task.error().message));
    const QByteArray run = runForTask(m_fleet, task->externalId, QStringLiteral("working"));
    QVERIFY2(!run.isEmpty(), "the engine never saw the runaway run working");

    const CtlRun dry = breakerctl(QStringList{QStringLiteral("stop"), QStringLiteral("--agent"), QStringLiteral("refund-agent"),
                                              QStringLiteral("--dry-run"), QStringLiteral("--json")}
                                  + m_fleet.common());
    QCOMPARE(dry.code, 0);
    const QJsonObject plan = QJsonDocument::fromJson(dry.out).object();
    QVERIFY(plan.value(QStringLiteral("dry_run")).toBool());
    QCOMPARE(plan.value(QStringLiteral("counts")).toObject().value(QStringLiteral("payment")).toInt(), 1);

    const CtlRun stop = breakerctl(QStringList{QStringLiteral("stop"), QStringLiteral("--agent"),
                                               QStringLiteral("refund-agent"), QStringLiteral("--reason"),
                                               QStringLiteral("runaway refund loop"), QStringLiteral("--json")}
                                   + m_fleet.common());
    QVERIFY2(stop.code == 0, QByteArray(stop.out + stop.err).constData());
    const QJsonObject result = QJsonDocument::fromJson(stop.out).object();
    QVERIFY(result.value(QStringLiteral("verified")).toBool());
    const QString verdict = schemaVerdict(QStringLiteral("stop.schema.json"), stop.out);
    QVERIFY2(verdict.isEmpty(), qPrintable(verdict));
    for (const QString &layer : {QStringLiteral("runtime"), QStringLiteral("identity"), QStringLiteral("payment"),
                                QStringLiteral("tools")}) {
        const QJsonObject row = layerRow(result, layer);
        QVERIFY2(!row.isEmpty(), qPrintable(layer));
        QCOMPARE(row.value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
        QVERIFY(row.value(QStringLiteral("ms")).toInteger() >= 0);
    }
    QVERIFY(layerRow(result, QStringLiteral("identity")).value(QStringLiteral("detail")).toString().contains(
        QStringLiteral("active=false")));
    QVERIFY(layerRow(result, QStringLiteral("payment")).value(QStringLiteral("detail")).toString().contains(
        QStringLiteral("inactive")));
    // No secret in what the command printed.
    const QString tokenRef = layerRow(result, QStringLiteral("identity")).value(QStringLiteral("target")).toString();
    QVERIFY(tokenRef.startsWith(QStringLiteral("token file:")));
    QFile token(tokenRef.mid(int(qstrlen("token file:"))));
    QVERIFY(token.open(QIODevice::ReadOnly));
    const QByteArray secret = token.readAll().trimmed();
    QVERIFY(!secret.isEmpty());
    QVERIFY(!stop.out.contains(secret) && !stop.err.contains(secret));

    // Its run ended.
    QVERIFY(!runForTask(m_fleet, task->externalId, QStringLiteral("stopped")).isEmpty());
}

void tst_StopSandbox::theStoppedAgentsNextCallsFail()
{
    // Runs after the stop: the first call needs a token, and the grant is revoked.
    auto task = startRun(m_fleet, QStringLiteral("refund-agent"), QStringLiteral("normal"));
    QVERIFY2(task.ok(), task.ok() ? "" : qPrintable(task.error().message));
    const QByteArray run = runForTask(m_fleet, task->externalId, QStringLiteral("failed"));
    QVERIFY2(!run.isEmpty(), "the run of the stopped agent did not fail");
    bool sawRevoked = false;
    QTRY_VERIFY_WITH_TIMEOUT(([&] {
        const CtlRun r = breakerctl(QStringList{QStringLiteral("run"), QString::fromUtf8(run), QStringLiteral("--json")}
                                    + m_fleet.common());
        for (const QJsonValue &v : QJsonDocument::fromJson(r.out).object().value(QStringLiteral("events")).toArray()) {
            const QJsonObject attrs = v.toObject().value(QStringLiteral("attributes")).toObject();
            if (attrs.value(QStringLiteral("breaker.blocked_by")).toString() == QLatin1String("identity")
                && attrs.value(QStringLiteral("error.type")).toString() == QLatin1String("invalid_grant"))
                sawRevoked = true;
        }
        return sawRevoked;
    }()), 20000);
}

void tst_StopSandbox::anAgentThatIgnoresCancelIsStillContained()
{
    auto task = startRun(m_fleet, QStringLiteral("usage-analyst"), QStringLiteral("ignores_cancel"));
    QVERIFY2(task.ok(), task.ok() ? "" : qPrintable(task.error().message));
    QVERIFY(!runForTask(m_fleet, task->externalId, QStringLiteral("working")).isEmpty());
    // Two operators stop the agent at once, from two processes (DESIGN.md section 9): one stop
    // acts, the other joins it and reports its result.
    auto stopArgs = [this](const QString &reason) {
        return QStringList{QStringLiteral("stop"), QStringLiteral("--agent"), QStringLiteral("usage-analyst"),
                           QStringLiteral("--reason"), reason, QStringLiteral("--json")}
               + m_fleet.common();
    };
    QProcess second;
    second.start(QStringLiteral(BREAKER_BINARY_DIR "/app/breakerctl/breakerctl"), stopArgs(QStringLiteral("me too")));
    const CtlRun first = breakerctl(stopArgs(QStringLiteral("export loop")));
    QVERIFY(second.waitForFinished(60000));
    CtlRun other;
    other.code = second.exitCode();
    other.out = second.readAllStandardOutput();
    other.err = second.readAllStandardError();
    const QJsonObject a = QJsonDocument::fromJson(first.out).object();
    const QJsonObject b = QJsonDocument::fromJson(other.out).object();
    QVERIFY2(!a.isEmpty() && !b.isEmpty(), QByteArray(first.err + other.err).constData());
    QVERIFY2(a.contains(QStringLiteral("joined")) != b.contains(QStringLiteral("joined")),
             QByteArray(first.out + "\n" + other.out).constData());
    const bool secondJoined = b.contains(QStringLiteral("joined"));
    const CtlRun &stop = secondJoined ? first : other;
    const CtlRun &joiner = secondJoined ? other : first;
    const QJsonObject result = secondJoined ? a : b;
    const QJsonObject joined = secondJoined ? b : a;
    QCOMPARE(joiner.code, stop.code);
    QCOMPARE(joined.value(QStringLiteral("verified")), result.value(QStringLiteral("verified")));
    QCOMPARE(joined.value(QStringLiteral("joined")).toObject().value(QStringLiteral("reason")).toString(),
             result.value(QStringLiteral("reason")).toString());
    QStringList rowsA, rowsB;
    for (const QJsonValue &v : result.value(QStringLiteral("layers")).toArray())
        rowsA << v.toObject().value(QStringLiteral("layer")).toString() + QLatin1Char(':')
                     + v.toObject().value(QStringLiteral("outcome")).toString();
    for (const QJsonValue &v : joined.value(QStringLiteral("layers")).toArray())
        rowsB << v.toObject().value(QStringLiteral("layer")).toString() + QLatin1Char(':')
                     + v.toObject().value(QStringLiteral("outcome")).toString();
    rowsA.sort();
    rowsB.sort();
    QCOMPARE(rowsB, rowsA);
    const QString verdict = schemaVerdict(QStringLiteral("stop.schema.json"), joiner.out);
    QVERIFY2(verdict.isEmpty(), qPrintable(verdict));
    // Token, card and tools contain it whatever its runtime does...
    for (const QString &layer : {QStringLiteral("identity"), QStringLiteral("payment"), QStringLiteral("tools")})
        QCOMPARE(layerRow(result, layer).value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
    // ...and the runtime row says what happened to the run, in words.
    const QJsonObject runtime = layerRow(result, QStringLiteral("runtime"));
    QVERIFY(!runtime.isEmpty());
    // (the analyst speaks A2A 0.3 over REST, which spells it TASK_STATE_CANCELLED)
    QVERIFY2(runtime.value(QStringLiteral("detail")).toString().contains(QStringLiteral("TASK_STATE_CANCEL")),
             qPrintable(runtime.value(QStringLiteral("detail")).toString()));
    QCOMPARE(stop.code, result.value(QStringLiteral("verified")).toBool() ? 0 : 1);
}

void tst_StopSandbox::resumeUnfreezesAndUnblocks()
{
    const CtlRun resume = breakerctl(QStringList{QStringLiteral("resume"), QStringLiteral("--agent"),
                                                 QStringLiteral("refund-agent"), QStringLiteral("--reason"),
                                                 QStringLiteral("incident closed"), QStringLiteral("--json")}
                                     + m_fleet.common());
    QVERIFY2(resume.code == 0, QByteArray(resume.out + resume.err).constData());
    const QJsonObject result = QJsonDocument::fromJson(resume.out).object();
    QCOMPARE(layerRow(result, QStringLiteral("payment")).value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
    QCOMPARE(layerRow(result, QStringLiteral("tools")).value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
    QVERIFY(layerRow(result, QStringLiteral("identity")).isEmpty());
    QVERIFY(result.value(QStringLiteral("notes")).toArray().first().toString().contains(QStringLiteral("stays revoked")));
    const CtlRun noReason = breakerctl(QStringList{QStringLiteral("resume"), QStringLiteral("--agent"),
                                                   QStringLiteral("refund-agent")}
                                       + m_fleet.common());
    QCOMPARE(noReason.code, 2);
}

void tst_StopSandbox::aLayerDownIsNamedAndTheOthersVerify()
{
    stopFleet(m_fleet);
    Fleet down;
    QString why;
    QVERIFY2(startFleet(down, {QStringLiteral("--fault"), QStringLiteral("payment=down")}, &why), qPrintable(why));
    const CtlRun stop = breakerctl(QStringList{QStringLiteral("stop"), QStringLiteral("--agent"), QStringLiteral("email-agent"),
                                               QStringLiteral("--reason"), QStringLiteral("drill with stripe down"),
                                               QStringLiteral("--json")}
                                   + down.common());
    stopFleet(down);
    QVERIFY2(stop.code == 1, QByteArray(stop.out + stop.err).constData());
    const QJsonObject result = QJsonDocument::fromJson(stop.out).object();
    QVERIFY(!result.value(QStringLiteral("verified")).toBool());
    const QJsonObject payment = layerRow(result, QStringLiteral("payment"));
    QCOMPARE(payment.value(QStringLiteral("outcome")).toString(), QStringLiteral("failed"));
    QCOMPARE(payment.value(QStringLiteral("provider")).toString(), QStringLiteral("sandbox-stripe"));
    QVERIFY(!payment.value(QStringLiteral("detail")).toString().isEmpty());
    for (const QString &layer : {QStringLiteral("runtime"), QStringLiteral("identity"), QStringLiteral("tools")})
        QCOMPARE(layerRow(result, layer).value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
}

void tst_StopSandbox::aDrillOnTheCanaryIsItsLastProvenStop()
{
    // Not a canary: a drill would stop it for real, so it is refused before anything is done.
    const CtlRun refused = breakerctl(QStringList{QStringLiteral("drill"), QStringLiteral("--agent"), QStringLiteral("refund-agent"),
                                                  QStringLiteral("--reason"), QStringLiteral("monthly drill")}
                                      + m_fleet.common());
    QCOMPARE(refused.code, 2);
    QVERIFY2(refused.err.contains("not a canary"), refused.err.constData());

    // The sandbox's canary: a run of it is started (none may be in flight), stopped at every
    // layer, each layer read back, then the card unfrozen and the tools unblocked.
    const CtlRun drill = breakerctl(QStringList{QStringLiteral("drill"), QStringLiteral("--agent"), QStringLiteral("claims-agent"),
                                                QStringLiteral("--reason"), QStringLiteral("monthly drill"), QStringLiteral("--json")}
                                    + m_fleet.common());
    QVERIFY2(drill.code == 0, QByteArray(drill.out + drill.err).constData());
    const QJsonObject result = QJsonDocument::fromJson(drill.out).object();
    QVERIFY(result.value(QStringLiteral("ok")).toBool());
    const QString canaryRun = result.value(QStringLiteral("canary_run")).toString();
    QVERIFY2(!canaryRun.isEmpty(), drill.out.constData());
    const QJsonObject stop = result.value(QStringLiteral("stop")).toObject();
    QVERIFY(stop.value(QStringLiteral("verified")).toBool());
    for (const QString &layer : {QStringLiteral("runtime"), QStringLiteral("identity"), QStringLiteral("payment"),
                                QStringLiteral("tools")})
        QCOMPARE(layerRow(stop, layer).value(QStringLiteral("outcome")).toString(), QStringLiteral("verified"));
    // The runtime row proved a cancel of the canary's run, not merely "nothing in flight".
    QVERIFY(!layerRow(stop, QStringLiteral("runtime")).value(QStringLiteral("detail")).toString().startsWith(
        QStringLiteral("nothing in flight")));
    QVERIFY(result.value(QStringLiteral("restore")).toObject().value(QStringLiteral("verified")).toBool());
    QCOMPARE(result.value(QStringLiteral("proofs")).toArray().size(), 4);

    // The canary's control map now shows each layer's last proven stop, by a drill.
    const CtlRun one = breakerctl(QStringList{QStringLiteral("run"), canaryRun, QStringLiteral("--json")} + m_fleet.common());
    QCOMPARE(one.code, 0);
    const QString verdict = schemaVerdict(QStringLiteral("run.schema.json"), one.out);
    QVERIFY2(verdict.isEmpty(), qPrintable(verdict));
    int proven = 0;
    for (const QJsonValue &v : QJsonDocument::fromJson(one.out).object().value(QStringLiteral("control_map")).toArray()) {
        const QJsonObject row = v.toObject();
        const QString layer = row.value(QStringLiteral("layer")).toString();
        if (layer == QLatin1String("kill_switch"))
            QVERIFY2(row.value(QStringLiteral("detail")).toString().contains(QStringLiteral("4 proven; last drill")),
                     qPrintable(row.value(QStringLiteral("detail")).toString()));
        if (!row.contains(QStringLiteral("last_proven")))
            continue;
        const QJsonObject last = row.value(QStringLiteral("last_proven")).toObject();
        QVERIFY2(last.value(QStringLiteral("drill")).toBool(), qPrintable(layer));
        QVERIFY(last.value(QStringLiteral("ms")).toInteger() >= 0);
        ++proven;
    }
    QCOMPARE(proven, 4);

    // The refund agent was stopped (not drilled) earlier: its map says so, by a stop.
    const CtlRun runs = breakerctl(QStringList{QStringLiteral("runs"), QStringLiteral("--agent"), QStringLiteral("refund-agent"),
                                               QStringLiteral("--json")}
                                   + m_fleet.common());
    const QJsonArray refundRuns = QJsonDocument::fromJson(runs.out).object().value(QStringLiteral("runs")).toArray();
    QVERIFY(!refundRuns.isEmpty());
    const CtlRun refund = breakerctl(QStringList{QStringLiteral("run"),
                                                 refundRuns.first().toObject().value(QStringLiteral("id")).toString(),
                                                 QStringLiteral("--json")}
                                     + m_fleet.common());
    for (const QJsonValue &v : QJsonDocument::fromJson(refund.out).object().value(QStringLiteral("control_map")).toArray()) {
        const QJsonObject row = v.toObject();
        if (row.value(QStringLiteral("layer")).toString() == QLatin1String("identity"))
            QVERIFY2(row.value(QStringLiteral("detail")).toString().contains(QStringLiteral("by a stop")),
                     qPrintable(row.value(QStringLiteral("detail")).toString()));
    }
}

void tst_StopSandbox::theTrailOfTheseStopsExportsAndVerifies()
{
    // Issue 5's first "done when": after cancelling and stopping in the sandbox, an export
    // verifies with breakerctl and with the shell recipe of docs/AUDIT.md; one flipped byte of
    // audit.jsonl makes both fail. The sandbox's profile keeps the signing key in a 0600 file.
    QTemporaryDir out;
    const QString dir = out.filePath(QStringLiteral("export"));
    const CtlRun exported = breakerctl(QStringList{QStringLiteral("audit"), QStringLiteral("export"), QStringLiteral("--out"), dir,
                                                   QStringLiteral("--format"), QStringLiteral("jsonl,csv,ocsf"),
                                                   QStringLiteral("--json")}
                                       + m_fleet.common());
    QVERIFY2(exported.code == 0, QByteArray(exported.out + exported.err).constData());
    QFile jsonl(dir + QStringLiteral("/audit.jsonl"));
    QVERIFY(jsonl.open(QIODevice::ReadOnly));
    const QByteArray lines = jsonl.readAll();
    jsonl.close();
    for (const char *action : {"\"action\":\"stop.requested\"", "\"action\":\"stop.layer\"",
                               "\"action\":\"stop.completed\"", "\"action\":\"resume.completed\"",
                               "\"drill\":true"})
        QVERIFY2(lines.contains(action), action);
    QVERIFY(QFile::exists(dir + QStringLiteral("/audit.csv")));
    QVERIFY(QFile::exists(dir + QStringLiteral("/audit.ocsf.jsonl")));

    const CtlRun verified = breakerctl(QStringList{QStringLiteral("audit"), QStringLiteral("verify"), dir, QStringLiteral("--json")}
                                       + m_fleet.common());
    QVERIFY2(verified.code == 0, QByteArray(verified.out + verified.err).constData());
    const QJsonObject report = QJsonDocument::fromJson(verified.out).object();
    QVERIFY(report.value(QStringLiteral("ok")).toBool());
    QCOMPARE(report.value(QStringLiteral("records")).toInteger(), qint64(lines.count('\n')));
    const AuditRecipe recipe = runAuditRecipe(dir);
    QVERIFY2(recipe.code == 0, recipe.output.constData());

    // One byte of one record changed: both say no, and breakerctl names the line.
    QVERIFY(jsonl.open(QIODevice::ReadWrite));
    const qint64 at = lines.indexOf("\"reason\":\"") + 10;
    QVERIFY(at > 10);
    jsonl.seek(at);
    jsonl.write(lines.mid(at, 1) == "x" ? "y" : "x");
    jsonl.close();
    const CtlRun broken = breakerctl(QStringList{QStringLiteral("audit"), QStringLiteral("verify"), dir, QStringLiteral("--json")}
                                     + m_fleet.common());
    QCOMPARE(broken.code, 1);
    const QJsonObject bad = QJsonDocument::fromJson(broken.out).object();
    QVERIFY(!bad.value(QStringLiteral("ok")).toBool());
    QCOMPARE(bad.value(QStringLiteral("first_bad_line")).toInteger(), qint64(lines.left(at).count('\n') + 1));
    QVERIFY(runAuditRecipe(dir).code != 0);
}

QTEST_GUILESS_MAIN(tst_StopSandbox)
#include "tst_stop_sandbox.moc"
