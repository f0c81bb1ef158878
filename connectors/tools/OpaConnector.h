#pragma once

#include "connectors/containment/LayerConnector.h"
#include "connectors/net/HttpClient.h"
#include "connectors/tools/OpaCodec.h"

#include <QStringList>
#include <QUrl>

#include <memory>

namespace Breaker {

struct ProviderConfig;

// The tools layer on Open Policy Agent (PROTOCOLS.md 4.2): a stop adds the agent's tools to
// Breaker's kill-switch document (/v1/data/<package>/killswitch, see OpaCodec.h) and proves it by
// asking the decision of resources/policy/breaker_killswitch.rego for each tool.
//
// Writes never clobber: the document is created only when absent (PUT with If-None-Match: *; a
// 304 means another writer created it, so it is read again) and tools are appended with JSON
// Patch, so other agents' lists and concurrent writers' tools stay.
//
// OPA keeps REST-written data in memory only: after an OPA restart the document is gone and every
// tool is allowed again. The leak watch (checkLeaks) sees that as an allowed decision, and a
// repeated contain() writes the document again.
class OpaConnector : public LayerConnector
{
    Q_OBJECT
public:
    // `bearerToken` (the resolved api_key) goes out as "Authorization: Bearer …" when not empty
    // (OPA started with --authentication=token).
    OpaConnector(const ProviderConfig &config, QByteArray bearerToken, QObject *parent = nullptr);
    ~OpaConnector() override;

    QByteArray layer() const override { return "tools"; }
    QByteArray provider() const override { return m_provider; }
    QByteArray kind() const override { return "opa"; }

    void
    contain(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done) override;
    bool canRelease() const override { return true; }
    void
    release(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done) override;
    void checkLeaks(const LayerTarget &target,
                    qint64 sinceMs,
                    std::function<void(Result<std::vector<LayerLeak>>)> done) override;
    void probe(std::function<void(Result<QString>)> done) override;

    // /v1/data/breaker/killswitch for the profile's package (empty when the package is invalid).
    QString documentPath() const;

private:
    struct Op;
    using Reply = std::function<void(const Result<Net::ClientReply> &)>;
    using AnswerDone = std::function<void(const Result<Opa::Answer> &)>;
    using DecisionsDone
        = std::function<void(const QList<std::pair<QString, Result<Opa::Answer>>> &)>;

    void send(const QByteArray &method,
              const QString &path,
              Net::HttpClient::Headers headers,
              const QByteArray &body,
              Reply done);
    void readDocument(AnswerDone done);
    void askDecisions(const QString &agent, const QStringList &tools, DecisionsDone done);

    std::shared_ptr<Op>
    startOp(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done, bool block);
    void step(const std::shared_ptr<Op> &op);
    void createDocument(const std::shared_ptr<Op> &op);
    void patch(const std::shared_ptr<Op> &op, const Opa::Document &doc);
    void verify(const std::shared_ptr<Op> &op);
    void finish(const std::shared_ptr<Op> &op, LayerOutcome outcome, const QString &detail);
    QString pathWords() const;

    QByteArray m_provider;
    QUrl m_base;
    QByteArray m_bearer;
    Result<QStringList> m_segments;
    Net::HttpClient *m_http = nullptr;
    bool m_caChecked = false;
    bool m_destroying = false;
};

} // namespace Breaker
