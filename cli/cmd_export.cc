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
  bool allow_lossy = false;
  bool json = false;
};

nlohmann::json ChangesJson(const std::vector<tooling::ExportChange>& changes) {
  nlohmann::json list = nlohmann::json::array();
  for (const tooling::ExportChange& change : changes) {
    list.push_back({{"kind", tooling::ExportChangeKindName(change.kind)},
                    {"domain", change.domain.empty() ? nlohmann::json() : nlohmann::json(change.domain)},
                    {"reason", change.reason}});
  }
  return list;
}

void PrintChanges(const std::vector<tooling::ExportChange>& changes) {
  for (const tooling::ExportChange& change : changes) {
    Tone tone = change.kind == tooling::ExportChangeKind::kLossy ? Tone::kWarn : Tone::kDim;
    std::cerr << Style(std::string(tooling::ExportChangeKindName(change.kind)) + ": ", tone)
              << (change.domain.empty() ? "" : change.domain + ": ") << change.reason << "\n";
  }
}

// Refusal is a lossy export the user did not accept: a failure whose JSON
// answer lists the changes beside the error, so a script sees why in one
// document.
CliFailure Refusal(const ExportCliOptions& options, const std::vector<tooling::ExportChange>& changes) {
  std::size_t lossy = 0;
  for (const tooling::ExportChange& change : changes) lossy += change.kind == tooling::ExportChangeKind::kLossy;
  Error error(ErrorCode::kInvalidArgument,
              "the " + options.format + " export does not mean what the policy means (" + std::to_string(lossy) +
                  (lossy == 1 ? " change" : " changes") + " listed above); nothing was written");
  return CliFailure(error, "Change the policy so the target can express it, or pass --allow-lossy to accept the changes.")
      .WithBeside({{"format", options.format}, {"changes", ChangesJson(changes)}});
}

CommandResult Run(const ExportCliOptions& options) {
  PINION_ASSIGN_OR_RETURN(tooling::ExportFormat format, Hinted(tooling::ParseExportFormat(options.format),
                                                               "See `pinion export --help` for the formats."));
  PINION_ASSIGN_OR_RETURN(PolicySnapshot policy,
                          Hinted(LoadPolicyFile(options.policy_file),
                                 "Fix the policy file (`pinion lint` lists every problem); nothing was written."));
  PINION_ASSIGN_OR_RETURN(auto result,
                          Hinted(tooling::ExportPolicy(*policy, format,
                                                       {.source_name = options.policy_file,
                                                        .host = options.host,
                                                        .java_class = options.java_class,
                                                        .cpp_namespace = options.cpp_namespace}),
                                 "Nothing was written."));
  PrintChanges(result.changes);
  if (result.lossy() && !options.allow_lossy) return Refusal(options, result.changes);
  if (!options.output.empty()) {
    if (auto written = WriteFileAtomically(options.output, result.text); !written) {
      return CliFailure(written.error(), "The previous file, if any, is unchanged.").WithExitCode(kExitOutput);
    }
  }
  if (options.json) {
    std::cout << nlohmann::json{{"format", options.format},
                                {"output", options.output.empty() ? nlohmann::json() : nlohmann::json(options.output)},
                                {"lossy", result.lossy()},
                                {"changes", ChangesJson(result.changes)},
                                {"text", result.text}}
                     .dump(2)
              << "\n";
  } else if (options.output.empty()) {
    std::cout << result.text;
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
      "carrying the policy version, each pin's label and the expiry. An export either means exactly "
      "what the policy means, or every difference is printed on stderr as 'lossy: HOST: reason' and "
      "the export is refused (exit 2, nothing written) unless --allow-lossy is given. An output that "
      "could never accept the policy's chains is refused even then. docs/EXPORT.md describes every mapping.");
  app.add_option("--to", options->format, "Format: " + formats)->required();
  app.add_option("policy", options->policy_file, "Pin policy (TOML or JSON)")->required();
  app.add_option("-o,--output", options->output, "Write to FILE atomically instead of standard output");
  app.add_option("--host", options->host, "curl, envoy, hpkp: the host whose rule to export");
  app.add_option("--java-class", options->java_class, "okhttp-java: the class name");
  app.add_option("--cpp-namespace", options->cpp_namespace, "cpp: the namespace of the tables");
  app.add_flag("--allow-lossy", options->allow_lossy,
               "Write the output even when it does not mean what the policy means (the changes are still printed)");
  app.add_flag("--json", options->json,
               "Print JSON: {format, output, lossy, changes: [{kind, domain, reason}], text}; a refusal is "
               "{error, format, changes}");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
