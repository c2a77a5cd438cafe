// pinion/policy.h — a pin policy: which hosts are pinned, to what, and how.
//
// A Policy is an immutable, versioned snapshot, shared as
// `PolicySnapshot = std::shared_ptr<const Policy>` so running handshakes keep
// the snapshot they started with while a new one is swapped in (policy_store.h).
// Load one from a file with LoadPolicyFile (policy_loader.h) or build one in
// code with Policy::Create.
//
// Rule precedence (most specific wins, see docs/POLICY.md):
//   1. an exact rule for the host;
//   2. a "*.parent" rule where parent is the host minus its first label;
//   3. subtree rules ("**.name" / include_subdomains), longest name first.
#ifndef PINION_POLICY_H_
#define PINION_POLICY_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pinion/enum_table.h"
#include "pinion/host_pattern.h"
#include "pinion/pin.h"
#include "pinion/result.h"

namespace pinion {

// Bounds every loaded policy must respect (rule 4 of STYLE.md: bound every input).
inline constexpr std::size_t kMaxPolicyBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxPolicyDomains = 100000;
inline constexpr std::size_t kMaxPinsPerDomain = 64;
inline constexpr std::size_t kMaxReportUris = 8;
inline constexpr std::size_t kMaxAnchorsPerDomain = 256;
inline constexpr std::size_t kMaxLintDisablePerDomain = 32;
inline constexpr std::size_t kMaxLabelLength = 256;  // bytes of a pin's label

enum class EnforcementMode : std::uint8_t { kEnforce, kReportOnly };
// ExpiryAction says what happens once `expires` has passed.
enum class ExpiryAction : std::uint8_t {
  kAllow,    // stop enforcing (fail open, reported): no lock-out after a missed update
  kEnforce,  // keep enforcing
};

inline constexpr EnumTable<EnforcementMode, 2> kEnforcementModeNames{
    {{{EnforcementMode::kEnforce, "enforce"}, {EnforcementMode::kReportOnly, "report-only"}}}};
static_assert(kEnforcementModeNames.IsComplete());
inline constexpr EnumTable<ExpiryAction, 2> kExpiryActionNames{
    {{{ExpiryAction::kAllow, "allow"}, {ExpiryAction::kEnforce, "enforce"}}}};
static_assert(kExpiryActionNames.IsComplete());
inline std::string_view EnforcementModeName(EnforcementMode mode) { return kEnforcementModeNames.Name(mode); }
inline std::string_view ExpiryActionName(ExpiryAction action) { return kExpiryActionNames.Name(action); }

// IsCleanText: valid UTF-8 without control characters (TAB allowed) — what labels must be,
// so every policy can be written back as TOML and JSON.
bool IsCleanText(std::string_view text);
// IsLintRuleId: "PIN" and three digits, the form of `pinion lint` rule IDs
// (which IDs exist is the linter's catalogue, docs/LINT.md).
bool IsLintRuleId(std::string_view text);
// IsValidReportUri: an absolute http(s) URI with a host, at most 2048 printable
// ASCII characters, none of space " < > \ ^ ` { | }.
bool IsValidReportUri(std::string_view uri);
// ReportUriHost is the normalized host of a valid report URI (no user info,
// port or brackets), or nullopt when the URI is not valid or its host is not.
std::optional<std::string> ReportUriHost(std::string_view uri);

// PinRole says which certificate of a chain a pin is meant for. pinion itself
// matches a pin against every certificate of the validated chain whatever its
// role; exporters use it for platforms that distinguish (iOS leaf vs CA identities).
enum class PinRole : std::uint8_t { kUnspecified, kLeaf, kCa };
inline constexpr EnumTable<PinRole, 3> kPinRoleNames{
    {{{PinRole::kUnspecified, ""}, {PinRole::kLeaf, "leaf"}, {PinRole::kCa, "ca"}}}};
static_assert(kPinRoleNames.IsComplete());
inline std::string_view PinRoleName(PinRole role) { return kPinRoleNames.Name(role); }

// PinEntry is one expected pin with a human label ("backup key, offline").
struct PinEntry {
  Pin pin;
  std::string label;
  PinRole role = PinRole::kUnspecified;
};

// TrustAnchors: "system" (the TLS library's store), or a PEM bundle whose
// certificates replace the store for this rule's hosts only.
struct TrustAnchors {
  std::string path;  // empty = system store; "(inline)" / "(compiled in)" when embedded
  std::vector<std::vector<std::uint8_t>> certificates_der;
  bool embedded = false;  // the PEM was in the policy itself (inline text, manifest, compiled in)
  bool use_system() const { return path.empty(); }
};

// DomainRule is one [[domain]] entry.
struct DomainRule {
  HostPattern host;
  EnforcementMode mode = EnforcementMode::kEnforce;
  std::optional<std::chrono::sys_seconds> expires;
  ExpiryAction on_expiry = ExpiryAction::kAllow;
  std::vector<std::string> report_uris;
  TrustAnchors anchors;
  std::vector<PinEntry> pins;
  // lint_disable: `pinion lint` rules ("PIN010") not applied to this rule.
  // Enforcement ignores it; Create checks only the form (IsLintRuleId), no
  // duplicates and at most kMaxLintDisablePerDomain entries.
  std::vector<std::string> lint_disable;
  // Where the rule was read from (1-based line, column), 0 when built in code;
  // for diagnostics only, never compared.
  std::uint32_t source_line = 0;
  std::uint32_t source_column = 0;

  // IsExpired: true once `now` has reached `expires`.
  bool IsExpired(std::chrono::sys_seconds now) const { return expires && now >= *expires; }
};

// EnforcementOverride is a kill switch: set only by a signed, version-checked
// manifest (manifest.h), never by a policy file. Until `until`, a pin mismatch
// on a covered host is allowed (kDisabled) or allowed and reported
// (kReportOnly); from `until` on, the rules enforce again by themselves.
enum class OverrideMode : std::uint8_t { kDisabled, kReportOnly };
inline constexpr EnumTable<OverrideMode, 2> kOverrideModeNames{
    {{{OverrideMode::kDisabled, "disabled"}, {OverrideMode::kReportOnly, "report-only"}}}};
static_assert(kOverrideModeNames.IsComplete());
inline std::string_view OverrideModeName(OverrideMode mode) { return kOverrideModeNames.Name(mode); }

struct EnforcementOverride {
  OverrideMode mode = OverrideMode::kDisabled;
  std::vector<HostPattern> hosts;  // empty = every host
  std::chrono::sys_seconds until;
  // AppliesTo: the override is in force for `normalized_host` at `now`.
  bool AppliesTo(std::string_view normalized_host, std::chrono::sys_seconds now) const;
};

class Policy;
using PolicySnapshot = std::shared_ptr<const Policy>;

class Policy {
 public:
  // Create validates and indexes rules, and is the one checkpoint every
  // source passes (TOML, JSON, manifests, compiled-in policies, importers), so
  // every limit above is enforced here: at most kMaxPolicyDomains rules, no
  // duplicate host pattern, 1 to kMaxPinsPerDomain pins per rule, no duplicate
  // pin within a rule, labels of at most kMaxLabelLength bytes of clean text
  // (IsCleanText), at most kMaxReportUris valid report URIs
  // (IsValidReportUri), at most kMaxAnchorsPerDomain anchors, at most
  // kMaxLintDisablePerDomain lint_disable entries that are rule IDs
  // (IsLintRuleId), each once. Loaders check the same limits early too, to
  // bound their work and to point at the line.
  // Errors carry the field ("domain[3].host") of the offending rule.
  // `enforcement_override` is the kill switch of a verified manifest.
  static Result<PolicySnapshot> Create(std::uint64_t version, std::vector<DomainRule> rules,
                                       std::optional<EnforcementOverride> enforcement_override = {});

  std::uint64_t version() const { return version_; }
  std::span<const DomainRule> rules() const { return rules_; }
  const std::optional<EnforcementOverride>& enforcement_override() const {
    return enforcement_override_;
  }

  // FindRule returns the most specific rule covering `normalized_host`
  // (see NormalizeHostName), or null when the host is not pinned.
  const DomainRule* FindRule(std::string_view normalized_host) const;

  // CheckInvariants verifies the indexes agree with rules(); for tests and fuzzers.
  bool CheckInvariants() const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>>;

  Policy() = default;
  const Index& IndexFor(HostPatternKind kind) const;
  Index& IndexFor(HostPatternKind kind) {
    return const_cast<Index&>(static_cast<const Policy*>(this)->IndexFor(kind));
  }

  std::uint64_t version_ = 0;
  std::vector<DomainRule> rules_;
  std::optional<EnforcementOverride> enforcement_override_;
  Index exact_;     // base → rule index
  Index wildcard_;  // base (the parent) → rule index
  Index subtree_;   // base → rule index
};

}  // namespace pinion

#endif  // PINION_POLICY_H_
