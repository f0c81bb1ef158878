#pragma once

#include "models/Profile.h"
#include "models/Result.h"

#include <QCommandLineParser>
#include <QJsonDocument>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace Breaker {

class Store;

namespace Ctl {

// Exit status of DESIGN.md section 9, first match wins.
enum Exit : int {
    Ok = 0,
    NotFullySucceeded = 1,
    UsageOrProfile = 2,
    Unreachable = 3,
};

// What every command gets: the parsed command line, the chosen files, and output helpers.
class Context
{
public:
    Context(QCommandLineParser &parser, QStringList args);

    const QStringList &args() const { return m_args; } // positional arguments after the command
    QCommandLineParser &parser() { return m_parser; }
    bool json() const;
    QString dbPath() const;
    QString profilePath() const; // the --profile value, or the default location
    bool profileGiven() const;

    // The profile: nullopt with no error when none was given and the default does not exist.
    // A profile that does not validate is an error (exit 2).
    Result<std::optional<Profile>> loadProfile() const;
    Result<std::shared_ptr<Store>> openStore(bool readOnly = false) const;

    void printJson(const QJsonDocument &doc) const; // one document, indented
    void printJsonLine(const QJsonObject &object) const; // JSON Lines
    void out(const QString &text) const;               // stdout, newline added
    int fail(int code, const QString &message) const;  // stderr "breakerctl: ...", returns code
    int fail(int code, const Error &error) const;

private:
    QCommandLineParser &m_parser;
    QStringList m_args;
};

int runRuns(Context &ctx);
int runRun(Context &ctx);
int runWatch(Context &ctx);
int runDaemon(Context &ctx);
int runStop(Context &ctx);
int runResume(Context &ctx);
int runDrill(Context &ctx);
int runSandbox(Context &ctx, int argc, char *argv[]);

} // namespace Ctl
} // namespace Breaker
