// pinion rotate plan|check — rehearse key rotations.
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/atomic_file.h"
#include "pinion/certificate_info.h"
#include "pinion/openssl/enforcer.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "pinion/policy_writer.h"
#include "pinion/tooling/rotation.h"

namespace pinion::cli {
namespace {

struct RotateOptions {
  // plan
  std::string policy_file;
  std::string host;
  std::vector<std::string> next_keys;
  std::string output;
  // check
  std::string chain_file;
  std::string at;
  std::string ca_file;
  std::vector<std::string> policies;
  bool json = false;
};

int RunPlan(const RotateOptions& options) {
  auto policy = LoadPolicyFile(options.policy_file);
  if (!policy) {
    PrintError(policy.error(), "Fix the policy file first (`pinion lint`).");
    return kExitUsage;
  }
  auto keys = ReadKeyFiles(options.next_keys, "--next-key takes the next key (private or public) or its certificate or CSR.");
  if (!keys) return kExitUsage;
  auto plan = tooling::PlanRotation(**policy, options.host, *keys, SystemClock::Instance().Now());
  if (!plan) {
    PrintError(plan.error());
    return kExitUsage;
  }
  std::string next = options.policy_file.ends_with(".json") ? PolicyToJson(*plan->next_policy) : PolicyToToml(*plan->next_policy);
  if (!options.output.empty()) {
    if (auto written = WriteFileAtomically(options.output, next); !written) {
      PrintError(written.error());
      return kExitUsage;
    }
  }
  if (options.json) {
    nlohmann::json added = nlohmann::json::array();
    for (const Pin& pin : plan->added) added.push_back(pin.ToString());
    std::cout << nlohmann::json{{"version", plan->next_policy->version()}, {"added_pins", added},
                                {"checklist", plan->checklist}, {"policy", next}}.dump(2) << "\n";
    return kExitOk;
  }
  std::ostream& checklist = options.output.empty() ? std::cerr : std::cout;
  if (options.output.empty()) std::cout << next;
  checklist << Style("Rotation checklist for " + options.host + " (policy version " +
                         std::to_string(plan->next_policy->version()) + "):", Tone::kBold) << "\n";
  for (std::size_t i = 0; i < plan->checklist.size(); ++i) checklist << "  " << i + 1 << ". " << plan->checklist[i] << "\n";
  return kExitOk;
}

int RunCheck(const RotateOptions& options) {
  auto chain = ReadCertificatesFromFile(options.chain_file);
  if (!chain) {
    PrintError(chain.error(), "--chain takes the new chain as PEM, leaf first.");
    return kExitUsage;
  }
  std::string host = options.host;
  if (host.empty()) {
    auto leaf = DescribeCertificate(chain->front());
    if (!leaf || leaf->dns_names.empty()) {
      PrintError(Error(ErrorCode::kInvalidArgument, "the leaf names no DNS host; give --host"));
      return kExitUsage;
    }
    host = leaf->dns_names.front();
  }
  TimePoint at = SystemClock::Instance().Now();
  if (!options.at.empty()) {
    auto parsed = ParseTimestamp(options.at);
    if (!parsed) {
      PrintError(parsed.error(), "--at takes YYYY-MM-DD or an RFC 3339 date-time.");
      return kExitUsage;
    }
    at = *parsed;
  }
  auto trust = LoadTrustStore(options.ca_file);
  if (!trust) {
    PrintError(trust.error());
    return kExitUsage;
  }
  nlohmann::json rows = nlohmann::json::array();
  int lockouts = 0;
  bool validation_failed = false;
  for (const std::string& file : options.policies) {
    auto policy = LoadPolicyFile(file);
    if (!policy) {
      PrintError(policy.error(), "Every policy version still in the field must load.");
      return kExitUsage;
    }
    PolicyStore store(*policy);
    auto enforcer = openssl::Enforcer::Create(store);
    openssl::ChainCheck check = (*enforcer)->CheckChain(*chain, host, 443, at, trust->get());
    nlohmann::json row = {{"policy", file}, {"version", (*policy)->version()}};
    if (!check.validation) {
      validation_failed = true;
      row["outcome"] = "validation_error";
      row["detail"] = check.validation.error().ToString();
    } else {
      const Verdict& verdict = *check.verdict;
      row["outcome"] = verdict.allowed() ? "accepts" : "locks_out";
      row["reason"] = VerdictReasonName(verdict.reason);
      const PinEntry* pin = verdict.matched_pin();
      row["detail"] = pin != nullptr ? pin->pin.ToString() + (pin->label.empty() ? "" : " (" + pin->label + ")") : "";
      if (!verdict.allowed()) ++lockouts;
    }
    rows.push_back(row);
  }
  int code = validation_failed ? kExitTlsFailure : lockouts > 0 ? kExitPinFailure : kExitOk;
  if (options.json) {
    std::cout << nlohmann::json{{"host", host}, {"at", FormatUtc(at)}, {"policies", rows}, {"lockouts", lockouts},
                                {"exit_code", code}}.dump(2) << "\n";
    return code;
  }
  std::cout << "New chain for " << host << " at " << FormatUtc(at) << ":\n";
  for (const auto& row : rows) {
    std::string outcome = row["outcome"];
    Tone tone = outcome == "accepts" ? Tone::kGood : Tone::kBad;
    std::cout << "  " << Style(outcome == "accepts" ? "accepts  " : outcome == "locks_out" ? "LOCKS OUT" : "INVALID  ", tone)
              << "  v" << row["version"].get<std::uint64_t>() << "  " << row["policy"].get<std::string>();
    if (row.contains("reason")) std::cout << "  " << row["reason"].get<std::string>();
    std::string detail = row["detail"];
    if (!detail.empty()) std::cout << "  " << detail;
    std::cout << "\n";
  }
  if (validation_failed) {
    std::cout << "The chain does not validate for " << host << " at that time: fix it before any pin matters.\n";
  } else if (lockouts > 0) {
    std::cout << lockouts << " policy version(s) would lock their users out: ship the next key's pin first.\n";
  } else {
    std::cout << "Every policy version accepts the new chain.\n";
  }
  return code;
}

}  // namespace

CommandRunner AttachRotate(CLI::App& app) {
  auto options = std::make_shared<RotateOptions>();
  auto chosen = std::make_shared<CommandRunner>();
  app.require_subcommand(1);
  app.footer("Plan a key rotation, then check that every policy version still in the field accepts the "
             "new chain before deploying it. docs/ROTATION.md walks through one.");
  CLI::App* plan = app.add_subcommand("plan", "Pin the next key as a backup in the next policy version, with a checklist");
  plan->add_option("--policy", options->policy_file, "Current policy")->required();
  plan->add_option("--host", options->host, "The host whose key rotates")->required();
  plan->add_option("--next-key", options->next_keys, "The next key (or its certificate or CSR); repeatable")
      ->required()
      ->allow_extra_args(false);  // one value per flag, like manifest --key
  plan->add_option("-o,--output", options->output, "Write the next policy to FILE atomically (checklist on stdout)");
  plan->add_flag("--json", options->json, "Print JSON: {version, added_pins, checklist, policy}");
  plan->callback([options, chosen] { *chosen = [options] { return RunPlan(*options); }; });
  CLI::App* check = app.add_subcommand("check", "Which policy versions would accept (or lock out) a new chain");
  check->add_option("--chain", options->chain_file, "The new chain, PEM, leaf first")->required();
  check->add_option("--at", options->at, "When it will be deployed (YYYY-MM-DD or RFC 3339; default now)");
  check->add_option("--host", options->host, "Host (default: the leaf's first DNS name)");
  check->add_option("--ca-file", options->ca_file, "Trust only this PEM bundle instead of the system store");
  check->add_option("policies", options->policies, "Every policy version still in the field")->required();
  check->add_flag("--json", options->json, "Print JSON");
  check->callback([options, chosen] { *chosen = [options] { return RunCheck(*options); }; });
  return [chosen] { return *chosen ? (*chosen)() : kExitUsage; };
}

}  // namespace pinion::cli
