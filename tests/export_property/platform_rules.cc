#include "platform_rules.h"

#include <plist/plist.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "pinion/host_pattern.h"
#include "pinion/pin.h"

namespace pinion::property {
namespace {

struct PlistFree {
  void operator()(plist_t node) const { plist_free(node); }
};
using PlistPtr = std::unique_ptr<void, PlistFree>;

PlistPtr ParseXml(const std::string& xml) {
  plist_t root = nullptr;
  plist_from_xml(xml.data(), static_cast<std::uint32_t>(xml.size()), &root);
  return PlistPtr(root);
}

bool IsType(plist_t node, plist_type type) { return node != nullptr && plist_get_node_type(node) == type; }

std::string StringOf(plist_t node) {
  char* value = nullptr;
  plist_get_string_val(node, &value);
  std::string text = value ? value : "";
  std::free(value);
  return text;
}

bool BoolOf(plist_t node) {
  std::uint8_t value = 0;
  plist_get_bool_val(node, &value);
  return value != 0;
}

// Keys of a dictionary, in the file's order.
std::vector<std::pair<std::string, plist_t>> Items(plist_t dict) {
  std::vector<std::pair<std::string, plist_t>> items;
  plist_dict_iter iter = nullptr;
  plist_dict_new_iter(dict, &iter);
  for (;;) {
    char* key = nullptr;
    plist_t value = nullptr;
    plist_dict_next_item(dict, iter, &key, &value);
    if (key == nullptr) break;
    items.emplace_back(key, value);
    std::free(key);
  }
  std::free(iter);
  return items;
}

// A base64 SHA-256 digest as the platforms take it: exactly 32 bytes once decoded.
bool IsSha256Base64(const std::string& text) { return Pin::Parse("sha256/" + text).ok(); }

std::string ParentOf(const std::string& host) {
  auto dot = host.find('.');
  return dot == std::string::npos ? std::string() : host.substr(dot + 1);
}

}  // namespace

const char* ConsumerDecisionName(ConsumerDecision decision) {
  switch (decision) {
    case ConsumerDecision::kAccept: return "accept";
    case ConsumerDecision::kReject: return "pin";
    case ConsumerDecision::kAmbiguous: return "ambiguous";
  }
  return "?";
}

// --- App Transport Security -------------------------------------------------------------------

ParseResult<AtsPinning> AtsPinning::Parse(const std::string& plist_xml) {
  PlistPtr root = ParseXml(plist_xml);
  if (!IsType(root.get(), PLIST_DICT)) return std::string("not a plist dictionary");
  plist_t ats = plist_dict_get_item(root.get(), "NSAppTransportSecurity");
  if (!IsType(ats, PLIST_DICT)) return std::string("no NSAppTransportSecurity dictionary");
  plist_t pinned = plist_dict_get_item(ats, "NSPinnedDomains");
  AtsPinning result;
  if (pinned == nullptr) return result;  // nothing pinned: a valid, empty configuration
  if (!IsType(pinned, PLIST_DICT)) return std::string("NSPinnedDomains is not a dictionary");
  for (const auto& [name, entry] : Items(pinned)) {
    if (!IsType(entry, PLIST_DICT)) return "NSPinnedDomains/" + name + " is not a dictionary";
    // Apple: domain keys are lower-case DNS names, no wildcard, no trailing dot.
    auto normalized = NormalizeHostName(name);
    if (!normalized || *normalized != name || name.find('*') != std::string::npos) {
      return "NSPinnedDomains key " + name + " is not a lower-case host name";
    }
    Domain domain;
    for (const auto& [key, value] : Items(entry)) {
      if (key == "NSIncludesSubdomains") {
        if (!IsType(value, PLIST_BOOLEAN)) return name + ": NSIncludesSubdomains is not a Boolean";
        domain.include_subdomains = BoolOf(value);
      } else if (key == "NSPinnedLeafIdentities" || key == "NSPinnedCAIdentities") {
        if (!IsType(value, PLIST_ARRAY)) return name + ": " + key + " is not an array";
        std::set<std::string> digests;
        for (std::uint32_t i = 0; i < plist_array_get_size(value); ++i) {
          plist_t identity = plist_array_get_item(value, i);
          plist_t digest = IsType(identity, PLIST_DICT) ? plist_dict_get_item(identity, "SPKI-SHA256-BASE64") : nullptr;
          if (!IsType(digest, PLIST_STRING) || !IsSha256Base64(StringOf(digest))) {
            return name + ": " + key + "[" + std::to_string(i) + "] has no valid SPKI-SHA256-BASE64";
          }
          digests.insert(StringOf(digest));
        }
        if (digests.empty()) return name + ": " + key + " is empty";
        (key == "NSPinnedLeafIdentities" ? domain.leaf : domain.ca) = std::move(digests);
      } else {
        return name + ": unknown key " + key;
      }
    }
    if (!domain.leaf && !domain.ca) return name + ": neither NSPinnedLeafIdentities nor NSPinnedCAIdentities";
    result.domains_.emplace(name, std::move(domain));
  }
  return result;
}

ConsumerDecision AtsPinning::Decide(const std::string& host, const ChainSpkiPins& chain) const {
  // The host's own entry, else its parent's when that includes subdomains: Apple documents
  // NSIncludesSubdomains as covering names with exactly one more label.
  const Domain* domain = nullptr;
  if (auto it = domains_.find(host); it != domains_.end()) {
    domain = &it->second;
  } else if (auto parent = domains_.find(ParentOf(host)); parent != domains_.end() && parent->second.include_subdomains) {
    domain = &parent->second;
  }
  if (domain == nullptr) return ConsumerDecision::kAccept;
  // Leaf identities: the leaf's SPKI; CA identities: any CA certificate of the chain.
  // With both keys, ATS requires a match in each.
  if (domain->leaf && !domain->leaf->contains(chain.front())) return ConsumerDecision::kReject;
  if (domain->ca) {
    bool found = false;
    for (std::size_t i = 1; i < chain.size(); ++i) found = found || domain->ca->contains(chain[i]);
    if (!found) return ConsumerDecision::kReject;
  }
  return ConsumerDecision::kAccept;
}

// --- TrustKit -----------------------------------------------------------------------------------

ParseResult<TrustKitPinning> TrustKitPinning::Parse(const std::string& plist_xml) {
  PlistPtr root = ParseXml(plist_xml);
  if (!IsType(root.get(), PLIST_DICT)) return std::string("not a plist dictionary");
  plist_t config = plist_dict_get_item(root.get(), "TSKConfiguration");
  if (config == nullptr) config = root.get();
  if (!IsType(config, PLIST_DICT)) return std::string("TSKConfiguration is not a dictionary");
  if (plist_t swizzle = plist_dict_get_item(config, "TSKSwizzleNetworkDelegates");
      swizzle != nullptr && !IsType(swizzle, PLIST_BOOLEAN)) {
    return std::string("TSKSwizzleNetworkDelegates is not a Boolean");
  }
  plist_t pinned = plist_dict_get_item(config, "TSKPinnedDomains");
  if (!IsType(pinned, PLIST_DICT) || Items(pinned).empty()) {
    return std::string("TrustKit raises: no pinned domains (TSKPinnedDomains missing or empty)");
  }
  TrustKitPinning result;
  for (const auto& [name, entry] : Items(pinned)) {
    if (!IsType(entry, PLIST_DICT)) return "TSKPinnedDomains/" + name + " is not a dictionary";
    auto normalized = NormalizeHostName(name);
    if (!normalized || *normalized != name || name.find('.') == std::string::npos || IsPublicSuffix(name)) {
      return "TrustKit raises: invalid domain " + name;
    }
    Domain domain;
    auto items = Items(entry);
    plist_t exclude = plist_dict_get_item(entry, "TSKExcludeSubdomainFromParentPolicy");
    if (exclude != nullptr && IsType(exclude, PLIST_BOOLEAN) && BoolOf(exclude)) {
      if (items.size() > 1) return "TrustKit raises: " + name + " excluded from its parent but has other keys";
      domain.exclude = true;
      result.domains_.emplace(name, std::move(domain));
      continue;
    }
    for (const auto& [key, value] : items) {
      if (key == "TSKIncludeSubdomains" || key == "TSKEnforcePinning" || key == "TSKDisableDefaultReportUri" ||
          key == "TSKExcludeSubdomainFromParentPolicy") {
        if (!IsType(value, PLIST_BOOLEAN)) return name + ": " + key + " is not a Boolean";
        if (key == "TSKIncludeSubdomains") domain.include_subdomains = BoolOf(value);
        if (key == "TSKEnforcePinning") domain.enforce = BoolOf(value);
      } else if (key == "TSKExpirationDate") {
        int y = 0, m = 0, d = 0;
        char tail = 0;
        std::string text = IsType(value, PLIST_STRING) ? StringOf(value) : "";
        if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
          return name + ": TSKExpirationDate is not yyyy-MM-dd";
        }
        std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
                                         std::chrono::day(static_cast<unsigned>(d))};
        if (!date.ok()) return name + ": TSKExpirationDate is not a date";
        domain.expires = std::chrono::sys_days(date);
      } else if (key == "TSKReportUris") {
        if (!IsType(value, PLIST_ARRAY)) return name + ": TSKReportUris is not an array";
        for (std::uint32_t i = 0; i < plist_array_get_size(value); ++i) {
          plist_t uri = plist_array_get_item(value, i);
          std::string text = IsType(uri, PLIST_STRING) ? StringOf(uri) : "";
          // NSURL URLWithString returns nil for text that is not a URL (spaces, empty, no scheme).
          if (text.empty() || text.find_first_of(" \"<>\\^`{|}") != std::string::npos ||
              text.find("://") == std::string::npos) {
            return "TrustKit raises: " + name + ": invalid report URI '" + text + "'";
          }
        }
      } else if (key == "TSKPublicKeyHashes") {
        if (!IsType(value, PLIST_ARRAY)) return name + ": TSKPublicKeyHashes is not an array";
        for (std::uint32_t i = 0; i < plist_array_get_size(value); ++i) {
          plist_t pin = plist_array_get_item(value, i);
          std::string text = IsType(pin, PLIST_STRING) ? StringOf(pin) : "";
          if (!IsSha256Base64(text)) return "TrustKit raises: " + name + ": invalid pin '" + text + "'";
          domain.pins.insert(text);
        }
      } else if (key == "TSKPublicKeyAlgorithms") {
        // Read by TrustKit 1.x only (ignored since 1.6); accepted either way.
      } else {
        return name + ": unknown key " + key;
      }
    }
    if (domain.include_subdomains && IsPublicSuffix(name)) {
      return "TrustKit raises: includeSubdomains for a public suffix " + name;
    }
    std::size_t required = domain.enforce ? 2 : 1;
    if (domain.pins.size() < required) {
      return "TrustKit raises: " + name + " has " + std::to_string(domain.pins.size()) + " distinct pin(s), needs " +
             std::to_string(required);
    }
    result.domains_.emplace(name, std::move(domain));
  }
  for (const auto& [name, domain] : result.domains_) {
    if (!domain.exclude) continue;
    bool has_parent = false;
    for (const auto& [other, parent] : result.domains_) {
      has_parent = has_parent || (parent.include_subdomains && !parent.exclude && name.size() > other.size() &&
                                  name.ends_with("." + other));
    }
    if (!has_parent) return "TrustKit raises: " + name + " excluded but no parent policy covers it";
  }
  return result;
}

ConsumerDecision TrustKitPinning::DecideWith(const Domain& domain, const ChainSpkiPins& chain,
                                             std::chrono::system_clock::time_point now) const {
  if (domain.exclude) return ConsumerDecision::kAccept;
  if (domain.expires && now >= *domain.expires) return ConsumerDecision::kAccept;  // pinning skipped
  for (const std::string& pin : chain) {
    if (domain.pins.contains(pin)) return ConsumerDecision::kAccept;
  }
  return domain.enforce ? ConsumerDecision::kReject : ConsumerDecision::kAccept;
}

ConsumerDecision TrustKitPinning::Decide(const std::string& host, const ChainSpkiPins& chain,
                                         std::chrono::system_clock::time_point now) const {
  if (auto it = domains_.find(host); it != domains_.end()) return DecideWith(it->second, chain, now);
  // TrustKit takes the first includeSubdomains domain above the host in dictionary order,
  // which is unspecified: every candidate must give the same answer.
  std::optional<ConsumerDecision> decision;
  for (const auto& [name, domain] : domains_) {
    if (domain.exclude || !domain.include_subdomains || !host.ends_with("." + name)) continue;
    ConsumerDecision d = DecideWith(domain, chain, now);
    if (decision && *decision != d) return ConsumerDecision::kAmbiguous;
    decision = d;
  }
  return decision.value_or(ConsumerDecision::kAccept);
}

// --- Envoy -------------------------------------------------------------------------------------

ParseResult<EnvoyPinning> EnvoyPinning::Parse(const std::string& yaml) {
  EnvoyPinning result;
  std::optional<std::set<std::string>>* list = nullptr;
  std::size_t start = 0;
  while (start < yaml.size()) {
    std::size_t end = yaml.find('\n', start);
    if (end == std::string::npos) end = yaml.size();
    std::string line = yaml.substr(start, end - start);
    start = end + 1;
    if (auto hash = line.find('#'); hash != std::string::npos && line.find('"') > hash) line.resize(hash);
    std::size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos) continue;
    std::string text = line.substr(indent);
    if (text == "verify_certificate_spki:" || text == "verify_certificate_hash:") {
      list = text == "verify_certificate_spki:" ? &result.spki_ : &result.hash_;
      if (*list) return "duplicate key " + text;
      *list = std::set<std::string>();
      continue;
    }
    if (text.starts_with("- ") && list != nullptr) {
      std::string value = text.substr(2);
      if (auto comment = value.find(" #"); comment != std::string::npos) value.resize(comment);
      while (!value.empty() && value.back() == ' ') value.pop_back();
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (list == &result.spki_) {
        if (!IsSha256Base64(value)) return "verify_certificate_spki: not a base64 SHA-256: " + value;
      } else {
        std::string hex;
        for (char ch : value) {
          if (ch != ':') hex += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        }
        if (hex.size() != 64 || hex.find_first_not_of("0123456789ABCDEF") != std::string::npos) {
          return "verify_certificate_hash: not a hex SHA-256: " + value;
        }
        value = hex;
      }
      (*list)->insert(value);
      continue;
    }
    list = nullptr;  // any other key ends the list
  }
  return result;
}

ConsumerDecision EnvoyPinning::Decide(const std::string& leaf_spki, const std::string& leaf_hash_hex) const {
  if ((!spki_ || spki_->empty()) && (!hash_ || hash_->empty())) return ConsumerDecision::kAccept;
  if (spki_ && spki_->contains(leaf_spki)) return ConsumerDecision::kAccept;
  if (hash_ && hash_->contains(leaf_hash_hex)) return ConsumerDecision::kAccept;
  return ConsumerDecision::kReject;
}

}  // namespace pinion::property
