// collector/ingest_queue.h — group commit: many request threads, one writer.
//
// Each request thread hands its parsed report to Submit and waits; the writer
// thread takes everything waiting (up to `max_batch`), inserts it in one
// transaction, and wakes the submitters with the outcome. One durable commit
// (one fsync) then covers a whole batch, which is how ingestion keeps up with
// thousands of reports per second while still answering 202 only after the
// report is on disk.
#ifndef PINION_COLLECTOR_INGEST_QUEUE_H_
#define PINION_COLLECTOR_INGEST_QUEUE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "pinion/result.h"
#include "report_store.h"

namespace pinion::collector {

struct IngestQueueOptions {
  std::size_t max_batch = 1024;
  std::size_t max_waiting = 8192;  // beyond this Submit refuses at once (the HTTP layer answers 503)
};

class IngestQueue {
 public:
  IngestQueue(ReportStore& store, IngestQueueOptions options = {});
  ~IngestQueue();  // commits what is waiting, then stops

  // Submit blocks until `report` is committed (its id) or refused: kDatabase
  // when the store failed, kInputTooLarge when too many reports are waiting.
  // The row is prepared (ReportStore::Prepare) on the calling thread.
  Result<std::int64_t> Submit(const IncomingReport& report);

  std::uint64_t batches() const;
  std::uint64_t committed() const;

 private:
  struct Ticket {
    PreparedReport report;
    std::condition_variable finished;  // one per ticket: a commit wakes only its own submitters
    bool done = false;
    std::optional<Error> error;
    std::int64_t id = 0;
  };
  void WriterLoop();

  ReportStore& store_;
  IngestQueueOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::deque<Ticket*> waiting_;
  bool stop_ = false;
  std::uint64_t batches_ = 0;
  std::uint64_t committed_ = 0;
  std::thread writer_;
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_INGEST_QUEUE_H_
