#include "connectors/runtime/CloudflareAgentsConnector.h"

#include "models/Logging.h"
#include "models/Profile.h"

#include <QDateTime>
#include <QFile>
#include <QNetworkProxy>
#include <QSslCertificate>
#include <QJsonDocument>
#include <QNetworkRequest>
#include <QWebSocket>

#include <algorithm>

namespace Breaker {

namespace {

constexpr int kDefaultTimeoutMs = 10000;
constexpr int kMaxBackoffSteps = 30; // 30 × the unit: 30 s

QByteArray compact(const QJsonValue &v)
{
    if (v.isObject())
        return QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact);
    if (v.isArray())
        return QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact);
    if (v.isUndefined())
        return {};
    // A scalar: wrap it so QJsonDocument can write it, then unwrap.
    QByteArray text = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
    return text.mid(1, text.size() - 2);
}

} // namespace

CloudflareAgentsConnector::CloudflareAgentsConnector(const ProviderConfig &config, QByteArray bearer,
                                                     const QStringList &selectors, QObject *parent)
    : RuntimeConnector(parent)
    , m_provider(config.name.toUtf8())
    , m_origin(config.url)
    , m_bearer(std::move(bearer))
    , m_stopMethod(config.stopMethod)
    , m_selectors(selectors)
    , m_timeoutMs(config.timeoutS ? int(*config.timeoutS * 1000) : kDefaultTimeoutMs)
{
    const QString provider = QString::fromUtf8(m_provider);
    if (auto probe = Cloudflare::agentUrl(m_origin, {QStringLiteral("a"), QStringLiteral("b")}); !probe) {
        m_configError = makeError(Error::Kind::Invalid, QStringLiteral("%1: %2").arg(provider, probe.error().message),
                                  provider);
        return;
    }
    m_ssl = QSslConfiguration::defaultConfiguration(); // peer verification stays VerifyPeer
    if (!config.caFile.isEmpty()) {
        QFile file(config.caFile);
        const QList<QSslCertificate> certs = file.open(QIODevice::ReadOnly)
                                                 ? QSslCertificate::fromData(file.readAll(), QSsl::Pem)
                                                 : QList<QSslCertificate>();
        if (certs.isEmpty()) {
            m_configError = makeError(Error::Kind::Invalid,
                                      file.isOpen() ? QStringLiteral("%1: ca_file %2 holds no PEM certificate")
                                                          .arg(provider, config.caFile)
                                                    : QStringLiteral("%1: cannot read ca_file %2: %3")
                                                          .arg(provider, config.caFile, file.errorString()),
                                      provider);
            return;
        }
        m_ssl.addCaCertificates(certs);
    }
    if (config.proxy.isValid() && !config.proxy.isEmpty()) {
        const bool socks = config.proxy.scheme().startsWith(QLatin1String("socks"));
        m_proxy = QNetworkProxy(socks ? QNetworkProxy::Socks5Proxy : QNetworkProxy::HttpProxy,
                                config.proxy.host(), quint16(config.proxy.port(socks ? 1080 : 8080)));
    }
    for (const QString &text : selectors) {
        auto selector = Cloudflare::parseSelector(text);
        if (!selector) {
            m_configError = makeError(Error::Kind::Invalid,
                                      QStringLiteral("%1: %2").arg(provider, selector.error().message), provider);
            return;
        }
        auto link = std::make_unique<Link>();
        link->selector = *selector;
        link->configured = text;
        link->configuredHere = true;
        link->url = *Cloudflare::agentUrl(m_origin, *selector);
        m_links.emplace(selector->externalId(), std::move(link));
    }
}

CloudflareAgentsConnector::~CloudflareAgentsConnector()
{
    for (auto &[id, link] : m_links) {
        if (link->socket) {
            link->socket->disconnect(this);
            link->socket->abort();
        }
    }
}

void CloudflareAgentsConnector::prepare()
{
    if (!m_capabilities.dialect.isEmpty() || m_configError)
        return;
    // Everything is known from the profile: an agent offers no description of itself.
    m_capabilities.list = true;
    m_capabilities.follow = true;
    m_capabilities.get = true;
    m_capabilities.cancel = !m_stopMethod.isEmpty();
    m_capabilities.terminate = false;
    m_capabilities.answer = true;
    m_capabilities.dialect = QStringLiteral("Cloudflare Agents WebSocket");
}

void CloudflareAgentsConnector::discover(RuntimeCallback<RuntimeCapabilities> done)
{
    prepare();
    if (m_configError) {
        setLinkState(LinkState::Down, m_configError->message);
        done(*m_configError);
        return;
    }
    done(m_capabilities);
}

int CloudflareAgentsConnector::nextRetryMs(const QByteArray &externalId) const
{
    auto it = m_links.find(externalId);
    if (it == m_links.end() || !it->second->retry || !it->second->retry->isActive())
        return 0;
    return it->second->retryMs;
}

Error CloudflareAgentsConnector::linkError(const Link *link, const QString &what) const
{
    const QString provider = QString::fromUtf8(m_provider);
    return makeError(Error::Kind::Unavailable,
                     QStringLiteral("%1: agent %2 at %3: %4")
                         .arg(provider, QString::fromUtf8(link->selector.externalId()), link->url.toString(), what),
                     provider);
}

Result<CloudflareAgentsConnector::Link *> CloudflareAgentsConnector::linkFor(const QByteArray &externalId)
{
    const QString provider = QString::fromUtf8(m_provider);
    if (m_configError)
        return *m_configError;
    auto selector = Cloudflare::parseSelector(QString::fromUtf8(externalId));
    if (!selector)
        return makeError(Error::Kind::Invalid, QStringLiteral("%1: %2").arg(provider, selector.error().message),
                         provider);
    const QByteArray id = selector->externalId();
    auto it = m_links.find(id);
    if (it != m_links.end())
        return it->second.get();
    auto link = std::make_unique<Link>();
    link->selector = *selector;
    link->configured = QString::fromUtf8(externalId);
    link->url = *Cloudflare::agentUrl(m_origin, *selector);
    Link *raw = link.get();
    m_links.emplace(id, std::move(link));
    return raw;
}

void CloudflareAgentsConnector::withReadyLink(const QByteArray &externalId,
                                              std::function<void(const Result<Link *> &)> then)
{
    prepare();
    auto found = linkFor(externalId);
    if (!found) {
        then(found.error());
        return;
    }
    Link *link = *found;
    if (link->ready) {
        then(link);
        return;
    }
    // One answer: the link becoming ready (or failing), or the deadline.
    auto answered = std::make_shared<bool>(false);
    link->waiters.push_back([answered, then](const Result<Link *> &r) {
        if (*answered)
            return;
        *answered = true;
        then(r);
    });
    QTimer::singleShot(m_timeoutMs, this, [this, answered, then, link] {
        if (*answered)
            return;
        *answered = true;
        then(linkError(link, QStringLiteral("not connected within %1 s").arg(m_timeoutMs / 1000.0)));
    });
    if (!link->socket)
        open(link);
}

void CloudflareAgentsConnector::open(Link *link)
{
    if (link->socket)
        return;
    if (link->retry)
        link->retry->stop();
    link->open = false;
    link->ready = false;
    link->closing = false;
    auto *socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    link->socket = socket;
    if (!link->handshake) {
        link->handshake = new QTimer(this);
        link->handshake->setSingleShot(true);
        connect(link->handshake, &QTimer::timeout, this, [this, link] {
            if (!link->socket || link->ready)
                return;
            const QString words = link->open
                                      ? QStringLiteral("connected, but the agent sent no identity and state within %1 s")
                                            .arg(m_timeoutMs / 1000.0)
                                      : QStringLiteral("the WebSocket handshake did not finish within %1 s")
                                            .arg(m_timeoutMs / 1000.0);
            onClosed(link, words);
        });
    }
    link->handshake->start(m_timeoutMs);
    connect(socket, &QWebSocket::connected, this, [link] {
        link->open = true;
        link->closing = false;
    });
    // QWebSocket reports closeCode() 1000 also when the connection just dropped (its default);
    // aboutToClose() is emitted only for a close frame from the agent or our own close().
    connect(socket, &QWebSocket::aboutToClose, this, [link] { link->closing = true; });
    connect(socket, &QWebSocket::textMessageReceived, this, [this, link, socket](const QString &text) {
        if (link->socket == socket)
            onText(link, text);
    });
    // Qt 6.4 does not always follow a failed handshake (an HTTP 400 on a kept-alive
    // connection) with disconnected(): an error before connected() ends the attempt.
    const auto ended = [this, link, socket] {
        if (link->socket != socket)
            return;
        if (!link->open) {
            // Never connected: refused, DNS, TLS, or an HTTP answer instead of an upgrade.
            QString why = socket->errorString();
            // Qt 6.4 says only "processHandshake: Unknown error condition" when the server
            // answers the upgrade with an HTTP error; routeAgentRequest answers an unknown
            // class (or a PascalCase route) with 400 "Invalid request" [obs].
            if (why.contains(QLatin1String("processHandshake")))
                why = QStringLiteral("the server refused the WebSocket upgrade with an HTTP error (is the agent "
                                     "class right? an unknown class is answered with 400): %1")
                          .arg(why);
            onClosed(link, QStringLiteral("could not connect: %1").arg(why));
            return;
        }
        QString words;
        if (link->closing) {
            words = Cloudflare::describeClose(int(socket->closeCode()), socket->closeReason());
        } else {
            words = Cloudflare::describeClose(QWebSocketProtocol::CloseCodeAbnormalDisconnection, QString());
            if (socket->error() != QAbstractSocket::UnknownSocketError)
                words += QStringLiteral(" (%1)").arg(socket->errorString());
        }
        onClosed(link, words);
    };
    connect(socket, &QWebSocket::disconnected, this, ended);
    // Qt 6.4 does not always follow a failed handshake (an HTTP 400 on a kept-alive
    // connection) with disconnected(): an error before connected() ends the attempt.
    connect(socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this, [link, socket, ended](QAbstractSocket::SocketError) {
        if (link->socket == socket && !link->open)
            ended();
    });
    socket->setSslConfiguration(m_ssl);
    if (m_proxy)
        socket->setProxy(*m_proxy);
    QNetworkRequest request(link->url);
    if (!m_bearer.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_bearer);
    qCInfo(lcRuntime) << m_provider << "connecting to" << link->url.toString();
    updateLinkState();
    socket->open(request);
}

void CloudflareAgentsConnector::onText(Link *link, const QString &text)
{
    auto parsed = Cloudflare::parseFrame(text.toUtf8());
    if (!parsed) {
        qCWarning(lcRuntime) << m_provider << link->selector.externalId() << "sent" << parsed.error().message;
        return;
    }
    const Cloudflare::Frame &f = *parsed;
    switch (f.type) {
    case Cloudflare::Frame::Type::Identity:
        link->agentName = f.agent + QLatin1Char('/') + f.name;
        if (!f.stateFollows) {
            link->run = runFor(link, QJsonValue());
            link->ready = true;
            link->failures = 0;
            link->handshake->stop();
            report(link, *link->run);
            finishWaiters(link, std::nullopt);
            updateLinkState();
        }
        break;
    case Cloudflare::Frame::Type::State: {
        const RuntimeRun run = runFor(link, f.state);
        link->lastStateJson = compact(f.state);
        link->run = run;
        report(link, run);
        if (!link->ready) {
            link->ready = true;
            link->failures = 0;
            link->handshake->stop();
            finishWaiters(link, std::nullopt);
            updateLinkState();
        }
        break;
    }
    case Cloudflare::Frame::Type::StateError:
        qCWarning(lcRuntime) << m_provider << link->selector.externalId() << "refused a state push:" << f.error;
        break;
    case Cloudflare::Frame::Type::Rpc: {
        auto it = link->calls.find(f.id);
        if (it == link->calls.end())
            break; // another client's id, or a call that already timed out
        if (!f.done) {
            if (it->chunk)
                it->chunk(f.result);
            it->deadline->start(m_timeoutMs);
            break;
        }
        PendingCall call = *it;
        link->calls.erase(it);
        call.deadline->stop();
        call.deadline->deleteLater();
        if (f.success)
            call.done(f.result);
        else
            call.done(makeError(Error::Kind::Invalid, f.error, QString::fromUtf8(m_provider)));
        break;
    }
    case Cloudflare::Frame::Type::ChatMessages: {
        QString toolCallId;
        const auto approval = Cloudflare::pendingApproval(f.messages, &toolCallId);
        link->pendingToolCallId = approval ? toolCallId : QString();
        link->pendingApproval = approval;
        if (link->ready && link->run) {
            RuntimeRun run = runFor(link, QJsonDocument::fromJson(link->lastStateJson).object());
            link->run = run;
            report(link, run);
        }
        break;
    }
    case Cloudflare::Frame::Type::ChatResponse:
        if (f.done)
            link->chatRequests.remove(f.id);
        else if (!f.id.isEmpty())
            link->chatRequests.insert(f.id);
        break;
    case Cloudflare::Frame::Type::McpServers:
    case Cloudflare::Frame::Type::Other:
        break; // cf_mcp_agent_event, cf_agent_session*, other chat frames: nothing to show
    }
}

RuntimeRun CloudflareAgentsConnector::runFor(Link *link, const QJsonValue &state) const
{
    RuntimeRun run;
    run.provider = m_provider;
    run.kind = "cloudflare-agents";
    run.externalId = link->selector.externalId();
    run.key = "cloudflare-agents:" + run.externalId;
    run.contextId = link->selector.instance.toUtf8();
    // The binding's selector as the profile wrote it, so RuntimeService finds the agent.
    run.agentName = link->configured.toUtf8();
    run.status = Cloudflare::statusFromState(state, &run.rawState);
    run.updatedMs = QDateTime::currentMSecsSinceEpoch(); // an agent's state carries no time
    run.statusText = QString::fromUtf8(compact(state).left(500));
    if (link->pendingApproval) {
        // A chat tool call waits for a person: that outranks the state's own word.
        run.approval = link->pendingApproval;
        run.status = RunStatus::WaitingApproval;
    }
    return run;
}

void CloudflareAgentsConnector::report(Link *link, const RuntimeRun &run)
{
    Q_UNUSED(link);
    emit runUpdated(run);
}

void CloudflareAgentsConnector::finishWaiters(Link *link, const std::optional<Error> &error)
{
    auto waiters = std::exchange(link->waiters, {});
    for (auto &w : waiters) {
        if (error)
            w(*error);
        else
            w(link);
    }
}

void CloudflareAgentsConnector::failCalls(Link *link, const Error &error)
{
    auto calls = std::exchange(link->calls, {});
    for (auto it = calls.begin(); it != calls.end(); ++it) {
        it->deadline->stop();
        it->deadline->deleteLater();
        it->done(error);
    }
}

void CloudflareAgentsConnector::onClosed(Link *link, const QString &words)
{
    QWebSocket *socket = link->socket;
    if (!socket)
        return;
    link->socket = nullptr;
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
    link->handshake->stop();
    const bool wasReady = link->ready;
    link->open = false;
    link->ready = false;
    link->lastClose = words;
    link->chatRequests.clear();
    qCInfo(lcRuntime) << m_provider << link->selector.externalId() << (wasReady ? "link lost:" : "link failed:") << words;
    const Error error = linkError(link, words);
    failCalls(link, error);
    finishWaiters(link, error);
    if ((m_following && link->configuredHere) || link->watched)
        scheduleRetry(link);
    updateLinkState();
}

void CloudflareAgentsConnector::scheduleRetry(Link *link)
{
    ++link->failures;
    // 1, 2, 4, 8, 16, 30, 30, ... units.
    const int steps = std::min(kMaxBackoffSteps, 1 << std::min(link->failures - 1, 5));
    link->retryMs = steps * m_backoffUnitMs;
    if (!link->retry) {
        link->retry = new QTimer(this);
        link->retry->setSingleShot(true);
        connect(link->retry, &QTimer::timeout, this, [this, link] {
            if ((m_following && link->configuredHere) || link->watched)
                open(link);
        });
    }
    link->retry->start(link->retryMs);
}

void CloudflareAgentsConnector::updateLinkState()
{
    int kept = 0, ready = 0, connecting = 0;
    QStringList down;
    for (const auto &[id, link] : m_links) {
        const bool keep = (m_following && link->configuredHere) || link->watched;
        if (!keep && !link->socket)
            continue;
        ++kept;
        if (link->ready) {
            ++ready;
        } else if (link->socket && link->failures == 0) {
            ++connecting;
        } else {
            QString line = QString::fromUtf8(id) + QStringLiteral(": ") + link->lastClose;
            if (link->retry && link->retry->isActive())
                line += QStringLiteral("; reconnecting in %1 s").arg(link->retryMs / 1000.0);
            else if (link->socket)
                line += QStringLiteral("; reconnecting now");
            down << line;
        }
    }
    if (kept == 0)
        return;
    if (ready == kept) {
        setLinkState(LinkState::Connected,
                     QStringLiteral("%1 agent instance%2 connected").arg(ready).arg(ready == 1 ? QString() : QStringLiteral("s")));
    } else if (down.isEmpty()) {
        setLinkState(ready > 0 ? LinkState::Degraded : LinkState::Connecting,
                     QStringLiteral("connecting to %1 of %2 agent instances").arg(connecting).arg(kept));
    } else {
        setLinkState(ready > 0 ? LinkState::Degraded : LinkState::Down, down.join(QStringLiteral("; ")));
    }
}

void CloudflareAgentsConnector::sendCall(Link *link, const QString &method, const QJsonArray &args,
                                         std::function<void(const QJsonValue &)> chunk,
                                         RuntimeCallback<QJsonValue> done)
{
    const QString id = QStringLiteral("b%1").arg(m_nextId++);
    PendingCall call;
    call.chunk = std::move(chunk);
    call.done = std::move(done);
    call.deadline = new QTimer(this);
    call.deadline->setSingleShot(true);
    connect(call.deadline, &QTimer::timeout, this, [this, link, id, method] {
        auto it = link->calls.find(id);
        if (it == link->calls.end())
            return;
        PendingCall c = *it;
        link->calls.erase(it);
        c.deadline->deleteLater();
        const QString provider = QString::fromUtf8(m_provider);
        c.done(makeError(Error::Kind::Timeout,
                         QStringLiteral("%1: agent %2 did not answer the call %3 within %4 s")
                             .arg(provider,
                                  QString::fromUtf8(link->selector.externalId()),
                                  method,
                                  QString::number(m_timeoutMs / 1000.0)),
                         provider));
    });
    call.deadline->start(m_timeoutMs);
    link->calls.insert(id, call);
    link->socket->sendTextMessage(QString::fromUtf8(Cloudflare::rpcRequest(id, method, args)));
}

void CloudflareAgentsConnector::callMethod(const QByteArray &externalId, const QString &method,
                                           const QJsonArray &args, std::function<void(const QJsonValue &)> chunk,
                                           RuntimeCallback<QJsonValue> done)
{
    withReadyLink(externalId, [this, method, args, chunk = std::move(chunk), done = std::move(done)](
                                  const Result<Link *> &link) {
        if (!link) {
            done(link.error());
            return;
        }
        sendCall(*link, method, args, chunk, [this, method, done, link = *link](const Result<QJsonValue> &r) {
            if (r) {
                done(r);
                return;
            }
            Error e = r.error();
            if (e.kind == Error::Kind::Invalid)
                e.message = QStringLiteral("%1: agent %2 answered the call %3 with an error: %4")
                                .arg(QString::fromUtf8(m_provider), QString::fromUtf8(link->selector.externalId()),
                                     method, e.message);
            done(e);
        });
    });
}

void CloudflareAgentsConnector::getRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done)
{
    withReadyLink(externalId, [this, done = std::move(done)](const Result<Link *> &link) {
        if (!link) {
            done(link.error());
            return;
        }
        done((*link)->run ? *(*link)->run : runFor(*link, QJsonValue()));
    });
}

void CloudflareAgentsConnector::listRuns(const QByteArray &pageToken, int pageSize, RuntimeCallback<RuntimePage> done)
{
    Q_UNUSED(pageToken);
    Q_UNUSED(pageSize); // one page: the instances the profile names
    prepare();
    if (m_configError) {
        done(*m_configError);
        return;
    }
    std::vector<QByteArray> ids;
    for (const auto &[id, link] : m_links) {
        if (link->configuredHere)
            ids.push_back(id);
    }
    if (ids.empty()) {
        done(RuntimePage{});
        return;
    }
    struct Gather
    {
        RuntimePage page;
        std::vector<Error> errors;
        size_t left = 0;
    };
    auto gather = std::make_shared<Gather>();
    gather->left = ids.size();
    for (const QByteArray &id : ids) {
        withReadyLink(id, [this, id, gather, done](const Result<Link *> &link) {
            if (link) {
                gather->page.runs.push_back((*link)->run ? *(*link)->run : runFor(*link, QJsonValue()));
            } else {
                // Still listed, so the operator sees the instance and why it is unknown.
                RuntimeRun run;
                auto found = linkFor(id);
                if (found)
                    run = runFor(*found, QJsonValue());
                run.status = RunStatus::Unknown;
                run.rawState.clear();
                run.statusText = link.error().message;
                gather->page.runs.push_back(run);
                gather->errors.push_back(link.error());
            }
            if (--gather->left > 0)
                return;
            if (gather->errors.size() == gather->page.runs.size()) {
                done(gather->errors.front());
                return;
            }
            std::sort(gather->page.runs.begin(), gather->page.runs.end(),
                      [](const RuntimeRun &a, const RuntimeRun &b) { return a.updatedMs > b.updatedMs; });
            done(gather->page);
        });
    }
}

void CloudflareAgentsConnector::cancelRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done)
{
    prepare();
    const QString provider = QString::fromUtf8(m_provider);
    if (m_stopMethod.isEmpty()) {
        // The caller maps this message prefix to the skipped_not_configured outcome.
        done(makeError(Error::Kind::Invalid,
                       QStringLiteral("skipped_not_configured: no stop_method in the profile for %1").arg(provider),
                       provider));
        return;
    }
    withReadyLink(externalId, [this, provider, done = std::move(done)](const Result<Link *> &found) {
        if (!found) {
            done(found.error());
            return;
        }
        Link *link = *found;
        for (const QString &chatId : std::as_const(link->chatRequests))
            link->socket->sendTextMessage(QString::fromUtf8(Cloudflare::chatCancelFrame(chatId)));
        qCInfo(lcRuntime) << m_provider << "cancel" << link->selector.externalId() << "by calling" << m_stopMethod;
        sendCall(link, m_stopMethod, {}, {}, [this, link, provider, done](const Result<QJsonValue> &r) {
            if (!r) {
                Error e = r.error();
                if (e.kind == Error::Kind::Invalid)
                    e.message = QStringLiteral("%1: agent %2 answered the stop_method \"%3\" with an error: %4")
                                    .arg(provider, QString::fromUtf8(link->selector.externalId()), m_stopMethod,
                                         e.message);
                done(e);
                return;
            }
            RuntimeRun run = link->run ? *link->run : runFor(link, QJsonValue());
            // The agent accepted the stop; its state says when it has stopped (CancelVerifier).
            if (!isTerminal(run.status) && run.status != RunStatus::Stopped)
                run.status = RunStatus::Stopping;
            run.statusText = QStringLiteral("%1() answered %2").arg(m_stopMethod, QString::fromUtf8(compact(*r)));
            done(run);
        });
    });
}

void CloudflareAgentsConnector::answer(const QByteArray &externalId, const ApprovalAnswer &answer,
                                       RuntimeCallback<RuntimeRun> done)
{
    withReadyLink(externalId, [this, answer, done = std::move(done)](const Result<Link *> &found) {
        const QString provider = QString::fromUtf8(m_provider);
        if (!found) {
            done(found.error());
            return;
        }
        Link *link = *found;
        if (answer.decision == ApprovalDecision::Edit) {
            done(makeError(Error::Kind::Invalid,
                           QStringLiteral("%1: a Cloudflare tool approval is yes or no; it cannot change the "
                                          "tool's arguments")
                               .arg(provider),
                           provider));
            return;
        }
        if (link->pendingToolCallId.isEmpty()) {
            done(makeError(Error::Kind::Conflict,
                           QStringLiteral("%1: agent %2 has no tool call waiting for approval (someone else "
                                          "may have answered it)")
                               .arg(provider, QString::fromUtf8(link->selector.externalId())),
                           provider));
            return;
        }
        const bool approved = answer.decision == ApprovalDecision::Approve;
        link->socket->sendTextMessage(
            QString::fromUtf8(Cloudflare::toolApprovalFrame(link->pendingToolCallId, approved)));
        link->pendingToolCallId.clear();
        link->pendingApproval.reset();
        RuntimeRun run = link->run ? *link->run : runFor(link, QJsonValue());
        run.approval.reset();
        if (run.status == RunStatus::WaitingApproval)
            run.status = approved ? RunStatus::Working : RunStatus::Rejected;
        done(run);
    });
}

void CloudflareAgentsConnector::startFollowing()
{
    prepare();
    if (m_configError) {
        setLinkState(LinkState::Down, m_configError->message);
        return;
    }
    if (m_following)
        return;
    m_following = true;
    for (auto &[id, link] : m_links) {
        if (link->configuredHere && !link->socket)
            open(link.get());
    }
    updateLinkState();
}

void CloudflareAgentsConnector::stopFollowing()
{
    m_following = false;
    for (auto &[id, link] : m_links) {
        if (link->watched || !link->configuredHere)
            continue;
        if (link->retry)
            link->retry->stop();
        if (link->socket)
            link->socket->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("Breaker stopped following"));
    }
}

void CloudflareAgentsConnector::watchRun(const QByteArray &externalId)
{
    prepare();
    auto found = linkFor(externalId);
    if (!found)
        return;
    (*found)->watched = true;
    if (!(*found)->socket && !((*found)->retry && (*found)->retry->isActive()))
        open(*found);
}

} // namespace Breaker
