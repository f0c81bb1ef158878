#include "connectors/runtime/SseParser.h"

namespace Breaker {

SseParser::SseParser(qsizetype maxEventBytes)
    : m_maxEventBytes(maxEventBytes)
{
}

std::vector<SseEvent> SseParser::feed(QByteArrayView bytes)
{
    std::vector<SseEvent> out;
    if (m_failed)
        return out;
    qsizetype i = 0;
    if (m_atStart) {
        // The BOM may itself arrive split; wait for three bytes before deciding.
        QByteArray head = m_line;
        head.append(bytes);
        if (head.size() < 3 && QByteArrayView("\xEF\xBB\xBF").startsWith(head)) {
            m_line = head;
            return out;
        }
        m_atStart = false;
        if (head.startsWith("\xEF\xBB\xBF")) {
            const qsizetype fromLine = m_line.size();
            m_line.clear();
            i = 3 - fromLine; // skip what of the BOM is in this chunk
        } else if (!m_line.isEmpty()) {
            // Bytes held back as a possible BOM start were not one: they begin the first line.
        }
    }
    if (m_sawCr && i < bytes.size()) {
        if (bytes[i] == '\n')
            ++i;
        m_sawCr = false;
    }
    while (i < bytes.size()) {
        qsizetype end = i;
        while (end < bytes.size() && bytes[end] != '\n' && bytes[end] != '\r')
            ++end;
        if (end == bytes.size()) {
            m_line.append(bytes.sliced(i));
            m_pendingBytes += bytes.size() - i;
            if (m_pendingBytes > m_maxEventBytes)
                m_failed = true;
            break;
        }
        m_pendingBytes += end - i;
        if (m_pendingBytes > m_maxEventBytes) {
            m_failed = true;
            break;
        }
        if (m_line.isEmpty()) {
            processLine(bytes.sliced(i, end - i), out);
        } else {
            m_line.append(bytes.sliced(i, end - i));
            const QByteArray line = std::exchange(m_line, {});
            processLine(line, out);
        }
        if (bytes[end] == '\r') {
            if (end + 1 < bytes.size()) {
                i = bytes[end + 1] == '\n' ? end + 2 : end + 1;
            } else {
                m_sawCr = true;
                i = end + 1;
            }
        } else {
            i = end + 1;
        }
    }
    return out;
}

bool SseParser::finish()
{
    const bool partial = !m_line.isEmpty() || m_hasFields;
    m_line.clear();
    m_data.clear();
    m_type.clear();
    m_hasFields = m_hasData = false;
    m_pendingBytes = 0;
    return partial;
}

void SseParser::processLine(QByteArrayView line, std::vector<SseEvent> &out)
{
    if (line.isEmpty()) {
        // Dispatch. An event without data is not dispatched, but its id still counts.
        if (m_hasData) {
            SseEvent event;
            if (!m_type.isEmpty())
                event.type = m_type;
            event.data = m_data;
            event.id = m_lastEventId;
            event.retryMs = m_retryMs;
            out.push_back(std::move(event));
            m_retryMs.reset();
        }
        m_data.clear();
        m_type.clear();
        m_hasFields = m_hasData = false;
        m_pendingBytes = 0;
        return;
    }
    if (line.front() == ':')
        return; // a comment (keep-alive)
    m_hasFields = true;
    QByteArrayView field = line;
    QByteArrayView value;
    const qsizetype colon = line.indexOf(':');
    if (colon >= 0) {
        field = line.first(colon);
        value = line.sliced(colon + 1);
        if (value.startsWith(' '))
            value = value.sliced(1);
    }
    if (field == "data") {
        if (m_hasData)
            m_data.append('\n');
        m_data.append(value);
        m_hasData = true;
    } else if (field == "event") {
        m_type = value.toByteArray();
    } else if (field == "id") {
        if (!value.contains('\0'))
            m_lastEventId = value.toByteArray();
    } else if (field == "retry") {
        bool digits = !value.isEmpty() && value.size() <= 9;
        for (char c : value)
            digits = digits && c >= '0' && c <= '9';
        if (digits)
            m_retryMs = value.toInt();
    }
    // Any other field is ignored, as the standard says.
}

} // namespace Breaker
