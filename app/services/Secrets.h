#pragma once

#include "models/Profile.h"
#include "models/Result.h"

#include <QByteArray>

namespace Breaker {

// Resolves a profile's secret reference to the secret's bytes, at the moment a connector needs
// them. Errors name the reference (variable, file, mode) but never contain a secret.
//  - env:NAME      the variable's value; unset or empty is an error.
//  - file:PATH     a regular file owned by the current user with mode 0600 or 0400; its content
//                  without one trailing newline.
//  - keychain:NAME an error until the OS secret service is wired in (no silent fallback).
Result<QByteArray> resolveSecret(const SecretRef &ref);

} // namespace Breaker
