#include "pinion/dynamic/manifest.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pinion/evaluate.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "pinion/policy_writer.h"
#include "pinion/tooling/manifest_signing.h"
#include "test_pki.h"

namespace pinion {
namespace {

using testing::Key;
using testing::KeyKind;
using testing::TestPki;

const TimePoint kNow = *ParseTimestamp("2026-11-21T12:00:00Z");
constexpr std::chrono::hours kDay{24};

std::vector<std::uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

class ManifestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Create("api.example.test"));
    signing_ = new Key(Key::Generate(KeyKind::kEd25519));
    backup_ = new Key(Key::Generate(KeyKind::kEcP256));
    stranger_ = new Key(Key::Generate(KeyKind::kEd25519));
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete signing_;
    delete backup_;
    delete stranger_;
  }

  static PolicySnapshot PolicyV(std::uint64_t version, std::optional<EnforcementOverride> kill_switch = {}) {
    std::string toml = "[policy]\nversion = " + std::to_string(version) +
                       "\n[[domain]]\nhost = \"api.example.test\"\npins = [\n"
                       "  { pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\", label = \"leaf\" },\n"
                       "  { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\", label = \"backup\" },\n]\n";
    auto policy = ParsePolicyToml(toml, "test.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    if (!kill_switch) return *policy;
    std::vector<DomainRule> rules((*policy)->rules().begin(), (*policy)->rules().end());
    return *Policy::Create(version, std::move(rules), std::move(kill_switch));
  }

  static std::string Signed(const Policy& policy, ManifestTimes times, const std::vector<const Key*>& keys) {
    auto payload = ManifestPayloadJson(policy, times);
    EXPECT_TRUE(payload.ok()) << payload.error().ToString();
    std::vector<std::string> pems;
    for (const Key* key : keys) pems.push_back(key->PrivatePem());
    auto envelope = SignDsse(kManifestPayloadType, Bytes(*payload), pems);
    EXPECT_TRUE(envelope.ok()) << envelope.error().ToString();
    return SerializeDsseEnvelope(*envelope);
  }
  static std::string SignedV(std::uint64_t version) {
    return Signed(*PolicyV(version), {kNow - kDay, kNow + 30 * kDay}, {signing_});
  }

  static std::vector<TrustedKey> Trusted() {
    return {*TrustedKeyFromPem(signing_->PublicPem()), *TrustedKeyFromPem(backup_->PublicPem())};
  }
  static ManifestAcceptance Rules(std::uint64_t active = 1) {
    return {.now = kNow, .active_version = active};
  }

  static TestPki* pki_;
  static Key* signing_;
  static Key* backup_;
  static Key* stranger_;
};
TestPki* ManifestTest::pki_ = nullptr;
Key* ManifestTest::signing_ = nullptr;
Key* ManifestTest::backup_ = nullptr;
Key* ManifestTest::stranger_ = nullptr;

TEST_F(ManifestTest, PayloadRoundTripsWithTimesAndKillSwitch) {
  auto host = *HostPattern::Parse("api.example.test", false);
  auto policy = PolicyV(5, EnforcementOverride{OverrideMode::kReportOnly, {host}, kNow + 7 * kDay});
  ManifestTimes times{kNow, kNow + 30 * kDay};
  auto json = ManifestPayloadJson(*policy, times);
  ASSERT_TRUE(json.ok()) << json.error().ToString();
  auto parsed = ParseManifestPayload(*json, "payload");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->version(), 5u);
  EXPECT_EQ(parsed->times.issued_at, times.issued_at);
  EXPECT_EQ(parsed->times.expires, times.expires);
  ASSERT_TRUE(parsed->kill_switch().has_value());
  EXPECT_EQ(parsed->kill_switch()->mode, OverrideMode::kReportOnly);
  EXPECT_EQ(parsed->kill_switch()->until, kNow + 7 * kDay);
  ASSERT_EQ(parsed->kill_switch()->hosts.size(), 1u);
  EXPECT_EQ(parsed->kill_switch()->hosts[0].ToString(), "api.example.test");
  EXPECT_TRUE(SamePolicy(*parsed->policy, *policy));
}

TEST_F(ManifestTest, AnchorsTravelAsPemAndFilePathsAreRefused) {
  testing::TempDir dir;
  dir.Write("anchors.pem", pki_->root.Pem());
  dir.Write("p.toml", "[policy]\nversion = 2\n[[domain]]\nhost = \"api.example.test\"\nanchors = \"anchors.pem\"\n"
                      "pins = [{ pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\" }]\n");
  auto policy = LoadPolicyFile(dir.path() / "p.toml");
  ASSERT_TRUE(policy.ok()) << policy.error().ToString();
  auto json = ManifestPayloadJson(**policy, {kNow, kNow + kDay});
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_EQ(json->find("anchors.pem"), std::string::npos);
  auto parsed = ParseManifestPayload(*json, "payload");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->policy->rules()[0].anchors.certificates_der, (*policy)->rules()[0].anchors.certificates_der);

  // A manifest naming a file on the client is refused, without reading it.
  std::string with_path = *json;
  nlohmann::json doc = nlohmann::json::parse(with_path);
  doc["domain"][0]["anchors"] = (dir.path() / "anchors.pem").string();
  auto refused = ParseManifestPayload(doc.dump(), "payload");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kPolicyAnchors);
  EXPECT_EQ(refused.error().field(), "domain[0].anchors");
}

TEST_F(ManifestTest, PayloadSchemaErrorsNameTheField) {
  auto base = nlohmann::json::parse(*ManifestPayloadJson(*PolicyV(2), {kNow, kNow + kDay}));
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    ErrorCode code;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](nlohmann::json& j) { j["policy"].erase("issued_at"); }, ErrorCode::kPolicySchema, "policy.issued_at"},
      {[](nlohmann::json& j) { j["policy"].erase("expires"); }, ErrorCode::kPolicySchema, "policy.expires"},
      {[](nlohmann::json& j) { j["policy"]["expires"] = "soon"; }, ErrorCode::kPolicyDate, "policy.expires"},
      {[](nlohmann::json& j) { j["policy"]["expires"] = "2026-11-20T00:00:00Z"; }, ErrorCode::kPolicySchema,
       "policy.expires"},
      {[](nlohmann::json& j) { j["policy"]["extra"] = 1; }, ErrorCode::kPolicySchema, "policy.extra"},
      {[](nlohmann::json& j) { j["policy"]["enforcement"] = {{"mode", "off"}, {"until", "2026-11-22"}}; },
       ErrorCode::kPolicySchema, "policy.enforcement.mode"},
      {[](nlohmann::json& j) { j["policy"]["enforcement"] = {{"mode", "disabled"}}; }, ErrorCode::kPolicySchema,
       "policy.enforcement.until"},
      {[](nlohmann::json& j) {
         j["policy"]["enforcement"] = {{"mode", "disabled"}, {"until", "2026-11-22"}, {"hosts", {"*.com"}}};
       },
       ErrorCode::kHostPublicSuffix, "policy.enforcement.hosts[0]"},
      {[](nlohmann::json& j) {
         j["policy"]["enforcement"] = {{"mode", "disabled"}, {"until", "2026-11-22"}, {"hosts", nlohmann::json::array()}};
       },
       ErrorCode::kPolicySchema, "policy.enforcement.hosts"},
      {[](nlohmann::json& j) { j["policy"]["enforcement"] = {{"mode", "disabled"}, {"until", "2026-11-01"}}; },
       ErrorCode::kPolicySchema, "policy.enforcement.until"},
  };
  for (const Case& c : cases) {
    nlohmann::json doc = base;
    c.edit(doc);
    auto parsed = ParseManifestPayload(doc.dump(), "payload");
    ASSERT_FALSE(parsed.ok()) << doc.dump();
    EXPECT_EQ(parsed.error().code(), c.code) << parsed.error().ToString();
    EXPECT_EQ(parsed.error().field(), c.field) << parsed.error().ToString();
    EXPECT_EQ(parsed.error().source(), "payload");
  }
}

TEST_F(ManifestTest, AcceptsANewerManifestSignedByATrustedKey) {
  auto verified = VerifyManifest(SignedV(2), Trusted(), Rules(1));
  ASSERT_TRUE(verified.ok()) << verified.error().ToString();
  EXPECT_EQ(verified->manifest.version(), 2u);
  EXPECT_EQ(verified->keyid, TrustedKeyFromPem(signing_->PublicPem())->keyid);
}

TEST_F(ManifestTest, ForgedSignatureIsRefused) {
  auto envelope = *ParseDsseEnvelope(SignedV(2));
  envelope.signatures[0].sig[5] ^= 0x01;
  auto verified = VerifyManifest(SerializeDsseEnvelope(envelope), Trusted(), Rules());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), ErrorCode::kSignatureInvalid);

  // The payload swapped under a valid signature (a downgrade to "no pins").
  auto swapped = *ParseDsseEnvelope(SignedV(2));
  std::string empty = "{\"policy\":{\"version\":9,\"issued_at\":\"2026-11-20T00:00:00Z\","
                      "\"expires\":\"2027-01-01T00:00:00Z\"}}";
  swapped.payload = Bytes(empty);
  verified = VerifyManifest(SerializeDsseEnvelope(swapped), Trusted(), Rules());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), ErrorCode::kSignatureInvalid);
}

TEST_F(ManifestTest, ValidSignatureByAnUntrustedKeyIsRefused) {
  std::string manifest = Signed(*PolicyV(2), {kNow - kDay, kNow + kDay}, {stranger_});
  auto verified = VerifyManifest(manifest, Trusted(), Rules());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), ErrorCode::kSignatureInvalid);
  // Even when the stranger claims a trusted key's keyid.
  auto envelope = *ParseDsseEnvelope(manifest);
  envelope.signatures[0].keyid = Trusted()[0].keyid;
  verified = VerifyManifest(SerializeDsseEnvelope(envelope), Trusted(), Rules());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), ErrorCode::kSignatureInvalid);
}

TEST_F(ManifestTest, ReplayAndRollbackAreRefused) {
  auto replay = VerifyManifest(SignedV(4), Trusted(), Rules(4));
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code(), ErrorCode::kManifestRollback);
  auto rollback = VerifyManifest(SignedV(3), Trusted(), Rules(4));
  ASSERT_FALSE(rollback.ok());
  EXPECT_EQ(rollback.error().code(), ErrorCode::kManifestRollback);
  EXPECT_EQ(rollback.error().field(), "policy.version");
}

TEST_F(ManifestTest, ExpiryAndClockSkew) {
  auto policy = PolicyV(2);
  auto expired = VerifyManifest(Signed(*policy, {kNow - 10 * kDay, kNow}, {signing_}), Trusted(), Rules());
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code(), ErrorCode::kManifestExpired);

  // issued_at up to the skew ahead is fine (a slightly slow client clock) …
  auto within = VerifyManifest(Signed(*policy, {kNow + std::chrono::seconds(299), kNow + kDay}, {signing_}),
                               Trusted(), Rules());
  EXPECT_TRUE(within.ok()) << within.error().ToString();
  // … beyond it is not.
  auto future = VerifyManifest(Signed(*policy, {kNow + std::chrono::seconds(301), kNow + kDay}, {signing_}),
                               Trusted(), Rules());
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code(), ErrorCode::kManifestNotYetValid);
  ManifestAcceptance lenient = Rules();
  lenient.max_clock_skew = std::chrono::hours(1);
  EXPECT_TRUE(VerifyManifest(Signed(*policy, {kNow + std::chrono::seconds(301), kNow + kDay}, {signing_}),
                             Trusted(), lenient)
                  .ok());
}

TEST_F(ManifestTest, KillSwitchLongerThanTheMaximumIsRefused) {
  auto thirty = PolicyV(2, EnforcementOverride{OverrideMode::kDisabled, {}, kNow + 30 * kDay});
  EXPECT_TRUE(VerifyManifest(Signed(*thirty, {kNow, kNow + 60 * kDay}, {signing_}), Trusted(), Rules()).ok());
  auto longer = PolicyV(2, EnforcementOverride{OverrideMode::kDisabled, {}, kNow + 30 * kDay + std::chrono::seconds(1)});
  auto refused = VerifyManifest(Signed(*longer, {kNow, kNow + 60 * kDay}, {signing_}), Trusted(), Rules());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kKillSwitchTooLong);
  ManifestAcceptance strict = Rules();
  strict.max_kill_switch = 7 * kDay;
  auto week = VerifyManifest(Signed(*thirty, {kNow, kNow + 60 * kDay}, {signing_}), Trusted(), strict);
  ASSERT_FALSE(week.ok());
  EXPECT_EQ(week.error().code(), ErrorCode::kKillSwitchTooLong);
}

// A signer composes a kill switch under the very limit clients apply, so it
// never signs one they would refuse.
TEST_F(ManifestTest, WithKillSwitchComposesWhatAClientAccepts) {
  auto policy = PolicyV(4);
  auto host = *HostPattern::Parse("api.example.test", false);
  auto composed = WithKillSwitch(*policy, {OverrideMode::kReportOnly, {host}, kNow + 7 * kDay}, kNow);
  ASSERT_TRUE(composed.ok()) << composed.error().ToString();
  EXPECT_EQ((*composed)->version(), 4u);
  ASSERT_EQ((*composed)->rules().size(), policy->rules().size());
  EXPECT_EQ((*composed)->rules()[0].pins.size(), policy->rules()[0].pins.size());
  ASSERT_TRUE((*composed)->enforcement_override().has_value());
  EXPECT_EQ((*composed)->enforcement_override()->mode, OverrideMode::kReportOnly);
  EXPECT_EQ((*composed)->enforcement_override()->until, kNow + 7 * kDay);
  ASSERT_EQ((*composed)->enforcement_override()->hosts.size(), 1u);
  EXPECT_FALSE(policy->enforcement_override().has_value()) << "the input policy is left alone";
  auto verified = VerifyManifest(Signed(**composed, {kNow, kNow + 30 * kDay}, {signing_}), Trusted(), Rules());
  ASSERT_TRUE(verified.ok()) << verified.error().ToString();
  EXPECT_TRUE(SamePolicy(*verified->manifest.policy, **composed));

  // Exactly the maximum is accepted, by the signer and by the client; a second more by neither.
  EnforcementOverride thirty{OverrideMode::kDisabled, {}, kNow + 30 * kDay};
  EXPECT_TRUE(KillSwitchFits(thirty, kNow, kDefaultMaxKillSwitch));
  EXPECT_TRUE(WithKillSwitch(*policy, thirty, kNow).ok());
  EnforcementOverride longer{OverrideMode::kDisabled, {}, kNow + 30 * kDay + std::chrono::seconds(1)};
  EXPECT_FALSE(KillSwitchFits(longer, kNow, kDefaultMaxKillSwitch));
  auto refused = WithKillSwitch(*policy, longer, kNow);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kKillSwitchTooLong);
  EXPECT_EQ(refused.error().field(), "policy.enforcement.until");
  EXPECT_NE(refused.error().message().find("30 days"), std::string::npos) << refused.error().message();
  auto week = WithKillSwitch(*policy, {OverrideMode::kDisabled, {}, kNow + 8 * kDay}, kNow, 7 * kDay);
  ASSERT_FALSE(week.ok());
  EXPECT_EQ(week.error().code(), ErrorCode::kKillSwitchTooLong);
  auto half_day = WithKillSwitch(*policy, {OverrideMode::kDisabled, {}, kNow + kDay}, kNow, std::chrono::hours(12));
  ASSERT_FALSE(half_day.ok());
  EXPECT_NE(half_day.error().message().find("43200 s"), std::string::npos) << half_day.error().message();
}

TEST_F(ManifestTest, KillSwitchDecidesUntilItsTimeAndThenEnforcementResumes) {
  auto chain = *VerifiedChain::FromChainValidatedByCaller(
      {pki_->rogue_leaf.Der(), pki_->rogue_intermediate.Der(), pki_->rogue_root.Der()});
  auto other = *HostPattern::Parse("other.example.test", false);
  auto global = PolicyV(2, EnforcementOverride{OverrideMode::kDisabled, {}, kNow + kDay});
  Verdict during = Evaluate(global, "api.example.test", 443, chain, kNow);
  EXPECT_EQ(during.reason, VerdictReason::kKillSwitch);
  EXPECT_TRUE(during.allowed());
  EXPECT_EQ(during.kill_switch_until, kNow + kDay);
  EXPECT_NE(during.Explain().find("kill switch"), std::string::npos);
  Verdict after = Evaluate(global, "api.example.test", 443, chain, kNow + kDay);
  EXPECT_EQ(after.reason, VerdictReason::kMismatch);
  EXPECT_FALSE(after.allowed());

  auto report_only = PolicyV(2, EnforcementOverride{OverrideMode::kReportOnly, {}, kNow + kDay});
  Verdict reported = Evaluate(report_only, "api.example.test", 443, chain, kNow);
  EXPECT_EQ(reported.reason, VerdictReason::kReportOnlyMismatch);
  EXPECT_TRUE(reported.kill_switch_until.has_value());

  auto elsewhere = PolicyV(2, EnforcementOverride{OverrideMode::kDisabled, {other}, kNow + kDay});
  EXPECT_EQ(Evaluate(elsewhere, "api.example.test", 443, chain, kNow).reason, VerdictReason::kMismatch);

  // A matching chain is still reported as a match, whatever the kill switch.
  auto legit = *VerifiedChain::FromChainValidatedByCaller({pki_->leaf.Der(), pki_->intermediate.Der()});
  EXPECT_EQ(Evaluate(global, "api.example.test", 443, legit, kNow).reason, VerdictReason::kMatched);
}

TEST_F(ManifestTest, SigningKeyRotationWithADoublySignedManifest) {
  // During rotation the owner signs with the old and the new key: clients
  // trusting either accept it.
  Key next = Key::Generate(KeyKind::kEd25519);
  std::string manifest = Signed(*PolicyV(2), {kNow, kNow + kDay}, {signing_, &next});
  std::vector<TrustedKey> old_clients = {*TrustedKeyFromPem(signing_->PublicPem()),
                                         *TrustedKeyFromPem(backup_->PublicPem())};
  std::vector<TrustedKey> new_clients = {*TrustedKeyFromPem(next.PublicPem()),
                                         *TrustedKeyFromPem(backup_->PublicPem())};
  auto by_old = VerifyManifest(manifest, old_clients, Rules());
  ASSERT_TRUE(by_old.ok());
  EXPECT_EQ(by_old->keyid, old_clients[0].keyid);
  auto by_new = VerifyManifest(manifest, new_clients, Rules());
  ASSERT_TRUE(by_new.ok());
  EXPECT_EQ(by_new->keyid, new_clients[0].keyid);
  // The backup key (ECDSA P-256) alone also works.
  EXPECT_TRUE(VerifyManifest(Signed(*PolicyV(3), {kNow, kNow + kDay}, {backup_}), Trusted(), Rules()).ok());
}

TEST_F(ManifestTest, TruncatedBitFlippedAndOversizedManifestsAreRefused) {
  std::string manifest = SignedV(2);
  for (std::size_t length : {std::size_t{0}, std::size_t{1}, manifest.size() / 2, manifest.size() - 2}) {
    auto verified = VerifyManifest(manifest.substr(0, length), Trusted(), Rules());
    EXPECT_FALSE(verified.ok()) << "truncated to " << length;
  }
  // Flip every bit of every 7th byte: never accepted, never a crash. (A flip
  // in JSON whitespace or a base64 padding-free spot may still parse; it must
  // then verify to the same payload.)
  for (std::size_t i = 0; i < manifest.size(); i += 7) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = manifest;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      auto verified = VerifyManifest(flipped, Trusted(), Rules());
      if (verified.ok()) {
        EXPECT_EQ(verified->manifest.version(), 2u);
        EXPECT_TRUE(SamePolicy(*verified->manifest.policy, *PolicyV(2)));
      }
    }
  }
  std::string oversized = manifest;
  oversized.insert(1, kMaxEnvelopeBytes, ' ');
  auto verified = VerifyManifest(oversized, Trusted(), Rules());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), ErrorCode::kInputTooLarge);
}

TEST_F(ManifestTest, WrongPayloadTypeIsRefused) {
  auto payload = *ManifestPayloadJson(*PolicyV(2), {kNow, kNow + kDay});
  auto envelope = SignDsse("application/json", Bytes(payload), {signing_->PrivatePem()});
  auto verified = VerifyManifest(SerializeDsseEnvelope(*envelope), Trusted(), Rules());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), ErrorCode::kSignatureInvalid);
}

TEST_F(ManifestTest, FuzzSeedsDecode) {
  // The fuzzer's seeds must reach deep into the decoder, not stop at an error.
  for (const char* name : {"plain.json", "kill-switch.json", "inline-anchors.json"}) {
    std::filesystem::path path = std::filesystem::path(PINION_SOURCE_DIR) / "fuzz/corpus/manifest" / name;
    auto bytes = ReadFileBounded(path, kMaxEnvelopeBytes);
    ASSERT_TRUE(bytes.ok()) << path;
    auto manifest = ParseManifestPayload(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), name);
    EXPECT_TRUE(manifest.ok()) << manifest.error().ToString();
  }
}

}  // namespace
}  // namespace pinion
