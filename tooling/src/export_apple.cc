// ios-plist (NSAppTransportSecurity / NSPinnedDomains) and trustkit
// (TSKConfiguration), as whole property-list documents to merge into Info.plist.
#include <pugixml.hpp>

#include <sstream>

#include "export_internal.h"
#include "pinion/host_pattern.h"

namespace pinion::tooling::internal {
namespace {

// A plist <dict> under construction.
class PlistDict {
 public:
  explicit PlistDict(pugi::xml_node node) : node_(node) {}
  PlistDict Dict(const std::string& key) {
    Key(key);
    return PlistDict(node_.append_child("dict"));
  }
  pugi::xml_node Array(const std::string& key) {
    Key(key);
    return node_.append_child("array");
  }
  void Bool(const std::string& key, bool value) {
    Key(key);
    node_.append_child(value ? "true" : "false");
  }
  void String(const std::string& key, const std::string& value) {
    Key(key);
    node_.append_child("string").text() = value.c_str();
  }
  pugi::xml_node node() const { return node_; }

 private:
  void Key(const std::string& key) { node_.append_child("key").text() = key.c_str(); }
  pugi::xml_node node_;
};

void AppendSpki(pugi::xml_node array, const PinEntry& entry) {
  if (!entry.label.empty()) array.append_child(pugi::node_comment).set_value((" " + entry.label + " ").c_str());
  PlistDict identity(array.append_child("dict"));
  identity.String("SPKI-SHA256-BASE64", entry.pin.Base64());
}

void IosDomain(PlistDict& domains, const DomainRule& rule, std::vector<std::string>& warnings) {
  std::string host = rule.host.ToString();
  std::vector<const PinEntry*> pins = SpkiSha256Pins(rule, "iOS", warnings);
  if (pins.empty()) {
    warnings.push_back(host + ": no pin iOS can express; the domain is left out");
    return;
  }
  if (rule.host.kind() == HostPatternKind::kWildcard) {
    warnings.push_back(host + ": iOS has no one-label wildcard; exported as NSIncludesSubdomains on " +
                       rule.host.base() + ", which also pins " + rule.host.base() + " itself");
  } else if (rule.host.kind() == HostPatternKind::kSubtree) {
    warnings.push_back(host + ": Apple documents NSIncludesSubdomains as covering subdomains with one "
                              "additional component; deeper names may not be pinned on iOS");
  }
  if (rule.expires) {
    warnings.push_back(host + ": iOS pins do not expire; the expiry " + (rule.on_expiry == ExpiryAction::kAllow ? "(fail open) " : "") +
                       "cannot be expressed and pins apply until the app is updated");
  }
  if (!rule.anchors.use_system()) {
    warnings.push_back(host + ": NSPinnedDomains cannot replace trust anchors; the system store is used");
  }
  PlistDict domain = domains.Dict(rule.host.base());
  domain.Bool("NSIncludesSubdomains", rule.host.kind() != HostPatternKind::kExact);
  std::vector<const PinEntry*> leaf, ca;
  for (const PinEntry* entry : pins) {
    if (entry->role == PinRole::kCa) {
      ca.push_back(entry);
    } else {
      if (entry->role == PinRole::kUnspecified) {
        warnings.push_back(host + ": " + entry->pin.ToString() +
                           " has no role; exported as a leaf identity (set role = \"ca\" for a CA key)");
      }
      leaf.push_back(entry);
    }
  }
  if (!leaf.empty()) {
    pugi::xml_node array = domain.Array("NSPinnedLeafIdentities");
    for (const PinEntry* entry : leaf) AppendSpki(array, *entry);
  }
  if (!ca.empty()) {
    pugi::xml_node array = domain.Array("NSPinnedCAIdentities");
    for (const PinEntry* entry : ca) AppendSpki(array, *entry);
  }
  if (!leaf.empty() && !ca.empty()) {
    warnings.push_back(host + ": both leaf and CA identities are set; check on a device that iOS accepts "
                              "your chain, as ATS evaluates each list");
  }
}

void TrustKitDomain(PlistDict& domains, const DomainRule& rule, std::vector<std::string>& warnings) {
  std::string host = rule.host.ToString();
  std::vector<const PinEntry*> pins = SpkiSha256Pins(rule, "TrustKit", warnings);
  if (pins.empty()) {
    warnings.push_back(host + ": no pin TrustKit can express; the domain is left out");
    return;
  }
  if (pins.size() < 2) {
    warnings.push_back(host + ": TrustKit refuses a domain with fewer than two pins (it requires a backup pin)");
  }
  if (rule.host.kind() == HostPatternKind::kWildcard) {
    warnings.push_back(host + ": TrustKit has no one-label wildcard; exported as TSKIncludeSubdomains on " +
                       rule.host.base() + ", which also covers the name itself and deeper names");
  }
  if (!rule.anchors.use_system()) {
    warnings.push_back(host + ": TrustKit cannot replace trust anchors; the system store is used");
  }
  PlistDict domain = domains.Dict(rule.host.base());
  pugi::xml_node hashes = domain.Array("TSKPublicKeyHashes");
  for (const PinEntry* entry : pins) {
    if (!entry->label.empty()) hashes.append_child(pugi::node_comment).set_value((" " + entry->label + " ").c_str());
    hashes.append_child("string").text() = entry->pin.Base64().c_str();
  }
  domain.Bool("TSKIncludeSubdomains", rule.host.kind() != HostPatternKind::kExact);
  domain.Bool("TSKEnforcePinning", rule.mode == EnforcementMode::kEnforce);
  if (!rule.report_uris.empty()) {
    pugi::xml_node uris = domain.Array("TSKReportUris");
    for (const std::string& uri : rule.report_uris) uris.append_child("string").text() = uri.c_str();
    domain.Bool("TSKDisableDefaultReportUri", true);
  }
  // TrustKit stops enforcing after TSKExpirationDate; on_expiry = "enforce" means never stop.
  if (rule.expires && rule.on_expiry == ExpiryAction::kAllow) {
    domain.String("TSKExpirationDate", DateOnly(*rule.expires, rule, "TrustKit", warnings));
  }
}

}  // namespace

Result<ExportResult> ExportApple(const Policy& policy, const ExportOptions& options, bool trustkit) {
  ExportResult result;
  pugi::xml_document document;
  auto declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  auto doctype = document.append_child(pugi::node_doctype);
  doctype.set_value("plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\"");
  document.append_child(pugi::node_comment)
      .set_value(XmlCommentBody(HeaderLines(policy, options, trustkit ? "TrustKit configuration" : "App Transport Security pinning"))
                     .c_str());
  pugi::xml_node plist = document.append_child("plist");
  plist.append_attribute("version") = "1.0";
  PlistDict root(plist.append_child("dict"));
  PlistDict domains = trustkit ? [&] {
    PlistDict configuration = root.Dict("TSKConfiguration");
    configuration.Bool("TSKSwizzleNetworkDelegates", false);
    return configuration.Dict("TSKPinnedDomains");
  }()
                               : root.Dict("NSAppTransportSecurity").Dict("NSPinnedDomains");
  for (const DomainRule& rule : policy.rules()) {
    std::string host = rule.host.ToString();
    if (IsIpLiteral(rule.host.base())) {
      result.warnings.push_back(host + ": IP address rules are left out");
      continue;
    }
    if (!trustkit && rule.mode == EnforcementMode::kReportOnly) {
      result.warnings.push_back(host + ": App Transport Security cannot report without enforcing; the domain is left out");
      continue;
    }
    trustkit ? TrustKitDomain(domains, rule, result.warnings) : IosDomain(domains, rule, result.warnings);
  }
  if (domains.node().first_child().empty()) {
    return Error(ErrorCode::kInvalidArgument, "no domain of the policy can be expressed for this target");
  }
  std::ostringstream xml;
  document.save(xml, "\t", pugi::format_default, pugi::encoding_utf8);
  result.text = xml.str();
  return result;
}

}  // namespace pinion::tooling::internal
