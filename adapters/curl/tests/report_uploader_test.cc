// The report uploader against a real HTTPS server on 127.0.0.1 (cpp-httplib
// over OpenSSL): delivery, backoff on failures, permanent refusals, and the
// uploader's own connection pinned by the application's policy.
#include "pinion/curl/report_uploader.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "pinion/evaluate.h"
#include "pinion/policy_loader.h"
#include "https_test_server.h"
#include "test_pki.h"
#include "report_parse.h"

namespace pinion::curl {
namespace {

using pinion::testing::TempDir;
using pinion::testing::TestPki;

const TimePoint kNow = *ParseTimestamp("2026-11-21T12:00:00Z");

// ReportSink answers POST /v1/reports with a status chosen by the test and
// keeps the bodies it accepted.
class ReportSink {
 public:
  ReportSink(const std::filesystem::path& chain, const std::filesystem::path& key) : server_(chain, key) {
    server_.http().Post("/v1/reports", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++requests_;
      response.status = status_;
      if (status_ == 202 && request.get_header_value("Content-Type") == "application/json") bodies_.push_back(request.body);
    });
    server_.Start();
  }
  void Answer(int status) {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = status;
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }
  int requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::string Uri() const { return server_.Url("localhost", "/v1/reports"); }

 private:
  pinion::testing::HttpsTestServer server_;
  std::mutex mutex_;
  int status_ = 202;
  int requests_ = 0;
  std::vector<std::string> bodies_;
};

class ReportUploaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create("localhost")); }
  static void TearDownTestSuite() { delete pki_; }

  void SetUp() override {
    pinion::testing::WriteServerFiles(*pki_, dir_);
  }

  // api.example.test fails (pinned to the backup key only) and reports to the
  // sink on localhost, which is pinned to the real leaf key.
  PolicySnapshot Policy(const std::string& uri) {
    auto policy = ParsePolicyToml(
        "[policy]\nversion = 1\n"
        "[[domain]]\nhost = \"api.example.test\"\nreport_uri = [\"" + uri + "\"]\n"
        "pins = [ { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\" } ]\n"
        "[[domain]]\nhost = \"localhost\"\n"
        "pins = [ { pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\" },\n"
        "         { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\" } ]\n",
        "test.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  Verdict Failure(const PolicySnapshot& policy, std::uint16_t port) {
    auto chain = *VerifiedChain::FromChainValidatedByCaller({pki_->leaf.Der(), pki_->intermediate.Der()});
    return Evaluate(policy, "api.example.test", port, chain, kNow);
  }
  std::unique_ptr<Reporter> MakeReporter() {
    auto reporter = Reporter::Create(dir_.path() / "reports", {.app = {.id = "test"}, .clock = &clock_});
    EXPECT_TRUE(reporter.ok());
    return std::move(*reporter);
  }
  ReportUploaderOptions Options() {
    return {.clock = &clock_, .min_backoff = std::chrono::seconds(60), .max_backoff = std::chrono::seconds(600),
            .timeout = std::chrono::seconds(10), .ca_file = (dir_.path() / "roots.pem").string(), .random_seed = 3};
  }

  static TestPki* pki_;
  TempDir dir_;
  FixedClock clock_{kNow};
};
TestPki* ReportUploaderTest::pki_ = nullptr;

TEST_F(ReportUploaderTest, DeliversAndEmptiesTheSpool) {
  ReportSink sink(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  PolicyStore store(Policy(sink.Uri()));
  auto reporter = MakeReporter();
  for (std::uint16_t port = 1; port <= 3; ++port) {
    ASSERT_EQ(reporter->Submit(Failure(store.Current(), port)), SubmitOutcome::kQueued);
  }
  reporter->Flush();
  auto uploader = ReportUploader::Create(*reporter, store, Options());
  ASSERT_TRUE(uploader.ok()) << uploader.error().ToString();
  UploadRound round = (*uploader)->UploadOnce();
  EXPECT_EQ(round.delivered, 3u) << (round.last_error ? round.last_error->ToString() : "");
  ASSERT_EQ(sink.bodies().size(), 3u);
  auto first = ParseReport(sink.bodies()[0]);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->hostname, "api.example.test");
  EXPECT_EQ(first->port, 1);  // oldest first
  EXPECT_EQ(reporter->Destinations()[0].spool->size(), 0u);
  EXPECT_EQ((*uploader)->UploadOnce().delivered, 0u);
}

TEST_F(ReportUploaderTest, BacksOffWhileTheCollectorFailsAndKeepsTheReports) {
  ReportSink sink(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  PolicyStore store(Policy(sink.Uri()));
  auto reporter = MakeReporter();
  ASSERT_EQ(reporter->Submit(Failure(store.Current(), 1)), SubmitOutcome::kQueued);
  ASSERT_EQ(reporter->Submit(Failure(store.Current(), 2)), SubmitOutcome::kQueued);
  reporter->Flush();
  auto uploader = *ReportUploader::Create(*reporter, store, Options());
  sink.Answer(503);
  UploadRound failed = uploader->UploadOnce();
  EXPECT_EQ(failed.failed, 1u);  // stops at the first failure
  EXPECT_EQ(sink.requests(), 1);
  auto until = uploader->BackoffUntil(sink.Uri());
  ASSERT_TRUE(until.has_value());
  EXPECT_GE(*until, kNow + std::chrono::seconds(30));  // 60 s × [0.5, 1]
  EXPECT_LE(*until, kNow + std::chrono::seconds(60));
  EXPECT_EQ(uploader->UploadOnce().deferred, 1u);
  EXPECT_EQ(sink.requests(), 1);  // nothing sent while backing off

  clock_.Set(*until);
  sink.Answer(503);
  (void)uploader->UploadOnce();
  auto second_until = uploader->BackoffUntil(sink.Uri());
  ASSERT_TRUE(second_until.has_value());
  EXPECT_GE(*second_until - *until, std::chrono::seconds(60));  // doubled: 120 s × [0.5, 1]

  clock_.Set(*second_until);
  sink.Answer(202);
  EXPECT_EQ(uploader->UploadOnce().delivered, 2u);
  EXPECT_FALSE(uploader->BackoffUntil(sink.Uri()).has_value());
  EXPECT_EQ(sink.bodies().size(), 2u);
}

TEST_F(ReportUploaderTest, APermanentRefusalDoesNotBlockTheQueue) {
  ReportSink sink(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  PolicyStore store(Policy(sink.Uri()));
  auto reporter = MakeReporter();
  ASSERT_EQ(reporter->Submit(Failure(store.Current(), 1)), SubmitOutcome::kQueued);
  reporter->Flush();
  auto uploader = *ReportUploader::Create(*reporter, store, Options());
  sink.Answer(400);
  UploadRound round = uploader->UploadOnce();
  EXPECT_EQ(round.rejected, 1u);
  EXPECT_EQ(reporter->Destinations()[0].spool->size(), 0u);
  EXPECT_FALSE(uploader->BackoffUntil(sink.Uri()).has_value());
}

// Review finding: a report the collector refused for good was deleted without
// a trace. It is dropped, but counted with its reason, shown in the stats and
// carried by the next report the collector accepts.
TEST_F(ReportUploaderTest, APermanentRefusalIsCountedWithItsReasonNotVanished) {
  ReportSink sink(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  PolicyStore store(Policy(sink.Uri()));
  auto reporter = MakeReporter();
  ASSERT_EQ(reporter->Submit(Failure(store.Current(), 1)), SubmitOutcome::kQueued);
  reporter->Flush();
  auto uploader = *ReportUploader::Create(*reporter, store, Options());
  sink.Answer(400);
  UploadRound round = uploader->UploadOnce();
  ASSERT_EQ(round.rejected, 1u);
  ASSERT_TRUE(round.last_error.has_value());
  EXPECT_NE(round.last_error->message().find("HTTP status 400"), std::string::npos);

  ReportSpool* spool = reporter->Destinations()[0].spool;
  EXPECT_EQ(spool->size(), 0u);
  EXPECT_EQ(spool->dropped(), 1u);
  EXPECT_EQ(spool->dropped_by_reason(), (std::map<std::string, std::uint64_t>{{"rejected-http-400", 1}}));
  UploaderStats stats = uploader->stats();
  EXPECT_EQ(stats.rejected, 1u);
  EXPECT_EQ(stats.rejected_by_reason, (std::map<std::string, std::uint64_t>{{"rejected-http-400", 1}}));
  ASSERT_TRUE(stats.last_rejection.has_value());
  EXPECT_EQ(reporter->stats().spool_dropped_by_reason.at("rejected-http-400"), 1u);

  // The next report reaches the collector and says what was lost, and why.
  sink.Answer(202);
  ASSERT_EQ(reporter->Submit(Failure(store.Current(), 2)), SubmitOutcome::kQueued);
  reporter->Flush();
  EXPECT_EQ(uploader->UploadOnce().delivered, 1u);
  ASSERT_EQ(sink.bodies().size(), 1u);
  auto delivered = ParseReport(sink.bodies()[0]);
  ASSERT_TRUE(delivered.ok()) << delivered.error().ToString();
  EXPECT_EQ(delivered->dropped_reports, 1u);
  EXPECT_EQ(delivered->dropped_by_reason.at("rejected-http-400"), 1u);
  EXPECT_EQ(uploader->stats().delivered, 1u);
}

// The attack behind that finding, end to end: a served chain padded past what
// a collector parses. The report is built, parses, and is delivered.
TEST_F(ReportUploaderTest, APaddedServedChainIsStillDelivered) {
  ReportSink sink(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  PolicyStore store(Policy(sink.Uri()));
  auto reporter = MakeReporter();
  Verdict verdict = Failure(store.Current(), 1);
  verdict.served_chain_der = std::vector<std::vector<std::uint8_t>>(40, pki_->leaf.Der());
  ASSERT_EQ(reporter->Submit(verdict), SubmitOutcome::kQueued);
  reporter->Flush();
  auto uploader = *ReportUploader::Create(*reporter, store, Options());
  UploadRound round = uploader->UploadOnce();
  EXPECT_EQ(round.delivered, 1u) << (round.last_error ? round.last_error->ToString() : "");
  EXPECT_EQ(round.rejected, 0u);
  ASSERT_EQ(sink.bodies().size(), 1u);
  auto report = ParseReport(sink.bodies()[0]);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->served_chain_length, std::optional<std::uint64_t>(40));
  EXPECT_EQ(report->served_certificate_chain.size(), kMaxReportChainLength);
}

TEST_F(ReportUploaderTest, TheUploadIsPinnedLikeAnyOtherConnection) {
  // A rogue-CA certificate for the collector's host: validation passes, the
  // application's pins refuse it, and the report stays in the spool.
  ReportSink sink(dir_.path() / "rogue-chain.pem", dir_.path() / "rogue.key");
  PolicyStore store(Policy(sink.Uri()));
  auto reporter = MakeReporter();
  ASSERT_EQ(reporter->Submit(Failure(store.Current(), 1)), SubmitOutcome::kQueued);
  reporter->Flush();
  auto uploader = *ReportUploader::Create(*reporter, store, Options());
  UploadRound round = uploader->UploadOnce();
  EXPECT_EQ(round.failed, 1u);
  ASSERT_TRUE(round.last_error.has_value());
  EXPECT_EQ(round.last_error->code(), ErrorCode::kPinValidationFailed) << round.last_error->ToString();
  EXPECT_EQ(sink.requests(), 0);  // the body never left
  EXPECT_EQ(reporter->Destinations()[0].spool->size(), 1u);
}

TEST_F(ReportUploaderTest, TheBackgroundThreadDeliversWhenWoken) {
  ReportSink sink(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  PolicyStore store(Policy(sink.Uri()));
  ReportUploader* wake_target = nullptr;
  std::mutex mutex;
  ReporterOptions options{.app = {.id = "test"}, .clock = &clock_};
  options.on_spooled = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    if (wake_target != nullptr) wake_target->Wake();
  };
  auto reporter = *Reporter::Create(dir_.path() / "reports", options);
  auto uploader = *ReportUploader::Create(*reporter, store, Options());
  {
    std::lock_guard<std::mutex> lock(mutex);
    wake_target = uploader.get();
  }
  uploader->Start();
  ASSERT_EQ(reporter->Submit(Failure(store.Current(), 1)), SubmitOutcome::kQueued);
  // Bounded wait for the thread (poll_interval is 30 s; the wake makes it immediate).
  for (int i = 0; i < 500 && sink.bodies().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(sink.bodies().size(), 1u);
  {
    std::lock_guard<std::mutex> lock(mutex);
    wake_target = nullptr;
  }
  uploader->Stop();
}

}  // namespace
}  // namespace pinion::curl
