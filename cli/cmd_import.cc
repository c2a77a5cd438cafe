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
  std::string android_resources;
  std::string output;
  std::string output_format = "toml";
  std::uint64_t version = 1;
  bool allow_lossy = false;
  bool json = false;
};

Result<std::string> ReadText(const std::string& path) {
  PINION_ASSIGN_OR_RETURN(auto bytes, ReadFileBounded(path, tooling::kMaxImportBytes));
  return std::string(bytes.begin(), bytes.end());
}

nlohmann::json ChangesJson(const std::vector<tooling::ImportChange>& changes) {
  nlohmann::json list = nlohmann::json::array();
  for (const tooling::ImportChange& change : changes) {
    list.push_back({{"kind", tooling::ImportChangeKindName(change.kind)},
                    {"domain", change.domain.empty() ? nlohmann::json() : nlohmann::json(change.domain)},
                    {"line", change.line == 0 ? nlohmann::json() : nlohmann::json(change.line)},
                    {"reason", change.reason}});
  }
  return list;
}

void PrintChanges(const std::vector<tooling::ImportChange>& changes) {
  for (const tooling::ImportChange& change : changes) {
    Tone tone = change.kind == tooling::ImportChangeKind::kLossy ? Tone::kWarn : Tone::kDim;
    std::string text = change.ToString();
    std::size_t colon = text.find(": ");
    std::cerr << Style(text.substr(0, colon + 2), tone) << text.substr(colon + 2) << "\n";
  }
}

// Refusal is a lossy import the user did not accept: a failure whose JSON
// answer lists the changes (the same shape as `pinion export`'s refusal).
CliFailure Refusal(const ImportCliOptions& options, const std::vector<tooling::ImportChange>& changes) {
  std::size_t lossy = 0;
  for (const tooling::ImportChange& change : changes) lossy += change.kind == tooling::ImportChangeKind::kLossy;
  Error error = Error(ErrorCode::kInvalidArgument,
                      "the imported policy does not mean what the " + options.format + " input means (" +
                          std::to_string(lossy) + (lossy == 1 ? " change" : " changes") + " listed above); nothing was written")
                    .WithSource(options.input);
  return CliFailure(error, "Review the changes; pass --allow-lossy to accept them and write the policy anyway.")
      .WithBeside({{"format", options.format}, {"changes", ChangesJson(changes)}});
}

// ReadImportOptions reads what the import needs besides the input: for
// Chromium, its pins file (--pins).
CliResult<tooling::ImportOptions> ReadImportOptions(const ImportCliOptions& options, tooling::ImportFormat format) {
  tooling::ImportOptions import{.source_name = options.input, .version = options.version, .host = options.host};
  if (format == tooling::ImportFormat::kChromium) {
    if (options.pins_file.empty()) {
      return CliFailure(Error(ErrorCode::kInvalidArgument,
                              "Chromium's JSON names its keys; give Chromium's pins file "
                              "(transport_security_state_static.pins) with --pins")
                            .WithField("--pins"),
                        "Nothing was written.");
    }
    PINION_ASSIGN_OR_RETURN(import.chromium_pins, Hinted(ReadText(options.pins_file), "Nothing was written."));
  }
  import.android_resources = options.android_resources;
  return import;
}

CommandResult Run(const ImportCliOptions& options) {
  PINION_ASSIGN_OR_RETURN(tooling::ImportFormat format, Hinted(tooling::ParseImportFormat(options.format),
                                                               "See `pinion import --help` for the formats."));
  PINION_ASSIGN_OR_RETURN(std::string text, Hinted(ReadText(options.input), "Nothing was written."));
  PINION_ASSIGN_OR_RETURN(tooling::ImportOptions import, ReadImportOptions(options, format));
  PINION_ASSIGN_OR_RETURN(auto result, Hinted(tooling::ImportPolicy(text, format, import), "Nothing was written."));
  PrintChanges(result.changes);
  if (result.lossy() && !options.allow_lossy) return Refusal(options, result.changes);
  std::string policy = options.output_format == "json" ? PolicyToJson(*result.policy) : PolicyToToml(*result.policy);
  if (!options.output.empty()) {
    if (auto written = WriteFileAtomically(options.output, policy); !written) {
      return CliFailure(written.error(), "The previous file, if any, is unchanged.").WithExitCode(kExitOutput);
    }
  }
  if (options.json) {
    std::cout << nlohmann::json{{"format", options.format},
                                {"output", options.output.empty() ? nlohmann::json() : nlohmann::json(options.output)},
                                {"rules", result.policy->rules().size()},
                                {"lossy", result.lossy()},
                                {"changes", ChangesJson(result.changes)},
                                {"policy", policy}}
                     .dump(2)
              << "\n";
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
      "Read an existing pinning configuration into a pinion policy that accepts exactly the chains the "
      "source accepted. Every difference is printed on stderr as 'lossy: line N: HOST: reason', and the "
      "import is refused (exit 2, nothing written) unless --allow-lossy is given; 'note:' lines explain "
      "how the meaning was kept. Review the result with `pinion lint`. docs/IMPORT.md describes every mapping.");
  app.add_option("--from", options->format, "Format: " + formats)->required();
  app.add_option("input", options->input, "The file to import (trustkit: XML or binary plist)")->required();
  app.add_option("--host", options->host, "hpkp: the host that sent the header");
  app.add_option("--pins", options->pins_file, "chromium: Chromium's pins file (transport_security_state_static.pins)");
  app.add_option("--res", options->android_resources,
                 "android-nsc: the app's res/ directory, to read the @raw/ certificates of trust-anchors");
  app.add_option("--policy-version", options->version, "The new policy's version (default 1)")->check(CLI::PositiveNumber);
  app.add_option("-o,--output", options->output, "Write the policy to FILE atomically instead of standard output");
  app.add_option("--format", options->output_format, "toml (default) or json")->check(CLI::IsMember({"toml", "json"}));
  app.add_flag("--allow-lossy", options->allow_lossy,
               "Write the policy even when it does not mean what the input means (the changes are still printed)");
  app.add_flag("--json", options->json,
               "Print JSON: {format, output, rules, lossy, changes: [{kind, domain, line, reason}], policy}; a refusal "
               "is {error, format, changes}");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
