// pinion/curl/manifest_updater.h — fetch signed manifests over HTTPS and
// offer them to a DynamicPolicy, off the handshake path.
//
//   auto policy = pinion::DynamicPolicy::Create(baseline, keys, state_dir);
//   auto updater = pinion::curl::ManifestUpdater::Create(
//       **policy, {.url = "https://pins.example.com/v1/manifests/app"});
//   (*updater)->Start();   // background thread; Stop() or the destructor ends it
//
// The download is pinned by the *baseline* policy (the pins shipped with the
// program), so whoever can alter the update channel cannot also choose the
// pins that guard it; the manifest's own signature is what makes it trusted.
// Requests are conditional (If-None-Match with the last ETag). After a
// success the next fetch comes `interval` later ± `jitter`; after a failure,
// exponential backoff from `min_backoff` to `max_backoff`, each scaled by a
// random factor in [0.5, 1] so that a fleet does not retry in lock step.
#ifndef PINION_CURL_MANIFEST_UPDATER_H_
#define PINION_CURL_MANIFEST_UPDATER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "pinion/clock.h"
#include "pinion/curl/pinning.h"
#include "pinion/dynamic/dynamic_policy.h"
#include "pinion/result.h"

namespace pinion::curl {

struct ManifestUpdaterOptions {
  std::string url;  // https:// only
  std::chrono::seconds interval{6 * 3600};
  double jitter = 0.1;  // fraction of `interval`, 0 to 0.5
  std::chrono::seconds min_backoff{60};
  std::chrono::seconds max_backoff{6 * 3600};
  std::chrono::seconds timeout{30};  // per request
  // PEM bundle to validate the server with instead of the system store (tests,
  // private CAs). Pins of the baseline apply on top either way.
  std::string ca_file;
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
  std::shared_ptr<const Verdict> pin_verdict;  // of the download's handshake, when one was made
};

class ManifestUpdater {
 public:
  // Create checks the options (kInvalidArgument for a non-https URL or a bad
  // schedule). `policy` must outlive the updater.
  static Result<std::unique_ptr<ManifestUpdater>> Create(DynamicPolicy& policy, ManifestUpdaterOptions options);
  ~ManifestUpdater();  // stops the thread

  // FetchOnce does one conditional GET and offers the body. Thread-safe
  // (calls are serialized); used by the background thread and by tests.
  FetchOutcome FetchOnce();
  // NextDelay returns how long to wait after `outcome`, updating the backoff.
  std::chrono::seconds NextDelay(const FetchOutcome& outcome);

  // Start runs FetchOnce now and then on the schedule, on a background thread.
  void Start();
  // Stop wakes and joins the thread (a fetch in flight finishes first, bounded by `timeout`).
  void Stop();
  // fetches counts completed FetchOnce calls (for monitoring and tests).
  std::uint64_t fetches() const;

 private:
  ManifestUpdater(DynamicPolicy& policy, ManifestUpdaterOptions options, std::unique_ptr<CurlPinning> pinning);
  void Loop();

  DynamicPolicy& policy_;
  ManifestUpdaterOptions options_;
  PolicyStore baseline_store_;  // pins the download
  std::unique_ptr<CurlPinning> pinning_;
  std::mutex fetch_mutex_;      // serializes FetchOnce
  std::string etag_;            // guarded by fetch_mutex_
  std::mt19937_64 random_;      // guarded by fetch_mutex_ (NextDelay)
  int consecutive_failures_ = 0;
  mutable std::mutex state_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::uint64_t fetches_ = 0;
  std::thread thread_;
};

}  // namespace pinion::curl

#endif  // PINION_CURL_MANIFEST_UPDATER_H_
