#include "app/services/RuntimeConnectorProxy.h"

namespace Breaker {

namespace {

std::optional<RuntimeConnectorProxy::Mirror> mirrorOf(const RuntimeConnector *connector)
{
    if (!connector)
        return std::nullopt;
    return RuntimeConnectorProxy::Mirror{connector->capabilities(), connector->canStartRuns()};
}

} // namespace

RuntimeConnectorProxy::RuntimeConnectorProxy(QByteArray provider, QByteArray kind, QObject *host,
                                             QObject *replyContext, Factory factory, QObject *parent)
    : RuntimeConnector(parent)
    , m_provider(std::move(provider))
    , m_kind(std::move(kind))
    , m_host(host)
    , m_replyContext(replyContext)
    , m_remote(std::make_shared<Remote>())
{
    // The connector is made on its own thread: its network manager and timers belong there.
    QPointer<RuntimeConnectorProxy> self(this);
    post([remote = m_remote, host = m_host.data(), context = m_replyContext, factory = std::move(factory), self] {
        RuntimeConnector *connector = factory(host);
        remote->connector = connector;
        if (!connector)
            return;
        connect(connector, &RuntimeConnector::linkStateChanged, context,
                [self](RuntimeConnector::LinkState state, const QString &detail) {
                    if (self)
                        self->setLinkState(state, detail);
                });
        QMetaObject::invokeMethod(
            context,
            [self, mirror = mirrorOf(connector)] {
                if (self)
                    self->mirror(*mirror);
            },
            Qt::QueuedConnection);
    });
}

RuntimeConnectorProxy::~RuntimeConnectorProxy()
{
    // Queued behind every call made so far, so each of them still reaches the connector. When
    // the host is gone, the connector went with it (its child).
    post([remote = m_remote] {
        delete remote->connector;
        remote->connector = nullptr;
    });
}

void RuntimeConnectorProxy::mirror(const Mirror &m)
{
    m_capabilities = m.capabilities;
    m_canStartRuns = m.canStartRuns;
}

bool RuntimeConnectorProxy::post(std::function<void()> job)
{
    if (!m_host)
        return false;
    return QMetaObject::invokeMethod(m_host, std::move(job), Qt::QueuedConnection);
}

void RuntimeConnectorProxy::onConnector(std::function<void(RuntimeConnector *)> job)
{
    post([remote = m_remote, job = std::move(job)] {
        if (remote->connector)
            job(remote->connector);
    });
}

template<typename T>
void RuntimeConnectorProxy::call(RuntimeCallback<T> done, std::function<void(RuntimeConnector &, RuntimeCallback<T>)> job)
{
    QPointer<RuntimeConnectorProxy> self(this);
    QObject *context = m_replyContext;
    // On the connector's thread: the answer, with what the connector now knows of its provider,
    // goes back to the caller's thread.
    RuntimeCallback<T> back = [self, context, remote = m_remote, done = std::move(done)](const Result<T> &r) {
        QMetaObject::invokeMethod(
            context,
            [self, done, r, mirror = mirrorOf(remote->connector)] {
                if (self && mirror)
                    self->mirror(*mirror);
                done(r);
            },
            Qt::QueuedConnection);
    };
    const bool queued = post([remote = m_remote, provider = m_provider, back, job = std::move(job)] {
        if (!remote->connector) {
            back(makeError(Error::Kind::Unavailable,
                           QStringLiteral("%1: the runtime connector was closed").arg(QString::fromUtf8(provider)),
                           QString::fromUtf8(provider)));
            return;
        }
        job(*remote->connector, back);
    });
    if (!queued) {
        // The engine is shutting down: answered here, later, as every call is.
        QMetaObject::invokeMethod(
            this,
            [back, provider = QString::fromUtf8(m_provider)] {
                back(makeError(Error::Kind::Unavailable,
                               QStringLiteral("%1: the runtime connector was closed").arg(provider), provider));
            },
            Qt::QueuedConnection);
    }
}

void RuntimeConnectorProxy::discover(RuntimeCallback<RuntimeCapabilities> done)
{
    call<RuntimeCapabilities>(std::move(done), [](RuntimeConnector &c, RuntimeCallback<RuntimeCapabilities> back) {
        c.discover(std::move(back));
    });
}

void RuntimeConnectorProxy::listRuns(const QByteArray &pageToken, int pageSize, RuntimeCallback<RuntimePage> done)
{
    call<RuntimePage>(std::move(done), [pageToken, pageSize](RuntimeConnector &c, RuntimeCallback<RuntimePage> back) {
        c.listRuns(pageToken, pageSize, std::move(back));
    });
}

void RuntimeConnectorProxy::getRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done)
{
    call<RuntimeRun>(std::move(done), [externalId](RuntimeConnector &c, RuntimeCallback<RuntimeRun> back) {
        c.getRun(externalId, std::move(back));
    });
}

void RuntimeConnectorProxy::cancelRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done)
{
    call<RuntimeRun>(std::move(done), [externalId](RuntimeConnector &c, RuntimeCallback<RuntimeRun> back) {
        c.cancelRun(externalId, std::move(back));
    });
}

void RuntimeConnectorProxy::answer(const QByteArray &externalId, const ApprovalAnswer &answer,
                                   RuntimeCallback<RuntimeRun> done)
{
    call<RuntimeRun>(std::move(done), [externalId, answer](RuntimeConnector &c, RuntimeCallback<RuntimeRun> back) {
        c.answer(externalId, answer, std::move(back));
    });
}

void RuntimeConnectorProxy::startRunWithMessage(const QString &text, const QJsonObject &data, RuntimeCallback<RuntimeRun> done)
{
    call<RuntimeRun>(std::move(done), [text, data](RuntimeConnector &c, RuntimeCallback<RuntimeRun> back) {
        c.startRunWithMessage(text, data, std::move(back));
    });
}

void RuntimeConnectorProxy::startFollowing()
{
    onConnector([](RuntimeConnector *c) { c->startFollowing(); });
}

void RuntimeConnectorProxy::stopFollowing()
{
    onConnector([](RuntimeConnector *c) { c->stopFollowing(); });
}

void RuntimeConnectorProxy::watchRun(const QByteArray &externalId)
{
    onConnector([externalId](RuntimeConnector *c) { c->watchRun(externalId); });
}

} // namespace Breaker
