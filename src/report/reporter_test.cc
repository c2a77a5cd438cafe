#include "pinion/report/reporter.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <sstream>

#include "pinion/evaluate.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "test_pki.h"
#include "report_parse.h"

namespace pinion {
namespace {

using testing::TempDir;
using testing::TestPki;

const TimePoint kNow = *ParseTimestamp("2026-11-21T12:00:00Z");

class ReporterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create("api.example.test")); }
  static void TearDownTestSuite() { delete pki_; }

  // One pinned rule reporting to `uris`; "other.example.test" is pinned by a second rule.
  static PolicySnapshot Policy(const std::vector<std::string>& uris, const std::string& extra = "") {
    std::string list;
    for (const auto& uri : uris) list += "\"" + uri + "\", ";
    auto policy = ParsePolicyToml("[policy]\nversion = 3\n[[domain]]\nhost = \"api.example.test\"\n"
                                  "include_subdomains = true\n" + extra + "report_uri = [" + list + "]\n"
                                  "pins = [ { pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\" },\n"
                                  "         { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\" } ]\n",
                                  "test.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  static Verdict Rogue(const PolicySnapshot& policy, std::uint16_t port = 443, TimePoint at = kNow) {
    auto chain = *VerifiedChain::FromChainValidatedByCaller(
        {pki_->rogue_leaf.Der(), pki_->rogue_intermediate.Der(), pki_->rogue_root.Der()});
    return Evaluate(policy, "api.example.test", port, chain, at);
  }
  static Verdict Legit(const PolicySnapshot& policy) {
    auto chain = *VerifiedChain::FromChainValidatedByCaller({pki_->leaf.Der(), pki_->intermediate.Der()});
    return Evaluate(policy, "api.example.test", 443, chain, kNow);
  }

  std::unique_ptr<Reporter> Make(ReporterOptions options = {}) {
    options.clock = &clock_;
    if (options.app.id.empty()) options.app = {.id = "com.example.app", .version = "4.2", .platform = "linux"};
    auto reporter = Reporter::Create(dir_.path() / "reports", std::move(options));
    EXPECT_TRUE(reporter.ok()) << reporter.error().ToString();
    return std::move(*reporter);
  }

  static TestPki* pki_;
  TempDir dir_;
  FixedClock clock_{kNow};
};
TestPki* ReporterTest::pki_ = nullptr;

constexpr char kCollector[] = "https://collector.example.org/v1/reports";

TEST_F(ReporterTest, SpoolsAFailureForEachDestination) {
  auto reporter = Make();
  auto policy = Policy({kCollector, "https://backup.example.net/r"});
  EXPECT_EQ(reporter->Submit(Legit(policy)), SubmitOutcome::kNotReportable);
  EXPECT_EQ(reporter->Submit(Rogue(policy)), SubmitOutcome::kQueued);
  reporter->Flush();
  auto destinations = reporter->Destinations();
  ASSERT_EQ(destinations.size(), 2u);
  for (const auto& destination : destinations) {
    auto spooled = destination.spool->Oldest(10);
    ASSERT_EQ(spooled.size(), 1u) << destination.uri;
    auto report = ParseReport(spooled[0].body);
    ASSERT_TRUE(report.ok()) << report.error().ToString();
    EXPECT_EQ(report->hostname, "api.example.test");
    EXPECT_EQ(report->reason, "mismatch");
    EXPECT_EQ(report->app.id, "com.example.app");
    EXPECT_EQ(report->policy_version, 3u);
  }
  EXPECT_EQ(reporter->stats().spooled, 2u);
}

TEST_F(ReporterTest, SendsTheSameFailureOncePerWindow) {
  auto reporter = Make({.dedupe_window = std::chrono::hours(24)});
  auto policy = Policy({kCollector});
  EXPECT_EQ(reporter->Submit(Rogue(policy)), SubmitOutcome::kQueued);
  clock_.Advance(std::chrono::hours(23));
  EXPECT_EQ(reporter->Submit(Rogue(policy, 443, clock_.Now())), SubmitOutcome::kDuplicate);
  EXPECT_EQ(reporter->Submit(Rogue(policy, 8443, clock_.Now())), SubmitOutcome::kQueued);  // another port: another failure
  clock_.Advance(std::chrono::hours(1));
  EXPECT_EQ(reporter->Submit(Rogue(policy, 443, clock_.Now())), SubmitOutcome::kQueued);
  EXPECT_EQ(reporter->stats().duplicates, 1u);
}

TEST_F(ReporterTest, RateLimitsPerHost) {
  auto reporter = Make({.host_burst = 3, .host_reports_per_hour = 2});
  auto policy = Policy({kCollector});
  for (std::uint16_t port = 1; port <= 3; ++port) EXPECT_EQ(reporter->Submit(Rogue(policy, port)), SubmitOutcome::kQueued);
  EXPECT_EQ(reporter->Submit(Rogue(policy, 4)), SubmitOutcome::kRateLimited);
  clock_.Advance(std::chrono::minutes(29));  // 0.97 of a report refilled
  EXPECT_EQ(reporter->Submit(Rogue(policy, 5)), SubmitOutcome::kRateLimited);
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(reporter->Submit(Rogue(policy, 6)), SubmitOutcome::kQueued);
  EXPECT_EQ(reporter->stats().rate_limited, 2u);
}

TEST_F(ReporterTest, SkipsReportUrisTheFailingPinsGuard) {
  auto reporter = Make();
  // collector.api.example.test is covered by the failing rule (include_subdomains).
  auto looping = Policy({"https://collector.api.example.test/r", "https://api.example.test:8443/r"});
  EXPECT_EQ(reporter->Submit(Rogue(looping)), SubmitOutcome::kNoDestination);
  EXPECT_EQ(reporter->stats().loop_skipped, 2u);
  auto mixed = Policy({"https://collector.api.example.test/r", kCollector});
  EXPECT_EQ(reporter->Submit(Rogue(mixed, 444)), SubmitOutcome::kQueued);
  reporter->Flush();
  auto destinations = reporter->Destinations();
  ASSERT_EQ(destinations.size(), 1u);
  EXPECT_EQ(destinations[0].uri, kCollector);
  EXPECT_EQ(reporter->stats().loop_skipped, 3u);
}

TEST_F(ReporterTest, PlainHttpOnlyWhenAllowed) {
  auto policy = Policy({"http://collector.example.org/r"});
  {
    auto reporter = Make();
    EXPECT_EQ(reporter->Submit(Rogue(policy)), SubmitOutcome::kNoDestination);
    EXPECT_EQ(reporter->stats().insecure_skipped, 1u);
  }
  auto reporter = Make({.allow_http = true});
  EXPECT_EQ(reporter->Submit(Rogue(policy)), SubmitOutcome::kQueued);
}

TEST_F(ReporterTest, AFullQueueDropsAndCountsWithoutBlockingTheCaller) {
  std::mutex mutex;
  std::condition_variable changed;
  bool writer_busy = false;
  bool release = false;
  ReporterOptions options{.queue_capacity = 1};
  // The writer thread stalls after its first report, as on a hung disk.
  options.on_spooled = [&] {
    std::unique_lock<std::mutex> lock(mutex);
    writer_busy = true;
    changed.notify_all();
    changed.wait(lock, [&] { return release; });
  };
  auto reporter = Make(std::move(options));
  auto policy = Policy({kCollector});
  EXPECT_EQ(reporter->Submit(Rogue(policy, 1)), SubmitOutcome::kQueued);
  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return writer_busy; });
  }
  EXPECT_EQ(reporter->Submit(Rogue(policy, 2)), SubmitOutcome::kQueued);     // waits in memory
  EXPECT_EQ(reporter->Submit(Rogue(policy, 3)), SubmitOutcome::kQueueFull);  // returns at once
  EXPECT_EQ(reporter->stats().queue_dropped, 1u);
  {
    std::lock_guard<std::mutex> lock(mutex);
    release = true;
  }
  changed.notify_all();
  reporter->Flush();
  auto spooled = reporter->Destinations()[0].spool->Oldest(10);
  ASSERT_EQ(spooled.size(), 2u);
  // The drop travels with the next report.
  EXPECT_EQ(ParseReport(spooled[1].body)->dropped_reports, 0u);
  EXPECT_EQ(reporter->Submit(Rogue(policy, 4)), SubmitOutcome::kQueued);
  reporter->Flush();
  spooled = reporter->Destinations()[0].spool->Oldest(10);
  ASSERT_EQ(spooled.size(), 3u);
  EXPECT_EQ(ParseReport(spooled[2].body)->dropped_reports, 1u);
  EXPECT_EQ(ParseReport(spooled[2].body)->dropped_by_reason,
            (std::map<std::string, std::uint64_t>{{"queue-full", 1}}));
}

TEST_F(ReporterTest, StatsShowWhatTheSpoolsDroppedAndWhy) {
  auto reporter = Make();
  auto policy = Policy({kCollector});
  ASSERT_EQ(reporter->Submit(Rogue(policy, 1)), SubmitOutcome::kQueued);
  ASSERT_EQ(reporter->Submit(Rogue(policy, 2)), SubmitOutcome::kQueued);
  reporter->Flush();
  ReportSpool* spool = reporter->Destinations()[0].spool;
  ASSERT_TRUE(spool->Drop(spool->Oldest(1)[0].sequence, "rejected-http-400").ok());
  ReporterStats stats = reporter->stats();
  EXPECT_EQ(stats.spool_dropped, 1u);
  EXPECT_EQ(stats.spool_dropped_by_reason, (std::map<std::string, std::uint64_t>{{"rejected-http-400", 1}}));
  // The next report tells the collector.
  ASSERT_EQ(reporter->Submit(Rogue(policy, 3)), SubmitOutcome::kQueued);
  reporter->Flush();
  auto next = ParseReport(spool->Oldest(10).back().body);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->port, 3);
  EXPECT_EQ(next->dropped_reports, 1u);
  EXPECT_EQ(next->dropped_by_reason.at("rejected-http-400"), 1u);
}

TEST_F(ReporterTest, ReportsSpooledByAnEarlierRunAreFoundAgain) {
  {
    auto reporter = Make();
    EXPECT_EQ(reporter->Submit(Rogue(Policy({kCollector}))), SubmitOutcome::kQueued);
  }  // the destructor writes what is queued
  auto reporter = Make();
  auto destinations = reporter->Destinations();
  ASSERT_EQ(destinations.size(), 1u);
  EXPECT_EQ(destinations[0].uri, kCollector);
  EXPECT_EQ(destinations[0].spool->size(), 1u);
}

TEST_F(ReporterTest, ReportUriHostIgnoresUserInfoPortAndCase) {
  EXPECT_EQ(ReportUriHost("https://u:p@Collector.Example.ORG:8443/x?y"), "collector.example.org");
  EXPECT_EQ(ReportUriHost("http://[::1]:9/r"), "::1");
  EXPECT_EQ(ReportUriHost("https://host.example./r"), "host.example");
  EXPECT_FALSE(ReportUriHost("ftp://host/r").has_value());
  EXPECT_FALSE(ReportUriHost("https://bad_host!/r").has_value());
}

// kill -9 at every step of a report's write: after a restart the spool holds
// the earlier report intact, and the new one exactly when Add had renamed it
// into place (never a damaged or half-written one).
TEST_F(ReporterTest, SpoolLosesNoAcceptedReportWhenKilled) {
  auto report = BuildReport(Rogue(Policy({kCollector})), {.id = "app"});
  ASSERT_TRUE(report.has_value());
  dir_.Write("report.json", ReportToJson(*report));
  auto child = [&](const std::filesystem::path& spool, const std::string& step) {
    return testing::RunCommand(std::string(PINION_SPOOL_CRASH_CHILD) + " " + spool.string() + " " +
                               (dir_.path() / "report.json").string() + " " + step);
  };
  auto clean = child(dir_.path() / "clean", "none");
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  std::vector<std::string> steps;
  std::istringstream lines(clean.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("accepted")) steps.push_back(line);
  }
  ASSERT_EQ(steps.size(), 6u) << clean.output;
  for (const std::string& step : steps) {
    std::filesystem::path spool_dir = dir_.path() / ("spool-" + step);
    {
      auto spool = ReportSpool::Open(spool_dir);
      ASSERT_TRUE(spool.ok());
      ASSERT_TRUE((*spool)->Add(*report).ok());  // the earlier, accepted report
    }
    auto crashed = child(spool_dir, step);
    EXPECT_NE(crashed.exit_code, 0) << step;
    EXPECT_EQ(crashed.output.find("accepted"), std::string::npos);
    auto reopened = ReportSpool::Open(spool_dir);
    ASSERT_TRUE(reopened.ok());
    bool renamed = step == "renamed" || step == "directory-synced";
    EXPECT_EQ((*reopened)->size(), renamed ? 2u : 1u) << step;
    EXPECT_EQ((*reopened)->dropped(), 0u) << step << ": nothing was damaged";
    for (const auto& item : (*reopened)->Oldest(10)) EXPECT_TRUE(ParseReport(item.body).ok()) << step;
    for (const auto& entry : std::filesystem::directory_iterator(spool_dir)) {
      EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << step;
    }
  }
}

}  // namespace
}  // namespace pinion
