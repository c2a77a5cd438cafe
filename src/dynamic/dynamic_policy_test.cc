#include "pinion/dynamic/dynamic_policy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "pinion/evaluate.h"
#include "pinion/policy_loader.h"
#include "pinion/policy_writer.h"
#include "pinion/tooling/manifest_signing.h"
#include "test_pki.h"

namespace pinion {
namespace {

using testing::Key;
using testing::KeyKind;
using testing::TempDir;
using testing::TestPki;

const TimePoint kNow = *ParseTimestamp("2026-11-21T12:00:00Z");
constexpr std::chrono::hours kDay{24};

std::vector<std::uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

class DynamicPolicyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Create("api.example.test"));
    current_ = new Key(Key::Generate(KeyKind::kEd25519));
    backup_ = new Key(Key::Generate(KeyKind::kEd25519));
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete current_;
    delete backup_;
  }

  // Version N pins the leaf key plus a label naming N, so "whole" is checkable.
  static std::string PolicyToml(std::uint64_t version) {
    return "[policy]\nversion = " + std::to_string(version) +
           "\n[[domain]]\nhost = \"api.example.test\"\npins = [\n"
           "  { pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\", label = \"leaf v" +
           std::to_string(version) + "\" },\n"
           "  { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\", label = \"backup\" },\n]\n";
  }
  static PolicySnapshot PolicyV(std::uint64_t version, std::optional<EnforcementOverride> kill_switch = {}) {
    auto policy = ParsePolicyToml(PolicyToml(version), "test.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    if (!kill_switch) return *policy;
    std::vector<DomainRule> rules((*policy)->rules().begin(), (*policy)->rules().end());
    return *Policy::Create(version, std::move(rules), std::move(kill_switch));
  }
  static std::string Manifest(const PolicySnapshot& policy, ManifestTimes times = {kNow - kDay, kNow + 30 * kDay},
                              const Key* key = nullptr) {
    auto payload = ManifestPayloadJson(*policy, times);
    EXPECT_TRUE(payload.ok()) << payload.error().ToString();
    auto envelope = SignDsse(kManifestPayloadType, Bytes(*payload), {(key ? key : current_)->PrivatePem()});
    return SerializeDsseEnvelope(*envelope);
  }
  static std::vector<TrustedKey> Keys() {
    return {*TrustedKeyFromPem(current_->PublicPem()), *TrustedKeyFromPem(backup_->PublicPem())};
  }

  std::unique_ptr<DynamicPolicy> Open(std::uint64_t baseline_version = 1) {
    DynamicPolicyOptions options;
    options.clock = &clock_;
    options.on_event = [this](const ManifestEvent& event) { events_.push_back(event); };
    auto policy = DynamicPolicy::Create(PolicyV(baseline_version), Keys(), dir_.path() / "state", options);
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return std::move(*policy);
  }

  static TestPki* pki_;
  static Key* current_;
  static Key* backup_;
  FixedClock clock_{kNow};
  TempDir dir_;
  std::vector<ManifestEvent> events_;
};
TestPki* DynamicPolicyTest::pki_ = nullptr;
Key* DynamicPolicyTest::current_ = nullptr;
Key* DynamicPolicyTest::backup_ = nullptr;

TEST_F(DynamicPolicyTest, NeedsTwoTrustedKeysAndABaseline) {
  auto one = DynamicPolicy::Create(PolicyV(1), {Keys()[0]}, dir_.path());
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.error().code(), ErrorCode::kInvalidArgument);
  auto same_twice = DynamicPolicy::Create(PolicyV(1), {Keys()[0], Keys()[0]}, dir_.path());
  ASSERT_FALSE(same_twice.ok());
  auto no_baseline = DynamicPolicy::Create(nullptr, Keys(), dir_.path());
  ASSERT_FALSE(no_baseline.ok());
  EXPECT_EQ(no_baseline.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(DynamicPolicyTest, AcceptsStoresAndRestoresAcrossRestarts) {
  {
    auto policy = Open();
    EXPECT_EQ(policy->active_version(), 1u);
    auto accepted = policy->Offer(Manifest(PolicyV(2)), "test");
    ASSERT_TRUE(accepted.ok()) << accepted.error().ToString();
    EXPECT_EQ(*accepted, 2u);
    EXPECT_EQ(policy->active_version(), 2u);
    EXPECT_TRUE(std::filesystem::exists(dir_.path() / "state" / "manifest.json"));
    ASSERT_TRUE(policy->Offer(Manifest(PolicyV(3)), "test").ok());
    ASSERT_EQ(events_.size(), 2u);
    EXPECT_EQ(events_[1].kind, ManifestEvent::Kind::kAccepted);
    EXPECT_EQ(events_[1].version, 3u);
  }
  events_.clear();
  auto restarted = Open();
  EXPECT_EQ(restarted->active_version(), 3u);
  EXPECT_TRUE(SamePolicy(*restarted->Current(), *PolicyV(3)));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].kind, ManifestEvent::Kind::kRestored);
  // Replaying what is active, or anything older, changes nothing.
  auto replay = restarted->Offer(Manifest(PolicyV(3)), "test");
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code(), ErrorCode::kManifestRollback);
  EXPECT_FALSE(restarted->Offer(Manifest(PolicyV(2)), "test").ok());
  EXPECT_EQ(restarted->active_version(), 3u);
  EXPECT_EQ(events_.back().kind, ManifestEvent::Kind::kRejected);
  EXPECT_EQ(events_.back().error->code(), ErrorCode::kManifestRollback);
}

TEST_F(DynamicPolicyTest, RefusedManifestsLeaveTheActivePolicyAndStateUntouched) {
  auto policy = Open();
  ASSERT_TRUE(policy->Offer(Manifest(PolicyV(2)), "test").ok());
  std::filesystem::path active = dir_.path() / "state" / "manifest.json";
  std::ifstream in(active);
  std::stringstream before;
  before << in.rdbuf();
  PolicySnapshot snapshot = policy->Current();

  Key stranger = Key::Generate(KeyKind::kEd25519);
  std::string good = Manifest(PolicyV(5));
  std::vector<std::pair<std::string, ErrorCode>> refused = {
      {Manifest(PolicyV(5), {kNow - kDay, kNow + kDay}, &stranger), ErrorCode::kSignatureInvalid},
      {Manifest(PolicyV(5), {kNow - 2 * kDay, kNow - kDay}), ErrorCode::kManifestExpired},
      {Manifest(PolicyV(5), {kNow + kDay, kNow + 2 * kDay}), ErrorCode::kManifestNotYetValid},
      {Manifest(PolicyV(5, EnforcementOverride{OverrideMode::kDisabled, {}, kNow + 60 * kDay}),
                {kNow, kNow + 90 * kDay}),
       ErrorCode::kKillSwitchTooLong},
      {good.substr(0, good.size() / 2), ErrorCode::kPolicySyntax},
  };
  for (const auto& [text, code] : refused) {
    auto result = policy->Offer(text, "test");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code(), code) << result.error().ToString();
    EXPECT_EQ(policy->Current(), snapshot);
  }
  std::ifstream again(active);
  std::stringstream after;
  after << again.rdbuf();
  EXPECT_EQ(before.str(), after.str());
}

TEST_F(DynamicPolicyTest, CorruptedOrTamperedStateFallsBackToLastGoodThenBaseline) {
  {
    auto policy = Open();
    ASSERT_TRUE(policy->Offer(Manifest(PolicyV(2)), "test").ok());
    ASSERT_TRUE(policy->Offer(Manifest(PolicyV(3)), "test").ok());
  }
  std::filesystem::path state = dir_.path() / "state";
  // Tamper with the active manifest: swap its payload for an unsigned empty policy.
  {
    std::ifstream in(state / "manifest.json");
    std::stringstream text;
    text << in.rdbuf();
    auto envelope = *ParseDsseEnvelope(text.str());
    envelope.payload = Bytes("{\"policy\":{\"version\":99,\"issued_at\":\"2026-11-20T00:00:00Z\","
                             "\"expires\":\"2027-11-20T00:00:00Z\"}}");
    std::ofstream(state / "manifest.json") << SerializeDsseEnvelope(envelope);
  }
  events_.clear();
  auto fallback = Open();
  EXPECT_EQ(fallback->active_version(), 2u);
  EXPECT_TRUE(SamePolicy(*fallback->Current(), *PolicyV(2)));
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0].kind, ManifestEvent::Kind::kStateSkipped);
  EXPECT_EQ(events_[0].error->code(), ErrorCode::kSignatureInvalid);
  EXPECT_EQ(events_[1].kind, ManifestEvent::Kind::kRestored);
  fallback.reset();

  // Both unreadable: the baseline, never "no pins".
  std::ofstream(state / "manifest.previous.json") << "garbage";
  events_.clear();
  auto baseline = Open();
  EXPECT_EQ(baseline->active_version(), 1u);
  ASSERT_NE(baseline->Current(), nullptr);
  EXPECT_EQ(baseline->Current()->rules().size(), 1u);
  EXPECT_EQ(events_.size(), 2u);
  // A new manifest then repairs the state.
  ASSERT_TRUE(baseline->Offer(Manifest(PolicyV(4)), "test").ok());
}

TEST_F(DynamicPolicyTest, AStoredManifestOlderThanTheBaselineIsIgnored) {
  {
    auto policy = Open(1);
    ASSERT_TRUE(policy->Offer(Manifest(PolicyV(2)), "test").ok());
  }
  events_.clear();
  auto upgraded_app = Open(7);  // the program shipped version 7 meanwhile
  EXPECT_EQ(upgraded_app->active_version(), 7u);
  ASSERT_FALSE(events_.empty());
  EXPECT_EQ(events_[0].error->code(), ErrorCode::kManifestRollback);
}

TEST_F(DynamicPolicyTest, KillSwitchExpiresByItselfAndSurvivesRestart) {
  auto chain = *VerifiedChain::FromChainValidatedByCaller(
      {pki_->rogue_leaf.Der(), pki_->rogue_intermediate.Der(), pki_->rogue_root.Der()});
  {
    auto policy = Open();
    auto kill = PolicyV(2, EnforcementOverride{OverrideMode::kDisabled, {}, kNow + 3 * kDay});
    ASSERT_TRUE(policy->Offer(Manifest(kill, {kNow, kNow + 10 * kDay}), "test").ok());
    EXPECT_TRUE(events_.back().kill_switch);
    EXPECT_EQ(Evaluate(policy->Current(), "api.example.test", 443, chain, clock_.Now()).reason,
              VerdictReason::kKillSwitch);
  }
  clock_.Advance(3 * kDay);
  auto restarted = Open();
  EXPECT_EQ(restarted->active_version(), 2u);
  Verdict after = Evaluate(restarted->Current(), "api.example.test", 443, chain, clock_.Now());
  EXPECT_EQ(after.reason, VerdictReason::kMismatch);
  EXPECT_FALSE(after.allowed());
}

TEST_F(DynamicPolicyTest, AnExpiredStoredManifestStaysActiveUntilReplaced) {
  {
    auto policy = Open();
    ASSERT_TRUE(policy->Offer(Manifest(PolicyV(2), {kNow, kNow + kDay}), "test").ok());
  }
  clock_.Advance(5 * kDay);
  auto restarted = Open();
  EXPECT_EQ(restarted->active_version(), 2u);  // never back to older pins because an update is late
}

// The crash tests: a child process offers version 3 over an active version 2
// and is killed with SIGKILL at each step of the state write. After every
// crash a restart finds version 2 or version 3, whole — never a mix, never
// the baseline, never nothing.
TEST_F(DynamicPolicyTest, KillNineAtEveryStepOfTheStoreWriteLeavesOldOrNewWhole) {
  dir_.Write("baseline.toml", PolicyToml(1));
  dir_.Write("key1.pem", current_->PublicPem());
  dir_.Write("key2.pem", backup_->PublicPem());
  dir_.Write("v3.json", Manifest(PolicyV(3)));
  auto prepare = [&](const std::filesystem::path& state) {
    std::filesystem::remove_all(state);
    DynamicPolicyOptions options;
    auto policy = DynamicPolicy::Create(PolicyV(1), Keys(), state, options);
    ASSERT_TRUE(policy.ok());
    ASSERT_TRUE((*policy)->Offer(Manifest(PolicyV(2)), "test").ok());
  };
  auto child = [&](const std::filesystem::path& state, const std::string& step) {
    std::string command = std::string(PINION_CRASH_CHILD) + " " + state.string() + " " +
                          (dir_.path() / "baseline.toml").string() + " " + (dir_.path() / "v3.json").string() +
                          " " + (dir_.path() / "key1.pem").string() + " " +
                          (dir_.path() / "key2.pem").string() + " " + step;
    return testing::RunCommand(command);
  };

  // A clean run lists every step.
  std::filesystem::path state = dir_.path() / "crash-state";
  prepare(state);
  auto clean = child(state, "none");
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  std::vector<std::string> steps;
  std::istringstream lines(clean.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(':') != std::string::npos) steps.push_back(line);
  }
  ASSERT_EQ(steps.size(), 12u) << clean.output;  // 6 steps × (previous, active)

  bool saw_old = false;
  bool saw_new = false;
  for (const std::string& step : steps) {
    prepare(state);
    auto crashed = child(state, step);
    EXPECT_NE(crashed.exit_code, 0) << step;  // killed, not finished
    std::vector<ManifestEvent> events;
    DynamicPolicyOptions options;
    options.on_event = [&](const ManifestEvent& event) { events.push_back(event); };
    auto restarted = DynamicPolicy::Create(PolicyV(1), Keys(), state, options);
    ASSERT_TRUE(restarted.ok());
    std::uint64_t version = (*restarted)->active_version();
    ASSERT_TRUE(version == 2 || version == 3) << step << ": version " << version;
    EXPECT_TRUE(SamePolicy(*(*restarted)->Current(), *PolicyV(version))) << step;
    // The new manifest is active exactly when its rename happened.
    bool renamed = step == "manifest.json:renamed" || step == "manifest.json:directory-synced";
    EXPECT_EQ(version, renamed ? 3u : 2u) << step;
    saw_old |= version == 2;
    saw_new |= version == 3;
    for (const auto& entry : std::filesystem::directory_iterator(state)) {
      EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos)
          << step << ": leftover " << entry.path();
    }
    // And the restarted process can go on: the same manifest is accepted or replayed.
    auto again = (*restarted)->Offer(Manifest(PolicyV(4)), "test");
    EXPECT_TRUE(again.ok()) << step;
  }
  EXPECT_TRUE(saw_old);
  EXPECT_TRUE(saw_new);
}

}  // namespace
}  // namespace pinion
