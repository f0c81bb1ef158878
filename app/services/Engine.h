#pragma once

#include "models/Profile.h"
#include "models/Result.h"

#include <QHostAddress>
#include <QLockFile>
#include <QObject>
#include <QThread>
#include <QString>
#include <QTimer>

#include <functional>

#include <atomic>
#include <memory>
#include <optional>

namespace Breaker {

namespace Otlp {
struct DecodeResult;
}
struct SinkVerdict;

class OtlpReceiver;
class RunMonitor;
class LayerService;
class LeakWatch;
class RuntimeService;
class AuditConnectorEvents;
class StopDrill;
class StopSwitch;
class Store;

// The engine of one profile (DESIGN.md section 3, Processes): the Store, the OTLP receiver and
// the RunMonitor between them. The GUI and `breakerctl daemon` each own one; a second engine
// on the same profile (or the same Store) is refused, naming the process that runs.
class Engine : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString dbPath;
        std::optional<Profile> profile;
        QString profilePath;                // for the lock and for READY lines
        QHostAddress listenAddress = QHostAddress(QHostAddress::LocalHost);
        int listenPort = -1;                // -1: the profile's otlp `listen`, else 4318
    };

    explicit Engine(QObject *parent = nullptr);
    ~Engine() override;

    Result<void> start(const Options &options);
    // Re-binds agents and prices (the sandbox writes its profile after the console started).
    void applyProfile(const Profile &profile);

    std::shared_ptr<Store> store() const { return m_store; }
    // Lives on the engine's `run-monitor` thread: connect to its signals (they arrive queued),
    // and call it only through QMetaObject::invokeMethod.
    RunMonitor *monitor() const { return m_monitor; }
    // Lives on a thread of its own (socket I/O off the GUI thread); connect to its signals, and
    // call it only through QMetaObject::invokeMethod (port(), address() and the counters are
    // safe to read).
    OtlpReceiver *receiver() const { return m_receiver; }
    // The receiver's sink: hands each decoded request to the RunMonitor on the engine's thread
    // and answers the client once the Store committed it. Called on the receiver's thread.
    std::function<void(std::shared_ptr<Otlp::DecodeResult>, std::function<void(SinkVerdict)>)> spanSink() const;
    // The runtime connectors of the profile (nullptr until a profile was applied).
    RuntimeService *runtime() const { return m_runtime; }
    // The containment layers' connectors and the stop switch over them and the runtimes
    // (nullptr until a profile was applied).
    LayerService *layers() const { return m_layers; }
    StopSwitch *stopSwitch() const { return m_stopSwitch; }
    LeakWatch *leakWatch() const { return m_leakWatch; }
    StopDrill *drill() const { return m_drill; } // over the current stop switch
    const std::optional<Profile> &profile() const { return m_profile; }
    QString otlpHostPort() const; // "127.0.0.1:4318"
    QString otlpEndpoint() const; // "http://127.0.0.1:4318"
    QString telemetryProviderName() const;

    // Signs a checkpoint of the audit chain's head when it moved (on a worker thread).
    void sealAuditHead();

private:
    void applyRetention();
    void recordProfileChange(const Profile &profile);

    std::unique_ptr<QLockFile> m_lock;
    QTimer m_retentionTimer;
    QTimer m_sealTimer;
    std::shared_ptr<std::atomic_bool> m_sealing = std::make_shared<std::atomic_bool>(false);
    std::shared_ptr<Store> m_store;
    RunMonitor *m_monitor = nullptr;    // on m_monitorThread: connect to it, call it queued
    QThread *m_monitorThread = nullptr;
    RuntimeService *m_runtime = nullptr;
    LayerService *m_layers = nullptr;
    StopSwitch *m_stopSwitch = nullptr;
    LeakWatch *m_leakWatch = nullptr;
    StopDrill *m_drill = nullptr;
    AuditConnectorEvents *m_connectorEvents = nullptr;
    OtlpReceiver *m_receiver = nullptr; // on m_receiverThread
    QThread *m_receiverThread = nullptr;
    std::optional<Profile> m_profile;
};

} // namespace Breaker
