#include "pinion/tooling/rotation.h"

#include "pinion/certificate_info.h"
#include "pinion/host_pattern.h"

namespace pinion::tooling {

Result<RotationPlan> PlanRotation(const Policy& policy, std::string_view host,
                                  const std::vector<PinSource>& next_keys, TimePoint now) {
  PINION_ASSIGN_OR_RETURN(std::string normalized, NormalizeHostName(host));
  const DomainRule* current = policy.FindRule(normalized);
  if (current == nullptr) {
    return Error(ErrorCode::kInvalidArgument, "no rule of the policy covers '" + std::string(host) + "'");
  }
  if (next_keys.empty()) return Error(ErrorCode::kInvalidArgument, "no next key given");
  std::string date = FormatUtc(now).substr(0, 10);
  RotationPlan plan;
  std::vector<DomainRule> rules(policy.rules().begin(), policy.rules().end());
  DomainRule& rule = rules[static_cast<std::size_t>(current - policy.rules().data())];
  std::vector<std::string> already;
  for (const PinSource& key : next_keys) {
    Pin pin = key.SpkiPin();
    bool present = false;
    for (const PinEntry& entry : rule.pins) present = present || entry.pin == pin;
    if (present) {
      already.push_back(pin.ToString());
      continue;
    }
    std::string label = "next key (" + key.key_type + ", planned " + date + ")";
    rule.pins.push_back(PinEntry{pin, label, PinRole::kUnspecified});
    plan.added.push_back(pin);
  }
  if (plan.added.empty()) {
    return Error(ErrorCode::kInvalidArgument, "every next key is already pinned for '" + rule.host.ToString() +
                                                  "': the policy is ready for the switch");
  }
  PINION_ASSIGN_OR_RETURN(plan.next_policy, Policy::Create(policy.version() + 1, std::move(rules)));
  std::string v = std::to_string(policy.version() + 1);
  std::string pins;
  for (const Pin& pin : plan.added) pins += (pins.empty() ? "" : ", ") + pin.ToString();
  plan.checklist = {
      "Policy version " + v + " pins the next key (" + pins + ") for " + rule.host.ToString() +
          " next to every current pin; nothing is removed, so no client loses the key it uses today.",
      "Lint it: `pinion lint` (a backup pin outside the served chain must remain after the switch).",
      "Ship version " + v + " everywhere the policy is used: app releases and every exported copy "
      "(`pinion export --to android-nsc|ios-plist|okhttp|…`), and swap it into running services.",
      "Wait until the releases that carry version " + v + " are what users run; releases that only "
      "know older versions will reject the new key.",
      "Issue the certificate for the next key, then rehearse the switch against every policy version "
      "still in the field: `pinion rotate check --chain NEW_CHAIN.pem --at DEPLOY_DATE policy-v*.toml` "
      "must show no lock-out.",
      "Deploy the new certificate; watch pin-failure reports for the host.",
      "Generate a new offline backup key and plan the next version with it; only then retire the old key's pin.",
  };
  if (!already.empty()) {
    plan.checklist.insert(plan.checklist.begin(), "Already pinned, not added again: " + already.front() +
                                                      (already.size() > 1 ? " and others" : "") + ".");
  }
  if (rule.expires && *rule.expires < now + std::chrono::days(90)) {
    plan.checklist.push_back("The rule expires " + FormatUtc(*rule.expires).substr(0, 10) +
                             ": extend `expires` in the same release.");
  }
  return plan;
}

}  // namespace pinion::tooling
