// libFuzzer target: the OAuth 2.0 / OIDC decoders (connectors/identity/OAuthCodec) on arbitrary
// bytes, read as a discovery document, an introspection answer, an error body, a JWT, a form
// body, a Basic header and a Retry-After value at once. Invariants: never crash; an error says
// something; a discovery document that parses has an issuer matching the one expected and
// absolute endpoints; an introspection answer that parses had a boolean "active"; a JWT payload
// is exactly the JSON object that was base64url-encoded; act chains are bounded and name every
// actor; form bodies and Basic credentials survive their own encoder; a Retry-After is never
// negative and a delay-seconds value is taken as it is.
#include "connectors/identity/OAuthCodec.h"
#include "tests/fuzz/FuzzChecks.h"

#include <QJsonDocument>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace {

using namespace Breaker;

const QString kIssuer = QStringLiteral("http://127.0.0.1:35865");

QString trimSlash(QString s)
{
    while (s.endsWith(QLatin1Char('/')))
        s.chop(1);
    return s;
}

void checkActChain(const QStringList &chain)
{
    BREAKER_FUZZ_CHECK(chain.size() <= 32);
    for (const QString &who : chain)
        BREAKER_FUZZ_CHECK(!who.isEmpty());
}

void checkMetadata(const QByteArray &bytes, const QString &expectedIssuer)
{
    const auto m = OAuth::parseMetadata(bytes, expectedIssuer);
    if (!m.ok()) {
        BREAKER_FUZZ_CHECK(!m.error().message.isEmpty());
        return;
    }
    BREAKER_FUZZ_CHECK(!m->issuer.isEmpty());
    if (!expectedIssuer.isEmpty())
        BREAKER_FUZZ_CHECK(trimSlash(m->issuer) == trimSlash(expectedIssuer));
    for (const QUrl *u : {&m->tokenEndpoint, &m->revocationEndpoint, &m->introspectionEndpoint})
        BREAKER_FUZZ_CHECK(u->isEmpty() || (u->isValid() && !u->isRelative()));
    // Whatever issuer a document names, discovery knows where to look for it.
    const QList<QUrl> urls = OAuth::discoveryUrls(QUrl(m->issuer));
    BREAKER_FUZZ_CHECK(urls.size() == 2);
}

void checkIntrospection(const QByteArray &bytes)
{
    const auto t = OAuth::parseIntrospection(bytes);
    if (!t.ok()) {
        BREAKER_FUZZ_CHECK(!t.error().message.isEmpty());
        return;
    }
    // Success only on a JSON object whose "active" is a boolean, and "active" is that boolean.
    BREAKER_FUZZ_CHECK(bytes.contains('{'));
    const QJsonValue active = t->raw.value(QLatin1String("active"));
    BREAKER_FUZZ_CHECK(active.isBool() && active.toBool() == t->active);
    BREAKER_FUZZ_CHECK(t->sub == t->raw.value(QLatin1String("sub")).toString());
    checkActChain(t->actChain);
    BREAKER_FUZZ_CHECK(t->actChain == OAuth::actChain(t->raw));
    const QString words = OAuth::describeToken(*t);
    if (!t->sub.isEmpty())
        BREAKER_FUZZ_CHECK(words.contains(t->sub));
}

void checkError(const QByteArray &bytes, int status)
{
    const auto e = OAuth::parseError(bytes);
    if (e)
        BREAKER_FUZZ_CHECK(!e->error.isEmpty());
    const QString words = OAuth::describeFailure(status, bytes);
    BREAKER_FUZZ_CHECK(words.contains(QStringLiteral("HTTP %1").arg(status)));
    if (e)
        BREAKER_FUZZ_CHECK(words.startsWith(QString::fromUtf8(e->error)));
    // Scrubbing: a "secret" too short to be one leaves the words alone; a token the provider
    // echoes back is gone from them.
    BREAKER_FUZZ_CHECK(OAuth::scrub(words, QByteArrayView(bytes).first(qMin<qsizetype>(bytes.size(), 3)))
                       == words);
    const QByteArray token = "tok_" + bytes.toHex().left(32);
    const QString scrubbed = OAuth::scrub(words + QString::fromLatin1(token), token);
    BREAKER_FUZZ_CHECK(!scrubbed.contains(QString::fromLatin1(token)));
    BREAKER_FUZZ_CHECK(scrubbed.endsWith(QStringLiteral("[redacted]")));
}

void checkJwt(const QByteArray &bytes)
{
    // Arbitrary bytes as a token: only something with exactly two dots can pass.
    const auto direct = OAuth::decodeJwtPayload(bytes);
    if (direct.ok()) {
        BREAKER_FUZZ_CHECK(bytes.trimmed().count('.') == 2);
        checkActChain(OAuth::actChain(*direct));
    } else {
        BREAKER_FUZZ_CHECK(!direct.error().message.isEmpty());
    }

    // The bytes as a payload: decoding gives back exactly the object that was encoded, or fails
    // when the bytes are not a JSON object.
    const QByteArray jwt = "eyJhbGciOiJub25lIn0."
                           + bytes.toBase64(QByteArray::Base64UrlEncoding
                                            | QByteArray::OmitTrailingEquals)
                           + ".c2ln";
    const auto payload = OAuth::decodeJwtPayload(jwt);
    const QJsonDocument doc = QJsonDocument::fromJson(bytes);
    BREAKER_FUZZ_CHECK(payload.ok() == (doc.isObject() && !bytes.isEmpty()));
    if (payload.ok()) {
        BREAKER_FUZZ_CHECK(*payload == doc.object());
        checkActChain(OAuth::actChain(*payload));
    }
}

void checkForm(const QByteArray &bytes)
{
    const OAuth::Form fields = OAuth::parseForm(bytes);
    const QByteArray body = OAuth::formBody(fields);
    for (const char c : body) {
        const bool safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                          || c == '-' || c == '.' || c == '_' || c == '~' || c == '%' || c == '+'
                          || c == '=' || c == '&';
        BREAKER_FUZZ_CHECK(safe);
    }
    BREAKER_FUZZ_CHECK(OAuth::parseForm(body) == fields);

    // Client credentials: any id and secret (':' included) survive client_secret_basic.
    const qsizetype half = bytes.size() / 2;
    const QByteArray id = bytes.first(half);
    const QByteArray secret = bytes.sliced(half);
    const auto back = OAuth::parseBasicAuthorization(OAuth::basicAuthorization(id, secret));
    BREAKER_FUZZ_CHECK(back.has_value());
    BREAKER_FUZZ_CHECK(back->first == id && back->second == secret);
    (void)OAuth::parseBasicAuthorization(bytes);
}

void checkRetryAfter(const QByteArray &bytes)
{
    const QDateTime now = QDateTime::fromSecsSinceEpoch(1795758784, Qt::UTC);
    const std::optional<qint64> ms = OAuth::retryAfterMs(bytes, now);
    if (ms)
        BREAKER_FUZZ_CHECK(*ms >= 0);
    bool isNumber = false;
    const qint64 seconds = bytes.trimmed().toLongLong(&isNumber);
    if (isNumber && seconds >= 0) {
        // Seconds as milliseconds, capped at a day (more is past any deadline anyway).
        BREAKER_FUZZ_CHECK(ms && *ms == std::min<qint64>(seconds, 86400) * 1000);
    } else if (isNumber && seconds < 0) {
        BREAKER_FUZZ_CHECK(!ms);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    checkMetadata(bytes, QString());
    checkMetadata(bytes, kIssuer);
    checkIntrospection(bytes);
    checkError(bytes, 400 + int(size % 200));
    checkJwt(bytes);
    checkForm(bytes);
    checkRetryAfter(bytes);
    return 0;
}
