#include "commands.h"

#include <iostream>

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

int RunCli(int argc, char** argv) {
  CLI::App app{"pinion — certificate and public-key pinning toolkit", "pinion"};
  app.set_version_flag("--version", std::string("pinion ") + PINION_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 accepted/ok, 1 pin failure, 2 usage or configuration error, "
      "3 TLS, validation or network error.\nRun 'pinion COMMAND --help' for a command's options.");
  CommandRunner chosen;
  for (const Command& command : Commands()) {
    CLI::App* sub = app.add_subcommand(std::string(command.name), std::string(command.summary));
    CommandRunner runner = command.attach(*sub);
    sub->callback([&chosen, runner] { chosen = runner; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return chosen ? chosen() : kExitUsage;
}

}  // namespace pinion::cli
