// collector/report_store.h — where the collector keeps failure reports:
// SQLite (WAL, the default) or PostgreSQL, behind one interface and one schema.
//
//   auto store = ReportStore::Open("sqlite:/var/lib/pinion/reports.db");
//   (*store)->Insert({{.report = *parsed, .client = "203.0.113.7", .received_at = now}});
//   auto page = (*store)->List({.host = "api.example.com", .limit = 50});
//
// Insert writes a batch in one transaction and returns only once it is
// committed (durable: SQLite synchronous=FULL, PostgreSQL's default commit),
// which is what lets the HTTP layer answer 202. Writes and reads use separate
// connections, so the dashboard never waits for ingestion. Thread-safe.
#ifndef PINION_COLLECTOR_REPORT_STORE_H_
#define PINION_COLLECTOR_REPORT_STORE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pinion/clock.h"
#include "pinion/report.h"
#include "pinion/result.h"
#include "sql_session.h"

namespace pinion::collector {

struct IncomingReport {
  FailureReport report;
  std::string client;  // remote address
  TimePoint received_at;
  std::string body;    // as received (kept for forensics); empty: written from `report`
};

// StoredReport is one row, without the body (see Body).
struct StoredReport {
  std::int64_t id = 0;
  TimePoint received_at;
  TimePoint date_time;
  std::string hostname;
  std::uint16_t port = 0;
  std::string noted_hostname;
  std::string format;
  std::string mode;
  std::string reason;
  std::uint64_t policy_version = 0;
  AppInfo app;
  std::uint64_t dropped_reports = 0;
  std::string client;
  std::vector<std::string> known_pins;  // canonical text
  std::vector<std::string> chain_pins;  // validated chain, leaf first
};

struct ReportQuery {
  std::optional<std::string> host;
  std::optional<std::string> reason;
  std::optional<TimePoint> since;  // received_at >= since
  std::optional<TimePoint> until;  // received_at < until
  std::optional<std::int64_t> before_id;  // paging cursor
  std::size_t limit = 50;
};

struct ReportPage {
  std::vector<StoredReport> reports;  // newest first
  std::optional<std::int64_t> next_cursor;
};

struct SummaryQuery {
  TimePoint since;
  TimePoint until;
  std::chrono::seconds bucket{3600};
  std::size_t top_pins = 10;
};

struct ReportSummary {
  struct Bucket {
    TimePoint start;
    std::string hostname;
    std::string reason;
    std::int64_t count = 0;
  };
  struct HostTotal {
    std::string hostname;
    std::string reason;
    std::int64_t count = 0;
  };
  struct PinCount {
    std::string pin;
    std::int64_t count = 0;
  };
  std::vector<Bucket> buckets;      // by start, then host, reason
  std::vector<HostTotal> totals;    // largest first
  // Validated-chain pins no rule expected, most reported first. Counted per
  // minute of arrival: the minutes from the one holding `since` to `until`.
  std::vector<PinCount> top_unexpected_pins;
  std::int64_t total = 0;
};

// PreparedReport is a report turned into its row (body compressed) and its
// unexpected pins, ready for InsertPrepared: work done before the report
// queues for the single writer.
struct PreparedReport {
  std::vector<SqlValue> row;
  std::vector<std::pair<std::int64_t, std::string>> unexpected_pins;  // (minute, pin)
};

class ReportStore {
 public:
  using SessionFactory = std::function<Result<std::unique_ptr<SqlSession>>()>;

  // Open takes "postgresql://…" / "postgres://…" (libpq URI), "sqlite:PATH"
  // or a plain PATH (SQLite), connects and applies pending migrations.
  static Result<std::unique_ptr<ReportStore>> Open(const std::string& database);
  static Result<std::unique_ptr<ReportStore>> Open(SessionFactory factory);

  // Insert stores a batch atomically; ids in input order.
  Result<std::vector<std::int64_t>> Insert(const std::vector<IncomingReport>& batch);
  static PreparedReport Prepare(const IncomingReport& report);
  Result<std::vector<std::int64_t>> InsertPrepared(const std::vector<PreparedReport>& batch);
  Result<ReportPage> List(const ReportQuery& query);
  // Body is the stored body of report `id`, as the client sent it (nullopt: no such report).
  Result<std::optional<std::string>> Body(std::int64_t id);
  Result<ReportSummary> Summarize(const SummaryQuery& query);
  Result<std::int64_t> Count();
  Status Ping();

  int schema_version() const { return schema_version_; }
  SqlDialect dialect() const { return dialect_; }

 private:
  struct Connection {
    std::mutex mutex;
    std::unique_ptr<SqlSession> session;  // null after a failure: reopened on next use
  };
  explicit ReportStore(SessionFactory factory) : factory_(std::move(factory)) {}
  // WithSession runs `body` on `connection`, reopening it first if needed.
  template <typename T, typename F>
  Result<T> WithSession(Connection& connection, F&& body);

  SessionFactory factory_;
  SqlDialect dialect_ = SqlDialect::kSqlite;
  int schema_version_ = 0;
  Connection writer_;
  Connection reader_;
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_REPORT_STORE_H_
