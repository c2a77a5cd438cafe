// collector/http/query_params.h — typed query parameters of the read routes,
// refused with kInvalidArgument naming the parameter as the error's field
// (answered 400 with that field).
#ifndef PINION_COLLECTOR_HTTP_QUERY_PARAMS_H_
#define PINION_COLLECTOR_HTTP_QUERY_PARAMS_H_

#include <cstdint>
#include <optional>

#include "http/message.h"
#include "pinion/clock.h"
#include "pinion/result.h"

namespace pinion::collector {

// TimeParam reads `name` as an RFC 3339 time or a YYYY-MM-DD date; nullopt
// when the request does not give it.
Result<std::optional<TimePoint>> TimeParam(const HttpRequest& request, const char* name);

// IntegerParam reads `name` as a decimal integer from `min` to `max`;
// `fallback` when the request does not give it.
Result<std::int64_t> IntegerParam(const HttpRequest& request, const char* name,
                                  std::int64_t fallback, std::int64_t min, std::int64_t max);

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_QUERY_PARAMS_H_
