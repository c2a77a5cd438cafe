// pinion/dynamic/manifest.h — signed pin-set updates (dynamic pinning).
//
// A manifest is a DSSE envelope (dsse.h) of type kManifestPayloadType whose
// payload is a policy in JSON with three more keys in its [policy] table:
//
//   { "policy": { "version": 8,                          // strictly increasing
//                 "issued_at": "2026-11-21T10:00:00Z",
//                 "expires":   "2026-12-21T10:00:00Z",
//                 "enforcement": { "mode": "disabled",    // optional kill switch
//                                  "hosts": ["api.example.com"],  // optional; absent = all
//                                  "until": "2026-11-28T10:00:00Z" } },
//     "domain": [ … the policy schema of docs/POLICY.md … ] }
//
// Signer:  auto json = pinion::ManifestPayloadJson(*policy, {.issued_at=…, .expires=…});
//          (a kill switch first: policy = pinion::WithKillSwitch(*policy, kill_switch, issued_at))
//          auto envelope = pinion::SignDsse(pinion::kManifestPayloadType, bytes(*json), keys);
// Client:  auto verified = pinion::VerifyManifest(text, trusted_keys, {.now=…, .active_version=…});
//
// VerifyManifest is the whole acceptance rule: a trusted signature, then a
// version above the active one, not expired, not issued in the future beyond
// the allowed skew, and a kill switch no longer than the allowed maximum. A
// manifest that fails any check is refused as a whole: it can never weaken
// pinning. DynamicPolicy (dynamic_policy.h) applies it and keeps it on disk.
#ifndef PINION_MANIFEST_H_
#define PINION_MANIFEST_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pinion/clock.h"
#include "pinion/dynamic/dsse.h"
#include "pinion/policy.h"
#include "pinion/result.h"

namespace pinion {

inline constexpr std::string_view kManifestPayloadType = "application/vnd.pinion.manifest+json";

// Defaults of the acceptance rules (ManifestAcceptance).
inline constexpr std::chrono::seconds kDefaultMaxClockSkew{5 * 60};
inline constexpr std::chrono::seconds kDefaultMaxKillSwitch{30 * 24 * 3600};

// ManifestTimes are the signed validity of a manifest.
struct ManifestTimes {
  TimePoint issued_at;
  TimePoint expires;
};

// Manifest is a decoded payload. `policy` carries the version and the kill
// switch (Policy::enforcement_override), ready to be swapped in.
struct Manifest {
  PolicySnapshot policy;
  ManifestTimes times;

  std::uint64_t version() const { return policy->version(); }
  const std::optional<EnforcementOverride>& kill_switch() const {
    return policy->enforcement_override();
  }
};

// ManifestPayloadJson writes `policy` (its version and rules, anchors embedded
// as PEM) with `times` and the kill switch `policy.enforcement_override()`.
// kInvalidArgument when expires is not after issued_at or the kill switch's
// until is not after issued_at.
Result<std::string> ManifestPayloadJson(const Policy& policy, const ManifestTimes& times);

// KillSwitchFits: `kill_switch` ends at most `max_kill_switch` after
// `issued_at`, the limit a client applies (ManifestAcceptance::max_kill_switch).
bool KillSwitchFits(const EnforcementOverride& kill_switch, TimePoint issued_at,
                    std::chrono::seconds max_kill_switch);

// WithKillSwitch composes what a signer publishes to relax enforcement for a
// while: `policy`'s version and rules with `kill_switch` as the enforcement
// override, ready for ManifestPayloadJson. Refused with kKillSwitchTooLong
// when the switch does not fit `max_kill_switch` after `issued_at` (a client
// would refuse the manifest: signing it would only fail later, in the field);
// Policy::Create's errors otherwise.
Result<PolicySnapshot> WithKillSwitch(const Policy& policy, EnforcementOverride kill_switch,
                                      TimePoint issued_at,
                                      std::chrono::seconds max_kill_switch = kDefaultMaxKillSwitch);

// ParseManifestPayload decodes a payload (strict schema, as policy files, plus
// the manifest keys). Checks structure only, not time or version: see
// VerifyManifest. Errors name `source_name` and the field.
Result<Manifest> ParseManifestPayload(std::string_view json, std::string_view source_name);

// ManifestAcceptance is what a client demands of a new manifest.
struct ManifestAcceptance {
  TimePoint now;
  std::uint64_t active_version = 0;  // the version must be strictly greater
  std::chrono::seconds max_clock_skew = kDefaultMaxClockSkew;     // issued_at may be this far ahead
  std::chrono::seconds max_kill_switch = kDefaultMaxKillSwitch;   // until - issued_at at most this
  bool check_expiry = true;  // false only to re-load what was accepted before (DynamicPolicy)
};

struct VerifiedManifest {
  Manifest manifest;
  std::string keyid;  // the trusted key whose signature verified
};

// VerifyManifest parses the envelope, verifies a signature under `trusted`,
// decodes the payload and applies `rules`. Errors: kSignatureInvalid,
// kManifestRollback, kManifestExpired, kManifestNotYetValid,
// kKillSwitchTooLong, and the parse errors of ParseDsseEnvelope and
// ParseManifestPayload.
Result<VerifiedManifest> VerifyManifest(std::string_view envelope_json,
                                        std::span<const TrustedKey> trusted,
                                        const ManifestAcceptance& rules,
                                        std::string_view source_name = "manifest");

}  // namespace pinion

#endif  // PINION_MANIFEST_H_
