// x509-limbo path-building vectors through Enforcer::CheckChain. For every
// SERVER case pinion validates: (1) where OpenSSL's own baseline also
// validated, the chain pinion pins against is the chain OpenSSL built;
// (2) a policy pinning only "decoys" — keys the server sent or the store holds
// that are not in the validated chain — never lets the chain pass.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <openssl/pem.h>

#include "pinion/openssl/unique_ptr.h"
#include "pinion/openssl/enforcer.h"
#include "pinion/pin_source.h"

namespace pinion::openssl {
namespace {

std::vector<std::uint8_t> PemToDer(const std::string& pem) {
  auto certs = ReadCertificates({reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()}, "limbo");
  return certs.ok() ? certs->front() : std::vector<std::uint8_t>{};
}

PolicySnapshot PolicyPinning(const std::string& host, const std::vector<Pin>& pins) {
  DomainRule rule{.host = *HostPattern::Parse(host, false)};
  for (const Pin& pin : pins) rule.pins.push_back({pin, "decoy"});
  return *Policy::Create(1, {rule});
}

TEST(LimboTest, PinsOnlyEverMatchTheValidatedChain) {
  std::string dir = std::string(PINION_TESTDATA_DIR) + "/x509-limbo/";
  std::ifstream suite_in(dir + "limbo.generated-no-bettertls.json");
  std::ifstream baseline_in(dir + "openssl-3.0.19-results.derived.json");
  auto suite = nlohmann::json::parse(suite_in);
  auto baseline = nlohmann::json::parse(baseline_in);
  std::map<std::string, nlohmann::json> expected;
  for (const auto& result : baseline["results"]) expected[result["id"]] = result;

  int validated = 0, chains_compared = 0, decoys_rejected = 0;
  for (const auto& test : suite["testcases"]) {
    if (test["validation_kind"] != "SERVER" || test["expected_peer_name"].is_null()) continue;
    const auto& peer_name = test["expected_peer_name"];
    if (peer_name["kind"] != "DNS" && peer_name["kind"] != "IP") continue;
    std::string host = peer_name["value"];
    if (!NormalizeHostName(host).ok() || !HostPattern::Parse(host, false).ok()) continue;

    openssl::UniquePtr<X509_STORE> trust(X509_STORE_new());
    std::vector<Pin> decoy_candidates;
    for (const auto& pem : test["trusted_certs"]) {
      auto der = PemToDer(pem);
      const unsigned char* cursor = der.data();
      openssl::UniquePtr<X509> x(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
      if (x) X509_STORE_add_cert(trust.get(), x.get());
      if (auto s = ReadPinSources(der, "t"); s.ok()) decoy_candidates.push_back(s->front().SpkiPin());
    }
    std::vector<std::vector<std::uint8_t>> chain = {PemToDer(test["peer_certificate"])};
    for (const auto& pem : test["untrusted_intermediates"]) chain.push_back(PemToDer(pem));
    for (const auto& der : chain) {
      if (auto s = ReadPinSources(der, "c"); s.ok()) decoy_candidates.push_back(s->front().SpkiPin());
    }
    TimePoint at = SystemClock::Instance().Now();
    if (!test["validation_time"].is_null()) at = *ParseTimestamp(test["validation_time"].get<std::string>());

    PolicyStore store(nullptr);
    auto enforcer = *Enforcer::Create(store);
    ChainCheck check = enforcer->CheckChain(chain, host, 443, at, trust.get());
    if (!check.validation.ok()) continue;
    ++validated;
    std::vector<Pin> validated_pins;
    for (const auto& der : check.validated_chain_der) {
      auto s = ReadPinSources(der, "v");
      ASSERT_TRUE(s.ok()) << test["id"];
      validated_pins.push_back(s->front().SpkiPin());
    }
    const auto& base = expected[test["id"]];
    if (base.contains("verified_chain_spki_sha256") && base["actual"] == "SUCCESS") {
      std::vector<std::string> ours;
      for (const Pin& pin : validated_pins) ours.push_back(pin.Base64());
      EXPECT_EQ(ours, base["verified_chain_spki_sha256"].get<std::vector<std::string>>()) << test["id"];
      ++chains_compared;
    }
    // Every key offered but not part of the validated chain is a decoy.
    std::vector<Pin> decoys;
    for (const Pin& pin : decoy_candidates) {
      if (std::find(validated_pins.begin(), validated_pins.end(), pin) == validated_pins.end()) decoys.push_back(pin);
    }
    if (decoys.empty()) continue;
    std::sort(decoys.begin(), decoys.end(), [](const Pin& a, const Pin& b) { return a.ToString() < b.ToString(); });
    decoys.erase(std::unique(decoys.begin(), decoys.end()), decoys.end());
    if (decoys.size() > kMaxPinsPerDomain) decoys.erase(decoys.begin() + kMaxPinsPerDomain, decoys.end());
    store.Swap(PolicyPinning(host, decoys));
    ChainCheck pinned = enforcer->CheckChain(chain, host, 443, at, trust.get());
    ASSERT_TRUE(pinned.validation.ok()) << test["id"];
    EXPECT_EQ(pinned.verdict->reason, VerdictReason::kMismatch) << test["id"];
    ++decoys_rejected;
  }
  std::cout << "limbo: " << validated << " chains validated, " << chains_compared
            << " compared with OpenSSL's baseline, " << decoys_rejected << " decoy policies rejected\n";
  EXPECT_GT(chains_compared, 50);
  EXPECT_GE(decoys_rejected, 3);  // the suite has few cases that offer keys outside the built chain
}

}  // namespace
}  // namespace pinion::openssl
