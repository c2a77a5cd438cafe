#include "pinion/report.h"

#include <nlohmann/json.hpp>

#include "internal/crypto.h"
#include "pinion/certificate_info.h"
#include "pinion/der.h"
#include "pinion/host_pattern.h"
#include "pinion/pin_formats.h"
#include "pinion/pin_source.h"

namespace pinion {
namespace {

using Json = nlohmann::json;

std::string HpkpPin(const Pin& pin) { return "pin-sha256=\"" + pin.Base64() + "\""; }

bool IsSpkiSha256(const Pin& pin) {
  return pin.target() == PinTarget::kSpki && pin.algorithm() == HashAlgorithm::kSha256;
}

Error SchemaError(std::string field, std::string reason) {
  return Error(ErrorCode::kPolicySchema, std::move(reason)).WithSource("report").WithField(std::move(field));
}

// Reads the members a report body may carry, checking types as it goes.
class ReportReader {
 public:
  explicit ReportReader(const Json& object, std::string prefix = "") : object_(object), prefix_(std::move(prefix)) {}

  Result<const Json*> Get(const char* key, Json::value_t type, bool required) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
      if (required) return SchemaError(prefix_ + key, "missing required member");
      return static_cast<const Json*>(nullptr);
    }
    bool ok = it->type() == type || (type == Json::value_t::number_unsigned && it->is_number_integer() && *it >= 0);
    if (!ok) return SchemaError(prefix_ + key, std::string("expected ") + TypeName(type) + ", found " + it->type_name());
    return &*it;
  }
  Result<std::string> String(const char* key, bool required, std::size_t max = 1024) const {
    PINION_ASSIGN_OR_RETURN(const Json* value, Get(key, Json::value_t::string, required));
    if (value == nullptr) return std::string();
    const std::string& text = value->get_ref<const std::string&>();
    if (text.size() > max) return Error(ErrorCode::kInputTooLarge, "longer than " + std::to_string(max)).WithField(prefix_ + key);
    if (!IsCleanText(text)) return SchemaError(prefix_ + key, "must be UTF-8 text without control characters");
    return text;
  }
  Result<std::optional<TimePoint>> Time(const char* key, bool required) const {
    PINION_ASSIGN_OR_RETURN(std::string text, String(key, required, 64));
    if (text.empty()) return std::optional<TimePoint>();
    auto parsed = ParseTimestamp(text);
    if (!parsed) return std::move(parsed).error().WithField(prefix_ + key);
    return std::optional<TimePoint>(*parsed);
  }
  Result<std::vector<std::string>> Strings(const char* key, std::size_t max_items, std::size_t max_length,
                                           bool multiline = false) const {
    PINION_ASSIGN_OR_RETURN(const Json* value, Get(key, Json::value_t::array, false));
    std::vector<std::string> out;
    if (value == nullptr) return out;
    if (value->size() > max_items) {
      return Error(ErrorCode::kInputTooLarge, "more than " + std::to_string(max_items) + " entries").WithField(prefix_ + key);
    }
    for (std::size_t i = 0; i < value->size(); ++i) {
      const Json& item = (*value)[i];
      std::string field = prefix_ + key + "[" + std::to_string(i) + "]";
      if (!item.is_string()) return SchemaError(field, "expected a string");
      const std::string& text = item.get_ref<const std::string&>();
      std::string checked = text;
      if (multiline) std::erase_if(checked, [](char c) { return c == '\n' || c == '\r'; });  // PEM lines
      if (text.size() > max_length || !IsCleanText(checked)) {
        return SchemaError(field, "too long or not clean UTF-8 text");
      }
      out.push_back(text);
    }
    return out;
  }

 private:
  static const char* TypeName(Json::value_t type) {
    switch (type) {
      case Json::value_t::string: return "a string";
      case Json::value_t::array: return "an array";
      case Json::value_t::object: return "an object";
      case Json::value_t::boolean: return "a boolean";
      case Json::value_t::number_unsigned: return "a non-negative integer";
      default: return "another type";
    }
  }
  const Json& object_;
  std::string prefix_;
};

Result<std::vector<Pin>> PinList(const std::vector<std::string>& texts, const std::string& field) {
  std::vector<Pin> pins;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto pin = ParseAnyPin(texts[i]);
    if (!pin) return std::move(pin).error().WithSource("report").WithField(field + "[" + std::to_string(i) + "]");
    pins.push_back(*pin);
  }
  return pins;
}

// Chains in a report are shown and counted, never trusted: a strict DER walk
// per certificate is enough (and ~100x cheaper than building X509 objects,
// which matters at collector ingestion rates). Returns the DER.
Result<std::vector<std::vector<std::uint8_t>>> CheckChain(const std::vector<std::string>& pems, const std::string& field) {
  std::vector<std::vector<std::uint8_t>> ders;
  for (std::size_t i = 0; i < pems.size(); ++i) {
    auto der = DecodeCertificatePem(pems[i]);
    if (!der) {
      return Error(ErrorCode::kCertificateParse, "not one PEM certificate: " + der.error().message())
          .WithSource("report")
          .WithField(field + "[" + std::to_string(i) + "]");
    }
    ders.push_back(std::move(*der));
  }
  return ders;
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

Result<FailureReport> ParseReport(std::string_view text) {
  if (text.size() > kMaxReportBytes) {
    return Error(ErrorCode::kInputTooLarge, "report larger than " + std::to_string(kMaxReportBytes) + " bytes")
        .WithSource("report");
  }
  Json root = Json::parse(text, nullptr, false);
  if (root.is_discarded()) return Error(ErrorCode::kPolicySyntax, "not valid JSON (or not UTF-8)").WithSource("report");
  if (!root.is_object()) return SchemaError("", "a report is a JSON object");
  ReportReader reader(root);
  FailureReport report;
  report.format = root.contains("pinion")                                                  ? ReportFormat::kPinion
                  : root.contains("app-bundle-id") || root.contains("trustkit-version") ? ReportFormat::kTrustKit
                                                                                          : ReportFormat::kHpkp;
  PINION_ASSIGN_OR_RETURN(std::string hostname, reader.String("hostname", true, 253));
  auto normalized = NormalizeHostName(hostname);
  if (!normalized) return std::move(normalized).error().WithSource("report").WithField("hostname");
  report.hostname = std::move(*normalized);
  PINION_ASSIGN_OR_RETURN(const Json* port, reader.Get("port", Json::value_t::number_unsigned, false));
  if (port != nullptr) {
    if (*port > 65535) return SchemaError("port", "must be 0 to 65535");
    report.port = port->get<std::uint16_t>();
  }
  PINION_ASSIGN_OR_RETURN(auto date_time, reader.Time("date-time", true));
  report.date_time = *date_time;
  PINION_ASSIGN_OR_RETURN(report.effective_expiration_date, reader.Time("effective-expiration-date", false));
  PINION_ASSIGN_OR_RETURN(const Json* subdomains, reader.Get("include-subdomains", Json::value_t::boolean, false));
  report.include_subdomains = subdomains != nullptr && subdomains->get<bool>();
  PINION_ASSIGN_OR_RETURN(report.noted_hostname, reader.String("noted-hostname", false, 260));
  PINION_ASSIGN_OR_RETURN(report.served_certificate_chain,
                          reader.Strings("served-certificate-chain", kMaxReportChainLength, 64 * 1024, true));
  PINION_ASSIGN_OR_RETURN(report.validated_certificate_chain,
                          reader.Strings("validated-certificate-chain", kMaxReportChainLength, 64 * 1024, true));
  PINION_TRY(CheckChain(report.served_certificate_chain, "served-certificate-chain"));
  PINION_ASSIGN_OR_RETURN(auto validated_der,
                          CheckChain(report.validated_certificate_chain, "validated-certificate-chain"));
  PINION_ASSIGN_OR_RETURN(auto known, reader.Strings("known-pins", kMaxReportPins, 256));
  PINION_ASSIGN_OR_RETURN(report.known_pins, PinList(known, "known-pins"));

  switch (report.format) {
    case ReportFormat::kPinion: {
      PINION_ASSIGN_OR_RETURN(const Json* own, reader.Get("pinion", Json::value_t::object, true));
      ReportReader own_reader(*own, "pinion.");
      PINION_ASSIGN_OR_RETURN(const Json* version, own_reader.Get("policy-version", Json::value_t::number_unsigned, false));
      if (version != nullptr) report.policy_version = version->get<std::uint64_t>();
      PINION_ASSIGN_OR_RETURN(report.mode, own_reader.String("mode", false, 32));
      PINION_ASSIGN_OR_RETURN(report.reason, own_reader.String("reason", false, 64));
      PINION_ASSIGN_OR_RETURN(report.kill_switch_until, own_reader.Time("kill-switch-until", false));
      PINION_ASSIGN_OR_RETURN(const Json* dropped, own_reader.Get("dropped-reports", Json::value_t::number_unsigned, false));
      if (dropped != nullptr) report.dropped_reports = dropped->get<std::uint64_t>();
      PINION_ASSIGN_OR_RETURN(const Json* app, own_reader.Get("app", Json::value_t::object, false));
      if (app != nullptr) {
        ReportReader app_reader(*app, "pinion.app.");
        PINION_ASSIGN_OR_RETURN(report.app.id, app_reader.String("id", false, 256));
        PINION_ASSIGN_OR_RETURN(report.app.version, app_reader.String("version", false, 64));
        PINION_ASSIGN_OR_RETURN(report.app.platform, app_reader.String("platform", false, 64));
      }
      // Certificate pins are not in RFC 7469's list: the canonical list is authoritative.
      PINION_ASSIGN_OR_RETURN(auto all_pins, own_reader.Strings("known-pins", kMaxReportPins, 256));
      if (!all_pins.empty()) {
        PINION_ASSIGN_OR_RETURN(report.known_pins, PinList(all_pins, "pinion.known-pins"));
      }
      PINION_ASSIGN_OR_RETURN(auto chain_pins, own_reader.Strings("validated-chain-pins", kMaxReportChainLength, 256));
      PINION_ASSIGN_OR_RETURN(report.validated_chain_pins, PinList(chain_pins, "pinion.validated-chain-pins"));
      break;
    }
    case ReportFormat::kTrustKit: {
      PINION_ASSIGN_OR_RETURN(report.app.id, reader.String("app-bundle-id", false, 256));
      PINION_ASSIGN_OR_RETURN(report.app.version, reader.String("app-version", false, 64));
      PINION_ASSIGN_OR_RETURN(report.app.platform, reader.String("app-platform", false, 64));
      PINION_ASSIGN_OR_RETURN(const Json* enforce, reader.Get("enforce-pin", Json::value_t::boolean, false));
      report.mode = enforce != nullptr && enforce->get<bool>() ? "enforce" : "report-only";
      PINION_ASSIGN_OR_RETURN(const Json* result, reader.Get("validation-result", Json::value_t::number_unsigned, false));
      report.reason = result != nullptr ? "trustkit-result-" + std::to_string(result->get<std::uint64_t>()) : "mismatch";
      break;
    }
    case ReportFormat::kHpkp:
      report.reason = "mismatch";
      break;
  }
  if (report.validated_chain_pins.empty()) {
    for (const auto& der : validated_der) report.validated_chain_pins.push_back(Pin::OfSpki(*SpkiOfCertificate(der)));
  }
  return report;
}

}  // namespace pinion
