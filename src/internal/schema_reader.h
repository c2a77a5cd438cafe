// Internal: reading the policy schema out of a parsed document (TOML or JSON),
// shared by the policy loader and the manifest decoder (manifest.cc).
#ifndef PINION_SRC_INTERNAL_SCHEMA_READER_H_
#define PINION_SRC_INTERNAL_SCHEMA_READER_H_

#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "internal/config_value.h"
#include "pinion/policy.h"
#include "pinion/policy_loader.h"
#include "pinion/result.h"

namespace pinion::internal {

// Everything a schema error needs to name where it happened.
struct SchemaContext {
  std::string_view source;
  const PolicyLoadOptions& options;

  Error At(const ConfigValue& node, const std::string& field, ErrorCode code,
           std::string reason) const {
    return Error(code, std::move(reason))
        .WithSource(std::string(source))
        .WithField(field)
        .WithPosition(node.line, node.column);
  }
  // Relocates an error raised by a value parser (pin, host, date) onto `node`.
  Error Relocate(Error error, const ConfigValue& node, const std::string& field) const {
    return std::move(error)
        .WithSource(std::string(source))
        .WithField(field)
        .WithPosition(node.line, node.column);
  }
};

// Reads the keys of one table, checking types, and remembers which keys were
// read so that anything left over is reported as unknown.
class TableReader {
 public:
  TableReader(const ConfigValue& table, std::string field, const SchemaContext& context)
      : table_(table), field_(std::move(field)), context_(context) {}

  std::string FieldOf(std::string_view key) const {
    return field_.empty() ? std::string(key) : field_ + "." + std::string(key);
  }

  // Get returns the value of `key` if present, checking it is of one of `kinds`.
  Result<const ConfigValue*> Get(std::string_view key, std::initializer_list<ConfigValue::Kind> kinds,
                                 bool required) {
    known_.insert(std::string(key));
    for (const auto& [name, value] : table_.table) {
      if (name != key) continue;
      for (ConfigValue::Kind kind : kinds) {
        if (value.kind == kind) return &value;
      }
      std::string expected;
      for (ConfigValue::Kind kind : kinds) expected += (expected.empty() ? "" : " or ") + std::string(KindName(kind));
      return context_.At(value, FieldOf(key), ErrorCode::kPolicySchema,
                         "expected " + expected + ", found " +
                             std::string(KindName(value.kind)));
    }
    if (required) {
      return context_.At(table_, FieldOf(key), ErrorCode::kPolicySchema,
                         "missing required key '" + std::string(key) + "'");
    }
    return static_cast<const ConfigValue*>(nullptr);
  }

  Status CheckNoUnknownKeys(std::string_view allowed_list) const {
    for (const auto& [name, value] : table_.table) {
      if (known_.count(name) == 0) {
        return context_.At(value, FieldOf(name), ErrorCode::kPolicySchema,
                           "unknown key '" + name + "' (allowed: " + std::string(allowed_list) +
                               ")");
      }
    }
    return OkStatus();
  }

 private:
  const ConfigValue& table_;
  std::string field_;
  const SchemaContext& context_;
  std::set<std::string> known_;
};

// DecodeDate reads a TOML date / offset date-time or an RFC 3339 string.
Result<TimePoint> DecodeDate(const ConfigValue& node, const std::string& field,
                             const SchemaContext& context);

// PolicyHeaderExtension lets a caller read more keys of the [policy] table
// (manifests: issued_at, expires, enforcement) and supply the kill switch.
struct PolicyHeaderExtension {
  std::string_view allowed_keys;  // listed in unknown-key errors after "version"
  std::function<Result<std::optional<EnforcementOverride>>(TableReader& header)> decode;
};

// DecodePolicyDocument decodes a whole policy document (the loader's schema).
Result<PolicySnapshot> DecodePolicyDocument(const ConfigValue& root, const SchemaContext& context,
                                            const PolicyHeaderExtension* extension = nullptr);

}  // namespace pinion::internal

#endif  // PINION_SRC_INTERNAL_SCHEMA_READER_H_
