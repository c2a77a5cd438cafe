#include "http/rate_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pinion::collector {

std::string RateLimitKey(std::string_view address) {
  // A scope ("fe80::1%eth0") names the interface, not a different host.
  std::string text(address.substr(0, address.find('%')));
  unsigned char bytes[16] = {};
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return text;
  if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) return std::string(address);
  char out[INET6_ADDRSTRLEN] = {};
  static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
    inet_ntop(AF_INET, bytes + 12, out, sizeof(out));
    return out;
  }
  std::memset(bytes + 8, 0, 8);
  inet_ntop(AF_INET6, bytes, out, sizeof(out));
  return std::string(out) + "/64";
}

bool ClientRateLimiter::Allow(std::string_view client, int* retry_after_seconds) {
  if (rate_.per_second <= 0) return true;
  std::string key = RateLimitKey(client);
  TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = buckets_.find(key);
  if (found == buckets_.end()) {
    if (buckets_.size() >= max_clients_) {
      buckets_.erase(recency_.back().key);
      recency_.pop_back();
    }
    recency_.push_front(Bucket{key, TokenBucket(rate_, now)});
    found = buckets_.emplace(std::move(key), recency_.begin()).first;
  } else {
    recency_.splice(recency_.begin(), recency_, found->second);  // iterators stay valid
  }
  TokenBucket& bucket = found->second->tokens;
  if (bucket.TryTake(rate_, now)) return true;
  if (retry_after_seconds != nullptr) {
    *retry_after_seconds = std::max(1, static_cast<int>(std::ceil(bucket.SecondsUntilToken(rate_))));
  }
  return false;
}

std::size_t ClientRateLimiter::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return buckets_.size();
}

}  // namespace pinion::collector
