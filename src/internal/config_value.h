// Internal: one tree for TOML and JSON documents, so the policy schema is
// decoded in one place whatever the file format.
#ifndef PINION_SRC_INTERNAL_CONFIG_VALUE_H_
#define PINION_SRC_INTERNAL_CONFIG_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pinion/clock.h"
#include "pinion/result.h"

namespace pinion::internal {

struct ConfigMember;

struct ConfigValue {
  enum class Kind : std::uint8_t { kBool, kInteger, kFloat, kString, kDateTime, kArray, kTable };

  Kind kind = Kind::kTable;
  bool boolean = false;
  std::int64_t integer = 0;
  double floating = 0;
  std::string string;   // kString; for kDateTime, the source text
  TimePoint date_time;  // kDateTime (TOML dates and offset date-times)
  std::vector<ConfigValue> array;
  std::vector<ConfigMember> table;  // in document order (TOML: key order)
  std::uint32_t line = 0;    // 1-based where the format reports it, else 0
  std::uint32_t column = 0;
};

struct ConfigMember {
  std::string key;
  ConfigValue value;
};

std::string_view KindName(ConfigValue::Kind kind);

// ParseToml / ParseJson build the tree; syntax errors are kPolicySyntax with a position.
Result<ConfigValue> ParseToml(std::string_view text, std::string_view source_name);
Result<ConfigValue> ParseJson(std::string_view text, std::string_view source_name);

}  // namespace pinion::internal

#endif  // PINION_SRC_INTERNAL_CONFIG_VALUE_H_
