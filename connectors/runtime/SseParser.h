#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>
#include <vector>

namespace Breaker {

// One server-sent event (WHATWG HTML, "Server-sent events", the event stream interpretation).
struct SseEvent
{
    QByteArray type = "message"; // the `event:` field, "message" when absent
    QByteArray data;             // `data:` lines joined with '\n'
    QByteArray id;               // the last event id in force when this event was dispatched
    std::optional<int> retryMs;  // a `retry:` field seen since the previous event
};

// Incremental framer for text/event-stream bodies. Feed it bytes as they arrive, in chunks of
// any size (a CR LF pair may be split across chunks); it returns the events completed by each
// chunk. LF, CR LF and CR all end a line, `:` lines are comments, an event ends at a blank line,
// and a partial event at the end of the stream is dropped (finish() says whether one was).
// An event larger than maxEventBytes() puts the parser in the error state: the caller must drop
// the connection, because the rest of the stream can no longer be framed reliably.
class SseParser
{
public:
    explicit SseParser(qsizetype maxEventBytes = 16 * 1024 * 1024);

    std::vector<SseEvent> feed(QByteArrayView bytes);
    // End of stream. True when a partial event (or line) was pending and is dropped.
    bool finish();

    bool failed() const { return m_failed; }
    // The id to send as Last-Event-ID when reconnecting (empty when none was set).
    QByteArray lastEventId() const { return m_lastEventId; }
    qsizetype maxEventBytes() const { return m_maxEventBytes; }

private:
    void processLine(QByteArrayView line, std::vector<SseEvent> &out);

    QByteArray m_line;           // the unfinished line
    QByteArray m_data;           // data of the event being built
    QByteArray m_type;           // event type of the event being built
    QByteArray m_lastEventId;
    std::optional<int> m_retryMs;
    qsizetype m_pendingBytes = 0; // bytes of the event being built, for the limit
    qsizetype m_maxEventBytes;
    bool m_sawCr = false;         // the previous chunk ended with CR: skip a leading LF
    bool m_atStart = true;        // a UTF-8 BOM is skipped only at the very start
    bool m_hasFields = false;     // a field line was seen since the last dispatch
    bool m_hasData = false;
    bool m_failed = false;
};

} // namespace Breaker
