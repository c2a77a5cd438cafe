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
// Requests are conditional (If-None-Match with the last ETag). The update
// logic and the schedule are pinion::ManifestUpdater's
// (pinion/dynamic/manifest_updater.h); this class is its libcurl transport.
#ifndef PINION_CURL_MANIFEST_UPDATER_H_
#define PINION_CURL_MANIFEST_UPDATER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "pinion/dynamic/dynamic_policy.h"
#include "pinion/dynamic/manifest_updater.h"
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

using FetchOutcome = pinion::FetchOutcome;

class ManifestUpdater {
 public:
  // Create checks the options (kInvalidArgument for a non-https URL or a bad
  // schedule). `policy` must outlive the updater.
  static Result<std::unique_ptr<ManifestUpdater>> Create(DynamicPolicy& policy, ManifestUpdaterOptions options);

  FetchOutcome FetchOnce() { return updater_->FetchOnce(); }
  std::chrono::seconds NextDelay(const FetchOutcome& outcome) { return updater_->NextDelay(outcome); }
  void Start() { updater_->Start(); }
  void Stop() { updater_->Stop(); }
  std::uint64_t fetches() const { return updater_->fetches(); }

 private:
  explicit ManifestUpdater(std::unique_ptr<pinion::ManifestUpdater> updater) : updater_(std::move(updater)) {}
  std::unique_ptr<pinion::ManifestUpdater> updater_;
};

}  // namespace pinion::curl

#endif  // PINION_CURL_MANIFEST_UPDATER_H_
