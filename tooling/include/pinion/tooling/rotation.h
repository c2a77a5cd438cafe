// pinion/tooling/rotation.h — rehearse a key rotation before it can lock anyone out.
//
//   auto plan = pinion::tooling::PlanRotation(*policy, "api.example.com", next_keys, clock.Now());
//   auto text = pinion::tooling::ApplyRotationToText(original_text, /*json=*/false, *plan, load_options);
//   write *text; print plan->checklist
#ifndef PINION_TOOLING_ROTATION_H_
#define PINION_TOOLING_ROTATION_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/clock.h"
#include "pinion/pin_source.h"
#include "pinion/policy.h"
#include "pinion/policy_loader.h"
#include "pinion/result.h"

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

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_ROTATION_H_
