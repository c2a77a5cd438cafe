// A scenario: one certificate-pinning situation (a chain recipe, a trust
// store, a policy, the host asked for, the time, follow-up connections) and
// the exact outcome every stack must agree on. docs/SCENARIOS.md describes
// the TOML format; LoadScenarioFile is strict: unknown keys, keys no stack
// that runs the scenario would read, and bad references are errors.
#ifndef PINION_TESTS_SCENARIOS_SCENARIO_H_
#define PINION_TESTS_SCENARIOS_SCENARIO_H_

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "scenario_pki.h"

namespace pinion::scenarios {

// Stack is one implementation a scenario runs through.
enum class Stack {
  kCore,       // Evaluate() on the chain a reference OpenSSL validation built
  kCliChain,   // pinion check --chain (offline, --at)
  kCliLive,    // pinion check against the loopback server
  kOpenSsl,    // Enforcer::Install + Prepare, real handshakes
  kCurlEasy,   // CurlPinning::Attach, one easy handle
  kCurlMulti,  // CurlPinning::Attach, easy handles on one multi handle
  kCurlShare,  // CurlPinning::Attach, easy handles sharing connections and sessions
  kAsioSync,   // pinion::asio::Pinning, Boost.Asio synchronous handshake
  kAsioAsync,  // pinion::asio::Pinning, Boost.Asio asynchronous handshake
};
inline constexpr Stack kAllStacks[] = {Stack::kCore,      Stack::kCliChain,  Stack::kCliLive,
                                       Stack::kOpenSsl,   Stack::kCurlEasy,  Stack::kCurlMulti,
                                       Stack::kCurlShare, Stack::kAsioSync,  Stack::kAsioAsync};
std::string StackName(Stack stack);  // "core", "cli_chain", … as in `skip` tables

bool IsCurl(Stack stack);
bool IsAsio(Stack stack);
bool IsCli(Stack stack);

// Outcome is what one connection must end in (the `expect` values).
enum class Outcome {
  // Verdict reasons (the handshake got as far as the pins).
  kMatched, kNotPinned, kPolicyExpired, kReportOnlyMismatch, kKillSwitch,  // allowed
  kMismatch, kInvalidHost,                                                 // refused by pins
  // Refused before the pins.
  kChainInvalid,      // normal validation: path, validity, basic constraints
  kHostnameMismatch,  // normal validation: the name (SAN only, never the CN)
  kHostSyntax,        // the name asked for is refused before connecting (kHostSyntax)
  kTlsFailure,        // the pins were satisfied but the TLS handshake failed afterwards
  kUnpinnedOk,        // libcurl: a transfer on a handle not attached to pinion succeeded
  kUncheckedRefused,  // the adapter refused a connection no pin check covers (libcurl: reuse of one)
};
std::optional<Outcome> ParseOutcome(const std::string& text);
std::string OutcomeName(Outcome outcome);
bool IsAllowed(Outcome outcome);

// Step is one connection. Step 0 is the first connection (the scenario's own
// `expect`/`exit`); the others come from [[scenario.then]], in order.
struct Step {
  std::optional<std::string> swap;                  // install this named policy first
  std::chrono::seconds advance{0};                  // move the injected clock first
  enum class Mode { kNew, kResume, kReuse } mode = Mode::kNew;
  Outcome expect = Outcome::kMatched;
  std::optional<int> exit;      // CLI exit code
  std::optional<bool> resumed;  // adapters: the verdict was carried over from an earlier handshake
  std::optional<std::string> host;  // ask for this host instead of the scenario's
  bool attach = true;               // libcurl: false = this transfer's handle is not attached (yet)
};

struct KillSwitch {
  std::string mode = "disabled";  // "disabled" | "report-only"
  std::chrono::seconds until{};   // relative to the scenario's now
  std::vector<std::string> hosts;
};

struct ServerOptions {
  std::string max_tls;               // "" | "1.2" | "1.3"
  bool require_client_cert = false;  // the handshake fails after the server's certificate was accepted
};

struct Scenario {
  std::filesystem::path file;
  std::string name, about, host, hole;
  std::vector<CertRecipe> certs;
  std::vector<std::string> keys;  // extra keys (backup keys) referenced by the policies
  std::vector<std::string> trust, serve;
  std::string policy;
  std::map<std::string, std::string> policies;  // swap targets
  std::optional<KillSwitch> kill_switch;
  std::chrono::seconds at{0};
  std::optional<ServerOptions> server;
  std::string callback;  // "" | "return-1" | "clear-error" | "verify-none" (peer verification off after Prepare)
  std::vector<std::string> curl_after_attach;  // "verifypeer-off", "verifyhost-off"
  std::vector<Step> steps;
  std::map<std::string, std::string> skip;  // stack name → why
  std::vector<Stack> stacks;                // what runs it (computed)
};

// LoadScenarioFile parses every [[scenario]] of a file; throws
// std::runtime_error ("file: scenario 'name': what") on the first problem.
std::vector<Scenario> LoadScenarioFile(const std::filesystem::path& path);

// ParseOffset reads "+30d", "-2h", "+15m", "+10s", "0".
std::optional<std::chrono::seconds> ParseOffset(const std::string& text);

// Rfc3339 formats a time point as "YYYY-MM-DDTHH:MM:SSZ".
std::string Rfc3339(std::chrono::sys_seconds at);

// ExpandPolicy replaces {{spki:NAME}}, {{cert:NAME}}, {{pem:NAME}} and {{time:OFFSET}} in a
// policy text; throws on an unknown placeholder or name.
std::string ExpandPolicy(const std::string& text, const ScenarioPki& pki, std::chrono::sys_seconds now);

}  // namespace pinion::scenarios

#endif  // PINION_TESTS_SCENARIOS_SCENARIO_H_
