#include "store/ingest_queue.h"

#include <algorithm>
#include <exception>
#include <future>
#include <string>
#include <vector>

namespace pinion::collector {

IngestQueue::IngestQueue(ReportStore& store, IngestQueueOptions options)
    : store_(store), options_(options), writer_([this] { WriterLoop(); }) {}

IngestQueue::~IngestQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_.notify_all();
  writer_.join();
}

Status IngestQueue::SubmitAsync(IncomingReport report, IngestCompletion done) {
  Ticket ticket{ReportStore::Prepare(report), std::move(done)};
  std::lock_guard<std::mutex> lock(mutex_);
  if (stop_) return Error(ErrorCode::kDatabase, "the collector is shutting down");
  if (waiting_.size() >= options_.max_waiting) {
    return Error(ErrorCode::kInputTooLarge, "too many reports waiting for the database");
  }
  waiting_.push_back(std::move(ticket));
  // Only a report arriving at an empty queue can find the writer asleep.
  if (waiting_.size() == 1) work_.notify_one();
  return OkStatus();
}

Result<IngestOutcome> IngestQueue::Submit(IncomingReport report) {
  std::promise<Result<IngestOutcome>> outcome;
  auto future = outcome.get_future();
  PINION_TRY(SubmitAsync(std::move(report), [&outcome](Result<IngestOutcome> id) { outcome.set_value(std::move(id)); }));
  return future.get();
}

void IngestQueue::WriterLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_.wait(lock, [this] { return stop_ || !waiting_.empty(); });
    if (waiting_.empty()) return;
    std::vector<Ticket> batch;
    while (!waiting_.empty() && batch.size() < options_.max_batch) {
      batch.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
    }
    lock.unlock();
    // A throw must not end the writer: every later report would wait forever.
    Result<std::vector<IngestOutcome>> ids = [&]() -> Result<std::vector<IngestOutcome>> {
      try {
        std::vector<PreparedReport> rows;
        rows.reserve(batch.size());
        for (Ticket& ticket : batch) rows.push_back(std::move(ticket.report));
        return store_.InsertPrepared(rows);
      } catch (const std::exception& e) {
        return Error(ErrorCode::kDatabase, std::string("storing the batch failed: ") + e.what());
      }
    }();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch[i].done(ids ? Result<IngestOutcome>((*ids)[i]) : Result<IngestOutcome>(ids.error()));
    }
    lock.lock();
    ++batches_;
    if (ids) committed_ += static_cast<std::uint64_t>(std::count_if(ids->begin(), ids->end(), [](const auto& id) { return id.has_value(); }));
  }
}

std::uint64_t IngestQueue::batches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return batches_;
}

std::uint64_t IngestQueue::committed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return committed_;
}

}  // namespace pinion::collector
