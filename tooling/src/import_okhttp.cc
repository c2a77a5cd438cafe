// pinion import --from okhttp: CertificatePinner.Builder().add(pattern, pins…)
// calls in Kotlin or Java source, read with a small lexer (strings, comments,
// identifiers, punctuation) rather than a regular expression, so that a call
// whose arguments are not plain string literals is seen and reported.
//
// Meaning: OkHttp applies the union of the pins of EVERY pattern that matches
// a host (exact, "*." one label, "**." the name and all below), while in a
// pinion policy the most specific rule alone decides. The importer therefore
// merges, into each rule, the pins of every wider pattern that also matches
// the hosts that rule decides for, and adds an exact rule where a host would
// otherwise be decided by a rule that lacks some of its patterns (see
// MergeOkHttpPatterns).
#include <map>

#include "import_internal.h"

namespace pinion::tooling::import_internal {
namespace {

struct Token {
  enum Kind { kString, kIdentifier, kPunct, kComment, kNumber } kind;
  std::string text;        // string: the decoded value; comment: its body
  bool plain = true;       // string: no template or unknown escape
  std::size_t offset = 0;  // where it starts in the source
  std::size_t end = 0;     // one past its last byte
};

bool IdentifierStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool IdentifierPart(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

// ReadString decodes a "…" or """…""" literal starting at `i`. A Kotlin
// template ($name, ${…}) or an escape other than the simple ones makes it
// not plain: its value is not known without running the code.
Token ReadString(std::string_view source, std::size_t& i) {
  Token token{Token::kString, "", true, i, i};
  bool raw = source.substr(i, 3) == "\"\"\"";
  i += raw ? 3 : 1;
  while (i < source.size()) {
    char c = source[i];
    if (raw ? source.substr(i, 3) == "\"\"\"" : c == '"') {
      i += raw ? 3 : 1;
      break;
    }
    if (!raw && (c == '\n')) break;  // unterminated: stop at the line end
    if (c == '$' && i + 1 < source.size() && (IdentifierStart(source[i + 1]) || source[i + 1] == '{')) token.plain = false;
    if (!raw && c == '\\' && i + 1 < source.size()) {
      char escaped = source[i + 1];
      switch (escaped) {
        case '"': case '\\': case '\'': case '$': token.text += escaped; break;
        case 'n': token.text += '\n'; break;
        case 't': token.text += '\t'; break;
        default: token.plain = false; token.text += escaped; break;
      }
      i += 2;
      continue;
    }
    token.text += c;
    ++i;
  }
  token.end = i;
  return token;
}

std::vector<Token> Lex(std::string_view source) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < source.size()) {
    char c = source[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (source.substr(i, 2) == "//") {
      std::size_t end = std::min(source.find('\n', i), source.size());
      tokens.push_back({Token::kComment, Trim(source.substr(i + 2, end - i - 2)), true, i, end});
      i = end;
    } else if (source.substr(i, 2) == "/*") {
      std::size_t close = source.find("*/", i + 2);
      std::size_t end = close == std::string_view::npos ? source.size() : close + 2;
      std::size_t body_end = close == std::string_view::npos ? source.size() : close;
      tokens.push_back({Token::kComment, Trim(source.substr(i + 2, body_end - i - 2)), true, i, end});
      i = end;
    } else if (c == '"') {
      tokens.push_back(ReadString(source, i));
    } else if (c == '\'') {
      // A character literal: skip it whole so a '"' inside is not a string.
      std::size_t start = i++;
      while (i < source.size() && source[i] != '\'' && source[i] != '\n') i += source[i] == '\\' ? 2 : 1;
      i = std::min(i + 1, source.size());
      tokens.push_back({Token::kNumber, std::string(source.substr(start, i - start)), true, start, i});
    } else if (IdentifierStart(c)) {
      std::size_t start = i;
      while (i < source.size() && IdentifierPart(source[i])) ++i;
      tokens.push_back({Token::kIdentifier, std::string(source.substr(start, i - start)), true, start, i});
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t start = i;
      while (i < source.size() && (std::isalnum(static_cast<unsigned char>(source[i])) || source[i] == '.')) ++i;
      tokens.push_back({Token::kNumber, std::string(source.substr(start, i - start)), true, start, i});
    } else {
      tokens.push_back({Token::kPunct, std::string(1, c), true, i, i + 1});
      ++i;
    }
  }
  return tokens;
}

struct Argument {
  std::vector<std::size_t> tokens;  // indexes into the code tokens, comments excluded
  std::string Text(const std::vector<Token>& code) const {
    std::string out;
    for (std::size_t index : tokens) {
      const Token& token = code[index];
      out += token.kind == Token::kString ? "\"" + token.text + "\"" : token.text;
    }
    return CleanLabel(out.size() > 60 ? out.substr(0, 57) + "..." : out);
  }
  const Token* Literal(const std::vector<Token>& code) const {
    if (tokens.size() != 1 || code[tokens[0]].kind != Token::kString || !code[tokens[0]].plain) return nullptr;
    return &code[tokens[0]];
  }
};

struct AddCall {
  std::size_t name;  // index of the `add` token
  std::size_t close;  // index of the closing ')'
  std::vector<Argument> arguments;
};

// ParseCall reads the argument list of the call whose '(' is at `open`.
std::optional<AddCall> ParseCall(const std::vector<Token>& code, std::size_t name, std::size_t open) {
  AddCall call{name, 0, {{}}};
  int depth = 0;
  for (std::size_t i = open; i < code.size(); ++i) {
    const Token& token = code[i];
    if (token.kind == Token::kPunct && (token.text == "(" || token.text == "[" || token.text == "{")) {
      if (depth++ == 0) continue;
    } else if (token.kind == Token::kPunct && (token.text == ")" || token.text == "]" || token.text == "}")) {
      if (--depth == 0) {
        call.close = i;
        if (call.arguments.size() == 1 && call.arguments[0].tokens.empty()) call.arguments.clear();
        return call;
      }
    } else if (depth == 1 && token.kind == Token::kPunct && token.text == ",") {
      call.arguments.emplace_back();
      continue;
    }
    call.arguments.back().tokens.push_back(i);
  }
  return std::nullopt;
}

bool IsPunct(const std::vector<Token>& code, std::size_t i, std::string_view text) {
  return i < code.size() && code[i].kind == Token::kPunct && code[i].text == text;
}
bool IsIdentifier(const std::vector<Token>& code, std::size_t i, std::string_view text) {
  return i < code.size() && code[i].kind == Token::kIdentifier && code[i].text == text;
}

// MatchingOpen finds the '(' that the ')' at `close` closes.
std::optional<std::size_t> MatchingOpen(const std::vector<Token>& code, std::size_t close) {
  int depth = 0;
  for (std::size_t i = close + 1; i-- > 0;) {
    if (IsPunct(code, i, ")")) ++depth;
    if (IsPunct(code, i, "(") && --depth == 0) return i;
  }
  return std::nullopt;
}

// BuilderVariables: names declared or assigned as a CertificatePinner.Builder
// (`val b = CertificatePinner.Builder()`, `CertificatePinner.Builder b = new …`,
// `b: CertificatePinner.Builder`).
std::set<std::string> BuilderVariables(const std::vector<Token>& code) {
  std::set<std::string> names;
  for (std::size_t i = 0; i + 2 < code.size(); ++i) {
    if (!IsIdentifier(code, i, "CertificatePinner") || !IsPunct(code, i + 1, ".") || !IsIdentifier(code, i + 2, "Builder")) {
      continue;
    }
    if (i + 3 < code.size() && code[i + 3].kind == Token::kIdentifier) names.insert(code[i + 3].text);  // Java declaration
    std::size_t before = i;
    if (before > 0 && IsIdentifier(code, before - 1, "new")) --before;
    if (before >= 2 && IsPunct(code, before - 1, "=") && code[before - 2].kind == Token::kIdentifier) {
      names.insert(code[before - 2].text);
    }
    if (before >= 2 && IsPunct(code, before - 1, ":") && code[before - 2].kind == Token::kIdentifier) {
      names.insert(code[before - 2].text);  // Kotlin type annotation
    }
  }
  return names;
}

bool LooksLikePin(std::string_view text) { return text.starts_with("sha256/") || text.starts_with("sha1/"); }

// The pins read for one pattern, in order, with the first line it was added on.
struct PatternPins {
  std::string text;
  std::uint32_t line = 0;
  std::vector<PinEntry> pins;
};

void AppendPins(std::vector<PinEntry>& into, const std::vector<PinEntry>& from) {
  for (const PinEntry& entry : from) {
    bool present = std::any_of(into.begin(), into.end(), [&](const PinEntry& kept) { return kept.pin == entry.pin; });
    if (!present) into.push_back(entry);
  }
}

// Suffixes of a name, itself first: a.b.c → a.b.c, b.c, c.
std::vector<std::string> SelfAndParents(const std::string& name) {
  std::vector<std::string> out{name};
  for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) out.push_back(name.substr(dot + 1));
  return out;
}

std::string Parent(const std::string& name) {
  std::size_t dot = name.find('.');
  return dot == std::string::npos ? std::string() : name.substr(dot + 1);
}

// MergeOkHttpPatterns gives each pattern the union OkHttp would apply on the
// hosts that pinion decides with it:
//   exact h       ← h, *.parent(h), and every **.s with s = h or a parent of h
//   *.p           ← *.p and every **.s with s = p or a parent of p
//   **.s          ← every **.t with t = s or a parent of s
// and adds an exact rule for s wherever both **.s and *.parent(s) exist
// (pinion would decide s with *.parent(s), which lacks **.s's pins).
void MergeOkHttpPatterns(std::map<std::string, PatternPins>& patterns, std::map<std::string, HostPattern>& parsed, Builder& builder) {
  auto find = [&](const std::string& key) -> const PatternPins* {
    auto it = patterns.find(key);
    return it == patterns.end() ? nullptr : &it->second;
  };
  for (const auto& [key, pattern] : parsed) {
    if (pattern.kind() != HostPatternKind::kSubtree) continue;
    std::string exact = pattern.base();
    std::string parent = Parent(exact);
    if (!parent.empty() && patterns.contains("*." + parent) && !patterns.contains(exact)) {
      auto host = HostPattern::Parse(exact, false);
      if (!host) continue;
      patterns[exact] = PatternPins{exact, patterns[key].line, {}};
      parsed.emplace(exact, *host);
      builder.Note(exact, patterns[key].line,
                   "added as an exact rule: OkHttp applies both *." + parent + " and " + key +
                       " here, while pinion would pick *." + parent + " alone");
    }
  }
  std::map<std::string, std::vector<PinEntry>> merged;
  for (const auto& [key, pattern] : parsed) {
    std::vector<std::string> wider;
    std::string base = pattern.base();
    switch (pattern.kind()) {
      case HostPatternKind::kExact:
        wider.push_back("*." + Parent(base));
        for (const std::string& s : SelfAndParents(base)) wider.push_back("**." + s);
        break;
      case HostPatternKind::kWildcard:
        for (const std::string& s : SelfAndParents(base)) wider.push_back("**." + s);
        break;
      case HostPatternKind::kSubtree:
        for (const std::string& s : SelfAndParents(base)) {
          if (s != base) wider.push_back("**." + s);
        }
        break;
    }
    std::vector<PinEntry> pins = patterns[key].pins;
    std::string from;
    for (const std::string& other : wider) {
      const PatternPins* extra = find(other);
      if (extra == nullptr || extra->pins.empty() || other == key) continue;
      AppendPins(pins, extra->pins);
      from += (from.empty() ? "" : ", ") + other;
    }
    if (!from.empty()) {
      builder.Note(key, patterns[key].line, "also takes the pins of " + from + " (OkHttp applies every matching pattern's pins)");
    }
    merged[key] = std::move(pins);
  }
  for (auto& [key, pins] : merged) patterns[key].pins = std::move(pins);
}

}  // namespace

Status ImportOkHttp(std::string_view source, Builder& builder, const ImportOptions& options) {
  std::vector<Token> all = Lex(source);
  LineIndex lines(source);
  std::vector<Token> code;
  std::vector<std::size_t> comment_after;  // for each code token, the comment token right after it in `all`, or npos
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].kind == Token::kComment) continue;
    code.push_back(all[i]);
    std::size_t next = i + 1;
    // A comment labels the string right before it when it is on the same line,
    // after at most a ',' or ')' (how pinion's export and people write it).
    while (next < all.size() && all[next].kind == Token::kPunct && (all[next].text == "," || all[next].text == ")")) ++next;
    bool same_line = next < all.size() && all[next].kind == Token::kComment &&
                     lines.LineOf(all[next].offset) == lines.LineOf(all[i].offset);
    comment_after.push_back(same_line ? next : std::string::npos);
  }
  std::set<std::string> builders = BuilderVariables(code);
  std::set<std::size_t> pinner_calls;  // indexes of `add` tokens of recognised calls
  bool mentions_pinner = std::any_of(code.begin(), code.end(), [](const Token& t) { return t.kind == Token::kIdentifier && t.text == "CertificatePinner"; });

  std::map<std::string, PatternPins> patterns;
  std::vector<std::string> order;
  int calls = 0;
  for (std::size_t i = 0; i + 1 < code.size(); ++i) {
    if (!IsIdentifier(code, i, "add") || !IsPunct(code, i + 1, "(")) continue;
    auto call = ParseCall(code, i, i + 1);
    if (!call) continue;
    std::uint32_t line = lines.LineOf(code[i].offset);
    bool has_pin_literal = std::any_of(call->arguments.begin(), call->arguments.end(), [&](const Argument& a) {
      const Token* literal = a.Literal(code);
      return literal != nullptr && LooksLikePin(literal->text);
    });
    // Whose add() is it? A chain from CertificatePinner.Builder() or from a
    // recognised add(), a variable holding a builder, or a call with pins.
    bool receiver_is_builder = false;
    if (i >= 2 && IsPunct(code, i - 1, ".")) {
      std::size_t receiver = i - 2;
      if (code[receiver].kind == Token::kIdentifier) {
        receiver_is_builder = builders.contains(code[receiver].text);
      } else if (IsPunct(code, receiver, ")")) {
        if (auto open = MatchingOpen(code, receiver); open && *open > 0) {
          receiver_is_builder = IsIdentifier(code, *open - 1, "Builder") || pinner_calls.contains(*open - 1);
        }
      }
    }
    if (!receiver_is_builder && !has_pin_literal) {
      if (mentions_pinner && call->arguments.size() >= 2) {
        builder.Lossy("", line, "an add() call with " + std::to_string(call->arguments.size()) +
                                    " arguments is not recognised as a CertificatePinner.Builder call; if it adds pins, "
                                    "they are not imported");
      }
      continue;
    }
    pinner_calls.insert(i);
    ++calls;
    if (call->arguments.empty()) continue;
    const Token* pattern_literal = call->arguments[0].Literal(code);
    if (pattern_literal == nullptr) {
      builder.Lossy(call->arguments[0].Text(code), line,
                    "the host pattern is not a string literal; this add() call and its pins are left out, so those hosts "
                    "are not pinned");
      continue;
    }
    std::string pattern_text = pattern_literal->text;
    PatternPins read{pattern_text, line, {}};
    for (std::size_t a = 1; a < call->arguments.size(); ++a) {
      const Argument& argument = call->arguments[a];
      const Token* literal = argument.Literal(code);
      if (literal == nullptr) {
        builder.Lossy(pattern_text, line, "pin argument " + argument.Text(code) + " is not a string literal; left out");
        continue;
      }
      if (literal->text.starts_with("sha1/")) {
        builder.Lossy(pattern_text, line, literal->text + " is left out: pinion does not accept SHA-1 pins");
        continue;
      }
      auto pin = Pin::Parse(literal->text);
      if (!pin) return std::move(pin).error().WithSource(options.source_name).WithField(pattern_text).WithPosition(line, 0);
      std::size_t literal_index = argument.tokens[0];
      std::string label;
      if (std::size_t comment = comment_after[literal_index]; comment != std::string::npos) label = CleanLabel(all[comment].text);
      read.pins.push_back({*pin, label, PinRole::kUnspecified});
    }
    // OkHttp canonicalises patterns, so "A.example.com" and "a.example.com" are one.
    auto host = HostPattern::Parse(pattern_text, false);
    std::string key = host ? host->ToString() : pattern_text;
    auto [it, inserted] = patterns.try_emplace(key, std::move(read));
    if (!inserted) AppendPins(it->second.pins, read.pins);  // repeated add(): OkHttp keeps every pin
    if (inserted) order.push_back(key);
  }
  if (calls == 0) return builder.Fail(ErrorCode::kPolicySchema, "no CertificatePinner .add(\"pattern\", \"sha256/…\") call found");

  std::map<std::string, HostPattern> parsed;
  for (const std::string& key : order) {
    if (auto host = HostPattern::Parse(key, false)) parsed.emplace(key, *host);
  }
  MergeOkHttpPatterns(patterns, parsed, builder);
  for (const auto& [key, pattern] : patterns) {
    if (std::find(order.begin(), order.end(), key) == order.end()) order.push_back(key);  // added exact rules
  }
  for (const std::string& key : order) {
    Draft rule;
    rule.pins = patterns[key].pins;
    builder.Add(parsed.contains(key) ? key : patterns[key].text, false, std::move(rule), patterns[key].line);
  }
  return OkStatus();
}

}  // namespace pinion::tooling::import_internal
