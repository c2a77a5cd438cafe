// SqlSession over the SQLite C API.
#include <sqlite3.h>

#include <map>

#include "store/sql_session.h"

namespace pinion::collector {
namespace {

struct DatabaseDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};

class SqliteSession final : public SqlSession {
 public:
  explicit SqliteSession(std::unique_ptr<sqlite3, DatabaseDeleter> db) : db_(std::move(db)) {}
  ~SqliteSession() override {
    statements_.clear();  // before the database handle
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  Status Script(const std::string& sql) override {
    char* message = nullptr;
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "unknown error";
      sqlite3_free(message);
      return Error(ErrorCode::kDatabase, "sqlite: " + text);
    }
    return OkStatus();
  }

  Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* statement = nullptr;
    if (auto it = statements_.find(sql); it != statements_.end()) {
      statement = it->second.get();
    } else {
      if (sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                             &statement, nullptr) != SQLITE_OK) {
        return Failure("prepare");
      }
      statements_[sql].reset(statement);
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    for (std::size_t i = 0; i < params.size(); ++i) {
      int index = static_cast<int>(i) + 1;
      // SQLITE_STATIC: `params` outlives the statement's use of them (reset below).
      int rc = SQLITE_OK;
      if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(statement, index, *number);
      } else if (const auto* text = std::get_if<std::string>(&params[i])) {
        rc = sqlite3_bind_text(statement, index, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
      } else {
        const std::string& bytes = std::get<SqlBlob>(params[i]).bytes;
        rc = sqlite3_bind_blob(statement, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) return Failure("bind");
    }
    std::vector<SqlRow> rows;
    while (true) {
      int rc = sqlite3_step(statement);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Error error = Failure("step");
        sqlite3_reset(statement);
        sqlite3_clear_bindings(statement);  // drop the SQLITE_STATIC pointers into `params`
        return error;
      }
      SqlRow row;
      int columns = sqlite3_column_count(statement);
      for (int c = 0; c < columns; ++c) {
        const void* data = sqlite3_column_type(statement, c) == SQLITE_BLOB ? sqlite3_column_blob(statement, c)
                                                                            : sqlite3_column_text(statement, c);
        row.emplace_back(data != nullptr ? static_cast<const char*>(data) : "",
                         static_cast<std::size_t>(sqlite3_column_bytes(statement, c)));
      }
      rows.push_back(std::move(row));
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return rows;
  }

  Status Begin(bool exclusive) override { return Script(exclusive ? "BEGIN IMMEDIATE" : "BEGIN"); }
  Status Commit() override { return Script("COMMIT"); }
  void Rollback() override { (void)Script("ROLLBACK"); }

 private:
  Error Failure(const char* what) const {
    return Error(ErrorCode::kDatabase, std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_.get()));
  }

  std::unique_ptr<sqlite3, DatabaseDeleter> db_;
  std::map<std::string, std::unique_ptr<sqlite3_stmt, StatementDeleter>> statements_;
};

}  // namespace

Result<std::unique_ptr<SqlSession>> OpenSqlite(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<sqlite3, DatabaseDeleter> db(raw);
  if (rc != SQLITE_OK) {
    return Error(ErrorCode::kDatabase, std::string("cannot open the SQLite database: ") +
                                           (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory"))
        .WithSource(path);
  }
  sqlite3_busy_timeout(db.get(), 10000);
  auto session = std::make_unique<SqliteSession>(std::move(db));
  // WAL lets the dashboard read while reports are written; synchronous=FULL
  // syncs the WAL at every commit, which is what makes a 202 durable.
  PINION_TRY(session->Script("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  auto mode = session->Query("PRAGMA journal_mode", {});
  if (!mode || mode->empty() || (*mode)[0][0] != "wal") {
    return Error(ErrorCode::kDatabase, "the database does not accept WAL mode").WithSource(path);
  }
  return std::unique_ptr<SqlSession>(std::move(session));
}

}  // namespace pinion::collector
