#include "app/sandbox/fakes/StripeFake.h"

#include "models/Logging.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSet>
#include <QTcpServer>

#include <algorithm>

namespace Breaker {

namespace {

using Answer = StripeFake::Answer;

qint64 nowUnix()
{
    return QDateTime::currentSecsSinceEpoch();
}

QByteArray randomAlnum(int n)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    QByteArray out(n, '0');
    for (char &c : out)
        c = chars[QRandomGenerator::global()->bounded(int(sizeof chars - 1))];
    return out;
}

QJsonObject errorObject(const QString &type,
                        const QString &code,
                        const QString &message,
                        const QString &param = {})
{
    QJsonObject e{{QStringLiteral("type"), type}, {QStringLiteral("message"), message}};
    if (!code.isEmpty()) {
        e.insert(QStringLiteral("code"), code);
        e.insert(QStringLiteral("doc_url"),
                 QString(QStringLiteral("https://stripe.com/docs/error-codes/")
                         + QString(code).replace(u'_', u'-')));
    }
    if (!param.isEmpty())
        e.insert(QStringLiteral("param"), param);
    e.insert(QStringLiteral("request_log_url"),
             QStringLiteral("https://dashboard.stripe.com/test/logs/req_sandbox"));
    return QJsonObject{{QStringLiteral("error"), e}};
}

QByteArray bytes(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

const QStringList &intervals()
{
    static const QStringList list = {QStringLiteral("per_authorization"),
                                     QStringLiteral("daily"),
                                     QStringLiteral("weekly"),
                                     QStringLiteral("monthly"),
                                     QStringLiteral("yearly"),
                                     QStringLiteral("all_time")};
    return list;
}

qint64 intervalSeconds(const QString &interval)
{
    if (interval == QLatin1String("daily"))
        return 86400;
    if (interval == QLatin1String("weekly"))
        return 7 * 86400;
    if (interval == QLatin1String("monthly"))
        return 30 * 86400;
    if (interval == QLatin1String("yearly"))
        return 365 * 86400;
    return -1; // all_time
}

QString categoryCode(const QString &category)
{
    static const QHash<QString, QString> codes = {
        {QStringLiteral("computer_software_stores"), QStringLiteral("5734")},
        {QStringLiteral("taxicabs_limousines"), QStringLiteral("4121")},
        {QStringLiteral("betting_casino_gambling"), QStringLiteral("7995")},
        {QStringLiteral("airlines_air_carriers"), QStringLiteral("4511")},
        {QStringLiteral("eating_places_restaurants"), QStringLiteral("5812")},
        {QStringLiteral("computer_network_services"), QStringLiteral("4816")},
    };
    return codes.value(category, QStringLiteral("5999"));
}

QJsonObject emptySpendingControls()
{
    return {{QStringLiteral("allowed_categories"), QJsonValue::Null},
            {QStringLiteral("allowed_merchant_countries"), QJsonValue::Null},
            {QStringLiteral("blocked_categories"), QJsonValue::Null},
            {QStringLiteral("blocked_merchant_countries"), QJsonValue::Null},
            {QStringLiteral("spending_limits"), QJsonArray()},
            {QStringLiteral("spending_limits_currency"), QJsonValue::Null}};
}

// "a[b][0][c]" → {"a","b","0","c"}; empty when malformed.
QStringList keyPath(const QByteArray &key)
{
    const QString k = QString::fromUtf8(key);
    const qsizetype open = k.indexOf(u'[');
    if (open < 0)
        return {k};
    QStringList out{k.left(open)};
    qsizetype i = open;
    while (i < k.size()) {
        if (k[i] != u'[')
            return {};
        const qsizetype close = k.indexOf(u']', i);
        if (close < 0)
            return {};
        out << k.mid(i + 1, close - i - 1);
        i = close + 1;
    }
    return out;
}

struct ParamError
{
    QString message;
    QString param;
};

// Applies spending_controls[...] fields to `controls`: each sub-field given replaces the old one
// whole, as at Stripe (spending_limits is replaced as an array).
std::optional<ParamError> applySpendingControls(QJsonObject &controls,
                                                const Stripe::FormFields &params)
{
    QMap<int, QJsonObject> limits;
    QMap<int, QMap<int, QString>> limitCategories;
    bool limitsGiven = false;
    QHash<QString, QMap<int, QString>> lists; // allowed_categories, blocked_categories, ...
    QSet<QString> listsUnset;
    for (const auto &[key, value] : params) {
        const QStringList path = keyPath(key);
        if (path.isEmpty() || path.first() != QLatin1String("spending_controls"))
            continue;
        const QString param = QString::fromUtf8(key);
        if (path.size() < 2)
            return ParamError{QStringLiteral("Invalid spending_controls: must be an object"),
                              param};
        const QString field = path[1];
        if (field == QLatin1String("spending_limits")) {
            limitsGiven = true;
            if (path.size() == 2) {
                if (!value.isEmpty())
                    return ParamError{QStringLiteral("Invalid array"), param};
                continue; // "" unsets: no limits
            }
            bool ok = false;
            const int index = path[2].toInt(&ok);
            if (!ok || path.size() < 4)
                return ParamError{QStringLiteral("Invalid array"), param};
            const QString sub = path[3];
            if (sub == QLatin1String("amount")) {
                const qint64 amount = value.toLongLong(&ok);
                if (!ok || amount < 0)
                    return ParamError{QStringLiteral("Invalid integer: %1").arg(value), param};
                limits[index].insert(QStringLiteral("amount"), amount);
            } else if (sub == QLatin1String("interval")) {
                if (!intervals().contains(value))
                    return ParamError{QStringLiteral("Invalid interval: must be one of %1")
                                          .arg(intervals().join(QLatin1String(", "))),
                                      param};
                limits[index].insert(QStringLiteral("interval"), value);
            } else if (sub == QLatin1String("categories") && path.size() == 5) {
                limitCategories[index].insert(path[4].toInt(), value);
            } else {
                return ParamError{QStringLiteral("Received unknown parameter: %1").arg(param),
                                  param};
            }
        } else if (field == QLatin1String("allowed_categories")
                   || field == QLatin1String("blocked_categories")
                   || field == QLatin1String("allowed_merchant_countries")
                   || field == QLatin1String("blocked_merchant_countries")) {
            if (path.size() == 2 && value.isEmpty())
                listsUnset.insert(field);
            else if (path.size() == 3)
                lists[field].insert(path[2].toInt(), value);
            else
                return ParamError{QStringLiteral("Invalid array"), param};
        } else if (field == QLatin1String("spending_limits_currency")) {
            controls.insert(field, value.isEmpty() ? QJsonValue(QJsonValue::Null) : value);
        } else {
            return ParamError{QStringLiteral("Received unknown parameter: %1").arg(param), param};
        }
    }
    if (limitsGiven) {
        QJsonArray array;
        for (auto it = limits.begin(); it != limits.end(); ++it) {
            QJsonObject limit = it.value();
            if (!limit.contains(QStringLiteral("amount"))
                || !limit.contains(QStringLiteral("interval")))
                return ParamError{
                    QStringLiteral("Missing required param: amount and interval of "
                                   "each spending limit."),
                    QStringLiteral("spending_controls[spending_limits][%1]").arg(it.key())};
            QJsonArray categories;
            for (const QString &c : limitCategories.value(it.key()))
                categories.append(c);
            limit.insert(QStringLiteral("categories"),
                         categories.isEmpty() ? QJsonValue(QJsonValue::Null)
                                              : QJsonValue(categories));
            array.append(limit);
        }
        controls.insert(QStringLiteral("spending_limits"), array);
    }
    for (const QString &field : std::as_const(listsUnset))
        controls.insert(field, QJsonValue::Null);
    for (auto it = lists.begin(); it != lists.end(); ++it) {
        QJsonArray array;
        for (const QString &v : it.value())
            array.append(v);
        controls.insert(it.key(), array);
    }
    if (!controls.value(QStringLiteral("allowed_categories")).isNull()
        && !controls.value(QStringLiteral("blocked_categories")).isNull())
        return ParamError{
            QStringLiteral("You may specify allowed_categories or blocked_categories, "
                           "but not both."),
            QStringLiteral("spending_controls")};
    return std::nullopt;
}

std::optional<ParamError> applyMetadata(QJsonObject &object, const Stripe::FormFields &params)
{
    QJsonObject metadata = object.value(QStringLiteral("metadata")).toObject();
    for (const auto &[key, value] : params) {
        const QStringList path = keyPath(key);
        if (path.isEmpty() || path.first() != QLatin1String("metadata"))
            continue;
        if (path.size() == 1) {
            if (!value.isEmpty())
                return ParamError{QStringLiteral("Invalid metadata: must be an object"),
                                  QStringLiteral("metadata")};
            metadata = {};
        } else if (path.size() == 2) {
            if (value.isEmpty())
                metadata.remove(path[1]); // an empty value unsets the key
            else
                metadata.insert(path[1], value);
        } else {
            return ParamError{QStringLiteral("Invalid metadata"), QString::fromUtf8(key)};
        }
    }
    object.insert(QStringLiteral("metadata"), metadata);
    return std::nullopt;
}

// The first parameter whose top-level name is not in `known`.
std::optional<QString> unknownParam(const Stripe::FormFields &params, const QStringList &known)
{
    for (const auto &[key, value] : params) {
        const QStringList path = keyPath(key);
        if (path.isEmpty() || !known.contains(path.first()))
            return QString::fromUtf8(key);
    }
    return std::nullopt;
}

} // namespace

StripeFake::StripeFake(QObject *parent)
    : QObject(parent)
    , m_server(new Net::HttpServer(this))
    , m_faults(new FakeFaults(this))
    , m_apiKey("rk_test_" + randomAlnum(24))
{
    m_clock.start();
    addRoute("GET",
             "/v1/issuing/cards",
             false,
             [this](const Net::HttpRequest &, const QByteArray &, const Stripe::FormFields &p) {
                 return listCards(p);
             });
    addRoute("POST",
             "/v1/issuing/cards",
             false,
             [this](const Net::HttpRequest &, const QByteArray &, const Stripe::FormFields &p) {
                 return createCardRoute(p);
             });
    addRoute("GET",
             "/v1/issuing/cards/",
             true,
             [this](const Net::HttpRequest &, const QByteArray &id, const Stripe::FormFields &) {
                 return retrieveCard(id);
             });
    addRoute("POST",
             "/v1/issuing/cards/",
             true,
             [this](const Net::HttpRequest &, const QByteArray &id, const Stripe::FormFields &p) {
                 return updateCard(id, p);
             });
    addRoute("GET",
             "/v1/issuing/cardholders",
             false,
             [this](const Net::HttpRequest &, const QByteArray &, const Stripe::FormFields &p) {
                 return listCardholders(p);
             });
    addRoute("POST",
             "/v1/issuing/cardholders",
             false,
             [this](const Net::HttpRequest &, const QByteArray &, const Stripe::FormFields &p) {
                 return createCardholderRoute(p);
             });
    addRoute("GET",
             "/v1/issuing/cardholders/",
             true,
             [this](const Net::HttpRequest &, const QByteArray &id, const Stripe::FormFields &) {
                 return retrieveCardholder(id);
             });
    addRoute("POST",
             "/v1/issuing/cardholders/",
             true,
             [this](const Net::HttpRequest &, const QByteArray &id, const Stripe::FormFields &p) {
                 return updateCardholder(id, p);
             });
    addRoute("GET",
             "/v1/issuing/authorizations",
             false,
             [this](const Net::HttpRequest &, const QByteArray &, const Stripe::FormFields &p) {
                 return listAuthorizations(p);
             });
    addRoute("GET",
             "/v1/issuing/authorizations/",
             true,
             [this](const Net::HttpRequest &, const QByteArray &id, const Stripe::FormFields &) {
                 return retrieveAuthorization(id);
             });
    addRoute("POST",
             "/v1/test_helpers/issuing/authorizations",
             false,
             [this](const Net::HttpRequest &, const QByteArray &, const Stripe::FormFields &p) {
                 return createTestAuthorization(p);
             });
    m_server->setErrorPage([](const Net::HttpRequest &head, int status, const QString &reason) {
        const QString message
            = status == 404 || status == 405
                  ? QStringLiteral("Unrecognized request URL (%1: %2).")
                        .arg(QString::fromLatin1(head.method), QString::fromLatin1(head.path))
                  : reason;
        return json(
            Answer{status == 405 ? 404 : status,
                   bytes(errorObject(QStringLiteral("invalid_request_error"), {}, message))});
    });
}

StripeFake::~StripeFake() = default;

Result<void> StripeFake::listen()
{
    if (m_faults->isDown()) {
        // A port nobody listens on: bind one, note it, let it go.
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHost, 0))
            return makeError(
                Error::Kind::Unavailable,
                QStringLiteral("stripe fake: cannot pick a port: %1").arg(probe.errorString()),
                QStringLiteral("stripe fake"));
        m_port = probe.serverPort();
        return {};
    }
    auto r = m_server->listen(QHostAddress(QHostAddress::LocalHost), 0);
    if (!r)
        return r;
    m_port = m_server->port();
    qCInfo(lcSandbox) << "stripe fake listening on" << baseUrl().toString();
    return {};
}

QUrl StripeFake::baseUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
}

QByteArray StripeFake::newId(const char *prefix)
{
    ++m_seq;
    return QByteArray(prefix) + "1Brk" + randomAlnum(20);
}

Net::HttpResponse StripeFake::json(const Answer &answer)
{
    return Net::HttpResponse::make(
        answer.status, QByteArrayLiteral("application/json"), answer.body);
}

void StripeFake::addRoute(const QByteArray &method,
                          const QByteArray &path,
                          bool prefix,
                          Route route)
{
    auto handler
        = [this, path, prefix, route](Net::HttpRequest request, Net::HttpResponder responder) {
              handle(request, responder, path, prefix, route);
          };
    auto error = [] {
        return json(Answer{500,
                           bytes(errorObject(QStringLiteral("api_error"),
                                             {},
                                             QStringLiteral("An unknown error occurred "
                                                            "(sandbox fault: error).")))});
    };
    auto wrapped = m_faults->wrap(std::move(handler), std::move(error));
    if (prefix)
        m_server->routePrefix(method, path, std::move(wrapped));
    else
        m_server->route(method, path, std::move(wrapped));
}

bool StripeFake::rateLimited()
{
    if (m_ratePerSecond <= 0)
        return false;
    const qint64 now = m_clock.elapsed();
    while (!m_window.empty() && m_window.front() <= now - 1000)
        m_window.pop_front();
    if (int(m_window.size()) >= m_ratePerSecond)
        return true; // a refused request does not count against the window
    m_window.push_back(now);
    return false;
}

void StripeFake::failNext(int count, int status, const QByteArray &retryAfter)
{
    m_failCount = count;
    m_failStatus = status;
    m_failRetryAfter = retryAfter;
}

void StripeFake::handle(const Net::HttpRequest &request,
                        Net::HttpResponder &responder,
                        const QByteArray &prefix,
                        bool prefixed,
                        const Route &route)
{
    ++m_requests;
    auto send = [&](const Answer &answer, Net::HttpHeaders extra = {}) {
        Net::HttpResponse response = json(answer);
        response.headers.set("Request-Id", "req_" + randomAlnum(14));
        const QByteArray version = request.header("Stripe-Version");
        response.headers.set("Stripe-Version",
                             version.isEmpty() ? QByteArray(Stripe::kDefaultApiVersion) : version);
        for (const auto &[name, value] : extra.entries())
            response.headers.set(name, value);
        responder.respond(std::move(response));
    };

    // The key. Stripe masks all but the end of a wrong key in its message; so does the fake.
    const QByteArray authorization = request.header("Authorization");
    if (!authorization.startsWith("Bearer ") || authorization.mid(7).trimmed().isEmpty()) {
        send({401,
              bytes(
                  errorObject(QStringLiteral("invalid_request_error"),
                              {},
                              QStringLiteral("You did not provide an API key. Provide it "
                                             "in the Authorization header, using Bearer auth "
                                             "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")))});
        return;
    }
    const QByteArray presented = authorization.mid(7).trimmed();
    if (presented != m_apiKey) {
        const QByteArray masked = presented.left(8)
                                  + QByteArray(std::max<qsizetype>(0, presented.size() - 12), '*')
                                  + presented.right(4);
        send({401,
              bytes(errorObject(
                  QStringLiteral("invalid_request_error"),
                  {},
                  QStringLiteral("Invalid API Key provided: %1")
                      .arg(QString::fromLatin1(presented.size() > 12 ? masked : "****"))))});
        return;
    }
    if (rateLimited()) {
        ++m_rateLimited;
        Net::HttpHeaders extra;
        extra.set("Stripe-Should-Retry", "true");
        extra.set("Retry-After", "1");
        send({429,
              bytes(errorObject(
                  QStringLiteral("invalid_request_error"),
                  QStringLiteral("rate_limit"),
                  QStringLiteral("Request rate limit exceeded. Learn more about "
                                 "rate limits at https://stripe.com/docs/rate-limits.")))},
             extra);
        return;
    }
    const QByteArray key = request.header("Idempotency-Key");
    const bool post = request.method == "POST";
    if (post && !key.isEmpty()) {
        if (m_keysSeen.size() >= 1000) // the last ones only: the sandbox runs for hours
            m_keysSeen.removeFirst();
        m_keysSeen << key;
    }
    if (m_failCount > 0) {
        --m_failCount;
        Net::HttpHeaders extra;
        if (!m_failRetryAfter.isEmpty())
            extra.set("Retry-After", m_failRetryAfter);
        if (m_failStatus == 429) {
            extra.set("Stripe-Should-Retry", "true");
            send({429,
                  bytes(errorObject(QStringLiteral("invalid_request_error"),
                                    QStringLiteral("rate_limit"),
                                    QStringLiteral("Request rate limit exceeded.")))},
                 extra);
        } else {
            send({m_failStatus,
                  bytes(errorObject(QStringLiteral("api_error"),
                                    {},
                                    QStringLiteral("An unknown error occurred "
                                                   "(scripted).")))},
                 extra);
        }
        return;
    }

    auto params
        = Stripe::decodeForm(post ? QByteArrayView(request.body) : QByteArrayView(request.query));
    if (!params) {
        send({400,
              bytes(errorObject(
                  QStringLiteral("invalid_request_error"), {}, params.error().message))});
        return;
    }
    QByteArray id;
    if (prefixed) {
        id = QByteArray::fromPercentEncoding(request.path.mid(prefix.size()));
        if (id.isEmpty() || id.contains('/')) {
            send({404,
                  bytes(errorObject(QStringLiteral("invalid_request_error"),
                                    {},
                                    QStringLiteral("Unrecognized request URL (%1: %2).")
                                        .arg(QString::fromLatin1(request.method),
                                             QString::fromLatin1(request.path))))});
            return;
        }
    }

    QByteArray fingerprint;
    if (post && !key.isEmpty()) {
        Stripe::FormFields sorted = *params;
        std::sort(sorted.begin(), sorted.end());
        fingerprint = request.method + ' ' + request.path + '?' + Stripe::encodeForm(sorted);
        const auto saved = m_idempotency.constFind(key);
        if (saved != m_idempotency.constEnd()) {
            if (saved->fingerprint == fingerprint) {
                Net::HttpHeaders extra;
                extra.set("Idempotent-Replayed", "true");
                extra.set("Idempotency-Key", key);
                send(saved->answer, extra);
            } else {
                send({400,
                      bytes(errorObject(
                          QStringLiteral("idempotency_error"),
                          {},
                          QStringLiteral("Keys for idempotent requests can only be used with "
                                         "the same parameters they were first used with. Try "
                                         "using a key other than '%1' if you meant to execute "
                                         "a different request.")
                              .arg(QString::fromLatin1(key))))});
            }
            return;
        }
    }
    const Answer answer = route(request, id, *params);
    Net::HttpHeaders extra;
    if (post && !key.isEmpty()) {
        extra.set("Idempotency-Key", key);
        if (answer.status / 100 == 2) {
            m_idempotency.insert(key, Saved{fingerprint, answer});
            ++m_applied[key];
        }
    }
    send(answer, extra);
}

// ---- Objects -------------------------------------------------------------------------------

QByteArray StripeFake::createCardholder(const QString &name)
{
    const QByteArray id = newId("ich_");
    QJsonObject holder{
        {QStringLiteral("id"), QString::fromLatin1(id)},
        {QStringLiteral("object"), QStringLiteral("issuing.cardholder")},
        {QStringLiteral("billing"),
         QJsonObject{{QStringLiteral("address"),
                      QJsonObject{{QStringLiteral("city"), QStringLiteral("San Francisco")},
                                  {QStringLiteral("country"), QStringLiteral("US")},
                                  {QStringLiteral("line1"), QStringLiteral("1 Sandbox Street")},
                                  {QStringLiteral("line2"), QJsonValue::Null},
                                  {QStringLiteral("postal_code"), QStringLiteral("94111")},
                                  {QStringLiteral("state"), QStringLiteral("CA")}}}}},
        {QStringLiteral("company"), QJsonValue::Null},
        {QStringLiteral("created"), nowUnix()},
        {QStringLiteral("email"), QJsonValue::Null},
        {QStringLiteral("individual"), QJsonValue::Null},
        {QStringLiteral("livemode"), false},
        {QStringLiteral("metadata"), QJsonObject()},
        {QStringLiteral("name"), name},
        {QStringLiteral("phone_number"), QJsonValue::Null},
        {QStringLiteral("requirements"),
         QJsonObject{{QStringLiteral("disabled_reason"), QJsonValue::Null},
                     {QStringLiteral("past_due"), QJsonArray()}}},
        {QStringLiteral("spending_controls"), emptySpendingControls()},
        {QStringLiteral("status"), QStringLiteral("active")},
        {QStringLiteral("type"), QStringLiteral("individual")},
    };
    m_cardholders.insert(id, holder);
    m_order.insert(id, m_seq);
    return id;
}

QByteArray StripeFake::createCard(const QByteArray &cardholderId, const QString &currency)
{
    const QByteArray id = newId("ic_");
    const QDate expiry = QDate::currentDate().addYears(3);
    QJsonObject card{
        {QStringLiteral("id"), QString::fromLatin1(id)},
        {QStringLiteral("object"), QStringLiteral("issuing.card")},
        {QStringLiteral("brand"), QStringLiteral("Visa")},
        {QStringLiteral("cancellation_reason"), QJsonValue::Null},
        {QStringLiteral("cardholder"), QString::fromLatin1(cardholderId)},
        {QStringLiteral("created"), nowUnix()},
        {QStringLiteral("currency"), currency.toLower()},
        {QStringLiteral("exp_month"), expiry.month()},
        {QStringLiteral("exp_year"), expiry.year()},
        {QStringLiteral("last4"),
         QStringLiteral("%1").arg(
             QRandomGenerator::global()->bounded(10000), 4, 10, QLatin1Char('0'))},
        {QStringLiteral("livemode"), false},
        {QStringLiteral("metadata"), QJsonObject()},
        {QStringLiteral("replaced_by"), QJsonValue::Null},
        {QStringLiteral("replacement_for"), QJsonValue::Null},
        {QStringLiteral("replacement_reason"), QJsonValue::Null},
        {QStringLiteral("shipping"), QJsonValue::Null},
        {QStringLiteral("spending_controls"), emptySpendingControls()},
        {QStringLiteral("status"), QStringLiteral("active")},
        {QStringLiteral("type"), QStringLiteral("virtual")},
        {QStringLiteral("wallets"),
         QJsonObject{{QStringLiteral("apple_pay"),
                      QJsonObject{{QStringLiteral("eligible"), false},
                                  {QStringLiteral("ineligible_reason"),
                                   QStringLiteral("missing_cardholder_contact")}}},
                     {QStringLiteral("google_pay"),
                      QJsonObject{{QStringLiteral("eligible"), false},
                                  {QStringLiteral("ineligible_reason"),
                                   QStringLiteral("missing_cardholder_contact")}}},
                     {QStringLiteral("primary_account_identifier"), QJsonValue::Null}}},
    };
    m_cards.insert(id, card);
    m_order.insert(id, m_seq);
    return id;
}

void StripeFake::setCardStatus(const QByteArray &cardId, const QString &status)
{
    if (m_cards.contains(cardId))
        m_cards[cardId].insert(QStringLiteral("status"), status);
}

void StripeFake::setCardholderStatus(const QByteArray &cardholderId, const QString &status)
{
    if (m_cardholders.contains(cardholderId))
        m_cardholders[cardholderId].insert(QStringLiteral("status"), status);
}

std::optional<QJsonObject> StripeFake::card(const QByteArray &cardId) const
{
    if (!m_cards.contains(cardId))
        return std::nullopt;
    return expandedCard(cardId);
}

QJsonObject StripeFake::expandedCard(const QByteArray &id) const
{
    QJsonObject card = m_cards.value(id);
    // Stripe always expands the cardholder on a card.
    card.insert(QStringLiteral("cardholder"),
                m_cardholders.value(card.value(QStringLiteral("cardholder")).toString().toUtf8()));
    return card;
}

QJsonObject StripeFake::expandedAuthorization(const Authorization &a) const
{
    QJsonObject out = a.object;
    out.insert(QStringLiteral("card"), expandedCard(a.card));
    return out;
}

namespace {

Answer missing(const char *what, const QByteArray &id, const QString &param = QStringLiteral("id"))
{
    return {404,
            bytes(errorObject(
                QStringLiteral("invalid_request_error"),
                QStringLiteral("resource_missing"),
                QStringLiteral("No such %1: '%2'").arg(QLatin1String(what), QString::fromUtf8(id)),
                param))};
}

Answer badParam(const QString &message, const QString &param)
{
    return {400,
            bytes(errorObject(QStringLiteral("invalid_request_error"),
                              QStringLiteral("parameter_invalid"),
                              message,
                              param))};
}

Answer unknown(const QString &param)
{
    return {400,
            bytes(errorObject(QStringLiteral("invalid_request_error"),
                              QStringLiteral("parameter_unknown"),
                              QStringLiteral("Received unknown parameter: %1").arg(param),
                              param))};
}

// Reads limit, starting_after, ending_before and created[...] of a list request.
struct ListQuery
{
    int limit = 10;
    QByteArray startingAfter;
    QByteArray endingBefore;
    std::optional<qint64> gte, gt, lte, lt;
    bool matchesCreated(qint64 created) const
    {
        return (!gte || created >= *gte) && (!gt || created > *gt) && (!lte || created <= *lte)
               && (!lt || created < *lt);
    }
};

std::optional<Answer> readListQuery(const Stripe::FormFields &params, ListQuery &q)
{
    for (const auto &[key, value] : params) {
        bool ok = true;
        if (key == "limit") {
            q.limit = value.toInt(&ok);
            if (!ok)
                return badParam(QStringLiteral("Invalid integer: %1").arg(value),
                                QStringLiteral("limit"));
            if (q.limit < 1 || q.limit > 100)
                return badParam(QStringLiteral("This value must be between 1 and 100."),
                                QStringLiteral("limit"));
        } else if (key == "starting_after") {
            q.startingAfter = value.toUtf8();
        } else if (key == "ending_before") {
            q.endingBefore = value.toUtf8();
        } else if (key == "created" || key.startsWith("created[")) {
            const qint64 t = value.toLongLong(&ok);
            if (!ok)
                return badParam(QStringLiteral("Invalid integer: %1").arg(value),
                                QString::fromUtf8(key));
            if (key == "created")
                q.gte = q.lte = t;
            else if (key == "created[gte]")
                q.gte = t;
            else if (key == "created[gt]")
                q.gt = t;
            else if (key == "created[lte]")
                q.lte = t;
            else if (key == "created[lt]")
                q.lt = t;
            else
                return unknown(QString::fromUtf8(key));
        }
    }
    return std::nullopt;
}

// Pages `items` (newest first: descending seq) by the query.
Answer pageOf(const QList<std::pair<qint64, QJsonObject>> &newestFirst,
              const ListQuery &q,
              const QHash<QByteArray, qint64> &order,
              const char *what,
              const QString &url)
{
    qsizetype begin = 0;
    qsizetype end = newestFirst.size();
    if (!q.startingAfter.isEmpty()) {
        if (!order.contains(q.startingAfter))
            return missing(what, q.startingAfter, QStringLiteral("starting_after"));
        const qint64 seq = order.value(q.startingAfter);
        while (begin < end && newestFirst[begin].first >= seq)
            ++begin;
    } else if (!q.endingBefore.isEmpty()) {
        if (!order.contains(q.endingBefore))
            return missing(what, q.endingBefore, QStringLiteral("ending_before"));
        const qint64 seq = order.value(q.endingBefore);
        end = 0;
        while (end < newestFirst.size() && newestFirst[end].first > seq)
            ++end;
        begin = std::max<qsizetype>(0, end - q.limit);
    }
    QJsonArray data;
    for (qsizetype i = begin; i < end && data.size() < q.limit; ++i)
        data.append(newestFirst[i].second);
    const bool hasMore = q.endingBefore.isEmpty() ? begin + data.size() < end : begin > 0;
    return {200,
            bytes(QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                              {QStringLiteral("data"), data},
                              {QStringLiteral("has_more"), hasMore},
                              {QStringLiteral("url"), url}})};
}

} // namespace

StripeFake::Answer StripeFake::listCards(const Stripe::FormFields &params) const
{
    if (auto u = unknownParam(params,
                              {QStringLiteral("cardholder"),
                               QStringLiteral("status"),
                               QStringLiteral("type"),
                               QStringLiteral("last4"),
                               QStringLiteral("exp_month"),
                               QStringLiteral("exp_year"),
                               QStringLiteral("created"),
                               QStringLiteral("limit"),
                               QStringLiteral("starting_after"),
                               QStringLiteral("ending_before"),
                               QStringLiteral("expand")}))
        return unknown(*u);
    ListQuery q;
    if (auto bad = readListQuery(params, q))
        return {bad->status, bad->body};
    const auto cardholder = Stripe::formValue(params, "cardholder");
    const auto status = Stripe::formValue(params, "status");
    const auto type = Stripe::formValue(params, "type");
    const auto last4 = Stripe::formValue(params, "last4");
    QList<std::pair<qint64, QJsonObject>> items;
    for (auto it = m_cards.begin(); it != m_cards.end(); ++it) {
        const QJsonObject &c = it.value();
        auto is = [&](const char *field, const std::optional<QString> &want) {
            return !want || c.value(QLatin1String(field)).toString() == *want;
        };
        if (is("cardholder", cardholder) && is("status", status) && is("type", type)
            && is("last4", last4)
            && q.matchesCreated(qint64(c.value(QStringLiteral("created")).toDouble())))
            items.append({m_order.value(it.key()), expandedCard(it.key())});
    }
    std::sort(
        items.begin(), items.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    const Answer a = pageOf(items, q, m_order, "issuing card", QStringLiteral("/v1/issuing/cards"));
    return {a.status, a.body};
}

StripeFake::Answer StripeFake::retrieveCard(const QByteArray &id) const
{
    if (!m_cards.contains(id)) {
        const Answer a = missing("issuing card", id);
        return {a.status, a.body};
    }
    return {200, bytes(expandedCard(id))};
}

StripeFake::Answer StripeFake::createCardRoute(const Stripe::FormFields &params)
{
    if (auto u = unknownParam(params,
                              {QStringLiteral("cardholder"),
                               QStringLiteral("currency"),
                               QStringLiteral("type"),
                               QStringLiteral("status"),
                               QStringLiteral("metadata"),
                               QStringLiteral("spending_controls"),
                               QStringLiteral("expand")}))
        return unknown(*u);
    const QByteArray holder = Stripe::formValue(params, "cardholder").value_or(QString()).toUtf8();
    const QString currency = Stripe::formValue(params, "currency").value_or(QString());
    const QString type = Stripe::formValue(params, "type").value_or(QString());
    if (holder.isEmpty())
        return badParam(QStringLiteral("Missing required param: cardholder."),
                        QStringLiteral("cardholder"));
    if (currency.isEmpty())
        return badParam(QStringLiteral("Missing required param: currency."),
                        QStringLiteral("currency"));
    if (type != QLatin1String("virtual") && type != QLatin1String("physical"))
        return badParam(QStringLiteral("Invalid type: must be one of virtual or physical"),
                        QStringLiteral("type"));
    if (!m_cardholders.contains(holder))
        return missing("issuing cardholder", holder, QStringLiteral("cardholder"));
    const QString status = Stripe::formValue(params, "status").value_or(QStringLiteral("inactive"));
    if (status != QLatin1String("active") && status != QLatin1String("inactive"))
        return badParam(QStringLiteral("Invalid status: must be one of active or inactive"),
                        QStringLiteral("status"));
    QJsonObject card = m_cards.value(createCard(holder, currency));
    const QByteArray id = card.value(QStringLiteral("id")).toString().toUtf8();
    card.insert(QStringLiteral("type"), type);
    card.insert(QStringLiteral("status"), status);
    QJsonObject controls = card.value(QStringLiteral("spending_controls")).toObject();
    if (auto e = applySpendingControls(controls, params); e)
        return badParam(e->message, e->param); // the card stays created; tolerable in a fake
    card.insert(QStringLiteral("spending_controls"), controls);
    if (auto e = applyMetadata(card, params); e)
        return badParam(e->message, e->param);
    m_cards.insert(id, card);
    return {200, bytes(expandedCard(id))};
}

StripeFake::Answer StripeFake::updateCard(const QByteArray &id, const Stripe::FormFields &params)
{
    if (!m_cards.contains(id))
        return missing("issuing card", id);
    if (auto u = unknownParam(params,
                              {QStringLiteral("status"),
                               QStringLiteral("cancellation_reason"),
                               QStringLiteral("metadata"),
                               QStringLiteral("spending_controls"),
                               QStringLiteral("expand"),
                               QStringLiteral("pin"),
                               QStringLiteral("shipping")}))
        return unknown(*u);
    QJsonObject card = m_cards.value(id);
    const QString current = card.value(QStringLiteral("status")).toString();
    if (const auto status = Stripe::formValue(params, "status")) {
        static const QStringList statuses
            = {QStringLiteral("active"), QStringLiteral("inactive"), QStringLiteral("canceled")};
        if (!statuses.contains(*status))
            return badParam(
                QStringLiteral("Invalid status: must be one of active, inactive, or canceled"),
                QStringLiteral("status"));
        // inactive ⇄ active → canceled (final).
        if (current == QLatin1String("canceled") && *status != current)
            return {400,
                    bytes(errorObject(QStringLiteral("invalid_request_error"),
                                      {},
                                      QStringLiteral("Canceled cards cannot be reactivated "
                                                     "or changed."),
                                      QStringLiteral("status")))};
        card.insert(QStringLiteral("status"), *status);
        if (*status == QLatin1String("canceled"))
            card.insert(QStringLiteral("cancellation_reason"),
                        Stripe::formValue(params, "cancellation_reason")
                            ? QJsonValue(*Stripe::formValue(params, "cancellation_reason"))
                            : QJsonValue(QJsonValue::Null));
    } else if (current == QLatin1String("canceled")) {
        return {400,
                bytes(errorObject(QStringLiteral("invalid_request_error"),
                                  {},
                                  QStringLiteral("Canceled cards cannot be changed.")))};
    }
    QJsonObject controls = card.value(QStringLiteral("spending_controls")).toObject();
    if (auto e = applySpendingControls(controls, params); e)
        return badParam(e->message, e->param);
    card.insert(QStringLiteral("spending_controls"), controls);
    if (auto e = applyMetadata(card, params); e)
        return badParam(e->message, e->param);
    m_cards.insert(id, card);
    return {200, bytes(expandedCard(id))};
}

StripeFake::Answer StripeFake::listCardholders(const Stripe::FormFields &params) const
{
    if (auto u = unknownParam(params,
                              {QStringLiteral("status"),
                               QStringLiteral("type"),
                               QStringLiteral("email"),
                               QStringLiteral("phone_number"),
                               QStringLiteral("created"),
                               QStringLiteral("limit"),
                               QStringLiteral("starting_after"),
                               QStringLiteral("ending_before"),
                               QStringLiteral("expand")}))
        return unknown(*u);
    ListQuery q;
    if (auto bad = readListQuery(params, q))
        return {bad->status, bad->body};
    const auto status = Stripe::formValue(params, "status");
    QList<std::pair<qint64, QJsonObject>> items;
    for (auto it = m_cardholders.begin(); it != m_cardholders.end(); ++it)
        if ((!status || it.value().value(QStringLiteral("status")).toString() == *status)
            && q.matchesCreated(qint64(it.value().value(QStringLiteral("created")).toDouble())))
            items.append({m_order.value(it.key()), it.value()});
    std::sort(
        items.begin(), items.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    const Answer a = pageOf(
        items, q, m_order, "issuing cardholder", QStringLiteral("/v1/issuing/cardholders"));
    return {a.status, a.body};
}

StripeFake::Answer StripeFake::retrieveCardholder(const QByteArray &id) const
{
    if (!m_cardholders.contains(id)) {
        const Answer a = missing("issuing cardholder", id);
        return {a.status, a.body};
    }
    return {200, bytes(m_cardholders.value(id))};
}

StripeFake::Answer StripeFake::createCardholderRoute(const Stripe::FormFields &params)
{
    const QString name = Stripe::formValue(params, "name").value_or(QString());
    if (name.isEmpty())
        return badParam(QStringLiteral("Missing required param: name."), QStringLiteral("name"));
    const QByteArray id = createCardholder(name);
    QJsonObject holder = m_cardholders.value(id);
    if (auto e = applyMetadata(holder, params); e)
        return badParam(e->message, e->param);
    m_cardholders.insert(id, holder);
    return {200, bytes(holder)};
}

StripeFake::Answer StripeFake::updateCardholder(const QByteArray &id,
                                                const Stripe::FormFields &params)
{
    if (!m_cardholders.contains(id))
        return missing("issuing cardholder", id);
    if (auto u = unknownParam(params,
                              {QStringLiteral("status"),
                               QStringLiteral("metadata"),
                               QStringLiteral("spending_controls"),
                               QStringLiteral("expand"),
                               QStringLiteral("email"),
                               QStringLiteral("phone_number")}))
        return unknown(*u);
    QJsonObject holder = m_cardholders.value(id);
    if (const auto status = Stripe::formValue(params, "status")) {
        // Only active and inactive can be set; Stripe sets blocked.
        if (*status != QLatin1String("active") && *status != QLatin1String("inactive"))
            return badParam(QStringLiteral("Invalid status: must be one of active or inactive"),
                            QStringLiteral("status"));
        holder.insert(QStringLiteral("status"), *status);
    }
    QJsonObject controls = holder.value(QStringLiteral("spending_controls")).toObject();
    if (auto e = applySpendingControls(controls, params); e)
        return badParam(e->message, e->param);
    holder.insert(QStringLiteral("spending_controls"), controls);
    if (auto e = applyMetadata(holder, params); e)
        return badParam(e->message, e->param);
    m_cardholders.insert(id, holder);
    return {200, bytes(holder)};
}

StripeFake::Answer StripeFake::listAuthorizations(const Stripe::FormFields &params) const
{
    if (auto u = unknownParam(params,
                              {QStringLiteral("card"),
                               QStringLiteral("cardholder"),
                               QStringLiteral("status"),
                               QStringLiteral("created"),
                               QStringLiteral("limit"),
                               QStringLiteral("starting_after"),
                               QStringLiteral("ending_before"),
                               QStringLiteral("expand")}))
        return unknown(*u);
    ListQuery q;
    if (auto bad = readListQuery(params, q))
        return {bad->status, bad->body};
    const auto card = Stripe::formValue(params, "card");
    const auto holder = Stripe::formValue(params, "cardholder");
    const auto status = Stripe::formValue(params, "status");
    QList<std::pair<qint64, QJsonObject>> items;
    for (const Authorization &a : m_authorizations) {
        if ((card && a.card != card->toUtf8()) || (holder && a.cardholder != holder->toUtf8())
            || (status && a.object.value(QStringLiteral("status")).toString() != *status)
            || !q.matchesCreated(qint64(a.object.value(QStringLiteral("created")).toDouble())))
            continue;
        items.append({a.seq, expandedAuthorization(a)});
    }
    std::sort(
        items.begin(), items.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    const Answer a = pageOf(
        items, q, m_order, "issuing authorization", QStringLiteral("/v1/issuing/authorizations"));
    return {a.status, a.body};
}

StripeFake::Answer StripeFake::retrieveAuthorization(const QByteArray &id) const
{
    for (const Authorization &a : m_authorizations)
        if (a.object.value(QStringLiteral("id")).toString().toUtf8() == id)
            return {200, bytes(expandedAuthorization(a))};
    const Answer a = missing("issuing authorization", id);
    return {a.status, a.body};
}

std::optional<QString> StripeFake::declineReason(const QJsonObject &card,
                                                 const QJsonObject &holder,
                                                 qint64 amount,
                                                 const QString &category) const
{
    const QString cardStatus = card.value(QStringLiteral("status")).toString();
    if (cardStatus == QLatin1String("canceled"))
        return QStringLiteral("card_canceled");
    if (cardStatus == QLatin1String("inactive"))
        return QStringLiteral("card_inactive");
    const QString holderStatus = holder.value(QStringLiteral("status")).toString();
    if (holderStatus == QLatin1String("inactive"))
        return QStringLiteral("cardholder_inactive");
    if (holderStatus == QLatin1String("blocked"))
        return QStringLiteral("cardholder_blocked");
    const qint64 now = nowUnix();
    const auto forbids = [&](const QJsonObject &owner, bool isCard) {
        const QJsonObject sc = owner.value(QStringLiteral("spending_controls")).toObject();
        const QJsonValue allowed = sc.value(QStringLiteral("allowed_categories"));
        if (allowed.isArray() && !allowed.toArray().contains(category))
            return true;
        if (sc.value(QStringLiteral("blocked_categories")).toArray().contains(category))
            return true;
        const QString ownerId = owner.value(QStringLiteral("id")).toString();
        const QJsonArray limits = sc.value(QStringLiteral("spending_limits")).toArray();
        for (const QJsonValue &v : limits) {
            const QJsonObject l = v.toObject();
            const QJsonValue cats = l.value(QStringLiteral("categories"));
            if (cats.isArray() && !cats.toArray().isEmpty() && !cats.toArray().contains(category))
                continue;
            const qint64 limit = qint64(l.value(QStringLiteral("amount")).toDouble());
            const QString interval = l.value(QStringLiteral("interval")).toString();
            qint64 spent = 0;
            if (interval != QLatin1String("per_authorization")) {
                const qint64 window = intervalSeconds(interval);
                for (const Authorization &a : m_authorizations) {
                    if (!a.object.value(QStringLiteral("approved")).toBool())
                        continue;
                    if ((isCard ? a.card : a.cardholder) != ownerId.toUtf8())
                        continue;
                    if (window > 0
                        && qint64(a.object.value(QStringLiteral("created")).toDouble())
                               < now - window)
                        continue;
                    spent += qint64(a.object.value(QStringLiteral("amount")).toDouble());
                }
            }
            if (spent + amount > limit)
                return true;
        }
        return false;
    };
    if (forbids(card, true) || forbids(holder, false))
        return QStringLiteral("spending_controls");
    return std::nullopt;
}

StripeFake::Answer StripeFake::createTestAuthorization(const Stripe::FormFields &params)
{
    const QByteArray cardId = Stripe::formValue(params, "card").value_or(QString()).toUtf8();
    if (cardId.isEmpty())
        return badParam(QStringLiteral("Missing required param: card."), QStringLiteral("card"));
    if (!m_cards.contains(cardId))
        return missing("issuing card", cardId, QStringLiteral("card"));
    const QJsonObject card = m_cards.value(cardId);
    const QByteArray holderId = card.value(QStringLiteral("cardholder")).toString().toUtf8();
    const QJsonObject holder = m_cardholders.value(holderId);
    bool ok = true;
    const qint64 amount
        = Stripe::formValue(params, "amount").value_or(QStringLiteral("1000")).toLongLong(&ok);
    if (!ok || amount <= 0)
        return badParam(QStringLiteral("Invalid positive integer"), QStringLiteral("amount"));
    const QString currency = Stripe::formValue(params, "currency")
                                 .value_or(card.value(QStringLiteral("currency")).toString());
    const QString category = Stripe::formValue(params, "merchant_data[category]")
                                 .value_or(QStringLiteral("computer_software_stores"));
    const bool controllable
        = Stripe::formValue(params, "is_amount_controllable") == QLatin1String("true");

    // Stripe declines on its own, before any webhook, when the card or holder is inactive or a
    // spending control forbids it (PROTOCOLS.md 3.5). Otherwise, with no endpoint, it approves.
    const std::optional<QString> decline = declineReason(card, holder, amount, category);
    const bool approved = !decline;
    const qint64 created = nowUnix();
    const QByteArray id = newId("iauth_");
    QJsonObject merchant{
        {QStringLiteral("category"), category},
        {QStringLiteral("category_code"), categoryCode(category)},
        {QStringLiteral("city"),
         Stripe::formValue(params, "merchant_data[city]")
             .value_or(QStringLiteral("San Francisco"))},
        {QStringLiteral("country"),
         Stripe::formValue(params, "merchant_data[country]").value_or(QStringLiteral("US"))},
        {QStringLiteral("name"),
         Stripe::formValue(params, "merchant_data[name]")
             .value_or(QStringLiteral("Sandbox Merchant"))},
        {QStringLiteral("network_id"), QStringLiteral("1234567890")},
        {QStringLiteral("postal_code"), QStringLiteral("94111")},
        {QStringLiteral("state"), QStringLiteral("CA")},
        {QStringLiteral("terminal_id"), QJsonValue::Null},
        {QStringLiteral("url"), QJsonValue::Null}};
    const QJsonObject amountDetails{{QStringLiteral("atm_fee"), QJsonValue::Null},
                                    {QStringLiteral("cashback_amount"), QJsonValue::Null}};
    QJsonObject request{
        {QStringLiteral("amount"), amount},
        {QStringLiteral("amount_details"), amountDetails},
        {QStringLiteral("approved"), approved},
        {QStringLiteral("authorization_code"),
         approved ? QJsonValue(QStringLiteral("S%1").arg(
             QRandomGenerator::global()->bounded(1000000), 6, 10, QLatin1Char('0')))
                  : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("created"), created},
        {QStringLiteral("currency"), currency},
        {QStringLiteral("merchant_amount"), amount},
        {QStringLiteral("merchant_currency"), currency},
        // card_active: approved with no webhook endpoint configured [?]
        {QStringLiteral("reason"), decline.value_or(QStringLiteral("card_active"))},
        {QStringLiteral("reason_message"), QJsonValue::Null},
        {QStringLiteral("requested_at"), created},
    };
    QJsonObject object{
        {QStringLiteral("id"), QString::fromLatin1(id)},
        {QStringLiteral("object"), QStringLiteral("issuing.authorization")},
        {QStringLiteral("amount"), approved ? amount : 0},
        {QStringLiteral("amount_details"), amountDetails},
        {QStringLiteral("approved"), approved},
        {QStringLiteral("authorization_method"),
         Stripe::formValue(params, "authorization_method").value_or(QStringLiteral("online"))},
        {QStringLiteral("balance_transactions"), QJsonArray()},
        {QStringLiteral("cardholder"), QString::fromLatin1(holderId)},
        {QStringLiteral("created"), created},
        {QStringLiteral("currency"), currency},
        {QStringLiteral("livemode"), false},
        {QStringLiteral("merchant_amount"), approved ? amount : 0},
        {QStringLiteral("merchant_currency"), currency},
        {QStringLiteral("merchant_data"), merchant},
        {QStringLiteral("metadata"), QJsonObject()},
        {QStringLiteral("pending_request"), QJsonValue::Null},
        {QStringLiteral("request_history"), QJsonArray{request}},
        {QStringLiteral("status"), approved ? QStringLiteral("pending") : QStringLiteral("closed")},
        {QStringLiteral("transactions"), QJsonArray()},
        {QStringLiteral("verification_data"),
         QJsonObject{{QStringLiteral("address_line1_check"), QStringLiteral("not_provided")},
                     {QStringLiteral("address_postal_code_check"), QStringLiteral("not_provided")},
                     {QStringLiteral("cvc_check"), QStringLiteral("match")},
                     {QStringLiteral("expiry_check"), QStringLiteral("match")}}},
        {QStringLiteral("wallet"), QJsonValue::Null},
    };
    Q_UNUSED(controllable);
    m_authorizations.push_back({object, cardId, holderId, m_seq});
    m_order.insert(id, m_seq);
    qCInfo(lcSandbox) << "stripe fake: authorization" << id << (approved ? "approved" : "declined")
                      << "on" << cardId << decline.value_or(QString());
    return {200, bytes(expandedAuthorization(m_authorizations.back()))};
}

} // namespace Breaker
