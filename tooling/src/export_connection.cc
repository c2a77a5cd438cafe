// curl, envoy and hpkp: pins for one connection's leaf (curl, Envoy) or one
// host (HPKP).
#include <algorithm>

#include "export_internal.h"
#include "pinion/pin_formats.h"

namespace pinion::tooling::internal {

Result<ExportResult> ExportConnectionPins(const Policy& policy, const ExportOptions& options, ExportFormat format) {
  std::string_view target = format == ExportFormat::kCurl ? "curl" : format == ExportFormat::kEnvoy ? "Envoy" : "HPKP";
  PINION_ASSIGN_OR_RETURN(const DomainRule* rule, SelectRule(policy, options, target));
  ExportResult result;
  std::string host = rule->host.ToString();
  std::vector<const PinEntry*> pins = SpkiSha256Pins(*rule, target, result.warnings);
  if (pins.empty()) return Error(ErrorCode::kInvalidArgument, host + ": no pin " + std::string(target) + " can express");
  if (format != ExportFormat::kHpkp) {
    // curl and Envoy compare the leaf's key only.
    bool non_leaf = std::any_of(pins.begin(), pins.end(), [](const PinEntry* e) { return e->role != PinRole::kLeaf; });
    if (non_leaf) {
      result.warnings.push_back(host + ": " + std::string(target) +
                                " checks the leaf key only; pins not marked role = \"leaf\" match only if they "
                                "are the server's own key (a CA pin never matches)");
    }
    if (rule->mode == EnforcementMode::kReportOnly) {
      result.warnings.push_back(host + ": " + std::string(target) + " cannot report without enforcing; the pins are enforced");
    }
    if (rule->expires) result.warnings.push_back(host + ": " + std::string(target) + " pins do not expire");
  }
  std::vector<std::string> header = HeaderLines(policy, options);
  std::vector<Pin> values;
  for (const PinEntry* entry : pins) values.push_back(entry->pin);
  switch (format) {
    case ExportFormat::kCurl:
      // A curl config file (curl -K FILE); `pinion pin --format curl` gives the bare string.
      result.text = LineComment(header, "# ") + "pinnedpubkey = \"" + *FormatCurlPinList(values) + "\"\n";
      break;
    case ExportFormat::kEnvoy: {
      std::string yaml = LineComment(header, "# ") +
                         "# Envoy UpstreamTlsContext (or DownstreamTlsContext) fragment.\n"
                         "common_tls_context:\n  validation_context:\n    verify_certificate_spki:\n";
      for (const PinEntry* entry : pins) {
        yaml += "    - \"" + entry->pin.Base64() + "\"" +
                (entry->label.empty() ? "" : "  # " + CommentText(entry->label)) + "\n";
      }
      result.text = yaml;
      break;
    }
    default: {
      std::int64_t max_age = 5184000;  // 60 days, when the policy sets no expiry
      if (rule->expires) {
        max_age = std::max<std::int64_t>(0, (*rule->expires - options.now).count());
      } else {
        result.warnings.push_back(host + ": no expiry in the policy; max-age is 60 days");
      }
      std::string value;
      for (const PinEntry* entry : pins) value += "pin-sha256=\"" + entry->pin.Base64() + "\"; ";
      value += "max-age=" + std::to_string(max_age);
      if (rule->host.include_subdomains()) value += "; includeSubDomains";
      if (!rule->report_uris.empty()) value += "; report-uri=\"" + rule->report_uris.front() + "\"";
      std::string name = rule->mode == EnforcementMode::kReportOnly ? "Public-Key-Pins-Report-Only" : "Public-Key-Pins";
      header.insert(header.begin(), "DEPRECATED: browsers no longer honour HPKP (RFC 7469); use this header for "
                                    "legacy clients and to collect reports only.");
      result.text = LineComment(header, "# ") + name + ": " + value + "\n";
      result.warnings.push_back("HPKP is deprecated and ignored by current browsers");
    }
  }
  return result;
}

}  // namespace pinion::tooling::internal
