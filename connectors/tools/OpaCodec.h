#pragma once

#include "models/Result.h"

#include <QByteArray>
#include <QHash>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <optional>

// The OPA REST encodings of Breaker's kill-switch document (PROTOCOLS.md 4.2), as pure functions.
// No I/O: OpaConnector does the talking.
//
// The document lives at /v1/data/<package path>/killswitch (the package "breaker" and
// "breaker/killswitch" both name /v1/data/breaker/killswitch):
//   {"blocked_tools": {"<agent>": ["tool", ...]}, "blocked_agents": ["<agent>", ...]}
// and resources/policy/breaker_killswitch.rego answers the decision at <document>/allow.
namespace Breaker::Opa {

// The document's path segments from the profile's package ("breaker", "breaker/killswitch" or
// "breaker.killswitch"); "killswitch" is appended unless the package already ends with it.
Result<QStringList> documentSegments(const QString &package);
// "/v1/data/breaker/killswitch" (segments percent-encoded).
QString documentPath(const QStringList &segments);
// "/v1/data/breaker/killswitch/allow".
QString decisionPath(const QStringList &segments);

// One reference token of a JSON Pointer (RFC 6901): "~" → "~0", "/" → "~1".
QString escapePointerToken(const QString &token);
QString unescapePointerToken(const QString &token);

// The document Breaker creates when there is none (PUT with If-None-Match: *).
QByteArray emptyDocument();

// What the document says, leniently: unknown keys (such as the policy's own `allow`, which a GET
// of the package path includes) are ignored.
struct Document
{
    bool hasBlockedTools = false; // the "blocked_tools" object exists
    QHash<QString, QStringList> blockedTools;
    QStringList blockedAgents;

    // nullopt: the agent has no list; else the list (possibly empty).
    std::optional<QStringList> toolsOf(const QString &agent) const;
};
// The `result` of a GET of the document. Not an object, or a blocked_tools that is not an object
// of string arrays, is an error in words.
Result<Document> parseDocument(const QJsonValue &result);

// The JSON Patch (application/json-patch+json) that adds `tools` to the agent's list, given the
// document as read: appends with "/-" when the list exists, else adds the list (and the
// blocked_tools object when that is missing). Tools already in the list are left out; empty when
// there is nothing to add.
QByteArray addToolsPatch(const Document &doc, const QString &agent, const QStringList &tools);
// The patch that removes `tools` from the agent's list (by index, highest first so that the
// indexes stay right within the one patch); empty when none of them is in the list.
QByteArray removeToolsPatch(const Document &doc, const QString &agent, const QStringList &tools);

// {"input":{"agent":…,"tool":…}}
QByteArray decisionInput(const QString &agent, const QString &tool);

// An answer of the Data API: 2xx with `result` (defined), 2xx without (undefined: no rule or
// document there), anything else an Error carrying OPA's own code, message and errors.
struct Answer
{
    bool defined = false;
    QJsonValue result;
};
Result<Answer> parseAnswer(int status, const QByteArray &body, const QString &provider);

// OPA's error body {"code","message","errors":[{"code","message","location"}]} in words:
// "invalid_parameter: error(s) occurred while compiling module(s) (rego_unsafe_var_error: var x
// is unsafe)". Empty when the body is not that shape.
QString errorWords(const QByteArray &body);

} // namespace Breaker::Opa
