// collector/rate_limiter.h — per-client token buckets on the injected clock.
#ifndef PINION_COLLECTOR_RATE_LIMITER_H_
#define PINION_COLLECTOR_RATE_LIMITER_H_

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "pinion/clock.h"

namespace pinion::collector {

// ClientRateLimiter allows each client `burst` requests at once, refilled at
// `per_second`. A rate of 0 disables it. The table is bounded: past
// `max_clients` it is cleared (everyone gets a full bucket), so a flood of
// source addresses costs memory of at most `max_clients` entries.
class ClientRateLimiter {
 public:
  ClientRateLimiter(double per_second, double burst, const Clock& clock, std::size_t max_clients = 100000)
      : per_second_(per_second), burst_(burst), clock_(clock), max_clients_(max_clients) {}

  // Allow takes a token for `client`; false (and the seconds to wait) when none is left.
  bool Allow(const std::string& client, int* retry_after_seconds = nullptr);

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint refilled_at;
  };
  double per_second_;
  double burst_;
  const Clock& clock_;
  std::size_t max_clients_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_RATE_LIMITER_H_
