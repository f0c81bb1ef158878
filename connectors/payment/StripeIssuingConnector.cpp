#include "connectors/payment/StripeIssuingConnector.h"

#include "models/Logging.h"
#include "models/Profile.h"

#include <QCryptographicHash>
#include <QPointer>
#include <QRandomGenerator>
#include <QUuid>

#include <algorithm>
#include <cmath>

namespace Breaker {

namespace {

constexpr int kDefaultTimeoutMs = 10000;
constexpr int kMaxAttempts = 6;
constexpr int kListLimit = 100;
constexpr int kMaxVerifyPages = 10;         // 1,000 cards of one cardholder
constexpr int kMaxAuthorizationPages = 100; // 10,000 authorizations of one card since a stop
constexpr int kCheckLeaksDeadlineMs = 20000;
// Stripe allows 100 requests/s in live mode and 25/s in its sandbox (PROTOCOLS.md 3.1); stay
// under both with room for the operator's other tools on the same key.
constexpr double kLiveRate = 90;
constexpr double kTestRate = 20;

QString cardPath(const QByteArray &cardId)
{
    return QStringLiteral("/v1/issuing/cards/")
           + QString::fromLatin1(QUrl::toPercentEncoding(QString::fromUtf8(cardId)));
}

bool isLiveKey(const QByteArray &key)
{
    return key.startsWith("sk_live_") || key.startsWith("rk_live_");
}

Error::Kind kindForStatus(int status)
{
    if (status == 404)
        return Error::Kind::NotFound;
    if (status == 409)
        return Error::Kind::Conflict;
    if (status == 429 || status >= 500)
        return Error::Kind::Unavailable;
    return Error::Kind::Invalid;
}

} // namespace

struct StripeIssuingConnector::Batch
{
    LayerTarget target;
    bool freeze = true;
    LayerDone done;
    QElapsedTimer started;
    QDeadlineTimer actDeadline;
    QDeadlineTimer verifyDeadline;
    struct Row
    {
        StopLayerResult result;
        QByteArray card;
        QString cardholder; // from Stripe's answer to the POST
        bool accepted = false;
        std::optional<Error> postError;
        bool postErrorMayBeState = false; // a 400: the card may be canceled; read it to know
        bool settled = false;
        bool verifying = false;
    };
    std::vector<Row> rows;
    int pending = 0;
    bool finished = false;
};

StripeIssuingConnector::StripeIssuingConnector(const ProviderConfig &config,
                                               QByteArray apiKey,
                                               QObject *parent)
    : LayerConnector(parent)
    , m_provider(config.name.toUtf8())
    , m_providerName(config.name)
    , m_base(config.url.isEmpty() ? QUrl(QStringLiteral("https://api.stripe.com")) : config.url)
    , m_apiKey(std::move(apiKey))
    , m_stripeVersion(config.stripeVersion.isEmpty() ? QByteArray(Stripe::kDefaultApiVersion)
                                                     : config.stripeVersion.toUtf8())
{
    // PROTOCOLS.md writes the base as https://api.stripe.com/v1; paths here carry the /v1.
    QString basePath = m_base.path();
    while (basePath.endsWith(u'/'))
        basePath.chop(1);
    if (basePath.endsWith(QLatin1String("/v1")))
        basePath.chop(3);
    m_base.setPath(basePath);

    Net::ClientOptions options;
    options.connectionsPerHost = 24; // a global stop acts on many agents at once
    options.provider = config.name;
    options.timeoutMs = config.timeoutS ? int(*config.timeoutS * 1000) : kDefaultTimeoutMs;
    options.caFile = config.caFile;
    options.proxy = config.proxy;
    m_http = new Net::HttpClient(options, this);
    if (auto ca = m_http->loadCaFile(); !ca)
        qCWarning(lcNet) << ca.error().message;

    m_clock.start();
    m_pacer.setSingleShot(true);
    connect(&m_pacer, &QTimer::timeout, this, &StripeIssuingConnector::pump);
    setRequestRate(isLiveKey(m_apiKey) ? kLiveRate : kTestRate);
}

StripeIssuingConnector::~StripeIssuingConnector() = default;

void StripeIssuingConnector::setRequestRate(double perSecond)
{
    m_rate = std::max(0.0, perSecond);
    // A small bucket: over any one second at most rate + burst requests leave, which stays under
    // a limit counted per second even when Stripe counts in a sliding window.
    m_burst = std::max(1.0, std::floor(m_rate / 10));
    m_tokens = m_burst;
    m_lastRefillNs = m_clock.nsecsElapsed();
}

QByteArray StripeIssuingConnector::idempotencyKey(const QByteArray &operationKey,
                                                  const QByteArray &object,
                                                  const QByteArray &action)
{
    const QByteArray input = operationKey + '\n' + object + '\n' + action;
    const QByteArray digest = QCryptographicHash::hash(input, QCryptographicHash::Sha256);
    return "breaker-" + digest.toHex().left(40);
}

QUrl StripeIssuingConnector::urlFor(const QString &path, const QByteArray &query) const
{
    QUrl url = m_base;
    url.setPath(m_base.path() + path);
    if (!query.isEmpty())
        url.setQuery(QString::fromLatin1(query), QUrl::StrictMode);
    return url;
}

Error StripeIssuingConnector::withContext(Error e, const QString &what) const
{
    if (!e.message.startsWith(m_providerName))
        e.message = QStringLiteral("%1: %2").arg(m_providerName, e.message);
    e.message = QStringLiteral("%1 (%2)").arg(e.message, what);
    e.where = m_providerName;
    return e;
}

Error StripeIssuingConnector::stripeError(const Net::ClientReply &reply, const QString &what) const
{
    return makeError(kindForStatus(reply.status),
                     QStringLiteral("%1: %2 (%3)")
                         .arg(m_providerName,
                              Stripe::describeFailure(reply.status, reply.contentType, reply.body),
                              what),
                     m_providerName);
}

// ---- Requests: pacing and retries ----------------------------------------------------------

void StripeIssuingConnector::request(QByteArray method,
                                     const QString &path,
                                     QByteArray queryOrBody,
                                     QByteArray idempotencyKey,
                                     QDeadlineTimer deadline,
                                     JsonDone done)
{
    const bool post = method == "POST";
    const QString what = QStringLiteral("%1 %2").arg(QString::fromLatin1(method), path);
    auto call = std::make_shared<Call>();
    call->method = std::move(method);
    call->path = path;
    (post ? call->body : call->query) = std::move(queryOrBody);
    call->idempotencyKey = std::move(idempotencyKey);
    call->deadline = deadline;

    auto answered = std::make_shared<bool>(false);
    auto lastProblem = std::make_shared<QString>();
    QPointer<QTimer> guard = new QTimer(this);
    guard->setSingleShot(true);
    auto finish = [answered, guard, done](const Result<QByteArray> &r) {
        if (*answered)
            return;
        *answered = true;
        if (guard)
            guard->deleteLater();
        done(r);
    };
    // The deadline answers even when the request sits in the pacer or a retry wait, or Stripe
    // is silent: every call answers once, by its deadline.
    connect(guard, &QTimer::timeout, this, [this, finish, what, deadline, lastProblem] {
        QString message = QStringLiteral("%1: Stripe did not answer %2 within the deadline")
                              .arg(m_providerName, what);
        if (!lastProblem->isEmpty())
            message += QStringLiteral("; last answer: ") + *lastProblem;
        finish(makeError(Error::Kind::Timeout, message, m_providerName));
    });
    guard->start(std::max<qint64>(0, deadline.remainingTime()));

    std::weak_ptr<Call> weak = call;
    call->done
        = [this, weak, answered, finish, what, lastProblem](const Result<Net::ClientReply> &r) {
              auto self = weak.lock();
              if (*answered || !self)
                  return;
              bool retry = false;
              int delayMs = int(m_retryBaseMs * std::pow(2.0, self->attempt - 1)
                                * (0.75 + 0.25 * QRandomGenerator::global()->generateDouble()));
              if (!r) {
                  // Connection refused, reset or a per-request timeout: the request may not have
                  // reached Stripe; the idempotency key makes a retry of a POST safe.
                  retry = true;
                  *lastProblem = r.error().message;
              } else if (r->status / 100 != 2) {
                  const QByteArray shouldRetry = r->header("Stripe-Should-Retry");
                  const auto error = Stripe::parseError(r->status, r->body);
                  const bool idempotency = error && error->isIdempotencyError();
                  if (shouldRetry == "false" || idempotency)
                      retry = false;
                  else if (shouldRetry == "true")
                      retry = true;
                  else
                      retry = r->status == 429 || r->status >= 500 || r->status == 409;
                  bool ok = false;
                  const int retryAfterS = r->header("Retry-After").trimmed().toInt(&ok);
                  if (ok && retryAfterS >= 0)
                      delayMs = std::max(delayMs, retryAfterS * 1000);
                  *lastProblem = Stripe::describeFailure(r->status, r->contentType, r->body);
              }
              if (retry && self->attempt < kMaxAttempts
                  && self->deadline.remainingTime() > qint64(delayMs)) {
                  qCInfo(lcNet) << m_provider << what << "retry" << self->attempt << "in" << delayMs
                                << "ms:" << *lastProblem;
                  QTimer::singleShot(delayMs, this, [this, self] { enqueue(self); });
                  return;
              }
              if (!r) {
                  finish(withContext(r.error(), what));
                  return;
              }
              if (r->status / 100 != 2) {
                  finish(stripeError(*r, what));
                  return;
              }
              finish(r->body);
          };
    call->answered = answered; // the pacer skips calls answered by their deadline
    enqueue(call);
}

void StripeIssuingConnector::enqueue(std::shared_ptr<Call> call)
{
    m_queue.push_back(std::move(call));
    pump();
}

void StripeIssuingConnector::pump()
{
    const qint64 now = m_clock.nsecsElapsed();
    m_tokens = std::min(m_burst, m_tokens + double(now - m_lastRefillNs) * m_rate / 1e9);
    m_lastRefillNs = now;
    while (!m_queue.empty()) {
        std::shared_ptr<Call> call = m_queue.front();
        if (call->answered && *call->answered) { // answered by its deadline already
            m_queue.pop_front();
            continue;
        }
        if (m_rate > 0 && m_tokens < 1)
            break;
        if (m_rate > 0)
            m_tokens -= 1;
        m_queue.pop_front();
        send(std::move(call));
    }
    if (!m_queue.empty() && !m_pacer.isActive())
        m_pacer.start(std::max(1, int(std::ceil((1 - m_tokens) / m_rate * 1000))));
}

void StripeIssuingConnector::send(std::shared_ptr<Call> call)
{
    ++call->attempt;
    Net::HttpClient::Headers headers{
        {"Authorization", "Bearer " + m_apiKey},
        {"Stripe-Version", m_stripeVersion},
        {"Accept", "application/json"},
    };
    if (call->method == "POST") {
        headers.append(
            std::pair<QByteArray, QByteArray>("Content-Type", "application/x-www-form-urlencoded"));
        if (!call->idempotencyKey.isEmpty())
            headers.append(
                std::pair<QByteArray, QByteArray>("Idempotency-Key", call->idempotencyKey));
    }
    m_http->send(call->method,
                 urlFor(call->path, call->query),
                 headers,
                 call->body,
                 [call](const Result<Net::ClientReply> &r) {
                     if (call->done)
                         call->done(r);
                 });
}

// ---- contain / release -----------------------------------------------------------------------

void StripeIssuingConnector::contain(const LayerTarget &target,
                                     const LayerDeadlines &deadlines,
                                     LayerDone done)
{
    changeStatus(target, deadlines, true, std::move(done));
}

void StripeIssuingConnector::release(const LayerTarget &target,
                                     const LayerDeadlines &deadlines,
                                     LayerDone done)
{
    changeStatus(target, deadlines, false, std::move(done));
}

void StripeIssuingConnector::changeStatus(const LayerTarget &target,
                                          const LayerDeadlines &deadlines,
                                          bool freeze,
                                          LayerDone done)
{
    auto batch = std::make_shared<Batch>();
    batch->target = target;
    batch->freeze = freeze;
    batch->done = std::move(done);
    batch->started.start();
    batch->actDeadline = QDeadlineTimer(deadlines.actMs);
    batch->verifyDeadline = QDeadlineTimer(qint64(deadlines.actMs) + deadlines.verifyMs);
    const QByteArray action = freeze ? "freeze" : "unfreeze";
    if (target.cards.isEmpty()) {
        StopLayerResult row;
        row.layer = layer();
        row.agent = target.agent;
        row.run = target.run;
        row.provider = m_provider;
        row.target = "cards";
        row.action = action;
        row.outcome = LayerOutcome::SkippedNotConfigured;
        row.detail = QStringLiteral("the profile lists no cards for %1")
                         .arg(QString::fromUtf8(target.agent));
        batch->done({row});
        return;
    }
    // Without an operation key each call is its own action (a fresh key per call).
    const QByteArray operation = target.operationKey.isEmpty()
                                     ? QUuid::createUuid().toByteArray(QUuid::WithoutBraces)
                                     : target.operationKey;
    Stripe::FormFields form{
        {"status", freeze ? QStringLiteral("inactive") : QStringLiteral("active")}};
    // Marks who froze it (for a person looking at the Dashboard); an unfreeze unsets it.
    form.append({"metadata[frozen_by]", freeze ? QStringLiteral("breaker") : QString()});
    const QByteArray body = Stripe::encodeForm(form);

    for (const QString &cardText : target.cards) {
        Batch::Row row;
        row.card = cardText.toUtf8();
        row.result.layer = layer();
        row.result.agent = target.agent;
        row.result.run = target.run;
        row.result.provider = m_provider;
        row.result.target = "card " + row.card;
        row.result.action = action;
        batch->rows.push_back(std::move(row));
    }
    batch->pending = int(batch->rows.size());
    for (int i = 0; i < int(batch->rows.size()); ++i) {
        const QByteArray cardId = batch->rows[size_t(i)].card;
        request("POST",
                cardPath(cardId),
                body,
                idempotencyKey(operation, cardId, action),
                batch->actDeadline,
                [this, batch, i](const Result<QByteArray> &r) {
                    Batch::Row &row = batch->rows[size_t(i)];
                    if (r) {
                        auto card = Stripe::parseCard(*r);
                        if (card) {
                            row.accepted = true;
                            row.cardholder = card->cardholder;
                        } else {
                            row.postError = makeError(
                                Error::Kind::Invalid,
                                QStringLiteral("%1: Stripe answered the %2 with something that is "
                                               "not a card: %3 (%4)")
                                    .arg(m_providerName,
                                         QString::fromLatin1(row.result.action),
                                         card.error().message,
                                         Stripe::describeFailure(200, {}, *r)),
                                m_providerName);
                        }
                    } else {
                        row.postError = r.error();
                        // Stripe refuses some changes of a canceled card with a 400; reading the
                        // card tells whether that is why.
                        row.postErrorMayBeState
                            = r.error().kind == Error::Kind::Invalid
                              && r.error().message.contains(QLatin1String("[HTTP 400]"));
                    }
                    if (row.postError && !row.postErrorMayBeState) {
                        row.result.outcome = LayerOutcome::Failed;
                        row.result.detail = row.postError->message;
                        finishRow(batch, i);
                    }
                    if (--batch->pending == 0)
                        verifyBatch(batch);
                });
    }
}

void StripeIssuingConnector::verifyBatch(std::shared_ptr<Batch> batch)
{
    std::vector<int> toRead;
    for (int i = 0; i < int(batch->rows.size()); ++i)
        if (!batch->rows[size_t(i)].settled)
            toRead.push_back(i);
    if (toRead.empty()) {
        finishRow(batch, -1);
        return;
    }
    for (int i : toRead)
        batch->rows[size_t(i)].verifying = true;
    batch->pending = 0;
    if (toRead.size() == 1) {
        batch->pending = 1;
        verifyOne(batch, toRead.front());
        return;
    }
    // Several cards: read them in lists per cardholder (one request per 100 cards rather than
    // one per card), then one by one whatever the lists did not show.
    QStringList cardholders;
    for (int i : toRead) {
        const QString &holder = batch->rows[size_t(i)].cardholder;
        if (!holder.isEmpty() && !cardholders.contains(holder))
            cardholders << holder;
    }
    batch->pending = int(cardholders.size());
    for (int i : toRead)
        if (batch->rows[size_t(i)].cardholder.isEmpty()) {
            ++batch->pending;
            verifyOne(batch, i);
        }
    for (const QString &holder : std::as_const(cardholders))
        verifyByList(batch, holder, {}, kMaxVerifyPages);
}

void StripeIssuingConnector::verifyByList(std::shared_ptr<Batch> batch,
                                          const QString &cardholder,
                                          const QString &startingAfter,
                                          int pagesLeft)
{
    Stripe::FormFields query{{"cardholder", cardholder}, {"limit", QString::number(kListLimit)}};
    if (!startingAfter.isEmpty())
        query.append({"starting_after", startingAfter});
    request("GET",
            QStringLiteral("/v1/issuing/cards"),
            Stripe::encodeForm(query),
            {},
            batch->verifyDeadline,
            [this, batch, cardholder, pagesLeft](const Result<QByteArray> &r) {
                auto page = r ? Stripe::parseList(*r) : Result<Stripe::ListPage>(r.error());
                if (page) {
                    for (const QJsonObject &object : std::as_const(page->data)) {
                        auto card = Stripe::parseCard(object);
                        if (!card)
                            continue;
                        for (int i = 0; i < int(batch->rows.size()); ++i) {
                            const Batch::Row &row = batch->rows[size_t(i)];
                            if (!row.settled && row.verifying && row.card == card->id.toUtf8())
                                judge(batch, i, *card);
                        }
                    }
                    if (page->hasMore && pagesLeft > 1 && !page->lastId().isEmpty()) {
                        verifyByList(batch, cardholder, page->lastId(), pagesLeft - 1);
                        return;
                    }
                }
                // Whatever this cardholder's lists did not settle is read one by one (the
                // same deadline; an error reaches the row there).
                for (int i = 0; i < int(batch->rows.size()); ++i) {
                    Batch::Row &row = batch->rows[size_t(i)];
                    if (!row.settled && row.verifying && row.cardholder == cardholder) {
                        ++batch->pending;
                        verifyOne(batch, i);
                    }
                }
                if (--batch->pending == 0)
                    finishRow(batch, -1);
            });
}

void StripeIssuingConnector::verifyOne(std::shared_ptr<Batch> batch, int index)
{
    const QByteArray cardId = batch->rows[size_t(index)].card;
    request("GET",
            cardPath(cardId),
            {},
            {},
            batch->verifyDeadline,
            [this, batch, index](const Result<QByteArray> &r) {
                Result<Stripe::Card> card
                    = r ? Stripe::parseCard(*r) : Result<Stripe::Card>(r.error());
                if (r && !card)
                    card = makeError(Error::Kind::Invalid,
                                     QStringLiteral("%1: the read-back is not a card: %2 (%3)")
                                         .arg(m_providerName,
                                              card.error().message,
                                              Stripe::describeFailure(200, {}, *r)),
                                     m_providerName);
                if (!batch->rows[size_t(index)].settled)
                    judge(batch, index, card);
                if (--batch->pending == 0)
                    finishRow(batch, -1);
            });
}

void StripeIssuingConnector::judge(std::shared_ptr<Batch> batch,
                                   int index,
                                   const Result<Stripe::Card> &card)
{
    Batch::Row &row = batch->rows[size_t(index)];
    const QString cardId = QString::fromUtf8(row.card);
    const QString wanted = batch->freeze ? QStringLiteral("inactive") : QStringLiteral("active");
    StopLayerResult &out = row.result;
    const QString refused = row.postError ? row.postError->message : QString();
    if (!card) {
        if (row.accepted) {
            out.outcome = LayerOutcome::DoneUnverified;
            out.detail = QStringLiteral("Stripe accepted status=%1 for card %2; reading it back "
                                        "failed: %3")
                             .arg(wanted, cardId, card.error().message);
        } else {
            out.outcome = LayerOutcome::Failed;
            out.detail = QStringLiteral("%1; reading the card back failed too: %2")
                             .arg(refused, card.error().message);
        }
    } else if (card->status == QLatin1String("canceled")) {
        if (batch->freeze) {
            out.outcome = LayerOutcome::Verified;
            out.detail = QStringLiteral("card %1 read back: status=canceled; a canceled card can "
                                        "never spend again")
                             .arg(cardId);
            if (!refused.isEmpty())
                out.detail += QStringLiteral(" (Stripe refused the freeze: %1)").arg(refused);
        } else {
            out.outcome = LayerOutcome::Failed;
            out.detail = QStringLiteral("card %1 read back: status=canceled; canceled cards "
                                        "cannot be reactivated")
                             .arg(cardId);
            if (!refused.isEmpty())
                out.detail += QStringLiteral(" (%1)").arg(refused);
        }
    } else if (card->status == wanted) {
        out.outcome = LayerOutcome::Verified;
        out.detail = QStringLiteral("card %1 read back: status=%2").arg(cardId, wanted);
        if (!refused.isEmpty())
            out.detail += QStringLiteral(" (though Stripe refused the change: %1)").arg(refused);
    } else {
        out.outcome = LayerOutcome::Failed;
        out.detail = row.accepted ? QStringLiteral("Stripe accepted status=%1 but card %2 reads "
                                                   "back status=%3")
                                        .arg(wanted, cardId, card->status)
                                  : QStringLiteral("%1; card %2 reads back status=%3")
                                        .arg(refused, cardId, card->status);
    }
    finishRow(batch, index);
}

void StripeIssuingConnector::finishRow(std::shared_ptr<Batch> batch, int index)
{
    if (index >= 0) {
        Batch::Row &row = batch->rows[size_t(index)];
        row.settled = true;
        row.result.ms = batch->started.elapsed();
        qCInfo(lcNet) << m_provider << row.result.action << row.card
                      << toWireName(row.result.outcome) << row.result.detail;
        return;
    }
    if (batch->finished)
        return;
    for (const Batch::Row &row : batch->rows)
        if (!row.settled)
            return;
    batch->finished = true;
    std::vector<StopLayerResult> out;
    out.reserve(batch->rows.size());
    for (const Batch::Row &row : batch->rows)
        out.push_back(row.result);
    batch->done(std::move(out));
}

// ---- lowerLimits ---------------------------------------------------------------------------

void StripeIssuingConnector::lowerLimits(const LayerTarget &target,
                                         const QByteArray &cardId,
                                         qint64 amountMinor,
                                         const QString &interval,
                                         const LayerDeadlines &deadlines,
                                         LayerDone done)
{
    QElapsedTimer started;
    started.start();
    const QDeadlineTimer actDeadline(deadlines.actMs);
    const QDeadlineTimer verifyDeadline(qint64(deadlines.actMs) + deadlines.verifyMs);
    StopLayerResult row;
    row.layer = layer();
    row.agent = target.agent;
    row.run = target.run;
    row.provider = m_provider;
    row.target = "card " + cardId;
    row.action = "limit";
    // Stripe replaces the whole spending_limits array: the one limit sent is the only one left.
    const Stripe::FormFields form{
        {"spending_controls[spending_limits][0][amount]", QString::number(amountMinor)},
        {"spending_controls[spending_limits][0][interval]", interval}};
    const QByteArray operation = target.operationKey.isEmpty()
                                     ? QUuid::createUuid().toByteArray(QUuid::WithoutBraces)
                                     : target.operationKey;
    const QByteArray action = "limit " + QByteArray::number(amountMinor) + ' ' + interval.toUtf8();
    const Stripe::SpendingLimit wanted{amountMinor, interval, {}};
    request("POST",
            cardPath(cardId),
            Stripe::encodeForm(form),
            idempotencyKey(operation, cardId, action),
            actDeadline,
            [this, row, cardId, wanted, started, verifyDeadline, done](
                const Result<QByteArray> &r) mutable {
                if (!r) {
                    row.outcome = LayerOutcome::Failed;
                    row.detail = r.error().message;
                    row.ms = started.elapsed();
                    done({row});
                    return;
                }
                readCard(
                    cardId,
                    [row, cardId, wanted, started, done](const Result<Stripe::Card> &card) mutable {
                        row.ms = started.elapsed();
                        const QString id = QString::fromUtf8(cardId);
                        if (!card) {
                            row.outcome = LayerOutcome::DoneUnverified;
                            row.detail = QStringLiteral("Stripe accepted the limit for card %1; "
                                                        "reading it back failed: %2")
                                             .arg(id, card.error().message);
                        } else if (card->spendingControls.spendingLimits
                                   == std::vector<Stripe::SpendingLimit>{wanted}) {
                            row.outcome = LayerOutcome::Verified;
                            row.detail
                                = QStringLiteral("card %1 read back: spending limit %2 %3")
                                      .arg(id,
                                           Stripe::formatAmount(wanted.amount, card->currency),
                                           wanted.interval);
                        } else {
                            row.outcome = LayerOutcome::Failed;
                            row.detail = QStringLiteral("Stripe accepted the limit but card %1 "
                                                        "reads back %2 spending limit(s)")
                                             .arg(id,
                                                  QString::number(
                                                      card->spendingControls.spendingLimits.size()));
                        }
                        done({row});
                    },
                    int(std::max<qint64>(0, verifyDeadline.remainingTime())));
            });
}

// ---- reads -----------------------------------------------------------------------------------

void StripeIssuingConnector::readCard(const QByteArray &cardId,
                                      std::function<void(Result<Stripe::Card>)> done,
                                      int deadlineMs)
{
    request("GET",
            cardPath(cardId),
            {},
            {},
            QDeadlineTimer(deadlineMs),
            [this, done](const Result<QByteArray> &r) {
                if (!r) {
                    done(r.error());
                    return;
                }
                auto card = Stripe::parseCard(*r);
                if (!card) {
                    done(makeError(Error::Kind::Invalid,
                                   QStringLiteral("%1: Stripe answered something that is not a "
                                                  "card: %2 (%3)")
                                       .arg(m_providerName,
                                            card.error().message,
                                            Stripe::describeFailure(200, {}, *r)),
                                   m_providerName));
                    return;
                }
                done(*card);
            });
}

void StripeIssuingConnector::listAuthorizations(const QByteArray &cardId,
                                                qint64 sinceUnix,
                                                AuthorizationsDone done,
                                                int deadlineMs)
{
    listPage(cardId,
             sinceUnix,
             {},
             QDeadlineTimer(deadlineMs),
             std::make_shared<std::vector<Stripe::Authorization>>(),
             std::move(done));
}

void StripeIssuingConnector::listPage(const QByteArray &cardId,
                                      qint64 sinceUnix,
                                      const QString &startingAfter,
                                      QDeadlineTimer deadline,
                                      std::shared_ptr<std::vector<Stripe::Authorization>> acc,
                                      AuthorizationsDone done)
{
    Stripe::FormFields query{{"card", QString::fromUtf8(cardId)},
                             {"created[gte]", QString::number(sinceUnix)},
                             {"limit", QString::number(kListLimit)}};
    if (!startingAfter.isEmpty())
        query.append({"starting_after", startingAfter});
    request(
        "GET",
        QStringLiteral("/v1/issuing/authorizations"),
        Stripe::encodeForm(query),
        {},
        deadline,
        [this, cardId, sinceUnix, deadline, acc, done](const Result<QByteArray> &r) {
            if (!r) {
                done(r.error());
                return;
            }
            auto page = Stripe::parseList(*r);
            if (!page) {
                done(makeError(Error::Kind::Invalid,
                               QStringLiteral("%1: the authorization list is not a Stripe "
                                              "list: %2 (%3)")
                                   .arg(m_providerName,
                                        page.error().message,
                                        Stripe::describeFailure(200, {}, *r)),
                               m_providerName));
                return;
            }
            for (const QJsonObject &object : std::as_const(page->data)) {
                auto a = Stripe::parseAuthorization(object);
                if (!a) {
                    done(makeError(Error::Kind::Invalid,
                                   QStringLiteral("%1: %2").arg(m_providerName, a.error().message),
                                   m_providerName));
                    return;
                }
                acc->push_back(*a);
            }
            const int pages = int(acc->size() / kListLimit);
            if (page->hasMore && !page->lastId().isEmpty() && pages < kMaxAuthorizationPages) {
                listPage(cardId, sinceUnix, page->lastId(), deadline, acc, done);
                return;
            }
            done(std::move(*acc));
        });
}

void StripeIssuingConnector::checkLeaks(const LayerTarget &target,
                                        qint64 sinceMs,
                                        std::function<void(Result<std::vector<LayerLeak>>)> done)
{
    if (target.cards.isEmpty()) {
        done(std::vector<LayerLeak>{});
        return;
    }
    struct State
    {
        std::vector<LayerLeak> leaks;
        std::optional<Error> error;
        int pending = 0;
    };
    auto state = std::make_shared<State>();
    state->pending = int(target.cards.size());
    // Stripe's created is in whole seconds: include the stop's own second.
    const qint64 sinceUnix = sinceMs / 1000;
    for (const QString &card : target.cards) {
        listAuthorizations(
            card.toUtf8(),
            sinceUnix,
            [state, target, done](const Result<std::vector<Stripe::Authorization>> &r) {
                if (!r) {
                    if (!state->error)
                        state->error = r.error();
                } else {
                    // Declined attempts (card_inactive, spending_controls) are the freeze
                    // working, not leaks.
                    for (const Stripe::Authorization &a : *r) {
                        if (!a.approved)
                            continue;
                        LayerLeak leak;
                        leak.layer = "payment";
                        leak.agent = target.agent;
                        leak.what
                            = QStringLiteral("authorization %1 of %2 on card %3 approved")
                                  .arg(a.id, Stripe::formatAmount(a.amount, a.currency), a.card);
                        if (!a.merchant.name.isEmpty())
                            leak.what += QStringLiteral(" (merchant %1)").arg(a.merchant.name);
                        leak.atMs = a.created * 1000;
                        state->leaks.push_back(std::move(leak));
                    }
                }
                if (--state->pending > 0)
                    return;
                if (state->error)
                    done(*state->error);
                else
                    done(std::move(state->leaks));
            },
            kCheckLeaksDeadlineMs);
    }
}

void StripeIssuingConnector::probe(std::function<void(Result<QString>)> done)
{
    request("GET",
            QStringLiteral("/v1/issuing/cards"),
            "limit=1",
            {},
            QDeadlineTimer(m_http->options().timeoutMs),
            [this, done](const Result<QByteArray> &r) {
                if (!r) {
                    done(r.error());
                    return;
                }
                auto page = Stripe::parseList(*r);
                if (!page) {
                    done(makeError(Error::Kind::Invalid,
                                   QStringLiteral("%1: GET /v1/issuing/cards did not answer a "
                                                  "Stripe list: %2")
                                       .arg(m_providerName, Stripe::describeFailure(200, {}, *r)),
                                   m_providerName));
                    return;
                }
                done(QStringLiteral("Stripe Issuing at %1 answered with a %2 key (Stripe-Version "
                                    "%3): %4")
                         .arg(m_base.toString(QUrl::RemoveUserInfo),
                              isLiveKey(m_apiKey) ? QStringLiteral("live") : QStringLiteral("test"),
                              QString::fromUtf8(m_stripeVersion),
                              page->data.isEmpty() ? QStringLiteral("no cards visible")
                                                   : QStringLiteral("cards visible")));
            });
}

} // namespace Breaker
