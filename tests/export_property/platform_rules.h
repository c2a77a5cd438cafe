// The pinning rules of two platforms that cannot run here, applied to a parsed
// configuration: App Transport Security's NSPinnedDomains (iOS, macOS) and
// TrustKit's TSKConfiguration. Both were written from the platforms'
// documentation and, for TrustKit, its published start-up checks; the
// reading is spelled out in docs/security/EXPORT_PROPERTY.md.
//
//   auto ats = AtsPinning::Parse(plist_xml);            // error text when ATS would not take it
//   ats->Decide("api.example.com", chain_spki_pins);    // kAccept / kReject
#ifndef PINION_TESTS_EXPORT_PROPERTY_PLATFORM_RULES_H_
#define PINION_TESTS_EXPORT_PROPERTY_PLATFORM_RULES_H_

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace pinion::property {

// ConsumerDecision: what the platform does with a chain it already validated.
// kAmbiguous: the platform's documented rules allow more than one outcome
// (e.g. TrustKit picks any of several matching parent domains).
enum class ConsumerDecision { kAccept, kReject, kAmbiguous };
const char* ConsumerDecisionName(ConsumerDecision decision);

// ChainSpkiPins: base64 SHA-256 of each validated certificate's SPKI, leaf first.
using ChainSpkiPins = std::vector<std::string>;

// ParseResult: the parsed rules, or why the platform would refuse the file.
template <typename T>
using ParseResult = std::variant<T, std::string>;

class AtsPinning {
 public:
  static ParseResult<AtsPinning> Parse(const std::string& plist_xml);
  ConsumerDecision Decide(const std::string& host, const ChainSpkiPins& chain) const;

 private:
  struct Domain {
    bool include_subdomains = false;
    std::optional<std::set<std::string>> leaf, ca;  // absent keys stay nullopt
  };
  std::map<std::string, Domain> domains_;
};

class TrustKitPinning {
 public:
  static ParseResult<TrustKitPinning> Parse(const std::string& plist_xml);
  ConsumerDecision Decide(const std::string& host, const ChainSpkiPins& chain,
                          std::chrono::system_clock::time_point now) const;

 private:
  struct Domain {
    bool exclude = false;  // TSKExcludeSubdomainFromParentPolicy
    bool include_subdomains = false;
    bool enforce = true;
    std::optional<std::chrono::sys_days> expires;
    std::set<std::string> pins;
  };
  ConsumerDecision DecideWith(const Domain& domain, const ChainSpkiPins& chain,
                              std::chrono::system_clock::time_point now) const;
  std::map<std::string, Domain> domains_;
};

// EnvoyPinning: an upstream cluster's validation_context as `pinion export --to envoy` writes
// it (YAML). Envoy compares the peer's leaf certificate only: its SPKI SHA-256 against
// verify_certificate_spki, its certificate SHA-256 against verify_certificate_hash; with both
// lists a match in either is enough; with neither, nothing is pinned.
class EnvoyPinning {
 public:
  static ParseResult<EnvoyPinning> Parse(const std::string& yaml);
  // leaf_spki: base64 SHA-256 of the leaf's SPKI; leaf_hash_hex: upper-case hex SHA-256 of its DER.
  ConsumerDecision Decide(const std::string& leaf_spki, const std::string& leaf_hash_hex) const;

 private:
  std::optional<std::set<std::string>> spki_, hash_;
};

}  // namespace pinion::property

#endif  // PINION_TESTS_EXPORT_PROPERTY_PLATFORM_RULES_H_
