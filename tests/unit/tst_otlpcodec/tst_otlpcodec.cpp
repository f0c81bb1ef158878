#include "connectors/observability/OtlpCodec.h"
#include "connectors/observability/SpanBuilder.h"

#include <QFile>
#include <QTest>

#include <cstring>
#include <limits>

using namespace Breaker;
using namespace Breaker::Otlp;

namespace {

QByteArray readData(const char *name)
{
    QFile f(QStringLiteral(BREAKER_TEST_DATA_DIR "/otlp/") + QLatin1String(name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot open test data %s", name);
    return f.readAll();
}

template<size_t N> std::array<uint8_t, N> idFromHex(const char *hex)
{
    const QByteArray raw = QByteArray::fromHex(QByteArray(hex));
    std::array<uint8_t, N> id{};
    Q_ASSERT(raw.size() == qsizetype(N));
    std::memcpy(id.data(), raw.constData(), N);
    return id;
}

DecodeResult decode(const QString &format, const QByteArray &body)
{
    return format == QLatin1String("proto") ? decodeProtobuf(body) : decodeJson(body);
}

const Span *findSpan(const DecodeResult &r, const char *spanIdHex)
{
    for (const Span &s : r.spans) {
        if (toHex(s.spanId) == spanIdHex)
            return &s;
    }
    return nullptr;
}

// The request the round-trip tests encode; covers every OutAttribute alternative.
std::vector<OutResourceSpans> roundTripRequest()
{
    OutResourceSpans rs;
    rs.resource = {{"service.name", QByteArray("billing-agent")},
                   {"enduser.id", QByteArray("user:alice")},
                   {"gen_ai.agent.name", QByteArray("ResourceName")}};
    rs.scopeName = "breaker-tests";
    rs.scopeVersion = "1.2.3";

    OutSpan root;
    root.traceId = idFromHex<16>("0af7651916cd43dd8448eb211c80319c");
    root.spanId = idFromHex<8>("b7ad6b7169203331");
    root.name = "invoke_agent Refunds";
    root.kind = 1;
    root.startNs = 1795665566992000000;
    root.endNs = 1795665566994442875;
    root.attributes = {{"gen_ai.operation.name", QByteArray("invoke_agent")},
                       {"gen_ai.agent.name", QByteArray("Refunds")},
                       {"gen_ai.agent.id", QByteArray("agent-7")},
                       {"gen_ai.conversation.id", QByteArray("ctx-1")}};
    OutEvent ev;
    ev.name = "approval.requested";
    ev.timeNs = 1795665566994437508;
    ev.attributes = {{"tool", QByteArray("refund")}, {"amount_minor", qint64(2500)}};
    root.events.push_back(ev);

    OutSpan chat;
    chat.traceId = root.traceId;
    chat.spanId = idFromHex<8>("00f067aa0ba902b7");
    chat.parentSpanId = root.spanId;
    chat.hasParent = true;
    chat.name = "chat \"quoted\" \xc3\xa9\\ \n";
    chat.kind = 3;
    chat.startNs = 1795665566993000000;
    chat.endNs = 1795665566993070219;
    chat.statusCode = 2;
    chat.statusMessage = "rate limited";
    chat.attributes = {{"gen_ai.provider.name", QByteArray("openai")},
                       {"gen_ai.request.model", QByteArray("gpt-4o")},
                       {"gen_ai.usage.input_tokens", qint64(120)},
                       {"gen_ai.usage.output_tokens", qint64(33)},
                       {"neg", qint64(-42)},
                       {"min", std::numeric_limits<qint64>::min()},
                       {"temperature", 0.7},
                       {"stream", true},
                       {"off", false},
                       {"gen_ai.response.finish_reasons", QList<QByteArray>{"stop", "length"}},
                       {"error.type", QByteArray("429")},
                       {"gen_ai.tool.call.arguments", QByteArray("{\"pin\":\"1234\"}")}};
    rs.spans = {root, chat};

    OutResourceSpans second;
    second.resource = {{"service.name", QByteArray("other")}};
    second.scopeName = "s2";
    OutSpan tool;
    tool.traceId = idFromHex<16>("ffffffffffffffffffffffffffffffff");
    tool.spanId = idFromHex<8>("0000000000000001");
    tool.name = "execute_tool refund";
    tool.kind = 5;
    tool.startNs = 0;
    tool.endNs = std::numeric_limits<qint64>::max();
    tool.attributes = {{"gen_ai.tool.name", QByteArray("refund")}, {"empty", QByteArray()}};
    second.spans = {tool};
    return {rs, second};
}

} // namespace

class tst_OtlpCodec : public QObject
{
    Q_OBJECT
private slots:
    void decodeOutcome_data();
    void decodeOutcome();

    void jsonChatSample();
    void jsonInvokeAgentSample();
    void jsonToolErrorSample();
    void protoChatSample();
    void jsonAndProtoSamplesAgree();

    void intValueForms_data();
    void intValueForms();
    void timesAsNumbers();
    void unknownFieldsIgnored_data();
    void unknownFieldsIgnored();
    void idsAreCaseInsensitiveAndZeroParentIsRoot();
    void valueTypes_data();
    void valueTypes();
    void doublesEveryParserReads_data();
    void doublesEveryParserReads();
    void hugeDoubleAttributeStaysJson();
    void deprecatedNames();
    void protoDeprecatedNames();
    void redaction();
    void resourceAttributesApplyUnlessSpanSetsThem();
    void resourceDefectRejectsOnlyItsSpans();
    void delegationSpendAndCorrelation();
    void rejectMessageIsBounded();

    void roundTrip_data();
    void roundTrip();
    void encodeJsonLooksLikeTheJsExporter();
    void encodeProtobufFieldEncoding();
    void responses();
    void hex();
};

// --- Outcome of every crafted frame: body error vs rejected spans vs kept spans ---------

void tst_OtlpCodec::decodeOutcome_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("error");
    QTest::addColumn<qint64>("rejected");
    QTest::addColumn<int>("kept");
    QTest::addColumn<QString>("message"); // substring of error or rejectMessage

    const QString json = QStringLiteral("json");
    const QString proto = QStringLiteral("proto");
    auto row = [](const char *name,
                  const QString &format,
                  const QByteArray &body,
                  bool error,
                  qint64 rejected,
                  int kept,
                  const char *message) {
        QTest::newRow(name) << format << body << error << rejected << kept
                            << QString::fromUtf8(message);
    };

    // Samples.
    row("json chat sample", json, readData("otlp_json_chat_span.json"), false, 0, 1, "");
    row("json agent sample", json, readData("otlp_json_invoke_agent_span.json"), false, 0, 1, "");
    row("json tool sample", json, readData("otlp_json_tool_span_error.json"), false, 0, 1, "");
    row("proto chat sample", proto, readData("otlp_proto_chat_span.bin"), false, 0, 1, "");

    // Whole body malformed: 400, nothing kept.
    row("json empty body", json, QByteArray(), true, 0, 0, "malformed");
    row("json not json", json, readData("json_not_json.txt"), true, 0, 0, "not a JSON object");
    row("json truncated", json, readData("json_truncated.json"), true, 0, 0, "malformed");
    row("json trailing garbage",
        json,
        readData("json_trailing_garbage.json"),
        true,
        0,
        0,
        "malformed");
    row("json bad literal", json, readData("json_bad_literal.json"), true, 0, 0, "malformed");
    row("json resourceSpans not array",
        json,
        readData("json_resource_spans_not_array.json"),
        true,
        0,
        0,
        "resourceSpans is not an array");
    row("json root is array",
        json,
        readData("json_root_array.json"),
        true,
        0,
        0,
        "not a JSON object");
    row("json root is string", json, QByteArray("\"x\""), true, 0, 0, "not a JSON object");
    row("json spans not array",
        json,
        QByteArray(R"({"resourceSpans":[{"scopeSpans":[{"spans":7}]}]})"),
        true,
        0,
        0,
        "spans is not an array");
    row("json unclosed string",
        json,
        QByteArray(R"({"resourceSpans":[{"a":"b)"),
        true,
        0,
        0,
        "malformed");
    row("proto garbage", proto, readData("proto_garbage.bin"), true, 0, 0, "varint");
    row("proto truncated", proto, readData("proto_truncated.bin"), true, 0, 0, "malformed");
    row("proto length past end",
        proto,
        readData("proto_length_past_end.bin"),
        true,
        0,
        0,
        "length past the end");
    row("proto group", proto, readData("proto_group.bin"), true, 0, 0, "groups");
    row("proto wire type 7", proto, QByteArray("\x0f", 1), true, 0, 0, "wire type");
    row("proto field number 0", proto, QByteArray("\x00\x00", 2), true, 0, 0, "field number");
    row("proto resource_spans as varint",
        proto,
        QByteArray("\x08\x01", 2),
        true,
        0,
        0,
        "resource_spans");

    // Valid and empty.
    row("json {}", json, readData("json_empty_object.json"), false, 0, 0, "");
    row("json empty resourceSpans", json, QByteArray(R"({"resourceSpans":[]})"), false, 0, 0, "");
    row("json null resourceSpans", json, QByteArray(R"({"resourceSpans":null})"), false, 0, 0, "");
    row("proto empty body", proto, QByteArray(), false, 0, 0, "");

    // Span-level defects: that span is rejected, the others are kept.
    row("json span id 15 chars",
        json,
        readData("json_bad_span_id_length.json"),
        false,
        1,
        1,
        "spanId must be 16 hex characters, got 15");
    row("json non-hex trace id",
        json,
        readData("json_non_hex_id.json"),
        false,
        1,
        1,
        "traceId is not hex");
    row("json start after end",
        json,
        readData("json_start_after_end.json"),
        false,
        1,
        1,
        "endTimeUnixNano is before startTimeUnixNano");
    row("json wrong types",
        json,
        readData("json_wrong_types.json"),
        false,
        5,
        1,
        "name is not a string");
    row("json missing or zero ids",
        json,
        readData("json_missing_ids.json"),
        false,
        3,
        1,
        "traceId is missing");
    row("json nested too deeply",
        json,
        readData("json_deep_nesting.json"),
        false,
        1,
        1,
        "nested too deeply");
    row("json span not an object",
        json,
        QByteArray(R"({"resourceSpans":[{"scopeSpans":[{"spans":[1,"x"]}]}]})"),
        false,
        2,
        0,
        "span is not an object");
    row("proto trace id 15 bytes",
        proto,
        readData("proto_bad_trace_id_length.bin"),
        false,
        1,
        1,
        "trace_id must be 16 bytes, got 15");
    row("proto name as varint",
        proto,
        readData("proto_wrong_wire_type.bin"),
        false,
        1,
        1,
        "field 5 has wire type 0");
    row("proto start after end",
        proto,
        readData("proto_start_after_end.bin"),
        false,
        1,
        1,
        "endTimeUnixNano is before startTimeUnixNano");
    row("proto invalid utf-8 name",
        proto,
        readData("proto_invalid_utf8.bin"),
        false,
        1,
        1,
        "not valid UTF-8");
    row("proto missing span id",
        proto,
        readData("proto_missing_span_id.bin"),
        false,
        1,
        1,
        "spanId is missing");
    row("proto nested too deeply",
        proto,
        readData("proto_deep_nesting.bin"),
        false,
        1,
        1,
        "nested too deeply");
}

void tst_OtlpCodec::decodeOutcome()
{
    QFETCH(QString, format);
    QFETCH(QByteArray, body);
    QFETCH(bool, error);
    QFETCH(qint64, rejected);
    QFETCH(int, kept);
    QFETCH(QString, message);

    const DecodeResult r = decode(format, body);
    QCOMPARE(!r.error.isEmpty(), error);
    QCOMPARE(r.rejectedSpans, rejected);
    QCOMPARE(int(r.spans.size()), kept);
    if (error)
        QVERIFY2(r.error.contains(message), qPrintable(r.error));
    else if (rejected > 0)
        QVERIFY2(r.rejectMessage.contains(message), qPrintable(r.rejectMessage));
    else
        QVERIFY(r.rejectMessage.isEmpty());
    // Where a defective span sits next to a good one, the good one is what survives.
    if (rejected > 0 && kept == 1)
        QCOMPARE(r.spans.front().name, QByteArray("good span"));
    for (const Span &s : r.spans) {
        QVERIFY(s.endNs >= s.startNs);
        QVERIFY(s.traceId != TraceId{});
        QVERIFY(s.spanId != SpanId{});
    }
}

// --- The recorded samples decode to their exact values ------------------------------------

void tst_OtlpCodec::jsonChatSample()
{
    const DecodeResult r = decodeJson(readData("otlp_json_chat_span.json"));
    QVERIFY(r.error.isEmpty());
    QCOMPARE(r.spans.size(), size_t(1));
    const Span &s = r.spans.front();
    QCOMPARE(toHex(s.traceId), QByteArray("dcde135ac7f6ae4581ab8935a66b8fc0"));
    QCOMPARE(toHex(s.spanId), QByteArray("c23ed9cb617b3c0a"));
    QVERIFY(s.hasParent);
    QCOMPARE(toHex(s.parentSpanId), QByteArray("4823e6c6398b533f"));
    QCOMPARE(s.name, QByteArray("chat gpt-4o"));
    QCOMPARE(s.kind, 3);
    QCOMPARE(s.startNs, Q_INT64_C(1795665566993000000));
    QCOMPARE(s.endNs, Q_INT64_C(1795665566993070219)); // exact: not via double
    QCOMPARE(s.statusCode, 0);
    QCOMPARE(s.serviceName, QByteArray("loopback-agent"));
    QCOMPARE(s.operationName, QByteArray("chat"));
    QCOMPARE(s.providerName, QByteArray("openai"));
    QCOMPARE(s.requestModel, QByteArray("gpt-4o"));
    QCOMPARE(s.responseModel, QByteArray("gpt-4o-2024-08-06"));
    QCOMPARE(s.inputTokens, 120);
    QCOMPARE(s.outputTokens, 33);
    QCOMPARE(s.agentName, QByteArray());
    QCOMPARE(s.spendMinor, -1);
    QCOMPARE(s.attributesJson,
             QByteArray(R"({"gen_ai.operation.name":"chat","gen_ai.provider.name":"openai",)"
                        R"("gen_ai.request.model":"gpt-4o","gen_ai.response.model":)"
                        R"("gpt-4o-2024-08-06","gen_ai.usage.input_tokens":120,)"
                        R"("gen_ai.usage.output_tokens":33,)"
                        R"("gen_ai.response.finish_reasons":["tool_calls"]})"));
    QVERIFY(s.events.empty());
}

void tst_OtlpCodec::jsonInvokeAgentSample()
{
    const DecodeResult r = decodeJson(readData("otlp_json_invoke_agent_span.json"));
    QVERIFY(r.error.isEmpty());
    QCOMPARE(r.spans.size(), size_t(1));
    const Span &s = r.spans.front();
    QCOMPARE(toHex(s.spanId), QByteArray("4823e6c6398b533f"));
    QVERIFY(!s.hasParent); // no parentSpanId: a root
    QCOMPARE(s.parentSpanId, SpanId{});
    QCOMPARE(s.name, QByteArray("invoke_agent WeatherBot"));
    QCOMPARE(s.kind, 1);
    QCOMPARE(s.startNs, Q_INT64_C(1795665566992000000));
    QCOMPARE(s.endNs, Q_INT64_C(1795665566994442875));
    QCOMPARE(s.operationName, QByteArray("invoke_agent"));
    QCOMPARE(s.agentName, QByteArray("WeatherBot"));
    QCOMPARE(s.agentId, QByteArray("agent-123"));
    QCOMPARE(s.conversationId, QByteArray("conv-42"));
    QCOMPARE(s.requestModel, QByteArray("gpt-4o"));
    QCOMPARE(s.inputTokens, -1);
    QCOMPARE(s.events.size(), size_t(1));
    QCOMPARE(s.events[0].name, QByteArray("approval.requested"));
    QCOMPARE(s.events[0].timeNs, Q_INT64_C(1795665566994437508));
    QCOMPARE(s.events[0].attributesJson, QByteArray(R"({"tool":"get_weather"})"));
}

void tst_OtlpCodec::jsonToolErrorSample()
{
    const DecodeResult r = decodeJson(readData("otlp_json_tool_span_error.json"));
    QVERIFY(r.error.isEmpty());
    QCOMPARE(r.spans.size(), size_t(1));
    const Span &s = r.spans.front();
    QCOMPARE(s.name, QByteArray("execute_tool get_weather"));
    QCOMPARE(s.operationName, QByteArray("execute_tool"));
    QCOMPARE(s.toolName, QByteArray("get_weather"));
    QCOMPARE(s.toolCallId, QByteArray("call_abc"));
    QCOMPARE(s.errorType, QByteArray("timeout"));
    QCOMPARE(s.statusCode, 2);
    QCOMPARE(s.statusMessage, QByteArray("timeout"));
    QVERIFY(s.attributesJson.contains(R"("gen_ai.tool.type":"function")"));
}

void tst_OtlpCodec::protoChatSample()
{
    const DecodeResult r = decodeProtobuf(readData("otlp_proto_chat_span.bin"));
    QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
    QCOMPARE(r.spans.size(), size_t(1));
    const Span &s = r.spans.front();
    QCOMPARE(toHex(s.traceId), QByteArray("2ce6c4fb58820865a18355ab37ecf39d"));
    QCOMPARE(toHex(s.spanId), QByteArray("5fcbc1931a28c2e4"));
    QVERIFY(s.hasParent);
    QCOMPARE(toHex(s.parentSpanId), QByteArray("17b5994646b57b44"));
    QCOMPARE(s.name, QByteArray("chat gpt-4o"));
    QCOMPARE(s.kind, 3);
    QCOMPARE(s.startNs, Q_INT64_C(1795665567145000000));
    QCOMPARE(s.endNs, Q_INT64_C(1795665567145067816));
    QCOMPARE(s.statusCode, 0);
    QCOMPARE(s.serviceName, QByteArray("loopback-agent"));
    QCOMPARE(s.providerName, QByteArray("openai"));
    QCOMPARE(s.responseModel, QByteArray("gpt-4o-2024-08-06"));
    QCOMPARE(s.inputTokens, 120);
    QCOMPARE(s.outputTokens, 33);
    QVERIFY(s.attributesJson.contains(R"("gen_ai.response.finish_reasons":["tool_calls"])"));
}

void tst_OtlpCodec::jsonAndProtoSamplesAgree()
{
    // The two chat samples carry the same attributes: both decoders must produce the same JSON.
    const DecodeResult j = decodeJson(readData("otlp_json_chat_span.json"));
    const DecodeResult p = decodeProtobuf(readData("otlp_proto_chat_span.bin"));
    QCOMPARE(j.spans.size(), size_t(1));
    QCOMPARE(p.spans.size(), size_t(1));
    QCOMPARE(p.spans[0].attributesJson, j.spans[0].attributesJson);
}

// --- JSON mapping rules -----------------------------------------------------------------

void tst_OtlpCodec::intValueForms_data()
{
    QTest::addColumn<QByteArray>("intValue");
    QTest::addColumn<qint64>("expected");
    QTest::addColumn<bool>("rejected");
    QTest::newRow("number") << QByteArray("120") << qint64(120) << false;
    QTest::newRow("string") << QByteArray("\"120\"") << qint64(120) << false;
    QTest::newRow("negative string") << QByteArray("\"-7\"") << qint64(-7) << false;
    QTest::newRow("max as string")
        << QByteArray("\"9223372036854775807\"") << std::numeric_limits<qint64>::max() << false;
    QTest::newRow("exact beyond double")
        << QByteArray("1795665566993070219") << Q_INT64_C(1795665566993070219) << false;
    QTest::newRow("integral exponent") << QByteArray("1.2e2") << qint64(120) << false;
    QTest::newRow("fraction") << QByteArray("1.5") << qint64(-1) << true;
    QTest::newRow("overflow string") << QByteArray("\"9223372036854775808\"") << qint64(-1) << true;
    QTest::newRow("overflow number") << QByteArray("9223372036854775808") << qint64(-1) << true;
    QTest::newRow("not a number") << QByteArray("\"12abc\"") << qint64(-1) << true;
    QTest::newRow("bool") << QByteArray("true") << qint64(-1) << true;
}

void tst_OtlpCodec::intValueForms()
{
    QFETCH(QByteArray, intValue);
    QFETCH(qint64, expected);
    QFETCH(bool, rejected);
    const QByteArray body
        = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"dcde135ac7f6ae4581ab8935a66b8fc0",)"
          R"("spanId":"c23ed9cb617b3c0a","name":"x","attributes":[{"key":"gen_ai.usage.input_tokens",)"
          R"("value":{"intValue":)"
          + intValue + "}}]}]}]}]}";
    const DecodeResult r = decodeJson(body);
    QVERIFY(r.error.isEmpty());
    QCOMPARE(r.rejectedSpans, rejected ? 1 : 0);
    if (rejected) {
        QVERIFY(r.spans.empty());
        QVERIFY2(r.rejectMessage.contains(QLatin1String("intValue is not an int64")),
                 qPrintable(r.rejectMessage));
        return;
    }
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(r.spans[0].inputTokens, expected);
    QByteArray text;
    text.setNum(expected);
    QCOMPARE(r.spans[0].attributesJson, "{\"gen_ai.usage.input_tokens\":" + text + '}');
}

void tst_OtlpCodec::timesAsNumbers()
{
    const DecodeResult r = decodeJson(readData("json_times_as_numbers.json"));
    QVERIFY(r.error.isEmpty());
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(r.spans[0].startNs, Q_INT64_C(1795665566993000000));
    QCOMPARE(r.spans[0].endNs, Q_INT64_C(1795665566993070219));

    const DecodeResult str = decodeJson(readData("json_int_as_string.json"));
    QCOMPARE(str.spans.size(), size_t(1));
    QCOMPARE(str.spans[0].inputTokens, 120);
    QCOMPARE(str.spans[0].outputTokens, 33);
}

void tst_OtlpCodec::unknownFieldsIgnored_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("json") << QStringLiteral("json") << readData("json_unknown_fields.json");
    QTest::newRow("proto") << QStringLiteral("proto") << readData("proto_unknown_fields.bin");
}

void tst_OtlpCodec::unknownFieldsIgnored()
{
    QFETCH(QString, format);
    QFETCH(QByteArray, body);
    const DecodeResult r = decode(format, body);
    QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
    QCOMPARE(r.rejectedSpans, 0);
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(r.spans[0].requestModel, QByteArray("gpt-4o"));
    QCOMPARE(r.spans[0].attributesJson, QByteArray(R"({"gen_ai.request.model":"gpt-4o"})"));
    QVERIFY(!r.spans[0].serviceName.isEmpty());
}

void tst_OtlpCodec::idsAreCaseInsensitiveAndZeroParentIsRoot()
{
    const DecodeResult r = decodeJson(readData("json_zero_parent_uppercase.json"));
    QVERIFY(r.error.isEmpty());
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(toHex(r.spans[0].traceId), QByteArray("dcde135ac7f6ae4581ab8935a66b8fc0"));
    QCOMPARE(toHex(r.spans[0].spanId), QByteArray("c23ed9cb617b3c0a"));
    QVERIFY(!r.spans[0].hasParent);

    const DecodeResult k = decodeJson(readData("json_value_before_key.json"));
    QCOMPARE(k.spans.size(), size_t(1));
    QCOMPARE(k.spans[0].requestModel, QByteArray("gpt-4o"));

    const DecodeResult n = decodeJson(readData("json_null_fields.json"));
    QVERIFY(n.error.isEmpty());
    QCOMPARE(n.spans.size(), size_t(1));
    QVERIFY(!n.spans[0].hasParent);
    QCOMPARE(n.spans[0].attributesJson, QByteArray(R"({"empty":null,"novalue":null})"));
}

void tst_OtlpCodec::valueTypes_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("attributesJson");
    QTest::newRow("json") << QStringLiteral("json") << readData("json_value_types.json")
                          << QByteArray(
                                 "{\"s\":\"quote \\\" backslash \\\\ newline \\n tab \\t ctrl "
                                 "\\u0001 \xc3\xa9\",\"b\":true,\"i\":-9223372036854775808,"
                                 "\"d\":0.25,\"nan\":\"NaN\",\"bytes\":\"AAEC/w==\","
                                 "\"arr\":[1,\"two\",[]],\"kv\":{\"a\":false,\"n\":null},"
                                 "\"empty\":null}");
    QTest::newRow("proto") << QStringLiteral("proto") << readData("proto_value_types.bin")
                           << QByteArray("{\"b\":true,\"d\":0.25,\"bytes\":\"AAEC/w==\","
                                         "\"arr\":[1,\"two\"],\"kv\":{\"a\":false,\"n\":null},"
                                         "\"empty\":null}");
}

void tst_OtlpCodec::valueTypes()
{
    QFETCH(QString, format);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, attributesJson);
    const DecodeResult r = decode(format, body);
    QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(r.spans[0].attributesJson, attributesJson);
    if (format == QLatin1String("proto")) {
        QCOMPARE(r.spans[0].events.size(), size_t(1));
        QCOMPARE(r.spans[0].events[0].name, QByteArray("approval.requested"));
        QCOMPARE(r.spans[0].events[0].timeNs, Q_INT64_C(1795665566993000001));
        QCOMPARE(r.spans[0].events[0].attributesJson, QByteArray(R"({"tool":"get_weather"})"));
    }
}

void tst_OtlpCodec::doublesEveryParserReads_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("json");
    QTest::newRow("fraction") << 0.25 << QByteArray("0.25");
    QTest::newRow("integral, small") << 120.0 << QByteArray("120");
    QTest::newRow("integral, 2^53 + 2") << 9007199254740994.0 << QByteArray("9007199254740994");
    QTest::newRow("negative zero") << -0.0 << QByteArray("-0");
    QTest::newRow("large exponent") << 1e300 << QByteArray("1e+300");
    // Past 64 bits the shortest form is digits alone, which 64-bit integer parsers refuse.
    QTest::newRow("-2^68") << -295147905179352825856.0 << QByteArray("-2.9514790517935283e+20");
    QTest::newRow("2^64") << 18446744073709551616.0 << QByteArray("1.8446744073709552e+19");
    QTest::newRow("2^63") << 9223372036854775808.0 << QByteArray("9.223372036854776e+18");
    QTest::newRow("just under 2^63") << 9223372036854774784.0 << QByteArray("9223372036854774784");
}

void tst_OtlpCodec::doublesEveryParserReads()
{
    QFETCH(double, value);
    QFETCH(QByteArray, json);
    QByteArray out;
    appendJsonDouble(out, value);
    QCOMPARE(out, json);
}

void tst_OtlpCodec::hugeDoubleAttributeStaysJson()
{
    // The input fuzz_otlp_proto found (tests/fuzz/corpus/otlp_proto/bigint-double), reduced to
    // its point: a doubleValue of -2^68, decoded from JSON too.
    const QByteArray body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
        "spanId":"eee19b7ec3c1b174","name":"n","startTimeUnixNano":"1","endTimeUnixNano":"2",
        "attributes":[{"key":"d","value":{"doubleValue":-2.9514790517935283e20}}]}]}]}]})";
    const DecodeResult r = decodeJson(body);
    QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(r.spans[0].attributesJson, QByteArray(R"({"d":-2.9514790517935283e+20})"));
}

// --- GenAI conventions -------------------------------------------------------------------

void tst_OtlpCodec::deprecatedNames()
{
    const DecodeResult r = decodeJson(readData("json_deprecated_names.json"));
    QCOMPARE(r.spans.size(), size_t(2));
    const Span *old = findSpan(r, "c23ed9cb617b3c0a");
    QVERIFY(old);
    QCOMPARE(old->providerName, QByteArray("anthropic"));
    QCOMPARE(old->inputTokens, 7);
    QCOMPARE(old->outputTokens, 9);
    QCOMPARE(old->dbSystem, QByteArray("postgresql"));
    QCOMPARE(old->dataSourceId, QByteArray("crm"));
    // The deprecated names stay visible in the attribute JSON.
    QVERIFY(old->attributesJson.contains(R"("gen_ai.system":"anthropic")"));

    const Span *both = findSpan(r, "d23ed9cb617b3c0a");
    QVERIFY(both);
    QCOMPARE(both->providerName, QByteArray("openai"));
    QCOMPARE(both->inputTokens, 2);
    QCOMPARE(both->dataSourceId, QByteArray("kb-7"));
    QCOMPARE(both->dbSystem, QByteArray("mysql"));
}

void tst_OtlpCodec::protoDeprecatedNames()
{
    const DecodeResult r = decodeProtobuf(readData("proto_deprecated_names.bin"));
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(r.spans[0].providerName, QByteArray("anthropic"));
    QCOMPARE(r.spans[0].inputTokens, 7);
    QCOMPARE(r.spans[0].outputTokens, 9);

    const DecodeResult n = decodeProtobuf(readData("proto_negative_int.bin"));
    QCOMPARE(n.spans.size(), size_t(1));
    QCOMPARE(n.spans[0].attributesJson, QByteArray(R"({"n":-5,"gen_ai.usage.input_tokens":120})"));
    QCOMPARE(n.spans[0].inputTokens, 120);
}

void tst_OtlpCodec::redaction()
{
    const DecodeResult r = decodeJson(readData("json_redaction.json"));
    QCOMPARE(r.spans.size(), size_t(1));
    const Span &s = r.spans[0];
    QCOMPARE(s.attributesJson,
             QByteArray(R"({"gen_ai.tool.name":"pay","gen_ai.tool.call.arguments":"[redacted]",)"
                        R"("gen_ai.tool.call.result":"[redacted]",)"
                        R"("gen_ai.input.messages":"[redacted]",)"
                        R"("gen_ai.output.messages":"[redacted]",)"
                        R"("gen_ai.system_instructions":"[redacted]"})"));
    QCOMPARE(s.toolName, QByteArray("pay"));
    QCOMPARE(s.events.size(), size_t(1));
    QCOMPARE(s.events[0].attributesJson,
             QByteArray(R"({"gen_ai.input.messages":"[redacted]","kept":"visible"})"));
    for (const char *secret : {"4242", "hunter2", "sk_live", "secret system prompt"}) {
        QVERIFY2(!s.attributesJson.contains(secret), secret);
        QVERIFY2(!s.events[0].attributesJson.contains(secret), secret);
    }
}

void tst_OtlpCodec::resourceAttributesApplyUnlessSpanSetsThem()
{
    const DecodeResult r = decodeJson(readData("json_resource_lift.json"));
    QVERIFY(r.error.isEmpty());
    QCOMPARE(r.spans.size(), size_t(2));
    const Span *own = findSpan(r, "c23ed9cb617b3c0a");
    const Span *bare = findSpan(r, "d23ed9cb617b3c0a");
    QVERIFY(own && bare);
    QCOMPARE(own->agentName, QByteArray("SpanAgent"));      // the span wins
    QCOMPARE(bare->agentName, QByteArray("ResourceAgent")); // the resource fills in
    QCOMPARE(own->principal, QByteArray("user:alice"));
    QCOMPARE(own->serviceName, QByteArray("billing-agent"));
    QCOMPARE(bare->inputTokens, 5);
    // Resource attributes are not span attributes.
    QCOMPARE(bare->attributesJson, QByteArray("{}"));
}

void tst_OtlpCodec::resourceDefectRejectsOnlyItsSpans()
{
    const QByteArray body
        = R"({"resourceSpans":[)"
          R"({"resource":{"attributes":[{"key":"n","value":{"intValue":"nope"}}]},"scopeSpans":[{"spans":[)"
          R"({"traceId":"dcde135ac7f6ae4581ab8935a66b8fc0","spanId":"1111111111111111","name":"a"},)"
          R"({"traceId":"dcde135ac7f6ae4581ab8935a66b8fc0","spanId":"2222222222222222","name":"b"}]}]},)"
          R"({"resource":{},"scopeSpans":[{"spans":[)"
          R"({"traceId":"dcde135ac7f6ae4581ab8935a66b8fc0","spanId":"3333333333333333","name":"c"}]}]}]})";
    const DecodeResult r = decodeJson(body);
    QVERIFY(r.error.isEmpty());
    QCOMPARE(r.rejectedSpans, 2);
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(r.spans[0].name, QByteArray("c"));
    QVERIFY2(r.rejectMessage.startsWith(QLatin1String("resource: intValue")),
             qPrintable(r.rejectMessage));
}

void tst_OtlpCodec::delegationSpendAndCorrelation()
{
    const DecodeResult r = decodeJson(readData("json_delegation_spend.json"));
    QCOMPARE(r.spans.size(), size_t(2));
    const Span *s = findSpan(r, "c23ed9cb617b3c0a");
    QVERIFY(s);
    QCOMPARE(s->delegationJson, QByteArray(R"(["user:alice","agent:planner","agent:\"pay\""])"));
    QCOMPARE(s->spendMinor, 1999);
    QCOMPARE(s->spendCurrency, QByteArray("eur"));
    QCOMPARE(s->policyDecision, QByteArray("deny"));
    QCOMPARE(s->policyReason, QByteArray("over limit"));
    QCOMPARE(s->principal, QByteArray("user:alice"));
    QCOMPARE(s->a2aTaskId, QByteArray("task-1"));
    QCOMPARE(s->a2aTaskState, QByteArray("working"));
    QCOMPARE(s->langgraphThreadId, QByteArray("th-1"));
    QCOMPARE(s->langgraphRunId, QByteArray("run-1"));
    QCOMPARE(s->workflowName, QByteArray("refunds"));
    const Span *str = findSpan(r, "d23ed9cb617b3c0a");
    QVERIFY(str);
    QCOMPARE(str->delegationJson, QByteArray(R"(["user:bob","agent:a"])"));
}

void tst_OtlpCodec::rejectMessageIsBounded()
{
    QByteArray spans;
    for (int i = 0; i < 10; ++i) {
        if (i)
            spans += ',';
        spans += R"({"traceId":"dcde135ac7f6ae4581ab8935a66b8fc0","spanId":"1111","name":"x"})";
    }
    const DecodeResult r = decodeJson(
        QByteArray(R"({"resourceSpans":[{"scopeSpans":[{"spans":[)" + spans + "]}]}]}"));
    QVERIFY(r.error.isEmpty());
    QCOMPARE(r.rejectedSpans, 10);
    QVERIFY(r.spans.empty());
    QVERIFY2(r.rejectMessage.startsWith(QLatin1String("span #0: spanId must be 16 hex")),
             qPrintable(r.rejectMessage));
    QVERIFY2(r.rejectMessage.endsWith(QLatin1String("; and 7 more rejected")),
             qPrintable(r.rejectMessage));
    QVERIFY(r.rejectMessage.size() < 400);
}

// --- Encoders ---------------------------------------------------------------------------

void tst_OtlpCodec::roundTrip_data()
{
    QTest::addColumn<QString>("format");
    QTest::newRow("json") << QStringLiteral("json");
    QTest::newRow("proto") << QStringLiteral("proto");
}

void tst_OtlpCodec::roundTrip()
{
    QFETCH(QString, format);
    const auto request = roundTripRequest();
    const QByteArray body
        = format == QLatin1String("proto") ? encodeProtobuf(request) : encodeJson(request);
    const DecodeResult r = decode(format, body);
    QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
    QCOMPARE(r.rejectedSpans, 0);
    QCOMPARE(r.spans.size(), size_t(3));

    const Span &root = r.spans[0];
    const OutSpan &inRoot = request[0].spans[0];
    QCOMPARE(root.traceId, inRoot.traceId);
    QCOMPARE(root.spanId, inRoot.spanId);
    QVERIFY(!root.hasParent);
    QCOMPARE(root.name, inRoot.name);
    QCOMPARE(root.kind, 1);
    QCOMPARE(root.startNs, inRoot.startNs);
    QCOMPARE(root.endNs, inRoot.endNs);
    QCOMPARE(root.agentName, QByteArray("Refunds"));
    QCOMPARE(root.agentId, QByteArray("agent-7"));
    QCOMPARE(root.conversationId, QByteArray("ctx-1"));
    QCOMPARE(root.serviceName, QByteArray("billing-agent"));
    QCOMPARE(root.principal, QByteArray("user:alice"));
    QCOMPARE(root.events.size(), size_t(1));
    QCOMPARE(root.events[0].name, QByteArray("approval.requested"));
    QCOMPARE(root.events[0].timeNs, Q_INT64_C(1795665566994437508));
    QCOMPARE(root.events[0].attributesJson, QByteArray(R"({"tool":"refund","amount_minor":2500})"));

    const Span &chat = r.spans[1];
    const OutSpan &inChat = request[0].spans[1];
    QCOMPARE(chat.spanId, inChat.spanId);
    QVERIFY(chat.hasParent);
    QCOMPARE(chat.parentSpanId, inRoot.spanId);
    QCOMPARE(chat.name, inChat.name);
    QCOMPARE(chat.kind, 3);
    QCOMPARE(chat.startNs, inChat.startNs);
    QCOMPARE(chat.endNs, inChat.endNs);
    QCOMPARE(chat.statusCode, 2);
    QCOMPARE(chat.statusMessage, QByteArray("rate limited"));
    QCOMPARE(chat.providerName, QByteArray("openai"));
    QCOMPARE(chat.requestModel, QByteArray("gpt-4o"));
    QCOMPARE(chat.inputTokens, 120);
    QCOMPARE(chat.outputTokens, 33);
    QCOMPARE(chat.errorType, QByteArray("429"));
    QCOMPARE(chat.agentName, QByteArray("ResourceName")); // from the resource
    QCOMPARE(chat.attributesJson,
             QByteArray(R"({"gen_ai.provider.name":"openai","gen_ai.request.model":"gpt-4o",)"
                        R"("gen_ai.usage.input_tokens":120,"gen_ai.usage.output_tokens":33,)"
                        R"("neg":-42,"min":-9223372036854775808,"temperature":0.7,)"
                        R"("stream":true,"off":false,)"
                        R"("gen_ai.response.finish_reasons":["stop","length"],)"
                        R"("error.type":"429","gen_ai.tool.call.arguments":"[redacted]"})"));

    const Span &tool = r.spans[2];
    QCOMPARE(toHex(tool.traceId), QByteArray("ffffffffffffffffffffffffffffffff"));
    QCOMPARE(tool.kind, 5);
    QCOMPARE(tool.startNs, 0);
    QCOMPARE(tool.endNs, std::numeric_limits<qint64>::max());
    QCOMPARE(tool.serviceName, QByteArray("other"));
    QCOMPARE(tool.principal, QByteArray()); // the first resource does not leak into the second
    QCOMPARE(tool.agentName, QByteArray());
    QCOMPARE(tool.attributesJson, QByteArray(R"({"gen_ai.tool.name":"refund","empty":""})"));
}

void tst_OtlpCodec::encodeJsonLooksLikeTheJsExporter()
{
    const QByteArray body = encodeJson(roundTripRequest());
    QVERIFY(body.startsWith(R"({"resourceSpans":[{"resource":{"attributes":[)"));
    QVERIFY(body.contains(R"("startTimeUnixNano":"1795665566992000000")")); // times: strings
    QVERIFY(body.contains(R"({"key":"gen_ai.usage.input_tokens","value":{"intValue":120}})"));
    QVERIFY(body.contains(R"("kind":3)"));
    QVERIFY(body.contains(R"("flags":257)"));
    QVERIFY(body.contains(R"("status":{"code":2,"message":"rate limited"})"));
    QVERIFY(body.contains(R"("status":{"code":0})"));
    QVERIFY(body.contains(R"("parentSpanId":"b7ad6b7169203331")"));
    QVERIFY(body.contains(R"("scope":{"name":"breaker-tests","version":"1.2.3"})"));
    // The root span has no parentSpanId at all.
    const qsizetype rootAt = body.indexOf(R"("spanId":"b7ad6b7169203331")");
    QVERIFY(rootAt > 0);
    QVERIFY(!body.mid(rootAt, 60).contains("parentSpanId"));
}

void tst_OtlpCodec::encodeProtobufFieldEncoding()
{
    OutResourceSpans rs;
    OutSpan s;
    s.traceId = idFromHex<16>("0102030405060708090a0b0c0d0e0f10");
    s.spanId = idFromHex<8>("1112131415161718");
    s.name = "n";
    s.kind = 2;
    s.startNs = 0x0102030405060708;
    s.endNs = 0x0102030405060709;
    s.attributes = {{"i", qint64(-1)}};
    rs.spans = {s};
    const QByteArray body = encodeProtobuf({rs});
    // fixed64 times, little endian: tag 0x39 (field 7, wire type 1) and 0x41 (field 8).
    QVERIFY(body.contains(QByteArray::fromHex("390807060504030201")));
    QVERIFY(body.contains(QByteArray::fromHex("410907060504030201")));
    QVERIFY(body.contains(QByteArray::fromHex("3002"))); // kind varint
    QVERIFY(body.contains(QByteArray::fromHex("0a100102030405060708090a0b0c0d0e0f10")));
    QVERIFY(body.contains(QByteArray::fromHex("12081112131415161718")));
    QVERIFY(body.contains(QByteArray::fromHex("8501"
                                              "01010000")));               // flags fixed32 257
    QVERIFY(body.contains(QByteArray::fromHex("18ffffffffffffffffff01"))); // int64 -1: 10 bytes
    const DecodeResult r = decodeProtobuf(body);
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(r.spans[0].startNs, s.startNs);
    QCOMPARE(r.spans[0].attributesJson, QByteArray(R"({"i":-1})"));
}

void tst_OtlpCodec::responses()
{
    QCOMPARE(encodeJsonResponse(0, QString()), QByteArray("{}"));
    QCOMPARE(encodeJsonResponse(3, QStringLiteral("span #0: \"bad\"")),
             QByteArray(
                 R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"span #0: \"bad\""}})"));
    QCOMPARE(encodeProtobufResponse(0, QString()), QByteArray());
    QCOMPARE(encodeProtobufResponse(3, QStringLiteral("bad")),
             QByteArray::fromHex("0a07"
                                 "0803"
                                 "1203626164"));
    // A decode result maps straight onto the response.
    const DecodeResult r = decodeJson(readData("json_start_after_end.json"));
    const QByteArray resp = encodeJsonResponse(r.rejectedSpans, r.rejectMessage);
    QVERIFY(resp.startsWith(R"({"partialSuccess":{"rejectedSpans":"1","errorMessage":"span #0)"));
}

void tst_OtlpCodec::hex()
{
    QCOMPARE(toHex(idFromHex<16>("00ff10a0b0c0d0e0f00102030405060f")),
             QByteArray("00ff10a0b0c0d0e0f00102030405060f"));
    QCOMPARE(toHex(SpanId{}), QByteArray("0000000000000000"));
}

QTEST_GUILESS_MAIN(tst_OtlpCodec)
#include "tst_otlpcodec.moc"
