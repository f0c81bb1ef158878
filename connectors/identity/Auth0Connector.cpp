#include "connectors/identity/Auth0Connector.h"

#include "models/Profile.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimeZone>
#include <QTimer>
#include <QUrlQuery>

namespace Breaker {

// What one Auth0 contain() learnt so far; each step appends its evidence.
struct Auth0Connector::Stop
{
    std::shared_ptr<Op> op;
    LayerTarget target;
    QDeadlineTimer until; // the stop's whole deadline: rate-limit retries stay inside it
    QStringList evidence;
    bool isJwt = false; // the agent's token is a JWT access token: Auth0 cannot revoke it
    qint64 exp = 0;     // of that JWT, when known
    bool refreshRefused = false;
};

namespace {

QString utc(qint64 seconds)
{
    return QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC).toString(Qt::ISODate);
}

QByteArray pct(const QByteArray &v)
{
    return QUrl::toPercentEncoding(QString::fromUtf8(v));
}

constexpr int kDefaultCallMs = 10000;    // checkLeaks() and probe(), which have no stop deadline
constexpr qint64 kDefaultRetryMs = 1000; // a 429 that names no time
constexpr qint64 kMinRetryMs = 100;      // X-RateLimit-Reset has whole seconds: never spin

// Auth0's own words for a non-2xx answer. The Management API answers
// {"statusCode":403,"error":"Forbidden","message":"Insufficient scope; expected any of:
// delete:grants.","errorCode":"insufficient_scope"}, which RFC 6749 parsing would shorten to
// "Forbidden"; the Authentication API answers {"error","error_description"}.
QString auth0Failure(int status, const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    const QString message = o.value(QLatin1String("message")).toString();
    if (message.isEmpty())
        return OAuth::describeFailure(status, body);
    QString s = o.value(QLatin1String("error")).toString();
    s += s.isEmpty() ? message : QStringLiteral(": ") + message;
    const QString code = o.value(QLatin1String("errorCode")).toString();
    if (!code.isEmpty())
        s += QStringLiteral(" (%1)").arg(code);
    return s + QStringLiteral(", HTTP %1").arg(status);
}

// How long a 429 asks to wait: Retry-After, else X-RateLimit-Reset (UTC epoch seconds, Auth0's
// rate limit policy), else a second.
qint64 rateLimitWaitMs(const Net::ClientReply &r)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (const auto ms = OAuth::retryAfterMs(r.header("Retry-After"), now))
        return std::max(*ms, kMinRetryMs);
    bool ok = false;
    const qint64 reset = r.header("X-RateLimit-Reset").trimmed().toLongLong(&ok);
    if (ok && reset > 0)
        return std::clamp<qint64>(
            reset * 1000 - now.toMSecsSinceEpoch(), kMinRetryMs, qint64(86400) * 1000);
    return kDefaultRetryMs;
}

} // namespace

Auth0Connector::Auth0Connector(const ProviderConfig &provider,
                               QByteArray clientSecret,
                               QObject *parent)
    : OAuth2Connector(provider, std::move(clientSecret), parent)
{}

QUrl Auth0Connector::auth0Url(const QString &path) const
{
    QUrl base = m_issuer;
    if (!base.path().endsWith(QLatin1Char('/')))
        base.setPath(base.path() + QLatin1Char('/'));
    return base.resolved(QUrl(path));
}

// ---- Management API ---------------------------------------------------------------------------

void Auth0Connector::sendRetrying(const QByteArray &method,
                                  const QUrl &url,
                                  const Net::HttpClient::Headers &headers,
                                  const QByteArray &body,
                                  QDeadlineTimer until,
                                  ReplyDone done,
                                  int attempt)
{
    send(method,
         url,
         headers,
         body,
         [this, method, url, headers, body, until, done, attempt](
             const Result<Net::ClientReply> &r) {
             if (!r || r->status != 429) {
                 done(r);
                 return;
             }
             const qint64 wait = rateLimitWaitMs(*r);
             if (wait >= until.remainingTime()) {
                 done(providerError(Error::Kind::Unavailable,
                                    QStringLiteral("%1 %2 rate limited %3 time(s) (%4); the wait "
                                                   "of %5 ms is past the deadline")
                                        .arg(QString::fromLatin1(method),
                                             url.path(),
                                             QString::number(attempt),
                                             auth0Failure(r->status, r->body),
                                             QString::number(wait))));
                 return;
             }
             QTimer::singleShot(wait, this, [=, this] {
                 sendRetrying(method, url, headers, body, until, done, attempt + 1);
             });
         });
}

void Auth0Connector::managementToken(QDeadlineTimer until, TokenDone done)
{
    if (!m_mgmtToken.isEmpty() && !m_mgmtTokenValid.hasExpired()) {
        done(m_mgmtToken);
        return;
    }
    const QByteArray audience = auth0Url(QStringLiteral("api/v2/")).toEncoded();
    // client_secret_basic, as postForm(): the application's authentication method must be
    // "Client Secret (Basic)" in the Auth0 dashboard.
    sendRetrying(
        "POST",
        auth0Url(QStringLiteral("oauth/token")),
        {{"Content-Type", "application/x-www-form-urlencoded"},
         {"Authorization", OAuth::basicAuthorization(m_clientId, m_clientSecret)}},
        OAuth::formBody({{"grant_type", "client_credentials"}, {"audience", audience}}),
        until,
        [this, done = std::move(done)](const Result<Net::ClientReply> &r) {
            if (!r) {
                done(r.error());
                return;
            }
            const QJsonObject o = QJsonDocument::fromJson(r->body).object();
            const QByteArray token = o.value(QLatin1String("access_token")).toString().toUtf8();
            if (r->status != 200 || token.isEmpty()) {
                done(providerError(r->status == 401 || r->status == 403 ? Error::Kind::Invalid
                                                                        : Error::Kind::Unavailable,
                                   QStringLiteral("no Management API token "
                                                  "(client_credentials for audience "
                                                  "api/v2/): %1")
                                       .arg(auth0Failure(r->status, r->body))));
                return;
            }
            m_mgmtToken = token;
            // Renew a minute early so a token never expires between two calls of a stop.
            const qint64 expiresIn = o.value(QLatin1String("expires_in")).toInteger(3600);
            m_mgmtTokenValid.setRemainingTime(std::max<qint64>(0, expiresIn - 60) * 1000);
            done(token);
        });
}

void Auth0Connector::mgmtSend(const QByteArray &method,
                              const QUrl &url,
                              const QByteArray &json,
                              QDeadlineTimer until,
                              ReplyDone done)
{
    managementToken(
        until,
        [this, method, url, json, until, done = std::move(done)](const Result<QByteArray> &t) {
            if (!t) {
                done(t.error());
                return;
            }
            Net::HttpClient::Headers h{{"Authorization", "Bearer " + *t}};
            if (!json.isEmpty())
                h.append(std::pair<QByteArray, QByteArray>("Content-Type", "application/json"));
            sendRetrying(method, url, h, json, until, done);
        });
}

void Auth0Connector::listGrants(const QByteArray &subject,
                                const QByteArray &clientId,
                                QDeadlineTimer until,
                                GrantsDone done)
{
    QUrl url = auth0Url(QStringLiteral("api/v2/grants"));
    url.setQuery(QStringLiteral("user_id=%1&client_id=%2")
                     .arg(QString::fromLatin1(pct(subject)), QString::fromLatin1(pct(clientId))));
    mgmtSend(
        "GET", url, {}, until, [this, done = std::move(done)](const Result<Net::ClientReply> &r) {
            if (!r) {
                done(r.error());
                return;
            }
            const QJsonDocument doc = QJsonDocument::fromJson(r->body);
            if (r->status != 200 || !doc.isArray()) {
                done(providerError(
                    Error::Kind::Unavailable,
                    QStringLiteral("listing grants: %1").arg(auth0Failure(r->status, r->body))));
                return;
            }
            QStringList ids;
            for (const QJsonValue g : doc.array())
                ids << g.toObject().value(QLatin1String("id")).toString();
            done(ids);
        });
}

// ---- contain ----------------------------------------------------------------------------------

void Auth0Connector::contain(const LayerTarget &target,
                             const LayerDeadlines &deadlines,
                             LayerDone done)
{
    auto s = std::make_shared<Stop>();
    s->target = target;
    s->until = QDeadlineTimer(deadlines.actMs + deadlines.verifyMs);
    s->op = startOp(target,
                    "revoke",
                    tokenTarget(target),
                    deadlines.actMs + deadlines.verifyMs,
                    std::move(done));
    if (target.token.isEmpty() && target.subject.isEmpty()) {
        finish(s->op,
               LayerOutcome::SkippedNotConfigured,
               QStringLiteral("the agent has neither an identity token nor a \"subject\" in the "
                              "profile"));
        return;
    }
    if (!target.token.isEmpty()) {
        if (const auto claims = OAuth::decodeJwtPayload(target.token)) {
            s->isJwt = true;
            s->exp = claims->value(QLatin1String("exp")).toInteger();
        }
    }
    revokeRefresh(s);
}

void Auth0Connector::revokeRefresh(const std::shared_ptr<Stop> &s)
{
    if (s->target.token.isEmpty() || s->isJwt) {
        if (s->isJwt)
            s->evidence << QStringLiteral("the agent's token is a JWT access token, which Auth0 "
                                          "cannot revoke");
        adminKill(s);
        return;
    }
    sendRetrying("POST",
                 auth0Url(QStringLiteral("oauth/revoke")),
                 {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Authorization", OAuth::basicAuthorization(m_clientId, m_clientSecret)}},
                 OAuth::formBody({{"token", s->target.token}}),
                 s->until,
                 [this, s](const Result<Net::ClientReply> &r) {
                     if (s->op->finished)
                         return;
                     if (!r)
                         s->evidence << QStringLiteral("oauth/revoke: %1").arg(r.error().message);
                     else if (r->status == 200)
                         s->evidence << QStringLiteral("oauth/revoke: HTTP 200");
                     else
                         s->evidence << QStringLiteral("oauth/revoke refused: %1")
                                            .arg(auth0Failure(r->status, r->body));
                     if (r && r->status == 200)
                         s->op->accepted = true;
                     s->op->progress = s->evidence.join(QStringLiteral("; "));
                     adminKill(s);
                 });
}

void Auth0Connector::adminKill(const std::shared_ptr<Stop> &s)
{
    QStringList missing;
    if (s->target.subject.isEmpty())
        missing << QStringLiteral("\"subject\" (the Auth0 user id)");
    if (s->target.clientId.isEmpty())
        missing << QStringLiteral("\"client_id\" (the agent's application)");
    if (!missing.isEmpty()) {
        const QString why = QStringLiteral("the agent identity in the profile has no %1, so "
                                           "Auth0's grants and refresh tokens could not be "
                                           "revoked or read back (Auth0 has no introspection)")
                                .arg(missing.join(QStringLiteral(" and ")));
        conclude(s, s->op->accepted ? LayerOutcome::DoneUnverified : LayerOutcome::Failed, why);
        return;
    }
    listGrants(
        s->target.subject, s->target.clientId, s->until, [this, s](const Result<QStringList> &ids) {
            if (s->op->finished)
                return;
            if (!ids) {
                conclude(s,
                         s->op->accepted ? LayerOutcome::DoneUnverified : LayerOutcome::Failed,
                         ids.error().message);
                return;
            }
            deleteGrants(s, *ids);
        });
}

void Auth0Connector::deleteGrants(const std::shared_ptr<Stop> &s, QStringList ids)
{
    if (ids.isEmpty()) {
        revokeRefreshTokens(s);
        return;
    }
    const QString id = ids.takeFirst();
    const QUrl url
        = auth0Url(QStringLiteral("api/v2/grants/%1").arg(QString::fromLatin1(pct(id.toUtf8()))));
    mgmtSend("DELETE", url, {}, s->until, [this, s, id, ids](const Result<Net::ClientReply> &r) {
        if (s->op->finished)
            return;
        if (r && r->status == 404) {
            // Gone between the listing and the delete (another stop, the user): not an error;
            // the read-back proves the state either way.
            s->evidence << QStringLiteral("grant %1 already gone (%2)")
                               .arg(id, auth0Failure(r->status, r->body));
            deleteGrants(s, ids);
            return;
        }
        if (!r || r->status / 100 != 2) {
            conclude(s,
                     s->op->accepted ? LayerOutcome::DoneUnverified : LayerOutcome::Failed,
                     QStringLiteral("deleting grant %1: %2")
                         .arg(id, r ? auth0Failure(r->status, r->body) : r.error().message));
            return;
        }
        s->evidence << QStringLiteral("grant %1 deleted").arg(id);
        s->op->accepted = true;
        deleteGrants(s, ids);
    });
}

void Auth0Connector::revokeRefreshTokens(const std::shared_ptr<Stop> &s)
{
    QJsonObject body{{QStringLiteral("user_id"), QString::fromUtf8(s->target.subject)},
                     {QStringLiteral("client_id"), QString::fromUtf8(s->target.clientId)}};
    mgmtSend("POST",
             auth0Url(QStringLiteral("api/v2/refresh-tokens/revoke")),
             QJsonDocument(body).toJson(QJsonDocument::Compact),
             s->until,
             [this, s](const Result<Net::ClientReply> &r) {
                 if (s->op->finished)
                     return;
                 if (!r || r->status / 100 != 2) {
                     conclude(s,
                              s->op->accepted ? LayerOutcome::DoneUnverified : LayerOutcome::Failed,
                              QStringLiteral("refresh-tokens/revoke: %1")
                                  .arg(r ? auth0Failure(r->status, r->body) : r.error().message));
                     return;
                 }
                 s->evidence << QStringLiteral("refresh tokens of the user and client revoked "
                                               "(HTTP %1)")
                                    .arg(r->status);
                 s->op->accepted = true;
                 s->op->progress = s->evidence.join(QStringLiteral("; "));
                 readBack(s);
             });
}

void Auth0Connector::readBack(const std::shared_ptr<Stop> &s)
{
    listGrants(
        s->target.subject, s->target.clientId, s->until, [this, s](const Result<QStringList> &ids) {
            if (s->op->finished)
                return;
            if (!ids) {
                conclude(s,
                         LayerOutcome::DoneUnverified,
                         QStringLiteral("not read back: %1").arg(ids.error().message));
                return;
            }
            if (!ids->isEmpty()) {
                conclude(s,
                         LayerOutcome::Failed,
                         QStringLiteral("grants still listed after deletion: %1")
                             .arg(ids->join(QStringLiteral(", "))));
                return;
            }
            s->evidence << QStringLiteral("grants read back empty");
            refreshCheck(s);
        });
}

void Auth0Connector::refreshCheck(const std::shared_ptr<Stop> &s)
{
    if (s->target.token.isEmpty() || s->isJwt) {
        conclude(s, LayerOutcome::Verified, {});
        return;
    }
    // A refresh_token grant as the agent's (public) client: invalid_grant proves the token dead.
    // A confidential client answers invalid_client instead, which proves nothing.
    send("POST",
         auth0Url(QStringLiteral("oauth/token")),
         {{"Content-Type", "application/x-www-form-urlencoded"}},
         OAuth::formBody({{"grant_type", "refresh_token"},
                          {"client_id", s->target.clientId},
                          {"refresh_token", s->target.token}}),
         [this, s](const Result<Net::ClientReply> &r) {
             if (s->op->finished)
                 return;
             const auto e = r ? OAuth::parseError(r->body) : std::nullopt;
             if (r && e && e->error == "invalid_grant") {
                 s->evidence << QStringLiteral("the refresh token is refused (invalid_grant)");
                 conclude(s, LayerOutcome::Verified, {});
             } else if (r && r->status == 200) {
                 conclude(s,
                          LayerOutcome::Failed,
                          QStringLiteral("the refresh token still gets new tokens"));
             } else {
                 conclude(s,
                          LayerOutcome::DoneUnverified,
                          QStringLiteral("the refresh check was inconclusive: %1")
                              .arg(r ? auth0Failure(r->status, r->body) : r.error().message));
             }
         });
}

void Auth0Connector::conclude(const std::shared_ptr<Stop> &s,
                              LayerOutcome outcome,
                              const QString &why)
{
    QStringList parts = s->evidence;
    if (!why.isEmpty())
        parts << why;
    parts << (s->exp > 0 ? QStringLiteral("access tokens already issued live until they expire "
                                          "(exp %1)")
                               .arg(utc(s->exp))
                         : QStringLiteral("access tokens already issued live until they expire"));
    finish(s->op, outcome, parts.join(QStringLiteral("; ")));
}

// ---- leaks, probe -----------------------------------------------------------------------------

void Auth0Connector::checkLeaks(const LayerTarget &target,
                                qint64 sinceMs,
                                std::function<void(Result<std::vector<LayerLeak>>)> done)
{
    Q_UNUSED(sinceMs);
    if (target.subject.isEmpty() || target.clientId.isEmpty()) {
        done(std::vector<LayerLeak>{});
        return;
    }
    listGrants(target.subject,
               target.clientId,
               QDeadlineTimer(kDefaultCallMs),
               [target, done = std::move(done)](const Result<QStringList> &ids) {
                   if (!ids) {
                       done(ids.error());
                       return;
                   }
                   std::vector<LayerLeak> leaks;
                   for (const QString &id : *ids) {
                       LayerLeak leak;
                       leak.layer = "identity";
                       leak.agent = target.agent;
                       leak.what = QStringLiteral("Auth0 grant %1 exists again for user %2")
                                       .arg(id, QString::fromUtf8(target.subject));
                       leak.atMs = QDateTime::currentMSecsSinceEpoch();
                       leaks.push_back(leak);
                   }
                   done(leaks);
               });
}

void Auth0Connector::probe(std::function<void(Result<QString>)> done)
{
    m_mgmtToken.clear();
    QUrl url = auth0Url(QStringLiteral("api/v2/grants"));
    url.setQuery(QStringLiteral("per_page=1"));
    mgmtSend("GET",
             url,
             {},
             QDeadlineTimer(kDefaultCallMs),
             [this, done = std::move(done)](const Result<Net::ClientReply> &r) {
                 if (!r)
                     done(r.error());
                 else if (r->status != 200)
                     done(providerError(Error::Kind::Invalid,
                                        QStringLiteral("Management API grants: %1")
                                            .arg(auth0Failure(r->status, r->body))));
                 else
                     done(QStringLiteral("%1: Auth0 %2, Management API token and grants read work")
                              .arg(name(), m_issuer.toString()));
             });
}

} // namespace Breaker
