#pragma once

#include "models/Result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>
#include <vector>

namespace Breaker {

// The profile: one JSON file that points Breaker at real providers (DESIGN.md section 5,
// docs/PROFILE.md, docs/schemas/profile.schema.json). parseProfile() validates strictly:
// unknown keys, literal secrets and dangling references are errors, each naming the file, the
// JSON path and what is wrong.

// The layer ids of DESIGN.md section 1, in control-map order.
inline constexpr const char *kLayerIds[]
    = {"runtime", "identity", "data", "tools", "payment", "observability", "kill_switch"};

// A reference to a secret, never the secret itself.
struct SecretRef
{
    enum class Kind { Env, Keychain, File };
    Kind kind = Kind::Env;
    QString name; // variable name, keychain entry, or absolute file path

    QString toString() const; // "env:NAME", "keychain:NAME" or "file:PATH"
    friend bool operator==(const SecretRef &, const SecretRef &) = default;
};

// Parses "env:NAME", "keychain:NAME" or "file:/ABS/PATH". The error message never contains
// the text it was given (it may be a pasted secret).
Result<SecretRef> parseSecretRef(const QString &text);

struct ProviderConfig
{
    QString name;        // the key under "providers"
    QString layer;       // one of kLayerIds
    QString kind;        // a2a, langgraph, ..., otlp
    QUrl url;            // runtime/tools/payment kinds, langfuse
    QString listenHost;  // otlp: an IP address or "localhost" (IPv6 without brackets)
    int listenPort = -1; // otlp: 0..65535 (0 = pick a free port); -1 when not set
    QUrl issuer;         // identity kinds
    QString clientId;
    std::optional<SecretRef> clientSecret;
    std::optional<SecretRef> apiKey;
    std::optional<SecretRef> token; // otlp: the bearer token senders must present
    QString package;                // opa
    QString stopMethod;             // cloudflare-agents
    QString stripeVersion;          // stripe-issuing: the pinned Stripe-Version header
    std::optional<double> timeoutS;
    QString caFile; // as written; see caFilePath()
    QUrl proxy;

    // ca_file resolved against the profile's folder when it is relative.
    QString caFilePath(const QString &profileFilePath) const;
};

struct AgentConfig
{
    QString name; // the key under "agents"
    QString owner;
    QString runtimeProvider; // empty when the agent has no runtime row
    QString runtimeAgent;    // selector inside the runtime (card name, assistant id, ...)
    QStringList principals;
    QString identityProvider;
    std::optional<SecretRef> identityToken;
    QString identitySubject;  // the token's subject (user id) where an admin API needs it
    QString identityClientId; // the agent's OAuth client id, likewise
    QString paymentProvider;
    QStringList cards;
    QString toolsProvider;
    QStringList toolNames;
    std::optional<SecretRef> toolsKey; // the agent's own gateway key (LiteLLM virtual key)
    QStringList dataSources;
    std::optional<int> approvalTimeoutS;
    QString onTimeout = QStringLiteral("deny"); // "deny" or "approve"
    QStringList otelNames;
    bool canary = false;
};

struct Retention
{
    std::optional<int> eventsDays;
    std::optional<qint64> maxEvents;
};

// The audit trail's sealing (DESIGN.md section 7; docs/AUDIT.md).
struct AuditSettings
{
    // Where the Ed25519 signing key lives: keychain:NAME or file:/ABS/PATH (never env:).
    // Not set: the OS keychain, under the profile's name.
    std::optional<SecretRef> signingKey;
    // How long the console keeps records locally after they were exported; not set: forever.
    std::optional<int> keepAfterExportDays;
};

// USD per million tokens.
struct ModelPrice
{
    QString model;
    double input = 0;
    double output = 0;
};

// One row of an agent's control map as the profile binds it.
struct LayerBinding
{
    QString layer;    // one of kLayerIds
    QString provider; // profile provider name; empty for data, kill_switch and unbound rows
    bool configured = false;
};

struct Profile
{
    QString filePath;
    int version = 1;
    QString name;
    QString operatorName; // "operator": the person at this console (empty: the OS user)
    std::vector<ProviderConfig> providers; // in file order
    std::vector<AgentConfig> agents;       // in file order
    Retention retention;
    AuditSettings audit;
    std::vector<ModelPrice> prices; // in file order

    const ProviderConfig *provider(const QString &name) const;
    const AgentConfig *agent(const QString &name) const;
    // The agent whose name, or one of whose otel_names, equals gen_ai.agent.name.
    const AgentConfig *agentForOtelName(QByteArrayView name) const;
    // The first otlp provider: where Breaker receives telemetry. nullptr when there is none.
    const ProviderConfig *observabilityReceiver() const;
    const ModelPrice *price(const QString &model) const;
    // The seven rows of the agent's control map, in kLayerIds order.
    std::vector<LayerBinding> layersFor(const AgentConfig &agent) const;
};

// One problem found in a profile. `path` is a JSON path such as
// $.providers.idp.client_secret or $.agents["refund-agent"].approval.timeout_s.
struct ProfileIssue
{
    QString path;
    QString message;
    int line = 0;   // 1-based; 0 when unknown
    int column = 0; // 1-based, in characters

    // Error::where = "<file>: <path>"; the message ends with "[line L, column C]".
    Error toError(const QString &filePath) const;
};

struct ProfileValidation
{
    std::optional<Profile> profile;   // set only when there are no issues
    std::vector<ProfileIssue> issues; // every problem, in document order
};

// Every problem in the document, in document order.
ProfileValidation validateProfile(const QByteArray &json, const QString &filePath);
// The profile, or the first problem in document order.
Result<Profile> parseProfile(const QByteArray &json, const QString &filePath);
Result<Profile> loadProfile(const QString &filePath);

} // namespace Breaker
