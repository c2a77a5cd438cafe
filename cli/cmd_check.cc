// pinion check HOST[:PORT] --policy FILE — a real handshake (or a chain file)
// judged by normal validation first, then by the policy's pins.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/host_pattern.h"
#include "pinion/openssl/enforcer.h"
#include "pinion/pin_source.h"
#include "pinion/curl/report_uploader.h"
#include "pinion/policy_loader.h"
#include "pinion/report/reporter.h"
#include "pinion/tooling/tls_client.h"

namespace pinion::cli {

using tooling::ConnectProblem;
using tooling::ConnectProblemHint;
using tooling::ConnectProblemName;
using tooling::ConnectTls;
using tooling::ErrorCodeOf;
namespace {

struct CheckOptions {
  std::string target;
  std::string policy_file;
  std::string ca_file;
  std::string connect_to;
  std::string chain_file;
  std::string at;
  std::string debug_proxy_ca;
  std::string report_to;
  std::string report_ca_file;
  std::string report_spool;
  double timeout_seconds = 10;
  bool json = false;
};

// The outcome of a check, whichever way it was made.
struct Outcome {
  std::string mode;  // "handshake" | "chain"
  HostPort target;
  std::optional<Error> error;       // TLS, validation or network error (exit 3)
  std::shared_ptr<const Verdict> verdict;  // may come with an error: information only
  std::string handshake;            // "completed" | "failed" | "" (no handshake: chain mode, no connection)
  ConnectProblem problem = ConnectProblem::kNone;  // why the connection failed, when it did
  std::optional<nlohmann::json> report;            // with --report-to: what happened to the report
};

// ReportExitCode: a check whose failure report could not be delivered did
// not do what was asked; a pin failure (1) still says more than that.
int ReportExitCode(const Outcome& outcome, int code) {
  if (!outcome.report || code != kExitOk) return code;
  return (*outcome.report)["delivered"].get<bool>() || (*outcome.report)["sent"] == false ? code : kExitTlsFailure;
}

void PrintReportStatus(const nlohmann::json& report) {
  if (report["sent"] == false) {
    std::cout << "report: not sent (" << report["outcome"].get<std::string>() << ")\n";
  } else if (report["delivered"].get<bool>()) {
    std::cout << "report: " << Style("delivered", Tone::kGood) << " to " << report["to"].get<std::string>() << "\n";
  } else {
    std::cout << "report: " << Style("NOT delivered", Tone::kBad) << " to " << report["to"].get<std::string>()
              << (report["error"].is_null() ? "" : ": " + report["error"].get<std::string>()) << "\n"
              << "  " << (report["spooled"].get<bool>()
                              ? "It stays in --report-spool and is sent by the next run."
                              : "Give --report-spool DIR to keep undelivered reports for the next run.")
              << "\n";
  }
}

// Judgement is what an outcome means for the exit code and the JSON "outcome".
struct Judgement {
  int exit_code = kExitOk;
  std::string label = "accepted";
};

Judgement Judge(const Outcome& outcome) {
  Judgement judgement;
  if (outcome.error) {
    judgement.exit_code = kExitTlsFailure;
    judgement.label = outcome.error->code() == ErrorCode::kNetwork       ? "network_error"
                      : outcome.error->code() == ErrorCode::kTlsHandshake ? "handshake_error"
                                                                           : "validation_error";
  } else if (outcome.verdict != nullptr && !outcome.verdict->allowed()) {
    judgement.exit_code = kExitPinFailure;
    judgement.label = "pin_failure";
  }
  judgement.exit_code = ReportExitCode(outcome, judgement.exit_code);
  return judgement;
}

void PrintJson(const Outcome& outcome, const Judgement& judgement) {
  nlohmann::json out = {{"host", outcome.target.host}, {"port", outcome.target.port},
                        {"mode", outcome.mode}, {"outcome", judgement.label}, {"exit_code", judgement.exit_code}};
  out["handshake"] = outcome.handshake.empty() ? nlohmann::json() : nlohmann::json(outcome.handshake);
  if (outcome.error) {
    nlohmann::json error = ErrorJson(*outcome.error);
    error["reason"] = ConnectProblemName(outcome.problem);
    error["hint"] = ConnectProblemHint(outcome.problem);
    error["exit_code"] = kExitTlsFailure;
    out["error"] = error;
  } else {
    out["error"] = nullptr;
  }
  out["verdict"] = outcome.verdict ? VerdictJson(*outcome.verdict) : nlohmann::json();
  out["report"] = outcome.report ? *outcome.report : nlohmann::json();
  std::cout << out.dump(2) << "\n";
}

// PrintFailure explains a check that failed before (or beside) the pins.
void PrintFailure(const Outcome& outcome) {
  const Error& error = *outcome.error;
  if (outcome.verdict != nullptr) {
    std::cout << Style("FAILED", Tone::kBad) << " handshake failed after the pin check: " << error.ToString() << "\n"
              << "  The server's chain was validated and judged by the pins, but the handshake did not "
                 "complete (for example the server could not prove it holds the certificate's private "
                 "key). The connection is not accepted. For information, the pin verdict was:\n"
              << "  " << outcome.verdict->Summary() << "\n";
  } else if (error.code() == ErrorCode::kNetwork) {
    std::cout << Style("FAILED", Tone::kBad) << " network error (" << ConnectProblemName(outcome.problem)
              << "): " << error.message() << "\n  " << ConnectProblemHint(outcome.problem) << "\n";
  } else if (error.code() == ErrorCode::kTlsHandshake) {
    std::cout << Style("FAILED", Tone::kBad) << " handshake failed before pinning: " << error.ToString()
              << "\n  The TLS handshake failed before a chain could be judged; pins were not consulted.\n  "
              << ConnectProblemHint(outcome.problem) << "\n";
  } else {
    std::cout << Style("FAILED", Tone::kBad) << " TLS validation rejected the chain before pinning ("
              << ConnectProblemName(outcome.problem) << "): " << error.ToString() << "\n"
              << "  Pins were not consulted. " << ConnectProblemHint(outcome.problem) << "\n";
  }
}

void PrintVerdict(const Verdict& verdict, int exit_code) {
  std::string headline = exit_code == kExitOk ? Style("ACCEPTED", Tone::kGood) : Style("REJECTED", Tone::kBad);
  if (verdict.reason == VerdictReason::kReportOnlyMismatch || verdict.reason == VerdictReason::kPolicyExpired ||
      verdict.reason == VerdictReason::kDebugOverride || verdict.reason == VerdictReason::kKillSwitch) {
    headline = Style("ACCEPTED (with a warning)", Tone::kWarn);
  }
  std::cout << headline << "  validation: ok, pins: " << VerdictReasonName(verdict.reason) << "\n"
            << verdict.Explain();
}

// Report prints the outcome and returns its exit code.
int Report(const Outcome& outcome, bool json) {
  Judgement judgement = Judge(outcome);
  if (json) {
    PrintJson(outcome, judgement);
  } else {
    if (outcome.report) PrintReportStatus(*outcome.report);
    if (outcome.error) {
      PrintFailure(outcome);
    } else {
      PrintVerdict(*outcome.verdict, judgement.exit_code);
    }
  }
  return judgement.exit_code;
}

Result<std::vector<Pin>> DebugProxyPins(const std::string& file) {
  std::vector<Pin> pins;
  if (file.empty()) return pins;
  PINION_ASSIGN_OR_RETURN(auto certificates, ReadCertificatesFromFile(file));
  for (const auto& der : certificates) {
    PINION_ASSIGN_OR_RETURN(auto sources, ReadPinSources(der, file));
    pins.push_back(sources.front().SpkiPin());
  }
  std::cerr << Style("WARNING: --debug-proxy-ca is set: pins are bypassed for chains through " +
                         file + ". Use this only to debug with an intercepting proxy.",
                     Tone::kWarn)
            << "\n";
  return pins;
}

// ReportDelivery sends failure reports for --report-to through the library's
// own Reporter (BuildReport, dedupe, spool) and the libcurl ReportUploader,
// whose connections the same policy pins: what an application would send.
class ReportDelivery {
 public:
  static Result<std::unique_ptr<ReportDelivery>> Create(const CheckOptions& options, PolicyStore& store) {
    auto delivery = std::unique_ptr<ReportDelivery>(new ReportDelivery(options.report_to));
    bool http = options.report_to.starts_with("http://");
    if (options.report_spool.empty()) {
      std::string pattern = (std::filesystem::temp_directory_path() / "pinion-report-XXXXXX").string();
      if (mkdtemp(pattern.data()) == nullptr) {
        return Error(ErrorCode::kIo, std::string("cannot create a report spool: ") + std::strerror(errno));
      }
      delivery->temporary_ = pattern;
    }
    std::filesystem::path directory = options.report_spool.empty() ? delivery->temporary_
                                                                    : std::filesystem::path(options.report_spool);
    PINION_ASSIGN_OR_RETURN(delivery->reporter_,
                            Reporter::Create(directory, {.app = {.id = "pinion-cli", .version = PINION_VERSION,
                                                                 .platform = "pinion check"},
                                                         .allow_http = http}));
    auto timeout = std::chrono::seconds(std::max<long>(1, static_cast<long>(options.timeout_seconds + 0.999)));
    PINION_ASSIGN_OR_RETURN(delivery->uploader_,
                            curl::ReportUploader::Create(*delivery->reporter_, store,
                                                         {.timeout = timeout,
                                                          .allow_http = http,
                                                          .ca_file = options.report_ca_file}));
    return delivery;
  }
  ~ReportDelivery() {
    uploader_.reset();
    reporter_.reset();
    std::error_code ignored;
    if (!temporary_.empty()) std::filesystem::remove_all(temporary_, ignored);
  }

  // Send submits the verdict (when there is one) and delivers what is spooled.
  nlohmann::json Send(const Verdict* verdict, bool keeps_spool) {
    nlohmann::json out = {{"to", uri_}, {"sent", false}, {"delivered", false}, {"spooled", false}};
    SubmitOutcome outcome = verdict != nullptr ? reporter_->Submit(*verdict) : SubmitOutcome::kNotReportable;
    out["outcome"] = SubmitOutcomeName(outcome);
    reporter_->Flush();
    // Earlier runs' undelivered reports (with --report-spool) go out too.
    curl::UploadRound round = uploader_->UploadOnce();
    out["delivered_count"] = round.delivered;
    if (outcome != SubmitOutcome::kQueued && round.delivered == 0 && round.failed == 0) return out;
    out["sent"] = true;
    out["delivered"] = round.failed == 0 && round.rejected == 0 && round.delivered > 0;
    out["error"] = round.last_error ? nlohmann::json(round.last_error->ToString()) : nlohmann::json();
    out["spooled"] = keeps_spool && !out["delivered"].get<bool>();
    return out;
  }

 private:
  explicit ReportDelivery(std::string uri) : uri_(std::move(uri)) {}
  std::string uri_;
  std::filesystem::path temporary_;
  std::unique_ptr<Reporter> reporter_;
  std::unique_ptr<curl::ReportUploader> uploader_;
};

// WithReportUri gives every rule `uri` as its only report destination, so
// the Reporter sends there whatever the policy file says.
Result<PolicySnapshot> WithReportUri(const PolicySnapshot& policy, const std::string& uri) {
  std::vector<DomainRule> rules(policy->rules().begin(), policy->rules().end());
  for (DomainRule& rule : rules) rule.report_uris = {uri};
  return Policy::Create(policy->version(), std::move(rules), policy->enforcement_override());
}

// LoadCheckedPolicy loads --policy; with --report-to, every rule reports there.
CliResult<PolicySnapshot> LoadCheckedPolicy(const CheckOptions& options) {
  PINION_ASSIGN_OR_RETURN(PolicySnapshot policy, Hinted(LoadPolicyFile(options.policy_file),
                                                        "Fix the policy file (see docs/POLICY.md); nothing was checked."));
  if (options.report_to.empty()) return policy;
  if (!IsValidReportUri(options.report_to)) {
    return CliFailure(Error(ErrorCode::kInvalidArgument, "'" + options.report_to + "' is not an http(s) URL")
                          .WithField("--report-to"),
                      "Give the collector's report URL, e.g. https://collector.example/v1/reports.");
  }
  PINION_ASSIGN_OR_RETURN(policy, WithReportUri(policy, options.report_to));
  if (options.report_to.starts_with("http://")) {
    std::cerr << Style("warning: --report-to uses http://: the report travels unencrypted and unpinned", Tone::kWarn)
              << "\n";
  }
  return policy;
}

// CheckSession is what one check runs with, each part pointing at the ones
// before it: the policy's store, the trust store, the --debug-proxy-ca
// override, the enforcer and the --report-to delivery. Not movable: made once.
struct CheckSession {
  explicit CheckSession(PolicySnapshot policy) : store(std::move(policy)) {}
  CheckSession(const CheckSession&) = delete;
  CheckSession& operator=(const CheckSession&) = delete;

  PolicyStore store;
  openssl::UniquePtr<X509_STORE> trust;
  std::vector<Pin> proxy_pins;
  DebugProxyOverride debug;
  std::unique_ptr<openssl::Enforcer> enforcer;
  std::unique_ptr<ReportDelivery> delivery;  // with --report-to
};

CliResult<std::unique_ptr<CheckSession>> StartSession(const CheckOptions& options, PolicySnapshot policy) {
  PINION_ASSIGN_OR_RETURN(auto trust, Hinted(LoadTrustStore(options.ca_file),
                                             "--ca-file takes a PEM bundle of trusted root certificates.", kExitUsage));
  PINION_ASSIGN_OR_RETURN(auto proxy_pins,
                          Hinted(DebugProxyPins(options.debug_proxy_ca),
                                 "--debug-proxy-ca takes a PEM file with the proxy's CA certificate.", kExitUsage));
  auto session = std::make_unique<CheckSession>(std::move(policy));
  session->trust = std::move(trust);
  session->proxy_pins = std::move(proxy_pins);
  session->debug = DebugProxyOverride{session->proxy_pins};
  PINION_ASSIGN_OR_RETURN(
      session->enforcer,
      openssl::Enforcer::Create(session->store,
                                {.debug_override = session->proxy_pins.empty() ? nullptr : &session->debug}));
  if (!options.report_to.empty()) {
    PINION_ASSIGN_OR_RETURN(
        session->delivery,
        Hinted(ReportDelivery::Create(options, session->store),
               "--report-spool must be a writable directory; --report-ca-file a PEM bundle.", kExitUsage));
  }
  return session;
}

// CheckChainFile validates --chain offline for the target at --at (or now).
CliResult<Outcome> CheckChainFile(const CheckOptions& options, const HostPort& target, CheckSession& session) {
  Outcome outcome{.mode = "chain", .target = target};
  PINION_ASSIGN_OR_RETURN(auto chain, Hinted(ReadCertificatesFromFile(options.chain_file),
                                             "--chain takes a PEM file: the leaf first, then intermediates."));
  TimePoint at = SystemClock::Instance().Now();
  if (!options.at.empty()) {
    auto parsed = ParseTimestamp(options.at);
    if (!parsed) {
      return CliFailure(std::move(parsed).error().WithField("--at"),
                        "--at takes YYYY-MM-DD or an RFC 3339 date-time with an offset.");
    }
    at = *parsed;
  }
  openssl::ChainCheck check = session.enforcer->CheckChain(chain, target.host, target.port, at, session.trust.get());
  if (!check.validation) {
    outcome.error = check.validation.error();
    outcome.problem = outcome.error->code() == ErrorCode::kHostnameMismatch ? ConnectProblem::kNameMismatch
                                                                            : ConnectProblem::kValidation;
  } else {
    outcome.verdict = std::make_shared<Verdict>(std::move(*check.verdict));
  }
  return outcome;
}

// CheckHandshake connects to the target with the enforcer installed.
CliResult<Outcome> CheckHandshake(const CheckOptions& options, const HostPort& target, CheckSession& session) {
  Outcome outcome{.mode = "handshake", .target = target};
  openssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_cert_store(ctx.get(), session.trust.release());
  PINION_TRY(session.enforcer->Install(ctx.get()));
  auto result = ConnectTls({.host = target.host,
                            .port = target.port,
                            .connect_to = options.connect_to,
                            .timeout = std::chrono::milliseconds(static_cast<long>(options.timeout_seconds * 1000)),
                            .ctx = ctx.get(),
                            .enforcer = session.enforcer.get(),
                            .problem = &outcome.problem});
  if (!result) {
    outcome.error = result.error();
    return outcome;
  }
  outcome.verdict = result->verdict;
  // A verdict is made when the certificate arrives, before the server has
  // proved it holds the key (CertificateVerify) or finished the handshake: a
  // replay of the genuine chain gets an "allow" verdict too. Only a completed
  // handshake is accepted; a failure the pins did not cause is a TLS error,
  // the verdict kept for information.
  bool pins_refused = outcome.verdict != nullptr && !outcome.verdict->allowed();
  if (!result->handshake_ok && !pins_refused) {
    outcome.error = Error(ErrorCodeOf(result->problem), result->error.empty() ? "handshake failed" : result->error);
  } else {
    outcome.problem = ConnectProblem::kNone;
  }
  outcome.handshake = result->handshake_ok ? "completed" : "failed";
  return outcome;
}

CommandResult Run(const CheckOptions& options) {
  PINION_ASSIGN_OR_RETURN(HostPort target, ParseTarget(options.target, options.connect_to));
  PINION_ASSIGN_OR_RETURN(PolicySnapshot policy, LoadCheckedPolicy(options));
  PINION_ASSIGN_OR_RETURN(std::unique_ptr<CheckSession> session, StartSession(options, std::move(policy)));
  PINION_ASSIGN_OR_RETURN(Outcome outcome, options.chain_file.empty() ? CheckHandshake(options, target, *session)
                                                                      : CheckChainFile(options, target, *session));
  if (session->delivery) {
    outcome.report = session->delivery->Send(outcome.verdict.get(), !options.report_spool.empty());
  }
  return Report(outcome, options.json);
}

}  // namespace

CommandRunner AttachCheck(CLI::App& app) {
  auto options = std::make_shared<CheckOptions>();
  app.footer(
      "Check HOST[:PORT] against a pin policy with a real TLS handshake: normal validation "
      "(path, validity, host name) first, then pins on the chain OpenSSL validated. With "
      "--chain, check a PEM chain offline instead, validated for HOST at --at exactly as a "
      "handshake would, so a new certificate can be tested against shipped pins before it is "
      "deployed. With --report-to, a failure is reported to a collector exactly as an "
      "application would report it. Exit codes: 0 accepted (also for a host the policy does not pin), 1 pin "
      "failure, 2 usage or configuration error, 3 TLS, validation or network error (or a failure report "
      "that could not be delivered), 4 the output could not be written.");
  app.add_option("target", options->target, "HOST, HOST:PORT or [IPv6]:PORT (port 443 by default)")->required();
  app.add_option("--policy", options->policy_file, "Pin policy (TOML or JSON)")->required();
  app.add_option("--ca-file", options->ca_file,
                 "Trust only the certificates in this PEM bundle (like curl --cacert)");
  app.add_option("--connect-to", options->connect_to,
                 "Dial ADDRESS, ADDRESS:PORT, [IPv6]:PORT or curl's HOST:PORT:ADDRESS:PORT instead of the "
                 "target (SNI, verification and pins still use the target's name)");
  app.add_option("--chain", options->chain_file, "Check this PEM chain (leaf first) offline instead of connecting");
  app.add_option("--at", options->at, "With --chain: validate and evaluate at this time (YYYY-MM-DD or RFC 3339)")
      ->needs("--chain");
  app.add_option("--debug-proxy-ca", options->debug_proxy_ca,
                 "DEBUGGING ONLY: let chains through this proxy CA bypass pins (loudly reported)");
  app.add_option("--timeout", options->timeout_seconds, "Connect and handshake timeout in seconds")
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--report-to", options->report_to,
                 "Send the failure report the library would send (pinion/RFC 7469 JSON) to this collector URL, "
                 "through pinion's Reporter and pinned uploader");
  app.add_option("--report-ca-file", options->report_ca_file,
                 "Trust only this PEM bundle for the --report-to connection (default: system store)");
  app.add_option("--report-spool", options->report_spool,
                 "Keep undelivered reports in this directory and retry them on the next run (default: none)");
  app.add_flag("--json", options->json, "Print JSON (errors too: {\"error\": {...}})");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
