// Internal to the exporters: shared helpers and one entry point per family.
#ifndef PINION_TOOLING_SRC_EXPORT_INTERNAL_H_
#define PINION_TOOLING_SRC_EXPORT_INTERNAL_H_

#include <string>
#include <vector>

#include "pinion/tooling/export.h"

namespace pinion::tooling::internal {

// HeaderLines: the provenance comment, one line each, without comment markers.
std::vector<std::string> HeaderLines(const Policy& policy, const ExportOptions& options,
                                     std::string_view format_note = {});
// Comment renders lines with a prefix ("// ", "# ") or as an XML comment.
std::string LineComment(const std::vector<std::string>& lines, std::string_view prefix);
std::string XmlComment(const std::vector<std::string>& lines);
// CommentText makes text safe inside a /* */ or line comment (no "*/", no newline).
std::string CommentText(std::string text);
std::string XmlCommentBody(const std::vector<std::string>& lines);  // without <!-- -->
// Lossy, Step and Note record one change about `rule` (ExportChangeKind).
void Lossy(std::vector<ExportChange>& changes, const DomainRule& rule, std::string reason);
void Step(std::vector<ExportChange>& changes, const DomainRule& rule, std::string reason);
void Note(std::vector<ExportChange>& changes, const DomainRule& rule, std::string reason);
// SpkiSha256Pins keeps the SPKI SHA-256 pins of a rule; each other pin is a
// lossy change (a chain that only it matched is rejected by the target).
std::vector<const PinEntry*> SpkiSha256Pins(const DomainRule& rule, std::string_view target,
                                            std::vector<ExportChange>& changes);
// DateOnly renders an expiry as YYYY-MM-DD (the day starting at 00:00 UTC);
// a time of day that is lost is a lossy change.
std::string DateOnly(TimePoint time, const DomainRule& rule, std::string_view target,
                     std::vector<ExportChange>& changes);
// NoReports records, as lossy, report URIs a target that never reports drops.
void NoReports(const DomainRule& rule, std::string_view target, std::vector<ExportChange>& changes);
// NoExpiry records, as lossy, an expiry with on_expiry = "allow" that a
// target without expiry drops (its pins then apply until the app is updated);
// on_expiry = "enforce" means exactly that, so it is no change.
void NoExpiry(const DomainRule& rule, std::string_view target, std::vector<ExportChange>& changes);

// SubdomainReach: what a target's "include subdomains" flag covers besides
// the name itself.
enum class SubdomainReach {
  kOneLabel,   // ATS NSIncludesSubdomains: names one label below
  kAllLevels,  // TrustKit, Android: every name below
};
// DomainEntry is one key of a target that names domains by base name and an
// include-subdomains flag; `rules` are the policy rules it stands for (the
// first one's settings are written; the others mean the same).
struct DomainEntry {
  std::string base;
  bool include_subdomains = false;
  std::vector<const DomainRule*> rules;
};
// GroupByBase maps rules onto such keys. Rules on the same base share one key
// when `same_meaning` says the target would write them identically (exact
// "x" + "*.x" → "x" with subdomains); otherwise the later rule is left out
// (lossy). Every difference between the key's reach and the rules' hosts is a
// lossy change.
std::vector<DomainEntry> GroupByBase(const std::vector<const DomainRule*>& rules, SubdomainReach reach,
                                     std::string_view target,
                                     bool (*same_meaning)(const DomainRule&, const DomainRule&),
                                     std::vector<ExportChange>& changes);
// SameRuleMeaning: the rules differ at most in host and labels.
bool SameRuleMeaning(const DomainRule& a, const DomainRule& b);
// LeftOut opens the reason of a rule left out of a `target` output: "left
// out (…): " — its hosts are then unpinned there, or fall under a broader entry.
std::string LeftOut(std::string_view target);
// NothingExpressible is the error for an output without any domain; its
// message carries each left-out domain's reason, which would be lost otherwise.
Error NothingExpressible(std::string_view target, const std::vector<ExportChange>& changes);
// SelectRule picks the rule for options.host (or the only rule).
Result<const DomainRule*> SelectRule(const Policy& policy, const ExportOptions& options, std::string_view target);
// Quoted renders a double-quoted string literal. UTF-8 passes through (every
// target reads UTF-8 source); control characters are escaped the way each
// language allows: octal in C++ and Java (Java would turn \u000a into a real
// newline before lexing), \uXXXX in Kotlin and JavaScript (strict-mode JS
// forbids octal); Kotlin also needs '$' escaped.
enum class Language { kCpp, kJava, kKotlin, kJavaScript };
std::string Quoted(std::string_view text, Language language);

Result<ExportResult> ExportAndroidNsc(const Policy& policy, const ExportOptions& options);
Result<ExportResult> ExportApple(const Policy& policy, const ExportOptions& options, bool trustkit);
Result<ExportResult> ExportOkHttp(const Policy& policy, const ExportOptions& options, bool java);
Result<ExportResult> ExportConnectionPins(const Policy& policy, const ExportOptions& options, ExportFormat format);
Result<ExportResult> ExportNodeJs(const Policy& policy, const ExportOptions& options);
Result<ExportResult> ExportCpp(const Policy& policy, const ExportOptions& options);

}  // namespace pinion::tooling::internal

#endif  // PINION_TOOLING_SRC_EXPORT_INTERNAL_H_
