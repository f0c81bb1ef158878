#pragma once

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

signals:
    void cancelStarted(const QByteArray &runId);
    void cancelFinished(const QByteArray &runId, const Breaker::StopLayerResult &result);
};

} // namespace Breaker

Q_DECLARE_METATYPE(Breaker::StopLayerResult)
