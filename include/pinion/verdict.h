// pinion/verdict.h — the outcome of evaluating a validated chain against a policy.
//
// A Verdict says whether to allow the connection, why, which pin matched,
// every validated certificate's pins, and can explain itself so that a
// failure can be debugged from the message alone:
//
//   if (!verdict.allowed()) std::cerr << verdict.Explain();
//
// A Verdict keeps the policy snapshot it was made with alive, so rule() and
// matched_pin() stay valid for the Verdict's lifetime.
#ifndef PINION_VERDICT_H_
#define PINION_VERDICT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/enum_table.h"
#include "pinion/clock.h"
#include "pinion/pin.h"
#include "pinion/policy.h"

namespace pinion {

enum class Decision : std::uint8_t { kAllow, kReject };

enum class VerdictReason : std::uint8_t {
  kMatched,             // a pin matched a certificate of the validated chain → allow
  kNotPinned,           // no rule covers the host → allow
  kPolicyExpired,       // the rule expired and on_expiry = "allow" → allow (fail open, reported)
  kReportOnlyMismatch,  // no pin matched, rule is report-only → allow and report
  kMismatch,            // no pin matched, rule enforces → reject
  kDebugOverride,       // no pin matched, but the chain ends at an explicitly allowed
                        // debugging-proxy CA (EvaluateOptions::debug_override) → allow, logged
  kInvalidHost,         // the host name given is not a valid name → reject (fail closed)
  kKillSwitch,          // no pin matched, but a signed manifest's kill switch disabled
                        // enforcement for this host until kill_switch_until → allow, reported
};

// The names reports, JSON output and logs use.
inline constexpr EnumTable<VerdictReason, 8> kVerdictReasonNames{{{
    {VerdictReason::kMatched, "matched"},
    {VerdictReason::kNotPinned, "not-pinned"},
    {VerdictReason::kPolicyExpired, "policy-expired"},
    {VerdictReason::kReportOnlyMismatch, "report-only-mismatch"},
    {VerdictReason::kMismatch, "mismatch"},
    {VerdictReason::kDebugOverride, "debug-override"},
    {VerdictReason::kInvalidHost, "invalid-host"},
    {VerdictReason::kKillSwitch, "kill-switch"},
}}};
static_assert(kVerdictReasonNames.IsComplete());
inline constexpr EnumTable<Decision, 2> kDecisionNames{{{{Decision::kAllow, "allow"}, {Decision::kReject, "reject"}}}};
static_assert(kDecisionNames.IsComplete());
inline std::string_view VerdictReasonName(VerdictReason reason) { return kVerdictReasonNames.Name(reason); }
inline std::string_view DecisionName(Decision decision) { return kDecisionNames.Name(decision); }

// CertificatePins lists the pins computed for one validated certificate:
// always its SPKI SHA-256, plus any other digest the matching rule pins with.
struct CertificatePins {
  Pin spki_sha256;
  std::vector<Pin> other;
};

struct Verdict {
  Decision decision = Decision::kAllow;
  VerdictReason reason = VerdictReason::kNotPinned;
  std::string host;  // normalized when valid, as given otherwise
  std::uint16_t port = 0;
  TimePoint evaluated_at;
  std::uint64_t policy_version = 0;
  PolicySnapshot policy;            // keeps `rule` alive
  const DomainRule* rule = nullptr;  // null when not pinned
  std::optional<std::size_t> matched_pin_index;    // into rule->pins
  std::optional<std::size_t> matched_chain_index;  // 0 = leaf
  std::vector<CertificatePins> chain_pins;         // empty when not pinned
  // DER of the validated chain; kept only when no pin matched, for
  // explanations and reports.
  std::vector<std::vector<std::uint8_t>> validated_chain_der;
  // DER of the chain the server sent, attached by adapters for explanations
  // and reports; never used for the decision.
  std::vector<std::vector<std::uint8_t>> served_chain_der;
  // Set when a kill switch (Policy::enforcement_override) decided: reason
  // kKillSwitch (mode "disabled") or kReportOnlyMismatch (mode "report-only").
  std::optional<TimePoint> kill_switch_until;
  bool resumed_session = false;  // set by adapters: decision carried over from the full handshake

  bool allowed() const { return decision == Decision::kAllow; }
  // HoldsAt: this decision may be reused at `now` for the same host, port and
  // policy snapshot (session resumption, connection reuse). False for every
  // rejection; for a debug-override allow (decided and logged per
  // connection); from a kill switch's `until` on; and for a fail-open past
  // `expires` when `now` is before `expires` again. DESIGN.md: "never past a
  // time bound it depended on".
  bool HoldsAt(TimePoint now) const;
  const PinEntry* matched_pin() const {
    return rule != nullptr && matched_pin_index ? &rule->pins[*matched_pin_index] : nullptr;
  }
  // Summary is one line: "ALLOW api.example.com:443 matched sha256/… (leaf key 2026) at depth 0".
  std::string Summary() const;
  // Explain lists the validated chain's pins next to the expected ones, the
  // served chain when attached, and what to do next.
  std::string Explain() const;
};

}  // namespace pinion

#endif  // PINION_VERDICT_H_
