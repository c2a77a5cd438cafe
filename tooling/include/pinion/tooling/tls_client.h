// pinion/tooling/tls_client.h — a TLS client connection for the CLI, the scans and the tests: TCP connect with a
// timeout, handshake (optionally under a pinion Enforcer), and what was seen.
#ifndef PINION_TOOLING_TLS_CLIENT_H_
#define PINION_TOOLING_TLS_CLIENT_H_

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pinion/enum_table.h"
#include "pinion/openssl/unique_ptr.h"
#include "pinion/openssl/enforcer.h"
#include "pinion/result.h"
#include "pinion/verdict.h"

namespace pinion::tooling {

// ConnectProblem says, in terms a user can act on, why a connection failed.
enum class ConnectProblem : std::uint8_t {
  kNone,
  kCannotResolve,        // the name has no address
  kRefused,              // nothing listens there (RST)
  kTimedOut,             // no TCP answer, or no TLS answer, within the timeout
  kUnreachable,          // no route to the network or host
  kClosed,               // the peer closed or reset the connection during the handshake
  kHandshake,            // TLS-level failure (alert, protocol, cipher)
  kMissingIntermediate,  // the server sent its leaf without the issuing intermediate(s)
  kUntrustedIssuer,      // the chain leads to a root the trust store does not hold
  kExpired,              // a certificate is expired or not yet valid
  kNameMismatch,         // the certificate does not name the host
  kValidation,           // another validation failure
};
// The stable snake_case names of problems (--json "reason"/"problem").
inline constexpr EnumTable<ConnectProblem, 12> kConnectProblemNames{{{
    {ConnectProblem::kNone, "none"},
    {ConnectProblem::kCannotResolve, "cannot_resolve"},
    {ConnectProblem::kRefused, "connection_refused"},
    {ConnectProblem::kTimedOut, "timeout"},
    {ConnectProblem::kUnreachable, "unreachable"},
    {ConnectProblem::kClosed, "connection_closed"},
    {ConnectProblem::kHandshake, "handshake_failed"},
    {ConnectProblem::kMissingIntermediate, "missing_intermediate"},
    {ConnectProblem::kUntrustedIssuer, "untrusted_issuer"},
    {ConnectProblem::kExpired, "certificate_expired"},
    {ConnectProblem::kNameMismatch, "name_mismatch"},
    {ConnectProblem::kValidation, "validation_failed"},
}}};
static_assert(kConnectProblemNames.IsComplete());
inline std::string_view ConnectProblemName(ConnectProblem problem) { return kConnectProblemNames.Name(problem); }
// ProblemOfVerifyResult classifies an OpenSSL verification error; `served`
// is how many certificates the server sent (a lone leaf whose issuer is
// unknown is a missing intermediate).
ConnectProblem ProblemOfVerifyResult(long verify_result, std::size_t served);
// ErrorCodeOf gives the library error code of a problem: kNetwork for the
// connection itself, kTlsHandshake, kHostnameMismatch or kChainValidation.
ErrorCode ErrorCodeOf(ConnectProblem problem);
// ConnectProblemHint says what to do next about `problem`.
std::string ConnectProblemHint(ConnectProblem problem);

struct TlsClientOptions {
  std::string host;        // SNI, host-name verification and pins use this name
  std::uint16_t port = 443;
  // --connect-to as given (ResolveConnectTo in cli/output.h): what is dialled
  // instead of host:port. SNI, verification and pins still use host and port.
  std::string connect_to;
  std::chrono::milliseconds timeout{10000};
  SSL_CTX* ctx = nullptr;                 // configured by the caller (trust store, enforcer)
  openssl::Enforcer* enforcer = nullptr;  // when set, pins are enforced
  SSL_SESSION* resume = nullptr;          // session to offer for resumption
  bool read_reply = false;                // read until the server closes (collects TLS 1.3 tickets)
  ConnectProblem* problem = nullptr;      // when set, receives why a connection failed (kNone otherwise)
};

struct TlsClientResult {
  bool handshake_ok = false;
  long verify_result = 0;  // X509_V_OK when validation passed
  std::string error;       // why the handshake failed
  ConnectProblem problem = ConnectProblem::kNone;  // the same, classified
  std::vector<std::vector<std::uint8_t>> served_chain;     // as sent by the server
  std::vector<std::vector<std::uint8_t>> validated_chain;  // as built by OpenSSL
  // With an enforcer. Made when the certificate arrived, before the server
  // proved it holds the key: present after a failed handshake too, so it is
  // never a success on its own — only handshake_ok is.
  std::shared_ptr<const Verdict> verdict;
  openssl::UniquePtr<SSL_SESSION> session;
  bool resumed = false;
  std::string protocol;
  std::string cipher;
  std::string reply;
};

// ConnectTls fails (kNetwork) only when no TCP connection could be made or
// the socket broke (options.problem then says why), and with kInvalidArgument
// for a bad connect_to; a failed handshake is a result with handshake_ok =
// false and `problem` set.
Result<TlsClientResult> ConnectTls(const TlsClientOptions& options);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_TLS_CLIENT_H_
