#include "store/report_store.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "store/body_codec.h"
#include "store/migrations.h"

namespace pinion::collector {
namespace {

std::int64_t Seconds(TimePoint time) { return time.time_since_epoch().count(); }
TimePoint FromSeconds(const std::string& text) { return TimePoint(std::chrono::seconds(std::stoll(text))); }

std::string JoinPins(const std::vector<Pin>& pins) {
  std::string out;
  for (const Pin& pin : pins) {
    if (!out.empty()) out += ' ';
    out += pin.ToString();
  }
  return out;
}

std::vector<std::string> SplitPins(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string pin; in >> pin;) out.push_back(pin);
  return out;
}

constexpr char kInsertReport[] =
    "INSERT INTO reports (received_at, date_time, hostname, port, noted_hostname, format, mode, reason, "
    "policy_version, app_id, app_version, app_platform, dropped_reports, client, known_pins, chain_pins, body, "
    "body_zstd) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, '', $17) RETURNING id";
constexpr char kCountPin[] =
    "INSERT INTO unexpected_pin_counts (minute, pin, reports) VALUES ($1, $2, $3) "
    "ON CONFLICT (minute, pin) DO UPDATE SET reports = unexpected_pin_counts.reports + excluded.reports";
// The counted size of a stored row; migration 5 counts existing rows with the
// same expression (LENGTH(body): rows stored before bodies were compressed).
constexpr char kStoredBytes[] = "LENGTH(body) + COALESCE(LENGTH(body_zstd), 0) + 512";
static_assert(kReportRowOverheadBytes == 512);
constexpr char kAddUsage[] = "UPDATE storage_usage SET reports = reports + $1, bytes = bytes + $2 WHERE id = 1";
constexpr char kColumns[] =
    "SELECT id, received_at, date_time, hostname, port, noted_hostname, format, mode, reason, policy_version, "
    "app_id, app_version, app_platform, dropped_reports, client, known_pins, chain_pins FROM reports";

StoredReport RowToReport(const SqlRow& row) {
  StoredReport out;
  out.id = std::stoll(row[0]);
  out.received_at = FromSeconds(row[1]);
  out.date_time = FromSeconds(row[2]);
  out.hostname = row[3];
  out.port = static_cast<std::uint16_t>(std::stoul(row[4]));
  out.noted_hostname = row[5];
  out.format = row[6];
  out.mode = row[7];
  out.reason = row[8];
  out.policy_version = std::stoull(row[9]);
  out.app = {row[10], row[11], row[12]};
  out.dropped_reports = std::stoull(row[13]);
  out.client = row[14];
  out.known_pins = SplitPins(row[15]);
  out.chain_pins = SplitPins(row[16]);
  return out;
}

}  // namespace

Result<std::unique_ptr<ReportStore>> ReportStore::Open(const std::string& database, ReportStoreOptions options) {
  if (database.starts_with("postgresql://") || database.starts_with("postgres://")) {
    return Open([database] { return OpenPostgres(database); }, options);
  }
  std::string path = database.starts_with("sqlite:") ? database.substr(7) : database;
  if (path.empty()) return Error(ErrorCode::kInvalidArgument, "--db needs a path or a postgresql:// URI");
  return Open([path] { return OpenSqlite(path); }, options);
}

Result<std::unique_ptr<ReportStore>> ReportStore::Open(SessionFactory factory, ReportStoreOptions options) {
  if (options.max_bytes < 0) return Error(ErrorCode::kInvalidArgument, "max_bytes must not be negative");
  std::unique_ptr<ReportStore> store(new ReportStore(std::move(factory), options));
  PINION_ASSIGN_OR_RETURN(store->writer_.session, store->factory_());
  store->dialect_ = store->writer_.session->dialect();
  PINION_ASSIGN_OR_RETURN(store->schema_version_, Migrate(*store->writer_.session));
  PINION_ASSIGN_OR_RETURN(store->reader_.session, store->factory_());
  return store;
}

template <typename T, typename F>
Result<T> ReportStore::WithSession(Connection& connection, F&& body) {
  std::lock_guard<std::mutex> lock(connection.mutex);
  if (!connection.session) {
    PINION_ASSIGN_OR_RETURN(connection.session, factory_());
  }
  Result<T> result = body(*connection.session);
  if (!result.ok() && result.error().code() == ErrorCode::kDatabase) {
    // The connection may be gone (database restarted): reconnect next time.
    // The statement itself never half-applies: it ran in a transaction.
    if (!connection.session->Query("SELECT 1").ok()) connection.session.reset();
  }
  return result;
}

PreparedReport ReportStore::Prepare(const IncomingReport& item) {
  const FailureReport& report = item.report;
  PreparedReport prepared;
  prepared.row = {Seconds(item.received_at), Seconds(report.date_time), report.hostname, std::int64_t{report.port},
                  report.noted_hostname, std::string(ReportFormatName(report.format)), report.mode, report.reason,
                  static_cast<std::int64_t>(report.policy_version), report.app.id, report.app.version,
                  report.app.platform, static_cast<std::int64_t>(report.dropped_reports), item.client,
                  JoinPins(report.known_pins), JoinPins(report.validated_chain_pins),
                  SqlBlob{CompressBody(item.body.empty() ? ReportToJson(report) : item.body)}};
  prepared.stored_bytes =
      static_cast<std::int64_t>(std::get<SqlBlob>(prepared.row.back()).bytes.size()) + kReportRowOverheadBytes;
  for (const Pin& pin : report.validated_chain_pins) {
    bool expected = std::find(report.known_pins.begin(), report.known_pins.end(), pin) != report.known_pins.end();
    if (!expected) prepared.unexpected_pins.emplace_back(Seconds(item.received_at) / 60 * 60, pin.ToString());
  }
  return prepared;
}

Result<std::vector<std::int64_t>> ReportStore::Insert(const std::vector<IncomingReport>& batch) {
  std::vector<PreparedReport> prepared;
  prepared.reserve(batch.size());
  for (const IncomingReport& item : batch) prepared.push_back(Prepare(item));
  PINION_ASSIGN_OR_RETURN(auto stored, InsertRows(prepared, /*whole_batch=*/true));
  std::vector<std::int64_t> ids;
  ids.reserve(stored.size());
  for (const auto& id : stored) ids.push_back(*id);  // whole_batch: all stored, or an error
  return ids;
}

Result<std::vector<std::optional<std::int64_t>>> ReportStore::InsertPrepared(const std::vector<PreparedReport>& batch) {
  return InsertRows(batch, /*whole_batch=*/false);
}

Result<std::vector<std::optional<std::int64_t>>> ReportStore::InsertRows(const std::vector<PreparedReport>& batch,
                                                                         bool whole_batch) {
  using Ids = std::vector<std::optional<std::int64_t>>;
  return WithSession<Ids>(writer_, [&](SqlSession& session) -> Result<Ids> {
    PINION_TRY(session.Begin());
    auto ids = [&]() -> Result<Ids> {
      // With a quota, read the usage first and hold it (PostgreSQL: the row
      // lock; SQLite: the one writer) until commit, so collectors sharing a
      // database cannot each fill the last free bytes.
      std::int64_t used = 0;
      if (options_.max_bytes > 0) {
        PINION_ASSIGN_OR_RETURN(auto rows, session.Query(dialect_ == SqlDialect::kPostgres
                                                             ? "SELECT bytes FROM storage_usage WHERE id = 1 FOR UPDATE"
                                                             : "SELECT bytes FROM storage_usage WHERE id = 1"));
        if (rows.empty()) return Error(ErrorCode::kDatabase, "the storage_usage row is missing");
        used = std::stoll(rows[0].at(0));
      }
      Ids out;
      out.reserve(batch.size());
      std::int64_t added_reports = 0;
      std::int64_t added_bytes = 0;
      std::map<std::pair<std::int64_t, std::string>, std::int64_t> unexpected;  // (minute, pin) → reports
      for (const PreparedReport& item : batch) {
        if (options_.max_bytes > 0 && used + added_bytes + item.stored_bytes > options_.max_bytes) {
          if (whole_batch) {
            return Error(ErrorCode::kInputTooLarge, "storing this batch would pass the storage quota of " +
                                                        std::to_string(options_.max_bytes) + " bytes");
          }
          out.emplace_back();
          continue;
        }
        PINION_ASSIGN_OR_RETURN(auto rows, session.Query(kInsertReport, item.row));
        out.emplace_back(std::stoll(rows.at(0).at(0)));
        ++added_reports;
        added_bytes += item.stored_bytes;
        for (const auto& key : item.unexpected_pins) ++unexpected[key];
      }
      // In key order: concurrent collectors on one PostgreSQL database then
      // lock these rows in the same order and cannot deadlock.
      for (const auto& [key, count] : unexpected) {
        PINION_TRY(session.Query(kCountPin, {key.first, key.second, count}));
      }
      // Last: without a quota the usage row is locked only from here to the commit.
      if (added_reports > 0) PINION_TRY(session.Query(kAddUsage, {added_reports, added_bytes}));
      return out;
    }();
    if (!ids.ok()) {
      session.Rollback();
      return ids;
    }
    PINION_TRY(session.Commit());
    return ids;
  });
}

Result<PruneResult> ReportStore::Prune(TimePoint cutoff, std::size_t batch, const std::atomic<bool>* cancel) {
  const std::string delete_reports =
      std::string("DELETE FROM reports WHERE id IN (SELECT id FROM reports WHERE received_at < $1 LIMIT $2) "
                  "RETURNING ") + kStoredBytes;
  const std::int64_t limit = static_cast<std::int64_t>(std::max<std::size_t>(1, batch));
  PruneResult total;
  // One short transaction per batch: the writer lock (and on SQLite the
  // database) is released between them, so reports keep being taken.
  while (cancel == nullptr || !cancel->load()) {
    auto step = WithSession<PruneResult>(writer_, [&](SqlSession& session) -> Result<PruneResult> {
      PINION_TRY(session.Begin());
      auto deleted = [&]() -> Result<PruneResult> {
        PINION_ASSIGN_OR_RETURN(auto rows, session.Query(delete_reports, {Seconds(cutoff), limit}));
        PruneResult out;
        for (const SqlRow& row : rows) {
          ++out.reports;
          out.bytes += std::stoll(row.at(0));
        }
        if (out.reports > 0) PINION_TRY(session.Query(kAddUsage, {-out.reports, -out.bytes}));
        return out;
      }();
      if (!deleted.ok()) {
        session.Rollback();
        return deleted;
      }
      PINION_TRY(session.Commit());
      return deleted;
    });
    PINION_TRY(step);
    total.reports += step->reports;
    total.bytes += step->bytes;
    ++total.transactions;
    if (step->reports < limit) break;
  }
  if (cancel != nullptr && cancel->load()) return total;
  // Counts per minute: those of minutes that ended by the cutoff go too (a
  // few rows per minute: one statement is short).
  auto pins = WithSession<bool>(writer_, [&](SqlSession& session) -> Result<bool> {
    PINION_TRY(session.Query("DELETE FROM unexpected_pin_counts WHERE minute < $1", {Seconds(cutoff) / 60 * 60}));
    return true;
  });
  PINION_TRY(pins);
  return total;
}

Result<StorageUsage> ReportStore::Usage() {
  return WithSession<StorageUsage>(reader_, [&](SqlSession& session) -> Result<StorageUsage> {
    PINION_ASSIGN_OR_RETURN(auto rows, session.Query("SELECT reports, bytes FROM storage_usage WHERE id = 1"));
    if (rows.empty()) return Error(ErrorCode::kDatabase, "the storage_usage row is missing");
    return StorageUsage{std::stoll(rows[0].at(0)), std::stoll(rows[0].at(1))};
  });
}

Status ReportStore::CheckInvariants() {
  auto counted = WithSession<StorageUsage>(reader_, [&](SqlSession& session) -> Result<StorageUsage> {
    PINION_ASSIGN_OR_RETURN(
        auto rows, session.Query(std::string("SELECT COUNT(*), COALESCE(SUM(") + kStoredBytes + "), 0) FROM reports"));
    return StorageUsage{std::stoll(rows.at(0).at(0)), std::stoll(rows.at(0).at(1))};
  });
  PINION_TRY(counted);
  PINION_ASSIGN_OR_RETURN(StorageUsage recorded, Usage());
  if (recorded.reports != counted->reports || recorded.bytes != counted->bytes) {
    return Error(ErrorCode::kDatabase, "storage_usage records " + std::to_string(recorded.reports) + " reports / " +
                                           std::to_string(recorded.bytes) + " bytes; the table holds " +
                                           std::to_string(counted->reports) + " / " + std::to_string(counted->bytes));
  }
  if (options_.max_bytes > 0 && recorded.bytes > options_.max_bytes) {
    return Error(ErrorCode::kDatabase, "the stored reports count more than max_bytes");
  }
  return OkStatus();
}

Result<ReportPage> ReportStore::List(const ReportQuery& query) {
  std::string sql = kColumns;
  std::vector<SqlValue> params;
  auto where = [&](const std::string& condition, SqlValue value) {
    params.push_back(std::move(value));
    sql += (params.size() == 1 ? " WHERE " : " AND ") + condition + " $" + std::to_string(params.size());
  };
  if (query.host) where("hostname =", *query.host);
  if (query.reason) where("reason =", *query.reason);
  if (query.since) where("received_at >=", Seconds(*query.since));
  if (query.until) where("received_at <", Seconds(*query.until));
  if (query.before_id) where("id <", *query.before_id);
  std::size_t limit = std::clamp<std::size_t>(query.limit, 1, 1000);
  params.push_back(static_cast<std::int64_t>(limit + 1));  // one more tells whether a next page exists
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());
  return WithSession<ReportPage>(reader_, [&](SqlSession& session) -> Result<ReportPage> {
    PINION_ASSIGN_OR_RETURN(auto rows, session.Query(sql, params));
    ReportPage page;
    for (std::size_t i = 0; i < rows.size() && i < limit; ++i) page.reports.push_back(RowToReport(rows[i]));
    if (rows.size() > limit) page.next_cursor = page.reports.back().id;
    return page;
  });
}

Result<std::optional<std::string>> ReportStore::Body(std::int64_t id) {
  return WithSession<std::optional<std::string>>(reader_, [&](SqlSession& session) -> Result<std::optional<std::string>> {
    PINION_ASSIGN_OR_RETURN(auto rows, session.Query("SELECT body, body_zstd FROM reports WHERE id = $1", {id}));
    if (rows.empty()) return std::optional<std::string>();
    if (rows[0][1].empty()) return std::optional<std::string>(rows[0][0]);  // stored before migration 4
    PINION_ASSIGN_OR_RETURN(std::string body, DecompressBody(rows[0][1], kMaxReportBytes));
    return std::optional<std::string>(std::move(body));
  });
}

Result<ReportSummary> ReportStore::Summarize(const SummaryQuery& query) {
  std::int64_t bucket = std::max<std::int64_t>(60, query.bucket.count());
  std::vector<SqlValue> range = {Seconds(query.since), Seconds(query.until)};
  return WithSession<ReportSummary>(reader_, [&](SqlSession& session) -> Result<ReportSummary> {
    ReportSummary summary;
    PINION_ASSIGN_OR_RETURN(
        auto buckets,
        session.Query("SELECT (received_at / $1) * $1, hostname, reason, COUNT(*) FROM reports "
                      "WHERE received_at >= $2 AND received_at < $3 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                      {bucket, range[0], range[1]}));
    for (const SqlRow& row : buckets) {
      summary.buckets.push_back({FromSeconds(row[0]), row[1], row[2], std::stoll(row[3])});
    }
    PINION_ASSIGN_OR_RETURN(
        auto totals, session.Query("SELECT hostname, reason, COUNT(*) FROM reports WHERE received_at >= $1 AND "
                                   "received_at < $2 GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
                                   range));
    for (const SqlRow& row : totals) {
      summary.totals.push_back({row[0], row[1], std::stoll(row[2])});
      summary.total += std::stoll(row[2]);
    }
    PINION_ASSIGN_OR_RETURN(
        auto pins, session.Query("SELECT pin, SUM(reports) FROM unexpected_pin_counts WHERE minute >= $1 AND minute < $2 "
                                 "GROUP BY pin ORDER BY 2 DESC, 1 LIMIT $3",
                                 {Seconds(query.since) / 60 * 60, range[1], static_cast<std::int64_t>(query.top_pins)}));
    for (const SqlRow& row : pins) summary.top_unexpected_pins.push_back({row[0], std::stoll(row[1])});
    return summary;
  });
}

Result<std::int64_t> ReportStore::Count() {
  return WithSession<std::int64_t>(reader_, [&](SqlSession& session) -> Result<std::int64_t> {
    PINION_ASSIGN_OR_RETURN(auto rows, session.Query("SELECT COUNT(*) FROM reports"));
    return std::stoll(rows.at(0).at(0));
  });
}

Status ReportStore::Ping() {
  auto result = WithSession<bool>(reader_, [&](SqlSession& session) -> Result<bool> {
    PINION_TRY(session.Query("SELECT 1"));
    return true;
  });
  if (!result) return result.error();
  return OkStatus();
}

}  // namespace pinion::collector
