#include "pinion/report/report.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "internal/crypto.h"
#include "pinion/certificate_info.h"
#include "pinion/der.h"
#include "pinion/host_pattern.h"
#include "pinion/hex.h"
#include "pinion/pin_source.h"
#include "pinion/policy.h"

namespace pinion {
namespace {

std::string HpkpPin(const Pin& pin) { return "pin-sha256=\"" + pin.Base64() + "\""; }

bool IsSpkiSha256(const Pin& pin) {
  return pin.target() == PinTarget::kSpki && pin.algorithm() == HashAlgorithm::kSha256;
}

// ParseReport's lengths for the app fields (collector/reader/report_parse.cc).
constexpr std::size_t kMaxAppIdLength = 256;
constexpr std::size_t kMaxAppFieldLength = 64;

// Text the parser will take: clean UTF-8 (else printable ASCII only), cut on
// a character boundary. The app's fields come from the caller, but a report
// that cannot be parsed is a report lost.
std::string BoundedText(std::string_view text, std::size_t max) {
  std::string out;
  if (IsCleanText(text)) {
    out.assign(text);
  } else {
    for (char c : text) {
      if (c >= 0x20 && c < 0x7f) out += c;
    }
  }
  if (out.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

// What one PEM string adds to the JSON body: its bytes, a backslash per line
// break (the only character in PEM text JSON escapes), quotes and a comma.
std::size_t JsonCost(const std::string& pem) {
  return pem.size() + static_cast<std::size_t>(std::count(pem.begin(), pem.end(), '\n')) + 3;
}

// Appends the PEM of the first certificates of `chain` that the parser will
// take and that fit in `budget` (bytes of JSON), at most `max_count`. Stops
// at the first that does not: the list stays a prefix of the real one.
void AppendPemPrefix(const std::vector<std::vector<std::uint8_t>>& chain, std::size_t max_count,
                     std::size_t& budget, std::vector<std::string>& out) {
  for (const auto& der : chain) {
    if (out.size() >= max_count) return;
    // The parser walks each certificate's DER to its key; what it would
    // refuse is not written.
    if (!SpkiOfCertificate(der).ok()) return;
    // A certificate too large for a report is skipped before encoding it.
    if (der.size() > kMaxReportCertificatePemBytes) return;
    std::string pem = CertificatesToPem({der});
    std::size_t cost = JsonCost(pem);
    if (pem.empty() || pem.size() > kMaxReportCertificatePemBytes || cost > budget) return;
    budget -= cost;
    out.push_back(std::move(pem));
  }
}

}  // namespace

std::string ServedChainSha256(const std::vector<std::vector<std::uint8_t>>& certificates_der) {
  std::vector<std::uint8_t> framed;
  for (const auto& der : certificates_der) {
    auto length = static_cast<std::uint32_t>(der.size());
    for (int shift = 24; shift >= 0; shift -= 8) framed.push_back(static_cast<std::uint8_t>(length >> shift));
    framed.insert(framed.end(), der.begin(), der.end());
  }
  std::uint8_t digest[Pin::kMaxDigestSize];
  std::size_t size = internal::Digest(HashAlgorithm::kSha256, framed, digest);
  return HexEncode({digest, size});
}

void CountDroppedReports(std::map<std::string, std::uint64_t>& counts, std::string_view reason, std::uint64_t count) {
  if (count == 0) return;
  std::string key;
  for (char c : reason.substr(0, kMaxDropReasonLength)) {
    char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    key += ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9')) ? lower : '-';
  }
  if (key.empty()) key = "other";
  // The list is bounded so that a report's size is; one slot stays for "other".
  if (!counts.contains(key) && counts.size() >= kMaxDropReasons - 1 && key != "other") key = "other";
  counts[key] += count;
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
  for (const PinEntry& entry : rule.pins) report.known_pins.push_back(entry.pin);
  for (const CertificatePins& pins : verdict.chain_pins) report.validated_chain_pins.push_back(pins.spki_sha256);
  report.policy_version = verdict.policy_version;
  report.mode = std::string(EnforcementModeName(rule.mode));
  report.reason = std::string(VerdictReasonName(verdict.reason));
  report.kill_switch_until = verdict.kill_switch_until;
  report.app = {.id = BoundedText(app.id, kMaxAppIdLength),
                .version = BoundedText(app.version, kMaxAppFieldLength),
                .platform = BoundedText(app.platform, kMaxAppFieldLength)};
  // The served list is the attacker's to choose: padded past what a
  // collector parses, it once made the whole report undeliverable. Its true
  // count and digest travel whole; its certificates as far as they fit.
  report.served_chain_length = verdict.served_chain_der.size();
  report.served_chain_sha256 = ServedChainSha256(verdict.served_chain_der);

  // Everything but the certificates is bounded by the policy's limits; the
  // rest of kMaxBuiltReportBytes, less room for later drop counts, is for them.
  static_assert(kMaxBuiltReportBytes <= kMaxReportBytes);
  std::size_t fixed = ReportToJson(report).size() + kReportDropCountReserve;
  std::size_t budget = fixed < kMaxBuiltReportBytes ? kMaxBuiltReportBytes - fixed : 0;
  // The validated chain first: it is what pinion judged (kMaxChainLength
  // certificates at most), and it normally fits whole.
  AppendPemPrefix(verdict.validated_chain_der, kMaxReportChainLength, budget, report.validated_certificate_chain);
  AppendPemPrefix(verdict.served_chain_der, kMaxReportChainLength, budget, report.served_certificate_chain);
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
      {"dropped-reasons", report.dropped_by_reason},
      {"known-pins", all_pins},
      {"validated-chain-pins", chain_pins},
  };
  if (report.served_chain_length) out["pinion"]["served-chain-length"] = *report.served_chain_length;
  if (!report.served_chain_sha256.empty()) out["pinion"]["served-chain-sha256"] = report.served_chain_sha256;
  return out.dump();
}

}  // namespace pinion
