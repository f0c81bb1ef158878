#pragma once

#include "app/sandbox/fakes/FakeFaults.h"
#include "connectors/net/HttpServer.h"
#include "models/Result.h"

#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace Breaker {

// The sandbox's OPA: the Data API of PROTOCOLS.md 4.2 and 7.2 on loopback, for the tools layer of
// the stop switch (OpaConnector) and the drills.
//
// It serves /v1/data/{path} — GET ({"result": …}, or {} when undefined), PUT (204; 304 with
// If-None-Match: * on an existing document), PATCH (JSON Patch add/remove/replace, "/-" appends;
// 204, 404 when the parent or target is missing), DELETE (204/404), POST with {"input": …} —
// and GET /health ({}). Errors have OPA's shape {"code","message"}. No auth by default; with
// setBearerToken() every request needs "Authorization: Bearer <token>" (401 otherwise).
//
// It does NOT run Rego. The decision at <package>/killswitch/allow is the fixed policy of
// resources/policy/breaker_killswitch.rego evaluated in C++ over the kill-switch document:
// false when input.tool is in blocked_tools[input.agent] or input.agent is in blocked_agents (or
// either is not a string), true otherwise. setPolicyLoaded(false) makes that path undefined, as
// on an OPA where the policy was never loaded.
class OpaFake : public QObject
{
    Q_OBJECT
public:
    explicit OpaFake(QObject *parent = nullptr);
    ~OpaFake() override;

    // On 127.0.0.1, a free port. With the fault "down" it picks a port but does not listen, so
    // connections are refused.
    Result<void> listen();
    QUrl url() const; // http://127.0.0.1:<port>
    FakeFaults *faults() { return m_faults; }

    void setBearerToken(QByteArray token) { m_bearer = std::move(token); }
    void setPolicyLoaded(bool loaded) { m_policyLoaded = loaded; }
    // The package the policy was loaded under (the profile's "package"); default "breaker".
    void setPackage(const QString &package);
    // A gateway whose policy ignores the document: every decision answers this.
    void setForcedDecision(std::optional<bool> decision) { m_forcedDecision = decision; }
    // Another writer: the next PUT with If-None-Match: * finds this document already created
    // (so it answers 304 and the document is this).
    void setCreateRace(std::optional<QJsonValue> document) { m_createRace = std::move(document); }

    // The base document at a data path ("breaker/killswitch"); nullopt when there is none.
    std::optional<QJsonValue> document(const QString &path) const;
    void setDocument(const QString &path, const QJsonValue &value);
    void clearData();

    // Every request received, in order (before faults apply), for tests that check the wire.
    const QList<Net::HttpRequest> &requests() const { return m_requests; }
    void clearRequests() { m_requests.clear(); }

private:
    struct Failure
    {
        int status = 404;
        QByteArray code;
        QString message;
    };

    void handle(const Net::HttpRequest &request, Net::HttpResponder responder);
    Net::HttpResponse get(const QStringList &path) const;
    Net::HttpResponse put(const QStringList &path, const Net::HttpRequest &request);
    Net::HttpResponse patch(const QStringList &path, const QByteArray &body);
    Net::HttpResponse remove(const QStringList &path);
    Net::HttpResponse post(const QStringList &path, const QByteArray &body) const;
    std::optional<QJsonValue> virtualDocument(const QStringList &path,
                                              const QJsonValue &input) const;
    bool decide(const QJsonValue &input) const;

    static Net::HttpResponse json(int status, const QJsonValue &body);
    static Net::HttpResponse failure(const Failure &f);

    Net::HttpServer *m_server = nullptr;
    FakeFaults *m_faults = nullptr;
    quint16 m_port = 0;
    QByteArray m_bearer;
    bool m_policyLoaded = true;
    QStringList m_package{QStringLiteral("breaker"), QStringLiteral("killswitch")};
    std::optional<bool> m_forcedDecision;
    std::optional<QJsonValue> m_createRace;
    QJsonValue m_data; // the whole base document tree (an object)
    QList<Net::HttpRequest> m_requests;
};

} // namespace Breaker
