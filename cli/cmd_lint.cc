// pinion lint POLICY — rules with stable IDs, as text, JSON or SARIF 2.1.0.
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/certificate_info.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "pinion/tooling/lint.h"
#include "tls_client.h"

namespace pinion::cli {
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

Result<tooling::CurrentChain> ChainFromServer(const std::string& target_text, const LintCliOptions& options) {
  PINION_ASSIGN_OR_RETURN(HostPort target, ParseHostPort(target_text));
  PINION_ASSIGN_OR_RETURN(auto store, LoadTrustStore(options.ca_file));
  internal::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_cert_store(ctx.get(), store.release());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  PINION_ASSIGN_OR_RETURN(TlsClientResult result, ConnectTls({.host = target.host, .port = target.port,
                                                             .connect_to = options.connect_to, .ctx = ctx.get()}));
  if (result.served_chain.empty()) {
    return Error(ErrorCode::kTlsHandshake, target_text + ": no certificate received: " + result.error);
  }
  return tooling::CurrentChain{target.host, result.served_chain};
}

nlohmann::json FindingJson(const Finding& finding) {
  return {{"rule_id", finding.rule->id},     {"rule_name", finding.rule->name},
          {"severity", tooling::SeverityName(finding.severity)},
          {"host", finding.host},            {"field", finding.field},
          {"message", finding.message},      {"advice", finding.rule->advice},
          {"line", finding.line},            {"column", finding.column}};
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
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", {{{"tool", {{"driver", {{"name", "pinion"}, {"version", PINION_VERSION},
                                           {"rules", rules}}}}},
                     {"results", results}}}}};
}

int Run(const LintCliOptions& options) {
  tooling::LintOptions lint{.max_expiry_horizon = std::chrono::days(options.max_expiry_days)};
  if (!options.at.empty()) {
    auto at = ParseTimestamp(options.at);
    if (!at) {
      PrintError(at.error(), "--at takes YYYY-MM-DD or an RFC 3339 date-time with an offset.");
      return kExitUsage;
    }
    lint.now = *at;
  }
  auto keys = ReadKeyFiles(options.key_files, "--keys takes certificates, public keys, private keys or CSRs.");
  if (!keys) return kExitUsage;
  lint.keys = std::move(*keys);
  for (const std::string& file : options.chain_files) {
    auto chains = ChainsFromFile(file);
    if (!chains) {
      PrintError(chains.error(), "--chain takes a PEM chain, leaf first.");
      return kExitUsage;
    }
    lint.current_chains.insert(lint.current_chains.end(), chains->begin(), chains->end());
  }
  for (const std::string& target : options.live_targets) {
    auto chain = ChainFromServer(target, options);
    if (!chain) {
      PrintError(chain.error(), "--live connects to HOST[:PORT] to read the chain it serves.");
      return kExitTlsFailure;
    }
    lint.current_chains.push_back(std::move(*chain));
  }

  std::vector<Finding> findings;
  auto policy = LoadPolicyFile(options.policy_file);
  if (policy) {
    findings = tooling::LintPolicy(**policy, lint);
  } else {
    findings.push_back(tooling::FindingForLoadError(policy.error()));
  }
  int errors = 0, warnings = 0, notes = 0;
  for (Finding& finding : findings) {
    if (options.strict && finding.severity == Severity::kWarning) finding.severity = Severity::kError;
    switch (finding.severity) {
      case Severity::kError: ++errors; break;
      case Severity::kWarning: ++warnings; break;
      case Severity::kNote: ++notes; break;
    }
  }
  int code = errors > 0 ? kExitPinFailure : kExitOk;

  if (options.sarif) {
    std::cout << Sarif(findings, options.policy_file).dump(2) << "\n";
  } else if (options.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const Finding& finding : findings) list.push_back(FindingJson(finding));
    std::cout << nlohmann::json{{"policy", options.policy_file}, {"findings", list},
                                {"summary", {{"errors", errors}, {"warnings", warnings}, {"notes", notes}}},
                                {"exit_code", code}}
                     .dump(2)
              << "\n";
  } else {
    for (const Finding& finding : findings) {
      Tone tone = finding.severity == Severity::kError   ? Tone::kBad
                  : finding.severity == Severity::kWarning ? Tone::kWarn
                                                           : Tone::kDim;
      std::cout << options.policy_file << (finding.line ? ":" + std::to_string(finding.line) : "") << ": "
                << Style(tooling::SeverityName(finding.severity), tone) << " " << finding.rule->id << " "
                << finding.rule->name << (finding.field.empty() ? "" : " [" + finding.field + "]") << "\n"
                << "  " << finding.message << "\n"
                << "  " << Style(finding.rule->advice, Tone::kDim) << "\n";
    }
    std::cout << errors << " error" << (errors == 1 ? "" : "s") << ", " << warnings << " warning"
              << (warnings == 1 ? "" : "s") << ", " << notes << " note" << (notes == 1 ? "" : "s") << "\n";
  }
  return code;
}

}  // namespace

CommandRunner AttachLint(CLI::App& app) {
  auto options = std::make_shared<LintCliOptions>();
  app.footer(
      "Check a policy for the mistakes that lock users out or leave hosts unprotected. Every "
      "finding has a stable rule ID (docs/LINT.md), a severity, the host and field concerned and "
      "advice. Exit codes: 0 no errors, 1 errors found (or warnings, with --strict), 2 usage "
      "error, 3 --live could not connect.");
  app.add_option("policy", options->policy_file, "Pin policy (TOML or JSON)")->required();
  app.add_option("--keys", options->key_files,
                 "Certificates or keys the pins should correspond to (repeatable)");
  app.add_option("--chain", options->chain_files,
                 "A PEM chain served now (leaf first); applies to the hosts its leaf names (repeatable)");
  app.add_option("--live", options->live_targets, "Read the chain HOST[:PORT] serves now (repeatable)");
  app.add_option("--connect-to", options->connect_to, "With --live: dial this address instead of HOST");
  app.add_option("--ca-file", options->ca_file, "With --live: trust only this PEM bundle");
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
