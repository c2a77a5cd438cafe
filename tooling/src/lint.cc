#include "pinion/tooling/lint.h"

#include <algorithm>
#include <map>
#include <optional>

#include "pinion/certificate_info.h"

namespace pinion::tooling {
namespace {

// The catalogue. Append only: IDs are referred to by CI configurations.
constexpr LintRule kRules[] = {
    {"PIN000", "policy-invalid", Severity::kError, "The policy does not load.",
     "Fix the reported field; a policy that does not load pins nothing."},
    {"PIN001", "no-backup-pin", Severity::kError, "A domain has fewer than two pins.",
     "Pin a backup key kept offline (`pinion pin backup.key`) so a lost or compromised key "
     "can be replaced without locking users out."},
    {"PIN002", "no-pin-outside-served-chain", Severity::kError,
     "Every pin of a domain is in the chain it validates to now (served certificates and the trust "
     "anchor): there is no real backup.",
     "Add a pin for a key that is not in the current chain (an offline backup key, or the "
     "next key), as RFC 7469 requires of a backup pin."},
    {"PIN003", "no-expiry", Severity::kWarning, "A domain has no `expires`.",
     "Set `expires` (with on_expiry = \"allow\") so clients that miss an update fail open "
     "instead of locking users out forever."},
    {"PIN004", "expired", Severity::kError, "A domain's `expires` is in the past.",
     "Its pins are no longer enforced (or, with on_expiry = \"enforce\", enforced forever): "
     "ship a policy with a fresh expiry."},
    {"PIN005", "expiry-too-far", Severity::kWarning,
     "A domain's `expires` is further away than the allowed horizon.",
     "Keep expiry within the horizon (--max-expiry-days) and refresh the policy with each release."},
    {"PIN006", "only-root-pins", Severity::kWarning, "Every pin of a domain is a root CA's key.",
     "A root pin still trusts every intermediate and leaf the root ever signs; pin your leaf "
     "or issuing CA key, with a backup."},
    {"PIN007", "same-key-pinned-twice", Severity::kWarning,
     "One key is pinned twice in a domain (different digests or certificate and key).",
     "Keep one pin per key; the duplicate does not add a backup."},
    {"PIN008", "weak-key", Severity::kError, "A pinned key is weak (RSA below 2048 bits, DSA).",
     "Rotate to RSA 2048+ or EC P-256+ and pin the new key."},
    {"PIN009", "report-only-without-report-uri", Severity::kError,
     "A report-only domain has no `report_uri`: mismatches are allowed and nobody hears of them.",
     "Add report_uri, or switch to mode = \"enforce\"."},
    {"PIN010", "overlapping-rules", Severity::kWarning,
     "A rule covers hosts of a broader rule but drops what that rule allows (one of its pins, its "
     "report-only mode, its fail-open expiry, its anchors); only the most specific rule applies.",
     "Pins and settings are not merged across rules: repeat the broader rule's pins in the specific "
     "rule, or, when the difference is deliberate, say so with lint_disable = [\"PIN010\"] "
     "(docs/POLICY.md, Precedence)."},
    {"PIN011", "anchors-unusable", Severity::kError, "An `anchors` bundle is missing, empty or unreadable.",
     "Point `anchors` at a PEM bundle of the root certificates to trust for this host."},
    {"PIN012", "pin-matches-no-key", Severity::kWarning,
     "A pin matches none of the keys and certificates given with --keys.",
     "Check the pin was computed from the right key (`pinion pin KEY`); a stale pin protects nothing."},
    {"PIN013", "certificate-pin", Severity::kNote,
     "A domain pins a whole certificate, which changes with every re-issue.",
     "Prefer SPKI pins (sha256/…): they survive certificate renewal with the same key."},
};

const LintRule& Rule(std::string_view id) {
  const LintRule* rule = FindLintRule(id);
  return rule != nullptr ? *rule : kRules[0];
}

// The certificates of `chain` whose pins are live: the validated chain when
// there is one, else what was served.
const std::vector<std::vector<std::uint8_t>>& LiveCertificates(const CurrentChain& chain) {
  return chain.validated_der.empty() ? chain.certificates_der : chain.validated_der;
}

// What the linter knows about a key or certificate, from --keys or a chain.
struct KnownKey {
  std::string description;  // "CN=… (EC P-256)"
  std::string key_type;
  std::string fingerprint;  // SPKI SHA-256: identifies the key across digests
  bool root = false;        // self-signed CA certificate
};

class KeyIndex {
 public:
  void Add(const PinSource& source) {
    KnownKey key{source.subject.empty() ? source.origin : source.subject, source.key_type,
                 source.SpkiPin().ToString(), false};
    if (source.kind == PinSourceKind::kCertificate) {
      if (auto info = DescribeCertificate(source.certificate_der)) key.root = info->is_ca && info->self_signed;
    }
    for (auto algorithm : {HashAlgorithm::kSha256, HashAlgorithm::kSha384, HashAlgorithm::kSha512}) {
      keys_.emplace(source.SpkiPin(algorithm).ToString(), key);
      if (auto pin = source.CertificatePin(algorithm)) keys_.emplace(pin->ToString(), key);
    }
  }
  const KnownKey* Find(const Pin& pin) const {
    auto it = keys_.find(pin.ToString());
    return it == keys_.end() ? nullptr : &it->second;
  }
  bool empty() const { return keys_.empty(); }

 private:
  std::map<std::string, KnownKey> keys_;
};

bool IsWeak(const std::string& key_type) {
  if (key_type.starts_with("RSA ")) return std::atoi(key_type.c_str() + 4) < 2048;
  return key_type.starts_with("DSA") || key_type.starts_with("dsa");
}

std::string Field(std::size_t index, std::string_view name = {}) {
  std::string field = "domain[" + std::to_string(index) + "]";
  if (!name.empty()) field += "." + std::string(name);
  return field;
}

class Linter {
 public:
  Linter(const Policy& policy, const LintOptions& options) : policy_(policy), options_(options) {
    for (const PinSource& source : options.keys) given_keys_.Add(source);
    for (const CurrentChain& chain : options.current_chains) {
      for (const auto* list : {&chain.certificates_der, &chain.validated_der}) {
        for (const auto& der : *list) {
          if (auto sources = ReadPinSources(der, chain.host)) chain_keys_.Add(sources->front());
        }
      }
    }
  }

  std::vector<Finding> Run() {
    for (std::size_t i = 0; i < policy_.rules().size(); ++i) {
      CheckLintDisable(i);
      CheckDomain(i);
    }
    CheckOverlaps();
    std::stable_sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
      return a.rule->id < b.rule->id;
    });
    return std::move(findings_);
  }

 private:
  // Add records a finding on domain `index`; `other` is the second rule of a
  // finding about two rules (PIN010), whose lint_disable counts too.
  void Add(std::string_view id, std::size_t index, std::string_view field, std::string message,
           std::optional<std::size_t> other = std::nullopt) {
    const DomainRule& rule = policy_.rules()[index];
    const LintRule& lint_rule = Rule(id);
    Finding finding{&lint_rule, lint_rule.severity, rule.host.ToString(), Field(index, field), std::move(message),
                    rule.source_line, rule.source_column, ""};
    if (id != "PIN000") {
      if (std::find(options_.disabled_rules.begin(), options_.disabled_rules.end(), id) !=
          options_.disabled_rules.end()) {
        finding.suppressed_by = "--disable";
      } else if (Disables(index, id)) {
        finding.suppressed_by = Field(index, "lint_disable");
      } else if (other && Disables(*other, id)) {
        finding.suppressed_by = Field(*other, "lint_disable");
      }
    }
    findings_.push_back(std::move(finding));
  }

  bool Disables(std::size_t index, std::string_view id) const {
    const auto& ids = policy_.rules()[index].lint_disable;
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }

  // The policy loader checks only the form of lint_disable entries; whether
  // they name a rule is the catalogue's business, so it is checked here.
  void CheckLintDisable(std::size_t index) {
    const auto& ids = policy_.rules()[index].lint_disable;
    for (std::size_t d = 0; d < ids.size(); ++d) {
      std::string field = "lint_disable[" + std::to_string(d) + "]";
      if (ids[d] == "PIN000") {
        Add("PIN000", index, field, "PIN000 cannot be disabled: a policy that does not load pins nothing");
      } else if (FindLintRule(ids[d]) == nullptr) {
        Add("PIN000", index, field, "'" + ids[d] + "' is not a lint rule (docs/LINT.md lists them)");
      }
    }
  }

  const KnownKey* Known(const Pin& pin) const {
    if (const KnownKey* key = given_keys_.Find(pin)) return key;
    return chain_keys_.Find(pin);
  }

  void CheckDomain(std::size_t index) {
    const DomainRule& rule = policy_.rules()[index];
    std::string host = rule.host.ToString();
    if (rule.pins.size() < 2) {
      Add("PIN001", index, "pins", "'" + host + "' has a single pin and no backup");
    }
    CheckServedChain(index);
    if (!rule.expires) {
      Add("PIN003", index, "", "'" + host + "' never expires");
    } else if (*rule.expires <= options_.now) {
      Add("PIN004", index, "expires",
          "'" + host + "' expired at " + FormatUtc(*rule.expires) + " (on_expiry = \"" +
              std::string(ExpiryActionName(rule.on_expiry)) + "\")");
    } else if (*rule.expires - options_.now > options_.max_expiry_horizon) {
      auto days = std::chrono::duration_cast<std::chrono::days>(*rule.expires - options_.now).count();
      Add("PIN005", index, "expires",
          "'" + host + "' expires in " + std::to_string(days) + " days, beyond the " +
              std::to_string(options_.max_expiry_horizon.count()) + "-day horizon");
    }
    bool all_roots = true, any_known = false;
    std::map<std::string, std::size_t> seen_keys;
    for (std::size_t p = 0; p < rule.pins.size(); ++p) {
      const Pin& pin = rule.pins[p].pin;
      std::string pin_field = "pins[" + std::to_string(p) + "]";
      if (pin.target() == PinTarget::kCertificate) {
        Add("PIN013", index, pin_field, pin.ToString() + " pins a certificate, not a key");
      }
      const KnownKey* key = Known(pin);
      if (key == nullptr) {
        all_roots = false;
        if (!given_keys_.empty()) {
          Add("PIN012", index, pin_field, pin.ToString() + " matches none of the keys given with --keys");
        }
        continue;
      }
      any_known = true;
      if (!key->root) all_roots = false;
      if (IsWeak(key->key_type)) {
        Add("PIN008", index, pin_field, pin.ToString() + " is " + key->description + ", a " + key->key_type + " key");
      }
      auto [it, inserted] = seen_keys.emplace(key->fingerprint, p);
      if (!inserted) {
        Add("PIN007", index, pin_field,
            pin.ToString() + " is the same key as pins[" + std::to_string(it->second) + "] (" + key->description + ")");
      }
    }
    if (any_known && all_roots) {
      Add("PIN006", index, "pins", "every pin of '" + host + "' is a root CA key");
    }
    if (rule.mode == EnforcementMode::kReportOnly && rule.report_uris.empty()) {
      Add("PIN009", index, "report_uri", "'" + host + "' is report-only but reports nowhere");
    }
  }

  // PIN002: some pin must lie outside the chain in use now. "In use" is the
  // chain validation builds, as for the pin check itself (docs/POLICY.md,
  // Outcomes): it holds the trust anchor even when the server does not send
  // it, and not an extra certificate the server sends that no path uses.
  void CheckServedChain(std::size_t index) {
    const DomainRule& rule = policy_.rules()[index];
    for (const CurrentChain& chain : options_.current_chains) {
      auto host = NormalizeHostName(chain.host);
      // Only the rule that decides for the host: a broader rule's pins are not used there.
      if (!host || policy_.FindRule(*host) != &rule) continue;
      KeyIndex live;
      for (const auto& der : LiveCertificates(chain)) {
        if (auto sources = ReadPinSources(der, chain.host)) live.Add(sources->front());
      }
      bool outside = std::any_of(rule.pins.begin(), rule.pins.end(),
                                 [&](const PinEntry& entry) { return live.Find(entry.pin) == nullptr; });
      if (outside) continue;
      std::string which = chain.validated_der.empty()
                              ? "the chain " + chain.host + " serves now (not validated" +
                                    (chain.validation_error.empty() ? "" : ": " + chain.validation_error) + ")"
                              : "the chain " + chain.host + " validates to now";
      Add("PIN002", index, "pins",
          "every pin of '" + rule.host.ToString() + "' is in " + which +
              "; if one of those keys is lost or compromised no backup pin remains");
    }
  }

  // PIN010: a rule whose hosts a broader rule also covers, where the specific
  // rule drops something the broader one allows. Only the most specific rule
  // applies, so a reader who expects rules to combine (as OkHttp's do) would
  // be surprised exactly there; a specific rule that keeps every pin and is
  // no stricter (the usual exact + wildcard layout, or an exception that adds
  // its own key) is fine. Walks each rule's parents instead of comparing all pairs.
  void CheckOverlaps() {
    std::map<std::string, std::size_t> wildcards, subtrees;
    for (std::size_t i = 0; i < policy_.rules().size(); ++i) {
      const HostPattern& host = policy_.rules()[i].host;
      if (host.kind() == HostPatternKind::kWildcard) wildcards.emplace(host.base(), i);
      if (host.kind() == HostPatternKind::kSubtree) subtrees.emplace(host.base(), i);
    }
    for (std::size_t i = 0; i < policy_.rules().size(); ++i) {
      const DomainRule& rule = policy_.rules()[i];
      std::string_view base = rule.host.base();
      if (IsIpLiteral(base)) continue;
      std::vector<std::size_t> covering;
      if (rule.host.kind() == HostPatternKind::kExact) {
        std::size_t dot = base.find('.');
        if (dot != std::string_view::npos) {
          if (auto it = wildcards.find(std::string(base.substr(dot + 1))); it != wildcards.end()) covering.push_back(it->second);
        }
      }
      // Subtree rules above this rule's base (for a subtree rule: strictly above).
      std::string_view suffix = base;
      bool first = true;
      while (true) {
        if (!(first && rule.host.kind() == HostPatternKind::kSubtree)) {
          if (auto it = subtrees.find(std::string(suffix)); it != subtrees.end() && it->second != i) covering.push_back(it->second);
        }
        first = false;
        std::size_t dot = suffix.find('.');
        if (dot == std::string_view::npos) break;
        suffix.remove_prefix(dot + 1);
      }
      for (std::size_t other : covering) {
        const DomainRule& general = policy_.rules()[other];
        std::string dropped = Dropped(rule, general);
        if (dropped.empty()) continue;
        Add("PIN010", i, "host",
            "'" + rule.host.ToString() + "' is also covered by '" + general.host.ToString() + "' (" +
                Field(other) + ") but drops " + dropped + ": for its hosts only '" + rule.host.ToString() +
                "' applies",
            other);
      }
    }
  }

  // Dropped says what `general` allows that `specific` does not, for the
  // hosts both cover (empty when nothing): a pin, report-only mode, failing
  // open at expiry, or its trust anchors.
  static std::string Dropped(const DomainRule& specific, const DomainRule& general) {
    std::vector<std::string> dropped;
    for (const PinEntry& entry : general.pins) {
      bool kept = std::any_of(specific.pins.begin(), specific.pins.end(),
                              [&](const PinEntry& e) { return e.pin == entry.pin; });
      if (!kept) {
        dropped.push_back("its pin " + entry.pin.ToString() + (entry.label.empty() ? "" : " (" + entry.label + ")"));
      }
    }
    if (general.mode == EnforcementMode::kReportOnly && specific.mode == EnforcementMode::kEnforce) {
      dropped.push_back("its report-only mode (this rule enforces)");
    }
    bool general_fails_open = general.expires && general.on_expiry == ExpiryAction::kAllow;
    bool specific_fails_open = specific.expires && specific.on_expiry == ExpiryAction::kAllow;
    if (general_fails_open && !specific_fails_open) {
      dropped.push_back("its fail-open expiry (this rule " +
                        std::string(specific.expires ? "keeps enforcing after it expires" : "never expires") + ")");
    }
    if (general.anchors.certificates_der != specific.anchors.certificates_der ||
        general.anchors.use_system() != specific.anchors.use_system()) {
      dropped.push_back("its trust anchors (" + AnchorsName(general.anchors) + ", here " + AnchorsName(specific.anchors) + ")");
    }
    std::string text;
    for (std::size_t d = 0; d < dropped.size(); ++d) {
      text += (d == 0 ? "" : d + 1 == dropped.size() ? " and " : ", ") + dropped[d];
    }
    return text;
  }

  static std::string AnchorsName(const TrustAnchors& anchors) {
    return anchors.use_system() ? "the system store" : anchors.path;
  }

  const Policy& policy_;
  const LintOptions& options_;
  KeyIndex given_keys_;
  KeyIndex chain_keys_;
  std::vector<Finding> findings_;
};

}  // namespace


std::span<const LintRule> LintRules() { return kRules; }

const LintRule* FindLintRule(std::string_view id) {
  for (const LintRule& rule : kRules) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

std::vector<Finding> LintPolicy(const Policy& policy, const LintOptions& options) {
  return Linter(policy, options).Run();
}

Finding FindingForLoadError(const Error& error) {
  const LintRule& rule = Rule(error.code() == ErrorCode::kPolicyAnchors ? "PIN011" : "PIN000");
  return Finding{&rule, rule.severity, "", error.field(), error.ToString(), error.line(), error.column(), ""};
}

}  // namespace pinion::tooling
