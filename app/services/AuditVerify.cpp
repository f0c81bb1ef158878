// The chain walk hashes one short line at a time, where EVP's per-call dispatch costs about a
// third of the hash itself: it uses OpenSSL's SHA256_* functions (deprecated in 3.0, still
// present) for the lines, and EVP for everything else.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "app/services/AuditVerify.h"

#include "models/AuditSigner.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <unistd.h>
#include <vector>

namespace Breaker {

namespace {

// ---- the strict line scanner ---------------------------------------------------------------

constexpr int kMaxDepth = 64;

// Bytes that may stand for themselves inside a JSON string without a closer look.
constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c)
        t[size_t(c)] = c != '"' && c != '\\';
    return t;
}();

class LineScanner
{
public:
    explicit LineScanner(QByteArrayView line)
        : m_begin(reinterpret_cast<const unsigned char *>(line.data()))
        , m_p(m_begin)
        , m_end(m_begin + line.size())
    {}

    const char *scan(AuditLineFields *fields)
    {
        if (m_p == m_end)
            return "the line is empty";
        if (*m_p != '{')
            return "the line is not a JSON object";
        ++m_p;
        if (!key("seq") || !positiveInteger(&fields->seq) || !comma())
            return m_why;
        if (!key("ts") || !string() || !comma())
            return m_why;
        if (!key("actor") || !fixedObject({"kind", "id", "host"}) || !comma())
            return m_why;
        if (!key("action") || !stringOrNull() || !comma())
            return m_why;
        if (!key("target")
            || !fixedObject({"agent", "run", "principal", "layer", "provider", "object"})
            || !comma())
            return m_why;
        if (!key("reason") || !stringOrNull() || !comma())
            return m_why;
        if (!key("outcome") || !stringOrNull() || !comma())
            return m_why;
        if (!key("detail"))
            return m_why;
        ws();
        if (m_p == m_end || *m_p != '{')
            return "detail is not a JSON object";
        if (!value(0) || !comma())
            return m_why;
        if (!key("prev"))
            return m_why;
        ws();
        if (m_end - m_p < 66 || *m_p != '"' || m_p[65] != '"')
            return "prev is not 64 lowercase hex characters";
        for (int i = 1; i <= 64; ++i) {
            const unsigned char c = m_p[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return "prev is not 64 lowercase hex characters";
        }
        fields->prev = QByteArrayView(reinterpret_cast<const char *>(m_p + 1), 64);
        m_p += 66;
        ws();
        if (m_p == m_end || *m_p != '}')
            return "the record has a field after prev, or is not closed";
        ++m_p;
        if (m_p != m_end)
            return "there are bytes after the record's closing brace";
        return nullptr;
    }

private:
    bool fail(const char *why)
    {
        m_why = why;
        return false;
    }

    void ws()
    {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\r'))
            ++m_p;
    }

    // The next key is exactly `name` (the fixed layout: fields present and in order).
    bool key(const char *name)
    {
        ws();
        const size_t n = std::strlen(name);
        if (size_t(m_end - m_p) < n + 2 || m_p[0] != '"' || std::memcmp(m_p + 1, name, n) != 0
            || m_p[n + 1] != '"')
            return fail(keyMessage(name));
        m_p += n + 2;
        ws();
        if (m_p == m_end || *m_p != ':')
            return fail("a key is not followed by ':'");
        ++m_p;
        ws();
        return true;
    }

    static const char *keyMessage(const char *name)
    {
        // One message per expected key (static strings: no allocation on the good path).
        static const struct
        {
            const char *key;
            const char *message;
        } messages[] = {
            {"seq",
             "the record does not start with seq (fields must be in the order of DESIGN.md section "
             "7)"},
            {"ts", "ts is missing or out of order"},
            {"actor", "actor is missing or out of order"},
            {"kind", "actor.kind is missing or out of order"},
            {"id", "actor.id is missing or out of order"},
            {"host", "actor.host is missing or out of order"},
            {"action", "action is missing or out of order"},
            {"target", "target is missing or out of order"},
            {"agent", "target.agent is missing or out of order"},
            {"run", "target.run is missing or out of order"},
            {"principal", "target.principal is missing or out of order"},
            {"layer", "target.layer is missing or out of order"},
            {"provider", "target.provider is missing or out of order"},
            {"object", "target.object is missing or out of order"},
            {"reason", "reason is missing or out of order"},
            {"outcome", "outcome is missing or out of order"},
            {"detail", "detail is missing or out of order"},
            {"prev", "prev is missing or out of order (it must be the last field)"},
        };
        for (const auto &m : messages)
            if (std::strcmp(m.key, name) == 0)
                return m.message;
        return "a field is missing or out of order";
    }

    bool comma()
    {
        ws();
        if (m_p == m_end || *m_p != ',')
            return fail("a field is missing, or a value is not followed by ','");
        ++m_p;
        return true;
    }

    bool positiveInteger(qint64 *out)
    {
        if (m_p == m_end || *m_p < '1' || *m_p > '9')
            return fail("seq is not a positive integer");
        qint64 v = 0;
        int digits = 0;
        while (m_p < m_end && *m_p >= '0' && *m_p <= '9') {
            if (++digits > 18)
                return fail("seq is too large");
            v = v * 10 + (*m_p - '0');
            ++m_p;
        }
        if (m_p < m_end && (*m_p == '.' || *m_p == 'e' || *m_p == 'E'))
            return fail("seq is not a positive integer");
        *out = v;
        return true;
    }

    bool literal(const char *word)
    {
        const size_t n = std::strlen(word);
        if (size_t(m_end - m_p) < n || std::memcmp(m_p, word, n) != 0)
            return fail("a value is not valid JSON");
        m_p += n;
        return true;
    }

    bool stringOrNull()
    {
        if (m_p < m_end && *m_p == 'n')
            return literal("null");
        return string();
    }

    bool fixedObject(std::initializer_list<const char *> keys)
    {
        if (m_p == m_end || *m_p != '{')
            return fail("actor or target is not an object");
        ++m_p;
        bool first = true;
        for (const char *k : keys) {
            ws();
            if (!first && m_p < m_end && *m_p == '}')
                return fail("actor or target is missing a field");
            if (!first && !comma())
                return false;
            first = false;
            if (!key(k) || !stringOrNull())
                return false;
        }
        ws();
        if (m_p == m_end || *m_p != '}')
            return fail("actor or target has a field too many");
        ++m_p;
        return true;
    }

    static bool isHex(unsigned char c)
    {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    static bool isCont(unsigned char c) { return (c & 0xC0) == 0x80; }

    // A JSON string (RFC 8259) of valid UTF-8 (RFC 3629: no overlong forms, no surrogates).
    bool string()
    {
        if (m_p == m_end || *m_p != '"')
            return fail("a string was expected");
        ++m_p;
        while (m_p < m_end) {
            // The common case, printable ASCII, in a tight loop over a table.
            while (m_p < m_end && kPlain[*m_p])
                ++m_p;
            if (m_p == m_end)
                break;
            const unsigned char c = *m_p;
            if (c == '"') {
                ++m_p;
                return true;
            }
            if (c == '\\') {
                if (m_end - m_p < 2)
                    return fail("a string ends inside an escape");
                const unsigned char e = m_p[1];
                if (e == 'u') {
                    if (m_end - m_p < 6 || !isHex(m_p[2]) || !isHex(m_p[3]) || !isHex(m_p[4])
                        || !isHex(m_p[5]))
                        return fail("a \\u escape is not followed by four hex digits");
                    m_p += 6;
                } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n'
                           || e == 'r' || e == 't') {
                    m_p += 2;
                } else {
                    return fail("a string holds an invalid escape");
                }
                continue;
            }
            if (c < 0x20)
                return fail("a string holds a raw control character");
            // Multi-byte UTF-8.
            const ptrdiff_t left = m_end - m_p;
            if (c >= 0xC2 && c <= 0xDF) {
                if (left < 2 || !isCont(m_p[1]))
                    return fail("a string is not valid UTF-8");
                m_p += 2;
            } else if (c >= 0xE0 && c <= 0xEF) {
                if (left < 3 || !isCont(m_p[1]) || !isCont(m_p[2]) || (c == 0xE0 && m_p[1] < 0xA0)
                    || (c == 0xED && m_p[1] > 0x9F))
                    return fail("a string is not valid UTF-8");
                m_p += 3;
            } else if (c >= 0xF0 && c <= 0xF4) {
                if (left < 4 || !isCont(m_p[1]) || !isCont(m_p[2]) || !isCont(m_p[3])
                    || (c == 0xF0 && m_p[1] < 0x90) || (c == 0xF4 && m_p[1] > 0x8F))
                    return fail("a string is not valid UTF-8");
                m_p += 4;
            } else {
                return fail("a string is not valid UTF-8");
            }
        }
        return fail("a string is not closed");
    }

    bool number()
    {
        if (m_p < m_end && *m_p == '-')
            ++m_p;
        if (m_p == m_end)
            return fail("a number is not valid JSON");
        if (*m_p == '0') {
            ++m_p;
        } else if (*m_p >= '1' && *m_p <= '9') {
            while (m_p < m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        } else {
            return fail("a number is not valid JSON");
        }
        if (m_p < m_end && *m_p == '.') {
            ++m_p;
            if (m_p == m_end || *m_p < '0' || *m_p > '9')
                return fail("a number is not valid JSON");
            while (m_p < m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        }
        if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
            ++m_p;
            if (m_p < m_end && (*m_p == '+' || *m_p == '-'))
                ++m_p;
            if (m_p == m_end || *m_p < '0' || *m_p > '9')
                return fail("a number is not valid JSON");
            while (m_p < m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        }
        return true;
    }

    bool value(int depth)
    {
        ws();
        if (m_p == m_end)
            return fail("a value is missing");
        switch (*m_p) {
        case '"':
            return string();
        case 't':
            return literal("true");
        case 'f':
            return literal("false");
        case 'n':
            return literal("null");
        case '{': {
            if (depth >= kMaxDepth)
                return fail("detail is nested too deeply");
            ++m_p;
            ws();
            if (m_p < m_end && *m_p == '}') {
                ++m_p;
                return true;
            }
            while (true) {
                ws();
                if (!string())
                    return fail("an object key is not a string");
                ws();
                if (m_p == m_end || *m_p != ':')
                    return fail("a key is not followed by ':'");
                ++m_p;
                if (!value(depth + 1))
                    return false;
                ws();
                if (m_p == m_end)
                    return fail("an object is not closed");
                if (*m_p == ',') {
                    ++m_p;
                    continue;
                }
                if (*m_p == '}') {
                    ++m_p;
                    return true;
                }
                return fail("an object member is not followed by ',' or '}'");
            }
        }
        case '[': {
            if (depth >= kMaxDepth)
                return fail("detail is nested too deeply");
            ++m_p;
            ws();
            if (m_p < m_end && *m_p == ']') {
                ++m_p;
                return true;
            }
            while (true) {
                if (!value(depth + 1))
                    return false;
                ws();
                if (m_p == m_end)
                    return fail("an array is not closed");
                if (*m_p == ',') {
                    ++m_p;
                    continue;
                }
                if (*m_p == ']') {
                    ++m_p;
                    return true;
                }
                return fail("an array element is not followed by ',' or ']'");
            }
        }
        default:
            if (*m_p == '-' || (*m_p >= '0' && *m_p <= '9'))
                return number();
            return fail("a value is not valid JSON");
        }
    }

    const unsigned char *m_begin;
    const unsigned char *m_p;
    const unsigned char *m_end;
    const char *m_why = "the line is not valid";
};

// ---- hashing -------------------------------------------------------------------------------

class Sha256
{
public:
    Sha256()
        : m_md(EVP_MD_fetch(nullptr, "SHA256", nullptr))
        , m_ctx(EVP_MD_CTX_new())
    {}
    ~Sha256()
    {
        EVP_MD_CTX_free(m_ctx);
        EVP_MD_free(m_md);
    }
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;

    void reset() { EVP_DigestInit_ex2(m_ctx, m_md, nullptr); }
    void add(const char *data, size_t size) { EVP_DigestUpdate(m_ctx, data, size); }
    // 64 lowercase hex characters into `hex`.
    void finishHex(char *hex)
    {
        unsigned char digest[32];
        unsigned int n = 0;
        EVP_DigestFinal_ex(m_ctx, digest, &n);
        toHex(digest, hex);
    }
    // One short message, without EVP's dispatch.
    static void lineHex(const char *data, size_t size, char *hex)
    {
        SHA256_CTX ctx;
        SHA256_Init(&ctx);
        SHA256_Update(&ctx, data, size);
        unsigned char digest[SHA256_DIGEST_LENGTH];
        SHA256_Final(digest, &ctx);
        toHex(digest, hex);
    }
    static void toHex(const unsigned char *digest, char *hex)
    {
        static constexpr char kHex[] = "0123456789abcdef";
        for (int i = 0; i < 32; ++i) {
            hex[2 * i] = kHex[digest[i] >> 4];
            hex[2 * i + 1] = kHex[digest[i] & 0xf];
        }
    }

private:
    EVP_MD *m_md;
    EVP_MD_CTX *m_ctx;
};

bool isHex64(const QString &s)
{
    if (s.size() != 64)
        return false;
    for (const QChar c : s)
        if (!((c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f')))
            return false;
    return true;
}

// ---- the chain walk ------------------------------------------------------------------------

struct ChainExpectation
{
    qint64 firstSeq = 1;
    qint64 count = 0;
    QByteArray anchorPrev; // 64 hex
    QByteArray lastHash;   // 64 hex
};

struct ChainResult
{
    qint64 lines = 0;
    qint64 badLine = 0;
    QString reason;
    bool unreadable = false;
};

constexpr qint64 kMaxLineBytes = 64 * 1024 * 1024;
constexpr qint64 kReadBlock = 4 * 1024 * 1024;

ChainResult walkChain(const QString &path, const ChainExpectation &expect)
{
    ChainResult r;
    const QByteArray encoded = QFile::encodeName(path);
    const int fd = ::open(encoded.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r.unreadable = true;
        r.reason = QStringLiteral("cannot open audit.jsonl: %1")
                       .arg(QString::fromLocal8Bit(std::strerror(errno)));
        return r;
    }
    struct Closer
    {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif

    std::vector<char> buffer(size_t(kReadBlock) + 1);
    size_t filled = 0;
    bool eof = false;
    qint64 line = 0;
    char expectedPrev[64];
    std::memcpy(expectedPrev, expect.anchorPrev.constData(), 64);
    char hash[64];
    // A link that did not hold: line `pendingLine`'s hash is not line pendingLine+1's prev.
    // Which of the two was changed is decided by the next link (see below).
    qint64 pendingLine = 0;
    auto bad = [&r](qint64 at, QString why) {
        r.badLine = at;
        r.reason = std::move(why);
        return r;
    };

    while (true) {
        // Complete lines in the buffer.
        size_t start = 0;
        while (true) {
            const char *nl = static_cast<const char *>(
                std::memchr(buffer.data() + start, '\n', filled - start));
            if (!nl)
                break;
            const size_t length = size_t(nl - (buffer.data() + start));
            const QByteArrayView text(buffer.data() + start, qsizetype(length));
            ++line;
            if (line > expect.count) {
                if (pendingLine)
                    return bad(
                        pendingLine,
                        QStringLiteral(
                            "line %1 was changed: it no longer hashes to the prev of line %2")
                            .arg(pendingLine)
                            .arg(pendingLine + 1));
                return bad(line,
                           QStringLiteral("line %1 is beyond the %2 record(s) the manifest covers: "
                                          "it was added after the export was signed")
                               .arg(line)
                               .arg(expect.count));
            }
            AuditLineFields fields;
            if (const char *why = LineScanner(text).scan(&fields)) {
                if (pendingLine)
                    return bad(
                        pendingLine,
                        QStringLiteral(
                            "line %1 was changed: it no longer hashes to the prev of line %2")
                            .arg(pendingLine)
                            .arg(pendingLine + 1));
                return bad(line,
                           QStringLiteral("line %1 is not a record as Breaker writes it: %2")
                               .arg(line)
                               .arg(QString::fromLatin1(why)));
            }
            const qint64 wantSeq = expect.firstSeq + line - 1;
            if (fields.seq != wantSeq) {
                if (pendingLine)
                    return bad(
                        pendingLine,
                        QStringLiteral(
                            "line %1 was changed: it no longer hashes to the prev of line %2")
                            .arg(pendingLine)
                            .arg(pendingLine + 1));
                return bad(line,
                           QStringLiteral("line %1 has seq %2 where seq %3 was expected: a record "
                                          "is missing here or the lines are out of order")
                               .arg(line)
                               .arg(fields.seq)
                               .arg(wantSeq));
            }
            const bool linked = std::memcmp(fields.prev.data(), expectedPrev, 64) == 0;
            if (pendingLine) {
                // The link before this line broke. If this link holds, the line before was
                // changed in its content; if it breaks too, it was that line's own prev.
                if (linked)
                    return bad(
                        pendingLine,
                        QStringLiteral(
                            "line %1 was changed: it no longer hashes to the prev of line %2")
                            .arg(pendingLine)
                            .arg(pendingLine + 1));
                return bad(
                    pendingLine + 1,
                    QStringLiteral("line %1 was changed: its prev is not the hash of line %2")
                        .arg(pendingLine + 1)
                        .arg(pendingLine));
            }
            if (!linked) {
                if (line == 1)
                    return bad(1,
                               QStringLiteral(
                                   "line 1's prev is not the manifest's anchor_prev: the first "
                                   "record was changed or is not the one the export started with"));
                pendingLine = line - 1;
            }
            Sha256::lineHex(text.data(), size_t(length), hash);
            std::memcpy(expectedPrev, hash, 64);
            if (!pendingLine)
                r.lines = line;
            start += length + 1;
        }
        // Keep the incomplete tail, read more.
        if (start > 0) {
            std::memmove(buffer.data(), buffer.data() + start, filled - start);
            filled -= start;
        }
        if (eof)
            break;
        if (filled == buffer.size() - 1) {
            if (qint64(buffer.size()) > kMaxLineBytes)
                return bad(line + 1, QStringLiteral("line %1 is longer than 64 MiB").arg(line + 1));
            buffer.resize(buffer.size() * 2);
        }
        const ssize_t n = ::read(fd, buffer.data() + filled, buffer.size() - 1 - filled);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r.unreadable = true;
            r.reason = QStringLiteral("cannot read audit.jsonl: %1")
                           .arg(QString::fromLocal8Bit(std::strerror(errno)));
            return r;
        }
        if (n == 0)
            eof = true;
        filled += size_t(n);
    }
    if (filled > 0)
        return bad(line + 1,
                   QStringLiteral("line %1 does not end with a newline: the file was cut off or "
                                  "something was appended")
                       .arg(line + 1));
    if (pendingLine) {
        // The last link broke: the last line is to blame when it no longer hashes to last_hash.
        if (std::memcmp(expectedPrev, expect.lastHash.constData(), 64) != 0)
            return bad(pendingLine + 1,
                       QStringLiteral("line %1 was changed: its prev is not the hash of line %2")
                           .arg(pendingLine + 1)
                           .arg(pendingLine));
        return bad(pendingLine,
                   QStringLiteral("line %1 was changed: it no longer hashes to the prev of line %2")
                       .arg(pendingLine)
                       .arg(pendingLine + 1));
    }
    if (line < expect.count)
        return bad(line + 1,
                   QStringLiteral("audit.jsonl ends after %1 line(s) but the manifest covers %2: "
                                  "the records from line %3 on were removed")
                       .arg(line)
                       .arg(expect.count)
                       .arg(line + 1));
    if (std::memcmp(expectedPrev, expect.lastHash.constData(), 64) != 0) {
        if (line == 0)
            return bad(
                0, QStringLiteral("the export is empty but its last_hash is not its anchor_prev"));
        return bad(
            line,
            QStringLiteral(
                "line %1 was changed: the last line does not hash to the manifest's last_hash")
                .arg(line));
    }
    return r;
}

// ---- the folder ----------------------------------------------------------------------------

struct Manifest
{
    QByteArray bytes;
    qint64 firstSeq = 0;
    qint64 lastSeq = 0;
    qint64 count = 0;
    QByteArray anchorPrev;
    QByteArray lastHash;
    QByteArray keyFingerprint;
    QString keyStorage;
    QList<QPair<QString, QByteArray>> files;
};

Result<QByteArray> readSmallFile(const QString &path, qint64 max)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return makeError(Error::Kind::NotFound, f.errorString(), path);
    if (f.size() > max)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the file is larger than %1 bytes").arg(max),
                         path);
    return f.readAll();
}

QString readManifest(const QByteArray &bytes, Manifest &m)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return QStringLiteral("manifest.json is not a JSON object: %1").arg(error.errorString());
    const QJsonObject o = doc.object();
    m.bytes = bytes;
    if (o.value(QStringLiteral("format")).toString() != u"breaker-audit/1")
        return QStringLiteral("manifest.json: format is not \"breaker-audit/1\"");
    const QJsonObject range = o.value(QStringLiteral("range")).toObject();
    const QJsonValue first = range.value(QStringLiteral("first_seq"));
    const QJsonValue last = range.value(QStringLiteral("last_seq"));
    const QJsonValue count = o.value(QStringLiteral("count"));
    if (!first.isDouble() || !last.isDouble() || !count.isDouble())
        return QStringLiteral(
            "manifest.json: range.first_seq, range.last_seq and count must be integers");
    m.firstSeq = first.toInteger(-1);
    m.lastSeq = last.toInteger(-1);
    m.count = count.toInteger(-1);
    if (m.firstSeq < 1 || m.lastSeq < m.firstSeq - 1 || m.count != m.lastSeq - m.firstSeq + 1)
        return QStringLiteral("manifest.json: range %1..%2 and count %3 do not agree")
            .arg(m.firstSeq)
            .arg(m.lastSeq)
            .arg(m.count);
    for (const auto &[key, target] : {std::pair{"anchor_prev", &m.anchorPrev},
                                      std::pair{"last_hash", &m.lastHash},
                                      std::pair{"key_fingerprint", &m.keyFingerprint}}) {
        const QString v = o.value(QLatin1String(key)).toString();
        if (!isHex64(v))
            return QStringLiteral("manifest.json: %1 is not 64 lowercase hex characters")
                .arg(QLatin1String(key));
        *target = v.toLatin1();
    }
    if (m.count == 0 && m.anchorPrev != m.lastHash)
        return QStringLiteral(
            "manifest.json: an empty export must have last_hash equal to anchor_prev");
    m.keyStorage = o.value(QStringLiteral("key_storage")).toString();
    const QJsonObject files = o.value(QStringLiteral("files")).toObject();
    for (auto it = files.begin(); it != files.end(); ++it) {
        const QString name = it.key();
        if (name.isEmpty() || name.contains(u'/') || name.startsWith(u'.')
            || name == u"manifest.json" || name == u"manifest.sig")
            return QStringLiteral(
                       "manifest.json: files lists \"%1\", which is not a file of the export")
                .arg(name);
        if (!isHex64(it.value().toString()))
            return QStringLiteral(
                       "manifest.json: the hash of %1 is not 64 lowercase hex characters")
                .arg(name);
        m.files.append({name, it.value().toString().toLatin1()});
    }
    if (!files.contains(QStringLiteral("audit.jsonl"))
        || !files.contains(QStringLiteral("public-key.pem")))
        return QStringLiteral("manifest.json: files must list audit.jsonl and public-key.pem");
    return {};
}

void failWith(AuditVerifyReport &r, const QString &file, const QString &reason, qint64 line = 0)
{
    r.ok = false;
    r.file = file;
    r.reason = reason;
    r.firstBadLine = line;
}

AuditVerifyReport verifyFolder(const AuditVerifyOptions &options)
{
    AuditVerifyReport r;
    const QDir dir(options.dir);
    if (!QFileInfo(options.dir).isDir()) {
        failWith(r, {}, QStringLiteral("%1 is not a folder").arg(options.dir));
        return r;
    }
    // The manifest, its signature, the key.
    auto manifestBytes
        = readSmallFile(dir.filePath(QStringLiteral("manifest.json")), 16 * 1024 * 1024);
    if (!manifestBytes) {
        failWith(
            r,
            QStringLiteral("manifest.json"),
            QStringLiteral("manifest.json cannot be read: %1").arg(manifestBytes.error().message));
        return r;
    }
    // The key shipped beside the data, and the signature over the manifest's exact bytes: any
    // edit of the manifest is reported as what it is before its content is looked at.
    auto pem = readSmallFile(dir.filePath(QStringLiteral("public-key.pem")), 64 * 1024);
    if (!pem) {
        failWith(r,
                 QStringLiteral("public-key.pem"),
                 QStringLiteral("public-key.pem cannot be read: %1").arg(pem.error().message));
        return r;
    }
    auto key = AuditPublicKey::fromPem(*pem);
    if (!key) {
        failWith(r,
                 QStringLiteral("public-key.pem"),
                 QStringLiteral("public-key.pem: %1").arg(key.error().message));
        return r;
    }
    r.keyFingerprint = key->fingerprint();
    auto sig = readSmallFile(dir.filePath(QStringLiteral("manifest.sig")), 1024);
    if (!sig) {
        failWith(r,
                 QStringLiteral("manifest.sig"),
                 QStringLiteral("manifest.sig cannot be read: %1").arg(sig.error().message));
        return r;
    }
    if (sig->size() != 64) {
        failWith(r,
                 QStringLiteral("manifest.sig"),
                 QStringLiteral("manifest.sig is %1 bytes; an Ed25519 signature is 64")
                     .arg(sig->size()));
        return r;
    }
    if (!key->verify(*manifestBytes, *sig)) {
        failWith(
            r,
            QStringLiteral("manifest.sig"),
            QStringLiteral(
                "the signature does not verify with public-key.pem: manifest.json was edited or "
                "manifest.sig was made with another key"));
        return r;
    }
    Manifest m;
    if (const QString why = readManifest(*manifestBytes, m); !why.isEmpty()) {
        failWith(r, QStringLiteral("manifest.json"), why);
        return r;
    }
    r.firstSeq = m.firstSeq;
    r.lastSeq = m.lastSeq;
    r.keyStorage = m.keyStorage;
    if (r.keyFingerprint != m.keyFingerprint) {
        failWith(
            r,
            QStringLiteral("public-key.pem"),
            QStringLiteral(
                "public-key.pem has fingerprint %1 but the manifest names %2: the key was replaced")
                .arg(QString::fromLatin1(r.keyFingerprint), QString::fromLatin1(m.keyFingerprint)));
        return r;
    }
    // The pinned key, before anything is trusted to be from the right origin.
    if (!options.pinnedFingerprint.isEmpty()) {
        if (r.keyFingerprint != options.pinnedFingerprint) {
            failWith(
                r,
                QStringLiteral("public-key.pem"),
                QStringLiteral(
                    "the export is signed by key %1, not by the pinned key %2 (%3): it is not from "
                    "the console you trust")
                    .arg(QString::fromLatin1(r.keyFingerprint),
                         QString::fromLatin1(options.pinnedFingerprint),
                         options.pinSource));
            return r;
        }
        r.pinned = true;
    }
    // Every file is listed, every listed file matches.
    const QStringList present = dir.entryList(QDir::Files | QDir::Hidden | QDir::System | QDir::Dirs
                                              | QDir::NoDotAndDotDot);
    QSet<QString> listed;
    for (const auto &f : m.files)
        listed.insert(f.first);
    for (const QString &name : present) {
        if (name != u"manifest.json" && name != u"manifest.sig" && !listed.contains(name)) {
            failWith(
                r, name, QStringLiteral("%1 is in the folder but not in the manifest").arg(name));
            return r;
        }
    }
    // The chain walk and the file hashes: audit.jsonl's whole-file hash on another thread.
    const QString jsonl = dir.filePath(QStringLiteral("audit.jsonl"));
    auto jsonlHash = std::async(std::launch::async, [jsonl] { return sha256FileHex(jsonl); });
    ChainExpectation expect;
    expect.firstSeq = m.firstSeq;
    expect.count = m.count;
    expect.anchorPrev = m.anchorPrev;
    expect.lastHash = m.lastHash;
    const ChainResult chain = walkChain(jsonl, expect);
    const Result<QByteArray> jsonlDigest = jsonlHash.get();
    r.records = chain.lines;
    if (chain.unreadable) {
        failWith(r, QStringLiteral("audit.jsonl"), chain.reason);
        return r;
    }
    if (!chain.reason.isEmpty()) {
        failWith(r, QStringLiteral("audit.jsonl"), chain.reason, chain.badLine);
        return r;
    }
    for (const auto &[name, want] : std::as_const(m.files)) {
        const Result<QByteArray> got
            = name == u"audit.jsonl" ? jsonlDigest : sha256FileHex(dir.filePath(name));
        if (!got) {
            failWith(r,
                     name,
                     QStringLiteral("%1 is listed in the manifest but cannot be read: %2")
                         .arg(name, got.error().message));
            return r;
        }
        if (*got != want) {
            failWith(r,
                     name,
                     QStringLiteral("%1 does not match its hash in the manifest: it was changed")
                         .arg(name));
            return r;
        }
    }
    r.ok = true;
    return r;
}

} // namespace

const char *scanAuditLine(QByteArrayView line, AuditLineFields *fields)
{
    return LineScanner(line).scan(fields);
}

Result<QByteArray> sha256FileHex(const QString &path)
{
    const QByteArray encoded = QFile::encodeName(path);
    const int fd = ::open(encoded.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return makeError(Error::Kind::NotFound, QString::fromLocal8Bit(std::strerror(errno)), path);
    struct Closer
    {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    Sha256 sha;
    sha.reset();
    std::vector<char> buffer(1024 * 1024);
    while (true) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return makeError(
                Error::Kind::Unavailable, QString::fromLocal8Bit(std::strerror(errno)), path);
        if (n == 0)
            break;
        sha.add(buffer.data(), size_t(n));
    }
    QByteArray hex(64, '\0');
    sha.finishHex(hex.data());
    return hex;
}

AuditVerifyReport verifyAuditExport(const AuditVerifyOptions &options)
{
    AuditVerifyReport r = verifyFolder(options);
    if (!r.ok)
        return r;
    if (!options.previousDir.isEmpty()) {
        AuditVerifyOptions previousOptions = options;
        previousOptions.dir = options.previousDir;
        previousOptions.previousDir.clear();
        const AuditVerifyReport previous = verifyFolder(previousOptions);
        if (!previous.ok) {
            failWith(r,
                     {},
                     QStringLiteral("the previous export %1 does not verify: %2")
                         .arg(options.previousDir, previous.reason));
            return r;
        }
        // Reread what continuity needs from the previous manifest (it verified).
        Manifest pm;
        auto bytes = readSmallFile(
            QDir(options.previousDir).filePath(QStringLiteral("manifest.json")), 16 * 1024 * 1024);
        Manifest cm;
        auto current = readSmallFile(QDir(options.dir).filePath(QStringLiteral("manifest.json")),
                                     16 * 1024 * 1024);
        if (!bytes || !current || !readManifest(*bytes, pm).isEmpty()
            || !readManifest(*current, cm).isEmpty()) {
            failWith(r,
                     QStringLiteral("manifest.json"),
                     QStringLiteral("a manifest changed while it was being verified"));
            return r;
        }
        if (pm.keyFingerprint != cm.keyFingerprint) {
            failWith(r,
                     QStringLiteral("public-key.pem"),
                     QStringLiteral("this export is signed by key %1 but the previous one by %2: "
                                    "not the same console's key")
                         .arg(QString::fromLatin1(cm.keyFingerprint),
                              QString::fromLatin1(pm.keyFingerprint)));
            return r;
        }
        if (pm.lastSeq + 1 != cm.firstSeq) {
            failWith(r,
                     QStringLiteral("manifest.json"),
                     QStringLiteral(
                         "the previous export ends at seq %1 but this one starts at seq %2: %3")
                         .arg(pm.lastSeq)
                         .arg(cm.firstSeq)
                         .arg(cm.firstSeq > pm.lastSeq + 1
                                  ? QStringLiteral("records in between were not exported")
                                  : QStringLiteral("the two overlap")));
            return r;
        }
        if (pm.lastHash != cm.anchorPrev) {
            failWith(
                r,
                QStringLiteral("manifest.json"),
                QStringLiteral(
                    "this export's anchor_prev is not the previous export's last_hash: the chain "
                    "between them was rewritten"));
            return r;
        }
        r.previousChecked = true;
    }
    if (r.pinned)
        r.note = QStringLiteral("integrity and origin proven: signed by the pinned key (%1)")
                     .arg(options.pinSource);
    else if (r.previousChecked)
        r.note
            = QStringLiteral(
                  "integrity proven, origin not: the key was not pinned (it is the same key as the "
                  "previous export's; pin it with --fingerprint %1)")
                  .arg(QString::fromLatin1(r.keyFingerprint));
    else
        r.note = QStringLiteral(
                     "integrity proven, origin not: the key was not pinned (pass --key FILE or "
                     "--fingerprint %1 from a record kept out of band)")
                     .arg(QString::fromLatin1(r.keyFingerprint));
    return r;
}

QJsonObject AuditVerifyReport::toJson() const
{
    auto orNull = [](const QString &s) { return s.isEmpty() ? QJsonValue() : QJsonValue(s); };
    QJsonObject o{
        {QStringLiteral("ok"), ok},
        {QStringLiteral("records"), records},
        {QStringLiteral("first_bad_line"),
         firstBadLine > 0 ? QJsonValue(firstBadLine) : QJsonValue()},
        {QStringLiteral("reason"), orNull(reason)},
        {QStringLiteral("key_fingerprint"),
         keyFingerprint.isEmpty() ? QJsonValue() : QJsonValue(QString::fromLatin1(keyFingerprint))},
        {QStringLiteral("pinned"), pinned},
        {QStringLiteral("file"), orNull(file)},
        {QStringLiteral("previous_checked"), previousChecked},
        {QStringLiteral("key_storage"), orNull(keyStorage)},
        {QStringLiteral("note"), orNull(note)}};
    if (firstSeq > 0)
        o.insert(QStringLiteral("range"),
                 QJsonObject{{QStringLiteral("first_seq"), firstSeq},
                             {QStringLiteral("last_seq"), lastSeq}});
    return o;
}

QString AuditVerifyReport::summary() const
{
    if (!ok) {
        QString text = QStringLiteral("FAILED: ");
        if (firstBadLine > 0)
            text += QStringLiteral("audit.jsonl line %1: ").arg(firstBadLine);
        return text + reason;
    }
    QString text
        = QStringLiteral("OK: %1 record(s), seq %2..%3, chain intact, signature valid (key %4)")
              .arg(records)
              .arg(firstSeq)
              .arg(lastSeq)
              .arg(QString::fromLatin1(keyFingerprint));
    if (previousChecked)
        text += QStringLiteral("\ncontinues the previous export");
    if (keyStorage == u"file")
        text += QStringLiteral("\nthe signing key was kept in a file (key_storage: file)");
    return text + u'\n' + note;
}

} // namespace Breaker
