// pinion/tooling/rotation.h — rehearse a key rotation before it can lock anyone out.
//
//   auto plan = pinion::tooling::PlanRotation(*policy, "api.example.com", next_keys, clock.Now());
//   write plan->next_policy; print plan->checklist
#ifndef PINION_TOOLING_ROTATION_H_
#define PINION_TOOLING_ROTATION_H_

#include <string>
#include <vector>

#include "pinion/clock.h"
#include "pinion/pin_source.h"
#include "pinion/policy.h"
#include "pinion/result.h"

namespace pinion::tooling {

struct RotationPlan {
  PolicySnapshot next_policy;           // version + 1, the next key(s) pinned as backup
  std::vector<Pin> added;               // pins new in next_policy
  std::vector<std::string> checklist;   // what must ship, in order, before the switch
};

// PlanRotation pins `next_keys` in the rule covering `host`, keeping every
// current pin (clients in the field must keep accepting the current key until
// the switch). Fails with kInvalidArgument when no rule covers the host or
// there is no next key, kInputTooLarge beyond kMaxPinsPerDomain.
Result<RotationPlan> PlanRotation(const Policy& policy, std::string_view host,
                                  const std::vector<PinSource>& next_keys, TimePoint now);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_ROTATION_H_
