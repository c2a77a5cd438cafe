// The export property test (issue 13, items 5 and 9; docs/security/EXPORT_PROPERTY.md).
//
//   pinion_export_property --pinion PATH --work DIR [--seeds N] [--first-seed S]
//                          [--inject-disagreement]
//
// For each seeded random policy and each export format, `pinion export` runs WITHOUT
// --allow-lossy. A refusal (exit 2) is counted and must name a reason. A success (exit 0) is
// run through its real consumer — OkHttp's CertificatePinner (javac + java), the Node.js module
// in real handshakes, curl -K in real handshakes, the generated C++ header compiled with the
// project's compiler, ATS and TrustKit rules on the plist after a plistutil round trip, Envoy's
// leaf rule on its YAML — which must accept exactly the chains pinion accepts (Enforcer::CheckChain: validation, anchors,
// pins) for every host of the universe and every chain of the matrix. Formats pinion can import
// back are imported (without --allow-lossy) and the imported policy must give the same verdict
// (decision and reason) as the original on the same matrix.
//
// Exit: 0 no disagreement; 1 disagreements (listed); 2 usage; 77 a required tool is missing.
// --inject-disagreement flips pinion's verdict in one cell (first policy, api.example.com,
// genuine chain) and exits 0 only if every comparison using that cell reported it.
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "pinion/openssl/unique_ptr.h"
#include "pinion/openssl/enforcer.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "pinion/policy_store.h"
#include "pinion/policy_writer.h"
#include "pinion/tooling/export.h"
#include "platform_rules.h"
#include "random_policy.h"
#include "tls_server.h"

namespace pinion::property {
namespace {

namespace fs = std::filesystem;
using openssl::UniquePtr;

constexpr const char* kOkHttpClasspath = "/usr/share/java/okhttp.jar:/usr/share/java/okio.jar";
constexpr int kSkipped = 77;

std::string Quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

struct ProcessResult {
  int exit_code = -1;
  std::string out, err;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

// RunShell: a shell command; stdout captured, stderr through a file so both stay apart.
ProcessResult RunShell(const std::string& command, const fs::path& scratch) {
  fs::path err_file = scratch / "stderr.txt";
  ProcessResult result;
  FILE* pipe = popen((command + " 2>" + Quote(err_file.string())).c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.out.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.err = ReadFile(err_file);
  return result;
}

bool HaveTool(const std::string& tool) { return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string FirstLine(const std::string& text) {
  auto lines = Lines(text);
  for (const std::string& line : lines) {
    if (!line.empty()) return line.size() > 160 ? line.substr(0, 160) + "…" : line;
  }
  return "";
}

UniquePtr<X509_STORE> TrustStoreOf(const std::string& pem) {
  UniquePtr<X509_STORE> store(X509_STORE_new());
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store.get(), cert);
    X509_free(cert);
  }
  return store;
}

// Judgement: pinion's own verdict for one host and chain: "accept", "pin" or "tls", with the
// verdict reason ("matched", "not-pinned" …) so round trips can compare meaning, not text.
struct Judgement {
  std::string outcome;
  std::string reason;
  bool accepted() const { return outcome == "accept"; }
  std::string ToString() const { return outcome + (reason.empty() ? "" : "/" + reason); }
};

// Judge: validation (with the rule's anchors) then pins, exactly as `pinion check --chain`.
class Judge {
 public:
  Judge(PolicySnapshot policy, const std::string& roots_pem) : store_(std::move(policy)), trust_(TrustStoreOf(roots_pem)) {
    auto enforcer = openssl::Enforcer::Create(store_);
    if (!enforcer) throw std::runtime_error("enforcer: " + enforcer.error().ToString());
    enforcer_ = std::move(*enforcer);
  }
  Judgement Decide(const std::string& host, const Chain& chain) const {
    openssl::ChainCheck check =
        enforcer_->CheckChain(chain.served_der, host, 443, SystemClock::Instance().Now(), trust_.get());
    if (!check.validation) return {"tls", std::string(ErrorCodeName(check.validation.error().code()))};
    return {check.verdict->allowed() ? "accept" : "pin", std::string(VerdictReasonName(check.verdict->reason))};
  }

 private:
  PolicyStore store_;
  UniquePtr<X509_STORE> trust_;
  std::unique_ptr<openssl::Enforcer> enforcer_;
};

struct Options {
  fs::path pinion;
  fs::path work;
  std::uint64_t seeds = 40;
  std::uint64_t first_seed = 1;
  bool inject = false;
};

// FormatStats: the figures per export format.
struct FormatStats {
  int attempted = 0, succeeded = 0, refused = 0, failed = 0, warned_success = 0;
  int agree = 0, disagree = 0;  // consumer comparisons
  int roundtrip_imported = 0, roundtrip_import_refused = 0, roundtrip_agree = 0, roundtrip_disagree = 0;
  std::string consumer;  // what ran the output, or why nothing could
  std::map<std::string, int> refusal_reasons;
};

// A pending consumer check whose answer comes from a batch run (java, node, g++).
struct PendingCheck {
  std::string format;
  std::uint64_t seed;
  std::string host;
  ChainKind chain;
  bool pinion_accepts;
  std::string pinion_text;
  bool injected;
};

class Harness {
 public:
  explicit Harness(Options options) : options_(std::move(options)) {}
  int Run();

 private:
  struct PolicyRun {
    RandomPolicy random;
    fs::path dir;
    fs::path policy_file;
    std::vector<std::vector<Judgement>> table;  // [host][chain]
  };

  void RunPolicy(std::uint64_t seed);
  void RunFormat(PolicyRun& run, const std::string& format, const std::string& host);
  void CheckRefusal(const PolicyRun& run, const std::string& format, const std::string& host, const ProcessResult& r);
  void CheckNow(PolicyRun& run, const std::string& format, const fs::path& output, const std::string& host);
  void RoundTrip(PolicyRun& run, const std::string& export_format, const fs::path& output, const std::string& host);
  void QueueBatch(const PolicyRun& run, const std::string& format, const std::vector<std::string>& hosts);
  void RunJavaBatch();
  void RunNodeBatch();
  void RunCppBatch();
  void FinishBatch(const std::string& format, const std::vector<std::string>& answers);

  // Compare records one consumer answer against pinion's; returns true when they agree.
  bool Compare(const std::string& format, std::uint64_t seed, const std::string& host, ChainKind chain,
               bool pinion_accepts, const std::string& pinion_text, const std::string& consumer, bool injected);
  void Finding(const std::string& format, std::uint64_t seed, const std::string& what);
  bool IsInjected(std::uint64_t seed, const std::string& host, ChainKind chain) const {
    return options_.inject && seed == options_.first_seed && host == "api.example.com" && chain == ChainKind::kGenuine;
  }
  std::size_t HostIndex(const std::string& host) const {
    const auto& hosts = HostUniverse();
    return static_cast<std::size_t>(std::find(hosts.begin(), hosts.end(), host) - hosts.begin());
  }
  const Pki& PkiOf(const PolicyRun& run) const { return matrix_.pkis[run.random.pki_index]; }
  std::uint16_t PortOf(const PolicyRun& run, ChainKind kind) const {
    return servers_[run.random.pki_index * 4 + static_cast<std::size_t>(kind)]->port();
  }
  fs::path ChainFile(const PolicyRun& run, ChainKind kind, const char* what) const {
    return options_.work / "chains" /
           (std::to_string(run.random.pki_index) + "." + ChainKindName(kind) + "." + what + ".pem");
  }

  Options options_;
  ChainMatrix matrix_;
  fs::path roots_file_;
  std::vector<std::unique_ptr<testing::LoopbackTlsServer>> servers_;
  std::map<std::string, FormatStats> stats_;
  std::vector<std::string> disagreements_;
  std::vector<std::string> findings_;
  std::vector<PendingCheck> pending_;
  std::vector<std::string> java_classes_;
  std::vector<std::string> java_cases_;
  std::string node_cases_;
  std::vector<std::pair<std::uint64_t, fs::path>> cpp_headers_;
  std::vector<std::string> cpp_cases_;
  int injected_rows_ = 0, injected_flagged_ = 0;
  int plain_policies_ = 0;
};

bool Harness::Compare(const std::string& format, std::uint64_t seed, const std::string& host, ChainKind chain,
                      bool pinion_accepts, const std::string& pinion_text, const std::string& consumer,
                      bool injected) {
  bool consumer_accepts = consumer == "accept";
  bool agree = consumer_accepts == pinion_accepts && (consumer == "accept" || consumer == "pin" || consumer == "tls");
  FormatStats& s = stats_[format];
  if (injected) ++injected_rows_;
  if (agree) {
    ++s.agree;
    return true;
  }
  ++s.disagree;
  if (injected) ++injected_flagged_;
  disagreements_.push_back(format + "  seed " + std::to_string(seed) + "  host " + host + "  chain " +
                           ChainKindName(chain) + ": pinion " + pinion_text + ", consumer " + consumer +
                           (injected ? "  [injected]" : ""));
  return false;
}

void Harness::Finding(const std::string& format, std::uint64_t seed, const std::string& what) {
  findings_.push_back(format + "  seed " + std::to_string(seed) + ": " + what);
}

int Harness::Run() {
  for (const char* tool : {"java", "javac", "node", "curl", "plistutil", "timeout"}) {
    if (!HaveTool(tool)) {
      std::cerr << "export_property: " << tool << " not found: skipped\n";
      return kSkipped;
    }
  }
  for (const char* jar : {"/usr/share/java/okhttp.jar", "/usr/share/java/okio.jar"}) {
    if (!fs::exists(jar)) {
      std::cerr << "export_property: " << jar << " not found (Debian's libokhttp-java): skipped\n";
      return kSkipped;
    }
  }
  fs::remove_all(options_.work);
  fs::create_directories(options_.work / "chains");
  fs::create_directories(options_.work / "java");
  fs::create_directories(options_.work / "cpp");
  options_.work = fs::canonical(options_.work);
  ::setenv("NO_PROXY", "*", 1);
  ::setenv("no_proxy", "*", 1);
  for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "CURL_CA_BUNDLE"}) {
    ::unsetenv(name);
  }

  auto started = std::chrono::steady_clock::now();
  matrix_ = ChainMatrix::Generate();
  roots_file_ = options_.work / "roots.pem";
  WriteFile(roots_file_, matrix_.roots_pem);
  for (std::size_t p = 0; p < matrix_.pkis.size(); ++p) {
    for (const Chain& chain : matrix_.pkis[p].chains) {
      std::string stem = std::to_string(p) + "." + ChainKindName(chain.kind);
      WriteFile(options_.work / "chains" / (stem + ".served.pem"), chain.served_pem);
      WriteFile(options_.work / "chains" / (stem + ".validated.pem"), chain.validated_pem);
      servers_.push_back(std::make_unique<testing::LoopbackTlsServer>(testing::LoopbackTlsServer::Options{
          .chain_pem = chain.served_pem,
          .key_pem = chain.key_pem,
          .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"}));
    }
  }

  // The matrix itself: with nothing pinned every chain validates for every host, so any
  // rejection later comes from pins or anchors.
  {
    auto empty = Policy::Create(1, {});
    if (!empty) throw std::runtime_error("empty policy: " + empty.error().ToString());
    Judge judge(*empty, matrix_.roots_pem);
    for (const Pki& pki : matrix_.pkis) {
      for (const Chain& chain : pki.chains) {
        for (const std::string& host : HostUniverse()) {
          Judgement j = judge.Decide(host, chain);
          if (!j.accepted()) {
            std::cerr << "export_property: the matrix is broken: " << host << " " << ChainKindName(chain.kind) << " "
                      << j.ToString() << "\n";
            return 1;
          }
        }
      }
    }
  }

  for (std::uint64_t seed = options_.first_seed; seed < options_.first_seed + options_.seeds; ++seed) RunPolicy(seed);
  RunJavaBatch();
  RunNodeBatch();
  RunCppBatch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();

  // The table.
  std::printf("\n== export property: %llu policies (%d plain; seeds %llu..%llu), %zu hosts x 4 chains each, %lld s\n",
              static_cast<unsigned long long>(options_.seeds), plain_policies_,
              static_cast<unsigned long long>(options_.first_seed),
              static_cast<unsigned long long>(options_.first_seed + options_.seeds - 1), HostUniverse().size(),
              static_cast<long long>(seconds));
  std::printf("%-12s %5s %5s %5s %5s %5s | %7s %7s | %6s %6s %6s %6s | %s\n", "format", "tried", "ok", "refus", "fail",
              "warn0", "agree", "DISAGR", "import", "imp-rf", "rt-ok", "RT-DIS", "consumer");
  int total_disagree = 0;
  for (const auto& [format, s] : stats_) {
    std::printf("%-12s %5d %5d %5d %5d %5d | %7d %7d | %6d %6d %6d %6d | %s\n", format.c_str(), s.attempted,
                s.succeeded, s.refused, s.failed, s.warned_success, s.agree, s.disagree, s.roundtrip_imported,
                s.roundtrip_import_refused, s.roundtrip_agree, s.roundtrip_disagree, s.consumer.c_str());
    total_disagree += s.disagree + s.roundtrip_disagree;
  }
  std::printf("\n-- refusal reasons (first line of stderr, counted)\n");
  for (const auto& [format, s] : stats_) {
    for (const auto& [reason, count] : s.refusal_reasons) std::printf("%-12s %4d  %s\n", format.c_str(), count, reason.c_str());
  }
  // Everything, also when the console list is cut short.
  std::string all;
  for (const std::string& f : findings_) all += "finding " + f + "\n";
  for (const std::string& dis : disagreements_) all += "disagreement " + dis + "\n";
  WriteFile(options_.work / "results.txt", all);
  std::printf("\n(every finding and disagreement: %s)\n", (options_.work / "results.txt").c_str());
  std::printf("\n-- findings (%zu)\n", findings_.size());
  for (const std::string& f : findings_) std::printf("  %s\n", f.c_str());
  std::printf("\n-- disagreements (%d)\n", total_disagree);
  std::size_t shown = 0;
  for (const std::string& d : disagreements_) {
    if (++shown > 200) {
      std::printf("  … %zu more\n", disagreements_.size() - 200);
      break;
    }
    std::printf("  %s\n", d.c_str());
  }
  if (options_.inject) {
    if (injected_rows_ > 0 && injected_flagged_ == injected_rows_) {
      std::printf("\nself-test: the injected verdict was reported by all %d comparisons that used it\n", injected_rows_);
      return 0;
    }
    std::printf("\nself-test FAILED: %d of %d comparisons using the injected verdict reported it\n", injected_flagged_,
                injected_rows_);
    return 1;
  }
  return total_disagree == 0 && findings_.empty() ? 0 : 1;
}

void Harness::RunPolicy(std::uint64_t seed) {
  PolicyRun run{.random = GenerateRandomPolicy(seed, matrix_)};
  if (run.random.plain) ++plain_policies_;
  run.dir = options_.work / ("policy-" + std::to_string(seed));
  fs::create_directories(run.dir);
  run.policy_file = run.dir / "policy.toml";
  WriteFile(run.policy_file, PolicyToToml(*run.random.policy));
  Judge judge(run.random.policy, matrix_.roots_pem);
  for (const std::string& host : HostUniverse()) {
    std::vector<Judgement> row;
    for (const Chain& chain : PkiOf(run).chains) {
      Judgement j = judge.Decide(host, chain);
      if (IsInjected(seed, host, chain.kind)) j.outcome = j.accepted() ? "pin" : "accept";
      row.push_back(j);
    }
    run.table.push_back(row);
  }
  for (std::string_view name : tooling::ExportFormatNames()) {
    std::string format(name);
    if (format == "curl" || format == "envoy" || format == "hpkp") {
      // One connection's configuration: once per rule, for a host that rule decides.
      for (const DomainRule& rule : run.random.policy->rules()) {
        for (const std::string& host : HostUniverse()) {
          if (run.random.policy->FindRule(host) == &rule) {
            RunFormat(run, format, host);
            break;
          }
        }
      }
    } else {
      RunFormat(run, format, "");
    }
  }
}

void Harness::RunFormat(PolicyRun& run, const std::string& format, const std::string& host) {
  FormatStats& s = stats_[format];
  ++s.attempted;
  std::string stem = format + (host.empty() ? "" : "." + host);
  std::string extension = format == "ios-plist" || format == "trustkit" ? ".plist"
                          : format == "okhttp-java"                     ? ".java"
                          : format == "okhttp"                          ? ".kt"
                          : format == "nodejs"                          ? ".js"
                          : format == "cpp"                             ? ".h"
                          : format == "android-nsc"                     ? ".xml"
                                                                        : ".txt";
  fs::path output = run.dir / (stem + extension);
  std::string java_class = "PinionPins" + std::to_string(run.random.seed);
  if (format == "okhttp-java") output = options_.work / "java" / (java_class + ".java");
  if (format == "cpp") output = options_.work / "cpp" / ("pins" + std::to_string(run.random.seed) + ".h");
  std::string command = Quote(options_.pinion.string()) + " export --to " + format + " " +
                        Quote(run.policy_file.string()) + " -o " + Quote(output.string());
  if (!host.empty()) command += " --host " + host;
  if (format == "okhttp-java") command += " --java-class " + java_class;
  if (format == "cpp") command += " --cpp-namespace pinion_property_" + std::to_string(run.random.seed);
  ProcessResult r = RunShell(command, run.dir);
  if (r.exit_code == 2) {
    CheckRefusal(run, format, host, r);
    return;
  }
  if (r.exit_code != 0) {
    ++s.failed;
    Finding(format, run.random.seed, "export exited " + std::to_string(r.exit_code) + ": " + FirstLine(r.err));
    return;
  }
  ++s.succeeded;
  if (r.err.find("warning") != std::string::npos) {
    // Item 5: anything that is a warning is a change, and a change must not exit 0 here.
    ++s.warned_success;
    Finding(format, run.random.seed, "exit 0 without --allow-lossy, yet warned: " + FirstLine(r.err));
  }
  if (!fs::exists(output)) {
    Finding(format, run.random.seed, "exit 0 but no output file");
    return;
  }
  CheckNow(run, format, output, host);
  if (format == "android-nsc" || format == "trustkit" || format == "okhttp" || format == "okhttp-java" ||
      format == "hpkp") {
    RoundTrip(run, format, output, host);
  }
}

void Harness::CheckRefusal(const PolicyRun& run, const std::string& format, const std::string& host,
                           const ProcessResult& r) {
  FormatStats& s = stats_[format];
  ++s.refused;
  // The refusal must say why: name a domain of the policy, or the flag that accepts the change.
  bool names_reason = r.err.find("allow-lossy") != std::string::npos;
  for (const DomainRule& rule : run.random.policy->rules()) {
    names_reason = names_reason || r.err.find(rule.host.base()) != std::string::npos;
  }
  if (!names_reason) {
    Finding(format, run.random.seed,
            "refused (exit 2)" + (host.empty() ? "" : " for --host " + host) +
                " without naming a domain or --allow-lossy: '" + FirstLine(r.err) + "'");
  }
  // Counted by the reason's shape: host names and digits taken out.
  std::string reason = FirstLine(r.err);
  std::vector<std::string> longest_first = HostUniverse();
  std::sort(longest_first.begin(), longest_first.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& h : longest_first) {
    for (std::size_t at; (at = reason.find(h)) != std::string::npos;) reason.replace(at, h.size(), "HOST");
  }
  for (char& c : reason) {
    if (c >= '0' && c <= '9') c = '#';
  }
  ++s.refusal_reasons[reason.substr(0, 110)];
}

void Harness::CheckNow(PolicyRun& run, const std::string& format, const fs::path& output, const std::string& host) {
  FormatStats& s = stats_[format];
  const Pki& pki = PkiOf(run);
  std::uint64_t seed = run.random.seed;
  if (format == "ios-plist" || format == "trustkit") {
    s.consumer = format == "ios-plist" ? "plistutil round trip + ATS rule" : "plistutil round trip + TrustKit rules";
    fs::path binary = output.string() + ".bin", again = output.string() + ".again.xml";
    ProcessResult to_bin = RunShell("plistutil -i " + Quote(output.string()) + " -o " + Quote(binary.string()) + " -f bin",
                               run.dir);
    ProcessResult to_xml = RunShell("plistutil -i " + Quote(binary.string()) + " -o " + Quote(again.string()) + " -f xml",
                               run.dir);
    if (to_bin.exit_code != 0 || to_xml.exit_code != 0 || !fs::exists(again)) {
      Finding(format, seed, "plistutil could not round-trip the output: " + FirstLine(to_bin.err + to_xml.err));
      return;
    }
    std::string xml = ReadFile(again);
    auto now = std::chrono::system_clock::now();
    std::optional<AtsPinning> ats;
    std::optional<TrustKitPinning> trustkit;
    std::string refused;
    if (format == "ios-plist") {
      auto parsed = AtsPinning::Parse(xml);
      if (auto* e = std::get_if<std::string>(&parsed)) refused = *e; else ats = std::get<AtsPinning>(std::move(parsed));
    } else {
      auto parsed = TrustKitPinning::Parse(xml);
      if (auto* e = std::get_if<std::string>(&parsed)) refused = *e; else trustkit = std::get<TrustKitPinning>(std::move(parsed));
    }
    if (!refused.empty()) {
      // The platform would not start with this file (or would ignore it): every pinned host
      // is then a disagreement waiting to happen; reported once per export.
      Finding(format, seed, "exported, but the platform rejects the configuration: " + refused);
      ++s.disagree;
      return;
    }
    for (const std::string& h : HostUniverse()) {
      for (const Chain& chain : pki.chains) {
        ChainSpkiPins pins;
        for (const auto& der : chain.validated_der) {
          auto cert = VerifiedChain::FromChainValidatedByCaller({der});
          pins.push_back(cert->SpkiSha256(0).Base64());
        }
        ConsumerDecision d = ats ? ats->Decide(h, pins) : trustkit->Decide(h, pins, now);
        const Judgement& j = run.table[HostIndex(h)][static_cast<std::size_t>(chain.kind)];
        Compare(format, seed, h, chain.kind, j.accepted(), j.ToString(), ConsumerDecisionName(d),
                IsInjected(seed, h, chain.kind));
      }
    }
  } else if (format == "curl") {
    s.consumer = "curl -K, real handshakes";
    for (const Chain& chain : pki.chains) {
      std::string port = std::to_string(PortOf(run, chain.kind));
      ProcessResult r = RunShell("timeout 30 curl -q -sS -o /dev/null --max-time 10 -K " + Quote(output.string()) +
                                " --cacert " + Quote(roots_file_.string()) + " --resolve " + host + ":" + port +
                                ":127.0.0.1 https://" + host + ":" + port + "/",
                            run.dir);
      // curl checks pins inside the handshake (exit 90); a read failure after it (56: the test
      // server closed first) means the handshake, pins included, succeeded.
      bool after_handshake = r.exit_code == 56 && r.err.find("Recv failure") != std::string::npos;
      std::string answer = r.exit_code == 0 || after_handshake ? "accept"
                           : r.exit_code == 90                 ? "pin"
                           : r.exit_code == 60 || r.exit_code == 35
                               ? "tls"
                               : "error curl exit " + std::to_string(r.exit_code) + " " + FirstLine(r.err);
      const Judgement& j = run.table[HostIndex(host)][static_cast<std::size_t>(chain.kind)];
      Compare(format, seed, host, chain.kind, j.accepted(), j.ToString(), answer, IsInjected(seed, host, chain.kind));
    }
  } else if (format == "envoy") {
    s.consumer = "Envoy's leaf rule (verify_certificate_spki/hash) on the YAML";
    auto parsed = EnvoyPinning::Parse(ReadFile(output));
    if (auto* e = std::get_if<std::string>(&parsed)) {
      Finding(format, seed, "exported, but Envoy would not load it: " + *e);
      ++s.disagree;
      return;
    }
    const EnvoyPinning& envoy = std::get<EnvoyPinning>(parsed);
    for (const Chain& chain : pki.chains) {
      auto leaf = VerifiedChain::FromChainValidatedByCaller({chain.validated_der.front()});
      std::string hash_hex = Pin::OfCertificate(chain.validated_der.front()).Hex('\0');
      ConsumerDecision d = envoy.Decide(leaf->SpkiSha256(0).Base64(), hash_hex);
      const Judgement& j = run.table[HostIndex(host)][static_cast<std::size_t>(chain.kind)];
      Compare(format, seed, host, chain.kind, j.accepted(), j.ToString(), ConsumerDecisionName(d),
              IsInjected(seed, host, chain.kind));
    }
  } else if (format == "okhttp-java" || format == "nodejs" || format == "cpp") {
    if (format == "okhttp-java") java_classes_.push_back("PinionPins" + std::to_string(seed));
    if (format == "cpp") cpp_headers_.emplace_back(seed, output);
    if (format == "nodejs") {
      // The module's file name must end in .js for require(); keep it per policy.
    }
    QueueBatch(run, format, HostUniverse());
    if (format == "nodejs") {
      for (const std::string& h : HostUniverse()) {
        for (const Chain& chain : pki.chains) {
          node_cases_ += std::string(node_cases_.empty() ? "[" : ",\n") + "{\"module\":\"" + output.string() +
                         "\",\"host\":\"" + h + "\",\"port\":" + std::to_string(PortOf(run, chain.kind)) +
                         ",\"ca\":\"" + roots_file_.string() + "\"}";
        }
      }
    }
    if (format == "okhttp-java") {
      for (const std::string& h : HostUniverse()) {
        for (const Chain& chain : pki.chains) {
          java_cases_.push_back("PinionPins" + std::to_string(seed) + "\t" + h + "\t" +
                                ChainFile(run, chain.kind, "validated").string());
        }
      }
    }
    if (format == "cpp") {
      for (const std::string& h : HostUniverse()) {
        for (const Chain& chain : pki.chains) {
          cpp_cases_.push_back(std::to_string(seed) + "\t" + h + "\t" + ChainFile(run, chain.kind, "served").string());
        }
      }
    }
  } else if (s.consumer.empty()) {
    s.consumer = format == "okhttp"        ? "none here (Kotlin: see okhttp-java; round trip)"
                 : format == "android-nsc" ? "none here (round trip)"
                 : format == "hpkp"        ? "none here (round trip)"
                                           : "none here";
  }
}

void Harness::QueueBatch(const PolicyRun& run, const std::string& format, const std::vector<std::string>& hosts) {
  for (const std::string& h : hosts) {
    for (const Chain& chain : PkiOf(run).chains) {
      const Judgement& j = run.table[HostIndex(h)][static_cast<std::size_t>(chain.kind)];
      pending_.push_back({format, run.random.seed, h, chain.kind, j.accepted(), j.ToString(),
                          IsInjected(run.random.seed, h, chain.kind)});
    }
  }
}

void Harness::FinishBatch(const std::string& format, const std::vector<std::string>& answers) {
  std::size_t next = 0;
  for (const PendingCheck& p : pending_) {
    if (p.format != format) continue;
    std::string answer = next < answers.size() ? answers[next] : "error no answer";
    ++next;
    Compare(format, p.seed, p.host, p.chain, p.pinion_accepts, p.pinion_text, answer, p.injected);
  }
}

void Harness::RunJavaBatch() {
  stats_["okhttp-java"].consumer = "javac + OkHttp CertificatePinner.check (one JVM)";
  if (java_classes_.empty()) return;
  fs::path dir = options_.work / "java";
  fs::path here = fs::path(PINION_PROPERTY_SOURCE_DIR);
  std::string sources;
  for (const std::string& c : java_classes_) sources += " " + Quote((dir / (c + ".java")).string());
  ProcessResult compile = RunShell("timeout 300 javac -nowarn -d " + Quote(dir.string()) + " -cp " + kOkHttpClasspath +
                                  sources + " " + Quote((here / "OkHttpBatchCheck.java").string()),
                              dir);
  if (compile.exit_code != 0) {
    Finding("okhttp-java", 0, "javac failed: " + FirstLine(compile.err));
  }
  std::string cases;
  for (const std::string& c : java_cases_) cases += c + "\n";
  WriteFile(dir / "cases.tsv", cases);
  ProcessResult run = RunShell("timeout 300 java -cp " + std::string(kOkHttpClasspath) + ":" + Quote(dir.string()) +
                              " OkHttpBatchCheck " + Quote((dir / "cases.tsv").string()),
                          dir);
  if (run.exit_code != 0) Finding("okhttp-java", 0, "java failed: " + FirstLine(run.err));
  FinishBatch("okhttp-java", Lines(run.out));
}

void Harness::RunNodeBatch() {
  stats_["nodejs"].consumer = "node tls.connect with the module's agentOptions, real handshakes";
  if (node_cases_.empty()) return;
  fs::path file = options_.work / "node-cases.json";
  WriteFile(file, node_cases_ + "]\n");
  ProcessResult run = RunShell("timeout 300 node " + Quote((fs::path(PINION_PROPERTY_SOURCE_DIR) / "node_check.js").string()) +
                              " " + Quote(file.string()),
                          options_.work);
  if (run.exit_code != 0) Finding("nodejs", 0, "node failed: " + FirstLine(run.err));
  FinishBatch("nodejs", Lines(run.out));
}

void Harness::RunCppBatch() {
  stats_["cpp"].consumer = "g++ (one TU, all headers) + pinion::openssl::Enforcer::CheckChain";
  if (cpp_headers_.empty()) return;
  fs::path dir = options_.work / "cpp";
  std::string main_cc =
      "#include <openssl/pem.h>\n#include <cstdio>\n#include <fstream>\n#include <iostream>\n#include <sstream>\n"
      "#include \"pinion/openssl/enforcer.h\"\n#include \"pinion/pin_source.h\"\n#include \"pinion/policy_store.h\"\n";
  std::string table;
  for (const auto& [seed, header] : cpp_headers_) {
    main_cc += "#include \"" + header.filename().string() + "\"\n";
    table += "  {" + std::to_string(seed) + "u, &pinion_property_" + std::to_string(seed) + "::LoadPolicy},\n";
  }
  main_cc += R"(
struct Entry { unsigned long long seed; pinion::Result<pinion::PolicySnapshot> (*load)(); };
static const Entry kEntries[] = {
)" + table + R"(};
// argv[1]: trusted roots (PEM); argv[2]: cases "seed\thost\tserved-chain.pem". One answer a line.
int main(int, char** argv) {
  X509_STORE* trust = X509_STORE_new();
  BIO* bio = BIO_new_file(argv[1], "r");
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) { X509_STORE_add_cert(trust, cert); X509_free(cert); }
  BIO_free(bio);
  std::ifstream cases(argv[2]);
  for (std::string line; std::getline(cases, line);) {
    std::istringstream fields(line);
    unsigned long long seed = 0; std::string host, chain_file;
    fields >> seed >> host >> chain_file;
    const Entry* entry = nullptr;
    for (const Entry& e : kEntries) if (e.seed == seed) entry = &e;
    auto policy = entry->load();
    if (!policy) { std::cout << "error LoadPolicy " << policy.error().ToString() << "\n"; continue; }
    pinion::PolicyStore store(*policy);
    auto enforcer = pinion::openssl::Enforcer::Create(store);
    auto chain = pinion::ReadCertificatesFromFile(chain_file);
    auto check = (*enforcer)->CheckChain(*chain, host, 443, pinion::SystemClock::Instance().Now(), trust);
    std::cout << (!check.validation ? "tls" : check.verdict->allowed() ? "accept" : "pin") << "\n";
  }
  X509_STORE_free(trust);
}
)";
  WriteFile(dir / "main.cc", main_cc);
  std::string command = std::string("timeout 600 ") + PINION_PROPERTY_CXX + " -std=c++20 -O0 " +
                        PINION_PROPERTY_CXX_FLAGS + " " + PINION_PROPERTY_INCLUDES + " -I" + Quote(dir.string()) + " " +
                        Quote((dir / "main.cc").string()) + " " + PINION_PROPERTY_LIBS + " -o " +
                        Quote((dir / "evaluate").string());
  ProcessResult compile = RunShell(command, dir);
  if (compile.exit_code != 0) {
    Finding("cpp", 0, "the generated headers do not compile: " + FirstLine(compile.err));
    FinishBatch("cpp", {});
    return;
  }
  std::string cases;
  for (const std::string& c : cpp_cases_) cases += c + "\n";
  WriteFile(dir / "cases.tsv", cases);
  ProcessResult run = RunShell("timeout 300 " + Quote((dir / "evaluate").string()) + " " + Quote(roots_file_.string()) + " " +
                              Quote((dir / "cases.tsv").string()),
                          dir);
  if (run.exit_code != 0) Finding("cpp", 0, "the compiled policy program failed: " + FirstLine(run.err));
  FinishBatch("cpp", Lines(run.out));
}

// AndroidResources does what an android-nsc export's steps say: each
// domain-config's trust-anchors name @raw/NAME, and the bundle of the rule
// that domain-config came from goes to res/raw/NAME.pem. Returns res/.
fs::path AndroidResources(const Policy& policy, const std::string& xml, const fs::path& dir) {
  fs::path res = dir / "android-res";
  fs::create_directories(res / "raw");
  static const std::regex kBlock(R"re(<domain-config[^>]*>([\s\S]*?)</domain-config>)re");
  static const std::regex kDomain(R"re(<domain includeSubdomains="(true|false)">([^<]+)</domain>)re");
  static const std::regex kRaw(R"re(src="@raw/([A-Za-z0-9_]+)")re");
  for (std::sregex_iterator block(xml.begin(), xml.end(), kBlock), end; block != end; ++block) {
    std::string body = (*block)[1];
    std::smatch domain, raw;
    if (!std::regex_search(body, domain, kDomain) || !std::regex_search(body, raw, kRaw)) continue;
    for (const DomainRule& rule : policy.rules()) {
      if (rule.host.base() == domain[2].str() && rule.host.include_subdomains() == (domain[1] == "true") &&
          !rule.anchors.use_system()) {
        WriteFile(res / "raw" / (raw[1].str() + ".pem"), CertificatesToPem(rule.anchors.certificates_der));
      }
    }
  }
  return res;
}

void Harness::RoundTrip(PolicyRun& run, const std::string& export_format, const fs::path& output,
                        const std::string& host) {
  FormatStats& s = stats_[export_format];
  std::string import_format = export_format == "okhttp-java" ? "okhttp" : export_format;
  fs::path imported = run.dir / (export_format + (host.empty() ? "" : "." + host) + ".imported.toml");
  std::string command = Quote(options_.pinion.string()) + " import --from " + import_format + " " +
                        Quote(output.string()) + " -o " + Quote(imported.string());
  if (!host.empty()) command += " --host " + host;
  if (export_format == "android-nsc") {
    command += " --res " + Quote(AndroidResources(*run.random.policy, ReadFile(output), run.dir).string());
  }
  ProcessResult r = RunShell(command, run.dir);
  if (r.exit_code != 0) {
    ++s.roundtrip_import_refused;
    Finding(export_format, run.random.seed,
            "round trip: the export succeeded but `pinion import --from " + import_format + "` exited " +
                std::to_string(r.exit_code) + ": " + FirstLine(r.err));
    return;
  }
  auto policy = LoadPolicyFile(imported);
  if (!policy) {
    ++s.roundtrip_import_refused;
    Finding(export_format, run.random.seed, "round trip: the imported policy does not load: " + policy.error().ToString());
    return;
  }
  ++s.roundtrip_imported;
  Judge judge(*policy, matrix_.roots_pem);
  // A one-connection format (hpkp) says nothing about other hosts: judged for its host only.
  std::vector<std::string> hosts = host.empty() ? HostUniverse() : std::vector<std::string>{host};
  for (const std::string& h : hosts) {
    for (const Chain& chain : PkiOf(run).chains) {
      const Judgement& original = run.table[HostIndex(h)][static_cast<std::size_t>(chain.kind)];
      Judgement again = judge.Decide(h, chain);
      bool injected = IsInjected(run.random.seed, h, chain.kind);
      if (injected) ++injected_rows_;
      if (original.ToString() == again.ToString()) {
        ++s.roundtrip_agree;
        continue;
      }
      ++s.roundtrip_disagree;
      if (injected) ++injected_flagged_;
      disagreements_.push_back(export_format + " round trip  seed " + std::to_string(run.random.seed) + "  host " + h +
                               "  chain " + ChainKindName(chain.kind) + ": original " + original.ToString() +
                               ", imported " + again.ToString() + (injected ? "  [injected]" : ""));
    }
  }
}

std::uint64_t NumberFromEnv(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::stoull(value) : fallback;
}

}  // namespace
}  // namespace pinion::property

int main(int argc, char** argv) {
  using pinion::property::Options;
  Options options;
  options.seeds = pinion::property::NumberFromEnv("PINION_PROPERTY_SEEDS", options.seeds);
  options.first_seed = pinion::property::NumberFromEnv("PINION_PROPERTY_FIRST_SEED", options.first_seed);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--pinion") options.pinion = value();
    else if (arg == "--work") options.work = value();
    else if (arg == "--seeds") options.seeds = std::stoull(value());
    else if (arg == "--first-seed") options.first_seed = std::stoull(value());
    else if (arg == "--inject-disagreement") options.inject = true;
    else {
      std::cerr << "usage: pinion_export_property --pinion PATH --work DIR [--seeds N] [--first-seed S] "
                   "[--inject-disagreement]\n";
      return 2;
    }
  }
  if (options.pinion.empty() || options.work.empty()) {
    std::cerr << "pinion_export_property: --pinion and --work are required\n";
    return 2;
  }
  try {
    return pinion::property::Harness(std::move(options)).Run();
  } catch (const std::exception& e) {
    std::cerr << "pinion_export_property: " << e.what() << "\n";
    return 1;
  }
}
