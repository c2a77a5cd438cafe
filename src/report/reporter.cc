#include "pinion/report/reporter.h"

#include <algorithm>
#include <system_error>

#include "internal/crypto.h"
#include "pinion/atomic_file.h"
#include "pinion/pin_source.h"

namespace pinion {
namespace {

constexpr char kDestinationFile[] = "destination.uri";
// Bounds the memory the dedupe and rate-limit tables may take under a flood
// of distinct failures; past it the oldest entries are forgotten.
constexpr std::size_t kMaxRemembered = 4096;

std::string DestinationDirectoryName(const std::string& uri) {
  return "dest-" + internal::Sha256Hex(uri).substr(0, 24);
}

}  // namespace


Reporter::Reporter(std::filesystem::path directory, ReporterOptions options)
    : directory_(std::move(directory)), options_(std::move(options)) {}

Reporter::~Reporter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

Result<std::unique_ptr<Reporter>> Reporter::Create(std::filesystem::path directory, ReporterOptions options) {
  if (options.clock == nullptr || options.queue_capacity == 0 || options.host_burst == 0 ||
      options.host_reports_per_hour <= 0 || options.dedupe_window.count() < 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "a reporter needs a clock, queue_capacity > 0, host_burst > 0 and host_reports_per_hour > 0");
  }
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec || !std::filesystem::is_directory(directory)) {
    return Error(ErrorCode::kIo, "cannot create the report directory: " + ec.message()).WithSource(directory.string());
  }
  std::unique_ptr<Reporter> reporter(new Reporter(std::move(directory), std::move(options)));
  // Reports spooled by an earlier run still go out.
  for (const auto& entry : std::filesystem::directory_iterator(reporter->directory_, ec)) {
    if (!entry.is_directory() || !entry.path().filename().string().starts_with("dest-")) continue;
    auto uri = ReadFileBounded(entry.path() / kDestinationFile, 4096);
    if (!uri) continue;
    std::string text(uri->begin(), uri->end());
    if (!IsValidReportUri(text) || entry.path().filename() != DestinationDirectoryName(text)) continue;
    PINION_ASSIGN_OR_RETURN(auto spool, ReportSpool::Open(entry.path(), reporter->options_.spool));
    reporter->destinations_[text] = std::move(spool);
  }
  reporter->writer_ = std::thread([raw = reporter.get()] { raw->WriterLoop(); });
  return reporter;
}

SubmitOutcome Reporter::Admit(const FailureReport& report, TimePoint now) {
  // Deduplication: the same failure (host, port, reason, policy version,
  // chain) is reported once per window.
  std::string fingerprint = report.Fingerprint();
  if (auto it = seen_.find(fingerprint); it != seen_.end()) {
    if (now - it->second < options_.dedupe_window && now >= it->second) {
      ++stats_.duplicates;
      return SubmitOutcome::kDuplicate;
    }
  }
  // Token bucket per host.
  TokenRate rate{.per_second = options_.host_reports_per_hour / 3600.0, .burst = static_cast<double>(options_.host_burst)};
  auto budget = budgets_.try_emplace(report.hostname, rate, now).first;
  if (!budget->second.TryTake(rate, now)) {
    ++stats_.rate_limited;
    return SubmitOutcome::kRateLimited;
  }
  if (seen_.size() >= kMaxRemembered) {
    // Forget what left the window; if still full, the oldest.
    std::erase_if(seen_, [&](const auto& item) { return now - item.second >= options_.dedupe_window; });
    if (seen_.size() >= kMaxRemembered) {
      seen_.erase(std::min_element(seen_.begin(), seen_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
  }
  if (budgets_.size() > kMaxRemembered) budgets_.clear();  // a full bucket for all: bounded memory wins
  seen_[fingerprint] = now;
  return SubmitOutcome::kQueued;
}

SubmitOutcome Reporter::Submit(const Verdict& verdict) {
  if (!IsReportable(verdict)) return SubmitOutcome::kNotReportable;
  std::optional<FailureReport> report = BuildReport(verdict, options_.app);
  if (!report) return SubmitOutcome::kNotReportable;

  std::vector<std::string> destinations;
  std::uint64_t loop_skipped = 0;
  std::uint64_t insecure_skipped = 0;
  for (const std::string& uri : verdict.rule->report_uris) {
    std::optional<std::string> host = ReportUriHost(uri);
    if (!host) continue;
    // The failing rule guards the collector's host too: the upload would meet
    // the same failing pins (or, worse, an attacker's collector).
    if (verdict.policy && verdict.policy->FindRule(*host) == verdict.rule) {
      ++loop_skipped;
      continue;
    }
    if (!uri.starts_with("https://") && !options_.allow_http) {
      ++insecure_skipped;
      continue;
    }
    destinations.push_back(uri);
  }

  std::lock_guard<std::mutex> lock(mutex_);
  stats_.loop_skipped += loop_skipped;
  stats_.insecure_skipped += insecure_skipped;
  if (destinations.empty()) return SubmitOutcome::kNoDestination;
  if (queue_.size() >= options_.queue_capacity) {
    ++stats_.queue_dropped;
    return SubmitOutcome::kQueueFull;
  }
  if (SubmitOutcome admitted = Admit(*report, options_.clock->Now()); admitted != SubmitOutcome::kQueued) {
    return admitted;
  }
  // The collector hears of reports this process had to drop (the spool adds its own).
  report->dropped_reports = stats_.queue_dropped;
  CountDroppedReports(report->dropped_by_reason, "queue-full", stats_.queue_dropped);
  queue_.push_back({std::move(*report), std::move(destinations)});
  ++stats_.queued;
  wake_.notify_one();
  return SubmitOutcome::kQueued;
}

std::function<void(const Verdict&)> Reporter::Callback() {
  return [this](const Verdict& verdict) { (void)Submit(verdict); };
}

Result<ReportSpool*> Reporter::SpoolFor(const std::string& uri) {
  std::lock_guard<std::mutex> lock(destinations_mutex_);
  if (auto it = destinations_.find(uri); it != destinations_.end()) return it->second.get();
  std::filesystem::path path = directory_ / DestinationDirectoryName(uri);
  PINION_ASSIGN_OR_RETURN(auto spool, ReportSpool::Open(path, options_.spool));
  PINION_TRY(WriteFileAtomically(path / kDestinationFile, uri));
  ReportSpool* raw = spool.get();
  destinations_[uri] = std::move(spool);
  return raw;
}

void Reporter::WriterLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_ with nothing left to write
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    std::uint64_t written = 0;
    std::uint64_t failed = 0;
    for (const std::string& uri : pending.destinations) {
      auto spool = SpoolFor(uri);
      if (spool && (*spool)->Add(pending.report).ok()) {
        ++written;
      } else {
        ++failed;
      }
    }
    if (written > 0 && options_.on_spooled) options_.on_spooled();
    lock.lock();
    writing_ = false;
    stats_.spooled += written;
    stats_.spool_errors += failed;
    drained_.notify_all();
  }
}

void Reporter::Flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  drained_.wait(lock, [this] { return queue_.empty() && !writing_; });
}

std::vector<ReportDestination> Reporter::Destinations() const {
  std::lock_guard<std::mutex> lock(destinations_mutex_);
  std::vector<ReportDestination> out;
  for (const auto& [uri, spool] : destinations_) out.push_back({uri, spool.get()});
  return out;
}

ReporterStats Reporter::stats() const {
  ReporterStats stats;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats = stats_;
  }
  // Never both locks at once: the writer takes destinations_mutex_ without mutex_.
  for (const ReportDestination& destination : Destinations()) {
    stats.spool_dropped += destination.spool->dropped();
    for (const auto& [reason, count] : destination.spool->dropped_by_reason()) {
      stats.spool_dropped_by_reason[reason] += count;
    }
  }
  return stats;
}

}  // namespace pinion
