// pinion/tooling/export.h — one policy, every platform.
//
//   auto out = pinion::tooling::ExportPolicy(*policy, pinion::tooling::ExportFormat::kAndroidNsc, {});
//   for (const auto& w : out->warnings) std::cerr << "warning: " << w << "\n";
//   std::cout << out->text;
//
// Every output opens with a comment carrying the policy version, each domain's
// expiry and each pin's label. Whatever a target cannot express (expiry,
// report-only, one-label wildcards, certificate or SHA-384 pins, anchors …) is
// said in `warnings` rather than silently dropped; a domain that cannot be
// exported safely (e.g. report-only where the target can only enforce) is left
// out, with a warning.
#ifndef PINION_TOOLING_EXPORT_H_
#define PINION_TOOLING_EXPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "pinion/clock.h"
#include "pinion/policy.h"
#include "pinion/result.h"

namespace pinion::tooling {

enum class ExportFormat {
  kAndroidNsc,   // res/xml/network_security_config.xml
  kIosPlist,     // NSAppTransportSecurity / NSPinnedDomains
  kTrustKit,     // TSKConfiguration (Info.plist form)
  kOkHttp,       // Kotlin CertificatePinner.Builder
  kOkHttpJava,   // Java CertificatePinner.Builder
  kCurl,         // curl config file: pinnedpubkey = "sha256//…"
  kEnvoy,        // verify_certificate_spki YAML
  kNodeJs,       // a module exporting checkServerIdentity
  kHpkp,         // Public-Key-Pins(-Report-Only) header (deprecated)
  kCpp,          // a C++ header with the policy compiled in
};

// ExportFormatNames lists the --to names: "android-nsc", "ios-plist", …
std::vector<std::string_view> ExportFormatNames();
Result<ExportFormat> ParseExportFormat(std::string_view name);

struct ExportOptions {
  std::string source_name = "policy";  // shown in the header comment
  TimePoint now = SystemClock::Instance().Now();  // HPKP max-age is counted from now
  // curl, envoy and hpkp describe one connection: the rule for this host
  // (required when the policy has several rules).
  std::string host;
  std::string java_class = "PinionPins";        // okhttp-java
  std::string cpp_namespace = "pinion_generated";  // cpp
};

struct ExportResult {
  std::string text;
  std::vector<std::string> warnings;
};

// ExportPolicy renders `policy` for `format`. Fails (kInvalidArgument) when
// nothing at all can be exported, or --host is missing or matches no rule.
Result<ExportResult> ExportPolicy(const Policy& policy, ExportFormat format, const ExportOptions& options);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_EXPORT_H_
