#include "rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace pinion::collector {

bool ClientRateLimiter::Allow(const std::string& client, int* retry_after_seconds) {
  if (per_second_ <= 0) return true;
  TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> lock(mutex_);
  if (buckets_.size() >= max_clients_ && !buckets_.contains(client)) buckets_.clear();
  auto [it, inserted] = buckets_.try_emplace(client, Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!inserted && now > bucket.refilled_at) {
    double elapsed = std::chrono::duration<double>(now - bucket.refilled_at).count();
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed * per_second_);
    bucket.refilled_at = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return true;
  }
  if (retry_after_seconds != nullptr) {
    *retry_after_seconds = std::max(1, static_cast<int>(std::ceil((1.0 - bucket.tokens) / per_second_)));
  }
  return false;
}

}  // namespace pinion::collector
