#include "pinion/openssl/enforcer.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <iostream>

#include "pinion/openssl/unique_ptr.h"
#include "pinion/openssl/util.h"
#include "internal/verified_chain_factory.h"
#include "pinion/host_pattern.h"

namespace pinion::openssl {
namespace {

using openssl::UniquePtr;

// A decision stored on an SSL_SESSION so that resumption can reuse it only
// under the same policy snapshot, host and port, and within its time bound.
struct SessionDecision {
  PolicySnapshot policy;
  std::string host;
  std::uint16_t port = 0;
  std::shared_ptr<const Verdict> verdict;
};

// Per-connection state, owned by the SSL through ex_data. The mutex guards
// the decision fields: ConfirmConnection may run on a connection another
// thread shares (a libcurl share handle).
struct ConnectionState {
  // Set at SSL_new when the context already had InstallOn: only then does the
  // SSL carry pinion's ClientHello guard (OpenSSL copies extensions at SSL_new).
  bool guarded = false;
  SSL_CTX* prepared_ctx = nullptr;  // the context PrepareConnection saw
  // An application info callback pinion displaced again; chained (see ClientHelloGuard).
  void (*chained_info_callback)(const SSL*, int, int) = nullptr;
  std::string host;  // normalized
  std::uint16_t port = 0;
  PolicySnapshot policy_at_start;  // snapshot current when the handshake began
  mutable std::mutex mutex;
  std::shared_ptr<const Verdict> verdict;   // of the full handshake, or confirmed since
  PolicySnapshot decided_under;             // the snapshot `verdict` was made with
  std::shared_ptr<const SessionDecision> offered;  // decision of the session offered for resumption
};

// Per-SSL_CTX binding: the enforcer and the info callback it displaced.
struct ContextBinding {
  Enforcer* enforcer = nullptr;
  void (*previous_info_callback)(const SSL*, int, int) = nullptr;
  ContextDefaults defaults;  // host normalized; empty = PrepareConnection required
};

template <typename T>
void FreeOwned(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<T*>(ptr);
}

int DupSessionDecision(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** from_d, int, long, void*) {
  // OpenSSL copies sessions (e.g. for each TLS 1.3 ticket); each copy owns its decision.
  auto** slot = reinterpret_cast<SessionDecision**>(from_d);
  if (*slot != nullptr) *slot = new SessionDecision(**slot);
  return 1;
}

ContextBinding* BindingOf(const SSL* ssl);

// Every SSL made from a context pinion is installed on gets its state at
// SSL_new, which is how PrepareConnection knows the SSL carries the guard.
// Every SSL gets one (guarded or not), so that SSL_dup always passes through
// DupConnectionState (OpenSSL skips dup callbacks for an SSL without ex_data).
void NewConnectionState(void* parent, void*, CRYPTO_EX_DATA* ex_data, int index, long, void*) {
  auto* ssl = static_cast<SSL*>(parent);
  if (ssl == nullptr) return;
  auto* state = new ConnectionState();
  state->guarded = SSL_get_SSL_CTX(ssl) != nullptr && BindingOf(ssl) != nullptr;
  if (CRYPTO_set_ex_data(ex_data, index, state) != 1) delete state;
}

// SSL_dup of a prepared SSL: the copy gets its own state (the host and port
// configured, no decision), never a pointer shared with the original.
int DupConnectionState(CRYPTO_EX_DATA* to, const CRYPTO_EX_DATA*, void** from_d, int index, long, void*) {
  delete static_cast<ConnectionState*>(CRYPTO_get_ex_data(to, index));
  auto** slot = reinterpret_cast<ConnectionState**>(from_d);
  if (*slot != nullptr) {
    auto* copy = new ConnectionState();
    // SSL_dup copies the original's extension list, guard or no guard.
    copy->guarded = (*slot)->guarded;
    copy->prepared_ctx = (*slot)->prepared_ctx;
    copy->host = (*slot)->host;
    copy->port = (*slot)->port;
    *slot = copy;
  }
  return 1;
}

int ConnectionIndex() {
  static const int kIndex = SSL_get_ex_new_index(0, nullptr, NewConnectionState, DupConnectionState,
                                                 FreeOwned<ConnectionState>);
  return kIndex;
}

int SessionIndex() {
  static const int kIndex = SSL_SESSION_get_ex_new_index(0, nullptr, nullptr, DupSessionDecision,
                                                         FreeOwned<SessionDecision>);
  return kIndex;
}

// ValidationWatch sees every step of X509_verify_cert through a wrapper
// around the application's verify callback, so a callback that returns 1 or
// clears the error cannot hide a failure from pinion (issue 12, finding 8).
struct ValidationWatch {
  X509_STORE_CTX_verify_cb application_callback = nullptr;
  int first_error = X509_V_OK;
};

int WatchIndex() {
  static const int kIndex = X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return kIndex;
}

int WatchingVerifyCallback(int preverify_ok, X509_STORE_CTX* store_ctx) {
  auto* watch = static_cast<ValidationWatch*>(X509_STORE_CTX_get_ex_data(store_ctx, WatchIndex()));
  if (watch == nullptr) return 0;  // not ours to judge: fail closed
  if (preverify_ok == 0 && watch->first_error == X509_V_OK) {
    int error = X509_STORE_CTX_get_error(store_ctx);
    watch->first_error = error != X509_V_OK ? error : X509_V_ERR_UNSPECIFIED;
  }
  return watch->application_callback != nullptr ? watch->application_callback(preverify_ok, store_ctx)
                                                : preverify_ok;
}

// A private-use extension type (RFC 8446 §4.2: first byte 0xff) that pinion
// registers only to be called while every ClientHello is built. It is never
// sent: the callback always declines to add it.
constexpr unsigned int kClientHelloGuardType = 0xff5a;

int ContextIndex() {
  static const int kIndex =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeOwned<ContextBinding>);
  return kIndex;
}

ContextBinding* BindingOf(const SSL* ssl) {
  return static_cast<ContextBinding*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ContextIndex()));
}

ConnectionState* StateOf(const SSL* ssl) {
  return static_cast<ConnectionState*>(SSL_get_ex_data(ssl, ConnectionIndex()));
}

ConnectionState& EnsureState(SSL* ssl) {
  ConnectionState* state = StateOf(ssl);
  if (state == nullptr) {
    state = new ConnectionState();
    SSL_set_ex_data(ssl, ConnectionIndex(), state);
  }
  return *state;
}

std::vector<std::vector<std::uint8_t>> StackToDer(STACK_OF(X509) * stack) {
  std::vector<std::vector<std::uint8_t>> out;
  for (int i = 0; stack != nullptr && i < sk_X509_num(stack); ++i) {
    out.push_back(openssl::CertificateDer(sk_X509_value(stack, i)));
  }
  return out;
}

SessionDecision* DecisionOf(SSL_SESSION* session) {
  return session != nullptr ? static_cast<SessionDecision*>(SSL_SESSION_get_ex_data(session, SessionIndex()))
                            : nullptr;
}

// A stored decision may be reused only for the same host, port and policy
// snapshot, and never past a time bound it depended on (kill switch `until`).
bool SessionDecisionHolds(const SessionDecision* decision, const ConnectionState& state, TimePoint now) {
  return decision != nullptr && decision->verdict != nullptr && decision->verdict->HoldsAt(now) &&
         decision->policy == state.policy_at_start && decision->host == state.host &&
         decision->port == state.port;
}

// SetHostCheck makes X509_verify_cert check exactly `host` against the SAN,
// whatever the application or libcurl set (or cleared) on the connection's
// parameters. CN fallback is off: CA/B Forum certificates carry SANs.
bool SetHostCheck(X509_VERIFY_PARAM* param, const std::string& host) {
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                             X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  if (IsIpLiteral(host)) {
    return X509_VERIFY_PARAM_set1_host(param, nullptr, 0) == 1 &&
           X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  }
  return X509_VERIFY_PARAM_set1_ip(param, nullptr, 0) == 1 &&
         X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
}

// Refuse renders a connection whose handshake completed without an allowing
// pin decision unusable: SSL_write fails and SSL_read reads end of stream.
void Refuse(SSL* ssl) {
  SSL_set_verify_result(ssl, X509_V_ERR_APPLICATION_VERIFICATION);
  SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  // A handshake that SSL_write started goes on to write without looking at
  // the shutdown flags again: give it a sink that refuses every byte.
  BIO* sink = BIO_new_mem_buf("", 0);  // read-only: writes fail
  if (sink == nullptr) return;
  SSL_set0_wbio(ssl, sink);  // drops the SSL's own reference to the old one (rbio keeps its)
}

std::shared_ptr<const Verdict> ResumedVerdict(const SessionDecision& decision) {
  auto verdict = std::make_shared<Verdict>(*decision.verdict);
  verdict->resumed_session = true;
  return verdict;
}

}  // namespace

struct Enforcer::PreparedAnchors {
  PolicySnapshot policy;
  std::vector<std::pair<const DomainRule*, UniquePtr<STACK_OF(X509)>>> stacks;
};

Enforcer::Enforcer(PolicyStore& store, EnforcerOptions options)
    : store_(store), options_(std::move(options)) {
  if (options_.clock == nullptr) options_.clock = &SystemClock::Instance();
}

Enforcer::~Enforcer() = default;

Result<std::unique_ptr<Enforcer>> Enforcer::Create(PolicyStore& store, EnforcerOptions options) {
  if (ConnectionIndex() < 0 || SessionIndex() < 0 || ContextIndex() < 0 || WatchIndex() < 0) {
    return Error(ErrorCode::kTlsSetup, "OpenSSL refused an ex_data index");
  }
  return std::unique_ptr<Enforcer>(new Enforcer(store, std::move(options)));
}

void Enforcer::Log(std::string_view message) const {
  if (options_.log) {
    options_.log(message);
  } else {
    std::cerr << "pinion: " << message << std::endl;
  }
}

Status Enforcer::Install(SSL_CTX* ctx) { return Install(ctx, ContextDefaults{}); }

Status Enforcer::Install(SSL_CTX* ctx, ContextDefaults defaults) {
  if (SSL_CTX_get_ex_data(ctx, ContextIndex()) != nullptr) {
    return Error(ErrorCode::kTlsSetup, "this SSL_CTX already has a pinion enforcer");
  }
  if (!defaults.host.empty()) {
    PINION_ASSIGN_OR_RETURN(defaults.host, NormalizeHostName(defaults.host));
  }
  // The guard first: a context on which it cannot be registered gets no
  // binding, so PrepareConnection refuses its connections.
  if (SSL_CTX_add_custom_ext(ctx, kClientHelloGuardType, SSL_EXT_CLIENT_HELLO, &Enforcer::ClientHelloGuard,
                             nullptr, this, nullptr, nullptr) != 1) {
    return Error(ErrorCode::kTlsSetup, "cannot register pinion's ClientHello guard on the SSL_CTX");
  }
  auto* binding = new ContextBinding{this, SSL_CTX_get_info_callback(ctx), std::move(defaults)};
  if (SSL_CTX_set_ex_data(ctx, ContextIndex(), binding) != 1) {
    delete binding;
    return Error(ErrorCode::kTlsSetup, "cannot attach to the SSL_CTX");
  }
  // OpenSSL has no getter for an existing cert-verify callback, so pinion's
  // replaces whatever was there; one set later is detected at HANDSHAKE_DONE.
  SSL_CTX_set_cert_verify_callback(ctx, &Enforcer::VerifyCallback, this);
  SSL_CTX_set_info_callback(ctx, &Enforcer::InfoCallback);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, SSL_CTX_get_verify_callback(ctx));
  return OkStatus();
}

Status Enforcer::Prepare(SSL* ssl, std::string_view host, std::uint16_t port) {
  ContextBinding* binding = BindingOf(ssl);
  if (binding == nullptr || binding->enforcer != this) {
    // Without InstallOn no pinion callback would run: the connection would be unpinned.
    return Error(ErrorCode::kTlsSetup,
                 "this SSL's SSL_CTX has no InstallOn from this enforcer; call Install(ctx) before SSL_new");
  }
  ConnectionState* existing = StateOf(ssl);
  if (existing == nullptr || !existing->guarded) {
    // OpenSSL copies the ClientHello guard into an SSL at SSL_new only.
    return Error(ErrorCode::kTlsSetup, "this SSL was created before InstallOn on its SSL_CTX; create it after");
  }
  PINION_ASSIGN_OR_RETURN(std::string normalized, NormalizeHostName(host));
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!SetHostCheck(param, normalized)) {
    return Error(ErrorCode::kTlsSetup, "cannot set the host name or IP address to verify");
  }
  // RFC 6066 §3: SNI carries DNS names only.
  if (!IsIpLiteral(normalized) && SSL_set_tlsext_host_name(ssl, normalized.c_str()) != 1) {
    return Error(ErrorCode::kTlsSetup, "cannot set the server name indication");
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
  ConnectionState& state = *existing;
  state.host = std::move(normalized);
  state.port = port;
  state.prepared_ctx = SSL_get_SSL_CTX(ssl);
  std::lock_guard<std::mutex> lock(state.mutex);
  state.verdict.reset();
  state.decided_under.reset();
  state.offered.reset();
  return OkStatus();
}

std::shared_ptr<STACK_OF(X509)> Enforcer::AnchorsFor(const PolicySnapshot& policy,
                                                    const DomainRule* rule) const {
  if (rule == nullptr || rule->anchors.use_system()) return nullptr;
  std::shared_ptr<PreparedAnchors> prepared;
  {
    std::lock_guard<std::mutex> lock(anchors_mutex_);
    prepared = anchors_;
  }
  // Anchors are parsed once per policy snapshot (not per handshake).
  if (prepared == nullptr || prepared->policy != policy) {
    prepared = std::make_shared<PreparedAnchors>();
    prepared->policy = policy;
    for (const DomainRule& each : policy->rules()) {
      if (each.anchors.use_system()) continue;
      UniquePtr<STACK_OF(X509)> stack(sk_X509_new_null());
      for (const auto& der : each.anchors.certificates_der) {
        UniquePtr<X509> certificate = openssl::ParseCertificateDer(der);
        if (certificate && sk_X509_push(stack.get(), certificate.get()) > 0) certificate.release();
      }
      prepared->stacks.emplace_back(&each, std::move(stack));
    }
    std::lock_guard<std::mutex> lock(anchors_mutex_);
    anchors_ = prepared;
  }
  for (const auto& [each, stack] : prepared->stacks) {
    // Aliasing: the caller's pointer keeps the whole prepared set (and the
    // snapshot it belongs to) alive however often the policy is swapped.
    if (each == rule) return std::shared_ptr<STACK_OF(X509)>(prepared, stack.get());
  }
  return nullptr;
}

std::shared_ptr<Verdict> Enforcer::VerifyAndPin(X509_STORE_CTX* store_ctx,
                                                const PolicySnapshot& policy,
                                                const std::string& host, std::uint16_t port,
                                                TimePoint now) const {
  const DomainRule* rule = policy != nullptr ? policy->FindRule(host) : nullptr;
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(store_ctx);
  if (!SetHostCheck(param, host)) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return nullptr;
  }
  // RFC 5280 as written (critical basicConstraints on CAs, key identifiers
  // present …), as `openssl verify -x509_strict` and Python 3.13 check: every
  // root in Debian's store passes, and the differential tests hold pinion to it.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  // Held until verification is over, whatever snapshot swaps happen meanwhile.
  std::shared_ptr<STACK_OF(X509)> anchors = AnchorsFor(policy, rule);
  if (anchors != nullptr) {
    // Only this rule's anchors are trusted for its hosts: the store is not consulted.
    X509_STORE_CTX_set0_trusted_stack(store_ctx, anchors.get());
  }
  ValidationWatch watch{X509_STORE_CTX_get_verify_cb(store_ctx)};
  X509_STORE_CTX_set_ex_data(store_ctx, WatchIndex(), &watch);
  X509_STORE_CTX_set_verify_cb(store_ctx, &WatchingVerifyCallback);
  int verified = X509_verify_cert(store_ctx);
  X509_STORE_CTX_set_ex_data(store_ctx, WatchIndex(), nullptr);
  X509_STORE_CTX_set_verify_cb(store_ctx, watch.application_callback);
  if (anchors != nullptr) X509_STORE_CTX_set0_trusted_stack(store_ctx, nullptr);
  if (verified <= 0) return nullptr;
  if (watch.first_error != X509_V_OK || X509_STORE_CTX_get_error(store_ctx) != X509_V_OK) {
    // An application verify callback waved an error through (returned 1, or
    // cleared it). Pinning is layered on validation, never a substitute for
    // it: refuse, and report the error the callback hid.
    Log("certificate validation failed and a verify callback overrode it; refusing to pin-accept an "
        "unvalidated chain");
    X509_STORE_CTX_set_error(store_ctx, watch.first_error != X509_V_OK ? watch.first_error
                                                                       : X509_STORE_CTX_get_error(store_ctx));
    return nullptr;
  }
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(store_ctx);
  // Re-encoding whole certificates is the costliest thing pinning could add
  // to a handshake (bench/handshake_callgrind.sh), so take each SPKI alone and
  // whole certificates only when the rule pins certificates. OpenSSL's SPKI
  // encoding is the key it actually verified with; ReadPinSources refuses
  // certificates whose raw SPKI bytes differ from it, so pins made by
  // `pinion pin` mean the same here.
  bool needs_certificates =
      rule != nullptr && std::any_of(rule->pins.begin(), rule->pins.end(), [](const PinEntry& entry) {
        return entry.pin.target() == PinTarget::kCertificate;
      });
  auto chain = ChainFromStack(built, needs_certificates);
  if (!chain) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return nullptr;
  }
  return Decide(policy, host, port, *chain, built, now);
}

Result<VerifiedChain> Enforcer::ChainFromStack(STACK_OF(X509) * built, bool whole_certificates) {
  VerifiedChain chain = internal::VerifiedChainFactory::Empty();
  internal::VerifiedChainFactory::Reserve(chain, static_cast<std::size_t>(sk_X509_num(built)),
                                          whole_certificates ? 4096 : 512);
  for (int i = 0; i < sk_X509_num(built); ++i) {
    X509* certificate = sk_X509_value(built, i);
    unsigned char* der = nullptr;
    int length = whole_certificates ? i2d_X509(certificate, &der)
                                    : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &der);
    std::span<const std::uint8_t> bytes(der, static_cast<std::size_t>(std::max(length, 0)));
    Status appended = length > 0 ? (whole_certificates ? internal::VerifiedChainFactory::Append(chain, bytes)
                                                       : internal::VerifiedChainFactory::AppendSpki(chain, bytes))
                                 : Error(ErrorCode::kCertificateParse, "OpenSSL could not encode a certificate");
    OPENSSL_free(der);
    PINION_TRY(appended);
  }
  if (chain.size() == 0) return Error(ErrorCode::kChainEmpty, "OpenSSL built no chain");
  return chain;
}

std::shared_ptr<Verdict> Enforcer::Decide(const PolicySnapshot& policy, const std::string& host,
                                          std::uint16_t port, const VerifiedChain& chain,
                                          STACK_OF(X509) * built, TimePoint now) const {
  EvaluateOptions evaluate_options{.debug_override = options_.debug_override};
  auto verdict = std::make_shared<Verdict>(Evaluate(policy, host, port, chain, now, evaluate_options));
  if (verdict->validated_chain_der.empty() && verdict->reason != VerdictReason::kMatched &&
      verdict->reason != VerdictReason::kNotPinned) {
    verdict->validated_chain_der = StackToDer(built);  // for the explanation and reports
  }
  if (verdict->reason == VerdictReason::kDebugOverride) {
    Log("WARNING: pins for " + host +
        " were BYPASSED because the chain includes an allowed debugging-proxy CA. "
        "This must never happen in a release build.");
  }
  return verdict;
}

void Enforcer::Publish(SSL* ssl, const std::shared_ptr<const Verdict>& verdict) const {
  if (options_.on_verdict) options_.on_verdict(*verdict);
  if (ContextBinding* binding = BindingOf(ssl); binding != nullptr && binding->defaults.on_verdict) {
    binding->defaults.on_verdict(verdict);
  }
}

int Enforcer::VerifyCallback(X509_STORE_CTX* store_ctx, void* arg) {
  auto* self = static_cast<Enforcer*>(arg);
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  ConnectionState* state = ssl != nullptr ? StateOf(ssl) : nullptr;
  if (state == nullptr || state->host.empty()) {
    // Without a host there is nothing to pin against; fail closed rather than skip pins.
    self->Log("Prepare() was not called for this connection; failing closed");
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  PolicySnapshot policy =
      state->policy_at_start != nullptr ? state->policy_at_start : self->store_.Current();
  std::shared_ptr<Verdict> verdict =
      self->VerifyAndPin(store_ctx, policy, state->host, state->port, self->options_.clock->Now());
  if (verdict == nullptr) return 0;  // OpenSSL's own error stays in the store context
  if (verdict->reason != VerdictReason::kMatched && verdict->reason != VerdictReason::kNotPinned) {
    verdict->served_chain_der = StackToDer(X509_STORE_CTX_get0_untrusted(store_ctx));
  }
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->verdict = verdict;
    state->decided_under = policy;
  }
  self->Publish(ssl, verdict);
  if (!verdict->allowed()) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  if (SSL_SESSION* session = SSL_get_session(ssl)) {
    SSL_SESSION_set_ex_data(session, SessionIndex(),
                            new SessionDecision{policy, state->host, state->port, verdict});
  }
  return 1;
}

void Enforcer::BeginHandshake(SSL* ssl, const ContextDefaults& defaults) const {
  ConnectionState& state = EnsureState(ssl);
  // Defaults pin only SSLs that carry the guard (made after InstallOn); any
  // other has no host, so its full handshake fails closed.
  if (state.guarded && state.host.empty() && !defaults.host.empty()) {
    state.host = defaults.host;
    state.port = defaults.port;
  }
  state.policy_at_start = store_.Current();
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.verdict.reset();
    state.decided_under.reset();
    state.offered.reset();
  }
  if (!(SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER)) {
    SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
  }
}

void Enforcer::InfoCallback(const SSL* const_ssl, int where, int ret) {
  // OpenSSL hands a const SSL* to info callbacks but allows these calls on it.
  SSL* ssl = const_cast<SSL*>(const_ssl);
  ContextBinding* binding = BindingOf(ssl);
  ConnectionState* chained = StateOf(ssl);
  if (chained != nullptr && chained->chained_info_callback != nullptr) {
    chained->chained_info_callback(ssl, where, ret);
  } else if (binding != nullptr && binding->previous_info_callback != nullptr) {
    binding->previous_info_callback(ssl, where, ret);
  }
  if (binding == nullptr || SSL_is_server(ssl)) return;
  Enforcer* self = binding->enforcer;
  if (where & SSL_CB_HANDSHAKE_START) {
    self->BeginHandshake(ssl, binding->defaults);
    ConnectionState& state = EnsureState(ssl);
    SSL_SESSION* session = SSL_get_session(ssl);
    if (session != nullptr &&
        !SessionDecisionHolds(DecisionOf(session), state, self->options_.clock->Now())) {
      // Offering this session could resume without any chain to pin: drop it
      // so the server must do a full handshake that pinion can check.
      SSL_set_session(ssl, nullptr);
    }
    return;
  }
  if (!(where & SSL_CB_HANDSHAKE_DONE)) return;
  ConnectionState& state = EnsureState(ssl);
  std::shared_ptr<const Verdict> verdict;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (SSL_session_reused(ssl) && state.offered != nullptr) {
      state.verdict = ResumedVerdict(*state.offered);
      state.decided_under = state.offered->policy;
    }
    verdict = state.verdict;
  }
  if (verdict == nullptr || !verdict->allowed()) {
    // A handshake completed without an allowing decision: pinion's
    // cert-verify callback was displaced, or failures were set to be ignored.
    self->Log("a TLS handshake for " + state.host +
              " completed without a pin check; the connection is refused (IsPinFailure)");
    Refuse(ssl);
    return;
  }
  if (verdict->resumed_session && binding->defaults.on_verdict) binding->defaults.on_verdict(verdict);
}

int Enforcer::ClientHelloGuard(SSL* ssl, unsigned int, unsigned int, const unsigned char**, std::size_t*,
                               X509*, std::size_t, int* alert, void* arg) {
  auto* self = static_cast<Enforcer*>(arg);
  ContextBinding* binding = BindingOf(ssl);
  if (binding == nullptr || binding->enforcer != self) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return -1;
  }
  auto info_callback = SSL_get_info_callback(ssl);
  if (info_callback == nullptr) info_callback = SSL_CTX_get_info_callback(SSL_get_SSL_CTX(ssl));
  if (info_callback != &Enforcer::InfoCallback) {
    // The application replaced pinion's info callback after InstallOn, so
    // HANDSHAKE_START did not reach pinion: start the handshake's
    // bookkeeping here, and put pinion's callback back on this SSL (chaining
    // the application's) so HANDSHAKE_DONE refuses an unchecked handshake.
    // The session can no longer be dropped, so one that could not be reused
    // aborts the handshake below.
    self->Log("the SSL_CTX or SSL info callback was replaced after InstallOn; chain your callback "
              "before InstallOn instead");
    self->BeginHandshake(ssl, binding->defaults);
    EnsureState(ssl).chained_info_callback = info_callback;
    SSL_set_info_callback(ssl, &Enforcer::InfoCallback);
  }
  ConnectionState& state = EnsureState(ssl);
  // Anonymous cipher suites send no certificate, so no pin check would run:
  // security level 1 makes OpenSSL refuse a server that picks one.
  if (SSL_get_security_level(ssl) < 1) SSL_set_security_level(ssl, 1);
  if (state.prepared_ctx != nullptr && state.prepared_ctx != SSL_get_SSL_CTX(ssl)) {
    self->Log("SSL_set_SSL_CTX moved a prepared connection to another context; failing closed");
    *alert = SSL_AD_INTERNAL_ERROR;
    return -1;
  }
  if (state.host.empty()) {
    self->Log("Prepare() was not called for this connection; failing closed");
    *alert = SSL_AD_INTERNAL_ERROR;
    return -1;
  }
  SSL_SESSION* session = SSL_get_session(ssl);
  std::shared_ptr<const SessionDecision> offered;
  if (session != nullptr && SSL_SESSION_is_resumable(session)) {
    const SessionDecision* decision = DecisionOf(session);
    if (!SessionDecisionHolds(decision, state, self->options_.clock->Now())) {
      self->Log("refusing to offer a TLS session for " + state.host + " whose pin decision does not hold now");
      *alert = SSL_AD_INTERNAL_ERROR;
      return -1;
    }
    offered = std::make_shared<SessionDecision>(*decision);
  }
  std::lock_guard<std::mutex> lock(state.mutex);
  state.offered = std::move(offered);
  return 0;  // never sent
}

ChainCheck Enforcer::CheckChain(const std::vector<std::vector<std::uint8_t>>& chain,
                                std::string_view host, std::uint16_t port, TimePoint at,
                                X509_STORE* trust) const {
  ChainCheck result;
  auto normalized = NormalizeHostName(host);
  if (!normalized) {
    result.validation = std::move(normalized).error();
    return result;
  }
  if (chain.empty()) {
    result.validation = Error(ErrorCode::kChainEmpty, "the chain file has no certificate");
    return result;
  }
  UniquePtr<X509> leaf = openssl::ParseCertificateDer(chain.front());
  UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  for (std::size_t i = 1; i < chain.size(); ++i) {
    UniquePtr<X509> certificate = openssl::ParseCertificateDer(chain[i]);
    if (!certificate) {
      result.validation = Error(ErrorCode::kCertificateParse,
                                "chain certificate " + std::to_string(i) + " does not parse");
      return result;
    }
    if (sk_X509_push(untrusted.get(), certificate.get()) > 0) certificate.release();
  }
  UniquePtr<X509_STORE_CTX> store_ctx(X509_STORE_CTX_new());
  if (!leaf || !store_ctx || X509_STORE_CTX_init(store_ctx.get(), trust, leaf.get(), untrusted.get()) != 1) {
    result.validation = Error(ErrorCode::kCertificateParse, "the leaf certificate does not parse");
    return result;
  }
  // The same defaults a TLS client handshake applies (ssl_verify_cert_chain).
  X509_STORE_CTX_set_default(store_ctx.get(), "ssl_server");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(store_ctx.get());
  X509_VERIFY_PARAM_set_time(param, at.time_since_epoch().count());
  if (IsIpLiteral(*normalized)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, normalized->c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, normalized->c_str(), 0);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  }
  X509_VERIFY_PARAM_set_auth_level(param, 2);  // Debian's default TLS security level

  // Policy expiry is judged at `at` too, so a future chain meets the future policy state.
  std::shared_ptr<Verdict> verdict =
      VerifyAndPin(store_ctx.get(), store_.Current(), *normalized, port, at);
  if (verdict == nullptr) {
    result.validation = openssl::VerifyError(X509_STORE_CTX_get_error(store_ctx.get()));
    return result;
  }
  result.validated_chain_der = StackToDer(X509_STORE_CTX_get0_chain(store_ctx.get()));
  verdict->served_chain_der = chain;
  result.verdict = std::move(*verdict);
  return result;
}

std::shared_ptr<const Verdict> Enforcer::VerdictOf(const SSL* ssl) {
  ConnectionState* state = StateOf(ssl);
  if (state == nullptr) return nullptr;
  std::lock_guard<std::mutex> lock(state->mutex);
  if (state->verdict != nullptr) return state->verdict;
  // Resumed while pinion's info callback was displaced: the decision was
  // checked by the ClientHello guard when the session was offered.
  if (SSL_is_init_finished(ssl) && SSL_session_reused(ssl) && state->offered != nullptr) {
    return ResumedVerdict(*state->offered);
  }
  return nullptr;
}

bool Enforcer::IsPinFailure(const SSL* ssl) {
  std::shared_ptr<const Verdict> verdict = VerdictOf(ssl);
  if (verdict != nullptr) return !verdict->allowed();
  // A completed handshake with no decision was never pin-checked.
  return SSL_is_init_finished(ssl) == 1;
}

Result<std::shared_ptr<const Verdict>> Enforcer::ConfirmConnection(SSL* ssl, std::string_view host,
                                                                   std::uint16_t port) const {
  ContextBinding* binding = BindingOf(ssl);
  ConnectionState* state = StateOf(ssl);
  if (binding == nullptr || binding->enforcer != this || state == nullptr) {
    return Error(ErrorCode::kPinValidationFailed,
                 "the connection was not made through this enforcer (an unpinned connection was reused?)");
  }
  if (SSL_is_init_finished(ssl) != 1) {
    return Error(ErrorCode::kTlsHandshake, "the connection's TLS handshake has not completed");
  }
  PINION_ASSIGN_OR_RETURN(std::string normalized, NormalizeHostName(host));
  if (state->host != normalized || state->port != port) {
    return Error(ErrorCode::kPinValidationFailed, "the connection was checked for " + state->host + ":" +
                                                      std::to_string(state->port) + ", not " + normalized +
                                                      ":" + std::to_string(port));
  }
  std::shared_ptr<const Verdict> verdict = VerdictOf(ssl);
  PolicySnapshot decided_under;
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    decided_under = state->verdict != nullptr ? state->decided_under
                                              : (state->offered ? state->offered->policy : nullptr);
  }
  if (verdict == nullptr || !verdict->allowed()) {
    return Error(ErrorCode::kPinValidationFailed, verdict == nullptr
                                                      ? "no pin check ran for this connection's handshake"
                                                      : "the pins rejected this connection");
  }
  TimePoint now = options_.clock->Now();
  PolicySnapshot current = store_.Current();
  if (decided_under == current && verdict->HoldsAt(now)) return verdict;

  // The policy changed, or the decision's time bound passed, since the
  // handshake: judge again the chain OpenSSL validated then.
  const DomainRule* new_rule = current != nullptr ? current->FindRule(normalized) : nullptr;
  const DomainRule* old_rule = decided_under != nullptr ? decided_under->FindRule(normalized) : nullptr;
  if (new_rule != nullptr && !new_rule->anchors.use_system() &&
      (old_rule == nullptr || old_rule->anchors.certificates_der != new_rule->anchors.certificates_der)) {
    return Error(ErrorCode::kPinValidationFailed,
                 "the host's trust anchors changed since this connection was validated; open a new connection");
  }
  STACK_OF(X509)* validated = SSL_get0_verified_chain(ssl);
  if (validated == nullptr || SSL_session_reused(ssl)) {
    return Error(ErrorCode::kPinValidationFailed,
                 "the policy changed since this resumed connection was checked; open a new connection");
  }
  auto chain = ChainFromStack(validated, /*whole_certificates=*/true);
  if (!chain) return Error(ErrorCode::kPinValidationFailed, chain.error().message());
  std::shared_ptr<const Verdict> fresh = Decide(current, normalized, port, *chain, validated, now);
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->verdict = fresh;
    state->decided_under = current;
  }
  Publish(ssl, fresh);
  if (!fresh->allowed()) {
    return Error(ErrorCode::kPinValidationFailed, "under the current policy the pins reject this connection");
  }
  return fresh;
}

}  // namespace pinion::openssl
