// ParseReport: failure-report bodies as the collector receives them, read in
// one pass over simdjson's DOM. nlohmann's character-at-a-time lexer spent
// ~20 µs on a 4 KB body and OpenSSL's PEM reader ~5 µs per certificate, on the
// path that must ingest 20,000 bodies a second on two cores; simdjson
// validates the whole body's JSON and UTF-8 in well under a microsecond, and
// certificates go through internal::DecodeStrictPem (bench/report_bench.cc).
#include <simdjson.h>

#include <algorithm>
#include <deque>
#include <map>

#include "internal/pem.h"
#include "pinion/der.h"
#include "pinion/host_pattern.h"
#include "pinion/pin_formats.h"
#include "pinion/pin_source.h"
#include "pinion/policy.h"
#include "pinion/report/report.h"
#include "report_parse.h"

namespace pinion {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

Error SchemaError(std::string field, std::string reason) {
  return Error(ErrorCode::kPolicySchema, std::move(reason)).WithSource("report").WithField(std::move(field));
}

const char* TypeName(element_type type) {
  switch (type) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "another type";
}

// The text of an element already known to be a string.
std::string_view StringOf(element value) {
  return value.get_string().value_unsafe();
}

// The members of one JSON object, sorted by name. A name given twice is
// refused: two readers of one body must never disagree on what it says.
// Members that are null count as absent; unknown members are ignored.
class Members {
 public:
  static Result<Members> Of(simdjson::dom::object object, std::string prefix) {
    Members members;
    members.prefix_ = std::move(prefix);
    members.members_.reserve(object.size());
    for (simdjson::dom::key_value_pair member : object) members.members_.emplace_back(member.key, member.value);
    std::stable_sort(members.members_.begin(), members.members_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    auto twice = std::adjacent_find(members.members_.begin(), members.members_.end(),
                                    [](const auto& a, const auto& b) { return a.first == b.first; });
    if (twice != members.members_.end()) {
      return SchemaError(members.prefix_ + std::string(twice->first), "member given more than once");
    }
    return members;
  }

  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  std::size_t size() const { return members_.size(); }
  std::vector<std::string_view> Names() const {
    std::vector<std::string_view> names;
    for (const auto& member : members_) names.push_back(member.first);
    return names;
  }

  // The member if present and not null, checked to be of `type` (INT64 and
  // UINT64 both read as integers).
  Result<std::optional<element>> Get(std::string_view key, element_type type, bool required) const {
    const element* value = Find(key);
    if (value == nullptr || value->type() == element_type::NULL_VALUE) {
      if (required) return SchemaError(Field(key), "missing required member");
      return std::optional<element>();
    }
    element_type found = value->type();
    bool integer = found == element_type::INT64 || found == element_type::UINT64;
    bool ok = found == type || (type == element_type::UINT64 && integer);
    if (!ok) return SchemaError(Field(key), std::string("expected ") + TypeName(type) + ", found " + TypeName(found));
    return std::optional<element>(*value);
  }

  Result<std::optional<std::uint64_t>> Unsigned(std::string_view key) const {
    PINION_ASSIGN_OR_RETURN(auto value, Get(key, element_type::UINT64, false));
    if (!value) return std::optional<std::uint64_t>();
    std::uint64_t number = 0;
    if (value->get_uint64().get(number) != simdjson::SUCCESS) {
      return SchemaError(Field(key), "expected a non-negative integer");
    }
    return std::optional<std::uint64_t>(number);
  }

  Result<std::optional<bool>> Bool(std::string_view key) const {
    PINION_ASSIGN_OR_RETURN(auto value, Get(key, element_type::BOOL, false));
    if (!value) return std::optional<bool>();
    return std::optional<bool>(value->get_bool().value_unsafe());  // the type was checked
  }

  Result<std::string> String(std::string_view key, bool required, std::size_t max = 1024) const {
    PINION_ASSIGN_OR_RETURN(auto value, Get(key, element_type::STRING, required));
    if (!value) return std::string();
    std::string_view text = StringOf(*value);
    if (text.size() > max) return Error(ErrorCode::kInputTooLarge, "longer than " + std::to_string(max)).WithField(Field(key));
    if (!IsCleanText(text)) return SchemaError(Field(key), "must be UTF-8 text without control characters");
    return std::string(text);
  }

  Result<std::optional<TimePoint>> Time(std::string_view key, bool required) const {
    PINION_ASSIGN_OR_RETURN(std::string text, String(key, required, 64));
    // "" is "not given" for an optional time, never a value for a required one.
    if (text.empty() && required) return SchemaError(Field(key), "must be an RFC 3339 time, not empty");
    if (text.empty()) return std::optional<TimePoint>();
    auto parsed = ParseTimestamp(text);
    if (!parsed) return std::move(parsed).error().WithField(Field(key));
    return std::optional<TimePoint>(*parsed);
  }

  // An array of strings, each at most `max_length` bytes. The strings are
  // views into the parsed document; callers check their content.
  Result<std::vector<std::string_view>> Strings(std::string_view key, std::size_t max_items, std::size_t max_length) const {
    PINION_ASSIGN_OR_RETURN(auto value, Get(key, element_type::ARRAY, false));
    std::vector<std::string_view> out;
    if (!value) return out;
    simdjson::dom::array items = value->get_array().value_unsafe();  // the type was checked
    if (items.size() > max_items) {
      return Error(ErrorCode::kInputTooLarge, "more than " + std::to_string(max_items) + " entries").WithField(Field(key));
    }
    out.reserve(items.size());
    for (element item : items) {
      if (item.type() != element_type::STRING) return SchemaError(Item(key, out.size()), "expected a string");
      std::string_view text = StringOf(item);
      if (text.size() > max_length) {
        return Error(ErrorCode::kInputTooLarge, "longer than " + std::to_string(max_length))
            .WithField(Item(key, out.size()));
      }
      out.push_back(text);
    }
    return out;
  }

  Result<std::optional<Members>> Object(std::string_view key, bool required) const {
    PINION_ASSIGN_OR_RETURN(auto value, Get(key, element_type::OBJECT, required));
    if (!value) return std::optional<Members>();
    simdjson::dom::object object = value->get_object().value_unsafe();  // the type was checked
    PINION_ASSIGN_OR_RETURN(Members members, Of(object, Field(key) + "."));
    return std::optional<Members>(std::move(members));
  }

  std::string Field(std::string_view key) const { return prefix_ + std::string(key); }
  std::string Item(std::string_view key, std::size_t index) const {
    return Field(key) + "[" + std::to_string(index) + "]";
  }

 private:
  const element* Find(std::string_view key) const {
    auto it = std::lower_bound(members_.begin(), members_.end(), key,
                               [](const auto& member, std::string_view k) { return member.first < k; });
    return it != members_.end() && it->first == key ? &it->second : nullptr;
  }

  std::vector<std::pair<std::string_view, element>> members_;
  std::string prefix_;
};

Result<std::vector<Pin>> PinList(const Members& members, std::string_view key, std::size_t max_items) {
  PINION_ASSIGN_OR_RETURN(auto texts, members.Strings(key, max_items, 256));
  std::vector<Pin> pins;
  pins.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (!IsCleanText(texts[i])) return SchemaError(members.Item(key, i), "must be UTF-8 text without control characters");
    auto pin = ParseAnyPin(texts[i]);
    if (!pin) return std::move(pin).error().WithSource("report").WithField(members.Item(key, i));
    pins.push_back(*pin);
  }
  return pins;
}

// Chains in a report are shown and counted, never trusted: strict PEM framing
// and pinion's DER walk per certificate are enough. A certificate met earlier
// in the body (the served chain usually repeats the validated one) is decoded
// once.
class ChainReader {
 public:
  explicit ChainReader(const Members& members) : members_(members) {}

  // The chain's PEM texts (copied into the report) and their DER.
  Result<std::vector<std::string>> Read(std::string_view key, std::vector<const std::vector<std::uint8_t>*>* ders) {
    PINION_ASSIGN_OR_RETURN(auto pems, members_.Strings(key, kMaxReportChainLength, kMaxReportCertificatePemBytes));
    std::vector<std::string> out;
    out.reserve(pems.size());
    for (std::size_t i = 0; i < pems.size(); ++i) {
      PINION_ASSIGN_OR_RETURN(const std::vector<std::uint8_t>* der, Decode(pems[i], key, i));
      if (ders != nullptr) ders->push_back(der);
      out.emplace_back(pems[i]);
    }
    return out;
  }

 private:
  Result<const std::vector<std::uint8_t>*> Decode(std::string_view pem, std::string_view key, std::size_t index) {
    for (const auto& [text, der] : decoded_) {
      if (text == pem) return &der;
    }
    auto der = DecodeCertificatePem(pem);
    if (!der) {
      return Error(ErrorCode::kCertificateParse, "not one PEM certificate: " + der.error().message())
          .WithSource("report")
          .WithField(members_.Item(key, index));
    }
    decoded_.emplace_back(pem, std::move(*der));
    return &decoded_.back().second;
  }

  const Members& members_;
  // At most 2 × kMaxReportChainLength entries; a deque keeps the DER stable.
  std::deque<std::pair<std::string_view, std::vector<std::uint8_t>>> decoded_;
};

// "dropped-reasons": {"spool-full": 3, …}, as CountDroppedReports writes it.
Result<std::map<std::string, std::uint64_t>> DropReasons(const Members& members, std::string_view key) {
  std::map<std::string, std::uint64_t> out;
  PINION_ASSIGN_OR_RETURN(auto reasons, members.Object(key, false));
  if (!reasons) return out;
  if (reasons->size() > kMaxDropReasons) {
    return Error(ErrorCode::kInputTooLarge, "more than " + std::to_string(kMaxDropReasons) + " reasons")
        .WithField(members.Field(key));
  }
  for (std::string_view reason : reasons->Names()) {
    bool ok = !reason.empty() && reason.size() <= kMaxDropReasonLength &&
              std::all_of(reason.begin(), reason.end(),
                          [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
    if (!ok) return SchemaError(reasons->Field(reason), "a reason is 1-48 characters of a-z, 0-9 and '-'");
    PINION_ASSIGN_OR_RETURN(auto count, reasons->Unsigned(reason));
    if (count) out[std::string(reason)] = *count;
  }
  return out;
}

Status ReadPinionMembers(const Members& root, FailureReport& report) {
  PINION_ASSIGN_OR_RETURN(auto own, root.Object("pinion", true));
  PINION_ASSIGN_OR_RETURN(auto version, own->Unsigned("policy-version"));
  report.policy_version = version.value_or(0);
  PINION_ASSIGN_OR_RETURN(report.mode, own->String("mode", false, 32));
  PINION_ASSIGN_OR_RETURN(report.reason, own->String("reason", false, 64));
  PINION_ASSIGN_OR_RETURN(report.kill_switch_until, own->Time("kill-switch-until", false));
  PINION_ASSIGN_OR_RETURN(auto dropped, own->Unsigned("dropped-reports"));
  report.dropped_reports = dropped.value_or(0);
  PINION_ASSIGN_OR_RETURN(report.dropped_by_reason, DropReasons(*own, "dropped-reasons"));
  PINION_ASSIGN_OR_RETURN(report.served_chain_length, own->Unsigned("served-chain-length"));
  // A served list longer than the count said would be two stories in one body.
  if (report.served_chain_length && *report.served_chain_length < report.served_certificate_chain.size()) {
    return SchemaError(own->Field("served-chain-length"), "smaller than the served-certificate-chain it describes");
  }
  PINION_ASSIGN_OR_RETURN(report.served_chain_sha256, own->String("served-chain-sha256", false, 64));
  bool hex = std::all_of(report.served_chain_sha256.begin(), report.served_chain_sha256.end(),
                         [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (!report.served_chain_sha256.empty() && (report.served_chain_sha256.size() != 64 || !hex)) {
    return SchemaError(own->Field("served-chain-sha256"), "expected 64 lower-case hex digits");
  }
  PINION_ASSIGN_OR_RETURN(auto app, own->Object("app", false));
  if (app) {
    PINION_ASSIGN_OR_RETURN(report.app.id, app->String("id", false, 256));
    PINION_ASSIGN_OR_RETURN(report.app.version, app->String("version", false, 64));
    PINION_ASSIGN_OR_RETURN(report.app.platform, app->String("platform", false, 64));
  }
  // Certificate pins are not in RFC 7469's list: the canonical list is authoritative.
  PINION_ASSIGN_OR_RETURN(auto all_pins, PinList(*own, "known-pins", kMaxReportPins));
  if (!all_pins.empty()) report.known_pins = std::move(all_pins);
  PINION_ASSIGN_OR_RETURN(report.validated_chain_pins, PinList(*own, "validated-chain-pins", kMaxReportChainLength));
  return OkStatus();
}

Status ReadTrustKitMembers(const Members& root, FailureReport& report) {
  PINION_ASSIGN_OR_RETURN(report.app.id, root.String("app-bundle-id", false, 256));
  PINION_ASSIGN_OR_RETURN(report.app.version, root.String("app-version", false, 64));
  PINION_ASSIGN_OR_RETURN(report.app.platform, root.String("app-platform", false, 64));
  PINION_ASSIGN_OR_RETURN(auto enforce, root.Bool("enforce-pin"));
  report.mode = enforce.value_or(false) ? "enforce" : "report-only";
  PINION_ASSIGN_OR_RETURN(auto result, root.Unsigned("validation-result"));
  report.reason = result ? "trustkit-result-" + std::to_string(*result) : "mismatch";
  return OkStatus();
}

}  // namespace

Result<FailureReport> ParseReport(std::string_view text) {
  if (text.size() > kMaxReportBytes) {
    return Error(ErrorCode::kInputTooLarge, "report larger than " + std::to_string(kMaxReportBytes) + " bytes")
        .WithSource("report");
  }
  // One parser per thread keeps its buffers between bodies; the document it
  // returns lives until this thread's next ParseReport.
  thread_local simdjson::dom::parser parser;
  element root_element;
  if (auto error = parser.parse(text.data(), text.size(), true).get(root_element); error != simdjson::SUCCESS) {
    return Error(ErrorCode::kPolicySyntax, std::string("not valid JSON (or not UTF-8): ") + simdjson::error_message(error))
        .WithSource("report");
  }
  simdjson::dom::object root_object;
  if (root_element.get_object().get(root_object) != simdjson::SUCCESS) return SchemaError("", "a report is a JSON object");
  PINION_ASSIGN_OR_RETURN(Members root, Members::Of(root_object, ""));

  FailureReport report;
  report.format = root.Has("pinion")                                                  ? ReportFormat::kPinion
                  : root.Has("app-bundle-id") || root.Has("trustkit-version") ? ReportFormat::kTrustKit
                                                                                      : ReportFormat::kHpkp;
  PINION_ASSIGN_OR_RETURN(std::string hostname, root.String("hostname", true, 253));
  auto normalized = NormalizeHostName(hostname);
  if (!normalized) return std::move(normalized).error().WithSource("report").WithField("hostname");
  report.hostname = std::move(*normalized);
  PINION_ASSIGN_OR_RETURN(auto port, root.Unsigned("port"));
  if (port && *port > 65535) return SchemaError("port", "must be 0 to 65535");
  report.port = static_cast<std::uint16_t>(port.value_or(0));
  PINION_ASSIGN_OR_RETURN(auto date_time, root.Time("date-time", true));
  report.date_time = *date_time;
  PINION_ASSIGN_OR_RETURN(report.effective_expiration_date, root.Time("effective-expiration-date", false));
  PINION_ASSIGN_OR_RETURN(auto subdomains, root.Bool("include-subdomains"));
  report.include_subdomains = subdomains.value_or(false);
  PINION_ASSIGN_OR_RETURN(report.noted_hostname, root.String("noted-hostname", false, 260));

  ChainReader chains(root);
  std::vector<const std::vector<std::uint8_t>*> validated_der;
  PINION_ASSIGN_OR_RETURN(report.served_certificate_chain, chains.Read("served-certificate-chain", nullptr));
  PINION_ASSIGN_OR_RETURN(report.validated_certificate_chain, chains.Read("validated-certificate-chain", &validated_der));
  PINION_ASSIGN_OR_RETURN(report.known_pins, PinList(root, "known-pins", kMaxReportPins));

  switch (report.format) {
    case ReportFormat::kPinion: PINION_TRY(ReadPinionMembers(root, report)); break;
    case ReportFormat::kTrustKit: PINION_TRY(ReadTrustKitMembers(root, report)); break;
    case ReportFormat::kHpkp: report.reason = "mismatch"; break;
  }
  if (report.validated_chain_pins.empty()) {
    for (const auto* der : validated_der) report.validated_chain_pins.push_back(Pin::OfSpki(*SpkiOfCertificate(*der)));
  }
  return report;
}

}  // namespace pinion
