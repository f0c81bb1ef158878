// libFuzzer target: the Stripe Issuing decoders (connectors/payment/StripeCodec) on arbitrary
// bytes, read as a card, a list page (each item as a card and an authorization), an error body,
// a form body, form parameters as JSON, and a webhook delivery (first line the Stripe-Signature
// header, the rest the payload). Invariants: never crash; an error says something; a parsed
// card or authorization has its object type and id; a form survives its own encoder and decoder
// and is written in the characters stripe-node writes; a number is written so that it reads
// back as the same number; a webhook signature verifies only when a v1 matches and the
// timestamp is within tolerance.
#include "connectors/payment/StripeCodec.h"
#include "tests/fuzz/FuzzChecks.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtEndian>

#include <charconv>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace {

using namespace Breaker;

const QByteArray kSecret = "whsec_test_secret";
constexpr qint64 kNow = 1700000000;

// "12.00 usd", "-0.05 eur", "500 jpy": one sign at most (for a negative amount), digits, two
// decimals unless the currency has none, then the currency.
void checkAmount(qint64 amount, const QString &currency)
{
    const QString words = Stripe::formatAmount(amount, currency);
    const QString suffix = u' ' + currency.toLower();
    BREAKER_FUZZ_CHECK(words.endsWith(suffix));
    const QString number = words.chopped(suffix.size());
    BREAKER_FUZZ_CHECK(number.startsWith(u'-') == (amount < 0));
    const QString digits = amount < 0 ? number.mid(1) : number;
    BREAKER_FUZZ_CHECK(!digits.isEmpty() && digits.front().isDigit() && digits.back().isDigit());
    BREAKER_FUZZ_CHECK(digits.count(u'.') <= 1);
    for (const QChar c : digits)
        BREAKER_FUZZ_CHECK(c.isDigit() || c == u'.');
}

void checkCard(const Result<Stripe::Card> &card)
{
    if (!card.ok()) {
        BREAKER_FUZZ_CHECK(!card.error().message.isEmpty());
        return;
    }
    BREAKER_FUZZ_CHECK(!card->id.isEmpty());
    BREAKER_FUZZ_CHECK(!card->status.isEmpty());
    BREAKER_FUZZ_CHECK(card->spendingControls.spendingLimits.size() < (1u << 20));
    for (const Stripe::SpendingLimit &l : card->spendingControls.spendingLimits)
        checkAmount(l.amount, card->currency);
}

void checkAuthorization(const QJsonObject &object)
{
    const auto a = Stripe::parseAuthorization(object);
    if (!a.ok()) {
        BREAKER_FUZZ_CHECK(!a.error().message.isEmpty());
        return;
    }
    BREAKER_FUZZ_CHECK(!a->id.isEmpty());
    BREAKER_FUZZ_CHECK(object.value(QLatin1String("object")).toString()
                       == QLatin1String("issuing.authorization"));
    BREAKER_FUZZ_CHECK(a->pendingAmount.has_value()
                       == object.value(QLatin1String("pending_request")).isObject());
    if (a->requestHistory.empty())
        BREAKER_FUZZ_CHECK(a->lastReason().isEmpty());
    checkAmount(a->amount, a->currency);
    checkAmount(a->requestedAmount(), a->currency);
}

void checkObjects(const QByteArray &bytes)
{
    checkCard(Stripe::parseCard(QByteArrayView(bytes)));
    const QJsonObject object = QJsonDocument::fromJson(bytes).object();
    checkAuthorization(object);

    const auto page = Stripe::parseList(bytes);
    if (!page.ok()) {
        BREAKER_FUZZ_CHECK(!page.error().message.isEmpty());
        return;
    }
    BREAKER_FUZZ_CHECK(object.value(QLatin1String("object")).toString() == QLatin1String("list"));
    BREAKER_FUZZ_CHECK(page->data.size() == object.value(QLatin1String("data")).toArray().size());
    if (page->data.isEmpty())
        BREAKER_FUZZ_CHECK(page->lastId().isEmpty());
    for (const QJsonObject &item : page->data) {
        checkCard(Stripe::parseCard(item));
        checkAuthorization(item);
    }
}

void checkError(const QByteArray &bytes, int status)
{
    const auto e = Stripe::parseError(status, bytes);
    if (e) {
        BREAKER_FUZZ_CHECK(e->httpStatus == status);
        BREAKER_FUZZ_CHECK(!e->type.isEmpty() || !e->message.isEmpty());
        BREAKER_FUZZ_CHECK(e->words().startsWith(QStringLiteral("Stripe ")));
    }
    const QString words = Stripe::describeFailure(status, "text/html", bytes);
    BREAKER_FUZZ_CHECK(words.contains(QStringLiteral("HTTP %1").arg(status)));
    BREAKER_FUZZ_CHECK(words.size() < 4096 || e); // the start of a foreign body, not all of it
}

bool writtenAsStripeNodeDoes(const QByteArray &form)
{
    for (qsizetype i = 0; i < form.size(); ++i) {
        const char c = form[i];
        const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                          || c == '-' || c == '_' || c == '.' || c == '~' || c == '[' || c == ']'
                          || c == '=' || c == '&';
        if (keep)
            continue;
        if (c != '%' || i + 2 >= form.size())
            return false;
        for (const char h : {form[i + 1], form[i + 2]})
            if (!((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F')))
                return false;
        i += 2;
    }
    return true;
}

void checkFormRoundTrip(const Stripe::FormFields &fields)
{
    const QByteArray encoded = Stripe::encodeForm(fields);
    BREAKER_FUZZ_CHECK(writtenAsStripeNodeDoes(encoded));
    const auto back = Stripe::decodeForm(encoded);
    BREAKER_FUZZ_CHECK(back.ok());
    // An empty key with an empty value is written as "=", which reads back as that field.
    BREAKER_FUZZ_CHECK(*back == fields);
}

void checkForms(const QByteArray &bytes)
{
    const auto decoded = Stripe::decodeForm(bytes);
    if (decoded.ok()) {
        // A form that decodes has no malformed escape.
        for (qsizetype i = bytes.indexOf('%'); i >= 0; i = bytes.indexOf('%', i + 3))
            BREAKER_FUZZ_CHECK(i + 2 < bytes.size() && std::isxdigit(uchar(bytes[i + 1]))
                               && std::isxdigit(uchar(bytes[i + 2])));
        checkFormRoundTrip(*decoded);
        for (const auto &[key, value] : *decoded)
            BREAKER_FUZZ_CHECK(Stripe::formValue(*decoded, key).has_value());
    } else {
        BREAKER_FUZZ_CHECK(bytes.contains('%'));
        BREAKER_FUZZ_CHECK(!decoded.error().message.isEmpty());
    }

    const auto flattened = Stripe::formFieldsFromJson(bytes);
    if (flattened.ok())
        checkFormRoundTrip(*flattened);
    else
        BREAKER_FUZZ_CHECK(!flattened.error().message.isEmpty());
}

// A number in the parameters is written as JavaScript's String() writes it: a shortest form that
// reads back as the same double.
void checkNumber(const uint8_t *data, size_t size)
{
    if (size < 8)
        return;
    double d = 0;
    std::memcpy(&d, data, sizeof d);
    if (!std::isfinite(d))
        return;
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    const QByteArray json = "{\"n\":" + QByteArray(buf, qsizetype(r.ptr - buf)) + '}';
    const auto fields = Stripe::formFieldsFromJson(json);
    BREAKER_FUZZ_CHECK(fields.ok() && fields->size() == 1);
    const QString written = fields->at(0).second;
    BREAKER_FUZZ_CHECK(!written.contains(u'+') || written.contains(u'e'));
    bool ok = false;
    BREAKER_FUZZ_CHECK(written.toDouble(&ok) == d && ok);
}

void checkWebhook(const QByteArray &bytes)
{
    const qsizetype nl = bytes.indexOf('\n');
    const QByteArray header = nl < 0 ? bytes : bytes.first(nl);
    const QByteArray payload = nl < 0 ? QByteArray() : bytes.sliced(nl + 1);

    // A fuzzed header cannot forge an HMAC: it verifies only when one of its v1 values is the
    // signature of its (last) t.
    const auto verdict = Stripe::verifySignature(payload, header, kSecret, kNow);
    if (verdict.ok()) {
        qint64 t = 0;
        bool haveT = false;
        QList<QByteArray> v1;
        for (const QByteArray &item : header.split(',')) {
            const qsizetype eq = item.indexOf('=');
            if (eq < 0)
                continue;
            const QByteArray name = item.first(eq).trimmed();
            const QByteArray value = item.sliced(eq + 1).trimmed();
            if (name == "t") {
                bool ok = false;
                const qint64 n = value.toLongLong(&ok);
                if (ok) {
                    t = n;
                    haveT = true;
                }
            } else if (name == "v1") {
                v1 << value;
            }
        }
        BREAKER_FUZZ_CHECK(haveT && v1.contains(Stripe::computeSignature(kSecret, t, payload)));
    } else {
        BREAKER_FUZZ_CHECK(!verdict.error().message.isEmpty());
    }

    // A genuine signature, at a timestamp taken from the input, behind whatever the fuzzer put
    // in front of it: verifies exactly when within tolerance, and never with another secret.
    qint64 t = kNow;
    if (payload.size() >= 8)
        t = qFromUnaligned<qint64>(payload.constData());
    const QByteArray genuine = header + ',' + Stripe::signatureHeader(kSecret, t, payload);
    const auto checked = Stripe::verifySignature(payload, genuine, kSecret, kNow);
    const bool inTolerance = t >= kNow - Stripe::kWebhookToleranceS;
    BREAKER_FUZZ_CHECK(checked.ok() == inTolerance);
    if (!inTolerance)
        BREAKER_FUZZ_CHECK(checked.error().message.contains(QStringLiteral("tolerance")));
    BREAKER_FUZZ_CHECK(Stripe::verifySignature(payload, genuine, kSecret, t, 0).ok());
    BREAKER_FUZZ_CHECK(!Stripe::verifySignature(payload, genuine, "whsec_other", t).ok());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    checkObjects(bytes);
    checkError(bytes, 400 + int(size % 200));
    checkForms(bytes);
    checkNumber(data, size);
    checkWebhook(bytes);
    return 0;
}
