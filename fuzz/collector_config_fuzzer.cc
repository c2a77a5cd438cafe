// Fuzzes the collector's configuration reader (`pinion serve --config`).
// Oracle: an accepted configuration has every value within the bounds
// LoadCollectorConfig documents and enforces (max_body 1024..kMaxReportBytes,
// threads 1..4096, read_timeout 1..3600 s, …), and written back as TOML it
// loads again to the same values.
// LoadCollectorConfig reads a path and there is no from-text variant, so each
// input goes through one temporary file on tmpfs: the cost is a few
// microseconds, and the fuzzer exercises exactly what the command runs.
#include <stdlib.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <toml++/toml.h>

#include "collector.h"
#include "fuzz_targets.h"
#include "pinion/report/report.h"

namespace {

namespace collector = pinion::collector;

const std::filesystem::path& ConfigPath() {
  static const std::filesystem::path path = [] {
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path().string();
    std::string pattern = base + "/pinion-config-fuzz-XXXXXX";
    FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
    static std::filesystem::path directory = pattern;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(directory, ignored);
    });
    return directory / "collector.toml";
  }();
  return path;
}

pinion::Result<collector::CollectorConfig> Load(std::string_view text) {
  {
    std::ofstream out(ConfigPath(), std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    FUZZ_CHECK(out.good());
  }
  return collector::LoadCollectorConfig(ConfigPath());
}

void CheckBounds(const collector::CollectorConfig& c) {
  FUZZ_CHECK(c.max_body >= 1024 && c.max_body <= pinion::kMaxReportBytes);
  FUZZ_CHECK(c.client_rate >= 0 && c.client_rate <= 1e9);
  FUZZ_CHECK(c.client_burst >= 1 && c.client_burst <= 1e9);
  FUZZ_CHECK(c.threads >= 1 && c.threads <= 4096);
  FUZZ_CHECK(c.read_timeout.count() >= 1 && c.read_timeout.count() <= 3600);
  FUZZ_CHECK(c.manifest_max_age.count() >= 1 && c.manifest_max_age.count() <= 86400 * 7);
  FUZZ_CHECK(c.max_waiting >= 1 && c.max_waiting <= 10'000'000);
  FUZZ_CHECK(c.max_db_bytes >= 0 && c.max_db_bytes <= 9'000'000'000'000'000'000);
  FUZZ_CHECK(c.retain.count() == 0 || (c.retain.count() >= 1 && c.retain.count() <= 86400LL * 36500));
}

// The configuration written back as TOML by hand: toml++'s own formatter
// writes "\n…" as a multi-line literal string, whose first newline a TOML
// reader trims (found by this target; pinion's writers do not use it).
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04X", byte);
      out += escape;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A count: an integer, except beyond 2^53, which the reader takes only as a
// float (finding F2: toml++ refuses a lossy integer-to-double conversion, so
// `max_db_bytes = 9000000000000000000` is refused while `9e18` is accepted).
std::string Float(double value);
std::string Count(std::int64_t value) {
  if (value > (std::int64_t{1} << 53)) return Float(static_cast<double>(value));
  return std::to_string(value);
}

std::string Float(double value) {
  char text[64];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);  // shortest form that reads back exactly
  FUZZ_CHECK(ec == std::errc());
  std::string out(text, end);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

// Every key is written (retain only when set: 0 is its "keep forever"
// default, which the file form cannot spell).
std::string ToToml(const collector::CollectorConfig& c) {
  std::string out;
  auto line = [&](std::string_view key, const std::string& value) { out.append(key).append(" = ").append(value) += '\n'; };
  line("listen", Quoted(c.listen));
  line("port", std::to_string(c.port));
  line("database", Quoted(c.database));
  line("manifests", Quoted(c.manifests));
  line("policy", Quoted(c.policy));
  line("tls_certificate", Quoted(c.tls_certificate));
  line("tls_key", Quoted(c.tls_key));
  line("max_body", Count(static_cast<std::int64_t>(c.max_body)));
  line("client_rate", Float(c.client_rate));
  line("client_burst", Float(c.client_burst));
  line("threads", Count(static_cast<std::int64_t>(c.threads)));
  line("read_timeout", Count(c.read_timeout.count()));
  line("manifest_max_age", Count(c.manifest_max_age.count()));
  line("max_waiting", Count(static_cast<std::int64_t>(c.max_waiting)));
  line("max_db_bytes", Count(c.max_db_bytes));
  if (c.retain.count() > 0) line("retain", Count(c.retain.count()));
  line("read_token_file", Quoted(c.read_token_file));
  return out;
}

bool Same(const collector::CollectorConfig& a, const collector::CollectorConfig& b) {
  return a.listen == b.listen && a.port == b.port && a.database == b.database && a.manifests == b.manifests &&
         a.policy == b.policy && a.tls_certificate == b.tls_certificate && a.tls_key == b.tls_key &&
         a.max_body == b.max_body && a.client_rate == b.client_rate && a.client_burst == b.client_burst &&
         a.threads == b.threads && a.read_timeout == b.read_timeout && a.manifest_max_age == b.manifest_max_age &&
         a.max_waiting == b.max_waiting && a.max_db_bytes == b.max_db_bytes && a.retain == b.retain &&
         a.read_token_file == b.read_token_file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = Load(text);
  if (!config) return 0;
  CheckBounds(*config);
  const std::string written = ToToml(*config);
  auto again = Load(written);
  if (!again.ok() || !Same(*config, *again)) {
    std::fprintf(stderr, "collector_config_fuzzer: the written configuration does not load back the same:\n%s\n%s\n",
                 written.c_str(), again.ok() ? "" : again.error().message().c_str());
    std::abort();
  }
  return 0;
}
