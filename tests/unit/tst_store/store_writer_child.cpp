// Test fixture for tst_store: writes batches through the Store's writer in a loop and prints
// the number of each batch once write() has returned (i.e. committed). The test SIGKILLs it.
#include "models/Store.h"

#include <QString>

#include <cstdio>

using namespace Breaker;

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: store_writer_child DB [BATCHES]\n");
        return 2;
    }
    const int batches = argc > 2 ? std::atoi(argv[2]) : 1000000;
    auto store = Store::open(QString::fromLocal8Bit(argv[1]));
    if (!store) {
        std::fprintf(stderr, "%s\n", store.error().message.toLocal8Bit().constData());
        return 1;
    }
    const QByteArray attributes(600, 'x');
    for (int n = 1; n <= batches; ++n) {
        const QByteArray number = QByteArray::number(n);
        WriteBatch batch;
        Run run;
        run.id = "child-run-" + number;
        run.agent = "child";
        run.status = RunStatus::Completed;
        run.startedMs = 1000 + n;
        run.updatedMs = 1000 + n;
        batch.runs.push_back(run);
        batch.keys.push_back(RunKey{"child:" + number, run.id});
        // Held back by the writer (its events are in the batch): written later in bulk, or, when
        // the child is killed first, by the next Store that opens the file.
        batch.keys.push_back(RunKey{"trace:" + number.rightJustified(32, '0'), run.id});
        for (int i = 0; i < 20; ++i) {
            RunEvent e;
            e.runId = run.id;
            e.traceId = number.rightJustified(32, '0');
            e.spanId = QByteArray::number(i + 1).rightJustified(16, '0');
            e.kind = EventKind::ToolCall;
            e.name = "tool";
            e.startNs = qint64(n) * 1000000000 + i;
            e.endNs = e.startNs + 1;
            e.attributesJson = "{\"pad\":\"" + attributes + "\"}";
            batch.events.push_back(e);
        }
        const auto r = store.value()->write(std::move(batch));
        if (!r) {
            std::fprintf(stderr, "batch %d: %s\n", n, r.error().message.toLocal8Bit().constData());
            return 1;
        }
        std::printf("%d\n", n);
        std::fflush(stdout);
    }
    return 0;
}
