// pinion fetch HOST[:PORT] — connect and show the served and validated chains.
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/host_pattern.h"
#include "pinion/error.h"
#include "pinion/tooling/tls_client.h"

namespace pinion::cli {

using tooling::ConnectProblem;
using tooling::ConnectProblemHint;
using tooling::ConnectProblemName;
using tooling::ConnectTls;
using tooling::ErrorCodeOf;
namespace {

struct FetchOptions {
  std::string target;
  std::string connect_to;
  std::string ca_file;
  double timeout_seconds = 10;
  bool json = false;
};

// Fetched is what one connection showed: the TLS client's result, and
// whether the chain counts as validated.
struct Fetched {
  tooling::TlsClientResult result;
  bool validated = false;
  std::string validation;  // "ok", OpenSSL's reason, or the handshake failure
};

CliResult<Fetched> Connect(const FetchOptions& options, const HostPort& target) {
  PINION_ASSIGN_OR_RETURN(auto store, Hinted(LoadTrustStore(options.ca_file),
                                             "--ca-file takes a PEM bundle of trusted root certificates.", kExitUsage));
  openssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_cert_store(ctx.get(), store.release());
  // Record validation errors without aborting, so the served chain can be shown
  // even when it does not validate; the verdict below reports the failure.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });

  ConnectProblem problem = ConnectProblem::kNone;
  auto result = ConnectTls({.host = target.host,
                            .port = target.port,
                            .connect_to = options.connect_to,
                            .timeout = std::chrono::milliseconds(static_cast<long>(options.timeout_seconds * 1000)),
                            .ctx = ctx.get(),
                            .problem = &problem});
  if (!result) {
    return CliFailure(result.error(), std::string(ConnectProblemHint(problem)))
        .WithDetails({{"reason", ConnectProblemName(problem)}});
  }
  Fetched fetched{.result = std::move(*result)};
  // The verify callback lets every chain through so that it can be shown; the
  // validated chain counts only when the server also completed the handshake
  // (proved it holds the key): a replayed chain must not read as "ok".
  const tooling::TlsClientResult& seen = fetched.result;
  fetched.validated = seen.handshake_ok && seen.verify_result == X509_V_OK;
  fetched.validation = seen.verify_result != X509_V_OK ? X509_verify_cert_error_string(seen.verify_result)
                                                       : (seen.handshake_ok ? "ok" : "handshake failed: " + seen.error);
  return fetched;
}

void PrintJson(const HostPort& target, const Fetched& fetched) {
  const tooling::TlsClientResult& result = fetched.result;
  const bool validated = fetched.validated;
  nlohmann::json out = {{"host", target.host},
                        {"port", target.port},
                        {"protocol", result.protocol},
                        {"cipher", result.cipher},
                        {"handshake", result.handshake_ok ? "completed" : "failed"},
                        {"handshake_error", result.handshake_ok ? nlohmann::json() : nlohmann::json(result.error)},
                        {"problem", validated ? nlohmann::json() : nlohmann::json(ConnectProblemName(result.problem))},
                        {"hint", validated ? nlohmann::json() : nlohmann::json(ConnectProblemHint(result.problem))},
                        {"validated", validated},
                        {"validation", fetched.validation},
                        {"served_chain", ChainJson(result.served_chain)}};
  out["validated_chain"] = validated ? ChainJson(result.validated_chain) : nlohmann::json::array();
  if (!validated) {
    nlohmann::json error = ErrorJson(Error(ErrorCodeOf(result.problem), fetched.validation));
    error["reason"] = ConnectProblemName(result.problem);
    error["hint"] = ConnectProblemHint(result.problem);
    error["exit_code"] = kExitTlsFailure;
    out["error"] = error;
  }
  std::cout << out.dump(2) << "\n";
}

void PrintText(const HostPort& target, const Fetched& fetched) {
  const tooling::TlsClientResult& result = fetched.result;
  std::cout << Style(FormatHostPort(target.host, target.port), Tone::kBold) << "  "
            << (result.handshake_ok ? result.protocol + "  " + result.cipher
                                    : Style("handshake failed: " + result.error, Tone::kBad))
            << "\n";
  std::cout << "validation: "
            << (fetched.validated ? Style("ok (path, validity and host name)", Tone::kGood)
                                  : Style(fetched.validation, Tone::kBad))
            << "\n";
  if (!fetched.validated) std::cout << "  " << ConnectProblemHint(result.problem) << "\n";
  std::cout << "\n";
  PrintChain("Served chain (as sent by the server)", result.served_chain);
  if (fetched.validated) {
    std::cout << "\n";
    PrintChain("Validated chain (as built by OpenSSL; what pins are checked against)", result.validated_chain);
  }
}

CommandResult Run(const FetchOptions& options) {
  PINION_ASSIGN_OR_RETURN(HostPort target, ParseTarget(options.target, options.connect_to));
  PINION_ASSIGN_OR_RETURN(Fetched fetched, Connect(options, target));
  if (options.json) {
    PrintJson(target, fetched);
  } else {
    PrintText(target, fetched);
  }
  return fetched.validated ? kExitOk : kExitTlsFailure;
}

}  // namespace

CommandRunner AttachFetch(CLI::App& app) {
  auto options = std::make_shared<FetchOptions>();
  app.footer(
      "Connect to HOST[:PORT] (SNI, timeout) and print the chain the server sent and the chain "
      "OpenSSL validated: subject, issuer, validity, key type, SPKI pin and certificate "
      "fingerprint of each certificate.");
  app.add_option("target", options->target, "HOST, HOST:PORT or [IPv6]:PORT (port 443 by default)")
      ->required();
  app.add_option("--connect-to", options->connect_to,
                 "Dial ADDRESS, ADDRESS:PORT, [IPv6]:PORT or curl's HOST:PORT:ADDRESS:PORT instead of the "
                 "target (SNI and verification still use the target's name)");
  app.add_option("--ca-file", options->ca_file,
                 "Trust only the certificates in this PEM bundle instead of the system store");
  app.add_option("--timeout", options->timeout_seconds, "Connect and handshake timeout in seconds")
      ->check(CLI::Range(0.1, 600.0));
  app.add_flag("--json", options->json, "Print JSON (errors too: {\"error\": {...}})");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
