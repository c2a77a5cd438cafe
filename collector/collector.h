// collector/collector.h — `pinion serve`: receives failure reports, answers
// queries about them, serves signed manifests and a dashboard.
//
//   auto collector = Collector::Create({.database = "reports.db", .port = 0});
//   int port = *(*collector)->Bind();
//   std::thread serving([&] { (*collector)->Listen(); });
//   …
//   (*collector)->Stop();
//
// HTTP is Boost.Beast (http/server.h): reports are taken on one event-driven
// I/O thread and answered when their group commit lands; queries run on a
// few worker threads. See docs/COLLECTOR.md for why. The code has two rooms:
// http/ (server, router, one handler per route) and store/ (the report
// database and the group-commit writer that feeds it); this class wires them.
#ifndef PINION_COLLECTOR_COLLECTOR_H_
#define PINION_COLLECTOR_COLLECTOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pinion/clock.h"
#include "pinion/policy.h"
#include "pinion/result.h"

namespace pinion::collector {

class IngestQueue;
class ReportStore;
class ClientRateLimiter;
class ManifestDirectory;
class HttpServer;
class ReadAccess;
class Router;
struct PruneResult;
struct RouteContext;

struct CollectorConfig {
  std::string listen = "127.0.0.1";
  std::uint16_t port = 8470;            // 0: any free port (see Bind)
  std::string database = "pinion-reports.db";  // SQLite path, "sqlite:PATH" or "postgresql://…"
  std::string manifests;                // directory of NAME.json manifests; empty: none served
  std::string policy;                   // policy file shown on the dashboard; empty: none
  std::string tls_certificate;          // PEM chain; with tls_key, serve HTTPS
  std::string tls_key;
  std::size_t max_body = 64 * 1024;     // bytes per report body (at most kMaxReportBytes)
  double client_rate = 50;              // reports per second per client (IPv4 address, IPv6 /64); 0: unlimited
  double client_burst = 200;
  std::size_t threads = 8;              // workers for queries, manifests, the dashboard
  std::chrono::seconds read_timeout{5};  // slow clients are cut off after this
  std::chrono::seconds manifest_max_age{300};
  std::size_t max_waiting = 8192;       // reports waiting for a commit before 503
  // Counted size of the stored reports (bodies as stored + 512 bytes each)
  // beyond which new reports are refused with 507; 0: unbounded.
  std::int64_t max_db_bytes = 0;
  std::chrono::seconds retain{0};       // reports older than this are deleted; 0: kept forever
  std::chrono::seconds maintenance_interval{600};  // how often to prune (with retain); 0: only RunMaintenance
  // File holding the bearer token of the read routes; see http/read_access.h for
  // who may read without one.
  std::string read_token_file;
};

// LoadCollectorConfig reads a TOML file whose keys are CollectorConfig's
// fields (unknown keys are errors; durations in seconds).
Result<CollectorConfig> LoadCollectorConfig(const std::filesystem::path& path);

class Collector {
 public:
  static Result<std::unique_ptr<Collector>> Create(CollectorConfig config,
                                                   const Clock* clock = &SystemClock::Instance());
  ~Collector();

  // Bind opens the listening socket; returns the port (useful with port 0).
  Result<int> Bind();
  // Listen serves until Stop (blocking).
  void Listen();
  void Stop();

  // RunMaintenance deletes the reports older than `retain` (from the
  // injected clock) now; the collector also runs it every
  // maintenance_interval while listening. Returns what it deleted.
  Result<PruneResult> RunMaintenance();

  // reads_disabled: listening on a non-loopback address without a read
  // token, so the read routes answer 403 (cmd_serve warns about it).
  bool reads_disabled() const;

  ReportStore& store() { return *store_; }
  // http_server gives tests and fuzzers HttpServer::Exchange: requests
  // answered by these routes without a socket.
  HttpServer& http_server() { return *server_; }
  std::string_view database_kind() const;  // "sqlite" | "postgresql"
  int schema_version() const;

 private:
  Collector(CollectorConfig config, const Clock* clock);
  Router Routes();

  CollectorConfig config_;
  const Clock* clock_;
  std::unique_ptr<ReportStore> store_;
  std::unique_ptr<IngestQueue> ingest_;
  std::unique_ptr<ClientRateLimiter> limiter_;
  std::unique_ptr<ManifestDirectory> manifests_;
  std::unique_ptr<ReadAccess> read_access_;
  std::unique_ptr<RouteContext> context_;  // what the handlers share; outlives server_
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> stopping_{false};  // ends a running prune between its transactions
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_COLLECTOR_H_
