#include "pinion/report/report_spool.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "test_pki.h"
#include "report_parse.h"

namespace pinion {
namespace {

using testing::TempDir;

FailureReport Report(const std::string& host) {
  FailureReport report;
  report.date_time = *ParseTimestamp("2026-11-21T12:00:00Z");
  report.hostname = host;
  report.port = 443;
  report.reason = "mismatch";
  report.mode = "enforce";
  return report;
}

std::string HostOf(const SpooledReport& item) { return nlohmann::json::parse(item.body)["hostname"]; }

TEST(ReportSpoolTest, AddedReportsSurviveAReopenInOrder) {
  TempDir dir;
  {
    auto spool = *ReportSpool::Open(dir.path() / "spool");
    EXPECT_EQ(*spool->Add(Report("a.example")), 1u);
    EXPECT_EQ(*spool->Add(Report("b.example")), 2u);
  }
  auto spool = *ReportSpool::Open(dir.path() / "spool");
  ASSERT_EQ(spool->size(), 2u);
  auto oldest = spool->Oldest(10);
  ASSERT_EQ(oldest.size(), 2u);
  EXPECT_EQ(HostOf(oldest[0]), "a.example");
  EXPECT_EQ(HostOf(oldest[1]), "b.example");
  ASSERT_TRUE(spool->Remove(oldest[0].sequence).ok());
  EXPECT_EQ(*spool->Add(Report("c.example")), 3u);  // sequences never go back
  EXPECT_EQ(spool->size(), 2u);
}

TEST(ReportSpoolTest, WhenFullTheOldestAreDroppedCountedAndReported) {
  TempDir dir;
  auto spool = *ReportSpool::Open(dir.path(), {.max_reports = 3});
  for (const char* host : {"a.example", "b.example", "c.example", "d.example", "e.example"}) {
    ASSERT_TRUE(spool->Add(Report(host)).ok());
  }
  EXPECT_EQ(spool->size(), 3u);
  EXPECT_EQ(spool->dropped(), 2u);
  auto oldest = spool->Oldest(10);
  EXPECT_EQ(HostOf(oldest[0]), "c.example");
  // The count rides along in later reports, and survives a restart.
  EXPECT_EQ(nlohmann::json::parse(oldest[2].body)["pinion"]["dropped-reports"], 2);
  spool.reset();
  EXPECT_EQ((*ReportSpool::Open(dir.path(), {.max_reports = 3}))->dropped(), 2u);
}

TEST(ReportSpoolTest, DamagedFilesAndInterruptedWritesAreCleanedUpAtOpen) {
  TempDir dir;
  {
    auto spool = *ReportSpool::Open(dir.path());
    ASSERT_TRUE(spool->Add(Report("a.example")).ok());
    ASSERT_TRUE(spool->Add(Report("b.example")).ok());
  }
  std::ofstream(dir.path() / "report-00000000000000000002.json") << "{\"hostname\": ";  // torn by hand
  std::ofstream(dir.path() / ".report-00000000000000000003.json.tmp-abc123") << "partial";
  auto spool = *ReportSpool::Open(dir.path());
  EXPECT_EQ(spool->size(), 1u);
  EXPECT_EQ(spool->dropped(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / ".report-00000000000000000003.json.tmp-abc123"));
  EXPECT_EQ(HostOf(spool->Oldest(1)[0]), "a.example");
}

TEST(ReportSpoolTest, ADroppedReportIsCountedWithItsReasonNeverJustDeleted) {
  TempDir dir;
  {
    auto spool = *ReportSpool::Open(dir.path(), {.max_reports = 2});
    auto first = *spool->Add(Report("a.example"));
    ASSERT_TRUE(spool->Add(Report("b.example")).ok());
    ASSERT_TRUE(spool->Drop(first, "rejected-http-400").ok());
    ASSERT_TRUE(spool->Drop(first, "rejected-http-400").ok());  // already gone: not counted twice
    ASSERT_TRUE(spool->Add(Report("c.example")).ok());
    ASSERT_TRUE(spool->Add(Report("d.example")).ok());  // full: drops b
    EXPECT_EQ(spool->dropped(), 2u);
    EXPECT_EQ(spool->dropped_by_reason(),
              (std::map<std::string, std::uint64_t>{{"rejected-http-400", 1}, {"spool-full", 1}}));
    auto newest = ParseReport(spool->Oldest(10).back().body);
    ASSERT_TRUE(newest.ok());
    EXPECT_EQ(newest->hostname, "d.example");
    EXPECT_EQ(newest->dropped_reports, 2u);
    EXPECT_EQ(newest->dropped_by_reason, spool->dropped_by_reason());
  }
  // The reasons survive a restart.
  auto spool = *ReportSpool::Open(dir.path(), {.max_reports = 2});
  EXPECT_EQ(spool->dropped(), 2u);
  EXPECT_EQ(spool->dropped_by_reason().at("rejected-http-400"), 1u);
}

TEST(ReportSpoolTest, ACountWrittenWithoutReasonsIsStillCounted) {
  TempDir dir;
  dir.Write("dropped.count", "5");  // as an earlier version wrote it
  auto spool = *ReportSpool::Open(dir.path());
  EXPECT_EQ(spool->dropped(), 5u);
  EXPECT_EQ(spool->dropped_by_reason(), (std::map<std::string, std::uint64_t>{{"unrecorded", 5}}));
}

TEST(ReportSpoolTest, RefusesABoundTooSmallForOneReport) {
  TempDir dir;
  auto spool = ReportSpool::Open(dir.path(), {.max_reports = 10, .max_bytes = 1024});
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinion
