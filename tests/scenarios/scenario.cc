#include "scenario.h"

#include <toml++/toml.h>

#include <algorithm>
#include <ctime>
#include <sstream>
#include <stdexcept>

namespace pinion::scenarios {
namespace {

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

// Fields reads a TOML table and remembers which keys were read, so that a key
// nothing reads (a typo, or one this harness does not know) is an error.
class Fields {
 public:
  Fields(const toml::table& table, std::string where) : table_(table), where_(std::move(where)) {}

  bool Has(const std::string& key) const { return table_.contains(key); }

  template <typename T>
  std::optional<T> Optional(const std::string& key) {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return std::nullopt;
    read_.insert(key);
    auto value = node->value_exact<T>();
    if (!value) Fail(where_ + ": '" + key + "' has the wrong type");
    return *value;
  }
  template <typename T>
  T Required(const std::string& key) {
    auto value = Optional<T>(key);
    if (!value) Fail(where_ + ": '" + key + "' is required");
    return *value;
  }
  std::vector<std::string> Strings(const std::string& key, bool required = false) {
    const toml::node* node = table_.get(key);
    if (node == nullptr) {
      if (required) Fail(where_ + ": '" + key + "' is required");
      return {};
    }
    read_.insert(key);
    const toml::array* array = node->as_array();
    if (array == nullptr) Fail(where_ + ": '" + key + "' must be an array of strings");
    std::vector<std::string> out;
    for (const toml::node& each : *array) {
      auto text = each.value_exact<std::string>();
      if (!text) Fail(where_ + ": '" + key + "' must be an array of strings");
      out.push_back(*text);
    }
    return out;
  }
  const toml::table* Table(const std::string& key) {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return nullptr;
    read_.insert(key);
    if (!node->is_table()) Fail(where_ + ": '" + key + "' must be a table");
    return node->as_table();
  }
  const toml::array* Array(const std::string& key) {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return nullptr;
    read_.insert(key);
    if (!node->is_array()) Fail(where_ + ": '" + key + "' must be an array");
    return node->as_array();
  }
  // Finish refuses every key that was not read.
  void Finish() const {
    for (const auto& [key, value] : table_) {
      if (!read_.count(std::string(key.str()))) Fail(where_ + ": unknown key '" + std::string(key.str()) + "'");
    }
  }

 private:
  const toml::table& table_;
  std::string where_;
  std::set<std::string> read_;
};

std::chrono::seconds Offset(const std::string& text, const std::string& where) {
  auto parsed = ParseOffset(text);
  if (!parsed) Fail(where + ": '" + text + "' is not an offset like +30d, -2h, +15m, +10s or 0");
  return *parsed;
}

Outcome OutcomeOf(const std::string& text, const std::string& where) {
  auto parsed = ParseOutcome(text);
  if (!parsed) Fail(where + ": unknown expect value '" + text + "'");
  return *parsed;
}

const std::set<Stack>& Everything() {
  static const std::set<Stack> kAll(std::begin(kAllStacks), std::end(kAllStacks));
  return kAll;
}
std::set<Stack> AllBut(std::initializer_list<Stack> except) {
  std::set<Stack> out = Everything();
  for (Stack stack : except) out.erase(stack);
  return out;
}
const std::set<Stack> kHandshakeStacks = AllBut({Stack::kCore, Stack::kCliChain});
const std::set<Stack> kAdapterStacks = AllBut({Stack::kCore, Stack::kCliChain, Stack::kCliLive});
const std::set<Stack> kCurlStacks = {Stack::kCurlEasy, Stack::kCurlMulti, Stack::kCurlShare};
const std::set<Stack> kCliStacks = {Stack::kCliChain, Stack::kCliLive};
const std::set<Stack> kCallbackStacks = {Stack::kOpenSsl, Stack::kAsioSync, Stack::kAsioAsync};

std::optional<int> ExitCode(std::optional<std::int64_t> value) {
  if (!value) return std::nullopt;
  return static_cast<int>(*value);
}

CertRecipe ReadCert(const toml::node& node, const std::string& where) {
  const toml::table* table = node.as_table();
  if (table == nullptr) Fail(where + ": each entry of 'certs' must be a table");
  Fields fields(*table, where);
  CertRecipe recipe;
  recipe.name = fields.Required<std::string>("name");
  Fields named(*table, where + " '" + recipe.name + "'");
  named.Optional<std::string>("name");
  recipe.issuer = named.Optional<std::string>("issuer").value_or("");
  recipe.key = named.Optional<std::string>("key").value_or("");
  recipe.subject = named.Optional<std::string>("subject").value_or("");
  recipe.ca = named.Optional<bool>("ca").value_or(false);
  recipe.dns = named.Strings("dns");
  recipe.ip = named.Strings("ip");
  if (auto from = named.Optional<std::string>("valid_from")) recipe.valid_from = Offset(*from, where);
  if (auto until = named.Optional<std::string>("valid_until")) recipe.valid_until = Offset(*until, where);
  named.Finish();
  return recipe;
}

Scenario ReadScenario(const toml::table& table, const std::filesystem::path& file, std::size_t index) {
  Scenario scenario;
  scenario.file = file;
  std::string where = file.filename().string() + ": scenario #" + std::to_string(index + 1);
  Fields fields(table, where);
  scenario.name = fields.Required<std::string>("name");
  where = file.filename().string() + ": scenario '" + scenario.name + "'";
  bool good_name = !scenario.name.empty() && std::all_of(scenario.name.begin(), scenario.name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!good_name) Fail(where + ": name must be [a-z0-9_]+");
  Fields f(table, where);
  f.Required<std::string>("name");
  scenario.about = f.Required<std::string>("about");
  scenario.host = f.Required<std::string>("host");
  scenario.hole = f.Optional<std::string>("hole").value_or("");

  // What each present key demands of a stack, and what reads each key.
  std::set<Stack> stacks = Everything();
  auto only = [&stacks](const std::set<Stack>& users) {
    std::set<Stack> kept;
    std::set_intersection(stacks.begin(), stacks.end(), users.begin(), users.end(),
                          std::inserter(kept, kept.begin()));
    stacks = std::move(kept);
  };

  const toml::array* certs = f.Array("certs");
  if (certs == nullptr || certs->empty()) Fail(where + ": 'certs' is required");
  for (const toml::node& each : *certs) scenario.certs.push_back(ReadCert(each, where + ": cert"));
  scenario.keys = f.Strings("keys");
  scenario.trust = f.Strings("trust", true);
  scenario.serve = f.Strings("serve", true);
  scenario.policy = f.Required<std::string>("policy");
  if (const toml::table* policies = f.Table("policies")) {
    for (const auto& [name, text] : *policies) {
      auto value = text.value_exact<std::string>();
      if (!value) Fail(where + ": policies." + std::string(name.str()) + " must be a string");
      scenario.policies[std::string(name.str())] = *value;
    }
  }
  if (auto at = f.Optional<std::string>("at")) {
    scenario.at = Offset(*at, where);
    only(AllBut({Stack::kCliLive}));
  }
  if (const toml::table* kill = f.Table("kill_switch")) {
    Fields k(*kill, where + ": kill_switch");
    KillSwitch kill_switch;
    kill_switch.mode = k.Optional<std::string>("mode").value_or("disabled");
    if (kill_switch.mode != "disabled" && kill_switch.mode != "report-only") Fail(where + ": kill_switch.mode");
    kill_switch.until = Offset(k.Required<std::string>("until"), where);
    kill_switch.hosts = k.Strings("hosts");
    k.Finish();
    scenario.kill_switch = kill_switch;
    only(AllBut({Stack::kCliChain, Stack::kCliLive}));  // only a signed manifest carries one
  }
  if (const toml::table* server = f.Table("server")) {
    Fields s(*server, where + ": server");
    ServerOptions options;
    options.max_tls = s.Optional<std::string>("max_tls").value_or("");
    if (!options.max_tls.empty() && options.max_tls != "1.2" && options.max_tls != "1.3") {
      Fail(where + ": server.max_tls is \"1.2\" or \"1.3\"");
    }
    options.require_client_cert = s.Optional<bool>("require_client_cert").value_or(false);
    s.Finish();
    scenario.server = options;
    only(kHandshakeStacks);
  }
  if (auto callback = f.Optional<std::string>("callback")) {
    if (*callback != "return-1" && *callback != "clear-error" && *callback != "verify-none") {
      Fail(where + ": callback is return-1, clear-error or verify-none");
    }
    scenario.callback = *callback;
    only(kCallbackStacks);
  }
  scenario.curl_after_attach = f.Strings("curl_after_attach");
  for (const std::string& each : scenario.curl_after_attach) {
    if (each != "verifypeer-off" && each != "verifyhost-off") Fail(where + ": curl_after_attach: '" + each + "'");
  }
  if (f.Has("curl_after_attach")) only(kCurlStacks);
  if (scenario.host.find('\0') != std::string::npos) {
    // Neither a command line nor a URL can carry a NUL byte.
    only({Stack::kCore, Stack::kOpenSsl, Stack::kAsioSync, Stack::kAsioAsync});
  }

  Step first;
  first.expect = OutcomeOf(f.Required<std::string>("expect"), where);
  if (auto attach = f.Optional<bool>("attach")) {
    first.attach = *attach;
    only(kCurlStacks);
  }
  if ((first.expect == Outcome::kUnpinnedOk) != !first.attach) {
    Fail(where + ": unattached-ok is the outcome of exactly the connections with attach = false");
  }
  first.exit = ExitCode(f.Optional<std::int64_t>("exit"));
  scenario.steps.push_back(first);
  if (const toml::array* then = f.Array("then")) {
    for (std::size_t i = 0; i < then->size(); ++i) {
      const toml::table* step_table = (*then)[i].as_table();
      std::string step_where = where + ": then[" + std::to_string(i) + "]";
      if (step_table == nullptr) Fail(step_where + " must be a table");
      Fields s(*step_table, step_where);
      Step step;
      step.swap = s.Optional<std::string>("swap");
      if (step.swap && !scenario.policies.count(*step.swap)) Fail(step_where + ": no policy '" + *step.swap + "'");
      if (auto advance = s.Optional<std::string>("advance")) {
        step.advance = Offset(*advance, step_where);
        only(AllBut({Stack::kCliLive}));
      }
      std::string mode = s.Optional<std::string>("mode").value_or("new");
      if (mode == "resume") {
        step.mode = Step::Mode::kResume;
        only(kAdapterStacks);
      } else if (mode == "reuse") {
        step.mode = Step::Mode::kReuse;
        only(kCurlStacks);
      } else if (mode != "new") {
        Fail(step_where + ": mode is new, resume or reuse");
      }
      step.expect = OutcomeOf(s.Required<std::string>("expect"), step_where);
      step.exit = ExitCode(s.Optional<std::int64_t>("exit"));
      step.resumed = s.Optional<bool>("resumed");
      step.host = s.Optional<std::string>("host");
      if (step.host && step.host->find('\0') != std::string::npos) Fail(step_where + ": host: no NUL here");
      if (auto attach = s.Optional<bool>("attach")) {
        step.attach = *attach;
        only(kCurlStacks);
      }
      if ((step.expect == Outcome::kUnpinnedOk) != !step.attach) {
        Fail(step_where + ": unattached-ok is the outcome of exactly the steps with attach = false");
      }
      s.Finish();
      scenario.steps.push_back(step);
    }
  }
  for (const auto& policy : scenario.policies) {
    const std::string& name = policy.first;  // clang 14: lambdas cannot capture structured bindings
    bool used = std::any_of(scenario.steps.begin(), scenario.steps.end(),
                            [&](const Step& step) { return step.swap == name; });
    if (!used) Fail(where + ": policies." + name + " is never swapped in");
  }

  if (const toml::table* skip = f.Table("skip")) {
    for (const auto& entry : *skip) {
      const auto& name = entry.first;  // clang 14: lambdas cannot capture structured bindings
      const auto& reason = entry.second;
      auto text = reason.value_exact<std::string>();
      if (!text || text->empty()) Fail(where + ": skip." + std::string(name.str()) + " needs a reason");
      auto stack = std::find_if(std::begin(kAllStacks), std::end(kAllStacks),
                                [&](Stack s) { return StackName(s) == name.str(); });
      if (stack == std::end(kAllStacks)) Fail(where + ": skip: unknown stack '" + std::string(name.str()) + "'");
      if (!stacks.count(*stack)) {
        Fail(where + ": skip." + std::string(name.str()) + ": that stack does not run this scenario anyway");
      }
      stacks.erase(*stack);
      scenario.skip[std::string(name.str())] = *text;
    }
  }
  f.Finish();
  if (stacks.empty()) Fail(where + ": no stack runs this scenario");

  // Keys read only by stacks that do not run it are errors too.
  auto runs_any = [&stacks](const std::set<Stack>& users) {
    return std::any_of(users.begin(), users.end(), [&](Stack s) { return stacks.count(s) != 0; });
  };
  bool cli = runs_any(kCliStacks);
  for (std::size_t i = 0; i < scenario.steps.size(); ++i) {
    const Step& step = scenario.steps[i];
    std::string step_where = i == 0 ? where : where + ": then[" + std::to_string(i - 1) + "]";
    if (cli && !step.exit) Fail(step_where + ": 'exit' is required: a CLI stack runs this scenario");
    if (!cli && step.exit) Fail(step_where + ": 'exit' is unused: no CLI stack runs this scenario");
    if (step.resumed && !runs_any(kAdapterStacks)) Fail(step_where + ": 'resumed' is unused: no adapter runs it");
    if (step.expect == Outcome::kTlsFailure && runs_any({Stack::kCore, Stack::kCliChain})) {
      Fail(step_where + ": tls-failure needs a handshake");
    }
  }
  for (Stack stack : kAllStacks) {
    if (stacks.count(stack)) scenario.stacks.push_back(stack);
  }
  return scenario;
}

}  // namespace

std::string StackName(Stack stack) {
  switch (stack) {
    case Stack::kCore: return "core";
    case Stack::kCliChain: return "cli_chain";
    case Stack::kCliLive: return "cli_live";
    case Stack::kOpenSsl: return "openssl";
    case Stack::kCurlEasy: return "curl_easy";
    case Stack::kCurlMulti: return "curl_multi";
    case Stack::kCurlShare: return "curl_share";
    case Stack::kAsioSync: return "asio_sync";
    case Stack::kAsioAsync: return "asio_async";
  }
  return "?";
}

bool IsCurl(Stack stack) { return kCurlStacks.count(stack) != 0; }
bool IsAsio(Stack stack) { return stack == Stack::kAsioSync || stack == Stack::kAsioAsync; }
bool IsCli(Stack stack) { return kCliStacks.count(stack) != 0; }

namespace {
const std::pair<Outcome, const char*> kOutcomeNames[] = {
    {Outcome::kMatched, "matched"},
    {Outcome::kNotPinned, "not-pinned"},
    {Outcome::kPolicyExpired, "policy-expired"},
    {Outcome::kReportOnlyMismatch, "report-only-mismatch"},
    {Outcome::kKillSwitch, "kill-switch"},
    {Outcome::kMismatch, "mismatch"},
    {Outcome::kInvalidHost, "invalid-host"},
    {Outcome::kChainInvalid, "chain-invalid"},
    {Outcome::kHostnameMismatch, "hostname-mismatch"},
    {Outcome::kHostSyntax, "host-syntax"},
    {Outcome::kTlsFailure, "tls-failure"},
    {Outcome::kUnpinnedOk, "unattached-ok"},
    {Outcome::kUncheckedRefused, "unchecked-refused"},
};
}  // namespace

std::optional<Outcome> ParseOutcome(const std::string& text) {
  for (const auto& [outcome, name] : kOutcomeNames) {
    if (text == name) return outcome;
  }
  return std::nullopt;
}

std::string OutcomeName(Outcome outcome) {
  for (const auto& [each, name] : kOutcomeNames) {
    if (each == outcome) return name;
  }
  return "?";
}

bool IsAllowed(Outcome outcome) {
  switch (outcome) {
    case Outcome::kMatched:
    case Outcome::kNotPinned:
    case Outcome::kPolicyExpired:
    case Outcome::kReportOnlyMismatch:
    case Outcome::kKillSwitch:
    case Outcome::kUnpinnedOk:
      return true;
    case Outcome::kMismatch:
    case Outcome::kInvalidHost:
    case Outcome::kChainInvalid:
    case Outcome::kHostnameMismatch:
    case Outcome::kHostSyntax:
    case Outcome::kTlsFailure:
    case Outcome::kUncheckedRefused:
      return false;
  }
  return false;
}

std::vector<Scenario> LoadScenarioFile(const std::filesystem::path& path) {
  toml::table root;
  try {
    root = toml::parse_file(path.string());
  } catch (const toml::parse_error& error) {
    std::ostringstream message;
    message << path.filename().string() << ": " << error;
    Fail(message.str());
  }
  Fields top(root, path.filename().string());
  const toml::array* scenarios = top.Array("scenario");
  top.Finish();
  if (scenarios == nullptr || scenarios->empty()) Fail(path.filename().string() + ": no [[scenario]]");
  std::vector<Scenario> out;
  for (std::size_t i = 0; i < scenarios->size(); ++i) {
    const toml::table* table = (*scenarios)[i].as_table();
    if (table == nullptr) Fail(path.filename().string() + ": [[scenario]] entries are tables");
    out.push_back(ReadScenario(*table, path, i));
  }
  return out;
}

std::optional<std::chrono::seconds> ParseOffset(const std::string& text) {
  // "0" or [+-] 1 to 6 digits [smhd] (no std::regex: GCC 12 warns inside it under sanitizers).
  if (text == "0") return std::chrono::seconds(0);
  if (text.size() < 3 || text.size() > 8 || (text.front() != '+' && text.front() != '-')) return std::nullopt;
  std::string digits = text.substr(1, text.size() - 2);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  long long unit = 0;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return std::nullopt;
  }
  return std::chrono::seconds((text.front() == '-' ? -1 : 1) * std::stoll(digits) * unit);
}

std::string Rfc3339(std::chrono::sys_seconds at) {
  std::time_t t = static_cast<std::time_t>(at.time_since_epoch().count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string ExpandPolicy(const std::string& text, const ScenarioPki& pki, std::chrono::sys_seconds now) {
  std::string out;
  std::size_t position = 0;
  while (true) {
    std::size_t open = text.find("{{", position);
    if (open == std::string::npos) break;
    std::size_t close = text.find("}}", open);
    if (close == std::string::npos) Fail("policy: unclosed '{{'");
    out += text.substr(position, open - position);
    std::string placeholder = text.substr(open + 2, close - open - 2);
    std::size_t colon = placeholder.find(':');
    std::string kind = placeholder.substr(0, colon);
    std::string argument = colon == std::string::npos ? "" : placeholder.substr(colon + 1);
    if (kind == "spki") {
      // A certificate's name stands for its key; a bare key name works too.
      out += (pki.HasCert(argument) ? pki.cert(argument).SpkiPin() : pki.key(argument).SpkiPin()).ToString();
    } else if (kind == "cert") {
      out += pki.cert(argument).CertificatePin().ToString();
    } else if (kind == "pem") {
      out += pki.cert(argument).Pem();
    } else if (kind == "time") {
      auto offset = ParseOffset(argument);
      if (!offset) Fail("policy: bad offset in {{" + placeholder + "}}");
      out += Rfc3339(now + *offset);
    } else {
      Fail("policy: unknown placeholder {{" + placeholder + "}}");
    }
    position = close + 2;
  }
  return out + text.substr(position);
}

}  // namespace pinion::scenarios
