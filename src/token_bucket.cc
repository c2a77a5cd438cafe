#include "pinion/token_bucket.h"

#include <algorithm>

namespace pinion {

bool TokenBucket::TryTake(const TokenRate& rate, TimePoint now) {
  if (now > refilled_at_) {
    double elapsed = std::chrono::duration<double>(now - refilled_at_).count();
    tokens_ = std::min(rate.burst, tokens_ + elapsed * rate.per_second);
    refilled_at_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

double TokenBucket::SecondsUntilToken(const TokenRate& rate) const {
  if (tokens_ >= 1.0) return 0;
  return rate.per_second > 0 ? (1.0 - tokens_) / rate.per_second : 1e18;
}

}  // namespace pinion
