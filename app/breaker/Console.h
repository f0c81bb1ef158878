#pragma once

#include "models/Result.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <memory>

namespace Breaker {

class RunActions;
class RuntimeService;

class Engine;
class MainWindow;
class SandboxProcess;
class StoreRunFeed;

// The GUI's composition root: the engine (Store, OTLP receiver, RunMonitor), the feed the views
// read, the main window, and — when no profile is given — the sandbox fleet as a child process
// (DESIGN.md section 6: the console binds its receiver first, then starts the sandbox with
// --otlp-endpoint, and uses a Store of its own).
class Console : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString profilePath;   // empty: the default profile if it exists, else the sandbox
        QString dbPath;        // empty: the default Store (sandbox.db on the sandbox)
        bool forceSandbox = false;
        QStringList sandboxArguments;
    };

    explicit Console(QObject *parent = nullptr);
    ~Console() override;

    // Errors: Invalid for a profile problem (exit 2), anything else could not start (exit 3).
    Result<void> start(const Options &options);
    MainWindow *window() const { return m_window.get(); }

private:
    void startSandbox(const QStringList &arguments);
    void onSandboxReady(const QString &profilePath);
    void watchRuntimeProviders();

    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<StoreRunFeed> m_feed;
    std::unique_ptr<MainWindow> m_window;
    SandboxProcess *m_sandbox = nullptr;
    RunActions *m_actions = nullptr;
    QPointer<RuntimeService> m_watchingRuntime;
};

} // namespace Breaker
