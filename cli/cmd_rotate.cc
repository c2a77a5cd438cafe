// pinion rotate plan|check — rehearse key rotations.
#include <iostream>
#include <filesystem>
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
  std::string expires_in;
  // check
  std::string chain_file;
  std::string at;
  std::string ca_file;
  std::vector<std::string> policies;
  bool json = false;
};

CliResult<tooling::RotationOptions> ReadRotationOptions(const RotateOptions& options) {
  tooling::RotationOptions rotation;
  if (options.expires_in.empty()) return rotation;
  auto duration = ParseDuration(options.expires_in);
  if (!duration || *duration < std::chrono::days(1)) {
    return CliFailure(duration ? Error(ErrorCode::kInvalidArgument, "--expires-in must be at least a day")
                               : duration.error(),
                      "--expires-in takes a duration such as 365d.");
  }
  rotation.expiry_extension = std::chrono::floor<std::chrono::days>(*duration);
  return rotation;
}

void PrintPlan(const RotateOptions& options, const tooling::RotationPlan& plan, const std::string& next) {
  if (options.json) {
    nlohmann::json added = nlohmann::json::array();
    for (const Pin& pin : plan.added) added.push_back(pin.ToString());
    nlohmann::json out = {{"version", plan.next_policy->version()}, {"added_pins", added},
                          {"checklist", plan.checklist}, {"policy", next}};
    out["expires"] = plan.next_expires ? nlohmann::json(FormatUtc(*plan.next_expires)) : nlohmann::json();
    out["previous_expires"] =
        plan.previous_expires ? nlohmann::json(FormatUtc(*plan.previous_expires)) : nlohmann::json();
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::ostream& checklist = options.output.empty() ? std::cerr : std::cout;
  if (options.output.empty()) std::cout << next;
  checklist << Style("Rotation checklist for " + options.host + " (policy version " +
                         std::to_string(plan.next_policy->version()) + "):", Tone::kBold) << "\n";
  for (std::size_t i = 0; i < plan.checklist.size(); ++i) checklist << "  " << i + 1 << ". " << plan.checklist[i] << "\n";
}

CommandResult RunPlan(const RotateOptions& options) {
  PINION_ASSIGN_OR_RETURN(tooling::RotationOptions rotation, ReadRotationOptions(options));
  std::filesystem::path path = options.policy_file;
  PINION_ASSIGN_OR_RETURN(auto bytes,
                          Hinted(ReadFileBounded(path, kMaxPolicyBytes), "--policy takes the current policy file."));
  std::string text(bytes.begin(), bytes.end());
  PINION_ASSIGN_OR_RETURN(PolicySnapshot policy,
                          Hinted(LoadPolicyFile(path), "Fix the policy file first (`pinion lint`)."));
  PINION_ASSIGN_OR_RETURN(
      auto keys, Hinted(LoadKeyFiles(options.next_keys),
                        "--next-key takes the next key (private or public) or its certificate or CSR."));
  PINION_ASSIGN_OR_RETURN(auto plan,
                          tooling::PlanRotation(*policy, options.host, keys, SystemClock::Instance().Now(), rotation));
  // The same format detection as LoadPolicyFile, so the text is edited as what it was read as.
  std::size_t first = text.find_first_not_of(" \t\r\n");
  bool is_json = path.extension() == ".json" ||
                 (path.extension() != ".toml" && first != std::string::npos && text[first] == '{');
  // Edited in place, not written again from the parsed policy: comments,
  // relative anchor paths, roles and layout stay as the owner wrote them.
  PINION_ASSIGN_OR_RETURN(
      std::string next,
      Hinted(tooling::ApplyRotationToText(text, is_json, plan, {.base_directory = path.parent_path()}),
             "Edit the policy by hand: add the pins below and raise the version."));
  if (!options.output.empty()) {
    if (auto written = WriteFileAtomically(options.output, next); !written) {
      return CliFailure(written.error(), "Check the output path and the disk.").WithExitCode(kExitOutput);
    }
  }
  PrintPlan(options, plan, next);
  return kExitOk;
}

// LoadFieldPolicies loads every policy version still in the field.
CliResult<std::vector<tooling::FieldPolicy>> LoadFieldPolicies(const std::vector<std::string>& files) {
  std::vector<tooling::FieldPolicy> policies;
  for (const std::string& file : files) {
    PINION_ASSIGN_OR_RETURN(PolicySnapshot policy,
                            Hinted(LoadPolicyFile(file), "Every policy version still in the field must load."));
    policies.push_back({file, std::move(policy)});
  }
  return policies;
}

int CheckExitCode(const tooling::RotationCheck& check) {
  return check.ValidationFailed() ? kExitTlsFailure : check.LockOuts() > 0 ? kExitPinFailure : kExitOk;
}

// Detail: the pin that accepted the chain, or why the chain did not validate.
std::string Detail(const tooling::PolicyAcceptance& row) {
  if (row.validation_error) return row.validation_error->ToString();
  if (!row.matched_pin) return "";
  const PinEntry& pin = *row.matched_pin;
  return pin.pin.ToString() + (pin.label.empty() ? "" : " (" + pin.label + ")");
}

void PrintCheckJson(const tooling::RotationCheck& check) {
  nlohmann::json rows = nlohmann::json::array();
  for (const tooling::PolicyAcceptance& row : check.policies) {
    nlohmann::json item = {{"policy", row.name},
                           {"version", row.version},
                           {"outcome", tooling::ChainAcceptanceName(row.acceptance)},
                           {"detail", Detail(row)}};
    if (row.reason) item["reason"] = VerdictReasonName(*row.reason);
    rows.push_back(item);
  }
  std::cout << nlohmann::json{{"host", check.host}, {"at", FormatUtc(check.at)}, {"policies", rows},
                              {"lockouts", check.LockOuts()}, {"exit_code", CheckExitCode(check)}}
                   .dump(2)
            << "\n";
}

void PrintCheckText(const tooling::RotationCheck& check) {
  std::cout << "New chain for " << check.host << " at " << FormatUtc(check.at) << ":\n";
  for (const tooling::PolicyAcceptance& row : check.policies) {
    bool accepts = row.acceptance == tooling::ChainAcceptance::kAccepts;
    std::cout << "  "
              << Style(accepts                                                    ? "accepts  "
                       : row.acceptance == tooling::ChainAcceptance::kLocksOut ? "LOCKS OUT"
                                                                                 : "INVALID  ",
                       accepts ? Tone::kGood : Tone::kBad)
              << "  v" << row.version << "  " << row.name;
    if (row.reason) std::cout << "  " << VerdictReasonName(*row.reason);
    if (std::string detail = Detail(row); !detail.empty()) std::cout << "  " << detail;
    std::cout << "\n";
  }
  if (check.ValidationFailed()) {
    std::cout << "The chain does not validate for " << check.host << " at that time: fix it before any pin matters.\n";
  } else if (check.LockOuts() > 0) {
    std::cout << check.LockOuts() << " policy version(s) would lock their users out: ship the next key's pin first.\n";
  } else {
    std::cout << "Every policy version accepts the new chain.\n";
  }
}

CommandResult RunCheck(const RotateOptions& options) {
  PINION_ASSIGN_OR_RETURN(auto chain, Hinted(ReadCertificatesFromFile(options.chain_file),
                                             "--chain takes the new chain as PEM, leaf first."));
  std::string host = options.host;
  if (host.empty()) {
    PINION_ASSIGN_OR_RETURN(host, Hinted(tooling::LeafHostName(chain), "Give --host."));
  }
  TimePoint at = SystemClock::Instance().Now();
  if (!options.at.empty()) {
    PINION_ASSIGN_OR_RETURN(at, Hinted(ParseTimestamp(options.at), "--at takes YYYY-MM-DD or an RFC 3339 date-time."));
  }
  PINION_ASSIGN_OR_RETURN(auto trust, Hinted(LoadTrustStore(options.ca_file),
                                             "--ca-file takes a PEM bundle of trusted roots.", kExitUsage));
  PINION_ASSIGN_OR_RETURN(auto policies, LoadFieldPolicies(options.policies));
  PINION_ASSIGN_OR_RETURN(tooling::RotationCheck check,
                          tooling::CheckRotation(chain, policies, {.host = host, .at = at, .trust = trust.get()}));
  if (options.json) {
    PrintCheckJson(check);
  } else {
    PrintCheckText(check);
  }
  return CheckExitCode(check);
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
  plan->add_option("--expires-in", options->expires_in,
                   "Move the rule's expires to today + this (default 365d; never moved back)");
  plan->add_flag("--json", options->json, "Print JSON: {version, added_pins, expires, previous_expires, checklist, policy}");
  plan->callback([options, chosen] { *chosen = [options] { return RunPlan(*options); }; });
  CLI::App* check = app.add_subcommand("check", "Which policy versions would accept (or lock out) a new chain");
  check->add_option("--chain", options->chain_file, "The new chain, PEM, leaf first")->required();
  check->add_option("--at", options->at, "When it will be deployed (YYYY-MM-DD or RFC 3339; default now)");
  check->add_option("--host", options->host, "Host (default: the leaf's first DNS name)");
  check->add_option("--ca-file", options->ca_file, "Trust only this PEM bundle instead of the system store");
  check->add_option("policies", options->policies, "Every policy version still in the field")->required();
  check->add_flag("--json", options->json, "Print JSON");
  check->callback([options, chosen] { *chosen = [options] { return RunCheck(*options); }; });
  return [chosen] { return *chosen ? (*chosen)() : CommandResult(kExitUsage); };
}

}  // namespace pinion::cli
