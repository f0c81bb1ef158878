// breakerctl audit: export, verify, check and seal the audit trail (issue 5; DESIGN.md
// sections 7 and 9; docs/AUDIT.md).
#include "BreakerVersion.h"
#include "app/breakerctl/CtlContext.h"
#include "app/services/AuditExport.h"
#include "app/services/AuditKeyStore.h"
#include "app/services/AuditSeal.h"
#include "app/services/AuditVerify.h"
#include "app/services/Operator.h"
#include "models/Store.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRegularExpression>

#include <cstdio>
#include <unistd.h>

namespace Breaker::Ctl {

namespace {

const char kAuditUsage[]
    = "usage: breakerctl audit export --out DIR [--from T] [--to T] [--agent A] [--run R]\n"
      "                               [--principal P] [--action X] [--format jsonl,csv,ocsf]\n"
      "       breakerctl audit verify DIR [--key FILE | --fingerprint HEX] [--previous DIR]\n"
      "       breakerctl audit check      re-walk the Store's chain and its signed checkpoints\n"
      "       breakerctl audit seal       sign a checkpoint of the chain head now\n"
      "T is a seq (a whole number) or a time (2026-01-31 or 2026-01-31T12:00:00Z); --from is\n"
      "inclusive, a time --to exclusive, a seq --to inclusive.";

int usage(Context &ctx, const QString &what)
{
    return ctx.fail(UsageOrProfile, what + u'\n' + QString::fromLatin1(kAuditUsage));
}

// A bound: a seq, or a time. False on a value that is neither.
bool parseBound(const QString &text, std::optional<qint64> &seq, std::optional<qint64> &ms)
{
    static const QRegularExpression digits(QStringLiteral("^[0-9]{1,18}$"));
    if (digits.match(text).hasMatch()) {
        seq = text.toLongLong();
        return true;
    }
    ms = parseAuditTime(text);
    return ms.has_value();
}

// The key for commands that sign: from where the profile says (exit 2 on a profile error, 3
// when the keychain or the file cannot be reached).
Result<AuditKey> signingKey(const std::optional<Profile> &profile, int *code)
{
    auto key = loadAuditKey(profile);
    if (!key)
        *code = key.error().kind == Error::Kind::Invalid ? UsageOrProfile : Unreachable;
    return key;
}

Result<std::shared_ptr<Store>> existingStore(Context &ctx)
{
    if (!QFileInfo::exists(ctx.dbPath()))
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("no Store at this path (start the engine first: breakerctl "
                                        "daemon, or the console)"),
                         ctx.dbPath());
    return ctx.openStore(false);
}

void progressLine(qint64 done, qint64 total)
{
    // On a terminal only: a line that rewrites itself.
    std::fprintf(stderr,
                 "\rexporting: %lld / %lld records",
                 static_cast<long long>(done),
                 static_cast<long long>(total));
    if (done >= total)
        std::fputc('\n', stderr);
    std::fflush(stderr);
}

int runExport(Context &ctx)
{
    QCommandLineParser &p = ctx.parser();
    if (ctx.args().size() != 1)
        return usage(ctx, QStringLiteral("audit export takes no arguments besides its options"));
    AuditExportOptions o;
    o.outDir = p.value(QStringLiteral("out"));
    if (o.outDir.isEmpty())
        return usage(ctx, QStringLiteral("audit export: --out DIR is required"));
    if (p.isSet(QStringLiteral("from"))
        && !parseBound(p.value(QStringLiteral("from")), o.fromSeq, o.fromMs))
        return usage(ctx,
                     QStringLiteral("audit export: --from \"%1\" is neither a seq nor a time")
                         .arg(p.value(QStringLiteral("from"))));
    if (p.isSet(QStringLiteral("to"))
        && !parseBound(p.value(QStringLiteral("to")), o.toSeq, o.toMs))
        return usage(ctx,
                     QStringLiteral("audit export: --to \"%1\" is neither a seq nor a time")
                         .arg(p.value(QStringLiteral("to"))));
    o.filter.agent = p.value(QStringLiteral("agent"));
    o.filter.run = p.value(QStringLiteral("run"));
    o.filter.principal = p.value(QStringLiteral("principal"));
    o.filter.action = p.value(QStringLiteral("action"));
    if (p.isSet(QStringLiteral("format"))) {
        for (const QString &f : p.value(QStringLiteral("format")).split(u',', Qt::SkipEmptyParts)) {
            const QString format = f.trimmed();
            if (format == u"csv")
                o.csv = true;
            else if (format == u"ocsf")
                o.ocsf = true;
            else if (format != u"jsonl")
                return usage(
                    ctx,
                    QStringLiteral("audit export: unknown format \"%1\" (jsonl, csv, ocsf)")
                        .arg(format));
        }
    }
    if (!o.filter.isEmpty() && !o.csv && !o.ocsf)
        return usage(
            ctx,
            QStringLiteral(
                "audit export: filters shape only audit.csv and audit.ocsf.jsonl (the chain "
                "file is always whole); add --format csv or ocsf"));

    auto profile = ctx.loadProfile();
    if (!profile)
        return ctx.fail(UsageOrProfile, profile.error());
    int code = Ok;
    auto key = signingKey(*profile, &code);
    if (!key)
        return ctx.fail(code, key.error());
    auto store = existingStore(ctx);
    if (!store)
        return ctx.fail(Unreachable, store.error());

    o.actor = currentOperator(*profile);
    o.program = QStringLiteral("breakerctl " BREAKER_VERSION);
    if (!ctx.json() && ::isatty(fileno(stderr)))
        o.progress = progressLine;
    auto result = exportAudit(**store, *key, o);
    if (!result) {
        const Error &e = result.error();
        const int exitCode = e.kind == Error::Kind::Invalid || e.kind == Error::Kind::Conflict
                                 ? UsageOrProfile
                             : e.kind == Error::Kind::DiskFull ? NotFullySucceeded
                                                               : Unreachable;
        return ctx.fail(exitCode, e);
    }
    if (ctx.json()) {
        ctx.printJson(QJsonDocument(result->toJson()));
    } else {
        ctx.out(QStringLiteral("exported %1 record(s), seq %2..%3, to %4")
                    .arg(result->count)
                    .arg(result->firstSeq)
                    .arg(result->lastSeq)
                    .arg(result->dir));
        ctx.out(QStringLiteral("files: %1").arg(result->files.join(QStringLiteral(", "))));
        ctx.out(QStringLiteral("signed by key %1 (kept in the %2)")
                    .arg(QString::fromLatin1(result->keyFingerprint), result->keyStorage));
        ctx.out(QStringLiteral("verify: breakerctl audit verify %1 --fingerprint %2")
                    .arg(result->dir, QString::fromLatin1(result->keyFingerprint)));
        if (!result->warning.isEmpty())
            ctx.out(QStringLiteral("warning: ") + result->warning);
    }
    return result->warning.isEmpty() ? Ok : NotFullySucceeded;
}

int runVerify(Context &ctx)
{
    QCommandLineParser &p = ctx.parser();
    if (ctx.args().size() != 2)
        return usage(ctx, QStringLiteral("audit verify takes one folder"));
    AuditVerifyOptions o;
    o.dir = ctx.args().at(1);
    if (!QFileInfo(o.dir).isDir())
        return usage(ctx, QStringLiteral("audit verify: %1 is not a folder").arg(o.dir));
    const bool keyGiven = p.isSet(QStringLiteral("key"));
    const bool fingerprintGiven = p.isSet(QStringLiteral("fingerprint"));
    if (keyGiven && fingerprintGiven)
        return usage(ctx, QStringLiteral("audit verify: give --key or --fingerprint, not both"));
    if (keyGiven) {
        const QString path = p.value(QStringLiteral("key"));
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            return ctx.fail(Unreachable, QStringLiteral("--key %1: %2").arg(path, f.errorString()));
        auto pinned = AuditPublicKey::fromPem(f.read(64 * 1024));
        if (!pinned)
            return ctx.fail(UsageOrProfile,
                            QStringLiteral("--key %1: %2").arg(path, pinned.error().message));
        o.pinnedFingerprint = pinned->fingerprint();
        o.pinSource = QStringLiteral("--key %1").arg(path);
    } else if (fingerprintGiven) {
        QString hex = p.value(QStringLiteral("fingerprint")).toLower();
        hex.remove(u':');
        static const QRegularExpression re(QStringLiteral("^[0-9a-f]{64}$"));
        if (!re.match(hex).hasMatch())
            return usage(
                ctx,
                QStringLiteral(
                    "audit verify: --fingerprint needs the key's SHA-256: 64 hex characters"));
        o.pinnedFingerprint = hex.toLatin1();
        o.pinSource = QStringLiteral("--fingerprint");
    }
    if (p.isSet(QStringLiteral("previous"))) {
        o.previousDir = p.value(QStringLiteral("previous"));
        if (!QFileInfo(o.previousDir).isDir())
            return usage(
                ctx,
                QStringLiteral("audit verify: --previous %1 is not a folder").arg(o.previousDir));
    }
    const AuditVerifyReport report = verifyAuditExport(o);
    if (ctx.json())
        ctx.printJson(QJsonDocument(report.toJson()));
    else
        ctx.out(report.summary());
    return report.ok ? Ok : NotFullySucceeded;
}

int runCheck(Context &ctx)
{
    auto profile = ctx.loadProfile();
    if (!profile)
        return ctx.fail(UsageOrProfile, profile.error());
    int code = Ok;
    auto key = signingKey(*profile, &code);
    if (!key)
        return ctx.fail(code, key.error());
    auto store = existingStore(ctx);
    if (!store)
        return ctx.fail(Unreachable, store.error());
    auto check = checkAuditChain(**store, key->signer.publicKey());
    if (!check)
        return ctx.fail(Unreachable, check.error());
    if (ctx.json()) {
        ctx.printJson(QJsonDocument(QJsonObject{
            {QStringLiteral("ok"), check->ok},
            {QStringLiteral("records"), check->records},
            {QStringLiteral("intact_through"), check->intactThrough},
            {QStringLiteral("checkpoints"), check->checkpoints},
            {QStringLiteral("last_good_checkpoint"),
             check->lastGoodCheckpointSeq ? QJsonValue(
                 QJsonObject{{QStringLiteral("seq"), check->lastGoodCheckpointSeq},
                             {QStringLiteral("signed_at"),
                              QDateTime::fromMSecsSinceEpoch(check->lastGoodCheckpointTsMs, Qt::UTC)
                                  .toString(Qt::ISODateWithMs)}})
                                          : QJsonValue()},
            {QStringLiteral("first_bad_seq"),
             check->firstBadSeq ? QJsonValue(check->firstBadSeq) : QJsonValue()},
            {QStringLiteral("reason"),
             check->reason.isEmpty() ? QJsonValue() : QJsonValue(check->reason)},
            {QStringLiteral("key_fingerprint"), QString::fromLatin1(key->signer.fingerprint())},
        }));
    } else {
        ctx.out(check->summary());
    }
    return check->ok ? Ok : NotFullySucceeded;
}

int runSeal(Context &ctx)
{
    auto profile = ctx.loadProfile();
    if (!profile)
        return ctx.fail(UsageOrProfile, profile.error());
    int code = Ok;
    auto key = signingKey(*profile, &code);
    if (!key)
        return ctx.fail(code, key.error());
    auto store = existingStore(ctx);
    if (!store)
        return ctx.fail(Unreachable, store.error());
    auto sealed = sealAuditHead(**store, key->signer);
    if (!sealed)
        return ctx.fail(sealed.error().kind == Error::Kind::Conflict ? NotFullySucceeded
                                                                     : Unreachable,
                        sealed.error());
    if (*sealed)
        ctx.out(QStringLiteral("sealed seq %1 (head %2) with key %3")
                    .arg((*sealed)->seq)
                    .arg(QString::fromLatin1((*sealed)->headHash),
                         QString::fromLatin1(key->signer.fingerprint())));
    else
        ctx.out(
            QStringLiteral("nothing to seal: the head has not moved since the last checkpoint"));
    return Ok;
}

} // namespace

int runAudit(Context &ctx)
{
    const QString sub = ctx.args().value(0);
    if (sub == u"export")
        return runExport(ctx);
    if (sub == u"verify")
        return runVerify(ctx);
    if (sub == u"check")
        return runCheck(ctx);
    if (sub == u"seal")
        return runSeal(ctx);
    return usage(ctx,
                 sub.isEmpty() ? QStringLiteral("audit: which? export, verify, check or seal")
                               : QStringLiteral("audit: unknown subcommand \"%1\"").arg(sub));
}

} // namespace Breaker::Ctl
