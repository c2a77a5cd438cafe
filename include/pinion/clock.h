// pinion/clock.h — every read of the time goes through a Clock, so expiry,
// rate limits and kill switches are tested by setting the time, not sleeping.
//
//   pinion::FixedClock clock(*pinion::ParseTimestamp("2027-06-02"));
//   pinion::Verdict v = pinion::Evaluate(policy, host, 443, chain, clock.Now());
#ifndef PINION_CLOCK_H_
#define PINION_CLOCK_H_

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "pinion/result.h"

namespace pinion {

using TimePoint = std::chrono::sys_seconds;

// Clock is the time source. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// SystemClock reads the real UTC time.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  }
  // Instance returns a process-wide SystemClock.
  static const SystemClock& Instance() {
    static const SystemClock kClock;
    return kClock;
  }
};

// FixedClock returns a time the test sets.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint now) : now_(now.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(std::chrono::seconds(now_.load())); }
  void Set(TimePoint now) { now_ = now.time_since_epoch().count(); }
  void Advance(std::chrono::seconds by) { now_ += by.count(); }

 private:
  std::atomic<std::int64_t> now_;
};

// ParseTimestamp reads "YYYY-MM-DD" (midnight UTC) or RFC 3339
// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" ('T' may be a space);
// a time without an offset is refused as ambiguous. kPolicyDate on failure.
Result<TimePoint> ParseTimestamp(std::string_view text);
// FormatUtc writes RFC 3339 in UTC, "2026-11-21T17:00:00Z", always with four
// year digits, so ParseTimestamp reads back every time it writes.
std::string FormatUtc(std::chrono::sys_seconds time);

// ParseDuration reads a whole number of days, hours, minutes or seconds:
// "30d", "12h", "90m", "45s" (at most 11 digits; kInvalidArgument otherwise).
Result<std::chrono::seconds> ParseDuration(std::string_view text);

}  // namespace pinion

#endif  // PINION_CLOCK_H_
