#include "models/Profile.h"

#include <QDir>
#include <QFile>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace Breaker;

namespace {

QString profilesDir()
{
    return QStringLiteral(BREAKER_TEST_DATA_DIR "/profiles");
}

QString invalidFile(const QString &name)
{
    return profilesDir() + QStringLiteral("/invalid/") + name + QStringLiteral(".json");
}

QString validFile(const QString &name)
{
    return profilesDir() + QStringLiteral("/valid/") + name + QStringLiteral(".json");
}

Profile loadValid(const QString &name)
{
    Result<Profile> r = loadProfile(validFile(name));
    if (!r)
        qWarning() << r.error().where << r.error().message;
    return r ? *r : Profile{};
}

QStringList jsonFilesIn(const QString &dir)
{
    return QDir(dir).entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
}

} // namespace

class tst_Profile : public QObject
{
    Q_OBJECT
private slots:
    void invalidProfiles_data();
    void invalidProfiles();
    void everyInvalidFileHasAnExpectation();
    void everyValidFileLoads();

    void designExample();
    void sandboxMinimal();
    void everyKey();
    void layersForAnAgentWithOnlyPayment();
    void agentForOtelName();

    void collectsEveryIssueInDocumentOrder();
    void providersMayFollowAgents();
    void secretFieldsNeverEchoTheirValue();
    void secretRefs_data();
    void secretRefs();
    void syntaxErrors_data();
    void syntaxErrors();
    void deepNestingIsRefusedNotACrash();
    void missingFile();

private:
    QSet<QString> m_covered;
};

void tst_Profile::invalidProfiles_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("fragment");
    QTest::addColumn<QString>("secret"); // text that must appear nowhere in the error

    auto row
        = [](const char *file, const char *path, const char *fragment, const char *secret = "") {
              QTest::newRow(file) << QString::fromUtf8(file) << QString::fromUtf8(path)
                                  << QString::fromUtf8(fragment) << QString::fromUtf8(secret);
          };
    row("unknown-top-level-key",
        "$.providres",
        R"(unknown key "providres" (did you mean "providers"?))");
    row("provider-key-typo", "$.providers.a2a.urll", R"(unknown key "urll" (did you mean "url"?))");
    row("missing-url",
        "$.providers.a2a.url",
        R"(required key "url" is missing (kind a2a needs it))");
    row("missing-name", "$.name", R"(required key "name" is missing)");
    row("missing-client-id", "$.providers.idp.client_id", R"(required key "client_id" is missing)");
    row("timeout-not-a-number", "$.providers.a2a.timeout_s", "expected a number, found a string");
    row("approval-timeout-not-integer",
        R"($.agents["refund-agent"].approval.timeout_s)",
        "expected an integer, found a number");
    row("agents-not-object", "$.agents", "expected an object, found an array");
    row("version-string", "$.version", "expected an integer, found a string");
    row("canary-not-bool",
        R"($.agents["refund-agent"].canary)",
        "expected true or false, found a string");
    row("bad-layer",
        "$.providers.a2a.layer",
        R"(unknown layer "runtme" (did you mean "runtime"?))");
    row("kind-layer-mismatch",
        "$.providers.a2a.kind",
        R"(kind "a2a" belongs to layer "runtime", not "tools")");
    row("unknown-kind",
        "$.providers.x.kind",
        R"(unknown kind "snowflake" (no provider kind exists for layer "data" yet))");
    row("key-of-other-kind",
        "$.providers.a2a.listen",
        R"(key "listen" does not apply to kind "a2a" (it is for: otlp))");
    row("bad-url-scheme", "$.providers.opa.url", R"(URL scheme "ftp" is not allowed here)");
    row("url-without-host", "$.providers.a2a.url", "URL has no host");
    row("url-bad-port", "$.providers.a2a.url", R"(bad host or port "agents.example:99999")");
    row("websocket-url-for-a2a",
        "$.providers.a2a.url",
        R"(URL scheme "wss" is not allowed here (use https or http))");
    row("credentials-in-url",
        "$.providers.a2a.url",
        "credentials in a URL are refused",
        "Sup3rS3cretPw");
    row("http-issuer", "$.providers.idp.issuer", "an issuer must use https");
    row("literal-secret",
        "$.providers.idp.client_secret",
        "literal secret refused: use env:, keychain: or file:",
        "Literal-Secret-Value-Qz81x");
    row("literal-secret-agent-token",
        R"($.agents["refund-agent"].identity.token)",
        "literal secret refused: use env:, keychain: or file:",
        "eyJhbGciOiJSUzI1NiJ9");
    row("bad-env-name",
        "$.providers.stripe.api_key",
        "env: reference needs a variable name",
        "1STRIPE_RK");
    row("relative-file",
        "$.providers.otlp.token",
        "file: reference needs an absolute path",
        "secrets/otlp-token");
    row("listen-hostname",
        "$.providers.otlp.listen",
        R"("collector.example:4318" is not HOST:PORT)");
    row("listen-bad-ipv4", "$.providers.otlp.listen", R"("256.0.0.1:4318" is not HOST:PORT)");
    row("listen-port-range", "$.providers.otlp.listen", R"("127.0.0.1:65536" is not HOST:PORT)");
    row("provider-name-space", R"($.providers["my a2a"])", "a provider name must start with");
    row("unknown-provider-ref",
        R"($.agents["refund-agent"].runtime)",
        R"(unknown provider "a2x" (did you mean "a2a"?))");
    row("wrong-layer-ref",
        R"($.agents["refund-agent"].payment.provider)",
        R"(provider "idp" is on layer "identity", but payment needs a provider on layer "payment")");
    row("agent-key-typo",
        R"($.agents["refund-agent"].runtim)",
        R"(unknown key "runtim" (did you mean "runtime"?))");
    row("on-timeout-value",
        R"($.agents["refund-agent"].approval.on_timeout)",
        R"(on_timeout must be "deny" or "approve")");
    row("binding-without-provider",
        R"($.agents["refund-agent"].tools.provider)",
        R"(required key "provider" is missing)");
    row("otel-name-collision",
        R"($.agents["claims-agent"].otel_names[0])",
        R"(the name "refunds" already belongs to agent "refund-agent")");
    row("negative-price", R"($.prices["gpt-4o"].input)", "a price must not be negative");
    row("retention-negative", "$.retention.events_days", "must be between 0 and 2147483647");
    row("audit-key-env",
        "$.audit.signing_key",
        "the audit signing key is created on first use and stored: use keychain:NAME or "
        "file:PATH, not env:");
    row("audit-key-literal",
        "$.audit.signing_key",
        "literal secret refused: use env:, keychain: or file:",
        "MC4CAQAwBQYDK2VwBCIEIPlainKeyQx7");
    row("audit-key-typo",
        "$.audit.signing_keys",
        R"(unknown key "signing_keys" (did you mean "signing_key"?))");
    row("audit-keep-negative", "$.audit.keep_after_export_days", "must be between 0 and 2147483647");
    row("empty-name", "$.name", "must not be empty");
    row("version-2", "$.version", "unsupported profile version 2: this Breaker reads version 1");
    row("duplicate-key",
        "$.providers.otlp.listen",
        R"(duplicate key "listen" (first written at line 5))");
    row("not-json",
        "$",
        "not valid JSON: expected a value, found 'v' (byte offset 0) [line 1, column 1]");
    row("trailing-comma",
        "$",
        "not valid JSON: trailing comma before '}' (byte offset 148) [line 6, column 3]");
}

void tst_Profile::invalidProfiles()
{
    QFETCH(QString, file);
    QFETCH(QString, path);
    QFETCH(QString, fragment);
    QFETCH(QString, secret);
    m_covered.insert(file + QStringLiteral(".json"));

    const QString filePath = invalidFile(file);
    QVERIFY2(QFile::exists(filePath), qPrintable(filePath));
    const Result<Profile> r = loadProfile(filePath);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::Invalid);
    QCOMPARE(r.error().where, filePath + QStringLiteral(": ") + path);
    QVERIFY2(r.error().message.contains(fragment), qPrintable(r.error().message));
    QVERIFY2(r.error().message.contains(QStringLiteral("[line ")), qPrintable(r.error().message));
    if (!secret.isEmpty()) {
        // The file does hold the secret; the error must not repeat it.
        QFile f(filePath);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.readAll().contains(secret.toUtf8()));
        QVERIFY2(!r.error().message.contains(secret), qPrintable(r.error().message));
        QVERIFY(!r.error().where.contains(secret));
    }
}

void tst_Profile::everyInvalidFileHasAnExpectation()
{
    // Runs after invalidProfiles(): a file added without a row would never be checked.
    const QStringList files = jsonFilesIn(profilesDir() + QStringLiteral("/invalid"));
    QVERIFY(files.size() >= 15);
    for (const QString &f : files) {
        QVERIFY2(m_covered.contains(f), qPrintable(f + QStringLiteral(" has no row")));
        const ProfileValidation v = validateProfile(
            [&] {
                QFile file(profilesDir() + QStringLiteral("/invalid/") + f);
                return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
            }(),
            f);
        QVERIFY2(!v.profile.has_value(), qPrintable(f));
        QVERIFY2(!v.issues.empty(), qPrintable(f));
    }
}

void tst_Profile::everyValidFileLoads()
{
    const QStringList files = jsonFilesIn(profilesDir() + QStringLiteral("/valid"));
    QVERIFY(files.size() >= 3);
    for (const QString &f : files) {
        const Result<Profile> r = loadProfile(profilesDir() + QStringLiteral("/valid/") + f);
        QVERIFY2(r.ok(),
                 qPrintable(f + QStringLiteral(": ")
                            + (r ? QString()
                                 : r.error().where + QStringLiteral(" ") + r.error().message)));
    }
}

void tst_Profile::designExample()
{
    const Profile p = loadValid(QStringLiteral("design-example"));
    QCOMPARE(p.name, QStringLiteral("payments-prod"));
    QCOMPARE(p.version, 1);
    QCOMPARE(p.filePath, validFile(QStringLiteral("design-example")));
    QVERIFY(p.operatorName.isEmpty());

    QStringList names;
    for (const ProviderConfig &pc : p.providers)
        names << pc.name;
    QCOMPARE(names,
             (QStringList{QStringLiteral("a2a"),
                          QStringLiteral("cf"),
                          QStringLiteral("lg"),
                          QStringLiteral("idp"),
                          QStringLiteral("stripe"),
                          QStringLiteral("opa"),
                          QStringLiteral("otlp")}));

    const ProviderConfig *a2a = p.provider(QStringLiteral("a2a"));
    QVERIFY(a2a);
    QCOMPARE(a2a->layer, QStringLiteral("runtime"));
    QCOMPARE(a2a->url, QUrl(QStringLiteral("https://agents.example/a2a/jsonrpc")));
    QVERIFY(!a2a->timeoutS.has_value());

    const ProviderConfig *cf = p.provider(QStringLiteral("cf"));
    QCOMPARE(cf->url.scheme(), QStringLiteral("wss"));
    QCOMPARE(cf->stopMethod, QStringLiteral("stop"));

    const ProviderConfig *lg = p.provider(QStringLiteral("lg"));
    QVERIFY(lg->apiKey.has_value());
    QCOMPARE(*lg->apiKey, (SecretRef{SecretRef::Kind::Keychain, QStringLiteral("langgraph")}));

    const ProviderConfig *idp = p.provider(QStringLiteral("idp"));
    QCOMPARE(idp->issuer, QUrl(QStringLiteral("https://login.example")));
    QCOMPARE(idp->clientId, QStringLiteral("breaker"));
    QCOMPARE(idp->clientSecret->toString(), QStringLiteral("keychain:idp-breaker"));

    const ProviderConfig *stripe = p.provider(QStringLiteral("stripe"));
    QCOMPARE(*stripe->apiKey, (SecretRef{SecretRef::Kind::Env, QStringLiteral("STRIPE_RK")}));
    QVERIFY(stripe->url.isEmpty());

    const ProviderConfig *opa = p.provider(QStringLiteral("opa"));
    QCOMPARE(opa->url.port(), 8181);
    QCOMPARE(opa->package, QStringLiteral("breaker"));

    const ProviderConfig *otlp = p.observabilityReceiver();
    QVERIFY(otlp);
    QCOMPARE(otlp->name, QStringLiteral("otlp"));
    QCOMPARE(otlp->listenHost, QStringLiteral("127.0.0.1"));
    QCOMPARE(otlp->listenPort, 4318);
    QVERIFY(!otlp->token.has_value());

    QCOMPARE(p.agents.size(), size_t(1));
    const AgentConfig *agent = p.agent(QStringLiteral("refund-agent"));
    QVERIFY(agent);
    QCOMPARE(agent->owner, QStringLiteral("payments-oncall"));
    QCOMPARE(agent->runtimeProvider, QStringLiteral("a2a"));
    QVERIFY(agent->runtimeAgent.isEmpty());
    QCOMPARE(agent->principals, QStringList{QStringLiteral("user:ada@example.com")});
    QCOMPARE(agent->identityProvider, QStringLiteral("idp"));
    QCOMPARE(agent->identityToken->toString(), QStringLiteral("keychain:refund-agent-refresh"));
    QCOMPARE(agent->paymentProvider, QStringLiteral("stripe"));
    QCOMPARE(agent->cards, QStringList{QStringLiteral("ic_1Qx...")});
    QCOMPARE(agent->toolsProvider, QStringLiteral("opa"));
    QCOMPARE(agent->toolNames,
             (QStringList{QStringLiteral("stripe.refund"), QStringLiteral("zendesk.reply")}));
    QCOMPARE(agent->dataSources,
             (QStringList{QStringLiteral("zendesk.tickets"), QStringLiteral("billing.usage")}));
    QCOMPARE(agent->approvalTimeoutS, std::optional<int>(900));
    QCOMPARE(agent->onTimeout, QStringLiteral("deny"));
    QCOMPARE(agent->canary, false);

    // Every row of the control map is bound.
    const std::vector<LayerBinding> rows = p.layersFor(*agent);
    QCOMPARE(rows.size(), size_t(7));
    const QStringList expectedProviders = {QStringLiteral("a2a"),
                                           QStringLiteral("idp"),
                                           {},
                                           QStringLiteral("opa"),
                                           QStringLiteral("stripe"),
                                           QStringLiteral("otlp"),
                                           {}};
    for (size_t i = 0; i < rows.size(); ++i) {
        QCOMPARE(rows[i].layer, QString::fromLatin1(kLayerIds[i]));
        QCOMPARE(rows[i].provider, expectedProviders.at(qsizetype(i)));
        QVERIFY2(rows[i].configured, qPrintable(rows[i].layer));
    }
}

void tst_Profile::sandboxMinimal()
{
    const Profile p = loadValid(QStringLiteral("sandbox-minimal"));
    QCOMPARE(p.name, QStringLiteral("sandbox"));
    QVERIFY(!p.audit.signingKey); // no audit section: the OS keychain
    QVERIFY(!p.audit.keepAfterExportDays);
    QCOMPARE(p.observabilityReceiver()->listenPort, 0);
    const AgentConfig *agent = p.agent(QStringLiteral("usage-analyst"));
    QVERIFY(agent);
    QVERIFY(agent->runtimeProvider.isEmpty());
    QCOMPARE(agent->onTimeout, QStringLiteral("deny")); // the default
    QVERIFY(!agent->approvalTimeoutS.has_value());

    // Without runtime, identity, payment or tools nothing can be stopped: every row but
    // observability is TBD.
    for (const LayerBinding &row : p.layersFor(*agent)) {
        if (row.layer == u"observability") {
            QVERIFY(row.configured);
            QCOMPARE(row.provider, QStringLiteral("otlp"));
        } else {
            QVERIFY2(!row.configured, qPrintable(row.layer));
            QVERIFY(row.provider.isEmpty());
        }
    }
}

void tst_Profile::everyKey()
{
    const Profile p = loadValid(QStringLiteral("every-key"));
    QCOMPARE(p.operatorName, QStringLiteral("Ada Lovelace"));
    QCOMPARE(p.retention.eventsDays, std::optional<int>(30));
    QCOMPARE(p.retention.maxEvents, std::optional<qint64>(5000000));
    QCOMPARE(p.prices.size(), size_t(2));
    QVERIFY(p.price(QStringLiteral("claude-sonnet-4-5")));
    QCOMPARE(p.price(QStringLiteral("claude-sonnet-4-5"))->output, 15.0);
    QCOMPARE(p.price(QStringLiteral("gpt-4o-mini"))->input, 0.15);
    QVERIFY(!p.price(QStringLiteral("gpt-5")));
    QCOMPARE(p.audit.signingKey->kind, SecretRef::Kind::File);
    QCOMPARE(p.audit.signingKey->name, QStringLiteral("/home/ada/.config/breaker/audit-key.pem"));
    QCOMPARE(p.audit.keepAfterExportDays, std::optional<int>(90));

    const ProviderConfig *a2a = p.provider(QStringLiteral("a2a"));
    QCOMPARE(a2a->timeoutS, std::optional<double>(2.5));
    QCOMPARE(a2a->url.port(), 8443);
    QCOMPARE(a2a->apiKey->kind, SecretRef::Kind::File);
    QCOMPARE(a2a->apiKey->name, QStringLiteral("/run/user/1000/breaker/a2a-token"));
    QCOMPARE(a2a->proxy, QUrl(QStringLiteral("http://proxy.internal:3128")));
    QCOMPARE(a2a->caFilePath(QStringLiteral("/home/ada/.config/breaker/profile.json")),
             QStringLiteral("/home/ada/.config/breaker/certs/internal-ca.pem"));
    QCOMPARE(p.provider(QStringLiteral("core"))->proxy.scheme(), QStringLiteral("socks5"));
    QCOMPARE(p.provider(QStringLiteral("stripe"))->stripeVersion,
             QStringLiteral("2026-10-28.endive"));
    QCOMPARE(p.provider(QStringLiteral("opa"))->url.host(), QStringLiteral("::1"));
    QCOMPARE(p.provider(QStringLiteral("idp"))->issuer.path(), QStringLiteral("/realms/agents"));

    // The first otlp provider receives; an IPv6 listen address loses its brackets.
    const ProviderConfig *otlp = p.observabilityReceiver();
    QCOMPARE(otlp->name, QStringLiteral("otlp"));
    QCOMPARE(otlp->listenHost, QStringLiteral("::1"));
    QCOMPARE(otlp->listenPort, 4318);
    QCOMPARE(otlp->token->toString(), QStringLiteral("file:/etc/breaker/otlp-token"));
    QCOMPARE(p.provider(QStringLiteral("otlp2"))->listenPort, 65535);
    QCOMPARE(p.provider(QStringLiteral("langfuse"))->clientSecret->name,
             QStringLiteral("LANGFUSE_SECRET_KEY"));

    const AgentConfig *claims = p.agent(QStringLiteral("claims agent"));
    QVERIFY(claims);
    QCOMPARE(claims->runtimeProvider, QStringLiteral("lg"));
    QCOMPARE(claims->runtimeAgent, QStringLiteral("claims_graph"));
    QCOMPARE(claims->onTimeout, QStringLiteral("approve"));
    QCOMPARE(claims->approvalTimeoutS, std::optional<int>(60));
    QVERIFY(claims->canary);
    QCOMPARE(claims->identityToken->toString(), QStringLiteral("file:/run/user/1000/breaker/claims-refresh"));
    QCOMPARE(claims->identitySubject, QStringLiteral("00u1abc"));
    QCOMPARE(claims->identityClientId, QStringLiteral("0oa2agent"));
    QCOMPARE(claims->toolsProvider, QStringLiteral("litellm"));
    QCOMPARE(claims->toolsKey->toString(), QStringLiteral("env:CLAIMS_LITELLM_KEY"));
    QCOMPARE(p.provider(QStringLiteral("okta"))->apiKey->toString(), QStringLiteral("env:OKTA_API_TOKEN"));
    QVERIFY(!p.agent(QStringLiteral("email"))->identityToken.has_value());
    QCOMPARE(p.agent(QStringLiteral("email"))->runtimeAgent, QStringLiteral("EmailAgent/default"));
}

void tst_Profile::layersForAnAgentWithOnlyPayment()
{
    const QByteArray json = R"({"version": 1, "name": "p",
        "providers": {"stripe": {"layer": "payment", "kind": "stripe-issuing", "api_key": "env:K"}},
        "agents": {"spender": {"payment": {"provider": "stripe"}}}})";
    const Result<Profile> p = parseProfile(json, QStringLiteral("p.json"));
    QVERIFY(p.ok());
    QVERIFY(!p->observabilityReceiver());
    QStringList configured;
    for (const LayerBinding &row : p->layersFor(*p->agent(QStringLiteral("spender"))))
        if (row.configured)
            configured << row.layer + u'=' + row.provider;
    // No otlp provider: observability is TBD; a card to freeze is enough for a kill switch.
    QCOMPARE(configured,
             (QStringList{QStringLiteral("payment=stripe"), QStringLiteral("kill_switch=")}));
}

void tst_Profile::agentForOtelName()
{
    const QByteArray json = R"({"version": 1, "name": "p", "agents": {
        "refund-agent": {"otel_names": ["refunds", "Rückerstattung"]},
        "claims": {}}})";
    const Result<Profile> p = parseProfile(json, QStringLiteral("p.json"));
    QVERIFY2(p.ok(), p ? "" : qPrintable(p.error().message));
    QCOMPARE(p->agentForOtelName("refund-agent")->name, QStringLiteral("refund-agent"));
    QCOMPARE(p->agentForOtelName("refunds")->name, QStringLiteral("refund-agent"));
    QCOMPARE(p->agentForOtelName(QByteArray("R\xc3\xbc"
                                            "ckerstattung"))
                 ->name,
             QStringLiteral("refund-agent"));
    QCOMPARE(p->agentForOtelName("claims")->name, QStringLiteral("claims"));
    QVERIFY(!p->agentForOtelName("Refunds"));
    QVERIFY(!p->agentForOtelName("refund"));
    QVERIFY(!p->agentForOtelName(""));
}

void tst_Profile::collectsEveryIssueInDocumentOrder()
{
    const QByteArray json = "{\n"
                            "  \"version\": 1,\n"
                            "  \"agents\": {\"a\": {\"runtime\": \"nope\"}},\n"
                            "  \"providers\": {\n"
                            "    \"idp\": {\"layer\": \"identity\", \"kind\": \"oauth2\",\n"
                            "            \"issuer\": \"https://login.example\",\n"
                            "            \"clientid\": \"breaker\"}\n"
                            "  }\n"
                            "}\n";
    const ProfileValidation v = validateProfile(json, QStringLiteral("x.json"));
    QVERIFY(!v.profile.has_value());
    QStringList got;
    for (const ProfileIssue &i : v.issues)
        got << QString::number(i.line) + u' ' + i.path;
    QCOMPARE(got,
             (QStringList{QStringLiteral("3 $.agents.a.runtime"),
                          QStringLiteral("7 $.providers.idp.clientid"),
                          QStringLiteral("7 $.providers.idp.client_id"),
                          QStringLiteral("9 $.name")}));
    QVERIFY(v.issues[1].message.contains(QStringLiteral("did you mean \"client_id\"")));
    QCOMPARE(v.issues[1].column, 13);
    // parseProfile reports the first of them.
    const Result<Profile> r = parseProfile(json, QStringLiteral("x.json"));
    QCOMPARE(r.error().where, QStringLiteral("x.json: $.agents.a.runtime"));
    QCOMPARE(r.error().message,
             QStringLiteral("unknown provider \"nope\": it must be a key of $.providers "
                            "[line 3, column 31]"));
}

void tst_Profile::providersMayFollowAgents()
{
    const QByteArray json = R"({"agents": {"a": {"runtime": "rt"}}, "name": "n",
        "providers": {"rt": {"layer": "runtime", "kind": "agentcore", "url": "https://x.example"}},
        "version": 1})";
    const Result<Profile> r = parseProfile(json, QStringLiteral("p.json"));
    QVERIFY2(r.ok(), r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->agents.front().runtimeProvider, QStringLiteral("rt"));
}

void tst_Profile::secretFieldsNeverEchoTheirValue()
{
    // Whatever is wrong with a secret field, its value stays out of the message.
    const QString secret = QStringLiteral("hunter2-Zx9");
    const QStringList values = {secret,
                                QStringLiteral("env:") + secret + QStringLiteral("!"),
                                QStringLiteral("file:") + secret,
                                QStringLiteral("keychain:") + secret + QStringLiteral(" x")};
    for (const QString &value : values) {
        const QByteArray json
            = QByteArrayLiteral(R"({"version": 1, "name": "p", "providers": {"o": {"layer": )"
                                R"("observability", "kind": "otlp", "listen": "127.0.0.1:1", )"
                                R"("token": ")")
              + value.toUtf8() + QByteArrayLiteral("\"}}}");
        const ProfileValidation v = validateProfile(json, QStringLiteral("p.json"));
        QCOMPARE(v.issues.size(), size_t(1));
        QCOMPARE(v.issues.front().path, QStringLiteral("$.providers.o.token"));
        QVERIFY2(!v.issues.front().message.contains(secret), qPrintable(v.issues.front().message));
    }
}

void tst_Profile::secretRefs_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("canonical");
    QTest::newRow("env") << QStringLiteral("env:STRIPE_RK") << true
                         << QStringLiteral("env:STRIPE_RK");
    QTest::newRow("env underscore")
        << QStringLiteral("env:_X1") << true << QStringLiteral("env:_X1");
    QTest::newRow("env digit first") << QStringLiteral("env:1X") << false << QString();
    QTest::newRow("env dash") << QStringLiteral("env:MY-KEY") << false << QString();
    QTest::newRow("env empty") << QStringLiteral("env:") << false << QString();
    QTest::newRow("keychain") << QStringLiteral("keychain:idp-breaker") << true
                              << QStringLiteral("keychain:idp-breaker");
    QTest::newRow("keychain space") << QStringLiteral("keychain:a b") << false << QString();
    QTest::newRow("file") << QStringLiteral("file:/run/secrets/x") << true
                          << QStringLiteral("file:/run/secrets/x");
    QTest::newRow("file relative") << QStringLiteral("file:x") << false << QString();
    QTest::newRow("file tilde") << QStringLiteral("file:~/x") << false << QString();
    QTest::newRow("literal") << QStringLiteral("sk_test_123") << false << QString();
    QTest::newRow("uppercase prefix") << QStringLiteral("ENV:X") << false << QString();
    QTest::newRow("empty") << QString() << false << QString();
}

void tst_Profile::secretRefs()
{
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QString, canonical);
    const Result<SecretRef> r = parseSecretRef(text);
    QCOMPARE(r.ok(), ok);
    if (ok)
        QCOMPARE(r->toString(), canonical);
    else if (text.size() > 9) // longer than any prefix: the rest must not be quoted back
        QVERIFY(!r.error().message.contains(text.mid(text.indexOf(u':') + 1)));
}

void tst_Profile::syntaxErrors_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("fragment");
    QTest::newRow("empty") << QByteArray() << QStringLiteral("expected a value, found the end");
    QTest::newRow("unterminated string")
        << QByteArray("{\"version\": \"1") << QStringLiteral("unterminated string");
    QTest::newRow("single quotes")
        << QByteArray("{'version': 1}") << QStringLiteral("expected a key in double quotes");
    QTest::newRow("comment") << QByteArray("{\n// hi\n}")
                             << QStringLiteral("found '/' (byte offset 2) [line 2, column 1]");
    QTest::newRow("leading zero") << QByteArray("{\"version\": 01}")
                                  << QStringLiteral("leading zeros");
    QTest::newRow("two documents") << QByteArray("{} {}") << QStringLiteral("after the end");
    QTest::newRow("bad utf8") << QByteArray("{\"name\": \"\xff\"}")
                              << QStringLiteral("invalid UTF-8");
    QTest::newRow("overlong utf8")
        << QByteArray("{\"name\": \"\xc0\xaf\"}") << QStringLiteral("invalid UTF-8");
    QTest::newRow("lone surrogate")
        << QByteArray("{\"name\": \"\\ud800\"}") << QStringLiteral("unpaired UTF-16 surrogate");
    QTest::newRow("bom") << QByteArray("\xef\xbb\xbf{}") << QStringLiteral("byte order mark");
    QTest::newRow("huge number") << QByteArray("{\"version\": 1e999}")
                                 << QStringLiteral("number out of range");
}

void tst_Profile::syntaxErrors()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, fragment);
    const Result<Profile> r = parseProfile(json, QStringLiteral("s.json"));
    QVERIFY(!r.ok());
    QCOMPARE(r.error().where, QStringLiteral("s.json: $"));
    QVERIFY2(r.error().message.startsWith(QStringLiteral("not valid JSON: ")),
             qPrintable(r.error().message));
    QVERIFY2(r.error().message.contains(fragment), qPrintable(r.error().message));
}

void tst_Profile::deepNestingIsRefusedNotACrash()
{
    const QByteArray json = "{\"version\": 1, \"name\": " + QByteArray(100000, '[');
    const Result<Profile> r = parseProfile(json, QStringLiteral("deep.json"));
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.contains(QStringLiteral("nested too deeply")),
             qPrintable(r.error().message));

    // Escaped text and non-ASCII keys come through intact.
    const Result<Profile> ok = parseProfile(
        R"({"version": 1.0, "name": "caf\u00e9 \ud83d\ude80 \"q\"", "agents": {"Agent é": {}}})",
        QStringLiteral("p.json"));
    QVERIFY2(ok.ok(), ok ? "" : qPrintable(ok.error().message));
    QCOMPARE(ok->name, QStringLiteral("café 🚀 \"q\""));
    QVERIFY(ok->agent(QStringLiteral("Agent é")));
}

void tst_Profile::missingFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("nope.json"));
    const Result<Profile> r = loadProfile(path);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::NotFound);
    QCOMPARE(r.error().where, path);
    QVERIFY(r.error().message.startsWith(QStringLiteral("cannot read the profile")));
}

QTEST_APPLESS_MAIN(tst_Profile)
#include "tst_profile.moc"
