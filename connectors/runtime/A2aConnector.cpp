#include "connectors/runtime/A2aConnector.h"

#include "models/Logging.h"
#include "models/Profile.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QPointer>
#include <QThreadPool>
#include <QUrlQuery>
#include <QTimeZone>
#include <QUuid>

#include <algorithm>

namespace Breaker {

namespace {

constexpr int kDefaultTimeoutMs = 10000;
constexpr int kListPageSize = 100;
constexpr qsizetype kParseOffThreadBytes = 16 * 1024; // an answer this big is parsed off this thread
constexpr int kFirstPollPages = 10;   // 1,000 tasks at start
constexpr int kPollPages = 20;        // at most 2,000 changed tasks per poll
constexpr qint64 kWatermarkSlackMs = 2000;
constexpr qsizetype kMaxRemembered = 20000;

QString taskPath(const QByteArray &taskId)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(QString::fromUtf8(taskId)));
}

Result<RuntimeRun> taskFromResult(const QJsonObject &result, const QString &provider)
{
    // SendMessage answers {"task": …} or {"message": …} (v1.0); v0.3 answers the Task or the
    // Message itself, tagged by kind. Get and Cancel answer the Task in both.
    if (result.value(QLatin1String("task")).isObject())
        return A2a::parseTask(result.value(QLatin1String("task")).toObject());
    if (result.value(QLatin1String("message")).isObject()
        || result.value(QLatin1String("kind")).toString() == QLatin1String("message"))
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1 answered with a message, not a task").arg(provider),
                         provider);
    auto run = A2a::parseTask(result);
    if (!run) {
        Error e = run.error();
        e.message = QStringLiteral("%1 answered a malformed task: %2").arg(provider, e.message);
        e.where = provider;
        return e;
    }
    return run;
}

} // namespace

A2aConnector::A2aConnector(const ProviderConfig &config, QByteArray bearer, QObject *parent)
    : RuntimeConnector(parent)
    , m_provider(config.name.toUtf8())
    , m_profileUrl(config.url)
    , m_bearer(std::move(bearer))
{
    Net::ClientOptions options;
    options.provider = config.name;
    options.timeoutMs = config.timeoutS ? int(*config.timeoutS * 1000) : kDefaultTimeoutMs;
    options.caFile = config.caFile;
    options.proxy = config.proxy;
    m_http = new Net::HttpClient(options, this);
    m_pollTimer.setObjectName(QStringLiteral("A2aConnector poll"));
    m_watchPollTimer.setObjectName(QStringLiteral("A2aConnector watch poll"));
    m_pollTimer.setSingleShot(true);
    connect(&m_pollTimer, &QTimer::timeout, this, &A2aConnector::poll);
    m_watchPollTimer.setInterval(1000);
    connect(&m_watchPollTimer, &QTimer::timeout, this, &A2aConnector::pollWatched);
}

A2aConnector::~A2aConnector()
{
    for (const auto &watch : std::as_const(m_watches))
        Net::HttpClient::abort(watch->reply);
}

Net::HttpClient::Headers A2aConnector::headers(bool json) const
{
    Net::HttpClient::Headers h;
    const bool v1 = !m_endpoint || m_endpoint->dialect == A2a::Dialect::V1_0;
    if (v1)
        h.append(std::pair<QByteArray, QByteArray>("A2A-Version", "1.0"));
    if (json) {
        const bool rest = m_endpoint && m_endpoint->binding == A2a::Binding::HttpJson;
        h.append(std::pair<QByteArray, QByteArray>(
            "Content-Type", rest && v1 ? "application/a2a+json" : "application/json"));
    }
    h.append(std::pair<QByteArray, QByteArray>("Accept", "application/json, application/a2a+json, text/event-stream"));
    if (!m_bearer.isEmpty())
        h.append(std::pair<QByteArray, QByteArray>("Authorization", "Bearer " + m_bearer));
    return h;
}

void A2aConnector::discover(RuntimeCallback<RuntimeCapabilities> done)
{
    // A new discovery: the card may have changed (a redeploy, another dialect).
    m_endpoint.reset();
    ensureDiscovered([this, done = std::move(done)](const Result<void> &r) {
        if (!r)
            done(r.error());
        else
            done(m_capabilities);
    });
}

void A2aConnector::ensureDiscovered(std::function<void(const Result<void> &)> then)
{
    if (m_endpoint) {
        then({});
        return;
    }
    m_discoveryWaiters.push_back(std::move(then));
    if (m_discovering)
        return;
    m_discovering = true;
    if (linkState() == LinkState::Idle)
        setLinkState(LinkState::Connecting, QStringLiteral("reading the agent card"));
    if (auto ca = m_http->loadCaFile(); !ca) {
        finishDiscovery(ca.error());
        return;
    }
    QUrl cardUrl = m_profileUrl;
    const bool namesCard = m_profileUrl.path().endsWith(QLatin1String(".json"));
    if (!namesCard)
        cardUrl = m_profileUrl.resolved(QUrl(QStringLiteral("/.well-known/agent-card.json")));
    fetchCard(cardUrl, !namesCard);
}

void A2aConnector::fetchCard(const QUrl &cardUrl, bool fallbackAllowed)
{
    Net::HttpClient::Headers h{{"A2A-Version", "1.0"}, {"Accept", "application/json"}};
    if (!m_bearer.isEmpty())
        h.append(std::pair<QByteArray, QByteArray>("Authorization", "Bearer " + m_bearer));
    m_http->send("GET", cardUrl, h, {}, [this, cardUrl, fallbackAllowed](const Result<Net::ClientReply> &r) {
        if (!r) {
            finishDiscovery(r.error());
            return;
        }
        if (r->status == 404 && fallbackAllowed) {
            // Up to A2A 0.2.6 the card lived at /.well-known/agent.json.
            fetchCard(cardUrl.resolved(QUrl(QStringLiteral("/.well-known/agent.json"))), false);
            return;
        }
        if (r->status / 100 != 2) {
            finishDiscovery(makeError(Error::Kind::Unavailable,
                                      QStringLiteral("%1: the agent card at %2 answered HTTP %3")
                                          .arg(QString::fromUtf8(m_provider),
                                               cardUrl.toString(),
                                               QString::number(r->status)),
                                      QString::fromUtf8(m_provider)));
            return;
        }
        auto endpoint = A2a::chooseEndpoint(r->body, cardUrl, m_profileUrl, m_dialectOverride);
        if (!endpoint) {
            Error e = endpoint.error();
            e.message = QStringLiteral("%1: %2").arg(QString::fromUtf8(m_provider), e.message);
            e.where = QString::fromUtf8(m_provider);
            finishDiscovery(e);
            return;
        }
        finishDiscovery(*endpoint);
    });
}

void A2aConnector::finishDiscovery(const Result<A2a::Endpoint> &endpoint)
{
    m_discovering = false;
    auto waiters = std::exchange(m_discoveryWaiters, {});
    if (!endpoint) {
        setLinkState(LinkState::Down, endpoint.error().message);
        for (auto &w : waiters)
            w(endpoint.error());
        return;
    }
    m_endpoint = *endpoint;
    const bool v1 = m_endpoint->dialect == A2a::Dialect::V1_0;
    const bool rest = m_endpoint->binding == A2a::Binding::HttpJson;
    m_capabilities = {};
    // v0.3 has no list: JSON-RPC answers -32601, and a2a-js's v0.3 REST falls through to its
    // 1.0 router and answers an empty list (tests/data/a2a/README.md) — which would look like
    // "no tasks". Such runs are learnt from their spans instead (RuntimeService).
    m_capabilities.list = v1;
    Q_UNUSED(rest);
    m_capabilities.follow = m_endpoint->streaming;
    m_capabilities.get = true;
    m_capabilities.cancel = true;
    m_capabilities.terminate = false; // A2A has only the cooperative cancel
    m_capabilities.answer = true;
    m_capabilities.dialect = A2a::dialectName(m_endpoint->dialect, m_endpoint->binding);
    qCInfo(lcRuntime) << m_provider << "speaks" << m_capabilities.dialect << "at"
                      << m_endpoint->url.toString();
    setLinkState(LinkState::Connected, m_capabilities.dialect);
    for (auto &w : waiters)
        w({});
}

QUrl A2aConnector::restUrl(const QString &path) const
{
    QUrl url = m_endpoint->url;
    QString base = url.path();
    if (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    if (!m_endpoint->tenant.isEmpty())
        base += QLatin1Char('/') + QString::fromLatin1(QUrl::toPercentEncoding(m_endpoint->tenant));
    if (m_endpoint->dialect == A2a::Dialect::V0_3)
        base += QStringLiteral("/v1");
    const qsizetype q = path.indexOf(QLatin1Char('?'));
    url.setPath(base + (q < 0 ? path : path.first(q)), QUrl::TolerantMode);
    url.setQuery(q < 0 ? QString() : path.sliced(q + 1));
    return url;
}

void A2aConnector::call(A2a::Op op, const QByteArray &taskId, const QJsonObject &params, JsonDone done)
{
    const QString provider = QString::fromUtf8(m_provider);
    if (m_endpoint->binding == A2a::Binding::JsonRpc) {
        const QByteArray method = A2a::jsonRpcMethod(op, m_endpoint->dialect);
        if (method.isEmpty()) {
            done(makeError(Error::Kind::Invalid,
                           QStringLiteral("%1 speaks %2, which has no such operation")
                               .arg(provider, m_capabilities.dialect),
                           provider));
            return;
        }
        const QByteArray body = A2a::jsonRpcRequest(method, params, m_nextRpcId++);
        m_http->send("POST", m_endpoint->url, headers(true), body,
                     [this, provider, done = std::move(done)](const Result<Net::ClientReply> &r) {
                         if (!r) {
                             done(r.error());
                             return;
                         }
                         decode(r->body, std::move(done), [status = r->status, provider](const QByteArray &bytes) {
                             auto result = A2a::parseJsonRpcResponse(bytes, provider);
                             if (!result && status / 100 != 2
                                 && result.error().message.contains(QLatin1String("not a JSON-RPC")))
                                 return Result<QJsonObject>(A2a::errorFromRest(status, bytes, provider));
                             return result;
                         });
                     });
        return;
    }
    // HTTP+JSON.
    QByteArray method = "GET";
    QString path;
    QByteArray body;
    const QString id = taskPath(taskId);
    switch (op) {
    case A2a::Op::Send:
        method = "POST";
        path = QStringLiteral("/message:send");
        body = QJsonDocument(params).toJson(QJsonDocument::Compact);
        break;
    case A2a::Op::Stream:
    case A2a::Op::Subscribe:
        done(makeError(Error::Kind::Internal, QStringLiteral("streams are opened by openStream")));
        return;
    case A2a::Op::Get:
        path = QStringLiteral("/tasks/%1?historyLength=0").arg(id);
        break;
    case A2a::Op::List: {
        QUrlQuery query;
        for (auto it = params.begin(); it != params.end(); ++it)
            query.addQueryItem(it.key(), it.value().isDouble() ? QString::number(it.value().toInteger())
                                                               : it.value().toString());
        path = QStringLiteral("/tasks");
        if (!query.isEmpty())
            path += QLatin1Char('?') + query.toString(QUrl::FullyEncoded);
        break;
    }
    case A2a::Op::Cancel:
        method = "POST";
        path = QStringLiteral("/tasks/%1:cancel").arg(id);
        body = "{}";
        break;
    }
    m_http->send(method, restUrl(path), headers(!body.isEmpty()), body,
                 [this, provider, done = std::move(done)](const Result<Net::ClientReply> &r) {
                     if (!r) {
                         done(r.error());
                         return;
                     }
                     if (r->status / 100 != 2) {
                         done(A2a::errorFromRest(r->status, r->body, provider));
                         return;
                     }
                     decode(r->body, std::move(done), [status = r->status, provider](const QByteArray &bytes) -> Result<QJsonObject> {
                         QJsonParseError pe;
                         const QJsonDocument doc = QJsonDocument::fromJson(bytes, &pe);
                         if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
                             return makeError(Error::Kind::Invalid,
                                              QStringLiteral("%1 answered HTTP %2 with a body that is not a "
                                                             "JSON object: %3")
                                                  .arg(provider)
                                                  .arg(status)
                                                  .arg(QString::fromUtf8(bytes.left(200)).simplified()),
                                              provider);
                         }
                         return doc.object();
                     });
                 });
}

void A2aConnector::decode(const QByteArray &body,
                          JsonDone done,
                          std::function<Result<QJsonObject>(const QByteArray &)> parse)
{
    // DESIGN.md section 3: nothing on the GUI thread parses JSON in bulk. A page of tasks (tens
    // of KB, every poll while a fleet is busy) is parsed on a pool thread and handed back to this
    // connector's thread; a small answer (one task, an error) is parsed here, at once.
    if (body.size() < kParseOffThreadBytes) {
        done(parse(body));
        return;
    }
    QPointer<A2aConnector> self(this);
    QThreadPool::globalInstance()->start([self, body, done = std::move(done), parse = std::move(parse)]() mutable {
        auto parsed = std::make_shared<Result<QJsonObject>>(parse(body));
        QMetaObject::invokeMethod(
            self.data(),
            [self, done = std::move(done), parsed] {
                if (self)
                    done(*parsed);
            },
            Qt::QueuedConnection);
    });
}

RuntimeRun A2aConnector::complete(RuntimeRun run) const
{
    run.provider = m_provider;
    run.kind = "a2a";
    run.key = "a2a:" + run.externalId;
    if (run.agentName.isEmpty() && m_endpoint)
        run.agentName = m_endpoint->agentName.toUtf8();
    return run;
}

void A2aConnector::getRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done)
{
    ensureDiscovered([this, externalId, done = std::move(done)](const Result<void> &d) {
        if (!d) {
            done(d.error());
            return;
        }
        call(A2a::Op::Get, externalId,
             QJsonObject{{QStringLiteral("id"), QString::fromUtf8(externalId)},
                         {QStringLiteral("historyLength"), 0}},
             [this, done](const Result<QJsonObject> &r) {
                 if (!r) {
                     done(r.error());
                     return;
                 }
                 auto run = taskFromResult(*r, QString::fromUtf8(m_provider));
                 if (!run) {
                     done(run.error());
                     return;
                 }
                 const RuntimeRun full = complete(*run);
                 reportTask(full);
                 done(full);
             });
    });
}

void A2aConnector::listRuns(const QByteArray &pageToken, int pageSize, RuntimeCallback<RuntimePage> done)
{
    ensureDiscovered([this, pageToken, pageSize, done = std::move(done)](const Result<void> &d) {
        if (!d) {
            done(d.error());
            return;
        }
        if (!m_capabilities.list) {
            done(makeError(Error::Kind::Invalid,
                           QStringLiteral("%1 speaks %2, which cannot list tasks")
                               .arg(QString::fromUtf8(m_provider), m_capabilities.dialect),
                           QString::fromUtf8(m_provider)));
            return;
        }
        QJsonObject params{{QStringLiteral("pageSize"), std::clamp(pageSize, 1, 100)},
                           {QStringLiteral("historyLength"), 0}};
        if (!pageToken.isEmpty())
            params.insert(QStringLiteral("pageToken"), QString::fromUtf8(pageToken));
        call(A2a::Op::List, {}, params, [this, done](const Result<QJsonObject> &r) {
            if (!r) {
                done(r.error());
                return;
            }
            RuntimePage page;
            for (const QJsonValue &v : r->value(QLatin1String("tasks")).toArray()) {
                auto run = A2a::parseTask(v.toObject());
                if (!run) {
                    qCWarning(lcRuntime) << m_provider << "listed a malformed task:" << run.error().message;
                    continue;
                }
                page.runs.push_back(complete(*run));
            }
            page.nextPageToken = r->value(QLatin1String("nextPageToken")).toString().toUtf8();
            if (r->contains(QLatin1String("totalSize")))
                page.totalSize = r->value(QLatin1String("totalSize")).toInteger();
            done(page);
        });
    });
}

void A2aConnector::cancelRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done)
{
    ensureDiscovered([this, externalId, done = std::move(done)](const Result<void> &d) {
        if (!d) {
            done(d.error());
            return;
        }
        qCInfo(lcRuntime) << m_provider << "cancel task" << externalId;
        call(A2a::Op::Cancel, externalId, QJsonObject{{QStringLiteral("id"), QString::fromUtf8(externalId)}},
             [this, done](const Result<QJsonObject> &r) {
                 if (!r) {
                     done(r.error());
                     return;
                 }
                 auto run = taskFromResult(*r, QString::fromUtf8(m_provider));
                 if (!run) {
                     done(run.error());
                     return;
                 }
                 const RuntimeRun full = complete(*run);
                 reportTask(full);
                 done(full);
             });
    });
}

void A2aConnector::answer(const QByteArray &externalId, const ApprovalAnswer &answer,
                          RuntimeCallback<RuntimeRun> done)
{
    // Read the task first: the answer must go to the same context, and a task that no longer
    // waits was answered by someone else (or expired) — say so rather than send into the void.
    getRun(externalId, [this, externalId, answer, done = std::move(done)](const Result<RuntimeRun> &current) {
        if (!current) {
            done(current.error());
            return;
        }
        if (!A2a::isInterrupted(current->rawState)) {
            done(makeError(Error::Kind::Conflict,
                           QStringLiteral("%1: task %2 no longer waits for an answer: it is %3 "
                                          "(someone else may have answered it)")
                               .arg(QString::fromUtf8(m_provider), QString::fromUtf8(externalId),
                                    QString::fromUtf8(current->rawState)),
                           QString::fromUtf8(m_provider)));
            return;
        }
        const QByteArray messageId = QUuid::createUuid().toString(QUuid::WithoutBraces).toUtf8();
        const QJsonObject message = A2a::answerMessage(answer, externalId, current->contextId, messageId,
                                                       m_endpoint->dialect, m_endpoint->binding);
        QJsonObject configuration;
        if (m_endpoint->dialect == A2a::Dialect::V1_0)
            configuration.insert(QStringLiteral("returnImmediately"), true);
        else
            configuration.insert(QStringLiteral("blocking"), false);
        call(A2a::Op::Send, externalId,
             QJsonObject{{QStringLiteral("message"), message}, {QStringLiteral("configuration"), configuration}},
             [this, done](const Result<QJsonObject> &r) {
                 if (!r) {
                     done(r.error());
                     return;
                 }
                 auto run = taskFromResult(*r, QString::fromUtf8(m_provider));
                 if (!run) {
                     done(run.error());
                     return;
                 }
                 const RuntimeRun full = complete(*run);
                 reportTask(full);
                 done(full);
             });
    });
}

void A2aConnector::startTask(const QString &text, const QJsonObject &data, RuntimeCallback<RuntimeRun> done)
{
    ensureDiscovered([this, text, data, done = std::move(done)](const Result<void> &d) {
        if (!d) {
            done(d.error());
            return;
        }
        const bool v1 = m_endpoint->dialect == A2a::Dialect::V1_0;
        QJsonArray parts{QJsonObject{{QStringLiteral("text"), text}}};
        if (!data.isEmpty())
            parts.append(QJsonObject{{QStringLiteral("data"), data}});
        const QJsonObject message
            = A2a::userMessage(parts, {}, {}, QUuid::createUuid().toString(QUuid::WithoutBraces).toUtf8(),
                               m_endpoint->dialect, m_endpoint->binding);
        const QJsonObject configuration = v1 ? QJsonObject{{QStringLiteral("returnImmediately"), true}}
                                             : QJsonObject{{QStringLiteral("blocking"), false}};
        call(A2a::Op::Send, {},
             QJsonObject{{QStringLiteral("message"), message}, {QStringLiteral("configuration"), configuration}},
             [this, done](const Result<QJsonObject> &r) {
                 if (!r) {
                     done(r.error());
                     return;
                 }
                 auto run = taskFromResult(*r, QString::fromUtf8(m_provider));
                 if (!run) {
                     done(run.error());
                     return;
                 }
                 const RuntimeRun full = complete(*run);
                 reportTask(full);
                 done(full);
             });
    });
}

void A2aConnector::reportTask(const RuntimeRun &run)
{
    // Report a task only when something the operator sees changed.
    QByteArray signature = run.rawState + '@' + QByteArray::number(run.updatedMs);
    if (run.updatedMs == 0)
        signature += '#' + run.statusText.toUtf8();
    auto it = m_lastSeen.find(run.externalId);
    if (it != m_lastSeen.end()) {
        if (*it == signature)
            return;
        *it = signature;
    } else {
        m_lastSeen.insert(run.externalId, signature);
        m_lastSeenOrder.push_back(run.externalId);
        while (qsizetype(m_lastSeenOrder.size()) > kMaxRemembered) {
            m_lastSeen.remove(m_lastSeenOrder.front());
            m_lastSeenOrder.pop_front();
        }
    }
    emit runUpdated(run);
}

// ---- following -----------------------------------------------------------------------------

void A2aConnector::startFollowing()
{
    if (m_following)
        return;
    m_following = true;
    m_failures = 0;
    poll();
}

void A2aConnector::stopFollowing()
{
    m_following = false;
    m_pollTimer.stop();
}

void A2aConnector::poll()
{
    if (!m_following || m_pollInFlight)
        return;
    m_pollInFlight = true;
    ensureDiscovered([this](const Result<void> &d) {
        if (!d) {
            m_pollInFlight = false;
            pollFailed(d.error());
            return;
        }
        if (!m_capabilities.list) {
            // Nothing to list: runs are learnt from telemetry (watchRun) and polled one by one.
            m_pollInFlight = false;
            setLinkState(LinkState::Connected, m_capabilities.dialect + QStringLiteral(" (no task list; runs are followed from telemetry)"));
            return;
        }
        pollPage({}, m_watermarkMs == 0 ? kFirstPollPages : kPollPages, m_watermarkMs, 0);
    });
}

void A2aConnector::pollPage(const QByteArray &pageToken, int pagesLeft, qint64 newestSeen, qint64 oldestSeen)
{
    QJsonObject params{{QStringLiteral("pageSize"), kListPageSize}, {QStringLiteral("historyLength"), 0}};
    if (!pageToken.isEmpty())
        params.insert(QStringLiteral("pageToken"), QString::fromUtf8(pageToken));
    const qint64 after = m_watermarkMs > 0 ? m_watermarkMs - kWatermarkSlackMs : 0;
    if (after > 0)
        params.insert(QStringLiteral("statusTimestampAfter"),
                      QDateTime::fromMSecsSinceEpoch(after, Qt::UTC).toString(Qt::ISODateWithMs));
    call(A2a::Op::List, {}, params,
         [this, pagesLeft, newestSeen, oldestSeen, after, pageToken](const Result<QJsonObject> &r) {
        if (!r) {
            m_pollInFlight = false;
            pollFailed(r.error());
            return;
        }
        qint64 newest = newestSeen;
        qint64 oldest = oldestSeen;
        bool allOlder = true;
        const QJsonArray tasks = r->value(QLatin1String("tasks")).toArray();
        for (const QJsonValue &v : tasks) {
            auto run = A2a::parseTask(v.toObject());
            if (!run) {
                qCWarning(lcRuntime) << m_provider << "listed a malformed task:" << run.error().message;
                continue;
            }
            newest = std::max(newest, run->updatedMs);
            if (run->updatedMs > 0)
                oldest = oldest == 0 ? run->updatedMs : std::min(oldest, run->updatedMs);
            if (run->updatedMs == 0 || run->updatedMs > after)
                allOlder = false;
            reportTask(complete(*run));
        }
        const QByteArray next = r->value(QLatin1String("nextPageToken")).toString().toUtf8();
        // A server that ignores statusTimestampAfter still lists newest first: stop at a page
        // that holds nothing newer than the watermark.
        if (!next.isEmpty() && pagesLeft > 1 && !(after > 0 && allOlder)) {
            pollPage(next, pagesLeft - 1, newest, oldest);
            return;
        }
        // Complete when the list ended (or reached what was already seen). a2a-js's page
        // token names the last task of the page; when that task changed meanwhile the next page
        // comes back empty, and the page limit may cut a long list: then only what is newer
        // than the oldest task seen is known to be covered, and the watermark stops there.
        const bool cursorLost = !pageToken.isEmpty() && tasks.isEmpty();
        const bool cut = !next.isEmpty() && pagesLeft <= 1 && !(after > 0 && allOlder);
        m_pollInFlight = false;
        m_watermarkMs = std::max(m_watermarkMs, (cursorLost || cut) ? oldest : newest);
        m_failures = 0;
        setLinkState(LinkState::Connected, m_capabilities.dialect);
        if (m_following)
            m_pollTimer.start(m_pollIntervalMs);
    });
}

void A2aConnector::pollFailed(const Error &error)
{
    ++m_failures;
    setLinkState(m_failures >= 3 ? LinkState::Down : LinkState::Degraded, error.message);
    qCWarning(lcRuntime) << m_provider << "poll failed:" << error.message;
    // Backoff: 1, 2, 4, 8, 16, 30 s. A changed card (redeploy) is read again after a failure.
    const int delay = std::min(30000, m_pollIntervalMs << std::min(m_failures, 5));
    if (m_failures >= 2)
        m_endpoint.reset();
    if (m_following)
        m_pollTimer.start(delay);
}

void A2aConnector::watchRun(const QByteArray &externalId)
{
    if (m_watches.contains(externalId) || m_polledWatches.contains(externalId))
        return;
    ensureDiscovered([this, externalId](const Result<void> &d) {
        if (!d || m_watches.contains(externalId) || m_polledWatches.contains(externalId))
            return;
        if (m_endpoint->streaming && m_watches.size() < m_maxStreams) {
            m_watches.insert(externalId, std::make_shared<Watch>());
            openStream(externalId);
        } else {
            m_polledWatches.insert(externalId);
            if (!m_watchPollTimer.isActive())
                m_watchPollTimer.start();
        }
    });
}

void A2aConnector::openStream(const QByteArray &taskId)
{
    auto watch = m_watches.value(taskId);
    if (!watch)
        return;
    watch->parser = SseParser();
    const QString provider = QString::fromUtf8(m_provider);
    const bool jsonRpc = m_endpoint->binding == A2a::Binding::JsonRpc;
    QUrl url;
    QByteArray body;
    if (jsonRpc) {
        url = m_endpoint->url;
        body = A2a::jsonRpcRequest(A2a::jsonRpcMethod(A2a::Op::Subscribe, m_endpoint->dialect),
                                   QJsonObject{{QStringLiteral("id"), QString::fromUtf8(taskId)}}, m_nextRpcId++);
    } else {
        url = restUrl(QStringLiteral("/tasks/%1:subscribe").arg(taskPath(taskId)));
        body = "{}";
    }
    Net::HttpClient::Stream stream;
    stream.onStatus = [](const Net::ClientReply &head) {
        return head.status / 100 == 2 && head.contentType.startsWith("text/event-stream");
    };
    stream.onBytes = [this, taskId, watch, jsonRpc, provider](const QByteArray &chunk) {
        for (const SseEvent &event : watch->parser.feed(chunk)) {
            const QJsonDocument doc = QJsonDocument::fromJson(event.data);
            QJsonObject response = doc.object();
            if (jsonRpc) {
                if (response.value(QLatin1String("error")).isObject()) {
                    // v0.3 answers a subscribe to a finished task with an error event inside
                    // the stream; read the task once more and stop watching it.
                    const Error e = A2a::errorFromJsonRpc(response.value(QLatin1String("error")).toObject(), provider);
                    qCInfo(lcRuntime) << "stream of task" << taskId << ":" << e.message;
                    watch->done = true;
                    getRun(taskId, [](const Result<RuntimeRun> &) {});
                    continue;
                }
                response = response.value(QLatin1String("result")).toObject();
            }
            auto parsed = A2a::parseStreamResponse(response);
            if (!parsed) {
                qCWarning(lcRuntime) << m_provider << "sent a stream event Breaker cannot read:"
                                     << parsed.error().message;
                continue;
            }
            if (parsed->type == A2a::StreamEvent::Type::Task
                || parsed->type == A2a::StreamEvent::Type::StatusUpdate) {
                if (parsed->run.externalId.isEmpty())
                    parsed->run.externalId = taskId;
                reportTask(complete(parsed->run));
            }
            if (parsed->final)
                watch->done = true;
        }
        if (watch->parser.failed()) {
            qCWarning(lcRuntime) << m_provider << "sent an event larger than"
                                 << watch->parser.maxEventBytes() << "bytes; reconnecting";
            Net::HttpClient::abort(watch->reply);
            streamEnded(taskId, makeError(Error::Kind::Invalid, QStringLiteral("oversized event")));
        }
    };
    stream.onEnd = [this, taskId, watch, jsonRpc, provider](const Result<Net::ClientReply> &end) {
        if (!m_watches.contains(taskId))
            return;
        if (!end) {
            streamEnded(taskId, end.error());
            return;
        }
        if (!end->body.isEmpty() || !end->contentType.startsWith("text/event-stream")) {
            // Not a stream: an error answer (a terminal task gets UnsupportedOperation).
            Error e = jsonRpc ? A2a::parseJsonRpcResponse(end->body, provider).error()
                              : A2a::errorFromRest(end->status, end->body, provider);
            if (jsonRpc && A2a::parseJsonRpcResponse(end->body, provider).ok())
                e = makeError(Error::Kind::Invalid, QStringLiteral("%1 answered a subscribe without a stream").arg(provider));
            if (e.kind == Error::Kind::Conflict || e.kind == Error::Kind::NotFound) {
                // Terminal or gone: read it once more and stop watching.
                watch->done = true;
                getRun(taskId, [](const Result<RuntimeRun> &) {});
            }
            streamEnded(taskId, e);
            return;
        }
        watch->parser.finish();
        streamEnded(taskId, std::nullopt);
    };
    watch->reply = m_http->openStream("POST", url, headers(true), body, std::move(stream), 0);
}

void A2aConnector::streamEnded(const QByteArray &taskId, const std::optional<Error> &error)
{
    auto watch = m_watches.value(taskId);
    if (!watch)
        return;
    if (watch->done) {
        m_watches.remove(taskId);
        return;
    }
    ++watch->attempts;
    if (error)
        qCInfo(lcRuntime) << m_provider << "stream of task" << taskId << "ended:" << error->message;
    if (watch->attempts > 5) {
        // The stream keeps failing: fall back to reading the task every second.
        m_watches.remove(taskId);
        m_polledWatches.insert(taskId);
        if (!m_watchPollTimer.isActive())
            m_watchPollTimer.start();
        return;
    }
    const int delay = std::min(10000, 250 << watch->attempts);
    QTimer::singleShot(delay, this, [this, taskId] {
        if (m_watches.contains(taskId))
            openStream(taskId);
    });
}

void A2aConnector::pollWatched()
{
    if (m_polledWatches.isEmpty()) {
        m_watchPollTimer.stop();
        return;
    }
    const QList<QByteArray> ids = m_polledWatches.values();
    for (const QByteArray &id : ids) {
        getRun(id, [this, id](const Result<RuntimeRun> &r) {
            if ((r && isTerminal(r->status)) || (!r && r.error().kind == Error::Kind::NotFound))
                m_polledWatches.remove(id);
        });
    }
}

} // namespace Breaker
