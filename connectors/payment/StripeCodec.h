#pragma once

#include "models/Result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>
#include <utility>
#include <vector>

// The Stripe (v1 API) wire format of Issuing, as pure functions (PROTOCOLS.md section 3). No
// I/O: StripeIssuingConnector does the talking, the sandbox's StripeFake the answering, and the
// tests check the encoder against bytes recorded from stripe-node 23.1.0
// (tests/data/stripe/README.md).
namespace Breaker::Stripe {

// The API version Breaker is written against (stripe-node 23.1.0 pins it); a profile may pin
// another with stripe_version.
inline constexpr char kDefaultApiVersion[] = "2026-10-28.endive";
inline constexpr int kWebhookToleranceS = 300;

// ---- Form encoding -----------------------------------------------------------------------

// One form field, its key already bracket-nested ("spending_controls[spending_limits][0][amount]").
using FormField = std::pair<QByteArray, QString>;
using FormFields = QList<FormField>;

// stripe-node's encodeQueryValue: encodeURIComponent, then also !*'() percent-encoded, then
// %5B/%5D turned back into brackets (Stripe accepts both; stripe-node sends them bare).
QByteArray encodeFormComponent(QStringView text);
// key=value pairs joined by '&', each side encoded as above. An empty value is sent as "key="
// (which unsets the field at Stripe).
QByteArray encodeForm(const FormFields &fields);
// Flattens a JSON object as stripe-node flattens a params object, keeping the document's key
// order: objects nest as key[child], arrays as key[0], null becomes "" (unset), true/false and
// numbers are written as JavaScript's String() writes them.
Result<FormFields> formFieldsFromJson(QByteArrayView json);
// The other side (the fake): splits a form body or query string into fields, decoding %XX and
// '+' (a space); keys keep their brackets. Malformed escapes are an Invalid error.
Result<FormFields> decodeForm(QByteArrayView form);
// The first value of `key` in `fields`, if any.
std::optional<QString> formValue(const FormFields &fields, QByteArrayView key);

// ---- Errors ----------------------------------------------------------------------------------

// Stripe's error object: {"error":{type, code, message, param, decline_code, doc_url, ...}}.
struct ApiError
{
    int httpStatus = 0;
    QString type; // api_error, card_error, idempotency_error, invalid_request_error, ...
    QString code; // resource_missing, rate_limit, ... (often absent)
    QString message;
    QString param;
    QString declineCode;
    QString docUrl;
    QString requestLogUrl;

    // "Stripe invalid_request_error resource_missing: No such issuing card: 'ic_x' (param card)"
    QString words() const;
    bool isIdempotencyError() const { return type == QLatin1String("idempotency_error"); }
};
// Reads the error object of a non-2xx answer; nothing when the body is not Stripe's shape.
std::optional<ApiError> parseError(int httpStatus, QByteArrayView body);
// Stripe's words for an answer that is not a success: the error object in words, or, when the
// body is not Stripe's shape, the status and the start of what came ("HTTP 502 (text/html):
// <html>…").
QString describeFailure(int httpStatus, QByteArrayView contentType, QByteArrayView body);

// ---- Objects -------------------------------------------------------------------------------

struct SpendingLimit
{
    qint64 amount = 0; // smallest currency unit
    QString interval;  // per_authorization, daily, weekly, monthly, yearly, all_time
    QStringList categories;
    bool operator==(const SpendingLimit &) const = default;
};

struct SpendingControls
{
    std::vector<SpendingLimit> spendingLimits;
    QStringList allowedCategories; // allowed xor blocked
    QStringList blockedCategories;
};

// issuing.card (ids ic_…). `cardholder` is Stripe's expanded object on a card; only its id is
// kept.
struct Card
{
    QString id;
    QString status; // active, inactive, canceled
    QString cardholder;
    QString currency;
    QString last4;
    QString brand;
    QString type; // virtual, physical
    QString cancellationReason;
    int expMonth = 0;
    int expYear = 0;
    SpendingControls spendingControls;
    QMap<QString, QString> metadata;
    qint64 created = 0; // unix seconds
    bool livemode = false;
};
Result<Card> parseCard(const QJsonObject &object);
Result<Card> parseCard(QByteArrayView json);

// {"object":"list","data":[…],"has_more","url"}
struct ListPage
{
    QString url;
    bool hasMore = false;
    QList<QJsonObject> data;
    QString lastId() const; // for starting_after
};
Result<ListPage> parseList(QByteArrayView json);

struct RequestHistoryEntry
{
    bool approved = false;
    qint64 amount = 0;
    QString currency;
    QString reason; // card_inactive, spending_controls, webhook_approved, ...
    QString reasonMessage;
    qint64 created = 0;
};

struct MerchantData
{
    QString category;
    QString categoryCode;
    QString name;
    QString city;
    QString country;
};

// issuing.authorization (ids iauth_…). `card` is Stripe's expanded card object; only its id is
// kept (and its status at the time of the read, in cardStatus).
struct Authorization
{
    QString id;
    qint64 amount = 0;
    QString currency;
    bool approved = false;
    QString status; // pending, closed, reversed, expired
    QString card;
    QString cardStatus;
    QString cardholder;
    qint64 created = 0;
    MerchantData merchant;
    std::optional<qint64> pendingAmount; // pending_request.amount, while pending
    std::vector<RequestHistoryEntry> requestHistory;
    QMap<QString, QString> metadata;

    // The reason of the last request_history entry, or empty.
    QString lastReason() const;
    // The amount asked for: the last request's, else `amount`.
    qint64 requestedAmount() const;
};
Result<Authorization> parseAuthorization(const QJsonObject &object);

// "12.00 usd" (two decimals, or none for Stripe's zero-decimal currencies such as jpy).
QString formatAmount(qint64 amountMinor, const QString &currency);

// ---- Webhook signatures (section 3.6) --------------------------------------------------------

// hex(HMAC-SHA256(key = the whole "whsec_…" secret, msg = "<t>." + payload)).
QByteArray computeSignature(QByteArrayView secret, qint64 timestamp, QByteArrayView payload);
// "t=<t>,v1=<hex>", as Stripe (and stripe-node's generateTestHeaderString) writes it.
QByteArray signatureHeader(QByteArrayView secret, qint64 timestamp, QByteArrayView payload);
// Accepts when any v1 matches (constant-time) and now - t <= tolerance (a future t passes, as in
// stripe-node). v0 is ignored. The error says which check failed, in stripe-node's words.
Result<void> verifySignature(QByteArrayView payload,
                             QByteArrayView header,
                             QByteArrayView secret,
                             qint64 nowUnix,
                             int toleranceS = kWebhookToleranceS);

} // namespace Breaker::Stripe
