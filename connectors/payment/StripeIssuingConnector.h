#pragma once

#include "connectors/containment/LayerConnector.h"
#include "connectors/net/HttpClient.h"
#include "connectors/payment/StripeCodec.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QTimer>
#include <QUrl>

#include <deque>
#include <memory>

namespace Breaker {

struct ProviderConfig;

// The payment layer of the stop switch on Stripe Issuing (PROTOCOLS.md section 3).
//
// A freeze is `status=inactive` on each card, read back from Stripe. Stripe itself then declines
// every authorization on the card (reason card_inactive) whether or not Breaker is running, which
// is why the freeze is the lever and not the real-time authorization webhook.
//
// Every POST carries an Idempotency-Key derived from the operator action (operationKey), the
// card and the action, so a retry of the same action is applied once and a new action is new.
// 429 and 5xx are retried within the action's deadline, honouring Stripe-Should-Retry and
// Retry-After. Requests go through a token-bucket pacer so that a stop of many agents queues
// under Stripe's rate limit instead of earning 429s.
class StripeIssuingConnector : public LayerConnector
{
    Q_OBJECT
public:
    // `apiKey` is the resolved api_key (sk_… or rk_…); it is never logged.
    StripeIssuingConnector(const ProviderConfig &config,
                           QByteArray apiKey,
                           QObject *parent = nullptr);
    ~StripeIssuingConnector() override;

    QByteArray layer() const override { return "payment"; }
    QByteArray provider() const override { return m_provider; }
    QByteArray kind() const override { return "stripe-issuing"; }

    // Freezes each card (action "freeze"), then reads it back: one card with a GET, several
    // with list reads per cardholder.
    void
    contain(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done) override;
    bool canRelease() const override { return true; }
    // Unfreezes each card (action "unfreeze") and reads back status=active.
    void
    release(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done) override;
    // Approved authorizations on the target's cards since sinceMs.
    void checkLeaks(const LayerTarget &target,
                    qint64 sinceMs,
                    std::function<void(Result<std::vector<LayerLeak>>)> done) override;
    void probe(std::function<void(Result<QString>)> done) override;

    // Replaces the card's whole spending_limits array (as Stripe does) with one limit and reads
    // it back. One row, action "limit".
    void lowerLimits(const LayerTarget &target,
                     const QByteArray &cardId,
                     qint64 amountMinor,
                     const QString &interval,
                     const LayerDeadlines &deadlines,
                     LayerDone done);

    // The card's authorizations created at or after sinceUnix, newest first (every page).
    using AuthorizationsDone = std::function<void(Result<std::vector<Stripe::Authorization>>)>;
    void listAuthorizations(const QByteArray &cardId,
                            qint64 sinceUnix,
                            AuthorizationsDone done,
                            int deadlineMs = 20000);
    // One card, read now.
    void readCard(const QByteArray &cardId,
                  std::function<void(Result<Stripe::Card>)> done,
                  int deadlineMs = 10000);

    // Requests per second the pacer lets out (0: no pacing). Default 90 for live keys
    // (Stripe allows 100), 20 for test keys (Stripe's sandbox allows 25).
    void setRequestRate(double perSecond);
    double requestRate() const { return m_rate; }
    // First retry delay; later ones double (with jitter). Tests shorten it.
    void setRetryBaseMs(int ms) { m_retryBaseMs = ms; }
    QByteArray stripeVersion() const { return m_stripeVersion; }
    // The key a POST of `action` on `object` sends for this operator action.
    static QByteArray idempotencyKey(const QByteArray &operationKey,
                                     const QByteArray &object,
                                     const QByteArray &action);

private:
    struct Call
    {
        QByteArray method;
        QString path;     // "/v1/issuing/cards/ic_…"
        QByteArray query; // encoded, without '?'
        QByteArray body;  // encoded form (POST)
        QByteArray idempotencyKey;
        QDeadlineTimer deadline;
        int attempt = 0;
        std::shared_ptr<bool> answered;
        std::function<void(const Result<Net::ClientReply> &)> done; // any HTTP status
    };
    using JsonDone = std::function<void(const Result<QByteArray> &)>;

    // A request through the pacer, retried as Stripe advises until the deadline. done gets the
    // final answer: a 2xx body, or an Error carrying Stripe's words.
    void request(QByteArray method,
                 const QString &path,
                 QByteArray queryOrBody,
                 QByteArray idempotencyKey,
                 QDeadlineTimer deadline,
                 JsonDone done);
    void enqueue(std::shared_ptr<Call> call);
    void pump();
    void send(std::shared_ptr<Call> call);
    QUrl urlFor(const QString &path, const QByteArray &query) const;
    Error stripeError(const Net::ClientReply &reply, const QString &what) const;
    Error withContext(Error e, const QString &what) const;

    struct Batch;
    void changeStatus(const LayerTarget &target,
                      const LayerDeadlines &deadlines,
                      bool freeze,
                      LayerDone done);
    void verifyBatch(std::shared_ptr<Batch> batch);
    void verifyByList(std::shared_ptr<Batch> batch,
                      const QString &cardholder,
                      const QString &startingAfter,
                      int pagesLeft);
    void verifyOne(std::shared_ptr<Batch> batch, int index);
    void judge(std::shared_ptr<Batch> batch, int index, const Result<Stripe::Card> &card);
    void finishRow(std::shared_ptr<Batch> batch, int index);
    void listPage(const QByteArray &cardId,
                  qint64 sinceUnix,
                  const QString &startingAfter,
                  QDeadlineTimer deadline,
                  std::shared_ptr<std::vector<Stripe::Authorization>> acc,
                  AuthorizationsDone done);

    QByteArray m_provider;
    QString m_providerName;
    QUrl m_base;
    QByteArray m_apiKey;
    QByteArray m_stripeVersion;
    Net::HttpClient *m_http = nullptr;
    int m_retryBaseMs = 500;

    // Pacer: a token bucket of m_burst tokens refilled at m_rate per second.
    double m_rate = 20;
    double m_burst = 2;
    double m_tokens = 2;
    QElapsedTimer m_clock;
    qint64 m_lastRefillNs = 0;
    std::deque<std::shared_ptr<Call>> m_queue;
    QTimer m_pacer;
};

} // namespace Breaker
