// pinion/tooling/import.h — bring existing pin configurations into a pinion
// policy that means what the source meant, and say precisely where it cannot.
//
//   auto imported = pinion::tooling::ImportPolicy(text, ImportFormat::kAndroidNsc, {.source_name = path});
//   if (!imported->changes.empty()) { /* lossy: show them, refuse unless the user accepts */ }
//   std::cout << pinion::PolicyToToml(*imported->policy);
#ifndef PINION_TOOLING_IMPORT_H_
#define PINION_TOOLING_IMPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/enum_table.h"
#include "pinion/clock.h"
#include "pinion/policy.h"
#include "pinion/result.h"

namespace pinion::tooling {

enum class ImportFormat {
  kAndroidNsc,  // network_security_config.xml
  kHpkp,        // a Public-Key-Pins(-Report-Only) header (value or whole line); needs `host`
  kTrustKit,    // a plist (XML or binary) with TSKConfiguration or TSKPinnedDomains
  kOkHttp,      // Kotlin/Java CertificatePinner.Builder().add(...) code
  kChromium,    // transport_security_state_static.json; needs `chromium_pins` (the .pins file)
};

// The --from names.
inline constexpr EnumTable<ImportFormat, 5> kImportFormatNames{{{
    {ImportFormat::kAndroidNsc, "android-nsc"},
    {ImportFormat::kHpkp, "hpkp"},
    {ImportFormat::kTrustKit, "trustkit"},
    {ImportFormat::kOkHttp, "okhttp"},
    {ImportFormat::kChromium, "chromium"},
}}};
static_assert(kImportFormatNames.IsComplete());
std::vector<std::string_view> ImportFormatNames();  // "android-nsc", "hpkp", "trustkit", "okhttp", "chromium"
Result<ImportFormat> ParseImportFormat(std::string_view name);

inline constexpr std::size_t kMaxImportBytes = 16 * 1024 * 1024;

struct ImportOptions {
  std::string source_name = "input";
  std::uint64_t version = 1;            // the new policy's version
  TimePoint now = SystemClock::Instance().Now();  // HPKP max-age counts from here
  std::string host;                     // hpkp: the host that sent the header
  std::string chromium_pins;            // chromium: the pins file's text (transport_security_state_static.pins)
  std::string android_resources;        // android-nsc: the app's res/ directory, for trust-anchors' @raw/ files
};

// ImportChangeKind says what a difference between the source and the policy means.
enum class ImportChangeKind {
  // The policy accepts or rejects other chains than the source did, covers
  // other hosts, enforces or reports differently, or expires at another time.
  // A caller must not use the policy unless the user accepted the change
  // (`pinion import --allow-lossy`).
  kLossy,
  // Nothing the policy accepts or rejects differs; says how the meaning was
  // kept (OkHttp pins merged into a more specific rule, an obsolete key ignored).
  kNote,
};
// The --json `kind` of a change.
inline constexpr EnumTable<ImportChangeKind, 2> kImportChangeKindNames{
    {{{ImportChangeKind::kLossy, "lossy"}, {ImportChangeKind::kNote, "note"}}}};
static_assert(kImportChangeKindNames.IsComplete());
inline std::string_view ImportChangeKindName(ImportChangeKind kind) { return kImportChangeKindNames.Name(kind); }

// ImportChange is one difference between the source and the imported policy.
struct ImportChange {
  ImportChangeKind kind = ImportChangeKind::kLossy;
  std::string domain;      // the host or pattern concerned, or "pinset NAME"; empty when about the whole input
  std::uint32_t line = 0;  // 1-based line in the input; 0 when unknown (JSON, binary plists)
  std::string reason;      // human text, unstable

  // ToString: "lossy: line 12: HOST: reason" (the form `pinion import` prints on stderr).
  std::string ToString() const;
  friend bool operator==(const ImportChange&, const ImportChange&) = default;
};

struct ImportResult {
  PolicySnapshot policy;
  std::vector<ImportChange> changes;
  // lossy: some change is kLossy, so the policy does not mean what the source meant.
  bool lossy() const;
};

// ImportPolicy parses `text`. Errors (kPolicySyntax, kPolicySchema, kInputTooLarge …)
// name the input and stop the import: malformed input, a malformed pin, and a
// Chromium pinset naming a key the pins file lacks. Whatever is readable but
// cannot be expressed exactly is in `changes`.
Result<ImportResult> ImportPolicy(std::string_view text, ImportFormat format, const ImportOptions& options);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_IMPORT_H_
