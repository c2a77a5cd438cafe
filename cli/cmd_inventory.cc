// pinion inventory POLICY — the documented pins, as Markdown or HTML.
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/atomic_file.h"
#include "pinion/certificate_info.h"
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
  bool json = false;
};

// InventoryJson: the same facts as the document, as data.
nlohmann::json InventoryJson(const Policy& policy, const std::vector<PinSource>& keys) {
  nlohmann::json domains = nlohmann::json::array();
  for (const DomainRule& rule : policy.rules()) {
    nlohmann::json pins = nlohmann::json::array();
    for (const PinEntry& entry : rule.pins) {
      nlohmann::json key;
      for (const PinSource& source : keys) {
        auto certificate_pin = source.CertificatePin(entry.pin.algorithm());
        if (source.SpkiPin(entry.pin.algorithm()) == entry.pin || (certificate_pin && *certificate_pin == entry.pin)) {
          key = {{"origin", source.origin}, {"kind", PinSourceKindName(source.kind)}, {"subject", source.subject}};
          break;
        }
      }
      pins.push_back({{"pin", entry.pin.ToString()},
                      {"label", entry.label},
                      {"role", entry.role == PinRole::kUnspecified ? nlohmann::json() : nlohmann::json(PinRoleName(entry.role))},
                      {"key", key}});
    }
    domains.push_back({{"host", rule.host.ToString()},
                       {"mode", EnforcementModeName(rule.mode)},
                       {"expires", rule.expires ? nlohmann::json(FormatUtc(*rule.expires)) : nlohmann::json()},
                       {"on_expiry", ExpiryActionName(rule.on_expiry)},
                       {"report_uris", rule.report_uris},
                       {"pins", pins}});
  }
  return domains;
}

CommandResult Run(const InventoryCliOptions& options) {
  PINION_ASSIGN_OR_RETURN(PolicySnapshot policy,
                          Hinted(LoadPolicyFile(options.policy_file), "Fix the policy file first (`pinion lint`)."));
  tooling::InventoryOptions inventory{.source_name = options.policy_file};
  if (!options.at.empty()) {
    auto at = ParseTimestamp(options.at);
    if (!at) return CliFailure(std::move(at).error().WithField("--at"), "--at takes YYYY-MM-DD or RFC 3339.");
    inventory.now = *at;
  }
  PINION_ASSIGN_OR_RETURN(inventory.keys, Hinted(LoadKeyFiles(options.key_files),
                                                 "--keys takes certificates, public keys, private keys or CSRs."));
  std::string document = options.html ? tooling::InventoryHtml(*policy, inventory)
                                      : tooling::InventoryMarkdown(*policy, inventory);
  if (!options.output.empty()) {
    // Atomic: a full disk or a missing directory leaves no partial document behind.
    if (Status written = WriteFileAtomically(options.output, document); !written.ok()) {
      return CliFailure(written.error(),
                        "Nothing was written: check that the -o directory exists, is writable and has space.")
          .WithExitCode(kExitOutput);
    }
  }
  if (options.json) {
    nlohmann::json out = {{"policy", options.policy_file},
                          {"policy_version", policy->version()},
                          {"format", options.html ? "html" : "markdown"},
                          {"domains", InventoryJson(*policy, inventory.keys)},
                          {"output", options.output.empty() ? nlohmann::json() : nlohmann::json(options.output)}};
    out["document"] = options.output.empty() ? nlohmann::json(document) : nlohmann::json();
    std::cout << out.dump(2) << "\n";
  } else if (options.output.empty()) {
    std::cout << document;
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
  app.add_flag("--json", options->json,
               "Print JSON: {policy, policy_version, format, output, document} (errors too: {\"error\": {...}})");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
