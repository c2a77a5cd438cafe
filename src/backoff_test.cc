#include "pinion/backoff.h"
#include <cmath>
#include <set>

#include <gtest/gtest.h>

namespace pinion {
namespace {

TEST(BackoffTest, DoublesFromMinUpToMaxWithinHalfToFullJitter) {
  std::mt19937_64 random(42);
  BackoffLimits limits{std::chrono::seconds(10), std::chrono::seconds(300)};
  for (int failures = 1; failures <= 70; ++failures) {
    double ceiling = std::min(10.0 * std::pow(2.0, std::min(failures, 62) - 1), 300.0);
    for (int round = 0; round < 50; ++round) {
      auto delay = BackoffDelay(limits, failures, random);
      EXPECT_GE(delay.count(), static_cast<std::int64_t>(std::floor(ceiling * 0.5))) << failures;
      EXPECT_LE(delay.count(), static_cast<std::int64_t>(std::ceil(ceiling))) << failures;
    }
  }
}

TEST(BackoffTest, SpreadsAFleetAndNeverWaitsLessThanASecond) {
  std::mt19937_64 random(7);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(BackoffDelay({std::chrono::seconds(100), std::chrono::seconds(100)}, 1, random).count());
  EXPECT_GT(seen.size(), 20u) << "the jitter spreads retries";
  EXPECT_EQ(BackoffDelay({std::chrono::seconds(0), std::chrono::seconds(0)}, 1, random), std::chrono::seconds(1));
  EXPECT_EQ(BackoffDelay({std::chrono::seconds(1), std::chrono::seconds(1)}, 0, random).count() >= 1, true);
}

}  // namespace
}  // namespace pinion
