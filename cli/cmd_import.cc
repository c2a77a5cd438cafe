// pinion import --from FORMAT FILE — an existing pin configuration as a pinion policy.
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/atomic_file.h"
#include "pinion/pin_source.h"
#include "pinion/policy_writer.h"
#include "pinion/tooling/import.h"

namespace pinion::cli {
namespace {

struct ImportCliOptions {
  std::string format;
  std::string input;
  std::string host;
  std::string pins_file;
  std::string output;
  std::string output_format = "toml";
  std::uint64_t version = 1;
  bool json = false;
};

Result<std::string> ReadText(const std::string& path) {
  PINION_ASSIGN_OR_RETURN(auto bytes, ReadFileBounded(path, tooling::kMaxImportBytes));
  return std::string(bytes.begin(), bytes.end());
}

int Run(const ImportCliOptions& options) {
  auto format = tooling::ParseImportFormat(options.format);
  if (!format) {
    PrintError(format.error(), "See `pinion import --help` for the formats.");
    return kExitUsage;
  }
  auto text = ReadText(options.input);
  if (!text) {
    PrintError(text.error());
    return kExitUsage;
  }
  tooling::ImportOptions import{.source_name = options.input, .version = options.version, .host = options.host};
  if (*format == tooling::ImportFormat::kChromium) {
    if (options.pins_file.empty()) {
      PrintError(Error(ErrorCode::kInvalidArgument, "Chromium's JSON names its keys; give the name-to-key file with --pins"));
      return kExitUsage;
    }
    auto pins = ReadText(options.pins_file);
    if (!pins) {
      PrintError(pins.error());
      return kExitUsage;
    }
    import.chromium_pins = std::move(*pins);
  }
  auto result = tooling::ImportPolicy(*text, *format, import);
  if (!result) {
    PrintError(result.error(), "Nothing was written.");
    return kExitUsage;
  }
  for (const std::string& warning : result->warnings) std::cerr << Style("warning: ", Tone::kWarn) << warning << "\n";
  std::string policy = options.output_format == "json" ? PolicyToJson(*result->policy) : PolicyToToml(*result->policy);
  if (!options.output.empty()) {
    if (auto written = WriteFileAtomically(options.output, policy); !written) {
      PrintError(written.error(), "The previous file, if any, is unchanged.");
      return kExitUsage;
    }
  }
  if (options.json) {
    std::cout << nlohmann::json{{"format", options.format}, {"rules", result->policy->rules().size()},
                                {"warnings", result->warnings}, {"policy", policy}}.dump(2) << "\n";
  } else if (options.output.empty()) {
    std::cout << policy;
  }
  return kExitOk;
}

}  // namespace

CommandRunner AttachImport(CLI::App& app) {
  auto options = std::make_shared<ImportCliOptions>();
  std::string formats;
  for (std::string_view name : tooling::ImportFormatNames()) formats += (formats.empty() ? "" : ", ") + std::string(name);
  app.footer(
      "Read an existing pinning configuration into a pinion policy, losing nothing the policy can "
      "express; what it cannot is reported on stderr. Review the result with `pinion lint`. "
      "docs/IMPORT.md describes every mapping.");
  app.add_option("--from", options->format, "Format: " + formats)->required();
  app.add_option("input", options->input, "The file to import")->required();
  app.add_option("--host", options->host, "hpkp: the host that sent the header");
  app.add_option("--pins", options->pins_file, "chromium: the file mapping key names to keys");
  app.add_option("--policy-version", options->version, "The new policy's version (default 1)")->check(CLI::PositiveNumber);
  app.add_option("-o,--output", options->output, "Write the policy to FILE atomically instead of standard output");
  app.add_option("--format", options->output_format, "toml (default) or json")->check(CLI::IsMember({"toml", "json"}));
  app.add_flag("--json", options->json, "Print JSON: {format, rules, warnings, policy}");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
