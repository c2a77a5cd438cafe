// SqlSession over libpqxx.
#include <pqxx/pqxx>

#include <map>

#include "pinion/hex.h"
#include "store/sql_session.h"

namespace pinion::collector {
namespace {

// Serializes migrations of collectors starting together on one database.
constexpr char kMigrationLock[] = "SELECT pg_advisory_xact_lock(7469)";
constexpr pqxx::oid kByteaOid = 17;  // pg_type.oid of bytea

// BYTEA's text input form ("\x" and hex digits), for a text-mode parameter.
std::string ByteaHex(const std::string& bytes) { return "\\x" + HexEncode(bytes); }

class PostgresSession final : public SqlSession {
 public:
  explicit PostgresSession(std::unique_ptr<pqxx::connection> connection) : connection_(std::move(connection)) {}

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

  Status Script(const std::string& sql) override {
    return Guard([&] {
      if (transaction_) {
        transaction_->exec(sql);
      } else {
        pqxx::nontransaction work(*connection_);
        work.exec(sql);
      }
    });
  }

  Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<SqlValue>& params) override {
    std::vector<std::string> text;
    text.reserve(params.size());
    for (const SqlValue& value : params) {
      if (const auto* number = std::get_if<std::int64_t>(&value)) {
        text.push_back(std::to_string(*number));
      } else if (const auto* string = std::get_if<std::string>(&value)) {
        text.push_back(*string);
      } else {
        text.push_back(ByteaHex(std::get<SqlBlob>(value).bytes));
      }
    }
    std::vector<SqlRow> rows;
    Status status = Guard([&] {
      auto [it, inserted] = prepared_.try_emplace(sql, "s" + std::to_string(prepared_.size() + 1));
      if (inserted) connection_->prepare(it->second, sql);
      pqxx::result result;
      if (transaction_) {
        result = transaction_->exec_prepared(it->second, pqxx::prepare::make_dynamic_params(text));
      } else {
        pqxx::nontransaction work(*connection_);
        result = work.exec_prepared(it->second, pqxx::prepare::make_dynamic_params(text));
      }
      for (const auto& row : result) {
        SqlRow out;
        for (const auto& field : row) {
          if (field.is_null()) {
            out.emplace_back();
          } else if (field.type() == kByteaOid) {
            out.push_back(pqxx::binarystring(field).str());
          } else {
            out.emplace_back(field.c_str());
          }
        }
        rows.push_back(std::move(out));
      }
    });
    if (!status.ok()) return status.error();
    return rows;
  }

  Status Begin(bool exclusive) override {
    return Guard([&] {
      transaction_ = std::make_unique<pqxx::work>(*connection_);
      if (exclusive) transaction_->exec(kMigrationLock);
    });
  }
  Status Commit() override {
    Status status = Guard([&] {
      if (transaction_) transaction_->commit();
    });
    transaction_.reset();
    return status;
  }
  void Rollback() override { transaction_.reset(); }  // pqxx aborts on destruction

 private:
  template <typename F>
  Status Guard(F&& body) {
    try {
      body();
      return OkStatus();
    } catch (const std::exception& e) {
      // The transaction is unusable after an error: drop it, so the caller's
      // next Begin starts clean (the store reopens a broken connection).
      transaction_.reset();
      return Error(ErrorCode::kDatabase, std::string("postgresql: ") + e.what());
    }
  }

  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<pqxx::work> transaction_;
  std::map<std::string, std::string> prepared_;  // SQL → statement name
};

}  // namespace

Result<std::unique_ptr<SqlSession>> OpenPostgres(const std::string& uri) {
  try {
    auto connection = std::make_unique<pqxx::connection>(uri);
    return std::unique_ptr<SqlSession>(std::make_unique<PostgresSession>(std::move(connection)));
  } catch (const std::exception& e) {
    return Error(ErrorCode::kDatabase, std::string("cannot connect to PostgreSQL: ") + e.what());
  }
}

}  // namespace pinion::collector
