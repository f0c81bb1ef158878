// bench_runtime_cancel: the cancel round trip against the real @a2a-js/sdk 1.3.0 server
// (tests/peers/a2a-peer.mjs; run `npm ci` in tests/peers first), in each dialect and binding,
// and the time to `verified` through CancelVerifier with the deadlines of DESIGN.md section 4.
#include "app/services/CancelVerifier.h"
#include "connectors/runtime/A2aConnector.h"
#include "models/Profile.h"
#include "models/Store.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>

using namespace Breaker;

namespace {

template<typename T>
Result<T> await(const std::function<void(RuntimeCallback<T>)> &call)
{
    std::optional<Result<T>> out;
    QEventLoop loop;
    call([&](const Result<T> &r) {
        if (!out) {
            out = r;
            loop.quit();
        }
    });
    if (!out) {
        QTimer::singleShot(30000, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return out.value_or(Result<T>(makeError(Error::Kind::Timeout, QStringLiteral("no answer"))));
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOptions({{QStringLiteral("rounds"), QStringLiteral("cancels per dialect"), QStringLiteral("N"), QStringLiteral("40")},
                       {QStringLiteral("verified"), QStringLiteral("full verifications"), QStringLiteral("N"), QStringLiteral("5")}});
    parser.addHelpOption();
    parser.process(app);
    const int rounds = parser.value(QStringLiteral("rounds")).toInt();
    const int verifications = parser.value(QStringLiteral("verified")).toInt();

    QProcess peer;
    peer.setWorkingDirectory(QStringLiteral(BREAKER_SOURCE_DIR "/tests/peers"));
    peer.start(QStringLiteral("node"), {QStringLiteral("a2a-peer.mjs")});
    int port = 0;
    QElapsedTimer wait;
    wait.start();
    while (port == 0 && wait.elapsed() < 30000 && peer.waitForReadyRead(1000)) {
        while (peer.canReadLine()) {
            const QByteArray line = peer.readLine().trimmed();
            if (line.startsWith("LISTENING "))
                port = line.mid(10).toInt();
        }
    }
    if (port == 0) {
        std::fprintf(stderr, "the a2a-js peer did not start: %s\n", peer.readAllStandardError().constData());
        return 1;
    }
    const QString origin = QStringLiteral("http://127.0.0.1:%1").arg(port);
    std::printf("bench_runtime_cancel: @a2a-js/sdk 1.3.0 on %s, %d cancels per dialect and binding\n",
                qPrintable(origin), rounds);

    struct Variant
    {
        const char *name;
        const char *path;
        A2a::Dialect dialect;
    } variants[] = {{"A2A 1.0 JSON-RPC", "/a2a/jsonrpc", A2a::Dialect::V1_0},
                    {"A2A 1.0 HTTP+JSON", "/a2a/rest", A2a::Dialect::V1_0},
                    {"A2A 0.3 JSON-RPC", "/a2a/jsonrpc", A2a::Dialect::V0_3},
                    {"A2A 0.3 HTTP+JSON", "/a2a/rest", A2a::Dialect::V0_3}};
    for (const Variant &v : variants) {
        ProviderConfig config;
        config.name = QStringLiteral("peer");
        config.layer = QStringLiteral("runtime");
        config.kind = QStringLiteral("a2a");
        config.url = QUrl(origin + QLatin1String(v.path));
        A2aConnector a2a(config, {});
        a2a.setDialectOverride(v.dialect);
        std::vector<double> rtt;
        for (int i = 0; i < rounds; ++i) {
            auto task = await<RuntimeRun>([&](auto cb) { a2a.startTask(QStringLiteral("work 60000"), {}, cb); });
            if (!task.ok()) {
                std::fprintf(stderr, "%s: %s\n", v.name, qPrintable(task.error().message));
                return 1;
            }
            QElapsedTimer t;
            t.start();
            auto cancelled = await<RuntimeRun>([&](auto cb) { a2a.cancelRun(task->externalId, cb); });
            const double ms = double(t.nsecsElapsed()) / 1e6;
            if (!cancelled.ok() || cancelled->status != RunStatus::Stopped) {
                std::fprintf(stderr, "%s: cancel did not answer canceled\n", v.name);
                return 1;
            }
            rtt.push_back(ms);
        }
        std::printf("  %-18s cancel round trip p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", v.name, percentile(rtt, 0.5),
                    percentile(rtt, 0.99), percentile(rtt, 1.0));
    }

    // Time to verified: the cancel, the read-back, then the 5 s telemetry watch (+5 s for export).
    QTemporaryDir dir;
    auto store = Store::open(dir.filePath(QStringLiteral("bench.db")));
    ProviderConfig config;
    config.name = QStringLiteral("peer");
    config.layer = QStringLiteral("runtime");
    config.kind = QStringLiteral("a2a");
    config.url = QUrl(origin + QStringLiteral("/a2a/jsonrpc"));
    A2aConnector a2a(config, {});
    std::vector<double> toVerified;
    for (int i = 0; i < verifications; ++i) {
        auto task = await<RuntimeRun>([&](auto cb) { a2a.startTask(QStringLiteral("work 60000"), {}, cb); });
        CancelVerifier verifier(&a2a, store.value());
        StopLayerResult start;
        start.layer = "runtime";
        start.run = "r-bench";
        start.provider = "peer";
        start.action = "cancel";
        std::optional<StopLayerResult> out;
        QEventLoop loop;
        verifier.cancel(start, task->externalId, [&](const StopLayerResult &r) {
            out = r;
            loop.quit();
        });
        if (!out)
            loop.exec();
        if (out->outcome != LayerOutcome::Verified) {
            std::fprintf(stderr, "not verified: %s\n", qPrintable(out->detail));
            return 1;
        }
        toVerified.push_back(double(out->ms));
    }
    std::printf("  time to verified (A2A 1.0 JSON-RPC, %d runs): p50 %.0f ms, max %.0f ms — of which 10,000 ms is the\n"
                "  telemetry watch of DESIGN.md section 4 (5 s of no tool/model call + 5 s for its export)\n",
                verifications, percentile(toVerified, 0.5), percentile(toVerified, 1.0));
    peer.terminate();
    peer.waitForFinished(5000);
    return 0;
}
