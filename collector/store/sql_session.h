// collector/store/sql_session.h — the little the report store needs from a SQL
// database, implemented for SQLite (embedded, WAL) and PostgreSQL (libpqxx).
//
// Statements use $1, $2 … placeholders, numbered in order of first use: both
// databases read that form, so the store's SQL is written once.
#ifndef PINION_COLLECTOR_STORE_SQL_SESSION_H_
#define PINION_COLLECTOR_STORE_SQL_SESSION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pinion/result.h"

namespace pinion::collector {

enum class SqlDialect : std::uint8_t { kSqlite, kPostgres };

// SqlDialectName is how /healthz, the dashboard and `pinion serve` name the
// database: "sqlite" or "postgresql".
inline std::string_view SqlDialectName(SqlDialect dialect) {
  switch (dialect) {
    case SqlDialect::kSqlite: return "sqlite";
    case SqlDialect::kPostgres: return "postgresql";
  }
  return "unknown";
}

// SqlBlob is binary data (SQLite BLOB, PostgreSQL BYTEA).
struct SqlBlob {
  std::string bytes;
};
using SqlValue = std::variant<std::int64_t, std::string, SqlBlob>;
// Every column as text; a BLOB / BYTEA column as its raw bytes; NULL as "".
using SqlRow = std::vector<std::string>;

// SqlSession is one connection; not thread-safe (callers serialize).
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  virtual SqlDialect dialect() const = 0;
  // Script runs statements without parameters (migrations).
  virtual Status Script(const std::string& sql) = 0;
  // Query runs one statement (prepared once per session and reused).
  virtual Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  // Begin / Commit / Rollback bracket a transaction; `exclusive` takes the
  // write lock at once (SQLite BEGIN IMMEDIATE; PostgreSQL: an advisory lock).
  virtual Status Begin(bool exclusive = false) = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
};

// OpenSqlite opens (creating) the database at `path` in WAL mode with
// synchronous=FULL: a committed transaction survives a crash or power cut.
Result<std::unique_ptr<SqlSession>> OpenSqlite(const std::string& path);
// OpenPostgres connects with a libpq URI ("postgresql://user@host:port/db").
Result<std::unique_ptr<SqlSession>> OpenPostgres(const std::string& uri);

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_STORE_SQL_SESSION_H_
