// pinion import --from chromium: transport_security_state_static.json (pinsets
// and entries) with the keys from Chromium's pins file
// (transport_security_state_static.pins).
//
// The pins file is line based: '#' comments; "PinsListTimestamp" followed by a
// line with a Unix time; and entries of a name line (an upper-case letter,
// then letters, digits or '_') followed by either a "sha256/<base64>" line, a
// PEM certificate, or a PEM public key (whose SPKI is pinned).
#include <nlohmann/json.hpp>

#include <map>

#include "import_internal.h"
#include "pinion/pin_source.h"

namespace pinion::tooling::import_internal {
namespace {

// Chromium stops enforcing its static pins when the list is older than ten
// weeks (TransportSecurityState::IsStaticPKPListTimely), failing open.
constexpr std::chrono::hours kStaticPinsLifetime{70 * 24};

struct ChromiumKey {
  std::optional<Pin> pin;  // nullopt: the file names a hash pinion cannot express (sha1/)
  std::uint32_t line = 0;
};

struct PinsFile {
  std::map<std::string, ChromiumKey> keys;
  std::optional<TimePoint> timestamp;
};

bool IsKeyName(std::string_view name) {
  if (name.empty() || !std::isupper(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) return false;
  }
  return true;
}

Result<PinsFile> ReadPinsFile(std::string_view text, const ImportOptions& options) {
  const std::string source = options.source_name + " (pins)";
  auto fail = [&](std::uint32_t line, std::string message) {
    return Error(ErrorCode::kPolicySchema, std::move(message)).WithSource(source).WithPosition(line, 1);
  };
  enum class State { kName, kValue, kPem, kTimestamp } state = State::kName;
  PinsFile file;
  std::string name;
  std::string pem;
  std::uint32_t name_line = 0;
  std::uint32_t line_number = 0;
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t end = std::min(text.find('\n', start), text.size());
    std::string line = Trim(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    if (line.starts_with("#") || (line.empty() && state == State::kName)) continue;
    switch (state) {
      case State::kName:
        if (line == "PinsListTimestamp") {
          if (file.timestamp) return fail(line_number, "a second PinsListTimestamp");
          state = State::kTimestamp;
        } else if (!IsKeyName(line)) {
          return fail(line_number, "'" + CleanLabel(line) + "' is not a key name (an upper-case letter, then letters, digits or '_')");
        } else if (file.keys.contains(line)) {
          return fail(line_number, "key '" + line + "' is named twice");
        } else {
          name = line;
          name_line = line_number;
          state = State::kValue;
        }
        break;
      case State::kTimestamp: {
        std::int64_t seconds = 0;
        bool digits = !line.empty() && line.size() <= 12 &&
                      std::all_of(line.begin(), line.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits) return fail(line_number, "PinsListTimestamp must be followed by a Unix time");
        for (char c : line) seconds = seconds * 10 + (c - '0');
        file.timestamp = TimePoint(std::chrono::seconds(seconds));
        state = State::kName;
        break;
      }
      case State::kValue:
        if (StartsWithNoCase(line, "sha256/")) {
          auto pin = Pin::Parse("sha256/" + line.substr(7));
          if (!pin) return std::move(pin).error().WithSource(source).WithField(name).WithPosition(line_number, 1);
          file.keys[name] = {*pin, name_line};
          state = State::kName;
        } else if (StartsWithNoCase(line, "sha1/")) {
          file.keys[name] = {std::nullopt, name_line};  // older pins files; reported where a pinset uses it
          state = State::kName;
        } else if (StartsWithNoCase(line, "-----BEGIN CERTIFICATE") || StartsWithNoCase(line, "-----BEGIN PUBLIC KEY")) {
          pem = line + "\n";
          state = State::kPem;
        } else {
          return fail(line_number, "expected sha256/…, a PEM certificate or a PEM public key after '" + name + "'");
        }
        break;
      case State::kPem:
        pem += line + "\n";
        if (StartsWithNoCase(line, "-----END")) {
          auto sources = ReadPinSources({reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()}, name);
          if (!sources) return std::move(sources).error().WithSource(source).WithField(name).WithPosition(name_line, 1);
          if (sources->size() != 1) return fail(name_line, "'" + name + "' must be followed by exactly one PEM block");
          file.keys[name] = {sources->front().SpkiPin(), name_line};
          pem.clear();
          state = State::kName;
        }
        break;
    }
    if (end == text.size()) break;
  }
  if (state == State::kValue || state == State::kPem) return fail(name_line, "key '" + name + "' has no value: the file ends");
  if (state == State::kTimestamp) return fail(line_number, "PinsListTimestamp without a time: the file ends");
  return file;
}

}  // namespace

Status ImportChromium(std::string_view text, Builder& builder, const ImportOptions& options) {
  PINION_ASSIGN_OR_RETURN(PinsFile pins_file, ReadPinsFile(options.chromium_pins, options));
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
    std::string where = "pinset " + CleanLabel(*name);
    Pinset pinset;
    if (auto hashes = set.find("static_spki_hashes"); hashes != set.end() && hashes->is_array()) {
      for (const auto& hash : *hashes) {
        if (!hash.is_string()) return builder.Fail(ErrorCode::kPolicySchema, where + ": a non-string SPKI name");
        const std::string& key = hash.get_ref<const std::string&>();
        auto it = pins_file.keys.find(key);
        if (it == pins_file.keys.end()) {
          // A smaller pinset would refuse the servers holding that key: never guess.
          return builder.Fail(ErrorCode::kPolicySchema, where + " names key '" + CleanLabel(key) + "', which the pins file lacks")
              .WithField(where);
        }
        if (!it->second.pin) {
          builder.Lossy(where, 0, "key '" + CleanLabel(key) + "' is a SHA-1 hash pinion cannot express; left out, so hosts "
                                  "using this pinset accept one key fewer");
          continue;
        }
        pinset.pins.push_back({*it->second.pin, CleanLabel(key), PinRole::kUnspecified});
      }
    }
    if (auto bad = set.find("bad_static_spki_hashes"); bad != set.end() && bad->is_array() && !bad->empty()) {
      builder.Lossy(where, 0, "bad_static_spki_hashes (keys that must not appear in the chain) cannot be expressed: "
                              "chains holding them are accepted");
    }
    if (const std::string* uri = string_member(set, "report_uri")) pinset.report_uri = *uri;
    pinsets[*name] = std::move(pinset);
  }
  std::optional<TimePoint> expires;
  if (pins_file.timestamp) {
    expires = *pins_file.timestamp + kStaticPinsLifetime;
    builder.Note("", 0, "every rule expires ten weeks after PinsListTimestamp (on_expiry = allow), when Chromium "
                        "stops enforcing a stale pins list");
  } else {
    builder.Lossy("", 0, "the pins file has no PinsListTimestamp: Chromium stops enforcing static pins ten weeks "
                         "after the list's time, but the imported rules never expire");
  }
  for (const auto& entry : document["entries"]) {
    if (!entry.is_object() || !entry.contains("pins")) continue;  // HSTS-only entries
    const std::string* host = string_member(entry, "name");
    const std::string* pins = string_member(entry, "pins");
    if (host == nullptr || pins == nullptr) return builder.Fail(ErrorCode::kPolicySchema, "a malformed entry");
    auto set = pinsets.find(*pins);
    if (set == pinsets.end()) {
      return builder.Fail(ErrorCode::kPolicySchema, CleanLabel(*host) + " uses pinset '" + CleanLabel(*pins) + "', which is not defined")
          .WithField(CleanLabel(*host));
    }
    Draft rule;
    rule.pins = set->second.pins;
    rule.expires = expires;
    if (!set->second.report_uri.empty()) rule.report_uris.push_back(set->second.report_uri);
    bool subdomains = bool_member(entry, "include_subdomains") || bool_member(entry, "include_subdomains_for_pinning");
    builder.Add(*host, subdomains, std::move(rule), 0);
  }
  return OkStatus();
}

}  // namespace pinion::tooling::import_internal
