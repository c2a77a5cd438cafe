// pinion/policy_writer.h — write a policy back as TOML or JSON.
//
//   std::string text = pinion::PolicyToToml(*policy);
//   auto again = pinion::ParsePolicyToml(text, "again.toml");   // the same policy
//
// The output uses the schema of docs/POLICY.md, keys in a fixed order, only
// non-default values, and round-trips: parsing it yields an equal policy.
#ifndef PINION_POLICY_WRITER_H_
#define PINION_POLICY_WRITER_H_

#include <string>

#include "pinion/policy.h"

namespace pinion {

struct PolicyWriteOptions {
  // Self-contained documents (manifests, compiled-in policies) carry every
  // anchor bundle as PEM text, never as the path of a file the reader lacks.
  bool self_contained = false;
};

std::string PolicyToToml(const Policy& policy, const PolicyWriteOptions& options = {});
std::string PolicyToJson(const Policy& policy, const PolicyWriteOptions& options = {});

// SamePolicy compares two policies field by field (version, rules in order,
// pins with labels, anchors by certificate bytes, lint_disable).
bool SamePolicy(const Policy& a, const Policy& b);

}  // namespace pinion

#endif  // PINION_POLICY_WRITER_H_
