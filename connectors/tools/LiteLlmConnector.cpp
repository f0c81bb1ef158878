#include "connectors/tools/LiteLlmConnector.h"

#include "models/Profile.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QTimer>
#include <QUrlQuery>

namespace Breaker {

namespace {

constexpr int kDefaultTimeoutMs = 10000;

QString joined(const QStringList &tools)
{
    return tools.join(QStringLiteral(", "));
}

QStringList stringsOf(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &e : v.toArray())
        out << e.toString();
    return out;
}

QStringList blockedToolsOf(const QJsonObject &info)
{
    return stringsOf(info.value(QLatin1String("object_permission"))
                         .toObject()
                         .value(QLatin1String("blocked_tools")));
}

// LiteLLM answers errors as {"error":{"message","type","param","code"}} (ProxyException) or
// FastAPI's {"detail": …}.
QString liteLlmErrorWords(const QByteArray &body)
{
    const QJsonDocument d = QJsonDocument::fromJson(body);
    if (!d.isObject())
        return {};
    const QJsonObject o = d.object();
    if (o.value(QLatin1String("error")).isObject()) {
        const QJsonObject e = o.value(QLatin1String("error")).toObject();
        const QString type = e.value(QLatin1String("type")).toString();
        const QString message = e.value(QLatin1String("message")).toString();
        return type.isEmpty() ? message : type + QStringLiteral(": ") + message;
    }
    if (o.value(QLatin1String("error")).isString())
        return o.value(QLatin1String("error")).toString();
    const QJsonValue detail = o.value(QLatin1String("detail"));
    if (detail.isString())
        return detail.toString();
    if (detail.isObject()) {
        const QJsonValue e = detail.toObject().value(QLatin1String("error"));
        return e.isString() ? e.toString()
                            : QString::fromUtf8(
                                QJsonDocument(detail.toObject()).toJson(QJsonDocument::Compact));
    }
    return {};
}

} // namespace

struct LiteLlmConnector::Op
{
    LayerTarget target;
    LayerDeadlines deadlines;
    LayerDone done;
    bool block = true;
    QStringList tools;
    QElapsedTimer clock;
    QPointer<QTimer> timer;
    bool finished = false;
    bool verifying = false;
    QStringList blockedTools; // the key's list as read before acting
    QString keyWords;         // "key refund-prod" (its alias), never the key itself
};

LiteLlmConnector::LiteLlmConnector(const ProviderConfig &config,
                                   QByteArray masterKey,
                                   QObject *parent)
    : LayerConnector(parent)
    , m_provider(config.name.toUtf8())
    , m_base(config.url)
    , m_masterKey(std::move(masterKey))
{
    Net::ClientOptions options;
    options.connectionsPerHost = 24; // a global stop acts on many agents at once
    options.provider = config.name;
    options.timeoutMs = config.timeoutS ? int(*config.timeoutS * 1000) : kDefaultTimeoutMs;
    options.caFile = config.caFile;
    options.proxy = config.proxy;
    m_http = new Net::HttpClient(options, this);
}

LiteLlmConnector::~LiteLlmConnector()
{
    // Replies still in flight end with the client; their callbacks must not reach a half-destroyed
    // connector, and an owner that destroys us expects no answer.
    m_destroying = true;
    delete m_http;
    m_http = nullptr;
}

void LiteLlmConnector::send(const QByteArray &method,
                            const QString &path,
                            const QByteArray &query,
                            const QByteArray &bearer,
                            const QByteArray &body,
                            Reply done)
{
    if (m_destroying) {
        done(makeError(
            Error::Kind::Unavailable,
            QStringLiteral("%1: the connector is closing").arg(QString::fromUtf8(m_provider)),
            QString::fromUtf8(m_provider)));
        return;
    }
    if (!m_caChecked) {
        if (auto ca = m_http->loadCaFile(); !ca) {
            done(ca.error());
            return;
        }
        m_caChecked = true;
    }
    QUrl url = m_base;
    QString base = url.path();
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    url.setPath(base + path);
    url.setQuery(QString::fromLatin1(query), QUrl::StrictMode);
    Net::HttpClient::Headers headers;
    headers.emplace_back("Accept", "application/json");
    if (!body.isEmpty())
        headers.emplace_back("Content-Type", "application/json");
    if (!bearer.isEmpty())
        headers.emplace_back("Authorization", "Bearer " + bearer);
    m_http->send(method, url, headers, body, std::move(done));
}

QString LiteLlmConnector::answerWords(const Net::ClientReply &reply, const QString &what) const
{
    QString words = QStringLiteral("%1 answered HTTP %2 to %3")
                        .arg(QString::fromUtf8(m_provider))
                        .arg(reply.status)
                        .arg(what);
    if (reply.status == 401 || reply.status == 403)
        words += QStringLiteral(" (the master key was refused: check the provider's api_key)");
    const QString said = liteLlmErrorWords(reply.body);
    if (!said.isEmpty())
        words += QStringLiteral(": ") + said;
    return words;
}

void LiteLlmConnector::keyInfo(const QByteArray &key, InfoDone done)
{
    // The key travels in the query (LiteLLM's only form of /key/info); HttpClient's error words
    // drop the query, so it never reaches a message.
    const QByteArray query = "key=" + QUrl::toPercentEncoding(QString::fromUtf8(key));
    send("GET",
         QStringLiteral("/key/info"),
         query,
         m_masterKey,
         {},
         [this, done = std::move(done)](const Result<Net::ClientReply> &r) {
             if (!r) {
                 done(r.error());
                 return;
             }
             const QString provider = QString::fromUtf8(m_provider);
             if (r->status / 100 != 2) {
                 done(makeError(r->status == 404 ? Error::Kind::NotFound : Error::Kind::Unavailable,
                                answerWords(*r, QStringLiteral("GET /key/info")),
                                provider));
                 return;
             }
             const QJsonDocument d = QJsonDocument::fromJson(r->body);
             if (!d.isObject() || !d.object().value(QLatin1String("info")).isObject()) {
                 done(makeError(
                     Error::Kind::Invalid,
                     QStringLiteral("%1 answered GET /key/info with something that is not "
                                    "{\"key\",\"info\":{…}} (%2)")
                         .arg(provider, QString::fromUtf8(r->body.left(80)).simplified()),
                     provider));
                 return;
             }
             done(d.object().value(QLatin1String("info")).toObject());
         });
}

std::shared_ptr<LiteLlmConnector::Op> LiteLlmConnector::startOp(const LayerTarget &target,
                                                                const LayerDeadlines &deadlines,
                                                                LayerDone done,
                                                                bool block)
{
    auto op = std::make_shared<Op>();
    op->target = target;
    op->deadlines = deadlines;
    op->done = std::move(done);
    op->block = block;
    for (const QString &t : target.tools) {
        if (!op->tools.contains(t))
            op->tools << t;
    }
    op->keyWords = QStringLiteral("the key of %1").arg(QString::fromUtf8(target.agent));
    op->clock.start();
    op->timer = new QTimer(this);
    op->timer->setSingleShot(true);
    connect(op->timer, &QTimer::timeout, this, [this, op] {
        const QString provider = QString::fromUtf8(m_provider);
        if (!op->verifying)
            finish(
                op,
                LayerOutcome::Failed,
                QStringLiteral("%1 did not accept the %2 within %3 ms")
                    .arg(provider, op->block ? QStringLiteral("block") : QStringLiteral("unblock"))
                    .arg(op->deadlines.actMs));
        else
            finish(
                op,
                LayerOutcome::DoneUnverified,
                QStringLiteral("%1 accepted the %2 of %3 but did not answer the read-back within "
                               "%4 ms")
                    .arg(provider,
                         op->block ? QStringLiteral("block") : QStringLiteral("unblock"),
                         op->keyWords,
                         QString::number(op->deadlines.verifyMs)));
    });
    op->timer->start(std::max(1, deadlines.actMs));
    return op;
}

void LiteLlmConnector::finish(const std::shared_ptr<Op> &op,
                              LayerOutcome outcome,
                              const QString &detail)
{
    if (op->finished || m_destroying)
        return;
    op->finished = true;
    if (op->timer) {
        op->timer->stop();
        op->timer->deleteLater();
    }
    StopLayerResult row;
    row.layer = layer();
    row.agent = op->target.agent;
    row.run = op->target.run;
    row.provider = m_provider;
    row.target = "key of " + op->target.agent;
    if (!op->tools.isEmpty())
        row.target += ", tools " + joined(op->tools).toUtf8();
    row.action = op->block ? "block" : "unblock";
    row.outcome = outcome;
    row.detail = detail;
    row.ms = op->clock.elapsed();
    auto done = std::move(op->done);
    done({row});
}

void LiteLlmConnector::contain(const LayerTarget &target,
                               const LayerDeadlines &deadlines,
                               LayerDone done)
{
    auto op = startOp(target, deadlines, std::move(done), true);
    act(op);
}

void LiteLlmConnector::release(const LayerTarget &target,
                               const LayerDeadlines &deadlines,
                               LayerDone done)
{
    auto op = startOp(target, deadlines, std::move(done), false);
    act(op);
}

void LiteLlmConnector::act(const std::shared_ptr<Op> &op)
{
    if (op->target.agentKey.isEmpty()) {
        finish(op,
               LayerOutcome::SkippedNotConfigured,
               QStringLiteral("the agent has no LiteLLM key in the profile"));
        return;
    }
    // Read first: the tool list is merged, not overwritten, and the alias names the key.
    keyInfo(op->target.agentKey, [this, op](const Result<QJsonObject> &info) {
        if (op->finished)
            return;
        if (!info) {
            finish(op, LayerOutcome::Failed, info.error().message);
            return;
        }
        op->blockedTools = blockedToolsOf(*info);
        const QString alias = info->value(QLatin1String("key_alias")).toString();
        if (!alias.isEmpty())
            op->keyWords = QStringLiteral("key %1").arg(alias);
        const QString path
            = op->block ? QStringLiteral("/key/block") : QStringLiteral("/key/unblock");
        const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("key"),
                                                           QString::fromUtf8(op->target.agentKey)}})
                                    .toJson(QJsonDocument::Compact);
        send("POST",
             path,
             {},
             m_masterKey,
             body,
             [this, op, path](const Result<Net::ClientReply> &r) {
                 if (op->finished)
                     return;
                 if (!r) {
                     finish(op, LayerOutcome::Failed, r.error().message);
                     return;
                 }
                 if (r->status / 100 != 2) {
                     finish(
                         op, LayerOutcome::Failed, answerWords(*r, QStringLiteral("POST ") + path));
                     return;
                 }
                 updateTools(op);
             });
    });
}

void LiteLlmConnector::updateTools(const std::shared_ptr<Op> &op)
{
    QStringList wanted = op->blockedTools;
    for (const QString &t : std::as_const(op->tools)) {
        if (op->block && !wanted.contains(t))
            wanted << t;
        if (!op->block)
            wanted.removeAll(t);
    }
    if (wanted == op->blockedTools) {
        verify(op);
        return;
    }
    // Only blocked_tools is sent: LiteLLM updates the fields of object_permission it is given.
    const QJsonObject body{
        {QStringLiteral("key"), QString::fromUtf8(op->target.agentKey)},
        {QStringLiteral("object_permission"),
         QJsonObject{{QStringLiteral("blocked_tools"), QJsonArray::fromStringList(wanted)}}}};
    send("POST",
         QStringLiteral("/key/update"),
         {},
         m_masterKey,
         QJsonDocument(body).toJson(QJsonDocument::Compact),
         [this, op](const Result<Net::ClientReply> &r) {
             if (op->finished)
                 return;
             const QString keyState = op->block
                                          ? QStringLiteral("%1 is blocked").arg(op->keyWords)
                                          : QStringLiteral("%1 is unblocked").arg(op->keyWords);
             if (!r) {
                 finish(op,
                        LayerOutcome::Failed,
                        QStringLiteral("%1, but the tool list was not updated: %2")
                            .arg(keyState, r.error().message));
                 return;
             }
             if (r->status / 100 != 2) {
                 finish(op,
                        LayerOutcome::Failed,
                        QStringLiteral("%1, but the tool list was not updated: %2")
                            .arg(keyState, answerWords(*r, QStringLiteral("POST /key/update"))));
                 return;
             }
             verify(op);
         });
}

void LiteLlmConnector::verify(const std::shared_ptr<Op> &op)
{
    op->verifying = true;
    if (op->timer)
        op->timer->start(std::max(1, op->deadlines.verifyMs));
    keyInfo(op->target.agentKey, [this, op](const Result<QJsonObject> &info) {
        if (op->finished)
            return;
        const QString provider = QString::fromUtf8(m_provider);
        if (!info) {
            finish(op,
                   LayerOutcome::DoneUnverified,
                   QStringLiteral("%1 accepted the %2, but it could not be read back: %3")
                       .arg(provider,
                            op->block ? QStringLiteral("block") : QStringLiteral("unblock"),
                            info.error().message));
            return;
        }
        const bool blocked = info->value(QLatin1String("blocked")).toBool(false);
        const QStringList listed = blockedToolsOf(*info);
        QStringList wrong;
        for (const QString &t : std::as_const(op->tools)) {
            if (listed.contains(t) != op->block)
                wrong << t;
        }
        if (blocked != op->block) {
            finish(op,
                   LayerOutcome::Failed,
                   QStringLiteral("%1 reads back blocked: %2 for %3 after the %4")
                       .arg(provider,
                            blocked ? QStringLiteral("true") : QStringLiteral("false"),
                            op->keyWords,
                            op->block ? QStringLiteral("block") : QStringLiteral("unblock")));
            return;
        }
        if (!wrong.isEmpty()) {
            finish(op,
                   LayerOutcome::Failed,
                   op->block
                       ? QStringLiteral("%1 blocked %2, but blocked_tools reads back without %3")
                             .arg(provider, op->keyWords, joined(wrong))
                       : QStringLiteral("%1 unblocked %2, but blocked_tools still holds %3")
                             .arg(provider, op->keyWords, joined(wrong)));
            return;
        }
        // The agent's own key on a call that costs nothing: refused when blocked.
        send("GET",
             QStringLiteral("/v1/models"),
             {},
             op->target.agentKey,
             {},
             [this, op, provider](const Result<Net::ClientReply> &r) {
                 if (op->finished)
                     return;
                 const QString tools = op->tools.isEmpty()
                                           ? QString()
                                           : QStringLiteral("; blocked_tools %1 %2")
                                                 .arg(op->block ? QStringLiteral("holds")
                                                                : QStringLiteral("no longer holds"),
                                                      joined(op->tools));
                 if (!r) {
                     finish(
                         op,
                         LayerOutcome::DoneUnverified,
                         QStringLiteral("%1 reads back %2 as %3%4, but the key itself could not be "
                                        "tried: %5")
                             .arg(provider,
                                  op->keyWords,
                                  op->block ? QStringLiteral("blocked")
                                            : QStringLiteral("unblocked"),
                                  tools,
                                  r.error().message));
                     return;
                 }
                 const bool refused = r->status == 401 || r->status == 403;
                 if (op->block && !refused) {
                     finish(op,
                            LayerOutcome::Failed,
                            QStringLiteral("%1 reads back %2 as blocked, but still accepts it (GET "
                                           "/v1/models answered HTTP %3)")
                                .arg(provider, op->keyWords, QString::number(r->status)));
                     return;
                 }
                 if (!op->block && refused) {
                     finish(
                         op,
                         LayerOutcome::Failed,
                         QStringLiteral("%1 reads back %2 as unblocked, but still refuses it: %3")
                             .arg(provider,
                                  op->keyWords,
                                  answerWords(*r, QStringLiteral("GET /v1/models"))));
                     return;
                 }
                 finish(op,
                        LayerOutcome::Verified,
                        op->block ? QStringLiteral("%1 refuses %2 (HTTP %3)%4")
                                        .arg(provider, op->keyWords, QString::number(r->status), tools)
                                  : QStringLiteral("%1 accepts %2 again%3")
                                        .arg(provider, op->keyWords, tools));
             });
    });
}

void LiteLlmConnector::checkLeaks(const LayerTarget &target,
                                  qint64 sinceMs,
                                  std::function<void(Result<std::vector<LayerLeak>>)> done)
{
    // /key/info is the present state; LiteLLM's spend logs would tell what happened since
    // sinceMs, but need the enterprise UI's database. So: a key that reads unblocked is a leak.
    Q_UNUSED(sinceMs);
    if (target.agentKey.isEmpty()) {
        done(std::vector<LayerLeak>{});
        return;
    }
    const QByteArray agent = target.agent;
    const QStringList tools = target.tools;
    const QString provider = QString::fromUtf8(m_provider);
    keyInfo(target.agentKey,
            [agent, tools, provider, done = std::move(done)](const Result<QJsonObject> &info) {
                if (!info) {
                    done(info.error());
                    return;
                }
                std::vector<LayerLeak> leaks;
                const qint64 now = QDateTime::currentMSecsSinceEpoch();
                if (!info->value(QLatin1String("blocked")).toBool(false))
                    leaks.push_back({"tools",
                                     agent,
                                     QStringLiteral("%1 reads the key of %2 as not blocked")
                                         .arg(provider, QString::fromUtf8(agent)),
                                     now});
                const QStringList listed = blockedToolsOf(*info);
                QStringList missing;
                for (const QString &t : tools) {
                    if (!listed.contains(t))
                        missing << t;
                }
                if (!missing.isEmpty())
                    leaks.push_back({"tools",
                                     agent,
                                     QStringLiteral("%1 allows %2 for the key of %3")
                                         .arg(provider, joined(missing), QString::fromUtf8(agent)),
                                     now});
                done(leaks);
            });
}

void LiteLlmConnector::probe(std::function<void(Result<QString>)> done)
{
    const QString provider = QString::fromUtf8(m_provider);
    send("GET",
         QStringLiteral("/health/liveliness"),
         {},
         {},
         {},
         [this, provider, done = std::move(done)](const Result<Net::ClientReply> &r) {
             if (!r) {
                 done(r.error());
                 return;
             }
             if (r->status / 100 != 2) {
                 done(makeError(Error::Kind::Unavailable,
                                answerWords(*r, QStringLiteral("GET /health/liveliness")),
                                provider));
                 return;
             }
             // The authenticated part: one page of one key, which only an admin key may list.
             send("GET",
                  QStringLiteral("/key/list"),
                  "page=1&size=1",
                  m_masterKey,
                  {},
                  [this, provider, done](const Result<Net::ClientReply> &r2) {
                      if (!r2) {
                          done(r2.error());
                          return;
                      }
                      if (r2->status / 100 != 2) {
                          done(makeError(r2->status == 401 || r2->status == 403
                                             ? Error::Kind::Invalid
                                             : Error::Kind::Unavailable,
                                         answerWords(*r2, QStringLiteral("GET /key/list")),
                                         provider));
                          return;
                      }
                      done(QStringLiteral("%1 is alive and accepts the master key").arg(provider));
                  });
         });
}

} // namespace Breaker
