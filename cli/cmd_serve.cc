// pinion serve — the report collector (docs/COLLECTOR.md).
#include <malloc.h>
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "collector.h"
#include "commands.h"
#include "output.h"
#include "pinion/atomic_file.h"

namespace pinion::cli {
namespace {

struct ServeOptions {
  std::string config_file;
  collector::CollectorConfig config;
  double read_timeout = 5;
  double manifest_max_age = 300;
  std::string retain;  // a duration: 90d, 12h …
  std::string port_file;
  bool json = false;
};

// ConfigFromFlags is the configuration the flags give (durations converted).
CliResult<collector::CollectorConfig> ConfigFromFlags(const ServeOptions& options) {
  collector::CollectorConfig config = options.config;
  if (!options.retain.empty()) {
    auto retain = ParseDuration(options.retain);
    if (!retain || retain->count() <= 0) {
      return CliFailure(retain ? Error(ErrorCode::kInvalidArgument, "--retain must be longer than 0s") : retain.error(),
                        "Give --retain as a duration like 90d.");
    }
    config.retain = *retain;
  }
  config.read_timeout = std::chrono::seconds(static_cast<std::int64_t>(options.read_timeout));
  config.manifest_max_age = std::chrono::seconds(static_cast<std::int64_t>(options.manifest_max_age));
  return config;
}

// MergeConfigFile reads --config; the flags given on the command line win over it.
CliResult<collector::CollectorConfig> MergeConfigFile(const ServeOptions& options, const CLI::App& app,
                                                      const collector::CollectorConfig& flags) {
  if (std::error_code ignored; !std::filesystem::is_regular_file(options.config_file, ignored)) {
    // Said as what it is (the loader would call it a syntax error).
    return CliFailure(Error(ErrorCode::kIo, "no such file").WithSource(options.config_file).WithField("--config"),
                      "Give --config the path of a TOML file (keys are listed in docs/COLLECTOR.md).");
  }
  PINION_ASSIGN_OR_RETURN(collector::CollectorConfig merged,
                          Hinted(collector::LoadCollectorConfig(options.config_file),
                                 "Fix the config file (keys are listed in docs/COLLECTOR.md).", kExitUsage));
  auto given = [&](const char* flag) { return app.count(flag) > 0; };
  if (given("--listen")) merged.listen = flags.listen;
  if (given("--port")) merged.port = flags.port;
  if (given("--db")) merged.database = flags.database;
  if (given("--manifests")) merged.manifests = flags.manifests;
  if (given("--policy")) merged.policy = flags.policy;
  if (given("--tls-cert")) merged.tls_certificate = flags.tls_certificate;
  if (given("--tls-key")) merged.tls_key = flags.tls_key;
  if (given("--max-body")) merged.max_body = flags.max_body;
  if (given("--client-rate")) merged.client_rate = flags.client_rate;
  if (given("--client-burst")) merged.client_burst = flags.client_burst;
  if (given("--threads")) merged.threads = flags.threads;
  if (given("--read-timeout")) merged.read_timeout = flags.read_timeout;
  if (given("--manifest-max-age")) merged.manifest_max_age = flags.manifest_max_age;
  if (given("--max-waiting")) merged.max_waiting = flags.max_waiting;
  if (given("--max-db-bytes")) merged.max_db_bytes = flags.max_db_bytes;
  if (given("--retain")) merged.retain = flags.retain;
  if (given("--read-token-file")) merged.read_token_file = flags.read_token_file;
  return merged;
}

// BlockStopSignals blocks SIGINT and SIGTERM in this thread and every thread
// started after it, so that one waiting thread takes them (sigwait) and ends
// the service cleanly.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// KeepFreedMemory: report batches are allocated on the I/O thread and freed
// on the writer: with glibc's default 128 KiB trim threshold that hands
// memory back to the kernel (madvise, TLB shootdowns on both cores, page
// faults) on nearly every commit — about a sixth of ingestion throughput.
void KeepFreedMemory() {
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

// StartCollector creates the service and binds its port: a database that
// cannot be opened and a port that cannot be bound are exit 3, any other
// refusal a configuration error (2).
CliResult<std::unique_ptr<collector::Collector>> StartCollector(const collector::CollectorConfig& config,
                                                               int* port) {
  auto service = collector::Collector::Create(config);
  if (!service) {
    bool database = service.error().code() == ErrorCode::kDatabase;
    return CliFailure(service.error(),
                      database ? "Check --db (a SQLite path or a postgresql:// URI) and that the database is reachable."
                               : "Check the options given.")
        .WithExitCode(database ? kExitTlsFailure : kExitUsage);
  }
  PINION_ASSIGN_OR_RETURN(*port, Hinted((*service)->Bind(), "Choose another --port or --listen address.",
                                        kExitTlsFailure));
  return std::move(*service);
}

// Announce writes the port file and the start-up line.
CliStatus Announce(const ServeOptions& options, const collector::CollectorConfig& config,
                   const collector::Collector& service, int port) {
  if (!options.port_file.empty()) {
    if (Status written = WriteFileAtomically(options.port_file, std::to_string(port) + "\n"); !written.ok()) {
      return CliFailure(written.error(), "Choose a writable --port-file.").WithExitCode(kExitOutput);
    }
  }
  if (service.reads_disabled()) {
    std::cerr << "pinion serve: listening on " << config.listen
              << " without --read-token-file: reports are accepted, but GET /v1/reports, /v1/summary and the "
                 "dashboard answer 403 (give --read-token-file to read them remotely)"
              << std::endl;
  }
  std::string scheme = config.tls_certificate.empty() ? "http" : "https";
  if (options.json) {
    nlohmann::json line = {{"listening", scheme + "://" + config.listen + ":" + std::to_string(port)},
                           {"port", port},
                           {"database", service.database_kind()},
                           {"schema_version", service.schema_version()}};
    std::cout << line.dump() << std::endl;
  } else {
    std::cout << "pinion collector listening on " << scheme << "://" << config.listen << ":" << port
              << " (schema v" << service.schema_version() << ")" << std::endl;
  }
  return std::monostate();
}

CommandResult RunServe(const ServeOptions& options, const CLI::App& app) {
  PINION_ASSIGN_OR_RETURN(collector::CollectorConfig config, ConfigFromFlags(options));
  if (!options.config_file.empty()) {
    PINION_ASSIGN_OR_RETURN(config, MergeConfigFile(options, app, config));
  }
  sigset_t signals = BlockStopSignals();
  KeepFreedMemory();
  int port = 0;
  PINION_ASSIGN_OR_RETURN(std::unique_ptr<collector::Collector> service, StartCollector(config, &port));
  PINION_TRY(Announce(options, config, *service, port));
  // Whoever waits for the start-up line (a supervisor, a script) would wait forever.
  if (!std::cout.good()) return kExitOutput;  // RunCli explains it (FinishOutput)
  std::thread stopper([&] {
    int received = 0;
    sigwait(&signals, &received);
    service->Stop();
  });
  service->Listen();
  // Listen also returns if the socket fails: make the stopper thread finish.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  return kExitOk;
}

}  // namespace

CommandRunner AttachServe(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  collector::CollectorConfig& config = options->config;
  app.add_option("--config", options->config_file, "TOML file with any of the options below (flags win)");
  app.add_option("--listen", config.listen, "Address to listen on")->capture_default_str();
  app.add_option("--port", config.port, "Port (0: any free port; see --port-file)")->capture_default_str();
  app.add_option("--db", config.database, "SQLite file (WAL), sqlite:PATH, or postgresql://user@host:port/db")
      ->capture_default_str();
  app.add_option("--manifests", config.manifests, "Directory of signed manifests served as /v1/manifests/NAME");
  app.add_option("--policy", config.policy, "Policy file whose expiry timeline the dashboard shows");
  app.add_option("--tls-cert", config.tls_certificate, "PEM certificate chain: serve HTTPS (with --tls-key)");
  app.add_option("--tls-key", config.tls_key, "PEM private key of --tls-cert");
  app.add_option("--max-body", config.max_body, "Largest report body accepted, bytes (413 beyond)")
      ->capture_default_str();
  app.add_option("--client-rate", config.client_rate, "Reports per second per client (IPv4 address or IPv6 /64), 0 = unlimited (429 beyond)")
      ->capture_default_str();
  app.add_option("--client-burst", config.client_burst, "Reports a client may send at once")->capture_default_str();
  app.add_option("--threads", config.threads, "worker threads for queries, manifests and the dashboard (reports are taken on the I/O thread)")->capture_default_str();
  app.add_option("--read-timeout", options->read_timeout, "Seconds before a slow client is cut off")
      ->capture_default_str();
  app.add_option("--manifest-max-age", options->manifest_max_age, "Cache-Control max-age of manifests, seconds")
      ->capture_default_str();
  app.add_option("--max-waiting", config.max_waiting, "Reports waiting for a commit before answering 503")
      ->capture_default_str();
  app.add_option("--max-db-bytes", config.max_db_bytes,
                 "Storage quota: once the stored reports count this many bytes (compressed bodies + 512 each), "
                 "new reports get 507 and are not stored; 0 = none")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--retain", options->retain,
                 "Delete reports older than this (30d, 12h, 90m, 45s), checked every 10 minutes; default: keep all");
  app.add_option("--read-token-file", config.read_token_file,
                 "File holding the bearer token GET /v1/reports*, /v1/summary and the dashboard require. Without it "
                 "reads are open on a loopback --listen and refused (403) on any other");
  app.add_option("--port-file", options->port_file, "Write the bound port to this file once listening");
  app.add_flag("--json", options->json, "Print the start-up line as JSON (errors too: {\"error\": {...}})");
  app.footer("Exit codes: 0 stopped by SIGINT/SIGTERM, 2 configuration error, 3 database or listening error, "
             "4 the start-up line or --port-file could not be written.");
  return [options, &app] { return RunServe(*options, app); };
}

}  // namespace pinion::cli
