// Test fixture for tst_audit: appends audit records (each its own transaction) and prints each
// committed seq. Several run at once against one Store; one is SIGKILLed mid-stream.
#include "models/Store.h"

#include <QJsonObject>
#include <QString>

#include <cstdio>

using namespace Breaker;

int main(int argc, char **argv)
{
    if (argc < 4) {
        std::fprintf(stderr, "usage: audit_append_child DB COUNT ACTOR_ID (COUNT 0: until killed)\n");
        return 2;
    }
    const long count = std::atol(argv[2]);
    const QString actor = QString::fromLocal8Bit(argv[3]);
    auto store = Store::open(QString::fromLocal8Bit(argv[1]));
    if (!store) {
        std::fprintf(stderr, "%s\n", store.error().message.toLocal8Bit().constData());
        return 1;
    }
    for (long i = 1; count == 0 || i <= count; ++i) {
        AuditEntry entry;
        entry.actor = {QStringLiteral("connector"), actor, QStringLiteral("test-host")};
        entry.action = QStringLiteral("test.append");
        entry.target.object = QString::number(i);
        entry.outcome = QStringLiteral("ok");
        entry.detail = QJsonObject{{QStringLiteral("i"), qint64(i)}};
        const auto r = store.value()->appendAudit(entry);
        if (!r) {
            std::fprintf(stderr, "append %ld: %s\n", i, r.error().message.toLocal8Bit().constData());
            return 1;
        }
        std::printf("%lld\n", static_cast<long long>(r->seq));
        std::fflush(stdout);
    }
    return 0;
}
