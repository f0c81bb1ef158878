#include "BreakerVersion.h"
#include "app/services/LogSink.h"
#include "views/MainWindow.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("breaker"));
    QApplication::setApplicationVersion(QStringLiteral(BREAKER_VERSION));
    QApplication::setDesktopFileName(QStringLiteral(BREAKER_APP_ID));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Breaker: the operator console for AI agents"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(app);

    Breaker::LogSink::install(QStringLiteral("breaker"));
    Breaker::MainWindow window;
    window.show();
    return app.exec();
}
