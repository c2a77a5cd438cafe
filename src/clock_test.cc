// Durations and UTC times: what the CLI's --expires-in/--retain flags and
// every written date go through (pinion/clock.h).
#include "pinion/clock.h"

#include <gtest/gtest.h>

namespace pinion {
namespace {

TEST(ClockTest, ParseDurationReadsOneWholeNumberAndOneUnit) {
  EXPECT_EQ(*ParseDuration("30d"), std::chrono::hours(24 * 30));
  EXPECT_EQ(*ParseDuration("12h"), std::chrono::hours(12));
  EXPECT_EQ(*ParseDuration("90m"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseDuration("0s"), std::chrono::seconds(0));
  EXPECT_EQ(*ParseDuration("99999999999s"), std::chrono::seconds(99999999999));
  for (std::string_view bad : {"", "d", "30", "30 d", "-1d", "1.5h", "30D", "1w", "999999999999s", "+3d"}) {
    auto parsed = ParseDuration(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(ClockTest, FormatUtcAlwaysReadsBack) {
  for (std::string_view text : {"2026-11-21T17:00:00Z", "0425-01-02T03:04:05Z", "9999-12-31T23:59:59Z"}) {
    auto time = ParseTimestamp(text);
    ASSERT_TRUE(time.ok()) << text;
    EXPECT_EQ(FormatUtc(*time), text);
  }
}

}  // namespace
}  // namespace pinion
