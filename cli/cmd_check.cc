// pinion check HOST[:PORT] --policy FILE — a real handshake (or a chain file)
// judged by normal validation first, then by the policy's pins.
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/host_pattern.h"
#include "pinion/openssl/enforcer.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "tls_client.h"

namespace pinion::cli {
namespace {

struct CheckOptions {
  std::string target;
  std::string policy_file;
  std::string ca_file;
  std::string connect_to;
  std::string chain_file;
  std::string at;
  std::string debug_proxy_ca;
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
};

int Report(const Outcome& outcome, bool json) {
  int code = kExitOk;
  std::string label = "accepted";
  if (outcome.error) {
    code = kExitTlsFailure;
    label = outcome.error->code() == ErrorCode::kNetwork         ? "network_error"
            : outcome.error->code() == ErrorCode::kTlsHandshake ? "handshake_error"
                                                                 : "validation_error";
  } else if (outcome.verdict != nullptr && !outcome.verdict->allowed()) {
    code = kExitPinFailure;
    label = "pin_failure";
  }
  if (json) {
    nlohmann::json out = {{"host", outcome.target.host}, {"port", outcome.target.port},
                          {"mode", outcome.mode}, {"outcome", label}, {"exit_code", code}};
    out["handshake"] = outcome.handshake.empty() ? nlohmann::json() : nlohmann::json(outcome.handshake);
    out["error"] = outcome.error ? ErrorJson(*outcome.error) : nlohmann::json();
    out["verdict"] = outcome.verdict ? VerdictJson(*outcome.verdict) : nlohmann::json();
    std::cout << out.dump(2) << "\n";
    return code;
  }
  if (outcome.error && outcome.verdict != nullptr) {
    std::cout << Style("FAILED", Tone::kBad) << " handshake failed after the pin check: " << outcome.error->ToString()
              << "\n"
              << "  The server's chain was validated and judged by the pins, but the handshake did not "
                 "complete (for example the server could not prove it holds the certificate's private "
                 "key). The connection is not accepted. For information, the pin verdict was:\n"
              << "  " << outcome.verdict->Summary() << "\n";
    return code;
  }
  if (outcome.error && outcome.error->code() == ErrorCode::kTlsHandshake) {
    std::cout << Style("FAILED", Tone::kBad) << " handshake failed before pinning: " << outcome.error->ToString()
              << "\n  The TLS handshake failed before a chain could be judged; pins were not consulted.\n";
    return code;
  }
  if (outcome.error) {
    std::cout << Style("FAILED", Tone::kBad) << " before pinning: " << outcome.error->ToString() << "\n"
              << "  Normal TLS validation (path, validity, host name) rejected the connection; "
                 "pins were not consulted. Check --ca-file, the host name and the clock.\n";
    return code;
  }
  const Verdict& verdict = *outcome.verdict;
  std::string headline = code == kExitOk ? Style("ACCEPTED", Tone::kGood) : Style("REJECTED", Tone::kBad);
  if (verdict.reason == VerdictReason::kReportOnlyMismatch || verdict.reason == VerdictReason::kPolicyExpired ||
      verdict.reason == VerdictReason::kDebugOverride || verdict.reason == VerdictReason::kKillSwitch) {
    headline = Style("ACCEPTED (with a warning)", Tone::kWarn);
  }
  std::cout << headline << "  validation: ok, pins: " << VerdictReasonName(verdict.reason) << "\n"
            << verdict.Explain();
  return code;
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

int Run(const CheckOptions& options) {
  auto target = ParseHostPort(options.target);
  if (!target) {
    PrintError(target.error(), "Write the target as HOST, HOST:PORT or [IPv6]:PORT.");
    return kExitUsage;
  }
  // A host no policy could name (e.g. "127.1") is refused before anything runs.
  if (auto host = NormalizeHostName(target->host); !host) {
    PrintError(host.error(), "Write the host as a DNS name or a canonical IP address (192.0.2.1, [2001:db8::1]).");
    return kExitUsage;
  }
  auto policy = LoadPolicyFile(options.policy_file);
  if (!policy) {
    PrintError(policy.error(), "Fix the policy file (see docs/POLICY.md); nothing was checked.");
    return kExitUsage;
  }
  auto trust = LoadTrustStore(options.ca_file);
  if (!trust) {
    PrintError(trust.error(), "--ca-file takes a PEM bundle of trusted root certificates.");
    return kExitUsage;
  }
  auto proxy_pins = DebugProxyPins(options.debug_proxy_ca);
  if (!proxy_pins) {
    PrintError(proxy_pins.error(), "--debug-proxy-ca takes a PEM file with the proxy's CA certificate.");
    return kExitUsage;
  }
  DebugProxyOverride debug{*proxy_pins};
  PolicyStore store(*policy);
  auto enforcer = openssl::Enforcer::Create(
      store, {.debug_override = proxy_pins->empty() ? nullptr : &debug});
  if (!enforcer) {
    PrintError(enforcer.error());
    return kExitTlsFailure;
  }
  Outcome outcome{.target = *target};

  if (!options.chain_file.empty()) {
    outcome.mode = "chain";
    auto chain = ReadCertificatesFromFile(options.chain_file);
    if (!chain) {
      PrintError(chain.error(), "--chain takes a PEM file: the leaf first, then intermediates.");
      return kExitUsage;
    }
    TimePoint at = SystemClock::Instance().Now();
    if (!options.at.empty()) {
      auto parsed = ParseTimestamp(options.at);
      if (!parsed) {
        PrintError(parsed.error(), "--at takes YYYY-MM-DD or an RFC 3339 date-time with an offset.");
        return kExitUsage;
      }
      at = *parsed;
    }
    openssl::ChainCheck check = (*enforcer)->CheckChain(*chain, target->host, target->port, at, trust->get());
    if (!check.validation) {
      outcome.error = check.validation.error();
    } else {
      outcome.verdict = std::make_shared<Verdict>(std::move(*check.verdict));
    }
    return Report(outcome, options.json);
  }

  outcome.mode = "handshake";
  internal::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_cert_store(ctx.get(), trust->release());
  if (auto installed = (*enforcer)->InstallOn(ctx.get()); !installed) {
    PrintError(installed.error());
    return kExitTlsFailure;
  }
  auto result = ConnectTls({.host = target->host,
                            .port = target->port,
                            .connect_to = options.connect_to,
                            .timeout = std::chrono::milliseconds(static_cast<long>(options.timeout_seconds * 1000)),
                            .ctx = ctx.get(),
                            .enforcer = enforcer->get()});
  if (!result) {
    outcome.error = result.error();
    return Report(outcome, options.json);
  }
  outcome.verdict = result->verdict;
  // A verdict is made when the certificate arrives, before the server has
  // proved it holds the key (CertificateVerify) or finished the handshake: a
  // replay of the genuine chain gets an "allow" verdict too. Only a completed
  // handshake is accepted; a failure the pins did not cause is a TLS error,
  // the verdict kept for information.
  bool pins_refused = outcome.verdict != nullptr && !outcome.verdict->allowed();
  if (!result->handshake_ok && !pins_refused) {
    ErrorCode code = result->verify_result == X509_V_ERR_HOSTNAME_MISMATCH ||
                             result->verify_result == X509_V_ERR_IP_ADDRESS_MISMATCH
                         ? ErrorCode::kHostnameMismatch
                     : result->verify_result != X509_V_OK                  ? ErrorCode::kChainValidation
                                                                           : ErrorCode::kTlsHandshake;
    outcome.error = Error(code, result->error.empty() ? "handshake failed" : result->error);
  }
  outcome.handshake = result->handshake_ok ? "completed" : "failed";
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
      "deployed. Exit codes: 0 accepted (also for a host the policy does not pin), 1 pin "
      "failure, 2 usage or configuration error, 3 TLS, validation or network error.");
  app.add_option("target", options->target, "HOST, HOST:PORT or [IPv6]:PORT (port 443 by default)")->required();
  app.add_option("--policy", options->policy_file, "Pin policy (TOML or JSON)")->required();
  app.add_option("--ca-file", options->ca_file,
                 "Trust only the certificates in this PEM bundle (like curl --cacert)");
  app.add_option("--connect-to", options->connect_to,
                 "Dial this address instead of HOST (SNI, verification and pins still use HOST)");
  app.add_option("--chain", options->chain_file, "Check this PEM chain (leaf first) offline instead of connecting");
  app.add_option("--at", options->at, "With --chain: validate and evaluate at this time (YYYY-MM-DD or RFC 3339)")
      ->needs("--chain");
  app.add_option("--debug-proxy-ca", options->debug_proxy_ca,
                 "DEBUGGING ONLY: let chains through this proxy CA bypass pins (loudly reported)");
  app.add_option("--timeout", options->timeout_seconds, "Connect and handshake timeout in seconds")
      ->check(CLI::Range(0.1, 600.0));
  app.add_flag("--json", options->json, "Print JSON");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
