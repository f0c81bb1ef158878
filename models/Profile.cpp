#include "models/Profile.h"

#include "models/Logging.h"

#include <QAnyStringView>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>
#include <QUtf8StringView>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>

namespace Breaker {

namespace {

// ---------------------------------------------------------------------------------------------
// The patterns below are the same ones docs/schemas/profile.schema.json uses (there written as
// "^(?:...)$"); tst_profile_schema checks that both reach the same verdicts.

const QString &ipv4Pattern()
{
    static const QString p
        = QStringLiteral("(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
                         "(?:\\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}");
    return p;
}

const QString &ipv6Pattern()
{
    static const QString p = QStringLiteral("(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
                                            "|(?:[0-9A-Fa-f]{1,4}:){1,7}:"
                                            "|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}"
                                            "|(?:[0-9A-Fa-f]{1,4}:){1,5}(?::[0-9A-Fa-f]{1,4}){1,2}"
                                            "|(?:[0-9A-Fa-f]{1,4}:){1,4}(?::[0-9A-Fa-f]{1,4}){1,3}"
                                            "|(?:[0-9A-Fa-f]{1,4}:){1,3}(?::[0-9A-Fa-f]{1,4}){1,4}"
                                            "|(?:[0-9A-Fa-f]{1,4}:){1,2}(?::[0-9A-Fa-f]{1,4}){1,5}"
                                            "|[0-9A-Fa-f]{1,4}:(?::[0-9A-Fa-f]{1,4}){1,6}"
                                            "|:(?:(?::[0-9A-Fa-f]{1,4}){1,7}|:))");
    return p;
}

const QString &portPattern()
{
    static const QString p
        = QStringLiteral("(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}"
                         "|[1-9][0-9]{0,3}|0)");
    return p;
}

const QString &hostnamePattern()
{
    static const QString p
        = QStringLiteral("[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
                         "(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*");
    return p;
}

QRegularExpression anchored(const QString &core)
{
    QRegularExpression re(QRegularExpression::anchoredPattern(core));
    Q_ASSERT(re.isValid());
    return re;
}

const QRegularExpression &authorityRe()
{
    static const QRegularExpression re = anchored(
        QStringLiteral("(?:") + hostnamePattern() + QStringLiteral("|\\[") + ipv6Pattern()
        + QStringLiteral("\\])(?::") + portPattern() + QStringLiteral(")?"));
    return re;
}

const QRegularExpression &urlRestRe()
{
    static const QRegularExpression re = anchored(QStringLiteral("(?:[/?#][^\\x00-\\x20\\x7f]*)?"));
    return re;
}

const QRegularExpression &issuerRestRe()
{
    static const QRegularExpression re = anchored(QStringLiteral("(?:/[^\\x00-\\x20\\x7f?#]*)?"));
    return re;
}

const QRegularExpression &urlSplitRe()
{
    static const QRegularExpression re(QRegularExpression::anchoredPattern(QStringLiteral(
                                           "([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)")),
                                       QRegularExpression::DotMatchesEverythingOption);
    return re;
}

const QRegularExpression &listenRe()
{
    static const QRegularExpression re = anchored(
        QStringLiteral("(") + ipv4Pattern() + QStringLiteral("|localhost|\\[") + ipv6Pattern()
        + QStringLiteral("\\]):(") + portPattern() + QStringLiteral(")"));
    return re;
}

const QRegularExpression &envNameRe()
{
    static const QRegularExpression re = anchored(QStringLiteral("[A-Za-z_][A-Za-z0-9_]*"));
    return re;
}

const QRegularExpression &keychainNameRe()
{
    static const QRegularExpression re = anchored(QStringLiteral("[A-Za-z0-9][A-Za-z0-9._@+/:-]*"));
    return re;
}

const QRegularExpression &providerNameRe()
{
    static const QRegularExpression re = anchored(QStringLiteral("[A-Za-z0-9][A-Za-z0-9_.-]*"));
    return re;
}

const QRegularExpression &opaPackageRe()
{
    static const QRegularExpression re
        = anchored(QStringLiteral("[A-Za-z_][A-Za-z0-9_]*(?:[./][A-Za-z_][A-Za-z0-9_]*)*"));
    return re;
}

const QRegularExpression &stopMethodRe()
{
    static const QRegularExpression re = anchored(QStringLiteral("[A-Za-z_$][A-Za-z0-9_$]*"));
    return re;
}

const QRegularExpression &stripeVersionRe()
{
    static const QRegularExpression re
        = anchored(QStringLiteral("[0-9]{4}-[0-9]{2}-[0-9]{2}(?:\\.[a-z_]+)?"));
    return re;
}

const QRegularExpression &identifierRe()
{
    static const QRegularExpression re = anchored(QStringLiteral("[A-Za-z_][A-Za-z0-9_]*"));
    return re;
}

bool matches(const QRegularExpression &re, const QString &text)
{
    return re.match(text).hasMatch();
}

// ---------------------------------------------------------------------------------------------
// A small JSON reader that keeps what QJsonDocument drops: member order, duplicate keys and the
// byte offset of every value, so that problems are reported in document order with a line.

struct JsonMember;

struct JsonValue
{
    enum class Type { Null, Bool, Number, String, Array, Object };
    Type type = Type::Null;
    bool boolean = false;
    double number = 0;
    QString string;
    std::vector<JsonValue> items;
    std::vector<JsonMember> members;
    qsizetype offset = 0; // first byte of the value
    qsizetype end = 0;    // the closing bracket of an array or object
};

struct JsonMember
{
    QString key;
    qsizetype keyOffset = 0;
    JsonValue value;
};

class JsonReader
{
public:
    explicit JsonReader(const QByteArray &text)
        : m_text(text)
    {}

    std::optional<JsonValue> read()
    {
        if (m_text.startsWith("\xEF\xBB\xBF"))
            return fail(0,
                        QStringLiteral("the file starts with a byte order mark; save it as "
                                       "UTF-8 without one"));
        skipSpace();
        JsonValue root;
        if (!readValue(root, 0))
            return std::nullopt;
        skipSpace();
        if (m_pos < m_text.size())
            return fail(m_pos, QStringLiteral("unexpected text after the end of the document"));
        return root;
    }

    QString error() const { return m_error; }
    qsizetype errorOffset() const { return m_errorOffset; }

private:
    static constexpr int kMaxDepth = 64;

    std::nullopt_t fail(qsizetype offset, QString message)
    {
        if (m_error.isEmpty()) {
            m_error = std::move(message);
            m_errorOffset = offset;
        }
        return std::nullopt;
    }

    bool failed(qsizetype offset, QString message)
    {
        fail(offset, std::move(message));
        return false;
    }

    char peek() const { return m_pos < m_text.size() ? m_text.at(m_pos) : '\0'; }
    bool atEnd() const { return m_pos >= m_text.size(); }

    void skipSpace()
    {
        while (!atEnd()) {
            const char c = m_text.at(m_pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                break;
            ++m_pos;
        }
    }

    QString describeHere() const
    {
        if (atEnd())
            return QStringLiteral("the end of the file");
        const uchar c = uchar(m_text.at(m_pos));
        if (c >= 0x21 && c < 0x7f)
            return QStringLiteral("'") + QChar(QLatin1Char(char(c))) + QStringLiteral("'");
        return QStringLiteral("byte 0x") + QString::number(c, 16).rightJustified(2, u'0');
    }

    bool readValue(JsonValue &out, int depth)
    {
        out.offset = m_pos;
        if (atEnd())
            return failed(m_pos, QStringLiteral("expected a value, found the end of the file"));
        const char c = peek();
        switch (c) {
        case '{':
            return readObject(out, depth + 1);
        case '[':
            return readArray(out, depth + 1);
        case '"':
            out.type = JsonValue::Type::String;
            return readString(out.string);
        case 't':
            out.type = JsonValue::Type::Bool;
            out.boolean = true;
            return readLiteral("true");
        case 'f':
            out.type = JsonValue::Type::Bool;
            out.boolean = false;
            return readLiteral("false");
        case 'n':
            out.type = JsonValue::Type::Null;
            return readLiteral("null");
        default:
            if (c == '-' || (c >= '0' && c <= '9')) {
                out.type = JsonValue::Type::Number;
                return readNumber(out.number);
            }
            return failed(m_pos, QStringLiteral("expected a value, found ") + describeHere());
        }
    }

    bool readLiteral(const char *word)
    {
        const QByteArrayView w(word);
        if (QByteArrayView(m_text.constData() + m_pos, std::min(w.size(), m_text.size() - m_pos))
            != w)
            return failed(m_pos, QStringLiteral("expected a value, found ") + describeHere());
        m_pos += w.size();
        return true;
    }

    bool readNumber(double &out)
    {
        const qsizetype start = m_pos;
        auto digit = [this] { return peek() >= '0' && peek() <= '9'; };
        if (peek() == '-')
            ++m_pos;
        if (peek() == '0') {
            ++m_pos;
            if (digit())
                return failed(start, QStringLiteral("numbers may not have leading zeros"));
        } else if (digit()) {
            while (digit())
                ++m_pos;
        } else {
            return failed(start, QStringLiteral("a number needs digits after '-'"));
        }
        if (peek() == '.') {
            ++m_pos;
            if (!digit())
                return failed(m_pos, QStringLiteral("a number needs digits after '.'"));
            while (digit())
                ++m_pos;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++m_pos;
            if (peek() == '+' || peek() == '-')
                ++m_pos;
            if (!digit())
                return failed(m_pos, QStringLiteral("a number needs digits in its exponent"));
            while (digit())
                ++m_pos;
        }
        bool ok = false;
        out = m_text.mid(start, m_pos - start).toDouble(&ok); // C locale, whatever setlocale said
        if (!ok || !std::isfinite(out))
            return failed(start, QStringLiteral("number out of range"));
        return true;
    }

    static int hexValue(char c)
    {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    }

    bool readHex4(uint &out)
    {
        out = 0;
        for (int i = 0; i < 4; ++i) {
            const int v = hexValue(peek());
            if (atEnd() || v < 0)
                return failed(m_pos, QStringLiteral("\\u needs four hex digits"));
            out = out * 16 + uint(v);
            ++m_pos;
        }
        return true;
    }

    // Length of the valid UTF-8 sequence at m_pos, or 0.
    qsizetype utf8SequenceLength() const
    {
        const auto byte = [this](qsizetype i) -> uchar {
            return m_pos + i < m_text.size() ? uchar(m_text.at(m_pos + i)) : 0;
        };
        const uchar b0 = byte(0);
        auto cont = [&](qsizetype i) { return (byte(i) & 0xC0) == 0x80; };
        if (b0 >= 0xC2 && b0 <= 0xDF)
            return cont(1) ? 2 : 0;
        if (b0 >= 0xE0 && b0 <= 0xEF) {
            const uchar b1 = byte(1);
            if (!cont(1) || !cont(2))
                return 0;
            if (b0 == 0xE0 && b1 < 0xA0)
                return 0; // overlong
            if (b0 == 0xED && b1 >= 0xA0)
                return 0; // UTF-16 surrogate
            return 3;
        }
        if (b0 >= 0xF0 && b0 <= 0xF4) {
            const uchar b1 = byte(1);
            if (!cont(1) || !cont(2) || !cont(3))
                return 0;
            if (b0 == 0xF0 && b1 < 0x90)
                return 0;
            if (b0 == 0xF4 && b1 >= 0x90)
                return 0;
            return 4;
        }
        return 0;
    }

    bool readString(QString &out)
    {
        const qsizetype start = m_pos;
        ++m_pos; // opening quote
        QByteArray utf8;
        for (;;) {
            if (atEnd())
                return failed(start, QStringLiteral("unterminated string"));
            const uchar c = uchar(m_text.at(m_pos));
            if (c == '"') {
                ++m_pos;
                break;
            }
            if (c < 0x20)
                return failed(m_pos,
                              QStringLiteral("control character in a string (write it "
                                             "as an escape such as \\n)"));
            if (c == '\\') {
                ++m_pos;
                const char e = peek();
                ++m_pos;
                switch (e) {
                case '"':
                    utf8 += '"';
                    break;
                case '\\':
                    utf8 += '\\';
                    break;
                case '/':
                    utf8 += '/';
                    break;
                case 'b':
                    utf8 += '\b';
                    break;
                case 'f':
                    utf8 += '\f';
                    break;
                case 'n':
                    utf8 += '\n';
                    break;
                case 'r':
                    utf8 += '\r';
                    break;
                case 't':
                    utf8 += '\t';
                    break;
                case 'u': {
                    const qsizetype escapeAt = m_pos - 2;
                    uint cp = 0;
                    if (!readHex4(cp))
                        return false;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        uint low = 0;
                        if (peek() != '\\' || m_pos + 1 >= m_text.size()
                            || m_text.at(m_pos + 1) != 'u')
                            return failed(escapeAt,
                                          QStringLiteral("unpaired UTF-16 surrogate "
                                                         "in a \\u escape"));
                        m_pos += 2;
                        if (!readHex4(low))
                            return false;
                        if (low < 0xDC00 || low > 0xDFFF)
                            return failed(escapeAt,
                                          QStringLiteral("unpaired UTF-16 surrogate "
                                                         "in a \\u escape"));
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        return failed(escapeAt,
                                      QStringLiteral("unpaired UTF-16 surrogate in "
                                                     "a \\u escape"));
                    }
                    const char32_t c32 = cp;
                    utf8 += QString::fromUcs4(&c32, 1).toUtf8();
                    break;
                }
                default:
                    return failed(m_pos - 2, QStringLiteral("unknown escape in a string"));
                }
                continue;
            }
            if (c < 0x80) {
                utf8 += char(c);
                ++m_pos;
                continue;
            }
            const qsizetype n = utf8SequenceLength();
            if (n == 0)
                return failed(m_pos, QStringLiteral("invalid UTF-8 in a string"));
            utf8 += QByteArrayView(m_text.constData() + m_pos, n);
            m_pos += n;
        }
        out = QString::fromUtf8(utf8);
        return true;
    }

    bool readArray(JsonValue &out, int depth)
    {
        if (depth > kMaxDepth)
            return failed(m_pos, QStringLiteral("nested too deeply"));
        out.type = JsonValue::Type::Array;
        ++m_pos;
        skipSpace();
        if (peek() == ']') {
            out.end = m_pos++;
            return true;
        }
        for (;;) {
            skipSpace();
            JsonValue item;
            if (!readValue(item, depth))
                return false;
            out.items.push_back(std::move(item));
            skipSpace();
            if (peek() == ',') {
                ++m_pos;
                skipSpace();
                if (peek() == ']')
                    return failed(m_pos, QStringLiteral("trailing comma before ']'"));
                continue;
            }
            if (peek() == ']') {
                out.end = m_pos++;
                return true;
            }
            return failed(
                m_pos, QStringLiteral("expected ',' or ']' in an array, found ") + describeHere());
        }
    }

    bool readObject(JsonValue &out, int depth)
    {
        if (depth > kMaxDepth)
            return failed(m_pos, QStringLiteral("nested too deeply"));
        out.type = JsonValue::Type::Object;
        ++m_pos;
        skipSpace();
        if (peek() == '}') {
            out.end = m_pos++;
            return true;
        }
        for (;;) {
            skipSpace();
            if (peek() != '"')
                return failed(m_pos,
                              QStringLiteral("expected a key in double quotes, found ")
                                  + describeHere());
            JsonMember member;
            member.keyOffset = m_pos;
            if (!readString(member.key))
                return false;
            skipSpace();
            if (peek() != ':')
                return failed(m_pos,
                              QStringLiteral("expected ':' after a key, found ") + describeHere());
            ++m_pos;
            skipSpace();
            if (!readValue(member.value, depth))
                return false;
            out.members.push_back(std::move(member));
            skipSpace();
            if (peek() == ',') {
                ++m_pos;
                skipSpace();
                if (peek() == '}')
                    return failed(m_pos, QStringLiteral("trailing comma before '}'"));
                continue;
            }
            if (peek() == '}') {
                out.end = m_pos++;
                return true;
            }
            return failed(
                m_pos, QStringLiteral("expected ',' or '}' in an object, found ") + describeHere());
        }
    }

    const QByteArray &m_text;
    qsizetype m_pos = 0;
    QString m_error;
    qsizetype m_errorOffset = 0;
};

// ---------------------------------------------------------------------------------------------

QString quoted(const QString &s)
{
    QString out = QStringLiteral("\"");
    for (const QChar ch : s) {
        if (ch == u'"' || ch == u'\\')
            out += u'\\';
        if (ch.unicode() < 0x20) {
            out += QStringLiteral("\\u")
                   + QString::number(ch.unicode(), 16).rightJustified(4, u'0');
            continue;
        }
        out += ch;
    }
    return out + u'"';
}

QString childPath(const QString &parent, const QString &key)
{
    if (matches(identifierRe(), key))
        return parent + u'.' + key;
    return parent + u'[' + quoted(key) + u']';
}

QString indexPath(const QString &parent, qsizetype index)
{
    return parent + u'[' + QString::number(index) + u']';
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
int editDistance(QStringView a, QStringView b)
{
    const qsizetype n = a.size(), m = b.size();
    std::vector<std::vector<int>> d(size_t(n + 1), std::vector<int>(size_t(m + 1)));
    for (qsizetype i = 0; i <= n; ++i)
        d[i][0] = int(i);
    for (qsizetype j = 0; j <= m; ++j)
        d[0][j] = int(j);
    for (qsizetype i = 1; i <= n; ++i) {
        for (qsizetype j = 1; j <= m; ++j) {
            const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

// The closest candidate within edit distance 2 (and closer than the word's own length).
QString suggestion(const QString &word, const QStringList &candidates)
{
    QString best;
    int bestDistance = 3;
    if (word.size() > 64)
        return best; // not a typo of anything we know, and the table would be large
    for (const QString &c : candidates) {
        if (std::abs(word.size() - c.size()) > 2 || c.size() > 64)
            continue; // the distance is at least the difference in length
        const int dist = editDistance(word, c);
        if (dist < bestDistance && dist < word.size()) {
            best = c;
            bestDistance = dist;
        }
    }
    return best;
}

QString didYouMean(const QString &word, const QStringList &candidates)
{
    const QString s = suggestion(word, candidates);
    return s.isEmpty() ? QString()
                       : QStringLiteral(" (did you mean ") + quoted(s) + QStringLiteral("?)");
}

QString typeName(const JsonValue &v)
{
    switch (v.type) {
    case JsonValue::Type::Null:
        return QStringLiteral("null");
    case JsonValue::Type::Bool:
        return QStringLiteral("a boolean");
    case JsonValue::Type::Number:
        return QStringLiteral("a number");
    case JsonValue::Type::String:
        return QStringLiteral("a string");
    case JsonValue::Type::Array:
        return QStringLiteral("an array");
    case JsonValue::Type::Object:
        return QStringLiteral("an object");
    }
    return {};
}

const QStringList &layerIds()
{
    static const QStringList ids = [] {
        QStringList l;
        for (const char *id : kLayerIds)
            l << QString::fromLatin1(id);
        return l;
    }();
    return ids;
}

enum class UrlSchemes { Http, HttpOrWebSocket };

struct KindSpec
{
    QString kind;
    QString layer;
    QStringList keys;     // besides layer, kind, timeout_s, ca_file, proxy
    QStringList required; // besides layer and kind
    UrlSchemes urlSchemes = UrlSchemes::Http;
};

const std::vector<KindSpec> &kindSpecs()
{
    static const std::vector<KindSpec> specs = [] {
        const QString runtime = QStringLiteral("runtime");
        const QString identity = QStringLiteral("identity");
        const QString url = QStringLiteral("url");
        const QString apiKey = QStringLiteral("api_key");
        const QStringList identityKeys = {
            QStringLiteral("issuer"), QStringLiteral("client_id"), QStringLiteral("client_secret")};
        const QStringList identityRequired
            = {QStringLiteral("issuer"), QStringLiteral("client_id")};
        std::vector<KindSpec> s;
        s.push_back({QStringLiteral("a2a"), runtime, {url, apiKey}, {url}});
        s.push_back({QStringLiteral("langgraph"), runtime, {url, apiKey}, {url}});
        s.push_back({QStringLiteral("cloudflare-agents"),
                     runtime,
                     {url, apiKey, QStringLiteral("stop_method")},
                     {url},
                     UrlSchemes::HttpOrWebSocket});
        s.push_back({QStringLiteral("agentcore"), runtime, {url, apiKey}, {url}});
        for (const char *k : {"oauth2", "auth0", "entra", "workos", "keycloak"})
            s.push_back({QString::fromLatin1(k), identity, identityKeys, identityRequired});
        // Okta's admin API (sessions with their OAuth tokens) takes an API token (SSWS).
        s.push_back({QStringLiteral("okta"), identity, identityKeys + QStringList{apiKey},
                     identityRequired});
        // Stripe's API has one well-known base URL; url is there for the sandbox and fakes.
        s.push_back({QStringLiteral("stripe-issuing"),
                     QStringLiteral("payment"),
                     {url, apiKey, QStringLiteral("stripe_version")},
                     {}});
        s.push_back({QStringLiteral("opa"),
                     QStringLiteral("tools"),
                     {url, apiKey, QStringLiteral("package")},
                     {url}});
        s.push_back({QStringLiteral("litellm"), QStringLiteral("tools"), {url, apiKey}, {url}});
        s.push_back({QStringLiteral("mcp"), QStringLiteral("tools"), {url, apiKey}, {url}});
        s.push_back({QStringLiteral("otlp"),
                     QStringLiteral("observability"),
                     {QStringLiteral("listen"), QStringLiteral("token")},
                     {QStringLiteral("listen")}});
        s.push_back({QStringLiteral("langfuse"),
                     QStringLiteral("observability"),
                     {url, QStringLiteral("client_id"), QStringLiteral("client_secret")},
                     {url}});
        return s;
    }();
    return specs;
}

const KindSpec *findKind(const QString &kind)
{
    for (const KindSpec &s : kindSpecs())
        if (s.kind == kind)
            return &s;
    return nullptr;
}

const QStringList &commonProviderKeys()
{
    static const QStringList keys = {QStringLiteral("layer"),
                                     QStringLiteral("kind"),
                                     QStringLiteral("timeout_s"),
                                     QStringLiteral("ca_file"),
                                     QStringLiteral("proxy")};
    return keys;
}

const QStringList &allProviderKeys()
{
    static const QStringList keys = [] {
        QStringList all = commonProviderKeys();
        for (const KindSpec &s : kindSpecs())
            for (const QString &k : s.keys)
                if (!all.contains(k))
                    all << k;
        return all;
    }();
    return keys;
}

QStringList kindsOfLayer(const QString &layer)
{
    QStringList kinds;
    for (const KindSpec &s : kindSpecs())
        if (s.layer == layer)
            kinds << s.kind;
    return kinds;
}

bool isLoopbackHost(const QString &authorityHost)
{
    return authorityHost == u"localhost" || authorityHost == u"127.0.0.1"
           || authorityHost == u"[::1]";
}

QString hostOfAuthority(const QString &authority)
{
    if (authority.startsWith(u'[')) {
        const qsizetype close = authority.indexOf(u']');
        return close < 0 ? authority : authority.left(close + 1);
    }
    const qsizetype colon = authority.indexOf(u':');
    return colon < 0 ? authority : authority.left(colon);
}

struct Reference
{
    QString provider;
    QString layer; // the layer the provider must be on
    QString role;  // "runtime", "identity.provider", ...
    QString path;
    qsizetype offset = 0;
};

struct RawIssue
{
    qsizetype offset = 0;
    QString path;
    QString message;
};

class Validator
{
public:
    explicit Validator(const QByteArray &text)
        : m_text(text)
    {}

    ProfileValidation run(const QString &filePath)
    {
        ProfileValidation result;
        JsonReader reader(m_text);
        const std::optional<JsonValue> root = reader.read();
        if (!root) {
            addIssue(reader.errorOffset(),
                     QStringLiteral("$"),
                     QStringLiteral("not valid JSON: ") + reader.error()
                         + QStringLiteral(" (byte offset ") + QString::number(reader.errorOffset())
                         + u')');
            result.issues = finish();
            return result;
        }
        Profile profile;
        profile.filePath = filePath;
        readProfile(*root, profile);
        result.issues = finish();
        if (result.issues.empty())
            result.profile = std::move(profile);
        return result;
    }

private:
    void addIssue(qsizetype offset, QString path, QString message)
    {
        m_issues.push_back({offset, std::move(path), std::move(message)});
    }

    std::vector<ProfileIssue> finish()
    {
        std::stable_sort(m_issues.begin(),
                         m_issues.end(),
                         [](const RawIssue &a, const RawIssue &b) { return a.offset < b.offset; });
        std::vector<ProfileIssue> out;
        out.reserve(m_issues.size());
        for (const RawIssue &raw : m_issues) {
            ProfileIssue issue;
            issue.path = raw.path;
            issue.message = raw.message;
            lineAndColumn(raw.offset, issue.line, issue.column);
            out.push_back(std::move(issue));
        }
        return out;
    }

    void lineAndColumn(qsizetype offset, int &line, int &column) const
    {
        line = 1;
        column = 1;
        const qsizetype end = std::min(offset, m_text.size());
        for (qsizetype i = 0; i < end; ++i) {
            const uchar c = uchar(m_text.at(i));
            if (c == '\n') {
                ++line;
                column = 1;
            } else if ((c & 0xC0) != 0x80) {
                ++column; // count characters, not UTF-8 continuation bytes
            }
        }
    }

    // ---- type helpers ----------------------------------------------------------------------

    void wrongType(const JsonValue &v, const QString &path, const QString &expected)
    {
        addIssue(v.offset,
                 path,
                 QStringLiteral("expected ") + expected + QStringLiteral(", found ") + typeName(v));
    }

    bool isObject(const JsonValue &v, const QString &path)
    {
        if (v.type == JsonValue::Type::Object)
            return true;
        wrongType(v, path, QStringLiteral("an object"));
        return false;
    }

    std::optional<QString> nonEmptyString(const JsonValue &v, const QString &path)
    {
        if (v.type != JsonValue::Type::String) {
            wrongType(v, path, QStringLiteral("a string"));
            return std::nullopt;
        }
        if (v.string.isEmpty()) {
            addIssue(v.offset, path, QStringLiteral("must not be empty"));
            return std::nullopt;
        }
        return v.string;
    }

    std::optional<QString> patternString(const JsonValue &v,
                                         const QString &path,
                                         const QRegularExpression &re,
                                         const QString &what)
    {
        const auto s = nonEmptyString(v, path);
        if (!s)
            return std::nullopt;
        if (!matches(re, *s)) {
            addIssue(v.offset, path, quoted(*s) + QStringLiteral(" is not ") + what);
            return std::nullopt;
        }
        return s;
    }

    std::optional<QStringList> stringArray(const JsonValue &v, const QString &path)
    {
        if (v.type != JsonValue::Type::Array) {
            wrongType(v, path, QStringLiteral("an array of strings"));
            return std::nullopt;
        }
        QStringList out;
        bool ok = true;
        for (size_t i = 0; i < v.items.size(); ++i) {
            const auto s = nonEmptyString(v.items[i], indexPath(path, qsizetype(i)));
            if (s)
                out << *s;
            else
                ok = false;
        }
        return ok ? std::optional<QStringList>(out) : std::nullopt;
    }

    std::optional<qint64> integer(const JsonValue &v, const QString &path, qint64 min, qint64 max)
    {
        if (v.type != JsonValue::Type::Number || v.number != std::floor(v.number)) {
            wrongType(v, path, QStringLiteral("an integer"));
            return std::nullopt;
        }
        if (v.number < double(min) || v.number > double(max)) {
            addIssue(v.offset,
                     path,
                     QStringLiteral("must be between ") + QString::number(min)
                         + QStringLiteral(" and ") + QString::number(max));
            return std::nullopt;
        }
        return qint64(v.number);
    }

    std::optional<double> number(const JsonValue &v, const QString &path)
    {
        if (v.type != JsonValue::Type::Number) {
            wrongType(v, path, QStringLiteral("a number"));
            return std::nullopt;
        }
        return v.number;
    }

    // Walks an object's members in order; `handle` returns false for keys it does not know.
    void members(const JsonValue &object,
                 const QString &path,
                 const std::function<bool(const JsonMember &, const QString &)> &handle,
                 const std::function<void(const JsonMember &, const QString &)> &unknown)
    {
        QHash<QString, qsizetype> seen;
        for (const JsonMember &m : object.members) {
            const QString p = childPath(path, m.key);
            if (const auto it = seen.constFind(m.key); it != seen.constEnd()) {
                int line = 0, column = 0;
                lineAndColumn(*it, line, column);
                addIssue(m.keyOffset,
                         p,
                         QStringLiteral("duplicate key ") + quoted(m.key)
                             + QStringLiteral(" (first written at line ") + QString::number(line)
                             + u')');
                continue;
            }
            seen.insert(m.key, m.keyOffset);
            if (!handle(m, p))
                unknown(m, p);
        }
    }

    void unknownKey(const JsonMember &m, const QString &path, const QStringList &known)
    {
        addIssue(m.keyOffset,
                 path,
                 QStringLiteral("unknown key ") + quoted(m.key) + didYouMean(m.key, known));
    }

    void requireKeys(const JsonValue &object,
                     const QString &path,
                     const QStringList &required,
                     const QString &why = {})
    {
        for (const QString &key : required) {
            const bool present = std::any_of(object.members.begin(),
                                             object.members.end(),
                                             [&](const JsonMember &m) { return m.key == key; });
            if (!present)
                addIssue(object.end,
                         childPath(path, key),
                         QStringLiteral("required key ") + quoted(key)
                             + QStringLiteral(" is missing") + why);
        }
    }

    // ---- values with meaning ---------------------------------------------------------------

    std::optional<SecretRef> secret(const JsonValue &v, const QString &path)
    {
        if (v.type != JsonValue::Type::String) {
            wrongType(v, path, QStringLiteral("a secret reference (env:, keychain: or file:)"));
            return std::nullopt;
        }
        Result<SecretRef> ref = parseSecretRef(v.string);
        if (!ref) {
            addIssue(v.offset, path, ref.error().message);
            return std::nullopt;
        }
        return *ref;
    }

    // A URL with a host and no credentials. The value is echoed only when it holds no '@'.
    std::optional<QUrl>
    url(const JsonValue &v, const QString &path, const QStringList &schemes, bool issuer = false)
    {
        const auto s = nonEmptyString(v, path);
        if (!s)
            return std::nullopt;
        const QRegularExpressionMatch split = urlSplitRe().match(*s);
        if (!split.hasMatch()) {
            if (s->contains(u'@'))
                addIssue(v.offset,
                         path,
                         QStringLiteral("not a URL (expected ") + schemes.first()
                             + QStringLiteral("://HOST[:PORT][/PATH])"));
            else
                addIssue(v.offset,
                         path,
                         quoted(*s) + QStringLiteral(" is not a URL (expected ") + schemes.first()
                             + QStringLiteral("://HOST[:PORT][/PATH])"));
            return std::nullopt;
        }
        const QString scheme = split.captured(1);
        const QString authority = split.captured(2);
        const QString rest = split.captured(3);
        if (authority.contains(u'@')) {
            addIssue(v.offset,
                     path,
                     QStringLiteral("credentials in a URL are refused: put the "
                                    "secret in a secret field as env:, "
                                    "keychain: or file:"));
            return std::nullopt;
        }
        if (!schemes.contains(scheme)) {
            addIssue(v.offset,
                     path,
                     QStringLiteral("URL scheme ") + quoted(scheme)
                         + QStringLiteral(" is not allowed here (use ")
                         + schemes.join(QStringLiteral(" or ")) + u')');
            return std::nullopt;
        }
        if (authority.isEmpty()) {
            addIssue(v.offset, path, QStringLiteral("URL has no host"));
            return std::nullopt;
        }
        if (!matches(authorityRe(), authority)) {
            addIssue(v.offset, path, QStringLiteral("bad host or port ") + quoted(authority));
            return std::nullopt;
        }
        if (issuer) {
            if (scheme == u"http" && !isLoopbackHost(hostOfAuthority(authority))) {
                addIssue(v.offset,
                         path,
                         QStringLiteral("an issuer must use https (http is allowed only on "
                                        "loopback: localhost, 127.0.0.1, [::1])"));
                return std::nullopt;
            }
            if (!matches(issuerRestRe(), rest)) {
                addIssue(v.offset,
                         path,
                         QStringLiteral("an issuer URL has no query or fragment, "
                                        "spaces or control characters"));
                return std::nullopt;
            }
        } else if (!matches(urlRestRe(), rest)) {
            addIssue(v.offset, path, QStringLiteral("URL contains spaces or control characters"));
            return std::nullopt;
        }
        // The patterns above are the gate (the schema uses the same ones); QUrl only parses.
        const QUrl parsed(*s, QUrl::TolerantMode);
        if (!parsed.isValid() || parsed.host().isEmpty()) {
            addIssue(v.offset, path, QStringLiteral("not a valid URL: ") + parsed.errorString());
            return std::nullopt;
        }
        return parsed;
    }

    // ---- the document ----------------------------------------------------------------------

    void readProfile(const JsonValue &root, Profile &profile)
    {
        const QString path = QStringLiteral("$");
        if (root.type != JsonValue::Type::Object) {
            wrongType(root, path, QStringLiteral("the profile to be a JSON object"));
            return;
        }
        static const QStringList known = {QStringLiteral("version"),
                                          QStringLiteral("name"),
                                          QStringLiteral("operator"),
                                          QStringLiteral("providers"),
                                          QStringLiteral("agents"),
                                          QStringLiteral("retention"),
                                          QStringLiteral("audit"),
                                          QStringLiteral("prices")};
        const JsonValue *agents = nullptr;
        QString agentsPath;
        members(
            root,
            path,
            [&](const JsonMember &m, const QString &p) {
                const JsonValue &v = m.value;
                if (m.key == u"version") {
                    if (const auto n = integer(v,
                                               p,
                                               std::numeric_limits<qint64>::min() / 2,
                                               std::numeric_limits<qint64>::max() / 2)) {
                        if (*n != 1)
                            addIssue(v.offset,
                                     p,
                                     QStringLiteral("unsupported profile version ")
                                         + QString::number(*n)
                                         + QStringLiteral(": this Breaker reads "
                                                          "version 1"));
                        else
                            profile.version = 1;
                    }
                } else if (m.key == u"name") {
                    if (const auto s = nonEmptyString(v, p))
                        profile.name = *s;
                } else if (m.key == u"operator") {
                    if (const auto s = nonEmptyString(v, p))
                        profile.operatorName = *s;
                } else if (m.key == u"providers") {
                    readProviders(v, p, profile);
                } else if (m.key == u"agents") {
                    agents = &v; // after providers, wherever they are written
                    agentsPath = p;
                } else if (m.key == u"retention") {
                    readRetention(v, p, profile.retention);
                } else if (m.key == u"audit") {
                    readAudit(v, p, profile.audit);
                } else if (m.key == u"prices") {
                    readPrices(v, p, profile.prices);
                } else {
                    return false;
                }
                return true;
            },
            [&](const JsonMember &m, const QString &p) { unknownKey(m, p, known); });
        requireKeys(root, path, {QStringLiteral("version"), QStringLiteral("name")});
        if (agents)
            readAgents(*agents, agentsPath, profile);
        checkReferences();
    }

    void readRetention(const JsonValue &v, const QString &path, Retention &retention)
    {
        if (!isObject(v, path))
            return;
        static const QStringList known
            = {QStringLiteral("events_days"), QStringLiteral("max_events")};
        members(
            v,
            path,
            [&](const JsonMember &m, const QString &p) {
                if (m.key == u"events_days") {
                    if (const auto n = integer(m.value, p, 0, std::numeric_limits<int>::max()))
                        retention.eventsDays = int(*n);
                } else if (m.key == u"max_events") {
                    if (const auto n = integer(m.value, p, 0, (qint64(1) << 53) - 1))
                        retention.maxEvents = *n;
                } else {
                    return false;
                }
                return true;
            },
            [&](const JsonMember &m, const QString &p) { unknownKey(m, p, known); });
    }

    void readAudit(const JsonValue &v, const QString &path, AuditSettings &audit)
    {
        if (!isObject(v, path))
            return;
        static const QStringList known
            = {QStringLiteral("signing_key"), QStringLiteral("keep_after_export_days")};
        members(
            v,
            path,
            [&](const JsonMember &m, const QString &p) {
                if (m.key == u"signing_key") {
                    if (const auto ref = secret(m.value, p)) {
                        // The key pair is created on first use and written back: an
                        // environment variable cannot hold it.
                        if (ref->kind == SecretRef::Kind::Env)
                            addIssue(m.value.offset,
                                     p,
                                     QStringLiteral("the audit signing key is created on first use "
                                                    "and stored: use keychain:NAME or file:PATH, "
                                                    "not env:"));
                        else
                            audit.signingKey = *ref;
                    }
                } else if (m.key == u"keep_after_export_days") {
                    if (const auto n = integer(m.value, p, 0, std::numeric_limits<int>::max()))
                        audit.keepAfterExportDays = int(*n);
                } else {
                    return false;
                }
                return true;
            },
            [&](const JsonMember &m, const QString &p) { unknownKey(m, p, known); });
    }

    void readPrices(const JsonValue &v, const QString &path, std::vector<ModelPrice> &prices)
    {
        if (!isObject(v, path))
            return;
        static const QStringList known = {QStringLiteral("input"), QStringLiteral("output")};
        members(
            v,
            path,
            [&](const JsonMember &model, const QString &modelPath) {
                if (model.key.isEmpty()) {
                    addIssue(model.keyOffset,
                             modelPath,
                             QStringLiteral("a model name must not be empty"));
                    return true;
                }
                if (!isObject(model.value, modelPath))
                    return true;
                ModelPrice price;
                price.model = model.key;
                members(
                    model.value,
                    modelPath,
                    [&](const JsonMember &m, const QString &p) {
                        if (m.key != u"input" && m.key != u"output")
                            return false;
                        if (const auto n = number(m.value, p)) {
                            if (*n < 0)
                                addIssue(m.value.offset,
                                         p,
                                         QStringLiteral("a price must not be negative"));
                            (m.key == u"input" ? price.input : price.output) = *n;
                        }
                        return true;
                    },
                    [&](const JsonMember &m, const QString &p) { unknownKey(m, p, known); });
                requireKeys(
                    model.value, modelPath, known, QStringLiteral(" (USD per million tokens)"));
                prices.push_back(price);
                return true;
            },
            [](const JsonMember &, const QString &) {});
    }

    void readProviders(const JsonValue &v, const QString &path, Profile &profile)
    {
        if (!isObject(v, path))
            return;
        members(
            v,
            path,
            [&](const JsonMember &m, const QString &p) {
                if (!matches(providerNameRe(), m.key)) {
                    addIssue(m.keyOffset,
                             p,
                             QStringLiteral("a provider name must start with a letter or digit "
                                            "and hold only letters, digits, '_', '.' and '-'"));
                    return true;
                }
                ProviderConfig provider;
                provider.name = m.key;
                readProvider(m.value, p, provider);
                m_providerLayers.insert(provider.name, provider.layer);
                profile.providers.push_back(std::move(provider));
                return true;
            },
            [](const JsonMember &, const QString &) {});
    }

    void readProvider(const JsonValue &v, const QString &path, ProviderConfig &provider)
    {
        if (!isObject(v, path))
            return;
        // layer and kind decide which other keys belong, so read them first.
        const KindSpec *spec = nullptr;
        bool layerOk = false;
        for (const JsonMember &m : v.members) {
            const QString p = childPath(path, m.key);
            if (m.key != u"layer")
                continue;
            if (const auto s = nonEmptyString(m.value, p)) {
                if (layerIds().contains(*s)) {
                    provider.layer = *s;
                    layerOk = true;
                } else {
                    addIssue(m.value.offset,
                             p,
                             QStringLiteral("unknown layer ") + quoted(*s)
                                 + didYouMean(*s, layerIds()) + QStringLiteral(" (one of ")
                                 + layerIds().join(QStringLiteral(", ")) + u')');
                }
            }
            break; // a second "layer" is reported as a duplicate key
        }
        for (const JsonMember &m : v.members) {
            const QString p = childPath(path, m.key);
            if (m.key != u"kind")
                continue;
            const auto s = nonEmptyString(m.value, p);
            if (!s)
                break;
            provider.kind = *s;
            spec = findKind(*s);
            if (!spec) {
                QStringList candidates;
                for (const KindSpec &k : kindSpecs())
                    candidates << k.kind;
                const QStringList ofLayer = layerOk ? kindsOfLayer(provider.layer) : QStringList();
                QString known;
                if (layerOk && ofLayer.isEmpty())
                    known = QStringLiteral(" (no provider kind exists for layer ")
                            + quoted(provider.layer) + QStringLiteral(" yet)");
                else if (layerOk)
                    known = QStringLiteral(" (layer ") + provider.layer + QStringLiteral(" has: ")
                            + ofLayer.join(QStringLiteral(", ")) + u')';
                addIssue(m.value.offset,
                         p,
                         QStringLiteral("unknown kind ") + quoted(*s)
                             + didYouMean(*s, layerOk && !ofLayer.isEmpty() ? ofLayer : candidates)
                             + known);
            } else if (layerOk && spec->layer != provider.layer) {
                addIssue(m.value.offset,
                         p,
                         QStringLiteral("kind ") + quoted(*s) + QStringLiteral(" belongs to layer ")
                             + quoted(spec->layer) + QStringLiteral(", not ")
                             + quoted(provider.layer));
            }
            break;
        }

        QStringList allowed = commonProviderKeys();
        if (spec)
            allowed += spec->keys;
        members(
            v,
            path,
            [&](const JsonMember &m, const QString &p) {
                if (m.key == u"layer" || m.key == u"kind")
                    return true;
                if (spec && !allowed.contains(m.key))
                    return false;
                if (!spec && !allProviderKeys().contains(m.key))
                    return false;
                readProviderKey(m, p, spec, provider);
                return true;
            },
            [&](const JsonMember &m, const QString &p) {
                if (allProviderKeys().contains(m.key)) {
                    QStringList owners;
                    for (const KindSpec &k : kindSpecs())
                        if (k.keys.contains(m.key))
                            owners << k.kind;
                    addIssue(m.keyOffset,
                             p,
                             QStringLiteral("key ") + quoted(m.key)
                                 + QStringLiteral(" does not apply to kind ")
                                 + quoted(provider.kind) + QStringLiteral(" (it is for: ")
                                 + owners.join(QStringLiteral(", ")) + u')');
                    return;
                }
                unknownKey(m, p, spec ? allowed : allProviderKeys());
            });
        QStringList required = {QStringLiteral("layer"), QStringLiteral("kind")};
        if (spec)
            required += spec->required;
        requireKeys(v,
                    path,
                    required,
                    spec ? QStringLiteral(" (kind ") + spec->kind + QStringLiteral(" needs it)")
                         : QString());
    }

    void readProviderKey(const JsonMember &m,
                         const QString &p,
                         const KindSpec *spec,
                         ProviderConfig &provider)
    {
        const JsonValue &v = m.value;
        static const QStringList http = {QStringLiteral("https"), QStringLiteral("http")};
        static const QStringList httpWs = {QStringLiteral("https"),
                                           QStringLiteral("http"),
                                           QStringLiteral("wss"),
                                           QStringLiteral("ws")};
        static const QStringList proxySchemes = {QStringLiteral("http"), QStringLiteral("socks5")};
        if (m.key == u"url") {
            const bool ws = spec && spec->urlSchemes == UrlSchemes::HttpOrWebSocket;
            if (const auto u = url(v, p, ws ? httpWs : http))
                provider.url = *u;
        } else if (m.key == u"issuer") {
            if (const auto u = url(v, p, http, true))
                provider.issuer = *u;
        } else if (m.key == u"proxy") {
            if (const auto u = url(v, p, proxySchemes))
                provider.proxy = *u;
        } else if (m.key == u"listen") {
            const auto s = nonEmptyString(v, p);
            if (!s)
                return;
            const QRegularExpressionMatch match = listenRe().match(*s);
            if (!match.hasMatch()) {
                addIssue(v.offset,
                         p,
                         quoted(*s)
                             + QStringLiteral(" is not HOST:PORT with an IP "
                                              "address or localhost and a port "
                                              "0-65535 (IPv6 as [::1]:4318)"));
                return;
            }
            QString host = match.captured(1);
            if (host.startsWith(u'['))
                host = host.mid(1, host.size() - 2);
            provider.listenHost = host;
            provider.listenPort = match.captured(2).toInt();
        } else if (m.key == u"client_id") {
            if (const auto s = nonEmptyString(v, p))
                provider.clientId = *s;
        } else if (m.key == u"client_secret") {
            provider.clientSecret = secret(v, p);
        } else if (m.key == u"api_key") {
            provider.apiKey = secret(v, p);
        } else if (m.key == u"token") {
            provider.token = secret(v, p);
        } else if (m.key == u"package") {
            if (const auto s
                = patternString(v,
                                p,
                                opaPackageRe(),
                                QStringLiteral("an OPA package path such as "
                                               "\"breaker\" or \"breaker/killswitch\"")))
                provider.package = *s;
        } else if (m.key == u"stop_method") {
            if (const auto s = patternString(v, p, stopMethodRe(), QStringLiteral("a method name")))
                provider.stopMethod = *s;
        } else if (m.key == u"stripe_version") {
            if (const auto s = patternString(v,
                                             p,
                                             stripeVersionRe(),
                                             QStringLiteral("a Stripe API version such as "
                                                            "\"2026-10-28.endive\"")))
                provider.stripeVersion = *s;
        } else if (m.key == u"timeout_s") {
            if (const auto n = number(v, p)) {
                if (*n <= 0 || *n > 86400)
                    addIssue(v.offset,
                             p,
                             QStringLiteral("must be more than 0 and at most "
                                            "86400 seconds"));
                else
                    provider.timeoutS = *n;
            }
        } else if (m.key == u"ca_file") {
            if (const auto s = nonEmptyString(v, p))
                provider.caFile = *s;
        }
    }

    void readAgents(const JsonValue &v, const QString &path, Profile &profile)
    {
        if (!isObject(v, path))
            return;
        members(
            v,
            path,
            [&](const JsonMember &m, const QString &p) {
                if (m.key.isEmpty()) {
                    addIssue(m.keyOffset, p, QStringLiteral("an agent name must not be empty"));
                    return true;
                }
                AgentConfig agent;
                agent.name = m.key;
                readAgent(m.value, p, agent);
                profile.agents.push_back(std::move(agent));
                return true;
            },
            [](const JsonMember &, const QString &) {});

        // One name must lead to one agent.
        QHash<QString, QString> owners; // otel name -> agent
        for (const AgentConfig &a : profile.agents)
            owners.insert(a.name, a.name);
        for (const JsonMember &m : v.members) {
            if (m.value.type != JsonValue::Type::Object)
                continue;
            for (const JsonMember &field : m.value.members) {
                if (field.key != u"otel_names" || field.value.type != JsonValue::Type::Array)
                    continue;
                const QString fieldPath = childPath(childPath(path, m.key), field.key);
                for (size_t i = 0; i < field.value.items.size(); ++i) {
                    const JsonValue &item = field.value.items[i];
                    if (item.type != JsonValue::Type::String || item.string.isEmpty())
                        continue;
                    const auto it = owners.constFind(item.string);
                    if (it != owners.constEnd() && *it != m.key) {
                        addIssue(item.offset,
                                 indexPath(fieldPath, qsizetype(i)),
                                 QStringLiteral("the name ") + quoted(item.string)
                                     + QStringLiteral(" already belongs to agent ") + quoted(*it));
                    } else {
                        owners.insert(item.string, m.key);
                    }
                }
            }
        }
    }

    // {"provider": NAME, <extra>...}; returns the provider name.
    QString readBinding(const JsonValue &v,
                        const QString &path,
                        const QString &layer,
                        const QString &role,
                        const std::function<bool(const JsonMember &, const QString &)> &extra,
                        const QStringList &known)
    {
        if (!isObject(v, path))
            return {};
        QString provider;
        members(
            v,
            path,
            [&](const JsonMember &m, const QString &p) {
                if (m.key == u"provider") {
                    if (const auto s = nonEmptyString(m.value, p)) {
                        provider = *s;
                        m_references.push_back({*s, layer, role, p, m.value.offset});
                    }
                    return true;
                }
                return extra(m, p);
            },
            [&](const JsonMember &m, const QString &p) { unknownKey(m, p, known); });
        requireKeys(v, path, {QStringLiteral("provider")});
        return provider;
    }

    void readAgent(const JsonValue &v, const QString &path, AgentConfig &agent)
    {
        if (!isObject(v, path))
            return;
        static const QStringList known = {QStringLiteral("owner"),
                                          QStringLiteral("runtime"),
                                          QStringLiteral("principals"),
                                          QStringLiteral("identity"),
                                          QStringLiteral("payment"),
                                          QStringLiteral("tools"),
                                          QStringLiteral("data"),
                                          QStringLiteral("approval"),
                                          QStringLiteral("otel_names"),
                                          QStringLiteral("canary")};
        members(
            v,
            path,
            [&](const JsonMember &m, const QString &p) {
                const JsonValue &value = m.value;
                if (m.key == u"owner") {
                    if (const auto s = nonEmptyString(value, p))
                        agent.owner = *s;
                } else if (m.key == u"runtime") {
                    readRuntime(value, p, agent);
                } else if (m.key == u"principals") {
                    if (const auto l = stringArray(value, p))
                        agent.principals = *l;
                } else if (m.key == u"identity") {
                    const QStringList keys = {QStringLiteral("provider"),
                                              QStringLiteral("token"),
                                              QStringLiteral("subject"),
                                              QStringLiteral("client_id")};
                    agent.identityProvider = readBinding(
                        value,
                        p,
                        QStringLiteral("identity"),
                        QStringLiteral("identity"),
                        [&](const JsonMember &f, const QString &fp) {
                            if (f.key == u"token") {
                                agent.identityToken = secret(f.value, fp);
                            } else if (f.key == u"subject") {
                                if (const auto s = nonEmptyString(f.value, fp))
                                    agent.identitySubject = *s;
                            } else if (f.key == u"client_id") {
                                if (const auto s = nonEmptyString(f.value, fp))
                                    agent.identityClientId = *s;
                            } else {
                                return false;
                            }
                            return true;
                        },
                        keys);
                } else if (m.key == u"payment") {
                    const QStringList keys = {QStringLiteral("provider"), QStringLiteral("cards")};
                    agent.paymentProvider = readBinding(
                        value,
                        p,
                        QStringLiteral("payment"),
                        QStringLiteral("payment"),
                        [&](const JsonMember &f, const QString &fp) {
                            if (f.key != u"cards")
                                return false;
                            if (const auto l = stringArray(f.value, fp))
                                agent.cards = *l;
                            return true;
                        },
                        keys);
                } else if (m.key == u"tools") {
                    const QStringList keys = {
                        QStringLiteral("provider"), QStringLiteral("names"), QStringLiteral("key")};
                    agent.toolsProvider = readBinding(
                        value,
                        p,
                        QStringLiteral("tools"),
                        QStringLiteral("tools"),
                        [&](const JsonMember &f, const QString &fp) {
                            if (f.key == u"names") {
                                if (const auto l = stringArray(f.value, fp))
                                    agent.toolNames = *l;
                            } else if (f.key == u"key") {
                                agent.toolsKey = secret(f.value, fp);
                            } else {
                                return false;
                            }
                            return true;
                        },
                        keys);
                } else if (m.key == u"data") {
                    if (const auto l = stringArray(value, p))
                        agent.dataSources = *l;
                } else if (m.key == u"approval") {
                    readApproval(value, p, agent);
                } else if (m.key == u"otel_names") {
                    if (const auto l = stringArray(value, p))
                        agent.otelNames = *l;
                } else if (m.key == u"canary") {
                    if (value.type == JsonValue::Type::Bool)
                        agent.canary = value.boolean;
                    else
                        wrongType(value, p, QStringLiteral("true or false"));
                } else {
                    return false;
                }
                return true;
            },
            [&](const JsonMember &m, const QString &p) { unknownKey(m, p, known); });
    }

    void readRuntime(const JsonValue &v, const QString &path, AgentConfig &agent)
    {
        const QString runtime = QStringLiteral("runtime");
        if (v.type == JsonValue::Type::String) {
            if (const auto s = nonEmptyString(v, path)) {
                agent.runtimeProvider = *s;
                m_references.push_back({*s, runtime, runtime, path, v.offset});
            }
            return;
        }
        if (v.type != JsonValue::Type::Object) {
            wrongType(v, path, QStringLiteral("a provider name or {\"provider\", \"agent\"}"));
            return;
        }
        const QStringList keys = {QStringLiteral("provider"), QStringLiteral("agent")};
        agent.runtimeProvider = readBinding(
            v,
            path,
            runtime,
            runtime,
            [&](const JsonMember &f, const QString &fp) {
                if (f.key != u"agent")
                    return false;
                if (const auto s = nonEmptyString(f.value, fp))
                    agent.runtimeAgent = *s;
                return true;
            },
            keys);
    }

    void readApproval(const JsonValue &v, const QString &path, AgentConfig &agent)
    {
        if (!isObject(v, path))
            return;
        static const QStringList known
            = {QStringLiteral("timeout_s"), QStringLiteral("on_timeout")};
        members(
            v,
            path,
            [&](const JsonMember &m, const QString &p) {
                if (m.key == u"timeout_s") {
                    if (const auto n = integer(m.value, p, 1, std::numeric_limits<int>::max()))
                        agent.approvalTimeoutS = int(*n);
                } else if (m.key == u"on_timeout") {
                    if (const auto s = nonEmptyString(m.value, p)) {
                        if (*s == u"deny" || *s == u"approve")
                            agent.onTimeout = *s;
                        else
                            addIssue(m.value.offset,
                                     p,
                                     QStringLiteral("on_timeout must be \"deny\" or \"approve\""));
                    }
                } else {
                    return false;
                }
                return true;
            },
            [&](const JsonMember &m, const QString &p) { unknownKey(m, p, known); });
    }

    void checkReferences()
    {
        const QStringList names = m_providerLayers.keys();
        for (const Reference &ref : m_references) {
            const auto it = m_providerLayers.constFind(ref.provider);
            if (it == m_providerLayers.constEnd()) {
                addIssue(ref.offset,
                         ref.path,
                         QStringLiteral("unknown provider ") + quoted(ref.provider)
                             + didYouMean(ref.provider, names)
                             + QStringLiteral(": it must be a key of $.providers"));
                continue;
            }
            if (!it->isEmpty() && *it != ref.layer)
                addIssue(ref.offset,
                         ref.path,
                         QStringLiteral("provider ") + quoted(ref.provider)
                             + QStringLiteral(" is on layer ") + quoted(*it)
                             + QStringLiteral(", but ") + ref.role
                             + QStringLiteral(" needs a provider on layer ") + quoted(ref.layer));
        }
    }

    const QByteArray &m_text;
    std::vector<RawIssue> m_issues;
    QHash<QString, QString> m_providerLayers; // name -> layer ("" when the layer was invalid)
    std::vector<Reference> m_references;
};

} // namespace

// ---------------------------------------------------------------------------------------------

QString SecretRef::toString() const
{
    switch (kind) {
    case Kind::Env:
        return QStringLiteral("env:") + name;
    case Kind::Keychain:
        return QStringLiteral("keychain:") + name;
    case Kind::File:
        return QStringLiteral("file:") + name;
    }
    return {};
}

Result<SecretRef> parseSecretRef(const QString &text)
{
    // Never quote `text` in an error: a literal secret pasted here must not reach a log.
    const auto invalid
        = [](const QString &message) { return makeError(Error::Kind::Invalid, message); };
    if (text.startsWith(u"env:")) {
        const QString name = text.mid(4);
        if (!matches(envNameRe(), name))
            return invalid(QStringLiteral("env: reference needs a variable name made of letters, "
                                          "digits and '_', not starting with a digit"));
        return SecretRef{SecretRef::Kind::Env, name};
    }
    if (text.startsWith(u"keychain:")) {
        const QString name = text.mid(9);
        if (!matches(keychainNameRe(), name))
            return invalid(QStringLiteral("keychain: reference needs an entry name of letters, "
                                          "digits and . _ @ + / : -"));
        return SecretRef{SecretRef::Kind::Keychain, name};
    }
    if (text.startsWith(u"file:")) {
        const QString path = text.mid(5);
        const bool control
            = std::any_of(path.begin(), path.end(), [](QChar c) { return c.unicode() < 0x20; });
        if (!path.startsWith(u'/') || control)
            return invalid(QStringLiteral("file: reference needs an absolute path "
                                          "(file:/path/to/secret)"));
        return SecretRef{SecretRef::Kind::File, path};
    }
    if (text.isEmpty())
        return invalid(QStringLiteral("empty secret reference: use env:NAME, keychain:NAME or "
                                      "file:/PATH"));
    return invalid(QStringLiteral("literal secret refused: use env:, keychain: or file:"));
}

QString ProviderConfig::caFilePath(const QString &profileFilePath) const
{
    if (caFile.isEmpty() || QDir::isAbsolutePath(caFile))
        return caFile;
    return QFileInfo(profileFilePath).absoluteDir().filePath(caFile);
}

const ProviderConfig *Profile::provider(const QString &providerName) const
{
    for (const ProviderConfig &p : providers)
        if (p.name == providerName)
            return &p;
    return nullptr;
}

const AgentConfig *Profile::agent(const QString &agentName) const
{
    for (const AgentConfig &a : agents)
        if (a.name == agentName)
            return &a;
    return nullptr;
}

const AgentConfig *Profile::agentForOtelName(QByteArrayView otelName) const
{
    if (otelName.isEmpty())
        return nullptr;
    const QUtf8StringView wanted(otelName.data(), otelName.size());
    for (const AgentConfig &a : agents)
        if (QAnyStringView::equal(wanted, a.name))
            return &a;
    for (const AgentConfig &a : agents)
        for (const QString &n : a.otelNames)
            if (QAnyStringView::equal(wanted, n))
                return &a;
    return nullptr;
}

const ProviderConfig *Profile::observabilityReceiver() const
{
    for (const ProviderConfig &p : providers)
        if (p.kind == u"otlp")
            return &p;
    return nullptr;
}

const ModelPrice *Profile::price(const QString &model) const
{
    for (const ModelPrice &p : prices)
        if (p.model == model)
            return &p;
    return nullptr;
}

std::vector<LayerBinding> Profile::layersFor(const AgentConfig &a) const
{
    std::vector<LayerBinding> rows;
    rows.reserve(std::size(kLayerIds));
    const auto bound = [&](const QString &providerName) { return !providerName.isEmpty(); };
    const bool stoppable = bound(a.runtimeProvider) || bound(a.identityProvider)
                           || bound(a.paymentProvider) || bound(a.toolsProvider);
    const ProviderConfig *receiver = observabilityReceiver();
    for (const char *id : kLayerIds) {
        LayerBinding row;
        row.layer = QString::fromLatin1(id);
        if (row.layer == u"runtime")
            row.provider = a.runtimeProvider;
        else if (row.layer == u"identity")
            row.provider = a.identityProvider;
        else if (row.layer == u"payment")
            row.provider = a.paymentProvider;
        else if (row.layer == u"tools")
            row.provider = a.toolsProvider;
        else if (row.layer == u"observability" && receiver)
            row.provider = receiver->name;

        if (row.layer == u"data")
            row.configured = !a.dataSources.isEmpty();
        else if (row.layer == u"kill_switch")
            row.configured = stoppable;
        else
            row.configured = !row.provider.isEmpty();
        rows.push_back(std::move(row));
    }
    return rows;
}

Error ProfileIssue::toError(const QString &filePath) const
{
    QString text = message;
    if (line > 0)
        text += QStringLiteral(" [line ") + QString::number(line) + QStringLiteral(", column ")
                + QString::number(column) + u']';
    return makeError(Error::Kind::Invalid, text, filePath + QStringLiteral(": ") + path);
}

ProfileValidation validateProfile(const QByteArray &json, const QString &filePath)
{
    Validator validator(json);
    return validator.run(filePath);
}

Result<Profile> parseProfile(const QByteArray &json, const QString &filePath)
{
    ProfileValidation v = validateProfile(json, filePath);
    if (!v.issues.empty())
        return v.issues.front().toError(filePath);
    return std::move(*v.profile);
}

Result<Profile> loadProfile(const QString &filePath)
{
    // A profile is a few kilobytes; refuse anything that could not be one before reading it.
    constexpr qint64 kMaxProfileBytes = 4 * 1024 * 1024;
    QFile file(filePath);
    if (!file.open(QIODevice::ReadOnly)) {
        const auto kind = file.exists() ? Error::Kind::Unavailable : Error::Kind::NotFound;
        return makeError(
            kind, QStringLiteral("cannot read the profile: ") + file.errorString(), filePath);
    }
    if (file.size() > kMaxProfileBytes)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the file is ") + QString::number(file.size())
                             + QStringLiteral(" bytes; a profile is at most 4 MiB"),
                         filePath);
    const QByteArray bytes = file.read(kMaxProfileBytes + 1);
    if (file.error() != QFileDevice::NoError)
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot read the profile: ") + file.errorString(),
                         filePath);
    Result<Profile> profile = parseProfile(bytes, filePath);
    if (profile)
        qCDebug(lcProfile) << "loaded profile" << profile->name << "from" << filePath << "with"
                           << profile->providers.size() << "providers and" << profile->agents.size()
                           << "agents";
    return profile;
}

} // namespace Breaker
