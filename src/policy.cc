#include "pinion/policy.h"

namespace pinion {

std::string_view EnforcementModeName(EnforcementMode mode) {
  switch (mode) {
    case EnforcementMode::kEnforce: return "enforce";
    case EnforcementMode::kReportOnly: return "report-only";
  }
  return "unknown";
}

std::string_view PinRoleName(PinRole role) {
  switch (role) {
    case PinRole::kUnspecified: return "";
    case PinRole::kLeaf: return "leaf";
    case PinRole::kCa: return "ca";
  }
  return "";
}

std::string_view ExpiryActionName(ExpiryAction action) {
  switch (action) {
    case ExpiryAction::kAllow: return "allow";
    case ExpiryAction::kEnforce: return "enforce";
  }
  return "unknown";
}

Result<PolicySnapshot> Policy::Create(std::uint64_t version, std::vector<DomainRule> rules) {
  if (rules.size() > kMaxPolicyDomains) {
    return Error(ErrorCode::kInputTooLarge,
                 "more than " + std::to_string(kMaxPolicyDomains) + " domain rules")
        .WithField("domain");
  }
  std::shared_ptr<Policy> policy(new Policy());
  policy->version_ = version;
  for (std::uint32_t i = 0; i < rules.size(); ++i) {
    const DomainRule& rule = rules[i];
    std::string field = "domain[" + std::to_string(i) + "]";
    if (rule.pins.empty()) {
      return Error(ErrorCode::kPolicySchema, "a pinned domain needs at least one pin")
          .WithField(field + ".pins");
    }
    if (rule.pins.size() > kMaxPinsPerDomain) {
      return Error(ErrorCode::kInputTooLarge,
                   "more than " + std::to_string(kMaxPinsPerDomain) + " pins")
          .WithField(field + ".pins");
    }
    for (std::size_t a = 0; a < rule.pins.size(); ++a) {
      for (std::size_t b = 0; b < a; ++b) {
        if (rule.pins[a].pin == rule.pins[b].pin) {
          return Error(ErrorCode::kPolicySchema,
                       "duplicate pin (same as pins[" + std::to_string(b) + "])")
              .WithField(field + ".pins[" + std::to_string(a) + "]");
        }
      }
    }
    Index& index = policy->IndexFor(rule.host.kind());
    auto [it, inserted] = index.emplace(rule.host.base(), i);
    if (!inserted) {
      return Error(ErrorCode::kPolicyDuplicateHost,
                   "'" + rule.host.ToString() + "' is already covered by domain[" +
                       std::to_string(it->second) + "]")
          .WithField(field + ".host");
    }
  }
  policy->rules_ = std::move(rules);
  return PolicySnapshot(std::move(policy));
}

const Policy::Index& Policy::IndexFor(HostPatternKind kind) const {
  switch (kind) {
    case HostPatternKind::kExact: return exact_;
    case HostPatternKind::kWildcard: return wildcard_;
    case HostPatternKind::kSubtree: return subtree_;
  }
  return exact_;
}

const DomainRule* Policy::FindRule(std::string_view host) const {
  if (auto it = exact_.find(host); it != exact_.end()) return &rules_[it->second];
  std::size_t dot = host.find('.');
  if (dot != std::string_view::npos && dot > 0 && !wildcard_.empty()) {
    if (auto it = wildcard_.find(host.substr(dot + 1)); it != wildcard_.end()) {
      return &rules_[it->second];
    }
  }
  if (subtree_.empty()) return nullptr;
  // Longest suffix first: the host itself, then each parent.
  std::string_view suffix = host;
  while (true) {
    if (auto it = subtree_.find(suffix); it != subtree_.end()) return &rules_[it->second];
    std::size_t next = suffix.find('.');
    if (next == std::string_view::npos) return nullptr;
    suffix.remove_prefix(next + 1);
  }
}

bool Policy::CheckInvariants() const {
  std::size_t indexed = exact_.size() + wildcard_.size() + subtree_.size();
  if (indexed != rules_.size()) return false;
  for (std::uint32_t i = 0; i < rules_.size(); ++i) {
    const DomainRule& rule = rules_[i];
    const Index& index = IndexFor(rule.host.kind());
    auto it = index.find(rule.host.base());
    if (it == index.end() || it->second != i) return false;
    if (rule.pins.empty() || rule.pins.size() > kMaxPinsPerDomain) return false;
  }
  return true;
}

}  // namespace pinion
