// pinion/tooling/rotation.h — rehearse a key rotation before it can lock anyone out.
//
//   auto plan = pinion::tooling::PlanRotation(*policy, "api.example.com", next_keys, clock.Now());
//   auto text = pinion::tooling::ApplyRotationToText(original_text, /*json=*/false, *plan, load_options);
//   write *text; print plan->checklist
//
// Before the new chain is deployed, every policy version still in the field
// must accept it:
//   auto check = pinion::tooling::CheckRotation(new_chain, {{"v7.toml", v7}, {"v8.toml", v8}},
//                                               {.host = "api.example.com", .at = deploy_time});
//   if (check->lockouts() > 0) ... ship the next key's pin first
#ifndef PINION_TOOLING_ROTATION_H_
#define PINION_TOOLING_ROTATION_H_

#include <openssl/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/clock.h"
#include "pinion/pin_source.h"
#include "pinion/policy.h"
#include "pinion/policy_loader.h"
#include "pinion/result.h"
#include "pinion/verdict.h"

namespace pinion::tooling {

struct RotationOptions {
  // A rule that has `expires` gets expires = today (UTC) + this, unless it
  // already expires later: the next version must stay in force for the whole
  // rotation, and an expiry is never moved back.
  std::chrono::days expiry_extension{365};
};

struct RotationPlan {
  PolicySnapshot next_policy;           // version + 1, the next key(s) pinned as backup
  std::size_t rule_index = 0;           // the rule of next_policy that changed
  std::vector<PinEntry> added_entries;  // appended to that rule's pins, in order
  std::vector<Pin> added;               // the same pins
  // The rule's expiry before and after (both empty when the rule has none).
  std::optional<std::chrono::sys_seconds> previous_expires, next_expires;
  std::vector<std::string> checklist;   // what must ship, in order, before the switch
};

// PlanRotation pins `next_keys` in the rule covering `host`, keeping every
// current pin (clients in the field must keep accepting the current key until
// the switch), and moves the rule's `expires` forward (RotationOptions).
// Fails with kInvalidArgument when no rule covers the host, there is no next
// key or every next key is already pinned; kInputTooLarge beyond kMaxPinsPerDomain.
Result<RotationPlan> PlanRotation(const Policy& policy, std::string_view host,
                                  const std::vector<PinSource>& next_keys, TimePoint now,
                                  const RotationOptions& options = {});

// ApplyRotationToText makes the plan's edits in the text of the policy the
// plan was made from (TOML, or JSON when `json`): the version number, the new
// pin entries appended to the rule's `pins` array in its own layout, and the
// `expires` value. Every other byte — comments, key order, relative anchor
// paths, roles, labels, spacing — stays as it was. The result is loaded again
// (with `load_options`, for relative anchors) and must be exactly
// plan.next_policy; kPolicySyntax/kPolicySchema when the text is not the
// policy's, kInvalidArgument when an edit in place cannot express the plan.
Result<std::string> ApplyRotationToText(std::string_view text, bool json, const RotationPlan& plan,
                                        const PolicyLoadOptions& load_options);

// ---- Checking a new chain against the versions in the field -------------------

// FieldPolicy is one policy version still in the field, with the name it is
// known by (its file).
struct FieldPolicy {
  std::string name;
  PolicySnapshot policy;
};

// ChainAcceptance is what one policy version does with the new chain.
enum class ChainAcceptance : std::uint8_t {
  kAccepts,          // the chain validates and the pins allow it
  kLocksOut,         // the chain validates, but the pins refuse it: users would be locked out
  kValidationError,  // the chain does not validate for the host at that time: no pin matters yet
};
// ChainAcceptanceName: "accepts" | "locks_out" | "validation_error" (stable, in --json).
std::string_view ChainAcceptanceName(ChainAcceptance acceptance);

// PolicyAcceptance is the outcome for one FieldPolicy.
struct PolicyAcceptance {
  std::string name;
  std::uint64_t version = 0;
  ChainAcceptance acceptance = ChainAcceptance::kValidationError;
  std::optional<VerdictReason> reason;  // the verdict's reason, when the chain validated
  std::optional<PinEntry> matched_pin;  // the pin that accepted the chain, if one did
  std::optional<Error> validation_error;  // why the chain did not validate
};

// RotationCheck tells, for each policy version in the field, what it does
// with a new chain for `host` at `at`.
struct RotationCheck {
  std::string host;
  TimePoint at;
  std::vector<PolicyAcceptance> policies;  // in the order given

  // LockOuts counts the versions whose pins refuse the chain.
  std::size_t LockOuts() const;
  // ValidationFailed: the chain itself does not validate (for any version).
  bool ValidationFailed() const;
};

struct RotationCheckOptions {
  std::string host;               // the host the chain is for (see LeafHostName)
  TimePoint at;                   // when it will be deployed
  std::uint16_t port = 443;
  X509_STORE* trust = nullptr;    // roots to validate against (a rule's own anchors replace them); borrowed
};

// LeafHostName returns the first DNS name of the chain's leaf: the host a new
// chain is for when none is given. kInvalidArgument when the leaf names none
// (or does not parse).
Result<std::string> LeafHostName(const std::vector<std::vector<std::uint8_t>>& chain_der);

// CheckRotation validates `chain_der` (leaf first) for options.host at
// options.at exactly as a handshake would (openssl::Enforcer::CheckChain),
// under each of `policies`, then judges it by that version's pins. Offline.
// Fails only when an enforcer cannot be made for a policy.
Result<RotationCheck> CheckRotation(const std::vector<std::vector<std::uint8_t>>& chain_der,
                                    std::span<const FieldPolicy> policies, const RotationCheckOptions& options);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_ROTATION_H_
