#include "pinion/token_bucket.h"

#include <gtest/gtest.h>

namespace pinion {
namespace {

const TimePoint kStart = *ParseTimestamp("2026-11-21T12:00:00Z");

TEST(TokenBucketTest, StartsFullRefillsAtTheRateAndNeverPastTheBurst) {
  TokenRate rate{.per_second = 0.5, .burst = 3};
  TokenBucket bucket(rate, kStart);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryTake(rate, kStart)) << i;
  EXPECT_FALSE(bucket.TryTake(rate, kStart));
  EXPECT_DOUBLE_EQ(bucket.SecondsUntilToken(rate), 2.0);
  EXPECT_FALSE(bucket.TryTake(rate, kStart + std::chrono::seconds(1)));  // half a token
  EXPECT_TRUE(bucket.TryTake(rate, kStart + std::chrono::seconds(2)));
  // A long pause refills to the burst, not beyond.
  TimePoint later = kStart + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryTake(rate, later)) << i;
  EXPECT_FALSE(bucket.TryTake(rate, later));
}

TEST(TokenBucketTest, AClockGoingBackwardsRefillsNothing) {
  TokenRate rate{.per_second = 1, .burst = 1};
  TokenBucket bucket(rate, kStart);
  EXPECT_TRUE(bucket.TryTake(rate, kStart));
  EXPECT_FALSE(bucket.TryTake(rate, kStart - std::chrono::hours(5)));
  EXPECT_FALSE(bucket.TryTake(rate, kStart));
  EXPECT_TRUE(bucket.TryTake(rate, kStart + std::chrono::seconds(1)));
}

}  // namespace
}  // namespace pinion
