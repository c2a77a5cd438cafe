#include "collector.h"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "dashboard.h"
#include "http_server.h"
#include "ingest_queue.h"
#include "manifest_directory.h"
#include "pinion/certificate_info.h"
#include "pinion/policy_loader.h"
#include "pinion/report/report.h"
#include "rate_limiter.h"
#include "read_access.h"
#include "report_store.h"
#include "report_parse.h"

namespace pinion::collector {
namespace {

using Json = nlohmann::ordered_json;

// Reports carry text an attacker wrote: never cached by a proxy or browser,
// never sniffed into something a browser would run.
HttpResponse JsonResponse(const Json& body, int status = 200) {
  return HttpResponse::Content(status, body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json")
      .Set("Cache-Control", "no-store")
      .Set("X-Content-Type-Options", "nosniff");
}

constexpr std::size_t kPruneBatch = 1000;

HttpResponse ErrorResponse(int status, std::string_view code, const std::string& message,
                           const std::string& field = "") {
  Json body = {{"error", {{"code", code}, {"message", message}}}};
  if (!field.empty()) body["error"]["field"] = field;
  return JsonResponse(body, status);
}

HttpResponse ErrorResponse(int status, const Error& error) {
  return ErrorResponse(status, ErrorCodeName(error.code()), error.message(), error.field());
}

// What the server answers by itself: unknown paths, oversized bodies, unreadable HTTP.
HttpResponse ServerErrorResponse(int status) {
  switch (status) {
    case 404: return ErrorResponse(404, "not_found", "no such endpoint");
    case 413: return ErrorResponse(413, "input_too_large", "the body is larger than the collector accepts");
    case 500: return ErrorResponse(500, "internal", "the collector failed on this request");
    default: return ErrorResponse(status, "http_error", "request refused");
  }
}

// Time parameters: RFC 3339 or YYYY-MM-DD.
Result<std::optional<TimePoint>> TimeParam(const HttpRequest& request, const char* name) {
  if (!request.HasParam(name)) return std::optional<TimePoint>();
  auto time = ParseTimestamp(request.Param(name));
  if (!time) return Error(ErrorCode::kInvalidArgument, std::string(name) + " must be an RFC 3339 time").WithField(name);
  return std::optional<TimePoint>(*time);
}

Result<std::int64_t> IntegerParam(const HttpRequest& request, const char* name, std::int64_t fallback,
                                  std::int64_t min, std::int64_t max) {
  if (!request.HasParam(name)) return fallback;
  const std::string text = request.Param(name);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max))
        .WithField(name);
  }
  return value;
}

Json ReportJson(const StoredReport& report) {
  return {{"id", report.id},
          {"received_at", FormatUtc(report.received_at)},
          {"date_time", FormatUtc(report.date_time)},
          {"hostname", report.hostname},
          {"port", report.port},
          {"noted_hostname", report.noted_hostname},
          {"format", report.format},
          {"mode", report.mode},
          {"reason", report.reason},
          {"policy_version", report.policy_version},
          {"app", {{"id", report.app.id}, {"version", report.app.version}, {"platform", report.app.platform}}},
          {"dropped_reports", report.dropped_reports},
          {"known_pins", report.known_pins},
          {"validated_chain_pins", report.chain_pins}};
}

bool IsJsonContentType(const std::string& value) {
  std::string type = value.substr(0, value.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  return type == "application/json";
}

}  // namespace

Result<CollectorConfig> LoadCollectorConfig(const std::filesystem::path& path) {
  toml::table table;
  try {
    table = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    return Error(ErrorCode::kPolicySyntax, std::string(e.description())).WithSource(path.string());
  }
  CollectorConfig config;
  for (const auto& entry : table) {
    const std::string name(entry.first.str());
    const toml::node& node = entry.second;  // not a structured binding: lambdas below capture it
    auto fail = [&](const std::string& what) {
      return Error(ErrorCode::kPolicySchema, what).WithSource(path.string()).WithField(name);
    };
    auto text = [&](std::string& out) -> Status {
      if (!node.is_string()) return fail("must be a string");
      out = *node.value<std::string>();
      return OkStatus();
    };
    // Written so that NaN fails the range test (it compares false with
    // everything); integer settings take whole numbers only, never truncated.
    auto number = [&](auto& out, double min, double max, bool whole = std::is_integral_v<std::remove_reference_t<decltype(out)>>) -> Status {
      auto value = node.value<double>();
      if (!value || !(*value >= min && *value <= max)) {
        return fail("must be a number from " + std::to_string(min) + " to " + std::to_string(max));
      }
      if (whole && std::floor(*value) != *value) return fail("must be a whole number");
      out = static_cast<std::remove_reference_t<decltype(out)>>(*value);
      return OkStatus();
    };
    auto seconds = [&](std::chrono::seconds& out, double max) -> Status {
      double value = 0;
      PINION_TRY(number(value, 1, max, /*whole=*/true));
      out = std::chrono::seconds(static_cast<std::int64_t>(value));
      return OkStatus();
    };
    Status status;
    if (name == "listen") status = text(config.listen);
    else if (name == "port") status = number(config.port, 0, 65535);
    else if (name == "database") status = text(config.database);
    else if (name == "manifests") status = text(config.manifests);
    else if (name == "policy") status = text(config.policy);
    else if (name == "tls_certificate") status = text(config.tls_certificate);
    else if (name == "tls_key") status = text(config.tls_key);
    else if (name == "max_body") status = number(config.max_body, 1024, static_cast<double>(kMaxReportBytes));
    else if (name == "client_rate") status = number(config.client_rate, 0, 1e9);
    else if (name == "client_burst") status = number(config.client_burst, 1, 1e9);
    else if (name == "threads") status = number(config.threads, 1, 4096);
    else if (name == "read_timeout") status = seconds(config.read_timeout, 3600);
    else if (name == "manifest_max_age") status = seconds(config.manifest_max_age, 86400 * 7);
    else if (name == "max_waiting") status = number(config.max_waiting, 1, 1e7);
    else if (name == "max_db_bytes") status = number(config.max_db_bytes, 0, 9e18);
    else if (name == "retain") status = seconds(config.retain, 86400.0 * 36500);
    else if (name == "read_token_file") status = text(config.read_token_file);
    else
      status = fail("unknown key; expected one of listen, port, database, manifests, policy, tls_certificate, "
                    "tls_key, max_body, client_rate, client_burst, threads, read_timeout, manifest_max_age, "
                    "max_waiting, max_db_bytes, retain, read_token_file");
    PINION_TRY(status);
  }
  return config;
}

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
  if (!c.policy.empty()) {
    PINION_ASSIGN_OR_RETURN(collector->policy_, LoadPolicyFile(c.policy));
  }
  PINION_ASSIGN_OR_RETURN(collector->server_, HttpServer::Create({.listen = c.listen,
                                                                   .port = c.port,
                                                                   .tls_certificate = c.tls_certificate,
                                                                   .tls_key = c.tls_key,
                                                                   .max_body = c.max_body,
                                                                   .read_timeout = c.read_timeout,
                                                                   .workers = c.threads,
                                                                   .error_body = ServerErrorResponse}));
  collector->Route();
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
    ++prune_failures_;  // tried again at the next interval
    return pruned;
  }
  pruned_ += static_cast<std::uint64_t>(pruned->reports);
  return pruned;
}

bool Collector::reads_disabled() const { return read_access_->reads_disabled(); }

void Collector::Route() {
  HttpServer& server = *server_;
  using Respond = HttpResponder;

  // The read routes: only past ReadAccess (read_access.h).
  auto reader = [this](HttpHandler handler) -> HttpHandler {
    return [this, handler = std::move(handler)](HttpRequest& request, Respond respond) {
      std::string authorization = request.Header("authorization");
      switch (read_access_->Check(authorization)) {
        case ReadAccess::Decision::kAllowed:
          return handler(request, std::move(respond));
        case ReadAccess::Decision::kUnauthorized:
          // RFC 6750 §3: the challenge, with invalid_token when one was presented.
          return respond(ErrorResponse(401, "unauthorized",
                                       "reading reports needs 'Authorization: Bearer TOKEN' with the token of "
                                       "--read-token-file")
                             .Set("WWW-Authenticate", authorization.empty()
                                                          ? "Bearer realm=\"pinion\""
                                                          : "Bearer realm=\"pinion\", error=\"invalid_token\""));
        case ReadAccess::Decision::kDisabled:
          return respond(ErrorResponse(403, "reads_disabled",
                                       "reading reports is disabled: this collector listens on a non-loopback "
                                       "address without --read-token-file"));
      }
    };
  };

  // On the I/O thread: nothing here blocks. The answer goes out when the
  // report's group commit lands (from the writer thread).
  server.Route("POST", "/v1/reports", HttpServer::kOnIoThread, [this](HttpRequest& request, Respond respond) {
    int retry_after = 1;
    if (!limiter_->Allow(request.remote_address, &retry_after)) {
      return respond(ErrorResponse(429, "rate_limited", "too many reports from this address; retry later")
                         .Set("Retry-After", std::to_string(retry_after)));
    }
    if (!IsJsonContentType(request.Header("content-type"))) {
      return respond(ErrorResponse(415, "unsupported_media_type", "reports are sent as application/json"));
    }
    auto report = ParseReport(request.body);
    if (!report) return respond(ErrorResponse(400, report.error()));
    Status queued = ingest_->SubmitAsync({std::move(*report), request.remote_address, clock_->Now(), std::move(request.body)},
                                         [this, respond](Result<IngestOutcome> id) {
                                           if (!id) return respond(ErrorResponse(503, id.error()).Set("Retry-After", "1"));
                                           if (!id->has_value()) {
                                             // Refused, not dropped: pinion's uploader keeps a report
                                             // spooled on a 5xx and retries it later.
                                             ++refused_full_;
                                             return respond(ErrorResponse(507, "storage_full",
                                                                          "the collector's storage quota is reached; "
                                                                          "the report was not stored, retry later")
                                                                .Set("Retry-After", "600"));
                                           }
                                           respond(JsonResponse({{"id", **id}}, 202));
                                         });
    if (!queued) respond(ErrorResponse(503, queued.error()).Set("Retry-After", "1"));
  });

  server.Route("GET", "/v1/reports", HttpServer::kOnWorker, reader([this](HttpRequest& request, Respond respond) {
    ReportQuery query;
    if (request.HasParam("host")) query.host = request.Param("host");
    if (request.HasParam("reason")) query.reason = request.Param("reason");
    auto since = TimeParam(request, "since");
    auto until = TimeParam(request, "until");
    auto limit = IntegerParam(request, "limit", 50, 1, 1000);
    auto cursor = IntegerParam(request, "cursor", 0, 0, INT64_MAX);
    for (const Error* error : {since ? nullptr : &since.error(), until ? nullptr : &until.error(),
                               limit ? nullptr : &limit.error(), cursor ? nullptr : &cursor.error()}) {
      if (error != nullptr) return respond(ErrorResponse(400, *error));
    }
    query.since = *since;
    query.until = *until;
    query.limit = static_cast<std::size_t>(*limit);
    if (*cursor > 0) query.before_id = *cursor;
    auto page = store_->List(query);
    if (!page) return respond(ErrorResponse(503, page.error()));
    Json reports = Json::array();
    for (const StoredReport& report : page->reports) reports.push_back(ReportJson(report));
    Json body = {{"reports", reports}, {"next_cursor", nullptr}};
    if (page->next_cursor) body["next_cursor"] = *page->next_cursor;
    respond(JsonResponse(body));
  }));

  server.Route("GET", R"(/v1/reports/(\d{1,18}))", HttpServer::kOnWorker,
               reader([this](HttpRequest& request, Respond respond) {
                 auto body = store_->Body(std::stoll(request.captures[0]));
                 if (!body) return respond(ErrorResponse(503, body.error()));
                 if (!body->has_value()) return respond(ErrorResponse(404, "not_found", "no report with this id"));
                 // The body is the client's own bytes: a browser must treat it as inert JSON.
                 respond(HttpResponse::Content(200, std::move(**body), "application/json")
                             .Set("Cache-Control", "no-store")
                             .Set("X-Content-Type-Options", "nosniff")
                             .Set("Content-Security-Policy", "default-src 'none'; sandbox"));
               }));

  server.Route("GET", "/v1/summary", HttpServer::kOnWorker, reader([this](HttpRequest& request, Respond respond) {
    TimePoint now = clock_->Now();
    auto since = TimeParam(request, "since");
    auto until = TimeParam(request, "until");
    auto bucket = IntegerParam(request, "bucket", 3600, 60, 86400 * 31);
    for (const Error* error : {since ? nullptr : &since.error(), until ? nullptr : &until.error(),
                               bucket ? nullptr : &bucket.error()}) {
      if (error != nullptr) return respond(ErrorResponse(400, *error));
    }
    SummaryQuery query{.since = since->value_or(now - std::chrono::hours(24)),
                       .until = until->value_or(now + std::chrono::seconds(1)),
                       .bucket = std::chrono::seconds(*bucket)};
    auto summary = store_->Summarize(query);
    if (!summary) return respond(ErrorResponse(503, summary.error()));
    Json buckets = Json::array();
    for (const auto& item : summary->buckets) {
      buckets.push_back({{"start", FormatUtc(item.start)}, {"hostname", item.hostname}, {"reason", item.reason},
                         {"count", item.count}});
    }
    Json totals = Json::array();
    for (const auto& item : summary->totals) {
      totals.push_back({{"hostname", item.hostname}, {"reason", item.reason}, {"count", item.count}});
    }
    Json pins = Json::array();
    for (const auto& item : summary->top_unexpected_pins) pins.push_back({{"pin", item.pin}, {"count", item.count}});
    respond(JsonResponse({{"since", FormatUtc(query.since)},
                          {"until", FormatUtc(query.until)},
                          {"bucket_seconds", query.bucket.count()},
                          {"total", summary->total},
                          {"per_host", totals},
                          {"buckets", buckets},
                          {"top_unexpected_pins", pins}}));
  }));

  server.Route("GET", "/healthz", HttpServer::kOnWorker, [this](HttpRequest&, Respond respond) {
    Status ping = store_->Ping();
    std::string database(database_kind());
    if (!ping.ok()) {
      return respond(
          JsonResponse({{"status", "unavailable"}, {"database", database}, {"error", ping.error().message()}}, 503));
    }
    auto usage = store_->Usage();
    if (!usage) {
      return respond(
          JsonResponse({{"status", "unavailable"}, {"database", database}, {"error", usage.error().message()}}, 503));
    }
    Json storage = {{"reports", usage->reports},
                    {"bytes", usage->bytes},
                    {"max_bytes", nullptr},
                    {"retain_seconds", nullptr},
                    {"refused_full", refused_full_.load()},
                    {"pruned", pruned_.load()},
                    {"prune_failures", prune_failures_.load()}};
    if (config_.max_db_bytes > 0) storage["max_bytes"] = config_.max_db_bytes;
    if (config_.retain.count() > 0) storage["retain_seconds"] = config_.retain.count();
    // Reports per commit tell whether group commit keeps up (docs/COLLECTOR.md).
    respond(JsonResponse({{"status", "ok"},
                          {"database", database},
                          {"schema_version", store_->schema_version()},
                          {"ingest", {{"commits", ingest_->batches()}, {"reports", ingest_->committed()}}},
                          {"storage", storage}}));
  });

  server.Route("GET", R"(/v1/manifests/([^/]+))", HttpServer::kOnWorker,
               [this](HttpRequest& request, Respond respond) {
    const std::string& name = request.captures[0];
    if (!manifests_) return respond(ErrorResponse(404, "not_found", "this collector serves no manifests"));
    if (!ManifestDirectory::IsValidName(name)) {
      return respond(ErrorResponse(400, "invalid_argument", "a manifest name is 1-128 of A-Z a-z 0-9 . _ -"));
    }
    auto manifest = manifests_->Find(name);
    if (!manifest) return respond(ErrorResponse(500, manifest.error()));
    if (!manifest->has_value()) return respond(ErrorResponse(404, "not_found", "no manifest named '" + name + "'"));
    HttpResponse response;
    response.Set("ETag", (*manifest)->etag);
    // Clients revalidate after max-age; the ETag makes that a 304 with no body.
    response.Set("Cache-Control",
                 "public, max-age=" + std::to_string(config_.manifest_max_age.count()) + ", must-revalidate");
    if (request.Header("if-none-match") == (*manifest)->etag) {
      response.status = 304;
      return respond(std::move(response));
    }
    response.Set("Content-Type", "application/json");
    response.Set("X-Content-Type-Options", "nosniff");
    response.body = (*manifest)->body;
    respond(std::move(response));
  });

  server.Route("GET", "/", HttpServer::kOnWorker, reader([this](HttpRequest&, Respond respond) {
    DashboardData data;
    data.now = clock_->Now();
    data.window_start = data.now - std::chrono::hours(47);
    data.window_start -= data.window_start.time_since_epoch() % std::chrono::hours(1);
    data.policy = policy_;
    data.database = database_kind();
    auto summary = store_->Summarize({.since = data.window_start, .until = data.now + std::chrono::seconds(1)});
    auto latest = store_->List({.limit = 20});
    if (!summary) return respond(ErrorResponse(503, summary.error()));
    if (!latest) return respond(ErrorResponse(503, latest.error()));
    data.summary = std::move(*summary);
    data.latest = std::move(latest->reports);
    respond(HttpResponse::Content(200, RenderDashboard(data), "text/html; charset=utf-8")
                .Set("Cache-Control", "no-store")
                .Set("X-Content-Type-Options", "nosniff")
                .Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:"));
  }));
}

Result<int> Collector::Bind() { return server_->Bind(); }

std::string_view Collector::database_kind() const {
  return store_->dialect() == SqlDialect::kSqlite ? "sqlite" : "postgresql";
}

int Collector::schema_version() const { return store_->schema_version(); }

void Collector::Listen() { server_->Run(); }

void Collector::Stop() {
  stopping_ = true;
  if (server_) server_->Stop();
}

}  // namespace pinion::collector
