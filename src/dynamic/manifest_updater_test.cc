// The update logic without a network: a scripted fetcher hands the updater
// what a server would (bodies, 304s, failures), and the test checks what it
// asks for next (If-None-Match), what it accepts and how long it waits. The
// libcurl transport is tested against real HTTPS servers in
// adapters/curl/tests/manifest_updater_test.cc.
#include "pinion/dynamic/manifest_updater.h"

#include <gtest/gtest.h>

#include <deque>

#include "pinion/dynamic/manifest.h"
#include "pinion/policy_loader.h"
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

// ScriptedFetcher answers each Fetch with the next scripted download and
// records the ETag it was asked to revalidate.
class ScriptedFetcher final : public ManifestFetcher {
 public:
  ScriptedFetcher(std::deque<ManifestDownload>* script, std::vector<std::string>* asked)
      : script_(script), asked_(asked) {}
  ManifestDownload Fetch(const std::string& if_none_match) override {
    asked_->push_back(if_none_match);
    ManifestDownload next = script_->front();
    script_->pop_front();
    return next;
  }
  std::string Source() const override { return "https://pins.example.test/manifest"; }

 private:
  std::deque<ManifestDownload>* script_;
  std::vector<std::string>* asked_;
};

class ManifestUpdaterLogicTest : public ::testing::Test {
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
  static PolicySnapshot PolicyV(std::uint64_t version) {
    return *ParsePolicyToml("[policy]\nversion = " + std::to_string(version) +
                                "\n[[domain]]\nhost = \"api.example.test\"\npins = [{ pin = \"" +
                                pki_->leaf_key.SpkiPin().ToString() + "\" }, { pin = \"" +
                                pki_->backup_key.SpkiPin().ToString() + "\" }]\n",
                            "test.toml");
  }
  static std::string Manifest(std::uint64_t version, const Key& key) {
    auto payload = ManifestPayloadJson(*PolicyV(version), {kNow - kDay, kNow + 30 * kDay});
    std::vector<std::uint8_t> bytes(payload->begin(), payload->end());
    return SerializeDsseEnvelope(*SignDsse(kManifestPayloadType, bytes, {key.PrivatePem()}));
  }
  static ManifestDownload Body(std::string body, std::string etag) {
    return {.http_status = 200, .body = std::move(body), .etag = std::move(etag)};
  }

  void SetUp() override {
    clock_ = std::make_unique<FixedClock>(kNow);
    policy_ = *DynamicPolicy::Create(PolicyV(1),
                                     {*TrustedKeyFromPem(current_->PublicPem()), *TrustedKeyFromPem(backup_->PublicPem())},
                                     dir_.path() / "state", {.clock = clock_.get()});
  }
  std::unique_ptr<ManifestUpdater> Updater(ManifestSchedule schedule = {.random_seed = 7}) {
    return *ManifestUpdater::Create(*policy_, std::make_unique<ScriptedFetcher>(&script_, &asked_), schedule);
  }

  static TestPki* pki_;
  static Key* current_;
  static Key* backup_;
  TempDir dir_;
  std::unique_ptr<FixedClock> clock_;
  std::unique_ptr<DynamicPolicy> policy_;
  std::deque<ManifestDownload> script_;
  std::vector<std::string> asked_;
};
TestPki* ManifestUpdaterLogicTest::pki_ = nullptr;
Key* ManifestUpdaterLogicTest::current_ = nullptr;
Key* ManifestUpdaterLogicTest::backup_ = nullptr;

TEST_F(ManifestUpdaterLogicTest, RevalidatesWithTheETagOfTheAcceptedManifestOnly) {
  Key stranger = Key::Generate(KeyKind::kEd25519);
  script_ = {Body(Manifest(2, stranger), "\"forged\""), Body(Manifest(2, *current_), "\"v2\""),
             {.http_status = 304}, Body(Manifest(2, *current_), "\"v2-again\"")};
  auto updater = Updater();
  EXPECT_EQ(updater->FetchOnce().kind, FetchOutcome::Kind::kRejected);  // signed by an unknown key
  FetchOutcome accepted = updater->FetchOnce();
  EXPECT_EQ(accepted.kind, FetchOutcome::Kind::kUpdated);
  EXPECT_EQ(accepted.active_version, 2u);
  EXPECT_EQ(updater->FetchOnce().kind, FetchOutcome::Kind::kNotModified);
  FetchOutcome same = updater->FetchOnce();  // the server serves the active version again: not a failure
  EXPECT_EQ(same.kind, FetchOutcome::Kind::kNotModified);
  ASSERT_TRUE(same.error.has_value());
  EXPECT_EQ(same.error->code(), ErrorCode::kManifestRollback);
  // A refused body never sets the ETag; an accepted one does, and a rollback keeps the server's latest.
  EXPECT_EQ(asked_, (std::vector<std::string>{"", "", "\"v2\"", "\"v2\""}));
  EXPECT_EQ(updater->fetches(), 4u);
  EXPECT_EQ(policy_->active_version(), 2u);
}

TEST_F(ManifestUpdaterLogicTest, TransportFailuresAndOtherStatusesKeepThePolicy) {
  script_ = {{.error = Error(ErrorCode::kPinValidationFailed, "baseline pins")}, {.http_status = 503}};
  auto updater = Updater();
  FetchOutcome pinned_out = updater->FetchOnce();
  EXPECT_EQ(pinned_out.kind, FetchOutcome::Kind::kFailed);
  EXPECT_EQ(pinned_out.error->code(), ErrorCode::kPinValidationFailed);
  FetchOutcome unavailable = updater->FetchOnce();
  EXPECT_EQ(unavailable.kind, FetchOutcome::Kind::kFailed);
  EXPECT_EQ(unavailable.http_status, 503);
  EXPECT_EQ(unavailable.error->source(), "https://pins.example.test/manifest");
  EXPECT_EQ(policy_->active_version(), 1u);
}

TEST_F(ManifestUpdaterLogicTest, ScheduleJittersSuccessesAndBacksOffFailures) {
  auto updater = Updater({.interval = std::chrono::seconds(1000), .jitter = 0.1, .min_backoff = std::chrono::seconds(10),
                          .max_backoff = std::chrono::seconds(80), .random_seed = 3});
  FetchOutcome ok{.kind = FetchOutcome::Kind::kNotModified};
  FetchOutcome failed{.kind = FetchOutcome::Kind::kFailed};
  for (int i = 0; i < 20; ++i) {
    auto delay = updater->NextDelay(ok).count();
    EXPECT_GE(delay, 900);
    EXPECT_LE(delay, 1100);
  }
  std::int64_t ceilings[] = {10, 20, 40, 80, 80, 80};
  for (std::int64_t ceiling : ceilings) {
    auto delay = updater->NextDelay(failed).count();
    EXPECT_GE(delay, ceiling / 2);
    EXPECT_LE(delay, ceiling);
  }
  EXPECT_GE(updater->NextDelay(ok).count(), 900);  // a success resets the backoff
  EXPECT_LE(updater->NextDelay(failed).count(), 10);
  EXPECT_FALSE(ManifestUpdater::Create(*policy_, nullptr, {}).ok());
  EXPECT_FALSE(ManifestUpdater::Create(*policy_, std::make_unique<ScriptedFetcher>(&script_, &asked_),
                                       {.jitter = 0.6}).ok());
}

}  // namespace
}  // namespace pinion
