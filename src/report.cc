#include "pinion/report.h"

#include <nlohmann/json.hpp>

#include "internal/crypto.h"
#include "pinion/certificate_info.h"
#include "pinion/host_pattern.h"
#include "pinion/pin_source.h"

namespace pinion {
namespace {

std::string HpkpPin(const Pin& pin) { return "pin-sha256=\"" + pin.Base64() + "\""; }

bool IsSpkiSha256(const Pin& pin) {
  return pin.target() == PinTarget::kSpki && pin.algorithm() == HashAlgorithm::kSha256;
}

}  // namespace

std::string_view ReportFormatName(ReportFormat format) {
  switch (format) {
    case ReportFormat::kPinion: return "pinion";
    case ReportFormat::kHpkp: return "hpkp";
    case ReportFormat::kTrustKit: return "trustkit";
  }
  return "unknown";
}

std::string FailureReport::Fingerprint() const {
  std::string key = hostname + '\0' + std::to_string(port) + '\0' + reason + '\0' + std::to_string(policy_version);
  for (const Pin& pin : validated_chain_pins) key += '\0' + pin.ToString();
  if (validated_chain_pins.empty()) {
    for (const std::string& pem : validated_certificate_chain) key += '\0' + pem;
  }
  return internal::Sha256Hex(key);
}

bool IsReportable(const Verdict& verdict) {
  switch (verdict.reason) {
    case VerdictReason::kMismatch:
    case VerdictReason::kReportOnlyMismatch:
    case VerdictReason::kPolicyExpired:
    case VerdictReason::kKillSwitch:
      return verdict.rule != nullptr;
    case VerdictReason::kMatched:
    case VerdictReason::kNotPinned:
    case VerdictReason::kDebugOverride:
    case VerdictReason::kInvalidHost:
      return false;
  }
  return false;
}

std::optional<FailureReport> BuildReport(const Verdict& verdict, const AppInfo& app) {
  if (!IsReportable(verdict)) return std::nullopt;
  const DomainRule& rule = *verdict.rule;
  FailureReport report;
  report.date_time = verdict.evaluated_at;
  report.hostname = verdict.host;
  report.port = verdict.port;
  report.effective_expiration_date = rule.expires;
  report.include_subdomains = rule.host.kind() == HostPatternKind::kSubtree;
  report.noted_hostname = rule.host.ToString();
  for (const auto& der : verdict.served_chain_der) report.served_certificate_chain.push_back(CertificatesToPem({der}));
  for (const auto& der : verdict.validated_chain_der) report.validated_certificate_chain.push_back(CertificatesToPem({der}));
  for (const PinEntry& entry : rule.pins) report.known_pins.push_back(entry.pin);
  for (const CertificatePins& pins : verdict.chain_pins) report.validated_chain_pins.push_back(pins.spki_sha256);
  report.policy_version = verdict.policy_version;
  report.mode = std::string(EnforcementModeName(rule.mode));
  report.reason = std::string(VerdictReasonName(verdict.reason));
  report.kill_switch_until = verdict.kill_switch_until;
  report.app = app;
  return report;
}

std::string ReportToJson(const FailureReport& report) {
  nlohmann::ordered_json out;
  out["date-time"] = FormatUtc(report.date_time);
  out["hostname"] = report.hostname;
  out["port"] = report.port;
  if (report.effective_expiration_date) out["effective-expiration-date"] = FormatUtc(*report.effective_expiration_date);
  out["include-subdomains"] = report.include_subdomains;
  out["noted-hostname"] = report.noted_hostname;
  out["served-certificate-chain"] = report.served_certificate_chain;
  out["validated-certificate-chain"] = report.validated_certificate_chain;
  nlohmann::ordered_json known = nlohmann::ordered_json::array();
  nlohmann::ordered_json all_pins = nlohmann::ordered_json::array();
  for (const Pin& pin : report.known_pins) {
    if (IsSpkiSha256(pin)) known.push_back(HpkpPin(pin));  // RFC 7469 knows only pin-sha256
    all_pins.push_back(pin.ToString());
  }
  out["known-pins"] = known;
  nlohmann::ordered_json chain_pins = nlohmann::ordered_json::array();
  for (const Pin& pin : report.validated_chain_pins) chain_pins.push_back(pin.ToString());
  out["pinion"] = {
      {"policy-version", report.policy_version},
      {"mode", report.mode},
      {"reason", report.reason},
      {"kill-switch-until", report.kill_switch_until ? nlohmann::ordered_json(FormatUtc(*report.kill_switch_until))
                                                     : nlohmann::ordered_json()},
      {"app", {{"id", report.app.id}, {"version", report.app.version}, {"platform", report.app.platform}}},
      {"dropped-reports", report.dropped_reports},
      {"known-pins", all_pins},
      {"validated-chain-pins", chain_pins},
  };
  return out.dump();
}

}  // namespace pinion
