// A throwaway PostgreSQL cluster on 127.0.0.1 for the collector tests,
// started by start_postgres.sh and stopped (and removed) at destruction.
#ifndef PINION_COLLECTOR_TESTS_POSTGRES_CLUSTER_H_
#define PINION_COLLECTOR_TESTS_POSTGRES_CLUSTER_H_

#include <filesystem>
#include <string>

namespace pinion::collector::testing {

class PostgresCluster {
 public:
  PostgresCluster();  // aborts the test binary (with the script's output) on failure
  ~PostgresCluster();
  const std::string& uri() const { return uri_; }
  // FreshDatabase creates an empty database and returns its URI.
  std::string FreshDatabase();

 private:
  std::filesystem::path directory_;
  int port_ = 0;
  int databases_ = 0;
  std::string uri_;
};

// SharedPostgresCluster is one cluster for the whole test binary, started on
// first use and stopped when the tests end.
PostgresCluster& SharedPostgresCluster();

// FreeLoopbackPort returns a port nothing listens on right now.
int FreeLoopbackPort();

}  // namespace pinion::collector::testing

#endif  // PINION_COLLECTOR_TESTS_POSTGRES_CLUSTER_H_
