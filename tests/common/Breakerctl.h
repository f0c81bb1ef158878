#pragma once

// Running breakerctl from a test, and checking its --json output against the project's JSON
// Schemas with Ajv (tests/peers/validate-json.mjs). Shared by the command-line tests.
#include "tests/common/PeerProcess.h"

#include <QByteArray>
#include <QProcess>
#include <QStringList>

namespace Breaker::Test {

struct CtlRun
{
    int code = -1;
    QByteArray out;
    QByteArray err;
};

// BREAKER_BINARY_DIR is defined for every test program (tests/CMakeLists.txt).
inline CtlRun breakerctl(const QStringList &args, int timeoutMs = 60000)
{
    QProcess p;
    p.start(QStringLiteral(BREAKER_BINARY_DIR "/app/breakerctl/breakerctl"), args);
    CtlRun r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "breakerctl did not finish within " + QByteArray::number(timeoutMs / 1000) + " s";
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

// Empty when `document` is valid against docs/schemas/<schema>; otherwise what Ajv said.
inline QString schemaVerdict(const QString &schema, const QByteArray &document)
{
    QProcess node;
    node.setWorkingDirectory(peersDir());
    node.start(QStringLiteral("node"), {QStringLiteral("validate-json.mjs"),
                                        QStringLiteral(BREAKER_SOURCE_DIR "/docs/schemas/") + schema, QStringLiteral("-")});
    node.write(document);
    node.closeWriteChannel();
    if (!node.waitForFinished(30000))
        return QStringLiteral("validator timed out");
    return node.exitCode() == 0 ? QString()
                                : QString::fromUtf8(node.readAllStandardOutput() + node.readAllStandardError());
}

// docs/AUDIT.md's shell recipe (tests/scripts/audit-recipe.sh: sh, openssl, sha256sum) run on
// an export folder, optionally with the key's fingerprint pinned. Exit code 0 = verified.
struct AuditRecipe
{
    int code = -1;
    QByteArray output;
};

inline AuditRecipe runAuditRecipe(const QString &dir, const QString &fingerprint = {})
{
    QProcess sh;
    sh.setProcessChannelMode(QProcess::MergedChannels);
    QStringList args{QStringLiteral(BREAKER_SOURCE_DIR "/tests/scripts/audit-recipe.sh"), dir};
    if (!fingerprint.isEmpty())
        args << fingerprint;
    sh.start(QStringLiteral("sh"), args);
    AuditRecipe r;
    if (!sh.waitForFinished(60000)) {
        sh.kill();
        sh.waitForFinished();
        return r;
    }
    r.code = sh.exitStatus() == QProcess::NormalExit ? sh.exitCode() : -1;
    r.output = sh.readAll();
    return r;
}

} // namespace Breaker::Test
