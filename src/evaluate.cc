#include "pinion/evaluate.h"

#include <algorithm>

#include "pinion/host_pattern.h"

namespace pinion {
namespace {

// Hosts arrive from application code on every handshake; most are already
// lower-case ASCII names without a trailing dot. This check accepts only
// names NormalizeHostName would return unchanged (so a malformed name never
// skips normalization and fails open as "not pinned").
bool IsAlreadyNormal(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label_length = 0;
  char previous = '.';
  bool all_digits_and_dots = true;
  for (char c : host) {
    if (c == '.') {
      if (label_length == 0 || previous == '-') return false;
      label_length = 0;
    } else {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok || (c == '-' && label_length == 0) || ++label_length > 63) return false;
      if (c < '0' || c > '9') all_digits_and_dots = false;
    }
    previous = c;
  }
  // An IPv4-looking name (any name ending in a number: "0x7f.0.0.1",
  // "example.123") takes the slow path, which canonicalizes or refuses it.
  return label_length != 0 && previous != '-' && !all_digits_and_dots && !HostEndsInNumber(host);
}

bool Matches(const Pin& expected, const CertificatePins& pins) {
  if (expected.target() == PinTarget::kSpki && expected.algorithm() == HashAlgorithm::kSha256) {
    return expected == pins.spki_sha256;
  }
  return std::find(pins.other.begin(), pins.other.end(), expected) != pins.other.end();
}

// Computes, per certificate, the SPKI SHA-256 and any other digest kind the
// rule pins with (so cert-sha256/ and sha384/ pins cost nothing unless used).
void ComputeChainPins(const DomainRule& rule, const VerifiedChain& chain,
                      std::vector<CertificatePins>& out) {
  bool extra_needed[2][3] = {};
  bool any_extra = false;
  for (const PinEntry& entry : rule.pins) {
    const Pin& pin = entry.pin;
    if (pin.target() == PinTarget::kSpki && pin.algorithm() == HashAlgorithm::kSha256) continue;
    extra_needed[static_cast<int>(pin.target())][static_cast<int>(pin.algorithm())] = true;
    any_extra = true;
  }
  out.reserve(chain.size());
  for (std::size_t i = 0; i < chain.size(); ++i) {
    CertificatePins pins{chain.SpkiSha256(i), {}};
    if (any_extra) {
      for (auto algorithm : {HashAlgorithm::kSha256, HashAlgorithm::kSha384, HashAlgorithm::kSha512}) {
        if (extra_needed[static_cast<int>(PinTarget::kSpki)][static_cast<int>(algorithm)]) {
          pins.other.push_back(Pin::OfSpki(chain.spki_der(i), algorithm));
        }
        // Without the certificate's DER a certificate pin cannot match: fail closed.
        if (extra_needed[static_cast<int>(PinTarget::kCertificate)][static_cast<int>(algorithm)] &&
            !chain.certificate_der(i).empty()) {
          pins.other.push_back(Pin::OfCertificate(chain.certificate_der(i), algorithm));
        }
      }
    }
    out.push_back(std::move(pins));
  }
}

bool ChainEndsAtProxyCa(const std::vector<CertificatePins>& chain_pins,
                        const DebugProxyOverride& debug_override) {
  for (const CertificatePins& pins : chain_pins) {
    for (const Pin& proxy : debug_override.proxy_ca_spki_pins) {
      if (proxy == pins.spki_sha256) return true;
    }
  }
  return false;
}

}  // namespace

Verdict Evaluate(const PolicySnapshot& policy, std::string_view host, std::uint16_t port,
                 const VerifiedChain& chain, TimePoint now, const EvaluateOptions& options) {
  Verdict verdict;
  verdict.port = port;
  verdict.evaluated_at = now;
  if (IsAlreadyNormal(host)) {
    verdict.host.assign(host);
  } else {
    auto normalized = NormalizeHostName(host);
    if (!normalized) {
      verdict.host.assign(host);
      verdict.decision = Decision::kReject;
      verdict.reason = VerdictReason::kInvalidHost;
      return verdict;
    }
    verdict.host = std::move(*normalized);
  }
  if (policy == nullptr) return verdict;  // nothing pinned
  verdict.policy_version = policy->version();
  const DomainRule* rule = policy->FindRule(verdict.host);
  if (rule == nullptr) return verdict;  // kNotPinned

  verdict.policy = policy;
  verdict.rule = rule;
  ComputeChainPins(*rule, chain, verdict.chain_pins);
  for (std::size_t depth = 0; depth < verdict.chain_pins.size() && !verdict.matched_pin_index;
       ++depth) {
    for (std::size_t p = 0; p < rule->pins.size(); ++p) {
      if (Matches(rule->pins[p].pin, verdict.chain_pins[depth])) {
        verdict.matched_pin_index = p;
        verdict.matched_chain_index = depth;
        break;
      }
    }
  }

  if (rule->IsExpired(now) && rule->on_expiry == ExpiryAction::kAllow) {
    verdict.reason = VerdictReason::kPolicyExpired;
  } else if (verdict.matched_pin_index) {
    verdict.reason = VerdictReason::kMatched;
    return verdict;
  } else if (options.debug_override != nullptr &&
             ChainEndsAtProxyCa(verdict.chain_pins, *options.debug_override)) {
    verdict.reason = VerdictReason::kDebugOverride;
  } else if (const auto& kill_switch = policy->enforcement_override();
             kill_switch && kill_switch->AppliesTo(verdict.host, now)) {
    // A signed manifest's kill switch: bounded in time, so enforcement resumes by itself.
    verdict.kill_switch_until = kill_switch->until;
    verdict.reason = kill_switch->mode == OverrideMode::kDisabled ? VerdictReason::kKillSwitch
                                                                   : VerdictReason::kReportOnlyMismatch;
  } else if (rule->mode == EnforcementMode::kReportOnly) {
    verdict.reason = VerdictReason::kReportOnlyMismatch;
  } else {
    verdict.decision = Decision::kReject;
    verdict.reason = VerdictReason::kMismatch;
  }
  // Anything but a plain match is explained and reported: keep the chain.
  // (Adapters that supplied SPKIs only attach the certificates themselves.)
  for (std::size_t i = 0; i < chain.size(); ++i) {
    auto der = chain.certificate_der(i);
    if (!der.empty()) verdict.validated_chain_der.emplace_back(der.begin(), der.end());
  }
  return verdict;
}

}  // namespace pinion
