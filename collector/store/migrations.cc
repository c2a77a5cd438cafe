#include "store/migrations.h"

#include <ctime>

namespace pinion::collector {
namespace {

constexpr Migration kMigrations[] = {
    {1, "reports",
     "CREATE TABLE reports (\n"
     "  id {{id}},\n"
     "  received_at BIGINT NOT NULL,\n"
     "  date_time BIGINT NOT NULL,\n"
     "  hostname TEXT NOT NULL,\n"
     "  port INTEGER NOT NULL,\n"
     "  noted_hostname TEXT NOT NULL,\n"
     "  format TEXT NOT NULL,\n"
     "  mode TEXT NOT NULL,\n"
     "  reason TEXT NOT NULL,\n"
     "  policy_version BIGINT NOT NULL,\n"
     "  app_id TEXT NOT NULL,\n"
     "  app_version TEXT NOT NULL,\n"
     "  app_platform TEXT NOT NULL,\n"
     "  dropped_reports BIGINT NOT NULL,\n"
     "  client TEXT NOT NULL,\n"
     "  known_pins TEXT NOT NULL,\n"
     "  chain_pins TEXT NOT NULL,\n"
     "  body TEXT NOT NULL\n"
     ");\n"
     "CREATE INDEX reports_by_time ON reports (received_at);\n"
     "CREATE INDEX reports_by_host ON reports (hostname, received_at);\n"},
    {2, "unexpected pins",
     "CREATE TABLE report_pins (\n"
     "  report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,\n"
     "  position INTEGER NOT NULL,\n"
     "  pin TEXT NOT NULL,\n"
     "  PRIMARY KEY (report_id, position)\n"
     ");\n"
     "CREATE INDEX report_pins_by_pin ON report_pins (pin);\n"},
    // Three B-tree rows per unexpected pin per report cost more than the rest
    // of an insert together; counting per minute touches one row per distinct
    // pin per batch, and top_unexpected_pins reads a small table.
    {3, "unexpected pins counted per minute",
     "CREATE TABLE unexpected_pin_counts (\n"
     "  minute BIGINT NOT NULL,\n"
     "  pin TEXT NOT NULL,\n"
     "  reports BIGINT NOT NULL,\n"
     "  PRIMARY KEY (minute, pin)\n"
     ");\n"
     "INSERT INTO unexpected_pin_counts (minute, pin, reports)\n"
     "  SELECT (r.received_at / 60) * 60, p.pin, COUNT(*) FROM report_pins p JOIN reports r ON r.id = p.report_id\n"
     "  GROUP BY 1, 2;\n"
     "DROP TABLE report_pins;\n"},
    // Bodies from now on are zstd frames (body_codec.h) and `body` is left
    // empty; bodies stored before keep their text in `body`.
    {4, "compressed report bodies", "ALTER TABLE reports ADD COLUMN body_zstd {{blob}};\n"},
    // One row counting what is stored, updated in the transaction of every
    // insert and prune: the quota (--max-db-bytes) is checked without a scan
    // and holds across collectors sharing a database. Existing rows are
    // counted once, here, with ReportStore's expression (kStoredBytes).
    {5, "storage usage",
     "CREATE TABLE storage_usage (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  reports BIGINT NOT NULL,\n"
     "  bytes BIGINT NOT NULL\n"
     ");\n"
     "INSERT INTO storage_usage (id, reports, bytes)\n"
     "  SELECT 1, COUNT(*), COALESCE(SUM(LENGTH(body) + COALESCE(LENGTH(body_zstd), 0) + 512), 0) FROM reports;\n"},
};

constexpr char kCreateLedger[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
    "  version INTEGER PRIMARY KEY,\n"
    "  description TEXT NOT NULL,\n"
    "  applied_at BIGINT NOT NULL\n"
    ")";

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }
int LatestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

std::string MigrationSql(const Migration& migration, SqlDialect dialect) {
  std::string sql = migration.sql;
  std::string id = dialect == SqlDialect::kSqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
  std::string blob = dialect == SqlDialect::kSqlite ? "BLOB" : "BYTEA";
  for (std::size_t at = sql.find("{{id}}"); at != std::string::npos; at = sql.find("{{id}}")) sql.replace(at, 6, id);
  for (std::size_t at = sql.find("{{blob}}"); at != std::string::npos; at = sql.find("{{blob}}")) sql.replace(at, 8, blob);
  return sql;
}

Result<int> Migrate(SqlSession& session) {
  int version = 0;
  for (const Migration& migration : Migrations()) {
    PINION_TRY(session.Begin(/*exclusive=*/true));
    auto applied = [&]() -> Result<bool> {
      PINION_TRY(session.Script(kCreateLedger));
      PINION_ASSIGN_OR_RETURN(auto rows, session.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
      int current = std::stoi(rows.at(0).at(0));
      if (current > LatestSchemaVersion()) {
        return Error(ErrorCode::kDatabase, "the database has schema version " + std::to_string(current) +
                                               ", newer than this collector's " +
                                               std::to_string(LatestSchemaVersion()) + ": upgrade pinion");
      }
      if (current >= migration.version) return false;
      PINION_TRY(session.Script(MigrationSql(migration, session.dialect())));
      PINION_TRY(session.Query("INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
                               {std::int64_t{migration.version}, std::string(migration.description),
                                static_cast<std::int64_t>(std::time(nullptr))}));
      return true;
    }();
    if (!applied) {
      session.Rollback();
      return applied.error();
    }
    PINION_TRY(session.Commit());
    version = migration.version;
  }
  return version;
}

}  // namespace pinion::collector
