#include "pinion/evaluate.h"

#include <gtest/gtest.h>

#include <thread>

#include "pinion/policy_loader.h"
#include "pinion/policy_store.h"
#include "test_pki.h"

namespace pinion {
namespace {

using testing::TestPki;

const TimePoint kNow = *ParseTimestamp("2026-11-21T12:00:00Z");

class EvaluateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create("api.example.test")); }
  static void TearDownTestSuite() { delete pki_; }

  static VerifiedChain LegitChain() {
    return *VerifiedChain::FromChainValidatedByCaller(
        {pki_->leaf.Der(), pki_->intermediate.Der(), pki_->root.Der()});
  }
  static VerifiedChain RogueChain() {
    return *VerifiedChain::FromChainValidatedByCaller(
        {pki_->rogue_leaf.Der(), pki_->rogue_intermediate.Der(), pki_->rogue_root.Der()});
  }
  static PolicySnapshot PolicyWith(std::vector<PinEntry> pins, std::string extra = "",
                                   std::string host = "api.example.test") {
    std::string toml = "[policy]\nversion = 3\n[[domain]]\nhost = \"" + host + "\"\n" + extra + "pins = [\n";
    for (const PinEntry& entry : pins) {
      toml += "  { pin = \"" + entry.pin.ToString() + "\", label = \"" + entry.label + "\" },\n";
    }
    toml += "]\n";
    auto policy = ParsePolicyToml(toml, "test.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }

  static TestPki* pki_;
};
TestPki* EvaluateTest::pki_ = nullptr;

TEST_F(EvaluateTest, LeafKeyMatches) {
  auto policy = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}, {pki_->backup_key.SpkiPin(), "backup"}});
  Verdict v = Evaluate(policy, "api.example.test", 443, LegitChain(), kNow);
  EXPECT_EQ(v.decision, Decision::kAllow);
  EXPECT_EQ(v.reason, VerdictReason::kMatched);
  ASSERT_NE(v.matched_pin(), nullptr);
  EXPECT_EQ(v.matched_pin()->label, "leaf");
  EXPECT_EQ(v.matched_chain_index, 0u);
  EXPECT_EQ(v.policy_version, 3u);
  ASSERT_EQ(v.chain_pins.size(), 3u);
  EXPECT_EQ(v.chain_pins[1].spki_sha256, pki_->intermediate.SpkiPin());
  EXPECT_TRUE(v.validated_chain_der.empty());  // nothing to explain
}

TEST_F(EvaluateTest, AnyCertificateOfTheValidatedChainMayMatch) {
  for (auto [pin, depth] : {std::pair{pki_->intermediate.SpkiPin(), 1u}, {pki_->root.SpkiPin(), 2u}}) {
    Verdict v = Evaluate(PolicyWith({{pin, "ca"}}), "api.example.test", 443, LegitChain(), kNow);
    EXPECT_EQ(v.reason, VerdictReason::kMatched);
    EXPECT_EQ(v.matched_chain_index, depth);
  }
}

TEST_F(EvaluateTest, CertificateAndLongerDigestPins) {
  Pin cert_pin = Pin::OfCertificate(pki_->leaf.Der());
  Pin sha384 = Pin::OfSpki(pki_->intermediate_key.SpkiDer(), HashAlgorithm::kSha384);
  Pin cert512 = Pin::OfCertificate(pki_->root.Der(), HashAlgorithm::kSha512);
  for (const Pin& pin : {cert_pin, sha384, cert512}) {
    Verdict v = Evaluate(PolicyWith({{pin, "x"}}), "api.example.test", 443, LegitChain(), kNow);
    EXPECT_EQ(v.reason, VerdictReason::kMatched) << pin.ToString();
  }
  Verdict rogue = Evaluate(PolicyWith({{cert_pin, "x"}}), "api.example.test", 443, RogueChain(), kNow);
  EXPECT_EQ(rogue.reason, VerdictReason::kMismatch);
}

TEST_F(EvaluateTest, MismatchIsRejectedAndExplained) {
  auto policy = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf key 2026"}, {pki_->backup_key.SpkiPin(), "backup key"}});
  Verdict v = Evaluate(policy, "API.Example.Test.", 8443, RogueChain(), kNow);
  EXPECT_EQ(v.decision, Decision::kReject);
  EXPECT_EQ(v.reason, VerdictReason::kMismatch);
  EXPECT_EQ(v.host, "api.example.test");
  EXPECT_EQ(v.matched_pin(), nullptr);
  EXPECT_EQ(v.validated_chain_der.size(), 3u);
  std::string text = v.Explain();
  // The explanation lists actual pins next to expected ones, with labels.
  EXPECT_NE(text.find(pki_->rogue_leaf.SpkiPin().ToString()), std::string::npos) << text;
  EXPECT_NE(text.find(pki_->rogue_root.SpkiPin().ToString()), std::string::npos);
  EXPECT_NE(text.find(pki_->leaf_key.SpkiPin().ToString()), std::string::npos);
  EXPECT_NE(text.find("backup key"), std::string::npos);
  EXPECT_NE(text.find("Rogue Intermediate CA"), std::string::npos);
  EXPECT_NE(text.find("api.example.test:8443"), std::string::npos);
  EXPECT_TRUE(v.Summary().starts_with("REJECT api.example.test:8443 mismatch"));
}

TEST_F(EvaluateTest, ReportOnlyAllowsAMismatch) {
  auto policy = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}}, "mode = \"report-only\"\n");
  Verdict v = Evaluate(policy, "api.example.test", 443, RogueChain(), kNow);
  EXPECT_EQ(v.decision, Decision::kAllow);
  EXPECT_EQ(v.reason, VerdictReason::kReportOnlyMismatch);
  EXPECT_EQ(Evaluate(policy, "api.example.test", 443, LegitChain(), kNow).reason, VerdictReason::kMatched);
}

TEST_F(EvaluateTest, ExpiryFollowsOnExpiry) {
  auto allow = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}}, "expires = 2026-11-21\n");
  Verdict expired = Evaluate(allow, "api.example.test", 443, RogueChain(), kNow);
  EXPECT_EQ(expired.decision, Decision::kAllow);
  EXPECT_EQ(expired.reason, VerdictReason::kPolicyExpired);
  EXPECT_NE(expired.Explain().find("2026-11-21T00:00:00Z"), std::string::npos);
  // One second before expiry it still enforces.
  Verdict before = Evaluate(allow, "api.example.test", 443, RogueChain(), *ParseTimestamp("2026-11-20T23:59:59Z"));
  EXPECT_EQ(before.reason, VerdictReason::kMismatch);
  auto enforce = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}}, "expires = 2026-11-21\non_expiry = \"enforce\"\n");
  EXPECT_EQ(Evaluate(enforce, "api.example.test", 443, RogueChain(), kNow).reason, VerdictReason::kMismatch);
  EXPECT_EQ(Evaluate(enforce, "api.example.test", 443, LegitChain(), kNow).reason, VerdictReason::kMatched);
}

TEST_F(EvaluateTest, UnpinnedHostsAndMissingPolicy) {
  auto policy = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}});
  Verdict v = Evaluate(policy, "other.example.test", 443, RogueChain(), kNow);
  EXPECT_EQ(v.decision, Decision::kAllow);
  EXPECT_EQ(v.reason, VerdictReason::kNotPinned);
  EXPECT_TRUE(v.chain_pins.empty());
  EXPECT_EQ(v.rule, nullptr);
  EXPECT_EQ(Evaluate(nullptr, "api.example.test", 443, RogueChain(), kNow).reason, VerdictReason::kNotPinned);
}

TEST_F(EvaluateTest, InvalidHostFailsClosed) {
  auto policy = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}});
  Verdict v = Evaluate(policy, "api..example.test", 443, LegitChain(), kNow);
  EXPECT_EQ(v.decision, Decision::kReject);
  EXPECT_EQ(v.reason, VerdictReason::kInvalidHost);
}

// Finding 10: the fast path for already-normal names must not let an IPv4
// number in another spelling through as "not pinned".
TEST_F(EvaluateTest, NonCanonicalIpv4IsAnInvalidHostNotAnUnpinnedOne) {
  auto policy = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}}, "", "127.0.0.1");
  for (const char* host : {"0x7f.0.0.1", "0x7f000001", "127.1", "2130706433", "example.123", "a.0x1f"}) {
    Verdict v = Evaluate(policy, host, 443, RogueChain(), kNow);
    EXPECT_EQ(v.reason, VerdictReason::kInvalidHost) << host;
    EXPECT_EQ(v.decision, Decision::kReject) << host;
  }
  EXPECT_EQ(Evaluate(policy, "127.0.0.1", 443, RogueChain(), kNow).reason, VerdictReason::kMismatch);
  EXPECT_EQ(Evaluate(policy, "1password.example", 443, RogueChain(), kNow).reason, VerdictReason::kNotPinned);
}

TEST_F(EvaluateTest, SubdomainAndWildcardRules) {
  auto subtree = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}}, "include_subdomains = true\n", "example.test");
  EXPECT_EQ(Evaluate(subtree, "a.b.example.test", 443, RogueChain(), kNow).reason, VerdictReason::kMismatch);
  EXPECT_EQ(Evaluate(subtree, "example.test", 443, RogueChain(), kNow).reason, VerdictReason::kMismatch);
  auto wildcard = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}}, "", "*.example.test");
  EXPECT_EQ(Evaluate(wildcard, "api.example.test", 443, RogueChain(), kNow).reason, VerdictReason::kMismatch);
  EXPECT_EQ(Evaluate(wildcard, "a.b.example.test", 443, RogueChain(), kNow).reason, VerdictReason::kNotPinned);
  EXPECT_EQ(Evaluate(wildcard, "example.test", 443, RogueChain(), kNow).reason, VerdictReason::kNotPinned);
}

TEST_F(EvaluateTest, DebugOverrideOnlyForTheNamedProxyCa) {
  auto policy = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}});
  Pin proxy = pki_->rogue_root.SpkiPin();
  DebugProxyOverride debug{std::span<const Pin>(&proxy, 1)};
  EvaluateOptions options{.debug_override = &debug};
  Verdict v = Evaluate(policy, "api.example.test", 443, RogueChain(), kNow, options);
  EXPECT_EQ(v.decision, Decision::kAllow);
  EXPECT_EQ(v.reason, VerdictReason::kDebugOverride);
  EXPECT_NE(v.Explain().find("WARNING"), std::string::npos);
  Pin other = pki_->backup_key.SpkiPin();
  DebugProxyOverride wrong{std::span<const Pin>(&other, 1)};
  EXPECT_EQ(Evaluate(policy, "api.example.test", 443, RogueChain(), kNow, {.debug_override = &wrong}).reason,
            VerdictReason::kMismatch);
}

// A reused decision (resumption, a kept-alive connection) must not outlive
// the time bound it depended on (issue 12, finding 4).
TEST_F(EvaluateTest, DecisionsHoldOnlyWithinTheirTimeBound) {
  auto base = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}});
  auto kill_switched = Policy::Create(base->version() + 1, {base->rules().begin(), base->rules().end()},
                                      EnforcementOverride{OverrideMode::kDisabled, {}, kNow + std::chrono::hours(1)});
  ASSERT_TRUE(kill_switched.ok()) << kill_switched.error().ToString();
  Verdict killed = Evaluate(*kill_switched, "api.example.test", 443, RogueChain(), kNow);
  ASSERT_EQ(killed.reason, VerdictReason::kKillSwitch);
  EXPECT_TRUE(killed.HoldsAt(kNow + std::chrono::minutes(59)));
  EXPECT_FALSE(killed.HoldsAt(kNow + std::chrono::hours(1)));
  EXPECT_TRUE(Evaluate(*kill_switched, "api.example.test", 443, LegitChain(), kNow).HoldsAt(kNow + std::chrono::hours(48)));

  auto expiring = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}}, "expires = 2026-11-21\n");
  Verdict fail_open = Evaluate(expiring, "api.example.test", 443, RogueChain(), kNow);
  ASSERT_EQ(fail_open.reason, VerdictReason::kPolicyExpired);
  EXPECT_TRUE(fail_open.HoldsAt(kNow + std::chrono::hours(24)));
  EXPECT_FALSE(fail_open.HoldsAt(*ParseTimestamp("2026-11-20T23:59:59Z")));  // clock set back

  Pin proxy = pki_->rogue_root.SpkiPin();
  DebugProxyOverride debug{std::span<const Pin>(&proxy, 1)};
  Verdict overridden = Evaluate(base, "api.example.test", 443, RogueChain(), kNow, {.debug_override = &debug});
  ASSERT_EQ(overridden.reason, VerdictReason::kDebugOverride);
  EXPECT_FALSE(overridden.HoldsAt(kNow));
  EXPECT_FALSE(Evaluate(base, "api.example.test", 443, RogueChain(), kNow).HoldsAt(kNow));
  EXPECT_TRUE(Evaluate(base, "api.example.test", 443, LegitChain(), kNow).HoldsAt(kNow + std::chrono::hours(9999)));
}

TEST_F(EvaluateTest, PrecomputedPinsGiveTheSameVerdict) {
  auto policy = PolicyWith({{pki_->root.SpkiPin(), "root"}});
  VerifiedChain chain = LegitChain();
  Verdict cold = Evaluate(policy, "api.example.test", 443, chain, kNow);
  chain.PrecomputePins();
  Verdict warm = Evaluate(policy, "api.example.test", 443, chain, kNow);
  EXPECT_EQ(cold.reason, warm.reason);
  EXPECT_EQ(cold.matched_chain_index, warm.matched_chain_index);
  EXPECT_EQ(cold.chain_pins[2].spki_sha256, warm.chain_pins[2].spki_sha256);
}

TEST_F(EvaluateTest, VerifiedChainBounds) {
  EXPECT_EQ(VerifiedChain::FromChainValidatedByCaller({}).error().code(), ErrorCode::kChainEmpty);
  std::vector<std::vector<std::uint8_t>> long_chain(kMaxChainLength + 1, pki_->leaf.Der());
  EXPECT_EQ(VerifiedChain::FromChainValidatedByCaller(long_chain).error().code(), ErrorCode::kChainTooLong);
  EXPECT_EQ(VerifiedChain::FromChainValidatedByCaller({{0x30, 0x00}}).error().code(),
            ErrorCode::kCertificateParse);
}

// Many threads evaluate while the policy is swapped underneath them; each
// verdict must come from one whole snapshot (run under ThreadSanitizer in CI).
TEST_F(EvaluateTest, ConcurrentEvaluationWithPolicySwaps) {
  auto match = PolicyWith({{pki_->leaf_key.SpkiPin(), "leaf"}});
  auto other = PolicyWith({{pki_->backup_key.SpkiPin(), "backup"}});
  PolicyStore store(match);
  VerifiedChain chain = LegitChain();
  std::atomic<int> inconsistent{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        PolicySnapshot snapshot = store.Current();
        Verdict v = Evaluate(snapshot, "api.example.test", 443, chain, kNow);
        bool expect_match = snapshot == match;
        if ((v.reason == VerdictReason::kMatched) != expect_match) ++inconsistent;
      }
    });
  }
  for (int i = 0; i < 500; ++i) store.Swap(i % 2 ? match : other);
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(inconsistent.load(), 0);
}

}  // namespace
}  // namespace pinion
