// pinion/static_policy.h — a policy compiled into the program (static
// pinning): no file is read at run time. `pinion export --to cpp` writes a
// header holding the policy as canonical JSON (anchors as PEM text); the
// program loads it once:
//
//   #include "pins.generated.h"       // defines pinion_generated::kPolicy
//   auto policy = pinion::LoadStaticPolicy(pinion_generated::kPolicy);
//
// The compiled-in text goes through the JSON loader itself, so a compiled-in
// policy and the same policy read from a file can never be judged differently.
#ifndef PINION_STATIC_POLICY_H_
#define PINION_STATIC_POLICY_H_

#include <string_view>

#include "pinion/policy.h"
#include "pinion/result.h"

namespace pinion {

struct StaticPolicy {
  std::string_view json;  // the policy as PolicyToJson writes it, self-contained
};

// LoadStaticPolicy parses the compiled-in JSON with ParsePolicyJson (source
// "static policy"); anchors must be inline PEM, never a file to read.
Result<PolicySnapshot> LoadStaticPolicy(const StaticPolicy& policy);

}  // namespace pinion

#endif  // PINION_STATIC_POLICY_H_
