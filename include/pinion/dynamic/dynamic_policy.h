// pinion/dynamic/dynamic_policy.h — a policy that signed manifests can update.
//
//   auto baseline = pinion::LoadStaticPolicy(pinion_generated::kPolicy);   // or a file
//   auto policy = pinion::DynamicPolicy::Create(*baseline, {current_key, backup_key},
//                                               "/var/lib/myapp/pins", {});
//   auto enforcer = pinion::openssl::Enforcer::Create((*policy)->store());
//   …
//   (*policy)->Offer(fetched_manifest_text, "https://pins.example.com/v1/manifests/app");
//
// A DynamicPolicy is a baseline (shipped with the program) + the
// manifest-signing keys the program trusts (at least two: the current key and
// a backup kept offline) + a state directory. Offer() accepts a manifest only
// by VerifyManifest's rules (trusted signature, version above the active one,
// not expired, issued_at within the clock skew, kill switch within its
// maximum), writes it to the state directory crash-safely, and only then swaps
// it in. Anything refused leaves the active policy exactly as it was.
//
// State directory: manifest.json (the active manifest, as signed) and
// manifest.previous.json (the one before it). At start-up both are verified
// again; a corrupted or tampered file is skipped with an event, falling back
// to the previous manifest and then to the baseline — never to "no pins". A
// stored manifest older than the baseline is ignored (the program shipped
// newer pins). An installed manifest stays active after its `expires` until a
// newer one arrives: `expires` bounds how late a manifest may be *installed*;
// the rules' own `expires` / `on_expiry` bound how long pins apply.
//
// Thread safety: Offer() calls are serialized; handshakes read store()
// concurrently and never wait for an Offer (PolicyStore swaps a pointer).
#ifndef PINION_DYNAMIC_POLICY_H_
#define PINION_DYNAMIC_POLICY_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/atomic_file.h"
#include "pinion/clock.h"
#include "pinion/dynamic/dsse.h"
#include "pinion/dynamic/manifest.h"
#include "pinion/policy_store.h"
#include "pinion/result.h"

namespace pinion {

// ManifestEvent tells the application (logs, reports) what happened to a manifest.
struct ManifestEvent {
  enum class Kind : std::uint8_t {
    kAccepted,      // verified, stored and now active
    kRejected,      // refused; the active policy is unchanged (error says why)
    kRestored,      // loaded from the state directory at start-up
    kStateSkipped,  // a state file failed verification at start-up (error says why)
  };
  Kind kind = Kind::kAccepted;
  std::string source;               // URL or file the manifest came from
  std::uint64_t version = 0;        // the manifest's version when known
  std::uint64_t active_version = 0; // the active version after the event
  std::optional<Error> error;       // for kRejected / kStateSkipped
  bool kill_switch = false;         // the manifest carries a kill switch
};

struct DynamicPolicyOptions {
  const Clock* clock = &SystemClock::Instance();
  std::chrono::seconds max_clock_skew = kDefaultMaxClockSkew;
  std::chrono::seconds max_kill_switch = kDefaultMaxKillSwitch;
  // Called for every event, on the thread that caused it; keep it short.
  std::function<void(const ManifestEvent&)> on_event;
  // Test hook: called at each step of writing the state directory with
  // "<file>:<step>" (steps of WriteFileAtomically), so crash tests can kill
  // the process at every point.
  std::function<void(std::string_view step)> on_store_step;
};

class DynamicPolicy {
 public:
  static constexpr std::string_view kActiveFile = "manifest.json";
  static constexpr std::string_view kPreviousFile = "manifest.previous.json";

  // Create loads the state directory (creating it if missing) over `baseline`.
  // kInvalidArgument with fewer than two distinct trusted keys or a null
  // baseline; kIo when the directory cannot be created.
  static Result<std::unique_ptr<DynamicPolicy>> Create(PolicySnapshot baseline,
                                                       std::vector<TrustedKey> trusted_keys,
                                                       std::filesystem::path state_directory,
                                                       DynamicPolicyOptions options = {});

  // store is what adapters read (Enforcer::Create(policy->store())).
  PolicyStore& store() { return store_; }
  PolicySnapshot Current() const { return store_.Current(); }
  std::uint64_t active_version() const;
  // baseline is the policy shipped with the program (used to pin the
  // manifest's own download, see curl/manifest_updater.h).
  const PolicySnapshot& baseline() const { return baseline_; }

  // Offer verifies `envelope_json` and, when acceptable, stores and activates
  // it, returning its version. On any error the active policy is unchanged.
  Result<std::uint64_t> Offer(std::string_view envelope_json, std::string_view source);

 private:
  DynamicPolicy(PolicySnapshot baseline, std::vector<TrustedKey> keys, std::filesystem::path dir,
                DynamicPolicyOptions options);
  void Restore();
  Result<VerifiedManifest> Verify(std::string_view text, std::string_view source,
                                  std::uint64_t active_version, bool check_expiry) const;
  Status Persist(std::string_view new_manifest);
  void Emit(ManifestEvent event) const;

  PolicySnapshot baseline_;
  std::vector<TrustedKey> trusted_keys_;
  std::filesystem::path directory_;
  DynamicPolicyOptions options_;
  PolicyStore store_;
  mutable std::mutex offer_mutex_;  // serializes Offer (verification + persistence + swap)
  std::string active_manifest_;     // the active manifest's text; empty = baseline
};

}  // namespace pinion

#endif  // PINION_DYNAMIC_POLICY_H_
