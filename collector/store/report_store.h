// collector/store/report_store.h — where the collector keeps failure reports:
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
//
// Size: every insert and prune also updates one `storage_usage` row in the
// same transaction, so the counted size of what is stored (StoredBytes) is
// known without scanning, on every collector sharing the database. With
// `max_bytes` set, a report that would take it past the quota is refused,
// never stored; Prune deletes reports by age, in batches.
#ifndef PINION_COLLECTOR_STORE_REPORT_STORE_H_
#define PINION_COLLECTOR_STORE_REPORT_STORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pinion/clock.h"
#include "pinion/report/report.h"
#include "pinion/result.h"
#include "store/sql_session.h"

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
  std::int64_t stored_bytes = 0;  // what it counts against the quota (kReportRowOverheadBytes included)
};

// kReportRowOverheadBytes is what each report counts against the quota on
// top of its stored (compressed) body: its other columns and index entries.
// The same figure is written into migration 5 and the prune statement.
inline constexpr std::int64_t kReportRowOverheadBytes = 512;

struct ReportStoreOptions {
  // max_bytes bounds the counted size of the stored reports (bodies as
  // stored plus kReportRowOverheadBytes each); 0: unbounded.
  std::int64_t max_bytes = 0;
};

// StorageUsage is what the storage_usage row counts.
struct StorageUsage {
  std::int64_t reports = 0;
  std::int64_t bytes = 0;
};

// PruneResult is what one Prune deleted.
struct PruneResult {
  std::int64_t reports = 0;
  std::int64_t bytes = 0;
  std::int64_t transactions = 0;
};

class ReportStore {
 public:
  using SessionFactory = std::function<Result<std::unique_ptr<SqlSession>>()>;

  // Open takes "postgresql://…" / "postgres://…" (libpq URI), "sqlite:PATH"
  // or a plain PATH (SQLite), connects and applies pending migrations.
  static Result<std::unique_ptr<ReportStore>> Open(const std::string& database, ReportStoreOptions options = {});
  static Result<std::unique_ptr<ReportStore>> Open(SessionFactory factory, ReportStoreOptions options = {});

  // Insert stores a batch atomically; ids in input order. A batch that does
  // not fit under max_bytes is refused whole: kInputTooLarge, nothing stored.
  Result<std::vector<std::int64_t>> Insert(const std::vector<IncomingReport>& batch);
  static PreparedReport Prepare(const IncomingReport& report);
  // InsertPrepared stores a batch in one transaction; per report, in input
  // order, its id, or nullopt when storing it would have taken the counted
  // size past max_bytes (that report is not stored; the others are).
  Result<std::vector<std::optional<std::int64_t>>> InsertPrepared(const std::vector<PreparedReport>& batch);
  // Prune deletes the reports received before `cutoff`, at most `batch` per
  // transaction (ingestion goes on between them), and the unexpected-pin
  // counts of minutes wholly before it. Stops early, between transactions,
  // once `*cancel` is true. Deleted reports are gone; nothing else changes.
  Result<PruneResult> Prune(TimePoint cutoff, std::size_t batch = 1000, const std::atomic<bool>* cancel = nullptr);
  // Usage reads the storage_usage row.
  Result<StorageUsage> Usage();
  // CheckInvariants recounts the stored reports and their bytes (a full
  // scan: tests and repair tools only) and compares with storage_usage.
  Status CheckInvariants();
  Result<ReportPage> List(const ReportQuery& query);
  // Body is the stored body of report `id`, as the client sent it (nullopt: no such report).
  Result<std::optional<std::string>> Body(std::int64_t id);
  Result<ReportSummary> Summarize(const SummaryQuery& query);
  Result<std::int64_t> Count();
  Status Ping();

  int schema_version() const { return schema_version_; }
  SqlDialect dialect() const { return dialect_; }
  std::int64_t max_bytes() const { return options_.max_bytes; }

 private:
  struct Connection {
    std::mutex mutex;
    std::unique_ptr<SqlSession> session;  // null after a failure: reopened on next use
  };
  ReportStore(SessionFactory factory, ReportStoreOptions options)
      : factory_(std::move(factory)), options_(options) {}
  // WithSession runs `body` on `connection`, reopening it first if needed.
  template <typename T, typename F>
  Result<T> WithSession(Connection& connection, F&& body);

  Result<std::vector<std::optional<std::int64_t>>> InsertRows(const std::vector<PreparedReport>& batch,
                                                              bool whole_batch);

  SessionFactory factory_;
  ReportStoreOptions options_;
  SqlDialect dialect_ = SqlDialect::kSqlite;
  int schema_version_ = 0;
  Connection writer_;
  Connection reader_;
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_STORE_REPORT_STORE_H_
