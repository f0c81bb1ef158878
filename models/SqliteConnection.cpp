#include "models/SqliteConnection.h"

#include <sqlite3.h>

#include <cerrno>

namespace Breaker {

Result<std::shared_ptr<SqliteConnection>> SqliteConnection::open(const QString &path, Mode mode,
                                                                 int busyTimeoutMs)
{
    // NOMUTEX: each connection is used by one thread at a time (the Store guarantees it), so
    // SQLite's per-connection mutex is pure overhead.
    int flags = SQLITE_OPEN_NOMUTEX;
    flags |= mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY
                                    : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    sqlite3 *db = nullptr;
    const QByteArray file = path.toUtf8();
    const int rc = sqlite3_open_v2(file.constData(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        QString message = db ? QString::fromUtf8(sqlite3_errmsg(db))
                             : QString::fromUtf8(sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return makeError(Error::Kind::Unavailable,
                         QStringLiteral("cannot open the database: %1").arg(message), path);
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busyTimeoutMs);
    return std::shared_ptr<SqliteConnection>(new SqliteConnection(db, path));
}

SqliteConnection::SqliteConnection(sqlite3 *db, QString path) : m_db(db), m_path(std::move(path))
{
}

SqliteConnection::~SqliteConnection()
{
    close();
}

void SqliteConnection::close()
{
    if (m_closed.exchange(true, std::memory_order_acq_rel))
        return;
    for (auto &[sql, stmt] : m_statements)
        sqlite3_finalize(stmt);
    m_statements.clear();
    sqlite3_close_v2(m_db);
    m_db = nullptr;
}

Result<void> SqliteConnection::exec(const char *sql)
{
    const int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        return error(rc);
    return {};
}

Result<qint64> SqliteConnection::queryInt(const char *sql)
{
    sqlite3_stmt *stmt = nullptr;
    int rc = sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK)
        return error(rc);
    rc = sqlite3_step(stmt);
    qint64 value = 0;
    if (rc == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return error(rc);
    return value;
}

Result<QByteArray> SqliteConnection::queryText(const char *sql)
{
    sqlite3_stmt *stmt = nullptr;
    int rc = sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK)
        return error(rc);
    rc = sqlite3_step(stmt);
    QByteArray value;
    if (rc == SQLITE_ROW) {
        value = QByteArray(reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0)),
                           sqlite3_column_bytes(stmt, 0));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return error(rc);
    return value;
}

Result<sqlite3_stmt *> SqliteConnection::statement(const char *sql)
{
    if (const auto it = m_statements.find(sql); it != m_statements.end())
        return it->second;
    sqlite3_stmt *stmt = nullptr;
    const int rc = sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK)
        return error(rc);
    m_statements.emplace(sql, stmt);
    return stmt;
}

bool SqliteConnection::inTransaction() const
{
    return m_db && sqlite3_get_autocommit(m_db) == 0;
}

void SqliteConnection::rollbackIfOpen()
{
    if (inTransaction())
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

Error SqliteConnection::error(int rc, const QString &doing) const
{
    const QString words = m_db ? QString::fromUtf8(sqlite3_errmsg(m_db))
                               : QString::fromUtf8(sqlite3_errstr(rc));
    QString message = doing.isEmpty() ? words : QStringLiteral("%1: %2").arg(doing, words);
    Error::Kind kind = Error::Kind::Internal;
    int primary = rc & 0xff;
    // A write or a file extension that failed for want of space, reported as an I/O error.
    if (primary == SQLITE_IOERR && m_db) {
        const int err = sqlite3_system_errno(m_db);
        if (err == ENOSPC || err == EDQUOT)
            primary = SQLITE_FULL;
    }
    switch (primary) {
    case SQLITE_FULL:
        kind = Error::Kind::DiskFull;
        message = QStringLiteral("the disk is full: %1").arg(message);
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        kind = Error::Kind::Unavailable;
        message = QStringLiteral("the database is locked by another connection: %1").arg(message);
        break;
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_IOERR:
    case SQLITE_AUTH:
        kind = Error::Kind::Unavailable;
        break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
        kind = Error::Kind::Invalid;
        break;
    default:
        break;
    }
    return makeError(kind, message, m_path);
}

SqliteQuery::~SqliteQuery()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

void SqliteQuery::bind(int index, QByteArrayView text)
{
    sqlite3_bind_text(m_stmt, index, text.data() ? text.data() : "", int(text.size()),
                      SQLITE_TRANSIENT);
}

void SqliteQuery::bindStatic(int index, QByteArrayView text)
{
    sqlite3_bind_text(m_stmt, index, text.data() ? text.data() : "", int(text.size()),
                      SQLITE_STATIC);
}

void SqliteQuery::bindBlob(int index, QByteArrayView bytes)
{
    sqlite3_bind_blob(m_stmt, index, bytes.data() ? bytes.data() : "", int(bytes.size()),
                      SQLITE_TRANSIENT);
}

void SqliteQuery::bindBlobStatic(int index, QByteArrayView bytes)
{
    sqlite3_bind_blob(m_stmt, index, bytes.data() ? bytes.data() : "", int(bytes.size()),
                      SQLITE_STATIC);
}

void SqliteQuery::bindOrNull(int index, QByteArrayView text)
{
    if (text.isEmpty())
        sqlite3_bind_null(m_stmt, index);
    else
        bind(index, text);
}

void SqliteQuery::bind(int index, qint64 value)
{
    sqlite3_bind_int64(m_stmt, index, value);
}

void SqliteQuery::bindNull(int index)
{
    sqlite3_bind_null(m_stmt, index);
}

int SqliteQuery::step()
{
    return sqlite3_step(m_stmt);
}

bool SqliteQuery::isNull(int column) const
{
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

bool SqliteQuery::isBlob(int column) const
{
    return sqlite3_column_type(m_stmt, column) == SQLITE_BLOB;
}

QByteArray SqliteQuery::text(int column) const
{
    // column_blob works for TEXT and BLOB alike and never converts encodings.
    const void *data = sqlite3_column_blob(m_stmt, column);
    const int size = sqlite3_column_bytes(m_stmt, column);
    if (!data || size <= 0)
        return {};
    return QByteArray(static_cast<const char *>(data), size);
}

qint64 SqliteQuery::int64(int column) const
{
    return sqlite3_column_int64(m_stmt, column);
}

} // namespace Breaker
