// ios-plist (NSAppTransportSecurity / NSPinnedDomains) and trustkit
// (TSKConfiguration), as whole property-list documents to merge into Info.plist.
#include <libpsl.h>

#include <algorithm>
#include <cctype>
#include <optional>
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

// The ATS list that gives a domain's pins pinion's meaning ("some pin is in
// the validated chain"), or nullopt with the reason there is none. ATS checks
// NSPinnedLeafIdentities against the leaf only and NSPinnedCAIdentities
// against the CA certificates only, and when both lists are present it
// requires a match in each: so only pins that all sit at the leaf, or all
// above it, keep their meaning, and only the role says where a key sits.
std::optional<std::string> AtsList(const std::vector<const PinEntry*>& pins, std::string& why_not) {
  bool leaf = false, ca = false, unknown = false;
  for (const PinEntry* entry : pins) {
    leaf = leaf || entry->role == PinRole::kLeaf;
    ca = ca || entry->role == PinRole::kCa;
    unknown = unknown || entry->role == PinRole::kUnspecified;
  }
  if (unknown) {
    why_not = "ATS matches leaf identities against the leaf only and CA identities against the CA certificates "
              "only, and a pin without a role could be either; give every pin role = \"leaf\" or role = \"ca\"";
    return std::nullopt;
  }
  if (leaf && ca) {
    why_not = "the rule has leaf and CA pins; ATS would require a match in each list, while the policy accepts a "
              "chain with any one pin, so the current server could fail and the backup would never suffice on its "
              "own; put only leaf or only CA pins on a domain exported to iOS";
    return std::nullopt;
  }
  return std::string(ca ? "NSPinnedCAIdentities" : "NSPinnedLeafIdentities");
}

void IosDomain(PlistDict& domains, const DomainEntry& group, std::vector<ExportChange>& changes) {
  const DomainRule& rule = *group.rules.front();
  std::vector<ExportChange> rule_changes;
  std::vector<const PinEntry*> pins = SpkiSha256Pins(rule, "iOS", rule_changes);
  if (pins.empty()) {
    Lossy(changes, rule, LeftOut("iOS") + "no pin iOS can express");
    return;
  }
  std::string why_not;
  std::optional<std::string> list = AtsList(pins, why_not);
  if (!list) {
    Lossy(changes, rule, LeftOut("iOS") + why_not);
    return;
  }
  changes.insert(changes.end(), rule_changes.begin(), rule_changes.end());
  NoExpiry(rule, "iOS", changes);
  NoReports(rule, "App Transport Security", changes);
  if (!rule.anchors.use_system()) {
    Lossy(changes, rule, "NSPinnedDomains cannot replace trust anchors; the system store validates instead of " +
                             rule.anchors.path);
  }
  PlistDict domain = domains.Dict(group.base);
  domain.Bool("NSIncludesSubdomains", group.include_subdomains);
  pugi::xml_node array = domain.Array(*list);
  for (const PinEntry* entry : pins) AppendSpki(array, *entry);
}

// TrustKit reads a report URI with NSURL, which refuses anything outside the
// RFC 3986 character set and '%' not followed by two hex digits.
bool NsUrlReads(std::string_view uri) {
  constexpr std::string_view kAllowed =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=";
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%') {
      if (i + 2 >= uri.size() || !hex(uri[i + 1]) || !hex(uri[i + 2])) return false;
    } else if (kAllowed.find(uri[i]) == std::string_view::npos) {
      return false;
    }
  }
  return std::count(uri.begin(), uri.end(), '#') <= 1;
}

// TrustKitKnowsRegistry: TrustKit refuses at start-up a pinned domain whose
// name ends in no suffix of its bundled Public Suffix List ("api.corp",
// "example.test"); an explicit rule (not the implicit "*") must match.
bool TrustKitKnowsRegistry(const std::string& name) {
  // The newer of libpsl's built-in list and the system's, loaded once (as the core does).
  static const psl_ctx_t* const list = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest != nullptr ? latest : psl_builtin();
  }();
  if (list == nullptr) return false;
  for (std::size_t from = 0;; ++from) {
    std::string suffix = name.substr(from);
    if (psl_is_public_suffix2(list, suffix.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0) return true;
    from = name.find('.', from);
    if (from == std::string::npos) return false;
  }
}

// For a name under two nested TSKIncludeSubdomains domains, TrustKit uses
// whichever parent its (unordered) dictionary yields first, where pinion uses
// the most specific rule: unless both mean the same, that is a change.
void NestedTrustKitParents(const std::vector<DomainEntry>& groups, std::vector<ExportChange>& changes) {
  for (const DomainEntry& inner : groups) {
    for (const DomainEntry& outer : groups) {
      if (&inner == &outer || !inner.include_subdomains || !outer.include_subdomains) continue;
      if (!inner.base.ends_with("." + outer.base)) continue;
      if (SameRuleMeaning(*inner.rules.front(), *outer.rules.front())) continue;
      Lossy(changes, *inner.rules.front(),
            "names below " + inner.base + " also fall under " + outer.base +
                "'s TSKIncludeSubdomains, and TrustKit may apply either domain's pins to them (it does not pick the "
                "most specific), while the policy uses this rule");
    }
  }
}

void TrustKitDomain(PlistDict& domains, const DomainEntry& group, std::vector<ExportChange>& changes) {
  const DomainRule& rule = *group.rules.front();
  std::vector<ExportChange> rule_changes;
  std::vector<const PinEntry*> pins = SpkiSha256Pins(rule, "TrustKit", rule_changes);
  // Each check below is one of TrustKit's start-up rules: a domain that broke
  // one would make TrustKit raise when the app starts, for every domain.
  if (!TrustKitKnowsRegistry(group.base)) {
    Lossy(changes, rule, LeftOut("TrustKit") + "TrustKit refuses at start-up a domain that is not "
                         "under a suffix of the Public Suffix List");
    return;
  }
  if (group.include_subdomains && IsPublicSuffix(group.base)) {
    Lossy(changes, rule, LeftOut("TrustKit") + "TrustKit refuses TSKIncludeSubdomains on a public suffix");
    return;
  }
  // Pins are unique in a policy, so the count is of distinct hashes as TrustKit counts them.
  std::size_t required = rule.mode == EnforcementMode::kEnforce ? 2 : 1;
  if (pins.size() < required) {
    Lossy(changes, rule, LeftOut("TrustKit") + "TrustKit refuses at start-up " +
                             std::string(required == 2 ? "an enforcing domain with fewer than two SHA-256 key pins "
                                                         "(it requires a backup pin)"
                                                       : "a domain without a SHA-256 key pin") +
                             "; the rule has " + std::to_string(pins.size()));
    return;
  }
  changes.insert(changes.end(), rule_changes.begin(), rule_changes.end());
  if (!rule.anchors.use_system()) {
    Lossy(changes, rule, "TrustKit cannot replace trust anchors; the system store validates instead of " +
                             rule.anchors.path);
  }
  std::vector<std::string> uris;
  for (const std::string& uri : rule.report_uris) {
    if (NsUrlReads(uri)) {
      uris.push_back(uri);
    } else {
      Lossy(changes, rule, "report_uri " + uri + " is dropped: TrustKit's URL parser would refuse it at start-up");
    }
  }
  PlistDict domain = domains.Dict(group.base);
  pugi::xml_node hashes = domain.Array("TSKPublicKeyHashes");
  for (const PinEntry* entry : pins) {
    if (!entry->label.empty()) hashes.append_child(pugi::node_comment).set_value((" " + entry->label + " ").c_str());
    hashes.append_child("string").text() = entry->pin.Base64().c_str();
  }
  domain.Bool("TSKIncludeSubdomains", group.include_subdomains);
  domain.Bool("TSKEnforcePinning", rule.mode == EnforcementMode::kEnforce);
  // Without this TrustKit also reports to its authors' server, which the policy never asked for.
  domain.Bool("TSKDisableDefaultReportUri", true);
  if (!uris.empty()) {
    pugi::xml_node array = domain.Array("TSKReportUris");
    for (const std::string& uri : uris) array.append_child("string").text() = uri.c_str();
  }
  // TrustKit stops checking after TSKExpirationDate (00:00 UTC of that day);
  // on_expiry = "enforce" means never stop.
  if (rule.expires && rule.on_expiry == ExpiryAction::kAllow) {
    domain.String("TSKExpirationDate", DateOnly(*rule.expires, rule, "TrustKit", changes));
    if (!uris.empty()) {
      Lossy(changes, rule, "after the expiry TrustKit stops checking the domain, so it sends no failure reports; "
                           "pinion allows and reports");
    }
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
  std::string_view target = trustkit ? "TrustKit" : "iOS";
  std::vector<const DomainRule*> candidates;
  for (const DomainRule& rule : policy.rules()) {
    if (IsIpLiteral(rule.host.base())) {
      Lossy(result.changes, rule, LeftOut(target) + "IP address rules cannot be expressed");
      continue;
    }
    if (!trustkit && rule.mode == EnforcementMode::kReportOnly) {
      Lossy(result.changes, rule, LeftOut("iOS") + "App Transport Security cannot report without "
                                  "enforcing, and enforcing a report-only rule could lock users out");
      continue;
    }
    candidates.push_back(&rule);
  }
  // ATS's NSIncludesSubdomains reaches one label below the name (Apple's
  // documentation); TrustKit's TSKIncludeSubdomains every name below it.
  SubdomainReach reach = trustkit ? SubdomainReach::kAllLevels : SubdomainReach::kOneLabel;
  std::vector<DomainEntry> groups = GroupByBase(candidates, reach, target, SameRuleMeaning, result.changes);
  if (trustkit) NestedTrustKitParents(groups, result.changes);
  for (const DomainEntry& group : groups) {
    trustkit ? TrustKitDomain(domains, group, result.changes) : IosDomain(domains, group, result.changes);
  }
  if (domains.node().first_child().empty()) {
    return NothingExpressible(target, result.changes);
  }
  std::ostringstream xml;
  document.save(xml, "\t", pugi::format_default, pugi::encoding_utf8);
  result.text = xml.str();
  return result;
}

}  // namespace pinion::tooling::internal
