#include "models/EventBlock.h"

#include <QFile>
#include <QTest>

using namespace Breaker;

Q_DECLARE_METATYPE(Breaker::RunEvent)

namespace {

RunEvent makeEvent(QByteArray trace, QByteArray span, QByteArray parent, EventKind kind, qint64 startNs,
               qint64 endNs)
{
    RunEvent e;
    e.traceId = std::move(trace);
    e.spanId = std::move(span);
    e.parentSpanId = std::move(parent);
    e.kind = kind;
    e.name = toWireName(kind);
    e.startNs = startNs;
    e.endNs = endNs;
    e.attributesJson = R"({"gen_ai.operation.name":"chat","n":1})";
    return e;
}

void compareEvents(const RunEvent &actual, const RunEvent &expected)
{
    QCOMPARE(actual.traceId, expected.traceId);
    QCOMPARE(actual.spanId, expected.spanId);
    QCOMPARE(actual.parentSpanId, expected.parentSpanId);
    QCOMPARE(actual.kind, expected.kind);
    QCOMPARE(actual.name, expected.name);
    QCOMPARE(actual.startNs, expected.startNs);
    QCOMPARE(actual.endNs, expected.endNs);
    QCOMPARE(actual.statusCode, expected.statusCode);
    QCOMPARE(actual.attributesJson,
             expected.attributesJson.isEmpty() ? QByteArray("{}") : expected.attributesJson);
    QCOMPARE(actual.inputTokens, expected.inputTokens);
    QCOMPARE(actual.outputTokens, expected.outputTokens);
    QCOMPARE(actual.costMicros, expected.costMicros);
}

} // namespace

class tst_EventBlock : public QObject
{
    Q_OBJECT
private slots:
    void roundTrip_data();
    void roundTrip();
    void hexIdsAreStoredAsBytes();
    void idsAndOrder();
    void damagedBodies_data();
    void damagedBodies();
    void everyTruncationIsAnError();
    void dedupeKey();
    void aBodyWrittenElsewhereDecodes();
};

void tst_EventBlock::roundTrip_data()
{
    QTest::addColumn<RunEvent>("e");
    const QByteArray trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const QByteArray span = "00f067aa0ba902b7";
    QTest::newRow("span with hex ids") << makeEvent(trace, span, "53995c3f42cd8ad8", EventKind::ModelCall,
                                                1700000000000000000, 1700000000250000000);
    QTest::newRow("root: no parent") << makeEvent(trace, span, {}, EventKind::AgentInvocation, 1, 2);
    QTest::newRow("no ids at all") << makeEvent({}, {}, {}, EventKind::OperatorAction, 5, 5);
    QTest::newRow("approval event id") << makeEvent(trace, QByteArray(span + "#2"), span, EventKind::ApprovalRequested, 7, 7);
    QTest::newRow("upper-case hex is text") << makeEvent(trace.toUpper(), span.toUpper(), {}, EventKind::Span, 1, 2);
    QTest::newRow("hex of another length is text") << makeEvent(trace.left(30), span.left(14), {}, EventKind::Span, 1, 2);
    QTest::newRow("ends before it starts") << makeEvent(trace, span, {}, EventKind::ToolCall, 1000, 10);
    QTest::newRow("zero times") << makeEvent(trace, span, {}, EventKind::ToolCall, 0, 0);
    QTest::newRow("negative and extreme times") << makeEvent(trace, span, {}, EventKind::ToolCall,
                                                         std::numeric_limits<qint64>::min(),
                                                         std::numeric_limits<qint64>::max());
    RunEvent counters = makeEvent(trace, span, {}, EventKind::Spend, 1, 2);
    counters.statusCode = 2;
    counters.inputTokens = 123456789012;
    counters.outputTokens = -1;
    counters.costMicros = std::numeric_limits<qint64>::max();
    QTest::newRow("counters and status") << counters;
    RunEvent empty = makeEvent(trace, span, {}, EventKind::Span, 1, 2);
    empty.attributesJson.clear();
    empty.name.clear();
    QTest::newRow("no attributes, no name") << empty;
    RunEvent big = makeEvent(trace, span, {}, EventKind::DataAccess, 1, 2);
    big.attributesJson = "{\"text\":\"" + QByteArray(100000, 'x') + "\"}";
    big.name = QByteArray("n\0ul", 4);
    QTest::newRow("large attributes, NUL in the name") << big;
}

void tst_EventBlock::roundTrip()
{
    QFETCH(RunEvent, e);
    QByteArray body;
    EventBlock::append(body, e, 0);
    EventBlock::append(body, e, 1); // a second record after it reads back the same
    const auto decoded = EventBlock::decode(body, "run-1", 3);
    QVERIFY2(decoded.ok(), qPrintable(decoded.ok() ? QString() : decoded.error().message));
    QCOMPARE(decoded->size(), size_t(2));
    for (const RunEvent &d : *decoded) {
        compareEvents(d, e);
        QCOMPARE(d.runId, QByteArray("run-1"));
    }
}

void tst_EventBlock::hexIdsAreStoredAsBytes()
{
    QByteArray body;
    EventBlock::append(body, makeEvent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7",
                                   "53995c3f42cd8ad8", EventKind::ModelCall, 1, 2),
                       0);
    QVERIFY(body.contains(QByteArray::fromHex("4bf92f3577b34da6a3ce929d0e0e4736")));
    QVERIFY(body.contains(QByteArray::fromHex("00f067aa0ba902b7")));
    QVERIFY(body.contains(QByteArray::fromHex("53995c3f42cd8ad8")));
    QVERIFY(!body.contains("4bf92f35"));
    QCOMPARE(body.front(), EventBlock::kFormat);
}

void tst_EventBlock::idsAndOrder()
{
    QByteArray body;
    for (int ordinal : {0, 4, 1023})
        EventBlock::append(body, makeEvent({}, QByteArray::number(ordinal), {}, EventKind::Span, ordinal, ordinal), ordinal);
    const auto decoded = EventBlock::decode(body, "r", 7);
    QVERIFY(decoded.ok());
    QCOMPARE(decoded->size(), size_t(3));
    // In the order they were appended, each with the id its ordinal gives it in block 7.
    QCOMPARE(decoded->at(0).id, 7 * 1024 + 0);
    QCOMPARE(decoded->at(1).id, 7 * 1024 + 4);
    QCOMPARE(decoded->at(2).id, 7 * 1024 + 1023);
    QCOMPARE(decoded->at(2).spanId, QByteArray("1023"));
    QCOMPARE(EventBlock::eventId(7, 4), decoded->at(1).id);
    // The keys alone, as the writer reads them back: the same as the events'.
    const auto keys = EventBlock::dedupeKeys(body, "r", 7);
    QVERIFY(keys.ok());
    QCOMPARE(keys->size(), size_t(0)); // no trace ids: none of them is ever a duplicate
    QByteArray spans;
    EventBlock::append(spans, makeEvent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "53995c3f42cd8ad8",
                                        EventKind::ToolCall, 10, 20), 0);
    EventBlock::append(spans, makeEvent("x", "y", {}, EventKind::Span, -5, 20), 1);
    const auto both = EventBlock::dedupeKeys(spans, "r", 7);
    QVERIFY(both.ok());
    const auto events = EventBlock::decode(spans, "r", 7);
    QCOMPARE(*both, (std::vector<QByteArray>{EventBlock::dedupeKey(events->at(0)), EventBlock::dedupeKey(events->at(1))}));
}

void tst_EventBlock::damagedBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("expected");
    QByteArray good;
    EventBlock::append(good, makeEvent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", {},
                                   EventKind::ToolCall, 1, 2),
                       0);
    QTest::newRow("empty") << QByteArray() << QStringLiteral("empty");
    QTest::newRow("unknown format") << QByteArray("\x02", 1) << QStringLiteral("unknown format 2");
    QTest::newRow("ordinal out of range") << (QByteArray("\x01", 1) + QByteArray::fromHex("8008"))
                                          << QStringLiteral("ordinal 1024");
    QTest::newRow("id of 5 bytes") << (QByteArray("\x01\x00", 2) + QByteArray::fromHex("0b") + QByteArray(5, 'a'))
                                   << QStringLiteral("cut short");
    QTest::newRow("varint past 64 bits") << (QByteArray("\x01", 1) + QByteArray(11, '\xff'))
                                         << QStringLiteral("cut short");
    QTest::newRow("length past the end") << (QByteArray("\x01\x00", 2) + QByteArray::fromHex("ffffffff0f"))
                                         << QStringLiteral("cut short");
    QTest::newRow("trailing byte") << (good + QByteArray("\x05", 1)) << QStringLiteral("event 1 is cut short");
    QTest::newRow("ordinal repeated") << (good + good.sliced(1)) << QStringLiteral("ordinal 0 does not follow 0");
    QTest::newRow("block id out of range") << good << QStringLiteral("block id is out of range");
}

void tst_EventBlock::damagedBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, expected);
    const qint64 blockId = QByteArrayView(QTest::currentDataTag()) == "block id out of range"
                               ? EventBlock::kMaxBlockId + 1
                               : 12;
    const auto decoded = EventBlock::decode(body, "run-9", blockId);
    QVERIFY(!decoded.ok());
    QCOMPARE(decoded.error().kind, Error::Kind::Invalid);
    QVERIFY2(decoded.error().message.contains(expected), qPrintable(decoded.error().message));
    QVERIFY2(decoded.error().message.contains(QStringLiteral("run-9")), qPrintable(decoded.error().message));
    // The writer's key reader refuses the same bodies.
    QVERIFY(!EventBlock::dedupeKeys(body, "run-9", blockId).ok());
}

// Whatever the damage, decoding stops with an error: no crash, no read past the end (the
// sanitizer build and fuzz_eventblock check the second).
void tst_EventBlock::everyTruncationIsAnError()
{
    QByteArray body;
    RunEvent e = makeEvent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "53995c3f42cd8ad8",
                       EventKind::ModelCall, 1700000000000000000, 1700000000250000000);
    e.inputTokens = 300;
    e.costMicros = 1234;
    EventBlock::append(body, e, 0);
    EventBlock::append(body, e, 1);
    const qsizetype firstEnd = (body.size() - 1) / 2 + 1;
    for (qsizetype n = 0; n < body.size(); ++n) {
        const auto decoded = EventBlock::decode(QByteArrayView(body).first(n), "r", 1);
        if (n == 1 || n == firstEnd) { // the header alone, or exactly the first record
            QVERIFY2(decoded.ok(), qPrintable(QString::number(n)));
            QCOMPARE(decoded->size(), size_t(n == 1 ? 0 : 1));
        } else {
            QVERIFY2(!decoded.ok(), qPrintable(QString::number(n)));
        }
    }
}

void tst_EventBlock::dedupeKey()
{
    const RunEvent a = makeEvent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", {}, EventKind::ToolCall, 1, 2);
    RunEvent sameSpanAgain = a;
    sameSpanAgain.name = "renamed";
    sameSpanAgain.endNs = 99;
    QCOMPARE(EventBlock::dedupeKey(a), EventBlock::dedupeKey(sameSpanAgain));
    RunEvent otherStart = a;
    otherStart.startNs = 3;
    QVERIFY(EventBlock::dedupeKey(a) != EventBlock::dedupeKey(otherStart));
    // Moving characters from one id to the other makes another key.
    QVERIFY(EventBlock::dedupeKey(makeEvent("ab", "c", {}, EventKind::Span, 1, 1))
            != EventBlock::dedupeKey(makeEvent("a", "bc", {}, EventKind::Span, 1, 1)));
    // Without both ids an event is never a duplicate.
    QVERIFY(EventBlock::dedupeKey(makeEvent({}, "00f067aa0ba902b7", {}, EventKind::Span, 1, 1)).isEmpty());
    QVERIFY(EventBlock::dedupeKey(makeEvent("4bf92f3577b34da6a3ce929d0e0e4736", {}, {}, EventKind::Span, 1, 1)).isEmpty());
}

// tests/fuzz/corpus/eventblock/three-events.bin was written from the format's description (a
// Python script, not this code): the decoder reads it as described.
void tst_EventBlock::aBodyWrittenElsewhereDecodes()
{
    QFile file(QStringLiteral(BREAKER_SOURCE_DIR "/tests/fuzz/corpus/eventblock/three-events.bin"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray body = file.readAll();
    const auto decoded = EventBlock::decode(body, "r1", 2);
    QVERIFY2(decoded.ok(), qPrintable(decoded.ok() ? QString() : decoded.error().message));
    QCOMPARE(decoded->size(), size_t(3));
    const RunEvent &root = decoded->at(0);
    QCOMPARE(root.id, 2 * 1024);
    QCOMPARE(root.traceId, QByteArray("4bf92f3577b34da6a3ce929d0e0e4736"));
    QCOMPARE(root.spanId, QByteArray("00f067aa0ba902b7"));
    QVERIFY(root.parentSpanId.isEmpty());
    QCOMPARE(root.kind, EventKind::AgentInvocation);
    QCOMPARE(root.name, QByteArray("invoke_agent refund-agent"));
    QCOMPARE(root.startNs, 1700000000000000000);
    QCOMPARE(root.endNs, 1700000002000000000);
    QCOMPARE(root.statusCode, 1);
    const RunEvent &chat = decoded->at(1);
    QCOMPARE(chat.kind, EventKind::ModelCall);
    QCOMPARE(chat.parentSpanId, QByteArray("00f067aa0ba902b7"));
    QCOMPARE(chat.attributesJson, QByteArray(R"({"gen_ai.operation.name":"chat","gen_ai.usage.input_tokens":412})"));
    QCOMPARE(chat.inputTokens, 412);
    QCOMPARE(chat.outputTokens, 96);
    QCOMPARE(chat.costMicros, 2210);
    const RunEvent &approval = decoded->at(2);
    QCOMPARE(approval.id, 2 * 1024 + 2);
    QCOMPARE(approval.spanId, QByteArray("53995c3f42cd8ad8#1"));
    QCOMPARE(approval.kind, EventKind::ApprovalRequested);
    // And this code writes those bytes for those events.
    QByteArray again;
    for (const RunEvent &e : *decoded)
        EventBlock::append(again, e, int(e.id - 2 * 1024));
    QCOMPARE(again.toHex(), body.toHex());
}

QTEST_GUILESS_MAIN(tst_EventBlock)
#include "tst_eventblock.moc"
