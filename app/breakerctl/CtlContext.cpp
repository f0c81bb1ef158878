#include "app/breakerctl/CtlContext.h"

#include "app/services/Paths.h"
#include "models/Store.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonObject>

#include <cstdio>

namespace Breaker::Ctl {

Context::Context(QCommandLineParser &parser, QStringList args)
    : m_parser(parser)
    , m_args(std::move(args))
{
}

bool Context::json() const
{
    return m_parser.isSet(QStringLiteral("json"));
}

QString Context::dbPath() const
{
    const QString given = m_parser.value(QStringLiteral("db"));
    return given.isEmpty() ? Paths::defaultDbPath() : given;
}

bool Context::profileGiven() const
{
    return !m_parser.value(QStringLiteral("profile")).isEmpty();
}

QString Context::profilePath() const
{
    const QString given = m_parser.value(QStringLiteral("profile"));
    return given.isEmpty() ? Paths::defaultProfilePath() : given;
}

Result<std::optional<Profile>> Context::loadProfile() const
{
    const QString path = profilePath();
    if (!profileGiven() && !QFileInfo::exists(path))
        return std::optional<Profile>();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(Error::Kind::Invalid, file.errorString(), path);
    auto profile = parseProfile(file.readAll(), path);
    if (!profile)
        return profile.error();
    return std::optional<Profile>(std::move(profile.value()));
}

Result<std::shared_ptr<Store>> Context::openStore(bool readOnly) const
{
    StoreOptions options;
    options.readOnly = readOnly;
    if (readOnly && !QFileInfo::exists(dbPath())) {
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("no Store at this path (start the engine first: "
                                        "breakerctl daemon, or the console)"),
                         dbPath());
    }
    return Store::open(dbPath(), options);
}

void Context::printJson(const QJsonDocument &doc) const
{
    const QByteArray bytes = doc.toJson(QJsonDocument::Indented);
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

void Context::printJsonLine(const QJsonObject &object) const
{
    const QByteArray bytes = QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

void Context::out(const QString &text) const
{
    const QByteArray bytes = text.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

int Context::fail(int code, const QString &message) const
{
    const QByteArray bytes = "breakerctl: " + message.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    return code;
}

int Context::fail(int code, const Error &error) const
{
    return fail(code, error.where.isEmpty() ? error.message : error.where + QStringLiteral(": ") + error.message);
}

} // namespace Breaker::Ctl
