#include "app/services/EngineAuditActions.h"

#include "BreakerVersion.h"
#include "app/services/AuditKeyStore.h"
#include "app/services/AuditSeal.h"
#include "app/services/Engine.h"
#include "app/services/Operator.h"
#include "models/Store.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThreadPool>

#include <memory>

namespace Breaker {

namespace {

// Runs `work` on the global pool and hands its result to `deliver` on the receiver's thread,
// unless the receiver is gone by then.
template<typename T>
void offThread(QObject *receiver, std::function<T()> work, std::function<void(const T &)> deliver)
{
    QPointer<QObject> guard(receiver);
    QThreadPool::globalInstance()->start([guard, work = std::move(work), deliver = std::move(deliver)] {
        auto result = std::make_shared<T>(work());
        if (!guard)
            return;
        QMetaObject::invokeMethod(
            guard.data(),
            [guard, result, deliver] {
                if (guard)
                    deliver(*result);
            },
            Qt::QueuedConnection);
    });
}

} // namespace

EngineAuditActions::EngineAuditActions(Engine *engine, QObject *parent)
    : AuditActions(parent)
    , m_engine(engine)
{
    qRegisterMetaType<AuditChainState>();
}

void EngineAuditActions::loadRecent(int limit)
{
    std::shared_ptr<Store> store = m_engine->store();
    using Loaded = std::pair<std::vector<AuditRecord>, QString>;
    offThread<Loaded>(
        this,
        [store, limit]() -> Loaded {
            if (!store)
                return {{}, QStringLiteral("no Store is open")};
            auto head = store->auditHead();
            if (!head)
                return {{}, head.error().message};
            if (!head.value())
                return {{}, QString()};
            const qint64 last = head.value()->seq;
            auto records = store->auditRecords(std::max<qint64>(1, last - limit + 1), last);
            if (!records)
                return {{}, records.error().message};
            return {std::move(records.value()), QString()};
        },
        [this](const Loaded &loaded) { emit recordsLoaded(loaded.first, loaded.second); });
}

void EngineAuditActions::checkChain()
{
    std::shared_ptr<Store> store = m_engine->store();
    const std::optional<Profile> profile = m_engine->profile();
    offThread<AuditChainState>(
        this,
        [store, profile]() -> AuditChainState {
            AuditChainState state;
            if (!store) {
                state.error = QStringLiteral("no Store is open");
                return state;
            }
            auto key = loadAuditKey(profile);
            if (!key) {
                state.error = key.error().message;
                return state;
            }
            state.keyFingerprint = QString::fromLatin1(key->signer.fingerprint());
            state.keyLocation = key->location;
            // The head is signed first, so the state shown covers every record there is.
            if (auto sealed = sealAuditHead(*store, key->signer); !sealed) {
                state.error = QStringLiteral("the chain head could not be sealed: %1").arg(sealed.error().message);
                return state;
            }
            auto check = checkAuditChain(*store, key->signer.publicKey());
            if (!check) {
                state.error = check.error().message;
                return state;
            }
            state.ok = check->ok;
            state.summary = check->summary();
            return state;
        },
        [this](const AuditChainState &state) { emit chainChecked(state); });
}

void EngineAuditActions::exportTrail(const AuditExportOptions &options)
{
    std::shared_ptr<Store> store = m_engine->store();
    const std::optional<Profile> profile = m_engine->profile();
    QPointer<EngineAuditActions> self(this);
    AuditExportOptions o = options;
    if (o.actor.id.isEmpty())
        o.actor = currentOperator(profile);
    if (o.program.isEmpty())
        o.program = QStringLiteral("breaker " BREAKER_VERSION);
    // Progress comes from the worker: hand it over to the GUI thread, never blocking on it.
    o.progress = [self](qint64 done, qint64 total) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, done, total] {
                if (self)
                    emit self->exportProgress(done, total);
            },
            Qt::QueuedConnection);
    };
    struct Outcome
    {
        bool ok = false;
        QString message, dir;
    };
    offThread<Outcome>(
        this,
        [store, profile, o]() -> Outcome {
            if (!store)
                return {false, QStringLiteral("no Store is open"), {}};
            auto key = loadAuditKey(profile);
            if (!key)
                return {false, key.error().message, {}};
            auto result = exportAudit(*store, *key, o);
            if (!result)
                return {false, result.error().message, {}};
            QString text = QStringLiteral("%1 records (seq %2–%3) exported to %4, signed by key %5 (%6)")
                               .arg(result->count)
                               .arg(result->firstSeq)
                               .arg(result->lastSeq)
                               .arg(result->dir, QString::fromLatin1(result->keyFingerprint), result->keyStorage);
            if (!result->warning.isEmpty())
                text += QStringLiteral("; WARNING: ") + result->warning;
            return {result->warning.isEmpty(), text, result->dir};
        },
        [this](const Outcome &out) { emit exportFinished(out.ok, out.message, out.dir); });
}

void EngineAuditActions::checkRetention()
{
    std::shared_ptr<Store> store = m_engine->store();
    const std::optional<int> days = m_engine->profile() ? m_engine->profile()->audit.keepAfterExportDays : std::nullopt;
    if (!store || !days) {
        emit retentionChecked(QString());
        return;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    offThread<QString>(
        this,
        [store, days, now]() -> QString {
            // The last export's range says which records have left the machine.
            qint64 exportedThrough = 0;
            auto last = store->lastAuditRecordContaining("\"action\":\"audit.exported\"");
            if (!last)
                return QStringLiteral("the audit trail could not be read: %1").arg(last.error().message);
            if (last.value()) {
                const QJsonObject detail
                    = QJsonDocument::fromJson(last.value()->line).object().value(QStringLiteral("detail")).toObject();
                exportedThrough = detail.value(QStringLiteral("range")).toObject().value(QStringLiteral("last_seq")).toInteger();
            }
            auto first = store->auditRecords(exportedThrough + 1, exportedThrough + 1);
            auto head = store->auditHead();
            if (!first || !head || first->empty() || !head.value())
                return QString();
            const AuditRecord &oldest = first->front();
            const qint64 limitMs = qint64(*days) * 24 * 3600 * 1000;
            if (now - oldest.tsMs <= limitMs)
                return QString();
            return QStringLiteral("%1 audit records (from seq %2, %3) are older than audit.keep_after_export_days "
                                  "(%4 days) and were never exported: export them (File › Export audit trail…)")
                .arg(head.value()->seq - exportedThrough)
                .arg(oldest.seq)
                .arg(QDateTime::fromMSecsSinceEpoch(oldest.tsMs, Qt::UTC).toString(Qt::ISODate))
                .arg(*days);
        },
        [this](const QString &warning) { emit retentionChecked(warning); });
}

} // namespace Breaker
