#include "pinion/clock.h"

#include <cstdio>
#include <ctime>
#include <string>

namespace pinion {
namespace {

// Reads exactly `digits` decimal digits at `pos`.
bool ReadNumber(std::string_view text, std::size_t pos, std::size_t digits, int& out) {
  if (pos + digits > text.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

Error DateError(std::string_view text, std::string reason) {
  return Error(ErrorCode::kPolicyDate, "'" + std::string(text) + "': " + reason);
}

}  // namespace

Result<TimePoint> ParseTimestamp(std::string_view text) {
  using namespace std::chrono;
  int y, m, d;
  if (!ReadNumber(text, 0, 4, y) || text.size() < 10 || text[4] != '-' ||
      !ReadNumber(text, 5, 2, m) || text[7] != '-' || !ReadNumber(text, 8, 2, d)) {
    return DateError(text, "expected YYYY-MM-DD or an RFC 3339 date-time");
  }
  year_month_day date{year(y), month(static_cast<unsigned>(m)), day(static_cast<unsigned>(d))};
  if (!date.ok()) return DateError(text, "no such calendar date");
  TimePoint result = sys_days(date);
  if (text.size() == 10) return result;

  int hh, mm, ss;
  if ((text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !ReadNumber(text, 11, 2, hh) ||
      text.size() < 19 || text[13] != ':' || !ReadNumber(text, 14, 2, mm) || text[16] != ':' ||
      !ReadNumber(text, 17, 2, ss)) {
    return DateError(text, "expected a time as HH:MM:SS after the date");
  }
  if (hh > 23 || mm > 59 || ss > 60) return DateError(text, "time out of range");
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return DateError(text, "empty fraction of a second");
  }
  if (pos == text.size()) {
    return DateError(text, "no UTC offset; add 'Z' or '+HH:MM' so the instant is unambiguous");
  }
  int offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int oh, om;
    if (!ReadNumber(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadNumber(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return DateError(text, "malformed UTC offset");
    }
    offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return DateError(text, "unexpected character after the time");
  }
  if (pos != text.size()) return DateError(text, "trailing characters");
  // ss == 60 (a leap second) lands on the next second, as POSIX time does.
  return result + hours(hh) + minutes(mm) + seconds(ss) - minutes(offset_minutes);
}

std::string FormatUtc(std::chrono::sys_seconds time) {
  std::time_t seconds = time.time_since_epoch().count();
  struct tm parts = {};
  gmtime_r(&seconds, &parts);
  // Always four year digits (strftime's %Y gives "425" for year 425), so
  // every time written can be parsed back by ParseTimestamp.
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
  return buffer;
}

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Error(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' is not a duration like 30d, 12h, 90m or 45s");
  };
  if (text.size() < 2 || text.size() > 12) return bad();
  std::int64_t value = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return bad();
    value = value * 10 + (c - '0');
  }
  switch (text.back()) {
    case 'd': return std::chrono::seconds(value * 86400);
    case 'h': return std::chrono::seconds(value * 3600);
    case 'm': return std::chrono::seconds(value * 60);
    case 's': return std::chrono::seconds(value);
    default: return bad();
  }
}

}  // namespace pinion
