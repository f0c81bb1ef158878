#include "app/services/Engine.h"

#include "app/services/Paths.h"
#include "app/services/PriceTable.h"
#include "app/services/RunMonitor.h"
#include "app/services/LayerService.h"
#include "app/services/LeakWatch.h"
#include "app/services/RuntimeService.h"
#include "app/services/AuditConnectorEvents.h"
#include "app/services/AuditKeyStore.h"
#include "app/services/Operator.h"
#include "app/services/AuditSeal.h"
#include "app/services/StopDrill.h"
#include "app/services/StopSwitch.h"
#include "app/services/Secrets.h"
#include "app/services/Threads.h"
#include "connectors/observability/OtlpReceiver.h"
#include "models/Logging.h"
#include "models/Store.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QThreadPool>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Breaker {

namespace {

PriceTable pricesFor(const std::optional<Profile> &profile)
{
    PriceTable table = PriceTable::builtin();
    if (profile) {
        for (const ModelPrice &p : profile->prices)
            table.set(p.model.toUtf8(), PriceTable::Price{p.input, p.output});
    }
    return table;
}

} // namespace

Engine::Engine(QObject *parent)
    : QObject(parent)
{
}

Engine::~Engine()
{
    delete m_runtime; // no more runtime updates into the monitor
    m_runtime = nullptr;
    // Stop accepting before the monitor and the Store go: the receiver is deleted on its own
    // thread (its sockets belong to it); requests it was waiting on are answered 503.
    endOnItsThread(m_receiver, m_receiverThread);
    // Then the monitor, on its thread (its destructor flushes the Store's writer); the calls
    // still queued to it are dropped with it.
    endOnItsThread(m_monitor, m_monitorThread);
}

std::function<void(std::shared_ptr<Otlp::DecodeResult>, std::function<void(SinkVerdict)>)> Engine::spanSink() const
{
    RunMonitor *monitor = m_monitor;
    return [monitor](std::shared_ptr<Otlp::DecodeResult> batch, OtlpReceiver::Reply reply) {
        // On the receiver's thread: the spans go to the monitor's. If the monitor is gone before
        // this arrives, the event is dropped with the reply, and the client is answered 503.
        QMetaObject::invokeMethod(
            monitor,
            [monitor, batch = std::move(batch), reply = std::move(reply)] {
                monitor->ingestSpans(std::move(batch->spans), [reply](const Result<void> &result) {
                    if (result.ok()) {
                        reply(SinkVerdict::accepted());
                    } else if (result.error().kind == Error::Kind::DiskFull) {
                        reply(SinkVerdict::unavailable(30, QStringLiteral("the Store's disk is full")));
                    } else {
                        reply(SinkVerdict::unavailable(5, result.error().message));
                    }
                });
            },
            Qt::QueuedConnection);
    };
}

Result<void> Engine::start(const Options &options)
{
    m_profile = options.profile;

    // One engine per Store: the lock names the process that holds it.
    const QString runtime = Paths::runtimeDir();
    if (runtime.isEmpty()) {
        return makeError(Error::Kind::Unavailable, QStringLiteral("cannot create the runtime folder"),
                         QStringLiteral("engine"));
    }
    const QByteArray lockKey = QCryptographicHash::hash(
                                   QFileInfo(options.dbPath).absoluteFilePath().toUtf8(),
                                   QCryptographicHash::Sha256)
                                   .toHex()
                                   .left(16);
    m_lock = std::make_unique<QLockFile>(runtime + QStringLiteral("/engine-")
                                         + QString::fromLatin1(lockKey) + QStringLiteral(".lock"));
    m_lock->setStaleLockTime(0);
    if (!m_lock->tryLock(0)) {
        qint64 pid = 0;
        QString host, app;
        m_lock->getLockInfo(&pid, &host, &app);
        return makeError(Error::Kind::Conflict,
                         QStringLiteral("another engine (%1, pid %2) already runs on this Store; "
                                        "use it, or stop it first")
                             .arg(app.isEmpty() ? QStringLiteral("unknown program") : app,
                                  QString::number(pid)),
                         options.dbPath);
    }

    QDir().mkpath(QFileInfo(options.dbPath).absolutePath());
    auto store = Store::open(options.dbPath);
    if (!store)
        return store.error();
    m_store = store.value();

    // The RunMonitor correlates on a thread of its own (DESIGN.md section 3): at thousands of
    // spans a second its work would otherwise share the GUI thread with painting. Everything
    // else reaches it through queued calls (the receiver's sink, the runtime connectors'
    // updates, applyProfile) and hears from it through queued signals.
    m_monitor = new RunMonitor(m_store, pricesFor(m_profile));
    // Policy blocks, refused tokens and declined cards seen in telemetry go to the audit trail.
    // The filter runs on the monitor's thread (onEvents only picks events and hands them to
    // its own pool), so the events are not copied to the GUI thread for it.
    m_connectorEvents = new AuditConnectorEvents(m_store, telemetryProviderName(), this);
    connect(m_monitor, &RunMonitor::eventsCommitted, m_connectorEvents, &AuditConnectorEvents::onEvents,
            Qt::DirectConnection);
    m_monitorThread = new QThread;
    m_monitorThread->setObjectName(QStringLiteral("run-monitor"));
    m_monitor->moveToThread(m_monitorThread);
    m_monitorThread->start();

    OtlpReceiverOptions receiverOptions;
    receiverOptions.address = options.listenAddress;
    int port = options.listenPort;
    const ProviderConfig *otlp = m_profile ? m_profile->observabilityReceiver() : nullptr;
    if (otlp && port < 0) {
        if (!otlp->listenHost.isEmpty()) {
            const QString host = otlp->listenHost == QLatin1String("localhost")
                                     ? QStringLiteral("127.0.0.1")
                                     : otlp->listenHost;
            receiverOptions.address = QHostAddress(host);
        }
        port = otlp->listenPort;
    }
    receiverOptions.port = quint16(port < 0 ? 4318 : port);
    if (otlp && otlp->token) {
        auto token = resolveSecret(*otlp->token);
        if (!token) {
            return makeError(Error::Kind::Invalid, token.error().message,
                             QStringLiteral("providers.%1.token").arg(otlp->name));
        }
        receiverOptions.bearerToken = token.value();
    }
    // The receiver reads sockets and answers clients on a thread of its own, so that reading a
    // request body or answering a client never waits for the GUI thread (DESIGN.md section 3);
    // decoded spans come back to the RunMonitor on this thread.
    // It listens here, before it moves: its listening socket moves with it, and nothing waits
    // for the other thread (STYLE.md rule 5).
    m_receiver = new OtlpReceiver(receiverOptions);
    m_receiver->setSink(spanSink());
    if (m_profile)
        applyProfile(*m_profile);
    if (auto listening = m_receiver->listen(); !listening)
        return listening.error();
    m_receiverThread = new QThread;
    m_receiverThread->setObjectName(QStringLiteral("otlp-receiver"));
    m_receiver->moveToThread(m_receiverThread);
    m_receiverThread->start();
    // Retention for runs and events (never the audit trail), from the profile: at start and
    // every ten minutes, on a worker thread.
    m_retentionTimer.setInterval(10 * 60 * 1000);
    connect(&m_retentionTimer, &QTimer::timeout, this, &Engine::applyRetention);
    m_retentionTimer.start();
    // Signed checkpoints of the audit chain's head (DESIGN.md section 7): every few minutes, and
    // after each stop (below), so that an edit of the Store behind Breaker's back is caught.
    m_sealTimer.setInterval(5 * 60 * 1000);
    connect(&m_sealTimer, &QTimer::timeout, this, &Engine::sealAuditHead);
    m_sealTimer.start();
    applyRetention();
    qCInfo(lcMonitor).noquote() << "engine up: OTLP on" << otlpHostPort() << "Store" << options.dbPath;
    return {};
}

void Engine::applyProfile(const Profile &profile)
{
    m_profile = profile;
    recordProfileChange(profile);
    auto shared = std::make_shared<const Profile>(profile);
    // Queued to the monitor's thread, ahead of any span that arrives after this call.
    QMetaObject::invokeMethod(m_monitor, [monitor = m_monitor, shared, provider = telemetryProviderName().toUtf8()] {
        monitor->setAgentResolver([shared](QByteArrayView name) -> std::optional<QByteArray> {
            if (const AgentConfig *agent = shared->agentForOtelName(name))
                return agent->name.toUtf8();
            return std::nullopt;
        });
        monitor->setTelemetryProvider(provider);
    });
    if (!m_runtime)
        m_runtime = new RuntimeService(m_monitor, this);
    m_runtime->applyProfile(profile);
    if (!m_layers)
        m_layers = new LayerService(this);
    m_layers->applyProfile(profile);
    // A new switch sees the new profile; one still stopping something keeps running to its end
    // (it is a child of the engine).
    RuntimeService *runtime = m_runtime;
    LayerService *layers = m_layers;
    m_stopSwitch = new StopSwitch(
        m_store, profile, [runtime](const QByteArray &provider) { return runtime->connector(provider); },
        [layers](const QByteArray &provider) { return layers->connector(provider); }, this);
    if (!m_leakWatch)
        m_leakWatch = new LeakWatch(m_store, m_monitor, this);
    m_leakWatch->setLayers(layers);
    m_leakWatch->setProfile(profile);
    connect(m_stopSwitch, &StopSwitch::stopFinished, m_leakWatch, &LeakWatch::watch);
    connect(m_stopSwitch, &StopSwitch::stopFinished, this, &Engine::sealAuditHead);
    connect(m_stopSwitch, &StopSwitch::resumeFinished, m_leakWatch,
            [leaks = m_leakWatch](const StopOutcome &, const QList<QByteArray> &agents) { leaks->release(agents); });
    m_drill = new StopDrill(
        m_store, profile, m_stopSwitch, [runtime](const QByteArray &provider) { return runtime->connector(provider); },
        m_stopSwitch);
}

void Engine::recordProfileChange(const Profile &profile)
{
    // A profile change (DESIGN.md section 7, profile.changed): the file's SHA-256 differs from
    // the one the trail last recorded, whether it changed while Breaker ran or between runs.
    if (!m_store || profile.filePath.isEmpty())
        return;
    QFile file(profile.filePath);
    if (!file.open(QIODevice::ReadOnly))
        return;
    const QByteArray hash = sha256Hex(file.readAll());
    const QByteArray path = QFileInfo(profile.filePath).absoluteFilePath().toUtf8();
    // The newest profile.changed record says which profile, with which content, was in use.
    QString previous;
    if (auto last = m_store->lastAuditRecordContaining("\"action\":\"profile.changed\""); last.ok() && last.value()) {
        const QJsonObject record = QJsonDocument::fromJson(last.value()->line).object();
        const QString sha = record.value(QStringLiteral("detail")).toObject().value(QStringLiteral("sha256")).toString();
        if (record.value(QStringLiteral("target")).toObject().value(QStringLiteral("object")).toString().toUtf8() == path) {
            if (sha == QString::fromLatin1(hash))
                return;
            previous = sha;
        }
    }
    QJsonArray providers, agents;
    for (const ProviderConfig &p : profile.providers)
        providers.append(p.name);
    for (const AgentConfig &a : profile.agents)
        agents.append(a.name);
    AuditEntry e;
    e.actor = systemActor();
    e.action = QStringLiteral("profile.changed");
    e.target.object = QString::fromUtf8(path);
    e.outcome = QStringLiteral("applied");
    e.detail = QJsonObject{{QStringLiteral("sha256"), QString::fromLatin1(hash)},
                           {QStringLiteral("previous_sha256"), previous.isEmpty() ? QJsonValue() : QJsonValue(previous)},
                           {QStringLiteral("name"), profile.name},
                           {QStringLiteral("providers"), providers},
                           {QStringLiteral("agents"), agents}};
    if (auto a = m_store->appendAudit(e); !a.ok())
        qCWarning(lcAudit).noquote() << "profile change not audited:" << a.error().message;
}

void Engine::sealAuditHead()
{
    if (!m_store || !m_profile || m_sealing->exchange(true))
        return;
    // The key may come from the OS keychain over D-Bus: never on the GUI thread.
    QThreadPool::globalInstance()->start([store = m_store, profile = m_profile, busy = m_sealing] {
        auto key = loadAuditKey(profile);
        if (!key) {
            qCWarning(lcAudit).noquote() << "no checkpoint of the audit chain:" << key.error().message;
        } else if (auto sealed = Breaker::sealAuditHead(*store, key->signer); !sealed) {
            qCWarning(lcAudit).noquote() << "the audit chain head could not be sealed:" << sealed.error().message;
        } else if (sealed.value()) {
            qCInfo(lcAudit).noquote() << "audit checkpoint signed at seq" << sealed.value()->seq;
        }
        busy->store(false);
    });
}

void Engine::applyRetention()
{
    if (!m_profile || !m_store)
        return;
    RetentionPolicy policy;
    policy.maxAgeDays = m_profile->retention.eventsDays.value_or(0);
    policy.maxEvents = m_profile->retention.maxEvents.value_or(0);
    if (policy.maxAgeDays == 0 && policy.maxEvents == 0)
        return;
    auto store = m_store;
    QThreadPool::globalInstance()->start([store, policy] {
        auto removed = store->applyRetention(policy, QDateTime::currentMSecsSinceEpoch());
        if (!removed)
            qCWarning(lcStore) << "retention failed:" << removed.error().message;
        else if (removed.value() > 0)
            qCInfo(lcStore) << "retention removed" << removed.value() << "rows";
    });
}

QString Engine::telemetryProviderName() const
{
    if (m_profile) {
        if (const ProviderConfig *otlp = m_profile->observabilityReceiver())
            return otlp->name;
    }
    return QStringLiteral("otlp");
}

QString Engine::otlpHostPort() const
{
    if (!m_receiver)
        return {};
    return QStringLiteral("%1:%2").arg(m_receiver->address().toString()).arg(m_receiver->port());
}

QString Engine::otlpEndpoint() const
{
    return QStringLiteral("http://") + otlpHostPort();
}

} // namespace Breaker
