// The per-client rate limit on an injected clock: which addresses share a
// bucket, and what a full table evicts.
#include "http/rate_limiter.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace pinion::collector {
namespace {

const TimePoint kNow = *ParseTimestamp("2026-11-21T12:00:00Z");

TEST(CollectorRateLimiterTest, KeysIpv6ByItsSlash64AndMappedIpv4AsIpv4) {
  EXPECT_EQ(RateLimitKey("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(RateLimitKey("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(RateLimitKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(RateLimitKey("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(RateLimitKey("2001:db8:1:3::1"), "2001:db8:1:3::/64");
  EXPECT_EQ(RateLimitKey("::1"), "::/64");
  EXPECT_EQ(RateLimitKey("fe80::1%eth0"), "fe80::/64");
  EXPECT_EQ(RateLimitKey("not an address"), "not an address");
}

TEST(CollectorRateLimiterTest, AddressesInOneSlash64ShareABucket) {
  FixedClock clock(kNow);
  ClientRateLimiter limiter(/*per_second=*/1, /*burst=*/2, clock);
  EXPECT_TRUE(limiter.Allow("2001:db8:0:1::1"));
  EXPECT_TRUE(limiter.Allow("2001:db8:0:1:ffff:ffff:ffff:ffff"));
  int retry_after = 0;
  EXPECT_FALSE(limiter.Allow("2001:db8:0:1::2", &retry_after));  // a fresh address in the same /64
  EXPECT_EQ(retry_after, 1);
  EXPECT_TRUE(limiter.Allow("2001:db8:0:2::1"));  // the next /64 has its own bucket
  EXPECT_TRUE(limiter.Allow("2001:db8:0:2::1"));
  EXPECT_FALSE(limiter.Allow("2001:db8:0:2::1"));
  EXPECT_EQ(limiter.size(), 2u);

  // IPv4 over an IPv6 socket is the same client as over IPv4.
  EXPECT_TRUE(limiter.Allow("198.51.100.1"));
  EXPECT_TRUE(limiter.Allow("::ffff:198.51.100.1"));
  EXPECT_FALSE(limiter.Allow("198.51.100.1"));
  EXPECT_TRUE(limiter.Allow("198.51.100.2"));  // IPv4 addresses are not grouped

  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(limiter.Allow("2001:db8:0:1::3"));
  EXPECT_FALSE(limiter.Allow("2001:db8:0:1::4"));
}

TEST(CollectorRateLimiterTest, EvictsTheLeastRecentlySeenClientOnly) {
  FixedClock clock(kNow);  // never moves: an emptied bucket stays empty unless it is dropped
  ClientRateLimiter limiter(/*per_second=*/1, /*burst=*/1, clock, /*max_clients=*/3);
  EXPECT_TRUE(limiter.Allow("192.0.2.1"));   // the active client empties its bucket
  EXPECT_TRUE(limiter.Allow("192.0.2.2"));
  EXPECT_TRUE(limiter.Allow("192.0.2.3"));
  EXPECT_FALSE(limiter.Allow("192.0.2.1"));  // seen again: now the most recent
  EXPECT_EQ(limiter.size(), 3u);

  EXPECT_TRUE(limiter.Allow("192.0.2.4"));   // a new client: evicts .2, the least recently seen
  EXPECT_EQ(limiter.size(), 3u);
  EXPECT_FALSE(limiter.Allow("192.0.2.1"));  // kept its empty bucket
  EXPECT_FALSE(limiter.Allow("192.0.2.4"));
  EXPECT_TRUE(limiter.Allow("192.0.2.2"));   // evicted, so new again (and now .3 goes)
  EXPECT_FALSE(limiter.Allow("192.0.2.1"));
  EXPECT_TRUE(limiter.Allow("192.0.2.3"));   // .3 was evicted by .2's return; .4 by .3's
  EXPECT_FALSE(limiter.Allow("192.0.2.1"));
  EXPECT_EQ(limiter.size(), 3u);
}

// A flood of fresh addresses costs at most max_clients buckets and never
// refills the bucket of a client that keeps sending.
TEST(CollectorRateLimiterTest, AFloodOfAddressesNeverRefillsAnActiveClient) {
  FixedClock clock(kNow);
  ClientRateLimiter limiter(/*per_second=*/1, /*burst=*/1, clock, /*max_clients=*/100);
  EXPECT_TRUE(limiter.Allow("2001:db8::1"));
  for (int i = 0; i < 1000; ++i) {
    char address[64];
    std::snprintf(address, sizeof(address), "2001:db8:%x:%x::1", i / 65536 + 1, i % 65536);
    EXPECT_TRUE(limiter.Allow(address)) << address;
    if (i % 50 == 0) {
      EXPECT_FALSE(limiter.Allow("2001:db8::99")) << i;  // same /64 as ::1, still empty
    }
  }
  EXPECT_EQ(limiter.size(), 100u);
}

TEST(CollectorRateLimiterTest, ARateOfZeroAllowsEverything) {
  FixedClock clock(kNow);
  ClientRateLimiter limiter(0, 1, clock);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Allow("192.0.2.1"));
  EXPECT_EQ(limiter.size(), 0u);
}

}  // namespace
}  // namespace pinion::collector
