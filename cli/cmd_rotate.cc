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

int RunPlan(const RotateOptions& options) {
  const bool json = options.json;
  tooling::RotationOptions rotation;
  if (!options.expires_in.empty()) {
    auto duration = ParseDuration(options.expires_in);
    if (!duration || *duration < std::chrono::days(1)) {
      return Fail(duration ? Error(ErrorCode::kInvalidArgument, "--expires-in must be at least a day") : duration.error(),
                  "--expires-in takes a duration such as 365d.", json, kExitUsage);
    }
    rotation.expiry_extension = std::chrono::floor<std::chrono::days>(*duration);
  }
  std::filesystem::path path = options.policy_file;
  auto bytes = ReadFileBounded(path, kMaxPolicyBytes);
  if (!bytes) return Fail(bytes.error(), "--policy takes the current policy file.", json, kExitUsage);
  std::string text(bytes->begin(), bytes->end());
  auto policy = LoadPolicyFile(path);
  if (!policy) return Fail(policy.error(), "Fix the policy file first (`pinion lint`).", json, kExitUsage);
  auto keys = LoadKeyFiles(options.next_keys);
  if (!keys) {
    return Fail(keys.error(), "--next-key takes the next key (private or public) or its certificate or CSR.", json,
                kExitUsage);
  }
  auto plan = tooling::PlanRotation(**policy, options.host, *keys, SystemClock::Instance().Now(), rotation);
  if (!plan) return Fail(plan.error(), "", json, kExitUsage);
  // The same format detection as LoadPolicyFile, so the text is edited as what it was read as.
  std::size_t first = text.find_first_not_of(" \t\r\n");
  bool is_json = path.extension() == ".json" ||
                 (path.extension() != ".toml" && first != std::string::npos && text[first] == '{');
  // Edited in place, not written again from the parsed policy: comments,
  // relative anchor paths, roles and layout stay as the owner wrote them.
  auto next = tooling::ApplyRotationToText(text, is_json, *plan, {.base_directory = path.parent_path()});
  if (!next) return Fail(next.error(), "Edit the policy by hand: add the pins below and raise the version.", json, kExitUsage);
  if (!options.output.empty()) {
    if (auto written = WriteFileAtomically(options.output, *next); !written) {
      return Fail(written.error(), "Check the output path and the disk.", json, kExitOutput);
    }
  }
  if (json) {
    nlohmann::json added = nlohmann::json::array();
    for (const Pin& pin : plan->added) added.push_back(pin.ToString());
    nlohmann::json out = {{"version", plan->next_policy->version()}, {"added_pins", added},
                          {"checklist", plan->checklist}, {"policy", *next}};
    out["expires"] = plan->next_expires ? nlohmann::json(FormatUtc(*plan->next_expires)) : nlohmann::json();
    out["previous_expires"] =
        plan->previous_expires ? nlohmann::json(FormatUtc(*plan->previous_expires)) : nlohmann::json();
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::ostream& checklist = options.output.empty() ? std::cerr : std::cout;
  if (options.output.empty()) std::cout << *next;
  checklist << Style("Rotation checklist for " + options.host + " (policy version " +
                         std::to_string(plan->next_policy->version()) + "):", Tone::kBold) << "\n";
  for (std::size_t i = 0; i < plan->checklist.size(); ++i) checklist << "  " << i + 1 << ". " << plan->checklist[i] << "\n";
  return kExitOk;
}

int RunCheck(const RotateOptions& options) {
  const bool json = options.json;
  auto chain = ReadCertificatesFromFile(options.chain_file);
  if (!chain) return Fail(chain.error(), "--chain takes the new chain as PEM, leaf first.", json, kExitUsage);
  std::string host = options.host;
  if (host.empty()) {
    auto leaf = DescribeCertificate(chain->front());
    if (!leaf || leaf->dns_names.empty()) {
      return Fail(Error(ErrorCode::kInvalidArgument, "the leaf names no DNS host"), "Give --host.", json, kExitUsage);
    }
    host = leaf->dns_names.front();
  }
  TimePoint at = SystemClock::Instance().Now();
  if (!options.at.empty()) {
    auto parsed = ParseTimestamp(options.at);
    if (!parsed) return Fail(parsed.error(), "--at takes YYYY-MM-DD or an RFC 3339 date-time.", json, kExitUsage);
    at = *parsed;
  }
  auto trust = LoadTrustStore(options.ca_file);
  if (!trust) return Fail(trust.error(), "--ca-file takes a PEM bundle of trusted roots.", json, kExitUsage);
  nlohmann::json rows = nlohmann::json::array();
  int lockouts = 0;
  bool validation_failed = false;
  for (const std::string& file : options.policies) {
    auto policy = LoadPolicyFile(file);
    if (!policy) return Fail(policy.error(), "Every policy version still in the field must load.", json, kExitUsage);
    PolicyStore store(*policy);
    auto enforcer = openssl::Enforcer::Create(store);
    if (!enforcer) return Fail(enforcer.error(), "", json);
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
  return [chosen] { return *chosen ? (*chosen)() : kExitUsage; };
}

}  // namespace pinion::cli
