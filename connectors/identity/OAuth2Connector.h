#pragma once

#include "connectors/containment/LayerConnector.h"
#include "connectors/identity/OAuthCodec.h"
#include "connectors/net/HttpClient.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <memory>
#include <optional>
#include <vector>

namespace Breaker {

struct ProviderConfig;

// The identity layer for a standards OAuth 2.0 authorization server (PROTOCOLS.md section 2):
// RFC 7009 revocation of the agent's token, proved by RFC 7662 introspection.
//
// Why introspect: revocation answers 200 for unknown, garbage and already revoked tokens alike
// (RFC 7009 section 2.2), so a 200 proves only that the request was understood. Only exactly
// `active:false` from introspection makes the row verified.
//
// Endpoints come from discovery ({issuer}/.well-known/openid-configuration, else RFC 8414),
// cached for the object's life; probe() reads it afresh. Client authentication is
// client_secret_basic. The token itself never appears in a row, an error or a log line: rows
// name it by its reference ("token file:/...").
class OAuth2Connector : public LayerConnector
{
    Q_OBJECT
public:
    OAuth2Connector(const ProviderConfig &provider,
                    QByteArray clientSecret,
                    QObject *parent = nullptr);
    ~OAuth2Connector() override;

    QByteArray layer() const override { return "identity"; }
    QByteArray provider() const override { return m_name.toUtf8(); }
    QByteArray kind() const override { return "oauth2"; }

    void
    contain(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done) override;
    bool canRelease() const override { return false; }
    void
    release(const LayerTarget &target, const LayerDeadlines &deadlines, LayerDone done) override;
    void checkLeaks(const LayerTarget &target,
                    qint64 sinceMs,
                    std::function<void(Result<std::vector<LayerLeak>>)> done) override;
    void probe(std::function<void(Result<QString>)> done) override;

    // The discovery document once read (tests, the profile check).
    std::optional<OAuth::Metadata> metadata() const { return m_metadata; }

protected:
    using ReplyDone = std::function<void(const Result<Net::ClientReply> &)>;
    using MetadataDone = std::function<void(const Result<OAuth::Metadata> &)>;
    using IntrospectionDone = std::function<void(const Result<OAuth::Introspection> &)>;

    // One contain()/release() in flight: its row, its clock and its deadline. finish() answers
    // exactly once, whichever comes first: the work or the deadline.
    struct Op
    {
        LayerDone done;
        StopLayerResult row;
        QElapsedTimer clock;
        QPointer<QTimer> deadline;
        bool finished = false;
        bool accepted = false; // the provider accepted the action: a timeout is then unverified
        QString progress;      // what is known so far, for the timeout's detail
        QByteArray secret;     // scrubbed from every detail
    };
    std::shared_ptr<Op> startOp(
        const LayerTarget &target, QByteArray action, QByteArray what, int totalMs, LayerDone done);
    void finish(const std::shared_ptr<Op> &op, LayerOutcome outcome, const QString &detail);
    static QByteArray tokenTarget(const LayerTarget &target);

    void discover(bool fresh, MetadataDone then);
    void postForm(const QUrl &url, const OAuth::Form &form, ReplyDone done);
    void send(const QByteArray &method,
              const QUrl &url,
              Net::HttpClient::Headers headers,
              const QByteArray &body,
              ReplyDone done);
    // With a deadline that has not passed, a 503 or 429 is asked again after Retry-After while it
    // allows; the default never retries.
    void introspect(const QByteArray &token, IntrospectionDone done, QDeadlineTimer retryUntil = QDeadlineTimer());
    // Revokes, retrying a 503 with Retry-After while the act deadline allows, then introspects;
    // finishes the op.
    void revokeAndVerify(const std::shared_ptr<Op> &op, QByteArray token, int actMs);

    // "idp: <message>" with where = the provider name.
    Error providerError(Error::Kind kind, const QString &message) const;
    QString name() const { return m_name; }

    Net::HttpClient *m_http = nullptr;
    QString m_name;
    QUrl m_issuer;
    QByteArray m_clientId;
    QByteArray m_clientSecret;

private:
    void tryDiscovery(QList<QUrl> urls, QStringList failures);
    void finishDiscovery(const Result<OAuth::Metadata> &result);
    void revokeOnce(const std::shared_ptr<Op> &op, QByteArray token, int actMs, int attempt);
    void verify(const std::shared_ptr<Op> &op, QByteArray token);

    std::optional<OAuth::Metadata> m_metadata;
    bool m_discovering = false;
    std::vector<MetadataDone> m_discoveryWaiters;
};

} // namespace Breaker
