#include "app/breaker/Console.h"

#include "app/services/Engine.h"
#include "app/services/LeakWatch.h"
#include "app/services/EngineAuditActions.h"
#include "app/services/EngineRunActions.h"
#include "app/services/RunMonitor.h"
#include "app/services/RuntimeService.h"
#include "app/services/Paths.h"
#include "app/services/RunMonitor.h"
#include "app/services/SandboxProcess.h"
#include "app/services/StoreRunFeed.h"
#include "connectors/observability/OtlpReceiver.h"
#include "models/Logging.h"
#include "models/Profile.h"
#include "views/MainWindow.h"

#include <QFile>
#include <QFileInfo>

namespace Breaker {

namespace {

Result<Profile> readProfile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(Error::Kind::Invalid, file.errorString(), path);
    return parseProfile(file.readAll(), path);
}

} // namespace

Console::Console(QObject *parent)
    : QObject(parent)
{
}

Console::~Console()
{
    if (m_sandbox)
        m_sandbox->stop();
    m_window.reset();
    m_feed.reset();
    m_engine.reset();
}

Result<void> Console::start(const Options &options)
{
    QString profilePath = options.profilePath;
    if (profilePath.isEmpty() && !options.forceSandbox && QFileInfo::exists(Paths::defaultProfilePath()))
        profilePath = Paths::defaultProfilePath();
    const bool sandbox = profilePath.isEmpty();

    Engine::Options engineOptions;
    if (!sandbox) {
        auto profile = readProfile(profilePath);
        if (!profile)
            return profile.error();
        engineOptions.profile = profile.value();
        engineOptions.profilePath = QFileInfo(profilePath).absoluteFilePath();
        engineOptions.dbPath = options.dbPath.isEmpty() ? Paths::defaultDbPath() : options.dbPath;
    } else {
        // The sandbox gets a Store of its own, so nothing done to its agents lands in the real
        // audit trail, and a receiver on a free loopback port.
        engineOptions.dbPath = options.dbPath.isEmpty() ? Paths::sandboxDbPath() : options.dbPath;
        engineOptions.listenPort = 0;
    }

    m_engine = std::make_unique<Engine>();
    auto started = m_engine->start(engineOptions);
    if (!started)
        return started.error();

    m_feed = std::make_unique<StoreRunFeed>(m_engine->store());
    m_feed->attachMonitor(m_engine->monitor());
    connect(m_engine->receiver(), &OtlpReceiver::spansAccepted, m_feed.get(), &StoreRunFeed::countSpans);
    connect(m_engine->receiver(), &OtlpReceiver::requestRejected, m_feed.get(),
            [feed = m_feed.get(), this](int status, const QString &reason) {
                feed->reportProblem(tr("%1: rejected a request (HTTP %2): %3")
                                        .arg(m_engine->telemetryProviderName())
                                        .arg(status)
                                        .arg(reason));
            });

    ProviderState otlp;
    otlp.name = m_engine->telemetryProviderName();
    otlp.layer = QStringLiteral("observability");
    otlp.state = ProviderState::State::Up;
    otlp.detail = tr("receiving OTLP on %1").arg(m_engine->otlpHostPort());
    m_feed->setProviderStates({otlp});

    m_window = std::make_unique<MainWindow>(m_feed.get());
    m_window->setProfileName(sandbox ? QStringLiteral("sandbox")
                                     : m_engine->profile()->name);
    m_actions = new EngineRunActions(m_engine.get(), this);
    m_window->setRunActions(m_actions);
    m_window->setAuditActions(new EngineAuditActions(m_engine.get(), this));
    watchRuntimeProviders();
    m_window->show();

    if (sandbox)
        startSandbox(options.sandboxArguments);
    return {};
}

void Console::startSandbox(const QStringList &arguments)
{
    m_sandbox = new SandboxProcess(this);
    ProviderState state;
    state.name = QStringLiteral("sandbox");
    state.layer = QStringLiteral("runtime");
    state.state = ProviderState::State::Connecting;
    state.detail = tr("starting the sandbox fleet");
    m_feed->updateProviderState(state);
    connect(m_sandbox, &SandboxProcess::ready, this, &Console::onSandboxReady);
    connect(m_sandbox, &SandboxProcess::failed, this, [this](const QString &message) {
        ProviderState down;
        down.name = QStringLiteral("sandbox");
        down.layer = QStringLiteral("runtime");
        down.state = ProviderState::State::Down;
        down.detail = message;
        m_feed->updateProviderState(down);
        m_feed->reportProblem(tr("sandbox: %1").arg(message));
    });
    m_sandbox->start(m_engine->otlpEndpoint(), arguments);
}

void Console::onSandboxReady(const QString &profilePath)
{
    auto profile = readProfile(profilePath);
    if (!profile) {
        m_feed->reportProblem(tr("sandbox profile %1: %2 %3")
                                  .arg(profilePath, profile.error().where, profile.error().message));
        return;
    }
    m_engine->applyProfile(profile.value());
    watchRuntimeProviders();
    ProviderState state;
    state.name = QStringLiteral("sandbox");
    state.layer = QStringLiteral("runtime");
    state.state = ProviderState::State::Up;
    state.detail = tr("sandbox fleet running; profile %1").arg(profilePath);
    m_feed->updateProviderState(state);
    qCInfo(lcUi).noquote() << "sandbox ready, profile" << profilePath;
}

void Console::watchRuntimeProviders()
{
    RuntimeService *runtime = m_engine->runtime();
    if (!runtime || m_watchingRuntime == runtime)
        return;
    m_watchingRuntime = runtime;
    connect(runtime, &RuntimeService::providerStateChanged, this,
            [this](const QByteArray &provider, RuntimeConnector::LinkState link, const QString &detail) {
                ProviderState state;
                state.name = QString::fromUtf8(provider);
                state.layer = QStringLiteral("runtime");
                state.detail = detail;
                switch (link) {
                case RuntimeConnector::LinkState::Idle:
                case RuntimeConnector::LinkState::Connecting: state.state = ProviderState::State::Connecting; break;
                case RuntimeConnector::LinkState::Connected: state.state = ProviderState::State::Up; break;
                case RuntimeConnector::LinkState::Degraded: state.state = ProviderState::State::Degraded; break;
                case RuntimeConnector::LinkState::Down: state.state = ProviderState::State::Down; break;
                }
                m_feed->updateProviderState(state);
                if (link == RuntimeConnector::LinkState::Down)
                    m_feed->reportProblem(QStringLiteral("%1: %2").arg(state.name, detail));
            });
    connect(m_engine->monitor(), &RunMonitor::stillActiveAfterCancel, this,
            [this](const QByteArray &runId, const QString &span, qint64 afterMs) {
                m_feed->reportProblem(tr("run %1 is still active after cancel: \"%2\" was running %3 s after its "
                                         "runtime reported it ended")
                                          .arg(QString::fromUtf8(runId), span,
                                               QString::number(double(afterMs) / 1000.0, 'f', 1)));
            });
    if (LeakWatch *leaks = m_engine->leakWatch())
        connect(leaks, &LeakWatch::leak, this, [this](const LayerLeak &leak, const QByteArray &runId) {
            m_feed->reportProblem(tr("LEAK after stop: agent %1, the %2 layer let it through: %3%4")
                                      .arg(QString::fromUtf8(leak.agent), QString::fromUtf8(leak.layer), leak.what,
                                           runId.isEmpty() ? QString() : tr(" (run %1)").arg(QString::fromUtf8(runId))));
        });
}

} // namespace Breaker
