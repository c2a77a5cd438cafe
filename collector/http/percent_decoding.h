// Percent-decoding of request targets and query strings (RFC 3986 §2.1),
// the collector's own so that it does not link libcurl for it.
#ifndef PINION_COLLECTOR_HTTP_PERCENT_DECODING_H_
#define PINION_COLLECTOR_HTTP_PERCENT_DECODING_H_

#include <map>
#include <string>
#include <string_view>

namespace pinion::collector {

// PercentDecode turns each "%XX" (two hex digits, either case) into its byte;
// a '%' not followed by two hex digits stays as it is, as in curl and
// browsers. With `plus_is_space` (query strings, HTML forms) '+' is a space.
// The result is bytes: callers that need text validate it themselves.
std::string PercentDecode(std::string_view text, bool plus_is_space);

// ParseQuery splits "a=1&b=two" into decoded names and values; empty pairs
// are skipped, a name without '=' has an empty value, and the first of
// repeated names counts.
std::map<std::string, std::string> ParseQuery(std::string_view query);

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_PERCENT_DECODING_H_
