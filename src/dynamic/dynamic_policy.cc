#include "pinion/dynamic/dynamic_policy.h"

#include <algorithm>
#include <set>
#include <system_error>

#include "pinion/pin_source.h"

namespace pinion {
namespace {

Result<std::string> ReadStateFile(const std::filesystem::path& path) {
  PINION_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, ReadFileBounded(path, kMaxEnvelopeBytes));
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace


DynamicPolicy::DynamicPolicy(PolicySnapshot baseline, std::vector<TrustedKey> keys,
                             std::filesystem::path dir, DynamicPolicyOptions options)
    : baseline_(std::move(baseline)),
      trusted_keys_(std::move(keys)),
      directory_(std::move(dir)),
      options_(std::move(options)),
      store_(baseline_) {
  if (options_.clock == nullptr) options_.clock = &SystemClock::Instance();
}

Result<std::unique_ptr<DynamicPolicy>> DynamicPolicy::Create(PolicySnapshot baseline,
                                                             std::vector<TrustedKey> trusted_keys,
                                                             std::filesystem::path state_directory,
                                                             DynamicPolicyOptions options) {
  if (baseline == nullptr) {
    return Error(ErrorCode::kInvalidArgument, "a dynamic policy needs a baseline policy");
  }
  std::set<std::string> distinct;
  for (const TrustedKey& key : trusted_keys) distinct.insert(key.keyid);
  if (distinct.size() < 2) {
    return Error(ErrorCode::kInvalidArgument,
                 "trust at least two manifest-signing keys (the current one and an offline "
                 "backup), so losing one key does not freeze updates");
  }
  std::error_code ec;
  std::filesystem::create_directories(state_directory, ec);
  if (ec || !std::filesystem::is_directory(state_directory)) {
    return Error(ErrorCode::kIo, "cannot create the state directory: " + ec.message())
        .WithSource(state_directory.string());
  }
  std::unique_ptr<DynamicPolicy> policy(new DynamicPolicy(
      std::move(baseline), std::move(trusted_keys), std::move(state_directory), std::move(options)));
  policy->Restore();
  return policy;
}

std::uint64_t DynamicPolicy::active_version() const { return store_.Current()->version(); }

void DynamicPolicy::Emit(ManifestEvent event) const {
  if (options_.on_event) options_.on_event(event);
}

Result<VerifiedManifest> DynamicPolicy::Verify(std::string_view text, std::string_view source,
                                               std::uint64_t active_version, bool check_expiry) const {
  ManifestAcceptance rules{.now = options_.clock->Now(),
                           .active_version = active_version,
                           .max_clock_skew = options_.max_clock_skew,
                           .max_kill_switch = options_.max_kill_switch,
                           .check_expiry = check_expiry};
  return VerifyManifest(text, trusted_keys_, rules, source);
}

void DynamicPolicy::Restore() {
  // Leftovers of a write that crashed before its rename hold nothing active.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(".manifest") && name.find(".tmp-") != std::string::npos) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
  for (std::string_view file : {kActiveFile, kPreviousFile}) {
    std::filesystem::path path = directory_ / file;
    if (!std::filesystem::exists(path, ec)) continue;
    // Verified again as if new (signature, payload, kill-switch bound), except
    // expiry: it was checked when the manifest was accepted.
    auto text = ReadStateFile(path);
    auto verified = text ? Verify(*text, path.string(), baseline_->version(), false)
                         : Result<VerifiedManifest>(std::move(text).error());
    if (!verified) {
      Emit({.kind = ManifestEvent::Kind::kStateSkipped,
            .source = path.string(),
            .active_version = baseline_->version(),
            .error = std::move(verified).error()});
      continue;
    }
    std::uint64_t version = verified->manifest.version();
    bool kill_switch = verified->manifest.kill_switch().has_value();
    store_.Swap(std::move(verified->manifest.policy));
    active_manifest_ = std::move(*text);
    Emit({.kind = ManifestEvent::Kind::kRestored,
          .source = path.string(),
          .version = version,
          .active_version = version,
          .kill_switch = kill_switch});
    return;
  }
}

Status DynamicPolicy::Persist(std::string_view new_manifest) {
  auto observer = [this](std::string_view file) -> AtomicWriteObserver {
    if (!options_.on_store_step) return {};
    return [this, file](std::string_view step) {
      options_.on_store_step(std::string(file) + ":" + std::string(step));
    };
  };
  // Keep the manifest being replaced as the fallback, from memory (verified),
  // never by copying the file (which could be the corrupted one).
  if (!active_manifest_.empty()) {
    PINION_TRY(WriteFileAtomically(directory_ / kPreviousFile, active_manifest_, observer(kPreviousFile)));
  }
  return WriteFileAtomically(directory_ / kActiveFile, new_manifest, observer(kActiveFile));
}

Result<std::uint64_t> DynamicPolicy::Offer(std::string_view envelope_json, std::string_view source) {
  std::lock_guard<std::mutex> lock(offer_mutex_);
  std::uint64_t active = active_version();
  auto verified = Verify(envelope_json, source, active, true);
  if (!verified) {
    Emit({.kind = ManifestEvent::Kind::kRejected,
          .source = std::string(source),
          .active_version = active,
          .error = verified.error()});
    return std::move(verified).error();
  }
  std::uint64_t version = verified->manifest.version();
  bool kill_switch = verified->manifest.kill_switch().has_value();
  // Durable first, active second: after a crash the state directory never
  // holds less than what was running.
  if (Status stored = Persist(envelope_json); !stored.ok()) {
    Emit({.kind = ManifestEvent::Kind::kRejected,
          .source = std::string(source),
          .version = version,
          .active_version = active,
          .error = stored.error(),
          .kill_switch = kill_switch});
    return stored.error();
  }
  store_.Swap(std::move(verified->manifest.policy));
  active_manifest_.assign(envelope_json);
  Emit({.kind = ManifestEvent::Kind::kAccepted,
        .source = std::string(source),
        .version = version,
        .active_version = version,
        .kill_switch = kill_switch});
  return version;
}

}  // namespace pinion
