#include "connectors/runtime/SseParser.h"

#include <QtTest>

using namespace Breaker;

static QStringList sl(std::initializer_list<const char *> items)
{
    QStringList out;
    for (const char *item : items)
        out << QString::fromUtf8(item);
    return out;
}

// Events rendered as "type|id|data" lines so a table can state them compactly.
static QStringList render(const std::vector<SseEvent> &events)
{
    QStringList out;
    for (const SseEvent &e : events)
        out << QStringLiteral("%1|%2|%3")
                   .arg(QString::fromUtf8(e.type), QString::fromUtf8(e.id), QString::fromUtf8(e.data));
    return out;
}

class tst_SseParser : public QObject
{
    Q_OBJECT

private slots:
    void framing_data();
    void framing();
    void everySplitGivesTheSameEvents();
    void retryField();
    void partialEventAtEndIsDropped();
    void oversizedEventFails();
    void lastEventIdSurvivesForReconnect();
};

void tst_SseParser::framing_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<QStringList>("expected");

    QTest::newRow("a2a-jsonrpc-lf") << QByteArray("data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n")
                                    << sl({"message||{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"});
    QTest::newRow("crlf") << QByteArray("data: a\r\n\r\ndata: b\r\n\r\n") << sl({"message||a", "message||b"});
    QTest::newRow("cr-only") << QByteArray("data: a\r\rdata: b\r\r") << sl({"message||a", "message||b"});
    QTest::newRow("multi-data-joined") << QByteArray("data: one\ndata: two\ndata:three\n\n")
                                       << sl({"message||one\ntwo\nthree"});
    QTest::newRow("comments-ignored") << QByteArray(": keep-alive\n\n: hi\ndata: x\n: mid\n\n")
                                      << sl({"message||x"});
    QTest::newRow("event-and-id") << QByteArray("event: values\nid: 17\ndata: {}\n\n")
                                  << sl({"values|17|{}"});
    QTest::newRow("type-resets") << QByteArray("event: metadata\ndata: 1\n\ndata: 2\n\n")
                                 << sl({"metadata||1", "message||2"});
    QTest::newRow("id-persists") << QByteArray("id: 5\ndata: a\n\ndata: b\n\n")
                                 << sl({"message|5|a", "message|5|b"});
    QTest::newRow("id-without-data-not-dispatched") << QByteArray("id: 9\n\ndata: c\n\n")
                                                     << sl({"message|9|c"});
    QTest::newRow("empty-id-resets") << QByteArray("id: 3\ndata: a\n\nid\ndata: b\n\n")
                                     << sl({"message|3|a", "message||b"});
    QTest::newRow("id-with-nul-ignored") << QByteArray("id: 1\ndata: a\n\nid: x\0y\ndata: b\n\n", 32)
                                         << sl({"message|1|a", "message|1|b"});
    QTest::newRow("only-one-space-stripped") << QByteArray("data:  two spaces\n\n")
                                             << sl({"message|| two spaces"});
    QTest::newRow("field-without-colon") << QByteArray("data\n\n") << sl({"message||"});
    QTest::newRow("unknown-field-ignored") << QByteArray("foo: bar\ndata: z\n\n") << sl({"message||z"});
    QTest::newRow("bom-skipped") << QByteArray("\xEF\xBB\xBF" "data: a\n\n") << sl({"message||a"});
    QTest::newRow("empty-data-lines") << QByteArray("data:\ndata:\n\n") << sl({"message||\n"});
    QTest::newRow("blank-lines-only") << QByteArray("\n\n\r\n\r\r") << sl({});
}

void tst_SseParser::framing()
{
    QFETCH(QByteArray, stream);
    QFETCH(QStringList, expected);
    SseParser parser;
    QCOMPARE(render(parser.feed(stream)), expected);
    QVERIFY(!parser.failed());
}

// A stream split at any byte (CR LF pairs and the BOM included) gives the same events.
void tst_SseParser::everySplitGivesTheSameEvents()
{
    const QByteArray stream("\xEF\xBB\xBF" "event: a\r\ndata: 1\r\n\r\n: c\rdata: 2\rdata: 3\r\rid: 7\ndata: 4\n\n");
    const QStringList expected = sl({"a||1", "message||2\n3", "message|7|4"});
    for (qsizetype split1 = 0; split1 <= stream.size(); ++split1) {
        for (qsizetype split2 = split1; split2 <= stream.size(); ++split2) {
            SseParser parser;
            std::vector<SseEvent> all;
            for (const QByteArray &piece : {stream.first(split1), stream.sliced(split1, split2 - split1),
                                            stream.sliced(split2)}) {
                auto events = parser.feed(piece);
                all.insert(all.end(), events.begin(), events.end());
            }
            QCOMPARE(render(all), expected);
        }
    }
}

void tst_SseParser::retryField()
{
    SseParser parser;
    auto events = parser.feed("retry: 1500\ndata: a\n\nretry: 12x\ndata: b\n\n");
    QCOMPARE(events.size(), size_t(2));
    QCOMPARE(events[0].retryMs, std::optional<int>(1500));
    QVERIFY(!events[1].retryMs.has_value());
}

void tst_SseParser::partialEventAtEndIsDropped()
{
    SseParser parser;
    QCOMPARE(render(parser.feed("data: whole\n\ndata: half")), sl({"message||whole"}));
    QVERIFY(parser.finish());
    SseParser clean;
    clean.feed("data: whole\n\n");
    QVERIFY(!clean.finish());
}

void tst_SseParser::oversizedEventFails()
{
    SseParser parser(64);
    QCOMPARE(parser.feed("data: small\n\n").size(), size_t(1));
    parser.feed(QByteArray("data: ").append(QByteArray(100, 'x')));
    QVERIFY(parser.failed());
    QVERIFY(parser.feed("\n\ndata: later\n\n").empty());
}

void tst_SseParser::lastEventIdSurvivesForReconnect()
{
    SseParser parser;
    parser.feed("id: run-1:42\ndata: {}\n\ndata: partial");
    QCOMPARE(parser.lastEventId(), QByteArray("run-1:42"));
}

QTEST_APPLESS_MAIN(tst_SseParser)
#include "tst_sseparser.moc"
