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
     "Every pin of a domain is in the chain it serves now: there is no real backup.",
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
     "Two rules cover the same hosts with different settings; only the most specific applies.",
     "Pins are not merged across rules: make the overlap explicit, or give both rules the same "
     "pins (docs/POLICY.md, Precedence)."},
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
  for (const LintRule& rule : kRules) {
    if (rule.id == id) return rule;
  }
  return kRules[0];
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
      for (const auto& der : chain.certificates_der) {
        if (auto sources = ReadPinSources(der, chain.host)) chain_keys_.Add(sources->front());
      }
    }
  }

  std::vector<Finding> Run() {
    for (std::size_t i = 0; i < policy_.rules().size(); ++i) CheckDomain(i);
    CheckOverlaps();
    std::stable_sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
      return a.rule->id < b.rule->id;
    });
    return std::move(findings_);
  }

 private:
  void Add(std::string_view id, std::size_t index, std::string_view field, std::string message) {
    const DomainRule& rule = policy_.rules()[index];
    const LintRule& lint_rule = Rule(id);
    findings_.push_back(Finding{&lint_rule, lint_rule.severity, rule.host.ToString(),
                                Field(index, field), std::move(message), rule.source_line,
                                rule.source_column});
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

  // PIN002: with the chain served now, some pin must lie outside it.
  void CheckServedChain(std::size_t index) {
    const DomainRule& rule = policy_.rules()[index];
    for (const CurrentChain& chain : options_.current_chains) {
      auto host = NormalizeHostName(chain.host);
      if (!host || !rule.host.Matches(*host)) continue;
      KeyIndex served;
      for (const auto& der : chain.certificates_der) {
        if (auto sources = ReadPinSources(der, chain.host)) served.Add(sources->front());
      }
      bool outside = std::any_of(rule.pins.begin(), rule.pins.end(),
                                 [&](const PinEntry& entry) { return served.Find(entry.pin) == nullptr; });
      if (!outside) {
        Add("PIN002", index, "pins",
            "every pin of '" + rule.host.ToString() + "' is in the chain " + chain.host +
                " serves now; if that key is lost or compromised no pin remains");
      }
    }
  }

  // PIN010: a rule whose hosts are also covered by a more general rule with
  // different settings. Walks each rule's parents instead of comparing all pairs.
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
        if (SameSettings(rule, general)) continue;
        Add("PIN010", i, "host",
            "'" + rule.host.ToString() + "' is also covered by '" + general.host.ToString() + "' (" +
                Field(other) + ") with different settings; for its hosts only '" +
                rule.host.ToString() + "' applies");
      }
    }
  }

  static bool SameSettings(const DomainRule& a, const DomainRule& b) {
    if (a.mode != b.mode || a.expires != b.expires || a.on_expiry != b.on_expiry ||
        a.anchors.path != b.anchors.path || a.pins.size() != b.pins.size()) {
      return false;
    }
    for (const PinEntry& entry : a.pins) {
      if (std::none_of(b.pins.begin(), b.pins.end(), [&](const PinEntry& e) { return e.pin == entry.pin; })) return false;
    }
    return true;
  }

  const Policy& policy_;
  const LintOptions& options_;
  KeyIndex given_keys_;
  KeyIndex chain_keys_;
  std::vector<Finding> findings_;
};

}  // namespace

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kNote: return "note";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "unknown";
}

std::span<const LintRule> LintRules() { return kRules; }

std::vector<Finding> LintPolicy(const Policy& policy, const LintOptions& options) {
  return Linter(policy, options).Run();
}

Finding FindingForLoadError(const Error& error) {
  const LintRule& rule = Rule(error.code() == ErrorCode::kPolicyAnchors ? "PIN011" : "PIN000");
  return Finding{&rule, rule.severity, "", error.field(), error.ToString(), error.line(), error.column()};
}

}  // namespace pinion::tooling
