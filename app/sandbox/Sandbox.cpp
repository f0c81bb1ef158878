#include "app/sandbox/Sandbox.h"

#include "BreakerVersion.h"
#include "app/sandbox/A2aHost.h"
#include "app/sandbox/OtlpSender.h"
#include "app/sandbox/ProviderGate.h"
#include "app/sandbox/fakes/OAuthFake.h"
#include "app/sandbox/fakes/OpaFake.h"
#include "app/sandbox/fakes/StripeFake.h"
#include "app/sandbox/SandboxFleet.h"
#include "app/sandbox/SandboxProfile.h"
#include "app/sandbox/SandboxRuntimeFolder.h"
#include "models/Logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QTcpServer>

#include <algorithm>

namespace Breaker {

namespace {

constexpr double kDefaultBurstRatePerMinute = 12000.0; // per agent: 200 runs a second
constexpr double kBurstDurationScale = 0.02;           // a 5 s run takes 100 ms

// A secret the sandbox's profile refers to: a file only its owner can read (mode 0600).
Result<QString> writeSecretFile(const QString &path, const QByteArray &secret)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(secret);
    if (!file.commit())
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return QString(QStringLiteral("file:") + QFileInfo(path).absoluteFilePath());
}

QByteArray randomSecret(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), bytes / 4);
    return raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray jsonString(const QString &text)
{
    const QByteArray array = QJsonDocument(QJsonArray{text}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2);
}

QString listenOf(const QUrl &endpoint)
{
    const int port = endpoint.port(endpoint.scheme() == QLatin1String("https") ? 443 : 80);
    const QString host = endpoint.host();
    const bool ipv6 = host.contains(QLatin1Char(':'));
    return (ipv6 ? QLatin1Char('[') + host + QLatin1Char(']') : host) + QLatin1Char(':')
           + QString::number(port);
}

} // namespace

Sandbox::Sandbox(SandboxOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{
    connect(&m_progress, &QTimer::timeout, this, &Sandbox::logProgress);
}

Sandbox::~Sandbox()
{
    qDeleteAll(m_hosts); // before the fleet they drive
    m_hosts.clear();
    delete m_fleet; // before the sender its span handler feeds
    m_fleet = nullptr;
    delete m_sender;
    m_sender = nullptr;
}

Result<quint16> Sandbox::pickFreeLoopbackPort()
{
    // A port picked now is bound later (by the console, or by a test's listener). One the OS
    // handed out for port 0 would be free for the OS to hand out again meanwhile — to one of the
    // sandbox's own providers, which bind port 0 right after (seen in CI: the OTLP sender
    // talking to the OAuth server). So pick below the ephemeral range, where the OS never
    // assigns ports by itself; only when none is free there, ask for one.
    int ephemeralLow = 32768;
    if (QFile range(QStringLiteral("/proc/sys/net/ipv4/ip_local_port_range")); range.open(QIODevice::ReadOnly)) {
        bool ok = false;
        const int low = range.readAll().simplified().split(' ').value(0).toInt(&ok);
        if (ok && low > 1024)
            ephemeralLow = low;
    }
    const int from = std::max(1025, std::min(20000, ephemeralLow - 1000));
    for (int attempt = 0; attempt < 64 && ephemeralLow - from > 0; ++attempt) {
        const quint16 candidate = quint16(from + int(QRandomGenerator::global()->bounded(ephemeralLow - from)));
        QTcpServer probe;
        if (probe.listen(QHostAddress::LocalHost, candidate)) {
            probe.close();
            return candidate;
        }
    }
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return makeError(
            Error::Kind::Unavailable,
            QStringLiteral("cannot find a free port on 127.0.0.1: %1").arg(server.errorString()));
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

QString Sandbox::runtimeFolder() const
{
    return m_folder ? m_folder->path() : QString();
}

QUrl Sandbox::otlpTracesUrl() const
{
    return Breaker::otlpTracesUrl(m_endpoint);
}

QStringList Sandbox::agentNames() const
{
    return m_fleet ? m_fleet->agentNames() : QStringList();
}

Result<void> Sandbox::start()
{
    if (m_fleet)
        return makeError(Error::Kind::Internal, QStringLiteral("the sandbox is already running"));

    auto folder = m_runtimeDirSet ? SandboxRuntimeFolder::create(m_runtimeDir)
                                  : SandboxRuntimeFolder::createDefault();
    if (!folder)
        return folder.error();
    m_folder = std::move(*folder);

    if (m_options.otlpEndpoint.isEmpty()) {
        auto port = pickFreeLoopbackPort();
        if (!port)
            return port.error();
        m_endpoint = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(*port));
    } else {
        m_endpoint = m_options.otlpEndpoint;
    }

    std::vector<AgentSpec> agents = defaultSandboxAgents();
    m_profilePath = m_options.profileOut.isEmpty()
                        ? m_folder->filePath(QStringLiteral("profile.json"))
                        : QFileInfo(m_options.profileOut).absoluteFilePath();

    m_seed = m_options.seedGiven ? m_options.seed : QRandomGenerator::system()->generate64();
    FleetConfig fleetConfig;
    fleetConfig.ratePerMinute = m_options.rateGiven ? m_options.ratePerMinute
                                : m_options.burst   ? kDefaultBurstRatePerMinute
                                                    : m_options.ratePerMinute;
    fleetConfig.durationScale = m_options.burst ? kBurstDurationScale : 1.0;
    fleetConfig.speed = m_speed;
    fleetConfig.seed = m_seed;

    OtlpSenderConfig senderConfig;
    senderConfig.url = otlpTracesUrl();
    senderConfig.format = m_options.format;
    senderConfig.batchWindowMs = m_options.burst ? 100 : 150;
    senderConfig.maxBatchSpans = 512;

    m_sender = new OtlpSender(senderConfig);
    m_fleet = new SandboxFleet(std::move(agents), fleetConfig);
    std::vector<int> resources;
    for (int i = 0; i < m_fleet->agentCount(); ++i) {
        resources.push_back(m_sender->addResource(m_fleet->agent(i).resourceAttributes(),
                                                  QByteArrayLiteral("breaker.sandbox"),
                                                  QByteArrayLiteral(BREAKER_VERSION)));
    }
    OtlpSender *sender = m_sender;
    m_fleet->setSpanHandler([sender, resources](int agent, Otlp::OutSpan &&span) {
        sender->enqueue(resources[size_t(agent)], std::move(span));
    });
    m_fleet->setThrottle([sender] { return sender->isBehind(); });

    // Each agent's A2A origin. Between them they cover both dialects and both bindings: refund
    // and claims speak v1.0 and v0.3 (a2a-js with legacy compat; refund prefers JSON-RPC, claims
    // HTTP+JSON), email is an older v0.3-only JSON-RPC deployment, the analyst v0.3-only REST.
    QHash<QString, QString> a2aUrls;
    for (int i = 0; i < m_fleet->agentCount(); ++i) {
        A2aInterfaces ifaces;
        switch (m_fleet->agent(i).role) {
        case AgentRole::Refunds:
            break;
        case AgentRole::Claims:
            ifaces.restFirst = true;
            break;
        case AgentRole::Email:
            ifaces.v1 = false;
            ifaces.rest = false;
            break;
        case AgentRole::UsageAnalytics:
            ifaces.v1 = false;
            ifaces.jsonRpc = false;
            break;
        }
        auto *host = new A2aHost(m_fleet, i, ifaces, 2000, this);
        host->faults()->configure(m_options, QStringLiteral("runtime"));
        auto listening = host->listen();
        if (!listening) {
            delete host;
            qDeleteAll(m_hosts);
            m_hosts.clear();
            delete m_fleet;
            m_fleet = nullptr;
            delete m_sender;
            m_sender = nullptr;
            return listening.error();
        }
        m_hosts.append(host);
        a2aUrls.insert(QString::fromUtf8(m_fleet->agent(i).name), host->preferredUrl().toString());
    }
    QList<A2aHost *> hosts = m_hosts;
    m_fleet->setRunObserver([hosts](const SandboxFleet::RunNotice &notice) {
        hosts.at(notice.agentIndex)->onRunNotice(notice);
    });

    auto containment = startContainmentProviders();
    if (!containment) {
        qDeleteAll(m_hosts);
        m_hosts.clear();
        delete m_fleet;
        m_fleet = nullptr;
        delete m_sender;
        m_sender = nullptr;
        return containment.error();
    }
    const QByteArray profile = SandboxProfile::toJson(SandboxProfile::build(
        defaultSandboxAgents(), listenOf(m_endpoint), a2aUrls, containment.value()));
    auto written = SandboxProfile::write(m_profilePath, profile);
    if (!written) {
        qDeleteAll(m_hosts);
        m_hosts.clear();
        delete m_fleet;
        m_fleet = nullptr;
        delete m_sender;
        m_sender = nullptr;
        return written.error();
    }

    qCInfo(lcSandbox).nospace() << "sandbox started: profile " << m_profilePath << ", OTLP to "
                                << senderConfig.url.toDisplayString() << " ("
                                << otlpFormatName(m_options.format) << "), "
                                << fleetConfig.ratePerMinute << " runs/min per agent"
                                << (m_options.burst ? ", burst" : "") << ", seed " << m_seed;
    for (auto it = m_options.faults.cbegin(); it != m_options.faults.cend(); ++it)
        qCInfo(lcSandbox).nospace() << "fault injected into the " << it.key()
                                    << " provider: " << faultName(it.value());
    for (auto it = m_options.latencyMs.cbegin(); it != m_options.latencyMs.cend(); ++it)
        qCInfo(lcSandbox).nospace() << "latency added to the " << it.key() << " provider: " << it.value()
                                    << " ms";
    m_fleet->start();
    m_sinceProgress.start();
    if (m_progressIntervalMs > 0)
        m_progress.start(m_progressIntervalMs);
    return {};
}

Result<SandboxContainment> Sandbox::startContainmentProviders()
{
    SandboxContainment c;
    // The OAuth 2.0 server: Breaker's client, and one client and grant per agent.
    m_oauth = new OAuthFake(this);
    m_oauth->faults()->configure(m_options, QStringLiteral("identity"));
    if (auto l = m_oauth->listen(); !l)
        return l.error();
    const QByteArray breakerSecret = randomSecret(24);
    m_oauth->registerClient(QByteArrayLiteral("breaker"), breakerSecret);
    auto secretRef = writeSecretFile(m_folder->filePath(QStringLiteral("oauth-client-secret")), breakerSecret);
    if (!secretRef)
        return secretRef.error();
    c.issuer = m_oauth->issuer().toString();
    c.auditKeyRef = QStringLiteral("file:") + m_folder->filePath(QStringLiteral("audit-signing-key.pem"));
    c.clientId = QStringLiteral("breaker");
    c.clientSecretRef = secretRef.value();

    // The Stripe-Issuing-shaped API: a cardholder and a card per agent.
    m_stripe = new StripeFake(this);
    m_stripe->faults()->configure(m_options, QStringLiteral("payment"));
    if (auto l = m_stripe->listen(); !l)
        return l.error();
    auto keyRef = writeSecretFile(m_folder->filePath(QStringLiteral("stripe-key")), m_stripe->apiKey());
    if (!keyRef)
        return keyRef.error();
    c.stripeUrl = m_stripe->baseUrl().toString();
    c.stripeKeyRef = keyRef.value();
    c.stripeVersion = QStringLiteral("2026-10-28.endive");

    // The tool gateway's OPA-shaped data and decision API.
    m_opa = new OpaFake(this);
    m_opa->faults()->configure(m_options, QStringLiteral("tools"));
    if (auto l = m_opa->listen(); !l)
        return l.error();
    c.opaUrl = m_opa->url().toString();

    ProviderGate::Endpoints endpoints;
    endpoints.tokenEndpoint = QUrl(c.issuer + QStringLiteral("/token"));
    endpoints.decisionUrl = QUrl(c.opaUrl + QStringLiteral("/v1/data/") + c.opaPackage
                                 + QStringLiteral("/killswitch/allow"));
    endpoints.stripeBase = m_stripe->baseUrl();
    endpoints.stripeKey = m_stripe->apiKey();
    m_gate = new ProviderGate(endpoints, this);
    for (int i = 0; i < m_fleet->agentCount(); ++i) {
        const AgentSpec &spec = m_fleet->agent(i);
        const QString name = QString::fromUtf8(spec.name);
        ProviderGate::AgentCredentials creds;
        creds.clientId = spec.name;
        creds.clientSecret = randomSecret(24);
        m_oauth->registerClient(creds.clientId, creds.clientSecret);
        const QByteArray subject = "agent:" + spec.name;
        creds.refreshToken = m_oauth->issueRefreshToken(creds.clientId, subject, QByteArrayLiteral("tools payments"));
        const QByteArray holder = m_stripe->createCardholder(QString::fromUtf8(spec.name));
        creds.cardId = m_stripe->createCard(holder, QString::fromUtf8(spec.currency));
        auto tokenRef = writeSecretFile(m_folder->filePath(name + QStringLiteral("-refresh-token")), creds.refreshToken);
        if (!tokenRef)
            return tokenRef.error();
        SandboxContainment::Agent a;
        a.tokenRef = tokenRef.value();
        a.subject = QString::fromUtf8(subject);
        a.clientId = name;
        a.cardId = QString::fromUtf8(creds.cardId);
        c.agents.insert(name, a);
        m_gate->setAgent(spec.name, creds);
        if (spec.canary)
            watchCanaryGrant(spec.name, creds, m_folder->filePath(name + QStringLiteral("-refresh-token")));
    }
    // Burst runs are a load test of ingest: their calls are not checked with the providers.
    if (!m_options.burst) {
        ProviderGate *gate = m_gate;
        SandboxFleet *fleet = m_fleet;
        m_fleet->setGate([gate, fleet](int agent, const RunPlan &, const PlannedSpan &span,
                                       std::function<void(SandboxRun::StepVerdict)> answer) {
            gate->check(fleet->agent(agent).name, span, std::move(answer));
        });
    }
    return c;
}

void Sandbox::watchCanaryGrant(const QByteArray &agent, const ProviderGate::AgentCredentials &credentials,
                               const QString &tokenFile)
{
    // A drill revokes the canary's grant like any stop. A while later its user delegates again
    // (a new refresh token, written where the profile's token reference points), so the fleet's
    // canary runs again and the next drill has something to stop. Other agents stay revoked.
    auto held = std::make_shared<ProviderGate::AgentCredentials>(credentials);
    connect(m_oauth, &OAuthFake::grantRevoked, this,
            [this, agent, held, tokenFile](const QByteArray &clientId, const QByteArray &subject) {
                if (clientId != agent || m_shuttingDown)
                    return;
                QTimer::singleShot(m_canaryRegrantMs, this, [this, agent, held, tokenFile, subject] {
                    if (m_shuttingDown)
                        return;
                    held->refreshToken = m_oauth->issueRefreshToken(agent, subject, QByteArrayLiteral("tools payments"));
                    if (auto written = writeSecretFile(tokenFile, held->refreshToken); !written) {
                        qCWarning(lcSandbox).noquote() << "canary" << agent << "got a new grant but"
                                                       << written.error().message;
                        return;
                    }
                    m_gate->setAgent(agent, *held);
                    qCInfo(lcSandbox).noquote() << "canary" << agent
                                                << "was revoked; its user delegated again (a new grant)";
                });
            });
}

void Sandbox::shutdown(int flushTimeoutMs)
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    m_progress.stop();
    if (!m_fleet) {
        QMetaObject::invokeMethod(
            this, [this] { emit finished(true); }, Qt::QueuedConnection);
        return;
    }
    logProgress();
    for (A2aHost *host : std::as_const(m_hosts))
        host->close();
    m_fleet->stop();
    connect(
        m_sender,
        &OtlpSender::flushed,
        this,
        [this](bool complete) {
            const OtlpSender::Stats s = m_sender->stats();
            qCInfo(lcSandbox).nospace()
                << "sandbox stopped: " << s.spansDelivered << " spans delivered, " << s.spansDropped
                << " dropped, " << s.spansRejected << " rejected"
                << (complete ? "" : " (flush deadline reached)");
            emit finished(complete);
        },
        Qt::SingleShotConnection);
    m_sender->flush(flushTimeoutMs);
}

QByteArray Sandbox::readyLine() const
{
    QByteArray agents;
    for (const QString &name : agentNames()) {
        if (!agents.isEmpty())
            agents += ", ";
        agents += jsonString(name);
    }
    QByteArray a2a;
    for (const A2aHost *host : m_hosts) {
        if (!a2a.isEmpty())
            a2a += ", ";
        a2a += jsonString(QString::fromUtf8(host->spec().name)) + ": "
               + jsonString(host->origin().toString()
                            + QStringLiteral("/.well-known/agent-card.json"));
    }
    return QByteArrayLiteral("READY {\"profile\": ") + jsonString(m_profilePath)
           + QByteArrayLiteral(", \"otlp_endpoint\": ") + jsonString(m_endpoint.toString())
           + QByteArrayLiteral(", \"agents\": [") + agents + QByteArrayLiteral("], \"a2a\": {")
           + a2a + QByteArrayLiteral("}}");
}

void Sandbox::logProgress()
{
    if (!m_fleet || !m_sender)
        return;
    const SandboxFleet::Stats f = m_fleet->stats();
    const OtlpSender::Stats s = m_sender->stats();
    const double seconds = std::max(m_sinceProgress.restart(), qint64(1)) / 1000.0;
    const double rate = double(s.spansDelivered - m_lastDelivered) / seconds;
    m_lastDelivered = s.spansDelivered;
    qCInfo(lcSandbox).nospace() << "runs " << f.runsStarted << " started, " << f.activeRuns
                                << " active (" << f.waitingApproval << " waiting approval), "
                                << f.runsSkipped << " skipped, " << f.runsThrottled
                                << " throttled; spans " << f.spansEnded << " ended, "
                                << s.spansDelivered << " delivered (" << qRound(rate) << "/s), "
                                << s.queuedSpans << " queued, " << s.spansDropped << " dropped, "
                                << s.spansRejected << " rejected";
}

} // namespace Breaker
