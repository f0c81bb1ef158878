#pragma once

// A runtime that answers as a test tells it to (shared by the cancel and stop-switch tests).
#include "connectors/runtime/RuntimeConnector.h"

#include <QTimer>

#include <optional>
#include <vector>

namespace Breaker::Testing {

class ScriptedRuntime : public RuntimeConnector
{
public:
    std::optional<Result<RuntimeRun>> cancelAnswer;        // nullopt: never answers
    std::vector<Result<RuntimeRun>> reads;                 // successive getRun answers; the last repeats
    RuntimePage page;                                      // what listRuns answers
    bool canList = false;
    int readCount = 0;
    int cancelCount = 0;
    int listCount = 0;
    std::vector<std::pair<QByteArray, ApprovalAnswer>> answers; // every answer() call, in order
    std::optional<Error> answerError; // answer() fails with it (e.g. Conflict: decided elsewhere)
    int answerDelayMs = 5;
    std::vector<QByteArray> calls;                              // "answer:<id>", "cancel:<id>", in order

    QByteArray providerName() const override { return "scripted"; }
    QByteArray kind() const override { return "a2a"; }
    RuntimeCapabilities capabilities() const override { return caps(); }
    void discover(RuntimeCallback<RuntimeCapabilities> done) override { done(caps()); }
    void listRuns(const QByteArray &, int, RuntimeCallback<RuntimePage> done) override
    {
        ++listCount;
        const RuntimePage p = page;
        QTimer::singleShot(5, this, [p, done] { done(p); });
    }
    void getRun(const QByteArray &, RuntimeCallback<RuntimeRun> done) override
    {
        const Result<RuntimeRun> r = reads.at(std::min<size_t>(size_t(readCount), reads.size() - 1));
        ++readCount;
        QTimer::singleShot(5, this, [r, done] { done(r); });
    }
    void cancelRun(const QByteArray &id, RuntimeCallback<RuntimeRun> done) override
    {
        ++cancelCount;
        calls.push_back("cancel:" + id);
        if (cancelAnswer) {
            const Result<RuntimeRun> r = *cancelAnswer;
            QTimer::singleShot(5, this, [r, done] { done(r); });
        }
    }
    void answer(const QByteArray &id, const ApprovalAnswer &a, RuntimeCallback<RuntimeRun> done) override
    {
        answers.emplace_back(id, a);
        calls.push_back("answer:" + id);
        RuntimeRun r;
        r.externalId = id;
        r.status = RunStatus::Working;
        const std::optional<Error> refused = answerError;
        QTimer::singleShot(answerDelayMs, this, [r, done, refused] {
            if (refused)
                done(*refused);
            else
                done(r);
        });
    }
    void startFollowing() override {}
    void stopFollowing() override {}
    void watchRun(const QByteArray &) override {}

private:
    RuntimeCapabilities caps() const
    {
        RuntimeCapabilities c;
        c.list = canList;
        c.get = c.cancel = c.answer = true;
        c.dialect = QStringLiteral("scripted");
        return c;
    }
};

inline RuntimeRun scriptedTask(RunStatus status, const QByteArray &raw, qint64 atMs = 0,
                               const QByteArray &id = "task-1")
{
    RuntimeRun r;
    r.externalId = id;
    r.status = status;
    r.rawState = raw;
    r.updatedMs = atMs;
    return r;
}

} // namespace Breaker::Testing
