// okhttp (Kotlin) and okhttp-java: CertificatePinner.Builder code.
#include "export_internal.h"
#include "pinion/host_pattern.h"

namespace pinion::tooling::internal {

Result<ExportResult> ExportOkHttp(const Policy& policy, const ExportOptions& options, bool java) {
  ExportResult result;
  Language language = java ? Language::kJava : Language::kKotlin;
  std::string adds;
  for (const DomainRule& rule : policy.rules()) {
    std::string host = rule.host.ToString();
    if (rule.mode == EnforcementMode::kReportOnly) {
      result.warnings.push_back(host + ": OkHttp's CertificatePinner only enforces; the report-only domain is left out");
      continue;
    }
    if (rule.expires && rule.on_expiry == ExpiryAction::kAllow) {
      result.warnings.push_back(host + ": CertificatePinner has no expiry; pins apply until the app is updated "
                                       "(build the pinner conditionally on the date to fail open)");
    }
    if (!rule.anchors.use_system()) {
      result.warnings.push_back(host + ": CertificatePinner cannot replace trust anchors; configure the "
                                       "OkHttpClient's trust manager for " + rule.anchors.path);
    }
    std::vector<const PinEntry*> pins = SpkiSha256Pins(rule, "OkHttp", result.warnings);
    if (pins.empty()) {
      result.warnings.push_back(host + ": no pin OkHttp can express; the domain is left out");
      continue;
    }
    // OkHttp's patterns are pinion's: exact, "*." one label, "**." the name and all below —
    // but OkHttp 3.x has no "**.": it reads the pattern as a literal name that matches nothing.
    if (host.starts_with("**.")) {
      result.warnings.push_back(host + ": OkHttp 3.x does not know \"**.\" patterns and leaves these hosts "
                                       "UNPINNED; the generated pinner needs OkHttp 4 or later");
    }
    adds += "    .add(" + Quoted(host, language);
    for (const PinEntry* entry : pins) {
      adds += ",\n        " + Quoted(entry->pin.ToString(), language);
      if (!entry->label.empty()) adds += "  /* " + CommentText(entry->label) + " */";
    }
    adds += ")\n";
  }
  if (adds.empty()) return Error(ErrorCode::kInvalidArgument, "no domain of the policy can be expressed for OkHttp");
  std::vector<std::string> header = HeaderLines(policy, options, "OkHttp CertificatePinner");
  if (java) {
    result.text = LineComment(header, "// ") + "\nimport okhttp3.CertificatePinner;\n\n"
                  "public final class " + options.java_class + " {\n"
                  "  private " + options.java_class + "() {}\n\n"
                  "  public static final CertificatePinner CERTIFICATE_PINNER = new CertificatePinner.Builder()\n" +
                  adds + "    .build();\n}\n";
  } else {
    result.text = LineComment(header, "// ") + "\nimport okhttp3.CertificatePinner\n\n"
                  "val certificatePinner: CertificatePinner = CertificatePinner.Builder()\n" + adds + "    .build()\n";
  }
  return result;
}

}  // namespace pinion::tooling::internal
