#include "connectors/identity/OAuthCodec.h"

#include <algorithm>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLocale>
#include <QTimeZone>

namespace Breaker::OAuth {

namespace {

QString trimSlash(QString s)
{
    while (s.endsWith(QLatin1Char('/')))
        s.chop(1);
    return s;
}

QByteArray formDecode(QByteArrayView value)
{
    QByteArray v = value.toByteArray();
    v.replace('+', ' ');
    return QByteArray::fromPercentEncoding(v);
}

QUrl endpoint(const QJsonObject &doc, QLatin1StringView key)
{
    const QString s = doc.value(key).toString();
    return s.isEmpty() ? QUrl() : QUrl(s, QUrl::StrictMode);
}

// A NumericDate that may arrive as a JSON number or a numeric string (PROTOCOLS.md trap 8).
qint64 integerOf(const QJsonValue &v)
{
    if (v.isString()) {
        bool ok = false;
        const qint64 n = v.toString().toLongLong(&ok);
        return ok ? n : 0;
    }
    return v.toInteger();
}

QString epochText(qint64 seconds)
{
    return QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC).toString(Qt::ISODate);
}

} // namespace

QByteArray formEncode(QByteArrayView value)
{
    // toPercentEncoding keeps exactly the unreserved set (ALPHA DIGIT - . _ ~); a space comes
    // out as %20, and since '%' itself becomes %25, every %20 left is a space.
    QByteArray out = value.toByteArray().toPercentEncoding();
    out.replace("%20", "+");
    return out;
}

QByteArray formBody(const Form &fields)
{
    QByteArray out;
    for (const auto &[name, value] : fields) {
        if (!out.isEmpty())
            out += '&';
        out += formEncode(name) + '=' + formEncode(value);
    }
    return out;
}

Form parseForm(QByteArrayView body)
{
    Form out;
    for (const QByteArray &pair : body.toByteArray().split('&')) {
        if (pair.isEmpty())
            continue;
        const qsizetype eq = pair.indexOf('=');
        if (eq < 0)
            out.append({formDecode(pair), QByteArray()});
        else
            out.append({formDecode(pair.first(eq)), formDecode(pair.sliced(eq + 1))});
    }
    return out;
}

QByteArray basicAuthorization(QByteArrayView clientId, QByteArrayView clientSecret)
{
    const QByteArray pair = formEncode(clientId) + ':' + formEncode(clientSecret);
    return "Basic " + pair.toBase64();
}

std::optional<std::pair<QByteArray, QByteArray>> parseBasicAuthorization(QByteArrayView header)
{
    const QByteArray h = header.toByteArray().trimmed();
    if (h.size() < 6 || h.first(6).toLower() != "basic ")
        return std::nullopt;
    const auto decoded = QByteArray::fromBase64Encoding(h.sliced(6).trimmed(),
                                                        QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    const QByteArray &pair = decoded.decoded;
    const qsizetype colon = pair.indexOf(':');
    if (colon < 0)
        return std::nullopt;
    return std::pair{formDecode(pair.first(colon)), formDecode(pair.sliced(colon + 1))};
}

Result<Metadata> parseMetadata(const QByteArray &body, const QString &expectedIssuer)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the discovery document is not a JSON object"));
    const QJsonObject o = doc.object();
    Metadata m;
    m.issuer = o.value(QLatin1String("issuer")).toString();
    if (m.issuer.isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the discovery document has no \"issuer\""));
    if (!expectedIssuer.isEmpty() && trimSlash(m.issuer) != trimSlash(expectedIssuer))
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the discovery document names issuer %1, not %2")
                             .arg(m.issuer, expectedIssuer));
    m.tokenEndpoint = endpoint(o, QLatin1String("token_endpoint"));
    m.revocationEndpoint = endpoint(o, QLatin1String("revocation_endpoint"));
    m.introspectionEndpoint = endpoint(o, QLatin1String("introspection_endpoint"));
    for (const QUrl *u : {&m.tokenEndpoint, &m.revocationEndpoint, &m.introspectionEndpoint}) {
        if (!u->isEmpty() && (!u->isValid() || u->isRelative()))
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("the discovery document has an invalid endpoint %1")
                                 .arg(u->toString()));
    }
    for (const QJsonValue v : o.value(QLatin1String("grant_types_supported")).toArray())
        m.grantTypes.append(v.toString());
    for (const QJsonValue v :
         o.value(QLatin1String("token_endpoint_auth_methods_supported")).toArray())
        m.authMethods.append(v.toString());
    return m;
}

QList<QUrl> discoveryUrls(const QUrl &issuer)
{
    QUrl oidc = issuer;
    oidc.setPath(trimSlash(issuer.path()) + QLatin1String("/.well-known/openid-configuration"));
    QUrl rfc8414 = issuer;
    rfc8414.setPath(QLatin1String("/.well-known/oauth-authorization-server")
                    + trimSlash(issuer.path()));
    return {oidc, rfc8414};
}

std::optional<ProviderError> parseError(const QByteArray &body)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (!doc.isObject())
        return std::nullopt;
    const QJsonObject o = doc.object();
    const QJsonValue error = o.value(QLatin1String("error"));
    if (!error.isString() || error.toString().isEmpty())
        return std::nullopt;
    return ProviderError{error.toString().toUtf8(),
                         o.value(QLatin1String("error_description")).toString()};
}

QString describeFailure(int status, const QByteArray &body)
{
    if (const auto e = parseError(body)) {
        QString s = QString::fromUtf8(e->error);
        if (!e->description.isEmpty())
            s += QStringLiteral(" (%1)").arg(e->description);
        return s + QStringLiteral(", HTTP %1").arg(status);
    }
    QString text = QString::fromUtf8(body.left(200)).simplified();
    if (text.isEmpty())
        return QStringLiteral("HTTP %1").arg(status);
    return QStringLiteral("HTTP %1: %2").arg(status).arg(text);
}

Result<Introspection> parseIntrospection(const QByteArray &body)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the introspection answer is not a JSON object"));
    const QJsonObject o = doc.object();
    const QJsonValue active = o.value(QLatin1String("active"));
    // RFC 7662 section 2.2: "active" is REQUIRED and a boolean; a string "false" or a missing
    // member proves nothing either way.
    if (!active.isBool())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the introspection answer has no boolean \"active\""));
    Introspection t;
    t.active = active.toBool();
    t.raw = o;
    t.sub = o.value(QLatin1String("sub")).toString();
    t.clientId = o.value(QLatin1String("client_id")).toString();
    t.scope = o.value(QLatin1String("scope")).toString();
    t.tokenType = o.value(QLatin1String("token_type")).toString();
    t.issuer = o.value(QLatin1String("iss")).toString();
    t.exp = integerOf(o.value(QLatin1String("exp")));
    t.iat = integerOf(o.value(QLatin1String("iat")));
    t.actChain = actChain(o);
    return t;
}

QString describeToken(const Introspection &token)
{
    QStringList parts;
    if (!token.sub.isEmpty())
        parts << QStringLiteral("sub %1").arg(token.sub);
    if (!token.actChain.isEmpty())
        parts << QStringLiteral("acting %1").arg(token.actChain.join(QStringLiteral(" < ")));
    if (!token.clientId.isEmpty())
        parts << QStringLiteral("client_id %1").arg(token.clientId);
    if (!token.scope.isEmpty())
        parts << QStringLiteral("scope %1").arg(token.scope);
    if (token.exp > 0)
        parts << QStringLiteral("exp %1").arg(epochText(token.exp));
    return parts.join(QStringLiteral(", "));
}

Result<QJsonObject> decodeJwtPayload(QByteArrayView jwt)
{
    const QList<QByteArray> parts = jwt.toByteArray().trimmed().split('.');
    // A JWS has three parts; a JWE has five and its payload is encrypted.
    if (parts.size() != 3 || parts.at(1).isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("not a JWT (expected header.payload.signature)"));
    const QByteArray::FromBase64Result payload = QByteArray::fromBase64Encoding(
        parts.at(1),
        QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals
            | QByteArray::AbortOnBase64DecodingErrors);
    if (!payload)
        return makeError(Error::Kind::Invalid, QStringLiteral("the JWT payload is not base64url"));
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(payload.decoded, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the JWT payload is not a JSON object"));
    return doc.object();
}

QStringList actChain(const QJsonObject &claims)
{
    QStringList chain;
    QJsonValue act = claims.value(QLatin1String("act"));
    // Bounded: a hostile token cannot nest deeper than JSON parsing allowed anyway, but a
    // display chain longer than this helps no one.
    for (int depth = 0; act.isObject() && depth < 32; ++depth) {
        const QJsonObject a = act.toObject();
        QString who = a.value(QLatin1String("sub")).toString();
        if (who.isEmpty())
            who = a.value(QLatin1String("client_id")).toString();
        chain << (who.isEmpty() ? QStringLiteral("(unnamed actor)") : who);
        act = a.value(QLatin1String("act"));
    }
    return chain;
}

std::optional<qint64> retryAfterMs(QByteArrayView value, const QDateTime &now)
{
    const QByteArray v = value.toByteArray().trimmed();
    if (v.isEmpty())
        return std::nullopt;
    bool ok = false;
    const qint64 seconds = v.toLongLong(&ok);
    if (ok)
        // A delay of more than a day is as good as "not within any deadline"; capping it keeps
        // the multiplication from overflowing on a hostile header (found by fuzz_oauth).
        return seconds < 0 ? std::nullopt : std::optional<qint64>(std::min<qint64>(seconds, 86400) * 1000);
    // IMF-fixdate ("Fri, 27 Nov 2026 05:53:04 GMT"); Qt's RFC 2822 parser refuses "GMT".
    QDateTime at = QLocale::c().toDateTime(QString::fromLatin1(v),
                                           QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"));
    at.setTimeSpec(Qt::UTC);
    if (!at.isValid())
        return std::nullopt;
    return std::max<qint64>(0, now.msecsTo(at));
}

QString scrub(QString text, QByteArrayView secret)
{
    if (secret.size() >= 4)
        text.replace(QString::fromUtf8(secret), QStringLiteral("[redacted]"));
    return text;
}

} // namespace Breaker::OAuth
