// The official OpenTelemetry JS SDK and OTLP/HTTP exporters (tests/peers/otel-emit.mjs, pinned
// in tests/peers/package.json) send one GenAI agent run to Breaker's OtlpReceiver, as JSON and as
// protobuf. What the operator later sees in the run view comes from exactly these decoded spans.
#include "connectors/observability/OtlpCodec.h"
#include "connectors/observability/OtlpReceiver.h"
#include "models/Span.h"
#include "tests/common/PeerProcess.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <algorithm>
#include <memory>
#include <vector>

using namespace Breaker;
using namespace Breaker::Test;
using namespace std::chrono_literals;

namespace {

QJsonObject attributes(const Span &span)
{
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(span.attributesJson, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return {};
    return doc.object();
}

QByteArray hex(const SpanId &id)
{
    return Otlp::toHex(id);
}

constexpr qint64 NsPerMs = 1000 * 1000;

} // namespace

class tst_OtelJsPeer : public QObject
{
    Q_OBJECT
private slots:
    void exportsAnAgentRun_data();
    void exportsAnAgentRun();
};

void tst_OtelJsPeer::exportsAnAgentRun_data()
{
    QTest::addColumn<QString>("protocol");
    QTest::newRow("json (exporter-trace-otlp-http)") << QStringLiteral("json");
    QTest::newRow("protobuf (exporter-trace-otlp-proto)") << QStringLiteral("proto");
}

void tst_OtelJsPeer::exportsAnAgentRun()
{
    QFETCH(QString, protocol);
    BREAKER_REQUIRE_PEERS();

    OtlpReceiverOptions options;
    options.port = 0;
    OtlpReceiver receiver(options);
    std::vector<Span> spans;
    int requests = 0;
    qint64 rejected = 0;
    QStringList errors;
    receiver.setSink([&](std::shared_ptr<Otlp::DecodeResult> result, OtlpReceiver::Reply reply) {
        ++requests;
        rejected += result->rejectedSpans;
        if (!result->error.isEmpty())
            errors << result->error;
        if (!result->rejectMessage.isEmpty())
            errors << result->rejectMessage;
        for (Span &span : result->spans)
            spans.push_back(std::move(span));
        reply(SinkVerdict::accepted());
    });
    QStringList refusals;
    connect(&receiver, &OtlpReceiver::requestRejected, this, [&](int status, const QString &reason) {
        refusals << QString::number(status) + QLatin1Char(' ') + reason;
    });
    const Result<void> listening = receiver.listen();
    QVERIFY2(listening.ok(), qPrintable(listening.ok() ? QString() : listening.error().message));
    QVERIFY(receiver.port() != 0);

    PeerProcess peer;
    const QString url = QStringLiteral("http://127.0.0.1:%1/v1/traces").arg(receiver.port());
    QVERIFY2(peer.startNode(QStringLiteral("otel-emit.mjs"),
                            {QStringLiteral("--url"), url, QStringLiteral("--protocol"), protocol,
                             QStringLiteral("--scenario"), QStringLiteral("basic")}),
             qPrintable(peer.failureReport()));
    const std::optional<QString> sent = peer.waitForLine("SENT ", 60s);
    QVERIFY2(sent, qPrintable(peer.failureReport() + QStringLiteral("\nreceiver refused: ")
                              + refusals.join(QStringLiteral("; "))));
    QVERIFY2(peer.waitForExit(30s), qPrintable(peer.failureReport()));
    QCOMPARE(peer.exitCode(), 0);

    // "SENT <32 hex> <count>"
    const QRegularExpressionMatch m =
        QRegularExpression(QStringLiteral("^SENT ([0-9a-f]{32}) ([0-9]+)$")).match(*sent);
    QVERIFY2(m.hasMatch(), qPrintable(*sent));
    const QByteArray traceId = m.captured(1).toLatin1();
    const qsizetype count = m.captured(2).toLongLong();
    QCOMPARE(count, qsizetype(6));

    // Nothing refused or dropped, and the exporter's one POST per span each reached the sink.
    QVERIFY2(refusals.isEmpty(), qPrintable(refusals.join(QStringLiteral("; "))));
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(QStringLiteral("; "))));
    QCOMPARE(rejected, qint64(0));
    QCOMPARE(requests, 6);
    QCOMPARE(qsizetype(spans.size()), count);
    QCOMPARE(receiver.spansAcceptedTotal(), qint64(count));

    const auto named = [&spans](const char *name) {
        std::vector<const Span *> found;
        for (const Span &span : spans) {
            if (span.name == name)
                found.push_back(&span);
        }
        return found;
    };
    QSet<QByteArray> spanIds;
    for (const Span &span : spans) {
        QCOMPARE(Otlp::toHex(span.traceId), traceId);
        QCOMPARE(span.serviceName, QByteArray("peer-agent"));
        QVERIFY2(span.endNs >= span.startNs, span.name.constData());
        spanIds.insert(hex(span.spanId));
    }
    QCOMPARE(spanIds.size(), qsizetype(count));

    // The run root: invoke_agent, INTERNAL, who it acts for, and the approval request event.
    const auto roots = named("invoke_agent refund-agent");
    QCOMPARE(roots.size(), size_t(1));
    const Span &root = *roots.front();
    QVERIFY(!root.hasParent);
    QCOMPARE(root.kind, 1);
    QCOMPARE(root.operationName, QByteArray("invoke_agent"));
    QCOMPARE(root.agentName, QByteArray("refund-agent"));
    QCOMPARE(root.agentId, QByteArray("agent_refund_01"));
    QCOMPARE(root.conversationId, QByteArray("conv_7f3a9c"));
    QCOMPARE(root.providerName, QByteArray("openai"));
    QCOMPARE(root.principal, QByteArray("user:ada@example.com"));
    QCOMPARE(root.statusCode, 0);
    QCOMPARE(root.endNs - root.startNs, 2400 * NsPerMs);
    QCOMPARE(root.events.size(), size_t(1));
    const SpanEvent &approval = root.events.front();
    QCOMPARE(approval.name, QByteArray("approval.requested"));
    QCOMPARE(approval.timeNs - root.startNs, 1410 * NsPerMs);
    const QJsonObject approvalAttrs = QJsonDocument::fromJson(approval.attributesJson).object();
    QCOMPARE(approvalAttrs.value(QLatin1String("gen_ai.tool.name")).toString(),
             QStringLiteral("stripe.refund"));
    QCOMPARE(approvalAttrs.value(QLatin1String("gen_ai.tool.call.id")).toString(),
             QStringLiteral("call_refund_1"));

    // Every other span is a direct child of the root, inside its time range.
    for (const Span &span : spans) {
        if (&span == &root)
            continue;
        QVERIFY2(span.hasParent, span.name.constData());
        QCOMPARE(hex(span.parentSpanId), hex(root.spanId));
        QVERIFY2(span.startNs >= root.startNs && span.endNs <= root.endNs, span.name.constData());
    }

    // The model call: CLIENT, tokens exact (intValue arrives as a JSON number / varint).
    const auto chats = named("chat gpt-4o");
    QCOMPARE(chats.size(), size_t(1));
    const Span &chat = *chats.front();
    QCOMPARE(chat.kind, 3);
    QCOMPARE(chat.operationName, QByteArray("chat"));
    QCOMPARE(chat.providerName, QByteArray("openai"));
    QCOMPARE(chat.requestModel, QByteArray("gpt-4o"));
    QCOMPARE(chat.responseModel, QByteArray("gpt-4o-2024-08-06"));
    QCOMPARE(chat.inputTokens, qint64(120));
    QCOMPARE(chat.outputTokens, qint64(33));
    QCOMPARE(chat.endNs - chat.startNs, 1200 * NsPerMs);
    const QJsonObject chatAttrs = attributes(chat);
    QCOMPARE(chatAttrs.value(QLatin1String("gen_ai.response.finish_reasons")).toArray(),
             QJsonArray{QStringLiteral("tool_calls")});
    QCOMPARE(chatAttrs.value(QLatin1String("gen_ai.usage.input_tokens")).toInteger(-1), qint64(120));

    // The tool: the first call failed (status ERROR + error.type), the retry succeeded.
    const auto tools = named("execute_tool stripe.refund");
    QCOMPARE(tools.size(), size_t(2));
    const auto failedIt = std::find_if(tools.begin(), tools.end(),
                                       [](const Span *s) { return s->statusCode == 2; });
    QVERIFY(failedIt != tools.end());
    const Span &failed = **failedIt;
    const Span &retried = *tools.at(failedIt == tools.begin() ? 1 : 0);
    QCOMPARE(failed.kind, 1);
    QCOMPARE(failed.operationName, QByteArray("execute_tool"));
    QCOMPARE(failed.toolName, QByteArray("stripe.refund"));
    QCOMPARE(failed.toolCallId, QByteArray("call_refund_1"));
    QCOMPARE(failed.errorType, QByteArray("rate_limit_error"));
    QCOMPARE(failed.statusMessage, QByteArray("Too many requests hit the API too quickly."));
    QCOMPARE(retried.statusCode, 0);
    QCOMPARE(retried.toolCallId, QByteArray("call_refund_2"));
    QVERIFY(retried.errorType.isEmpty());
    QVERIFY(retried.startNs > failed.endNs);

    // Data access.
    const auto retrievals = named("retrieval zendesk.tickets");
    QCOMPARE(retrievals.size(), size_t(1));
    QCOMPARE(retrievals.front()->operationName, QByteArray("retrieval"));
    QCOMPARE(retrievals.front()->dataSourceId, QByteArray("zendesk.tickets"));
    QCOMPARE(retrievals.front()->kind, 3);

    // A plain HTTP span is kept, with no GenAI fields and its attributes intact.
    const auto plain = named("GET /healthz");
    QCOMPARE(plain.size(), size_t(1));
    const Span &health = *plain.front();
    QCOMPARE(health.kind, 3);
    QVERIFY(health.operationName.isEmpty());
    QVERIFY(health.providerName.isEmpty());
    QCOMPARE(health.inputTokens, qint64(-1));
    const QJsonObject healthAttrs = attributes(health);
    QCOMPARE(healthAttrs.value(QLatin1String("http.request.method")).toString(), QStringLiteral("GET"));
    QCOMPARE(healthAttrs.value(QLatin1String("url.full")).toString(),
             QStringLiteral("http://billing.internal:8080/healthz"));
    QCOMPARE(healthAttrs.value(QLatin1String("http.response.status_code")).toInteger(-1), qint64(200));
    QCOMPARE(healthAttrs.value(QLatin1String("server.port")).toInteger(-1), qint64(8080));
}

QTEST_GUILESS_MAIN(tst_OtelJsPeer)
#include "tst_otel_js_peer.moc"
