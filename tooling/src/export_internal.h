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
// SpkiSha256Pins keeps the SPKI SHA-256 pins of a rule, warning about the others.
std::vector<const PinEntry*> SpkiSha256Pins(const DomainRule& rule, std::string_view target,
                                            std::vector<std::string>& warnings);
// DateOnly renders an expiry as YYYY-MM-DD, warning when a time of day is lost.
std::string DateOnly(TimePoint time, const DomainRule& rule, std::string_view target,
                     std::vector<std::string>& warnings);
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
