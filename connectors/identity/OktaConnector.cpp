#include "connectors/identity/OktaConnector.h"

#include "models/Profile.h"

#include <QUrlQuery>

namespace Breaker {

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
    auto sessionsOp
        = startOp(target,
                  "revoke-sessions",
                  "okta user " + (target.subject.isEmpty() ? QByteArray("(none)") : target.subject),
                  totalMs,
                  [arrive, join](std::vector<StopLayerResult> rows) {
                      arrive(&join->sessions, std::move(rows));
                  });
    OAuth2Connector::contain(target, deadlines, [arrive, join](std::vector<StopLayerResult> rows) {
        arrive(&join->token, std::move(rows));
    });

    if (target.subject.isEmpty()) {
        finish(sessionsOp,
               LayerOutcome::SkippedNotConfigured,
               QStringLiteral("the agent's identity has no \"subject\" (the Okta user id) in the "
                              "profile, so its sessions and other tokens were not killed"));
        return;
    }
    if (m_apiKey.isEmpty()) {
        finish(sessionsOp,
               LayerOutcome::SkippedNotConfigured,
               QStringLiteral("provider %1 has no api_key (an Okta API token), so the user's "
                              "sessions and other tokens were not killed")
                   .arg(name()));
        return;
    }
    killSessions(sessionsOp, target.subject);
}

void OktaConnector::killSessions(const std::shared_ptr<Op> &op, const QByteArray &subject)
{
    QUrl url = orgUrl();
    url.setPath(QStringLiteral("/api/v1/users/%1/sessions")
                    .arg(QString::fromLatin1(QUrl::toPercentEncoding(QString::fromUtf8(subject)))),
                QUrl::StrictMode);
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("oauthTokens"), QStringLiteral("true"));
    url.setQuery(q);
    send("DELETE",
         url,
         {{"Authorization", "SSWS " + m_apiKey}},
         {},
         [this, op, subject](const Result<Net::ClientReply> &r) {
             if (op->finished)
                 return;
             if (!r) {
                 finish(op, LayerOutcome::Failed, r.error().message);
                 return;
             }
             if (r->status / 100 != 2) {
                 // Okta's errors are {errorCode, errorSummary}; describeFailure shows the body.
                 finish(op,
                        LayerOutcome::Failed,
                        QStringLiteral("%1 refused to clear the sessions of user %2: %3")
                            .arg(name(),
                                 QString::fromUtf8(subject),
                                 OAuth::describeFailure(r->status, r->body)));
                 return;
             }
             // Okta has no API that lists a user's OAuth tokens or sessions to read back.
             finish(op,
                    LayerOutcome::DoneUnverified,
                    QStringLiteral("sessions of user %1 cleared with their OAuth tokens "
                                   "(oauthTokens=true, HTTP %2); Okta offers no read-back")
                        .arg(QString::fromUtf8(subject))
                        .arg(r->status));
         });
}

} // namespace Breaker
