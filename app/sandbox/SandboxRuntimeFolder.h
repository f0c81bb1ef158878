#pragma once

#include "models/Result.h"

#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace Breaker {

// Where a running sandbox keeps its profile (and, later, the 0600 files its secrets refer
// to): $XDG_RUNTIME_DIR/breaker/sandbox-XXXXXX, or /tmp/breaker-XXXXXX/sandbox-XXXXXX when
// XDG_RUNTIME_DIR is unset. Every folder is mode 0700. The instance folder is removed when
// this object is destroyed.
class SandboxRuntimeFolder
{
public:
    // `runtimeDir` is the XDG_RUNTIME_DIR to use (empty: none, fall back to the temp folder).
    static Result<std::unique_ptr<SandboxRuntimeFolder>> create(const QString &runtimeDir);
    static Result<std::unique_ptr<SandboxRuntimeFolder>> createDefault(); // from the environment

    ~SandboxRuntimeFolder();
    SandboxRuntimeFolder(const SandboxRuntimeFolder &) = delete;
    SandboxRuntimeFolder &operator=(const SandboxRuntimeFolder &) = delete;

    QString path() const;
    QString filePath(const QString &name) const;

private:
    SandboxRuntimeFolder() = default;

    std::unique_ptr<QTemporaryDir> m_base; // the /tmp fallback only
    std::unique_ptr<QTemporaryDir> m_instance;
};

} // namespace Breaker
