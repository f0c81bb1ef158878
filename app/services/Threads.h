#pragma once

#include <QObject>
#include <QThread>

namespace Breaker {

// Ends `thread` and deletes `object` there as it ends: QThread::finished → deleteLater runs on
// the thread itself before wait() returns, so nothing waits on a queued call (STYLE.md rule 5).
// An object whose thread never started is deleted here. Calls still queued to the object are
// dropped with it.
template<typename T>
void endOnItsThread(T *&object, QThread *&thread)
{
    if (thread && thread->isRunning()) {
        if (object)
            QObject::connect(thread, &QThread::finished, object, &QObject::deleteLater);
        thread->quit();
        thread->wait();
    } else {
        delete object;
    }
    object = nullptr;
    delete thread;
    thread = nullptr;
}

} // namespace Breaker
