// collector/store/ingest_queue.h — group commit: many requests, one writer.
//
// A request hands its report to SubmitAsync, which turns it into its row on
// the calling thread (ReportStore::Prepare, compression included) and queues
// it. The writer thread takes everything waiting (up to `max_batch`), inserts
// it in one transaction, and then runs each report's completion with its id.
// Every report passes through the one writer, so it does nothing but SQL:
// with compression there, the writer limited ingestion (docs/BENCHMARKS.md). One
// durable commit (one fsync) covers a whole batch, which is how ingestion
// keeps up with thousands of reports per second while still answering 202
// only after the report is on disk.
#ifndef PINION_COLLECTOR_STORE_INGEST_QUEUE_H_
#define PINION_COLLECTOR_STORE_INGEST_QUEUE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "pinion/result.h"
#include "store/report_store.h"

namespace pinion::collector {

struct IngestQueueOptions {
  std::size_t max_batch = 1024;
  std::size_t max_waiting = 8192;  // beyond this, submissions are refused at once (HTTP 503)
};

// IngestOutcome is the stored report's id; nullopt when the report was not
// stored because the store's quota (ReportStoreOptions::max_bytes) is reached.
using IngestOutcome = std::optional<std::int64_t>;
// IngestCompletion receives the outcome, or kDatabase when the store failed.
// It runs on the writer thread: it must be quick.
using IngestCompletion = std::function<void(Result<IngestOutcome>)>;

class IngestQueue {
 public:
  IngestQueue(ReportStore& store, IngestQueueOptions options = {});
  ~IngestQueue();  // commits what is waiting (running its completions), then stops

  // SubmitAsync prepares and queues `report` and returns; `done` runs after
  // the commit. Refused at once, without calling `done`: kDatabase while shutting
  // down, kInputTooLarge when too many reports are waiting.
  Status SubmitAsync(IncomingReport report, IngestCompletion done);
  // Submit is the blocking form: the outcome once committed, or the error.
  Result<IngestOutcome> Submit(IncomingReport report);

  std::uint64_t batches() const;
  std::uint64_t committed() const;

 private:
  struct Ticket {
    PreparedReport report;
    IngestCompletion done;
  };
  void WriterLoop();

  ReportStore& store_;
  IngestQueueOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::deque<Ticket> waiting_;
  bool stop_ = false;
  std::uint64_t batches_ = 0;
  std::uint64_t committed_ = 0;
  std::thread writer_;
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_STORE_INGEST_QUEUE_H_
