// pinion/policy_loader.h — read a policy from TOML or JSON (same schema).
//
//   auto policy = pinion::LoadPolicyFile("pins.toml");
//   if (!policy) { std::cerr << policy.error().ToString() << "\n"; return 2; }
//
// The schema (docs/POLICY.md) is a public contract: unknown keys, wrong types,
// unparsable pins, bad dates and duplicate hosts are errors that name the
// file, line and column (where the format gives them), the field and the
// reason. Loading is all-or-nothing: a policy that fails to load yields no
// policy at all. Relative `anchors` paths are resolved against the policy
// file's directory and read at load time.
#ifndef PINION_POLICY_LOADER_H_
#define PINION_POLICY_LOADER_H_

#include <filesystem>
#include <string_view>

#include "pinion/policy.h"
#include "pinion/result.h"

namespace pinion {

struct PolicyLoadOptions {
  // Directory that relative `anchors` paths are resolved against; default:
  // the current directory (LoadPolicyFile uses the file's directory).
  std::filesystem::path base_directory;
  // False for documents that must be self-contained (manifests): `anchors`
  // may then only be "system" or inline PEM, never a path to read.
  bool allow_anchor_files = true;
};

Result<PolicySnapshot> ParsePolicyToml(std::string_view text, std::string_view source_name,
                                       const PolicyLoadOptions& options = {});
Result<PolicySnapshot> ParsePolicyJson(std::string_view text, std::string_view source_name,
                                       const PolicyLoadOptions& options = {});
// LoadPolicyFile picks the format by extension (.toml, .json); any other
// extension is read as JSON when it starts with '{', else as TOML.
Result<PolicySnapshot> LoadPolicyFile(const std::filesystem::path& path);

}  // namespace pinion

#endif  // PINION_POLICY_LOADER_H_
