// pinion/policy_store.h — the active policy, swapped atomically.
//
//   pinion::PolicyStore store(initial);
//   store.Swap(next);                   // never blocks running handshakes
//   pinion::PolicySnapshot p = store.Current();
//
// Readers take a snapshot (a shared_ptr copy) and keep using it even if a
// writer swaps in a newer one meanwhile; the old snapshot is freed when its
// last reader lets go.
#ifndef PINION_POLICY_STORE_H_
#define PINION_POLICY_STORE_H_

#include <atomic>
#include <memory>

#include "pinion/policy.h"

namespace pinion {

class PolicyStore {
 public:
  explicit PolicyStore(PolicySnapshot initial = nullptr) : current_(std::move(initial)) {}

  // Current returns the active snapshot (null = nothing pinned).
  PolicySnapshot Current() const { return current_.load(std::memory_order_acquire); }
  // Swap installs `next` and returns the previous snapshot. Decisions cached
  // by adapters (resumed sessions) hold the snapshot they were made with and
  // stay valid only while it is still the current one.
  PolicySnapshot Swap(PolicySnapshot next) {
    return current_.exchange(std::move(next), std::memory_order_acq_rel);
  }

 private:
  std::atomic<PolicySnapshot> current_;
};

}  // namespace pinion

#endif  // PINION_POLICY_STORE_H_
