// pinion/curl/report_uploader.h — delivers spooled failure reports to their
// report_uri with libcurl, on a background thread.
//
//   auto reporter = pinion::Reporter::Create(dir, {.app = app});
//   auto uploader = pinion::curl::ReportUploader::Create(**reporter, store);
//   (*uploader)->Start();       // Stop() or the destructor ends it
//
// Each destination is tried in turn, oldest report first. A 2xx answer
// removes the report from the spool; any other 4xx except 408 and 429 means
// the collector will never take that body, so it is dropped rather than
// blocking the queue — never silently: ReportSpool::Drop counts it under
// "rejected-http-<status>", later reports carry the count, and stats() and
// Reporter::stats() show it; network errors, pin failures,
// 408, 429 and 5xx put the destination into exponential backoff with jitter.
// The uploader's own connections are pinned by `store` (the application's
// policy) like any other connection, and only https:// is used unless
// `allow_http` is set.
#ifndef PINION_CURL_REPORT_UPLOADER_H_
#define PINION_CURL_REPORT_UPLOADER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "pinion/clock.h"
#include "pinion/curl/pinning.h"
#include "pinion/policy_store.h"
#include "pinion/report/reporter.h"
#include "pinion/result.h"

namespace pinion::curl {

struct ReportUploaderOptions {
  const Clock* clock = &SystemClock::Instance();  // backoff bookkeeping
  std::chrono::seconds min_backoff{30};
  std::chrono::seconds max_backoff{3600};
  std::chrono::seconds timeout{30};        // per request
  std::chrono::seconds poll_interval{30};  // background thread, besides Wake()
  std::size_t batch = 50;                  // reports per destination per round
  bool allow_http = false;
  std::string ca_file;  // PEM bundle instead of the system store (tests, private CAs)
  std::optional<std::uint64_t> random_seed;
};

// UploadRound counts what one UploadOnce did.
struct UploadRound {
  std::size_t delivered = 0;
  std::size_t rejected = 0;  // refused by the collector with a permanent 4xx: dropped and counted
  std::size_t failed = 0;    // attempts that failed; the report stays spooled
  std::size_t deferred = 0;  // destinations skipped because they are in backoff
  std::optional<Error> last_error;
};

// UploaderStats adds up every UploadOnce since Create.
struct UploaderStats {
  std::uint64_t delivered = 0;
  std::uint64_t rejected = 0;  // dropped from the spool after a permanent refusal
  std::uint64_t failed = 0;
  std::map<std::string, std::uint64_t> rejected_by_reason;  // "rejected-http-400" → count
  std::optional<Error> last_rejection;                      // status and the start of the answer
};

class ReportUploader {
 public:
  // Create: `reporter` and `store` must outlive the uploader.
  static Result<std::unique_ptr<ReportUploader>> Create(Reporter& reporter, PolicyStore& store,
                                                        ReportUploaderOptions options = {});
  ~ReportUploader();

  // UploadOnce makes one pass over every destination not in backoff.
  // Thread-safe (serialized); used by the background thread and by tests.
  UploadRound UploadOnce();
  // BackoffUntil is when `uri` will be tried again (nullopt: not in backoff).
  std::optional<TimePoint> BackoffUntil(const std::string& uri) const;

  void Start();
  void Stop();
  // Wake makes the background thread run a round now (e.g. from ReporterOptions::on_spooled).
  void Wake();
  std::uint64_t rounds() const;
  UploaderStats stats() const;

 private:
  struct Backoff {
    int failures = 0;
    TimePoint until;
  };
  ReportUploader(Reporter& reporter, ReportUploaderOptions options, std::unique_ptr<CurlPinning> pinning);
  // Post sends one body; returns the HTTP status (0 on a transport failure).
  long Post(const std::string& uri, const std::string& body, std::optional<Error>& error);
  void Loop();

  Reporter& reporter_;
  ReportUploaderOptions options_;
  std::unique_ptr<CurlPinning> pinning_;
  std::mutex upload_mutex_;  // serializes UploadOnce
  std::mt19937_64 random_;   // guarded by upload_mutex_
  mutable std::mutex state_mutex_;
  std::map<std::string, Backoff> backoff_;  // guarded by state_mutex_
  std::condition_variable wake_;
  bool woken_ = false;
  bool stop_ = false;
  std::uint64_t rounds_ = 0;
  UploaderStats stats_;  // guarded by state_mutex_
  std::thread thread_;
};

}  // namespace pinion::curl

#endif  // PINION_CURL_REPORT_UPLOADER_H_
