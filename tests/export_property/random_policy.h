// Seeded random policies and the chain matrix they are judged on, for the
// export property test (docs/security/EXPORT_PROPERTY.md).
//
//   ChainMatrix matrix = ChainMatrix::Generate();         // keys and chains, fresh each run
//   RandomPolicy p = GenerateRandomPolicy(seed, matrix);  // same seed, same policy (given the matrix)
//   PolicyToToml(*p.policy);
//
// Everything is bounded: at most kMaxRules rules of at most kMaxPins pins,
// host names from a fixed universe (HostUniverse) that every leaf names.
#ifndef PINION_TESTS_EXPORT_PROPERTY_RANDOM_POLICY_H_
#define PINION_TESTS_EXPORT_PROPERTY_RANDOM_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "pinion/policy.h"
#include "test_pki.h"

namespace pinion::property {

inline constexpr std::size_t kMaxRules = 4;
inline constexpr std::size_t kMaxPins = 4;

// HostUniverse: every host name a policy rule is built from or judged for,
// including names two labels down and a look-alike ("myapi" vs "api").
const std::vector<std::string>& HostUniverse();

// ChainKind: the four chains a server could present for the same names.
enum class ChainKind { kGenuine, kRotated, kBackup, kRogue };
inline constexpr ChainKind kChainKinds[] = {ChainKind::kGenuine, ChainKind::kRotated, ChainKind::kBackup,
                                            ChainKind::kRogue};
const char* ChainKindName(ChainKind kind);

// Chain: what a server sends (leaf + intermediate) and the chain a client
// validates it to (leaf, intermediate, root).
struct Chain {
  ChainKind kind;
  std::string served_pem;
  std::string key_pem;
  std::vector<std::vector<std::uint8_t>> served_der;
  std::vector<std::vector<std::uint8_t>> validated_der;
  std::string validated_pem;
};

// Pki: one owner's keys (root → intermediate → leaf, a rotated leaf key, an
// offline backup key, a key nobody holds) and a rogue CA issuing for the same
// names. Leaf key type varies between Pkis (P-256, RSA 2048, P-384).
struct Pki {
  testing::KeyKind leaf_kind;
  testing::Key root_key, intermediate_key, leaf_key, rotated_key, backup_key, canary_key;
  testing::Cert root, intermediate, leaf, rotated_leaf, backup_leaf;
  testing::Key rogue_root_key, rogue_intermediate_key, rogue_leaf_key;
  testing::Cert rogue_root, rogue_intermediate, rogue_leaf;
  std::vector<Chain> chains;  // in kChainKinds order
};

// ChainMatrix: a few Pkis; a policy uses one of them. roots_pem trusts every
// root, the rogue ones too (a client whose store holds the mis-issuing CA), so
// only pins and anchors tell the chains apart.
struct ChainMatrix {
  std::vector<Pki> pkis;
  std::string roots_pem;
  static ChainMatrix Generate();
};

struct RandomPolicy {
  std::uint64_t seed;
  std::size_t pki_index;
  bool plain;  // only what most platforms can express (see GenerateRandomPolicy)
  PolicySnapshot policy;
};

// GenerateRandomPolicy: exact, "*." and "**." rules; SPKI SHA-256 pins of
// leaf, backup, rotated, intermediate, root and canary keys, sometimes SHA-384/
// 512 or certificate pins; roles; enforce or report-only; expiry in the past
// or future with either on_expiry; sometimes the owner's root as anchors.
// Report URIs point at 127.0.0.1 (nothing leaves the machine). Half the policies are
// "plain": SPKI SHA-256 pins only, two or more per rule, one role per rule, enforced, no
// expiry, no anchors, report URIs or extra hash kinds.
RandomPolicy GenerateRandomPolicy(std::uint64_t seed, const ChainMatrix& matrix);

}  // namespace pinion::property

#endif  // PINION_TESTS_EXPORT_PROPERTY_RANDOM_POLICY_H_
