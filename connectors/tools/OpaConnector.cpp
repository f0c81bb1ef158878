#include "connectors/tools/OpaConnector.h"

#include "models/Profile.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QPointer>
#include <QTimer>

namespace Breaker {

namespace {

constexpr int kDefaultTimeoutMs = 10000;
// Re-reads after a 304 (someone else created the document) or a 404 on PATCH (someone deleted it
// between our read and our patch) before giving up.
constexpr int kMaxAttempts = 4;

QString joined(const QStringList &tools)
{
    return tools.join(QStringLiteral(", "));
}

} // namespace

// One contain() or release() in flight: answers exactly once, by its deadlines.
struct OpaConnector::Op
{
    LayerTarget target;
    LayerDeadlines deadlines;
    LayerDone done;
    bool block = true; // contain (block) or release (unblock)
    QString agent;
    QStringList tools;
    QElapsedTimer clock;
    QPointer<QTimer> timer;
    bool finished = false;
    bool verifying = false;
    bool written = false; // the write was accepted (or nothing needed writing)
    bool triedCreate = false;
    int attempts = 0;
    QString writeWords;        // what the write did, for the detail
    QStringList blockedAgents; // as last read (release: why a tool may still be denied)
};

OpaConnector::OpaConnector(const ProviderConfig &config, QByteArray bearerToken, QObject *parent)
    : LayerConnector(parent)
    , m_provider(config.name.toUtf8())
    , m_base(config.url)
    , m_bearer(std::move(bearerToken))
    , m_segments(Opa::documentSegments(config.package))
{
    Net::ClientOptions options;
    options.connectionsPerHost = 24; // a global stop acts on many agents at once
    options.provider = config.name;
    options.timeoutMs = config.timeoutS ? int(*config.timeoutS * 1000) : kDefaultTimeoutMs;
    options.caFile = config.caFile;
    options.proxy = config.proxy;
    m_http = new Net::HttpClient(options, this);
}

OpaConnector::~OpaConnector()
{
    // Replies still in flight end with the client; their callbacks must not reach a half-destroyed
    // connector, and an owner that destroys us expects no answer.
    m_destroying = true;
    delete m_http;
    m_http = nullptr;
}

QString OpaConnector::documentPath() const
{
    return m_segments ? Opa::documentPath(*m_segments) : QString();
}

QString OpaConnector::pathWords() const
{
    return documentPath();
}

void OpaConnector::send(const QByteArray &method,
                        const QString &path,
                        Net::HttpClient::Headers headers,
                        const QByteArray &body,
                        Reply done)
{
    if (m_destroying) {
        done(makeError(
            Error::Kind::Unavailable,
            QStringLiteral("%1: the connector is closing").arg(QString::fromUtf8(m_provider)),
            QString::fromUtf8(m_provider)));
        return;
    }
    if (!m_segments) {
        Error e = m_segments.error();
        e.message = QStringLiteral("%1: %2").arg(QString::fromUtf8(m_provider), e.message);
        e.where = QString::fromUtf8(m_provider);
        done(e);
        return;
    }
    if (!m_caChecked) {
        if (auto ca = m_http->loadCaFile(); !ca) {
            done(ca.error());
            return;
        }
        m_caChecked = true;
    }
    QUrl url = m_base;
    QString base = url.path();
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    url.setPath(base + path);
    url.setQuery(QString());
    headers.emplace_back("Accept", "application/json");
    if (!m_bearer.isEmpty())
        headers.emplace_back("Authorization", "Bearer " + m_bearer);
    m_http->send(method, url, headers, body, std::move(done));
}

void OpaConnector::readDocument(AnswerDone done)
{
    const QString provider = QString::fromUtf8(m_provider);
    send("GET",
         documentPath(),
         {},
         {},
         [provider, done = std::move(done)](const Result<Net::ClientReply> &r) {
             if (!r) {
                 done(r.error());
                 return;
             }
             done(Opa::parseAnswer(r->status, r->body, provider));
         });
}

void OpaConnector::askDecisions(const QString &agent, const QStringList &tools, DecisionsDone done)
{
    // All tools at once: OPA answers decisions concurrently, and the verify deadline is shared.
    struct Gather
    {
        QList<std::pair<QString, Result<Opa::Answer>>> answers;
        int pending = 0;
        DecisionsDone done;
    };
    auto gather = std::make_shared<Gather>();
    gather->done = std::move(done);
    gather->pending = int(tools.size());
    for (const QString &tool : tools)
        gather->answers.append(
            {tool, makeError(Error::Kind::Internal, QStringLiteral("no answer"))});
    if (tools.isEmpty()) {
        gather->done(gather->answers);
        return;
    }
    const QString provider = QString::fromUtf8(m_provider);
    for (int i = 0; i < tools.size(); ++i) {
        send("POST",
             Opa::decisionPath(*m_segments),
             {{"Content-Type", "application/json"}},
             Opa::decisionInput(agent, tools.at(i)),
             [gather, i, provider](const Result<Net::ClientReply> &r) {
                 gather->answers[i].second = r ? Opa::parseAnswer(r->status, r->body, provider)
                                               : Result<Opa::Answer>(r.error());
                 if (--gather->pending == 0)
                     gather->done(gather->answers);
             });
    }
}

std::shared_ptr<OpaConnector::Op> OpaConnector::startOp(const LayerTarget &target,
                                                        const LayerDeadlines &deadlines,
                                                        LayerDone done,
                                                        bool block)
{
    auto op = std::make_shared<Op>();
    op->target = target;
    op->deadlines = deadlines;
    op->done = std::move(done);
    op->block = block;
    op->agent = QString::fromUtf8(target.agent);
    for (const QString &t : target.tools) {
        if (!op->tools.contains(t))
            op->tools << t;
    }
    op->clock.start();
    op->timer = new QTimer(this);
    op->timer->setSingleShot(true);
    // The timer holds the op while it runs; finish() deletes the timer.
    connect(op->timer, &QTimer::timeout, this, [this, op] {
        const QString provider = QString::fromUtf8(m_provider);
        if (!op->verifying) {
            finish(
                op,
                LayerOutcome::Failed,
                QStringLiteral("%1 did not accept the %2 within %3 ms")
                    .arg(provider, op->block ? QStringLiteral("block") : QStringLiteral("unblock"))
                    .arg(op->deadlines.actMs));
        } else {
            finish(op,
                   LayerOutcome::DoneUnverified,
                   QStringLiteral("%1; %2 did not answer the decisions within %3 ms")
                       .arg(op->writeWords, provider, QString::number(op->deadlines.verifyMs)));
        }
    });
    op->timer->start(std::max(1, deadlines.actMs));
    return op;
}

void OpaConnector::finish(const std::shared_ptr<Op> &op,
                          LayerOutcome outcome,
                          const QString &detail)
{
    if (op->finished || m_destroying)
        return;
    op->finished = true;
    if (op->timer) {
        op->timer->stop();
        op->timer->deleteLater();
    }
    StopLayerResult row;
    row.layer = layer();
    row.agent = op->target.agent;
    row.run = op->target.run;
    row.provider = m_provider;
    row.target = "tools " + joined(op->tools).toUtf8();
    row.action = op->block ? "block" : "unblock";
    row.outcome = outcome;
    row.detail = detail;
    row.ms = op->clock.elapsed();
    auto done = std::move(op->done);
    done({row});
}

void OpaConnector::contain(const LayerTarget &target,
                           const LayerDeadlines &deadlines,
                           LayerDone done)
{
    auto op = startOp(target, deadlines, std::move(done), true);
    if (op->tools.isEmpty()) {
        finish(op,
               LayerOutcome::SkippedNotConfigured,
               QStringLiteral("the agent has no tools in the profile"));
        return;
    }
    step(op);
}

void OpaConnector::release(const LayerTarget &target,
                           const LayerDeadlines &deadlines,
                           LayerDone done)
{
    auto op = startOp(target, deadlines, std::move(done), false);
    if (op->tools.isEmpty()) {
        finish(op,
               LayerOutcome::SkippedNotConfigured,
               QStringLiteral("the agent has no tools in the profile"));
        return;
    }
    step(op);
}

// Reads the document and writes what is missing (block) or present (unblock).
void OpaConnector::step(const std::shared_ptr<Op> &op)
{
    if (op->finished)
        return;
    if (++op->attempts > kMaxAttempts) {
        finish(op,
               LayerOutcome::Failed,
               QStringLiteral("%1: %2 kept changing under us (%3 attempts); other writers are busy "
                              "with it")
                   .arg(QString::fromUtf8(m_provider), pathWords())
                   .arg(kMaxAttempts));
        return;
    }
    readDocument([this, op](const Result<Opa::Answer> &a) {
        if (op->finished)
            return;
        if (!a) {
            finish(op, LayerOutcome::Failed, a.error().message);
            return;
        }
        if (!a->defined) {
            if (op->block) {
                createDocument(op);
            } else {
                // No document, nothing blocked by Breaker: the decisions tell whether they allow.
                op->written = true;
                op->writeWords
                    = QStringLiteral("%1 holds no kill-switch document").arg(pathWords());
                verify(op);
            }
            return;
        }
        auto doc = Opa::parseDocument(a->result);
        if (!doc) {
            finish(op,
                   LayerOutcome::Failed,
                   QStringLiteral("%1: %2 at %3")
                       .arg(QString::fromUtf8(m_provider), doc.error().message, pathWords()));
            return;
        }
        op->blockedAgents = doc->blockedAgents;
        if (op->block && !doc->hasBlockedTools
            && !a->result.toObject().contains(QLatin1String("blocked_agents"))
            && !op->triedCreate) {
            // With the policy loaded, a GET of the package path shows the policy's `allow` even
            // when Breaker's document does not exist, and a patch of a missing document is a 404.
            createDocument(op);
            return;
        }
        patch(op, *doc);
    });
}

void OpaConnector::createDocument(const std::shared_ptr<Op> &op)
{
    op->triedCreate = true;
    send("PUT",
         documentPath(),
         {{"Content-Type", "application/json"}, {"If-None-Match", "*"}},
         Opa::emptyDocument(),
         [this, op](const Result<Net::ClientReply> &r) {
             if (op->finished)
                 return;
             if (!r) {
                 finish(op, LayerOutcome::Failed, r.error().message);
                 return;
             }
             if (r->status == 204 || r->status == 304) {
                 // 204: created; 304: another writer created it first. Either way, read what is
                 // there now and patch that.
                 step(op);
                 return;
             }
             auto a = Opa::parseAnswer(r->status, r->body, QString::fromUtf8(m_provider));
             QString words = a ? QStringLiteral("%1 answered HTTP %2 to creating %3")
                                     .arg(QString::fromUtf8(m_provider))
                                     .arg(r->status)
                                     .arg(pathWords())
                               : a.error().message;
             if (r->status == 404)
                 words += QStringLiteral(" (a write conflict: the path is under a bundle's roots "
                                         "or a policy rule)");
             finish(op, LayerOutcome::Failed, words);
         });
}

void OpaConnector::patch(const std::shared_ptr<Op> &op, const Opa::Document &doc)
{
    const QByteArray body = op->block ? Opa::addToolsPatch(doc, op->agent, op->tools)
                                      : Opa::removeToolsPatch(doc, op->agent, op->tools);
    const QString list = QStringLiteral("blocked_tools[\"%1\"]").arg(op->agent);
    if (body.isEmpty()) {
        op->written = true;
        op->writeWords = op->block
                             ? QStringLiteral("%1 already held %2").arg(list, joined(op->tools))
                             : QStringLiteral("%1 held none of %2").arg(list, joined(op->tools));
        verify(op);
        return;
    }
    send("PATCH",
         documentPath(),
         {{"Content-Type", "application/json-patch+json"}},
         body,
         [this, op, list](const Result<Net::ClientReply> &r) {
             if (op->finished)
                 return;
             if (!r) {
                 finish(op, LayerOutcome::Failed, r.error().message);
                 return;
             }
             if (r->status == 404) {
                 // The document (or the agent's list) went away since we read it: read again.
                 step(op);
                 return;
             }
             if (r->status / 100 != 2) {
                 auto a = Opa::parseAnswer(r->status, r->body, QString::fromUtf8(m_provider));
                 finish(op,
                        LayerOutcome::Failed,
                        a ? QStringLiteral("%1 answered HTTP %2 to the patch")
                                .arg(QString::fromUtf8(m_provider))
                                .arg(r->status)
                          : a.error().message);
                 return;
             }
             op->written = true;
             op->writeWords = op->block ? QStringLiteral("added to %1").arg(list)
                                        : QStringLiteral("removed from %1").arg(list);
             verify(op);
         });
}

void OpaConnector::verify(const std::shared_ptr<Op> &op)
{
    op->verifying = true;
    if (op->timer)
        op->timer->start(std::max(1, op->deadlines.verifyMs));
    askDecisions(op->agent, op->tools, [this, op](const auto &answers) {
        if (op->finished)
            return;
        const QString provider = QString::fromUtf8(m_provider);
        QStringList wrong, undefined, errors;
        for (const auto &[tool, a] : answers) {
            if (!a) {
                errors << a.error().message;
            } else if (!a->defined) {
                undefined << tool;
            } else if (!a->result.isBool()) {
                errors << QStringLiteral("the decision for %1 is not a boolean").arg(tool);
            } else if (a->result.toBool() == op->block) {
                wrong << tool; // block: still allowed; unblock: still denied
            }
        }
        const QString decision = Opa::decisionPath(*m_segments);
        if (!wrong.isEmpty()) {
            QString words = op->block
                                ? QStringLiteral("%1 still allows %2 for %3 after the block (%4): "
                                                 "the gateway's policy is not "
                                                 "breaker_killswitch.rego, or another rule allows")
                                      .arg(provider, joined(wrong), op->agent, op->writeWords)
                                : QStringLiteral("%1 still denies %2 for %3 after the unblock (%4)")
                                      .arg(provider, joined(wrong), op->agent, op->writeWords);
            if (!op->block && op->blockedAgents.contains(op->agent))
                words += QStringLiteral(": the agent is in blocked_agents");
            finish(op, LayerOutcome::Failed, words);
            return;
        }
        if (!errors.isEmpty()) {
            finish(op,
                   LayerOutcome::DoneUnverified,
                   QStringLiteral("%1; the decision could not be read: %2")
                       .arg(op->writeWords, errors.join(QStringLiteral("; "))));
            return;
        }
        if (!undefined.isEmpty()) {
            finish(op,
                   LayerOutcome::DoneUnverified,
                   QStringLiteral("%1; decision undefined at %2 for %3: is breaker_killswitch.rego "
                                  "loaded?")
                       .arg(op->writeWords, decision, joined(undefined)));
            return;
        }
        finish(
            op,
            LayerOutcome::Verified,
            op->block
                ? QStringLiteral("%1 denies %2 for %3").arg(provider, joined(op->tools), op->agent)
                : QStringLiteral("%1 allows %2 for %3 again")
                      .arg(provider, joined(op->tools), op->agent));
    });
}

void OpaConnector::checkLeaks(const LayerTarget &target,
                              qint64 sinceMs,
                              std::function<void(Result<std::vector<LayerLeak>>)> done)
{
    // A decision is the present state, not a log: every allowed blocked tool is a leak now.
    // (OPA's decision log would tell what was allowed since sinceMs; it is not an API.)
    Q_UNUSED(sinceMs);
    const QString agent = QString::fromUtf8(target.agent);
    if (!m_segments || target.tools.isEmpty()) {
        if (!m_segments)
            done(m_segments.error());
        else
            done(std::vector<LayerLeak>{});
        return;
    }
    const QString provider = QString::fromUtf8(m_provider);
    askDecisions(
        agent, target.tools, [agent, provider, done = std::move(done)](const auto &answers) {
            std::vector<LayerLeak> leaks;
            for (const auto &[tool, a] : answers) {
                if (!a) {
                    done(a.error());
                    return;
                }
                if (a->defined && a->result.isBool() && a->result.toBool()) {
                    LayerLeak leak;
                    leak.layer = "tools";
                    leak.agent = agent.toUtf8();
                    leak.what = QStringLiteral("%1 allows %2 for %3").arg(provider, tool, agent);
                    leak.atMs = QDateTime::currentMSecsSinceEpoch();
                    leaks.push_back(leak);
                }
            }
            done(leaks);
        });
}

void OpaConnector::probe(std::function<void(Result<QString>)> done)
{
    const QString provider = QString::fromUtf8(m_provider);
    send("GET",
         QStringLiteral("/health"),
         {},
         {},
         [this, provider, done = std::move(done)](const Result<Net::ClientReply> &r) {
             if (!r) {
                 done(r.error());
                 return;
             }
             if (auto a = Opa::parseAnswer(r->status, r->body, provider); !a) {
                 done(a.error());
                 return;
             }
             // The document read is the authenticated part (/health may be open with a token set).
             readDocument([this, provider, done](const Result<Opa::Answer> &a) {
                 if (!a) {
                     done(a.error());
                     return;
                 }
                 if (!a->defined) {
                     done(QStringLiteral("%1 is healthy; %2 is absent (the first stop creates it)")
                              .arg(provider, pathWords()));
                     return;
                 }
                 auto doc = Opa::parseDocument(a->result);
                 if (!doc) {
                     done(makeError(Error::Kind::Invalid,
                                    QStringLiteral("%1: %2 at %3")
                                        .arg(provider, doc.error().message, pathWords()),
                                    provider));
                     return;
                 }
                 qsizetype tools = 0;
                 for (const QStringList &l : std::as_const(doc->blockedTools))
                     tools += l.size();
                 done(QStringLiteral("%1 is healthy; %2 blocks %3 tool(s) of %4 agent(s) and %5 "
                                     "agent(s) entirely")
                          .arg(provider, pathWords())
                          .arg(tools)
                          .arg(doc->blockedTools.size())
                          .arg(doc->blockedAgents.size()));
             });
         });
}

} // namespace Breaker
