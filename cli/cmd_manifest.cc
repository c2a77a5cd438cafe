// pinion manifest keygen|sign|verify|show — signed pin-set updates (docs/DYNAMIC.md).

#include <fstream>
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/atomic_file.h"
#include "pinion/certificate_info.h"
#include "pinion/dynamic/manifest.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "pinion/tooling/manifest_signing.h"

namespace pinion::cli {
namespace {

struct ManifestOptions {
  // keygen
  std::string type = "ed25519";
  std::string out_prefix;
  bool force = false;
  // sign
  std::vector<std::string> keys;
  std::string policy_file;
  std::string issued_at;
  std::string expires_in = "30d";
  std::string kill_switch;
  std::vector<std::string> kill_switch_hosts;
  std::string until;
  std::string max_kill_switch = "30d";
  std::string output;
  // verify / show
  std::vector<std::string> trust;
  std::string manifest_file;
  std::uint64_t active_version = 0;
  std::string at;
  std::string max_skew = "5m";
  bool json = false;
};

Result<std::string> ReadText(const std::string& path, std::size_t bound) {
  PINION_ASSIGN_OR_RETURN(auto bytes, ReadFileBounded(path, bound));
  return std::string(bytes.begin(), bytes.end());
}

Result<TimePoint> TimeOption(const std::string& text, std::string_view flag) {
  if (text.empty()) return SystemClock::Instance().Now();
  auto parsed = ParseTimestamp(text);
  if (!parsed) return std::move(parsed).error().WithField(std::string(flag));
  return parsed;
}

CommandResult RunKeygen(const ManifestOptions& options) {
  SigningKeyType type;
  if (options.type == "ed25519") {
    type = SigningKeyType::kEd25519;
  } else if (options.type == "p256") {
    type = SigningKeyType::kEcdsaP256;
  } else {
    return Error(ErrorCode::kInvalidArgument, "--type must be ed25519 or p256");
  }
  std::string private_path = options.out_prefix + ".key";
  std::string public_path = options.out_prefix + ".pub";
  if (!options.force && (std::filesystem::exists(private_path) || std::filesystem::exists(public_path))) {
    return CliFailure(Error(ErrorCode::kInvalidArgument, "refusing to overwrite an existing key").WithSource(private_path),
                      "Pick another --out prefix, or pass --force if you really mean to replace it.");
  }
  PINION_ASSIGN_OR_RETURN(SigningKey key, GenerateSigningKey(type));
  // Owner-only from the first byte to the rename: never readable by others.
  Status written = WritePrivateFileAtomically(private_path, key.private_pem);
  if (written.ok()) written = WriteFileAtomically(public_path, key.public_pem);
  if (!written.ok()) {
    return CliFailure(written.error(),
                      "Nothing usable was written: check that the --out directory exists and is writable.")
        .WithExitCode(kExitOutput);
  }
  if (options.json) {
    std::cout << nlohmann::json{{"type", options.type}, {"keyid", key.keyid}, {"private_key", private_path},
                                {"public_key", public_path}}.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "keyid " << key.keyid << "\n  private: " << private_path << " (keep offline)\n  public:  "
            << public_path << " (ship in the client's trusted keys)\n";
  return kExitOk;
}

// SignTimes: when the manifest is issued, how long clients may install it,
// and the longest kill switch they accept.
struct SignTimes {
  TimePoint issued_at;
  std::chrono::seconds expires_in;
  std::chrono::seconds max_kill_switch;
};

CliResult<SignTimes> ReadSignTimes(const ManifestOptions& options) {
  auto issued_at = TimeOption(options.issued_at, "--issued-at");
  auto expires_in = ParseDuration(options.expires_in);
  auto max_kill = ParseDuration(options.max_kill_switch);
  if (!issued_at || !expires_in || !max_kill) {
    return CliFailure(!issued_at ? issued_at.error() : !expires_in ? expires_in.error() : max_kill.error(),
                      "Times are YYYY-MM-DD or RFC 3339; durations are like 30d, 12h, 90m.");
  }
  return SignTimes{*issued_at, *expires_in, *max_kill};
}

// ApplyKillSwitch reads --kill-switch, --until and --kill-switch-host; the
// manifest module composes the switch under the limit clients apply.
CliResult<PolicySnapshot> ApplyKillSwitch(const ManifestOptions& options, const PolicySnapshot& policy,
                                          const SignTimes& times) {
  if (options.kill_switch.empty()) {
    if (!options.kill_switch_hosts.empty() || !options.until.empty()) {
      return Error(ErrorCode::kInvalidArgument, "--kill-switch-host and --until need --kill-switch");
    }
    return policy;
  }
  EnforcementOverride kill_switch;
  std::optional<OverrideMode> mode = kOverrideModeNames.Parse(options.kill_switch);
  if (!mode) return Error(ErrorCode::kInvalidArgument, "--kill-switch must be disabled or report-only");
  kill_switch.mode = *mode;
  PINION_ASSIGN_OR_RETURN(kill_switch.until,
                          Hinted(ParseTimestamp(options.until),
                                 "--kill-switch needs --until (YYYY-MM-DD or RFC 3339): it always ends."));
  for (const std::string& host : options.kill_switch_hosts) {
    auto pattern = HostPattern::Parse(host, false);
    if (!pattern) return std::move(pattern).error().WithField("--kill-switch-host");
    kill_switch.hosts.push_back(std::move(*pattern));
  }
  auto composed = WithKillSwitch(*policy, std::move(kill_switch), times.issued_at, times.max_kill_switch);
  if (!composed && composed.error().code() == ErrorCode::kKillSwitchTooLong) {
    // Said in the flags' terms.
    return CliFailure(Error(ErrorCode::kKillSwitchTooLong, "--until is more than " + options.max_kill_switch +
                                                                " after issued_at; clients would refuse the manifest"),
                      "Choose an earlier --until, then sign a fresh kill switch if it must last longer.");
  }
  return composed;
}

CliResult<DsseEnvelope> SignPayload(const ManifestOptions& options, const std::string& payload) {
  std::vector<std::string> keys;
  for (const std::string& file : options.keys) {
    PINION_ASSIGN_OR_RETURN(std::string pem, Hinted(ReadText(file, 64 * 1024),
                                                    "--key takes a private key made by `pinion manifest keygen`."));
    keys.push_back(std::move(pem));
  }
  return Hinted(SignDsse(kManifestPayloadType,
                         {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}, keys),
                "--key takes an Ed25519 or ECDSA P-256 private key (PEM).");
}

void PrintSigned(const ManifestOptions& options, const Policy& policy, const ManifestTimes& times,
                 const DsseEnvelope& envelope, const std::string& text) {
  if (options.json) {
    nlohmann::json keyids = nlohmann::json::array();
    for (const DsseSignature& signature : envelope.signatures) keyids.push_back(signature.keyid);
    nlohmann::json out = {{"version", policy.version()},
                          {"issued_at", FormatUtc(times.issued_at)},
                          {"expires", FormatUtc(times.expires)},
                          {"signature_keyids", keyids},
                          {"output", options.output.empty() ? nlohmann::json() : nlohmann::json(options.output)}};
    // The envelope itself when it went nowhere else (`| jq .manifest` gives a
    // valid manifest: DSSE signs the payload bytes, not the JSON layout).
    out["manifest"] = options.output.empty() ? nlohmann::json::parse(text) : nlohmann::json();
    std::cout << out.dump(2) << "\n";
  } else if (options.output.empty()) {
    std::cout << text;
  } else {
    std::size_t signatures = envelope.signatures.size();
    std::cerr << "signed version " << policy.version() << " (" << signatures << " signature"
              << (signatures == 1 ? "" : "s") << "), expires " << FormatUtc(times.expires) << " -> "
              << options.output << "\n";
  }
}

CommandResult RunSign(const ManifestOptions& options) {
  PINION_ASSIGN_OR_RETURN(PolicySnapshot policy,
                          Hinted(LoadPolicyFile(options.policy_file), "Fix the policy file first (`pinion lint`)."));
  PINION_ASSIGN_OR_RETURN(SignTimes sign_times, ReadSignTimes(options));
  PINION_ASSIGN_OR_RETURN(PolicySnapshot signed_policy, ApplyKillSwitch(options, policy, sign_times));
  ManifestTimes times{sign_times.issued_at, sign_times.issued_at + sign_times.expires_in};
  PINION_ASSIGN_OR_RETURN(std::string payload, ManifestPayloadJson(*signed_policy, times));
  PINION_ASSIGN_OR_RETURN(DsseEnvelope envelope, SignPayload(options, payload));
  std::string text = SerializeDsseEnvelope(envelope) + "\n";
  if (!options.output.empty()) {
    // Atomic: a full disk or a missing directory leaves no partial manifest behind.
    if (Status written = WriteFileAtomically(options.output, text); !written.ok()) {
      return CliFailure(written.error(),
                        "No manifest was written: check that the -o directory exists, is writable and has space.")
          .WithExitCode(kExitOutput);
    }
  }
  PrintSigned(options, *signed_policy, times, envelope, text);
  return kExitOk;
}

nlohmann::json ManifestJson(const Manifest& manifest) {
  nlohmann::json out = {{"version", manifest.version()},
                        {"issued_at", FormatUtc(manifest.times.issued_at)},
                        {"expires", FormatUtc(manifest.times.expires)}};
  if (const auto& kill_switch = manifest.kill_switch()) {
    nlohmann::json hosts = nlohmann::json::array();
    for (const HostPattern& host : kill_switch->hosts) hosts.push_back(host.ToString());
    out["kill_switch"] = {{"mode", OverrideModeName(kill_switch->mode)},
                          {"hosts", hosts},
                          {"until", FormatUtc(kill_switch->until)}};
  } else {
    out["kill_switch"] = nullptr;
  }
  nlohmann::json rules = nlohmann::json::array();
  for (const DomainRule& rule : manifest.policy->rules()) {
    nlohmann::json pins = nlohmann::json::array();
    for (const PinEntry& pin : rule.pins) pins.push_back({{"pin", pin.pin.ToString()}, {"label", pin.label}});
    rules.push_back({{"host", rule.host.ToString()}, {"mode", EnforcementModeName(rule.mode)}, {"pins", pins}});
  }
  out["domains"] = rules;
  return out;
}

void PrintManifest(const Manifest& manifest) {
  std::cout << "  version " << manifest.version() << ", issued " << FormatUtc(manifest.times.issued_at)
            << ", expires " << FormatUtc(manifest.times.expires) << "\n";
  if (const auto& kill_switch = manifest.kill_switch()) {
    std::string hosts;
    for (const HostPattern& host : kill_switch->hosts) hosts += (hosts.empty() ? "" : ", ") + host.ToString();
    std::cout << "  " << Style("KILL SWITCH", Tone::kWarn) << ": enforcement " << OverrideModeName(kill_switch->mode)
              << " for " << (hosts.empty() ? "every host" : hosts) << " until " << FormatUtc(kill_switch->until)
              << "\n";
  }
  for (const DomainRule& rule : manifest.policy->rules()) {
    std::cout << "  " << rule.host.ToString() << " (" << EnforcementModeName(rule.mode) << ", " << rule.pins.size()
              << " pin" << (rule.pins.size() == 1 ? "" : "s") << ")\n";
    for (const PinEntry& pin : rule.pins) {
      std::cout << "    " << pin.pin.ToString() << (pin.label.empty() ? "" : "  " + pin.label) << "\n";
    }
  }
}

CliResult<std::vector<TrustedKey>> ReadTrustedKeys(const std::vector<std::string>& files) {
  std::vector<TrustedKey> trusted;
  for (const std::string& file : files) {
    auto pem = ReadText(file, 64 * 1024);
    auto key = pem ? TrustedKeyFromPem(*pem) : Result<TrustedKey>(pem.error());
    if (!key) {
      return CliFailure(std::move(key).error().WithSource(file),
                        "--trust takes a public key made by `pinion manifest keygen`.");
    }
    trusted.push_back(std::move(*key));
  }
  return trusted;
}

// ReadAcceptance: the rules a client applies, from --at, --active-version,
// --max-skew and --max-kill-switch.
CliResult<ManifestAcceptance> ReadAcceptance(const ManifestOptions& options) {
  auto at = TimeOption(options.at, "--at");
  auto skew = ParseDuration(options.max_skew);
  auto max_kill = ParseDuration(options.max_kill_switch);
  if (!at || !skew || !max_kill) return !at ? at.error() : !skew ? skew.error() : max_kill.error();
  return ManifestAcceptance{.now = *at,
                            .active_version = options.active_version,
                            .max_clock_skew = *skew,
                            .max_kill_switch = *max_kill};
}

// PrintVerified prints what a client would do; a refusal is exit 1, as a pin failure.
int PrintVerified(const Result<VerifiedManifest>& verified, TimePoint at, bool json) {
  constexpr std::string_view kRefusedHint = "A client would keep its active policy and record this.";
  if (json) {
    nlohmann::json out = {{"accepted", verified.ok()}, {"at", FormatUtc(at)}};
    if (verified) {
      out["keyid"] = verified->keyid;
      out["manifest"] = ManifestJson(verified->manifest);
    } else {
      out["error"] = ErrorJson(verified.error());
      out["error"]["hint"] = kRefusedHint;
      out["error"]["exit_code"] = kExitPinFailure;
    }
    std::cout << out.dump(2) << "\n";
  } else if (!verified) {
    std::cout << Style("REFUSED", Tone::kBad) << " " << verified.error().ToString() << "\n"
              << "  " << kRefusedHint << "\n";
  } else {
    std::cout << Style("VALID", Tone::kGood) << " signed by " << verified->keyid << "\n";
    PrintManifest(verified->manifest);
  }
  return verified ? kExitOk : kExitPinFailure;
}

CommandResult RunVerify(const ManifestOptions& options) {
  PINION_ASSIGN_OR_RETURN(std::string text, ReadText(options.manifest_file, kMaxEnvelopeBytes + 1));
  PINION_ASSIGN_OR_RETURN(std::vector<TrustedKey> trusted, ReadTrustedKeys(options.trust));
  PINION_ASSIGN_OR_RETURN(ManifestAcceptance rules, ReadAcceptance(options));
  return PrintVerified(VerifyManifest(text, trusted, rules, options.manifest_file), rules.now, options.json);
}

CommandResult RunShow(const ManifestOptions& options) {
  PINION_ASSIGN_OR_RETURN(std::string text, ReadText(options.manifest_file, kMaxEnvelopeBytes + 1));
  auto envelope = ParseDsseEnvelope(text);
  if (!envelope) return std::move(envelope).error().WithSource(options.manifest_file);
  std::string_view payload(reinterpret_cast<const char*>(envelope->payload.data()), envelope->payload.size());
  auto manifest = ParseManifestPayload(payload, options.manifest_file);
  nlohmann::json keyids = nlohmann::json::array();
  for (const DsseSignature& signature : envelope->signatures) keyids.push_back(signature.keyid);
  if (options.json) {
    nlohmann::json out = {{"verified", false}, {"payload_type", envelope->payload_type}, {"signature_keyids", keyids}};
    out["manifest"] = manifest ? ManifestJson(*manifest) : nlohmann::json();
    if (!manifest) {
      out["error"] = ErrorJson(manifest.error());
      out["error"]["exit_code"] = kExitUsage;
    }
    std::cout << out.dump(2) << "\n";
    return manifest ? kExitOk : kExitUsage;
  }
  std::cout << Style("NOT VERIFIED", Tone::kWarn) << " (use `pinion manifest verify --trust KEY`)\n"
            << "  payload type " << envelope->payload_type << "\n";
  for (const auto& keyid : keyids) std::cout << "  signature keyid " << keyid.get<std::string>() << "\n";
  if (!manifest) return std::move(manifest).error();
  PrintManifest(*manifest);
  return kExitOk;
}

}  // namespace

CommandRunner AttachManifest(CLI::App& app) {
  auto options = std::make_shared<ManifestOptions>();
  auto chosen = std::make_shared<CommandRunner>();
  app.require_subcommand(1);
  app.footer("Dynamic pinning: sign pin-set updates (and time-bounded kill switches) that clients "
             "accept only from trusted keys, with rising versions. docs/DYNAMIC.md explains the flow.");

  CLI::App* keygen = app.add_subcommand("keygen", "Create a manifest-signing key pair (PREFIX.key, PREFIX.pub)");
  keygen->add_option("--type", options->type, "ed25519 (default) or p256")->capture_default_str();
  keygen->add_option("--out", options->out_prefix, "Path prefix of the two files")->required();
  keygen->add_flag("--force", options->force, "Overwrite existing files");
  keygen->add_flag("--json", options->json, "Print JSON: {type, keyid, private_key, public_key}");
  keygen->callback([options, chosen] { *chosen = [options] { return RunKeygen(*options); }; });

  CLI::App* sign = app.add_subcommand("sign", "Sign a policy as a manifest (several --key during key rotation)");
  sign->add_option("--key", options->keys, "Private signing key (PEM); repeatable")
      ->required()
      ->allow_extra_args(false);
  sign->add_option("policy", options->policy_file, "The policy to publish (TOML or JSON); its version is the manifest's")
      ->required();
  sign->add_option("--issued-at", options->issued_at, "Issue time (default now)");
  sign->add_option("--expires-in", options->expires_in, "How long clients may install it (default 30d)")
      ->capture_default_str();
  sign->add_option("--kill-switch", options->kill_switch, "disabled or report-only: relax enforcement until --until");
  sign->add_option("--kill-switch-host", options->kill_switch_hosts,
                   "Limit the kill switch to these host patterns; repeatable (default every host)")
      ->allow_extra_args(false);
  sign->add_option("--until", options->until, "When the kill switch ends (YYYY-MM-DD or RFC 3339)");
  sign->add_option("--max-kill-switch", options->max_kill_switch, "Longest kill switch allowed (default 30d)")
      ->capture_default_str();
  sign->add_option("-o,--output", options->output, "Write the manifest to FILE atomically (default stdout)");
  sign->add_flag("--json", options->json,
                 "Print JSON: {version, issued_at, expires, signature_keyids, output, manifest}");
  sign->callback([options, chosen] { *chosen = [options] { return RunSign(*options); }; });

  CLI::App* verify = app.add_subcommand("verify", "Check a manifest exactly as a client would");
  verify->add_option("--trust", options->trust, "Trusted public key (PEM); repeatable")
      ->required()
      ->allow_extra_args(false);
  verify->add_option("manifest", options->manifest_file, "The manifest (DSSE JSON)")->required();
  verify->add_option("--active-version", options->active_version,
                     "The client's active policy version; the manifest must be above it (default 0)");
  verify->add_option("--at", options->at, "Verify as of this time (default now)");
  verify->add_option("--max-skew", options->max_skew, "How far issued_at may be ahead (default 5m)")
      ->capture_default_str();
  verify->add_option("--max-kill-switch", options->max_kill_switch, "Longest kill switch allowed (default 30d)")
      ->capture_default_str();
  verify->add_flag("--json", options->json, "Print JSON: {accepted, keyid, manifest | error}");
  verify->callback([options, chosen] { *chosen = [options] { return RunVerify(*options); }; });

  CLI::App* show = app.add_subcommand("show", "Decode a manifest without verifying it");
  show->add_option("manifest", options->manifest_file, "The manifest (DSSE JSON)")->required();
  show->add_flag("--json", options->json, "Print JSON: {verified: false, payload_type, signature_keyids, manifest}");
  show->callback([options, chosen] { *chosen = [options] { return RunShow(*options); }; });
  return [chosen] { return *chosen ? (*chosen)() : CommandResult(kExitUsage); };
}

}  // namespace pinion::cli
