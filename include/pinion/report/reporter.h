// pinion/report/reporter.h — turns verdicts into spooled failure reports without
// ever making a handshake wait for disk or network.
//
//   auto reporter = pinion::Reporter::Create("/var/lib/myapp/reports",
//                                            {.app = {.id = "com.example.app", .version = "4.2"}});
//   enforcer_options.on_verdict = (*reporter)->Callback();   // from any TLS stack's adapter
//   // an uploader (pinion/curl/report_uploader.h) delivers what is spooled.
//
// Submit (and the callback) runs on the handshake thread: it builds the
// report, drops duplicates seen within `dedupe_window` and reports over the
// per-host rate limit, and puts the rest on a bounded in-memory queue. A
// background thread writes the queue to one ReportSpool per destination (each
// `report_uri` of the failing rule). Nothing on the calling thread touches the
// disk or the network; when the queue is full the report is dropped and counted.
//
// No report loops: a report_uri whose host the failing rule itself covers
// would be reached over a connection guarded by the very pins that just
// failed, so it is skipped (and counted); plain http:// destinations are
// skipped (and counted) unless `allow_http` is set.
//
// Every drop — queue full, spool full, damaged file, a body the collector
// refused for good — is counted with its reason (stats(), and
// "dropped-reports" / "dropped-reasons" in later reports): none vanishes.
#ifndef PINION_REPORTER_H_
#define PINION_REPORTER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pinion/enum_table.h"
#include "pinion/clock.h"
#include "pinion/report/report.h"
#include "pinion/report/report_spool.h"
#include "pinion/result.h"
#include "pinion/token_bucket.h"
#include "pinion/verdict.h"

namespace pinion {

struct ReporterOptions {
  AppInfo app;
  const Clock* clock = &SystemClock::Instance();
  // Identical reports (FailureReport::Fingerprint) within this window are sent once.
  std::chrono::seconds dedupe_window{24 * 3600};
  // Per host: at most `host_burst` reports at once, refilled at `host_reports_per_hour`.
  std::size_t host_burst = 10;
  double host_reports_per_hour = 60;
  // Reports waiting for the background writer; beyond this they are dropped and counted.
  std::size_t queue_capacity = 256;
  // Deliver to http:// report URIs too (tests, private networks). Off: only https://.
  bool allow_http = false;
  ReportSpoolOptions spool;  // per destination
  // Called on the writer thread after reports reached a spool (wakes an uploader).
  std::function<void()> on_spooled;
};

// SubmitOutcome says what Submit did with a verdict.
enum class SubmitOutcome : std::uint8_t {
  kQueued,         // queued for at least one destination
  kNotReportable,  // matched, not pinned, … (IsReportable is false)
  kDuplicate,      // the same failure was reported within the dedupe window
  kRateLimited,    // the host's report budget is spent
  kNoDestination,  // every report_uri was skipped (none, loop, or http:// not allowed)
  kQueueFull,      // the background writer is behind: dropped and counted
};
inline constexpr EnumTable<SubmitOutcome, 6> kSubmitOutcomeNames{{{
    {SubmitOutcome::kQueued, "queued"},
    {SubmitOutcome::kNotReportable, "not-reportable"},
    {SubmitOutcome::kDuplicate, "duplicate"},
    {SubmitOutcome::kRateLimited, "rate-limited"},
    {SubmitOutcome::kNoDestination, "no-destination"},
    {SubmitOutcome::kQueueFull, "queue-full"},
}}};
static_assert(kSubmitOutcomeNames.IsComplete());
inline std::string_view SubmitOutcomeName(SubmitOutcome outcome) { return kSubmitOutcomeNames.Name(outcome); }

struct ReporterStats {
  std::uint64_t queued = 0;
  std::uint64_t spooled = 0;        // reports written to a destination spool
  std::uint64_t duplicates = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t queue_dropped = 0;
  std::uint64_t loop_skipped = 0;      // destinations guarded by the failing rule
  std::uint64_t insecure_skipped = 0;  // http:// destinations without allow_http
  std::uint64_t spool_errors = 0;      // disk errors while spooling (report lost, counted)
  // Reports the destination spools dropped (full, damaged, refused for good
  // by the collector: ReportSpool::Drop), over all destinations, by reason.
  std::uint64_t spool_dropped = 0;
  std::map<std::string, std::uint64_t> spool_dropped_by_reason;
};

// ReportDestination is one report_uri and the spool of reports waiting for it.
struct ReportDestination {
  std::string uri;
  ReportSpool* spool = nullptr;  // owned by the Reporter
};

class Reporter {
 public:
  // Create opens (or creates) `directory`, which holds one spool per
  // destination, and starts the writer thread. Destinations spooled by an
  // earlier run are reopened, so their reports are still delivered.
  static Result<std::unique_ptr<Reporter>> Create(std::filesystem::path directory,
                                                  ReporterOptions options = {});
  ~Reporter();  // writes what is queued, then stops the writer

  // Submit never blocks on I/O; thread-safe.
  SubmitOutcome Submit(const Verdict& verdict);
  // Callback adapts Submit to EnforcerOptions::on_verdict. The Reporter must
  // outlive whatever holds the callback.
  std::function<void(const Verdict&)> Callback();

  // Flush waits until everything queued so far is spooled (tests, shutdown).
  void Flush();
  // Destinations lists the destinations known so far (stable pointers).
  std::vector<ReportDestination> Destinations() const;
  ReporterStats stats() const;

 private:
  struct Pending {
    FailureReport report;
    std::vector<std::string> destinations;
  };

  Reporter(std::filesystem::path directory, ReporterOptions options);
  // Admit applies dedupe and rate limit: kQueued when the report may go on.
  SubmitOutcome Admit(const FailureReport& report, TimePoint now);  // requires mutex_
  Result<ReportSpool*> SpoolFor(const std::string& uri);  // writer thread only
  void WriterLoop();

  std::filesystem::path directory_;
  ReporterOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::deque<Pending> queue_;
  bool writing_ = false;
  bool stop_ = false;
  std::unordered_map<std::string, TimePoint> seen_;  // fingerprint → first report
  std::unordered_map<std::string, TokenBucket> budgets_;
  ReporterStats stats_;

  mutable std::mutex destinations_mutex_;
  std::map<std::string, std::unique_ptr<ReportSpool>> destinations_;  // uri → spool

  std::thread writer_;
};

}  // namespace pinion

#endif  // PINION_REPORTER_H_
