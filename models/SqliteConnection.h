#pragma once

#include "models/Result.h"

#include <QByteArray>
#include <QString>

#include <atomic>
#include <memory>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace Breaker {

// One SQLite connection (the C API) with a cache of prepared statements. Used by one thread at
// a time: the Store gives its writer, its audit path and every reading thread their own.
// Internal to models/; the rest of the project goes through Store.
class SqliteConnection
{
public:
    enum class Mode { ReadWrite, ReadOnly };
    static Result<std::shared_ptr<SqliteConnection>> open(const QString &path, Mode mode,
                                                          int busyTimeoutMs);
    ~SqliteConnection();
    SqliteConnection(const SqliteConnection &) = delete;
    SqliteConnection &operator=(const SqliteConnection &) = delete;

    sqlite3 *handle() const { return m_db; }
    const QString &path() const { return m_path; }
    // False once close() ran (possibly from the thread that destroys the Store).
    bool isOpen() const { return !m_closed.load(std::memory_order_acquire); }
    void close();

    // Runs SQL that returns no rows (may hold several statements).
    Result<void> exec(const char *sql);
    // The single integer a PRAGMA (or any one-value query) returns.
    Result<qint64> queryInt(const char *sql);
    Result<QByteArray> queryText(const char *sql);
    // A prepared statement, prepared once per connection. `sql` must be a string with static
    // storage duration: its address is the cache key.
    Result<sqlite3_stmt *> statement(const char *sql);

    // Rolls back the open transaction, if any (SQLite may already have rolled it back itself,
    // e.g. after SQLITE_FULL).
    void rollbackIfOpen();
    bool inTransaction() const;

    // An Error carrying SQLite's own words; SQLITE_FULL becomes DiskFull, a lock held by
    // someone else past the busy timeout becomes Unavailable.
    Error error(int rc, const QString &doing = {}) const;

private:
    SqliteConnection(sqlite3 *db, QString path);

    sqlite3 *m_db = nullptr;
    QString m_path;
    std::atomic<bool> m_closed{false};
    std::unordered_map<const char *, sqlite3_stmt *> m_statements;
};

// Binds, steps and reads one prepared statement; resets it when it goes out of scope so that a
// cached statement is always reusable, even after an error or a partial read.
class SqliteQuery
{
public:
    explicit SqliteQuery(sqlite3_stmt *stmt) : m_stmt(stmt) {}
    ~SqliteQuery();
    SqliteQuery(const SqliteQuery &) = delete;
    SqliteQuery &operator=(const SqliteQuery &) = delete;

    // Copies the bytes (safe with temporaries).
    void bind(int index, QByteArrayView text);
    // Binds without copying: `text` must stay alive until the statement is stepped.
    void bindStatic(int index, QByteArrayView text);
    void bindBlob(int index, QByteArrayView bytes);
    // Binds without copying: `bytes` must stay alive until the statement is stepped.
    void bindBlobStatic(int index, QByteArrayView bytes);
    // NULL when empty.
    void bindOrNull(int index, QByteArrayView text);
    void bind(int index, qint64 value);
    void bindNull(int index);

    // SQLITE_ROW, SQLITE_DONE or an error code.
    int step();

    bool isNull(int column) const;
    bool isBlob(int column) const;
    QByteArray text(int column) const;
    qint64 int64(int column) const;

private:
    sqlite3_stmt *m_stmt;
};

} // namespace Breaker
