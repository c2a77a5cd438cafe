// pinion/tooling/lint.h — find the mistakes that lock users out or leave
// hosts unprotected, before a policy ships.
//
//   auto findings = pinion::tooling::LintPolicy(*policy, {.now = clock.Now()});
//   for (const auto& f : findings) std::cout << f.rule->id << " " << f.message << "\n";
//
// Every finding names a rule from a stable catalogue (LintRules(): ID, name,
// default severity, advice), the host and field concerned, and a message.
#ifndef PINION_TOOLING_LINT_H_
#define PINION_TOOLING_LINT_H_

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/enum_table.h"
#include "pinion/clock.h"
#include "pinion/error.h"
#include "pinion/pin_source.h"
#include "pinion/policy.h"

namespace pinion::tooling {

enum class Severity : std::uint8_t { kNote, kWarning, kError };
inline constexpr EnumTable<Severity, 3> kSeverityNames{
    {{{Severity::kNote, "note"}, {Severity::kWarning, "warning"}, {Severity::kError, "error"}}}};
static_assert(kSeverityNames.IsComplete());
inline std::string_view SeverityName(Severity severity) { return kSeverityNames.Name(severity); }

// LintRule is one entry of the catalogue. IDs and names never change meaning.
struct LintRule {
  std::string_view id;       // "PIN001"
  std::string_view name;     // "no-backup-pin"
  Severity severity;         // default severity
  std::string_view summary;  // one line
  std::string_view advice;   // what to do
};
// LintRules lists the whole catalogue, in ID order.
std::span<const LintRule> LintRules();
// FindLintRule returns the catalogue entry with this ID ("PIN010"), or null.
const LintRule* FindLintRule(std::string_view id);

struct Finding {
  const LintRule* rule = nullptr;
  Severity severity = Severity::kWarning;  // the rule's, or raised by --strict
  std::string host;     // the rule's host pattern; empty for policy-wide findings
  std::string field;    // "domain[2].expires"
  std::string message;  // what exactly is wrong here
  std::uint32_t line = 0, column = 0;
  // Why this finding does not count, when a rule was disabled for it: "--disable"
  // (LintOptions::disabled_rules) or "domain[2].lint_disable"; empty when it counts.
  std::string suppressed_by;
};

// A chain a host serves now, from `--chain FILE` or `--live`.
struct CurrentChain {
  std::string host;
  // As the server sends it, leaf first.
  std::vector<std::vector<std::uint8_t>> certificates_der;
  // The chain validation built from it for `host` (leaf first, up to the trust
  // anchor, which the server need not send), as an adapter reports it
  // (openssl::Enforcer::CheckChain). Pins are matched against this chain, so
  // PIN002 judges it; when empty (not validated) PIN002 falls back to the
  // served chain and says why, from `validation_error`.
  std::vector<std::vector<std::uint8_t>> validated_der;
  std::string validation_error;
};

struct LintOptions {
  TimePoint now = SystemClock::Instance().Now();
  // An `expires` further ahead than this is reported (PIN005).
  std::chrono::days max_expiry_horizon{400};
  // Keys and certificates the pins should correspond to (PIN012, PIN006, PIN008).
  std::vector<PinSource> keys;
  // Chains currently served (PIN002, PIN006, PIN008).
  std::vector<CurrentChain> current_chains;
  // Rule IDs not applied in this run; their findings come back with
  // suppressed_by = "--disable". IDs not in the catalogue are ignored here
  // (check them with FindLintRule); PIN000 cannot be disabled.
  std::vector<std::string> disabled_rules;
};

// LintPolicy checks a loaded policy. Findings come in rule order, then domain
// order. A domain's `lint_disable` suppresses that rule's findings for the
// domain (for PIN010, on either of the two rules); an ID there that names no
// rule of the catalogue, or PIN000, is itself a PIN000 error naming the field.
std::vector<Finding> LintPolicy(const Policy& policy, const LintOptions& options);

// FindingForLoadError turns the error of a policy that did not load into a
// finding (PIN011 for anchors, PIN000 otherwise).
Finding FindingForLoadError(const Error& error);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_LINT_H_
