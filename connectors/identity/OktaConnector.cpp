#include "connectors/identity/OktaConnector.h"

#include "models/Profile.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>
#include <QUrlQuery>

namespace Breaker {

namespace {

constexpr qint64 kDefaultRetryMs = 1000; // a 429/503 that names no time
constexpr qint64 kMinRetryMs = 100;      // X-Rate-Limit-Reset has whole seconds: never spin

// Okta's own words for a non-2xx answer. The Management API (and any rate-limited endpoint)
// answers {"errorCode","errorSummary","errorLink","errorId","errorCauses":[{"errorSummary"}]};
// the OAuth endpoints answer RFC 6749 {"error","error_description"}.
QString oktaFailure(int status, const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    const QString code = o.value(QLatin1String("errorCode")).toString();
    if (code.isEmpty())
        return OAuth::describeFailure(status, body);
    QString s = code + QLatin1Char(' ') + o.value(QLatin1String("errorSummary")).toString();
    QStringList causes;
    for (const QJsonValue c : o.value(QLatin1String("errorCauses")).toArray()) {
        const QString cause = c.toObject().value(QLatin1String("errorSummary")).toString();
        if (!cause.isEmpty())
            causes << cause;
    }
    if (!causes.isEmpty())
        s += QStringLiteral(" (%1)").arg(causes.join(QStringLiteral("; ")));
    s += QStringLiteral(", HTTP %1").arg(status);
    const QString id = o.value(QLatin1String("errorId")).toString();
    if (!id.isEmpty())
        s += QStringLiteral(", errorId %1").arg(id);
    return s;
}

// How long a 429 or 503 asks to wait: Retry-After, else X-Rate-Limit-Reset (UTC epoch seconds,
// Okta's rate limit headers), else a second.
qint64 rateLimitWaitMs(const Net::ClientReply &r)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (const auto ms = OAuth::retryAfterMs(r.header("Retry-After"), now))
        return std::max(*ms, kMinRetryMs);
    bool ok = false;
    const qint64 reset = r.header("X-Rate-Limit-Reset").trimmed().toLongLong(&ok);
    if (ok && reset > 0)
        return std::clamp<qint64>(
            reset * 1000 - now.toMSecsSinceEpoch(), kMinRetryMs, qint64(86400) * 1000);
    return kDefaultRetryMs;
}

} // namespace

OktaConnector::OktaConnector(const ProviderConfig &provider,
                             QByteArray clientSecret,
                             QByteArray apiKey,
                             QObject *parent)
    : OAuth2Connector(provider, std::move(clientSecret), parent)
    , m_apiKey(std::move(apiKey))
{}

QUrl OktaConnector::orgUrl() const
{
    QUrl org;
    org.setScheme(m_issuer.scheme());
    org.setHost(m_issuer.host());
    org.setPort(m_issuer.port());
    return org;
}

void OktaConnector::conclude(const std::shared_ptr<Op> &op,
                             LayerOutcome outcome,
                             const QString &detail)
{
    finish(op, outcome, OAuth::scrub(detail, m_apiKey));
}

void OktaConnector::retrying(
    Attempt attempt, const QString &what, QDeadlineTimer until, ReplyDone done, int count)
{
    attempt([this, attempt, what, until, done, count](const Result<Net::ClientReply> &r) {
        if (!r || (r->status != 429 && r->status != 503)) {
            done(r);
            return;
        }
        const qint64 wait = rateLimitWaitMs(*r);
        if (wait >= until.remainingTime()) {
            done(providerError(Error::Kind::Unavailable,
                               QStringLiteral("%1 answered %2 %3 time(s); the wait of %4 ms is "
                                              "past the deadline")
                                   .arg(what,
                                        oktaFailure(r->status, r->body),
                                        QString::number(count),
                                        QString::number(wait))));
            return;
        }
        QTimer::singleShot(wait, this, [this, attempt, what, until, done, count] {
            retrying(attempt, what, until, done, count + 1);
        });
    });
}

void OktaConnector::contain(const LayerTarget &target,
                            const LayerDeadlines &deadlines,
                            LayerDone done)
{
    // Two rows, joined when both are in.
    struct Join
    {
        std::vector<StopLayerResult> token;
        std::vector<StopLayerResult> sessions;
        int pending = 2;
        LayerDone done;
    };
    auto join = std::make_shared<Join>();
    join->done = std::move(done);
    auto arrive = [join](std::vector<StopLayerResult> *slot, std::vector<StopLayerResult> rows) {
        *slot = std::move(rows);
        if (--join->pending > 0)
            return;
        std::vector<StopLayerResult> all = std::move(join->token);
        all.insert(all.end(), join->sessions.begin(), join->sessions.end());
        if (join->done)
            join->done(std::move(all));
    };

    const int totalMs = deadlines.actMs + deadlines.verifyMs;
    auto tokenOp = startOp(target,
                           "revoke",
                           tokenTarget(target),
                           totalMs,
                           [arrive, join](std::vector<StopLayerResult> rows) {
                               arrive(&join->token, std::move(rows));
                           });
    auto sessionsOp
        = startOp(target,
                  "revoke-sessions",
                  "okta user " + (target.subject.isEmpty() ? QByteArray("(none)") : target.subject),
                  totalMs,
                  [arrive, join](std::vector<StopLayerResult> rows) {
                      arrive(&join->sessions, std::move(rows));
                  });
    // The agent's token is secret in the sessions row too.
    sessionsOp->secret = target.token;

    if (target.token.isEmpty())
        conclude(tokenOp,
                 LayerOutcome::SkippedNotConfigured,
                 QStringLiteral("the agent has no identity token in the profile"));
    else
        revokeToken(tokenOp, target.token, QDeadlineTimer(deadlines.actMs));

    if (target.subject.isEmpty()) {
        conclude(sessionsOp,
                 LayerOutcome::SkippedNotConfigured,
                 QStringLiteral("the agent's identity has no \"subject\" (the Okta user id) in "
                                "the profile, so its sessions and other tokens were not killed"));
        return;
    }
    if (m_apiKey.isEmpty()) {
        conclude(sessionsOp,
                 LayerOutcome::SkippedNotConfigured,
                 QStringLiteral("provider %1 has no api_key (an Okta API token), so the user's "
                                "sessions and other tokens were not killed")
                     .arg(name()));
        return;
    }
    killSessions(sessionsOp, target.subject, QDeadlineTimer(deadlines.actMs));
}

// ---- the token row ----------------------------------------------------------------------------

void OktaConnector::revokeToken(const std::shared_ptr<Op> &op,
                                const QByteArray &token,
                                QDeadlineTimer until)
{
    discover(false, [this, op, token, until](const Result<OAuth::Metadata> &m) {
        if (op->finished)
            return;
        if (!m) {
            conclude(op, LayerOutcome::Failed, m.error().message);
            return;
        }
        if (m->revocationEndpoint.isEmpty()) {
            conclude(op,
                     LayerOutcome::Failed,
                     QStringLiteral("%1 offers no revocation_endpoint in its discovery "
                                    "document: the token cannot be revoked")
                         .arg(name()));
            return;
        }
        const QUrl endpoint = m->revocationEndpoint;
        // The hint says refresh_token because that is the token whose revocation cascades; Okta
        // searches the other types when the hint is wrong (RFC 7009 section 2.1).
        retrying(
            [this, endpoint, token](ReplyDone attemptDone) {
                postForm(endpoint,
                         {{"token", token}, {"token_type_hint", "refresh_token"}},
                         std::move(attemptDone));
            },
            QStringLiteral("revocation"),
            until,
            [this, op, token](const Result<Net::ClientReply> &r) {
                if (op->finished)
                    return;
                if (!r) {
                    conclude(op,
                             LayerOutcome::Failed,
                             QStringLiteral("revocation: %1").arg(r.error().message));
                    return;
                }
                if (r->status != 200) {
                    QString words = oktaFailure(r->status, r->body);
                    const auto e = OAuth::parseError(r->body);
                    if (r->status == 401 || (e && e->error == "invalid_client"))
                        words += QStringLiteral(": Breaker's client authentication was refused "
                                                "(check client_id and client_secret)");
                    conclude(op,
                             LayerOutcome::Failed,
                             QStringLiteral("%1 refused the revocation: %2").arg(name(), words));
                    return;
                }
                op->accepted = true;
                op->progress = QStringLiteral("revocation accepted (HTTP 200)");
                verifyToken(op, token);
            });
    });
}

void OktaConnector::verifyToken(const std::shared_ptr<Op> &op, const QByteArray &token)
{
    if (!metadata() || metadata()->introspectionEndpoint.isEmpty()) {
        conclude(op,
                 LayerOutcome::DoneUnverified,
                 QStringLiteral("revocation accepted (HTTP 200), which Okta answers even for "
                                "invalid tokens; %1 offers no introspection_endpoint to read it "
                                "back")
                     .arg(name()));
        return;
    }
    introspect(token, [this, op](const Result<OAuth::Introspection> &r) {
        if (op->finished)
            return;
        if (!r) {
            conclude(op,
                     LayerOutcome::DoneUnverified,
                     QStringLiteral("revocation accepted (HTTP 200) but not read back: %1")
                         .arg(r.error().message));
            return;
        }
        if (!r->active) {
            conclude(op, LayerOutcome::Verified, QStringLiteral("introspection: active=false"));
            return;
        }
        conclude(op,
                 LayerOutcome::Failed,
                 QStringLiteral("revocation answered HTTP 200 but introspection says the token is "
                                "still active (%1)")
                     .arg(OAuth::describeToken(*r)));
    });
}

// ---- the sessions row -------------------------------------------------------------------------

void OktaConnector::killSessions(const std::shared_ptr<Op> &op,
                                 const QByteArray &subject,
                                 QDeadlineTimer until)
{
    QUrl url = orgUrl();
    url.setPath(QStringLiteral("/api/v1/users/%1/sessions")
                    .arg(QString::fromLatin1(QUrl::toPercentEncoding(QString::fromUtf8(subject)))),
                QUrl::StrictMode);
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("oauthTokens"), QStringLiteral("true"));
    url.setQuery(q);
    retrying(
        [this, url](ReplyDone attemptDone) {
            send(
                "DELETE", url, {{"Authorization", "SSWS " + m_apiKey}}, {}, std::move(attemptDone));
        },
        QStringLiteral("DELETE /api/v1/users/%1/sessions").arg(QString::fromUtf8(subject)),
        until,
        [this, op, subject](const Result<Net::ClientReply> &r) {
            if (op->finished)
                return;
            if (!r) {
                conclude(op, LayerOutcome::Failed, r.error().message);
                return;
            }
            if (r->status / 100 != 2) {
                QString words = oktaFailure(r->status, r->body);
                if (r->status == 401)
                    words += QStringLiteral(": the provider's api_key (an Okta API token) was "
                                            "refused");
                conclude(op,
                         LayerOutcome::Failed,
                         QStringLiteral("%1 refused to clear the sessions of user %2: %3")
                             .arg(name(), QString::fromUtf8(subject), words));
                return;
            }
            // Okta has no API that lists a user's OAuth tokens or sessions to read back.
            conclude(op,
                     LayerOutcome::DoneUnverified,
                     QStringLiteral("sessions of user %1 cleared with their OAuth tokens "
                                    "(oauthTokens=true, HTTP %2); Okta offers no read-back")
                         .arg(QString::fromUtf8(subject), QString::number(r->status)));
        });
}

} // namespace Breaker
