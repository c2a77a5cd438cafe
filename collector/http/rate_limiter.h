// collector/http/rate_limiter.h — per-client token buckets (pinion/token_bucket.h)
// on the injected clock.
#ifndef PINION_COLLECTOR_HTTP_RATE_LIMITER_H_
#define PINION_COLLECTOR_HTTP_RATE_LIMITER_H_

#include <chrono>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pinion/clock.h"
#include "pinion/token_bucket.h"

namespace pinion::collector {

// RateLimitKey is the bucket a remote address counts against: an IPv4
// address as itself, an IPv4-mapped IPv6 address as its IPv4 address, any
// other IPv6 address as its /64 ("2001:db8:1:2::/64"). One host is normally
// given a whole /64, so keying on the exact address would let it rotate
// through 2^64 fresh buckets. Text that is not an address keys as itself.
std::string RateLimitKey(std::string_view address);

// ClientRateLimiter allows each client (RateLimitKey of its address) `burst`
// requests at once, refilled at `per_second`. A rate of 0 disables it. The
// table holds at most `max_clients` buckets: a new client beyond that evicts
// the least recently seen one, so a flood of source addresses costs bounded
// memory and never hands the clients that are active a fresh bucket.
// Thread-safe.
class ClientRateLimiter {
 public:
  ClientRateLimiter(double per_second, double burst, const Clock& clock, std::size_t max_clients = 100000)
      : rate_{.per_second = per_second, .burst = burst},
        clock_(clock),
        max_clients_(max_clients < 1 ? 1 : max_clients) {}

  // Allow takes a token for `client` (an address); false (and the seconds to
  // wait) when none is left.
  bool Allow(std::string_view client, int* retry_after_seconds = nullptr);

  // size is the number of buckets held (at most max_clients).
  std::size_t size() const;

 private:
  struct Bucket {
    std::string key;
    TokenBucket tokens;
  };
  using Recency = std::list<Bucket>;  // most recently seen first

  TokenRate rate_;
  const Clock& clock_;
  std::size_t max_clients_;
  mutable std::mutex mutex_;
  Recency recency_;                                              // guarded by mutex_
  std::unordered_map<std::string, Recency::iterator> buckets_;  // guarded by mutex_; key → its bucket
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_RATE_LIMITER_H_
