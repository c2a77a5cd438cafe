// pinion/policy_store.h — the active policy, swapped atomically.
//
//   pinion::PolicyStore store(initial);
//   store.Swap(next);                   // never waits for running handshakes
//   pinion::PolicySnapshot p = store.Current();
//
// Readers take a snapshot (a shared_ptr copy) and keep using it even if a
// writer swaps in a newer one meanwhile; the old snapshot is freed when its
// last reader lets go.
#ifndef PINION_POLICY_STORE_H_
#define PINION_POLICY_STORE_H_

#include <memory>
#include <mutex>

#include "pinion/policy.h"

namespace pinion {

class PolicyStore {
 public:
  explicit PolicyStore(PolicySnapshot initial = nullptr) : current_(std::move(initial)) {}

  // Current returns the active snapshot (null = nothing pinned).
  PolicySnapshot Current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return current_;
  }
  // Swap installs `next` and returns the previous snapshot. Decisions cached
  // by adapters (resumed sessions) hold the snapshot they were made with and
  // stay valid only while it is still the current one.
  PolicySnapshot Swap(PolicySnapshot next) {
    std::lock_guard<std::mutex> lock(mutex_);
    current_.swap(next);
    return next;  // the previous snapshot; freed outside the lock by the caller
  }

 private:
  // The lock covers only a pointer copy, never an evaluation. (libstdc++ 12's
  // std::atomic<std::shared_ptr> releases its internal lock with a relaxed
  // store in load(), a data race ThreadSanitizer reports.)
  mutable std::mutex mutex_;
  PolicySnapshot current_;
};

}  // namespace pinion

#endif  // PINION_POLICY_STORE_H_
