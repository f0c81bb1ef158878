#pragma once

#include "app/services/StopSwitch.h"
#include "models/ControlMap.h"
#include "models/RunTypes.h"
#include "models/StopTypes.h"

#include <QObject>
#include <QString>

namespace Breaker {

// What the operator can do to a run from the console. The views depend only on this
// interface; EngineRunActions implements it over RuntimeStop, tests with a fake.
class RunActions : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~RunActions() override = default;

    struct CancelPreview
    {
        bool possible = false; // a runtime provider can be asked
        QString plan;          // what will be done to what, in one line
        QString why;           // why not, when it is not possible
    };
    // Resolved now from the Store and the profile (a preview may be stale by the time the
    // operator confirms; the cancel resolves again when it runs).
    virtual CancelPreview previewCancel(const Run &run) = 0;
    // Answers with cancelFinished, exactly once per call.
    virtual void cancelRun(const QByteArray &runId, const QString &reason) = 0;

    // The stop switch (issue 4). The preview is resolved now; stop() resolves the scope again
    // when it runs, and announces the plan it carries out with stopStarted.
    virtual Result<StopPlan> previewStop(const StopScope &scope, const QStringList &layers)
    {
        Q_UNUSED(scope);
        Q_UNUSED(layers);
        return makeError(Error::Kind::Invalid, QStringLiteral("this console cannot stop agents"));
    }
    // Answers with stopStarted (or stopFinished at once when nothing could be planned), then
    // stopProgress per action, then stopFinished, all with scope.key().
    virtual void stop(const StopScope &scope, const QStringList &layers, const QString &reason)
    {
        Q_UNUSED(layers);
        StopOutcome o;
        o.scope = scope;
        o.reason = reason;
        o.notes << QStringLiteral("this console cannot stop agents");
        emit stopFinished(scope.key(), o);
    }
    // The profile's name (a global stop is confirmed by typing it).
    virtual QString profileName() const { return {}; }

    // The agent's control map as the profile binds it now, with its last proven stops.
    virtual std::vector<ControlMapRow> controlMap(const QByteArray &agent)
    {
        Q_UNUSED(agent);
        return {};
    }
    // Drills (issue 4 item 7): the stop a drill of this canary would carry out, or why not.
    virtual Result<StopPlan> previewDrill(const QByteArray &agent)
    {
        Q_UNUSED(agent);
        return makeError(Error::Kind::Invalid, QStringLiteral("this console cannot run drills"));
    }
    // Answers like stop() with the scope "agent:<name>": stopStarted, stopProgress for the stop's
    // rows, then stopFinished once the restore after it is done too (its result in the notes).
    virtual void drill(const QByteArray &agent, const QString &reason)
    {
        StopOutcome o;
        o.scope = StopScope{StopScope::Kind::Agent, agent};
        o.reason = reason;
        o.notes << QStringLiteral("this console cannot run drills");
        emit stopFinished(o.scope.key(), o);
    }

signals:
    void stopStarted(const QByteArray &scopeKey, const Breaker::StopPlan &plan);
    void stopProgress(const QByteArray &scopeKey, int action, const std::vector<Breaker::StopLayerResult> &rows);
    void stopFinished(const QByteArray &scopeKey, const Breaker::StopOutcome &outcome);
    void cancelStarted(const QByteArray &runId);
    void cancelFinished(const QByteArray &runId, const Breaker::StopLayerResult &result);
};

} // namespace Breaker

Q_DECLARE_METATYPE(Breaker::StopLayerResult)
