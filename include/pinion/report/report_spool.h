// pinion/report/report_spool.h — failure reports kept on disk until delivered.
//
//   auto spool = pinion::ReportSpool::Open("/var/lib/myapp/reports");
//   (*spool)->Add(*report);                       // durable once it returns
//   for (auto& item : (*spool)->Oldest(10)) { post(item.body); (*spool)->Remove(item.sequence); }
//
// Each report is one file written atomically (temporary file, fsync, rename,
// fsync of the directory), so a crash or power cut loses no report that Add
// accepted. The spool is bounded by count and bytes: when full, the oldest
// reports are dropped, the drop is counted (persistently) and the count rides
// along in the next report ("dropped-reports", split by reason in
// "dropped-reasons"), so the collector hears of it. At Open, leftovers of
// interrupted writes are removed and a damaged report file is dropped (and
// counted) rather than sent. A report is never deleted uncounted: one the
// collector refuses for good leaves through Drop, with the reason.
// Add is a disk write: call it from a background thread, never a handshake.
#ifndef PINION_REPORT_SPOOL_H_
#define PINION_REPORT_SPOOL_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/report/report.h"
#include "pinion/result.h"

namespace pinion {

struct ReportSpoolOptions {
  std::size_t max_reports = 1000;
  std::size_t max_bytes = 8 * 1024 * 1024;
  // Observes each step of a report file's write (WriteFileAtomically); crash tests.
  std::function<void(std::string_view step)> on_write_step;
};

struct SpooledReport {
  std::uint64_t sequence = 0;  // increasing with each Add
  std::string body;            // the pinion JSON body (ReportToJson)
};

class ReportSpool {
 public:
  // Open creates the directory if needed and loads what is spooled (kIo).
  static Result<std::unique_ptr<ReportSpool>> Open(std::filesystem::path directory,
                                                   ReportSpoolOptions options = {});

  // Add stores `report` (with the current drop count) and returns its sequence.
  Result<std::uint64_t> Add(FailureReport report);
  // Oldest returns up to `count` reports, oldest first.
  std::vector<SpooledReport> Oldest(std::size_t count) const;
  // Remove deletes a delivered report (no error if already gone).
  Status Remove(std::uint64_t sequence);
  // Drop deletes a report that will never be delivered and counts it under
  // `reason` ("rejected-http-400" …; see CountDroppedReports), persistently,
  // so later reports carry it. No error (and no count) if already gone.
  Status Drop(std::uint64_t sequence, std::string_view reason);

  std::size_t size() const;
  // dropped is every report this spool dropped; dropped_by_reason splits it
  // ("spool-full", "damaged", whatever Drop was told).
  std::uint64_t dropped() const;
  std::map<std::string, std::uint64_t> dropped_by_reason() const;

 private:
  ReportSpool(std::filesystem::path directory, ReportSpoolOptions options);
  std::filesystem::path PathOf(std::uint64_t sequence) const;
  Status DropOldest();             // requires mutex_
  Status DeleteFile(std::uint64_t sequence, std::string_view reason);  // requires mutex_
  Status SaveDroppedCount();       // requires mutex_

  std::filesystem::path directory_;
  ReportSpoolOptions options_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, std::size_t> sizes_;  // sequence → bytes
  std::size_t bytes_ = 0;
  std::uint64_t next_sequence_ = 1;
  std::uint64_t dropped_ = 0;
  std::map<std::string, std::uint64_t> dropped_by_reason_;
};

}  // namespace pinion

#endif  // PINION_REPORT_SPOOL_H_
