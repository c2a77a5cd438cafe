// pinion/tooling/export.h — one policy, every platform.
//
//   auto out = pinion::tooling::ExportPolicy(*policy, pinion::tooling::ExportFormat::kAndroidNsc, {});
//   if (!out) return out.error();               // nothing the target can use at all
//   for (const auto& c : out->changes) std::cerr << c.ToString() << "\n";
//   if (out->lossy() && !user_accepted_changes) return refuse();
//   std::cout << out->text;
//
// An export either means exactly what the policy means — the target accepts
// the same chains for the same hosts, enforces and reports the same way and
// stops at the same expiry — or every difference is listed in `changes` as a
// kLossy ExportChange naming the domain and the reason. A domain the target
// cannot express without a lock-out risk (report-only where the target can
// only enforce, leaf and CA pins on iOS, fewer pins than TrustKit requires)
// is left out of the output (so it is unpinned there), which is itself a
// lossy change. ExportPolicy fails when the output could never accept the
// policy's chains (curl or Envoy with only CA pins) or holds no domain.
// docs/EXPORT.md lists, per format, what is exact, lossy and refused.
#ifndef PINION_TOOLING_EXPORT_H_
#define PINION_TOOLING_EXPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "pinion/enum_table.h"
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

// The --to names.
inline constexpr EnumTable<ExportFormat, 10> kExportFormatNames{{{
    {ExportFormat::kAndroidNsc, "android-nsc"},
    {ExportFormat::kIosPlist, "ios-plist"},
    {ExportFormat::kTrustKit, "trustkit"},
    {ExportFormat::kOkHttp, "okhttp"},
    {ExportFormat::kOkHttpJava, "okhttp-java"},
    {ExportFormat::kCurl, "curl"},
    {ExportFormat::kEnvoy, "envoy"},
    {ExportFormat::kNodeJs, "nodejs"},
    {ExportFormat::kHpkp, "hpkp"},
    {ExportFormat::kCpp, "cpp"},
}}};
static_assert(kExportFormatNames.IsComplete());
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

// ExportChangeKind says what a difference between output and policy means.
enum class ExportChangeKind {
  // The output accepts or rejects other chains than the policy, covers other
  // hosts, enforces or reports differently, or expires at another time (or
  // never). A caller must not ship it unless the user accepted the change
  // (`pinion export --allow-lossy`).
  kLossy,
  // The output is exact once the user does what the reason says (copy the
  // anchors bundle it names, add the CA bundle Envoy validates with).
  kStep,
  // Nothing the target accepts or rejects differs (e.g. HPKP is deprecated).
  kNote,
};
// The --json `kind` of a change.
inline constexpr EnumTable<ExportChangeKind, 3> kExportChangeKindNames{
    {{{ExportChangeKind::kLossy, "lossy"}, {ExportChangeKind::kStep, "step"}, {ExportChangeKind::kNote, "note"}}}};
static_assert(kExportChangeKindNames.IsComplete());
inline std::string_view ExportChangeKindName(ExportChangeKind kind) { return kExportChangeKindNames.Name(kind); }

// ExportChange is one difference between the output and the policy.
struct ExportChange {
  ExportChangeKind kind = ExportChangeKind::kLossy;
  std::string domain;  // the rule's host pattern ("**.example.com"); empty when the change is not about one rule
  std::string reason;  // human text, unstable
  // ToString: "lossy: HOST: reason" (the form `pinion export` prints on stderr).
  std::string ToString() const;
  friend bool operator==(const ExportChange&, const ExportChange&) = default;
};

struct ExportResult {
  std::string text;
  std::vector<ExportChange> changes;
  // lossy: some change is kLossy, so the output does not mean what the policy means.
  bool lossy() const;
};

// ExportPolicy renders `policy` for `format`. Fails (kInvalidArgument) when
// nothing at all can be exported, when the output could never accept the
// policy's chains (even a lossy export would lock every user out), or when
// --host is missing or matches no rule. Lossy output is returned, with its
// changes: refusing it is the caller's decision (see ExportResult::lossy).
Result<ExportResult> ExportPolicy(const Policy& policy, ExportFormat format, const ExportOptions& options);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_EXPORT_H_
