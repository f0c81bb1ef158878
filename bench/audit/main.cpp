// bench_audit: the three targets of issue 5 (docs/BENCHMARKS.md, "Audit trail").
//  1. Append: records/s chained and durable (Store::appendAuditBatch, batches of --batch, each
//     one BEGIN IMMEDIATE transaction with synchronous=FULL), beside the ceiling: the same line
//     bytes inserted into a bare table of the same shape with the same pragmas and batches, no
//     chain (no head read, no hashing).
//  2. Verify: records/s of verifyAuditExport over an export of --records records, beside
//     `openssl dgst -sha256` over the same audit.jsonl and a bare SHA-256 chain over the same
//     lines (hash each line, compare with the next line's prev; no parsing), so that the
//     verifier's own overhead shows.
//  3. Export: --records records to audit.jsonl (no CSV, no OCSF): seconds, and the process's
//     peak resident memory during the export (VmHWM reset through /proc/self/clear_refs).
#include "app/services/AuditExport.h"
#include "app/services/AuditKeyStore.h"
#include "app/services/AuditSeal.h"
#include "app/services/AuditVerify.h"
#include "models/Store.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>

#include <openssl/evp.h>
#include <sqlite3.h>

#include <malloc.h>

#include <cstdio>
#include <cstring>

using namespace Breaker;

namespace {

// A stop.layer record of about 300 bytes (the size the baseline names).
AuditEntry entryFor(qint64 i)
{
    AuditEntry e;
    e.actor = {QStringLiteral("operator"), QStringLiteral("ada"), QStringLiteral("oncall-1")};
    e.action = QStringLiteral("stop.layer");
    e.target.agent = QStringLiteral("refund-agent");
    e.target.layer = QStringLiteral("payment");
    e.target.provider = QStringLiteral("stripe");
    e.reason = QStringLiteral("INC-4711");
    e.outcome = QStringLiteral("verified");
    e.detail = QJsonObject{{QStringLiteral("action"), QStringLiteral("freeze")}, {QStringLiteral("ms"), qint64(40 + i % 50)}};
    return e;
}

long peakRssKb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').first().toLong();
    return -1;
}

long currentRssKb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLong();
    return -1;
}

void resetPeakRss()
{
    QFile f(QStringLiteral("/proc/self/clear_refs"));
    if (f.open(QIODevice::WriteOnly))
        f.write("5");
}

bool sqlExec(sqlite3 *db, const char *sql)
{
    char *error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
        std::fprintf(stderr, "sqlite: %s\n", error ? error : "?");
        sqlite3_free(error);
        return false;
    }
    return true;
}

// The ceiling: the same rows into a bare table, same pragmas, same batch size, nothing chained.
double rawInsertRate(const QString &path, const std::vector<AuditRecord> &rows, int batch)
{
    sqlite3 *db = nullptr;
    if (sqlite3_open(QFile::encodeName(path).constData(), &db) != SQLITE_OK)
        return 0;
    sqlExec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                "CREATE TABLE audit (seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, line BLOB NOT NULL, "
                "hash TEXT NOT NULL)");
    sqlite3_stmt *insert = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO audit (seq, ts_ms, line, hash) VALUES (?1, ?2, ?3, ?4)", -1, &insert, nullptr);
    QElapsedTimer clock;
    clock.start();
    for (size_t i = 0; i < rows.size(); i += size_t(batch)) {
        sqlExec(db, "BEGIN IMMEDIATE");
        for (size_t j = i; j < std::min(rows.size(), i + size_t(batch)); ++j) {
            const AuditRecord &r = rows[j];
            sqlite3_bind_int64(insert, 1, r.seq);
            sqlite3_bind_int64(insert, 2, r.tsMs);
            sqlite3_bind_blob(insert, 3, r.line.constData(), int(r.line.size()), SQLITE_STATIC);
            sqlite3_bind_text(insert, 4, r.hashHex.constData(), int(r.hashHex.size()), SQLITE_STATIC);
            sqlite3_step(insert);
            sqlite3_reset(insert);
        }
        sqlExec(db, "COMMIT");
    }
    const double seconds = double(clock.nsecsElapsed()) / 1e9;
    sqlite3_finalize(insert);
    sqlite3_close(db);
    return double(rows.size()) / seconds;
}

// A bare chain over audit.jsonl: SHA-256 of each line (one EVP_MD fetched once, one context
// reused: the fastest way OpenSSL 3 offers), compared with the next line's prev (found by its
// fixed place at the end of the line), nothing parsed.
double bareChainRate(const QString &path, qint64 *lines)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray all = f.readAll(); // read before the clock starts: hashing only
    EVP_MD *md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    QElapsedTimer clock;
    clock.start();
    const char *p = all.constData();
    const char *end = p + all.size();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    char hex[65];
    bool havePrevious = false;
    qint64 n = 0, mismatches = 0;
    static const char *digits = "0123456789abcdef";
    while (p < end) {
        const char *nl = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
        if (!nl)
            nl = end;
        // The line's prev: the 64 characters before its closing `"}`.
        if (havePrevious && (nl - p < 66 || std::memcmp(nl - 66, hex, 64) != 0))
            ++mismatches;
        EVP_DigestInit_ex2(ctx, md, nullptr);
        EVP_DigestUpdate(ctx, p, size_t(nl - p));
        EVP_DigestFinal_ex(ctx, digest, &size);
        for (unsigned int i = 0; i < 32; ++i) {
            hex[2 * i] = digits[digest[i] >> 4];
            hex[2 * i + 1] = digits[digest[i] & 15];
        }
        havePrevious = true;
        ++n;
        p = nl + 1;
    }
    const double seconds = double(clock.nsecsElapsed()) / 1e9;
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    if (mismatches)
        std::fprintf(stderr, "bare chain: %lld mismatches\n", static_cast<long long>(mismatches));
    *lines = n;
    return double(n) / seconds;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Audit trail benches (issue 5)."));
    parser.addHelpOption();
    parser.addOptions({{QStringLiteral("records"), QStringLiteral("Records for verify and export (default 1000000)."), QStringLiteral("N"), QStringLiteral("1000000")},
                       {QStringLiteral("append"), QStringLiteral("Records for the append bench (default 200000)."), QStringLiteral("N"), QStringLiteral("200000")},
                       {QStringLiteral("batch"), QStringLiteral("Records per append transaction (default 1000)."), QStringLiteral("N"), QStringLiteral("1000")},
                       {QStringLiteral("dir"), QStringLiteral("Work folder (default: a temporary one)."), QStringLiteral("DIR")}});
    parser.process(app);
    const qint64 records = parser.value(QStringLiteral("records")).toLongLong();
    const qint64 appendCount = parser.value(QStringLiteral("append")).toLongLong();
    const int batch = parser.value(QStringLiteral("batch")).toInt();
    QTemporaryDir tmp;
    const QString dir = parser.isSet(QStringLiteral("dir")) ? parser.value(QStringLiteral("dir")) : tmp.path();

    // 1. Append, chained and durable.
    auto store = Store::open(dir + QStringLiteral("/append.db"));
    if (!store) {
        std::fprintf(stderr, "%s\n", qPrintable(store.error().message));
        return 1;
    }
    std::vector<AuditEntry> entries;
    entries.reserve(size_t(batch));
    for (int i = 0; i < batch; ++i)
        entries.push_back(entryFor(i));
    // The records each call returns are dropped, as a caller does: keeping 200,000 of them here
    // would charge the append for faulting in ~100 MB of fresh memory.
    qint64 appended = 0;
    QElapsedTimer clock;
    clock.start();
    for (qint64 done = 0; done < appendCount; done += batch) {
        auto r = (*store)->appendAuditBatch(entries);
        if (!r) {
            std::fprintf(stderr, "append: %s\n", qPrintable(r.error().message));
            return 1;
        }
        appended += qint64(r->size());
    }
    const double appendSeconds = double(clock.nsecsElapsed()) / 1e9;
    const double appendRate = double(appended) / appendSeconds;
    // The same rows, read back for the raw insert (before its clock starts).
    auto readBack = (*store)->auditRecords(1, appended);
    if (!readBack || qint64(readBack->size()) != appended) {
        std::fprintf(stderr, "append: reading the records back failed\n");
        return 1;
    }
    std::vector<AuditRecord> written = std::move(*readBack);
    const double rawRate = rawInsertRate(dir + QStringLiteral("/raw.db"), written, batch);
    // The chain's own CPU, without the Store: format each record's line and hash it, chained.
    double formatRate = 0;
    {
        const QByteArray tsText = formatAuditTime(QDateTime::currentMSecsSinceEpoch());
        QByteArray prev(64, '0');
        qint64 n = 0;
        QElapsedTimer formatClock;
        formatClock.start();
        for (qint64 done = 0; done < appendCount; done += batch) {
            for (const AuditEntry &entry : entries) {
                const QByteArray line = formatAuditLine(++n, tsText, entry, prev);
                prev = sha256Hex(line);
            }
        }
        formatRate = double(n) / (double(formatClock.nsecsElapsed()) / 1e9);
    }
    double bytes = 0;
    for (const AuditRecord &r : written)
        bytes += double(r.line.size());
    std::printf("append: %zu records (%.0f bytes/line) in batches of %d: chained %.0f records/s; raw insert of the "
                "same rows %.0f records/s (chained = %.0f%% of raw); format + hash alone %.0f records/s (%.2f us each)\n",
                written.size(), bytes / double(written.size()), batch, appendRate, rawRate,
                100.0 * appendRate / rawRate, formatRate, 1e6 / formatRate);
    written.clear();
    written.shrink_to_fit();
    malloc_trim(0); // give the read-back rows back, so that the export starts from a small process
    store->reset();

    // 3. Export of `records` records (the Store filled first, in big batches).
    auto big = Store::open(dir + QStringLiteral("/export.db"));
    if (!big) {
        std::fprintf(stderr, "%s\n", qPrintable(big.error().message));
        return 1;
    }
    std::vector<AuditEntry> many;
    for (int i = 0; i < 10000; ++i)
        many.push_back(entryFor(i));
    for (qint64 done = 0; done < records; done += qint64(many.size())) {
        if (records - done < qint64(many.size()))
            many.resize(size_t(records - done));
        if (auto r = (*big)->appendAuditBatch(many); !r) {
            std::fprintf(stderr, "fill: %s\n", qPrintable(r.error().message));
            return 1;
        }
    }
    auto key = loadAuditKeyFile(dir + QStringLiteral("/signing-key.pem"));
    if (!key) {
        std::fprintf(stderr, "key: %s\n", qPrintable(key.error().message));
        return 1;
    }
    // As the engine does every few minutes and after each stop: the chain is sealed up to its
    // head before the export, which then seals only its own audit.exported record.
    clock.restart();
    if (auto sealed = sealAuditHead(**big, key->signer); !sealed) {
        std::fprintf(stderr, "seal: %s\n", qPrintable(sealed.error().message));
        return 1;
    }
    std::printf("seal: a checkpoint after walking %lld records: %.2f s\n", static_cast<long long>(records),
                double(clock.nsecsElapsed()) / 1e9);
    AuditExportOptions o;
    o.outDir = dir + QStringLiteral("/export");
    o.toSeq = records;
    o.actor = {QStringLiteral("operator"), QStringLiteral("bench"), QStringLiteral("localhost")};
    o.program = QStringLiteral("bench_audit");
    const long rssBefore = currentRssKb();
    resetPeakRss();
    clock.restart();
    auto exported = exportAudit(**big, *key, o);
    const double exportSeconds = double(clock.nsecsElapsed()) / 1e9;
    const long peak = peakRssKb();
    if (!exported) {
        std::fprintf(stderr, "export: %s\n", qPrintable(exported.error().message));
        return 1;
    }
    const qint64 fileBytes = QFileInfo(o.outDir + QStringLiteral("/audit.jsonl")).size();
    std::printf("export: %lld records (%.1f MB audit.jsonl) in %.2f s (%.0f records/s); resident memory %ld kB "
                "before, peak %ld kB during (+%ld kB)\n",
                static_cast<long long>(exported->count), double(fileBytes) / 1e6, exportSeconds,
                double(exported->count) / exportSeconds, rssBefore, peak, peak - rssBefore);

    // 2. Verify the export, beside openssl dgst and a bare chain over the same bytes.
    AuditVerifyOptions v;
    v.dir = o.outDir;
    v.pinnedFingerprint = key->signer.fingerprint();
    v.pinSource = QStringLiteral("bench key");
    clock.restart();
    const AuditVerifyReport report = verifyAuditExport(v);
    const double verifySeconds = double(clock.nsecsElapsed()) / 1e9;
    if (!report.ok) {
        std::fprintf(stderr, "verify: %s\n", qPrintable(report.summary()));
        return 1;
    }
    QProcess openssl;
    clock.restart();
    openssl.start(QStringLiteral("openssl"), {QStringLiteral("dgst"), QStringLiteral("-sha256"), o.outDir + QStringLiteral("/audit.jsonl")});
    openssl.waitForFinished(-1);
    const double opensslSeconds = double(clock.nsecsElapsed()) / 1e9;
    qint64 lines = 0;
    const double bareRate = bareChainRate(o.outDir + QStringLiteral("/audit.jsonl"), &lines);
    std::printf("verify: %lld records in %.3f s = %.0f records/s (whole folder: manifest, signature, file hashes, "
                "pinned key, every line scanned strictly and chained)\n",
                static_cast<long long>(report.records), verifySeconds, double(report.records) / verifySeconds);
    std::printf("  beside: openssl dgst -sha256 over the same %.1f MB: %.3f s (%.0f records/s equivalent); bare SHA-256 "
                "chain over the same %lld lines (in memory, no parsing): %.0f records/s\n",
                double(fileBytes) / 1e6, opensslSeconds, double(lines) / opensslSeconds,
                static_cast<long long>(lines), bareRate);
    return 0;
}
