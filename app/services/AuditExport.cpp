// The chain re-walk hashes one short line at a time, where EVP's per-call dispatch costs about a
// third of the hash itself: it uses OpenSSL's SHA256_* functions (deprecated in 3.0, still
// present) for the lines, as AuditVerify does, and EVP for the files.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "app/services/AuditExport.h"

#include "app/services/AuditSeal.h"
#include "app/services/AuditVerify.h"
#include "models/AuditCsv.h"
#include "models/AuditOcsf.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace Breaker {

namespace {

// Records per read from the Store. Small enough that a page's allocations are reused by the
// next page rather than handed back to the system and faulted in again (with 4096 records,
// about 1.9 MB a page, that cost a third of the export's time); progress is still reported
// every kProgressEvery records.
constexpr qint64 kPage = 256;
constexpr qint64 kProgressEvery = 4096;
constexpr size_t kWriteBuffer = 1 << 20;
// A background writer (audit.jsonl) holds at most this many full buffers waiting: memory stays
// bounded (a few MB) however large the export.
constexpr size_t kQueuedBuffers = 4;
// ...and starts the disk on what it wrote every this many bytes, so that the fsync at the end
// waits for the last stretch, not for the whole file.
constexpr qint64 kWritebackEvery = 16 * 1024 * 1024;

QString systemError(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

QString rfc3339(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

// Lowercase hex SHA-256 of one line into `hex` (64 characters), without EVP's dispatch.
void lineHashHex(QByteArrayView line, char *hex)
{
    // Not SHA256(): in OpenSSL 3 it fetches the algorithm (under a lock) on every call.
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, line.data(), size_t(line.size()));
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_Final(digest, &ctx);
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
        hex[2 * i] = kHex[digest[i] >> 4];
        hex[2 * i + 1] = kHex[digest[i] & 0xf];
    }
}

// Bytes written across all files of one export, for the full-disk test hook. audit.jsonl is
// written on its own thread while audit.csv and audit.ocsf.jsonl are written on the caller's,
// hence the lock.
class WriteBudget
{
public:
    explicit WriteBudget(qint64 limit)
        : m_limit(limit)
    {}
    // How much of `want` bytes may be written now: 0 is a full disk.
    size_t grant(size_t want)
    {
        if (m_limit < 0)
            return want;
        std::lock_guard lock(m_mutex);
        return size_t(std::clamp<qint64>(m_limit - m_written, 0, qint64(want)));
    }
    void spent(size_t n)
    {
        if (m_limit < 0)
            return;
        std::lock_guard lock(m_mutex);
        m_written += qint64(n);
    }

private:
    std::mutex m_mutex;
    qint64 m_written = 0;
    const qint64 m_limit;
};

// A record line inside a Block: where it is and where its prev (64 hex) is.
struct LineRef
{
    size_t start = 0;
    size_t length = 0;
    size_t prev = 0;
};

// One buffer of a file's bytes; for audit.jsonl also where its record lines are.
struct Block
{
    explicit Block(size_t bytes = kWriteBuffer)
        : capacity(bytes)
        , data(new char[bytes])
    {}
    size_t capacity;
    std::unique_ptr<char[]> data;
    size_t size = 0;
    std::vector<LineRef> lines;
};

// One file of the export: buffered writes, its SHA-256 as it is written, fsync on close. In the
// background mode (audit.jsonl), full buffers go to a thread of the file's own that hashes and
// writes them, while the caller goes on reading and checking the chain: the two halves of the
// work on two cores, with a bounded queue between them.
class ExportFile
{
public:
    enum class Mode { Inline, Background };

    ExportFile(QString dir, QString name, WriteBudget &budget, Mode mode = Mode::Inline)
        : m_name(std::move(name))
        , m_path(QDir(dir).filePath(m_name))
        , m_budget(budget)
        , m_ctx(EVP_MD_CTX_new())
        , m_mode(mode)
    {}
    ~ExportFile()
    {
        abort();
        if (m_fd >= 0)
            ::close(m_fd);
        EVP_MD_CTX_free(m_ctx);
    }
    ExportFile(const ExportFile &) = delete;
    ExportFile &operator=(const ExportFile &) = delete;

    Result<void> open()
    {
        const QByteArray encoded = QFile::encodeName(m_path);
        m_fd = ::open(
            encoded.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (m_fd < 0)
            return failure(errno, "create");
        EVP_DigestInit_ex2(m_ctx, EVP_sha256(), nullptr);
        m_current = std::make_unique<Block>();
        if (m_mode == Mode::Background)
            m_thread = std::thread([this] { writerLoop(); });
        return {};
    }

    Result<void> write(QByteArrayView bytes)
    {
        const char *p = bytes.data();
        size_t left = size_t(bytes.size());
        while (left > 0) {
            const size_t n = std::min(left, m_current->capacity - m_current->size);
            std::memcpy(m_current->data.get() + m_current->size, p, n);
            m_current->size += n;
            p += n;
            left -= n;
            if (m_current->size == m_current->capacity)
                if (auto r = flush(); !r)
                    return r;
        }
        return {};
    }

    // The chain check of audit.jsonl, on the writer thread: each record's prev must be the hash
    // of the record before (the first one's: `anchorPrev`), `firstSeq` being the first's seq.
    void checkChain(const QByteArray &anchorPrev, qint64 firstSeq)
    {
        std::memcpy(m_chainHash, anchorPrev.constData(), 64);
        m_chainSeq = firstSeq;
    }

    // A record's line and a newline, its prev at `prevOffset` in the line (from the scanner);
    // the link is checked by the writer thread. A line is never split between two blocks.
    Result<void> writeRecord(QByteArrayView line, qsizetype prevOffset)
    {
        const size_t n = size_t(line.size());
        if (n + 1 > m_current->capacity - m_current->size) {
            if (auto r = flush(); !r)
                return r;
            if (n + 1 > m_current->capacity)
                m_current = std::make_unique<Block>(n + 1); // one block for a line this long
        }
        char *at = m_current->data.get() + m_current->size;
        std::memcpy(at, line.data(), n);
        at[n] = '\n';
        m_current->lines.push_back({m_current->size, n, m_current->size + size_t(prevOffset)});
        m_current->size += n + 1;
        return {};
    }

    // Hands over what is buffered and waits until the writer thread is done with it: its
    // error, if it found one (a broken link comes before anything the caller found since).
    Result<void> settle()
    {
        if (auto r = flush(); !r)
            return r;
        std::unique_lock lock(m_mutex);
        m_wake.wait(lock, [this] { return (m_queue.empty() && !m_busy) || m_error; });
        if (m_error)
            return *m_error;
        return {};
    }

    // The hash of the last record written with writeRecord (64 hex), once closed.
    QByteArray chainHash() const { return QByteArray(m_chainHash, 64); }

    Result<void> close()
    {
        if (auto r = flush(); !r)
            return r;
        if (m_thread.joinable()) {
            {
                std::lock_guard lock(m_mutex);
                m_closing = true;
            }
            m_wake.notify_all();
            m_thread.join();
            if (m_error)
                return *m_error;
        }
        if (::fsync(m_fd) != 0)
            return failure(errno, "write");
        const int fd = m_fd;
        m_fd = -1;
        if (::close(fd) != 0)
            return failure(errno, "write");
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_DigestFinal_ex(m_ctx, digest, &n);
        m_hash = QByteArray(reinterpret_cast<const char *>(digest), int(n)).toHex();
        return {};
    }

    // Stops the writer thread, dropping what it has not written (the export is abandoned).
    void abort()
    {
        if (!m_thread.joinable())
            return;
        {
            std::lock_guard lock(m_mutex);
            m_closing = true;
            m_aborted = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }

    const QString &name() const { return m_name; }
    const QByteArray &hash() const { return m_hash; }

private:
    Result<void> flush()
    {
        if (m_current->size == 0)
            return {};
        if (m_mode == Mode::Inline) {
            auto r = writeOut(*m_current);
            m_current->size = 0;
            m_current->lines.clear();
            return r;
        }
        std::unique_lock lock(m_mutex);
        m_wake.wait(lock, [this] { return m_queue.size() < kQueuedBuffers || m_error; });
        if (m_error)
            return *m_error;
        m_queue.push_back(std::move(m_current));
        if (!m_spare.empty()) {
            m_current = std::move(m_spare.back());
            m_spare.pop_back();
        }
        lock.unlock();
        m_wake.notify_all();
        if (!m_current)
            m_current = std::make_unique<Block>();
        m_current->size = 0;
        m_current->lines.clear();
        return {};
    }

    void writerLoop()
    {
        while (true) {
            std::unique_ptr<Block> block;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [this] { return !m_queue.empty() || m_closing; });
                if (m_aborted || m_queue.empty())
                    return;
                block = std::move(m_queue.front());
                m_queue.pop_front();
                m_busy = true;
            }
            Result<void> r = linkLines(*block);
            if (r)
                r = writeOut(*block);
            {
                std::lock_guard lock(m_mutex);
                m_busy = false;
                if (!r)
                    m_error = r.error();
                // A block grown for one long line is not kept.
                if (block->capacity == kWriteBuffer)
                    m_spare.push_back(std::move(block));
            }
            m_wake.notify_all();
            if (!r)
                return;
        }
    }

    // Each record line of the block against the one before it, then its own hash.
    Result<void> linkLines(const Block &block)
    {
        const char *data = block.data.get();
        for (const LineRef &line : block.lines) {
            if (std::memcmp(data + line.prev, m_chainHash, 64) != 0)
                return makeError(
                    Error::Kind::Invalid,
                    QStringLiteral(
                        "not exporting: the Store's audit chain is broken at seq %1 (its prev is "
                        "not the hash of the record before it); breakerctl audit check says more")
                        .arg(m_chainSeq));
            lineHashHex(QByteArrayView(data + line.start, qsizetype(line.length)), m_chainHash);
            ++m_chainSeq;
        }
        return {};
    }

    // Hashes and writes one buffer (on the writer thread in the background mode).
    Result<void> writeOut(const Block &block)
    {
        EVP_DigestUpdate(m_ctx, block.data.get(), block.size);
        size_t done = 0;
        while (done < block.size) {
            const size_t chunk = m_budget.grant(block.size - done);
            if (chunk == 0)
                return failure(ENOSPC, "write");
            const ssize_t n = ::write(m_fd, block.data.get() + done, chunk);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return failure(n < 0 ? errno : ENOSPC, "write");
            done += size_t(n);
            m_budget.spent(size_t(n));
        }
        m_written += qint64(block.size);
#ifdef SYNC_FILE_RANGE_WRITE
        if (m_written - m_writebackFrom >= kWritebackEvery) {
            // Starts the writeback of what was just written, and waits for the stretch before
            // it: the disk works while the export goes on, the file's dirty pages stay few, and
            // the fsync in close() only waits for the last stretch. (Not a durability step:
            // close() still fsyncs.)
            ::sync_file_range(
                m_fd, m_writebackFrom, m_written - m_writebackFrom, SYNC_FILE_RANGE_WRITE);
            if (m_writebackFrom > 0)
                ::sync_file_range(m_fd,
                                  m_waitFrom,
                                  m_writebackFrom - m_waitFrom,
                                  SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE
                                      | SYNC_FILE_RANGE_WAIT_AFTER);
            m_waitFrom = m_writebackFrom;
            m_writebackFrom = m_written;
        }
#endif
        return {};
    }

    Error failure(int error, const char *doing) const
    {
        return makeError(error == ENOSPC || error == EDQUOT ? Error::Kind::DiskFull
                                                            : Error::Kind::Unavailable,
                         QStringLiteral("cannot %1 %2: %3")
                             .arg(QString::fromLatin1(doing), m_name, systemError(error)),
                         m_path);
    }

    QString m_name;
    QString m_path;
    WriteBudget &m_budget;
    EVP_MD_CTX *m_ctx;
    const Mode m_mode;
    int m_fd = -1;
    qint64 m_written = 0;
    qint64 m_writebackFrom = 0;
    qint64 m_waitFrom = 0;
    std::unique_ptr<Block> m_current;
    QByteArray m_hash;

    // The background mode: full blocks to write, emptied ones to reuse.
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::unique_ptr<Block>> m_queue;
    std::vector<std::unique_ptr<Block>> m_spare;
    std::optional<Error> m_error;
    bool m_busy = false;
    bool m_closing = false;
    bool m_aborted = false;
    // The chain check (writeRecord): the hash the next record's prev must be, and its seq.
    char m_chainHash[64] = {};
    qint64 m_chainSeq = 0;
};

// The first seq whose record is at or after `ms` (head + 1 when none is). Timestamps never go
// backwards along the chain (Store::appendAudit), so a binary search over seq finds it.
Result<qint64> firstSeqAtOrAfter(Store &store, qint64 headSeq, qint64 ms)
{
    qint64 lo = 1;
    qint64 hi = headSeq + 1;
    while (lo < hi) {
        const qint64 mid = lo + (hi - lo) / 2;
        auto r = store.auditRecords(mid, mid);
        if (!r)
            return r.error();
        if (r->empty())
            return makeError(
                Error::Kind::Invalid,
                QStringLiteral("audit record %1 is missing from the Store (breakerctl audit check)")
                    .arg(mid));
        if (r->front().tsMs >= ms)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void writeJsonFile(const QJsonObject &o, QByteArray &out)
{
    out = QJsonDocument(o).toJson(QJsonDocument::Indented);
}

QJsonValue orNull(const QString &s)
{
    return s.isEmpty() ? QJsonValue() : QJsonValue(s);
}

QJsonObject filterJson(const AuditFilter &f)
{
    return QJsonObject{{QStringLiteral("agent"), orNull(f.agent)},
                       {QStringLiteral("run"), orNull(f.run)},
                       {QStringLiteral("principal"), orNull(f.principal)},
                       {QStringLiteral("action"), orNull(f.action)}};
}

// Removes a partly written export. It is a hidden ".NAME.partial-XXXXXX" folder, so should
// removing fail too, nothing is left that looks like an export.
void discard(const QString &tmp)
{
    QDir(tmp).removeRecursively();
}

Result<void> fsyncPath(const QString &path)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return makeError(Error::Kind::Unavailable, systemError(errno), path);
    const int rc = ::fsync(fd);
    const int error = errno;
    ::close(fd);
    if (rc != 0)
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot sync the folder: ") + systemError(error),
                         path);
    return {};
}

struct Range
{
    qint64 first = 1;
    qint64 last = 0;
    QByteArray anchorPrev;
};

Result<Range> resolveRange(Store &store, const AuditExportOptions &o)
{
    auto head = store.auditHead();
    if (!head)
        return head.error();
    const qint64 headSeq = *head ? (*head)->seq : 0;
    Range r;
    r.first = 1;
    r.last = headSeq;
    if (o.fromSeq) {
        if (*o.fromSeq < 1)
            return makeError(Error::Kind::Invalid, QStringLiteral("--from: a seq starts at 1"));
        if (*o.fromSeq > headSeq + 1)
            return makeError(
                Error::Kind::Invalid,
                QStringLiteral(
                    "--from: seq %1 is past the end of the trail (the last record is seq %2)")
                    .arg(*o.fromSeq)
                    .arg(headSeq));
        r.first = *o.fromSeq;
    } else if (o.fromMs) {
        auto s = firstSeqAtOrAfter(store, headSeq, *o.fromMs);
        if (!s)
            return s.error();
        r.first = *s;
    }
    if (o.toSeq) {
        if (*o.toSeq < r.first - 1)
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("--to: seq %1 is before --from (seq %2)")
                                 .arg(*o.toSeq)
                                 .arg(r.first));
        r.last = std::min(*o.toSeq, headSeq);
    } else if (o.toMs) {
        if (o.fromMs && *o.toMs < *o.fromMs)
            return makeError(Error::Kind::Invalid, QStringLiteral("--to is before --from"));
        auto s = firstSeqAtOrAfter(store, headSeq, *o.toMs);
        if (!s)
            return s.error();
        r.last = std::max(*s - 1, r.first - 1);
    }
    r.last = std::max(r.last, r.first - 1);
    // The hash the range's first record points to: the record before it, or 64 zeros.
    if (r.first == 1) {
        r.anchorPrev = zeroHash();
    } else {
        auto before = store.auditRecords(r.first - 1, r.first - 1);
        if (!before)
            return before.error();
        if (before->empty())
            return makeError(
                Error::Kind::Invalid,
                QStringLiteral("audit record %1 is missing from the Store (breakerctl audit check)")
                    .arg(r.first - 1));
        r.anchorPrev = sha256Hex(before->front().line);
    }
    return r;
}

} // namespace

std::optional<qint64> parseAuditTime(const QString &text)
{
    static const QRegularExpression date(QStringLiteral("^\\d{4}-\\d{2}-\\d{2}$"));
    if (date.match(text).hasMatch()) {
        const QDate d = QDate::fromString(text, Qt::ISODate);
        if (!d.isValid())
            return std::nullopt;
        return QDateTime(d, QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
    }
    static const QRegularExpression stamp(QStringLiteral(
        "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$"));
    if (!stamp.match(text).hasMatch())
        return std::nullopt;
    const QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!t.isValid())
        return std::nullopt;
    return t.toMSecsSinceEpoch();
}

Result<AuditExportResult>
exportAudit(Store &store, const AuditKey &key, const AuditExportOptions &o)
{
    if (o.outDir.isEmpty())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("no export folder given (--out DIR)"));
    const QFileInfo out(o.outDir);
    const QString outPath = out.absoluteFilePath();
    struct stat st = {};
    if (::lstat(QFile::encodeName(outPath).constData(), &st) == 0)
        return makeError(
            Error::Kind::Conflict,
            QStringLiteral("%1 already exists: an export never overwrites; choose a new folder")
                .arg(outPath),
            outPath);
    const QString parent = out.absolutePath();
    if (!QFileInfo(parent).isDir())
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the folder %1 does not exist").arg(parent),
                         parent);

    auto range = resolveRange(store, o);
    if (!range)
        return range.error();
    const qint64 total = range->last - range->first + 1;

    // A hidden sibling, renamed into place once complete.
    QString tmp;
    for (int attempt = 0; attempt < 16 && tmp.isEmpty(); ++attempt) {
        const QString candidate = QDir(parent).filePath(
            QStringLiteral(".%1.partial-%2")
                .arg(out.fileName(),
                     QString::number(QRandomGenerator::system()->generate(), 16)
                         .rightJustified(8, QLatin1Char('0'))));
        if (::mkdir(QFile::encodeName(candidate).constData(), 0755) == 0)
            tmp = candidate;
        else if (errno != EEXIST)
            return makeError(errno == ENOSPC ? Error::Kind::DiskFull : Error::Kind::Unavailable,
                             QStringLiteral("cannot create a folder beside %1: %2")
                                 .arg(outPath, systemError(errno)),
                             parent);
    }
    if (tmp.isEmpty())
        return makeError(
            Error::Kind::Unavailable, QStringLiteral("cannot create a temporary folder"), parent);

    WriteBudget budget(o.failAfterBytes);
    ExportFile jsonl(tmp, QStringLiteral("audit.jsonl"), budget, ExportFile::Mode::Background);
    auto fail = [&tmp, &jsonl](const Error &e) -> Result<AuditExportResult> {
        jsonl.abort(); // its thread no longer writes into the folder being removed
        discard(tmp);
        return e;
    };

    AuditExportResult result;
    result.firstSeq = range->first;
    result.lastSeq = range->last;
    result.anchorPrev = range->anchorPrev;
    result.keyFingerprint = key.signer.fingerprint();
    result.keyStorage = key.storage;

    std::unique_ptr<ExportFile> csv;
    std::unique_ptr<ExportFile> ocsf;
    if (auto r = jsonl.open(); !r)
        return fail(r.error());
    if (o.csv) {
        csv = std::make_unique<ExportFile>(tmp, QStringLiteral("audit.csv"), budget);
        if (auto r = csv->open(); !r)
            return fail(r.error());
        if (auto r = csv->write(auditCsvHeader()); !r)
            return fail(r.error());
    }
    if (o.ocsf) {
        ocsf = std::make_unique<ExportFile>(tmp, QStringLiteral("audit.ocsf.jsonl"), budget);
        if (auto r = ocsf->open(); !r)
            return fail(r.error());
    }

    // The chain, page by page: each line scanned here, and re-hashed and linked by the writer
    // thread of audit.jsonl, so an export never carries a chain that does not verify.
    jsonl.checkChain(range->anchorPrev, range->first);
    qint64 done = 0;
    qint64 firstTs = 0, lastTs = 0;
    for (qint64 seq = range->first; seq <= range->last;) {
        const qint64 pageEnd = std::min(range->last, seq + kPage - 1);
        auto page = store.auditRecords(seq, pageEnd);
        if (!page)
            return fail(page.error());
        for (const AuditRecord &record : *page) {
            AuditLineFields fields;
            const char *why
                = record.seq != seq ? "a record is missing" : scanAuditLine(record.line, &fields);
            if (!why && fields.seq != record.seq)
                why = "the seq in its line differs";
            if (why) {
                // A broken link the writer thread finds in the records before this one comes
                // first, as it would in a walk one record at a time.
                if (auto r = jsonl.settle(); !r)
                    return fail(r.error());
                return fail(makeError(
                    Error::Kind::Invalid,
                    QStringLiteral(
                        "not exporting: the Store's audit chain is broken at seq %1 (%2); "
                        "breakerctl audit check says more")
                        .arg(seq)
                        .arg(QString::fromLatin1(why))));
            }
            if (auto r = jsonl.writeRecord(record.line, fields.prev.data() - record.line.data());
                !r)
                return fail(r.error());
            if (csv || ocsf) {
                const QJsonObject object = QJsonDocument::fromJson(record.line).object();
                if (o.filter.isEmpty() || o.filter.matches(object)) {
                    if (csv) {
                        if (auto r = csv->write(auditCsvRow(object)); !r)
                            return fail(r.error());
                        ++result.csvRows;
                    }
                    if (ocsf) {
                        if (auto r = ocsf->write(QByteArray(
                                QJsonDocument(auditToOcsf(object)).toJson(QJsonDocument::Compact)
                                + '\n'));
                            !r)
                            return fail(r.error());
                        ++result.ocsfEvents;
                    }
                }
            }
            if (done == 0)
                firstTs = record.tsMs;
            lastTs = record.tsMs;
            ++done;
            ++seq;
        }
        if (page->empty() || (*page).back().seq < pageEnd) {
            if (auto r = jsonl.settle(); !r)
                return fail(r.error());
            return fail(
                makeError(Error::Kind::Invalid,
                          QStringLiteral("not exporting: audit record %1 is missing from the Store")
                              .arg(seq)));
        }
        if (o.progress && (done % kProgressEvery == 0 || seq > range->last))
            o.progress(done, total);
    }
    if (total == 0 && o.progress)
        o.progress(0, 0);
    result.count = done;

    if (auto r = jsonl.close(); !r)
        return fail(r.error());
    result.lastHash = jsonl.chainHash();
    QJsonObject files{{jsonl.name(), QString::fromLatin1(jsonl.hash())}};
    QJsonArray formats{QStringLiteral("jsonl")};
    for (ExportFile *f : {csv.get(), ocsf.get()}) {
        if (!f)
            continue;
        if (auto r = f->close(); !r)
            return fail(r.error());
        files.insert(f->name(), QString::fromLatin1(f->hash()));
    }
    if (csv)
        formats.append(QStringLiteral("csv"));
    if (ocsf)
        formats.append(QStringLiteral("ocsf"));

    ExportFile pem(tmp, QStringLiteral("public-key.pem"), budget);
    if (auto r = pem.open(); !r)
        return fail(r.error());
    if (auto r = pem.write(key.signer.publicKey().pem()); !r)
        return fail(r.error());
    if (auto r = pem.close(); !r)
        return fail(r.error());
    files.insert(pem.name(), QString::fromLatin1(pem.hash()));

    const QJsonObject manifest{
        {QStringLiteral("format"), QStringLiteral("breaker-audit/1")},
        {QStringLiteral("range"),
         QJsonObject{{QStringLiteral("first_seq"), result.firstSeq},
                     {QStringLiteral("last_seq"), result.lastSeq},
                     {QStringLiteral("from"), done ? QJsonValue(rfc3339(firstTs)) : QJsonValue()},
                     {QStringLiteral("to"), done ? QJsonValue(rfc3339(lastTs)) : QJsonValue()}}},
        {QStringLiteral("count"), result.count},
        {QStringLiteral("anchor_prev"), QString::fromLatin1(result.anchorPrev)},
        {QStringLiteral("last_hash"), QString::fromLatin1(result.lastHash)},
        {QStringLiteral("files"), files},
        {QStringLiteral("key_fingerprint"), QString::fromLatin1(result.keyFingerprint)},
        {QStringLiteral("key_storage"), key.storage},
        {QStringLiteral("exporter"),
         QJsonObject{{QStringLiteral("program"), orNull(o.program)},
                     {QStringLiteral("operator"), orNull(o.actor.id)},
                     {QStringLiteral("host"), orNull(o.actor.host)}}},
        {QStringLiteral("exported_at"), rfc3339(QDateTime::currentMSecsSinceEpoch())},
        {QStringLiteral("formats"), formats},
        {QStringLiteral("filters"), filterJson(o.filter)},
    };
    QByteArray manifestBytes;
    writeJsonFile(manifest, manifestBytes);
    auto signature = key.signer.sign(manifestBytes);
    if (!signature)
        return fail(signature.error());
    for (const auto &[name, bytes] : {std::pair{QStringLiteral("manifest.json"), manifestBytes},
                                      std::pair{QStringLiteral("manifest.sig"), *signature}}) {
        ExportFile f(tmp, name, budget);
        if (auto r = f.open(); !r)
            return fail(r.error());
        if (auto r = f.write(bytes); !r)
            return fail(r.error());
        if (auto r = f.close(); !r)
            return fail(r.error());
    }
    if (auto r = fsyncPath(tmp); !r)
        return fail(r.error());
    // Into place, never over a folder that appeared meanwhile.
    if (::renameat2(AT_FDCWD,
                    QFile::encodeName(tmp).constData(),
                    AT_FDCWD,
                    QFile::encodeName(outPath).constData(),
                    RENAME_NOREPLACE)
        != 0) {
        const int error = errno;
        return fail(makeError(error == EEXIST ? Error::Kind::Conflict : Error::Kind::Unavailable,
                              QStringLiteral("cannot move the export into place at %1: %2")
                                  .arg(outPath, systemError(error)),
                              outPath));
    }
    (void)fsyncPath(parent);

    result.dir = outPath;
    result.files = QStringList{QStringLiteral("audit.jsonl")};
    if (csv)
        result.files << QStringLiteral("audit.csv");
    if (ocsf)
        result.files << QStringLiteral("audit.ocsf.jsonl");
    result.files << QStringLiteral("public-key.pem") << QStringLiteral("manifest.json")
                 << QStringLiteral("manifest.sig");

    // The export itself, in the trail (after its range, so never inside it), then a checkpoint.
    AuditEntry entry;
    entry.actor = o.actor;
    entry.action = QStringLiteral("audit.exported");
    entry.target.object = outPath;
    entry.outcome = QStringLiteral("ok");
    entry.detail = QJsonObject{
        {QStringLiteral("range"), manifest.value(QStringLiteral("range"))},
        {QStringLiteral("count"), result.count},
        {QStringLiteral("folder"), outPath},
        {QStringLiteral("formats"), formats},
        {QStringLiteral("filters"), filterJson(o.filter)},
        {QStringLiteral("key_fingerprint"), QString::fromLatin1(result.keyFingerprint)},
        {QStringLiteral("key_storage"), key.storage},
        {QStringLiteral("last_hash"), QString::fromLatin1(result.lastHash)},
    };
    auto recorded = store.appendAudit(entry);
    if (!recorded) {
        result.warning
            = QStringLiteral(
                  "the export is complete but could not be recorded in the audit trail: ")
              + recorded.error().message;
        return result;
    }
    result.recordSeq = recorded->seq;
    if (auto sealed = sealAuditHead(store, key.signer); !sealed)
        result.warning
            = QStringLiteral("the export is complete but the chain head could not be sealed: ")
              + sealed.error().message;
    return result;
}

QJsonObject AuditExportResult::toJson() const
{
    QJsonArray fileList;
    for (const QString &f : files)
        fileList.append(f);
    return QJsonObject{
        {QStringLiteral("ok"), warning.isEmpty()},
        {QStringLiteral("dir"), dir},
        {QStringLiteral("range"),
         QJsonObject{{QStringLiteral("first_seq"), firstSeq},
                     {QStringLiteral("last_seq"), lastSeq}}},
        {QStringLiteral("count"), count},
        {QStringLiteral("anchor_prev"), QString::fromLatin1(anchorPrev)},
        {QStringLiteral("last_hash"), QString::fromLatin1(lastHash)},
        {QStringLiteral("key_fingerprint"), QString::fromLatin1(keyFingerprint)},
        {QStringLiteral("key_storage"), keyStorage},
        {QStringLiteral("files"), fileList},
        {QStringLiteral("csv_rows"), csvRows},
        {QStringLiteral("ocsf_events"), ocsfEvents},
        {QStringLiteral("record_seq"), recordSeq > 0 ? QJsonValue(recordSeq) : QJsonValue()},
        {QStringLiteral("warning"), orNull(warning)},
    };
}

} // namespace Breaker
