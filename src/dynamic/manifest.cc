#include "pinion/dynamic/manifest.h"

#include <nlohmann/json.hpp>

#include "internal/config_value.h"
#include "internal/schema_reader.h"
#include "pinion/certificate_info.h"
#include "pinion/pin_source.h"
#include "pinion/policy_writer.h"

namespace pinion {
namespace {

using internal::ConfigValue;
using internal::SchemaContext;
using internal::TableReader;
using Kind = ConfigValue::Kind;

constexpr std::string_view kHeaderKeys = "issued_at, expires, enforcement";

Status CheckTimes(const ManifestTimes& times, const std::optional<EnforcementOverride>& kill_switch) {
  if (times.expires <= times.issued_at) {
    return Error(ErrorCode::kInvalidArgument, "expires must be later than issued_at")
        .WithField("policy.expires");
  }
  if (kill_switch && kill_switch->until <= times.issued_at) {
    return Error(ErrorCode::kInvalidArgument, "the kill switch's until must be later than issued_at")
        .WithField("policy.enforcement.until");
  }
  return OkStatus();
}

Result<EnforcementOverride> DecodeKillSwitch(const ConfigValue& node, const SchemaContext& context) {
  const std::string field = "policy.enforcement";
  TableReader reader(node, field, context);
  PINION_ASSIGN_OR_RETURN(const ConfigValue* mode, reader.Get("mode", {Kind::kString}, true));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* hosts, reader.Get("hosts", {Kind::kArray}, false));
  PINION_ASSIGN_OR_RETURN(const ConfigValue* until,
                          reader.Get("until", {Kind::kString, Kind::kDateTime}, true));
  PINION_TRY(reader.CheckNoUnknownKeys("mode, hosts, until"));
  EnforcementOverride kill_switch;
  std::optional<OverrideMode> mode_value = kOverrideModeNames.Parse(mode->string);
  if (!mode_value) {
    return context.At(*mode, field + ".mode", ErrorCode::kPolicySchema,
                      "mode must be \"disabled\" or \"report-only\", not \"" + mode->string + "\"");
  }
  kill_switch.mode = *mode_value;
  PINION_ASSIGN_OR_RETURN(kill_switch.until, internal::DecodeDate(*until, field + ".until", context));
  if (hosts != nullptr) {
    if (hosts->array.empty() || hosts->array.size() > kMaxPolicyDomains) {
      return context.At(*hosts, field + ".hosts", ErrorCode::kPolicySchema,
                        "hosts must list 1 to " + std::to_string(kMaxPolicyDomains) +
                            " host patterns (leave it out to cover every host)");
    }
    for (std::size_t i = 0; i < hosts->array.size(); ++i) {
      const ConfigValue& host = hosts->array[i];
      std::string host_field = field + ".hosts[" + std::to_string(i) + "]";
      if (host.kind != Kind::kString) {
        return context.At(host, host_field, ErrorCode::kPolicySchema, "expected a string");
      }
      auto pattern = HostPattern::Parse(host.string, false);
      if (!pattern) return context.Relocate(std::move(pattern).error(), host, host_field);
      kill_switch.hosts.push_back(std::move(*pattern));
    }
  }
  return kill_switch;
}

}  // namespace

bool KillSwitchFits(const EnforcementOverride& kill_switch, TimePoint issued_at,
                    std::chrono::seconds max_kill_switch) {
  return kill_switch.until - issued_at <= max_kill_switch;
}

Result<PolicySnapshot> WithKillSwitch(const Policy& policy, EnforcementOverride kill_switch,
                                      TimePoint issued_at, std::chrono::seconds max_kill_switch) {
  if (!KillSwitchFits(kill_switch, issued_at, max_kill_switch)) {
    const auto days = max_kill_switch.count() / 86400;
    std::string limit = max_kill_switch.count() % 86400 == 0 ? std::to_string(days) + " days"
                                                             : std::to_string(max_kill_switch.count()) + " s";
    return Error(ErrorCode::kKillSwitchTooLong, "until " + FormatUtc(kill_switch.until) + " is more than " +
                                                    limit + " after issued_at; clients would refuse the manifest")
        .WithField("policy.enforcement.until");
  }
  std::vector<DomainRule> rules(policy.rules().begin(), policy.rules().end());
  return Policy::Create(policy.version(), std::move(rules), std::move(kill_switch));
}

Result<std::string> ManifestPayloadJson(const Policy& policy, const ManifestTimes& times) {
  PINION_TRY(CheckTimes(times, policy.enforcement_override()));
  // A client has no copy of the signer's files: anchors travel as PEM text.
  nlohmann::ordered_json root = nlohmann::ordered_json::parse(PolicyToJson(policy, {.self_contained = true}));
  nlohmann::ordered_json& header = root["policy"];
  header["issued_at"] = FormatUtc(times.issued_at);
  header["expires"] = FormatUtc(times.expires);
  if (const auto& kill_switch = policy.enforcement_override()) {
    nlohmann::ordered_json block = {{"mode", OverrideModeName(kill_switch->mode)}};
    if (!kill_switch->hosts.empty()) {
      nlohmann::ordered_json hosts = nlohmann::ordered_json::array();
      for (const HostPattern& host : kill_switch->hosts) hosts.push_back(host.ToString());
      block["hosts"] = hosts;
    }
    block["until"] = FormatUtc(kill_switch->until);
    header["enforcement"] = block;
  }
  return root.dump(2) + "\n";
}

Result<Manifest> ParseManifestPayload(std::string_view json, std::string_view source_name) {
  if (json.size() > kMaxEnvelopeBytes) {
    return Error(ErrorCode::kInputTooLarge,
                 "manifest payload is larger than " + std::to_string(kMaxEnvelopeBytes) + " bytes")
        .WithSource(std::string(source_name));
  }
  PINION_ASSIGN_OR_RETURN(ConfigValue root, internal::ParseJson(json, source_name));
  if (root.kind != Kind::kTable) {
    return Error(ErrorCode::kPolicySchema, "the manifest payload must be a JSON object")
        .WithSource(std::string(source_name));
  }
  PolicyLoadOptions options{.allow_anchor_files = false};
  SchemaContext context{source_name, options};
  ManifestTimes times;
  internal::PolicyHeaderExtension extension{
      kHeaderKeys,
      [&](TableReader& header) -> Result<std::optional<EnforcementOverride>> {
        PINION_ASSIGN_OR_RETURN(const ConfigValue* issued_at,
                                header.Get("issued_at", {Kind::kString, Kind::kDateTime}, true));
        PINION_ASSIGN_OR_RETURN(const ConfigValue* expires,
                                header.Get("expires", {Kind::kString, Kind::kDateTime}, true));
        PINION_ASSIGN_OR_RETURN(const ConfigValue* enforcement,
                                header.Get("enforcement", {Kind::kTable}, false));
        PINION_ASSIGN_OR_RETURN(times.issued_at,
                                internal::DecodeDate(*issued_at, "policy.issued_at", context));
        PINION_ASSIGN_OR_RETURN(times.expires, internal::DecodeDate(*expires, "policy.expires", context));
        std::optional<EnforcementOverride> kill_switch;
        if (enforcement != nullptr) {
          PINION_ASSIGN_OR_RETURN(kill_switch, DecodeKillSwitch(*enforcement, context));
        }
        return kill_switch;
      }};
  PINION_ASSIGN_OR_RETURN(PolicySnapshot policy,
                          internal::DecodePolicyDocument(root, context, &extension));
  if (Status status = CheckTimes(times, policy->enforcement_override()); !status.ok()) {
    return Error(ErrorCode::kPolicySchema, status.error().message())
        .WithSource(std::string(source_name))
        .WithField(status.error().field());
  }
  return Manifest{std::move(policy), times};
}

Result<VerifiedManifest> VerifyManifest(std::string_view envelope_json,
                                        std::span<const TrustedKey> trusted,
                                        const ManifestAcceptance& rules,
                                        std::string_view source_name) {
  auto with_source = [&](Error error) { return std::move(error).WithSource(std::string(source_name)); };
  auto envelope = ParseDsseEnvelope(envelope_json);
  if (!envelope) return with_source(std::move(envelope).error());
  // The signature first: nothing of an unsigned payload is even parsed.
  auto verified = VerifyDsse(*envelope, kManifestPayloadType, trusted);
  if (!verified) return with_source(std::move(verified).error());
  std::string_view payload(reinterpret_cast<const char*>(verified->payload.data()),
                           verified->payload.size());
  PINION_ASSIGN_OR_RETURN(Manifest manifest, ParseManifestPayload(payload, source_name));

  if (manifest.version() <= rules.active_version) {
    return with_source(Error(ErrorCode::kManifestRollback,
                             "version " + std::to_string(manifest.version()) +
                                 " is not above the active version " +
                                 std::to_string(rules.active_version) + " (replay or rollback)")
                           .WithField("policy.version"));
  }
  if (rules.check_expiry && rules.now >= manifest.times.expires) {
    return with_source(Error(ErrorCode::kManifestExpired,
                             "expired at " + FormatUtc(manifest.times.expires) + " (now " +
                                 FormatUtc(rules.now) + ")")
                           .WithField("policy.expires"));
  }
  if (rules.check_expiry && manifest.times.issued_at > rules.now + rules.max_clock_skew) {
    return with_source(Error(ErrorCode::kManifestNotYetValid,
                             "issued_at " + FormatUtc(manifest.times.issued_at) +
                                 " is more than " + std::to_string(rules.max_clock_skew.count()) +
                                 " s ahead of this clock (" + FormatUtc(rules.now) + ")")
                           .WithField("policy.issued_at"));
  }
  if (const auto& kill_switch = manifest.kill_switch();
      kill_switch && !KillSwitchFits(*kill_switch, manifest.times.issued_at, rules.max_kill_switch)) {
    return with_source(Error(ErrorCode::kKillSwitchTooLong,
                             "until " + FormatUtc(kill_switch->until) + " is more than " +
                                 std::to_string(rules.max_kill_switch.count() / 86400) +
                                 " days after issued_at")
                           .WithField("policy.enforcement.until"));
  }
  return VerifiedManifest{std::move(manifest), std::move(verified->keyid)};
}

}  // namespace pinion
