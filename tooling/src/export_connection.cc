// curl, envoy and hpkp: pins for one connection's leaf (curl, Envoy) or one
// host (HPKP).
#include <algorithm>
#include <optional>

#include "export_internal.h"
#include "pinion/certificate_info.h"
#include "pinion/pin_formats.h"

namespace pinion::tooling::internal {
namespace {

// AnchorsFile: the rule's anchors bundle as a double-quoted path (curl config
// and YAML read the same escapes), or nullopt when the anchors are the system
// store or have no file (inline, manifest, compiled in).
std::optional<std::string> AnchorsFile(const DomainRule& rule) {
  if (rule.anchors.use_system() || rule.anchors.embedded) return std::nullopt;
  std::string quoted = "\"";
  for (char c : rule.anchors.path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return std::nullopt;
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

Result<ExportResult> ExportConnectionPins(const Policy& policy, const ExportOptions& options, ExportFormat format) {
  std::string_view target = format == ExportFormat::kCurl ? "curl" : format == ExportFormat::kEnvoy ? "Envoy" : "HPKP";
  PINION_ASSIGN_OR_RETURN(const DomainRule* rule, SelectRule(policy, options, target));
  ExportResult result;
  std::string host = rule->host.ToString();
  std::string name(target);
  std::vector<const PinEntry*> pins = SpkiSha256Pins(*rule, target, result.changes);
  if (pins.empty()) return Error(ErrorCode::kInvalidArgument, host + ": no pin " + name + " can express");
  if (format != ExportFormat::kHpkp) {
    // curl (--pinnedpubkey) and Envoy (verify_certificate_spki) compare the
    // leaf's key only. A CA pin can never match there; keeping it would only
    // hide that the rule's other pins are all that is left.
    std::vector<const PinEntry*> leaf_pins;
    for (const PinEntry* entry : pins) {
      if (entry->role == PinRole::kCa) {
        Lossy(result.changes, *rule, name + " checks the leaf key only; the CA pin " + entry->pin.ToString() +
                                         " can never match there and is left out");
      } else {
        if (entry->role == PinRole::kUnspecified) {
          Lossy(result.changes, *rule, name + " checks the leaf key only; " + entry->pin.ToString() +
                                           " has no role, so if it is a CA key it never matches there (set "
                                           "role = \"leaf\" once you know it is the server's key)");
        }
        leaf_pins.push_back(entry);
      }
    }
    if (leaf_pins.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   host + ": every pin of the rule is a CA pin, and " + name +
                       " compares the leaf's key only, so the output could never accept a chain (curl would fail "
                       "every transfer with exit 90); export the leaf keys' pins for " + name +
                       ", or use a target that checks the whole chain");
    }
    pins = std::move(leaf_pins);
    if (rule->mode == EnforcementMode::kReportOnly) {
      Lossy(result.changes, *rule, name + " cannot report without enforcing; the report-only pins are enforced, "
                                          "which can reject chains the policy only reports");
    }
    NoExpiry(*rule, name, result.changes);
    NoReports(*rule, name, result.changes);
    if (!rule->anchors.use_system() && !AnchorsFile(*rule)) {
      Lossy(result.changes, *rule, "the anchors are in the policy itself, not in a file " + name +
                                       " can read; it validates with its default store unless you give it them");
    }
  }
  std::vector<std::string> header = HeaderLines(policy, options);
  std::vector<Pin> values;
  for (const PinEntry* entry : pins) values.push_back(entry->pin);
  switch (format) {
    case ExportFormat::kCurl:
      // A curl config file (curl -K FILE); `pinion pin --format curl` gives the bare string.
      result.text = LineComment(header, "# ") + "pinnedpubkey = \"" + *FormatCurlPinList(values) + "\"\n";
      // The rule's anchors replace the trust store, as --cacert does.
      if (auto anchors = AnchorsFile(*rule)) result.text += "cacert = " + *anchors + "\n";
      break;
    case ExportFormat::kEnvoy: {
      std::string yaml = LineComment(header, "# ") +
                         "# Envoy UpstreamTlsContext (or DownstreamTlsContext) fragment.\n"
                         "common_tls_context:\n  validation_context:\n    verify_certificate_spki:\n";
      for (const PinEntry* entry : pins) {
        yaml += "    - \"" + entry->pin.Base64() + "\"" +
                (entry->label.empty() ? "" : "  # " + CommentText(entry->label)) + "\n";
      }
      if (auto anchors = AnchorsFile(*rule)) {
        yaml += "    trusted_ca:\n      filename: " + *anchors + "\n";
      } else if (rule->anchors.use_system()) {
        Step(result.changes, *rule, "the fragment names no trusted_ca: add your system's CA bundle so that Envoy "
                                    "validates the chain before the pins, as pinion does");
      }
      result.text = yaml;
      break;
    }
    default: {
      std::int64_t max_age = 5184000;  // 60 days, when the policy sets no expiry
      if (rule->expires) {
        max_age = std::max<std::int64_t>(0, (*rule->expires - options.now).count());
        // RFC 7469 section 4.1 lets browsers cap max-age; the importer reads anything
        // longer as capped, so the export says so rather than promise a longer life.
        constexpr std::int64_t kOneYear = 31536000;
        if (max_age > kOneYear) {
          max_age = kOneYear;
          Lossy(result.changes, *rule, "HPKP max-age is capped at one year (RFC 7469 section 4.1); the pins lapse "
                                       "a year after the last response instead of at the policy's expiry " +
                                           FormatUtc(*rule->expires));
        }
      } else {
        Note(result.changes, *rule, "no expiry in the policy; max-age is 60 days, renewed by every response");
      }
      if (rule->expires && rule->on_expiry == ExpiryAction::kEnforce) {
        Lossy(result.changes, *rule, "HPKP pins lapse at max-age, so after the expiry browsers stop checking where "
                                     "the policy (on_expiry = \"enforce\") keeps enforcing");
      }
      if (rule->report_uris.size() > 1) {
        Lossy(result.changes, *rule, "HPKP takes one report-uri; only " + rule->report_uris.front() + " is kept");
      }
      if (!rule->anchors.use_system()) {
        Lossy(result.changes, *rule, "HPKP cannot replace trust anchors; browsers validate with their own store");
      }
      HpkpHeader hpkp{.max_age_seconds = max_age, .include_subdomains = rule->host.include_subdomains()};
      for (const PinEntry* entry : pins) hpkp.pins.push_back(entry->pin);
      if (!rule->report_uris.empty()) hpkp.report_uri = rule->report_uris.front();
      PINION_ASSIGN_OR_RETURN(std::string value, FormatHpkpHeader(hpkp));
      std::string header_name = rule->mode == EnforcementMode::kReportOnly ? "Public-Key-Pins-Report-Only" : "Public-Key-Pins";
      header.insert(header.begin(), "DEPRECATED: browsers no longer honour HPKP (RFC 7469); use this header for "
                                    "legacy clients and to collect reports only.");
      result.text = LineComment(header, "# ") + header_name + ": " + value + "\n";
      Note(result.changes, *rule, "HPKP is deprecated and ignored by current browsers");
    }
  }
  return result;
}

}  // namespace pinion::tooling::internal
