// Renders the main window over the sample fleet to a PNG, to look at the views without a
// display: breaker_views_snapshot [OUT.png] [RUN_ID] [WIDTHxHEIGHT]
// Runs with QT_QPA_PLATFORM=offscreen.

#include "FakeRunFeed.h"
#include "SampleFleet.h"
#include "views/MainWindow.h"
#include "views/RunDetailPane.h"
#include "views/RunsTableView.h"
#include "views/TimelineModel.h"
#include "views/TimelineView.h"

#include <QApplication>
#include <QDateTime>
#include <QTimer>

#include <cstdio>

using namespace Breaker;

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    const QStringList args = app.arguments();
    const QString out = args.size() > 1 ? args.at(1) : QStringLiteral("/tmp/breaker-views.png");
    const QByteArray runId = args.size() > 2 ? args.at(2).toUtf8() : QByteArray("run-7f3a01");
    QSize size(1400, 900);
    if (args.size() > 3) {
        const QStringList wh = args.at(3).split(QLatin1Char('x'));
        if (wh.size() == 2)
            size = QSize(wh.at(0).toInt(), wh.at(1).toInt());
    }

    Testing::FakeRunFeed feed;
    const auto runs = Testing::sampleRuns(QDateTime::currentMSecsSinceEpoch());
    feed.setRuns(runs);
    for (const Run &run : runs)
        feed.setEvents(run.id, Testing::sampleEvents(run));
    feed.setAutoAnswer(true);

    MainWindow window(&feed);
    window.setProfileName(QStringLiteral("sandbox"));
    window.resize(size);
    window.show();

    QObject::connect(&feed, &RunFeed::runsLoaded, &window, [&] {
        QTimer::singleShot(0, &window, [&] {
            emit feed.providerStatesChanged(Testing::sampleProviderStates());
            emit feed.ingestRateChanged(42.5);
            emit feed.problem(QStringLiteral("opa: connection refused (127.0.0.1:8181)"));
            if (!window.runsView()->selectRun(runId))
                std::fprintf(stderr, "run %s not in the table\n", runId.constData());
        });
    });
    QObject::connect(&feed, &RunFeed::eventsLoaded, &window, [&] {
        QTimer::singleShot(0, &window, [&] {
            TimelineView *timeline = window.detailPane()->timelineView();
            const int rows = window.detailPane()->timelineModel()->rowCount();
            timeline->setCurrentIndex(
                window.detailPane()->timelineModel()->index(std::max(0, rows - 1)));
            timeline->setFocus();
            QTimer::singleShot(100, &window, [&] {
                const bool saved = window.grab().save(out);
                std::fprintf(
                    stderr, "%s %s\n", saved ? "wrote" : "could not write", qPrintable(out));
                app.exit(saved ? 0 : 1);
            });
        });
    });
    QTimer::singleShot(10'000, &app, [&] {
        std::fprintf(stderr, "timed out\n");
        app.exit(2);
    });
    return app.exec();
}
