#include "BreakerVersion.h"

#include <QCommandLineParser>
#include <QCoreApplication>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("breakerctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(BREAKER_VERSION));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Breaker on the command line"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(app);
    return 0;
}
