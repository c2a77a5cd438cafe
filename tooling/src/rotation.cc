#include "pinion/tooling/rotation.h"

#include <algorithm>
#include <map>
#include <toml++/toml.h>

#include "pinion/certificate_info.h"
#include "pinion/host_pattern.h"
#include "pinion/openssl/enforcer.h"
#include "pinion/policy_store.h"
#include "pinion/policy_writer.h"

namespace pinion::tooling {
namespace {

std::string DateOnly(std::chrono::sys_seconds time) { return FormatUtc(time).substr(0, 10); }

// --- Text edits ---------------------------------------------------------------
// The policy file is someone's document: comments, key order, relative anchor
// paths and roles must survive a rotation. So the plan is applied as a few
// splices into the original bytes, never by writing the parsed policy again.

struct Span {
  std::size_t begin = 0, end = 0;  // byte offsets, end exclusive
};

struct Splice {
  std::size_t offset;
  std::size_t erase;
  std::string insert;
};

Result<std::string> ApplySplices(std::string_view text, std::vector<Splice> splices) {
  std::sort(splices.begin(), splices.end(), [](const Splice& a, const Splice& b) { return a.offset > b.offset; });
  std::string out(text);
  std::size_t limit = out.size();
  for (const Splice& splice : splices) {
    if (splice.offset + splice.erase > limit) {
      return Error(ErrorCode::kInvalidArgument, "overlapping edits in the policy text");
    }
    out.replace(splice.offset, splice.erase, splice.insert);
    limit = splice.offset;
  }
  return out;
}

std::string_view Newline(std::string_view text) { return text.find("\r\n") != std::string_view::npos ? "\r\n" : "\n"; }

// Where the entries go in an array whose last element ends at `last_end` and
// whose `]` is at `close`. `trailing_comma` is the offset of a comma after the
// last element, if any. Entries go on lines of their own, indented like the
// last element, when that element starts its line; otherwise on the same line.
std::vector<Splice> AppendToArray(std::string_view text, std::size_t last_begin, std::size_t last_end,
                                  std::size_t close, std::optional<std::size_t> trailing_comma,
                                  const std::vector<std::string>& entries) {
  std::size_t line_start = last_begin;
  while (line_start > 0 && text[line_start - 1] != '\n') --line_start;
  std::string_view before = text.substr(line_start, last_begin - line_start);
  bool own_line = before.find_first_not_of(" \t") == std::string_view::npos;
  std::string joined;
  if (own_line) {
    std::string newline(Newline(text)), indent(before);
    // After the rest of the last element's line (a comment there stays with it), before `]`.
    std::size_t after = trailing_comma.value_or(last_end);
    std::size_t eol = text.find('\n', after);
    if (eol == std::string_view::npos) eol = text.size();
    if (eol > after && text[eol - 1] == '\r') --eol;
    std::size_t at = std::min(eol, close);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      bool comma = trailing_comma.has_value() || i + 1 < entries.size();
      joined += newline + indent + entries[i] + (comma ? "," : "");
    }
    if (trailing_comma) return {{at, 0, joined}};
    // The last element needs a comma now; one splice when it goes at the same place.
    if (at == last_end) return {{at, 0, "," + joined}};
    return {{last_end, 0, ","}, {at, 0, joined}};
  }
  for (const std::string& entry : entries) {
    joined += trailing_comma ? " " + entry + "," : ", " + entry;
  }
  return {{trailing_comma ? *trailing_comma + 1 : last_end, 0, joined}};
}

std::string TomlQuoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string JsonQuoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\t') {
      out += "\\t";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string TomlEntry(const PinEntry& entry) {
  std::string out = "{ pin = " + TomlQuoted(entry.pin.ToString());
  if (!entry.label.empty()) out += ", label = " + TomlQuoted(entry.label);
  if (entry.role != PinRole::kUnspecified) out += ", role = " + TomlQuoted(PinRoleName(entry.role));
  return out + " }";
}

std::string JsonEntry(const PinEntry& entry) {
  std::string out = "{\"pin\": " + JsonQuoted(entry.pin.ToString());
  if (!entry.label.empty()) out += ", \"label\": " + JsonQuoted(entry.label);
  if (entry.role != PinRole::kUnspecified) out += ", \"role\": " + JsonQuoted(PinRoleName(entry.role));
  return out + "}";
}

Error CannotEdit(const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, "cannot edit the policy text in place: " + what);
}

// toml++ positions are 1-based lines and 1-based columns counted in code points.
std::size_t TomlOffset(std::string_view text, const toml::source_position& position) {
  std::size_t offset = 0;
  for (std::uint32_t line = 1; line < position.line; ++line) {
    std::size_t eol = text.find('\n', offset);
    if (eol == std::string_view::npos) return text.size();
    offset = eol + 1;
  }
  for (std::uint32_t column = 1; column < position.column && offset < text.size(); ++column) {
    ++offset;
    while (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80) ++offset;
  }
  return offset;
}

Span TomlSpan(std::string_view text, const toml::node& node) {
  return {TomlOffset(text, node.source().begin), TomlOffset(text, node.source().end)};
}

// The offset of the next character after `from` that is not blank, a line
// break or (TOML) a comment.
std::size_t NextSignificant(std::string_view text, std::size_t from, bool comments) {
  std::size_t at = from;
  while (at < text.size()) {
    char c = text[at];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++at;
    } else if (comments && c == '#') {
      at = text.find('\n', at);
      if (at == std::string_view::npos) return text.size();
    } else {
      break;
    }
  }
  return at;
}

Result<std::vector<Splice>> TomlSplices(std::string_view text, const RotationPlan& plan) {
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& error) {
    return Error(ErrorCode::kPolicySyntax, std::string(error.description()));
  }
  std::vector<Splice> splices;
  toml::node* version = root["policy"]["version"].node();
  if (version == nullptr || !version->is_integer()) return CannotEdit("no policy.version integer");
  Span span = TomlSpan(text, *version);
  splices.push_back({span.begin, span.end - span.begin, std::to_string(plan.next_policy->version())});

  toml::node_view<toml::node> domain = root["domain"][plan.rule_index];
  toml::array* pins = domain["pins"].as_array();
  if (pins == nullptr || pins->empty()) return CannotEdit("the rule's pins array was not found");
  Span array = TomlSpan(text, *pins);
  Span last = TomlSpan(text, pins->back());
  std::size_t after = NextSignificant(text, last.end, true);
  std::optional<std::size_t> comma;
  if (after < text.size() && text[after] == ',') comma = after;
  std::vector<std::string> entries;
  for (const PinEntry& entry : plan.added_entries) entries.push_back(TomlEntry(entry));
  if (array.end == 0 || text[array.end - 1] != ']') return CannotEdit("the rule's pins array has no closing bracket");
  for (Splice& splice : AppendToArray(text, last.begin, last.end, array.end - 1, comma, entries)) {
    splices.push_back(std::move(splice));
  }

  if (plan.next_expires != plan.previous_expires) {
    toml::node* expires = domain["expires"].node();
    if (expires == nullptr) return CannotEdit("the rule's expires was not found");
    Span value = TomlSpan(text, *expires);
    std::string date = DateOnly(*plan.next_expires);
    if (expires->is_string()) {
      char quote = text[value.begin];
      date = quote == '\'' ? "'" + date + "'" : "\"" + date + "\"";
    }
    splices.push_back({value.begin, value.end - value.begin, date});
  }
  return splices;
}

// A small JSON reader that records where values are (byte spans), for the few
// paths a rotation edits. The text already loaded as a policy, so it is valid
// JSON whose keys are the schema's.
class JsonLocator {
 public:
  explicit JsonLocator(std::string_view text) : text_(text) {}

  bool Scan() {
    std::vector<std::string> path;
    return Value(path, 0) && NextSignificant(text_, pos_, false) == text_.size();
  }
  std::optional<Span> Find(const std::string& path) const {
    auto it = spans_.find(path);
    if (it == spans_.end()) return std::nullopt;
    return it->second;
  }

 private:
  static constexpr std::size_t kRecordedDepth = 4;  // domain/N/pins/M
  static constexpr int kMaxNesting = 64;

  bool Value(std::vector<std::string>& path, int nesting) {
    if (nesting > kMaxNesting) return false;
    pos_ = NextSignificant(text_, pos_, false);
    if (pos_ >= text_.size()) return false;
    std::size_t begin = pos_;
    char c = text_[pos_];
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++pos_;
      pos_ = NextSignificant(text_, pos_, false);
      std::size_t index = 0;
      if (pos_ < text_.size() && text_[pos_] == close) {
        ++pos_;
      } else {
        while (true) {
          std::string key = std::to_string(index++);
          if (c == '{') {
            pos_ = NextSignificant(text_, pos_, false);
            std::size_t key_begin = pos_;
            if (!String()) return false;
            key = std::string(text_.substr(key_begin + 1, pos_ - key_begin - 2));
            pos_ = NextSignificant(text_, pos_, false);
            if (pos_ >= text_.size() || text_[pos_] != ':') return false;
            ++pos_;
          }
          path.push_back(key);
          if (!Value(path, nesting + 1)) return false;
          path.pop_back();
          pos_ = NextSignificant(text_, pos_, false);
          if (pos_ >= text_.size()) return false;
          if (text_[pos_] == ',') {
            ++pos_;
            continue;
          }
          if (text_[pos_] != close) return false;
          ++pos_;
          break;
        }
      }
    } else if (c == '"') {
      if (!String()) return false;
    } else {
      while (pos_ < text_.size() && std::string_view(",]} \t\r\n").find(text_[pos_]) == std::string_view::npos) ++pos_;
      if (pos_ == begin) return false;
    }
    if (path.size() <= kRecordedDepth) {
      std::string key;
      for (const std::string& part : path) key += (key.empty() ? "" : "/") + part;
      spans_[key] = {begin, pos_};
    }
    return true;
  }

  bool String() {
    if (pos_ >= text_.size() || text_[pos_] != '"') return false;
    for (++pos_; pos_ < text_.size(); ++pos_) {
      if (text_[pos_] == '\\') {
        ++pos_;
      } else if (text_[pos_] == '"') {
        ++pos_;
        return true;
      }
    }
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::map<std::string, Span> spans_;
};

Result<std::vector<Splice>> JsonSplices(std::string_view text, const RotationPlan& plan) {
  JsonLocator locator(text);
  if (!locator.Scan()) return Error(ErrorCode::kPolicySyntax, "the policy text is not the JSON it was loaded from");
  std::vector<Splice> splices;
  auto version = locator.Find("policy/version");
  if (!version) return CannotEdit("no policy.version");
  splices.push_back({version->begin, version->end - version->begin, std::to_string(plan.next_policy->version())});

  std::string rule = "domain/" + std::to_string(plan.rule_index);
  auto pins = locator.Find(rule + "/pins");
  if (!pins) return CannotEdit("the rule's pins array was not found");
  std::optional<Span> last;
  for (std::size_t i = 0;; ++i) {
    auto element = locator.Find(rule + "/pins/" + std::to_string(i));
    if (!element) break;
    last = element;
  }
  if (!last) return CannotEdit("the rule's pins array is empty");
  std::vector<std::string> entries;
  for (const PinEntry& entry : plan.added_entries) entries.push_back(JsonEntry(entry));
  for (Splice& splice : AppendToArray(text, last->begin, last->end, pins->end - 1, std::nullopt, entries)) {
    splices.push_back(std::move(splice));
  }

  if (plan.next_expires != plan.previous_expires) {
    auto expires = locator.Find(rule + "/expires");
    if (!expires) return CannotEdit("the rule's expires was not found");
    splices.push_back({expires->begin, expires->end - expires->begin, "\"" + DateOnly(*plan.next_expires) + "\""});
  }
  return splices;
}

}  // namespace

Result<RotationPlan> PlanRotation(const Policy& policy, std::string_view host,
                                  const std::vector<PinSource>& next_keys, TimePoint now,
                                  const RotationOptions& options) {
  PINION_ASSIGN_OR_RETURN(std::string normalized, NormalizeHostName(host));
  const DomainRule* current = policy.FindRule(normalized);
  if (current == nullptr) {
    return Error(ErrorCode::kInvalidArgument, "no rule of the policy covers '" + std::string(host) + "'");
  }
  if (next_keys.empty()) return Error(ErrorCode::kInvalidArgument, "no next key given");
  std::string date = DateOnly(now);
  RotationPlan plan;
  plan.rule_index = static_cast<std::size_t>(current - policy.rules().data());
  std::vector<DomainRule> rules(policy.rules().begin(), policy.rules().end());
  DomainRule& rule = rules[plan.rule_index];
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
    plan.added_entries.push_back(rule.pins.back());
    plan.added.push_back(pin);
  }
  if (plan.added.empty()) {
    return Error(ErrorCode::kInvalidArgument, "every next key is already pinned for '" + rule.host.ToString() +
                                                  "': the policy is ready for the switch");
  }
  // The next version must outlive the rotation: move the expiry forward, never back.
  plan.previous_expires = rule.expires;
  if (rule.expires) {
    auto today = std::chrono::floor<std::chrono::days>(now);
    std::chrono::sys_seconds extended{today + options.expiry_extension};
    if (extended > *rule.expires) rule.expires = extended;
  }
  plan.next_expires = rule.expires;
  PINION_ASSIGN_OR_RETURN(plan.next_policy, Policy::Create(policy.version() + 1, std::move(rules)));
  const DomainRule& next_rule = plan.next_policy->rules()[plan.rule_index];
  std::string v = std::to_string(policy.version() + 1);
  std::string pins;
  for (const Pin& pin : plan.added) pins += (pins.empty() ? "" : ", ") + pin.ToString();
  plan.checklist = {
      "Policy version " + v + " pins the next key (" + pins + ") for " + next_rule.host.ToString() +
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
  if (plan.previous_expires != plan.next_expires) {
    plan.checklist.insert(plan.checklist.begin() + 1,
                          "`expires` moves from " + DateOnly(*plan.previous_expires) + " to " +
                              DateOnly(*plan.next_expires) + " in version " + v +
                              ", so the policy stays in force for the whole rotation.");
  } else if (!next_rule.expires) {
    plan.checklist.push_back("The rule never expires: consider `expires` with on_expiry = \"allow\" "
                             "(`pinion lint`, PIN003), so clients that miss an update fail open.");
  }
  return plan;
}

Result<std::string> ApplyRotationToText(std::string_view text, bool json, const RotationPlan& plan,
                                        const PolicyLoadOptions& load_options) {
  if (plan.next_policy == nullptr) return Error(ErrorCode::kInvalidArgument, "empty rotation plan");
  PINION_ASSIGN_OR_RETURN(std::vector<Splice> splices, json ? JsonSplices(text, plan) : TomlSplices(text, plan));
  PINION_ASSIGN_OR_RETURN(std::string edited, ApplySplices(text, std::move(splices)));
  // The edited text must say exactly what the plan says; never write a policy that differs.
  auto reloaded = json ? ParsePolicyJson(edited, "(rotated policy)", load_options)
                       : ParsePolicyToml(edited, "(rotated policy)", load_options);
  if (!reloaded) return CannotEdit("the edited text does not load: " + reloaded.error().ToString());
  if (!SamePolicy(**reloaded, *plan.next_policy)) {
    return CannotEdit("the edited text does not hold the planned policy (is it the text the plan was made from?)");
  }
  return edited;
}

std::string_view ChainAcceptanceName(ChainAcceptance acceptance) {
  switch (acceptance) {
    case ChainAcceptance::kAccepts: return "accepts";
    case ChainAcceptance::kLocksOut: return "locks_out";
    case ChainAcceptance::kValidationError: return "validation_error";
  }
  return "unknown";
}

std::size_t RotationCheck::LockOuts() const {
  return static_cast<std::size_t>(std::count_if(policies.begin(), policies.end(), [](const PolicyAcceptance& row) {
    return row.acceptance == ChainAcceptance::kLocksOut;
  }));
}

bool RotationCheck::ValidationFailed() const {
  return std::any_of(policies.begin(), policies.end(), [](const PolicyAcceptance& row) {
    return row.acceptance == ChainAcceptance::kValidationError;
  });
}

Result<std::string> LeafHostName(const std::vector<std::vector<std::uint8_t>>& chain_der) {
  auto leaf = chain_der.empty() ? Result<CertificateInfo>(Error(ErrorCode::kChainEmpty, "no certificate"))
                                : DescribeCertificate(chain_der.front());
  if (!leaf || leaf->dns_names.empty()) return Error(ErrorCode::kInvalidArgument, "the leaf names no DNS host");
  return leaf->dns_names.front();
}

Result<RotationCheck> CheckRotation(const std::vector<std::vector<std::uint8_t>>& chain_der,
                                    std::span<const FieldPolicy> policies, const RotationCheckOptions& options) {
  RotationCheck check{.host = options.host, .at = options.at, .policies = {}};
  for (const FieldPolicy& field : policies) {
    // Each version judged alone, as the clients that run it would.
    PolicyStore store(field.policy);
    PINION_ASSIGN_OR_RETURN(auto enforcer, openssl::Enforcer::Create(store));
    openssl::ChainCheck chain = enforcer->CheckChain(chain_der, options.host, options.port, options.at, options.trust);
    PolicyAcceptance row{.name = field.name, .version = field.policy->version()};
    if (!chain.validation) {
      row.acceptance = ChainAcceptance::kValidationError;
      row.validation_error = chain.validation.error();
    } else {
      const Verdict& verdict = *chain.verdict;
      row.acceptance = verdict.allowed() ? ChainAcceptance::kAccepts : ChainAcceptance::kLocksOut;
      row.reason = verdict.reason;
      if (const PinEntry* pin = verdict.matched_pin()) row.matched_pin = *pin;
    }
    check.policies.push_back(std::move(row));
  }
  return check;
}

}  // namespace pinion::tooling
