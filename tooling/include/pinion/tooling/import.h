// pinion/tooling/import.h — bring existing pin configurations into a pinion
// policy, losing nothing the policy can express and warning about the rest.
//
//   auto imported = pinion::tooling::ImportPolicy(text, ImportFormat::kAndroidNsc, {.source_name = path});
//   std::cout << pinion::PolicyToToml(*imported->policy);
#ifndef PINION_TOOLING_IMPORT_H_
#define PINION_TOOLING_IMPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/clock.h"
#include "pinion/policy.h"
#include "pinion/result.h"

namespace pinion::tooling {

enum class ImportFormat {
  kAndroidNsc,  // network_security_config.xml
  kHpkp,        // a Public-Key-Pins(-Report-Only) header (value or whole line); needs `host`
  kTrustKit,    // a plist with TSKConfiguration or TSKPinnedDomains
  kOkHttp,      // Kotlin/Java CertificatePinner.Builder().add(...) code
  kChromium,    // transport_security_state_static.json; needs `chromium_pins` (name → key)
};

std::vector<std::string_view> ImportFormatNames();  // "android-nsc", "hpkp", "trustkit", "okhttp", "chromium"
Result<ImportFormat> ParseImportFormat(std::string_view name);

inline constexpr std::size_t kMaxImportBytes = 16 * 1024 * 1024;

struct ImportOptions {
  std::string source_name = "input";
  std::uint64_t version = 1;            // the new policy's version
  TimePoint now = SystemClock::Instance().Now();  // HPKP max-age counts from here
  std::string host;                     // hpkp: the host that sent the header
  std::string chromium_pins;            // chromium: the pins file's text
};

struct ImportResult {
  PolicySnapshot policy;
  std::vector<std::string> warnings;
};

// ImportPolicy parses `text`. Errors (kPolicySyntax, kPolicySchema, kInputTooLarge …)
// name the input; a malformed pin inside an otherwise valid input is an error too.
Result<ImportResult> ImportPolicy(std::string_view text, ImportFormat format, const ImportOptions& options);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_IMPORT_H_
