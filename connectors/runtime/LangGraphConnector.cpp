#include "connectors/runtime/LangGraphConnector.h"

#include "models/Logging.h"
#include "models/Profile.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>

#include <algorithm>

namespace Breaker {

namespace {

constexpr int kDefaultTimeoutMs = 10000;
constexpr int kThreadPageSize = 100;
constexpr int kRunsPerThread = 1000; // read at once: the JS server pages runs wrongly (README)
constexpr int kReportedRunsPerThread = 50;
constexpr int kFirstPollPages = 10;
constexpr int kPollPages = 20;
constexpr qint64 kWatermarkSlackMs = 2000;
constexpr qsizetype kMaxRemembered = 20000;

QString seg(const QByteArray &id)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(QString::fromUtf8(id)));
}

QString runPath(const LangGraph::RunIds &ids)
{
    return QStringLiteral("/threads/%1/runs/%2").arg(seg(ids.threadId), seg(ids.runId));
}

qint64 createdMs(const QJsonObject &run)
{
    return LangGraph::parseTimestampMs(run.value(QLatin1String("created_at")).toString());
}

} // namespace

LangGraphConnector::LangGraphConnector(const ProviderConfig &config, QByteArray apiKey, QObject *parent)
    : RuntimeConnector(parent)
    , m_provider(config.name.toUtf8())
    , m_baseUrl(config.url)
    , m_apiKey(std::move(apiKey))
{
    Net::ClientOptions options;
    options.provider = config.name;
    options.timeoutMs = config.timeoutS ? int(*config.timeoutS * 1000) : kDefaultTimeoutMs;
    options.caFile = config.caFile;
    options.proxy = config.proxy;
    m_http = new Net::HttpClient(options, this);
    m_pollTimer.setSingleShot(true);
    connect(&m_pollTimer, &QTimer::timeout, this, &LangGraphConnector::poll);
    m_watchPollTimer.setInterval(1000);
    connect(&m_watchPollTimer, &QTimer::timeout, this, &LangGraphConnector::pollWatched);
}

LangGraphConnector::~LangGraphConnector()
{
    for (const auto &watch : std::as_const(m_watches))
        Net::HttpClient::abort(watch->reply);
}

QUrl LangGraphConnector::url(const QString &path) const
{
    QUrl u = m_baseUrl;
    QString base = u.path();
    if (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    const qsizetype q = path.indexOf(QLatin1Char('?'));
    u.setPath(base + (q < 0 ? path : path.first(q)), QUrl::TolerantMode);
    u.setQuery(q < 0 ? QString() : path.sliced(q + 1));
    return u;
}

Net::HttpClient::Headers LangGraphConnector::headers(bool json) const
{
    Net::HttpClient::Headers h;
    if (json)
        h.append(std::pair<QByteArray, QByteArray>("Content-Type", "application/json"));
    h.append(std::pair<QByteArray, QByteArray>("Accept", "application/json, text/event-stream, text/plain"));
    if (!m_apiKey.isEmpty())
        h.append(std::pair<QByteArray, QByteArray>("x-api-key", m_apiKey));
    return h;
}

void LangGraphConnector::request(const QByteArray &method, const QString &path, const QJsonValue &body,
                                 JsonDone done, bool allowEmpty)
{
    QByteArray bytes;
    if (body.isObject())
        bytes = QJsonDocument(body.toObject()).toJson(QJsonDocument::Compact);
    else if (body.isArray())
        bytes = QJsonDocument(body.toArray()).toJson(QJsonDocument::Compact);
    const QString provider = QString::fromUtf8(m_provider);
    const QString what = QStringLiteral("%1 %2").arg(QString::fromLatin1(method), path);
    m_http->send(method, url(path), headers(!bytes.isEmpty()), bytes,
                 [provider, what, allowEmpty, done = std::move(done)](const Result<Net::ClientReply> &r) {
                     if (!r) {
                         done(r.error());
                         return;
                     }
                     if (r->status / 100 != 2) {
                         done(LangGraph::errorFromResponse(r->status, r->body, provider, what));
                         return;
                     }
                     if (allowEmpty && r->body.trimmed().isEmpty()) {
                         done(QJsonValue());
                         return;
                     }
                     QJsonParseError pe;
                     const QJsonDocument doc = QJsonDocument::fromJson(r->body, &pe);
                     if (pe.error != QJsonParseError::NoError || doc.isNull()) {
                         done(makeError(Error::Kind::Invalid,
                                        QStringLiteral("%1 answered HTTP %2 to %3 with a body that is not JSON: %4")
                                            .arg(provider)
                                            .arg(r->status)
                                            .arg(what, QString::fromUtf8(r->body.left(200)).simplified()),
                                        provider));
                         return;
                     }
                     done(doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array()));
                 });
}

void LangGraphConnector::discover(RuntimeCallback<RuntimeCapabilities> done)
{
    m_discovered = false;
    ensureDiscovered([this, done = std::move(done)](const Result<void> &r) {
        if (!r)
            done(r.error());
        else
            done(m_capabilities);
    });
}

void LangGraphConnector::ensureDiscovered(std::function<void(const Result<void> &)> then)
{
    if (m_discovered) {
        then({});
        return;
    }
    m_discoveryWaiters.push_back(std::move(then));
    if (m_discovering)
        return;
    m_discovering = true;
    if (linkState() == LinkState::Idle)
        setLinkState(LinkState::Connecting, QStringLiteral("reading /info"));
    auto finish = [this](const Result<QString> &dialect) {
        m_discovering = false;
        auto waiters = std::exchange(m_discoveryWaiters, {});
        if (!dialect) {
            setLinkState(LinkState::Down, dialect.error().message);
            for (auto &w : waiters)
                w(dialect.error());
            return;
        }
        m_discovered = true;
        m_capabilities = {};
        m_capabilities.list = true;
        m_capabilities.follow = true;
        m_capabilities.get = true;
        m_capabilities.cancel = true;
        m_capabilities.terminate = true; // cancel with action=rollback (see CancelAction)
        m_capabilities.answer = true;
        m_capabilities.dialect = *dialect;
        qCInfo(lcRuntime) << m_provider << "speaks" << m_capabilities.dialect << "at" << m_baseUrl.toString();
        setLinkState(LinkState::Connected, m_capabilities.dialect);
        for (auto &w : waiters)
            w({});
    };
    if (auto ca = m_http->loadCaFile(); !ca) {
        finish(ca.error());
        return;
    }
    request("GET", QStringLiteral("/info"), {}, [this, finish](const Result<QJsonValue> &r) {
        if (r) {
            const QJsonObject info = r->toObject();
            QString dialect = QStringLiteral("LangGraph Agent Server");
            const QString version = info.value(QLatin1String("version")).toString();
            if (!version.isEmpty())
                dialect += QLatin1Char(' ') + version;
            const QString context = info.value(QLatin1String("context")).toString();
            if (!context.isEmpty())
                dialect += QStringLiteral(" (%1)").arg(context);
            finish(dialect);
            return;
        }
        if (r.error().kind != Error::Kind::NotFound) {
            finish(r.error());
            return;
        }
        // Agent Protocol servers may have no /info; /ok says the server is there.
        request("GET", QStringLiteral("/ok"), {}, [finish](const Result<QJsonValue> &ok) {
            if (!ok)
                finish(ok.error());
            else
                finish(QStringLiteral("LangGraph Agent Server (no /info)"));
        }, true);
    });
}

RuntimeRun LangGraphConnector::complete(RuntimeRun run) const
{
    run.provider = m_provider;
    run.kind = "langgraph";
    return run;
}

void LangGraphConnector::report(const RuntimeRun &run)
{
    QByteArray signature = run.rawState + '@' + QByteArray::number(run.updatedMs);
    if (run.approval)
        signature += '?' + run.approval->message.toUtf8();
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

void LangGraphConnector::readDetail(const QByteArray &externalId, DetailDone done)
{
    auto ids = LangGraph::splitExternalId(externalId);
    if (!ids) {
        Error e = ids.error();
        e.message = QStringLiteral("%1: %2").arg(QString::fromUtf8(m_provider), e.message);
        e.where = QString::fromUtf8(m_provider);
        done(e);
        return;
    }
    const QString provider = QString::fromUtf8(m_provider);
    ensureDiscovered([this, ids = *ids, provider, done = std::move(done)](const Result<void> &d) {
        if (!d) {
            done(d.error());
            return;
        }
        request("GET", runPath(ids), {}, [this, ids, provider, done](const Result<QJsonValue> &run) {
            if (!run) {
                done(run.error());
                return;
            }
            auto parsed = LangGraph::parseRun(run->toObject());
            if (!parsed) {
                done(makeError(Error::Kind::Invalid,
                               QStringLiteral("%1 answered a malformed run: %2").arg(provider, parsed.error().message),
                               provider));
                return;
            }
            auto detail = std::make_shared<Detail>();
            detail->run = run->toObject();
            detail->runtimeRun = complete(*parsed);
            const QString threadPath = QStringLiteral("/threads/%1").arg(seg(ids.threadId));
            request("GET", threadPath, {}, [this, threadPath, detail, done](const Result<QJsonValue> &thread) {
                if (!thread) {
                    done(thread.error());
                    return;
                }
                detail->thread = thread->toObject();
                request("GET", threadPath + QStringLiteral("/state"), {},
                        [detail, done](const Result<QJsonValue> &state) {
                            // A thread without a checkpoint yet has no useful state; go on without.
                            if (state)
                                detail->state = state->toObject();
                            LangGraph::applyThread(detail->runtimeRun, detail->thread, detail->state, true);
                            detail->interrupts = LangGraph::interruptsFromState(detail->state);
                            if (detail->interrupts.empty())
                                detail->interrupts = LangGraph::interruptsFromThread(detail->thread);
                            done(*detail);
                        });
            });
        });
    });
}

void LangGraphConnector::getRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done)
{
    readDetail(externalId, [this, done = std::move(done)](const Result<Detail> &d) {
        if (!d) {
            done(d.error());
            return;
        }
        report(d->runtimeRun);
        done(d->runtimeRun);
    });
}

void LangGraphConnector::listThreadRuns(const QJsonObject &thread, std::function<void(std::vector<RuntimeRun>)> done)
{
    const QByteArray threadId = thread.value(QLatin1String("thread_id")).toString().toUtf8();
    // One arg() call: the percent-encoded id may hold "%2F" and the like.
    const QString path = QStringLiteral("/threads/%1/runs?limit=%2&offset=0")
                             .arg(seg(threadId), QString::number(kRunsPerThread));
    request("GET", path, {},
            [this, thread, threadId, done = std::move(done)](const Result<QJsonValue> &r) {
                std::vector<RuntimeRun> out;
                if (!r) {
                    // The thread may have been deleted since the search; the others still count.
                    qCWarning(lcRuntime) << m_provider << "runs of thread" << threadId << ":" << r.error().message;
                    done(out);
                    return;
                }
                std::vector<QJsonObject> runs;
                for (const QJsonValue &v : r->toArray())
                    runs.push_back(v.toObject());
                // Newest first, whatever order the server used (the JS server lists oldest first).
                std::stable_sort(runs.begin(), runs.end(),
                                 [](const QJsonObject &a, const QJsonObject &b) { return createdMs(a) > createdMs(b); });
                for (size_t i = 0; i < runs.size() && int(i) < kReportedRunsPerThread; ++i) {
                    auto run = LangGraph::parseRun(runs[i]);
                    if (!run) {
                        qCWarning(lcRuntime) << m_provider << "listed a malformed run:" << run.error().message;
                        continue;
                    }
                    LangGraph::applyThread(*run, thread, {}, i == 0);
                    out.push_back(complete(*run));
                }
                done(out);
            });
}

void LangGraphConnector::listRuns(const QByteArray &pageToken, int pageSize, RuntimeCallback<RuntimePage> done)
{
    bool ok = true;
    const int offset = pageToken.isEmpty() ? 0 : pageToken.toInt(&ok);
    if (!ok || offset < 0) {
        done(makeError(Error::Kind::Invalid,
                       QStringLiteral("%1: \"%2\" is not a page token of this connector")
                           .arg(QString::fromUtf8(m_provider), QString::fromUtf8(pageToken)),
                       QString::fromUtf8(m_provider)));
        return;
    }
    const int limit = std::clamp(pageSize, 1, 100);
    ensureDiscovered([this, offset, limit, done = std::move(done)](const Result<void> &d) {
        if (!d) {
            done(d.error());
            return;
        }
        const QJsonObject search{{QStringLiteral("limit"), limit},
                                 {QStringLiteral("offset"), offset},
                                 {QStringLiteral("sort_by"), QStringLiteral("updated_at")},
                                 {QStringLiteral("sort_order"), QStringLiteral("desc")}};
        request("POST", QStringLiteral("/threads/search"), search,
                [this, offset, limit, done](const Result<QJsonValue> &r) {
                    if (!r) {
                        done(r.error());
                        return;
                    }
                    if (!r->isArray()) {
                        done(makeError(Error::Kind::Invalid,
                                       QStringLiteral("%1 answered POST /threads/search with something other "
                                                      "than an array")
                                           .arg(QString::fromUtf8(m_provider)),
                                       QString::fromUtf8(m_provider)));
                        return;
                    }
                    const QJsonArray threads = r->toArray();
                    auto page = std::make_shared<RuntimePage>();
                    if (threads.size() == limit)
                        page->nextPageToken = QByteArray::number(offset + limit);
                    auto pending = std::make_shared<int>(int(threads.size()));
                    auto finish = [page, done] {
                        std::stable_sort(page->runs.begin(), page->runs.end(),
                                         [](const RuntimeRun &a, const RuntimeRun &b) { return a.updatedMs > b.updatedMs; });
                        done(*page);
                    };
                    if (*pending == 0) {
                        finish();
                        return;
                    }
                    for (const QJsonValue &t : threads) {
                        listThreadRuns(t.toObject(), [page, pending, finish](std::vector<RuntimeRun> runs) {
                            for (RuntimeRun &run : runs)
                                page->runs.push_back(std::move(run));
                            if (--*pending == 0)
                                finish();
                        });
                    }
                });
    });
}

void LangGraphConnector::cancelRun(const QByteArray &externalId, RuntimeCallback<RuntimeRun> done)
{
    cancelRun(externalId, CancelAction::Interrupt, std::move(done));
}

void LangGraphConnector::cancelRun(const QByteArray &externalId, CancelAction action, RuntimeCallback<RuntimeRun> done)
{
    readDetail(externalId, [this, externalId, action, done = std::move(done)](const Result<Detail> &d) {
        if (!d) {
            done(d.error());
            return;
        }
        const RuntimeRun &current = d->runtimeRun;
        const QString provider = QString::fromUtf8(m_provider);
        // The server answers 202 to a cancel of a finished run and changes nothing: say so
        // instead of letting the caller believe a cancel happened.
        if (current.status == RunStatus::WaitingApproval) {
            done(makeError(Error::Kind::Conflict,
                           QStringLiteral("%1: run %2 is not running: it ended %3 and its thread waits at an "
                                          "interrupt; a cancel would change nothing (answer it with deny instead)")
                               .arg(provider, QString::fromUtf8(externalId), QString::fromUtf8(current.rawState)),
                           provider));
            return;
        }
        if (isTerminal(current.status)) {
            done(makeError(Error::Kind::Conflict,
                           QStringLiteral("%1: run %2 cannot be cancelled: it already ended (%3)")
                               .arg(provider, QString::fromUtf8(externalId), QString::fromUtf8(current.rawState)),
                           provider));
            return;
        }
        const auto ids = *LangGraph::splitExternalId(externalId);
        const QString path = runPath(ids)
                             + QStringLiteral("/cancel?wait=false&action=%1")
                                   .arg(action == CancelAction::Rollback ? QStringLiteral("rollback")
                                                                         : QStringLiteral("interrupt"));
        request("POST", path, QJsonObject{}, [this, externalId, action, provider, done](const Result<QJsonValue> &r) {
            if (!r) {
                done(r.error());
                return;
            }
            // Read it back and report what the server says now, not what was asked.
            readDetail(externalId, [this, externalId, action, provider, done](const Result<Detail> &after) {
                if (!after && after.error().kind == Error::Kind::NotFound && action == CancelAction::Rollback) {
                    RuntimeRun gone;
                    gone.provider = m_provider;
                    gone.kind = "langgraph";
                    gone.externalId = externalId;
                    gone.contextId = LangGraph::splitExternalId(externalId)->threadId;
                    gone.key = "langgraph:" + externalId;
                    gone.status = RunStatus::Stopped;
                    gone.rawState = "deleted";
                    gone.statusText = QStringLiteral("%1 deleted the run and its checkpoints (rollback)").arg(provider);
                    report(gone);
                    done(gone);
                    return;
                }
                if (!after) {
                    done(after.error());
                    return;
                }
                report(after->runtimeRun);
                done(after->runtimeRun);
            });
        }, true);
    });
}

void LangGraphConnector::answer(const QByteArray &externalId, const ApprovalAnswer &answer,
                                RuntimeCallback<RuntimeRun> done)
{
    readDetail(externalId, [this, externalId, answer, done = std::move(done)](const Result<Detail> &d) {
        if (!d) {
            done(d.error());
            return;
        }
        const QString provider = QString::fromUtf8(m_provider);
        if (d->runtimeRun.status != RunStatus::WaitingApproval) {
            done(makeError(Error::Kind::Conflict,
                           QStringLiteral("%1: run %2 no longer waits for an answer: it is %3 (someone else may "
                                          "have answered it)")
                               .arg(provider, QString::fromUtf8(externalId),
                                    QString::fromUtf8(d->runtimeRun.rawState)),
                           provider));
            return;
        }
        const LangGraph::Interrupt interrupt = d->interrupts.empty() ? LangGraph::Interrupt{} : d->interrupts.front();
        auto resume = LangGraph::resumeValue(answer, interrupt, int(d->interrupts.size()));
        if (!resume) {
            Error e = resume.error();
            e.message = QStringLiteral("%1: %2").arg(provider, e.message);
            done(e);
            return;
        }
        const auto ids = *LangGraph::splitExternalId(externalId);
        QString assistant = d->run.value(QLatin1String("assistant_id")).toString();
        if (assistant.isEmpty())
            assistant = QString::fromUtf8(d->runtimeRun.agentName);
        // A resume is a new run on the same thread; `reject` makes a concurrent answer a 422/409.
        const QJsonObject body{{QStringLiteral("assistant_id"), assistant},
                               {QStringLiteral("command"), QJsonObject{{QStringLiteral("resume"), *resume}}},
                               {QStringLiteral("multitask_strategy"), QStringLiteral("reject")},
                               {QStringLiteral("stream_resumable"), true}};
        request("POST", QStringLiteral("/threads/%1/runs").arg(seg(ids.threadId)), body,
                [this, externalId, provider, done](const Result<QJsonValue> &r) {
                    if (!r) {
                        done(r.error());
                        return;
                    }
                    auto run = LangGraph::parseRun(r->toObject());
                    if (!run) {
                        done(makeError(Error::Kind::Invalid,
                                       QStringLiteral("%1 answered the resume with a malformed run: %2")
                                           .arg(provider, run.error().message),
                                       provider));
                        return;
                    }
                    const RuntimeRun resumed = complete(*run);
                    report(resumed);
                    watchRun(resumed.externalId);
                    // The answered run no longer waits: read it again so followers see that.
                    getRun(externalId, [](const Result<RuntimeRun> &) {});
                    done(resumed);
                });
    });
}

void LangGraphConnector::startRun(const QByteArray &assistantId, const QJsonObject &input,
                                  RuntimeCallback<RuntimeRun> done, bool streamResumable)
{
    ensureDiscovered([this, assistantId, input, streamResumable, done = std::move(done)](const Result<void> &d) {
        if (!d) {
            done(d.error());
            return;
        }
        request("POST", QStringLiteral("/threads"), QJsonObject{},
                [this, assistantId, input, streamResumable, done](const Result<QJsonValue> &t) {
                    if (!t) {
                        done(t.error());
                        return;
                    }
                    const QByteArray threadId = t->toObject().value(QLatin1String("thread_id")).toString().toUtf8();
                    const QJsonObject body{{QStringLiteral("assistant_id"), QString::fromUtf8(assistantId)},
                                           {QStringLiteral("input"), input},
                                           {QStringLiteral("stream_resumable"), streamResumable}};
                    request("POST", QStringLiteral("/threads/%1/runs").arg(seg(threadId)), body,
                            [this, done](const Result<QJsonValue> &r) {
                                if (!r) {
                                    done(r.error());
                                    return;
                                }
                                auto run = LangGraph::parseRun(r->toObject());
                                if (!run) {
                                    done(run.error());
                                    return;
                                }
                                const RuntimeRun full = complete(*run);
                                report(full);
                                done(full);
                            });
                });
    });
}

// ---- following -----------------------------------------------------------------------------

void LangGraphConnector::startFollowing()
{
    if (m_following)
        return;
    m_following = true;
    m_failures = 0;
    poll();
}

void LangGraphConnector::stopFollowing()
{
    m_following = false;
    m_pollTimer.stop();
}

void LangGraphConnector::poll()
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
        pollPage(0, m_watermarkMs == 0 ? kFirstPollPages : kPollPages, m_watermarkMs);
    });
}

void LangGraphConnector::pollPage(int offset, int pagesLeft, qint64 newestSeen)
{
    const QJsonObject search{{QStringLiteral("limit"), kThreadPageSize},
                             {QStringLiteral("offset"), offset},
                             {QStringLiteral("sort_by"), QStringLiteral("updated_at")},
                             {QStringLiteral("sort_order"), QStringLiteral("desc")}};
    request("POST", QStringLiteral("/threads/search"), search,
            [this, offset, pagesLeft, newestSeen](const Result<QJsonValue> &r) {
                if (!r) {
                    m_pollInFlight = false;
                    pollFailed(r.error());
                    return;
                }
                const qint64 after = m_watermarkMs > 0 ? m_watermarkMs - kWatermarkSlackMs : 0;
                qint64 newest = newestSeen;
                std::vector<QJsonObject> changed;
                const QJsonArray threads = r->toArray();
                for (const QJsonValue &v : threads) {
                    const QJsonObject thread = v.toObject();
                    const qint64 updated = LangGraph::parseTimestampMs(thread.value(QLatin1String("updated_at")).toString());
                    newest = std::max(newest, updated);
                    if (updated == 0 || updated > after)
                        changed.push_back(thread);
                }
                // Sorted by updated_at: a page with an unchanged thread is the last one needed.
                const bool more = threads.size() == kThreadPageSize && changed.size() == size_t(threads.size())
                                  && pagesLeft > 1;
                pollThreads(std::move(changed), [this, more, offset, pagesLeft, newest] {
                    if (more) {
                        pollPage(offset + kThreadPageSize, pagesLeft - 1, newest);
                        return;
                    }
                    m_pollInFlight = false;
                    m_watermarkMs = std::max(m_watermarkMs, newest);
                    m_failures = 0;
                    setLinkState(LinkState::Connected, m_capabilities.dialect);
                    if (m_following)
                        m_pollTimer.start(m_pollIntervalMs);
                });
            });
}

void LangGraphConnector::pollThreads(std::vector<QJsonObject> threads, std::function<void()> then)
{
    if (threads.empty()) {
        then();
        return;
    }
    auto pending = std::make_shared<int>(int(threads.size()));
    for (const QJsonObject &thread : threads) {
        listThreadRuns(thread, [this, pending, then](std::vector<RuntimeRun> runs) {
            for (const RuntimeRun &run : runs)
                report(run);
            if (--*pending == 0)
                then();
        });
    }
}

void LangGraphConnector::pollFailed(const Error &error)
{
    ++m_failures;
    setLinkState(m_failures >= 3 ? LinkState::Down : LinkState::Degraded, error.message);
    qCWarning(lcRuntime) << m_provider << "poll failed:" << error.message;
    const int delay = std::min(30000, m_pollIntervalMs << std::min(m_failures, 5));
    if (m_following)
        m_pollTimer.start(delay);
}

void LangGraphConnector::watchRun(const QByteArray &externalId)
{
    if (m_watches.contains(externalId) || m_polledWatches.contains(externalId))
        return;
    if (!LangGraph::splitExternalId(externalId).ok()) {
        qCWarning(lcRuntime) << m_provider << "cannot watch" << externalId << ": not <thread_id>:<run_id>";
        return;
    }
    ensureDiscovered([this, externalId](const Result<void> &d) {
        if (!d || m_watches.contains(externalId) || m_polledWatches.contains(externalId))
            return;
        if (m_watches.size() < m_maxStreams) {
            m_watches.insert(externalId, std::make_shared<Watch>());
            openStream(externalId);
        } else {
            m_polledWatches.insert(externalId);
            if (!m_watchPollTimer.isActive())
                m_watchPollTimer.start();
        }
    });
}

void LangGraphConnector::openStream(const QByteArray &externalId)
{
    auto watch = m_watches.value(externalId);
    if (!watch)
        return;
    watch->parser.finish(); // drop a partial event of the previous connection, keep the id
    const auto ids = *LangGraph::splitExternalId(externalId);
    const QString provider = QString::fromUtf8(m_provider);
    const QString path = runPath(ids) + QStringLiteral("/stream");
    Net::HttpClient::Headers h = headers(false);
    if (!watch->parser.lastEventId().isEmpty())
        h.append(std::pair<QByteArray, QByteArray>("Last-Event-ID", watch->parser.lastEventId()));

    // Reads the run (one read at a time per watch); getRun reports it.
    auto refresh = [this, externalId, watch](bool endOfStream) {
        if (watch->readInFlight && !endOfStream)
            return;
        watch->readInFlight = true;
        getRun(externalId, [this, externalId, watch, endOfStream](const Result<RuntimeRun> &r) {
            watch->readInFlight = false;
            if (!m_watches.contains(externalId))
                return;
            const bool settled = r && (isTerminal(r->status) || r->status == RunStatus::WaitingApproval);
            if (settled || (!r && r.error().kind == Error::Kind::NotFound))
                watch->done = true;
            if (endOfStream)
                streamEnded(externalId, r ? std::nullopt : std::optional<Error>(r.error()));
        });
    };

    Net::HttpClient::Stream stream;
    stream.onStatus = [](const Net::ClientReply &head) {
        return head.status / 100 == 2 && head.contentType.startsWith("text/event-stream");
    };
    stream.onBytes = [this, externalId, watch, refresh](const QByteArray &chunk) {
        watch->attempts = 0;
        if (linkState() == LinkState::Degraded) // the server answers again
            setLinkState(LinkState::Connected, m_capabilities.dialect);
        for (const SseEvent &event : watch->parser.feed(chunk)) {
            const QJsonValue data = QJsonDocument::fromJson(event.data).object();
            if (event.type == "error") {
                // {error, message} for a failed run; the bare text "Run not found" for a run
                // the server does not know (it still answers 200 with a stream).
                const QJsonObject e = data.toObject();
                const QString words = e.isEmpty() ? QString::fromUtf8(event.data)
                                                  : e.value(QLatin1String("error")).toString() + QStringLiteral(": ")
                                                        + e.value(QLatin1String("message")).toString();
                qCInfo(lcRuntime) << m_provider << "run" << externalId << "stream error:" << words;
                refresh(false);
            } else if (event.type == "metadata" || event.type == "end"
                       || !LangGraph::interruptsFromStreamData(data).empty()) {
                refresh(false);
            }
        }
        if (watch->parser.failed()) {
            qCWarning(lcRuntime) << m_provider << "sent an event larger than" << watch->parser.maxEventBytes()
                                 << "bytes; reconnecting";
            watch->parser = SseParser(); // the stream cannot be framed any more; start over
            Net::HttpClient::abort(watch->reply);
            streamEnded(externalId, makeError(Error::Kind::Invalid, QStringLiteral("oversized event")));
        }
    };
    stream.onEnd = [this, externalId, watch, provider, path, refresh](const Result<Net::ClientReply> &end) {
        if (!m_watches.contains(externalId))
            return;
        if (!end) {
            streamEnded(externalId, end.error());
            return;
        }
        if (end->status / 100 != 2 || !end->contentType.startsWith("text/event-stream")) {
            const Error e = LangGraph::errorFromResponse(end->status, end->body, provider,
                                                         QStringLiteral("GET %1").arg(path));
            if (e.kind == Error::Kind::NotFound)
                watch->done = true;
            streamEnded(externalId, e);
            return;
        }
        // The server closes the stream when the run ends (the JS server sends no `end` event).
        watch->parser.finish();
        refresh(true);
    };
    watch->reply = m_http->openStream("GET", url(path), h, {}, std::move(stream), 0);
}

void LangGraphConnector::streamEnded(const QByteArray &externalId, const std::optional<Error> &error)
{
    auto watch = m_watches.value(externalId);
    if (!watch)
        return;
    if (watch->done) {
        m_watches.remove(externalId);
        return;
    }
    ++watch->attempts;
    if (error) {
        qCInfo(lcRuntime) << m_provider << "stream of run" << externalId << "ended:" << error->message;
        setLinkState(LinkState::Degraded, QStringLiteral("stream of run %1 dropped: %2; reconnecting")
                                              .arg(QString::fromUtf8(externalId), error->message));
    }
    if (watch->attempts > 5) {
        m_watches.remove(externalId);
        m_polledWatches.insert(externalId);
        if (!m_watchPollTimer.isActive())
            m_watchPollTimer.start();
        return;
    }
    const int delay = std::min(10000, 250 << watch->attempts);
    QTimer::singleShot(delay, this, [this, externalId] {
        if (m_watches.contains(externalId))
            openStream(externalId);
    });
}

void LangGraphConnector::pollWatched()
{
    if (m_polledWatches.isEmpty()) {
        m_watchPollTimer.stop();
        return;
    }
    const QList<QByteArray> ids = m_polledWatches.values();
    for (const QByteArray &id : ids) {
        getRun(id, [this, id](const Result<RuntimeRun> &r) {
            if ((r && (isTerminal(r->status) || r->status == RunStatus::WaitingApproval))
                || (!r && r.error().kind == Error::Kind::NotFound))
                m_polledWatches.remove(id);
        });
    }
}

} // namespace Breaker
