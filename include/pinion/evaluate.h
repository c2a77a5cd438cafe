// pinion/evaluate.h — the pure, thread-safe pin evaluator.
//
//   pinion::Verdict v = pinion::Evaluate(policy, "api.example.com", 443, chain, clock.Now());
//
// Evaluate performs no I/O and keeps no state: any number of threads may call
// it at once with the same policy snapshot. Outcomes (docs/POLICY.md):
//   no rule for the host            → allow, kNotPinned
//   a pin matches any certificate   → allow, kMatched
//   rule expired, on_expiry=allow   → allow, kPolicyExpired
//   no match, report-only           → allow, kReportOnlyMismatch
//   no match, enforce               → reject, kMismatch
#ifndef PINION_EVALUATE_H_
#define PINION_EVALUATE_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "pinion/clock.h"
#include "pinion/pin.h"
#include "pinion/policy.h"
#include "pinion/verdict.h"
#include "pinion/verified_chain.h"

namespace pinion {

// DebugProxyOverride lets a debugging proxy's CA through for pinned hosts
// (Android's overridePins). It exists only in code: no policy key and no
// environment variable turns it on. Every use yields a kDebugOverride
// verdict, which adapters log loudly. The proxy CA must still pass normal
// validation (be in the trust store used for the connection).
struct DebugProxyOverride {
  std::span<const Pin> proxy_ca_spki_pins;  // SPKI SHA-256 pins of the proxy CAs
};

struct EvaluateOptions {
  // Null (the default) disables the override.
  const DebugProxyOverride* debug_override = nullptr;
};

// Evaluate checks `chain` (validated for `host`) against `policy` at `now`.
// A null policy pins nothing. Never fails: every outcome is a Verdict.
Verdict Evaluate(const PolicySnapshot& policy, std::string_view host, std::uint16_t port,
                 const VerifiedChain& chain, TimePoint now, const EvaluateOptions& options = {});

}  // namespace pinion

#endif  // PINION_EVALUATE_H_
