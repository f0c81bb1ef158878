#include "connectors/runtime/LangGraphCodec.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QStringList>

#include <algorithm>

namespace Breaker::LangGraph {

namespace {

QString snippet(const QByteArray &bytes)
{
    constexpr qsizetype kMax = 300;
    QString text = QString::fromUtf8(bytes.first(std::min(bytes.size(), kMax))).simplified();
    if (bytes.size() > kMax)
        text += QStringLiteral("…");
    return text.isEmpty() ? QStringLiteral("(empty body)") : text;
}

QByteArray compact(const QJsonValue &value)
{
    if (value.isObject())
        return QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    if (value.isArray())
        return QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact);
    if (value.isString())
        return value.toString().toUtf8();
    if (value.isDouble())
        return QByteArray::number(value.toDouble());
    if (value.isBool())
        return value.toBool() ? "true" : "false";
    return {};
}

QString str(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString();
}

void appendInterrupts(const QJsonArray &list, std::vector<Interrupt> &out)
{
    for (const QJsonValue &v : list) {
        const QJsonObject o = v.toObject();
        if (!o.contains(QLatin1String("value")) && !o.contains(QLatin1String("id")))
            continue;
        Interrupt i{str(o, "id").toUtf8(), o.value(QLatin1String("value"))};
        bool seen = false;
        for (const Interrupt &e : out)
            seen = seen || (!i.id.isEmpty() && e.id == i.id);
        if (!seen)
            out.push_back(std::move(i));
    }
}

// HITL payloads: snake_case (Python middleware) or camelCase (JS middleware).
QJsonArray actionRequests(const QJsonObject &value, bool *camel = nullptr)
{
    if (value.value(QLatin1String("action_requests")).isArray()) {
        if (camel)
            *camel = false;
        return value.value(QLatin1String("action_requests")).toArray();
    }
    if (value.value(QLatin1String("actionRequests")).isArray()) {
        if (camel)
            *camel = true;
        return value.value(QLatin1String("actionRequests")).toArray();
    }
    return {};
}

bool isHitl(const QJsonValue &value)
{
    return value.isObject() && !actionRequests(value.toObject()).isEmpty();
}

} // namespace

std::optional<RunStatus> statusFromRunStatus(QByteArrayView status)
{
    if (status == "pending")
        return RunStatus::Submitted;
    if (status == "running")
        return RunStatus::Working;
    if (status == "success")
        return RunStatus::Completed;
    if (status == "error" || status == "timeout")
        return RunStatus::Failed;
    if (status == "interrupted")
        return RunStatus::Stopped;
    return std::nullopt;
}

bool isKnownThreadStatus(QByteArrayView status)
{
    return status == "idle" || status == "busy" || status == "interrupted" || status == "error";
}

Result<RunIds> splitExternalId(const QByteArray &externalId)
{
    const qsizetype colon = externalId.indexOf(':');
    if (colon <= 0 || colon == externalId.size() - 1 || externalId.indexOf(':', colon + 1) >= 0)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("\"%1\" is not a LangGraph run id: expected <thread_id>:<run_id>")
                             .arg(QString::fromUtf8(externalId)),
                         QStringLiteral("externalId"));
    return RunIds{externalId.first(colon), externalId.sliced(colon + 1)};
}

QByteArray externalId(const QByteArray &threadId, const QByteArray &runId)
{
    return threadId + ':' + runId;
}

Result<RuntimeRun> parseRun(const QJsonObject &run)
{
    RuntimeRun out;
    out.kind = "langgraph";
    const QByteArray runId = str(run, "run_id").toUtf8();
    const QByteArray threadId = str(run, "thread_id").toUtf8();
    if (runId.isEmpty())
        return makeError(Error::Kind::Invalid, QStringLiteral("a run without run_id"), QStringLiteral("run_id"));
    if (threadId.isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("run %1 has no thread_id (a stateless run?)").arg(QString::fromUtf8(runId)),
                         QStringLiteral("thread_id"));
    out.externalId = externalId(threadId, runId);
    out.contextId = threadId;
    out.key = "langgraph:" + out.externalId; // RunMonitor::langgraphKey
    const QJsonObject metadata = run.value(QLatin1String("metadata")).toObject();
    out.agentName = str(metadata, "graph_id").toUtf8();
    if (out.agentName.isEmpty())
        out.agentName = str(run, "assistant_id").toUtf8();
    out.rawState = str(run, "status").toUtf8();
    if (out.rawState.isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("run %1 has no status").arg(QString::fromUtf8(runId)),
                         QStringLiteral("status"));
    out.status = statusFromRunStatus(out.rawState).value_or(RunStatus::Unknown);
    out.updatedMs = parseTimestampMs(str(run, "updated_at"));
    if (out.updatedMs == 0)
        out.updatedMs = parseTimestampMs(str(run, "created_at"));
    return out;
}

std::vector<Interrupt> interruptsFromThread(const QJsonObject &thread)
{
    std::vector<Interrupt> out;
    const QJsonValue interrupts = thread.value(QLatin1String("interrupts"));
    if (interrupts.isObject()) {
        const QJsonObject byTask = interrupts.toObject();
        for (auto it = byTask.begin(); it != byTask.end(); ++it)
            appendInterrupts(it.value().toArray(), out);
    } else if (interrupts.isArray()) {
        appendInterrupts(interrupts.toArray(), out);
    }
    return out;
}

std::vector<Interrupt> interruptsFromState(const QJsonObject &state)
{
    std::vector<Interrupt> out;
    for (const QJsonValue &task : state.value(QLatin1String("tasks")).toArray())
        appendInterrupts(task.toObject().value(QLatin1String("interrupts")).toArray(), out);
    appendInterrupts(state.value(QLatin1String("values")).toObject().value(QLatin1String("__interrupt__")).toArray(), out);
    appendInterrupts(state.value(QLatin1String("interrupts")).toArray(), out);
    return out;
}

std::vector<Interrupt> interruptsFromStreamData(const QJsonValue &data)
{
    std::vector<Interrupt> out;
    appendInterrupts(data.toObject().value(QLatin1String("__interrupt__")).toArray(), out);
    return out;
}

RuntimeApprovalRequest approvalFromInterrupt(const Interrupt &interrupt, int pendingCount)
{
    RuntimeApprovalRequest request;
    const QJsonValue value = interrupt.value;
    if (isHitl(value)) {
        request.source = "langgraph.hitl";
        const QJsonArray actions = actionRequests(value.toObject());
        const QJsonObject first = actions.first().toObject();
        request.action = str(first, "name").toUtf8();
        if (request.action.isEmpty())
            request.action = str(first, "action").toUtf8();
        QJsonValue args = first.value(QLatin1String("args"));
        if (!args.isObject())
            args = first.value(QLatin1String("arguments"));
        request.argumentsJson = args.isObject() ? compact(args) : QByteArray();
        const QJsonObject a = args.toObject();
        const QJsonValue amount = a.contains(QLatin1String("amount")) ? a.value(QLatin1String("amount"))
                                                                      : a.value(QLatin1String("amount_value"));
        if (amount.isDouble())
            request.amountValue = QByteArray::number(amount.toDouble(), 'f', 2);
        else if (amount.isString())
            request.amountValue = amount.toString().toUtf8();
        request.currency = str(a, "currency").toLower().toUtf8();
        request.message = str(first, "description");
        if (request.message.isEmpty())
            request.message = QStringLiteral("%1 asks for review").arg(QString::fromUtf8(request.action));
        if (actions.size() > 1)
            request.message += QStringLiteral(" (and %1 more action(s) in the same request, answered alike)")
                                   .arg(actions.size() - 1);
    } else {
        request.source = "langgraph.interrupt";
        if (value.isString()) {
            request.message = value.toString();
        } else if (value.isObject()) {
            const QJsonObject o = value.toObject();
            for (const char *key : {"question", "message", "description", "prompt"}) {
                if (o.value(QLatin1String(key)).isString()) {
                    request.message = str(o, key);
                    break;
                }
            }
            request.action = str(o, "action").toUtf8();
            if (o.value(QLatin1String("args")).isObject())
                request.argumentsJson = compact(o.value(QLatin1String("args")));
            else if (o.value(QLatin1String("arguments")).isObject())
                request.argumentsJson = compact(o.value(QLatin1String("arguments")));
            if (request.message.isEmpty())
                request.message = QString::fromUtf8(compact(value));
        } else {
            request.message = QString::fromUtf8(compact(value));
        }
    }
    if (pendingCount > 1)
        request.message += QStringLiteral(" [interrupt %1 of %2 pending on this thread]")
                               .arg(QString::fromUtf8(interrupt.id), QString::number(pendingCount));
    return request;
}

void applyThread(RuntimeRun &run, const QJsonObject &thread, const QJsonObject &state, bool isLatestRun)
{
    const QByteArray threadStatus = str(thread, "status").toUtf8();
    run.approval.reset();
    // Only the run that wrote the thread's current checkpoint (the state's metadata.run_id), or
    // the newest run when there is no state, shares the thread's status.
    const RunIds ids = splitExternalId(run.externalId).ok() ? *splitExternalId(run.externalId) : RunIds{};
    const QString stateRun = str(state.value(QLatin1String("metadata")).toObject(), "run_id");
    const bool latest = stateRun.isEmpty() ? isLatestRun : stateRun.toUtf8() == ids.runId;
    if (!latest || threadStatus.isEmpty())
        return;
    const QByteArray runState = run.rawState;
    run.rawState += "/thread:" + threadStatus;
    if (runState != "success" || threadStatus != "interrupted")
        return;
    std::vector<Interrupt> interrupts = interruptsFromState(state);
    if (interrupts.empty())
        interrupts = interruptsFromThread(thread);
    run.status = RunStatus::WaitingApproval;
    if (interrupts.empty()) {
        RuntimeApprovalRequest request;
        request.source = "langgraph.interrupt";
        request.message = QStringLiteral("the thread is interrupted (interrupt_before/after, or an interrupt "
                                         "the server did not list)");
        run.approval = request;
        run.statusText = request.message;
        return;
    }
    run.approval = approvalFromInterrupt(interrupts.front(), int(interrupts.size()));
    run.statusText = run.approval->message;
}

Result<QJsonValue> resumeValue(const ApprovalAnswer &answer, const Interrupt &interrupt, int pendingCount)
{
    QJsonValue value;
    if (isHitl(interrupt.value)) {
        bool camel = false;
        const QJsonArray actions = actionRequests(interrupt.value.toObject(), &camel);
        QJsonObject decision;
        switch (answer.decision) {
        case ApprovalDecision::Approve:
            decision.insert(QStringLiteral("type"), QStringLiteral("approve"));
            break;
        case ApprovalDecision::Deny:
            decision.insert(QStringLiteral("type"), QStringLiteral("reject"));
            decision.insert(QStringLiteral("message"), answer.reason);
            break;
        case ApprovalDecision::Edit: {
            if (actions.size() != 1)
                return makeError(Error::Kind::Invalid,
                                 QStringLiteral("an edit answers exactly one action, and this interrupt asks "
                                                "about %1")
                                     .arg(actions.size()),
                                 QStringLiteral("answer.arguments"));
            QJsonParseError pe;
            const QJsonDocument args = QJsonDocument::fromJson(answer.argumentsJson, &pe);
            if (pe.error != QJsonParseError::NoError || !args.isObject())
                return makeError(Error::Kind::Invalid,
                                 QStringLiteral("the edited arguments must be a JSON object"),
                                 QStringLiteral("answer.arguments"));
            const QJsonObject action = actions.first().toObject();
            decision.insert(QStringLiteral("type"), QStringLiteral("edit"));
            decision.insert(camel ? QStringLiteral("editedAction") : QStringLiteral("edited_action"),
                            QJsonObject{{QStringLiteral("name"), str(action, "name")},
                                        {QStringLiteral("args"), args.object()}});
            break;
        }
        }
        QJsonArray decisions;
        for (qsizetype i = 0; i < actions.size(); ++i)
            decisions.append(decision);
        value = QJsonObject{{QStringLiteral("decisions"), decisions}};
    } else {
        QJsonObject generic{{QStringLiteral("decision"), QString::fromLatin1(toWireName(answer.decision))},
                            {QStringLiteral("reason"), answer.reason}};
        if (answer.decision == ApprovalDecision::Edit) {
            const QJsonDocument args = QJsonDocument::fromJson(answer.argumentsJson);
            if (!args.isObject())
                return makeError(Error::Kind::Invalid,
                                 QStringLiteral("the edited arguments must be a JSON object"),
                                 QStringLiteral("answer.arguments"));
            generic.insert(QStringLiteral("arguments"), args.object());
        }
        value = generic;
    }
    if (pendingCount > 1 && !interrupt.id.isEmpty())
        return QJsonValue(QJsonObject{{QString::fromUtf8(interrupt.id), value}});
    return value;
}

Error errorFromResponse(int httpStatus, const QByteArray &body, const QString &provider, const QString &request)
{
    Error::Kind kind = Error::Kind::Invalid;
    if (httpStatus == 404)
        kind = Error::Kind::NotFound;
    else if (httpStatus == 409)
        kind = Error::Kind::Conflict;
    else if (httpStatus == 408 || httpStatus == 429 || httpStatus >= 500)
        kind = Error::Kind::Unavailable;

    QString words;
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error == QJsonParseError::NoError && doc.isObject()) {
        const QJsonObject root = doc.object();
        const QJsonObject error = root.value(QLatin1String("error")).toObject();
        if (!error.isEmpty() && error.value(QLatin1String("issues")).isArray()) {
            // The JS server's validation errors (zod).
            QStringList issues;
            for (const QJsonValue &v : error.value(QLatin1String("issues")).toArray()) {
                const QJsonObject issue = v.toObject();
                QStringList path;
                for (const QJsonValue &p : issue.value(QLatin1String("path")).toArray())
                    path << (p.isDouble() ? QString::number(p.toInt()) : p.toString());
                issues << (path.isEmpty() ? str(issue, "message")
                                          : QStringLiteral("%1: %2").arg(path.join(QLatin1Char('.')), str(issue, "message")));
            }
            words = QStringLiteral("%1 (%2)").arg(issues.join(QLatin1String("; ")),
                                                  str(error, "name").isEmpty() ? QStringLiteral("validation")
                                                                               : str(error, "name"));
        } else if (!error.isEmpty()) {
            words = str(error, "message");
            if (words.isEmpty())
                words = QString::fromUtf8(compact(error));
        } else if (root.value(QLatin1String("error")).isString()) {
            words = str(root, "error");
            if (root.value(QLatin1String("message")).isString())
                words += QStringLiteral(": ") + str(root, "message");
        } else if (root.contains(QLatin1String("detail"))) {
            // FastAPI (the Python server).
            const QJsonValue detail = root.value(QLatin1String("detail"));
            if (detail.isString()) {
                words = detail.toString();
            } else {
                QStringList parts;
                for (const QJsonValue &d : detail.toArray()) {
                    const QJsonObject o = d.toObject();
                    QStringList loc;
                    for (const QJsonValue &l : o.value(QLatin1String("loc")).toArray())
                        loc << (l.isDouble() ? QString::number(l.toInt()) : l.toString());
                    parts << QStringLiteral("%1: %2").arg(loc.join(QLatin1Char('.')), str(o, "msg"));
                }
                words = parts.isEmpty() ? QString::fromUtf8(compact(detail)) : parts.join(QLatin1String("; "));
            }
        } else if (root.value(QLatin1String("message")).isString()) {
            // Agent Protocol: {code?, message}.
            words = str(root, "message");
            if (root.contains(QLatin1String("code")))
                words += QStringLiteral(" [%1]").arg(QString::fromUtf8(compact(root.value(QLatin1String("code")))));
        } else {
            words = snippet(body);
        }
    } else {
        words = snippet(body); // hono's HTTPException answers plain text
    }
    if (httpStatus == 422
        && (words.contains(QLatin1String("already running"), Qt::CaseInsensitive)
            || words.contains(QLatin1String("busy"), Qt::CaseInsensitive)))
        kind = Error::Kind::Conflict;
    QString text = QStringLiteral("%1 answered HTTP %2 to %3: %4").arg(provider).arg(httpStatus).arg(request, words);
    if (httpStatus == 401 || httpStatus == 403)
        text += QStringLiteral(" (check the provider's api_key, sent as x-api-key)");
    return makeError(kind, text, provider);
}

Result<QJsonObject> parseObject(const QByteArray &body, const QString &provider, const QString &request)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1 answered %2 with a body that is not a JSON object: %3")
                             .arg(provider, request, snippet(body)),
                         provider);
    return doc.object();
}

Result<QJsonArray> parseArray(const QByteArray &body, const QString &provider, const QString &request)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isArray())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("%1 answered %2 with a body that is not a JSON array: %3")
                             .arg(provider, request, snippet(body)),
                         provider);
    return doc.array();
}

qint64 parseTimestampMs(const QString &text)
{
    if (text.isEmpty())
        return 0;
    QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(text, Qt::ISODate);
    return t.isValid() ? t.toMSecsSinceEpoch() : 0;
}

} // namespace Breaker::LangGraph
