#include "commands.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "output.h"

namespace pinion::cli {

std::span<const Command> Commands() {
  static const Command kCommands[] = {
      {"pin", "Print the pins of certificates, public keys, private keys and CSRs", AttachPin},
      {"fetch", "Connect to a server and show its served and validated chains with their pins",
       AttachFetch},
      {"check", "Check a server (or a chain file) against a pin policy", AttachCheck},
      {"lint", "Find policy mistakes that lock users out or leave hosts unprotected", AttachLint},
      {"export", "Generate Android, iOS, TrustKit, OkHttp, curl, Envoy, Node.js, HPKP or C++ pinning", AttachExport},
      {"import", "Turn Android, HPKP, TrustKit, OkHttp or Chromium pins into a pinion policy", AttachImport},
      {"rotate", "Plan a key rotation and check which policy versions accept a new chain", AttachRotate},
      {"inventory", "Document every pin: labels, keys, expiry, next rotation (Markdown or HTML)", AttachInventory},
      {"manifest", "Sign, verify and inspect dynamic pin-set manifests (and kill switches)", AttachManifest},
      {"serve", "Run the collector: failure reports, signed manifests, dashboard", AttachServe},
  };
  return kCommands;
}

namespace {

// OneValuePerFlag makes every named option of `app` and of its subcommands
// take exactly one value per occurrence: CLI11 lets a repeatable (vector)
// option go on eating words, so `--keys a.pem policy.toml` would swallow the
// positional policy. Done here, once, so no command can forget it.
void OneValuePerFlag(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (option->nonpositional()) option->allow_extra_args(false);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) OneValuePerFlag(*sub);
}

// JsonAsked: the command that ran was given --json (or lint's --sarif), so
// its failure is JSON on standard output too. Only the flags CLI11 parsed
// count, in the chosen command and its chosen subcommands.
bool JsonAsked(const CLI::App& app) {
  for (const char* flag : {"--json", "--sarif"}) {
    const CLI::Option* option = app.get_option_no_throw(flag);
    if (option != nullptr && option->count() > 0) return true;
  }
  for (const CLI::App* sub : app.get_subcommands()) {
    if (JsonAsked(*sub)) return true;
  }
  return false;
}

}  // namespace

void BuildCli(CLI::App& app, CommandRunner& chosen) {
  app.set_version_flag("--version", std::string("pinion ") + PINION_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 accepted/ok, 1 pin failure or findings, 2 usage or configuration error, "
      "3 TLS, validation or network error, 4 the output could not be written.\n"
      "With --json, errors are JSON on standard output too: {\"error\": {\"code\", \"message\", ...}}.\n"
      "Run 'pinion COMMAND --help' for a command's options.");
  for (const Command& command : Commands()) {
    CLI::App* sub = app.add_subcommand(std::string(command.name), std::string(command.summary));
    CommandRunner runner = command.attach(*sub);
    sub->callback([&chosen, runner] { chosen = runner; });
  }
  OneValuePerFlag(app);
}

int RunCli(int argc, char** argv) {
  CLI::App app{"pinion — certificate and public-key pinning toolkit", "pinion"};
  CommandRunner chosen;
  BuildCli(app, chosen);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // --json anywhere asks for machine output, also for a command line CLI11 refused.
    bool json = false;
    for (int i = 1; i < argc; ++i) json = json || std::string_view(argv[i]) == "--json";
    if (json) {
      CliFailure failure(Error(ErrorCode::kInvalidArgument, e.what()), "Run 'pinion COMMAND --help' for the options.");
      return FinishOutput(ReportFailure(failure, true));
    }
    app.exit(e);
    return kExitUsage;
  }
  CommandResult result = chosen ? chosen() : CommandResult(kExitUsage);
  int exit_code = result.ok() ? *result : ReportFailure(result.error(), JsonAsked(app));
  return FinishOutput(exit_code);
}

int FinishOutput(int exit_code) {
  // A result nobody received is not a success: a full disk or a closed pipe
  // behind stdout turns any exit code into kExitOutput.
  std::cout.flush();
  errno = 0;
  bool failed = !std::cout.good() || std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  if (!failed) return exit_code;
  int saved = errno;
  std::cerr << "pinion: cannot write standard output" << (saved != 0 ? std::string(": ") + std::strerror(saved) : "")
            << "\n  The result was not delivered; check the disk or the pipe and run the command again.\n";
  return kExitOutput;
}

}  // namespace pinion::cli
