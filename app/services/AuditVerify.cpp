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
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <optional>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace Breaker {

namespace {

// ---- the strict line scanner ---------------------------------------------------------------
//
// Two scanners of one grammar. The fast one reads a line as Breaker writes it (compact, no
// whitespace between tokens) with the position in a register and answers only yes or no; the
// strict LineScanner below, which also allows JSON whitespace, runs when the fast one says no,
// to say why (or to accept a line that only differs in whitespace). So the fast scanner must
// accept nothing LineScanner refuses; both share the string and number rules below.

using uchar = unsigned char;

constexpr int kMaxDepth = 64;

// The scanners' small steps run dozens of times per line: inlined, not called.
#define BREAKER_SCAN_INLINE [[gnu::always_inline]] inline

// Bytes that may stand for themselves inside a JSON string without a closer look.
constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c)
        t[size_t(c)] = c != '"' && c != '\\';
    return t;
}();

constexpr std::array<bool, 256> kSpace = [] {
    std::array<bool, 256> t{};
    t[' '] = t['\t'] = t['\r'] = true;
    return t;
}();

// Past the bytes that stand for themselves in a string (printable ASCII but '"' and '\\'), the
// common case: 16 at a time where SSE2 is there, then through the table.
BREAKER_SCAN_INLINE const uchar *skipPlain(const uchar *p, const uchar *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
        // Compared as signed bytes, 0x80..0xFF are negative: one "less than 0x20" catches the
        // controls and every byte of a multi-byte UTF-8 sequence (checked by the caller).
        const __m128i special
            = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                           _mm_cmplt_epi8(v, space));
        const unsigned mask = unsigned(_mm_movemask_epi8(special));
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < end && kPlain[*p])
        ++p;
    return p;
}

// 64 lowercase hex characters at p (the caller made sure there are 64 bytes).
BREAKER_SCAN_INLINE bool isLowerHex64(const uchar *p)
{
#if defined(__SSE2__)
    __m128i all = _mm_set1_epi8(-1);
    for (int i = 0; i < 64; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i));
        // Signed compares again: bytes from 0x80 up are negative and fail both ranges.
        const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                            _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
        const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)),
                                             _mm_cmplt_epi8(v, _mm_set1_epi8('f' + 1)));
        all = _mm_and_si128(all, _mm_or_si128(digit, letter));
    }
    return _mm_movemask_epi8(all) == 0xFFFF;
#else
    for (int i = 0; i < 64; ++i)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
#endif
}

bool isHexDigit(uchar c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool isCont(uchar c)
{
    return (c & 0xC0) == 0x80;
}

// The rest of a JSON string (RFC 8259) of valid UTF-8 (RFC 3629: no overlong forms, no
// surrogates), from just after its opening quote: nullptr and *pp after the closing quote when
// good, else why not.
const char *scanStringBody(const uchar **pp, const uchar *end)
{
    const uchar *p = *pp;
    while (p < end) {
        p = skipPlain(p, end);
        if (p == end)
            break;
        const uchar c = *p;
        if (c == '"') {
            *pp = p + 1;
            return nullptr;
        }
        if (c == '\\') {
            if (end - p < 2)
                return "a string ends inside an escape";
            const uchar e = p[1];
            if (e == 'u') {
                if (end - p < 6 || !isHexDigit(p[2]) || !isHexDigit(p[3]) || !isHexDigit(p[4])
                    || !isHexDigit(p[5]))
                    return "a \\u escape is not followed by four hex digits";
                p += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n'
                       || e == 'r' || e == 't') {
                p += 2;
            } else {
                return "a string holds an invalid escape";
            }
            continue;
        }
        if (c < 0x20)
            return "a string holds a raw control character";
        // Multi-byte UTF-8.
        const ptrdiff_t left = end - p;
        if (c >= 0xC2 && c <= 0xDF) {
            if (left < 2 || !isCont(p[1]))
                return "a string is not valid UTF-8";
            p += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (left < 3 || !isCont(p[1]) || !isCont(p[2]) || (c == 0xE0 && p[1] < 0xA0)
                || (c == 0xED && p[1] > 0x9F))
                return "a string is not valid UTF-8";
            p += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (left < 4 || !isCont(p[1]) || !isCont(p[2]) || !isCont(p[3])
                || (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
                return "a string is not valid UTF-8";
            p += 4;
        } else {
            return "a string is not valid UTF-8";
        }
    }
    return "a string is not closed";
}

// A JSON number (RFC 8259): nullptr and *pp after it when good, else why not.
const char *scanNumber(const uchar **pp, const uchar *end)
{
    const uchar *p = *pp;
    auto digit = [&p, end] { return p < end && *p >= '0' && *p <= '9'; };
    if (p < end && *p == '-')
        ++p;
    if (p == end)
        return "a number is not valid JSON";
    if (*p == '0') {
        ++p;
    } else if (*p >= '1' && *p <= '9') {
        while (digit())
            ++p;
    } else {
        return "a number is not valid JSON";
    }
    if (p < end && *p == '.') {
        ++p;
        if (!digit())
            return "a number is not valid JSON";
        while (digit())
            ++p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        ++p;
        if (p < end && (*p == '+' || *p == '-'))
            ++p;
        if (!digit())
            return "a number is not valid JSON";
        while (digit())
            ++p;
    }
    *pp = p;
    return nullptr;
}

// ---- the fast scanner: yes or no ----

namespace fast {

// The N-1 bytes of `text` at p; the caller made sure they are there. Constant length and text:
// a few word compares, no call.
template<size_t N> BREAKER_SCAN_INLINE bool same(const uchar *p, const char (&text)[N])
{
    constexpr size_t n = N - 1;
    static_assert(n >= 4);
    auto word = [](const void *at, auto zero) {
        decltype(zero) w;
        std::memcpy(&w, at, sizeof w);
        return w;
    };
    if constexpr (n < 8) {
        return word(p, quint32()) == word(text, quint32())
               && word(p + n - 4, quint32()) == word(text + n - 4, quint32());
    } else {
        for (size_t i = 0; i + 8 < n; i += 8)
            if (word(p + i, quint64()) != word(text + i, quint64()))
                return false;
        return word(p + n - 8, quint64()) == word(text + n - 8, quint64());
    }
}

// `text` at p, then past it; nullptr when p is nullptr or the text is not there.
template<size_t N>
BREAKER_SCAN_INLINE const uchar *token(const uchar *p, const uchar *end, const char (&text)[N])
{
    if (!p || size_t(end - p) < N - 1 || !same(p, text))
        return nullptr;
    return p + N - 1;
}

BREAKER_SCAN_INLINE const uchar *string(const uchar *p, const uchar *end)
{
    if (!p || p == end || *p != '"')
        return nullptr;
    // Most strings are plain ASCII up to their closing quote.
    p = skipPlain(p + 1, end);
    if (p < end && *p == '"')
        return p + 1;
    return scanStringBody(&p, end) ? nullptr : p;
}

BREAKER_SCAN_INLINE const uchar *stringOrNull(const uchar *p, const uchar *end)
{
    if (p && p < end && *p == 'n')
        return token(p, end, "null");
    return string(p, end);
}

const uchar *value(const uchar *p, const uchar *end, int depth)
{
    if (p == end)
        return nullptr;
    switch (*p) {
    case '"':
        return string(p, end);
    case 't':
        return token(p, end, "true");
    case 'f':
        return token(p, end, "false");
    case 'n':
        return token(p, end, "null");
    case '{':
        if (depth >= kMaxDepth)
            return nullptr;
        ++p;
        if (p < end && *p == '}')
            return p + 1;
        while (true) {
            p = string(p, end);
            if (!p || p == end || *p != ':')
                return nullptr;
            p = value(p + 1, end, depth + 1);
            if (!p || p == end)
                return nullptr;
            if (*p == '}')
                return p + 1;
            if (*p != ',')
                return nullptr;
            ++p;
        }
    case '[':
        if (depth >= kMaxDepth)
            return nullptr;
        ++p;
        if (p < end && *p == ']')
            return p + 1;
        while (true) {
            p = value(p, end, depth + 1);
            if (!p || p == end)
                return nullptr;
            if (*p == ']')
                return p + 1;
            if (*p != ',')
                return nullptr;
            ++p;
        }
    default:
        return scanNumber(&p, end) ? nullptr : p;
    }
}

// The line as Breaker writes it, fields in DESIGN.md section 7's order.
bool scan(const uchar *p, const uchar *end, AuditLineFields *fields)
{
    p = token(p, end, "{\"seq\":");
    if (!p || p == end || *p < '1' || *p > '9')
        return false;
    qint64 seq = 0;
    for (const uchar *digits = p; p < end && *p >= '0' && *p <= '9'; ++p) {
        if (p - digits == 18)
            return false; // LineScanner: "seq is too large"
        seq = seq * 10 + (*p - '0');
    }
    p = string(token(p, end, ",\"ts\":"), end);
    p = stringOrNull(token(p, end, ",\"actor\":{\"kind\":"), end);
    p = stringOrNull(token(p, end, ",\"id\":"), end);
    p = stringOrNull(token(p, end, ",\"host\":"), end);
    p = stringOrNull(token(p, end, "},\"action\":"), end);
    p = stringOrNull(token(p, end, ",\"target\":{\"agent\":"), end);
    p = stringOrNull(token(p, end, ",\"run\":"), end);
    p = stringOrNull(token(p, end, ",\"principal\":"), end);
    p = stringOrNull(token(p, end, ",\"layer\":"), end);
    p = stringOrNull(token(p, end, ",\"provider\":"), end);
    p = stringOrNull(token(p, end, ",\"object\":"), end);
    p = stringOrNull(token(p, end, "},\"reason\":"), end);
    p = stringOrNull(token(p, end, ",\"outcome\":"), end);
    p = token(p, end, ",\"detail\":");
    if (!p || p == end || *p != '{')
        return false;
    p = token(value(p, end, 0), end, ",\"prev\":\"");
    // 64 hex, '"', '}', and nothing after.
    if (!p || end - p != 66 || !isLowerHex64(p) || p[64] != '"' || p[65] != '}')
        return false;
    fields->seq = seq;
    fields->prev = QByteArrayView(reinterpret_cast<const char *>(p), 64);
    return true;
}

} // namespace fast

// ---- the strict scanner: why not ----

class LineScanner
{
public:
    explicit LineScanner(QByteArrayView line)
        : m_p(reinterpret_cast<const uchar *>(line.data()))
        , m_end(m_p + line.size())
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
        if (m_end - m_p < 66 || *m_p != '"' || m_p[65] != '"' || !isLowerHex64(m_p + 1))
            return "prev is not 64 lowercase hex characters";
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
        while (m_p < m_end && kSpace[*m_p])
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

    bool string()
    {
        if (m_p == m_end || *m_p != '"')
            return fail("a string was expected");
        ++m_p;
        if (const char *why = scanStringBody(&m_p, m_end))
            return fail(why);
        return true;
    }

    bool number()
    {
        if (const char *why = scanNumber(&m_p, m_end))
            return fail(why);
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

    const uchar *m_p;
    const uchar *m_end;
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
            if (const char *why = scanAuditLine(text, &fields)) {
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

// ---- the chain walk on two cores -----------------------------------------------------------
//
// The fast path for an export that verifies, which is the case that has to be fast: the file is
// mapped, cut into chunks the two threads take in turn (one of them hashes the whole file
// first, so the shares even out however long that takes), and each chunk is scanned and
// chained on its own; the links between chunks are checked when all are done. It only says
// "all good": at the first sign of anything else it gives up, and the sequential walkChain
// above reads the file again to name the first bad line exactly as it always did. So the
// fast path must never accept what walkChain refuses, and need not say why it refuses.

constexpr size_t kChunkBytes = 2 * 1024 * 1024;
// Longer lines are left to walkChain, which refuses lines past 64 MiB at a point that depends
// on its buffer: below this, both agree the length is fine.
constexpr size_t kMaxFastLine = 32 * 1024 * 1024;

struct ChunkResult
{
    qint64 lines = 0; // lines that start in the chunk
    qint64 firstSeq = 0;
    char firstPrev[64] = {};
    char lastHash[64] = {};
};

// The lines that start in [begin, end) of the mapped file, each scanned, each but the first
// linked to the one before by seq and prev. False when any of that fails (or a line does not
// end with a newline, or is too long for the fast path).
bool checkChunk(const char *data, size_t size, size_t begin, size_t end, ChunkResult *c)
{
    size_t p = begin;
    if (p > 0 && data[p - 1] != '\n') {
        // The line that straddles `begin` belongs to the chunk it starts in.
        const void *nl = std::memchr(data + p, '\n', end - p);
        if (!nl)
            return true; // no line starts in this chunk
        p = size_t(static_cast<const char *>(nl) - data) + 1;
    }
    qint64 seq = 0;
    char hash[64];
    while (p < end) {
        const char *nl = static_cast<const char *>(std::memchr(data + p, '\n', size - p));
        if (!nl)
            return false;
        const size_t length = size_t(nl - (data + p));
        if (length > kMaxFastLine)
            return false;
        AuditLineFields fields;
        const auto *line = reinterpret_cast<const uchar *>(data + p);
        if (!fast::scan(line, line + length, &fields)
            && LineScanner(QByteArrayView(data + p, qsizetype(length))).scan(&fields))
            return false;
        if (c->lines == 0) {
            c->firstSeq = fields.seq;
            std::memcpy(c->firstPrev, fields.prev.data(), 64);
        } else if (fields.seq != seq + 1 || std::memcmp(fields.prev.data(), hash, 64) != 0) {
            return false;
        }
        seq = fields.seq;
        Sha256::lineHex(data + p, length, hash);
        ++c->lines;
        p += length + 1;
    }
    if (c->lines > 0)
        std::memcpy(c->lastHash, hash, 64);
    return true;
}

struct FastWalk
{
    ChainResult chain;
    QByteArray fileHash; // lowercase hex SHA-256 of the whole file
};

// nullopt when the fast path cannot vouch for the file (see above): walkChain decides then.
std::optional<FastWalk>
walkChainFast(const QString &path, const ChainExpectation &expect, qint64 chunkBytes)
{
    if (chunkBytes < 0)
        return std::nullopt;
    const size_t chunk = chunkBytes > 0 ? size_t(chunkBytes) : kChunkBytes;
    const QByteArray encoded = QFile::encodeName(path);
    const int fd = ::open(encoded.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    struct stat st = {};
    const bool mappable = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
    // A truncation while the file is mapped would end the process with SIGBUS rather than in a
    // report; it cannot make a changed file pass.
    void *map = mappable ? ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0)
                         : MAP_FAILED;
    ::close(fd);
    if (map == MAP_FAILED)
        return std::nullopt;
    const size_t size = size_t(st.st_size);
    struct Unmapper
    {
        void *map;
        size_t size;
        ~Unmapper() { ::munmap(map, size); }
    } unmapper{map, size};
    const char *data = static_cast<const char *>(map);

    const size_t chunks = (size + chunk - 1) / chunk;
    std::vector<ChunkResult> results(chunks);
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    auto work = [&] {
        while (!failed.load(std::memory_order_relaxed)) {
            const size_t k = next.fetch_add(1, std::memory_order_relaxed);
            if (k >= chunks)
                return;
            const size_t begin = k * chunk;
            if (!checkChunk(data, size, begin, std::min(size, begin + chunk), &results[k]))
                failed.store(true, std::memory_order_relaxed);
        }
    };
    auto hasher = std::async(std::launch::async, [&] {
        Sha256 sha;
        sha.reset();
        // In slices, so that a failure elsewhere stops it early.
        constexpr size_t kSlice = 16 * 1024 * 1024;
        for (size_t at = 0; at < size; at += kSlice) {
            if (failed.load(std::memory_order_relaxed))
                return QByteArray();
            sha.add(data + at, std::min(kSlice, size - at));
        }
        QByteArray hex(64, '\0');
        sha.finishHex(hex.data());
        work();
        return hex;
    });
    work();
    QByteArray fileHash = hasher.get();
    if (failed.load())
        return std::nullopt;

    // The links between the chunks, and the chain's two ends against the manifest.
    qint64 lines = 0;
    const char *prev = expect.anchorPrev.constData();
    for (const ChunkResult &c : results) {
        if (c.lines == 0)
            continue;
        if (c.firstSeq != expect.firstSeq + lines || std::memcmp(c.firstPrev, prev, 64) != 0)
            return std::nullopt;
        prev = c.lastHash;
        lines += c.lines;
    }
    if (lines != expect.count || std::memcmp(prev, expect.lastHash.constData(), 64) != 0)
        return std::nullopt;
    FastWalk r;
    r.chain.lines = lines;
    r.fileHash = std::move(fileHash);
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
    // The chain walk and the file hashes: on two cores when the file verifies; when it does
    // not, the sequential walk names the first bad line (walkChainFast), with audit.jsonl's
    // whole-file hash on another thread.
    const QString jsonl = dir.filePath(QStringLiteral("audit.jsonl"));
    ChainExpectation expect;
    expect.firstSeq = m.firstSeq;
    expect.count = m.count;
    expect.anchorPrev = m.anchorPrev;
    expect.lastHash = m.lastHash;
    ChainResult chain;
    Result<QByteArray> jsonlDigest = QByteArray();
    if (std::optional<FastWalk> fast = walkChainFast(jsonl, expect, options.chunkBytes)) {
        chain = fast->chain;
        jsonlDigest = fast->fileHash;
    } else {
        auto jsonlHash = std::async(std::launch::async, [jsonl] { return sha256FileHex(jsonl); });
        chain = walkChain(jsonl, expect);
        jsonlDigest = jsonlHash.get();
    }
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
    const auto *p = reinterpret_cast<const uchar *>(line.data());
    if (fast::scan(p, p + line.size(), fields))
        return nullptr;
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
