// pinion/dynamic/manifest_updater.h — keep a DynamicPolicy up to date from a
// manifest server, off the handshake path. The update logic lives here —
// conditional requests (ETag), acceptance, the schedule with jitter and
// exponential backoff — and the transport is a ManifestFetcher (libcurl's is
// pinion::curl::ManifestUpdater, which pins the download by the baseline).
//
// After a success the next fetch comes `interval` later ± `jitter`; after a
// failure or a refused manifest, BackoffDelay from `min_backoff` to
// `max_backoff` (pinion/backoff.h).
#ifndef PINION_DYNAMIC_MANIFEST_UPDATER_H_
#define PINION_DYNAMIC_MANIFEST_UPDATER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "pinion/dynamic/dynamic_policy.h"
#include "pinion/result.h"
#include "pinion/verdict.h"

namespace pinion {

// ManifestDownload is what one request brought back.
struct ManifestDownload {
  long http_status = 0;   // 200 with a body, 304 when the ETag still holds
  std::string body;
  std::string etag;
  std::optional<Error> error;  // set when the transfer itself failed (network, TLS, pins, size)
  std::shared_ptr<const Verdict> pin_verdict;  // of the download's handshake, when one was made
};

// ManifestFetcher is the transport: one GET, conditional when `if_none_match`
// is not empty. Called from one thread at a time.
class ManifestFetcher {
 public:
  virtual ~ManifestFetcher() = default;
  virtual ManifestDownload Fetch(const std::string& if_none_match) = 0;
  // Source names the server in errors (its URL).
  virtual std::string Source() const = 0;
};

struct ManifestSchedule {
  std::chrono::seconds interval{6 * 3600};
  double jitter = 0.1;  // fraction of `interval`, 0 to 0.5
  std::chrono::seconds min_backoff{60};
  std::chrono::seconds max_backoff{6 * 3600};
  std::optional<std::uint64_t> random_seed;  // for reproducible schedules in tests
};

// FetchOutcome is the result of one fetch.
struct FetchOutcome {
  enum class Kind : std::uint8_t {
    kUpdated,      // a new manifest was accepted
    kNotModified,  // 304, or the server still serves the active version
    kRejected,     // a manifest arrived but DynamicPolicy refused it (error says why)
    kFailed,       // network, TLS, pin or HTTP failure (error says why)
  };
  Kind kind = Kind::kFailed;
  std::uint64_t active_version = 0;
  long http_status = 0;
  std::optional<Error> error;
  std::shared_ptr<const Verdict> pin_verdict;
};

class ManifestUpdater {
 public:
  // Create checks the schedule (kInvalidArgument). `policy` must outlive the updater.
  static Result<std::unique_ptr<ManifestUpdater>> Create(DynamicPolicy& policy, std::unique_ptr<ManifestFetcher> fetcher,
                                                         ManifestSchedule schedule);
  ~ManifestUpdater();  // stops the thread

  // FetchOnce does one (conditional) fetch and offers the body. Thread-safe
  // (calls are serialized); used by the background thread and by tests.
  FetchOutcome FetchOnce();
  // NextDelay returns how long to wait after `outcome`, updating the backoff.
  std::chrono::seconds NextDelay(const FetchOutcome& outcome);

  // Start runs FetchOnce now and then on the schedule, on a background thread.
  void Start();
  // Stop wakes and joins the thread (a fetch in flight finishes first).
  void Stop();
  // fetches counts completed FetchOnce calls (for monitoring and tests).
  std::uint64_t fetches() const;

 private:
  ManifestUpdater(DynamicPolicy& policy, std::unique_ptr<ManifestFetcher> fetcher, ManifestSchedule schedule);
  void Loop();

  DynamicPolicy& policy_;
  std::unique_ptr<ManifestFetcher> fetcher_;
  ManifestSchedule schedule_;
  std::mutex fetch_mutex_;   // serializes FetchOnce
  std::string etag_;         // guarded by fetch_mutex_
  std::mt19937_64 random_;   // guarded by fetch_mutex_ (NextDelay)
  int consecutive_failures_ = 0;
  mutable std::mutex state_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::uint64_t fetches_ = 0;
  std::thread thread_;
};

}  // namespace pinion

#endif  // PINION_DYNAMIC_MANIFEST_UPDATER_H_
