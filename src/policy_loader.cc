#include "pinion/policy_loader.h"

#include <algorithm>
#include <set>

#include "internal/config_value.h"
#include "internal/schema_reader.h"
#include "pinion/pin_source.h"

namespace pinion {
namespace {

using internal::ConfigValue;
using Kind = ConfigValue::Kind;
using internal::SchemaContext;
using internal::TableReader;
using Context = SchemaContext;
using internal::DecodeDate;


Result<PinEntry> DecodePin(const ConfigValue& node, const std::string& field,
                           const Context& context) {
  TableReader reader(node, field, context);
  PINION_ASSIGN_OR_RETURN(const ConfigValue* pin_text, reader.Get("pin", {Kind::kString}, true));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* label, reader.Get("label", {Kind::kString}, false));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* role, reader.Get("role", {Kind::kString}, false));
  PINION_TRY(reader.CheckNoUnknownKeys("pin, label, role"));
  auto pin = Pin::Parse(pin_text->string);
  if (!pin) return context.Relocate(std::move(pin).error(), *pin_text, field + ".pin");
  PinEntry entry{*pin, label != nullptr ? label->string : std::string()};
  if (role != nullptr) {
    // "" is the table's name for no role, which a policy states by omitting the key.
    auto parsed = role->string.empty() ? std::nullopt : kPinRoleNames.Parse(role->string);
    if (parsed) {
      entry.role = *parsed;
    } else {
      return context.At(*role, field + ".role", ErrorCode::kPolicySchema,
                        "role must be \"leaf\" or \"ca\", not \"" + role->string + "\"");
    }
  }
  if (entry.label.size() > kMaxLabelLength) {
    return context.At(*label, field + ".label", ErrorCode::kInputTooLarge,
                      "label longer than " + std::to_string(kMaxLabelLength) + " characters");
  }
  return entry;
}

Status ValidateReportUri(const ConfigValue& node, const std::string& field,
                         const Context& context) {
  if (!IsValidReportUri(node.string)) {
    return context.At(node, field, ErrorCode::kPolicySchema,
                      "report_uri must be an absolute https:// (or http://) URI with a host, "
                      "printable ASCII without spaces or quotes");
  }
  return OkStatus();
}

// Only the form is checked here: the loader does not know the linter's
// catalogue, so `pinion lint` reports a well-formed but unknown ID itself.
Result<std::vector<std::string>> DecodeLintDisable(const ConfigValue& node, const std::string& field,
                                                   const Context& context) {
  if (node.array.size() > kMaxLintDisablePerDomain) {
    return context.At(node, field, ErrorCode::kInputTooLarge,
                      "more than " + std::to_string(kMaxLintDisablePerDomain) + " lint_disable entries");
  }
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < node.array.size(); ++i) {
    const ConfigValue& id = node.array[i];
    std::string id_field = field + "[" + std::to_string(i) + "]";
    if (id.kind != Kind::kString || !IsLintRuleId(id.string)) {
      return context.At(id, id_field, ErrorCode::kPolicySchema,
                        "lint_disable takes lint rule IDs like \"PIN010\" (docs/LINT.md)");
    }
    if (std::find(ids.begin(), ids.end(), id.string) != ids.end()) {
      return context.At(id, id_field, ErrorCode::kPolicySchema, "duplicate lint rule ID " + id.string);
    }
    ids.push_back(id.string);
  }
  return ids;
}

Result<TrustAnchors> DecodeAnchors(const ConfigValue& node, const std::string& field,
                                   const Context& context) {
  TrustAnchors anchors;
  if (node.string == "system") return anchors;
  if (node.string.empty()) {
    return context.At(node, field, ErrorCode::kPolicyAnchors,
                      "anchors must be \"system\", the path of a PEM bundle or the PEM text itself");
  }
  if (node.string.starts_with("-----BEGIN")) {
    // Inline PEM: how manifests carry anchors (a client has no copy of the signer's files).
    auto certificates = ReadCertificates(
        {reinterpret_cast<const std::uint8_t*>(node.string.data()), node.string.size()}, field);
    if (!certificates) {
      return context.At(node, field, ErrorCode::kPolicyAnchors,
                        "inline anchors are not a PEM certificate bundle: " +
                            certificates.error().ToString());
    }
    if (certificates->size() > kMaxAnchorsPerDomain) {
      return context.At(node, field, ErrorCode::kInputTooLarge,
                        "more than " + std::to_string(kMaxAnchorsPerDomain) + " anchors");
    }
    anchors.path = "(inline)";
    anchors.certificates_der = std::move(*certificates);
    anchors.embedded = true;
    return anchors;
  }
  if (!context.options.allow_anchor_files) {
    return context.At(node, field, ErrorCode::kPolicyAnchors,
                      "anchors here must be \"system\" or inline PEM text, not a file path");
  }
  std::filesystem::path path = node.string;
  if (path.is_relative() && !context.options.base_directory.empty()) {
    path = context.options.base_directory / path;
  }
  auto certificates = ReadCertificatesFromFile(path);
  if (!certificates) {
    return context.At(node, field, ErrorCode::kPolicyAnchors,
                      "cannot use anchors bundle '" + path.string() +
                          "': " + certificates.error().ToString());
  }
  if (certificates->size() > kMaxAnchorsPerDomain) {
    return context.At(node, field, ErrorCode::kInputTooLarge,
                      "more than " + std::to_string(kMaxAnchorsPerDomain) + " anchors");
  }
  // Absolute, so a policy written elsewhere (PolicyToToml) still finds the bundle.
  anchors.path = std::filesystem::absolute(path).lexically_normal().string();
  anchors.certificates_der = std::move(*certificates);
  return anchors;
}

Result<DomainRule> DecodeDomain(const ConfigValue& node, const std::string& field,
                                const Context& context) {
  TableReader reader(node, field, context);
  PINION_ASSIGN_OR_RETURN(const ConfigValue* host, reader.Get("host", {Kind::kString}, true));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* subdomains,
                          reader.Get("include_subdomains", {Kind::kBool}, false));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* mode, reader.Get("mode", {Kind::kString}, false));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* expires,
                          reader.Get("expires", {Kind::kDateTime, Kind::kString}, false));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* on_expiry,
                          reader.Get("on_expiry", {Kind::kString}, false));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* report_uri,
                          reader.Get("report_uri", {Kind::kArray}, false));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* anchors,
                          reader.Get("anchors", {Kind::kString}, false));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* lint_disable,
                          reader.Get("lint_disable", {Kind::kArray}, false));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* pins, reader.Get("pins", {Kind::kArray}, true));
  PINION_TRY(reader.CheckNoUnknownKeys(
      "host, include_subdomains, mode, expires, on_expiry, report_uri, anchors, lint_disable, pins"));

  auto pattern = HostPattern::Parse(host->string, subdomains != nullptr && subdomains->boolean);
  if (!pattern) return context.Relocate(std::move(pattern).error(), *host, field + ".host");
  DomainRule rule{.host = std::move(*pattern), .source_line = node.line, .source_column = node.column};

  if (mode != nullptr) {
    auto parsed = kEnforcementModeNames.Parse(mode->string);
    if (!parsed) {
      return context.At(*mode, field + ".mode", ErrorCode::kPolicySchema,
                        "mode must be \"enforce\" or \"report-only\", not \"" + mode->string + "\"");
    }
    rule.mode = *parsed;
  }
  if (expires != nullptr) {
    PINION_ASSIGN_OR_RETURN(rule.expires, DecodeDate(*expires, field + ".expires", context));
  }
  if (on_expiry != nullptr) {
    auto parsed = kExpiryActionNames.Parse(on_expiry->string);
    if (!parsed) {
      return context.At(*on_expiry, field + ".on_expiry", ErrorCode::kPolicySchema,
                        "on_expiry must be \"allow\" or \"enforce\", not \"" + on_expiry->string + "\"");
    }
    rule.on_expiry = *parsed;
  }
  if (report_uri != nullptr) {
    if (report_uri->array.size() > kMaxReportUris) {
      return context.At(*report_uri, field + ".report_uri", ErrorCode::kInputTooLarge,
                        "more than " + std::to_string(kMaxReportUris) + " report URIs");
    }
    for (std::size_t i = 0; i < report_uri->array.size(); ++i) {
      const ConfigValue& uri = report_uri->array[i];
      std::string uri_field = field + ".report_uri[" + std::to_string(i) + "]";
      if (uri.kind != Kind::kString) {
        return context.At(uri, uri_field, ErrorCode::kPolicySchema, "expected a string");
      }
      PINION_TRY(ValidateReportUri(uri, uri_field, context));
      rule.report_uris.push_back(uri.string);
    }
  }
  if (anchors != nullptr) {
    PINION_ASSIGN_OR_RETURN(rule.anchors, DecodeAnchors(*anchors, field + ".anchors", context));
  }
  if (lint_disable != nullptr) {
    PINION_ASSIGN_OR_RETURN(rule.lint_disable,
                            DecodeLintDisable(*lint_disable, field + ".lint_disable", context));
  }
  if (pins->array.size() > kMaxPinsPerDomain) {
    return context.At(*pins, field + ".pins", ErrorCode::kInputTooLarge,
                      "more than " + std::to_string(kMaxPinsPerDomain) + " pins");
  }
  for (std::size_t i = 0; i < pins->array.size(); ++i) {
    const ConfigValue& entry = pins->array[i];
    std::string pin_field = field + ".pins[" + std::to_string(i) + "]";
    if (entry.kind != Kind::kTable) {
      return context.At(entry, pin_field, ErrorCode::kPolicySchema,
                        "expected a table like { pin = \"sha256/...\", label = \"...\" }, found " +
                            std::string(internal::KindName(entry.kind)));
    }
    PINION_ASSIGN_OR_RETURN(PinEntry pin, DecodePin(entry, pin_field, context));
    rule.pins.push_back(std::move(pin));
  }
  return rule;
}

Status CheckPolicySize(std::string_view text, std::string_view source_name) {
  if (text.size() > kMaxPolicyBytes) {
    return Error(ErrorCode::kInputTooLarge,
                 "policy is larger than " + std::to_string(kMaxPolicyBytes) + " bytes")
        .WithSource(std::string(source_name));
  }
  return OkStatus();
}

}  // namespace

namespace internal {

Result<TimePoint> DecodeDate(const ConfigValue& node, const std::string& field,
                             const SchemaContext& context) {
  if (node.kind == Kind::kDateTime) return node.date_time;
  auto parsed = ParseTimestamp(node.string);
  if (!parsed) return context.Relocate(std::move(parsed).error(), node, field);
  return *parsed;
}

Result<PolicySnapshot> DecodePolicyDocument(const ConfigValue& root, const SchemaContext& context,
                                            const PolicyHeaderExtension* extension) {
  TableReader reader(root, "", context);
  PINION_ASSIGN_OR_RETURN(const ConfigValue* header, reader.Get("policy", {Kind::kTable}, true));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* domains, reader.Get("domain", {Kind::kArray}, false));
  PINION_TRY(reader.CheckNoUnknownKeys("policy, domain"));

  TableReader header_reader(*header, "policy", context);
  PINION_ASSIGN_OR_RETURN(const ConfigValue* version,
                          header_reader.Get("version", {Kind::kInteger}, true));
  std::optional<EnforcementOverride> enforcement_override;
  if (extension != nullptr) {
    PINION_ASSIGN_OR_RETURN(enforcement_override, extension->decode(header_reader));
    PINION_TRY(header_reader.CheckNoUnknownKeys("version, " + std::string(extension->allowed_keys)));
  } else {
    PINION_TRY(header_reader.CheckNoUnknownKeys("version"));
  }
  if (version->integer < 1) {
    return context.At(*version, "policy.version", ErrorCode::kPolicySchema,
                      "version must be a positive integer, raised on every change");
  }

  std::vector<DomainRule> rules;
  if (domains != nullptr) {
    if (domains->array.size() > kMaxPolicyDomains) {
      return context.At(*domains, "domain", ErrorCode::kInputTooLarge,
                        "more than " + std::to_string(kMaxPolicyDomains) + " domain rules");
    }
    rules.reserve(domains->array.size());
    for (std::size_t i = 0; i < domains->array.size(); ++i) {
      const ConfigValue& node = domains->array[i];
      std::string field = "domain[" + std::to_string(i) + "]";
      if (node.kind != Kind::kTable) {
        return context.At(node, field, ErrorCode::kPolicySchema, "expected a table");
      }
      PINION_ASSIGN_OR_RETURN(DomainRule rule, DecodeDomain(node, field, context));
      rules.push_back(std::move(rule));
    }
  }
  auto policy = Policy::Create(static_cast<std::uint64_t>(version->integer), std::move(rules),
                               std::move(enforcement_override));
  if (!policy) {
    // Create names the field; add the position of that domain entry.
    Error error = std::move(policy).error().WithSource(std::string(context.source));
    std::size_t index = 0;
    if (domains != nullptr && std::sscanf(error.field().c_str(), "domain[%zu]", &index) == 1 &&
        index < domains->array.size()) {
      const ConfigValue& node = domains->array[index];
      error = std::move(error).WithPosition(node.line, node.column);
    }
    return error;
  }
  return policy;
}

}  // namespace internal

Result<PolicySnapshot> ParsePolicyToml(std::string_view text, std::string_view source_name,
                                       const PolicyLoadOptions& options) {
  PINION_TRY(CheckPolicySize(text, source_name));
  PINION_ASSIGN_OR_RETURN(ConfigValue root, internal::ParseToml(text, source_name));
  return internal::DecodePolicyDocument(root, Context{source_name, options});
}

Result<PolicySnapshot> ParsePolicyJson(std::string_view text, std::string_view source_name,
                                       const PolicyLoadOptions& options) {
  PINION_TRY(CheckPolicySize(text, source_name));
  PINION_ASSIGN_OR_RETURN(ConfigValue root, internal::ParseJson(text, source_name));
  if (root.kind != Kind::kTable) {
    return Error(ErrorCode::kPolicySchema, "the top level must be an object")
        .WithSource(std::string(source_name));
  }
  return internal::DecodePolicyDocument(root, Context{source_name, options});
}

Result<PolicySnapshot> LoadPolicyFile(const std::filesystem::path& path) {
  PINION_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes,
                          ReadFileBounded(path, kMaxPolicyBytes));
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  PolicyLoadOptions options{.base_directory = path.parent_path()};
  std::string name = path.string();
  std::string extension = path.extension().string();
  bool json = extension == ".json";
  if (extension != ".json" && extension != ".toml") {
    std::size_t first = text.find_first_not_of(" \t\r\n");
    json = first != std::string_view::npos && text[first] == '{';
  }
  return json ? ParsePolicyJson(text, name, options) : ParsePolicyToml(text, name, options);
}

}  // namespace pinion
