#pragma once

#include "models/AuditSigner.h"
#include "models/Profile.h"
#include "models/Result.h"

#include <QString>

#include <optional>

namespace Breaker {

// The audit signing key, where the profile keeps it (DESIGN.md section 7; docs/AUDIT.md).
struct AuditKey
{
    AuditSigner signer;
    QString storage;      // "keychain" or "file": every export's manifest says which
    QString location;     // the file's path, or "keychain:NAME (profile P)"
    bool created = false; // made by this call (first use)
};

// Where the profile's audit.signing_key points; without one, the OS keychain under the
// profile's name. The key pair is created on first use. Never falls back from one store to
// another: an unreachable keychain is an error that says how to use a file instead.
Result<AuditKey> loadAuditKey(const std::optional<Profile> &profile);

// A PKCS#8 PEM file. Created with O_EXCL and mode 0600 when missing; an existing file must be a
// regular file owned by the current user with no permission beyond 0600.
Result<AuditKey> loadAuditKeyFile(const QString &path);

// The Secret Service (libsecret), schema "org.breaker.AuditKey", attributes {profile, name}.
Result<AuditKey> loadAuditKeyFromKeychain(const QString &profileName, const QString &name);

// The keychain entry name used when the profile names none.
inline QString defaultAuditKeyName()
{
    return QStringLiteral("audit-signing-key");
}

} // namespace Breaker
