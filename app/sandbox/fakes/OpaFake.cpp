#include "app/sandbox/fakes/OpaFake.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTcpServer>

#include <functional>

namespace Breaker {

namespace {

const QByteArray kDataPrefix = QByteArrayLiteral("/v1/data");

QStringList splitPath(const QByteArray &raw)
{
    QStringList out;
    for (const QByteArray &s : raw.split('/')) {
        if (!s.isEmpty())
            out << QString::fromUtf8(QByteArray::fromPercentEncoding(s));
    }
    return out;
}

std::optional<QJsonValue> valueAt(const QJsonValue &root, const QStringList &path)
{
    QJsonValue cur = root;
    for (const QString &s : path) {
        if (cur.isObject()) {
            const QJsonObject o = cur.toObject();
            if (!o.contains(s))
                return std::nullopt;
            cur = o.value(s);
        } else if (cur.isArray()) {
            bool ok = false;
            const int i = s.toInt(&ok);
            const QJsonArray a = cur.toArray();
            if (!ok || i < 0 || i >= a.size())
                return std::nullopt;
            cur = a.at(i);
        } else {
            return std::nullopt;
        }
    }
    return cur;
}

struct Miss
{
    int status;
    QByteArray code;
    QString message;
};

// Walks to the container holding path.last() (creating objects on the way when mkdir) and lets
// `edit` change it; writes the changed containers back. Returns what went wrong, if anything.
using Edit = std::function<std::optional<Miss>(QJsonValue &container, const QString &last)>;

std::optional<Miss>
atParent(QJsonValue &node, const QStringList &path, int i, bool mkdir, const Edit &edit)
{
    if (i == path.size() - 1)
        return edit(node, path.at(i));
    const QString &s = path.at(i);
    const QString where = QLatin1Char('/') + path.mid(0, i + 1).join(QLatin1Char('/'));
    if (node.isObject()) {
        QJsonObject o = node.toObject();
        QJsonValue child;
        if (o.contains(s))
            child = o.value(s);
        else if (mkdir)
            child = QJsonObject();
        else
            return Miss{
                404,
                "resource_not_found",
                QStringLiteral("storage_not_found_error: %1: document does not exist").arg(where)};
        if (auto miss = atParent(child, path, i + 1, mkdir, edit))
            return miss;
        o.insert(s, child);
        node = o;
        return std::nullopt;
    }
    if (node.isArray()) {
        QJsonArray a = node.toArray();
        bool ok = false;
        const int idx = s.toInt(&ok);
        if (!ok || idx < 0 || idx >= a.size())
            return Miss{
                404,
                "resource_not_found",
                QStringLiteral("storage_not_found_error: %1: document does not exist").arg(where)};
        QJsonValue child = a.at(idx);
        if (auto miss = atParent(child, path, i + 1, mkdir, edit))
            return miss;
        a.replace(idx, child);
        node = a;
        return std::nullopt;
    }
    // A scalar on the way: OPA calls this a write conflict (404).
    return Miss{
        404,
        "resource_not_found",
        QStringLiteral("storage_write_conflict_error: %1: not an object or array").arg(where)};
}

std::optional<Miss> notFound(const QStringList &path)
{
    return Miss{404,
                "resource_not_found",
                QStringLiteral("storage_not_found_error: /%1: document does not exist")
                    .arg(path.join(QLatin1Char('/')))};
}

enum class PatchOp { Add, Remove, Replace };

std::optional<Miss>
apply(QJsonValue &root, PatchOp kind, const QStringList &path, const QJsonValue &value)
{
    if (path.isEmpty()) {
        if (kind == PatchOp::Remove)
            root = QJsonObject();
        else
            root = value;
        return std::nullopt;
    }
    return atParent(root,
                    path,
                    0,
                    false,
                    [&](QJsonValue &container, const QString &last) -> std::optional<Miss> {
                        if (container.isObject()) {
                            QJsonObject o = container.toObject();
                            if (kind != PatchOp::Add && !o.contains(last))
                                return notFound(path);
                            if (kind == PatchOp::Remove)
                                o.remove(last);
                            else
                                o.insert(last, value);
                            container = o;
                            return std::nullopt;
                        }
                        if (container.isArray()) {
                            QJsonArray a = container.toArray();
                            if (kind == PatchOp::Add && last == QLatin1String("-")) {
                                a.append(value);
                                container = a;
                                return std::nullopt;
                            }
                            bool ok = false;
                            const int idx = last.toInt(&ok);
                            const int limit
                                = kind == PatchOp::Add ? int(a.size()) : int(a.size()) - 1;
                            if (!ok || idx < 0 || idx > limit)
                                return notFound(path);
                            if (kind == PatchOp::Add)
                                a.insert(idx, value);
                            else if (kind == PatchOp::Remove)
                                a.removeAt(idx);
                            else
                                a.replace(idx, value);
                            container = a;
                            return std::nullopt;
                        }
                        return notFound(path);
                    });
}

QStringList pointerTokens(const QString &pointer)
{
    // OPA joins the URL path and the pointer; it accepts "-" as well as "/-".
    QString p = pointer;
    if (p.startsWith(QLatin1Char('/')))
        p.remove(0, 1);
    if (p.isEmpty())
        return {};
    QStringList out;
    for (QString t : p.split(QLatin1Char('/'))) {
        t.replace(QLatin1String("~1"), QLatin1String("/"));
        t.replace(QLatin1String("~0"), QLatin1String("~"));
        out << t;
    }
    return out;
}

} // namespace

OpaFake::OpaFake(QObject *parent)
    : QObject(parent)
    , m_server(new Net::HttpServer(this))
    , m_faults(new FakeFaults(this))
    , m_data(QJsonObject())
{
    auto errorResponse = [] {
        return json(500,
                    QJsonObject{{QStringLiteral("code"), QStringLiteral("internal_error")},
                                {QStringLiteral("message"),
                                 QStringLiteral("sandbox fault: the OPA fake was told to fail")}});
    };
    // Recorded before the faults, so a test sees what was sent even when nothing answered.
    auto route = [this,
                  errorResponse](const QByteArray &method, const QByteArray &prefix, bool exact) {
        auto inner = m_faults->wrap(
            [this](Net::HttpRequest request, Net::HttpResponder responder) {
                handle(request, std::move(responder));
            },
            errorResponse);
        auto recorded = [this, inner](Net::HttpRequest request, Net::HttpResponder responder) {
            // The last requests only: the sandbox's gateway answers for hours.
            if (m_requests.size() >= 1000)
                m_requests.removeFirst();
            m_requests.append(request);
            inner(std::move(request), std::move(responder));
        };
        if (exact)
            m_server->route(method, prefix, recorded);
        else
            m_server->routePrefix(method, prefix, recorded);
    };
    for (const char *method : {"GET", "PUT", "PATCH", "DELETE", "POST"})
        route(QByteArray(method), kDataPrefix + '/', false);
    route("GET", "/health", true);
}

OpaFake::~OpaFake() = default;

Result<void> OpaFake::listen()
{
    if (m_faults->isDown()) {
        // A port nobody listens on: bind one, remember it, let it go.
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHost, 0))
            return makeError(
                Error::Kind::Unavailable,
                QStringLiteral("sandbox OPA: no free port: %1").arg(probe.errorString()),
                QStringLiteral("opa"));
        m_port = probe.serverPort();
        return {};
    }
    if (auto r = m_server->listen(QHostAddress(QHostAddress::LocalHost), 0); !r)
        return r;
    m_port = m_server->port();
    return {};
}

QUrl OpaFake::url() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
}

void OpaFake::setPackage(const QString &package)
{
    QStringList segments
        = package.split(QRegularExpression(QStringLiteral("[./]")), Qt::SkipEmptyParts);
    if (segments.isEmpty() || segments.last() != QLatin1String("killswitch"))
        segments << QStringLiteral("killswitch");
    m_package = segments;
}

std::optional<QJsonValue> OpaFake::document(const QString &path) const
{
    return valueAt(m_data, path.split(QLatin1Char('/'), Qt::SkipEmptyParts));
}

void OpaFake::setDocument(const QString &path, const QJsonValue &value)
{
    const QStringList segments = path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    if (segments.isEmpty()) {
        m_data = value;
        return;
    }
    atParent(m_data,
             segments,
             0,
             true,
             [&](QJsonValue &container, const QString &last) -> std::optional<Miss> {
                 QJsonObject o = container.toObject();
                 o.insert(last, value);
                 container = o;
                 return std::nullopt;
             });
}

void OpaFake::clearData()
{
    m_data = QJsonObject();
}

Net::HttpResponse OpaFake::json(int status, const QJsonValue &body)
{
    QByteArray bytes = body.isArray()
                           ? QJsonDocument(body.toArray()).toJson(QJsonDocument::Compact)
                           : QJsonDocument(body.toObject()).toJson(QJsonDocument::Compact);
    return Net::HttpResponse::make(status, QByteArrayLiteral("application/json"), bytes);
}

Net::HttpResponse OpaFake::failure(const Failure &f)
{
    return json(f.status,
                QJsonObject{{QStringLiteral("code"), QString::fromLatin1(f.code)},
                            {QStringLiteral("message"), f.message}});
}

void OpaFake::handle(const Net::HttpRequest &request, Net::HttpResponder responder)
{
    if (!m_bearer.isEmpty() && request.header("Authorization") != "Bearer " + m_bearer) {
        responder.respond(failure({401, "unauthorized", QStringLiteral("authentication failed")}));
        return;
    }
    if (request.path == "/health") {
        responder.respond(json(200, QJsonObject()));
        return;
    }
    const QStringList path = splitPath(request.path.mid(kDataPrefix.size()));
    if (request.method == "GET")
        responder.respond(get(path));
    else if (request.method == "PUT")
        responder.respond(put(path, request));
    else if (request.method == "PATCH")
        responder.respond(patch(path, request.body));
    else if (request.method == "DELETE")
        responder.respond(remove(path));
    else
        responder.respond(post(path, request.body));
}

bool OpaFake::decide(const QJsonValue &input) const
{
    if (m_forcedDecision)
        return *m_forcedDecision;
    const QJsonValue agent = input.toObject().value(QLatin1String("agent"));
    const QJsonValue tool = input.toObject().value(QLatin1String("tool"));
    if (!agent.isString() || !tool.isString())
        return false; // default allow := false
    const QJsonObject doc = valueAt(m_data, m_package).value_or(QJsonObject()).toObject();
    const QJsonArray tools
        = doc.value(QLatin1String("blocked_tools")).toObject().value(agent.toString()).toArray();
    if (tools.contains(tool))
        return false;
    if (doc.value(QLatin1String("blocked_agents")).toArray().contains(agent))
        return false;
    return true;
}

// What the loaded policy adds to the data tree: `allow` under the package (real OPA merges it into
// a GET of the package path too).
std::optional<QJsonValue> OpaFake::virtualDocument(const QStringList &path,
                                                   const QJsonValue &input) const
{
    if (!m_policyLoaded && !m_forcedDecision)
        return std::nullopt;
    if (path == m_package + QStringList{QStringLiteral("allow")})
        return QJsonValue(decide(input));
    if (path == m_package) {
        QJsonObject merged = valueAt(m_data, m_package).value_or(QJsonObject()).toObject();
        merged.insert(QStringLiteral("allow"), decide(input));
        return merged;
    }
    return std::nullopt;
}

Net::HttpResponse OpaFake::get(const QStringList &path) const
{
    std::optional<QJsonValue> v = virtualDocument(path, QJsonValue());
    if (!v)
        v = valueAt(m_data, path);
    // An undefined document is 200 with no "result" (OPA's REST API reference, Data API).
    if (!v)
        return json(200, QJsonObject());
    return json(200, QJsonObject{{QStringLiteral("result"), *v}});
}

Net::HttpResponse OpaFake::put(const QStringList &path, const Net::HttpRequest &request)
{
    QJsonParseError pe;
    const QJsonDocument d = QJsonDocument::fromJson(request.body, &pe);
    if (pe.error != QJsonParseError::NoError)
        return failure({400, "invalid_parameter", QStringLiteral("body contains malformed JSON")});
    const QJsonValue value = d.isArray() ? QJsonValue(d.array()) : QJsonValue(d.object());
    if (request.header("If-None-Match") == "*" && m_createRace) {
        setDocument(path.join(QLatin1Char('/')), *m_createRace);
        m_createRace.reset();
    }
    if (valueAt(m_data, path) && request.header("If-None-Match") == "*")
        return Net::HttpResponse::make(304, {}, {});
    if (path.isEmpty()) {
        m_data = value;
    } else if (auto miss
               = atParent(m_data,
                          path,
                          0,
                          true,
                          [&](QJsonValue &c, const QString &last) -> std::optional<Miss> {
                              if (!c.isObject())
                                  return Miss{404,
                                              "resource_not_found",
                                              QStringLiteral("storage_write_conflict_error")};
                              QJsonObject o = c.toObject();
                              o.insert(last, value);
                              c = o;
                              return std::nullopt;
                          })) {
        return failure({miss->status, miss->code, miss->message});
    }
    return Net::HttpResponse::make(204, {}, {});
}

Net::HttpResponse OpaFake::patch(const QStringList &path, const QByteArray &body)
{
    QJsonParseError pe;
    const QJsonDocument d = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !d.isArray())
        return failure({400,
                        "invalid_parameter",
                        QStringLiteral("the body is not a JSON Patch (an array of operations)")});
    // One transaction: all operations apply, or none.
    QJsonValue copy = m_data;
    for (const QJsonValue &v : d.array()) {
        const QJsonObject o = v.toObject();
        const QString name = o.value(QLatin1String("op")).toString();
        PatchOp kind;
        if (name == QLatin1String("add"))
            kind = PatchOp::Add;
        else if (name == QLatin1String("remove"))
            kind = PatchOp::Remove;
        else if (name == QLatin1String("replace"))
            kind = PatchOp::Replace;
        else
            return failure({400,
                            "invalid_parameter",
                            QStringLiteral("invalid patch operation \"%1\"").arg(name)});
        if (kind != PatchOp::Remove && !o.contains(QLatin1String("value")))
            return failure(
                {400, "invalid_parameter", QStringLiteral("%1 needs a value").arg(name)});
        const QStringList full = path + pointerTokens(o.value(QLatin1String("path")).toString());
        if (auto miss = apply(copy, kind, full, o.value(QLatin1String("value"))))
            return failure({miss->status, miss->code, miss->message});
    }
    m_data = copy;
    return Net::HttpResponse::make(204, {}, {});
}

Net::HttpResponse OpaFake::remove(const QStringList &path)
{
    if (!valueAt(m_data, path))
        return failure({404,
                        "resource_not_found",
                        QStringLiteral("storage_not_found_error: /%1: document does not exist")
                            .arg(path.join(QLatin1Char('/')))});
    apply(m_data, PatchOp::Remove, path, {});
    return Net::HttpResponse::make(204, {}, {});
}

Net::HttpResponse OpaFake::post(const QStringList &path, const QByteArray &body) const
{
    QJsonValue input;
    if (!body.trimmed().isEmpty()) {
        QJsonParseError pe;
        const QJsonDocument d = QJsonDocument::fromJson(body, &pe);
        if (pe.error != QJsonParseError::NoError || !d.isObject())
            return failure(
                {400, "invalid_parameter", QStringLiteral("body contains malformed JSON")});
        input = d.object().value(QLatin1String("input"));
    }
    std::optional<QJsonValue> v = virtualDocument(path, input);
    if (!v)
        v = valueAt(m_data, path);
    if (!v)
        return json(200, QJsonObject());
    return json(200, QJsonObject{{QStringLiteral("result"), *v}});
}

} // namespace Breaker
