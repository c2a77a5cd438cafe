// The scenario matrix (issue 12): every scenario file in this directory runs
// through every stack that can express it — the core evaluator, `pinion
// check --chain`, live `pinion check`, the OpenSSL enforcer, libcurl (easy,
// multi and share handles) and Boost.Asio (sync and async) — and each must
// end in the scenario's exact outcome. docs/SCENARIOS.md explains the format.
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <clocale>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pinion/openssl/unique_ptr.h"
#include "pinion/openssl/util.h"
#include "pinion/asio/pinning.h"
#include "pinion/curl/pinning.h"
#include "pinion/evaluate.h"
#include "pinion/host_pattern.h"
#include "pinion/openssl/enforcer.h"
#include "pinion/policy_loader.h"
#include "pinion/policy_store.h"
#include "scenario.h"
#include "scenario_pki.h"
#include "scenario_server.h"
#include "test_pki.h"

namespace pinion::scenarios {
namespace {

using openssl::UniquePtr;
using testing::TempDir;

// ---------------------------------------------------------------------------
// Registration: one test per (scenario, stack).

struct Case {
  std::string label;  // gtest name
  std::filesystem::path file;
  std::size_t index = 0;
  Stack stack = Stack::kCore;
  std::string load_error;  // set: the case only reports it
};

// PrintTo keeps gtest's and ctest's case descriptions readable.
void PrintTo(const Case& c, std::ostream* out) { *out << c.label; }

std::vector<std::filesystem::path> ScenarioFiles() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(PINION_SCENARIO_DIR)) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  std::set<std::string> names;
  for (const auto& file : ScenarioFiles()) {
    std::vector<Scenario> scenarios;
    try {
      scenarios = LoadScenarioFile(file);
    } catch (const std::exception& error) {
      std::string label = "load_" + file.stem().string();
      std::replace_if(label.begin(), label.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
      cases.push_back({label, file, 0, Stack::kCore, error.what()});
      continue;
    }
    for (std::size_t i = 0; i < scenarios.size(); ++i) {
      if (!names.insert(scenarios[i].name).second) {
        cases.push_back({"duplicate_" + scenarios[i].name, file, i, Stack::kCore,
                         "scenario name '" + scenarios[i].name + "' is used twice"});
        continue;
      }
      for (Stack stack : scenarios[i].stacks) {
        cases.push_back({scenarios[i].name + "__" + StackName(stack), file, i, stack, ""});
      }
    }
  }
  return cases;
}

// ---------------------------------------------------------------------------
// What one connection ended in, in the scenario's vocabulary.

struct Observed {
  std::optional<Outcome> outcome;  // nullopt: something the vocabulary has no word for
  std::string detail;              // for the failure message
  std::shared_ptr<const Verdict> verdict;
  std::optional<int> exit;
};

std::optional<Outcome> FromReason(VerdictReason reason) {
  switch (reason) {
    case VerdictReason::kMatched: return Outcome::kMatched;
    case VerdictReason::kNotPinned: return Outcome::kNotPinned;
    case VerdictReason::kPolicyExpired: return Outcome::kPolicyExpired;
    case VerdictReason::kReportOnlyMismatch: return Outcome::kReportOnlyMismatch;
    case VerdictReason::kMismatch: return Outcome::kMismatch;
    case VerdictReason::kKillSwitch: return Outcome::kKillSwitch;
    case VerdictReason::kInvalidHost: return Outcome::kHostSyntax;
    case VerdictReason::kDebugOverride: return std::nullopt;
  }
  return std::nullopt;
}

bool IsHostnameError(long verify_result) {
  return verify_result == X509_V_ERR_HOSTNAME_MISMATCH || verify_result == X509_V_ERR_IP_ADDRESS_MISMATCH;
}

std::string Describe(const std::shared_ptr<const Verdict>& verdict) {
  return verdict == nullptr ? "no verdict" : verdict->Summary();
}

// A handshake stack's connection: it got through (HTTP 200 read back) or not,
// with the pin verdict (if any) and OpenSSL's verify result.
Observed Classify(bool connected, const std::shared_ptr<const Verdict>& verdict, long verify_result,
                  bool certificate_verify_failed, std::string detail) {
  Observed observed{.detail = std::move(detail), .verdict = verdict};
  observed.detail += "; verify result " + std::to_string(verify_result) + " (" +
                     X509_verify_cert_error_string(verify_result) + "); " + Describe(verdict);
  if (connected) {
    // An accepted connection without a verdict was never pin-checked.
    if (verdict != nullptr && verdict->allowed()) observed.outcome = FromReason(verdict->reason);
    if (verdict == nullptr) observed.detail += "; CONNECTED WITHOUT A PIN CHECK";
    if (verdict != nullptr && !verdict->allowed()) observed.detail += "; CONNECTED DESPITE A REJECTING VERDICT";
    return observed;
  }
  if (verdict != nullptr && !verdict->allowed()) {
    observed.outcome = FromReason(verdict->reason);
  } else if (IsHostnameError(verify_result)) {
    observed.outcome = Outcome::kHostnameMismatch;
  } else if (verdict == nullptr && (verify_result != X509_V_OK || certificate_verify_failed)) {
    observed.outcome = Outcome::kChainInvalid;
  } else if (verdict != nullptr) {
    observed.outcome = Outcome::kTlsFailure;  // the pins were satisfied, the handshake failed later
  }
  return observed;
}

// ---------------------------------------------------------------------------
// The fixture: builds the scenario's PKI, policies, files and server.

class ScenarioTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const Case& c = GetParam();
    if (!c.load_error.empty()) return;  // the test body reports it
    scenario_ = LoadScenarioFile(c.file).at(c.index);
    now_ = SystemClock::Instance().Now();
    pki_ = std::make_unique<ScenarioPki>(ScenarioPki::Build(scenario_.certs));
    for (const std::string& key : scenario_.keys) pki_->AddKey(key);
    policy_ = MakePolicy(scenario_.policy, true);
    for (const auto& [name, text] : scenario_.policies) policies_[name] = MakePolicy(text, false);
    dir_.Write("trust.pem", pki_->Pem(scenario_.trust));
    dir_.Write("served.pem", pki_->Pem(scenario_.serve));
    if (stack() != Stack::kCore && stack() != Stack::kCliChain) {
      server_ = std::make_unique<ScenarioServer>(*pki_, scenario_.serve, scenario_.server.value_or(ServerOptions{}));
      ASSERT_TRUE(server_->valid()) << "the scenario server did not start";
    }
  }

  Stack stack() const { return GetParam().stack; }

  PolicySnapshot MakePolicy(const std::string& text, bool with_kill_switch) {
    std::string expanded = ExpandPolicy(text, *pki_, now_);
    std::string file = "policy-" + std::to_string(policy_files_.size()) + ".toml";
    policy_files_[expanded] = dir_.Write(file, expanded).string();
    auto parsed = ParsePolicyToml(expanded, file);
    if (!parsed) throw std::runtime_error("policy does not load: " + parsed.error().ToString() + "\n" + expanded);
    PolicySnapshot snapshot = *parsed;
    if (with_kill_switch && scenario_.kill_switch) {
      EnforcementOverride kill{.mode = scenario_.kill_switch->mode == "disabled" ? OverrideMode::kDisabled
                                                                                : OverrideMode::kReportOnly,
                               .until = now_ + scenario_.kill_switch->until};
      for (const std::string& host : scenario_.kill_switch->hosts) kill.hosts.push_back(*HostPattern::Parse(host, false));
      std::vector<DomainRule> rules(snapshot->rules().begin(), snapshot->rules().end());
      auto with_kill = Policy::Create(snapshot->version(), std::move(rules), kill);
      if (!with_kill) throw std::runtime_error("kill switch: " + with_kill.error().ToString());
      snapshot = *with_kill;
    }
    return snapshot;
  }
  std::string PolicyFileOf(const std::string& text) { return policy_files_.at(ExpandPolicy(text, *pki_, now_)); }

  std::string Where(std::size_t step) const {
    return "scenario '" + scenario_.name + "' (" + scenario_.file.filename().string() + "), " +
           (step == 0 ? std::string("first connection") : "then[" + std::to_string(step - 1) + "]") + ", stack " +
           StackName(stack()) + (scenario_.hole.empty() ? "" : " [known hole: " + scenario_.hole + "]");
  }

  void ExpectOutcome(std::size_t step_index, const Observed& observed) {
    const Step& step = scenario_.steps[step_index];
    std::string log = TakeLog();
    if (std::getenv("PINION_SCENARIO_VERBOSE") != nullptr) {
      std::cout << Where(step_index) << ": " << (observed.outcome ? OutcomeName(*observed.outcome) : "(unclassified)")
                << "\n  " << observed.detail << log << "\n";
    }
    EXPECT_TRUE(observed.outcome.has_value() && *observed.outcome == step.expect)
        << Where(step_index) << "\n  expected: " << OutcomeName(step.expect)
        << "\n  observed: " << (observed.outcome ? OutcomeName(*observed.outcome) : std::string("(unclassified)"))
        << "\n  detail:   " << observed.detail << log;
    if (step.exit && IsCli(stack())) {
      EXPECT_EQ(observed.exit, step.exit) << Where(step_index) << ": CLI exit code\n  detail: " << observed.detail;
    }
    if (step.resumed && !IsCli(stack()) && stack() != Stack::kCore && observed.verdict != nullptr) {
      EXPECT_EQ(observed.verdict->resumed_session, *step.resumed) << Where(step_index) << ": resumed session";
    }
  }

  // The policy in force and the injected clock, as steps change them.
  struct Timeline {
    PolicySnapshot policy;
    std::string policy_file;
    std::chrono::seconds offset{0};
  };
  Timeline Start() { return {policy_, scenario_.kill_switch ? "" : PolicyFileOf(scenario_.policy), scenario_.at}; }
  void Apply(const Step& step, Timeline& timeline, PolicyStore* store, FixedClock* clock) {
    if (step.swap) {
      timeline.policy = policies_.at(*step.swap);
      timeline.policy_file = PolicyFileOf(scenario_.policies.at(*step.swap));
      if (store != nullptr) store->Swap(timeline.policy);
    }
    timeline.offset += step.advance;
    if (clock != nullptr) clock->Advance(step.advance);
  }

  // LogLine keeps pinion's log lines for failure messages (handshake threads too).
  void LogLine(std::string_view line) {
    std::lock_guard<std::mutex> lock(log_mutex_);
    log_ += "\n    pinion: " + std::string(line);
  }
  std::string TakeLog() {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return std::exchange(log_, "");
  }

  void RunCore();
  void RunCli(bool live);
  void RunOpenSsl();
  void RunCurl();
  void RunAsio(bool asynchronous);

  Scenario scenario_;
  TimePoint now_;
  std::unique_ptr<ScenarioPki> pki_;
  PolicySnapshot policy_;
  std::map<std::string, PolicySnapshot> policies_;
  std::map<std::string, std::string> policy_files_;  // expanded text → file
  TempDir dir_;
  std::unique_ptr<ScenarioServer> server_;
  std::mutex log_mutex_;
  std::string log_;
};

TEST_P(ScenarioTest, Runs) {
  if (!GetParam().load_error.empty()) FAIL() << GetParam().load_error;
  switch (stack()) {
    case Stack::kCore: return RunCore();
    case Stack::kCliChain: return RunCli(false);
    case Stack::kCliLive: return RunCli(true);
    case Stack::kOpenSsl: return RunOpenSsl();
    case Stack::kCurlEasy:
    case Stack::kCurlMulti:
    case Stack::kCurlShare: return RunCurl();
    case Stack::kAsioSync: return RunAsio(false);
    case Stack::kAsioAsync: return RunAsio(true);
  }
}

// ---------------------------------------------------------------------------
// core: a reference validation (OpenSSL's X509_verify_cert configured as
// DESIGN.md says: SAN only, canonical IPs) builds the chain; Evaluate judges it.

void ScenarioTest::RunCore() {
  Timeline timeline = Start();
  for (std::size_t i = 0; i < scenario_.steps.size(); ++i) {
    const Step& step = scenario_.steps[i];
    Apply(step, timeline, nullptr, nullptr);
    TimePoint at = now_ + timeline.offset;
    UniquePtr<X509_STORE> trust(X509_STORE_new());
    for (const std::string& name : scenario_.trust) X509_STORE_add_cert(trust.get(), pki_->cert(name).x509.get());
    UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
    for (std::size_t j = 1; j < scenario_.serve.size(); ++j) {
      X509* certificate = pki_->cert(scenario_.serve[j]).x509.get();
      X509_up_ref(certificate);  // the stack frees what it holds
      sk_X509_push(untrusted.get(), certificate);
    }
    UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
    ASSERT_EQ(X509_STORE_CTX_init(ctx.get(), trust.get(), pki_->cert(scenario_.serve.front()).x509.get(),
                                  untrusted.get()),
              1);
    X509_STORE_CTX_set_default(ctx.get(), "ssl_server");
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_time(param, at.time_since_epoch().count());
    const std::string& host = step.host.value_or(scenario_.host);
    auto normalized = NormalizeHostName(host);
    if (normalized && IsIpLiteral(*normalized)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, normalized->c_str());
    } else if (normalized) {
      X509_VERIFY_PARAM_set1_host(param, normalized->c_str(), normalized->size());
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    }
    Observed observed;
    if (X509_verify_cert(ctx.get()) != 1) {
      int error = X509_STORE_CTX_get_error(ctx.get());
      observed.outcome = IsHostnameError(error) ? Outcome::kHostnameMismatch : Outcome::kChainInvalid;
      observed.detail = std::string("reference validation: ") + X509_verify_cert_error_string(error);
    } else {
      std::vector<std::vector<std::uint8_t>> built;
      STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
      for (int j = 0; j < sk_X509_num(chain); ++j) built.push_back(openssl::CertificateDer(sk_X509_value(chain, j)));
      auto verified = VerifiedChain::FromChainValidatedByCaller(built);
      ASSERT_TRUE(verified.ok());
      auto verdict = std::make_shared<Verdict>(Evaluate(timeline.policy, host, 443, *verified, at));
      observed.verdict = verdict;
      observed.outcome = FromReason(verdict->reason);
      observed.detail = verdict->Summary();
    }
    ExpectOutcome(i, observed);
  }
}

// ---------------------------------------------------------------------------
// pinion check: --chain offline at the scenario's time, or a live handshake.

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void ScenarioTest::RunCli(bool live) {
  Timeline timeline = Start();
  for (std::size_t i = 0; i < scenario_.steps.size(); ++i) {
    const Step& step = scenario_.steps[i];
    Apply(step, timeline, nullptr, nullptr);
    std::uint16_t port = live ? server_->port() : 443;
    const std::string& host = step.host.value_or(scenario_.host);
    std::string target = host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                                              : host + ":" + std::to_string(port);
    std::string command = std::string(PINION_BINARY) + " check " + Quote(target) + " --policy " +
                          Quote(timeline.policy_file) + " --ca-file " + Quote((dir_.path() / "trust.pem").string()) +
                          " --json";
    if (live) {
      command += " --connect-to 127.0.0.1 --timeout 5";
    } else {
      command += " --chain " + Quote((dir_.path() / "served.pem").string()) + " --at " +
                 Rfc3339(now_ + timeline.offset);
    }
    std::filesystem::path out = dir_.path() / "out.json";
    int status = std::system((command + " > " + Quote(out.string()) + " 2> " + Quote((dir_.path() / "err").string()) +
                              " < /dev/null").c_str());
    Observed observed;
    observed.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ifstream err_in(dir_.path() / "err");
    std::string err((std::istreambuf_iterator<char>(err_in)), std::istreambuf_iterator<char>());
    observed.detail = "exit " + std::to_string(*observed.exit) + "; stdout: " + text + "; stderr: " + err;
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (!json.is_discarded() && json.is_object()) {
      std::string label = json.value("outcome", "");
      const auto& error = json["error"];
      const auto& verdict = json["verdict"];
      std::string code = error.is_object() ? error.value("code", "") : "";
      std::string reason = verdict.is_object() ? verdict.value("reason", "") : "";
      if (code == "host_syntax") {
        observed.outcome = Outcome::kHostSyntax;
      } else if (code == "hostname_mismatch") {
        observed.outcome = Outcome::kHostnameMismatch;
      } else if (code == "chain_validation") {
        observed.outcome = Outcome::kChainInvalid;
      } else if (!code.empty() && label != "accepted") {
        observed.outcome = Outcome::kTlsFailure;
      } else if (!reason.empty()) {
        observed.outcome = ParseOutcome(reason);
        if (reason == "invalid-host") observed.outcome = Outcome::kHostSyntax;
        // A verdict that allowed, on an outcome that is not "accepted": the handshake failed after the pins.
        if (observed.outcome && IsAllowed(*observed.outcome) && label != "accepted") observed.outcome = Outcome::kTlsFailure;
      }
    } else if (observed.exit == 2 && err.find("host_syntax") != std::string::npos) {
      observed.outcome = Outcome::kHostSyntax;  // refused as a usage error, before any JSON
    }
    ExpectOutcome(i, observed);
  }
}

// ---------------------------------------------------------------------------
// OpenSSL: Enforcer::Install + Prepare, real handshakes, then an
// HTTP request so that TLS 1.3 tickets arrive and late failures show.

int ReturnOne(int, X509_STORE_CTX*) { return 1; }
int ClearError(int, X509_STORE_CTX* ctx) {
  X509_STORE_CTX_set_error(ctx, X509_V_OK);
  return 1;
}
using VerifyCallback = int (*)(int, X509_STORE_CTX*);
VerifyCallback CallbackFor(const std::string& name) {
  if (name == "return-1") return &ReturnOne;
  if (name == "clear-error") return &ClearError;
  return nullptr;
}

int TcpConnect(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

constexpr char kRequest[] = "GET / HTTP/1.1\r\nHost: scenario\r\nConnection: close\r\n\r\n";

void ScenarioTest::RunOpenSsl() {
  PolicyStore store(policy_);
  FixedClock clock(now_ + scenario_.at);
  auto enforcer = openssl::Enforcer::Create(store, {.clock = &clock, .log = [this](std::string_view line) { LogLine(line); }});
  ASSERT_TRUE(enforcer.ok());
  UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx.get(), (dir_.path() / "trust.pem").c_str(), nullptr), 1);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  ASSERT_TRUE((*enforcer)->Install(ctx.get()).ok());
  if (VerifyCallback callback = CallbackFor(scenario_.callback)) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, callback);  // the application's own callback, set afterwards
  }
  Timeline timeline = Start();
  UniquePtr<SSL_SESSION> last_session;
  for (std::size_t i = 0; i < scenario_.steps.size(); ++i) {
    const Step& step = scenario_.steps[i];
    Apply(step, timeline, &store, &clock);
    UniquePtr<SSL> ssl(SSL_new(ctx.get()));
    Status prepared = (*enforcer)->Prepare(ssl.get(), step.host.value_or(scenario_.host), server_->port());
    if (!prepared.ok()) {
      Observed observed{.detail = prepared.error().ToString()};
      if (prepared.error().code() == ErrorCode::kHostSyntax) observed.outcome = Outcome::kHostSyntax;
      ExpectOutcome(i, observed);
      continue;
    }
    if (scenario_.callback == "verify-none") SSL_set_verify(ssl.get(), SSL_VERIFY_NONE, nullptr);
    if (step.mode == Step::Mode::kResume && last_session) SSL_set_session(ssl.get(), last_session.get());
    int fd = TcpConnect(server_->port());
    ASSERT_GE(fd, 0);
    SSL_set_fd(ssl.get(), fd);
    ERR_clear_error();
    bool connected = SSL_connect(ssl.get()) == 1;
    bool verify_failed = ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_CERTIFICATE_VERIFY_FAILED;
    std::string detail = connected ? "handshake ok" : "handshake failed";
    if (connected) {
      SSL_write(ssl.get(), kRequest, sizeof kRequest - 1);
      std::string reply;
      char buffer[1024];
      int n;
      while ((n = SSL_read(ssl.get(), buffer, sizeof buffer)) > 0) reply.append(buffer, static_cast<std::size_t>(n));
      connected = reply.starts_with("HTTP/1.1 200");
      if (!connected) detail += ", but no HTTP reply";
      last_session.reset(SSL_get1_session(ssl.get()));
    }
    detail += SSL_session_reused(ssl.get()) ? " (resumed)" : "";
    ExpectOutcome(i, Classify(connected, openssl::Enforcer::VerdictOf(ssl.get()), SSL_get_verify_result(ssl.get()),
                              verify_failed, detail));
    SSL_shutdown(ssl.get());
    close(fd);
  }
}

// ---------------------------------------------------------------------------
// libcurl: CurlPinning::Attach on easy handles, alone, on one multi, or
// sharing connections and sessions through a share handle.

std::size_t Collect(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct Share {
  std::mutex locks[CURL_LOCK_DATA_LAST];
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<Share*>(self)->locks[data].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* self) { static_cast<Share*>(self)->locks[data].unlock(); }
};

void ScenarioTest::RunCurl() {
  ASSERT_TRUE(curl::IsOpenSslBackend());
  // libcurl converts U-labels with the locale's character set (idn2_lookup_ul): a UTF-8 locale,
  // as an application handling Unicode host names would run in.
  std::setlocale(LC_CTYPE, "C.UTF-8");
  PolicyStore store(policy_);
  FixedClock clock(now_ + scenario_.at);
  auto pinning = curl::CurlPinning::Create(store, {.clock = &clock, .log = [this](std::string_view line) { LogLine(line); }});
  ASSERT_TRUE(pinning.ok());
  auto url_of = [this](const std::string& host) {
    std::string url_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return "https://" + url_host + ":" + std::to_string(server_->port()) + "/";
  };
  std::set<CURL*> attached;
  // Every name the scenario asks for is dialled at the loopback server.
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> connect_to(curl_slist_append(nullptr, "::127.0.0.1:"),
                                                                          &curl_slist_free_all);
  std::string trust = (dir_.path() / "trust.pem").string();

  CURLM* multi = stack() == Stack::kCurlMulti ? curl_multi_init() : nullptr;
  Share share_locks;
  CURLSH* share = nullptr;
  if (stack() == Stack::kCurlShare) {
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &Share::Lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &Share::Unlock);
    curl_share_setopt(share, CURLSHOPT_USERDATA, &share_locks);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  // easy and multi: one easy handle throughout (re-added to the multi for each step);
  // share: a new easy handle per step, sharing connections and sessions.
  std::vector<CURL*> handles;
  Timeline timeline = Start();
  for (std::size_t i = 0; i < scenario_.steps.size(); ++i) {
    const Step& step = scenario_.steps[i];
    Apply(step, timeline, &store, &clock);
    CURL* easy = nullptr;
    if (stack() != Stack::kCurlShare && !handles.empty()) {
      easy = handles.front();
    } else {
      easy = curl_easy_init();
      handles.push_back(easy);
      curl_easy_setopt(easy, CURLOPT_CONNECT_TO, connect_to.get());
      curl_easy_setopt(easy, CURLOPT_CAINFO, trust.c_str());
      curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
      curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Collect);
      if (share != nullptr) curl_easy_setopt(easy, CURLOPT_SHARE, share);
    }
    curl_easy_setopt(easy, CURLOPT_URL, url_of(step.host.value_or(scenario_.host)).c_str());
    if (step.attach && !attached.count(easy)) {
      Status status = (*pinning)->Install(easy);
      if (!status.ok()) {
        ADD_FAILURE() << "Attach: " << status.error().ToString();
        break;  // (not ASSERT: the handles are cleaned up below)
      }
      attached.insert(easy);
      for (const std::string& change : scenario_.curl_after_attach) {
        if (change == "verifypeer-off") curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        if (change == "verifyhost-off") curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
      }
    }
    std::string body;
    char error_buffer[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, step.mode == Step::Mode::kReuse ? 0L : 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, step.mode == Step::Mode::kNew && i > 0 ? 0L : 1L);
    CURLcode code = CURLE_OK;
    if (multi != nullptr) {
      curl_multi_add_handle(multi, easy);
      int running = 1;
      while (running > 0) {
        curl_multi_perform(multi, &running);
        if (running > 0) curl_multi_poll(multi, nullptr, 0, 50, nullptr);
      }
      int queued = 0;
      while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
        if (message->msg == CURLMSG_DONE && message->easy_handle == easy) code = message->data.result;
      }
      curl_multi_remove_handle(multi, easy);
    } else {
      code = curl_easy_perform(easy);
    }
    long verify_result = X509_V_OK;
    curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &verify_result);
    long connects = 0;
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
    auto verdict = attached.count(easy) ? (*pinning)->VerdictOf(easy) : nullptr;
    std::string detail = "curl " + std::to_string(code) + " (" + curl_easy_strerror(code) + ": " + error_buffer +
                         "), new connections " + std::to_string(connects) + ", body '" + body + "'";
    Observed observed;
    if (!attached.count(easy)) {
      observed = {.outcome = code == CURLE_OK && body == "ok" ? std::optional(Outcome::kUnpinnedOk) : std::nullopt,
                  .detail = detail + " (handle not attached)"};
    } else if (code == CURLE_ABORTED_BY_CALLBACK && verdict == nullptr && step.mode == Step::Mode::kReuse) {
      observed = {.outcome = Outcome::kUncheckedRefused, .detail = detail};
    } else if (code == CURLE_SSL_CERTPROBLEM || code == CURLE_URL_MALFORMAT) {
      observed = {.outcome = verdict == nullptr ? std::optional(Outcome::kHostSyntax) : std::nullopt,
                  .detail = detail, .verdict = verdict};
    } else if (code == CURLE_PEER_FAILED_VERIFICATION && verdict != nullptr && verdict->allowed()) {
      // curl's own checks after the pins allowed: the host name.
      observed = {.outcome = Outcome::kHostnameMismatch, .detail = detail, .verdict = verdict};
    } else if (code == CURLE_PEER_FAILED_VERIFICATION && verdict == nullptr && verify_result == X509_V_OK) {
      observed = {.outcome = Outcome::kHostnameMismatch, .detail = detail + "; curl's host-name check", .verdict = verdict};
    } else {
      bool connected = code == CURLE_OK && body == "ok";
      bool verify_failed = code == CURLE_PEER_FAILED_VERIFICATION;
      observed = Classify(connected, verdict, verify_result, verify_failed, detail);
      if (!connected && code != CURLE_PEER_FAILED_VERIFICATION && observed.outcome == Outcome::kChainInvalid) {
        observed.outcome.reset();
      }
    }
    ExpectOutcome(i, observed);
  }
  for (CURL* easy : handles) {
    if (attached.count(easy)) (*pinning)->Uninstall(easy);
    curl_easy_cleanup(easy);
  }
  if (multi != nullptr) curl_multi_cleanup(multi);
  if (share != nullptr) curl_share_cleanup(share);
}

// ---------------------------------------------------------------------------
// Asio: pinion::asio::Pinning on Boost.Asio streams, sync or async handshake.

void ScenarioTest::RunAsio(bool asynchronous) {
  namespace net = boost::asio;
  PolicyStore store(policy_);
  FixedClock clock(now_ + scenario_.at);
  auto pinning = pinion::asio::Pinning::Create(store, {.clock = &clock, .log = [this](std::string_view line) { LogLine(line); }});
  ASSERT_TRUE(pinning.ok());
  net::ssl::context context(net::ssl::context::tls_client);
  context.load_verify_file((dir_.path() / "trust.pem").string());
  SSL_CTX_set_session_cache_mode(context.native_handle(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  ASSERT_TRUE((*pinning)->Install(context).ok());
  if (scenario_.callback == "return-1") {
    context.set_verify_callback([](bool, net::ssl::verify_context&) { return true; });
  } else if (scenario_.callback == "clear-error") {
    context.set_verify_callback([](bool, net::ssl::verify_context& verify) {
      X509_STORE_CTX_set_error(verify.native_handle(), X509_V_OK);
      return true;
    });
  }
  Timeline timeline = Start();
  UniquePtr<SSL_SESSION> last_session;
  for (std::size_t i = 0; i < scenario_.steps.size(); ++i) {
    const Step& step = scenario_.steps[i];
    Apply(step, timeline, &store, &clock);
    net::io_context io;
    net::ssl::stream<net::ip::tcp::socket> stream(io, context);
    Status prepared = (*pinning)->Prepare(stream, step.host.value_or(scenario_.host), server_->port());
    if (!prepared.ok()) {
      Observed observed{.detail = prepared.error().ToString()};
      if (prepared.error().code() == ErrorCode::kHostSyntax) observed.outcome = Outcome::kHostSyntax;
      ExpectOutcome(i, observed);
      continue;
    }
    if (scenario_.callback == "verify-none") stream.set_verify_mode(net::ssl::verify_none);
    if (step.mode == Step::Mode::kResume && last_session) SSL_set_session(stream.native_handle(), last_session.get());
    stream.lowest_layer().connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    boost::system::error_code error;
    if (asynchronous) {
      bool called = false;
      stream.async_handshake(net::ssl::stream_base::client, [&](const boost::system::error_code& result) {
        error = result;
        called = true;
      });
      io.run();
      ASSERT_TRUE(called);
    } else {
      stream.handshake(net::ssl::stream_base::client, error);
    }
    bool connected = !error;
    bool verify_failed = error && error.category() == net::error::get_ssl_category() &&
                         ERR_GET_REASON(static_cast<unsigned long>(error.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
    std::string detail = connected ? "handshake ok" : "handshake failed: " + error.message();
    if (connected) {
      boost::system::error_code ignored;
      net::write(stream, net::buffer(kRequest, sizeof kRequest - 1), ignored);
      std::string reply;
      net::read(stream, net::dynamic_buffer(reply), ignored);
      connected = reply.starts_with("HTTP/1.1 200");
      if (!connected) detail += ", but no HTTP reply: " + ignored.message();
      last_session.reset(SSL_get1_session(stream.native_handle()));
      detail += std::string(", read ended: ") + ignored.message() +
                (last_session && SSL_SESSION_is_resumable(last_session.get()) ? ", session resumable" : ", no resumable session");
    }
    detail += SSL_session_reused(stream.native_handle()) ? " (resumed)" : "";
    boost::system::error_code ignored;
    if (connected) stream.shutdown(ignored);
    ExpectOutcome(i, Classify(connected, pinion::asio::Pinning::VerdictOf(stream),
                              SSL_get_verify_result(stream.native_handle()), verify_failed, detail));
  }
}

INSTANTIATE_TEST_SUITE_P(Matrix, ScenarioTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& test) { return test.param.label; });

}  // namespace
}  // namespace pinion::scenarios
