#pragma once

#include <QString>

namespace Breaker {

// Sends Qt log messages (all categories) to a file in the user's state folder as well as to
// stderr. The folder is $XDG_STATE_HOME/breaker (~/.local/state/breaker by default);
// BREAKER_LOG_DIR overrides it. Secrets never reach the log: callers log references, not
// values.
class LogSink
{
public:
    // Installs the handler; returns the log file's path (empty if it could not be opened, in
    // which case messages still go to stderr).
    static QString install(const QString &programName);
    static QString defaultLogDir();
};

} // namespace Breaker
