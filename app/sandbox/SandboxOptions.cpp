#include "app/sandbox/SandboxOptions.h"

#include "models/Profile.h"

#include <QCommandLineParser>

#include <cmath>

namespace Breaker {

namespace {

const QString kProfileOut = QStringLiteral("profile-out");
const QString kOtlpEndpoint = QStringLiteral("otlp-endpoint");
const QString kRate = QStringLiteral("rate");
const QString kBurst = QStringLiteral("burst");
const QString kSeed = QStringLiteral("seed");
const QString kFormat = QStringLiteral("otlp-format");
const QString kLatency = QStringLiteral("latency-ms");
const QString kFault = QStringLiteral("fault");

constexpr double kMaxRatePerMinute = 600000.0;
constexpr int kMaxLatencyMs = 600000;

Error usage(const QString &option, const QString &message)
{
    return makeError(Error::Kind::Invalid, message, QStringLiteral("--") + option);
}

QString layerList()
{
    QStringList ids;
    for (const char *id : kLayerIds)
        ids << QString::fromLatin1(id);
    return ids.join(QStringLiteral(", "));
}

bool isLayerId(const QString &text)
{
    for (const char *id : kLayerIds) {
        if (text == QLatin1String(id))
            return true;
    }
    return false;
}

// Splits "LAYER=VALUE" and checks the layer id.
Result<std::pair<QString, QString>> splitLayerValue(const QString &option, const QString &text)
{
    const qsizetype eq = text.indexOf(QLatin1Char('='));
    if (eq <= 0 || eq == text.size() - 1)
        return usage(option,
                     QStringLiteral("--%1 expects LAYER=VALUE, got \"%2\"").arg(option, text));
    const QString layer = text.left(eq).trimmed();
    if (!isLayerId(layer))
        return usage(option,
                     QStringLiteral("--%1: unknown layer \"%2\" (layers: %3)")
                         .arg(option, layer, layerList()));
    return std::pair{layer, text.mid(eq + 1).trimmed()};
}

} // namespace

QString otlpFormatName(OtlpFormat format)
{
    switch (format) {
    case OtlpFormat::Json:
        return QStringLiteral("json");
    case OtlpFormat::Protobuf:
        return QStringLiteral("proto");
    case OtlpFormat::Both:
        return QStringLiteral("both");
    }
    return {};
}

QString faultName(SandboxFault fault)
{
    switch (fault) {
    case SandboxFault::Down:
        return QStringLiteral("down");
    case SandboxFault::Slow:
        return QStringLiteral("slow");
    case SandboxFault::Error:
        return QStringLiteral("error");
    case SandboxFault::Garbage:
        return QStringLiteral("garbage");
    }
    return {};
}

void addSandboxOptions(QCommandLineParser &parser)
{
    parser.addOption({kProfileOut,
                      QStringLiteral("Write the sandbox's profile to FILE instead of its runtime "
                                     "folder. An existing file is replaced only when the sandbox "
                                     "wrote it (its \"name\" is \"sandbox\")."),
                      QStringLiteral("FILE")});
    parser.addOption({kOtlpEndpoint,
                      QStringLiteral("Send OTLP/HTTP traces to URL/v1/traces (e.g. "
                                     "http://127.0.0.1:4318). Default: a free loopback port, "
                                     "written into the profile for the console's receiver."),
                      QStringLiteral("URL")});
    parser.addOption({kRate,
                      QStringLiteral("Runs started per minute per agent (default 3; with "
                                     "--burst, default 12000)."),
                      QStringLiteral("R")});
    parser.addOption({kBurst,
                      QStringLiteral("Load mode: many concurrent short runs (thousands of spans "
                                     "per second), batches of up to 512 spans.")});
    parser.addOption({kSeed,
                      QStringLiteral("Seed for the scenario generator: the same seed gives the "
                                     "same runs. Default: random (logged)."),
                      QStringLiteral("N")});
    parser.addOption({kFormat,
                      QStringLiteral("OTLP body encoding: json, proto or both (alternating per "
                                     "request; default)."),
                      QStringLiteral("json|proto|both"),
                      QStringLiteral("both")});
    parser.addOption({kLatency,
                      QStringLiteral("Add N ms of latency to the sandbox provider of LAYER "
                                     "(repeatable). Applies to the providers the sandbox serves; "
                                     "this version serves none yet, so it is stored only."),
                      QStringLiteral("LAYER=N")});
    parser.addOption({kFault,
                      QStringLiteral("Inject a fault into the sandbox provider of LAYER: down, "
                                     "slow, error or garbage (repeatable). Applies to the "
                                     "providers the sandbox serves; this version serves none "
                                     "yet, so it is stored only."),
                      QStringLiteral("LAYER=down|slow|error|garbage")});
}

Result<QUrl> parseOtlpEndpoint(const QString &text)
{
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid())
        return usage(kOtlpEndpoint,
                     QStringLiteral("--otlp-endpoint: \"%1\" is not a valid URL: %2")
                         .arg(text, url.errorString()));
    const QString scheme = url.scheme().toLower();
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        return usage(
            kOtlpEndpoint,
            QStringLiteral("--otlp-endpoint: \"%1\" must be an http:// or https:// URL").arg(text));
    if (url.host().isEmpty())
        return usage(kOtlpEndpoint,
                     QStringLiteral("--otlp-endpoint: \"%1\" has no host").arg(text));
    if (url.hasQuery() || url.hasFragment())
        return usage(
            kOtlpEndpoint,
            QStringLiteral("--otlp-endpoint: \"%1\" must not have a query or fragment").arg(text));
    if (!url.userInfo().isEmpty())
        return usage(kOtlpEndpoint,
                     QStringLiteral("--otlp-endpoint: credentials in the URL are not accepted"));
    return url;
}

QUrl otlpTracesUrl(const QUrl &endpoint)
{
    QUrl url = endpoint;
    QString path = url.path();
    if (path.endsWith(QLatin1String("/v1/traces")))
        return url;
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path + QStringLiteral("/v1/traces"));
    return url;
}

Result<SandboxOptions> sandboxOptionsFromParser(const QCommandLineParser &parser)
{
    SandboxOptions options;
    if (!parser.positionalArguments().isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("unexpected argument \"%1\"")
                             .arg(parser.positionalArguments().constFirst()));

    if (parser.isSet(kProfileOut)) {
        options.profileOut = parser.value(kProfileOut);
        if (options.profileOut.isEmpty())
            return usage(kProfileOut, QStringLiteral("--profile-out needs a file name"));
    }
    if (parser.isSet(kOtlpEndpoint)) {
        auto url = parseOtlpEndpoint(parser.value(kOtlpEndpoint));
        if (!url)
            return url.error();
        options.otlpEndpoint = *url;
    }
    options.burst = parser.isSet(kBurst);
    if (parser.isSet(kRate)) {
        bool ok = false;
        const QString text = parser.value(kRate);
        const double rate = text.toDouble(&ok);
        if (!ok || !std::isfinite(rate) || rate <= 0 || rate > kMaxRatePerMinute)
            return usage(kRate,
                         QStringLiteral("--rate: \"%1\" is not a number of runs per minute "
                                        "between 0 (exclusive) and %2")
                             .arg(text, QString::number(kMaxRatePerMinute, 'f', 0)));
        options.ratePerMinute = rate;
        options.rateGiven = true;
    }
    if (parser.isSet(kSeed)) {
        bool ok = false;
        const QString text = parser.value(kSeed);
        options.seed = text.toULongLong(&ok, 10);
        if (!ok)
            return usage(kSeed,
                         QStringLiteral("--seed: \"%1\" is not a non-negative integer").arg(text));
        options.seedGiven = true;
    }
    {
        const QString text = parser.value(kFormat).toLower();
        if (text == QLatin1String("json"))
            options.format = OtlpFormat::Json;
        else if (text == QLatin1String("proto") || text == QLatin1String("protobuf"))
            options.format = OtlpFormat::Protobuf;
        else if (text == QLatin1String("both"))
            options.format = OtlpFormat::Both;
        else
            return usage(kFormat,
                         QStringLiteral("--otlp-format: \"%1\" is not json, proto or both")
                             .arg(parser.value(kFormat)));
    }
    for (const QString &item : parser.values(kLatency)) {
        auto split = splitLayerValue(kLatency, item);
        if (!split)
            return split.error();
        const auto &[layer, value] = *split;
        bool ok = false;
        const int ms = value.toInt(&ok, 10);
        if (!ok || ms < 0 || ms > kMaxLatencyMs)
            return usage(kLatency,
                         QStringLiteral("--latency-ms %1: \"%2\" is not a number of "
                                        "milliseconds between 0 and %3")
                             .arg(layer, value, QString::number(kMaxLatencyMs)));
        if (options.latencyMs.contains(layer))
            return usage(kLatency,
                         QStringLiteral("--latency-ms is given twice for layer %1").arg(layer));
        options.latencyMs.insert(layer, ms);
    }
    for (const QString &item : parser.values(kFault)) {
        auto split = splitLayerValue(kFault, item);
        if (!split)
            return split.error();
        const auto &[layer, value] = *split;
        SandboxFault fault;
        if (value == QLatin1String("down"))
            fault = SandboxFault::Down;
        else if (value == QLatin1String("slow"))
            fault = SandboxFault::Slow;
        else if (value == QLatin1String("error"))
            fault = SandboxFault::Error;
        else if (value == QLatin1String("garbage"))
            fault = SandboxFault::Garbage;
        else
            return usage(kFault,
                         QStringLiteral("--fault %1: \"%2\" is not down, slow, error or garbage")
                             .arg(layer, value));
        if (options.faults.contains(layer))
            return usage(kFault, QStringLiteral("--fault is given twice for layer %1").arg(layer));
        options.faults.insert(layer, fault);
    }
    return options;
}

} // namespace Breaker
