#pragma once

#include "models/Result.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>
#include <utility>

// The wire formats of the identity layer (PROTOCOLS.md section 2), as pure functions: client
// authentication, form bodies, discovery metadata, RFC 7662 introspection answers, RFC 6749
// error bodies, and the RFC 8693 `act` chain of a JWT. No I/O; tests/unit/tst_oauthcodec.
namespace Breaker::OAuth {

using Form = QList<std::pair<QByteArray, QByteArray>>;

// application/x-www-form-urlencoded (RFC 6749 Appendix B): unreserved characters as they are,
// space as '+', everything else %XX of its UTF-8 bytes.
QByteArray formEncode(QByteArrayView value);
QByteArray formBody(const Form &fields);
// The fields of a form body, decoded ('+' is a space). Later duplicates are kept.
Form parseForm(QByteArrayView body);

// RFC 6749 section 2.3.1 client_secret_basic: "Basic " + base64(urlenc(id) ":" urlenc(secret)).
// The id and secret are form-encoded first, so a ':' in either survives.
QByteArray basicAuthorization(QByteArrayView clientId, QByteArrayView clientSecret);
// The reverse (for the sandbox's fake): nullopt when the header is not a well-formed Basic one.
std::optional<std::pair<QByteArray, QByteArray>> parseBasicAuthorization(QByteArrayView header);

// The discovery document (OpenID Connect Discovery 1.0 / RFC 8414): only what Breaker uses.
struct Metadata
{
    QString issuer;
    QUrl tokenEndpoint;
    QUrl revocationEndpoint;    // empty when not offered
    QUrl introspectionEndpoint; // empty when not offered
    QStringList grantTypes;
    QStringList authMethods; // token_endpoint_auth_methods_supported
};
// `expectedIssuer` must match the document's issuer (RFC 8414 section 3.3; a trailing '/' on
// either side is ignored), or the document belongs to someone else.
Result<Metadata> parseMetadata(const QByteArray &body, const QString &expectedIssuer);
// Where discovery looks, in order: {issuer}/.well-known/openid-configuration, then RFC 8414's
// /.well-known/oauth-authorization-server inserted before the issuer's path.
QList<QUrl> discoveryUrls(const QUrl &issuer);

// An RFC 6749 section 5.2 error body: {"error","error_description"?,"error_uri"?}.
struct ProviderError
{
    QByteArray error;
    QString description;
};
std::optional<ProviderError> parseError(const QByteArray &body);
// The provider's words for a non-2xx answer, e.g.
// "invalid_client (client authentication failed), HTTP 401" or "HTTP 502: <body start>".
QString describeFailure(int status, const QByteArray &body);

// An RFC 7662 answer. `active` is required and must be a JSON boolean.
struct Introspection
{
    bool active = false;
    QString sub;
    QString clientId;
    QString scope;
    QString tokenType;
    QString issuer;
    qint64 exp = 0; // seconds since the epoch; 0 when absent
    qint64 iat = 0;
    QStringList actChain; // outermost actor first
    QJsonObject raw;
};
Result<Introspection> parseIntrospection(const QByteArray &body);
// "sub alice, client_id agent, exp 2026-11-27T06:00:00Z" (only the fields present).
QString describeToken(const Introspection &token);

// The payload of a JWT (header.payload.signature), base64url-decoded, WITHOUT verifying the
// signature: for display only (who it is for, when it expires, who acts).
Result<QJsonObject> decodeJwtPayload(QByteArrayView jwt);
// RFC 8693 section 4.1: the actors of `act`, outermost (current) first, each named by its `sub`
// (or `client_id`). Empty when there is no `act`.
QStringList actChain(const QJsonObject &claims);

// Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date, in ms from `now`.
std::optional<qint64> retryAfterMs(QByteArrayView value, const QDateTime &now);

// Replaces every occurrence of `secret` in `text` (for provider words that may echo a token).
QString scrub(QString text, QByteArrayView secret);

} // namespace Breaker::OAuth
