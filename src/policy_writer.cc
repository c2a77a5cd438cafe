#include "pinion/policy_writer.h"

#include <nlohmann/json.hpp>

#include "pinion/certificate_info.h"
#include "pinion/clock.h"
#include "pinion/pin_source.h"

namespace pinion {
namespace {

// The date form when the instant is a midnight UTC, the full form otherwise.
std::string DateText(TimePoint time) {
  std::string full = FormatUtc(time);
  return full.ends_with("T00:00:00Z") ? full.substr(0, 10) : full;
}

bool SameRule(const DomainRule& a, const DomainRule& b) {
  if (!(a.host == b.host) || a.mode != b.mode || a.expires != b.expires ||
      a.on_expiry != b.on_expiry || a.report_uris != b.report_uris ||
      a.anchors.use_system() != b.anchors.use_system() ||
      a.anchors.certificates_der != b.anchors.certificates_der || a.lint_disable != b.lint_disable ||
      a.pins.size() != b.pins.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.pins.size(); ++i) {
    if (!(a.pins[i].pin == b.pins[i].pin) || a.pins[i].label != b.pins[i].label ||
        a.pins[i].role != b.pins[i].role) {
      return false;
    }
  }
  return true;
}

// Embedded anchors are written as their PEM text, a bundle file by its path
// (or as PEM too when the document must be self-contained).
std::string AnchorsText(const TrustAnchors& anchors, const PolicyWriteOptions& options) {
  return anchors.embedded || options.self_contained ? CertificatesToPem(anchors.certificates_der) : anchors.path;
}

}  // namespace

namespace {
// A TOML basic string. Policies hold clean text (IsCleanText), so only quotes,
// backslashes and DEL (which TOML forbids raw, unlike JSON) need escaping.
std::string TomlString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == 0x7F) {
      out += "\\u007F";
      continue;
    }
    if (c == '\n') {  // only in embedded PEM anchors
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string PolicyToToml(const Policy& policy, const PolicyWriteOptions& options) {
  // Written by hand rather than through toml++, whose tables sort keys: the
  // output should read like docs/POLICY.md, host first.
  std::string out = "[policy]\nversion = " + std::to_string(policy.version()) + "\n";
  for (const DomainRule& rule : policy.rules()) {
    out += "\n[[domain]]\nhost = " + TomlString(rule.host.ToString()) + "\n";
    if (rule.mode != EnforcementMode::kEnforce) {
      out += "mode = " + TomlString(std::string(EnforcementModeName(rule.mode))) + "\n";
    }
    if (rule.expires) {
      std::string date = DateText(*rule.expires);
      out += "expires = " + (date.size() == 10 ? date : TomlString(date)) + "\n";
    }
    if (rule.expires || rule.on_expiry != ExpiryAction::kAllow) {
      out += "on_expiry = " + TomlString(std::string(ExpiryActionName(rule.on_expiry))) + "\n";
    }
    if (!rule.report_uris.empty()) {
      out += "report_uri = [";
      for (std::size_t i = 0; i < rule.report_uris.size(); ++i) {
        out += (i == 0 ? "" : ", ") + TomlString(rule.report_uris[i]);
      }
      out += "]\n";
    }
    if (!rule.anchors.use_system()) out += "anchors = " + TomlString(AnchorsText(rule.anchors, options)) + "\n";
    if (!rule.lint_disable.empty()) {
      out += "lint_disable = [";
      for (std::size_t i = 0; i < rule.lint_disable.size(); ++i) {
        out += (i == 0 ? "" : ", ") + TomlString(rule.lint_disable[i]);
      }
      out += "]\n";
    }
    out += "pins = [\n";
    for (const PinEntry& entry : rule.pins) {
      out += "  { pin = " + TomlString(entry.pin.ToString());
      if (!entry.label.empty()) out += ", label = " + TomlString(entry.label);
      if (entry.role != PinRole::kUnspecified) {
        out += ", role = " + TomlString(std::string(PinRoleName(entry.role)));
      }
      out += " },\n";
    }
    out += "]\n";
  }
  return out;
}

std::string PolicyToJson(const Policy& policy, const PolicyWriteOptions& options) {
  nlohmann::ordered_json root;
  root["policy"] = {{"version", policy.version()}};
  nlohmann::ordered_json domains = nlohmann::ordered_json::array();
  for (const DomainRule& rule : policy.rules()) {
    nlohmann::ordered_json domain;
    domain["host"] = rule.host.ToString();
    if (rule.mode != EnforcementMode::kEnforce) domain["mode"] = EnforcementModeName(rule.mode);
    if (rule.expires) domain["expires"] = DateText(*rule.expires);
    if (rule.expires || rule.on_expiry != ExpiryAction::kAllow) {
      domain["on_expiry"] = ExpiryActionName(rule.on_expiry);
    }
    if (!rule.report_uris.empty()) domain["report_uri"] = rule.report_uris;
    if (!rule.anchors.use_system()) domain["anchors"] = AnchorsText(rule.anchors, options);
    if (!rule.lint_disable.empty()) domain["lint_disable"] = rule.lint_disable;
    nlohmann::ordered_json pins = nlohmann::ordered_json::array();
    for (const PinEntry& entry : rule.pins) {
      nlohmann::ordered_json pin = {{"pin", entry.pin.ToString()}};
      if (!entry.label.empty()) pin["label"] = entry.label;
      if (entry.role != PinRole::kUnspecified) pin["role"] = PinRoleName(entry.role);
      pins.push_back(pin);
    }
    domain["pins"] = pins;
    domains.push_back(domain);
  }
  if (!domains.empty()) root["domain"] = domains;
  return root.dump(2) + "\n";
}

bool SamePolicy(const Policy& a, const Policy& b) {
  if (a.version() != b.version() || a.rules().size() != b.rules().size()) return false;
  for (std::size_t i = 0; i < a.rules().size(); ++i) {
    if (!SameRule(a.rules()[i], b.rules()[i])) return false;
  }
  return true;
}

}  // namespace pinion
