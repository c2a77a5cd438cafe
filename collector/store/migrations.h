// collector/store/migrations.h — the report database's schema, as numbered
// migrations applied in order to SQLite and PostgreSQL alike.
//
// The SQL is shared; the dialect differences are placeholders: {{id}} for the
// auto-increment key, {{blob}} for binary columns (BLOB / BYTEA). A database records what it has applied in
// schema_migrations; a database newer than this program is refused rather
// than written with an older idea of the schema.
#ifndef PINION_COLLECTOR_STORE_MIGRATIONS_H_
#define PINION_COLLECTOR_STORE_MIGRATIONS_H_

#include <span>
#include <string>

#include "pinion/result.h"
#include "store/sql_session.h"

namespace pinion::collector {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

std::span<const Migration> Migrations();
int LatestSchemaVersion();

// MigrationSql is `migration`'s SQL for `dialect`.
std::string MigrationSql(const Migration& migration, SqlDialect dialect);

// Migrate brings the database to LatestSchemaVersion (each migration in its
// own transaction, under the dialect's write lock) and returns the version.
Result<int> Migrate(SqlSession& session);

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_STORE_MIGRATIONS_H_
