// pinion/backoff.h — exponential backoff with jitter, the one rule every
// retrying loop uses (manifest updates, report uploads): after the n-th
// consecutive failure wait min·2^(n-1), capped at max, times a random factor
// in [0.5, 1] so that a fleet that lost its server does not return in lock
// step; never less than one second.
#ifndef PINION_BACKOFF_H_
#define PINION_BACKOFF_H_

#include <chrono>
#include <random>

namespace pinion {

struct BackoffLimits {
  std::chrono::seconds min{60};
  std::chrono::seconds max{3600};
};

// BackoffDelay: the wait after `failures` (>= 1) consecutive failures.
std::chrono::seconds BackoffDelay(const BackoffLimits& limits, int failures, std::mt19937_64& random);

}  // namespace pinion

#endif  // PINION_BACKOFF_H_
