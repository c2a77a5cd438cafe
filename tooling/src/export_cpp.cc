// cpp: a header with the policy compiled in (pinion/static_policy.h).
#include "export_internal.h"
#include "pinion/certificate_info.h"
#include "pinion/pin_source.h"

namespace pinion::tooling::internal {

Result<ExportResult> ExportCpp(const Policy& policy, const ExportOptions& options) {
  ExportResult result;
  const std::string& ns = options.cpp_namespace;
  std::string tables, domains;
  for (std::size_t i = 0; i < policy.rules().size(); ++i) {
    const DomainRule& rule = policy.rules()[i];
    std::string id = std::to_string(i);
    tables += "inline constexpr pinion::StaticPin kDomain" + id + "Pins[] = {\n";
    for (const PinEntry& entry : rule.pins) {
      tables += "    {" + Quoted(entry.pin.ToString(), Language::kCpp) + ", " + Quoted(entry.label, Language::kCpp) +
                ", " + Quoted(std::string(PinRoleName(entry.role)), Language::kCpp) + "},\n";
    }
    tables += "};\n";
    std::string uris = "nullptr";
    if (!rule.report_uris.empty()) {
      tables += "inline constexpr const char* kDomain" + id + "ReportUris[] = {";
      for (const std::string& uri : rule.report_uris) tables += Quoted(uri, Language::kCpp) + ", ";
      tables += "};\n";
      uris = "kDomain" + id + "ReportUris";
    }
    std::string anchors = rule.anchors.use_system() ? "\"\"" : Quoted(CertificatesToPem(rule.anchors.certificates_der), Language::kCpp);
    domains += "    {" + Quoted(rule.host.ToString(), Language::kCpp) + ", false, " +
               Quoted(std::string(EnforcementModeName(rule.mode)), Language::kCpp) + ", " +
               Quoted(rule.expires ? FormatUtc(*rule.expires) : "", Language::kCpp) + ", " +
               Quoted(std::string(ExpiryActionName(rule.on_expiry)), Language::kCpp) + ", " + uris + ", " +
               std::to_string(rule.report_uris.size()) + ", " + anchors + ", kDomain" + id + "Pins, " +
               std::to_string(rule.pins.size()) + "},\n";
  }
  std::string guard = "PINION_GENERATED_" + std::to_string(policy.version()) + "_H_";
  result.text = LineComment(HeaderLines(policy, options, "C++: #include this header and call " + ns + "::LoadPolicy()"), "// ") +
                "#ifndef " + guard + "\n#define " + guard + "\n\n#include \"pinion/static_policy.h\"\n\nnamespace " + ns + " {\n\n" +
                tables + "\ninline constexpr pinion::StaticDomain kDomains[] = {\n" +
                (domains.empty() ? "    {\"\", false, \"\", \"\", \"\", nullptr, 0, \"\", nullptr, 0},\n" : domains) + "};\n\n"
                "inline constexpr pinion::StaticPolicy kPolicy = {" + std::to_string(policy.version()) + ", kDomains, " +
                std::to_string(policy.rules().size()) + "};\n\n"
                "// LoadPolicy validates the compiled-in tables exactly as the file loader would.\n"
                "inline pinion::Result<pinion::PolicySnapshot> LoadPolicy() { return pinion::LoadStaticPolicy(kPolicy); }\n\n"
                "}  // namespace " + ns + "\n\n#endif  // " + guard + "\n";
  return result;
}

}  // namespace pinion::tooling::internal
