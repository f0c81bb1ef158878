#include "app/services/AuditConnectorEvents.h"

#include "models/Logging.h"
#include "models/Store.h"

#include <QHash>
#include <QHostInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstring>
#include <string_view>

namespace Breaker {

namespace {

QString attr(const QJsonObject &attributes, const char *key)
{
    const QJsonValue v = attributes.value(QLatin1String(key));
    return v.isString() ? v.toString() : v.isDouble() ? QString::number(v.toInteger()) : QString();
}

// Whether the attributes' JSON names this key. memmem: QByteArray::contains hashes its way
// through the whole text, and this runs for every event the monitor commits.
bool mentions(const QByteArray &json, std::string_view key)
{
    return ::memmem(json.constData(), size_t(json.size()), key.data(), key.size()) != nullptr;
}

QString layerOf(const QString &action)
{
    return action.section(QLatin1Char('.'), 0, 0);
}

} // namespace

AuditConnectorEvents::AuditConnectorEvents(std::shared_ptr<Store> store, QString telemetryProvider, QObject *parent)
    : QObject(parent)
    , m_store(std::move(store))
    , m_provider(std::move(telemetryProvider))
{
    m_pool.setMaxThreadCount(1);
    m_pool.setExpiryTimeout(-1);
}

AuditConnectorEvents::~AuditConnectorEvents()
{
    m_pool.waitForDone();
}

void AuditConnectorEvents::waitForDone()
{
    m_pool.waitForDone();
}

QString AuditConnectorEvents::actionFor(const RunEvent &event)
{
    if (event.kind == EventKind::PolicyBlock)
        return QStringLiteral("tools.policy_blocked");
    if (!mentions(event.attributesJson, "\"breaker.blocked_by\"") && !mentions(event.attributesJson, "\"error.type\""))
        return {};
    const QJsonObject a = QJsonDocument::fromJson(event.attributesJson).object();
    const QString by = attr(a, "breaker.blocked_by");
    const QString error = attr(a, "error.type");
    if (by == u"identity" || error == u"invalid_grant" || error == u"invalid_token")
        return QStringLiteral("identity.token_refused");
    if (by == u"payment" || error == u"card_declined")
        return QStringLiteral("payment.declined");
    if (by == u"tools")
        return QStringLiteral("tools.policy_blocked");
    return {};
}

void AuditConnectorEvents::onEvents(const std::vector<RunEvent> &events)
{
    std::vector<RunEvent> wanted;
    for (const RunEvent &e : events)
        if (!actionFor(e).isEmpty())
            wanted.push_back(e);
    if (wanted.empty() || !m_store)
        return;
    m_pool.start([store = m_store, provider = m_provider, wanted = std::move(wanted)] {
        QHash<QByteArray, std::pair<QByteArray, QByteArray>> runs; // run id -> agent, principal
        std::vector<AuditEntry> entries;
        for (const RunEvent &e : wanted) {
            if (!runs.contains(e.runId)) {
                auto run = store->run(e.runId);
                runs.insert(e.runId, run.ok() && run.value() ? std::make_pair(run.value()->agent, run.value()->principal)
                                                             : std::make_pair(QByteArray(), QByteArray()));
            }
            const QJsonObject a = QJsonDocument::fromJson(e.attributesJson).object();
            AuditEntry entry;
            entry.actor = {QStringLiteral("connector"), provider, QHostInfo::localHostName()};
            entry.action = actionFor(e);
            entry.target.agent = QString::fromUtf8(runs.value(e.runId).first);
            entry.target.run = QString::fromUtf8(e.runId);
            entry.target.principal = QString::fromUtf8(runs.value(e.runId).second);
            entry.target.layer = layerOf(entry.action);
            entry.target.object = attr(a, "gen_ai.tool.name");
            if (entry.target.object.isEmpty())
                entry.target.object = QString::fromUtf8(e.name);
            entry.outcome = entry.action.section(QLatin1Char('.'), 1);
            QJsonObject detail{{QStringLiteral("event"), QString::fromUtf8(e.name)},
                               {QStringLiteral("kind"), QString::fromLatin1(toWireName(e.kind))},
                               {QStringLiteral("at_ns"), e.startNs}};
            if (!e.traceId.isEmpty())
                detail.insert(QStringLiteral("trace_id"), QString::fromLatin1(e.traceId));
            if (!e.spanId.isEmpty())
                detail.insert(QStringLiteral("span_id"), QString::fromLatin1(e.spanId));
            for (const char *key : {"error.type", "breaker.blocked_by", "http.response.status_code"})
                if (const QString v = attr(a, key); !v.isEmpty())
                    detail.insert(QLatin1String(key), v);
            entry.detail = detail;
            entries.push_back(std::move(entry));
        }
        if (auto r = store->appendAuditBatch(entries); !r.ok())
            qCWarning(lcAudit).noquote() << "connector events not audited:" << r.error().message;
    });
}

} // namespace Breaker
