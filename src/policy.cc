#include "pinion/policy.h"

#include <algorithm>

namespace pinion {

bool IsCleanText(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != 0x09) || c == 0x7F) return false;  // TAB is fine in TOML and JSON
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Lead byte, then continuation bytes; no overlong forms, surrogates or > U+10FFFF.
    int length = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    auto second = static_cast<unsigned char>(text[i + 1]);
    if ((c == 0xE0 && second < 0xA0) || (c == 0xED && second > 0x9F) || (c == 0xF0 && second < 0x90) ||
        (c == 0xF4 && second > 0x8F)) {
      return false;
    }
    for (int k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    if (c == 0xC2 && second < 0xA0) return false;  // C1 control characters
    i += static_cast<std::size_t>(length);
  }
  return true;
}

bool IsValidReportUri(std::string_view uri) {
  std::string_view rest;
  if (uri.starts_with("https://")) {
    rest = uri.substr(8);
  } else if (uri.starts_with("http://")) {
    rest = uri.substr(7);
  } else {
    return false;
  }
  if (rest.empty() || rest.front() == '/' || uri.size() > 2048) return false;
  return std::all_of(uri.begin(), uri.end(), [](char c) {
    return c > 0x20 && c < 0x7F && std::string_view("\"<>\\^`{|}").find(c) == std::string_view::npos;
  });
}

bool IsLintRuleId(std::string_view text) {
  return text.size() == 6 && text.starts_with("PIN") &&
         std::all_of(text.begin() + 3, text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::string> ReportUriHost(std::string_view uri) {
  if (!IsValidReportUri(uri)) return std::nullopt;
  std::string_view authority = uri.substr(uri.find("://") + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority;
  if (authority.starts_with('[')) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  auto normalized = NormalizeHostName(host);
  if (!normalized) return std::nullopt;
  return *normalized;
}




bool EnforcementOverride::AppliesTo(std::string_view normalized_host,
                                    std::chrono::sys_seconds now) const {
  if (now >= until) return false;
  if (hosts.empty()) return true;
  return std::any_of(hosts.begin(), hosts.end(),
                     [&](const HostPattern& pattern) { return pattern.Matches(normalized_host); });
}

Result<PolicySnapshot> Policy::Create(std::uint64_t version, std::vector<DomainRule> rules,
                                      std::optional<EnforcementOverride> enforcement_override) {
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
    // Dates must be writable as YYYY-MM-DD (policy files have four-digit years).
    if (rule.expires && (*rule.expires < std::chrono::sys_days(std::chrono::year(1) / 1 / 1) ||
                         *rule.expires >= std::chrono::sys_days(std::chrono::year(10000) / 1 / 1))) {
      return Error(ErrorCode::kPolicyDate, "expires must lie between the years 0001 and 9999")
          .WithField(field + ".expires");
    }
    if (rule.report_uris.size() > kMaxReportUris) {
      return Error(ErrorCode::kInputTooLarge, "more than " + std::to_string(kMaxReportUris) + " report URIs")
          .WithField(field + ".report_uri");
    }
    if (rule.anchors.certificates_der.size() > kMaxAnchorsPerDomain) {
      return Error(ErrorCode::kInputTooLarge, "more than " + std::to_string(kMaxAnchorsPerDomain) + " anchors")
          .WithField(field + ".anchors");
    }
    for (std::size_t u = 0; u < rule.report_uris.size(); ++u) {
      const std::string& uri = rule.report_uris[u];
      if (!IsValidReportUri(uri)) {
        return Error(ErrorCode::kPolicySchema, "report_uri must be an absolute http(s) URI with a host")
            .WithField(field + ".report_uri[" + std::to_string(u) + "]");
      }
    }
    if (rule.lint_disable.size() > kMaxLintDisablePerDomain) {
      return Error(ErrorCode::kInputTooLarge,
                   "more than " + std::to_string(kMaxLintDisablePerDomain) + " lint_disable entries")
          .WithField(field + ".lint_disable");
    }
    for (std::size_t d = 0; d < rule.lint_disable.size(); ++d) {
      std::string entry_field = field + ".lint_disable[" + std::to_string(d) + "]";
      if (!IsLintRuleId(rule.lint_disable[d])) {
        return Error(ErrorCode::kPolicySchema, "lint_disable takes lint rule IDs like \"PIN010\"")
            .WithField(entry_field);
      }
      if (std::find(rule.lint_disable.begin(), rule.lint_disable.begin() + static_cast<std::ptrdiff_t>(d),
                    rule.lint_disable[d]) != rule.lint_disable.begin() + static_cast<std::ptrdiff_t>(d)) {
        return Error(ErrorCode::kPolicySchema, "duplicate lint rule ID " + rule.lint_disable[d]).WithField(entry_field);
      }
    }
    for (std::size_t a = 0; a < rule.pins.size(); ++a) {
      if (rule.pins[a].label.size() > kMaxLabelLength) {
        return Error(ErrorCode::kInputTooLarge, "label longer than " + std::to_string(kMaxLabelLength) + " characters")
            .WithField(field + ".pins[" + std::to_string(a) + "].label");
      }
      if (!IsCleanText(rule.pins[a].label)) {
        return Error(ErrorCode::kPolicySchema, "a label must be UTF-8 text without control characters")
            .WithField(field + ".pins[" + std::to_string(a) + "].label");
      }
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
  if (enforcement_override && enforcement_override->hosts.size() > kMaxPolicyDomains) {
    return Error(ErrorCode::kInputTooLarge, "too many kill-switch hosts").WithField("enforcement.hosts");
  }
  policy->rules_ = std::move(rules);
  policy->enforcement_override_ = std::move(enforcement_override);
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
