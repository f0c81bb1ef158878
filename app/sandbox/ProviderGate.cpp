#include "app/sandbox/ProviderGate.h"

#include "connectors/net/HttpClient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QUrlQuery>

namespace Breaker {

namespace {

using Otlp::OutAttribute;

OutAttribute attr(const char *key, const QByteArray &value)
{
    return {QByteArray(key), value};
}

SandboxRun::StepVerdict blocked(const char *layer, const QByteArray &errorType, const QByteArray &message,
                                bool endsRun = false)
{
    SandboxRun::StepVerdict v;
    v.blocked = true;
    v.endsRun = endsRun;
    v.errorType = errorType;
    v.message = message;
    v.attributes.push_back(attr("breaker.blocked_by", QByteArray(layer)));
    return v;
}

QByteArray form(const QList<std::pair<QByteArray, QByteArray>> &fields)
{
    QByteArray out;
    for (const auto &[k, v] : fields) {
        if (!out.isEmpty())
            out += '&';
        out += QUrl::toPercentEncoding(QString::fromUtf8(k)) + '=' + QUrl::toPercentEncoding(QString::fromUtf8(v));
    }
    return out;
}

QByteArray stringAttr(const PlannedSpan &span, QByteArrayView key)
{
    for (const OutAttribute &a : span.attributes)
        if (a.key == key)
            if (const auto *v = std::get_if<QByteArray>(&a.value))
                return *v;
    return {};
}

std::optional<qint64> intAttr(const PlannedSpan &span, QByteArrayView key)
{
    for (const OutAttribute &a : span.attributes)
        if (a.key == key)
            if (const auto *v = std::get_if<qint64>(&a.value))
                return *v;
    return std::nullopt;
}

} // namespace

ProviderGate::ProviderGate(Endpoints endpoints, QObject *parent)
    : QObject(parent)
    , m_endpoints(std::move(endpoints))
{
    Net::ClientOptions o;
    o.provider = QStringLiteral("sandbox agent");
    o.timeoutMs = 5000;
    m_http = new Net::HttpClient(o, this);
}

ProviderGate::~ProviderGate() = default;

void ProviderGate::setAgent(const QByteArray &agentName, AgentCredentials credentials)
{
    m_agents.insert(agentName, std::move(credentials));
}

void ProviderGate::check(const QByteArray &agentName, const PlannedSpan &span,
                         std::function<void(SandboxRun::StepVerdict)> answer)
{
    const auto it = m_agents.constFind(agentName);
    if (it == m_agents.constEnd() || !m_endpoints.tokenEndpoint.isValid()) {
        answer({});
        return;
    }
    // Every call starts with a fresh access token from the agent's refresh token (the grant a
    // stop revokes), presented with the agent's own client credentials.
    const AgentCredentials &c = *it;
    const QByteArray pair = QUrl::toPercentEncoding(QString::fromUtf8(c.clientId)) + ':'
                            + QUrl::toPercentEncoding(QString::fromUtf8(c.clientSecret));
    const QByteArray basic = "Basic " + pair.toBase64();
    QPointer<ProviderGate> self(this);
    PlannedSpan copy = span;
    m_http->send("POST", m_endpoints.tokenEndpoint,
                 {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", basic}},
                 form({{"grant_type", "refresh_token"}, {"refresh_token", c.refreshToken}}),
                 [self, agentName, copy, answer](const Result<Net::ClientReply> &reply) {
                     if (!self)
                         return;
                     if (!reply.ok()) {
                         answer(blocked("identity", "identity_unavailable",
                                        "the agent could not get an access token: " + reply.error().message.toUtf8(),
                                        true));
                         return;
                     }
                     if (reply->status != 200) {
                         const QJsonObject e = QJsonDocument::fromJson(reply->body).object();
                         const QByteArray code = e.value(QStringLiteral("error")).toString().toUtf8();
                         auto v = blocked("identity", code.isEmpty() ? QByteArray("http.") + QByteArray::number(reply->status) : code,
                                          "401 Unauthorized: the token endpoint refused the agent's grant ("
                                              + (code.isEmpty() ? QByteArray::number(reply->status) : code) + ": "
                                              + e.value(QStringLiteral("error_description")).toString().toUtf8() + ")",
                                          true);
                         v.attributes.push_back({QByteArrayLiteral("http.response.status_code"), qint64(401)});
                         answer(std::move(v));
                         return;
                     }
                     if (copy.name.startsWith("execute_tool "))
                         self->checkTool(agentName, copy, answer);
                     else
                         answer({});
                 });
}

void ProviderGate::checkTool(const QByteArray &agentName, const PlannedSpan &span,
                             std::function<void(SandboxRun::StepVerdict)> answer)
{
    const QByteArray tool = stringAttr(span, "gen_ai.tool.name");
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("input"),
                                                       QJsonObject{{QStringLiteral("agent"), QString::fromUtf8(agentName)},
                                                                   {QStringLiteral("tool"), QString::fromUtf8(tool)}}}})
                                .toJson(QJsonDocument::Compact);
    QPointer<ProviderGate> self(this);
    const std::optional<qint64> spend = intAttr(span, "breaker.spend.amount_minor");
    const QByteArray currency = stringAttr(span, "breaker.spend.currency");
    m_http->send("POST", m_endpoints.decisionUrl, {{"Content-Type", "application/json"}}, body,
                 [self, agentName, tool, spend, currency, answer](const Result<Net::ClientReply> &reply) {
                     if (!self)
                         return;
                     // The gateway fails closed: no decision, no tool call.
                     if (!reply.ok() || reply->status != 200) {
                         auto v = blocked("tools", "policy_unavailable",
                                          "the tool gateway could not get a decision for " + tool + ": "
                                              + (reply.ok() ? "HTTP " + QByteArray::number(reply->status)
                                                            : reply.error().message.toUtf8()));
                         answer(std::move(v));
                         return;
                     }
                     const QJsonObject doc = QJsonDocument::fromJson(reply->body).object();
                     const QJsonValue result = doc.value(QStringLiteral("result"));
                     if (result.isBool() && !result.toBool()) {
                         auto v = blocked("tools", "policy_denied", "blocked by policy: " + tool
                                                                        + " is blocked for " + agentName
                                                                        + " by the kill switch");
                         v.attributes.push_back(attr("breaker.policy.decision", "deny"));
                         v.attributes.push_back(attr("breaker.policy.reason", "kill switch: tool blocked for " + agentName));
                         answer(std::move(v));
                         return;
                     }
                     if (spend && *spend > 0)
                         self->pay(agentName, *spend, currency.isEmpty() ? QByteArray("usd") : currency, answer);
                     else
                         answer({});
                 });
}

void ProviderGate::pay(const QByteArray &agentName, qint64 amountMinor, const QByteArray &currency,
                       std::function<void(SandboxRun::StepVerdict)> answer)
{
    const AgentCredentials c = m_agents.value(agentName);
    if (c.cardId.isEmpty() || !m_endpoints.stripeBase.isValid()) {
        answer({});
        return;
    }
    QUrl url = m_endpoints.stripeBase;
    url.setPath(url.path().chopped(url.path().endsWith(QLatin1Char('/')) ? 1 : 0)
                + QStringLiteral("/v1/test_helpers/issuing/authorizations"));
    const QByteArray body = form({{"card", c.cardId},
                                  {"amount", QByteArray::number(amountMinor)},
                                  {"currency", currency},
                                  {"merchant_data[name]", "Sandbox refunds desk"},
                                  {"merchant_data[category]", "computer_software_stores"}});
    QPointer<ProviderGate> self(this);
    m_http->send("POST", url,
                 {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Authorization", "Bearer " + m_endpoints.stripeKey}},
                 body, [self, c, answer](const Result<Net::ClientReply> &reply) {
                     if (!self)
                         return;
                     if (!reply.ok() || reply->status != 200) {
                         QByteArray why = reply.ok() ? "HTTP " + QByteArray::number(reply->status) : reply.error().message.toUtf8();
                         if (reply.ok()) {
                             const QJsonObject e = QJsonDocument::fromJson(reply->body).object().value(QStringLiteral("error")).toObject();
                             if (!e.isEmpty())
                                 why += ": " + e.value(QStringLiteral("message")).toString().toUtf8();
                         }
                         answer(blocked("payment", "payment_unavailable", "the card could not be charged: " + why));
                         return;
                     }
                     const QJsonObject auth = QJsonDocument::fromJson(reply->body).object();
                     if (auth.value(QStringLiteral("approved")).toBool())
                         return answer({});
                     QByteArray reason = "declined";
                     const QJsonArray history = auth.value(QStringLiteral("request_history")).toArray();
                     if (!history.isEmpty())
                         reason = history.last().toObject().value(QStringLiteral("reason")).toString().toUtf8();
                     auto v = blocked("payment", "card_declined",
                                      "card " + c.cardId + " declined the authorization (" + reason + ")");
                     v.attributes.push_back(attr("stripe.authorization.id", auth.value(QStringLiteral("id")).toString().toUtf8()));
                     v.attributes.push_back(attr("stripe.decline_reason", reason));
                     answer(std::move(v));
                 });
}

} // namespace Breaker
