#include "app/services/LogSink.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QMutex>
#include <QMutexLocker>
#include <QStandardPaths>

#include <cstdio>

namespace Breaker {

namespace {

QMutex g_mutex;
QFile *g_file = nullptr;
QtMessageHandler g_previous = nullptr;

const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return "debug";
    case QtInfoMsg: return "info";
    case QtWarningMsg: return "warning";
    case QtCriticalMsg: return "critical";
    case QtFatalMsg: return "fatal";
    }
    return "?";
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QByteArray line = QDateTime::currentDateTimeUtc()
                                .toString(Qt::ISODateWithMs)
                                .toUtf8()
                            + ' ' + levelName(type) + ' '
                            + QByteArray(context.category ? context.category : "default") + ": "
                            + message.toUtf8() + '\n';
    {
        QMutexLocker lock(&g_mutex);
        if (g_file) {
            g_file->write(line);
            g_file->flush();
        }
    }
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    if (type == QtFatalMsg && g_previous)
        g_previous(type, context, message);
}

} // namespace

QString LogSink::defaultLogDir()
{
    const QByteArray overrideDir = qgetenv("BREAKER_LOG_DIR");
    if (!overrideDir.isEmpty())
        return QString::fromLocal8Bit(overrideDir);
    QString state = QString::fromLocal8Bit(qgetenv("XDG_STATE_HOME"));
    if (state.isEmpty())
        state = QDir::homePath() + QStringLiteral("/.local/state");
    return state + QStringLiteral("/breaker");
}

QString LogSink::install(const QString &programName)
{
    const QString dir = defaultLogDir();
    QString path;
    if (QDir().mkpath(dir)) {
        auto *file = new QFile(dir + QLatin1Char('/') + programName + QStringLiteral(".log"));
        if (file->open(QIODevice::Append | QIODevice::Text)) {
            file->setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
            QMutexLocker lock(&g_mutex);
            g_file = file;
            path = file->fileName();
        } else {
            delete file;
        }
    }
    g_previous = qInstallMessageHandler(handler);
    return path;
}

} // namespace Breaker
