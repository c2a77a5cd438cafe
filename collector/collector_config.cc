// LoadCollectorConfig: the TOML file of `pinion serve --config`, read with
// the schema reader the policy loader uses (src/internal/schema_reader.h), so
// that an error names the file, the key, its line and column and the reason
// the same way for both files.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "collector.h"
#include "internal/config_value.h"
#include "internal/schema_reader.h"
#include "pinion/pin_source.h"
#include "pinion/report/report.h"

namespace pinion::collector {
namespace {

using internal::ConfigValue;
using Kind = ConfigValue::Kind;

// A configuration is a few hundred bytes; the bound stops a wrong path (a
// log, a database) from being read whole.
constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

constexpr std::string_view kKeys =
    "listen, port, database, manifests, policy, tls_certificate, tls_key, max_body, client_rate, "
    "client_burst, threads, read_timeout, manifest_max_age, max_waiting, max_db_bytes, retain, "
    "read_token_file";

// The keys of the top-level table, each read into its CollectorConfig field
// when present (absent keys keep their defaults).
class SettingsReader {
 public:
  SettingsReader(const ConfigValue& root, const internal::SchemaContext& context)
      : table_(root, "", context), context_(context) {}

  Status Text(std::string_view key, std::string& out) {
    PINION_ASSIGN_OR_RETURN(const ConfigValue* node, table_.Get(key, {Kind::kString}, false));
    if (node != nullptr) out = node->string;
    return OkStatus();
  }

  // Count takes a whole number from `min` to `max`: an integer, or a float
  // without a fraction (never truncated).
  template <typename T>
  Status Count(std::string_view key, T& out, std::int64_t min, std::int64_t max) {
    PINION_ASSIGN_OR_RETURN(const ConfigValue* node,
                            table_.Get(key, {Kind::kInteger, Kind::kFloat}, false));
    if (node == nullptr) return OkStatus();
    std::int64_t value = node->integer;
    // Integers beyond 2^53 stay refused, as by the reader before this one,
    // which went through double (finding F2, docs/security/FUZZING.md): the
    // collector_config fuzzer's oracle writes such counts back as floats.
    constexpr std::int64_t kLargestExactDouble = std::int64_t{1} << 53;
    if (node->kind == Kind::kInteger &&
        (value > kLargestExactDouble || value < -kLargestExactDouble)) {
      return OutOfRange(*node, key, std::to_string(min), std::to_string(max));
    }
    if (node->kind == Kind::kFloat) {
      // Written so that NaN fails the range test: it compares false with everything.
      const double number = node->floating;
      if (!(number >= static_cast<double>(min) && number <= static_cast<double>(max))) {
        return OutOfRange(*node, key, std::to_string(min), std::to_string(max));
      }
      if (std::floor(number) != number) {
        return context_.At(*node, std::string(key), ErrorCode::kPolicySchema,
                           "must be a whole number");
      }
      value = static_cast<std::int64_t>(number);
    }
    if (value < min || value > max) {
      return OutOfRange(*node, key, std::to_string(min), std::to_string(max));
    }
    out = static_cast<T>(value);
    return OkStatus();
  }

  // Rate takes any number from `min` to `max` (whole bounds).
  Status Rate(std::string_view key, double& out, std::int64_t min, std::int64_t max) {
    PINION_ASSIGN_OR_RETURN(const ConfigValue* node,
                            table_.Get(key, {Kind::kInteger, Kind::kFloat}, false));
    if (node == nullptr) return OkStatus();
    const double number =
        node->kind == Kind::kFloat ? node->floating : static_cast<double>(node->integer);
    if (!(number >= static_cast<double>(min) && number <= static_cast<double>(max))) {
      return OutOfRange(*node, key, std::to_string(min), std::to_string(max));
    }
    out = number;
    return OkStatus();
  }

  // Seconds takes a duration in whole seconds, from 1 to `max`.
  Status Seconds(std::string_view key, std::chrono::seconds& out, std::int64_t max) {
    std::int64_t seconds = out.count();
    PINION_TRY(Count(key, seconds, 1, max));
    out = std::chrono::seconds(seconds);
    return OkStatus();
  }

  Status CheckNoUnknownKeys() const { return table_.CheckNoUnknownKeys(kKeys); }

 private:
  Error OutOfRange(const ConfigValue& node, std::string_view key, const std::string& min,
                   const std::string& max) const {
    return context_.At(node, std::string(key), ErrorCode::kPolicySchema,
                       "must be a number from " + min + " to " + max);
  }

  internal::TableReader table_;
  const internal::SchemaContext& context_;
};

}  // namespace

Result<CollectorConfig> LoadCollectorConfig(const std::filesystem::path& path) {
  PINION_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, ReadFileBounded(path, kMaxConfigBytes));
  const std::string source = path.string();
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  PINION_ASSIGN_OR_RETURN(ConfigValue root, internal::ParseToml(text, source));
  const PolicyLoadOptions unused;  // the schema context's policy options: no policy is read here
  const internal::SchemaContext context{source, unused};
  SettingsReader read(root, context);
  constexpr std::int64_t kDay = 86400;
  CollectorConfig config;
  PINION_TRY(read.Text("listen", config.listen));
  PINION_TRY(read.Count("port", config.port, 0, 65535));
  PINION_TRY(read.Text("database", config.database));
  PINION_TRY(read.Text("manifests", config.manifests));
  PINION_TRY(read.Text("policy", config.policy));
  PINION_TRY(read.Text("tls_certificate", config.tls_certificate));
  PINION_TRY(read.Text("tls_key", config.tls_key));
  PINION_TRY(
      read.Count("max_body", config.max_body, 1024, static_cast<std::int64_t>(kMaxReportBytes)));
  PINION_TRY(read.Rate("client_rate", config.client_rate, 0, 1'000'000'000));
  PINION_TRY(read.Rate("client_burst", config.client_burst, 1, 1'000'000'000));
  PINION_TRY(read.Count("threads", config.threads, 1, 4096));
  PINION_TRY(read.Seconds("read_timeout", config.read_timeout, 3600));
  PINION_TRY(read.Seconds("manifest_max_age", config.manifest_max_age, 7 * kDay));
  PINION_TRY(read.Count("max_waiting", config.max_waiting, 1, 10'000'000));
  PINION_TRY(read.Count("max_db_bytes", config.max_db_bytes, 0, 9'000'000'000'000'000'000));
  PINION_TRY(read.Seconds("retain", config.retain, 36500 * kDay));
  PINION_TRY(read.Text("read_token_file", config.read_token_file));
  PINION_TRY(read.CheckNoUnknownKeys());
  return config;
}

}  // namespace pinion::collector
