// pinion lint POLICY — rules with stable IDs, as text, JSON or SARIF 2.1.0.
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/certificate_info.h"
#include "pinion/openssl/enforcer.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "pinion/policy_store.h"
#include "pinion/tooling/lint.h"
#include "pinion/tooling/tls_client.h"

namespace pinion::cli {

using tooling::ConnectTls;
using tooling::TlsClientResult;
namespace {

using tooling::Finding;
using tooling::Severity;

struct LintCliOptions {
  std::string policy_file;
  std::vector<std::string> key_files;
  std::vector<std::string> chain_files;
  std::vector<std::string> live_targets;
  std::string connect_to;
  std::string ca_file;
  std::string at;
  std::vector<std::string> disabled_rules;
  int max_expiry_days = 400;
  bool strict = false;
  bool json = false;
  bool sarif = false;
};

// A chain file serves the names in its leaf's subjectAltName.
Result<std::vector<tooling::CurrentChain>> ChainsFromFile(const std::string& file) {
  PINION_ASSIGN_OR_RETURN(auto certificates, ReadCertificatesFromFile(file));
  PINION_ASSIGN_OR_RETURN(CertificateInfo leaf, DescribeCertificate(certificates.front()));
  std::vector<tooling::CurrentChain> chains;
  for (const std::string& name : leaf.dns_names) chains.push_back({name, certificates});
  if (chains.empty()) {
    return Error(ErrorCode::kCertificateParse, "the leaf certificate names no DNS host").WithSource(file);
  }
  return chains;
}

struct LiveChain {
  tooling::CurrentChain chain;
  std::uint16_t port = 443;
};

Result<LiveChain> ChainFromServer(const std::string& target_text, const LintCliOptions& options) {
  PINION_ASSIGN_OR_RETURN(HostPort target, ParseHostPort(target_text));
  PINION_ASSIGN_OR_RETURN(auto store, LoadTrustStore(options.ca_file));
  openssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_cert_store(ctx.get(), store.release());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  PINION_ASSIGN_OR_RETURN(TlsClientResult result, ConnectTls({.host = target.host, .port = target.port,
                                                             .connect_to = options.connect_to, .ctx = ctx.get()}));
  if (result.served_chain.empty()) {
    return Error(ErrorCode::kTlsHandshake, target_text + ": no certificate received: " + result.error);
  }
  return LiveChain{{target.host, result.served_chain}, target.port};
}

// Validate validates `chain` as a handshake would now, with the rule's own
// anchors where it has them (openssl::Enforcer::CheckChain), and records the
// chain validation built: the one pins are matched against, so the one PIN002
// judges. The real clock, not --at: the chain is served now.
void Validate(tooling::CurrentChain& chain, std::uint16_t port, openssl::Enforcer& enforcer, X509_STORE* trust) {
  openssl::ChainCheck check = enforcer.CheckChain(chain.certificates_der, chain.host, port,
                                                  SystemClock::Instance().Now(), trust);
  if (check.validation) {
    chain.validated_der = std::move(check.validated_chain_der);
  } else {
    chain.validation_error = check.validation.error().message();
  }
}

nlohmann::json FindingJson(const Finding& finding) {
  nlohmann::json out = {{"rule_id", finding.rule->id},     {"rule_name", finding.rule->name},
                        {"severity", tooling::SeverityName(finding.severity)},
                        {"host", finding.host},            {"field", finding.field},
                        {"message", finding.message},      {"advice", finding.rule->advice},
                        {"line", finding.line},            {"column", finding.column}};
  if (!finding.suppressed_by.empty()) out["suppressed_by"] = finding.suppressed_by;
  return out;
}

std::string_view SarifLevel(Severity severity) { return tooling::SeverityName(severity); }

nlohmann::json Sarif(const std::vector<Finding>& findings, const std::string& policy_file) {
  nlohmann::json rules = nlohmann::json::array();
  for (const tooling::LintRule& rule : tooling::LintRules()) {
    rules.push_back({{"id", rule.id},
                     {"name", rule.name},
                     {"shortDescription", {{"text", rule.summary}}},
                     {"help", {{"text", rule.advice}}},
                     {"defaultConfiguration", {{"level", SarifLevel(rule.severity)}}}});
  }
  nlohmann::json results = nlohmann::json::array();
  for (const Finding& finding : findings) {
    nlohmann::json region = {{"startLine", std::max<std::uint32_t>(finding.line, 1)}};
    if (finding.column != 0) region["startColumn"] = finding.column;
    results.push_back({{"ruleId", finding.rule->id},
                       {"level", SarifLevel(finding.severity)},
                       {"message", {{"text", finding.message + " (" + finding.field + ")"}}},
                       {"locations", {{{"physicalLocation", {{"artifactLocation", {{"uri", policy_file}}},
                                                             {"region", region}}}}}}});
    if (!finding.suppressed_by.empty()) {
      // SARIF 2.1.0 §3.35: "external" for --disable, "inSource" for the policy's own lint_disable.
      results.back()["suppressions"] = {{{"kind", finding.suppressed_by == "--disable" ? "external" : "inSource"},
                                         {"justification", "disabled by " + finding.suppressed_by}}};
    }
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", {{{"tool", {{"driver", {{"name", "pinion"}, {"version", PINION_VERSION},
                                           {"rules", rules}}}}},
                     {"results", results}}}}};
}

// ReadLintOptions reads --at, --disable and --keys.
CliResult<tooling::LintOptions> ReadLintOptions(const LintCliOptions& options) {
  tooling::LintOptions lint{.max_expiry_horizon = std::chrono::days(options.max_expiry_days)};
  if (!options.at.empty()) {
    PINION_ASSIGN_OR_RETURN(lint.now, Hinted(ParseTimestamp(options.at),
                                             "--at takes YYYY-MM-DD or an RFC 3339 date-time with an offset."));
  }
  for (const std::string& id : options.disabled_rules) {
    if (id == "PIN000") {
      return CliFailure(Error(ErrorCode::kInvalidArgument, "PIN000 cannot be disabled").WithField("--disable"),
                        "A policy that does not load pins nothing; fix it instead.");
    }
    if (tooling::FindLintRule(id) == nullptr) {
      return CliFailure(Error(ErrorCode::kInvalidArgument, "'" + id + "' is not a lint rule").WithField("--disable"),
                        "--disable takes a rule ID such as PIN010 (docs/LINT.md lists them), one per flag.");
    }
    lint.disabled_rules.push_back(id);
  }
  PINION_ASSIGN_OR_RETURN(lint.keys, Hinted(LoadKeyFiles(options.key_files),
                                            "--keys takes certificates, public keys, private keys or CSRs."));
  return lint;
}

using ServedChains = std::vector<std::pair<tooling::CurrentChain, std::uint16_t>>;

// ReadServedChains reads every --chain file and every --live server's chain.
CliResult<ServedChains> ReadServedChains(const LintCliOptions& options) {
  ServedChains chains;
  for (const std::string& file : options.chain_files) {
    PINION_ASSIGN_OR_RETURN(auto from_file, Hinted(ChainsFromFile(file), "--chain takes a PEM chain, leaf first."));
    for (auto& chain : from_file) chains.emplace_back(std::move(chain), 443);
  }
  for (const std::string& target : options.live_targets) {
    PINION_ASSIGN_OR_RETURN(LiveChain live, Hinted(ChainFromServer(target, options),
                                                   "--live connects to HOST[:PORT] to read the chain it serves."));
    chains.emplace_back(std::move(live.chain), live.port);
  }
  return chains;
}

// ValidateServedChains validates each chain under the policy (see Validate).
CliStatus ValidateServedChains(const PolicySnapshot& policy, const LintCliOptions& options, ServedChains& chains) {
  PINION_ASSIGN_OR_RETURN(auto trust, Hinted(LoadTrustStore(options.ca_file),
                                             "--ca-file takes a PEM bundle of trusted roots.", kExitUsage));
  PolicyStore store(policy);
  PINION_ASSIGN_OR_RETURN(auto enforcer, openssl::Enforcer::Create(store));
  for (auto& entry : chains) Validate(entry.first, entry.second, *enforcer, trust.get());
  return std::monostate();
}

struct FindingCounts {
  int errors = 0, warnings = 0, notes = 0, suppressed = 0;
};

// CountFindings counts the findings in force by severity (warnings are
// errors with --strict, which raises them in place) and the suppressed ones.
FindingCounts CountFindings(std::vector<Finding>& findings, bool strict) {
  FindingCounts counts;
  for (Finding& finding : findings) {
    if (!finding.suppressed_by.empty()) {
      ++counts.suppressed;
      continue;
    }
    if (strict && finding.severity == Severity::kWarning) finding.severity = Severity::kError;
    switch (finding.severity) {
      case Severity::kError: ++counts.errors; break;
      case Severity::kWarning: ++counts.warnings; break;
      case Severity::kNote: ++counts.notes; break;
    }
  }
  return counts;
}

void PrintJson(const std::vector<Finding>& findings, const FindingCounts& counts, const std::string& policy_file,
               int exit_code) {
  // Suppressed findings apart, so a consumer counting "findings" counts what is in force.
  nlohmann::json list = nlohmann::json::array(), suppressed_list = nlohmann::json::array();
  for (const Finding& finding : findings) {
    (finding.suppressed_by.empty() ? list : suppressed_list).push_back(FindingJson(finding));
  }
  std::cout << nlohmann::json{{"policy", policy_file}, {"findings", list}, {"suppressed", suppressed_list},
                              {"summary", {{"errors", counts.errors}, {"warnings", counts.warnings},
                                           {"notes", counts.notes}, {"suppressed", counts.suppressed}}},
                              {"exit_code", exit_code}}
                   .dump(2)
            << "\n";
}

void PrintText(const std::vector<Finding>& findings, const FindingCounts& counts, const std::string& policy_file) {
  for (const Finding& finding : findings) {
    if (!finding.suppressed_by.empty()) continue;
    Tone tone = finding.severity == Severity::kError     ? Tone::kBad
                : finding.severity == Severity::kWarning ? Tone::kWarn
                                                         : Tone::kDim;
    std::cout << policy_file << (finding.line ? ":" + std::to_string(finding.line) : "") << ": "
              << Style(tooling::SeverityName(finding.severity), tone) << " " << finding.rule->id << " "
              << finding.rule->name << (finding.field.empty() ? "" : " [" + finding.field + "]") << "\n"
              << "  " << finding.message << "\n"
              << "  " << Style(finding.rule->advice, Tone::kDim) << "\n";
  }
  std::cout << counts.errors << " error" << (counts.errors == 1 ? "" : "s") << ", " << counts.warnings << " warning"
            << (counts.warnings == 1 ? "" : "s") << ", " << counts.notes << " note" << (counts.notes == 1 ? "" : "s")
            << (counts.suppressed > 0
                    ? ", " + std::to_string(counts.suppressed) + " suppressed (--disable, lint_disable)"
                    : "")
            << "\n";
}

CommandResult Run(const LintCliOptions& options) {
  PINION_ASSIGN_OR_RETURN(tooling::LintOptions lint, ReadLintOptions(options));
  // A file that cannot be read is a usage error like everywhere else; a file
  // that reads but does not load is what lint reports (PIN000 / PIN011).
  auto policy = LoadPolicyFile(options.policy_file);
  if (!policy && (policy.error().code() == ErrorCode::kIo || policy.error().code() == ErrorCode::kInputTooLarge)) {
    return CliFailure(policy.error(), "Give the policy file to lint (TOML or JSON).");
  }
  PINION_ASSIGN_OR_RETURN(ServedChains chains, ReadServedChains(options));
  if (policy && !chains.empty()) {
    PINION_TRY(ValidateServedChains(*policy, options, chains));
  }
  for (auto& entry : chains) lint.current_chains.push_back(std::move(entry.first));

  std::vector<Finding> findings;
  if (policy) {
    findings = tooling::LintPolicy(**policy, lint);
  } else {
    findings.push_back(tooling::FindingForLoadError(policy.error()));
  }
  FindingCounts counts = CountFindings(findings, options.strict);
  int code = counts.errors > 0 ? kExitPinFailure : kExitOk;
  if (options.sarif) {
    std::cout << Sarif(findings, options.policy_file).dump(2) << "\n";
  } else if (options.json) {
    PrintJson(findings, counts, options.policy_file, code);
  } else {
    PrintText(findings, counts, options.policy_file);
  }
  return code;
}

}  // namespace

CommandRunner AttachLint(CLI::App& app) {
  auto options = std::make_shared<LintCliOptions>();
  app.footer(
      "Check a policy for the mistakes that lock users out or leave hosts unprotected. Every "
      "finding has a stable rule ID (docs/LINT.md), a severity, the host and field concerned and "
      "advice. Exit codes: 0 no errors, 1 errors found (or warnings, with --strict; a policy "
      "that does not load is finding PIN000), 2 usage error or unreadable file, 3 --live could "
      "not connect.");
  app.add_option("policy", options->policy_file, "Pin policy (TOML or JSON)")->required();
  app.add_option("--keys", options->key_files,
                 "Certificates or keys the pins should correspond to (repeatable)");
  app.add_option("--chain", options->chain_files,
                 "A PEM chain served now (leaf first); applies to the hosts its leaf names (repeatable)");
  app.add_option("--live", options->live_targets, "Read the chain HOST[:PORT] serves now (repeatable)");
  app.add_option("--connect-to", options->connect_to, "With --live: dial this address instead of HOST");
  app.add_option("--ca-file", options->ca_file,
                 "With --chain/--live: validate against this PEM bundle instead of the system store "
                 "(a rule's own anchors still replace it for its hosts)");
  app.add_option("--disable", options->disabled_rules, "Do not apply this rule (ID, e.g. PIN010); one per flag, repeatable");
  app.add_option("--max-expiry-days", options->max_expiry_days,
                 "Report an expiry further away than this many days (default 400)")
      ->check(CLI::Range(1, 36500));
  app.add_option("--at", options->at, "Lint as of this time (YYYY-MM-DD or RFC 3339) instead of now");
  app.add_flag("--strict", options->strict, "Treat warnings as errors");
  app.add_flag("--json", options->json, "Print JSON");
  app.add_flag("--sarif", options->sarif, "Print SARIF 2.1.0 for code-scanning tools");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
