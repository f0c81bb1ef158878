#pragma once

#include "models/Result.h"

#include <QMap>
#include <QString>
#include <QStringList>
#include <QUrl>

class QCommandLineParser;

namespace Breaker {

enum class OtlpFormat { Json, Protobuf, Both };

// Faults injected into the sandbox's own providers (DESIGN.md section 6). They are parsed and
// stored now; they take effect on the providers the sandbox serves (A2A host, OAuth server,
// Stripe- and OPA-shaped APIs), which later issues add.
enum class SandboxFault { Down, Slow, Error, Garbage };

struct SandboxOptions
{
    QString profileOut;         // empty: <runtime folder>/profile.json
    QUrl otlpEndpoint;          // base URL; empty: a free loopback port is chosen
    double ratePerMinute = 3.0; // runs started per minute per agent
    bool rateGiven = false;     // --rate was given (it overrides the burst rate too)
    bool burst = false;         // load mode: many concurrent, short runs
    quint64 seed = 0;
    bool seedGiven = false; // without --seed the seed is random (and logged)
    OtlpFormat format = OtlpFormat::Both;
    QMap<QString, int> latencyMs;       // layer id -> added latency in milliseconds
    QMap<QString, SandboxFault> faults; // layer id -> fault
};

QString otlpFormatName(OtlpFormat format);
QString faultName(SandboxFault fault);

// The options of DESIGN.md section 9 (`breakerctl sandbox` and `breaker-sandbox` share them).
void addSandboxOptions(QCommandLineParser &parser);
// Validates what the parser read. Errors are usage errors (exit status 2); the message names
// the option and what is wrong.
Result<SandboxOptions> sandboxOptionsFromParser(const QCommandLineParser &parser);

// The OTLP traces URL for an endpoint: <endpoint>/v1/traces (kept as is when the path already
// ends with /v1/traces).
QUrl otlpTracesUrl(const QUrl &endpoint);
// Parses an --otlp-endpoint value: an http or https URL with a host; no query or fragment.
Result<QUrl> parseOtlpEndpoint(const QString &text);

} // namespace Breaker
