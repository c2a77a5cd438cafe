// Drives the real `pinion` binary against loopback TLS servers.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>

#include "pinion/pin_source.h"
#include "cli_runner.h"
#include "test_pki.h"
#include "tls_server.h"

namespace pinion::cli {
namespace {

using testing::Key;
using testing::LoopbackTlsServer;
using testing::TempDir;
using testing::TestPki;

constexpr char kHost[] = "api.example.test";

// ImpostorKeyPem: a P-256 private key whose public half is `genuine`'s but
// whose private scalar is `other`'s. OpenSSL's cert/key check compares only
// public keys, so a server loads it with the genuine chain and then signs its
// CertificateVerify with a key it does not match: a replay of the real chain
// by someone without its private key.
std::string ImpostorKeyPem(const Key& genuine, const Key& other) {
  unsigned char pub[256];
  std::size_t pub_length = 0;
  BIGNUM* priv_raw = nullptr;
  EXPECT_EQ(EVP_PKEY_get_octet_string_param(genuine.pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &pub_length), 1);
  EXPECT_EQ(EVP_PKEY_get_bn_param(other.pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY, &priv_raw), 1);
  openssl::UniquePtr<BIGNUM> priv(priv_raw);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> build(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
  OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, pub_length);
  OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get());
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(build.get()), OSSL_PARAM_free);
  openssl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key_raw = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx.get(), &key_raw, EVP_PKEY_KEYPAIR, params.get()), 1);
  openssl::UniquePtr<EVP_PKEY> key(key_raw);
  openssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Create(kHost));
    dir_ = new TempDir();
    dir_->Write("trust.pem", pki_->root.Pem() + pki_->rogue_root.Pem());
    dir_->Write("leaf.pem", pki_->leaf.Pem());
    dir_->Write("backup.key", pki_->backup_key.PrivatePem());
    dir_->Write("chain.pem", pki_->LeafChainPem());
    dir_->Write("rogue-chain.pem", pki_->RogueChainPem());
    dir_->Write("policy.toml", "[policy]\nversion = 4\n[[domain]]\nhost = \"" + std::string(kHost) +
                                   "\"\npins = [\n  { pin = \"" + pki_->leaf_key.SpkiPin().ToString() +
                                   "\", label = \"leaf\" },\n  { pin = \"" + pki_->backup_key.SpkiPin().ToString() +
                                   "\", label = \"backup\" },\n]\n");
    legit_ = new LoopbackTlsServer({.chain_pem = pki_->LeafChainPem(), .key_pem = pki_->leaf_key.PrivatePem()});
    rogue_ = new LoopbackTlsServer({.chain_pem = pki_->RogueChainPem(), .key_pem = pki_->rogue_leaf_key.PrivatePem()});
  }
  static void TearDownTestSuite() {
    delete legit_;
    delete rogue_;
    delete dir_;
    delete pki_;
  }
  static std::string File(const std::string& name) { return (dir_->path() / name).string(); }
  static std::string Target(const LoopbackTlsServer* server) {
    return std::string(kHost) + ":" + std::to_string(server->port()) + " --connect-to 127.0.0.1";
  }
  static std::string Check(const LoopbackTlsServer* server, const std::string& extra = "") {
    return "check " + Target(server) + " --policy " + File("policy.toml") + " --ca-file " + File("trust.pem") + " " + extra;
  }

  static TestPki* pki_;
  static TempDir* dir_;
  static LoopbackTlsServer* legit_;
  static LoopbackTlsServer* rogue_;
};
TestPki* CliTest::pki_ = nullptr;
TempDir* CliTest::dir_ = nullptr;
LoopbackTlsServer* CliTest::legit_ = nullptr;
LoopbackTlsServer* CliTest::rogue_ = nullptr;

TEST_F(CliTest, HelpOnEveryCommand) {
  for (std::string command : {"", "pin ", "fetch ", "check ", "lint ", "export ", "import ", "rotate ", "rotate plan ", "rotate check ", "inventory ",
                              "manifest ", "manifest keygen ", "manifest sign ", "manifest verify ", "manifest show ", "serve "}) {
    CliRun run = Pinion(command + "--help");
    EXPECT_EQ(run.exit_code, 0) << command;
    EXPECT_NE(run.out.find("Usage"), std::string::npos) << command;
  }
  EXPECT_EQ(Pinion("").exit_code, 2);
  EXPECT_EQ(Pinion("frobnicate").exit_code, 2);
  EXPECT_EQ(Pinion("--version").exit_code, 0);
}

// docs/CLI.md documents every option that --help offers (STYLE.md rule 18).
TEST_F(CliTest, EveryOptionIsDocumented) {
  auto doc = ReadFileBounded(std::string(PINION_SOURCE_DIR) + "/docs/CLI.md", 1 << 20);
  ASSERT_TRUE(doc.ok());
  std::string text(doc->begin(), doc->end());
  std::regex option(R"((--[a-z][a-z0-9-]+))");
  int checked = 0;
  for (std::string command : {"pin", "fetch", "check", "lint", "export", "import", "inventory", "rotate plan", "rotate check",
                              "manifest keygen", "manifest sign", "manifest verify", "manifest show", "serve"}) {
    EXPECT_NE(text.find("pinion " + command), std::string::npos) << command;
    CliRun help = Pinion(command + " --help");
    for (std::sregex_iterator it(help.out.begin(), help.out.end(), option), end; it != end; ++it) {
      std::string name = (*it)[1];
      if (name == "--help") continue;
      EXPECT_NE(text.find(name), std::string::npos) << command << " " << name << " is not in docs/CLI.md";
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

TEST_F(CliTest, PinFormats) {
  std::string leaf_pin = pki_->leaf_key.SpkiPin().ToString();
  std::string backup_pin = pki_->backup_key.SpkiPin().ToString();
  CliRun okhttp = Pinion("pin --format okhttp " + File("leaf.pem") + " " + File("backup.key"));
  ASSERT_EQ(okhttp.exit_code, 0) << okhttp.err;
  EXPECT_EQ(okhttp.out, leaf_pin + "\n" + backup_pin + "\n");
  CliRun base64 = Pinion("pin --format base64 " + File("leaf.pem"));
  EXPECT_EQ(base64.out, pki_->leaf_key.SpkiPin().Base64() + "\n");
  CliRun curl = Pinion("pin --format curl " + File("leaf.pem") + " " + File("backup.key"));
  EXPECT_EQ(curl.out, "sha256//" + pki_->leaf_key.SpkiPin().Base64() + ";sha256//" +
                          pki_->backup_key.SpkiPin().Base64() + "\n");
  CliRun hpkp = Pinion("pin --format hpkp " + File("leaf.pem"));
  EXPECT_EQ(hpkp.out, "pin-sha256=\"" + pki_->leaf_key.SpkiPin().Base64() + "\"\n");
  CliRun hex = Pinion("pin --format hex " + File("leaf.pem"));
  EXPECT_TRUE(hex.out.starts_with(pki_->leaf.CertificatePin().Hex(':'))) << hex.out;
  CliRun json = Pinion("pin --json " + File("chain.pem"));
  auto parsed = nlohmann::json::parse(json.out);
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["spki_pin"], leaf_pin);
  EXPECT_EQ(parsed[0]["kind"], "certificate");
  EXPECT_EQ(parsed[1]["spki_pin"], pki_->intermediate.SpkiPin().ToString());
  EXPECT_EQ(parsed[0]["certificate_pin"], pki_->leaf.CertificatePin().ToString());
  CliRun text = Pinion("pin " + File("leaf.pem"));
  EXPECT_NE(text.out.find(leaf_pin), std::string::npos);
  EXPECT_EQ(text.out.find("\033["), std::string::npos);  // no colour when not a terminal
  CliRun sha384 = Pinion("pin --format okhttp --algorithm sha384 " + File("leaf.pem"));
  EXPECT_TRUE(sha384.out.starts_with("sha384/")) << sha384.out;
  CliRun from_stdin = Pinion("pin --format okhttp -", {.stdin_from = File("leaf.pem")});
  EXPECT_EQ(from_stdin.out, leaf_pin + "\n");
}

TEST_F(CliTest, PinErrorsNameTheInput) {
  CliRun missing = Pinion("pin /nonexistent/cert.pem");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("/nonexistent/cert.pem"), std::string::npos) << missing.err;
  dir_->Write("garbage.pem", "not a certificate\n");
  CliRun garbage = Pinion("pin " + File("garbage.pem"));
  EXPECT_EQ(garbage.exit_code, 2);
  EXPECT_NE(garbage.err.find("garbage.pem"), std::string::npos);
  EXPECT_NE(garbage.err.find("no_pin_source"), std::string::npos);
  EXPECT_EQ(Pinion("pin --format bogus " + File("leaf.pem")).exit_code, 2);
}

TEST_F(CliTest, FetchShowsServedAndValidatedChains) {
  CliRun run = Pinion("fetch --json " + Target(legit_) + " --ca-file " + File("trust.pem"));
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  auto json = nlohmann::json::parse(run.out);
  EXPECT_TRUE(json["validated"].get<bool>());
  EXPECT_EQ(json["served_chain"].size(), 2u);
  ASSERT_EQ(json["validated_chain"].size(), 3u);
  EXPECT_EQ(json["validated_chain"][2]["spki_sha256"], pki_->root.SpkiPin().ToString());
  EXPECT_EQ(json["served_chain"][0]["spki_sha256"], pki_->leaf_key.SpkiPin().ToString());

  // Not trusted: the served chain is still shown, exit 3.
  dir_->Write("other-root.pem", pki_->rogue_root.Pem());
  CliRun untrusted = Pinion("fetch --json " + Target(legit_) + " --ca-file " + File("other-root.pem"));
  EXPECT_EQ(untrusted.exit_code, 3);
  auto bad = nlohmann::json::parse(untrusted.out);
  EXPECT_FALSE(bad["validated"].get<bool>());
  EXPECT_EQ(bad["served_chain"].size(), 2u);
  EXPECT_EQ(bad["validated_chain"].size(), 0u);
}

TEST_F(CliTest, CheckExitCodes) {
  CliRun accepted = Pinion(Check(legit_));
  EXPECT_EQ(accepted.exit_code, 0) << accepted.out << accepted.err;
  EXPECT_NE(accepted.out.find("ACCEPTED"), std::string::npos);

  CliRun rejected = Pinion(Check(rogue_));
  EXPECT_EQ(rejected.exit_code, 1) << rejected.out << rejected.err;
  EXPECT_NE(rejected.out.find("REJECTED"), std::string::npos);
  EXPECT_NE(rejected.out.find(pki_->rogue_leaf.SpkiPin().ToString()), std::string::npos);
  EXPECT_NE(rejected.out.find("backup"), std::string::npos);

  CliRun json = Pinion(Check(rogue_, "--json"));
  auto parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed["outcome"], "pin_failure");
  EXPECT_EQ(parsed["verdict"]["reason"], "mismatch");
  EXPECT_EQ(parsed["verdict"]["policy_version"], 4);
  EXPECT_EQ(parsed["verdict"]["expected_pins"].size(), 2u);
  EXPECT_EQ(parsed["verdict"]["validated_chain_pins"].size(), 3u);
  EXPECT_EQ(parsed["verdict"]["served_chain"].size(), 2u);

  // Unpinned host: accepted (0) after normal validation.
  dir_->Write("other.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"elsewhere.example.test\"\npins = [{pin = \"" +
                                pki_->leaf_key.SpkiPin().ToString() + "\"}]\n");
  CliRun unpinned = Pinion("check " + Target(rogue_) + " --policy " + File("other.toml") + " --ca-file " + File("trust.pem") + " --json");
  EXPECT_EQ(unpinned.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(unpinned.out)["verdict"]["reason"], "not-pinned");

  // Wrong host name: TLS validation error (3), never a pin verdict.
  CliRun wrong_host = Pinion("check other.example.test:" + std::to_string(legit_->port()) +
                          " --connect-to 127.0.0.1 --policy " + File("policy.toml") + " --ca-file " + File("trust.pem") + " --json");
  EXPECT_EQ(wrong_host.exit_code, 3);
  auto wrong = nlohmann::json::parse(wrong_host.out);
  EXPECT_EQ(wrong["outcome"], "validation_error");
  EXPECT_EQ(wrong["error"]["code"], "hostname_mismatch");

  // Nothing listening: network error (3).
  CliRun closed = Pinion("check " + std::string(kHost) + ":1 --connect-to 127.0.0.1 --timeout 2 --policy " +
                      File("policy.toml") + " --json");
  EXPECT_EQ(closed.exit_code, 3);
  EXPECT_EQ(nlohmann::json::parse(closed.out)["outcome"], "network_error");
}

TEST_F(CliTest, AReplayedChainWithoutItsKeyIsAHandshakeFailureNotAccepted) {
  // The genuine, pinned chain, but the handshake is signed with another key:
  // the pins match (the verdict is "allow"), CertificateVerify does not.
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    SCOPED_TRACE(version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2");
    LoopbackTlsServer impostor({.chain_pem = pki_->LeafChainPem(),
                                .key_pem = ImpostorKeyPem(pki_->leaf_key, pki_->backup_key),
                                .min_version = version,
                                .max_version = version});
    CliRun text = Pinion(Check(&impostor));
    EXPECT_EQ(text.exit_code, 3) << text.out << text.err;
    EXPECT_EQ(text.out.find("ACCEPTED"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("handshake failed"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("matched"), std::string::npos) << text.out;  // the verdict, as information

    CliRun json = Pinion(Check(&impostor, "--json"));
    EXPECT_EQ(json.exit_code, 3) << json.out << json.err;
    auto parsed = nlohmann::json::parse(json.out);
    EXPECT_EQ(parsed["outcome"], "handshake_error");
    EXPECT_EQ(parsed["handshake"], "failed");
    EXPECT_EQ(parsed["exit_code"], 3);
    EXPECT_EQ(parsed["error"]["code"], "tls_handshake");
    EXPECT_EQ(parsed["verdict"]["reason"], "matched");

    CliRun fetched = Pinion("fetch --json " + Target(&impostor) + " --ca-file " + File("trust.pem"));
    EXPECT_EQ(fetched.exit_code, 3) << fetched.out << fetched.err;
    auto fetch_json = nlohmann::json::parse(fetched.out);
    EXPECT_EQ(fetch_json["handshake"], "failed");
    EXPECT_FALSE(fetch_json["validated"].get<bool>());
    EXPECT_EQ(fetch_json["served_chain"].size(), 2u);  // still shown
    CliRun fetched_text = Pinion("fetch " + Target(&impostor) + " --ca-file " + File("trust.pem"));
    EXPECT_EQ(fetched_text.exit_code, 3);
    EXPECT_NE(fetched_text.out.find("handshake failed"), std::string::npos) << fetched_text.out;
  }
  // The genuine server still completes its handshake.
  auto ok = nlohmann::json::parse(Pinion(Check(legit_, "--json")).out);
  EXPECT_EQ(ok["outcome"], "accepted");
  EXPECT_EQ(ok["handshake"], "completed");
  EXPECT_EQ(nlohmann::json::parse(Pinion("fetch --json " + Target(legit_) + " --ca-file " + File("trust.pem")).out)["handshake"],
            "completed");
}

TEST_F(CliTest, NonCanonicalIpv4TargetsAreUsageErrors) {
  for (const char* host : {"127.1", "0x7f.0.0.1", "2130706433", "127.0.0.1."}) {
    CliRun check = Pinion("check " + std::string(host) + ":" + std::to_string(legit_->port()) + " --policy " +
                          File("policy.toml") + " --ca-file " + File("trust.pem"));
    EXPECT_EQ(check.exit_code, 2) << host << check.out << check.err;
    EXPECT_NE(check.err.find("dotted-quad"), std::string::npos) << host << check.err;
    CliRun fetch = Pinion("fetch " + std::string(host) + ":" + std::to_string(legit_->port()) + " --ca-file " +
                          File("trust.pem"));
    EXPECT_EQ(fetch.exit_code, 2) << host << fetch.out << fetch.err;
  }
}

TEST_F(CliTest, CheckConfigErrorsExitTwoWithFileAndLine) {
  dir_->Write("broken.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"a.example.test\"\npins = [{pin = \"sha256/nope\"}]\n");
  CliRun run = Pinion(Check(legit_).replace(Check(legit_).find(File("policy.toml")), File("policy.toml").size(), File("broken.toml")));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("broken.toml:5:"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("domain[0].pins[0].pin"), std::string::npos) << run.err;
  EXPECT_EQ(Pinion("check " + std::string(kHost) + " --policy /nonexistent.toml").exit_code, 2);
  EXPECT_EQ(Pinion("check " + std::string(kHost) + ":99999 --policy " + File("policy.toml")).exit_code, 2);
  EXPECT_EQ(Pinion("check " + std::string(kHost) + " --at 2027-01-01 --policy " + File("policy.toml")).exit_code, 2);
}

TEST_F(CliTest, CheckChainOffline) {
  std::string base = "check " + std::string(kHost) + " --policy " + File("policy.toml") + " --ca-file " + File("trust.pem");
  CliRun good = Pinion(base + " --chain " + File("chain.pem"));
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  CliRun rogue = Pinion(base + " --chain " + File("rogue-chain.pem") + " --json");
  EXPECT_EQ(rogue.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(rogue.out)["mode"], "chain");
  // Two years on, the leaf has expired: validation fails (3), pins are not consulted.
  CliRun future = Pinion(base + " --chain " + File("chain.pem") + " --at 2099-01-01 --json");
  EXPECT_EQ(future.exit_code, 3);
  EXPECT_EQ(nlohmann::json::parse(future.out)["verdict"], nullptr);
  CliRun bad_time = Pinion(base + " --chain " + File("chain.pem") + " --at tomorrow");
  EXPECT_EQ(bad_time.exit_code, 2);
  EXPECT_EQ(Pinion(base + " --chain " + File("backup.key")).exit_code, 2);
}

TEST_F(CliTest, DebugProxyCaIsLoud) {
  dir_->Write("proxy-ca.pem", pki_->rogue_root.Pem());
  CliRun run = Pinion(Check(rogue_, "--debug-proxy-ca " + File("proxy-ca.pem") + " --json"));
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(run.out)["verdict"]["reason"], "debug-override");
  EXPECT_NE(run.err.find("WARNING"), std::string::npos);
  EXPECT_NE(run.err.find("BYPASSED"), std::string::npos);
}

TEST_F(CliTest, LintFindingsExitCodesAndFormats) {
  std::string leaf = pki_->leaf_key.SpkiPin().ToString(), backup = pki_->backup_key.SpkiPin().ToString();
  dir_->Write("good.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"api.example.test\"\nexpires = 2027-06-01\n"
                           "pins = [{pin = \"" + leaf + "\"}, {pin = \"" + backup + "\"}]\n");
  dir_->Write("single.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"api.example.test\"\nexpires = 2027-06-01\n"
                             "pins = [{pin = \"" + leaf + "\"}]\n");
  dir_->Write("noexpiry.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"api.example.test\"\n"
                               "pins = [{pin = \"" + leaf + "\"}, {pin = \"" + backup + "\"}]\n");
  CliRun good = Pinion("lint --at 2026-11-21 " + File("good.toml"));
  EXPECT_EQ(good.exit_code, 0) << good.out;
  EXPECT_NE(good.out.find("0 errors, 0 warnings"), std::string::npos);

  CliRun single = Pinion("lint --at 2026-11-21 --json " + File("single.toml"));
  EXPECT_EQ(single.exit_code, 1);
  auto json = nlohmann::json::parse(single.out);
  ASSERT_EQ(json["findings"].size(), 1u);
  EXPECT_EQ(json["findings"][0]["rule_id"], "PIN001");
  EXPECT_EQ(json["findings"][0]["line"], 3);
  EXPECT_EQ(json["summary"]["errors"], 1);

  // A warning passes unless --strict.
  EXPECT_EQ(Pinion("lint --at 2026-11-21 " + File("noexpiry.toml")).exit_code, 0);
  EXPECT_EQ(Pinion("lint --strict --at 2026-11-21 " + File("noexpiry.toml")).exit_code, 1);

  // --keys and --chain feed the key-aware rules.
  CliRun keys = Pinion("lint --json --at 2026-11-21 --keys " + File("trust.pem") + " " + File("good.toml"));
  auto key_findings = nlohmann::json::parse(keys.out)["findings"];
  ASSERT_EQ(key_findings.size(), 2u) << keys.out;
  EXPECT_EQ(key_findings[0]["rule_id"], "PIN012");
  dir_->Write("in-chain.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"api.example.test\"\nexpires = 2027-06-01\n"
                               "pins = [{pin = \"" + leaf + "\"}, {pin = \"" + pki_->intermediate.SpkiPin().ToString() + "\"}]\n");
  CliRun chain = Pinion("lint --json --at 2026-11-21 --chain " + File("chain.pem") + " " + File("in-chain.toml"));
  EXPECT_EQ(chain.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(chain.out)["findings"][0]["rule_id"], "PIN002");
  CliRun live = Pinion("lint --json --at 2026-11-21 --live " + std::string(kHost) + ":" + std::to_string(legit_->port()) +
                       " --connect-to 127.0.0.1 --ca-file " + File("trust.pem") + " " + File("in-chain.toml"));
  EXPECT_EQ(live.exit_code, 1) << live.err;
  EXPECT_EQ(nlohmann::json::parse(live.out)["findings"][0]["rule_id"], "PIN002");

  // SARIF 2.1.0: the shape code-scanning tools read.
  CliRun sarif = Pinion("lint --sarif --at 2026-11-21 " + File("single.toml"));
  auto log = nlohmann::json::parse(sarif.out);
  EXPECT_EQ(log["version"], "2.1.0");
  const auto& run = log["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "pinion");
  EXPECT_GE(run["tool"]["driver"]["rules"].size(), 14u);
  ASSERT_EQ(run["results"].size(), 1u);
  EXPECT_EQ(run["results"][0]["ruleId"], "PIN001");
  EXPECT_EQ(run["results"][0]["level"], "error");
  EXPECT_EQ(run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
  EXPECT_EQ(run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], File("single.toml"));

  // A policy that does not load is a PIN000 finding with its position; bad arguments exit 2.
  dir_->Write("broken2.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"a.example.test\"\npins = [{pin = \"md5/x\"}]\n");
  CliRun broken = Pinion("lint --json " + File("broken2.toml"));
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(broken.out)["findings"][0]["rule_id"], "PIN000");
  EXPECT_EQ(nlohmann::json::parse(broken.out)["findings"][0]["line"], 5);
  EXPECT_EQ(Pinion("lint --keys /nonexistent.pem " + File("good.toml")).exit_code, 2);
  EXPECT_EQ(Pinion("lint --at someday " + File("good.toml")).exit_code, 2);
}

TEST_F(CliTest, ExportWritesAtomicallyAndWarnsOnStderr) {
  std::string out = File("nsc.xml");
  dir_->Write("nsc.xml", "previous contents");
  CliRun run = Pinion("export --to android-nsc -o " + out + " " + File("policy.toml"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(run.out.empty());
  auto written = ReadFileBounded(out, 1 << 20);
  std::string xml(written->begin(), written->end());
  EXPECT_NE(xml.find("<pin digest=\"SHA-256\">" + pki_->leaf_key.SpkiPin().Base64() + "</pin>"), std::string::npos) << xml;
  EXPECT_EQ(run.err, "");  // everything in this policy maps to Android
  dir_->Write("wild.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"*.example.test\"\npins = [{pin = \"" +
                               pki_->leaf_key.SpkiPin().ToString() + "\"}]\n");
  // Lossy: refused unless accepted (cli_export_test.cc covers the contract).
  EXPECT_EQ(Pinion("export --to android-nsc " + File("wild.toml")).exit_code, 2);
  CliRun wild = Pinion("export --allow-lossy --to android-nsc " + File("wild.toml"));
  EXPECT_EQ(wild.exit_code, 0);
  EXPECT_NE(wild.err.find("lossy: *.example.test: Android has no one-label wildcard"), std::string::npos) << wild.err;
  EXPECT_NE(wild.out.find("includeSubdomains=\"true\""), std::string::npos);
  // A failing export leaves the previous file as it was and no temporary file behind.
  CliRun bad = Pinion("export --to curl -o " + out + " --host nowhere.example.test " + File("policy.toml"));
  EXPECT_EQ(bad.exit_code, 2);
  auto unchanged = ReadFileBounded(out, 1 << 20);
  EXPECT_EQ(std::string(unchanged->begin(), unchanged->end()), xml);
  for (const auto& entry : std::filesystem::directory_iterator(dir_->path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
  EXPECT_EQ(Pinion("export --to blackberry " + File("policy.toml")).exit_code, 2);
  EXPECT_EQ(Pinion("export --to curl /nonexistent.toml").exit_code, 2);
  CliRun json = Pinion("export --json --allow-lossy --to curl " + File("policy.toml"));  // pins without a role
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_NE(nlohmann::json::parse(json.out)["text"].get<std::string>().find("pinnedpubkey = \"sha256//"), std::string::npos);
}

// A rotation rehearsed end to end: plan the next version, issue a certificate
// for the next key, and see which versions in the field would lock users out.
TEST_F(CliTest, RotationPlanThenCheck) {
  Key next = Key::Generate();
  dir_->Write("next.key", next.PrivatePem());
  CliRun plan = Pinion("rotate plan --policy " + File("policy.toml") + " --host " + kHost + " --next-key " +
                       File("next.key") + " -o " + File("policy-v5.toml"));
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("Rotation checklist"), std::string::npos);
  EXPECT_NE(plan.out.find("pinion rotate check"), std::string::npos);
  auto v5 = ReadFileBounded(File("policy-v5.toml"), 1 << 20);
  std::string v5_text(v5->begin(), v5->end());
  EXPECT_NE(v5_text.find("version = 5"), std::string::npos);
  EXPECT_NE(v5_text.find(next.SpkiPin().ToString()), std::string::npos);
  EXPECT_NE(v5_text.find(pki_->leaf_key.SpkiPin().ToString()), std::string::npos);  // nothing removed

  testing::Cert new_leaf = pki_->IssueLeaf(kHost, next);
  dir_->Write("new-chain.pem", new_leaf.Pem() + pki_->intermediate.Pem());
  std::string check = "rotate check --json --ca-file " + File("trust.pem") + " --chain " + File("new-chain.pem") + " ";
  CliRun both = Pinion(check + File("policy.toml") + " " + File("policy-v5.toml"));
  EXPECT_EQ(both.exit_code, 1) << both.err;
  auto table = nlohmann::json::parse(both.out);
  EXPECT_EQ(table["host"], kHost);
  EXPECT_EQ(table["policies"][0]["outcome"], "locks_out");
  EXPECT_EQ(table["policies"][1]["outcome"], "accepts");
  EXPECT_EQ(table["lockouts"], 1);
  EXPECT_EQ(Pinion(check + File("policy-v5.toml")).exit_code, 0);
  // A chain that is not valid then is a validation error (3), whatever the pins.
  EXPECT_EQ(Pinion(check + "--at 2099-01-01 " + File("policy-v5.toml")).exit_code, 3);
  // Planning twice for the same key is refused: it is already pinned.
  EXPECT_EQ(Pinion("rotate plan --policy " + File("policy-v5.toml") + " --host " + kHost + " --next-key " + File("next.key")).exit_code, 2);
  EXPECT_EQ(Pinion("rotate plan --policy " + File("policy.toml") + " --host other.example.test --next-key " + File("next.key")).exit_code, 2);
}

TEST_F(CliTest, ImportAndInventory) {
  CliRun exported = Pinion("export --to android-nsc -o " + File("nsc2.xml") + " " + File("policy.toml"));
  ASSERT_EQ(exported.exit_code, 0);
  CliRun imported = Pinion("import --from android-nsc " + File("nsc2.xml") + " --policy-version 4 -o " + File("imported.toml"));
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  CliRun same = Pinion("check " + Target(legit_) + " --policy " + File("imported.toml") + " --ca-file " + File("trust.pem"));
  EXPECT_EQ(same.exit_code, 0) << same.out;
  EXPECT_EQ(Pinion("check " + Target(rogue_) + " --policy " + File("imported.toml") + " --ca-file " + File("trust.pem")).exit_code, 1);
  EXPECT_EQ(Pinion("import --from chromium " + File("nsc2.xml")).exit_code, 2);  // needs --pins
  EXPECT_EQ(Pinion("import --from android-nsc " + File("trust.pem")).exit_code, 2);

  CliRun markdown = Pinion("inventory --keys " + File("leaf.pem") + " --keys " + File("backup.key") + " " + File("policy.toml"));
  ASSERT_EQ(markdown.exit_code, 0) << markdown.err;
  EXPECT_NE(markdown.out.find("## api.example.test"), std::string::npos);
  EXPECT_NE(markdown.out.find("| `" + pki_->leaf_key.SpkiPin().ToString() + "` | leaf | any | certificate"), std::string::npos) << markdown.out;
  EXPECT_NE(markdown.out.find("private_key"), std::string::npos);
  EXPECT_NE(markdown.out.find("Next rotation: "), std::string::npos);
  EXPECT_NE(markdown.out.find("certificate expiry"), std::string::npos);
  CliRun html = Pinion("inventory --html " + File("policy.toml"));
  EXPECT_TRUE(html.out.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.out.find("<h2>api.example.test</h2>"), std::string::npos);
}

// docs/LINT.md documents every rule of the catalogue.
TEST_F(CliTest, EveryLintRuleIsDocumented) {
  auto doc = ReadFileBounded(std::string(PINION_SOURCE_DIR) + "/docs/LINT.md", 1 << 20);
  ASSERT_TRUE(doc.ok());
  std::string text(doc->begin(), doc->end());
  CliRun sarif = Pinion("lint --sarif " + File("policy.toml"));
  nlohmann::json log = nlohmann::json::parse(sarif.out);  // named: a range-for over a temporary's member dangles
  for (const auto& rule : log["runs"][0]["tool"]["driver"]["rules"]) {
    EXPECT_NE(text.find(rule["id"].get<std::string>()), std::string::npos) << rule["id"];
    EXPECT_NE(text.find(rule["name"].get<std::string>()), std::string::npos) << rule["name"];
  }
}

}  // namespace
// The signer's whole flow: keygen, sign (multi-key, kill switch), verify as a
// client would (exit 1 on refusal), show without verifying.
TEST_F(CliTest, ManifestKeygenSignVerifyShow) {
  TempDir dir;
  std::string prefix = (dir.path() / "signer").string();
  CliRun keygen = Pinion("manifest keygen --json --out " + prefix);
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  EXPECT_EQ(std::filesystem::status(prefix + ".key").permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  std::string keyid = nlohmann::json::parse(keygen.out)["keyid"];
  EXPECT_EQ(Pinion("manifest keygen --out " + prefix).exit_code, 2);  // never overwrites a key silently
  ASSERT_EQ(Pinion("manifest keygen --type p256 --out " + (dir.path() / "backup").string()).exit_code, 0);

  std::string manifest = (dir.path() / "m.json").string();
  CliRun sign = Pinion("manifest sign --key " + prefix + ".key --key " + (dir.path() / "backup.key").string() + " " +
                       File("policy.toml") + " -o " + manifest);
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  CliRun verify = Pinion("manifest verify --json --trust " + prefix + ".pub " + manifest);
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  auto verified = nlohmann::json::parse(verify.out);
  EXPECT_EQ(verified["accepted"], true);
  EXPECT_EQ(verified["keyid"], keyid);
  EXPECT_EQ(verified["manifest"]["version"], 4);
  EXPECT_EQ(Pinion("manifest verify --trust " + (dir.path() / "backup.pub").string() + " " + manifest).exit_code, 0);

  CliRun replay = Pinion("manifest verify --json --active-version 4 --trust " + prefix + ".pub " + manifest);
  EXPECT_EQ(replay.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(replay.out)["error"]["code"], "manifest_rollback");
  CliRun expired = Pinion("manifest verify --json --at 2099-01-01 --trust " + prefix + ".pub " + manifest);
  EXPECT_EQ(expired.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(expired.out)["error"]["code"], "manifest_expired");
  // A P-256 key that did not sign it: refused (exit 1), the signer's keyid notwithstanding.
  CliRun untrusted = Pinion("manifest verify --json --trust " + File("backup.key") + " " + manifest);
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(untrusted.out)["error"]["code"], "signature_invalid");
  EXPECT_EQ(Pinion("manifest verify --trust /nonexistent.pub " + manifest).exit_code, 2);

  CliRun kill = Pinion("manifest sign --key " + prefix + ".key " + File("policy.toml") +
                       " --issued-at 2026-11-21 --kill-switch disabled --until 2026-11-28 --kill-switch-host " + kHost);
  ASSERT_EQ(kill.exit_code, 0) << kill.err;
  dir.Write("kill.json", kill.out);
  CliRun show = Pinion("manifest show --json " + (dir.path() / "kill.json").string());
  ASSERT_EQ(show.exit_code, 0) << show.err;
  auto shown = nlohmann::json::parse(show.out);
  EXPECT_EQ(shown["verified"], false);
  EXPECT_EQ(shown["manifest"]["kill_switch"]["mode"], "disabled");
  EXPECT_EQ(shown["manifest"]["kill_switch"]["until"], "2026-11-28T00:00:00Z");
  CliRun too_long = Pinion("manifest sign --key " + prefix + ".key " + File("policy.toml") +
                           " --issued-at 2026-11-21 --kill-switch disabled --until 2027-01-01");
  EXPECT_EQ(too_long.exit_code, 2);
  EXPECT_NE(too_long.err.find("kill_switch_too_long"), std::string::npos);
  EXPECT_EQ(Pinion("manifest sign --key " + prefix + ".key " + File("policy.toml") + " --kill-switch disabled").exit_code, 2);
}

}  // namespace pinion::cli
