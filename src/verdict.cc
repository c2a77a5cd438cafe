#include "pinion/verdict.h"

#include "pinion/certificate_info.h"

namespace pinion {
namespace {

std::string Role(std::size_t index, std::size_t size) {
  if (index == 0) return "leaf";
  if (index + 1 == size) return "anchor";
  return "intermediate";
}

// One line per certificate of a DER chain: subject, key type, SPKI pin.
void AppendChain(std::string& out, const std::vector<std::vector<std::uint8_t>>& chain) {
  for (std::size_t i = 0; i < chain.size(); ++i) {
    auto info = DescribeCertificate(chain[i]);
    out += "    [" + std::to_string(i) + "] ";
    if (!info) {
      out += "(unparsable certificate)\n";
      continue;
    }
    out += info->subject + "  (" + info->key_type + ")\n";
    out += "        " + info->spki_sha256.ToString() + "\n";
  }
}

}  // namespace

bool Verdict::HoldsAt(TimePoint now) const {
  if (!allowed()) return false;
  if (kill_switch_until && now >= *kill_switch_until) return false;
  switch (reason) {
    case VerdictReason::kMatched:
    case VerdictReason::kNotPinned:
    case VerdictReason::kReportOnlyMismatch:
    case VerdictReason::kKillSwitch:
      return true;
    case VerdictReason::kPolicyExpired:
      // Allowed only because `expires` had passed; a clock set back undoes that.
      return rule != nullptr && rule->IsExpired(now);
    case VerdictReason::kDebugOverride:
    case VerdictReason::kMismatch:
    case VerdictReason::kInvalidHost:
      return false;
  }
  return false;
}



std::string Verdict::Summary() const {
  std::string out = allowed() ? "ALLOW " : "REJECT ";
  out += host + ":" + std::to_string(port) + " ";
  out += VerdictReasonName(reason);
  if (const PinEntry* pin = matched_pin()) {
    out += " " + pin->pin.ToString();
    if (!pin->label.empty()) out += " (" + pin->label + ")";
    out += " at depth " + std::to_string(*matched_chain_index);
  }
  if (rule != nullptr) {
    out += " [policy v" + std::to_string(policy_version) + ", rule " + rule->host.ToString() + "]";
  }
  if (resumed_session) out += " (resumed session)";
  return out;
}

std::string Verdict::Explain() const {
  std::string out = Summary() + "\n";
  switch (reason) {
    case VerdictReason::kNotPinned:
      out += "  No rule of the policy covers this host, so only normal certificate validation applied.\n";
      return out;
    case VerdictReason::kInvalidHost:
      out += "  The host name is not a valid DNS name or IP address; pinning fails closed.\n";
      return out;
    case VerdictReason::kMatched:
      out += "  The validated chain contains an expected pin.\n";
      break;
    case VerdictReason::kPolicyExpired:
      out += "  The rule expired at " + FormatUtc(*rule->expires) +
             " and on_expiry = \"allow\": pins are no longer enforced (reported). "
             "Ship a policy with a fresh expiry.\n";
      break;
    case VerdictReason::kReportOnlyMismatch:
      if (kill_switch_until) {
        out += "  No expected pin is in the validated chain; a signed kill switch made pinning "
               "report-only for this host until " + FormatUtc(*kill_switch_until) +
               ", so the connection was allowed and the mismatch is reported.\n";
      } else {
        out += "  No expected pin is in the validated chain; the rule is report-only, so the "
               "connection was allowed and the mismatch is reported.\n";
      }
      break;
    case VerdictReason::kKillSwitch:
      out += "  No expected pin is in the validated chain; allowed because a signed kill switch "
             "disabled enforcement for this host until " + FormatUtc(*kill_switch_until) +
             ". Enforcement resumes by itself then.\n";
      break;
    case VerdictReason::kMismatch:
      out += "  No expected pin is in the validated chain. The chain passed normal validation, "
             "so a CA the client trusts issued it: either an interception (rogue or coerced "
             "CA, proxy) or a key rotation that was not pinned first.\n";
      break;
    case VerdictReason::kDebugOverride:
      out += "  WARNING: no expected pin matched; allowed only because the chain includes a "
             "debugging-proxy CA that the application explicitly allowed. Never ship this.\n";
      break;
  }
  out += "  Validated chain (used for the decision):\n";
  for (std::size_t i = 0; i < chain_pins.size(); ++i) {
    out += "    [" + std::to_string(i) + "] " + Role(i, chain_pins.size());
    if (i < validated_chain_der.size()) {
      auto info = DescribeCertificate(validated_chain_der[i]);
      if (info) out += "  " + info->subject + "  (" + info->key_type + ")";
    }
    out += "\n        " + chain_pins[i].spki_sha256.ToString();
    if (matched_chain_index == i) out += "   <- matches";
    out += "\n";
    for (const Pin& other : chain_pins[i].other) out += "        " + other.ToString() + "\n";
  }
  if (rule != nullptr) {
    out += "  Expected (any one of, rule " + rule->host.ToString() + ", mode " +
           std::string(EnforcementModeName(rule->mode)) + "):\n";
    for (std::size_t p = 0; p < rule->pins.size(); ++p) {
      const PinEntry& entry = rule->pins[p];
      out += "        " + entry.pin.ToString();
      if (!entry.label.empty()) out += "  " + entry.label;
      if (matched_pin_index == p) out += "   <- matched";
      out += "\n";
    }
  }
  if (!served_chain_der.empty()) {
    out += "  Served chain (as sent by the server; shown only, never used for the decision):\n";
    AppendChain(out, served_chain_der);
  }
  if (reason == VerdictReason::kMismatch || reason == VerdictReason::kReportOnlyMismatch ||
      reason == VerdictReason::kKillSwitch) {
    out += "  Next: if this is your own new certificate, add its key (or its issuer's) to the "
           "policy as a pin and ship that first; if not, do not trust this network path.\n";
  }
  return out;
}

}  // namespace pinion
