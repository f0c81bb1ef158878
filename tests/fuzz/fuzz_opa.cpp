// libFuzzer target: the OPA encodings of the kill-switch document (connectors/tools/OpaCodec) on
// arbitrary bytes, read as a Data API answer (with any status), an error body, a package name, a
// JSON Pointer token and a document to patch. Invariants: never crash; a non-2xx answer is never
// a success and always names the provider; a 2xx answer succeeds only on a JSON object and is
// "defined" exactly when it has a result; a package gives identifier segments ending in
// "killswitch", and the same segments again when given back; pointer escaping round-trips and
// leaves no "/" in a token; the add patch, applied as RFC 6902 says, puts the tools in the
// agent's list (whatever the agent is called) and the remove patch takes exactly them out again.
#include "connectors/tools/OpaCodec.h"
#include "tests/fuzz/FuzzChecks.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstddef>
#include <cstdint>

namespace {

using namespace Breaker;

const QString kProvider = QStringLiteral("fuzz");

// A QString that survives UTF-8 (no lone surrogates): what a JSON encoder can carry.
bool utf8Clean(const QString &s)
{
    return QString::fromUtf8(s.toUtf8()) == s;
}

void checkAnswer(const QByteArray &bytes, int status)
{
    const auto answer = Opa::parseAnswer(status, bytes, kProvider);
    if (status / 100 != 2) {
        BREAKER_FUZZ_CHECK(!answer.ok());
        BREAKER_FUZZ_CHECK(answer.error().where == kProvider);
        BREAKER_FUZZ_CHECK(answer.error().message.startsWith(
            QStringLiteral("fuzz answered HTTP %1").arg(status)));
        const QString words = Opa::errorWords(bytes);
        if (!words.isEmpty())
            BREAKER_FUZZ_CHECK(answer.error().message.endsWith(words));
        return;
    }
    const QJsonDocument doc = QJsonDocument::fromJson(bytes);
    BREAKER_FUZZ_CHECK(answer.ok() == doc.isObject());
    if (!answer.ok()) {
        BREAKER_FUZZ_CHECK(answer.error().where == kProvider);
        return;
    }
    BREAKER_FUZZ_CHECK(answer->defined == doc.object().contains(QLatin1String("result")));
    if (!answer->defined)
        BREAKER_FUZZ_CHECK(answer->result.isUndefined());
}

// [A-Za-z_][A-Za-z0-9_]*, checked by hand (a regex "$" also matches before a final newline).
bool isIdentifier(const QString &s)
{
    if (s.isEmpty() || s.front().isDigit())
        return false;
    for (const QChar c : s) {
        const char16_t u = c.unicode();
        if (!((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '_'))
            return false;
    }
    return true;
}

void checkPackage(const QString &package)
{
    const auto segments = Opa::documentSegments(package);
    if (!segments.ok()) {
        BREAKER_FUZZ_CHECK(!segments.error().message.isEmpty());
        return;
    }
    BREAKER_FUZZ_CHECK(!segments->isEmpty());
    BREAKER_FUZZ_CHECK(segments->last() == QLatin1String("killswitch"));
    for (const QString &s : *segments)
        BREAKER_FUZZ_CHECK(isIdentifier(s));
    const QString path = Opa::documentPath(*segments);
    BREAKER_FUZZ_CHECK(path == QStringLiteral("/v1/data/") + segments->join(QLatin1Char('/')));
    BREAKER_FUZZ_CHECK(Opa::decisionPath(*segments) == path + QStringLiteral("/allow"));
    // The segments name their own package.
    const auto again = Opa::documentSegments(segments->join(QLatin1Char('/')));
    BREAKER_FUZZ_CHECK(again.ok() && *again == *segments);
}

void checkPointer(const QString &token)
{
    const QString escaped = Opa::escapePointerToken(token);
    BREAKER_FUZZ_CHECK(!escaped.contains(u'/'));
    for (qsizetype i = escaped.indexOf(u'~'); i >= 0; i = escaped.indexOf(u'~', i + 1))
        BREAKER_FUZZ_CHECK(i + 1 < escaped.size() && (escaped[i + 1] == u'0' || escaped[i + 1] == u'1'));
    BREAKER_FUZZ_CHECK(Opa::unescapePointerToken(escaped) == token);
    (void)Opa::unescapePointerToken(token);
}

// ---- A small RFC 6902 applier: "add" and "remove" on objects and arrays, as OPA applies them --

QStringList pointerTokens(const QString &pointer)
{
    BREAKER_FUZZ_CHECK(pointer.startsWith(u'/'));
    QStringList tokens = pointer.mid(1).split(u'/');
    for (QString &t : tokens)
        t = Opa::unescapePointerToken(t);
    return tokens;
}

// Applies one operation below `at`; false when the path does not exist (the patch would fail).
bool apply(QJsonValue &at, const QStringList &tokens, qsizetype i, const QString &op, const QJsonValue &value)
{
    const QString &token = tokens.at(i);
    const bool last = i + 1 == tokens.size();
    if (at.isObject()) {
        QJsonObject o = at.toObject();
        if (last) {
            if (op == QLatin1String("add")) {
                o.insert(token, value);
            } else {
                if (!o.contains(token))
                    return false;
                o.remove(token);
            }
        } else {
            if (!o.contains(token))
                return false;
            QJsonValue child = o.value(token);
            if (!apply(child, tokens, i + 1, op, value))
                return false;
            o.insert(token, child);
        }
        at = o;
        return true;
    }
    if (at.isArray()) {
        QJsonArray a = at.toArray();
        bool ok = false;
        const qsizetype index = token == QLatin1String("-") ? a.size() : token.toLongLong(&ok);
        if (token != QLatin1String("-") && (!ok || index < 0 || index >= a.size() + (op == QLatin1String("add"))))
            return false;
        if (last) {
            if (op == QLatin1String("add")) {
                a.insert(index, value);
            } else {
                if (index >= a.size())
                    return false;
                a.removeAt(index);
            }
        } else {
            if (index >= a.size())
                return false;
            QJsonValue child = a.at(index);
            if (!apply(child, tokens, i + 1, op, value))
                return false;
            a.replace(index, child);
        }
        at = a;
        return true;
    }
    return false;
}

QJsonObject applyPatch(const QJsonObject &document, const QByteArray &patch)
{
    if (patch.isEmpty())
        return document;
    const QJsonDocument ops = QJsonDocument::fromJson(patch);
    BREAKER_FUZZ_CHECK(ops.isArray() && !ops.array().isEmpty());
    QJsonValue root = document;
    for (const QJsonValue &v : ops.array()) {
        const QJsonObject o = v.toObject();
        const QString op = o.value(QLatin1String("op")).toString();
        BREAKER_FUZZ_CHECK(op == QLatin1String("add") || op == QLatin1String("remove"));
        BREAKER_FUZZ_CHECK(o.contains(QLatin1String("value")) == (op == QLatin1String("add")));
        const QString path = o.value(QLatin1String("path")).toString();
        BREAKER_FUZZ_CHECK(path.startsWith(QStringLiteral("/blocked_tools")));
        BREAKER_FUZZ_CHECK(apply(root, pointerTokens(path), 0, op, o.value(QLatin1String("value"))));
    }
    return root.toObject();
}

void checkPatches(const QJsonObject &document, const QString &agent, const QStringList &tools)
{
    if (!utf8Clean(agent))
        return;
    for (const QString &t : tools)
        if (!utf8Clean(t))
            return;
    const auto before = Opa::parseDocument(document);
    if (!before.ok()) {
        BREAKER_FUZZ_CHECK(!before.error().message.isEmpty());
        return;
    }
    for (auto it = before->blockedTools.begin(); it != before->blockedTools.end(); ++it)
        BREAKER_FUZZ_CHECK(before->toolsOf(it.key()) == it.value());
    if (!before->blockedTools.isEmpty())
        BREAKER_FUZZ_CHECK(before->hasBlockedTools);

    const QByteArray add = Opa::addToolsPatch(*before, agent, tools);
    const auto added = Opa::parseDocument(applyPatch(document, add));
    BREAKER_FUZZ_CHECK(added.ok());
    BREAKER_FUZZ_CHECK(added->blockedAgents == before->blockedAgents);
    const QStringList beforeList = before->toolsOf(agent).value_or(QStringList());
    const std::optional<QStringList> list = added->toolsOf(agent);
    if (add.isEmpty()) {
        for (const QString &t : tools)
            BREAKER_FUZZ_CHECK(beforeList.contains(t));
    } else {
        BREAKER_FUZZ_CHECK(list.has_value());
        // What was there stays, in order, and each missing tool comes once after it.
        BREAKER_FUZZ_CHECK(list->mid(0, beforeList.size()) == beforeList);
        for (const QString &t : tools)
            BREAKER_FUZZ_CHECK(list->contains(t));
        for (const QString &t : list->mid(beforeList.size()))
            BREAKER_FUZZ_CHECK(tools.contains(t) && list->count(t) - beforeList.count(t) == 1);
    }
    // Nobody else's list moved.
    for (auto it = before->blockedTools.begin(); it != before->blockedTools.end(); ++it)
        if (it.key() != agent)
            BREAKER_FUZZ_CHECK(added->toolsOf(it.key()) == it.value());

    const QJsonObject afterAdd = applyPatch(document, add);
    const QByteArray remove = Opa::removeToolsPatch(*added, agent, tools);
    const auto removed = Opa::parseDocument(applyPatch(afterAdd, remove));
    BREAKER_FUZZ_CHECK(removed.ok());
    const QStringList left = removed->toolsOf(agent).value_or(QStringList());
    for (const QString &t : tools)
        BREAKER_FUZZ_CHECK(!left.contains(t));
    QStringList expected = added->toolsOf(agent).value_or(QStringList());
    expected.removeIf([&](const QString &t) { return tools.contains(t); });
    BREAKER_FUZZ_CHECK(left == expected);
    BREAKER_FUZZ_CHECK(remove.isEmpty() == (left == added->toolsOf(agent).value_or(QStringList())));

    // The decision input carries the agent and a tool as they are.
    const QJsonObject input = QJsonDocument::fromJson(
                                  Opa::decisionInput(agent, tools.value(0)))
                                  .object()
                                  .value(QLatin1String("input"))
                                  .toObject();
    BREAKER_FUZZ_CHECK(input.value(QLatin1String("agent")).toString() == agent);
    BREAKER_FUZZ_CHECK(input.value(QLatin1String("tool")).toString() == tools.value(0));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QString text = QString::fromUtf8(bytes);
    checkAnswer(bytes, 200 + int(size % 400));
    checkAnswer(bytes, 200);
    (void)Opa::errorWords(bytes);
    checkPackage(text.left(256));
    checkPointer(text);

    // A document as OPA would hold it: the answer's result, or the bytes' own object, or the
    // document Breaker creates; the agent and tools from the document when it names them
    // ("agent" and "tools" keys are ignored by the codec), else from the lines of the input.
    const QJsonObject object = QJsonDocument::fromJson(bytes).object();
    QJsonObject document = object.value(QLatin1String("result")).toObject();
    if (document.isEmpty())
        document = object;
    if (document.isEmpty())
        document = QJsonDocument::fromJson(Opa::emptyDocument()).object();
    QString agent;
    QStringList tools;
    if (object.value(QLatin1String("agent")).isString()) {
        agent = object.value(QLatin1String("agent")).toString();
        for (const QJsonValue &t : object.value(QLatin1String("tools")).toArray())
            tools << t.toString();
    } else {
        const QStringList lines = text.split(u'\n');
        agent = lines.value(0);
        tools = lines.mid(1, 16);
    }
    checkPatches(document, agent, tools);
    return 0;
}
