// The CLI's contract (issue 13, items 10-14 and 16), checked on the real
// `pinion` binary and, for the option table, in process:
// - a result that could not be written never exits 0 (exit 4, no partial file);
// - IPv6 targets and every --connect-to form;
// - options never swallow positionals; one value per flag everywhere;
// - --json errors are JSON on stdout, same mistake → same exit code;
// - network failures are named as such, each with its own hint;
// - check --report-to delivers the library's report to a real collector.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "output.h"
#include "pinion/atomic_file.h"
#include "cli_runner.h"
#include "silent_listener.h"
#include "test_pki.h"
#include "tls_server.h"

namespace pinion::cli {
namespace {

using testing::LoopbackTlsServer;
using testing::SilentListener;
using testing::TempDir;
using testing::TestPki;

constexpr char kHost[] = "api.example.test";

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
std::uint16_t ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Ipv6TlsServer: a minimal TLS server on [::1] (LoopbackTlsServer is IPv4).
class Ipv6TlsServer {
 public:
  // Start returns null when this machine has no ::1.
  static std::unique_ptr<Ipv6TlsServer> Start(const std::string& chain_pem, const std::string& key_pem) {
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return nullptr;
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 16) != 0) {
      close(fd);
      return nullptr;
    }
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return std::unique_ptr<Ipv6TlsServer>(new Ipv6TlsServer(fd, ntohs(address.sin6_port), chain_pem, key_pem));
  }
  ~Ipv6TlsServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    acceptor_.join();
  }
  std::uint16_t port() const { return port_; }
  int handshakes() const { return handshakes_.load(); }

 private:
  Ipv6TlsServer(int fd, std::uint16_t port, const std::string& chain_pem, const std::string& key_pem)
      : fd_(fd), port_(port), ctx_(SSL_CTX_new(TLS_server_method())) {
    openssl::UniquePtr<BIO> chain(BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size())));
    openssl::UniquePtr<X509> leaf(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
    SSL_CTX_use_certificate(ctx_.get(), leaf.get());
    while (X509* extra = PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr)) {
      SSL_CTX_add0_chain_cert(ctx_.get(), extra);
    }
    openssl::UniquePtr<BIO> key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
    openssl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    SSL_CTX_use_PrivateKey(ctx_.get(), key.get());
    acceptor_ = std::thread([this] { Loop(); });
  }
  void Loop() {
    while (!stop_) {
      int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      openssl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
      SSL_set_fd(ssl.get(), client);
      if (SSL_accept(ssl.get()) == 1) {
        ++handshakes_;
        SSL_write(ssl.get(), "hello\n", 6);
        SSL_shutdown(ssl.get());
      }
      close(client);
    }
  }

  int fd_;
  std::uint16_t port_;
  openssl::UniquePtr<SSL_CTX> ctx_;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_{0};
  std::thread acceptor_;
};

class CliContractTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Create(kHost));
    dir_ = new TempDir();
    dir_->Write("trust.pem", pki_->root.Pem() + pki_->rogue_root.Pem());
    dir_->Write("root.pem", pki_->root.Pem());
    dir_->Write("leaf.pem", pki_->leaf.Pem());
    dir_->Write("policy.toml", "[policy]\nversion = 4\n[[domain]]\nhost = \"" + std::string(kHost) +
                                   "\"\npins = [\n  { pin = \"" + pki_->leaf_key.SpkiPin().ToString() +
                                   "\", label = \"leaf\" },\n  { pin = \"" + pki_->backup_key.SpkiPin().ToString() +
                                   "\", label = \"backup\" },\n]\n");
    legit_ = new LoopbackTlsServer({.chain_pem = pki_->LeafChainPem(), .key_pem = pki_->leaf_key.PrivatePem()});
    rogue_ = new LoopbackTlsServer({.chain_pem = pki_->RogueChainPem(), .key_pem = pki_->rogue_leaf_key.PrivatePem()});
    leaf_only_ = new LoopbackTlsServer({.chain_pem = pki_->leaf.Pem(), .key_pem = pki_->leaf_key.PrivatePem()});
    CliRun keygen = Pinion("manifest keygen --out " + File("signing"));
    ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  }
  static void TearDownTestSuite() {
    delete legit_;
    delete rogue_;
    delete leaf_only_;
    delete dir_;
    delete pki_;
  }
  static std::string File(const std::string& name) { return (dir_->path() / name).string(); }
  static std::string Port(const LoopbackTlsServer* server) { return std::to_string(server->port()); }

  static TestPki* pki_;
  static TempDir* dir_;
  static LoopbackTlsServer* legit_;
  static LoopbackTlsServer* rogue_;
  static LoopbackTlsServer* leaf_only_;
};
TestPki* CliContractTest::pki_ = nullptr;
TempDir* CliContractTest::dir_ = nullptr;
LoopbackTlsServer* CliContractTest::legit_ = nullptr;
LoopbackTlsServer* CliContractTest::rogue_ = nullptr;
LoopbackTlsServer* CliContractTest::leaf_only_ = nullptr;

// ---- Item 10: output that could not be written ------------------------------

TEST_F(CliContractTest, StdoutThatCannotBeWrittenExits4) {
  for (const std::string& args :
       {"pin " + File("leaf.pem"), "pin --json " + File("leaf.pem"),
        "manifest sign --key " + File("signing.key") + " " + File("policy.toml"),
        "manifest sign --json --key " + File("signing.key") + " " + File("policy.toml"),
        "inventory " + File("policy.toml"), "inventory --json " + File("policy.toml"),
        "manifest show --json " + File("policy.toml")}) {
    CliRun run = Pinion(args, {.stdout_to = "/dev/full"});
    EXPECT_EQ(run.exit_code, kExitOutput) << args << "\n" << run.err;
    EXPECT_NE(run.err.find("cannot write standard output"), std::string::npos) << args << "\n" << run.err;
  }
  // The same commands succeed when stdout works, so 4 is about the output only.
  EXPECT_EQ(Pinion("manifest sign --key " + File("signing.key") + " " + File("policy.toml")).exit_code, 0);
}

TEST_F(CliContractTest, OutputFileThatCannotBeWrittenExits4AndLeavesNothing) {
  TempDir out;
  out.Write("a-file", "x");
  const std::string unwritable[] = {
      (out.path() / "missing-dir" / "m.json").string(),  // directory does not exist
      (out.path() / "a-file" / "m.json").string(),       // "directory" is a file
      "/proc/pinion-contract-test.json",                 // read-only file system (even for root)
  };
  for (const std::string& target : unwritable) {
    for (const std::string& args :
         {"manifest sign --key " + File("signing.key") + " " + File("policy.toml") + " -o " + target,
          "inventory " + File("policy.toml") + " -o " + target,
          "inventory --json " + File("policy.toml") + " -o " + target}) {
      CliRun run = Pinion(args);
      EXPECT_EQ(run.exit_code, kExitOutput) << args << "\n" << run.err;
      EXPECT_FALSE(std::filesystem::exists(target)) << target;
    }
  }
  // Nothing half-written next to the targets either.
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(out.path())) left.push_back(entry.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"a-file"});

  // --json: the error is JSON on stdout with exit_code 4.
  CliRun json = Pinion("manifest sign --json --key " + File("signing.key") + " " + File("policy.toml") + " -o " +
                       unwritable[0]);
  ASSERT_TRUE(json.Json()) << json.out;
  EXPECT_EQ((*json.Json())["error"]["code"], "io");
  EXPECT_EQ((*json.Json())["error"]["exit_code"], kExitOutput);
}

TEST_F(CliContractTest, OutputFileIsWholeWhenWritten) {
  TempDir out;
  std::string target = (out.path() / "m.json").string();
  CliRun run = Pinion("manifest sign --json --key " + File("signing.key") + " " + File("policy.toml") + " -o " + target);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(run.Json());
  EXPECT_EQ((*run.Json())["output"], target);
  EXPECT_EQ((*run.Json())["version"], 4);
  EXPECT_TRUE(nlohmann::json::accept(Slurp(target)));
  CliRun verify = Pinion("manifest verify --json --trust " + File("signing.pub") + " " + target);
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

// ---- Item 11: IPv6 and --connect-to ------------------------------------------

TEST(ConnectToTest, EveryForm) {
  HostPort target{kHost, 8443};
  struct Case {
    std::string text;
    std::string host;
    std::uint16_t port;
  };
  for (const Case& c : std::vector<Case>{
           {"", kHost, 8443},
           {"127.0.0.1", "127.0.0.1", 8443},
           {"127.0.0.1:9000", "127.0.0.1", 9000},
           {"::1", "::1", 8443},
           {"[::1]", "::1", 8443},
           {"[::1]:9000", "::1", 9000},
           {"2001:db8::1", "2001:db8::1", 8443},
           {"backend.internal:9000", "backend.internal", 9000},
           {std::string(kHost) + ":8443:127.0.0.1:9000", "127.0.0.1", 9000},
           {"::127.0.0.1:", "127.0.0.1", 8443},
           {"::[::1]:9000", "::1", 9000},
           {std::string("API.Example.Test:8443:[2001:db8::2]:"), "2001:db8::2", 8443},
           {std::string(kHost) + ":::", kHost, 8443},
       }) {
    auto dial = ResolveConnectTo(c.text, target);
    ASSERT_TRUE(dial) << c.text << ": " << dial.error().ToString();
    EXPECT_EQ(dial->host, c.host) << c.text;
    EXPECT_EQ(dial->port, c.port) << c.text;
  }
  for (const std::string& bad : std::vector<std::string>{"127.0.0.1:0", "127.0.0.1:99999", "[::1", "[::1]x", "a:b:c",
                                 "other.test:8443:127.0.0.1:9000",  // for another host
                                 std::string(kHost) + ":443:127.0.0.1:9000",  // for another port
                                 ":", "::x:y",
                                 // brackets are for IPv6 addresses only (red team, informational)
                                 "[127.0.0.1]:9000", "[" + std::string(kHost) + "]:8443:127.0.0.1:9000"}) {
    auto dial = ResolveConnectTo(bad, target);
    ASSERT_FALSE(dial) << bad << " → " << dial->host << ":" << dial->port;
    EXPECT_EQ(dial.error().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(dial.error().field(), "--connect-to") << bad;
  }
}

TEST(HostPortTest, BracketsAreNotPartOfTheHost) {
  auto v6 = ParseHostPort("[::1]:8446");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8446);
  EXPECT_EQ(FormatHostPort(v6->host, v6->port), "[::1]:8446");
  EXPECT_EQ(ParseHostPort("::1")->host, "::1");
  EXPECT_EQ(ParseHostPort("[2001:db8::1]")->port, 443);
  EXPECT_FALSE(ParseHostPort("[::1]:"));
  EXPECT_FALSE(ParseHostPort("[]:443"));
  EXPECT_FALSE(ParseHostPort("[api.example.test]:443"));
  EXPECT_FALSE(ParseHostPort("[127.0.0.1]"));
}

TEST_F(CliContractTest, Ipv6TargetsAndConnectTo) {
  testing::Key key = testing::Key::Generate();
  testing::Cert leaf = testing::Issue({.common_name = kHost, .dns_names = {kHost}, .ip_addresses = {"::1"}}, key,
                                      &pki_->intermediate, pki_->intermediate_key);
  auto server = Ipv6TlsServer::Start(leaf.Pem() + pki_->intermediate.Pem(), key.PrivatePem());
  if (server == nullptr) GTEST_SKIP() << "this machine has no ::1";
  std::string port = std::to_string(server->port());
  TempDir dir;
  std::string policy = dir.Write("v6.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"::1\"\npins = [\n  { pin = \"" +
                                                 key.SpkiPin().ToString() + "\" },\n  { pin = \"" +
                                                 pki_->backup_key.SpkiPin().ToString() + "\" },\n]\n")
                           .string();
  std::string by_name = dir.Write("name.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"" + std::string(kHost) +
                                                   "\"\npins = [\n  { pin = \"" + key.SpkiPin().ToString() +
                                                   "\" },\n  { pin = \"" + pki_->backup_key.SpkiPin().ToString() +
                                                   "\" },\n]\n")
                            .string();
  std::string trust = " --ca-file " + File("root.pem");

  CliRun fetch = Pinion("fetch '[::1]:" + port + "' --json" + trust);
  EXPECT_EQ(fetch.exit_code, 0) << fetch.out << fetch.err;
  ASSERT_TRUE(fetch.Json()) << fetch.out;
  EXPECT_EQ((*fetch.Json())["host"], "::1");
  EXPECT_EQ((*fetch.Json())["validated"], true);
  CliRun human = Pinion("fetch '[::1]:" + port + "'" + trust);
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("[::1]:" + port), std::string::npos) << human.out;

  CliRun check = Pinion("check '[::1]:" + port + "' --json --policy " + policy + trust);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  ASSERT_TRUE(check.Json());
  EXPECT_EQ((*check.Json())["verdict"]["reason"], "matched");

  // The name drives SNI, verification and pins; --connect-to only says where to dial.
  for (const std::string& connect_to : {std::string("'[::1]'"), std::string("::1"), "'[::1]:" + port + "'",
                                        std::string(kHost) + ":443:[::1]:" + port, "::[::1]:" + port}) {
    std::string target = connect_to.find(port) != std::string::npos ? std::string(kHost) : kHost + (":" + port);
    CliRun run = Pinion("check " + target + " --connect-to " + connect_to + " --json --policy " + by_name + trust);
    EXPECT_EQ(run.exit_code, 0) << connect_to << "\n" << run.out << run.err;
    ASSERT_TRUE(run.Json()) << connect_to;
    EXPECT_EQ((*run.Json())["verdict"]["reason"], "matched") << connect_to;
    EXPECT_EQ((*run.Json())["host"], kHost) << connect_to;
  }
  // curl's form for another host is a mistake, not a silent direct connection.
  CliRun other = Pinion("check " + std::string(kHost) + " --connect-to other.test:443:[::1]:" + port +
                        " --json --policy " + by_name + trust);
  EXPECT_EQ(other.exit_code, kExitUsage) << other.out;
  ASSERT_TRUE(other.Json());
  EXPECT_EQ((*other.Json())["error"]["field"], "--connect-to");
  EXPECT_GE(server->handshakes(), 7);
}

TEST_F(CliContractTest, Ipv4ConnectToWithPortAndIpTargetsVerifyIpSans) {
  CliRun run = Pinion("check " + std::string(kHost) + " --connect-to 127.0.0.1:" + Port(legit_) +
                      " --policy " + File("policy.toml") + " --ca-file " + File("trust.pem"));
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  // An IP target is verified against IP SANs: the leaf names only kHost.
  CliRun ip = Pinion("fetch 127.0.0.1:" + Port(legit_) + " --json --ca-file " + File("trust.pem"));
  EXPECT_EQ(ip.exit_code, kExitTlsFailure) << ip.out;
  ASSERT_TRUE(ip.Json()) << ip.out;
  EXPECT_EQ((*ip.Json())["error"]["reason"], "name_mismatch");
  EXPECT_EQ((*ip.Json())["error"]["code"], "hostname_mismatch");
}

// ---- Item 12: options never swallow positionals ------------------------------

// Walks every command and subcommand: each named option that takes values
// takes exactly one per occurrence, proved by parsing `OPTION v1 v2`.
TEST(OptionTableTest, EveryOptionTakesOneValuePerFlag) {
  std::vector<std::vector<std::string>> paths;
  {
    CLI::App app{"pinion", "pinion"};
    CommandRunner chosen;
    BuildCli(app, chosen);
    std::function<void(CLI::App&, std::vector<std::string>)> walk = [&](CLI::App& sub, std::vector<std::string> path) {
      if (!path.empty()) paths.push_back(path);
      for (CLI::App* child : sub.get_subcommands([](CLI::App*) { return true; })) {
        std::vector<std::string> next = path;
        next.push_back(child->get_name());
        walk(*child, next);
      }
    };
    walk(app, {});
  }
  int checked = 0;
  for (const auto& path : paths) {
    std::vector<std::string> names;
    {
      CLI::App app{"pinion", "pinion"};
      CommandRunner chosen;
      BuildCli(app, chosen);
      CLI::App* sub = &app;
      for (const std::string& name : path) sub = sub->get_subcommand(name);
      for (CLI::Option* option : sub->get_options()) {
        if (!option->nonpositional() || option->get_expected_max() == 0) continue;  // positionals, flags
        EXPECT_FALSE(option->get_allow_extra_args()) << path.back() << " " << option->get_name();
        names.push_back(option->get_name(false, true).substr(0, option->get_name(false, true).find(',')));
      }
    }
    for (const std::string& name : names) {
      CLI::App app{"pinion", "pinion"};
      CommandRunner chosen;
      BuildCli(app, chosen);
      std::vector<std::string> args = path;
      args.insert(args.end(), {name, "first", "second"});
      std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses a reversed vector
      try {
        app.parse(reversed);
      } catch (const CLI::ParseError&) {
        // Missing required options, failed checks, extras: beside the point here.
      }
      CLI::App* sub = &app;
      for (const std::string& part : path) sub = sub->get_subcommand(part);
      EXPECT_LE(sub->get_option(name)->count(), 1u) << "pinion " << ::testing::PrintToString(path) << " " << name
                                                    << " took more than one value";
      ++checked;
    }
  }
  EXPECT_GT(checked, 30);
}

TEST_F(CliContractTest, RepeatableOptionsLeaveThePositionalAlone) {
  // The issue's example: --keys must not swallow the policy.
  CliRun lint = Pinion("lint --keys " + File("leaf.pem") + " " + File("policy.toml") + " --strict");
  EXPECT_EQ(lint.err.find("required"), std::string::npos) << lint.err;
  EXPECT_NE(lint.exit_code, kExitUsage) << lint.err;
  CliRun inventory = Pinion("inventory --keys " + File("leaf.pem") + " " + File("policy.toml"));
  EXPECT_EQ(inventory.exit_code, 0) << inventory.err;
  CliRun sign = Pinion("manifest sign --key " + File("signing.key") + " " + File("policy.toml") + " --key " +
                       File("signing.key"));
  EXPECT_NE(sign.exit_code, kExitUsage) << sign.err;
}

// ---- Item 13: --json errors and the same exit code for the same mistake -----

struct Mistake {
  std::string name;
  int exit_code;
  std::string error_code;  // empty: any
  std::vector<std::string> command_lines;
};

// CategoryNameOf: the category name of the error code named `code_name`.
std::string CategoryNameOf(const std::string& code_name) {
  for (int i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    if (ErrorCodeName(code) == code_name) return std::string(ErrorCategoryName(CategoryOf(code)));
  }
  return "no code named " + code_name;
}

TEST_F(CliContractTest, JsonErrorsAndOneExitCodePerMistake) {
  std::string missing = File("does-not-exist.toml");
  std::string policy = File("policy.toml");
  std::string target = std::string(kHost) + ":" + Port(legit_);
  const std::vector<Mistake> mistakes = {
      {"missing input file", kExitUsage, "io",
       {"pin " + missing, "fetch " + target + " --ca-file " + missing, "check " + target + " --policy " + missing,
        "lint " + missing, "export --to curl " + missing, "import --from okhttp " + missing,
        "rotate plan --policy " + missing + " --host " + kHost + " --next-key " + File("leaf.pem"),
        "rotate check --chain " + missing + " " + policy, "inventory " + missing,
        "manifest sign --key " + File("signing.key") + " " + missing, "manifest verify --trust " + missing + " " + policy,
        "manifest show " + missing, "serve --config " + missing}},
      {"bad host syntax", kExitUsage, "host_syntax",
       {"fetch 'bad host!'", "check 'bad host!' --policy " + policy, "fetch 'bad host!:443'",
        "lint " + policy + " --live 'bad host!'"}},
      {"unknown option", kExitUsage, "invalid_argument",
       {"pin --no-such-option " + File("leaf.pem"), "fetch --no-such-option " + target,
        "check --no-such-option " + target + " --policy " + policy, "lint --no-such-option " + policy,
        "export --no-such-option --to curl " + policy, "import --no-such-option --from okhttp " + policy,
        "rotate plan --no-such-option", "inventory --no-such-option " + policy,
        "manifest sign --no-such-option", "manifest verify --no-such-option", "serve --no-such-option"}},
      {"refused connection", kExitTlsFailure, "network",
       {"fetch " + std::string(kHost) + ":" + std::to_string(ClosedPort()) + " --connect-to 127.0.0.1",
        "check " + std::string(kHost) + ":" + std::to_string(ClosedPort()) + " --connect-to 127.0.0.1 --policy " +
            policy}},
  };
  for (const Mistake& mistake : mistakes) {
    for (const std::string& line : mistake.command_lines) {
      CliRun run = Pinion(line + " --json");
      EXPECT_EQ(run.exit_code, mistake.exit_code) << mistake.name << ": pinion " << line << "\n" << run.out << run.err;
      auto json = run.Json();
      if (!json) {
        ADD_FAILURE() << mistake.name << ": pinion " << line << " printed no JSON:\n" << run.out;
        continue;
      }
      if (!json->contains("error") || !(*json)["error"].is_object()) {
        ADD_FAILURE() << mistake.name << ": pinion " << line << " printed no error object\n" << run.out;
        continue;
      }
      const nlohmann::json& error = (*json)["error"];
      EXPECT_TRUE(error["code"].is_string() && error["message"].is_string()) << line << "\n" << run.out;
      if (!mistake.error_code.empty()) {
        EXPECT_EQ(error["code"], mistake.error_code) << line << "\n" << run.out;
        EXPECT_EQ(error["category"], CategoryNameOf(mistake.error_code)) << line << "\n" << run.out;
      }
      EXPECT_EQ(error.value("exit_code", -1), mistake.exit_code) << line << "\n" << run.out;
    }
  }
}

TEST_F(CliContractTest, EveryResultPrintingCommandHasJson) {
  for (std::string command : {"pin", "fetch", "check", "lint", "export", "import", "rotate plan", "rotate check",
                                     "inventory", "manifest keygen", "manifest sign", "manifest verify",
                                     "manifest show", "serve"}) {
    CliRun help = Pinion(command + " --help");
    EXPECT_NE(help.out.find("--json"), std::string::npos) << command;
  }
  CliRun inventory = Pinion("inventory --json --keys " + File("leaf.pem") + " " + File("policy.toml"));
  ASSERT_EQ(inventory.exit_code, 0) << inventory.err;
  ASSERT_TRUE(inventory.Json()) << inventory.out;
  nlohmann::json inventory_json = *inventory.Json();
  const nlohmann::json& domain = inventory_json["domains"][0];
  EXPECT_EQ(domain["host"], kHost);
  EXPECT_EQ(domain["pins"][0]["label"], "leaf");
  EXPECT_EQ(domain["pins"][0]["key"]["origin"].get<std::string>().rfind(File("leaf.pem"), 0), 0u) << domain.dump();
  EXPECT_TRUE(domain["pins"][1]["key"].is_null());
  EXPECT_NE(inventory_json["document"].get<std::string>().find(kHost), std::string::npos);

  CliRun sign = Pinion("manifest sign --json --key " + File("signing.key") + " " + File("policy.toml"));
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  ASSERT_TRUE(sign.Json()) << sign.out;
  TempDir out;
  std::string manifest = out.Write("m.json", (*sign.Json())["manifest"].dump()).string();
  EXPECT_EQ(Pinion("manifest verify --trust " + File("signing.pub") + " " + manifest).exit_code, 0);
}

// ---- Item 14: network errors explained as such --------------------------------

TEST_F(CliContractTest, RefusedConnectionIsANetworkErrorNotAValidationFailure) {
  std::string target = std::string(kHost) + ":" + std::to_string(ClosedPort()) + " --connect-to 127.0.0.1";
  for (const std::string& command : {"check " + target + " --policy " + File("policy.toml"), "fetch " + target}) {
    CliRun human = Pinion(command);
    EXPECT_EQ(human.exit_code, kExitTlsFailure) << command;
    std::string all = human.out + human.err;
    EXPECT_NE(all.find("connection refused"), std::string::npos) << all;
    EXPECT_NE(all.find("Nothing accepts connections"), std::string::npos) << all;
    EXPECT_EQ(all.find("validation"), std::string::npos) << all;
    CliRun json = Pinion(command + " --json");
    ASSERT_TRUE(json.Json()) << json.out;
    EXPECT_EQ((*json.Json())["error"]["reason"], "connection_refused");
    EXPECT_EQ((*json.Json())["error"]["code"], "network");
  }
}

TEST_F(CliContractTest, SilentServerIsATimeout) {
  SilentListener silent;
  std::string target = std::string(kHost) + ":" + std::to_string(silent.port()) + " --connect-to 127.0.0.1 --timeout 0.5";
  for (const std::string& command : {"check " + target + " --policy " + File("policy.toml"), "fetch " + target}) {
    auto start = std::chrono::steady_clock::now();
    CliRun json = Pinion(command + " --json");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << command;
    EXPECT_EQ(json.exit_code, kExitTlsFailure) << json.out;
    ASSERT_TRUE(json.Json()) << json.out;
    EXPECT_EQ((*json.Json())["error"]["reason"], "timeout") << json.out;
    EXPECT_EQ((*json.Json())["error"]["code"], "network") << json.out;
    CliRun human = Pinion(command);
    std::string all = human.out + human.err;
    EXPECT_NE(all.find("no TLS answer within 0.5 s"), std::string::npos) << all;
    EXPECT_NE(all.find("--timeout"), std::string::npos) << all;
  }
}

TEST_F(CliContractTest, LeafOnlyServerIsAMissingIntermediate) {
  std::string target = std::string(kHost) + ":" + Port(leaf_only_) + " --connect-to 127.0.0.1 --ca-file " + File("root.pem");
  for (const std::string& command : {"check " + target + " --policy " + File("policy.toml"), "fetch " + target}) {
    CliRun json = Pinion(command + " --json");
    EXPECT_EQ(json.exit_code, kExitTlsFailure) << json.out;
    ASSERT_TRUE(json.Json()) << json.out;
    EXPECT_EQ((*json.Json())["error"]["reason"], "missing_intermediate") << json.out;
    EXPECT_EQ((*json.Json())["error"]["code"], "chain_validation") << json.out;
    CliRun human = Pinion(command);
    EXPECT_NE((human.out + human.err).find("without the intermediate"), std::string::npos) << human.out;
  }
  // The full chain from the same key validates: it was the missing intermediate.
  CliRun full = Pinion("fetch " + std::string(kHost) + ":" + Port(legit_) + " --connect-to 127.0.0.1 --ca-file " +
                       File("root.pem"));
  EXPECT_EQ(full.exit_code, 0) << full.out;
}

// ---- Item 16: check --report-to feeds a real collector ------------------------

// Collector runs `pinion serve` on 127.0.0.1 (optionally HTTPS) as a child process.
class Collector {
 public:
  Collector(const TempDir& dir, const std::string& tls_args) {
    std::string port_file = (dir.path() / "collector.port").string();
    std::string command = std::string(PINION_BINARY) + " serve --listen 127.0.0.1 --port 0 --db " +
                          (dir.path() / "reports.db").string() + " --port-file " + port_file + " " + tls_args;
    pid_ = fork();
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", ("exec " + command + " > /dev/null 2>&1").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::string text = Slurp(port_file);
      if (!text.empty()) port_ = static_cast<std::uint16_t>(std::stoi(text));
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Collector() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

TEST_F(CliContractTest, ReportToDeliversTheLibrarysReportToACollector) {
  TempDir dir;
  testing::Key key = testing::Key::Generate();
  testing::Cert cert = testing::Issue({.common_name = "collector", .ip_addresses = {"127.0.0.1"}}, key,
                                      &pki_->intermediate, pki_->intermediate_key);
  std::string chain = dir.Write("collector.pem", cert.Pem() + pki_->intermediate.Pem()).string();
  std::string cert_key = dir.Write("collector.key", key.PrivatePem()).string();
  Collector collector(dir, "--tls-cert " + chain + " --tls-key " + cert_key);
  ASSERT_NE(collector.port(), 0) << "pinion serve did not start";
  std::string base = "https://127.0.0.1:" + std::to_string(collector.port());
  std::string reports = base + "/v1/reports";
  auto stored = [&] {
    auto listed = testing::RunCommand("curl -sS --cacert " + File("root.pem") + " " + reports);
    auto parsed = nlohmann::json::parse(listed.output, nullptr, false);
    return parsed.is_discarded() ? nlohmann::json() : parsed;
  };
  std::string check = "check " + std::string(kHost) + ":%PORT% --connect-to 127.0.0.1 --policy " + File("policy.toml") +
                      " --ca-file " + File("trust.pem") + " --report-to " + reports + " --report-ca-file " +
                      File("root.pem") + " --json";
  auto with_port = [&](const LoopbackTlsServer* server) {
    std::string line = check;
    line.replace(line.find("%PORT%"), 6, Port(server));
    return line;
  };

  // A matching chain sends nothing.
  CliRun genuine = Pinion(with_port(legit_));
  EXPECT_EQ(genuine.exit_code, 0) << genuine.out << genuine.err;
  ASSERT_TRUE(genuine.Json()) << genuine.out;
  EXPECT_EQ((*genuine.Json())["report"]["sent"], false);
  EXPECT_EQ((*genuine.Json())["report"]["outcome"], "not-reportable");
  nlohmann::json before = stored();
  ASSERT_TRUE(before.contains("reports")) << before.dump();
  EXPECT_TRUE(before["reports"].empty()) << before.dump();

  // A rogue chain: the pin failure is reported, and the collector has it.
  CliRun rogue = Pinion(with_port(rogue_));
  EXPECT_EQ(rogue.exit_code, kExitPinFailure) << rogue.out << rogue.err;
  ASSERT_TRUE(rogue.Json()) << rogue.out;
  EXPECT_EQ((*rogue.Json())["report"]["sent"], true) << rogue.out;
  EXPECT_EQ((*rogue.Json())["report"]["delivered"], true) << rogue.out;
  nlohmann::json after = stored();
  ASSERT_EQ(after["reports"].size(), 1u) << after.dump();
  const nlohmann::json& listed = after["reports"][0];
  std::string id = std::to_string(listed["id"].get<long long>());
  auto body = testing::RunCommand("curl -sS --cacert " + File("root.pem") + " " + reports + "/" + id);
  auto report = nlohmann::json::parse(body.output, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << body.output;
  EXPECT_EQ(report["hostname"], kHost);
  EXPECT_EQ(report["noted-hostname"], kHost);
  EXPECT_EQ(report["pinion"]["reason"], "mismatch") << report.dump(2);
  EXPECT_EQ(report["known-pins"].size(), 2u);

  // No collector: the report could not be delivered, which the exit code and JSON say.
  std::string nowhere = with_port(rogue_);
  nowhere.replace(nowhere.find(reports), reports.size(), "https://127.0.0.1:" + std::to_string(ClosedPort()) + "/v1/reports");
  CliRun undelivered = Pinion(nowhere);
  EXPECT_EQ(undelivered.exit_code, kExitPinFailure) << undelivered.out;
  ASSERT_TRUE(undelivered.Json());
  EXPECT_EQ((*undelivered.Json())["report"]["delivered"], false);
}

}  // namespace
}  // namespace pinion::cli
