#include "pinion/dynamic/manifest_updater.h"

#include <algorithm>
#include <cmath>

#include "pinion/backoff.h"

namespace pinion {

ManifestUpdater::ManifestUpdater(DynamicPolicy& policy, std::unique_ptr<ManifestFetcher> fetcher,
                                 ManifestSchedule schedule)
    : policy_(policy),
      fetcher_(std::move(fetcher)),
      schedule_(schedule),
      random_(schedule_.random_seed ? *schedule_.random_seed : std::random_device{}()) {}

ManifestUpdater::~ManifestUpdater() { Stop(); }

Result<std::unique_ptr<ManifestUpdater>> ManifestUpdater::Create(DynamicPolicy& policy,
                                                                 std::unique_ptr<ManifestFetcher> fetcher,
                                                                 ManifestSchedule schedule) {
  if (fetcher == nullptr || schedule.interval.count() <= 0 || schedule.min_backoff.count() <= 0 ||
      schedule.max_backoff < schedule.min_backoff || schedule.jitter < 0 || schedule.jitter > 0.5) {
    return Error(ErrorCode::kInvalidArgument,
                 "the updater needs a fetcher, and its schedule interval, min_backoff > 0, "
                 "max_backoff >= min_backoff, jitter in [0, 0.5]");
  }
  return std::unique_ptr<ManifestUpdater>(new ManifestUpdater(policy, std::move(fetcher), schedule));
}

FetchOutcome ManifestUpdater::FetchOnce() {
  std::lock_guard<std::mutex> lock(fetch_mutex_);
  FetchOutcome outcome;
  auto finish = [&](FetchOutcome::Kind kind, std::optional<Error> error = std::nullopt) {
    outcome.kind = kind;
    outcome.error = std::move(error);
    outcome.active_version = policy_.active_version();
    std::lock_guard<std::mutex> state_lock(state_mutex_);
    ++fetches_;
    return outcome;
  };
  ManifestDownload download = fetcher_->Fetch(etag_);
  outcome.http_status = download.http_status;
  outcome.pin_verdict = download.pin_verdict;
  if (download.error) return finish(FetchOutcome::Kind::kFailed, download.error);
  if (download.http_status == 304) return finish(FetchOutcome::Kind::kNotModified);
  if (download.http_status != 200) {
    return finish(FetchOutcome::Kind::kFailed,
                  Error(ErrorCode::kNetwork, "HTTP status " + std::to_string(download.http_status))
                      .WithSource(fetcher_->Source()));
  }
  auto accepted = policy_.Offer(download.body, fetcher_->Source());
  if (accepted) {
    etag_ = download.etag;
    return finish(FetchOutcome::Kind::kUpdated);
  }
  if (accepted.error().code() == ErrorCode::kManifestRollback) {
    // The server still serves what is active (or older): nothing new, not a failure.
    etag_ = download.etag;
    return finish(FetchOutcome::Kind::kNotModified, accepted.error());
  }
  return finish(FetchOutcome::Kind::kRejected, accepted.error());
}

std::chrono::seconds ManifestUpdater::NextDelay(const FetchOutcome& outcome) {
  std::lock_guard<std::mutex> lock(fetch_mutex_);
  bool failed = outcome.kind == FetchOutcome::Kind::kFailed || outcome.kind == FetchOutcome::Kind::kRejected;
  if (!failed) {
    consecutive_failures_ = 0;
    double factor = 1.0 + schedule_.jitter * (2.0 * std::uniform_real_distribution<double>(0.0, 1.0)(random_) - 1.0);
    return std::chrono::seconds(
        static_cast<std::int64_t>(std::llround(static_cast<double>(schedule_.interval.count()) * factor)));
  }
  consecutive_failures_ = std::min(consecutive_failures_ + 1, 62);
  return BackoffDelay({schedule_.min_backoff, schedule_.max_backoff}, consecutive_failures_, random_);
}

void ManifestUpdater::Start() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void ManifestUpdater::Stop() {
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t ManifestUpdater::fetches() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return fetches_;
}

void ManifestUpdater::Loop() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(state_mutex_);
      if (stop_) return;
    }
    FetchOutcome outcome = FetchOnce();
    std::chrono::seconds delay = NextDelay(outcome);
    std::unique_lock<std::mutex> lock(state_mutex_);
    wake_.notify_all();  // lets observers (fetches()) wait for progress
    // Real time on purpose: this schedules network traffic; tests drive
    // FetchOnce and NextDelay directly instead of waiting.
    if (wake_.wait_for(lock, delay, [this] { return stop_; })) return;
  }
}

}  // namespace pinion
