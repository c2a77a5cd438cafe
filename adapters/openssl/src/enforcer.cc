#include "pinion/openssl/enforcer.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <iostream>

#include "internal/openssl_ptr.h"
#include "internal/openssl_util.h"
#include "internal/verified_chain_factory.h"
#include "pinion/host_pattern.h"

namespace pinion::openssl {
namespace {

using internal::UniquePtr;

// Per-connection state, owned by the SSL through ex_data.
struct ConnectionState {
  std::string host;  // normalized
  std::uint16_t port = 0;
  std::shared_ptr<const Verdict> verdict;
  PolicySnapshot policy_at_start;  // snapshot current when the handshake began
};

// A decision stored on an SSL_SESSION so that resumption can reuse it only
// under the same policy snapshot, host and port.
struct SessionDecision {
  PolicySnapshot policy;
  std::string host;
  std::uint16_t port = 0;
  std::shared_ptr<const Verdict> verdict;
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

int ConnectionIndex() {
  static const int kIndex =
      SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeOwned<ConnectionState>);
  return kIndex;
}

int SessionIndex() {
  static const int kIndex = SSL_SESSION_get_ex_new_index(0, nullptr, nullptr, DupSessionDecision,
                                                         FreeOwned<SessionDecision>);
  return kIndex;
}

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
    out.push_back(internal::CertificateDer(sk_X509_value(stack, i)));
  }
  return out;
}

bool SessionDecisionStillValid(const SessionDecision* decision, const ConnectionState& state) {
  return decision != nullptr && decision->verdict != nullptr && decision->verdict->allowed() &&
         decision->policy == state.policy_at_start && decision->host == state.host &&
         decision->port == state.port;
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
  if (ConnectionIndex() < 0 || SessionIndex() < 0 || ContextIndex() < 0) {
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

Status Enforcer::InstallOn(SSL_CTX* ctx) { return InstallOn(ctx, ContextDefaults{}); }

Status Enforcer::InstallOn(SSL_CTX* ctx, ContextDefaults defaults) {
  if (SSL_CTX_get_ex_data(ctx, ContextIndex()) != nullptr) {
    return Error(ErrorCode::kTlsSetup, "this SSL_CTX already has a pinion enforcer");
  }
  if (!defaults.host.empty()) {
    PINION_ASSIGN_OR_RETURN(defaults.host, NormalizeHostName(defaults.host));
  }
  auto* binding = new ContextBinding{this, SSL_CTX_get_info_callback(ctx), std::move(defaults)};
  if (SSL_CTX_set_ex_data(ctx, ContextIndex(), binding) != 1) {
    delete binding;
    return Error(ErrorCode::kTlsSetup, "cannot attach to the SSL_CTX");
  }
  SSL_CTX_set_cert_verify_callback(ctx, &Enforcer::VerifyCallback, this);
  SSL_CTX_set_info_callback(ctx, &Enforcer::InfoCallback);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, SSL_CTX_get_verify_callback(ctx));
  return OkStatus();
}

Status Enforcer::PrepareConnection(SSL* ssl, std::string_view host, std::uint16_t port) {
  PINION_ASSIGN_OR_RETURN(std::string normalized, NormalizeHostName(host));
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (IsIpLiteral(normalized)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, normalized.c_str()) != 1) {
      return Error(ErrorCode::kTlsSetup, "cannot set the IP address to verify");
    }
  } else {
    // RFC 6066 §3: SNI carries DNS names only.
    if (SSL_set_tlsext_host_name(ssl, normalized.c_str()) != 1 ||
        SSL_set1_host(ssl, normalized.c_str()) != 1) {
      return Error(ErrorCode::kTlsSetup, "cannot set the host name to verify");
    }
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
  ConnectionState& state = EnsureState(ssl);
  state.host = std::move(normalized);
  state.port = port;
  state.verdict.reset();
  return OkStatus();
}

STACK_OF(X509) * Enforcer::AnchorsFor(const PolicySnapshot& policy, const DomainRule* rule) const {
  if (rule == nullptr || rule->anchors.use_system()) return nullptr;
  std::lock_guard<std::mutex> lock(anchors_mutex_);
  // Anchors are parsed once per policy snapshot (not per handshake).
  if (anchors_ == nullptr || anchors_->policy != policy) {
    auto prepared = std::make_shared<PreparedAnchors>();
    prepared->policy = policy;
    for (const DomainRule& each : policy->rules()) {
      if (each.anchors.use_system()) continue;
      UniquePtr<STACK_OF(X509)> stack(sk_X509_new_null());
      for (const auto& der : each.anchors.certificates_der) {
        UniquePtr<X509> certificate = internal::ParseCertificateDer(der);
        if (certificate && sk_X509_push(stack.get(), certificate.get()) > 0) certificate.release();
      }
      prepared->stacks.emplace_back(&each, std::move(stack));
    }
    anchors_ = std::move(prepared);
  }
  for (const auto& [each, stack] : anchors_->stacks) {
    if (each == rule) return stack.get();
  }
  return nullptr;
}

std::shared_ptr<Verdict> Enforcer::VerifyAndPin(X509_STORE_CTX* store_ctx,
                                                const PolicySnapshot& policy,
                                                const std::string& host, std::uint16_t port,
                                                TimePoint now) const {
  const DomainRule* rule = policy != nullptr ? policy->FindRule(host) : nullptr;
  if (STACK_OF(X509)* anchors = AnchorsFor(policy, rule)) {
    // Only this rule's anchors are trusted for its hosts: the store is not consulted.
    X509_STORE_CTX_set0_trusted_stack(store_ctx, anchors);
  }
  if (X509_verify_cert(store_ctx) <= 0) return nullptr;
  if (X509_STORE_CTX_get_error(store_ctx) != X509_V_OK) {
    // An application verify callback waved an error through. Pinning is
    // layered on validation, never a substitute for it: refuse.
    Log("certificate validation reported an error that a verify callback overrode; "
        "refusing to pin-accept an unvalidated chain");
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
  VerifiedChain chain = internal::VerifiedChainFactory::Empty();
  internal::VerifiedChainFactory::Reserve(chain, static_cast<std::size_t>(sk_X509_num(built)),
                                          needs_certificates ? 4096 : 512);
  for (int i = 0; i < sk_X509_num(built); ++i) {
    X509* certificate = sk_X509_value(built, i);
    unsigned char* der = nullptr;
    int length = needs_certificates ? i2d_X509(certificate, &der)
                                    : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &der);
    std::span<const std::uint8_t> bytes(der, static_cast<std::size_t>(std::max(length, 0)));
    bool appended = length > 0 && (needs_certificates
                                       ? internal::VerifiedChainFactory::Append(chain, bytes)
                                       : internal::VerifiedChainFactory::AppendSpki(chain, bytes))
                                      .ok();
    OPENSSL_free(der);
    if (!appended) {
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
      return nullptr;
    }
  }
  EvaluateOptions evaluate_options{.debug_override = options_.debug_override};
  auto verdict = std::make_shared<Verdict>(
      Evaluate(policy, host, port, chain, now, evaluate_options));
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

int Enforcer::VerifyCallback(X509_STORE_CTX* store_ctx, void* arg) {
  auto* self = static_cast<Enforcer*>(arg);
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  ConnectionState* state = ssl != nullptr ? StateOf(ssl) : nullptr;
  if (state == nullptr || state->host.empty()) {
    // Without a host there is nothing to pin against; fail closed rather than skip pins.
    self->Log("PrepareConnection() was not called for this connection; failing closed");
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
  state->verdict = verdict;
  if (self->options_.on_verdict) self->options_.on_verdict(*verdict);
  if (ContextBinding* binding = BindingOf(ssl); binding != nullptr && binding->defaults.on_verdict) {
    binding->defaults.on_verdict(verdict);
  }
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

void Enforcer::InfoCallback(const SSL* const_ssl, int where, int ret) {
  // OpenSSL hands a const SSL* to info callbacks but allows these calls on it.
  SSL* ssl = const_cast<SSL*>(const_ssl);
  ContextBinding* binding = BindingOf(ssl);
  if (binding != nullptr && binding->previous_info_callback != nullptr) {
    binding->previous_info_callback(ssl, where, ret);
  }
  if (binding == nullptr || SSL_is_server(ssl)) return;
  Enforcer* self = binding->enforcer;
  if (where & SSL_CB_HANDSHAKE_START) {
    ConnectionState& state = EnsureState(ssl);
    if (state.host.empty() && !binding->defaults.host.empty()) {
      state.host = binding->defaults.host;
      state.port = binding->defaults.port;
    }
    state.policy_at_start = self->store_.Current();
    state.verdict.reset();
    if (!(SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER)) {
      SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
    }
    SSL_SESSION* session = SSL_get_session(ssl);
    if (session != nullptr) {
      auto* decision =
          static_cast<SessionDecision*>(SSL_SESSION_get_ex_data(session, SessionIndex()));
      if (!SessionDecisionStillValid(decision, state)) {
        // Offering this session could resume without any chain to pin: drop it
        // so the server must do a full handshake that pinion can check.
        SSL_set_session(ssl, nullptr);
      }
    }
    return;
  }
  if ((where & SSL_CB_HANDSHAKE_DONE) && SSL_session_reused(ssl)) {
    ConnectionState& state = EnsureState(ssl);
    auto* decision = static_cast<SessionDecision*>(
        SSL_SESSION_get_ex_data(SSL_get_session(ssl), SessionIndex()));
    auto verdict = std::make_shared<Verdict>();
    if (SessionDecisionStillValid(decision, state)) {
      *verdict = *decision->verdict;
      verdict->resumed_session = true;
    } else {
      // Only reachable if the application swapped the session mid-handshake.
      verdict->decision = Decision::kReject;
      verdict->reason = VerdictReason::kMismatch;
      verdict->host = state.host;
      verdict->port = state.port;
      self->Log("a session resumed without a pinned decision for " + state.host +
                "; treat this connection as failed (IsPinFailure)");
      SSL_set_verify_result(ssl, X509_V_ERR_APPLICATION_VERIFICATION);
    }
    state.verdict = std::move(verdict);
    if (binding->defaults.on_verdict) binding->defaults.on_verdict(state.verdict);
  }
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
  UniquePtr<X509> leaf = internal::ParseCertificateDer(chain.front());
  UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  for (std::size_t i = 1; i < chain.size(); ++i) {
    UniquePtr<X509> certificate = internal::ParseCertificateDer(chain[i]);
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
    int error = X509_STORE_CTX_get_error(store_ctx.get());
    ErrorCode code = (error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH)
                         ? ErrorCode::kHostnameMismatch
                         : ErrorCode::kChainValidation;
    result.validation = Error(code, std::string("OpenSSL: ") + X509_verify_cert_error_string(error));
    return result;
  }
  result.validated_chain_der = StackToDer(X509_STORE_CTX_get0_chain(store_ctx.get()));
  verdict->served_chain_der = chain;
  result.verdict = std::move(*verdict);
  return result;
}

std::shared_ptr<const Verdict> Enforcer::GetVerdict(const SSL* ssl) {
  ConnectionState* state = StateOf(ssl);
  return state != nullptr ? state->verdict : nullptr;
}

bool Enforcer::IsPinFailure(const SSL* ssl) {
  std::shared_ptr<const Verdict> verdict = GetVerdict(ssl);
  return verdict != nullptr && !verdict->allowed();
}

}  // namespace pinion::openssl
