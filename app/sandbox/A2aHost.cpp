#include "app/sandbox/A2aHost.h"

#include "models/Logging.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QUrlQuery>
#include <QUuid>

#include <cmath>

namespace Breaker {

using namespace A2a;

namespace {

constexpr qint64 kMaxWorkMs = 600000;         // "work <ms>": at most ten minutes
constexpr qint64 kQuickWorkMs = 50;           // "quick"
constexpr qint64 kMaxRequestBytes = 1 << 20;  // answered 413 beyond this
constexpr qint64 kMaxStreamBacklog = 4 << 20; // a subscriber this far behind is dropped

QByteArray compact(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QString uuid()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

A2a::Error err(ErrorKind kind, const QString &message)
{
    return A2a::Error{kind, message};
}

QString mediaType(const QByteArray &contentType)
{
    return QString::fromLatin1(contentType.split(';').value(0)).trimmed().toLower();
}

QString money(qint64 minor)
{
    return QString::number(minor / 100) + QLatin1Char('.')
           + QString::number(minor % 100).rightJustified(2, QLatin1Char('0'));
}

QString skillDescription(AgentRole role)
{
    switch (role) {
    case AgentRole::Refunds:
        return QStringLiteral("Resolves billing tickets and issues refunds; refunds above the "
                              "approval threshold wait for a person.");
    case AgentRole::Claims:
        return QStringLiteral("Checks insurance claims against policies and pays them out.");
    case AgentRole::Email:
        return QStringLiteral("Reads the inbox and answers customers by email.");
    case AgentRole::UsageAnalytics:
        return QStringLiteral("Queries usage data, exports it and publishes reports.");
    }
    return {};
}

// historyLength as a2a-js reads it: absent → all; <= 0 → none.
int historyLengthOf(const QJsonValue &value)
{
    if (value.isUndefined() || value.isNull())
        return -1;
    const int n = value.isString() ? value.toString().toInt() : value.toInt();
    return std::max(n, 0);
}

} // namespace

A2aHost::A2aHost(SandboxFleet *fleet,
                 int agentIndex,
                 A2aInterfaces interfaces,
                 int maxTerminalTasks,
                 QObject *parent)
    : QObject(parent)
    , m_fleet(fleet)
    , m_agentIndex(agentIndex)
    , m_interfaces(interfaces)
    , m_store(maxTerminalTasks)
{
    // A2A requests are small; a big body would stall the fleet's thread while it parses.
    Net::HttpServerLimits limits;
    limits.maxBodyBytes = kMaxRequestBytes;
    m_server.setLimits(limits);
    // The runtime's injected faults (breakerctl sandbox --fault runtime=... --latency-ms
    // runtime=N) sit in front of every route; "down" leaves requests unanswered.
    auto internalError = [] {
        return Net::HttpResponse::make(500, QByteArrayLiteral("application/json"),
                                       QByteArrayLiteral("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
                                                         "\"message\":\"Internal error (sandbox fault)\"}}"));
    };
    auto card = m_faults.wrap([this](Net::HttpRequest request, Net::HttpResponder responder) {
        handleCard(request, std::move(responder));
    }, internalError);
    m_server.route("GET", "/.well-known/agent-card.json", card);
    m_server.route("GET", "/.well-known/agent.json", card); // up to v0.2.6
    m_server.route("POST", "/a2a/jsonrpc", m_faults.wrap([this](Net::HttpRequest request, Net::HttpResponder r) {
        handleJsonRpc(request, std::move(r));
    }, internalError));
    auto rest = m_faults.wrap([this](Net::HttpRequest request, Net::HttpResponder responder) {
        handleRest(request, std::move(responder));
    }, internalError);
    m_server.routePrefix("GET", "/a2a/rest/", rest);
    m_server.routePrefix("POST", "/a2a/rest/", rest);
    m_server.routePrefix("DELETE", "/a2a/rest/", rest);
}

A2aHost::~A2aHost()
{
    m_server.close();
}

const AgentSpec &A2aHost::spec() const
{
    return m_fleet->agent(m_agentIndex);
}

Result<void> A2aHost::listen()
{
    return m_server.listen(QHostAddress(QHostAddress::LocalHost), 0);
}

void A2aHost::close()
{
    m_server.close();
}

QUrl A2aHost::origin() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.port()));
}

QUrl A2aHost::jsonRpcUrl() const
{
    return QUrl(origin().toString() + QStringLiteral("/a2a/jsonrpc"));
}

QUrl A2aHost::restUrl() const
{
    return QUrl(origin().toString() + QStringLiteral("/a2a/rest"));
}

QUrl A2aHost::preferredUrl() const
{
    const bool rest = m_interfaces.rest && (m_interfaces.restFirst || !m_interfaces.jsonRpc);
    return rest ? restUrl() : jsonRpcUrl();
}

QStringList A2aHost::supportedVersions(Binding binding) const
{
    const bool has = binding == Binding::JsonRpc ? m_interfaces.jsonRpc : m_interfaces.rest;
    QStringList out;
    if (has && m_interfaces.v1)
        out << QStringLiteral("1.0");
    if (has && m_interfaces.v03)
        out << QStringLiteral("0.3");
    return out;
}

// ---- agent card ------------------------------------------------------------------------------

QJsonObject A2aHost::card(Dialect dialect) const
{
    const AgentSpec &s = spec();
    struct Iface
    {
        QString url;
        QString binding;
        QString version;
    };
    std::vector<Iface> ifaces;
    QStringList versions;
    if (m_interfaces.v1)
        versions << QStringLiteral("1.0");
    if (m_interfaces.v03)
        versions << QStringLiteral("0.3");
    for (const QString &v : versions) {
        auto add = [&](bool on, const QUrl &url, const char *binding) {
            if (on)
                ifaces.push_back({url.toString(), QString::fromLatin1(binding), v});
        };
        if (m_interfaces.restFirst) {
            add(m_interfaces.rest, restUrl(), "HTTP+JSON");
            add(m_interfaces.jsonRpc, jsonRpcUrl(), "JSONRPC");
        } else {
            add(m_interfaces.jsonRpc, jsonRpcUrl(), "JSONRPC");
            add(m_interfaces.rest, restUrl(), "HTTP+JSON");
        }
    }
    const QString name = QString::fromUtf8(s.name);
    QJsonArray tags;
    for (const QByteArray &tool : s.tools)
        tags.append(QString::fromUtf8(tool));
    const QJsonObject skill{{QStringLiteral("id"), name},
                            {QStringLiteral("name"), name},
                            {QStringLiteral("description"), skillDescription(s.role)},
                            {QStringLiteral("tags"), tags}};
    const QJsonArray modes{QStringLiteral("text/plain"), QStringLiteral("application/json")};
    const QJsonObject provider{{QStringLiteral("organization"), QStringLiteral("Breaker sandbox")},
                               {QStringLiteral("url"), origin().toString()}};
    const QString description = QStringLiteral("Sandbox agent (owner %1). %2")
                                    .arg(QString::fromUtf8(s.owner), skillDescription(s.role));

    QJsonArray supported;
    for (const Iface &i : ifaces)
        supported.append(QJsonObject{{QStringLiteral("url"), i.url},
                                     {QStringLiteral("protocolBinding"), i.binding},
                                     {QStringLiteral("protocolVersion"), i.version},
                                     {QStringLiteral("tenant"), QString()}});
    if (dialect == Dialect::V1 && m_interfaces.v1) {
        QJsonObject v1Skill = skill;
        v1Skill.insert(QStringLiteral("examples"), QJsonArray{QStringLiteral("work 30000")});
        v1Skill.insert(QStringLiteral("inputModes"), QJsonArray());
        v1Skill.insert(QStringLiteral("outputModes"), QJsonArray());
        v1Skill.insert(QStringLiteral("securityRequirements"), QJsonArray());
        return QJsonObject{
            {QStringLiteral("name"), name},
            {QStringLiteral("description"), description},
            {QStringLiteral("supportedInterfaces"), supported},
            {QStringLiteral("provider"), provider},
            {QStringLiteral("version"), QString::fromUtf8(s.version)},
            {QStringLiteral("capabilities"),
             QJsonObject{{QStringLiteral("streaming"), true},
                         {QStringLiteral("pushNotifications"), false},
                         {QStringLiteral("extensions"), QJsonArray()},
                         {QStringLiteral("extendedAgentCard"), false}}},
            {QStringLiteral("securitySchemes"), QJsonObject()},
            {QStringLiteral("securityRequirements"), QJsonArray()},
            {QStringLiteral("defaultInputModes"), modes},
            {QStringLiteral("defaultOutputModes"), modes},
            {QStringLiteral("skills"), QJsonArray{v1Skill}},
            {QStringLiteral("signatures"), QJsonArray()},
        };
    }
    // v0.3 (as a2a-js's toCompatAgentCard renders it): the first v0.3 interface is `url`.
    std::vector<Iface> compat;
    for (const Iface &i : ifaces)
        if (i.version == QLatin1String("0.3"))
            compat.push_back(i);
    QJsonObject v03Skill = skill;
    v03Skill.insert(QStringLiteral("examples"), QJsonArray{QStringLiteral("work 30000")});
    QJsonObject out{
        {QStringLiteral("name"), name},
        {QStringLiteral("description"), description},
        {QStringLiteral("version"), QString::fromUtf8(s.version)},
        {QStringLiteral("url"), compat.empty() ? QString() : compat.front().url},
        {QStringLiteral("preferredTransport"),
         compat.empty() ? QStringLiteral("JSONRPC") : compat.front().binding},
        {QStringLiteral("protocolVersion"), QStringLiteral("0.3")},
        {QStringLiteral("provider"), provider},
        {QStringLiteral("capabilities"),
         QJsonObject{{QStringLiteral("streaming"), true},
                     {QStringLiteral("pushNotifications"), false}}},
        {QStringLiteral("defaultInputModes"), modes},
        {QStringLiteral("defaultOutputModes"), modes},
        {QStringLiteral("skills"), QJsonArray{v03Skill}},
        {QStringLiteral("supportsAuthenticatedExtendedCard"), false},
    };
    if (compat.size() > 1) {
        QJsonArray additional;
        for (size_t i = 1; i < compat.size(); ++i)
            additional.append(QJsonObject{{QStringLiteral("url"), compat[i].url},
                                          {QStringLiteral("transport"), compat[i].binding}});
        out.insert(QStringLiteral("additionalInterfaces"), additional);
    }
    // a2a-js with legacy compat also embeds the v1.0 list in its v0.3 card; an older
    // v0.3-only deployment has none.
    if (m_interfaces.v1)
        out.insert(QStringLiteral("supportedInterfaces"), supported);
    return out;
}

void A2aHost::handleCard(const Net::HttpRequest &request, Net::HttpResponder responder)
{
    // a2a-js reads the header only (a query parameter is ignored).
    const QString version = requestedVersion(request.header("A2A-Version"), {});
    // An older v0.3-only deployment knows nothing of the header and always sends its v0.3 card.
    const Dialect dialect
        = version == QLatin1String("1.0") && m_interfaces.v1 ? Dialect::V1 : Dialect::V03;
    const QByteArray body = compact(card(dialect));
    Net::HttpResponse response
        = Net::HttpResponse::make(200, "application/json; charset=utf-8", body);
    response.headers.append("Cache-Control", "public, max-age=3600");
    response.headers.append(
        "ETag",
        "W/\"" + QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex().left(16)
            + "\"");
    response.headers.append("Vary", "A2A-Version");
    responder.respond(std::move(response));
}

// ---- JSON-RPC --------------------------------------------------------------------------------

void A2aHost::handleJsonRpc(const Net::HttpRequest &request, Net::HttpResponder responder)
{
    Call call;
    call.binding = Binding::JsonRpc;
    call.responder = responder;

    const QByteArray contentType = request.header("Content-Type");
    if (!contentType.isEmpty() && mediaType(contentType) != QLatin1String("application/json")) {
        replyError(call,
                   err(ErrorKind::ContentTypeNotSupported,
                       QStringLiteral("Unsupported Content-Type \"%1\"; expected application/json.")
                           .arg(QString::fromLatin1(contentType))));
        return;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        replyError(call, err(ErrorKind::ParseError, QStringLiteral("Invalid JSON payload.")));
        return;
    }
    const QJsonObject rpc = doc.object();
    const QString version = requestedVersion(request.header("A2A-Version"), {});
    const QStringList supported = supportedVersions(Binding::JsonRpc);
    const bool legacy = m_interfaces.v03 && version == QLatin1String("0.3");
    call.dialect = legacy ? Dialect::V03 : Dialect::V1;
    const QJsonValue id = rpc.value(QLatin1String("id"));
    call.rpcId = id.isString() || id.isDouble() ? id : QJsonValue(QJsonValue::Null);
    if (!supported.contains(version)) {
        replyError(call,
                   err(ErrorKind::VersionNotSupported,
                       QStringLiteral("The requested A2A protocol version '%1' is not supported. "
                                      "Supported versions: %2")
                           .arg(version, supported.join(QStringLiteral(", ")))));
        return;
    }
    const bool idOk = !rpc.contains(QLatin1String("id")) || id.isNull() || id.isString()
                      || (id.isDouble() && id.toDouble() == double(id.toInteger()));
    const QString method = rpc.value(QLatin1String("method")).toString();
    if (!doc.isObject() || rpc.value(QLatin1String("jsonrpc")).toString() != QLatin1String("2.0")
        || !idOk || method.isEmpty()) {
        // a2a-js: v1.0 reports this as RequestMalformedError (-32602), v0.3 as -32600.
        replyError(call,
                   err(legacy ? ErrorKind::InvalidRequest : ErrorKind::InvalidParams,
                       QStringLiteral("Invalid JSON-RPC Request.")));
        return;
    }
    const QJsonValue paramsValue = rpc.value(QLatin1String("params"));
    const bool cardMethod
        = method
          == QLatin1String(legacy ? "agent/getAuthenticatedExtendedCard" : "GetExtendedAgentCard");
    if (!cardMethod && (!paramsValue.isObject() || paramsValue.toObject().contains(QString()))) {
        replyError(call,
                   err(ErrorKind::InvalidParams, QStringLiteral("Invalid method parameters.")));
        return;
    }
    const QJsonObject params = paramsValue.toObject();
    const QString taskId = params.value(QLatin1String("id")).toString();
    call.historyLength = historyLengthOf(params.value(QLatin1String("historyLength")));

    if (!legacy) {
        if (method == QLatin1String("SendMessage"))
            return sendMessage(call, params, false);
        if (method == QLatin1String("SendStreamingMessage"))
            return sendMessage(call, params, true);
        if (method == QLatin1String("GetTask"))
            return getTask(call, taskId);
        if (method == QLatin1String("ListTasks"))
            return listTasks(call, params);
        if (method == QLatin1String("CancelTask"))
            return cancelTask(call, taskId);
        if (method == QLatin1String("SubscribeToTask"))
            return subscribe(call, taskId);
        if (method == QLatin1String("CreateTaskPushNotificationConfig")
            || method == QLatin1String("GetTaskPushNotificationConfig")
            || method == QLatin1String("ListTaskPushNotificationConfigs")
            || method == QLatin1String("DeleteTaskPushNotificationConfig"))
            return replyError(call,
                              err(ErrorKind::PushNotSupported,
                                  QStringLiteral("Push Notification is not supported")));
        if (cardMethod)
            return replyError(call,
                              err(ErrorKind::UnsupportedOperation,
                                  QStringLiteral("Agent does not support authenticated extended "
                                                 "card.")));
        return replyError(call, err(ErrorKind::MethodNotFound, QStringLiteral("Invalid method.")));
    }
    if (method == QLatin1String("message/send"))
        return sendMessage(call, params, false);
    if (method == QLatin1String("message/stream"))
        return sendMessage(call, params, true);
    if (method == QLatin1String("tasks/get"))
        return getTask(call, taskId);
    if (method == QLatin1String("tasks/cancel"))
        return cancelTask(call, taskId);
    if (method == QLatin1String("tasks/resubscribe"))
        return subscribe(call, taskId);
    if (method.startsWith(QLatin1String("tasks/pushNotificationConfig/")))
        return replyError(
            call,
            err(ErrorKind::PushNotSupported, QStringLiteral("Push Notification is not supported")));
    if (cardMethod)
        return replyError(
            call,
            err(ErrorKind::UnsupportedOperation,
                QStringLiteral("Agent does not support authenticated extended card.")));
    replyError(call, err(ErrorKind::MethodNotFound, QStringLiteral("Method not found: ") + method));
}

// ---- HTTP+JSON -------------------------------------------------------------------------------

void A2aHost::handleRest(const Net::HttpRequest &request, Net::HttpResponder responder)
{
    Call call;
    call.binding = Binding::Rest;
    call.responder = responder;
    QString path = QUrl::fromPercentEncoding(request.path.mid(int(qstrlen("/a2a/rest"))));
    const QByteArray header = request.header("A2A-Version");
    // As a2a-js routes: /v1/... is the v0.3 binding unless the request says A2A-Version 1.0, in
    // which case "v1" is a tenant (this host has none, so it holds no tasks); every other path
    // is v1.0 whatever the header says. An older v0.3-only deployment only has /v1/....
    bool legacy = path.startsWith(QLatin1String("/v1/"));
    bool emptyTenant = false;
    if (legacy && m_interfaces.v1
        && (header.trimmed() == "1.0"
            || (request.method == "GET" && path == QLatin1String("/v1/tasks")))) {
        legacy = false; // a2a-js has no v0.3 list route: GET /v1/tasks falls through to v1.0
        emptyTenant = true;
    }
    if (legacy)
        path = path.mid(3);
    else if (emptyTenant)
        path = path.mid(3);
    call.dialect = legacy ? Dialect::V03Rest : Dialect::V1;

    auto notFound = [&] {
        // What express answers for a route it does not have.
        Call c = call;
        c.responder.respond(
            404,
            "text/html; charset=utf-8",
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>Error</title>\n</head>\n<body>\n<pre>Cannot "
                + request.method + ' ' + request.path + "</pre>\n</body>\n</html>\n");
    };
    if (!m_interfaces.rest || (legacy && !m_interfaces.v03) || (!legacy && !m_interfaces.v1))
        return notFound();

    const QString version = legacy ? QStringLiteral("0.3") : requestedVersion(header, {});
    const QStringList supported = supportedVersions(Binding::Rest);
    if (!supported.contains(version)) {
        replyError(call,
                   err(ErrorKind::VersionNotSupported,
                       QStringLiteral("The requested A2A protocol version '%1' is not supported. "
                                      "Supported versions: %2")
                           .arg(version, supported.join(QStringLiteral(", ")))));
        return;
    }

    QJsonObject body;
    if (request.method == "POST" && !request.body.isEmpty()) {
        const QString type = mediaType(request.header("Content-Type"));
        if (!type.isEmpty() && type != QLatin1String("application/json")
            && type != QLatin1String("application/a2a+json")) {
            replyError(call,
                       err(ErrorKind::ContentTypeNotSupported,
                           QStringLiteral("Unsupported Content-Type \"%1\"; expected "
                                          "application/json or application/a2a+json.")
                               .arg(QString::fromLatin1(request.header("Content-Type")))));
            return;
        }
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(request.body, &parseError);
        if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
            replyError(call,
                       err(legacy ? ErrorKind::ParseError : ErrorKind::InvalidParams,
                           QStringLiteral("Invalid JSON payload.")));
            return;
        }
        body = doc.object();
    }
    const QUrlQuery query(QString::fromUtf8(request.query));
    if (query.hasQueryItem(QStringLiteral("historyLength")))
        call.historyLength
            = std::max(query.queryItemValue(QStringLiteral("historyLength")).toInt(), 0);

    const bool get = request.method == "GET";
    const bool post = request.method == "POST";
    static const QRegularExpression taskPath(
        QStringLiteral("^/tasks/([^/:]+)(:cancel|:subscribe)?$"));
    static const QRegularExpression pushPath(
        QStringLiteral("^/tasks/[^/:]+/pushNotificationConfigs(/.*)?$"));
    if (post && path == QLatin1String("/message:send"))
        return sendMessage(call, body, false);
    if (post && path == QLatin1String("/message:stream"))
        return sendMessage(call, body, true);
    if (emptyTenant && path.startsWith(QLatin1String("/tasks"))) {
        const QRegularExpressionMatch m = taskPath.match(path);
        if (m.hasMatch())
            return replyError(
                call,
                err(ErrorKind::TaskNotFound, QStringLiteral("Task not found: ") + m.captured(1)));
        if (get && path == QLatin1String("/tasks")) {
            const QString size = query.queryItemValue(QStringLiteral("pageSize"));
            return replyResult(
                call,
                QJsonObject{{QStringLiteral("tasks"), QJsonArray()},
                            {QStringLiteral("nextPageToken"), QString()},
                            {QStringLiteral("pageSize"), size.isEmpty() ? 50 : size.toInt()},
                            {QStringLiteral("totalSize"), 0}});
        }
    }
    if (get && path == QLatin1String("/tasks") && !legacy) {
        QJsonObject params;
        for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded))
            params.insert(key, value);
        return listTasks(call, params);
    }
    if (pushPath.match(path).hasMatch())
        return replyError(
            call,
            err(ErrorKind::PushNotSupported, QStringLiteral("Push Notification is not supported")));
    if (get && path == QLatin1String(legacy ? "/card" : "/extendedAgentCard"))
        return replyError(
            call,
            err(ErrorKind::UnsupportedOperation,
                QStringLiteral("Agent does not support authenticated extended card.")));
    const QRegularExpressionMatch m = taskPath.match(path);
    if (m.hasMatch()) {
        const QString id = m.captured(1);
        const QString verb = m.captured(2);
        if (verb.isEmpty() && get)
            return getTask(call, id);
        if (verb == QLatin1String(":cancel") && post)
            return cancelTask(call, id);
        if (verb == QLatin1String(":subscribe") && (get || post))
            return subscribe(call, id);
    }
    notFound();
}

// ---- operations ------------------------------------------------------------------------------

void A2aHost::sendMessage(Call call, const QJsonObject &params, bool streaming)
{
    A2a::Error error;
    auto message = parseMessage(params.value(QLatin1String("message")), call.dialect, &error);
    if (!message)
        return replyError(call, error);
    const QJsonObject configuration = params.value(QLatin1String("configuration")).toObject();
    call.historyLength = historyLengthOf(configuration.value(QLatin1String("historyLength")));
    // v1.0 blocks unless returnImmediately. v0.3 as a2a-js translates it: no configuration
    // blocks; a configuration blocks only with blocking:true (its client sends {} for
    // returnImmediately).
    const bool blocking = call.dialect == Dialect::V1
                              ? !configuration.value(QLatin1String("returnImmediately")).toBool()
                              : (!params.contains(QLatin1String("configuration"))
                                 || configuration.value(QLatin1String("blocking")).toBool(false));

    QString taskId = message->value(QLatin1String("taskId")).toString();
    if (!taskId.isEmpty()) {
        Task *task = m_store.find(taskId);
        if (!task)
            return replyError(
                call, err(ErrorKind::TaskNotFound, QStringLiteral("Task not found: ") + taskId));
        if (isTerminal(task->state))
            return replyError(call,
                              err(ErrorKind::UnsupportedOperation,
                                  QStringLiteral("Task %1 is in a terminal state (%2) and cannot "
                                                 "be modified.")
                                      .arg(task->id)
                                      .arg(int(task->state))));
        const QString contextId = message->value(QLatin1String("contextId")).toString();
        if (!contextId.isEmpty() && contextId != task->contextId)
            return replyError(call,
                              err(ErrorKind::InvalidParams,
                                  QStringLiteral("contextId mismatch: message contextId '%1' does "
                                                 "not match task '%2' contextId '%3'")
                                      .arg(contextId, task->id, task->contextId)));
        if (task->state != TaskState::InputRequired)
            return replyError(call,
                              err(ErrorKind::UnsupportedOperation,
                                  QStringLiteral("Task %1 is %2 and does not wait for input; send "
                                                 "a message without taskId to start a new task.")
                                      .arg(task->id, stateName(task->state, call.dialect))));
        auto decision = parseDecision(*message, &error);
        if (!decision)
            return replyError(call, error);
        message->insert(QStringLiteral("contextId"), task->contextId);
        task->history.append(*message);
        const SandboxRun::Verdict verdict
            = decision->verdict == Decision::Verdict::Approve ? SandboxRun::Verdict::Approve
              : decision->verdict == Decision::Verdict::Edit  ? SandboxRun::Verdict::Edit
                                                              : SandboxRun::Verdict::Deny;
        QByteArray decidedBy = QByteArrayLiteral("a2a:message ")
                               + message->value(QLatin1String("messageId")).toString().toUtf8();
        if (!m_fleet->answerRun(task->runId, verdict, decidedBy, decision->reason.toUtf8()))
            return replyError(
                call,
                err(ErrorKind::UnsupportedOperation,
                    QStringLiteral("Task %1 no longer waits for input.").arg(taskId)));
        task = m_store.find(taskId); // the answer may have changed it
        if (!task)
            return replyError(
                call, err(ErrorKind::TaskNotFound, QStringLiteral("Task not found: ") + taskId));
        if (streaming) {
            beginStream(call);
            writeEvent(call, taskEvent(*task, call.dialect));
            if (isTerminal(task->state) || isInterrupted(task->state)) {
                call.responder.finish();
                return;
            }
            m_streams[taskId].push_back(call);
        } else if (blocking && !isTerminal(task->state) && !isInterrupted(task->state)) {
            m_waiters[taskId].push_back(call);
        } else {
            replyTask(call, *task, true);
        }
        return;
    }

    // A new task: which run?
    std::optional<ScenarioKind> kind;
    qint64 workMs = 0;
    for (const QJsonValue &pv : message->value(QLatin1String("parts")).toArray()) {
        const QJsonObject part = pv.toObject();
        if (part.contains(QLatin1String("data"))) {
            const QJsonValue scenario
                = part.value(QLatin1String("data")).toObject().value(QLatin1String("scenario"));
            if (scenario.isUndefined())
                continue;
            const auto k = scenarioFromName(scenario.toString().toUtf8());
            if (!k || *k == ScenarioKind::Work) {
                QStringList known;
                for (int i = 0; i < kScenarioCount; ++i)
                    known << QString::fromLatin1(scenarioName(ScenarioKind(i)));
                return replyError(
                    call,
                    err(ErrorKind::InvalidParams,
                        QStringLiteral("unknown scenario \"%1\" in the message's data "
                                       "part (known: %2; or send the text \"work "
                                       "<ms>\")")
                            .arg(scenario.toString(), known.join(QStringLiteral(", ")))));
            }
            kind = k;
        } else if (part.contains(QLatin1String("text"))) {
            static const QRegularExpression work(QStringLiteral("^\\s*work\\s+(\\d+)\\s*$"),
                                                 QRegularExpression::CaseInsensitiveOption);
            const QString text = part.value(QLatin1String("text")).toString().trimmed();
            if (text.compare(QLatin1String("quick"), Qt::CaseInsensitive) == 0) {
                workMs = kQuickWorkMs; // the a2a-peer.mjs convention: done almost at once
                continue;
            }
            const QRegularExpressionMatch m = work.match(text);
            if (m.hasMatch()) {
                workMs = m.captured(1).toLongLong();
                if (workMs < 1 || workMs > kMaxWorkMs)
                    return replyError(call,
                                      err(ErrorKind::InvalidParams,
                                          QStringLiteral("\"work <ms>\": ms must be between 1 and "
                                                         "%1, not %2")
                                              .arg(kMaxWorkMs)
                                              .arg(m.captured(1))));
            }
        }
    }
    taskId = uuid();
    QString contextId = message->value(QLatin1String("contextId")).toString();
    if (contextId.isEmpty())
        contextId = uuid();
    message->insert(QStringLiteral("taskId"), taskId);
    message->insert(QStringLiteral("contextId"), contextId);
    const Pending pending{taskId, contextId, *message};
    m_pending = &pending;
    m_fleet->startRunNow(m_agentIndex, kind, workMs, taskId.toUtf8(), contextId.toUtf8());
    m_pending = nullptr;
    Task *task = m_store.find(taskId);
    if (!task)
        return replyError(call, err(ErrorKind::Internal, QStringLiteral("the run did not start")));
    if (streaming) {
        beginStream(call);
        writeEvent(call, taskEvent(*task, call.dialect));
        m_streams[taskId].push_back(call);
        transition(*task, TaskState::Working);
        return;
    }
    if (!blocking) {
        replyTask(call, *task, true); // as a2a-js: the task as it was created, SUBMITTED
        transition(*task, TaskState::Working);
        return;
    }
    m_waiters[taskId].push_back(call);
    transition(*task, TaskState::Working);
}

void A2aHost::getTask(Call call, const QString &id)
{
    if (id.isEmpty())
        return replyError(call,
                          err(ErrorKind::InvalidParams, QStringLiteral("Task ID is required")));
    const Task *task = m_store.find(id);
    if (!task)
        return replyError(call,
                          err(ErrorKind::TaskNotFound, QStringLiteral("Task not found: ") + id));
    replyTask(call, *task, false);
}

void A2aHost::listTasks(Call call, const QJsonObject &params)
{
    TaskStore::ListQuery query;
    query.contextId = params.value(QLatin1String("contextId")).toString();
    const QJsonValue status = params.value(QLatin1String("status"));
    if (!status.isUndefined() && !status.isNull()) {
        std::optional<TaskState> state;
        bool isNumber = false;
        const int n = status.isDouble() ? status.toInt() : status.toString().toInt(&isNumber);
        if (status.isDouble() || isNumber) {
            if (n >= 0 && n <= 8)
                state = TaskState(n);
        } else {
            state = parseState(status.toString());
        }
        if (!state)
            return replyError(call,
                              err(ErrorKind::InvalidParams,
                                  QStringLiteral("Invalid status filter: ")
                                      + (status.isString() ? status.toString()
                                                           : QString::number(status.toDouble()))));
        query.status = state;
    }
    const QJsonValue pageSize = params.value(QLatin1String("pageSize"));
    if (!pageSize.isUndefined() && !pageSize.isNull()) {
        bool ok = pageSize.isDouble();
        double v = pageSize.toDouble();
        if (pageSize.isString())
            v = pageSize.toString().toDouble(&ok);
        if (!ok || !(v >= 1 && v <= 100) || v != std::floor(v)) // range first: no UB cast
            return replyError(call,
                              err(ErrorKind::InvalidParams,
                                  QStringLiteral("pageSize must be between 1 and 100")));
        query.pageSize = int(v);
    }
    query.pageToken = params.value(QLatin1String("pageToken")).toString();
    const int historyLength = historyLengthOf(params.value(QLatin1String("historyLength")));
    const QJsonValue include = params.value(QLatin1String("includeArtifacts"));
    const bool includeArtifacts
        = include.isBool() ? include.toBool() : include.toString() == QLatin1String("true");
    A2a::Error error;
    const auto result = m_store.list(query, &error);
    if (!result)
        return replyError(call, error);
    QJsonArray tasks;
    for (const Task *t : result->tasks) {
        QJsonObject json = taskJson(*t, call.dialect, historyLength);
        if (!includeArtifacts)
            json.insert(QStringLiteral("artifacts"), QJsonArray());
        tasks.append(json);
    }
    replyResult(call,
                QJsonObject{{QStringLiteral("tasks"), tasks},
                            {QStringLiteral("nextPageToken"), result->nextPageToken},
                            {QStringLiteral("pageSize"), result->pageSize},
                            {QStringLiteral("totalSize"), result->totalSize}});
}

void A2aHost::cancelTask(Call call, const QString &id)
{
    if (id.isEmpty())
        return replyError(call,
                          err(ErrorKind::InvalidParams, QStringLiteral("Task ID is required")));
    Task *task = m_store.find(id);
    if (!task)
        return replyError(call,
                          err(ErrorKind::TaskNotFound, QStringLiteral("Task not found: ") + id));
    if (task->state == TaskState::Canceled)
        return replyTask(call, *task, false); // a second cancel is not an error (a2a-js)
    if (isTerminal(task->state))
        return replyError(
            call, err(ErrorKind::TaskNotCancelable, QStringLiteral("Task not cancelable: ") + id));
    const quint64 runId = task->runId;
    transition(
        *task,
        TaskState::Canceled,
        agentMessage(task->id,
                     task->contextId,
                     QJsonArray{textPart(QStringLiteral("Task cancellation requested by user."))}));
    // The run stops now (or, for the ignores-cancel scenario, after a while).
    m_fleet->cancelRun(runId);
    task = m_store.find(id);
    if (!task)
        return replyError(call,
                          err(ErrorKind::TaskNotFound, QStringLiteral("Task not found: ") + id));
    replyTask(call, *task, false);
}

void A2aHost::subscribe(Call call, const QString &id)
{
    // a2a-js answers v0.3 tasks/resubscribe as a stream even when it fails at once.
    const bool errorsInStream = call.dialect == Dialect::V03;
    auto fail = [&](const A2a::Error &error) {
        if (!errorsInStream)
            return replyError(call, error);
        beginStream(call);
        const QJsonObject envelope{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                                   {QStringLiteral("id"), call.rpcId},
                                   {QStringLiteral("error"), jsonRpcError(error, call.dialect)}};
        call.responder.write(QByteArrayLiteral("event: error\ndata: ") + compact(envelope)
                             + "\n\n");
        call.responder.finish();
    };
    if (id.isEmpty())
        return fail(err(ErrorKind::InvalidParams, QStringLiteral("Task ID is required")));
    const Task *task = m_store.find(id);
    if (!task)
        return fail(err(ErrorKind::TaskNotFound, QStringLiteral("Task not found: ") + id));
    if (isTerminal(task->state))
        return fail(err(ErrorKind::UnsupportedOperation,
                        QStringLiteral("Task %1 is in a terminal state (%2) and cannot be "
                                       "subscribed to.")
                            .arg(id)
                            .arg(int(task->state))));
    beginStream(call);
    writeEvent(call, taskEvent(*task, call.dialect));
    m_streams[id].push_back(call);
}

// ---- answers ---------------------------------------------------------------------------------

void A2aHost::replyResult(const Call &call, const QJsonValue &result, int restStatus)
{
    Call c = call;
    if (call.binding == Binding::JsonRpc) {
        const QJsonObject envelope{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                                   {QStringLiteral("id"), call.rpcId},
                                   {QStringLiteral("result"), result}};
        c.responder.respond(200, "application/json; charset=utf-8", compact(envelope));
        return;
    }
    c.responder.respond(restStatus,
                        call.dialect == Dialect::V1 ? "application/a2a+json; charset=utf-8"
                                                    : "application/json; charset=utf-8",
                        result.isObject()
                            ? compact(result.toObject())
                            : QJsonDocument(result.toArray()).toJson(QJsonDocument::Compact));
}

void A2aHost::replyError(const Call &call, const A2a::Error &error)
{
    Call c = call;
    if (call.binding == Binding::JsonRpc) {
        const QJsonObject envelope{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                                   {QStringLiteral("id"), call.rpcId},
                                   {QStringLiteral("error"), jsonRpcError(error, call.dialect)}};
        c.responder.respond(error.kind == ErrorKind::Internal ? 500 : 200,
                            "application/json; charset=utf-8",
                            compact(envelope));
        return;
    }
    c.responder.respond(restHttpStatus(error.kind, call.dialect),
                        call.dialect == Dialect::V1 ? "application/a2a+json; charset=utf-8"
                                                    : "application/json; charset=utf-8",
                        compact(restError(error, call.dialect)));
}

void A2aHost::replyTask(const Call &call, const Task &task, bool wrapForSend)
{
    QJsonObject json = taskJson(task, call.dialect, call.historyLength);
    if (wrapForSend && call.dialect != Dialect::V03)
        json = QJsonObject{{QStringLiteral("task"), json}};
    // a2a-js's v0.3 REST message:send answers 201 Created.
    const int status = wrapForSend && call.dialect == Dialect::V03Rest ? 201 : 200;
    replyResult(call, json, status);
}

void A2aHost::beginStream(const Call &call)
{
    Call c = call;
    Net::HttpHeaders headers;
    headers.append("Content-Type", "text/event-stream");
    headers.append("Cache-Control", "no-cache");
    headers.append("X-Accel-Buffering", "no");
    c.responder.beginStream(200, headers);
}

void A2aHost::writeEvent(const Call &call, const QJsonObject &event)
{
    Call c = call;
    QJsonObject payload = event;
    if (call.binding == Binding::JsonRpc)
        payload = QJsonObject{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                              {QStringLiteral("id"), call.rpcId},
                              {QStringLiteral("result"), event}};
    c.responder.write(QByteArrayLiteral("data: ") + compact(payload) + QByteArrayLiteral("\n\n"));
}

// ---- shapes ----------------------------------------------------------------------------------

QJsonObject A2aHost::taskJson(const Task &task, Dialect dialect, int historyLength) const
{
    QJsonArray history;
    const qsizetype n = task.history.size();
    const qsizetype from = historyLength < 0 ? 0 : std::max<qsizetype>(n - historyLength, 0);
    for (qsizetype i = from; i < n; ++i)
        history.append(messageFor(task.history.at(i).toObject(), dialect));
    QJsonObject out{{QStringLiteral("id"), task.id},
                    {QStringLiteral("contextId"), task.contextId},
                    {QStringLiteral("status"),
                     statusFor(task.state, task.statusMessage, task.timestamp, dialect)},
                    {QStringLiteral("history"), history}};
    // ProtoJSON (and a2a-js's v0.3 JSON) leave out an empty artifact list.
    if (!task.artifacts.isEmpty()) {
        QJsonArray artifacts;
        for (const QJsonValue &a : task.artifacts)
            artifacts.append(artifactFor(a.toObject(), dialect));
        out.insert(QStringLiteral("artifacts"), artifacts);
    }
    if (dialect == Dialect::V03)
        out.insert(QStringLiteral("kind"), QStringLiteral("task"));
    return out;
}

QJsonObject A2aHost::taskEvent(const Task &task, Dialect dialect) const
{
    const QJsonObject json = taskJson(task, dialect, -1);
    return dialect == Dialect::V03 ? json : QJsonObject{{QStringLiteral("task"), json}};
}

QJsonObject A2aHost::statusEvent(const Task &task, Dialect dialect) const
{
    QJsonObject update{{QStringLiteral("taskId"), task.id},
                       {QStringLiteral("contextId"), task.contextId},
                       {QStringLiteral("status"),
                        statusFor(task.state, task.statusMessage, task.timestamp, dialect)}};
    const bool final = isTerminal(task.state) || isInterrupted(task.state);
    switch (dialect) {
    case Dialect::V1: // v1.0 streams have no final flag
        return QJsonObject{{QStringLiteral("statusUpdate"), update}};
    case Dialect::V03Rest: // proto: false is left out
        if (final)
            update.insert(QStringLiteral("final"), true);
        return QJsonObject{{QStringLiteral("statusUpdate"), update}};
    case Dialect::V03:
        break;
    }
    update.insert(QStringLiteral("kind"), QStringLiteral("status-update"));
    update.insert(QStringLiteral("final"), final);
    return update;
}

QJsonObject
A2aHost::artifactEvent(const Task &task, const QJsonObject &artifact, Dialect dialect) const
{
    QJsonObject update{{QStringLiteral("taskId"), task.id},
                       {QStringLiteral("contextId"), task.contextId},
                       {QStringLiteral("artifact"), artifactFor(artifact, dialect)},
                       {QStringLiteral("lastChunk"), true}};
    if (dialect != Dialect::V03) // ProtoJSON leaves out append:false
        return QJsonObject{{QStringLiteral("artifactUpdate"), update}};
    update.insert(QStringLiteral("kind"), QStringLiteral("artifact-update"));
    update.insert(QStringLiteral("append"), false);
    return update;
}

// ---- task changes ----------------------------------------------------------------------------

void A2aHost::transition(Task &task, TaskState state, const QJsonObject &message)
{
    if (!m_store.setState(task, state, message))
        return;
    const QString id = task.id;
    publishStatus(task);
    settle(id);
}

void A2aHost::publishStatus(Task &task)
{
    auto it = m_streams.find(task.id);
    if (it == m_streams.end())
        return;
    const bool last = isTerminal(task.state) || isInterrupted(task.state);
    std::vector<Call> keep;
    for (Call &c : *it) {
        if (!c.responder.isOpen())
            continue;
        writeEvent(c, statusEvent(task, c.dialect));
        if (last) {
            c.responder.finish();
        } else if (c.responder.bytesPending() > kMaxStreamBacklog) {
            qCWarning(lcSandbox) << "A2A: dropping a subscriber of task" << task.id
                                 << "that does not read its stream";
            c.responder.finish();
        } else {
            keep.push_back(c);
        }
    }
    if (keep.empty())
        m_streams.erase(it);
    else
        *it = std::move(keep);
}

void A2aHost::publishArtifact(Task &task, const QJsonObject &artifact)
{
    task.artifacts.append(artifact);
    const auto it = m_streams.constFind(task.id);
    if (it == m_streams.constEnd())
        return;
    for (const Call &c : *it)
        if (c.responder.isOpen())
            writeEvent(c, artifactEvent(task, artifact, c.dialect));
}

void A2aHost::settle(const QString &taskId)
{
    const Task *task = m_store.find(taskId);
    if (!task || !(isTerminal(task->state) || isInterrupted(task->state)))
        return;
    const auto waiters = m_waiters.take(taskId);
    for (const Call &c : waiters)
        if (c.responder.isOpen())
            replyTask(c, *task, true);
}

void A2aHost::onRunNotice(const SandboxFleet::RunNotice &notice)
{
    using Kind = SandboxFleet::RunNotice::Kind;
    const RunPlan &plan = *notice.plan;
    if (notice.kind == Kind::Started) {
        const QString taskId = QString::fromUtf8(plan.taskId);
        const QString contextId = QString::fromUtf8(plan.contextId);
        Task &task = m_store.create(taskId, contextId, notice.runId);
        m_taskOfRun[notice.runId] = taskId;
        if (m_pending && m_pending->taskId == taskId) {
            task.history.append(m_pending->message);
            return; // sendMessage moves it to WORKING once its caller listens
        }
        // A run the fleet started on its own: the request it serves, as a user message.
        QJsonObject request = agentMessage(
            taskId,
            contextId,
            QJsonArray{textPart(QStringLiteral("%1 run for %2")
                                    .arg(QString::fromLatin1(scenarioName(plan.scenario)),
                                         QString::fromUtf8(plan.principal)))});
        request.insert(QStringLiteral("role"), QStringLiteral("ROLE_USER"));
        task.history.append(request);
        transition(task, TaskState::Working);
        return;
    }
    const auto found = m_taskOfRun.find(notice.runId);
    if (found == m_taskOfRun.end())
        return;
    const QString taskId = found->second;
    if (notice.kind == Kind::Finished)
        m_taskOfRun.erase(found);
    Task *task = m_store.find(taskId);
    if (!task)
        return;
    switch (notice.kind) {
    case Kind::Started:
        break;
    case Kind::InputRequired: {
        const PlannedApproval &a = *notice.approval;
        QJsonObject arguments = a.arguments;
        const QJsonObject approval{
            {QStringLiteral("action"), QString::fromUtf8(a.action)},
            {QStringLiteral("arguments"), arguments},
            {QStringLiteral("amount"),
             QJsonObject{{QStringLiteral("value"), money(a.amountMinor)},
                         {QStringLiteral("currency"), QString::fromUtf8(a.currency)}}}};
        const QString words = QString::fromUtf8(a.reason)
                              + QStringLiteral(". Approve or deny %1 of %2 %3?")
                                    .arg(QString::fromUtf8(a.action),
                                         money(a.amountMinor),
                                         QString::fromUtf8(a.currency).toUpper());
        transition(*task,
                   TaskState::InputRequired,
                   agentMessage(
                       task->id,
                       task->contextId,
                       QJsonArray{textPart(words),
                                  dataPart(QJsonObject{{QStringLiteral("approval"), approval}})}));
        break;
    }
    case Kind::Resumed:
        transition(*task, TaskState::Working);
        break;
    case Kind::Finished: {
        if (isTerminal(task->state))
            break; // canceled earlier; the run has only now really stopped
        if (notice.failed) {
            transition(*task,
                       TaskState::Failed,
                       agentMessage(task->id,
                                    task->contextId,
                                    QJsonArray{textPart(QString::fromUtf8(plan.summary))}));
            break;
        }
        // A denied approval still completes the task: the agent did its job, which was to ask
        // and then tell the customer no. REJECTED would mean the agent refused the task itself.
        const QString text = notice.denied
                                 ? QStringLiteral("The approver denied the request, so nothing "
                                                  "was paid; the customer was told.")
                                 : QString::fromUtf8(plan.summary);
        const QJsonObject artifact{{QStringLiteral("artifactId"), uuid()},
                                   {QStringLiteral("name"), QStringLiteral("result")},
                                   {QStringLiteral("parts"), QJsonArray{textPart(text)}}};
        publishArtifact(*task, artifact);
        transition(*task, TaskState::Completed);
        break;
    }
    }
}

} // namespace Breaker
