#include "pinion/curl/report_uploader.h"

#include <algorithm>
#include <cmath>

#include "curl_handles.h"
#include "pinion/backoff.h"

namespace pinion::curl {
namespace {

using internal::EasyHandle;
using internal::HeaderList;

// The collector's answer matters only when it refuses: keep its start for the error.
constexpr std::size_t kKeptAnswerBytes = 256;
std::size_t KeepAnswerStart(char* data, std::size_t size, std::size_t count, void* user) {
  auto* answer = static_cast<std::string*>(user);
  std::size_t bytes = size * count;
  answer->append(data, std::min(bytes, kKeptAnswerBytes - std::min(kKeptAnswerBytes, answer->size())));
  return bytes;
}

// The drop reason ReportSpool::Drop records for a permanent refusal.
std::string RejectionReason(long status) { return "rejected-http-" + std::to_string(status); }

bool IsPermanentRefusal(long status) { return status >= 400 && status < 500 && status != 408 && status != 429; }

}  // namespace

ReportUploader::ReportUploader(Reporter& reporter, ReportUploaderOptions options, std::unique_ptr<CurlPinning> pinning)
    : reporter_(reporter),
      options_(std::move(options)),
      pinning_(std::move(pinning)),
      random_(options_.random_seed ? *options_.random_seed : std::random_device{}()) {}

ReportUploader::~ReportUploader() { Stop(); }

Result<std::unique_ptr<ReportUploader>> ReportUploader::Create(Reporter& reporter, PolicyStore& store,
                                                               ReportUploaderOptions options) {
  if (options.clock == nullptr || options.min_backoff.count() <= 0 || options.max_backoff < options.min_backoff ||
      options.timeout.count() <= 0 || options.poll_interval.count() <= 0 || options.batch == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "the uploader needs a clock, min_backoff, timeout, poll_interval, batch > 0 and "
                 "max_backoff >= min_backoff");
  }
  PINION_TRY(internal::InitCurlOnce());
  PINION_ASSIGN_OR_RETURN(auto pinning, CurlPinning::Create(store));
  return std::unique_ptr<ReportUploader>(new ReportUploader(reporter, std::move(options), std::move(pinning)));
}

long ReportUploader::Post(const std::string& uri, const std::string& body, std::optional<Error>& error) {
  EasyHandle easy(curl_easy_init());
  if (!easy) {
    error = Error(ErrorCode::kNetwork, "curl_easy_init failed");
    return 0;
  }
  HeaderList headers(curl_slist_append(nullptr, "Content-Type: application/json"));
  const char* protocols = options_.allow_http ? "https,http" : "https";
  curl_easy_setopt(easy.get(), CURLOPT_URL, uri.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(easy.get(), CURLOPT_FOLLOWLOCATION, 0L);  // a report goes where the policy says, nowhere else
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, headers.get());
  std::string answer;
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &KeepAnswerStart);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(easy.get(), CURLOPT_USERAGENT, "pinion-report-uploader");
  if (!options_.ca_file.empty()) curl_easy_setopt(easy.get(), CURLOPT_CAINFO, options_.ca_file.c_str());
  if (uri.starts_with("https://")) {
    if (Status attached = pinning_->Install(easy.get()); !attached.ok()) {
      error = attached.error();
      return 0;
    }
  }
  CURLcode code = curl_easy_perform(easy.get());
  std::shared_ptr<const Verdict> verdict = pinning_->VerdictOf(easy.get());
  pinning_->Uninstall(easy.get());
  if (code != CURLE_OK) {
    if (verdict && !verdict->allowed()) {
      error = Error(ErrorCode::kPinValidationFailed, "the collector's chain failed the pins: " + verdict->Summary())
                  .WithSource(uri);
    } else {
      error = Error(ErrorCode::kNetwork, curl_easy_strerror(code)).WithSource(uri);
    }
    return 0;
  }
  long status = 0;
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    std::string said;
    for (char c : answer) said += (c >= 0x20 && c < 0x7f) ? c : ' ';
    error = Error(ErrorCode::kNetwork, "HTTP status " + std::to_string(status) + (said.empty() ? "" : ": " + said))
                .WithSource(uri);
  }
  return status;
}

UploadRound ReportUploader::UploadOnce() {
  std::lock_guard<std::mutex> lock(upload_mutex_);
  UploadRound round;
  for (const ReportDestination& destination : reporter_.Destinations()) {
    TimePoint now = options_.clock->Now();
    {
      std::lock_guard<std::mutex> state_lock(state_mutex_);
      auto it = backoff_.find(destination.uri);
      if (it != backoff_.end() && now < it->second.until) {
        ++round.deferred;
        continue;
      }
    }
    bool failed = false;
    std::size_t delivered_before = round.delivered;
    std::size_t rejected_before = round.rejected;
    std::size_t failed_before = round.failed;
    for (const SpooledReport& item : destination.spool->Oldest(options_.batch)) {
      std::optional<Error> error;
      long status = Post(destination.uri, item.body, error);
      if (status >= 200 && status < 300) {
        ++round.delivered;
        (void)destination.spool->Remove(item.sequence);
        continue;
      }
      if (IsPermanentRefusal(status)) {
        // Kept, it would block the queue for good; deleted silently, an
        // attacker who can make a report unparseable could hide it. Dropped
        // and counted with the reason: later reports carry the count.
        ++round.rejected;
        (void)destination.spool->Drop(item.sequence, RejectionReason(status));
        round.last_error = error;
        std::lock_guard<std::mutex> state_lock(state_mutex_);
        stats_.rejected_by_reason[RejectionReason(status)] += 1;
        stats_.last_rejection = error;
        continue;
      }
      ++round.failed;
      round.last_error = error;
      failed = true;
      break;  // the destination is down: back off instead of trying the rest
    }
    std::lock_guard<std::mutex> state_lock(state_mutex_);
    stats_.delivered += round.delivered - delivered_before;
    stats_.rejected += round.rejected - rejected_before;
    stats_.failed += round.failed - failed_before;
    if (!failed) {
      backoff_.erase(destination.uri);
      continue;
    }
    Backoff& backoff = backoff_[destination.uri];
    backoff.failures = std::min(backoff.failures + 1, 62);
    backoff.until = now + BackoffDelay({options_.min_backoff, options_.max_backoff}, backoff.failures, random_);
  }
  std::lock_guard<std::mutex> state_lock(state_mutex_);
  ++rounds_;
  wake_.notify_all();
  return round;
}

std::optional<TimePoint> ReportUploader::BackoffUntil(const std::string& uri) const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  auto it = backoff_.find(uri);
  if (it == backoff_.end()) return std::nullopt;
  return it->second.until;
}

void ReportUploader::Start() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void ReportUploader::Stop() {
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReportUploader::Wake() {
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

UploaderStats ReportUploader::stats() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return stats_;
}

std::uint64_t ReportUploader::rounds() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return rounds_;
}

void ReportUploader::Loop() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(state_mutex_);
      if (stop_) return;
      woken_ = false;
    }
    (void)UploadOnce();
    std::unique_lock<std::mutex> lock(state_mutex_);
    // Real time on purpose: this paces network traffic. Backoff itself is
    // decided on the injected clock in UploadOnce.
    if (wake_.wait_for(lock, options_.poll_interval, [this] { return stop_ || woken_; }) && stop_) return;
  }
}

}  // namespace pinion::curl
