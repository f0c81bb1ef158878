#include "connectors/payment/StripeCodec.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>

namespace Breaker::Stripe {

namespace {

namespace od = simdjson::ondemand;

QString str(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString();
}

// A JSON number as an integer; out of range (1e300, found by fuzz_stripe) or not a number is 0
// rather than undefined behaviour. Stripe's amounts and timestamps fit easily.
qint64 int64(const QJsonObject &o, const char *key)
{
    const double d = o.value(QLatin1String(key)).toDouble();
    if (!(d > -9.0e18 && d < 9.0e18))
        return 0;
    return qint64(d);
}

// A field that Stripe either expands into an object or leaves as an id.
QString idOf(const QJsonValue &v)
{
    if (v.isObject())
        return v.toObject().value(QLatin1String("id")).toString();
    return v.toString();
}

QStringList strings(const QJsonValue &v)
{
    QStringList out;
    const QJsonArray array = v.toArray();
    for (const QJsonValue &item : array)
        out << item.toString();
    return out;
}

QMap<QString, QString> metadataOf(const QJsonValue &v)
{
    QMap<QString, QString> out;
    const QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it)
        out.insert(it.key(), it.value().toString());
    return out;
}

Result<QJsonObject> objectFrom(QByteArrayView json, const char *what)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json.toByteArray(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1 is not a JSON object (%2)")
                             .arg(QLatin1String(what),
                                  pe.error != QJsonParseError::NoError
                                      ? pe.errorString()
                                      : QStringLiteral("not an object")));
    return doc.object();
}

Result<void> expectObject(const QJsonObject &o, QLatin1String object, const char *what)
{
    const QString got = o.value(QLatin1String("object")).toString();
    if (got != object)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("expected %1 object \"%2\", got \"%3\"")
                             .arg(QLatin1String(what), object, got));
    if (o.value(QLatin1String("id")).toString().isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the %1 has no id").arg(QLatin1String(what)));
    return {};
}

// JavaScript's Number.prototype.toString() for a finite double: shortest round-trip digits,
// fixed notation for 1e-7 <= |x| < 1e21, else an exponent ("1e+21", "1.5e-7").
QByteArray jsNumber(double d)
{
    if (d == 0)
        return "0";
    QByteArray out;
    if (d < 0) {
        out += '-';
        d = -d;
    }
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    const QByteArray sci(buf, int(r.ptr - buf)); // "1.5e+00"
    const qsizetype e = sci.indexOf('e');
    QByteArray digits = sci.left(e);
    digits.replace(".", "");
    const int k = int(digits.size());
    const int n = sci.mid(e + 1).toInt() + 1;
    if (k <= n && n <= 21) {
        out += digits + QByteArray(n - k, '0');
    } else if (0 < n && n <= 21) {
        out += digits.left(n) + '.' + digits.mid(n);
    } else if (-6 < n && n <= 0) {
        out += "0." + QByteArray(-n, '0') + digits;
    } else {
        out += digits.left(1);
        if (k > 1)
            out += '.' + digits.mid(1);
        out += 'e';
        out += (n - 1 >= 0) ? '+' : '-';
        out += QByteArray::number(std::abs(n - 1));
    }
    return out;
}

simdjson::error_code flatten(const QString &key, od::value value, FormFields &out)
{
    od::json_type type;
    if (auto e = value.type().get(type))
        return e;
    switch (type) {
    case od::json_type::object: {
        od::object object;
        if (auto e = value.get_object().get(object))
            return e;
        for (auto field : object) {
            std::string_view name;
            if (auto e = field.unescaped_key().get(name))
                return e;
            const QString child
                = key + u'[' + QString::fromUtf8(name.data(), qsizetype(name.size())) + u']';
            if (auto e = flatten(child, field.value(), out))
                return e;
        }
        return simdjson::SUCCESS;
    }
    case od::json_type::array: {
        od::array array;
        if (auto e = value.get_array().get(array))
            return e;
        int i = 0;
        for (auto item : array) {
            od::value v;
            if (auto e = item.get(v))
                return e;
            if (auto e = flatten(key + u'[' + QString::number(i++) + u']', v, out))
                return e;
        }
        return simdjson::SUCCESS;
    }
    case od::json_type::string: {
        std::string_view s;
        if (auto e = value.get_string().get(s))
            return e;
        out.append({key.toUtf8(), QString::fromUtf8(s.data(), qsizetype(s.size()))});
        return simdjson::SUCCESS;
    }
    case od::json_type::number: {
        double d = 0;
        if (auto e = value.get_double().get(d))
            return e;
        out.append({key.toUtf8(), QString::fromLatin1(jsNumber(d))});
        return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
        bool b = false;
        if (auto e = value.get_bool().get(b))
            return e;
        out.append({key.toUtf8(), b ? QStringLiteral("true") : QStringLiteral("false")});
        return simdjson::SUCCESS;
    }
    case od::json_type::null:
        out.append({key.toUtf8(), QString()}); // stripe-node sends null as "" (unset)
        return simdjson::SUCCESS;
    }
    return simdjson::INCORRECT_TYPE;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

Result<QString> decodeComponent(QByteArrayView in)
{
    QByteArray out;
    out.reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            const int hi = i + 2 < in.size() ? hexValue(in[i + 1]) : -1;
            const int lo = i + 2 < in.size() ? hexValue(in[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return makeError(Error::Kind::Invalid,
                                 QStringLiteral("malformed percent escape in form field \"%1\"")
                                     .arg(QString::fromUtf8(in.toByteArray().left(64))));
            out += char(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return QString::fromUtf8(out);
}

// Zero-decimal currencies (docs.stripe.com/currencies#zero-decimal).
bool isZeroDecimal(const QString &currency)
{
    static const QStringList zero = {QStringLiteral("bif"),
                                     QStringLiteral("clp"),
                                     QStringLiteral("djf"),
                                     QStringLiteral("gnf"),
                                     QStringLiteral("jpy"),
                                     QStringLiteral("kmf"),
                                     QStringLiteral("krw"),
                                     QStringLiteral("mga"),
                                     QStringLiteral("pyg"),
                                     QStringLiteral("rwf"),
                                     QStringLiteral("ugx"),
                                     QStringLiteral("vnd"),
                                     QStringLiteral("vuv"),
                                     QStringLiteral("xaf"),
                                     QStringLiteral("xof"),
                                     QStringLiteral("xpf")};
    return zero.contains(currency.toLower());
}

} // namespace

// ---- Form encoding -----------------------------------------------------------------------

QByteArray encodeFormComponent(QStringView text)
{
    static const char hex[] = "0123456789ABCDEF";
    const QByteArray utf8 = text.toUtf8();
    QByteArray out;
    out.reserve(utf8.size() * 3);
    for (const char ch : utf8) {
        const auto c = uchar(ch);
        // encodeURIComponent keeps A-Z a-z 0-9 - _ . ! ~ * ' ( ); stripe-node then escapes
        // ! * ' ( ) and un-escapes [ ].
        const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                          || c == '-' || c == '_' || c == '.' || c == '~' || c == '[' || c == ']';
        if (keep) {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xF];
        }
    }
    return out;
}

QByteArray encodeForm(const FormFields &fields)
{
    QByteArray out;
    for (const auto &[key, value] : fields) {
        if (!out.isEmpty())
            out += '&';
        out += encodeFormComponent(QString::fromUtf8(key)) + '=' + encodeFormComponent(value);
    }
    return out;
}

Result<FormFields> formFieldsFromJson(QByteArrayView json)
{
    simdjson::padded_string padded(json.data(), size_t(json.size()));
    od::parser parser;
    od::document doc;
    FormFields out;
    auto fail = [](simdjson::error_code e) {
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the form parameters are not a JSON object: %1")
                             .arg(QLatin1String(simdjson::error_message(e))));
    };
    if (auto e = parser.iterate(padded).get(doc))
        return fail(e);
    od::object object;
    if (auto e = doc.get_object().get(object))
        return fail(e);
    for (auto field : object) {
        std::string_view name;
        if (auto e = field.unescaped_key().get(name))
            return fail(e);
        if (auto e
            = flatten(QString::fromUtf8(name.data(), qsizetype(name.size())), field.value(), out))
            return fail(e);
    }
    return out;
}

Result<FormFields> decodeForm(QByteArrayView form)
{
    FormFields out;
    const QList<QByteArray> parts = form.toByteArray().split('&');
    for (const QByteArray &part : parts) {
        if (part.isEmpty())
            continue;
        const qsizetype eq = part.indexOf('=');
        auto key = decodeComponent(eq < 0 ? QByteArrayView(part) : QByteArrayView(part).first(eq));
        if (!key)
            return key.error();
        auto value
            = decodeComponent(eq < 0 ? QByteArrayView() : QByteArrayView(part).sliced(eq + 1));
        if (!value)
            return value.error();
        out.append({key->toUtf8(), *value});
    }
    return out;
}

std::optional<QString> formValue(const FormFields &fields, QByteArrayView key)
{
    for (const auto &[k, v] : fields)
        if (k == key)
            return v;
    return std::nullopt;
}

// ---- Errors ----------------------------------------------------------------------------------

QString ApiError::words() const
{
    QString out = QStringLiteral("Stripe ") + (type.isEmpty() ? QStringLiteral("error") : type);
    if (!code.isEmpty())
        out += u' ' + code;
    if (!declineCode.isEmpty())
        out += QStringLiteral(" (decline %1)").arg(declineCode);
    out += QStringLiteral(": ") + (message.isEmpty() ? QStringLiteral("(no message)") : message);
    if (!param.isEmpty())
        out += QStringLiteral(" (param %1)").arg(param);
    return out;
}

std::optional<ApiError> parseError(int httpStatus, QByteArrayView body)
{
    auto object = objectFrom(body, "error");
    if (!object || !object->value(QLatin1String("error")).isObject())
        return std::nullopt;
    const QJsonObject e = object->value(QLatin1String("error")).toObject();
    ApiError out;
    out.httpStatus = httpStatus;
    out.type = str(e, "type");
    out.code = str(e, "code");
    out.message = str(e, "message");
    out.param = str(e, "param");
    out.declineCode = str(e, "decline_code");
    out.docUrl = str(e, "doc_url");
    out.requestLogUrl = str(e, "request_log_url");
    if (out.type.isEmpty() && out.message.isEmpty())
        return std::nullopt;
    return out;
}

QString describeFailure(int httpStatus, QByteArrayView contentType, QByteArrayView body)
{
    if (auto e = parseError(httpStatus, body))
        // One arg() call: Stripe's words may hold "%1"-like text that a second arg() would fill.
        return QStringLiteral("%1 [HTTP %2]").arg(e->words(), QString::number(httpStatus));
    QString start
        = QString::fromUtf8(body.first(std::min<qsizetype>(body.size(), 120))).simplified();
    if (body.size() > 120)
        start += QStringLiteral("…");
    return QStringLiteral("HTTP %1 (%2), not a Stripe answer: %3")
        .arg(httpStatus)
        .arg(contentType.isEmpty() ? QStringLiteral("no content type")
                                   : QString::fromLatin1(contentType.toByteArray()),
             start.isEmpty() ? QStringLiteral("(empty body)") : start);
}

// ---- Objects -------------------------------------------------------------------------------

Result<Card> parseCard(const QJsonObject &o)
{
    if (auto ok = expectObject(o, QLatin1String("issuing.card"), "card"); !ok)
        return ok.error();
    Card c;
    c.id = str(o, "id");
    c.status = str(o, "status");
    c.cardholder = idOf(o.value(QLatin1String("cardholder")));
    c.currency = str(o, "currency");
    c.last4 = str(o, "last4");
    c.brand = str(o, "brand");
    c.type = str(o, "type");
    c.cancellationReason = str(o, "cancellation_reason");
    c.expMonth = int(int64(o, "exp_month"));
    c.expYear = int(int64(o, "exp_year"));
    c.created = int64(o, "created");
    c.livemode = o.value(QLatin1String("livemode")).toBool();
    c.metadata = metadataOf(o.value(QLatin1String("metadata")));
    const QJsonObject sc = o.value(QLatin1String("spending_controls")).toObject();
    const QJsonArray limits = sc.value(QLatin1String("spending_limits")).toArray();
    for (const QJsonValue &v : limits) {
        const QJsonObject l = v.toObject();
        c.spendingControls.spendingLimits.push_back(
            {int64(l, "amount"),
             str(l, "interval"),
             strings(l.value(QLatin1String("categories")))});
    }
    c.spendingControls.allowedCategories = strings(sc.value(QLatin1String("allowed_categories")));
    c.spendingControls.blockedCategories = strings(sc.value(QLatin1String("blocked_categories")));
    if (c.status.isEmpty())
        return makeError(Error::Kind::Invalid, QStringLiteral("card %1 has no status").arg(c.id));
    return c;
}

Result<Card> parseCard(QByteArrayView json)
{
    auto object = objectFrom(json, "the card");
    if (!object)
        return object.error();
    return parseCard(*object);
}

QString ListPage::lastId() const
{
    return data.isEmpty() ? QString() : data.last().value(QLatin1String("id")).toString();
}

Result<ListPage> parseList(QByteArrayView json)
{
    auto object = objectFrom(json, "the list");
    if (!object)
        return object.error();
    if (object->value(QLatin1String("object")).toString() != QLatin1String("list")
        || !object->value(QLatin1String("data")).isArray())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("expected {\"object\":\"list\",\"data\":[…]}, got object "
                                        "\"%1\"")
                             .arg(object->value(QLatin1String("object")).toString()));
    ListPage page;
    page.url = str(*object, "url");
    page.hasMore = object->value(QLatin1String("has_more")).toBool();
    const QJsonArray data = object->value(QLatin1String("data")).toArray();
    for (const QJsonValue &v : data)
        page.data << v.toObject();
    return page;
}

QString Authorization::lastReason() const
{
    return requestHistory.empty() ? QString() : requestHistory.back().reason;
}

qint64 Authorization::requestedAmount() const
{
    if (pendingAmount)
        return *pendingAmount;
    if (!requestHistory.empty() && requestHistory.back().amount)
        return requestHistory.back().amount;
    return amount;
}

Result<Authorization> parseAuthorization(const QJsonObject &o)
{
    if (auto ok = expectObject(o, QLatin1String("issuing.authorization"), "authorization"); !ok)
        return ok.error();
    Authorization a;
    a.id = str(o, "id");
    a.amount = int64(o, "amount");
    a.currency = str(o, "currency");
    a.approved = o.value(QLatin1String("approved")).toBool();
    a.status = str(o, "status");
    a.card = idOf(o.value(QLatin1String("card")));
    a.cardStatus
        = o.value(QLatin1String("card")).toObject().value(QLatin1String("status")).toString();
    a.cardholder = idOf(o.value(QLatin1String("cardholder")));
    a.created = int64(o, "created");
    const QJsonObject m = o.value(QLatin1String("merchant_data")).toObject();
    a.merchant = {str(m, "category"),
                  str(m, "category_code"),
                  str(m, "name"),
                  str(m, "city"),
                  str(m, "country")};
    const QJsonValue pending = o.value(QLatin1String("pending_request"));
    if (pending.isObject())
        a.pendingAmount = int64(pending.toObject(), "amount");
    const QJsonArray history = o.value(QLatin1String("request_history")).toArray();
    for (const QJsonValue &v : history) {
        const QJsonObject h = v.toObject();
        a.requestHistory.push_back({h.value(QLatin1String("approved")).toBool(),
                                    int64(h, "amount"),
                                    str(h, "currency"),
                                    str(h, "reason"),
                                    str(h, "reason_message"),
                                    int64(h, "created")});
    }
    a.metadata = metadataOf(o.value(QLatin1String("metadata")));
    return a;
}

QString formatAmount(qint64 amountMinor, const QString &currency)
{
    const QString cur = currency.toLower();
    if (isZeroDecimal(cur))
        return QStringLiteral("%1 %2").arg(amountMinor).arg(cur);
    // In unsigned arithmetic: the magnitude of INT64_MIN does not fit a qint64.
    const quint64 magnitude = amountMinor < 0 ? quint64(0) - quint64(amountMinor) : quint64(amountMinor);
    const quint64 whole = magnitude / 100;
    const quint64 cents = magnitude % 100;
    return QStringLiteral("%1%2.%3 %4")
        .arg(amountMinor < 0 ? QStringLiteral("-") : QString())
        .arg(whole)
        .arg(cents, 2, 10, QLatin1Char('0'))
        .arg(cur);
}

// ---- Webhook signatures --------------------------------------------------------------------

QByteArray computeSignature(QByteArrayView secret, qint64 timestamp, QByteArrayView payload)
{
    const QByteArray message = QByteArray::number(timestamp) + '.' + payload.toByteArray();
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(),
         secret.data(),
         int(secret.size()),
         reinterpret_cast<const unsigned char *>(message.constData()),
         size_t(message.size()),
         mac,
         &len);
    return QByteArray(reinterpret_cast<const char *>(mac), int(len)).toHex();
}

QByteArray signatureHeader(QByteArrayView secret, qint64 timestamp, QByteArrayView payload)
{
    return "t=" + QByteArray::number(timestamp)
           + ",v1=" + computeSignature(secret, timestamp, payload);
}

Result<void> verifySignature(QByteArrayView payload,
                             QByteArrayView header,
                             QByteArrayView secret,
                             qint64 nowUnix,
                             int toleranceS)
{
    std::optional<qint64> timestamp;
    QList<QByteArray> signatures;
    const QByteArray headerBytes = header.toByteArray();
    const QList<QByteArray> items = headerBytes.split(',');
    for (const QByteArray &itemBytes : items) {
        const QByteArrayView item(itemBytes);
        const qsizetype eq = item.indexOf('=');
        if (eq < 0)
            continue;
        const QByteArrayView name = item.first(eq).trimmed();
        const QByteArrayView value = item.sliced(eq + 1).trimmed();
        if (name == "t") {
            bool ok = false;
            const qint64 t = value.toLongLong(&ok);
            if (ok)
                timestamp = t;
        } else if (name == "v1") {
            signatures << value.toByteArray(); // v0 and other schemes are ignored
        }
    }
    if (!timestamp || signatures.isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("Unable to extract timestamp and signatures from header"));
    const QByteArray expected = computeSignature(secret, *timestamp, payload);
    bool found = false;
    for (const QByteArray &s : std::as_const(signatures))
        if (s.size() == expected.size()
            && CRYPTO_memcmp(s.data(), expected.constData(), size_t(expected.size())) == 0)
            found = true; // no early exit: every candidate costs the same
    if (!found)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("No signatures found matching the expected signature for "
                                        "payload"));
    // Written as a comparison of timestamps, not a difference: a hostile t cannot overflow it.
    if (toleranceS > 0 && *timestamp < nowUnix - toleranceS)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("Timestamp outside the tolerance zone"));
    return {};
}

} // namespace Breaker::Stripe
