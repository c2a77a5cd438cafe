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

int RunServe(const ServeOptions& options, const CLI::App& app) {
  collector::CollectorConfig config = options.config;
  if (!options.config_file.empty()) {
    if (std::error_code ignored; !std::filesystem::is_regular_file(options.config_file, ignored)) {
      // Said as what it is (the loader would call it a syntax error).
      return Fail(Error(ErrorCode::kIo, "no such file").WithSource(options.config_file).WithField("--config"),
                  "Give --config the path of a TOML file (keys are listed in docs/COLLECTOR.md).", options.json,
                  kExitUsage);
    }
    auto loaded = collector::LoadCollectorConfig(options.config_file);
    if (!loaded) {
      return Fail(loaded.error(), "Fix the config file (keys are listed in docs/COLLECTOR.md).", options.json,
                  kExitUsage);
    }
    // Flags given on the command line win over the file.
    collector::CollectorConfig merged = *loaded;
    if (app.count("--listen") > 0) merged.listen = config.listen;
    if (app.count("--port") > 0) merged.port = config.port;
    if (app.count("--db") > 0) merged.database = config.database;
    if (app.count("--manifests") > 0) merged.manifests = config.manifests;
    if (app.count("--policy") > 0) merged.policy = config.policy;
    if (app.count("--tls-cert") > 0) merged.tls_certificate = config.tls_certificate;
    if (app.count("--tls-key") > 0) merged.tls_key = config.tls_key;
    if (app.count("--max-body") > 0) merged.max_body = config.max_body;
    if (app.count("--client-rate") > 0) merged.client_rate = config.client_rate;
    if (app.count("--client-burst") > 0) merged.client_burst = config.client_burst;
    if (app.count("--threads") > 0) merged.threads = config.threads;
    if (app.count("--read-timeout") > 0) merged.read_timeout = config.read_timeout;
    if (app.count("--manifest-max-age") > 0) merged.manifest_max_age = config.manifest_max_age;
    if (app.count("--max-waiting") > 0) merged.max_waiting = config.max_waiting;
    if (app.count("--max-db-bytes") > 0) merged.max_db_bytes = config.max_db_bytes;
    if (app.count("--retain") > 0) merged.retain = config.retain;
    if (app.count("--read-token-file") > 0) merged.read_token_file = config.read_token_file;
    config = merged;
  }

  // SIGINT/SIGTERM end the service cleanly: blocked here (inherited by every
  // thread), then taken by one waiting thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Report batches are allocated on the I/O thread and freed on the writer:
  // with glibc's default 128 KiB trim threshold that hands memory back to the
  // kernel (madvise, TLB shootdowns on both cores, page faults) on nearly
  // every commit — about a sixth of ingestion throughput. Keep it.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);

  auto service = collector::Collector::Create(config);
  if (!service) {
    bool database = service.error().code() == ErrorCode::kDatabase;
    return Fail(service.error(),
                database ? "Check --db (a SQLite path or a postgresql:// URI) and that the database is reachable."
                         : "Check the options given.",
                options.json, database ? kExitTlsFailure : kExitUsage);
  }
  auto port = (*service)->Bind();
  if (!port) {
    return Fail(port.error(), "Choose another --port or --listen address.", options.json, kExitTlsFailure);
  }
  std::string scheme = config.tls_certificate.empty() ? "http" : "https";
  if (!options.port_file.empty()) {
    if (Status written = WriteFileAtomically(options.port_file, std::to_string(*port) + "\n"); !written.ok()) {
      return Fail(written.error(), "Choose a writable --port-file.", options.json, kExitOutput);
    }
  }
  if ((*service)->reads_disabled()) {
    std::cerr << "pinion serve: listening on " << config.listen
              << " without --read-token-file: reports are accepted, but GET /v1/reports, /v1/summary and the "
                 "dashboard answer 403 (give --read-token-file to read them remotely)"
              << std::endl;
  }
  if (options.json) {
    nlohmann::json line = {{"listening", scheme + "://" + config.listen + ":" + std::to_string(*port)},
                           {"port", *port},
                           {"database", (*service)->database_kind()},
                           {"schema_version", (*service)->schema_version()}};
    std::cout << line.dump() << std::endl;
  } else {
    std::cout << "pinion collector listening on " << scheme << "://" << config.listen << ":" << *port
              << " (schema v" << (*service)->schema_version() << ")" << std::endl;
  }
  // Whoever waits for the start-up line (a supervisor, a script) would wait forever.
  if (!std::cout.good()) return kExitOutput;  // RunCli explains it (FinishOutput)
  std::thread stopper([&] {
    int received = 0;
    sigwait(&signals, &received);
    (*service)->Stop();
  });
  (*service)->Listen();
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
  return [options, &app]() -> int {
    if (!options->retain.empty()) {
      auto retain = ParseDuration(options->retain);
      if (!retain || retain->count() <= 0) {
        return Fail(retain ? Error(ErrorCode::kInvalidArgument, "--retain must be longer than 0s") : retain.error(),
                    "Give --retain as a duration like 90d.", options->json, kExitUsage);
      }
      options->config.retain = *retain;
    }
    options->config.read_timeout = std::chrono::seconds(static_cast<std::int64_t>(options->read_timeout));
    options->config.manifest_max_age = std::chrono::seconds(static_cast<std::int64_t>(options->manifest_max_age));
    return RunServe(*options, app);
  };
}

}  // namespace pinion::cli
