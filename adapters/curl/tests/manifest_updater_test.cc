// The manifest updater against a real HTTPS server on 127.0.0.1 (cpp-httplib
// over OpenSSL), fetching with libcurl: conditional requests, refusals,
// pinning of the download by the baseline, size bounds and the schedule.
#include "pinion/curl/manifest_updater.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <set>

#include "pinion/policy_loader.h"
#include "pinion/tooling/manifest_signing.h"
#include "https_test_server.h"
#include "test_pki.h"

namespace pinion::curl {
namespace {

using pinion::testing::Key;
using pinion::testing::KeyKind;
using pinion::testing::TempDir;
using pinion::testing::TestPki;

constexpr std::chrono::hours kDay{24};

// ManifestServer serves one manifest at /v1/manifests/app with an ETag and
// answers If-None-Match with 304, as `pinion serve` does.
class ManifestServer {
 public:
  ManifestServer(const std::filesystem::path& chain, const std::filesystem::path& key) : server_(chain, key) {
    server_.http().Get("/v1/manifests/app", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++requests_;
      last_if_none_match_ = request.get_header_value("If-None-Match");
      std::string etag = "\"v" + std::to_string(generation_) + "\"";
      response.set_header("ETag", etag);
      if (last_if_none_match_ == etag) {
        response.status = 304;
        return;
      }
      response.set_content(body_, "application/json");
    });
    server_.Start();
  }
  void Serve(std::string body) {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = std::move(body);
    ++generation_;
  }
  std::string Url() const { return server_.Url("localhost", "/v1/manifests/app"); }
  int requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::string last_if_none_match() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_if_none_match_;
  }

 private:
  testing::HttpsTestServer server_;
  std::mutex mutex_;
  std::string body_;
  int generation_ = 0;
  int requests_ = 0;
  std::string last_if_none_match_;
};

class ManifestUpdaterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Create("localhost"));
    current_ = new Key(Key::Generate(KeyKind::kEd25519));
    backup_ = new Key(Key::Generate(KeyKind::kEd25519));
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete current_;
    delete backup_;
  }

  void SetUp() override {
    testing::WriteServerFiles(*pki_, dir_);
  }

  static PolicySnapshot PolicyV(std::uint64_t version) {
    auto policy = ParsePolicyToml("[policy]\nversion = " + std::to_string(version) +
                                      "\n[[domain]]\nhost = \"localhost\"\npins = [\n"
                                      "  { pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\" },\n"
                                      "  { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\" },\n]\n",
                                  "test.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  static std::string Manifest(std::uint64_t version, const Key* key = nullptr) {
    TimePoint now = SystemClock::Instance().Now();
    auto payload = ManifestPayloadJson(*PolicyV(version), {now - kDay, now + kDay});
    std::vector<std::uint8_t> bytes(payload->begin(), payload->end());
    auto envelope = SignDsse(kManifestPayloadType, bytes,
                             {(key ? key : current_)->PrivatePem()});
    return SerializeDsseEnvelope(*envelope);
  }

  std::unique_ptr<DynamicPolicy> Policy() {
    auto policy = DynamicPolicy::Create(
        PolicyV(1), {*TrustedKeyFromPem(current_->PublicPem()), *TrustedKeyFromPem(backup_->PublicPem())},
        dir_.path() / "state");
    EXPECT_TRUE(policy.ok());
    return std::move(*policy);
  }
  ManifestUpdaterOptions Options(const ManifestServer& server) {
    return {.url = server.Url(), .ca_file = (dir_.path() / "roots.pem").string(), .random_seed = 7};
  }

  static TestPki* pki_;
  static Key* current_;
  static Key* backup_;
  TempDir dir_;
};
TestPki* ManifestUpdaterTest::pki_ = nullptr;
Key* ManifestUpdaterTest::current_ = nullptr;
Key* ManifestUpdaterTest::backup_ = nullptr;

TEST_F(ManifestUpdaterTest, FetchesOffersAndThenAsksConditionally) {
  ManifestServer server(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  server.Serve(Manifest(2));
  auto policy = Policy();
  auto updater = ManifestUpdater::Create(*policy, Options(server));
  ASSERT_TRUE(updater.ok()) << updater.error().ToString();

  FetchOutcome first = (*updater)->FetchOnce();
  ASSERT_EQ(first.kind, FetchOutcome::Kind::kUpdated) << (first.error ? first.error->ToString() : "");
  EXPECT_EQ(first.active_version, 2u);
  EXPECT_EQ(policy->active_version(), 2u);
  ASSERT_NE(first.pin_verdict, nullptr);
  EXPECT_EQ(first.pin_verdict->reason, VerdictReason::kMatched);  // the download itself was pinned
  EXPECT_EQ(first.pin_verdict->host, "localhost");

  FetchOutcome second = (*updater)->FetchOnce();
  EXPECT_EQ(second.kind, FetchOutcome::Kind::kNotModified);
  EXPECT_EQ(second.http_status, 304);
  EXPECT_EQ(server.last_if_none_match(), "\"v1\"");

  server.Serve(Manifest(3));
  FetchOutcome third = (*updater)->FetchOnce();
  EXPECT_EQ(third.kind, FetchOutcome::Kind::kUpdated);
  EXPECT_EQ(policy->active_version(), 3u);
  EXPECT_EQ(server.requests(), 3);
}

TEST_F(ManifestUpdaterTest, RefusedManifestsKeepTheActivePolicy) {
  ManifestServer server(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  auto policy = Policy();
  auto updater = *ManifestUpdater::Create(*policy, Options(server));
  Key stranger = Key::Generate(KeyKind::kEd25519);
  server.Serve(Manifest(5, &stranger));
  FetchOutcome forged = updater->FetchOnce();
  EXPECT_EQ(forged.kind, FetchOutcome::Kind::kRejected);
  ASSERT_TRUE(forged.error.has_value());
  EXPECT_EQ(forged.error->code(), ErrorCode::kSignatureInvalid);
  EXPECT_EQ(policy->active_version(), 1u);

  server.Serve("{ not json");
  EXPECT_EQ(updater->FetchOnce().kind, FetchOutcome::Kind::kRejected);
  // A refused body's ETag is not remembered: the next fetch asks again in full.
  EXPECT_EQ(server.last_if_none_match(), "");

  server.Serve(Manifest(1));  // replay of the active version: nothing new, not a failure
  EXPECT_EQ(updater->FetchOnce().kind, FetchOutcome::Kind::kNotModified);
  EXPECT_EQ(policy->active_version(), 1u);
}

TEST_F(ManifestUpdaterTest, TheDownloadIsPinnedByTheBaseline) {
  // A rogue CA the client trusts issues a certificate for the manifest host:
  // validation passes, the baseline pins refuse it, nothing is installed.
  ManifestServer server(dir_.path() / "rogue-chain.pem", dir_.path() / "rogue.key");
  server.Serve(Manifest(2));
  auto policy = Policy();
  auto updater = *ManifestUpdater::Create(*policy, Options(server));
  FetchOutcome outcome = updater->FetchOnce();
  EXPECT_EQ(outcome.kind, FetchOutcome::Kind::kFailed);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->code(), ErrorCode::kPinValidationFailed) << outcome.error->ToString();
  ASSERT_NE(outcome.pin_verdict, nullptr);
  EXPECT_EQ(outcome.pin_verdict->reason, VerdictReason::kMismatch);
  EXPECT_EQ(policy->active_version(), 1u);
  EXPECT_EQ(server.requests(), 0);  // the request was never sent
}

TEST_F(ManifestUpdaterTest, OversizedBodiesAndPlainHttpAreRefused) {
  ManifestServer server(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  server.Serve(std::string(kMaxEnvelopeBytes + 1, ' '));
  auto policy = Policy();
  auto updater = *ManifestUpdater::Create(*policy, Options(server));
  FetchOutcome outcome = updater->FetchOnce();
  EXPECT_EQ(outcome.kind, FetchOutcome::Kind::kFailed);
  EXPECT_EQ(policy->active_version(), 1u);

  ManifestUpdaterOptions plain = Options(server);
  plain.url = "http://localhost/v1/manifests/app";
  auto refused = ManifestUpdater::Create(*policy, plain);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(ManifestUpdaterTest, ScheduleHasJitterAndExponentialBackoff) {
  auto policy = Policy();
  ManifestUpdaterOptions options{.url = "https://localhost:1/",
                                 .interval = std::chrono::seconds(3600),
                                 .jitter = 0.1,
                                 .min_backoff = std::chrono::seconds(60),
                                 .max_backoff = std::chrono::seconds(3600),
                                 .random_seed = 42};
  auto updater = *ManifestUpdater::Create(*policy, options);
  FetchOutcome ok{.kind = FetchOutcome::Kind::kNotModified};
  FetchOutcome failed{.kind = FetchOutcome::Kind::kFailed};
  std::set<std::int64_t> distinct;
  for (int i = 0; i < 50; ++i) {
    auto delay = updater->NextDelay(ok).count();
    EXPECT_GE(delay, 3240);
    EXPECT_LE(delay, 3960);
    distinct.insert(delay);
  }
  EXPECT_GT(distinct.size(), 10u);  // jittered, not constant
  std::int64_t ceilings[] = {60, 120, 240, 480, 960, 1920, 3600, 3600};
  for (std::int64_t ceiling : ceilings) {
    auto delay = updater->NextDelay(failed).count();
    EXPECT_GE(delay, ceiling / 2);
    EXPECT_LE(delay, ceiling);
  }
  auto reset = updater->NextDelay(ok).count();  // a success resets the backoff
  EXPECT_GE(reset, 3240);
  EXPECT_LE(updater->NextDelay(failed).count(), 60);
}

TEST_F(ManifestUpdaterTest, BackgroundThreadFetchesAndStops) {
  ManifestServer server(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  server.Serve(Manifest(4));
  auto policy = Policy();
  auto updater = *ManifestUpdater::Create(*policy, Options(server));
  updater->Start();
  // Bounded wait for the first fetch (it starts at once), no sleeping to make time pass.
  for (int i = 0; i < 1000 && updater->fetches() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(updater->fetches(), 1u);
  updater->Stop();  // wakes the 6-hour wait at once
  EXPECT_EQ(policy->active_version(), 4u);
}

}  // namespace
}  // namespace pinion::curl
