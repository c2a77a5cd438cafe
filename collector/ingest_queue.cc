#include "ingest_queue.h"

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

Result<std::int64_t> IngestQueue::Submit(const IncomingReport& report) {
  Ticket ticket;
  ticket.report = ReportStore::Prepare(report);
  std::unique_lock<std::mutex> lock(mutex_);
  if (stop_) return Error(ErrorCode::kDatabase, "the collector is shutting down");
  if (waiting_.size() >= options_.max_waiting) {
    return Error(ErrorCode::kInputTooLarge, "too many reports waiting for the database");
  }
  waiting_.push_back(&ticket);
  work_.notify_one();
  ticket.finished.wait(lock, [&] { return ticket.done; });
  if (ticket.error) return *ticket.error;
  return ticket.id;
}

void IngestQueue::WriterLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_.wait(lock, [this] { return stop_ || !waiting_.empty(); });
    if (waiting_.empty()) return;
    std::vector<Ticket*> batch;
    while (!waiting_.empty() && batch.size() < options_.max_batch) {
      batch.push_back(waiting_.front());
      waiting_.pop_front();
    }
    lock.unlock();
    std::vector<PreparedReport> reports;
    reports.reserve(batch.size());
    // Submitters wait (and do not touch their report) until `done`.
    for (Ticket* ticket : batch) reports.push_back(std::move(ticket->report));
    auto ids = store_.InsertPrepared(reports);
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (ids) {
        batch[i]->id = (*ids)[i];
      } else {
        batch[i]->error = ids.error();
      }
      batch[i]->done = true;
      batch[i]->finished.notify_one();
    }
    ++batches_;
    if (ids) committed_ += batch.size();
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
