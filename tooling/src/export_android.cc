// android-nsc: res/xml/network_security_config.xml (domain-config, pin-set).
#include <pugixml.hpp>

#include <sstream>

#include "export_internal.h"
#include "pinion/host_pattern.h"

namespace pinion::tooling::internal {

Result<ExportResult> ExportAndroidNsc(const Policy& policy, const ExportOptions& options) {
  ExportResult result;
  pugi::xml_document document;
  auto declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "utf-8";
  pugi::xml_node config = document.append_child("network-security-config");
  int exported = 0, anchors_index = 0;
  for (const DomainRule& rule : policy.rules()) {
    std::string host = rule.host.ToString();
    if (rule.mode == EnforcementMode::kReportOnly) {
      result.warnings.push_back(host + ": Android cannot report without enforcing; the domain is left out "
                                       "(enforcing a report-only rule could lock users out)");
      continue;
    }
    if (IsIpLiteral(rule.host.base())) {
      result.warnings.push_back(host + ": Android's domain-config names DNS domains; the IP rule is left out");
      continue;
    }
    std::vector<const PinEntry*> pins = SpkiSha256Pins(rule, "Android", result.warnings);
    if (pins.empty()) {
      result.warnings.push_back(host + ": no pin Android can express; the domain is left out");
      continue;
    }
    pugi::xml_node domain_config = config.append_child("domain-config");
    pugi::xml_node domain = domain_config.append_child("domain");
    bool subdomains = rule.host.kind() != HostPatternKind::kExact;
    if (rule.host.kind() == HostPatternKind::kWildcard) {
      result.warnings.push_back(host + ": Android has no one-label wildcard; exported as includeSubdomains, "
                                       "which also pins " + rule.host.base() + " itself and deeper names");
    }
    domain.append_attribute("includeSubdomains") = subdomains ? "true" : "false";
    domain.text() = rule.host.base().c_str();
    pugi::xml_node pin_set = domain_config.append_child("pin-set");
    // Android stops enforcing after `expiration`; on_expiry = "enforce" means
    // never stop, which is a pin-set without expiration.
    if (rule.expires && rule.on_expiry == ExpiryAction::kAllow) {
      pin_set.append_attribute("expiration") = DateOnly(*rule.expires, rule, "Android", result.warnings).c_str();
    }
    for (const PinEntry* entry : pins) {
      if (!entry->label.empty()) pin_set.append_child(pugi::node_comment).set_value((" " + entry->label + " ").c_str());
      pugi::xml_node pin = pin_set.append_child("pin");
      pin.append_attribute("digest") = "SHA-256";
      pin.text() = entry->pin.Base64().c_str();
    }
    if (!rule.anchors.use_system()) {
      std::string resource = "pinion_anchors_" + std::to_string(anchors_index++);
      pugi::xml_node anchors = domain_config.append_child("trust-anchors");
      anchors.append_child("certificates").append_attribute("src") = ("@raw/" + resource).c_str();
      result.warnings.push_back(host + ": copy the anchors bundle " + rule.anchors.path + " to res/raw/" +
                                resource + ".pem; only it is trusted for this domain");
    }
    ++exported;
  }
  if (exported == 0) return Error(ErrorCode::kInvalidArgument, "no domain of the policy can be expressed for Android");
  std::ostringstream xml;
  document.save(xml, "    ", pugi::format_default, pugi::encoding_utf8);
  std::string text = xml.str();
  // The provenance comment goes right after the XML declaration.
  std::size_t after_declaration = text.find("?>") + 3;
  text.insert(after_declaration, XmlComment(HeaderLines(policy, options, "Android Network Security Configuration")));
  result.text = std::move(text);
  return result;
}

}  // namespace pinion::tooling::internal
