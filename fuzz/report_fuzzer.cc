// Fuzzes the failure-report parser (pinion, RFC 7469 and TrustKit bodies).
// Oracle: a parsed report written back as a pinion body parses to the same
// host, port, pins and fingerprint.
#include <string_view>

#include "fuzz_targets.h"
#include "pinion/report/report.h"
#include "report_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto report = pinion::ParseReport(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!report) return 0;
  auto again = pinion::ParseReport(pinion::ReportToJson(*report));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->hostname == report->hostname && again->port == report->port);
  FUZZ_CHECK(again->known_pins == report->known_pins);
  FUZZ_CHECK(again->validated_chain_pins == report->validated_chain_pins);
  FUZZ_CHECK(again->Fingerprint() == report->Fingerprint());
  return 0;
}
