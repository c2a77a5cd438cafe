// The collector's reader of failure reports. Clients build reports
// (pinion/report/report.h); only the collector reads them, so this reader and
// its simdjson dependency live here and no application links them.
#ifndef PINION_COLLECTOR_READER_REPORT_PARSE_H_
#define PINION_COLLECTOR_READER_REPORT_PARSE_H_

#include <string_view>

#include "pinion/report/report.h"
#include "pinion/result.h"

namespace pinion {

// ParseReport reads a pinion, RFC 7469 or TrustKit body (detected by its
// keys), validating types, sizes (kMaxReportBytes, chains, pins), UTF-8, the
// host name and dates. kPolicySyntax / kPolicySchema / kInputTooLarge, with the field.
Result<FailureReport> ParseReport(std::string_view json);

}  // namespace pinion

#endif  // PINION_COLLECTOR_READER_REPORT_PARSE_H_
