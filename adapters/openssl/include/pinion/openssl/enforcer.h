// pinion/openssl/enforcer.h — pin enforcement inside a real OpenSSL handshake.
//
//   pinion::PolicyStore store(*pinion::LoadPolicyFile("pins.toml"));
//   auto enforcer = pinion::openssl::Enforcer::Create(store);
//   SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
//   SSL_CTX_set_default_verify_paths(ctx);
//   (*enforcer)->InstallOn(ctx);                     // once per SSL_CTX
//   SSL* ssl = SSL_new(ctx);
//   (*enforcer)->PrepareConnection(ssl, "api.example.com", 443);  // SNI + host check + pins
//   if (SSL_connect(ssl) != 1 && pinion::openssl::Enforcer::IsPinFailure(ssl))
//     std::cerr << pinion::openssl::Enforcer::GetVerdict(ssl)->Explain();
//
// How it layers on OpenSSL (client side):
// - OpenSSL's own X509_verify_cert runs first with the host name set, so path,
//   validity and host name are checked exactly as without pinion; pins are
//   evaluated only when that succeeded, on the chain OpenSSL *built*
//   (X509_STORE_CTX_get0_chain), never on the list the server sent.
// - A rule with `anchors = "bundle.pem"` replaces the trust store for that
//   rule's hosts only.
// - A pin failure fails the handshake with verify result
//   X509_V_ERR_APPLICATION_VERIFICATION; IsPinFailure() tells it apart from
//   other failures and GetVerdict() explains it.
// - The host name (or IP) pinion pins is also the one OpenSSL checks against
//   the certificate's SAN, set on the verification itself, so clearing the
//   SSL's host (or libcurl's CURLOPT_SSL_VERIFYHOST 0) cannot skip it. The
//   subject CN is never used as a name.
// - Validation failures cannot be hidden: an application verify callback
//   (SSL_CTX_set_verify) still runs, but any failure it returns 1 for, or
//   clears, refuses the chain.
// - Resumed sessions carry no chain. The decision of the full handshake is
//   stored on the session with the policy snapshot it used; a session is only
//   offered for resumption while that snapshot is still current, for the same
//   host and port, and while the decision holds (Verdict::HoldsAt: not past a
//   kill switch's `until`, never for a debug override). Otherwise pinion drops
//   it before the ClientHello, so a full handshake (and a fresh check) runs.
// - InstallOn takes over the context's cert-verify callback (OpenSSL cannot
//   tell whether one was set) and chains the info callback that was there.
//   Replacing either afterwards does not disable pinning: a ClientHello guard
//   that cannot be removed aborts a handshake that would resume an unproven
//   session, and a handshake that completes without an allowing decision is
//   refused (SSL_write fails, IsPinFailure is true).
// - ConfirmConnection proves, before a request byte is sent, that a live
//   connection (possibly a reused one) was checked by this enforcer for this
//   host and that the decision holds under the current policy now.
// The Enforcer must outlive every SSL_CTX it is installed on.
#ifndef PINION_OPENSSL_ENFORCER_H_
#define PINION_OPENSSL_ENFORCER_H_

#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/clock.h"
#include "pinion/evaluate.h"
#include "pinion/openssl/enforcer_options.h"
#include "pinion/policy_store.h"
#include "pinion/result.h"
#include "pinion/verdict.h"
#include "pinion/verified_chain.h"

namespace pinion::openssl {


// ContextDefaults serve stacks that create the SSL themselves (libcurl): every
// connection of the SSL_CTX that PrepareConnection did not name is pinned for
// `host`/`port`, and its verdicts are also handed to `on_verdict`.
struct ContextDefaults {
  std::string host;
  std::uint16_t port = 443;
  std::function<void(std::shared_ptr<const Verdict>)> on_verdict;
};

// ChainCheck is the outcome of CheckChain: validation first, then pins.
struct ChainCheck {
  Status validation;                // kChainValidation / kHostnameMismatch when it failed
  std::optional<Verdict> verdict;   // set only when validation succeeded
  std::vector<std::vector<std::uint8_t>> validated_chain_der;  // OpenSSL's built chain
};

class Enforcer {
 public:
  // Create builds an enforcer reading policies from `store` (which must
  // outlive it).
  static Result<std::unique_ptr<Enforcer>> Create(PolicyStore& store,
                                                  EnforcerOptions options = {});
  ~Enforcer();
  Enforcer(const Enforcer&) = delete;
  Enforcer& operator=(const Enforcer&) = delete;

  // The adapters share one vocabulary: Install (once per context or handle),
  // Prepare (once per connection), VerdictOf and IsPinFailure (after it).

  // Install hooks certificate verification and session handling of a
  // client SSL_CTX and turns on SSL_VERIFY_PEER. It replaces the context's
  // cert-verify callback and chains its info callback. kTlsSetup when the
  // context already has an enforcer.
  Status Install(SSL_CTX* ctx);
  // Install with defaults for connections this code does not create
  // (kHostSyntax for a bad default host).
  Status Install(SSL_CTX* ctx, ContextDefaults defaults);

  // Prepare names the host (and port, for reports) this SSL connects to:
  // sets SNI (DNS names only), OpenSSL's host-name or IP check, and
  // SSL_VERIFY_PEER. Call it before SSL_connect. kHostSyntax for a bad name;
  // kTlsSetup when this enforcer was not installed on the SSL's context (the
  // connection would otherwise run unpinned).
  Status Prepare(SSL* ssl, std::string_view host, std::uint16_t port);

  // The names before the shared vocabulary; removed in 0.3.
  [[deprecated("use Install")]] Status InstallOn(SSL_CTX* ctx) { return Install(ctx); }
  [[deprecated("use Install")]] Status InstallOn(SSL_CTX* ctx, ContextDefaults defaults) {
    return Install(ctx, std::move(defaults));
  }
  [[deprecated("use Prepare")]] Status PrepareConnection(SSL* ssl, std::string_view host, std::uint16_t port) {
    return Prepare(ssl, host, port);
  }
  [[deprecated("use VerdictOf")]] static std::shared_ptr<const Verdict> GetVerdict(const SSL* ssl) {
    return VerdictOf(ssl);
  }

  // CheckChain validates `chain` (leaf first, then intermediates) for `host`
  // at `at` against `trust` (or the rule's own anchors) exactly as a handshake
  // would, then evaluates pins on the chain OpenSSL built. Offline: no network.
  ChainCheck CheckChain(const std::vector<std::vector<std::uint8_t>>& chain, std::string_view host,
                        std::uint16_t port, TimePoint at, X509_STORE* trust) const;

  // VerdictOf returns the verdict recorded for `ssl`'s handshake (null when
  // none was made, e.g. validation failed before pinning).
  static std::shared_ptr<const Verdict> VerdictOf(const SSL* ssl);
  // IsPinFailure: pins rejected the chain, or the handshake completed
  // without any pin decision (nothing proves the connection was checked).
  static bool IsPinFailure(const SSL* ssl);

  // ConfirmConnection returns the allowing verdict for `ssl`'s completed
  // handshake when it was made by this enforcer for `host`:`port` and still
  // holds now under the store's current policy; when the policy changed or a
  // time bound passed, the chain OpenSSL validated is judged again.
  // kPinValidationFailed otherwise (never checked, checked for another host,
  // rejected now — a connection once refused stays refused), kTlsHandshake
  // before the handshake completed. Adapters call it before sending a
  // request on a reused connection.
  Result<std::shared_ptr<const Verdict>> ConfirmConnection(SSL* ssl, std::string_view host,
                                                           std::uint16_t port) const;

 private:
  struct PreparedAnchors;
  Enforcer(PolicyStore& store, EnforcerOptions options);

  static int VerifyCallback(X509_STORE_CTX* store_ctx, void* arg);
  static void InfoCallback(const SSL* ssl, int where, int ret);
  static int ClientHelloGuard(SSL* ssl, unsigned int type, unsigned int context, const unsigned char** out,
                              std::size_t* out_length, X509* certificate, std::size_t chain_index, int* alert,
                              void* arg);
  void BeginHandshake(SSL* ssl, const ContextDefaults& defaults) const;
  static Result<VerifiedChain> ChainFromStack(STACK_OF(X509) * built, bool whole_certificates);
  std::shared_ptr<Verdict> Decide(const PolicySnapshot& policy, const std::string& host, std::uint16_t port,
                                  const VerifiedChain& chain, STACK_OF(X509) * built, TimePoint now) const;
  void Publish(SSL* ssl, const std::shared_ptr<const Verdict>& verdict) const;
  // VerifyAndPin runs OpenSSL's verification then the evaluator; shared by
  // handshakes and CheckChain. Returns the verdict (null if validation failed).
  std::shared_ptr<Verdict> VerifyAndPin(X509_STORE_CTX* store_ctx, const PolicySnapshot& policy,
                                        const std::string& host, std::uint16_t port,
                                        TimePoint now) const;
  // AnchorsFor returns the trusted stack replacing the store for `rule`, or
  // null; the pointer keeps its prepared set alive across policy swaps.
  std::shared_ptr<STACK_OF(X509)> AnchorsFor(const PolicySnapshot& policy, const DomainRule* rule) const;
  void Log(std::string_view message) const;

  PolicyStore& store_;
  EnforcerOptions options_;
  mutable std::mutex anchors_mutex_;
  mutable std::shared_ptr<PreparedAnchors> anchors_;  // latest snapshot's; guarded by anchors_mutex_
};

}  // namespace pinion::openssl

#endif  // PINION_OPENSSL_ENFORCER_H_
