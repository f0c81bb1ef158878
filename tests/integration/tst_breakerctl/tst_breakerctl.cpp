// breakerctl as scripts use it: exit codes, --json shapes (checked against docs/schemas with
// Ajv), and the sandbox + daemon pair filling a Store.
#include "app/services/PriceTable.h"
#include "app/services/RunMonitor.h"
#include "models/Store.h"
#include "tests/common/PeerProcess.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace Breaker;
using namespace std::chrono_literals;

namespace {

struct Outcome
{
    int code = -1;
    QByteArray out;
    QByteArray err;
};

Outcome ctl(const QStringList &args, const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(BREAKERCTL_PATH), args);
    Outcome o;
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        o.err = "timed out";
        return o;
    }
    o.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    o.out = p.readAllStandardOutput();
    o.err = p.readAllStandardError();
    return o;
}

// Validates a JSON document with the project's schema through Ajv (tests/peers).
QString schemaVerdict(const QString &schema, const QByteArray &document)
{
    QProcess node;
    node.setWorkingDirectory(Test::peersDir());
    node.start(QStringLiteral("node"),
               {QStringLiteral("validate-json.mjs"),
                QStringLiteral(BREAKER_SOURCE_DIR "/docs/schemas/") + schema, QStringLiteral("-")});
    node.write(document);
    node.closeWriteChannel();
    if (!node.waitForFinished(30000))
        return QStringLiteral("validator timed out");
    const QString out = QString::fromUtf8(node.readAllStandardOutput()).trimmed();
    return node.exitCode() == 0 ? QString() : out + QString::fromUtf8(node.readAllStandardError());
}

Span span(uint8_t trace, uint8_t id, int parent, const QByteArray &op)
{
    Span s;
    for (int i = 0; i < 16; ++i)
        s.traceId[size_t(i)] = uint8_t(trace + i + 1);
    for (int i = 0; i < 8; ++i)
        s.spanId[size_t(i)] = uint8_t(id * 3 + i + 1);
    if (parent >= 0) {
        s.hasParent = true;
        for (int i = 0; i < 8; ++i)
            s.parentSpanId[size_t(i)] = uint8_t(parent * 3 + i + 1);
    }
    s.name = op + " x";
    s.operationName = op;
    s.agentName = "refund-agent";
    s.principal = "user:ada@example.com";
    s.startNs = 1795665566000000000 + qint64(id) * 1000000;
    s.endNs = s.startNs + 500000;
    s.attributesJson = "{\"k\":1}";
    return s;
}

} // namespace

class tst_Breakerctl : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void usageErrorsExit2();
    void missingStoreExits3();
    void runsAndRunJsonMatchTheSchemas();
    void unknownRunExits1();
    void badProfileNamesFileAndPath();
    void sandboxAndDaemonFillTheStore();

private:
    QTemporaryDir m_home;
    QProcessEnvironment m_env;
};

void tst_Breakerctl::initTestCase()
{
    BREAKER_REQUIRE_PEERS();
    QVERIFY(m_home.isValid());
    // Keep the user's real folders out of it.
    m_env = QProcessEnvironment::systemEnvironment();
    m_env.insert(QStringLiteral("HOME"), m_home.path());
    m_env.insert(QStringLiteral("XDG_DATA_HOME"), m_home.filePath(QStringLiteral("data")));
    m_env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home.filePath(QStringLiteral("config")));
    m_env.insert(QStringLiteral("XDG_RUNTIME_DIR"), m_home.filePath(QStringLiteral("run")));
    m_env.insert(QStringLiteral("BREAKER_SANDBOX"), QStringLiteral(BREAKER_SANDBOX_PATH));
    QDir().mkpath(m_home.filePath(QStringLiteral("run")));
    QFile::setPermissions(m_home.filePath(QStringLiteral("run")),
                          QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
}

void tst_Breakerctl::usageErrorsExit2()
{
    QCOMPARE(ctl({QStringLiteral("frobnicate")}, m_env).code, 2);
    QCOMPARE(ctl({}, m_env).code, 2);
    const Outcome badStatus = ctl({QStringLiteral("runs"), QStringLiteral("--status"), QStringLiteral("running")}, m_env);
    QCOMPARE(badStatus.code, 2);
    QVERIFY2(badStatus.err.contains("unknown status"), badStatus.err.constData());
    QCOMPARE(ctl({QStringLiteral("--version")}, m_env).code, 0);
    const Outcome help = ctl({QStringLiteral("--help")}, m_env);
    QCOMPARE(help.code, 0);
    QVERIFY(help.out.contains("watch"));
}

void tst_Breakerctl::missingStoreExits3()
{
    const Outcome o = ctl({QStringLiteral("runs"), QStringLiteral("--db"), m_home.filePath(QStringLiteral("nope.db"))}, m_env);
    QCOMPARE(o.code, 3);
    QVERIFY2(o.err.contains("nope.db"), o.err.constData());
}

void tst_Breakerctl::runsAndRunJsonMatchTheSchemas()
{
    const QString db = m_home.filePath(QStringLiteral("schema.db"));
    {
        auto store = Store::open(db);
        QVERIFY(store.ok());
        RunMonitor monitor(store.value(), PriceTable::builtin());
        std::optional<Result<void>> done;
        Span chat = span(1, 2, 1, "chat");
        chat.requestModel = "gpt-4o";
        chat.inputTokens = 300;
        chat.outputTokens = 20;
        Span tool = span(1, 3, 1, "execute_tool");
        tool.policyDecision = "deny";
        monitor.ingestSpans({chat, tool, span(1, 1, -1, "invoke_agent")}, [&](const Result<void> &r) { done = r; });
        QTRY_VERIFY(done.has_value());
        QVERIFY(done->ok());
    }
    const Outcome runs = ctl({QStringLiteral("runs"), QStringLiteral("--json"), QStringLiteral("--db"), db}, m_env);
    QCOMPARE(runs.code, 0);
    QCOMPARE(schemaVerdict(QStringLiteral("runs.schema.json"), runs.out), QString());
    const QJsonArray list = QJsonDocument::fromJson(runs.out).object().value(QLatin1String("runs")).toArray();
    QCOMPARE(list.size(), 1);
    const QJsonObject run = list.first().toObject();
    QCOMPARE(run.value(QLatin1String("agent")).toString(), QStringLiteral("refund-agent"));
    QCOMPARE(run.value(QLatin1String("principal")).toString(), QStringLiteral("user:ada@example.com"));
    QCOMPARE(run.value(QLatin1String("status")).toString(), QStringLiteral("completed"));
    QCOMPARE(run.value(QLatin1String("tokens")).toObject().value(QLatin1String("input")).toInt(), 300);
    QCOMPARE(run.value(QLatin1String("policy_blocks")).toInt(), 1);
    QVERIFY(run.value(QLatin1String("cost")).toObject().value(QLatin1String("amount")).toDouble() > 0);

    const QString id = run.value(QLatin1String("id")).toString();
    const Outcome one = ctl({QStringLiteral("run"), id, QStringLiteral("--json"), QStringLiteral("--db"), db}, m_env);
    QCOMPARE(one.code, 0);
    QCOMPARE(schemaVerdict(QStringLiteral("run.schema.json"), one.out), QString());
    const QJsonObject doc = QJsonDocument::fromJson(one.out).object();
    QSet<QString> kinds;
    for (const auto &e : doc.value(QLatin1String("events")).toArray())
        kinds.insert(e.toObject().value(QLatin1String("kind")).toString());
    QCOMPARE(kinds, (QSet<QString>{QStringLiteral("model_call"), QStringLiteral("policy_block"),
                                   QStringLiteral("agent_invocation")}));
    QCOMPARE(doc.value(QLatin1String("control_map")).toArray().size(), 7);

    // The human form has the same facts.
    const Outcome text = ctl({QStringLiteral("run"), id, QStringLiteral("--db"), db}, m_env);
    QCOMPARE(text.code, 0);
    QVERIFY(text.out.contains("policy_block"));
}

void tst_Breakerctl::unknownRunExits1()
{
    const QString db = m_home.filePath(QStringLiteral("schema.db"));
    const Outcome o = ctl({QStringLiteral("run"), QStringLiteral("rdoesnotexist"), QStringLiteral("--db"), db}, m_env);
    QCOMPARE(o.code, 1);
    QVERIFY(o.err.contains("rdoesnotexist"));
}

void tst_Breakerctl::badProfileNamesFileAndPath()
{
    const QString path = m_home.filePath(QStringLiteral("typo.json"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"version": 1, "name": "x", "providers": {"otlp": {"layer": "observability", "kind": "otlp", "lisen": "127.0.0.1:0"}}, "agents": {}})");
    f.close();
    const Outcome o = ctl({QStringLiteral("daemon"), QStringLiteral("--profile"), path,
                           QStringLiteral("--db"), m_home.filePath(QStringLiteral("d.db"))}, m_env);
    QCOMPARE(o.code, 2);
    QVERIFY2(o.err.contains("typo.json"), o.err.constData());
    QVERIFY2(o.err.contains("$.providers.otlp"), o.err.constData());
    QVERIFY2(o.err.contains("lisen"), o.err.constData());
}

void tst_Breakerctl::sandboxAndDaemonFillTheStore()
{
    const QString profile = m_home.filePath(QStringLiteral("sandbox-profile.json"));
    const QString db = m_home.filePath(QStringLiteral("filled.db"));

    Test::PeerProcess sandbox;
    for (const QString &key : m_env.keys())
        sandbox.setEnvironmentValue(key, m_env.value(key));
    QVERIFY2(sandbox.startProgram(QStringLiteral(BREAKERCTL_PATH),
                                  {QStringLiteral("sandbox"), QStringLiteral("--profile-out"), profile,
                                   QStringLiteral("--rate"), QStringLiteral("30"), QStringLiteral("--seed"), QStringLiteral("7")}),
             qPrintable(sandbox.errorString()));
    QVERIFY2(sandbox.waitForLine("READY ", 20s).has_value(), qPrintable(sandbox.failureReport()));

    Test::PeerProcess daemon;
    for (const QString &key : m_env.keys())
        daemon.setEnvironmentValue(key, m_env.value(key));
    QVERIFY(daemon.startProgram(QStringLiteral(BREAKERCTL_PATH),
                                {QStringLiteral("daemon"), QStringLiteral("--profile"), profile,
                                 QStringLiteral("--db"), db}));
    const auto ready = daemon.waitForLine("READY ", 20s);
    QVERIFY2(ready.has_value(), qPrintable(daemon.failureReport()));
    const QJsonObject readyJson = QJsonDocument::fromJson(ready->mid(6).toUtf8()).object();
    QVERIFY(readyJson.value(QLatin1String("otlp")).toString().startsWith(QLatin1String("127.0.0.1:")));

    // A second engine on the same Store is refused, naming the first.
    const Outcome second = ctl({QStringLiteral("daemon"), QStringLiteral("--profile"), profile,
                                QStringLiteral("--db"), db, QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0")}, m_env);
    QCOMPARE(second.code, 3);
    QVERIFY2(second.err.contains("another engine"), second.err.constData());

    // Within seconds the four agents' runs are there, bound to the profile's agents.
    QSet<QString> agents;
    QJsonArray runs;
    QTRY_VERIFY_WITH_TIMEOUT(([&] {
        const Outcome o = ctl({QStringLiteral("runs"), QStringLiteral("--json"), QStringLiteral("--db"), db}, m_env);
        runs = QJsonDocument::fromJson(o.out).object().value(QLatin1String("runs")).toArray();
        agents.clear();
        for (const auto &r : runs) {
            if (r.toObject().value(QLatin1String("agent_bound")).toBool())
                agents.insert(r.toObject().value(QLatin1String("agent")).toString());
        }
        return agents.size() == 4;
    }()), 60000);
    QCOMPARE(agents, (QSet<QString>{QStringLiteral("refund-agent"), QStringLiteral("claims-agent"),
                                    QStringLiteral("email-agent"), QStringLiteral("usage-analyst")}));

    // A run has principal, tokens and a timeline with typed events.
    QString withTokens;
    QTRY_VERIFY_WITH_TIMEOUT(([&] {
        const Outcome o = ctl({QStringLiteral("runs"), QStringLiteral("--json"), QStringLiteral("--db"), db}, m_env);
        for (const auto &r : QJsonDocument::fromJson(o.out).object().value(QLatin1String("runs")).toArray()) {
            const QJsonObject run = r.toObject();
            if (run.value(QLatin1String("tokens")).toObject().value(QLatin1String("input")).toInt() > 0
                && !run.value(QLatin1String("principal")).toString().isEmpty()) {
                withTokens = run.value(QLatin1String("id")).toString();
                return true;
            }
        }
        return false;
    }()), 30000);
    const Outcome one = ctl({QStringLiteral("run"), withTokens, QStringLiteral("--json"), QStringLiteral("--db"), db,
                             QStringLiteral("--profile"), profile}, m_env);
    QCOMPARE(one.code, 0);
    QCOMPARE(schemaVerdict(QStringLiteral("run.schema.json"), one.out), QString());
    const QJsonObject doc = QJsonDocument::fromJson(one.out).object();
    bool sawModelCall = false;
    for (const auto &e : doc.value(QLatin1String("events")).toArray())
        sawModelCall |= e.toObject().value(QLatin1String("kind")).toString() == QLatin1String("model_call");
    QVERIFY(sawModelCall);
    // The profile binds observability for sandbox agents; the layers the sandbox does not serve
    // yet are gaps.
    bool observabilityBound = false;
    for (const auto &row : doc.value(QLatin1String("control_map")).toArray()) {
        const QJsonObject r = row.toObject();
        if (r.value(QLatin1String("layer")).toString() == QLatin1String("observability"))
            observabilityBound = r.value(QLatin1String("state")).toString() == QLatin1String("bound");
    }
    QVERIFY(observabilityBound);

    sandbox.stop();
    daemon.stop();
    QCOMPARE(daemon.exitCode(), 0);
}

QTEST_GUILESS_MAIN(tst_Breakerctl)
#include "tst_breakerctl.moc"
