#include "pinion/static_policy.h"

#include "pinion/policy_loader.h"

namespace pinion {

Result<PolicySnapshot> LoadStaticPolicy(const StaticPolicy& policy) {
  // A compiled-in policy has no directory to read anchor files from.
  return ParsePolicyJson(policy.json, "static policy", {.allow_anchor_files = false});
}

}  // namespace pinion
