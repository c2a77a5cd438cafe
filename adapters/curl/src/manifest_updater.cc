#include "pinion/curl/manifest_updater.h"

#include <algorithm>
#include <cmath>

#include "curl_handles.h"
#include "pinion/backoff.h"

namespace pinion::curl {
namespace {

struct Download {
  std::string body;
  std::string etag;
  bool too_large = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* arg) {
  auto* download = static_cast<Download*>(arg);
  std::size_t bytes = size * count;
  if (download->body.size() + bytes > kMaxEnvelopeBytes) {
    download->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  download->body.append(data, bytes);
  return bytes;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* arg) {
  auto* download = static_cast<Download*>(arg);
  std::string_view line(data, size * count);
  constexpr std::string_view kName = "etag:";
  if (line.size() > kName.size()) {
    std::string lower(line.substr(0, kName.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == kName) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
      }
      download->etag.assign(value);
    }
  }
  return size * count;
}

using internal::EasyHandle;
using internal::HeaderList;

}  // namespace


ManifestUpdater::ManifestUpdater(DynamicPolicy& policy, ManifestUpdaterOptions options,
                                 std::unique_ptr<CurlPinning> pinning)
    : policy_(policy),
      options_(std::move(options)),
      baseline_store_(policy.baseline()),
      pinning_(std::move(pinning)),
      random_(options_.random_seed ? *options_.random_seed : std::random_device{}()) {}

ManifestUpdater::~ManifestUpdater() { Stop(); }

Result<std::unique_ptr<ManifestUpdater>> ManifestUpdater::Create(DynamicPolicy& policy,
                                                                 ManifestUpdaterOptions options) {
  if (!options.url.starts_with("https://")) {
    return Error(ErrorCode::kInvalidArgument, "manifests are fetched over https:// only, not '" + options.url + "'");
  }
  if (options.interval.count() <= 0 || options.min_backoff.count() <= 0 ||
      options.max_backoff < options.min_backoff || options.jitter < 0 || options.jitter > 0.5 ||
      options.timeout.count() <= 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "the schedule needs interval, min_backoff, timeout > 0, max_backoff >= min_backoff, "
                 "jitter in [0, 0.5]");
  }
  PINION_TRY(internal::InitCurlOnce());
  std::unique_ptr<ManifestUpdater> updater(new ManifestUpdater(policy, std::move(options), nullptr));
  // The enforcer reads the updater's own baseline store, which lives as long as it.
  PINION_ASSIGN_OR_RETURN(updater->pinning_, CurlPinning::Create(updater->baseline_store_));
  return updater;
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
  EasyHandle easy(curl_easy_init());
  if (!easy) return finish(FetchOutcome::Kind::kFailed, Error(ErrorCode::kNetwork, "curl_easy_init failed"));
  Download download;
  HeaderList headers;
  if (!etag_.empty()) headers.reset(curl_slist_append(nullptr, ("If-None-Match: " + etag_).c_str()));
  curl_easy_setopt(easy.get(), CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(easy.get(), CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(easy.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(easy.get(), CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxEnvelopeBytes));
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &download);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERDATA, &download);
  curl_easy_setopt(easy.get(), CURLOPT_USERAGENT, "pinion-manifest-updater");
  if (headers) curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, headers.get());
  if (!options_.ca_file.empty()) curl_easy_setopt(easy.get(), CURLOPT_CAINFO, options_.ca_file.c_str());
  if (Status attached = pinning_->Attach(easy.get()); !attached.ok()) {
    return finish(FetchOutcome::Kind::kFailed, attached.error());
  }
  CURLcode code = curl_easy_perform(easy.get());
  outcome.pin_verdict = pinning_->LastVerdict(easy.get());
  pinning_->Detach(easy.get());
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &outcome.http_status);
  if (code != CURLE_OK) {
    std::string what = download.too_large ? "the manifest is larger than " + std::to_string(kMaxEnvelopeBytes) + " bytes"
                                          : std::string(curl_easy_strerror(code));
    if (outcome.pin_verdict && !outcome.pin_verdict->allowed()) {
      what = "the manifest server's chain failed the baseline pins: " + outcome.pin_verdict->Summary();
      return finish(FetchOutcome::Kind::kFailed, Error(ErrorCode::kPinValidationFailed, what).WithSource(options_.url));
    }
    return finish(FetchOutcome::Kind::kFailed, Error(ErrorCode::kNetwork, what).WithSource(options_.url));
  }
  if (outcome.http_status == 304) return finish(FetchOutcome::Kind::kNotModified);
  if (outcome.http_status != 200) {
    return finish(FetchOutcome::Kind::kFailed,
                  Error(ErrorCode::kNetwork, "HTTP status " + std::to_string(outcome.http_status))
                      .WithSource(options_.url));
  }
  auto accepted = policy_.Offer(download.body, options_.url);
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
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  bool failed = outcome.kind == FetchOutcome::Kind::kFailed || outcome.kind == FetchOutcome::Kind::kRejected;
  if (!failed) {
    consecutive_failures_ = 0;
    double factor = 1.0 + options_.jitter * (2.0 * unit(random_) - 1.0);
    return std::chrono::seconds(static_cast<std::int64_t>(std::llround(static_cast<double>(options_.interval.count()) * factor)));
  }
  consecutive_failures_ = std::min(consecutive_failures_ + 1, 62);
  return BackoffDelay({options_.min_backoff, options_.max_backoff}, consecutive_failures_, random_);
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

}  // namespace pinion::curl
