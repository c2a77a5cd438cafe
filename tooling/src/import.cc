#include "pinion/tooling/import.h"

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include <map>
#include <regex>
#include <set>

#include "pinion/pin_formats.h"
#include "pinion/pin_source.h"

namespace pinion::tooling {
namespace {

struct FormatName {
  std::string_view name;
  ImportFormat format;
};
constexpr FormatName kFormats[] = {{"android-nsc", ImportFormat::kAndroidNsc},
                                   {"hpkp", ImportFormat::kHpkp},
                                   {"trustkit", ImportFormat::kTrustKit},
                                   {"okhttp", ImportFormat::kOkHttp},
                                   {"chromium", ImportFormat::kChromium}};

// Labels must be clean text (IsCleanText): keep printable ASCII and valid
// UTF-8 characters, replace anything else with '?'.
std::string CleanLabel(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && out.size() < 256;) {
    std::size_t length = 1;
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0xC2 && c <= 0xF4) length = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    std::string_view piece = text.substr(i, length);
    out += IsCleanText(piece) && piece.size() == length ? std::string(piece) : std::string("?");
    i += IsCleanText(piece) && piece.size() == length ? length : 1;
  }
  return out;
}

// A rule being read, before its host is known to be valid.
struct Draft {
  EnforcementMode mode = EnforcementMode::kEnforce;
  std::optional<TimePoint> expires;
  std::vector<std::string> report_uris;
  std::vector<PinEntry> pins;
};

// Collects rules, skipping (with a warning) what the policy cannot hold.
class Builder {
 public:
  Builder(const ImportOptions& options, std::vector<std::string>& warnings) : options_(options), warnings_(warnings) {}

  Error Fail(ErrorCode code, std::string message) const {
    return Error(code, std::move(message)).WithSource(options_.source_name);
  }
  void Warn(std::string message) { warnings_.push_back(std::move(message)); }

  // Add parses the host and keeps the rule unless it cannot be expressed.
  void Add(const std::string& host_text, bool include_subdomains, Draft draft) {
    auto host = HostPattern::Parse(host_text, include_subdomains);
    if (!host) {
      Warn(host_text + ": left out: " + host.error().message());
      return;
    }
    if (draft.pins.empty()) {
      Warn(host_text + ": left out: no pin pinion can express");
      return;
    }
    std::string key = host->ToString();
    if (!seen_.insert(key).second) {
      Warn(key + ": a second rule for the same host is left out (pinion keeps one rule per pattern)");
      return;
    }
    DomainRule rule{.host = std::move(*host), .mode = draft.mode, .expires = draft.expires};
    for (std::string& uri : draft.report_uris) {
      if (IsValidReportUri(uri)) {
        rule.report_uris.push_back(std::move(uri));
      } else {
        Warn(key + ": report URI '" + CleanLabel(uri) + "' is not an http(s) URI; left out");
      }
    }
    if (rule.report_uris.size() > kMaxReportUris) rule.report_uris.resize(kMaxReportUris);
    // Keep one entry per pin: inputs sometimes list a key twice.
    for (PinEntry& entry : draft.pins) {
      bool duplicate = false;
      for (const PinEntry& kept : rule.pins) duplicate = duplicate || kept.pin == entry.pin;
      if (!duplicate) rule.pins.push_back(std::move(entry));
    }
    rules_.push_back(std::move(rule));
  }

  Result<ImportResult> Finish(std::vector<std::string>& warnings) {
    if (rules_.empty()) return Fail(ErrorCode::kPolicySchema, "nothing to import: no pinned domain found");
    PINION_ASSIGN_OR_RETURN(PolicySnapshot policy, Policy::Create(options_.version, std::move(rules_)));
    return ImportResult{std::move(policy), std::move(warnings)};
  }

 private:
  const ImportOptions& options_;
  std::vector<std::string>& warnings_;
  std::vector<DomainRule> rules_;
  std::set<std::string> seen_;
};

Result<Pin> Base64Sha256Pin(const std::string& base64, const ImportOptions& options, const std::string& where) {
  auto pin = Pin::Parse("sha256/" + base64);
  if (!pin) return std::move(pin).error().WithSource(options.source_name).WithField(where);
  return *pin;
}

std::string Trim(std::string text);

// A comment right before an element is its label (pinion's exports write them so).
std::string LabelBefore(pugi::xml_node node) {
  pugi::xml_node previous = node.previous_sibling();
  return previous.type() == pugi::node_comment ? CleanLabel(Trim(previous.value())) : std::string();
}

std::string Trim(std::string text) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
  text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
  return text;
}

// --- android-nsc ---------------------------------------------------------------

struct NscPins {
  std::vector<PinEntry> pins;
  std::optional<TimePoint> expires;
  bool set = false;
};

Status ImportNscDomainConfig(pugi::xml_node config, NscPins inherited, Builder& builder, const ImportOptions& options,
                             int& index) {
  std::string where = "domain-config[" + std::to_string(index++) + "]";
  NscPins pins = inherited;
  if (pugi::xml_node pin_set = config.child("pin-set")) {
    pins = NscPins{{}, std::nullopt, true};
    if (const char* expiration = pin_set.attribute("expiration").value(); *expiration != '\0') {
      auto expires = ParseTimestamp(expiration);
      if (!expires) return std::move(expires).error().WithSource(options.source_name).WithField(where + ".pin-set.expiration");
      pins.expires = *expires;
    }
    for (pugi::xml_node pin : pin_set.children("pin")) {
      std::string digest = pin.attribute("digest").value();
      if (digest != "SHA-256") {
        builder.Warn(where + ": a pin with digest '" + digest + "' is left out (Android accepts SHA-256 only)");
        continue;
      }
      PINION_ASSIGN_OR_RETURN(Pin value, Base64Sha256Pin(Trim(pin.text().get()), options, where + ".pin"));
      pins.pins.push_back({value, LabelBefore(pin), PinRole::kUnspecified});
    }
  }
  if (config.child("trust-anchors")) {
    builder.Warn(where + ": trust-anchors refer to app resources pinion cannot read; set `anchors` by hand");
  }
  if (pins.set) {
    for (pugi::xml_node domain : config.children("domain")) {
      Draft rule;
      rule.pins = pins.pins;
      rule.expires = pins.expires;
      builder.Add(Trim(domain.text().get()), std::string_view(domain.attribute("includeSubdomains").value()) == "true",
                  std::move(rule));
    }
  }
  for (pugi::xml_node nested : config.children("domain-config")) {
    PINION_TRY(ImportNscDomainConfig(nested, pins, builder, options, index));  // nested configs inherit the pin-set
  }
  return OkStatus();
}

Status ImportAndroid(std::string_view text, Builder& builder, const ImportOptions& options) {
  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_comments);
  if (!parsed) return builder.Fail(ErrorCode::kPolicySyntax, std::string("not well-formed XML: ") + parsed.description());
  pugi::xml_node root = document.child("network-security-config");
  if (!root) return builder.Fail(ErrorCode::kPolicySchema, "no <network-security-config> element");
  if (root.child("debug-overrides")) builder.Warn("debug-overrides are left out: pinion's override exists only in code");
  int index = 0;
  for (pugi::xml_node config : root.children("domain-config")) PINION_TRY(ImportNscDomainConfig(config, {}, builder, options, index));
  return OkStatus();
}

// --- hpkp ----------------------------------------------------------------------

Status ImportHpkp(std::string_view text, Builder& builder, const ImportOptions& options) {
  if (options.host.empty()) return builder.Fail(ErrorCode::kInvalidArgument, "an HPKP header needs the host that sent it (--host)");
  // The header line; '#' lines (as in pinion's own export) are comments.
  std::string value;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = std::min(text.find('\n', start), text.size());
    std::string line = Trim(std::string(text.substr(start, end - start)));
    if (!line.empty() && !line.starts_with("#")) value += (value.empty() ? "" : " ") + line;
    start = end + 1;
  }
  bool report_only = false;
  for (std::string_view name : {"public-key-pins-report-only:", "public-key-pins:"}) {
    std::string lower = value.substr(0, name.size());
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == name) {
      report_only = name.find("report-only") != std::string_view::npos;
      value = Trim(value.substr(name.size()));
      break;
    }
  }
  auto header = ParseHpkpHeader(value);
  if (!header) return std::move(header).error().WithSource(options.source_name);
  Draft rule;
  rule.mode = report_only ? EnforcementMode::kReportOnly : EnforcementMode::kEnforce;
  for (const Pin& pin : header->pins) rule.pins.push_back({pin, "", PinRole::kUnspecified});
  if (header->max_age_seconds) {
    // RFC 7469 §4.1 lets a client cap max-age; a year is generous for pins.
    constexpr std::int64_t kMaxAge = 365 * 86400;
    std::int64_t max_age = *header->max_age_seconds;
    if (max_age > kMaxAge) {
      builder.Warn("max-age " + std::to_string(max_age) + " is capped at one year (RFC 7469 section 4.1)");
      max_age = kMaxAge;
    }
    rule.expires = options.now + std::chrono::seconds(max_age);
  }
  if (header->report_uri) rule.report_uris.push_back(*header->report_uri);
  if (!header->max_age_seconds && !report_only) builder.Warn("the header has no max-age (RFC 7469 requires one); no expiry set");
  builder.Add(options.host, header->include_subdomains, std::move(rule));
  return OkStatus();
}

// --- trustkit ------------------------------------------------------------------

// The value following <key>name</key> in a plist <dict>.
pugi::xml_node PlistValue(pugi::xml_node dict, std::string_view name) {
  for (pugi::xml_node key = dict.child("key"); key; key = key.next_sibling("key")) {
    if (name == key.text().get()) return key.next_sibling();
  }
  return {};
}

Status ImportTrustKit(std::string_view text, Builder& builder, const ImportOptions& options) {
  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_comments);
  if (!parsed) return builder.Fail(ErrorCode::kPolicySyntax, std::string("not well-formed XML: ") + parsed.description());
  pugi::xml_node root = document.child("plist").child("dict");
  pugi::xml_node configuration = PlistValue(root, "TSKConfiguration");
  pugi::xml_node domains = PlistValue(configuration ? configuration : root, "TSKPinnedDomains");
  if (!domains || std::string_view(domains.name()) != "dict") {
    return builder.Fail(ErrorCode::kPolicySchema, "no TSKPinnedDomains dictionary");
  }
  for (pugi::xml_node key = domains.child("key"); key; key = key.next_sibling("key")) {
    std::string host = Trim(key.text().get());
    pugi::xml_node settings = key.next_sibling();
    if (std::string_view(settings.name()) != "dict") return builder.Fail(ErrorCode::kPolicySchema, host + ": expected a dictionary");
    Draft rule;
    if (pugi::xml_node hashes = PlistValue(settings, "TSKPublicKeyHashes")) {
      for (pugi::xml_node hash : hashes.children("string")) {
        PINION_ASSIGN_OR_RETURN(Pin pin, Base64Sha256Pin(Trim(hash.text().get()), options, host + ".TSKPublicKeyHashes"));
        rule.pins.push_back({pin, LabelBefore(hash), PinRole::kUnspecified});
      }
    }
    if (std::string_view(PlistValue(settings, "TSKEnforcePinning").name()) == "false") rule.mode = EnforcementMode::kReportOnly;
    if (pugi::xml_node uris = PlistValue(settings, "TSKReportUris")) {
      for (pugi::xml_node uri : uris.children("string")) rule.report_uris.push_back(Trim(uri.text().get()));
    }
    if (pugi::xml_node date = PlistValue(settings, "TSKExpirationDate")) {
      auto expires = ParseTimestamp(Trim(date.text().get()));
      if (!expires) return std::move(expires).error().WithSource(options.source_name).WithField(host + ".TSKExpirationDate");
      rule.expires = *expires;
    }
    if (PlistValue(settings, "TSKPublicKeyAlgorithms")) {
      builder.Warn(host + ": TSKPublicKeyAlgorithms is obsolete and ignored (pins are SPKI hashes)");
    }
    if (PlistValue(settings, "TSKExcludeSubdomainFromParentPolicy")) {
      builder.Warn(host + ": TSKExcludeSubdomainFromParentPolicy cannot be expressed; the domain is left out");
      continue;
    }
    bool subdomains = std::string_view(PlistValue(settings, "TSKIncludeSubdomains").name()) == "true";
    builder.Add(host, subdomains, std::move(rule));
  }
  return OkStatus();
}

// --- okhttp --------------------------------------------------------------------

Status ImportOkHttp(std::string_view text, Builder& builder, const ImportOptions& options) {
  // Every .add(...) call: the first string literal is the pattern, the others pins.
  static const std::regex kAdd(R"re(\.add\s*\(([^)]*)\))re");
  static const std::regex kString(R"re("((?:[^"\\]|\\.)*)")re");
  std::string source(text);
  int calls = 0;
  for (std::sregex_iterator it(source.begin(), source.end(), kAdd), end; it != end; ++it) {
    std::string arguments = (*it)[1];
    std::vector<std::string> strings;
    for (std::sregex_iterator s(arguments.begin(), arguments.end(), kString); s != end; ++s) strings.push_back((*s)[1]);
    if (strings.size() < 2) continue;
    ++calls;
    Draft rule;
    for (std::size_t i = 1; i < strings.size(); ++i) {
      if (strings[i].starts_with("sha1/")) {
        builder.Warn(strings[0] + ": " + strings[i] + " is left out: pinion does not accept SHA-1 pins");
        continue;
      }
      auto pin = Pin::Parse(strings[i]);
      if (!pin) return std::move(pin).error().WithSource(options.source_name).WithField(strings[0]);
      rule.pins.push_back({*pin, "", PinRole::kUnspecified});
    }
    // OkHttp's patterns are pinion's ("*." one label, "**." the name and below).
    builder.Add(strings[0], false, std::move(rule));
  }
  if (calls == 0) return builder.Fail(ErrorCode::kPolicySchema, "no CertificatePinner .add(\"pattern\", \"sha256/…\") call found");
  builder.Warn("OkHttp pins carry no expiry, mode or report URI: the imported rules enforce and never expire");
  return OkStatus();
}

// --- chromium ------------------------------------------------------------------

// The pins file: a name line, then a "sha256/…" line or a PEM block.
Result<std::map<std::string, Pin>> ChromiumPins(std::string_view text, const ImportOptions& options) {
  std::map<std::string, Pin> pins;
  std::string name;
  std::string pem;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line = Trim(std::string(text.substr(start, end - start)));
    start = end + 1;
    if (!pem.empty()) {
      pem += line + "\n";
      if (line.starts_with("-----END")) {
        auto sources = ReadPinSources({reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()}, name);
        if (!sources) return std::move(sources).error().WithSource(options.source_name + " (pins)");
        pins.insert_or_assign(name, sources->front().SpkiPin());
        pem.clear();
        name.clear();
      }
      continue;
    }
    if (line.empty() || line.starts_with("#")) continue;
    if (line.starts_with("-----BEGIN")) {
      if (name.empty()) return Error(ErrorCode::kPolicySchema, "a key without a name").WithSource(options.source_name + " (pins)");
      pem = line + "\n";
    } else if (line.starts_with("sha256/")) {
      if (name.empty()) return Error(ErrorCode::kPolicySchema, "a hash without a name").WithSource(options.source_name + " (pins)");
      auto pin = Pin::Parse(line);
      if (!pin) return std::move(pin).error().WithSource(options.source_name + " (pins)").WithField(name);
      pins.insert_or_assign(name, *pin);
      name.clear();
    } else {
      name = line;
    }
  }
  return pins;
}

Status ImportChromium(std::string_view text, Builder& builder, const ImportOptions& options) {
  PINION_ASSIGN_OR_RETURN(auto names, ChromiumPins(options.chromium_pins, options));
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text.begin(), text.end(), nullptr, true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::exception& error) {
    return builder.Fail(ErrorCode::kPolicySyntax, error.what());
  }
  if (!document.is_object() || !document["pinsets"].is_array() || !document["entries"].is_array()) {
    return builder.Fail(ErrorCode::kPolicySchema, "expected {\"pinsets\": [...], \"entries\": [...]}");
  }
  struct Pinset {
    std::vector<PinEntry> pins;
    std::string report_uri;
  };
  std::map<std::string, Pinset> pinsets;
  std::set<std::string> missing;
  // Checked member access: operator[] on a const json with a missing key is undefined behaviour.
  auto string_member = [](const nlohmann::json& object, const char* key) -> const std::string* {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  auto bool_member = [](const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_boolean() && it->get<bool>();
  };
  for (const auto& set : document["pinsets"]) {
    const std::string* name = set.is_object() ? string_member(set, "name") : nullptr;
    if (name == nullptr) return builder.Fail(ErrorCode::kPolicySchema, "a pinset without a name");
    Pinset pinset;
    if (auto hashes = set.find("static_spki_hashes"); hashes != set.end() && hashes->is_array()) {
      for (const auto& hash : *hashes) {
        if (!hash.is_string()) return builder.Fail(ErrorCode::kPolicySchema, "a non-string SPKI name");
        auto it = names.find(hash.get<std::string>());
        if (it == names.end()) {
          missing.insert(hash.get<std::string>());
          continue;
        }
        pinset.pins.push_back({it->second, CleanLabel(hash.get<std::string>()), PinRole::kUnspecified});
      }
    }
    if (set.contains("bad_static_spki_hashes")) {
      builder.Warn("pinset " + CleanLabel(*name) + ": bad_static_spki_hashes (forbidden keys) cannot be expressed and are left out");
    }
    if (const std::string* uri = string_member(set, "report_uri")) pinset.report_uri = *uri;
    pinsets[*name] = std::move(pinset);
  }
  for (const std::string& name : missing) builder.Warn("SPKI '" + CleanLabel(name) + "' is not in the pins file; left out of its pinsets");
  for (const auto& entry : document["entries"]) {
    if (!entry.is_object() || !entry.contains("pins")) continue;  // HSTS-only entries
    const std::string* host = string_member(entry, "name");
    const std::string* pins = string_member(entry, "pins");
    if (host == nullptr || pins == nullptr) return builder.Fail(ErrorCode::kPolicySchema, "a malformed entry");
    auto set = pinsets.find(*pins);
    if (set == pinsets.end()) {
      builder.Warn(CleanLabel(*host) + ": pinset '" + CleanLabel(*pins) + "' is not defined; left out");
      continue;
    }
    Draft rule;
    rule.pins = set->second.pins;
    if (!set->second.report_uri.empty()) rule.report_uris.push_back(set->second.report_uri);
    bool subdomains = bool_member(entry, "include_subdomains") || bool_member(entry, "include_subdomains_for_pinning");
    builder.Add(*host, subdomains, std::move(rule));
  }
  return OkStatus();
}

}  // namespace

std::vector<std::string_view> ImportFormatNames() {
  std::vector<std::string_view> names;
  for (const FormatName& entry : kFormats) names.push_back(entry.name);
  return names;
}

Result<ImportFormat> ParseImportFormat(std::string_view name) {
  for (const FormatName& entry : kFormats) {
    if (entry.name == name) return entry.format;
  }
  return Error(ErrorCode::kInvalidArgument, "unknown import format '" + std::string(name) + "'");
}

Result<ImportResult> ImportPolicy(std::string_view text, ImportFormat format, const ImportOptions& options) {
  if (text.size() > kMaxImportBytes || options.chromium_pins.size() > kMaxImportBytes) {
    return Error(ErrorCode::kInputTooLarge, "input larger than " + std::to_string(kMaxImportBytes) + " bytes")
        .WithSource(options.source_name);
  }
  std::vector<std::string> warnings;
  Builder builder(options, warnings);
  Status status;
  switch (format) {
    case ImportFormat::kAndroidNsc: status = ImportAndroid(text, builder, options); break;
    case ImportFormat::kHpkp: status = ImportHpkp(text, builder, options); break;
    case ImportFormat::kTrustKit: status = ImportTrustKit(text, builder, options); break;
    case ImportFormat::kOkHttp: status = ImportOkHttp(text, builder, options); break;
    case ImportFormat::kChromium: status = ImportChromium(text, builder, options); break;
  }
  if (!status) return std::move(status).error();
  return builder.Finish(warnings);
}

}  // namespace pinion::tooling
