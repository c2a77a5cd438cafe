#include "http/query_params.h"

#include <charconv>
#include <string>

namespace pinion::collector {

Result<std::optional<TimePoint>> TimeParam(const HttpRequest& request, const char* name) {
  if (!request.HasParam(name)) return std::optional<TimePoint>();
  auto time = ParseTimestamp(request.Param(name));
  if (!time)
    return Error(ErrorCode::kInvalidArgument, std::string(name) + " must be an RFC 3339 time")
        .WithField(name);
  return std::optional<TimePoint>(*time);
}

Result<std::int64_t> IntegerParam(const HttpRequest& request, const char* name,
                                  std::int64_t fallback, std::int64_t min, std::int64_t max) {
  if (!request.HasParam(name)) return fallback;
  const std::string text = request.Param(name);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return Error(ErrorCode::kInvalidArgument, std::string(name) + " must be an integer from " +
                                                  std::to_string(min) + " to " +
                                                  std::to_string(max))
        .WithField(name);
  }
  return value;
}

}  // namespace pinion::collector
