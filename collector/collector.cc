#include "collector.h"

#include <filesystem>
#include <utility>

#include "http/handlers.h"
#include "http/json_response.h"
#include "http/manifest_directory.h"
#include "http/rate_limiter.h"
#include "http/read_access.h"
#include "http/router.h"
#include "http/server.h"
#include "pinion/policy_loader.h"
#include "pinion/report/report.h"
#include "store/ingest_queue.h"
#include "store/report_store.h"

namespace pinion::collector {
namespace {

constexpr std::size_t kPruneBatch = 1000;

}  // namespace

Collector::Collector(CollectorConfig config, const Clock* clock) : config_(std::move(config)), clock_(clock) {}

Collector::~Collector() {
  Stop();
  ingest_.reset();  // commits what is waiting before the store closes
}

Result<std::unique_ptr<Collector>> Collector::Create(CollectorConfig config, const Clock* clock) {
  if (config.max_body > kMaxReportBytes || config.max_body < 1024) {
    return Error(ErrorCode::kInvalidArgument, "max_body must be 1024 to " + std::to_string(kMaxReportBytes));
  }
  if (config.threads == 0) return Error(ErrorCode::kInvalidArgument, "threads must be at least 1");
  if (config.tls_certificate.empty() != config.tls_key.empty()) {
    return Error(ErrorCode::kInvalidArgument, "HTTPS needs both a TLS certificate chain and its key");
  }
  if (config.max_db_bytes < 0) return Error(ErrorCode::kInvalidArgument, "max_db_bytes must not be negative");
  if (config.retain.count() < 0 || config.maintenance_interval.count() < 0) {
    return Error(ErrorCode::kInvalidArgument, "retain and maintenance_interval must not be negative");
  }
  std::unique_ptr<Collector> collector(new Collector(std::move(config), clock));
  const CollectorConfig& c = collector->config_;
  // Before the database: a bad token file is a configuration error, found at once.
  PINION_ASSIGN_OR_RETURN(ReadAccess access,
                          ReadAccess::Create({.token_file = c.read_token_file, .listen = c.listen}));
  collector->read_access_ = std::make_unique<ReadAccess>(access);
  PINION_ASSIGN_OR_RETURN(collector->store_, ReportStore::Open(c.database, {.max_bytes = c.max_db_bytes}));
  collector->ingest_ = std::make_unique<IngestQueue>(*collector->store_, IngestQueueOptions{.max_waiting = c.max_waiting});
  collector->limiter_ = std::make_unique<ClientRateLimiter>(c.client_rate, c.client_burst, *clock);
  if (!c.manifests.empty()) {
    if (!std::filesystem::is_directory(c.manifests)) {
      return Error(ErrorCode::kIo, "the manifest directory does not exist").WithSource(c.manifests);
    }
    collector->manifests_ = std::make_unique<ManifestDirectory>(c.manifests);
  }
  PolicySnapshot policy;  // shown on the dashboard; may be null
  if (!c.policy.empty()) {
    PINION_ASSIGN_OR_RETURN(policy, LoadPolicyFile(c.policy));
  }
  collector->context_.reset(new RouteContext{.store = *collector->store_,
                                             .ingest = *collector->ingest_,
                                             .limiter = *collector->limiter_,
                                             .read_access = *collector->read_access_,
                                             .manifests = collector->manifests_.get(),
                                             .policy = std::move(policy),
                                             .clock = *clock,
                                             .manifest_max_age = c.manifest_max_age,
                                             .max_db_bytes = c.max_db_bytes,
                                             .retain = c.retain});
  PINION_ASSIGN_OR_RETURN(collector->server_, HttpServer::Create({.listen = c.listen,
                                                                   .port = c.port,
                                                                   .tls_certificate = c.tls_certificate,
                                                                   .tls_key = c.tls_key,
                                                                   .max_body = c.max_body,
                                                                   .read_timeout = c.read_timeout,
                                                                   .workers = c.threads,
                                                                   .error_body = ServerErrorResponse},
                                                                  collector->Routes()));
  if (c.retain.count() > 0 && c.maintenance_interval.count() > 0) {
    Collector* raw = collector.get();
    collector->server_->Every(c.maintenance_interval, [raw] { (void)raw->RunMaintenance(); });
  }
  return collector;
}

Result<PruneResult> Collector::RunMaintenance() {
  if (config_.retain.count() <= 0) return PruneResult{};
  auto pruned = store_->Prune(clock_->Now() - config_.retain, kPruneBatch, &stopping_);
  if (!pruned) {
    ++context_->prune_failures;  // tried again at the next interval
    return pruned;
  }
  context_->pruned += static_cast<std::uint64_t>(pruned->reports);
  return pruned;
}

bool Collector::reads_disabled() const { return read_access_->reads_disabled(); }

// The routes of `pinion serve`, one handler each (http/handlers/). Report
// POSTs run on the I/O thread (nothing there blocks: the answer goes out when
// the group commit lands); the others may wait for the database, on a
// worker. The read routes serve only whom ReadAccess allows.
Router Collector::Routes() {
  enum Access : bool { kAnyone, kReaders };
  struct Entry {
    const char* method;
    const char* path;
    Router::Dispatch dispatch;
    Access access;
    RouteHandler handler;
  };
  static constexpr Entry kRoutes[] = {
      {"POST", "/v1/reports", Router::kOnIoThread, kAnyone, PostReport},
      {"GET", "/v1/reports", Router::kOnWorker, kReaders, GetReports},
      {"GET", R"(/v1/reports/(\d{1,18}))", Router::kOnWorker, kReaders, GetReport},
      {"GET", "/v1/summary", Router::kOnWorker, kReaders, GetSummary},
      {"GET", "/healthz", Router::kOnWorker, kAnyone, GetHealth},
      {"GET", R"(/v1/manifests/([^/]+))", Router::kOnWorker, kAnyone, GetManifest},
      {"GET", "/", Router::kOnWorker, kReaders, GetDashboard},
  };
  Router router;
  RouteContext* context = context_.get();
  for (const Entry& route : kRoutes) {
    HttpHandler handler = [context, run = route.handler](HttpRequest& request, HttpResponder respond) {
      run(*context, request, std::move(respond));
    };
    if (route.access == kReaders) handler = ReadersOnly(context->read_access, std::move(handler));
    router.Add(route.method, route.path, route.dispatch, std::move(handler));
  }
  return router;
}

Result<int> Collector::Bind() { return server_->Bind(); }

std::string_view Collector::database_kind() const {
  return SqlDialectName(store_->dialect());
}

int Collector::schema_version() const { return store_->schema_version(); }

void Collector::Listen() { server_->Run(); }

void Collector::Stop() {
  stopping_ = true;
  if (server_) server_->Stop();
}

}  // namespace pinion::collector
