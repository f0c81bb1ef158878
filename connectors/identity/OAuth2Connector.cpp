#include "connectors/identity/OAuth2Connector.h"

#include <QDeadlineTimer>

#include "models/Logging.h"
#include "models/Profile.h"

#include <QDateTime>

namespace Breaker {

namespace {

constexpr int kDefaultTimeoutMs = 10000;
constexpr qint64 kDefaultRetryMs = 1000; // a 503 or 429 without Retry-After
// A dummy token for probe(): introspecting it proves client authentication works (an unknown
// token answers active=false; bad credentials answer 401).
constexpr QByteArrayView kProbeToken = "breaker-probe-not-a-token";

} // namespace

OAuth2Connector::OAuth2Connector(const ProviderConfig &provider,
                                 QByteArray clientSecret,
                                 QObject *parent)
    : LayerConnector(parent)
    , m_name(provider.name)
    , m_issuer(provider.issuer)
    , m_clientId(provider.clientId.toUtf8())
    , m_clientSecret(std::move(clientSecret))
{
    Net::ClientOptions options;
    options.connectionsPerHost = 24; // a global stop acts on many agents at once
    options.provider = provider.name;
    options.timeoutMs = provider.timeoutS ? int(*provider.timeoutS * 1000) : kDefaultTimeoutMs;
    options.caFile = provider.caFile;
    options.proxy = provider.proxy;
    options.maxBodyBytes = 4 * 1024 * 1024;
    m_http = new Net::HttpClient(options, this);
}

OAuth2Connector::~OAuth2Connector() = default;

Error OAuth2Connector::providerError(Error::Kind kind, const QString &message) const
{
    return makeError(kind, QStringLiteral("%1: %2").arg(m_name, message), m_name);
}

QByteArray OAuth2Connector::tokenTarget(const LayerTarget &target)
{
    const QString ref
        = target.tokenRef.isEmpty() ? QStringLiteral("(no reference)") : target.tokenRef;
    return "token " + ref.toUtf8();
}

// ---- operations with a deadline ---------------------------------------------------------------

std::shared_ptr<OAuth2Connector::Op> OAuth2Connector::startOp(
    const LayerTarget &target, QByteArray action, QByteArray what, int totalMs, LayerDone done)
{
    auto op = std::make_shared<Op>();
    op->done = std::move(done);
    op->row.layer = "identity";
    op->row.agent = target.agent;
    op->row.run = target.run;
    op->row.provider = provider();
    op->row.target = std::move(what);
    op->row.action = std::move(action);
    op->secret = target.token;
    op->clock.start();
    auto *timer = new QTimer(this);
    timer->setSingleShot(true);
    op->deadline = timer;
    std::weak_ptr<Op> weak = op;
    connect(timer, &QTimer::timeout, this, [this, weak, totalMs] {
        const auto o = weak.lock();
        if (!o || o->finished)
            return;
        QString detail = o->progress.isEmpty() ? QString() : o->progress + QStringLiteral("; ");
        detail += QStringLiteral("%1 did not answer within %2 ms").arg(m_name).arg(totalMs);
        // Accepted but not read back is done_unverified; never accepted is failed.
        finish(o, o->accepted ? LayerOutcome::DoneUnverified : LayerOutcome::Failed, detail);
    });
    timer->start(std::max(totalMs, 1));
    return op;
}

void OAuth2Connector::finish(const std::shared_ptr<Op> &op,
                             LayerOutcome outcome,
                             const QString &detail)
{
    if (op->finished)
        return;
    op->finished = true;
    if (op->deadline)
        op->deadline->deleteLater();
    op->row.outcome = outcome;
    op->row.detail = OAuth::scrub(OAuth::scrub(detail, op->secret), m_clientSecret);
    op->row.ms = op->clock.elapsed();
    qCInfo(lcNet).noquote() << m_name << op->row.action << op->row.target << "->"
                            << toWireName(outcome) << op->row.detail;
    auto done = std::move(op->done);
    op->done = nullptr;
    if (done)
        done({op->row});
}

// ---- HTTP -------------------------------------------------------------------------------------

void OAuth2Connector::send(const QByteArray &method,
                           const QUrl &url,
                           Net::HttpClient::Headers headers,
                           const QByteArray &body,
                           ReplyDone done)
{
    headers.append(std::pair<QByteArray, QByteArray>("Accept", "application/json"));
    m_http->send(method, url, headers, body, std::move(done));
}

void OAuth2Connector::postForm(const QUrl &url, const OAuth::Form &form, ReplyDone done)
{
    // client_secret_basic (RFC 6749 section 2.3.1): every server must accept it, and it keeps
    // the secret out of bodies that proxies and servers like to log.
    send("POST",
         url,
         {{"Content-Type", "application/x-www-form-urlencoded"},
          {"Authorization", OAuth::basicAuthorization(m_clientId, m_clientSecret)}},
         OAuth::formBody(form),
         std::move(done));
}

// ---- discovery --------------------------------------------------------------------------------

void OAuth2Connector::discover(bool fresh, MetadataDone then)
{
    if (m_metadata && !fresh) {
        then(*m_metadata);
        return;
    }
    m_discoveryWaiters.push_back(std::move(then));
    if (m_discovering)
        return;
    m_discovering = true;
    if (!m_issuer.isValid() || m_issuer.isRelative()) {
        finishDiscovery(providerError(
            Error::Kind::Invalid,
            QStringLiteral("the profile's issuer \"%1\" is not a URL").arg(m_issuer.toString())));
        return;
    }
    if (auto ca = m_http->loadCaFile(); !ca) {
        finishDiscovery(ca.error());
        return;
    }
    tryDiscovery(OAuth::discoveryUrls(m_issuer), {});
}

void OAuth2Connector::tryDiscovery(QList<QUrl> urls, QStringList failures)
{
    if (urls.isEmpty()) {
        finishDiscovery(providerError(
            Error::Kind::Unavailable,
            QStringLiteral("discovery failed: %1").arg(failures.join(QStringLiteral("; ")))));
        return;
    }
    const QUrl url = urls.takeFirst();
    send(
        "GET", url, {}, {}, [this, url, urls, failures](const Result<Net::ClientReply> &r) mutable {
            if (!r) {
                // A transport failure (refused, timeout, TLS) will not differ for the other URL.
                finishDiscovery(r.error());
                return;
            }
            if (r->status != 200) {
                failures << QStringLiteral("%1 answered %2")
                                .arg(url.toString(), OAuth::describeFailure(r->status, r->body));
                tryDiscovery(urls, failures);
                return;
            }
            auto metadata = OAuth::parseMetadata(r->body, m_issuer.toString());
            if (!metadata) {
                failures << QStringLiteral("%1: %2").arg(url.toString(), metadata.error().message);
                tryDiscovery(urls, failures);
                return;
            }
            finishDiscovery(*metadata);
        });
}

void OAuth2Connector::finishDiscovery(const Result<OAuth::Metadata> &result)
{
    m_discovering = false;
    if (result)
        m_metadata = *result;
    auto waiters = std::exchange(m_discoveryWaiters, {});
    for (auto &w : waiters)
        w(result);
}

// ---- introspection ----------------------------------------------------------------------------

void OAuth2Connector::introspect(const QByteArray &token, IntrospectionDone done, QDeadlineTimer retryUntil)
{
    discover(false, [this, token, done = std::move(done), retryUntil](const Result<OAuth::Metadata> &m) {
        if (!m) {
            done(m.error());
            return;
        }
        if (m->introspectionEndpoint.isEmpty()) {
            done(providerError(Error::Kind::NotFound,
                               QStringLiteral("the issuer offers no introspection_endpoint")));
            return;
        }
        postForm(m->introspectionEndpoint,
                 {{"token", token}},
                 [this, token, done, retryUntil](const Result<Net::ClientReply> &r) {
                     if (!r) {
                         done(r.error());
                         return;
                     }
                     if ((r->status == 503 || r->status == 429) && !retryUntil.hasExpired()) {
                         // Busy or rate limited (a stop of many agents reads many tokens back):
                         // asked again after Retry-After while the caller's deadline allows.
                         const qint64 wait = OAuth::retryAfterMs(r->header("Retry-After"),
                                                                 QDateTime::currentDateTimeUtc())
                                                 .value_or(kDefaultRetryMs);
                         if (wait < retryUntil.remainingTime()) {
                             QTimer::singleShot(wait, this, [this, token, done, retryUntil] {
                                 introspect(token, done, retryUntil);
                             });
                             return;
                         }
                     }
                     if (r->status != 200) {
                         QString words
                             = OAuth::scrub(OAuth::describeFailure(r->status, r->body), token);
                         if (r->status == 401)
                             words += QStringLiteral(": Breaker's client authentication was "
                                                     "refused (check client_id and "
                                                     "client_secret)");
                         done(providerError(r->status == 401 ? Error::Kind::Invalid
                                                             : Error::Kind::Unavailable,
                                            QStringLiteral("introspection: %1").arg(words)));
                         return;
                     }
                     auto parsed = OAuth::parseIntrospection(r->body);
                     if (!parsed) {
                         done(providerError(
                             Error::Kind::Invalid,
                             QStringLiteral("introspection: %1").arg(parsed.error().message)));
                         return;
                     }
                     done(*parsed);
                 });
    });
}

// ---- contain ----------------------------------------------------------------------------------

void OAuth2Connector::contain(const LayerTarget &target,
                              const LayerDeadlines &deadlines,
                              LayerDone done)
{
    auto op = startOp(target,
                      "revoke",
                      tokenTarget(target),
                      deadlines.actMs + deadlines.verifyMs,
                      std::move(done));
    if (target.token.isEmpty()) {
        finish(op,
               LayerOutcome::SkippedNotConfigured,
               QStringLiteral("the agent has no identity token in the profile"));
        return;
    }
    revokeAndVerify(op, target.token, deadlines.actMs);
}

void OAuth2Connector::revokeAndVerify(const std::shared_ptr<Op> &op, QByteArray token, int actMs)
{
    discover(false, [this, op, token, actMs](const Result<OAuth::Metadata> &m) {
        if (op->finished)
            return;
        if (!m) {
            finish(op, LayerOutcome::Failed, m.error().message);
            return;
        }
        if (m->revocationEndpoint.isEmpty()) {
            finish(op,
                   LayerOutcome::Failed,
                   QStringLiteral("%1 offers no revocation_endpoint (RFC 7009) in its discovery "
                                  "document: the token cannot be revoked")
                       .arg(m_name));
            return;
        }
        revokeOnce(op, token, actMs, 1);
    });
}

void OAuth2Connector::revokeOnce(const std::shared_ptr<Op> &op,
                                 QByteArray token,
                                 int actMs,
                                 int attempt)
{
    // The hint says refresh_token because that is the token whose revocation cascades; a server
    // must search other types when the hint is wrong (RFC 7009 section 2.1).
    postForm(m_metadata->revocationEndpoint,
             {{"token", token}, {"token_type_hint", "refresh_token"}},
             [this, op, token, actMs, attempt](const Result<Net::ClientReply> &r) {
                 if (op->finished)
                     return;
                 if (!r) {
                     finish(op,
                            LayerOutcome::Failed,
                            QStringLiteral("revocation: %1").arg(r.error().message));
                     return;
                 }
                 if (r->status == 503 || r->status == 429) {
                     // RFC 7009 section 2.2.1 (503) and RFC 6585 (429, a hosted provider's rate
                     // limit): the request was not processed, the token is still alive.
                     const qint64 wait = OAuth::retryAfterMs(r->header("Retry-After"),
                                                             QDateTime::currentDateTimeUtc())
                                             .value_or(kDefaultRetryMs);
                     const qint64 left = actMs - op->clock.elapsed();
                     op->progress = QStringLiteral("revocation answered HTTP %1%2 %3 time(s): the "
                                                   "token is still alive")
                                        .arg(r->status)
                                        .arg(r->status == 429 ? QStringLiteral(" (rate limited)")
                                                              : QString())
                                        .arg(attempt);
                     if (wait >= left) {
                         finish(op,
                                LayerOutcome::Failed,
                                QStringLiteral("%1; Retry-After %2 ms is past the %3 ms deadline")
                                    .arg(op->progress)
                                    .arg(wait)
                                    .arg(actMs));
                         return;
                     }
                     QTimer::singleShot(wait, this, [this, op, token, actMs, attempt] {
                         if (!op->finished)
                             revokeOnce(op, token, actMs, attempt + 1);
                     });
                     return;
                 }
                 if (r->status != 200) {
                     QString words = OAuth::describeFailure(r->status, r->body);
                     const auto e = OAuth::parseError(r->body);
                     if (r->status == 401 || (e && e->error == "invalid_client"))
                         words += QStringLiteral(": Breaker's client authentication was refused "
                                                 "(check client_id and client_secret)");
                     finish(op,
                            LayerOutcome::Failed,
                            QStringLiteral("%1 refused the revocation: %2").arg(m_name, words));
                     return;
                 }
                 op->accepted = true;
                 op->progress = QStringLiteral("revocation accepted (HTTP 200)");
                 verify(op, token);
             });
}

void OAuth2Connector::verify(const std::shared_ptr<Op> &op, QByteArray token)
{
    if (m_metadata->introspectionEndpoint.isEmpty()) {
        finish(op,
               LayerOutcome::DoneUnverified,
               QStringLiteral("revocation accepted (HTTP 200), which RFC 7009 answers even for "
                              "unknown tokens; %1 offers no introspection_endpoint to read it "
                              "back")
                   .arg(m_name));
        return;
    }
    // Retried on 503/429 until shortly before the op's own deadline, which then still finishes
    // it with what was learnt.
    const int left = op->deadline ? op->deadline->remainingTime() : 0;
    introspect(token, [this, op](const Result<OAuth::Introspection> &r) {
        if (op->finished)
            return;
        if (!r) {
            finish(op,
                   LayerOutcome::DoneUnverified,
                   QStringLiteral("revocation accepted (HTTP 200) but not read back: %1")
                       .arg(r.error().message));
            return;
        }
        if (!r->active) {
            finish(op, LayerOutcome::Verified, QStringLiteral("introspection: active=false"));
            return;
        }
        finish(op,
               LayerOutcome::Failed,
               QStringLiteral("revocation answered HTTP 200 but introspection says the token is "
                              "still active (%1)")
                   .arg(OAuth::describeToken(*r)));
    }, QDeadlineTimer(std::max(0, left - 100)));
}

// ---- release, leaks, probe --------------------------------------------------------------------

void OAuth2Connector::release(const LayerTarget &target,
                              const LayerDeadlines &deadlines,
                              LayerDone done)
{
    auto op = startOp(target, "release", tokenTarget(target), deadlines.actMs, std::move(done));
    finish(op,
           LayerOutcome::SkippedNotConfigured,
           QStringLiteral("a revoked token stays revoked; the agent needs a new grant"));
}

void OAuth2Connector::checkLeaks(const LayerTarget &target,
                                 qint64 sinceMs,
                                 std::function<void(Result<std::vector<LayerLeak>>)> done)
{
    Q_UNUSED(sinceMs); // introspection tells the state now, which is what matters after a stop
    if (target.token.isEmpty()) {
        done(std::vector<LayerLeak>{});
        return;
    }
    const QByteArray token = target.token;
    introspect(
        token,
        [target, token, done = std::move(done)](const Result<OAuth::Introspection> &r) {
            if (!r) {
                Error e = r.error();
                e.message = OAuth::scrub(e.message, token);
                done(e);
                return;
            }
            std::vector<LayerLeak> leaks;
            if (r->active) {
                LayerLeak leak;
                leak.layer = "identity";
                leak.agent = target.agent;
                leak.what
                    = QStringLiteral("%1 introspects active again (%2)")
                          .arg(QString::fromUtf8(tokenTarget(target)), OAuth::describeToken(*r));
                leak.atMs = QDateTime::currentMSecsSinceEpoch();
                leaks.push_back(leak);
            }
            done(leaks);
        });
}

void OAuth2Connector::probe(std::function<void(Result<QString>)> done)
{
    discover(true, [this, done = std::move(done)](const Result<OAuth::Metadata> &m) {
        if (!m) {
            done(m.error());
            return;
        }
        const QString found = QStringLiteral("%1: issuer %2 (revocation %3, introspection %4)")
                                  .arg(m_name,
                                       m->issuer,
                                       m->revocationEndpoint.isEmpty() ? QStringLiteral("none")
                                                                       : QStringLiteral("yes"),
                                       m->introspectionEndpoint.isEmpty() ? QStringLiteral("none")
                                                                          : QStringLiteral("yes"));
        if (m->introspectionEndpoint.isEmpty() && m->revocationEndpoint.isEmpty()) {
            done(providerError(Error::Kind::NotFound,
                               QStringLiteral("the issuer offers neither revocation nor "
                                              "introspection: nothing to stop with")));
            return;
        }
        if (m->introspectionEndpoint.isEmpty()) {
            // Revoking a token that does not exist answers 200 only to an authenticated client.
            postForm(
                m->revocationEndpoint,
                {{"token", kProbeToken.toByteArray()}},
                [this, found, done](const Result<Net::ClientReply> &r) {
                    if (!r)
                        done(r.error());
                    else if (r->status != 200)
                        done(providerError(Error::Kind::Invalid,
                                           QStringLiteral("revocation of a dummy token: %1")
                                               .arg(OAuth::describeFailure(r->status, r->body))));
                    else
                        done(QString(found
                                     + QStringLiteral("; client authentication works "
                                                      "(revocation of a dummy token: HTTP "
                                                      "200)")));
                });
            return;
        }
        introspect(
            kProbeToken.toByteArray(), [this, found, done](const Result<OAuth::Introspection> &r) {
                if (!r)
                    done(r.error());
                else if (r->active)
                    done(providerError(
                        Error::Kind::Invalid,
                        QStringLiteral("introspection says a dummy token is active")));
                else
                    done(QString(found
                                 + QStringLiteral("; client authentication works (introspection of "
                                                  "a dummy token: active=false)")));
            });
    });
}

} // namespace Breaker
