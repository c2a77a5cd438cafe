#include "pinion/report/report_spool.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "pinion/atomic_file.h"
#include "pinion/pin_source.h"

namespace pinion {
namespace {

// IsWholeReportBody: a body written by Add is one JSON object naming a host.
// Writes are atomic, so anything else is damage (disk, hand edits) and is
// dropped rather than uploaded; the collector validates the rest.
bool IsWholeReportBody(const std::vector<std::uint8_t>& body) {
  auto json = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  return json.is_object() && json.contains("hostname") && json["hostname"].is_string();
}

constexpr char kDroppedFile[] = "dropped.count";

// "report-00000000000000000042.json" → 42; 0 when the name is not a report's.
std::uint64_t SequenceOf(const std::string& name) {
  std::uint64_t sequence = 0;
  char tail[8] = {};
  if (name.size() != 32 || std::sscanf(name.c_str(), "report-%20" SCNu64 "%5s", &sequence, tail) != 2 ||
      std::string(tail) != ".json") {
    return 0;
  }
  return sequence;
}

}  // namespace

ReportSpool::ReportSpool(std::filesystem::path directory, ReportSpoolOptions options)
    : directory_(std::move(directory)), options_(options) {}

std::filesystem::path ReportSpool::PathOf(std::uint64_t sequence) const {
  char name[40];
  std::snprintf(name, sizeof(name), "report-%020" PRIu64 ".json", sequence);
  return directory_ / name;
}

Result<std::unique_ptr<ReportSpool>> ReportSpool::Open(std::filesystem::path directory, ReportSpoolOptions options) {
  if (options.max_reports == 0 || options.max_bytes < kMaxReportBytes) {
    return Error(ErrorCode::kInvalidArgument, "a spool holds at least one report of the maximum size");
  }
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec || !std::filesystem::is_directory(directory)) {
    return Error(ErrorCode::kIo, "cannot create the spool directory: " + ec.message()).WithSource(directory.string());
  }
  std::unique_ptr<ReportSpool> spool(new ReportSpool(std::move(directory), options));
  // dropped.count: the total on the first line (all an older version
  // wrote), then one "reason count" line per reason.
  if (auto count = ReadFileBounded(spool->directory_ / kDroppedFile, 64 * 1024)) {
    std::istringstream lines(std::string(count->begin(), count->end()));
    std::string line;
    if (std::getline(lines, line)) spool->dropped_ = std::strtoull(line.c_str(), nullptr, 10);
    std::uint64_t explained = 0;
    while (std::getline(lines, line)) {
      std::size_t space = line.find(' ');
      if (space == std::string::npos) continue;
      std::uint64_t n = std::strtoull(line.c_str() + space + 1, nullptr, 10);
      CountDroppedReports(spool->dropped_by_reason_, std::string_view(line).substr(0, space), n);
      explained += n;
    }
    if (spool->dropped_ > explained) CountDroppedReports(spool->dropped_by_reason_, "unrecorded", spool->dropped_ - explained);
    spool->dropped_ = std::max(spool->dropped_, explained);
  }
  std::uint64_t damaged = 0;
  for (const auto& entry : std::filesystem::directory_iterator(spool->directory_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.find(".tmp-") != std::string::npos) {  // an interrupted write: never accepted
      std::filesystem::remove(entry.path(), ec);
      continue;
    }
    std::uint64_t sequence = SequenceOf(name);
    if (sequence == 0) continue;
    auto body = ReadFileBounded(entry.path(), kMaxReportBytes);
    bool intact = body && IsWholeReportBody(*body);
    if (!intact) {
      std::filesystem::remove(entry.path(), ec);
      ++damaged;
      continue;
    }
    spool->sizes_[sequence] = body->size();
    spool->bytes_ += body->size();
    spool->next_sequence_ = std::max(spool->next_sequence_, sequence + 1);
  }
  if (damaged > 0) {
    std::lock_guard<std::mutex> lock(spool->mutex_);
    spool->dropped_ += damaged;
    CountDroppedReports(spool->dropped_by_reason_, "damaged", damaged);
    PINION_TRY(spool->SaveDroppedCount());
  }
  return spool;
}

Status ReportSpool::SaveDroppedCount() {
  std::string text = std::to_string(dropped_) + "\n";
  for (const auto& [reason, count] : dropped_by_reason_) text += reason + " " + std::to_string(count) + "\n";
  return WriteFileAtomically(directory_ / kDroppedFile, text);
}

Status ReportSpool::DeleteFile(std::uint64_t sequence, std::string_view reason) {
  auto it = sizes_.find(sequence);
  if (it == sizes_.end()) return OkStatus();
  std::error_code ec;
  std::filesystem::remove(PathOf(sequence), ec);
  if (ec) return Error(ErrorCode::kIo, "cannot drop a spooled report: " + ec.message()).WithSource(PathOf(sequence).string());
  bytes_ -= it->second;
  sizes_.erase(it);
  ++dropped_;
  CountDroppedReports(dropped_by_reason_, reason, 1);
  return SaveDroppedCount();
}

Status ReportSpool::DropOldest() { return DeleteFile(sizes_.begin()->first, "spool-full"); }

Status ReportSpool::Drop(std::uint64_t sequence, std::string_view reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  return DeleteFile(sequence, reason);
}

Result<std::uint64_t> ReportSpool::Add(FailureReport report) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string body = ReportToJson(report);
  auto too_large = [] {
    return Error(ErrorCode::kInputTooLarge, "report larger than " + std::to_string(kMaxReportBytes) + " bytes");
  };
  if (body.size() > kMaxReportBytes) return too_large();
  // Room first, so that this report already carries the drops it caused.
  while (!sizes_.empty() && (sizes_.size() >= options_.max_reports ||
                             bytes_ + body.size() + kReportDropCountReserve > options_.max_bytes)) {
    PINION_TRY(DropOldest());
  }
  report.dropped_reports += dropped_;
  for (const auto& [reason, count] : dropped_by_reason_) CountDroppedReports(report.dropped_by_reason, reason, count);
  body = ReportToJson(report);
  // BuildReport leaves kReportDropCountReserve bytes for these counts; a
  // report made some other way may not have.
  if (body.size() > kMaxReportBytes) return too_large();
  std::uint64_t sequence = next_sequence_++;
  PINION_TRY(WriteFileAtomically(PathOf(sequence), body, options_.on_write_step));
  sizes_[sequence] = body.size();
  bytes_ += body.size();
  return sequence;
}

std::vector<SpooledReport> ReportSpool::Oldest(std::size_t count) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<SpooledReport> out;
  for (auto it = sizes_.begin(); it != sizes_.end() && out.size() < count; ++it) {
    auto body = ReadFileBounded(PathOf(it->first), kMaxReportBytes);
    if (body) out.push_back({it->first, std::string(body->begin(), body->end())});
  }
  return out;
}

Status ReportSpool::Remove(std::uint64_t sequence) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sizes_.find(sequence);
  if (it == sizes_.end()) return OkStatus();
  std::error_code ec;
  std::filesystem::remove(PathOf(sequence), ec);
  if (ec) return Error(ErrorCode::kIo, "cannot remove a delivered report: " + ec.message());
  bytes_ -= it->second;
  sizes_.erase(it);
  return OkStatus();
}

std::size_t ReportSpool::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sizes_.size();
}

std::uint64_t ReportSpool::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

std::map<std::string, std::uint64_t> ReportSpool::dropped_by_reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_by_reason_;
}

}  // namespace pinion
