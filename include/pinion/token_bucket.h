// pinion/token_bucket.h — the one token bucket: `burst` tokens at most,
// refilled continuously at a rate, on the times the caller passes (an
// injected clock), so rate limits are tested without sleeping. Used by the
// reporter (reports per host and hour) and the collector (requests per client).
#ifndef PINION_TOKEN_BUCKET_H_
#define PINION_TOKEN_BUCKET_H_

#include "pinion/clock.h"

namespace pinion {

struct TokenRate {
  double per_second = 0;
  double burst = 1;
};

class TokenBucket {
 public:
  // A new bucket is full.
  TokenBucket(const TokenRate& rate, TimePoint now) : tokens_(rate.burst), refilled_at_(now) {}

  // TryTake refills for the time since the last call, then takes one token if
  // there is one. A clock that went backwards refills nothing.
  bool TryTake(const TokenRate& rate, TimePoint now);
  // SecondsUntilToken: how long until the next token (0 when one is there).
  double SecondsUntilToken(const TokenRate& rate) const;

 private:
  double tokens_;
  TimePoint refilled_at_;
};

}  // namespace pinion

#endif  // PINION_TOKEN_BUCKET_H_
