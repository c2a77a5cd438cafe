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
  std::vector<const DomainRule*> candidates;
  for (const DomainRule& rule : policy.rules()) {
    if (rule.mode == EnforcementMode::kReportOnly) {
      Lossy(result.changes, rule, LeftOut("Android") + "Android cannot report without enforcing, and "
                                  "enforcing a report-only rule could lock users out");
      continue;
    }
    if (IsIpLiteral(rule.host.base())) {
      Lossy(result.changes, rule, LeftOut("Android") + "domain-config names DNS domains only");
      continue;
    }
    candidates.push_back(&rule);
  }
  for (const DomainEntry& group :
       GroupByBase(candidates, SubdomainReach::kAllLevels, "Android", SameRuleMeaning, result.changes)) {
    const DomainRule& rule = *group.rules.front();
    std::vector<ExportChange> rule_changes;
    std::vector<const PinEntry*> pins = SpkiSha256Pins(rule, "Android", rule_changes);
    if (pins.empty()) {
      Lossy(result.changes, rule, LeftOut("Android") + "no pin Android can express");
      continue;
    }
    result.changes.insert(result.changes.end(), rule_changes.begin(), rule_changes.end());
    NoReports(rule, "Android", result.changes);
    pugi::xml_node domain_config = config.append_child("domain-config");
    pugi::xml_node domain = domain_config.append_child("domain");
    domain.append_attribute("includeSubdomains") = group.include_subdomains ? "true" : "false";
    domain.text() = group.base.c_str();
    pugi::xml_node pin_set = domain_config.append_child("pin-set");
    // Android stops enforcing after `expiration`; on_expiry = "enforce" means
    // never stop, which is a pin-set without expiration.
    if (rule.expires && rule.on_expiry == ExpiryAction::kAllow) {
      pin_set.append_attribute("expiration") = DateOnly(*rule.expires, rule, "Android", result.changes).c_str();
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
      Step(result.changes, rule, "copy the anchors bundle " + rule.anchors.path + " to res/raw/" + resource +
                                     ".pem; only it is trusted for this domain");
    }
    ++exported;
  }
  if (exported == 0) return NothingExpressible("Android", result.changes);
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
