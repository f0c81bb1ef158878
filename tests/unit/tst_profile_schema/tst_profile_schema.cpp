#include "models/Profile.h"

#include "tests/common/PeerProcess.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace Breaker;
using namespace std::chrono_literals;

namespace {

// Profiles that are invalid for reasons a JSON Schema cannot express: the schema must accept
// them (if it starts to refuse one, move it out of this list) and Breaker must refuse them.
const QSet<QString> &beyondSchema()
{
    static const QSet<QString> files = {
        QStringLiteral("duplicate-key.json"),        // JSON.parse keeps the last key silently
        QStringLiteral("unknown-provider-ref.json"), // cross-reference
        QStringLiteral("wrong-layer-ref.json"),      // cross-reference
        QStringLiteral("otel-name-collision.json"),  // uniqueness across agents
    };
    return files;
}

} // namespace

namespace {

struct VariantRow
{
    const char *name;
    QString provider; // which provider of the base profile to edit
    QString key;
    QStringList values;
};

// One field of a small valid profile replaced by each value: the patterns for URLs, addresses,
// secret references and names must accept and refuse the same strings in both validators.
const std::vector<VariantRow> &variantRows()
{
    static const std::vector<VariantRow> table = [] {
        std::vector<VariantRow> rows;

        rows.push_back({"a2a url",
                        QStringLiteral("a2a"),
                        QStringLiteral("url"),
                        QStringList{QStringLiteral("https://agents.example"),
                                    QStringLiteral("http://10.0.0.7:8080/a2a"),
                                    QStringLiteral("https://agents.example/a2a?x=1#frag"),
                                    QStringLiteral("https://[::1]:8443/"),
                                    QStringLiteral("https://[2001:db8::7]/x"),
                                    QStringLiteral("http://my_host:1"),
                                    QStringLiteral("https://a.b.c.example:65535"),
                                    QStringLiteral("https://x:0"),
                                    QStringLiteral("HTTPS://agents.example"),
                                    QStringLiteral("https//agents.example"),
                                    QStringLiteral("https://agents.example:65536"),
                                    QStringLiteral("https://agents.example:080"),
                                    QStringLiteral("https://-agents.example"),
                                    QStringLiteral("https://agents..example"),
                                    QStringLiteral("https://agents.example/a b"),
                                    QStringLiteral("https://[::1"),
                                    QStringLiteral("https://[fe80::1%25eth0]/"),
                                    QStringLiteral("https://[1:2:3:4:5:6:7:8:9]/"),
                                    QStringLiteral("https://u@agents.example"),
                                    QStringLiteral("ws://agents.example"),
                                    QStringLiteral("https://agents.example/%zz{}|^"),
                                    QStringLiteral("https://agents.example/\u00e4"),
                                    QStringLiteral("agents.example"),
                                    QStringLiteral("")}});
        rows.push_back({"cf url",
                        QStringLiteral("cf"),
                        QStringLiteral("url"),
                        QStringList{QStringLiteral("wss://agents.example"),
                                    QStringLiteral("ws://127.0.0.1:8787/agents/x"),
                                    QStringLiteral("https://agents.example"),
                                    QStringLiteral("wsss://agents.example"),
                                    QStringLiteral("ftp://agents.example")}});
        rows.push_back({"issuer",
                        QStringLiteral("idp"),
                        QStringLiteral("issuer"),
                        QStringList{QStringLiteral("https://login.example"),
                                    QStringLiteral("https://tenant.auth0.com/"),
                                    QStringLiteral("https://kc.example/realms/agents"),
                                    QStringLiteral("http://localhost:8080"),
                                    QStringLiteral("http://127.0.0.1/oidc"),
                                    QStringLiteral("http://[::1]:9000"),
                                    QStringLiteral("http://login.example"),
                                    QStringLiteral("http://127.0.0.2"),
                                    QStringLiteral("http://localhost.example"),
                                    QStringLiteral("https://login.example?x=1"),
                                    QStringLiteral("https://login.example#f"),
                                    QStringLiteral("wss://login.example")}});
        rows.push_back({"listen",
                        QStringLiteral("otlp"),
                        QStringLiteral("listen"),
                        QStringList{QStringLiteral("127.0.0.1:4318"),
                                    QStringLiteral("0.0.0.0:0"),
                                    QStringLiteral("localhost:4318"),
                                    QStringLiteral("[::1]:4318"),
                                    QStringLiteral("[::]:4318"),
                                    QStringLiteral("[2001:db8::1]:1"),
                                    QStringLiteral("255.255.255.255:65535"),
                                    QStringLiteral("127.0.0.1"),
                                    QStringLiteral(":4318"),
                                    QStringLiteral("127.0.0.1:"),
                                    QStringLiteral("127.0.0.1:65536"),
                                    QStringLiteral("127.0.0.01:1"),
                                    QStringLiteral("1.2.3:4"),
                                    QStringLiteral("::1:4318"),
                                    QStringLiteral("[::1::]:1"),
                                    QStringLiteral("localhost:-1"),
                                    QStringLiteral("collector:4318"),
                                    QStringLiteral("127.0.0.1:4318 ")}});
        rows.push_back({"secret",
                        QStringLiteral("otlp"),
                        QStringLiteral("token"),
                        QStringList{QStringLiteral("env:A"),
                                    QStringLiteral("env:_a1"),
                                    QStringLiteral("env:1A"),
                                    QStringLiteral("env:A-B"),
                                    QStringLiteral("env:"),
                                    QStringLiteral("keychain:idp-breaker"),
                                    QStringLiteral("keychain:a@b/c:d+e"),
                                    QStringLiteral("keychain:-x"),
                                    QStringLiteral("keychain:a b"),
                                    QStringLiteral("keychain:"),
                                    QStringLiteral("file:/x"),
                                    QStringLiteral("file:/"),
                                    QStringLiteral("file:/a b/ü"),
                                    QStringLiteral("file:x"),
                                    QStringLiteral("file:"),
                                    QStringLiteral("File:/x"),
                                    QStringLiteral("s3cr3t"),
                                    QStringLiteral("")}});
        rows.push_back({"proxy",
                        QStringLiteral("a2a"),
                        QStringLiteral("proxy"),
                        QStringList{QStringLiteral("http://proxy:3128"),
                                    QStringLiteral("socks5://127.0.0.1:1080"),
                                    QStringLiteral("https://proxy:3128"),
                                    QStringLiteral("socks4://proxy:1080"),
                                    QStringLiteral("http://user:pw@proxy:3128")}});
        rows.push_back({"package",
                        QStringLiteral("opa"),
                        QStringLiteral("package"),
                        QStringList{QStringLiteral("breaker"),
                                    QStringLiteral("breaker/killswitch"),
                                    QStringLiteral("a.b_c"),
                                    QStringLiteral("1breaker"),
                                    QStringLiteral("breaker/"),
                                    QStringLiteral("/breaker"),
                                    QStringLiteral("")}});
        rows.push_back({"stop_method",
                        QStringLiteral("cf"),
                        QStringLiteral("stop_method"),
                        QStringList{QStringLiteral("stop"),
                                    QStringLiteral("$stop_1"),
                                    QStringLiteral("stop()"),
                                    QStringLiteral("1stop")}});
        rows.push_back({"stripe_version",
                        QStringLiteral("stripe"),
                        QStringLiteral("stripe_version"),
                        QStringList{QStringLiteral("2026-10-28.endive"),
                                    QStringLiteral("2024-06-20"),
                                    QStringLiteral("2024-6-20"),
                                    QStringLiteral("latest")}});
        return rows;
    }();
    return table;
}

} // namespace

// docs/schemas/profile.schema.json and the C++ validator must agree on what a valid profile is.
// Ajv (tests/peers/validate-json.mjs) runs the schema, validateProfile() the C++ rules, over every
// profile in tests/data/profiles and over variants of one field each. Node runs once for all.
class tst_ProfileSchema : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void testProfilesAgree();
    void fieldVariantsAgree_data();
    void fieldVariantsAgree();

private:
    static bool cppVerdict(const QString &file);
    static QString verdictName(bool valid)
    {
        return valid ? QStringLiteral("valid") : QStringLiteral("invalid");
    }

    QStringList m_testProfiles;
    QSet<QString> m_expectValid;
    std::vector<QStringList> m_variantFiles; // per variantRows() row, one file per value
    std::unique_ptr<QTemporaryDir> m_variantDir;
    QHash<QString, bool> m_schema; // file -> the schema's verdict
};

void tst_ProfileSchema::initTestCase()
{
    BREAKER_REQUIRE_PEERS();
    QVERIFY2(QFileInfo::exists(Test::peersDir() + QStringLiteral("/node_modules/ajv")),
             "tests/peers/node_modules has no ajv: run npm ci in tests/peers");
    const QString schema = QStringLiteral(BREAKER_SOURCE_DIR "/docs/schemas/profile.schema.json");
    QVERIFY(QFile::exists(schema));

    const QString root = QStringLiteral(BREAKER_TEST_DATA_DIR "/profiles");
    for (const QString &dir : {QStringLiteral("valid"), QStringLiteral("invalid")}) {
        const QDir d(root + u'/' + dir);
        for (const QString &name :
             d.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
            m_testProfiles << d.filePath(name);
            if (dir == u"valid")
                m_expectValid.insert(d.filePath(name));
        }
    }
    QVERIFY(m_testProfiles.size() > 20);

    const QByteArray base = R"({"version": 1, "name": "variants", "providers": {
        "a2a": {"layer": "runtime", "kind": "a2a", "url": "https://agents.example"},
        "cf": {"layer": "runtime", "kind": "cloudflare-agents", "url": "wss://agents.example"},
        "idp": {"layer": "identity", "kind": "oauth2", "issuer": "https://login.example", "client_id": "b"},
        "stripe": {"layer": "payment", "kind": "stripe-issuing"},
        "opa": {"layer": "tools", "kind": "opa", "url": "http://127.0.0.1:8181"},
        "otlp": {"layer": "observability", "kind": "otlp", "listen": "127.0.0.1:4318"}}})";
    const QJsonObject baseObject = QJsonDocument::fromJson(base).object();
    QVERIFY(!baseObject.isEmpty());
    m_variantDir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_variantDir->isValid());
    QStringList allFiles = m_testProfiles;
    for (size_t r = 0; r < variantRows().size(); ++r) {
        const VariantRow &row = variantRows()[r];
        QStringList files;
        for (qsizetype i = 0; i < row.values.size(); ++i) {
            QJsonObject providers = baseObject.value(QStringLiteral("providers")).toObject();
            QJsonObject provider = providers.value(row.provider).toObject();
            QVERIFY(!provider.isEmpty());
            provider.insert(row.key, row.values.at(i));
            providers.insert(row.provider, provider);
            QJsonObject doc = baseObject;
            doc.insert(QStringLiteral("providers"), providers);
            const QString path = m_variantDir->filePath(
                QString::number(r) + u'-' + QString::number(i) + QStringLiteral(".json"));
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QVERIFY(f.write(QJsonDocument(doc).toJson()) > 0);
            files << path;
        }
        m_variantFiles.push_back(files);
        allFiles += files;
    }

    Test::PeerProcess node;
    QVERIFY2(node.startNode(QStringLiteral("validate-json.mjs"), QStringList{schema} + allFiles),
             qPrintable(node.failureReport()));
    QVERIFY2(node.waitForExit(90s), qPrintable(node.failureReport()));
    // Exit 1 is expected: some files are invalid. 2 is a usage error (e.g. the schema is broken).
    QVERIFY2(node.exitCode() == 1, qPrintable(node.failureReport()));
    for (const QString &line : node.stdoutLines()) {
        if (line.startsWith(QStringLiteral("ok "))) {
            m_schema.insert(line.mid(3), true);
        } else if (line.startsWith(QStringLiteral("invalid "))) {
            const QString rest = line.mid(8);
            for (const QString &f : allFiles)
                if (rest.startsWith(f + QStringLiteral(": ")))
                    m_schema.insert(f, false);
        }
    }
    QVERIFY2(m_schema.size() == allFiles.size(), qPrintable(node.failureReport()));
}

bool tst_ProfileSchema::cppVerdict(const QString &file)
{
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    return validateProfile(f.readAll(), file).profile.has_value();
}

void tst_ProfileSchema::testProfilesAgree()
{
    QSet<QString> beyondSeen;
    for (const QString &file : std::as_const(m_testProfiles)) {
        const bool cpp = cppVerdict(file);
        const bool schema = m_schema.value(file);
        const QString name = QFileInfo(file).fileName();
        QVERIFY2(cpp == m_expectValid.contains(file),
                 qPrintable(name + QStringLiteral(": the C++ validator says ") + verdictName(cpp)));
        if (beyondSchema().contains(name)) {
            beyondSeen.insert(name);
            QVERIFY2(schema,
                     qPrintable(name
                                + QStringLiteral(": the schema now refuses it; take "
                                                 "it off beyondSchema()")));
            continue;
        }
        QVERIFY2(schema == cpp,
                 qPrintable(name + QStringLiteral(": the schema says ") + verdictName(schema)
                            + QStringLiteral(", C++ says ") + verdictName(cpp)));
    }
    QCOMPARE(beyondSeen, beyondSchema());
}

void tst_ProfileSchema::fieldVariantsAgree_data()
{
    QTest::addColumn<int>("row");
    for (size_t i = 0; i < variantRows().size(); ++i)
        QTest::newRow(variantRows()[i].name) << int(i);
}

void tst_ProfileSchema::fieldVariantsAgree()
{
    QFETCH(int, row);
    const VariantRow &variants = variantRows()[size_t(row)];
    const QStringList &files = m_variantFiles.at(size_t(row));
    QCOMPARE(files.size(), variants.values.size());
    int accepted = 0;
    for (qsizetype i = 0; i < files.size(); ++i) {
        const bool cpp = cppVerdict(files.at(i));
        const bool schema = m_schema.value(files.at(i));
        accepted += cpp ? 1 : 0;
        QVERIFY2(schema == cpp,
                 qPrintable(variants.key + QStringLiteral(" = \"") + variants.values.at(i)
                            + QStringLiteral("\": the schema says ") + verdictName(schema)
                            + QStringLiteral(", C++ says ") + verdictName(cpp)));
    }
    // Each row holds values of both kinds, so agreement is never vacuous.
    QVERIFY(accepted > 0);
    QVERIFY(accepted < files.size());
}

QTEST_GUILESS_MAIN(tst_ProfileSchema)
#include "tst_profile_schema.moc"
