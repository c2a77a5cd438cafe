#include "pinion/backoff.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace pinion {

std::chrono::seconds BackoffDelay(const BackoffLimits& limits, int failures, std::mt19937_64& random) {
  int doublings = std::clamp(failures, 1, 62) - 1;  // 2^61 s already exceeds any cap
  double delay = static_cast<double>(limits.min.count()) * std::pow(2.0, doublings);
  delay = std::min(delay, static_cast<double>(limits.max.count()));
  delay *= 0.5 + 0.5 * std::uniform_real_distribution<double>(0.0, 1.0)(random);
  return std::chrono::seconds(std::max<std::int64_t>(1, std::llround(delay)));
}

}  // namespace pinion
