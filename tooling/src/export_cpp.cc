// cpp: a header with the policy compiled in (pinion/static_policy.h), as the
// canonical JSON the loader reads, so the compiled-in and file forms agree.
#include "export_internal.h"
#include "pinion/policy_writer.h"

namespace pinion::tooling::internal {
namespace {

// RawStringDelimiter picks a raw-string delimiter (at most 16 characters)
// that the text does not contain, whatever the labels or URIs hold.
std::string RawStringDelimiter(const std::string& text) {
  std::string delimiter = "pinion";
  for (int n = 0; text.find(")" + delimiter + "\"") != std::string::npos; ++n) {
    delimiter = "pinion" + std::to_string(n);
  }
  return delimiter;
}

}  // namespace

Result<ExportResult> ExportCpp(const Policy& policy, const ExportOptions& options) {
  ExportResult result;
  const std::string& ns = options.cpp_namespace;
  std::string json = PolicyToJson(policy, {.self_contained = true});
  std::string delimiter = RawStringDelimiter(json);
  std::string guard = "PINION_GENERATED_" + std::to_string(policy.version()) + "_H_";
  result.text = LineComment(HeaderLines(policy, options, "C++: #include this header and call " + ns + "::LoadPolicy()"), "// ") +
                "#ifndef " + guard + "\n#define " + guard + "\n\n#include \"pinion/static_policy.h\"\n\nnamespace " + ns + " {\n\n"
                "// The policy as canonical JSON (docs/POLICY.md), anchors as PEM text.\n"
                "inline constexpr pinion::StaticPolicy kPolicy{R\"" + delimiter + "(" + json + ")" + delimiter + "\"};\n\n"
                "// LoadPolicy validates the compiled-in policy exactly as the file loader would (it is the JSON loader).\n"
                "inline pinion::Result<pinion::PolicySnapshot> LoadPolicy() { return pinion::LoadStaticPolicy(kPolicy); }\n\n"
                "}  // namespace " + ns + "\n\n#endif  // " + guard + "\n";
  return result;
}

}  // namespace pinion::tooling::internal
