// Fuzzes the collector's request handling: the input is the byte stream a
// client sends on one connection, answered by HttpServer::Exchange — Beast's
// request parser with the server's own limits, then the collector's routes
// (reports in and out, summary, manifests, dashboard, healthz, read token) on
// a SQLite store in a temporary directory, with no socket.
// Oracle, for every answer: the handler answers (a hang is a libFuzzer
// timeout) without a crash, leak or undefined behaviour; the status is
// 100..599; no header name or value carries CR, LF or NUL (no response
// splitting); every application/json body is JSON; and a 202 to
// POST /v1/reports names an id whose GET answers 200 with a body that parses
// as a report again. The collector persists across inputs (as a server does);
// every kPruneEvery inputs the injected clock moves on and retention empties
// the store, so ingestion keeps running instead of filling a database.
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "collector.h"
#include "fuzz_targets.h"
#include "http/server.h"
#include "pinion/clock.h"
#include "pinion/report/report.h"
#include "store/report_store.h"
#include "report_parse.h"

namespace {

namespace collector = pinion::collector;

// The bearer token the seeds present (fuzz/corpus/collector_http/*).
constexpr std::string_view kReadToken = "fuzz-read-token-0123456789";
constexpr int kPruneEvery = 2048;

void WriteFile(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  FUZZ_CHECK(out.good());
}

struct Harness {
  std::filesystem::path directory;
  std::unique_ptr<pinion::FixedClock> clock;
  std::unique_ptr<collector::Collector> server;
  int inputs = 0;
};

// One collector for the whole run; removed with its directory at exit.
Harness& Setup() {
  static Harness* harness = [] {
    auto* h = new Harness;
    // tmpfs when there is one: SQLite's synchronous=FULL commits cost no disk flush.
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path().string();
    std::string pattern = base + "/pinion-collector-fuzz-XXXXXX";
    FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
    h->directory = pattern;
    std::filesystem::create_directory(h->directory / "manifests");
    WriteFile(h->directory / "read-token", std::string(kReadToken) + "\n");
    // The seed get-manifest-not-modified carries this body's ETag (a 304).
    WriteFile(h->directory / "manifests" / "app.json",
              R"({"payloadType":"application/vnd.pinion.policy+json","payload":"e30=","signatures":[]})");
    WriteFile(h->directory / "policy.toml",
              "[policy]\nversion = 7\n[[domain]]\nhost = \"api.example.com\"\n"
              "pins = [{ pin = \"sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\" }]\n");
    h->clock = std::make_unique<pinion::FixedClock>(pinion::TimePoint(std::chrono::seconds(1796083200)));  // 2026-12-01
    auto created = collector::Collector::Create({.listen = "127.0.0.1",
                                                 .port = 0,
                                                 .database = "sqlite:" + (h->directory / "reports.db").string(),
                                                 .manifests = (h->directory / "manifests").string(),
                                                 .policy = (h->directory / "policy.toml").string(),
                                                 .client_rate = 0,
                                                 .threads = 2,
                                                 .retain = std::chrono::seconds(1),
                                                 .maintenance_interval = std::chrono::seconds(0),
                                                 .read_token_file = (h->directory / "read-token").string()},
                                                h->clock.get());
    if (!created) {
      std::fprintf(stderr, "collector_http_fuzzer: %s\n", created.error().message().c_str());
      std::abort();
    }
    h->server = std::move(*created);
    static std::filesystem::path directory = h->directory;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(directory, ignored);
    });
    return h;
  }();
  return *harness;
}

bool IsJson(const collector::HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (name == "Content-Type") return value.starts_with("application/json");
  }
  return false;
}

void CheckWellFormed(const collector::HttpResponse& response) {
  FUZZ_CHECK(response.status >= 100 && response.status <= 599);
  for (const auto& [name, value] : response.headers) {
    FUZZ_CHECK(!name.empty() && name.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
    FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
  }
  if (IsJson(response) && !response.body.empty()) FUZZ_CHECK(nlohmann::json::accept(response.body));
}

// A stored report is there to read, and is still a report.
void CheckRetrievable(Harness& h, const collector::HttpResponse& accepted) {
  auto id = nlohmann::json::parse(accepted.body, nullptr, false);
  FUZZ_CHECK(id.is_object() && id.contains("id") && id["id"].is_number_integer());
  std::string request = "GET /v1/reports/" + std::to_string(id["id"].get<std::int64_t>()) +
                        " HTTP/1.1\r\nHost: collector\r\nAuthorization: Bearer " + std::string(kReadToken) + "\r\n\r\n";
  auto answers = h.server->http_server().Exchange(request, "127.0.0.1");
  FUZZ_CHECK(answers.size() == 1 && answers[0].status == 200);
  FUZZ_CHECK(pinion::ParseReport(answers[0].body).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = Setup();
  auto answers = h.server->http_server().Exchange(std::string_view(reinterpret_cast<const char*>(data), size),
                                                  "127.0.0.1");
  for (const auto& answer : answers) {
    CheckWellFormed(answer);
    if (answer.status == 202) CheckRetrievable(h, answer);
  }
  if (++h.inputs % kPruneEvery == 0) {
    h.clock->Advance(std::chrono::hours(1));
    FUZZ_CHECK(h.server->RunMaintenance().ok());
  }
  return 0;
}
