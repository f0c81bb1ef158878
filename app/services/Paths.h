#pragma once

#include <QString>

namespace Breaker::Paths {

// Where Breaker keeps things, the same for breaker, breakerctl and breaker-sandbox:
//   store    $XDG_DATA_HOME/breaker/breaker.db   (sandbox.db when the console runs the sandbox)
//   profile  $XDG_CONFIG_HOME/breaker/profile.json
//   runtime  $XDG_RUNTIME_DIR/breaker (or /tmp/breaker-$UID), mode 0700
QString dataDir();
QString defaultDbPath();
QString sandboxDbPath();
QString defaultProfilePath();
QString runtimeDir(); // created on demand with mode 0700; empty if that failed

} // namespace Breaker::Paths
