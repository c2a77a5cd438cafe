// pinion export --to FORMAT POLICY — one policy, every platform.
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/atomic_file.h"
#include "pinion/policy_loader.h"
#include "pinion/tooling/export.h"

namespace pinion::cli {
namespace {

struct ExportCliOptions {
  std::string format;
  std::string policy_file;
  std::string output;
  std::string host;
  std::string java_class = "PinionPins";
  std::string cpp_namespace = "pinion_generated";
  bool json = false;
};

int Run(const ExportCliOptions& options) {
  auto format = tooling::ParseExportFormat(options.format);
  if (!format) {
    PrintError(format.error(), "See `pinion export --help` for the formats.");
    return kExitUsage;
  }
  auto policy = LoadPolicyFile(options.policy_file);
  if (!policy) {
    PrintError(policy.error(), "Fix the policy file (`pinion lint` lists every problem); nothing was written.");
    return kExitUsage;
  }
  auto result = tooling::ExportPolicy(**policy, *format,
                                      {.source_name = options.policy_file, .host = options.host,
                                       .java_class = options.java_class, .cpp_namespace = options.cpp_namespace});
  if (!result) {
    PrintError(result.error(), "Nothing was written.");
    return kExitUsage;
  }
  for (const std::string& warning : result->warnings) {
    std::cerr << Style("warning: ", Tone::kWarn) << warning << "\n";
  }
  if (!options.output.empty()) {
    if (auto written = WriteFileAtomically(options.output, result->text); !written) {
      PrintError(written.error(), "The previous file, if any, is unchanged.");
      return kExitUsage;
    }
  }
  if (options.json) {
    std::cout << nlohmann::json{{"format", options.format}, {"output", options.output.empty() ? nlohmann::json() : nlohmann::json(options.output)},
                                {"warnings", result->warnings}, {"text", result->text}}.dump(2) << "\n";
  } else if (options.output.empty()) {
    std::cout << result->text;
  }
  return kExitOk;
}

}  // namespace

CommandRunner AttachExport(CLI::App& app) {
  auto options = std::make_shared<ExportCliOptions>();
  std::string formats;
  for (std::string_view name : tooling::ExportFormatNames()) formats += (formats.empty() ? "" : ", ") + std::string(name);
  app.footer(
      "Generate a platform's pinning configuration from one pinion policy, with a header comment "
      "carrying the policy version, each pin's label and the expiry. Whatever the target cannot "
      "express is reported on stderr; a domain that cannot be exported safely is left out. "
      "docs/EXPORT.md describes every mapping.");
  app.add_option("--to", options->format, "Format: " + formats)->required();
  app.add_option("policy", options->policy_file, "Pin policy (TOML or JSON)")->required();
  app.add_option("-o,--output", options->output, "Write to FILE atomically instead of standard output");
  app.add_option("--host", options->host, "curl, envoy, hpkp: the host whose rule to export");
  app.add_option("--java-class", options->java_class, "okhttp-java: the class name");
  app.add_option("--cpp-namespace", options->cpp_namespace, "cpp: the namespace of the tables");
  app.add_flag("--json", options->json, "Print JSON: {format, output, warnings, text}");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
