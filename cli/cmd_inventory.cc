// pinion inventory POLICY — the documented pins, as Markdown or HTML.
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/atomic_file.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "pinion/tooling/inventory.h"

namespace pinion::cli {
namespace {

struct InventoryCliOptions {
  std::string policy_file;
  std::vector<std::string> key_files;
  std::string output;
  std::string at;
  bool html = false;
};

int Run(const InventoryCliOptions& options) {
  auto policy = LoadPolicyFile(options.policy_file);
  if (!policy) {
    PrintError(policy.error(), "Fix the policy file first (`pinion lint`).");
    return kExitUsage;
  }
  tooling::InventoryOptions inventory{.source_name = options.policy_file};
  if (!options.at.empty()) {
    auto at = ParseTimestamp(options.at);
    if (!at) {
      PrintError(at.error());
      return kExitUsage;
    }
    inventory.now = *at;
  }
  auto keys = ReadKeyFiles(options.key_files, "--keys takes certificates, public keys, private keys or CSRs.");
  if (!keys) return kExitUsage;
  inventory.keys = std::move(*keys);
  std::string document = options.html ? tooling::InventoryHtml(**policy, inventory) : tooling::InventoryMarkdown(**policy, inventory);
  if (options.output.empty()) {
    std::cout << document;
  } else if (auto written = WriteFileAtomically(options.output, document); !written) {
    PrintError(written.error());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

CommandRunner AttachInventory(CLI::App& app) {
  auto options = std::make_shared<InventoryCliOptions>();
  app.footer("Document every pin: per host, each pin with its label and role, the key or certificate it "
             "corresponds to (with --keys), the policy expiry and the next rotation.");
  app.add_option("policy", options->policy_file, "Pin policy (TOML or JSON)")->required();
  app.add_option("--keys", options->key_files, "Certificates or keys the pins correspond to (repeatable)");
  app.add_option("--at", options->at, "Date the document as of this time (default now)");
  app.add_option("-o,--output", options->output, "Write to FILE atomically instead of standard output");
  app.add_flag("--html", options->html, "HTML instead of Markdown");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
