#pragma once

#include "app/sandbox/fakes/FakeFaults.h"
#include "connectors/net/HttpServer.h"
#include "connectors/payment/StripeCodec.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QUrl>

#include <deque>
#include <optional>
#include <vector>

namespace Breaker {

// The Stripe-Issuing-shaped API of the sandbox (PROTOCOLS.md section 7.1), on its own
// HttpServer on 127.0.0.1, port 0. Stateful, unlike stripe-mock: a frozen card declines.
//
// Routes: GET/POST /v1/issuing/cards[/{id}], GET/POST /v1/issuing/cardholders[/{id}],
// GET /v1/issuing/authorizations[/{id}], POST /v1/test_helpers/issuing/authorizations. Every
// route is wrapped by faults() and then checks, in this order: the Bearer key (401), the rate
// limit (429), a scripted failure (failNext), the Idempotency-Key (POST).
//
// Deliberate deviations from Stripe:
//  - message texts are ours (Stripe's wording is not contractual); types, codes, params and
//    HTTP statuses follow docs.stripe.com/api/errors;
//  - only the one key of apiKey() is accepted (Stripe: any key of the account);
//  - no webhook endpoint is configured, so a test-helper authorization that Stripe would not
//    decline on its own is approved (PROTOCOLS.md 3.5: with no endpoint, Stripe approves); no
//    events are recorded;
//  - idempotency: only 2xx answers are saved (Stripe also saves other answers of requests that
//    started executing); a replay carries `Idempotent-Replayed: true`; a key reused with other
//    parameters is a 400 idempotency_error; keys never expire;
//  - rate limit: a sliding one-second window per key (25/s by default, like Stripe's sandbox);
//    the 429 is invalid_request_error / rate_limit with Stripe-Should-Retry: true and
//    Retry-After: 1;
//  - spending limits: daily/weekly/monthly/yearly windows are the last 1/7/30/365 days of
//    approved amounts (Stripe uses calendar periods); merchant category codes are known only
//    for a few categories;
//  - amounts of declined authorizations are 0, the asked amount is in request_history.
class StripeFake : public QObject
{
    Q_OBJECT
public:
    explicit StripeFake(QObject *parent = nullptr);
    ~StripeFake() override;

    // Listens on 127.0.0.1, a free port. With faults() down it picks a port but does not listen
    // (connections are refused).
    Result<void> listen();
    QUrl baseUrl() const; // http://127.0.0.1:<port> (paths carry /v1)
    FakeFaults *faults() { return m_faults; }
    QByteArray apiKey() const { return m_apiKey; } // an rk_test_… key

    // Seeding. Return the new object's id.
    QByteArray createCardholder(const QString &name);
    QByteArray createCard(const QByteArray &cardholderId,
                          const QString &currency = QStringLiteral("usd"));
    // Sets a status directly (test setup; no transition rules).
    void setCardStatus(const QByteArray &cardId, const QString &status);
    void setCardholderStatus(const QByteArray &cardholderId, const QString &status);

    // Requests per second per key before 429 (0: no limit). Default 25.
    void setRateLimit(int perSecond) { m_ratePerSecond = perSecond; }
    // The next `count` authenticated requests answer `status` in Stripe's shape (api_error for
    // 5xx, rate_limit for 429) before anything else happens, with Retry-After when given.
    void failNext(int count, int status, const QByteArray &retryAfter = {});

    // What happened (tests).
    std::optional<QJsonObject> card(const QByteArray &cardId) const;
    QList<QByteArray> idempotencyKeysSeen() const { return m_keysSeen; }
    int timesApplied(const QByteArray &idempotencyKey) const
    {
        return m_applied.value(idempotencyKey);
    }
    int requestCount() const { return m_requests; }
    int rateLimitedCount() const { return m_rateLimited; }

    // One answer of a route (status and JSON body).
    struct Answer
    {
        int status = 200;
        QByteArray body;
    };

private:
    struct Saved
    {
        QByteArray fingerprint;
        Answer answer;
    };
    struct Authorization
    {
        QJsonObject object; // without the expanded card
        QByteArray card;
        QByteArray cardholder;
        qint64 seq = 0;
    };

    using Route = std::function<Answer(
        const Net::HttpRequest &, const QByteArray &id, const Stripe::FormFields &params)>;
    void addRoute(const QByteArray &method, const QByteArray &path, bool prefix, Route route);
    void handle(const Net::HttpRequest &request,
                Net::HttpResponder &responder,
                const QByteArray &prefix,
                bool prefixed,
                const Route &route);
    static Net::HttpResponse json(const Answer &answer);

    Answer listCards(const Stripe::FormFields &params) const;
    Answer retrieveCard(const QByteArray &id) const;
    Answer createCardRoute(const Stripe::FormFields &params);
    Answer updateCard(const QByteArray &id, const Stripe::FormFields &params);
    Answer listCardholders(const Stripe::FormFields &params) const;
    Answer retrieveCardholder(const QByteArray &id) const;
    Answer createCardholderRoute(const Stripe::FormFields &params);
    Answer updateCardholder(const QByteArray &id, const Stripe::FormFields &params);
    Answer listAuthorizations(const Stripe::FormFields &params) const;
    Answer retrieveAuthorization(const QByteArray &id) const;
    Answer createTestAuthorization(const Stripe::FormFields &params);

    QJsonObject expandedCard(const QByteArray &id) const;
    QJsonObject expandedAuthorization(const Authorization &a) const;
    std::optional<QString> declineReason(const QJsonObject &card,
                                         const QJsonObject &holder,
                                         qint64 amount,
                                         const QString &category) const;
    bool rateLimited();
    QByteArray newId(const char *prefix);

    Net::HttpServer *m_server = nullptr;
    FakeFaults *m_faults = nullptr;
    quint16 m_port = 0;
    QByteArray m_apiKey;
    qint64 m_seq = 0;

    QHash<QByteArray, QJsonObject> m_cardholders; // by id, cardholder as stored
    QHash<QByteArray, QJsonObject> m_cards;       // card with cardholder as an id
    QHash<QByteArray, qint64> m_order;            // id → creation sequence (newest first lists)
    std::vector<Authorization> m_authorizations;

    QHash<QByteArray, Saved> m_idempotency;
    QList<QByteArray> m_keysSeen;
    QHash<QByteArray, int> m_applied;

    int m_ratePerSecond = 25;
    QElapsedTimer m_clock;
    std::deque<qint64> m_window; // arrival times (ms) within the last second
    int m_requests = 0;
    int m_rateLimited = 0;
    int m_failCount = 0;
    int m_failStatus = 500;
    QByteArray m_failRetryAfter;
};

} // namespace Breaker
