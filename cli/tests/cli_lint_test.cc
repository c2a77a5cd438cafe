// `pinion lint` and `pinion rotate plan` driven through the real binary:
// PIN002 on the validated chain, disabling rules, exit codes and JSON errors,
// and rotation plans that edit the policy text in place.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "pinion/clock.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "cli_runner.h"
#include "test_pki.h"
#include "tls_server.h"

namespace pinion::cli {
namespace {

using testing::Cert;
using testing::Key;
using testing::LoopbackTlsServer;
using testing::TempDir;
using testing::TestPki;

constexpr char kHost[] = "api.example.test";

std::vector<std::string> RuleIds(const nlohmann::json& list) {
  std::vector<std::string> ids;
  for (const auto& finding : list) ids.push_back(finding["rule_id"]);
  return ids;
}

class CliLintTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Create(kHost));
    dir_ = new TempDir();
    dir_->Write("root.pem", pki_->root.Pem());
    dir_->Write("rogue-root.pem", pki_->rogue_root.Pem());
    dir_->Write("chain.pem", pki_->LeafChainPem());
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete pki_;
  }
  static std::string File(const std::string& name) { return (dir_->path() / name).string(); }
  static std::string Policy(const std::vector<Pin>& pins, const std::string& extra = "") {
    std::string text = "[policy]\nversion = 1\n[[domain]]\nhost = \"" + std::string(kHost) + "\"\nexpires = 2027-06-01\n" + extra + "pins = [\n";
    for (const Pin& pin : pins) text += "  { pin = \"" + pin.ToString() + "\" },\n";
    return text + "]\n";
  }
  static nlohmann::json LintJson(const std::string& args, int expected_exit) {
    CliRun run = Pinion("lint --json --at 2026-12-01 " + args);
    EXPECT_EQ(run.exit_code, expected_exit) << run.out << run.err;
    auto json = nlohmann::json::parse(run.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << run.out;
    return json;
  }
  static TestPki* pki_;
  static TempDir* dir_;
};
TestPki* CliLintTest::pki_ = nullptr;
TempDir* CliLintTest::dir_ = nullptr;

// The server sends leaf + intermediate; validation ends at the root from the
// trust store. A root pin is therefore in use: {leaf, root} has no backup.
TEST_F(CliLintTest, Pin002CountsTheTrustAnchorOfTheValidatedChain) {
  dir_->Write("leaf-root.toml", Policy({pki_->leaf_key.SpkiPin(), pki_->root.SpkiPin()}));
  auto json = LintJson("--chain " + File("chain.pem") + " --ca-file " + File("root.pem") + " " + File("leaf-root.toml"), 1);
  EXPECT_EQ(RuleIds(json["findings"]), std::vector<std::string>{"PIN002"});
  EXPECT_NE(json["findings"][0]["message"].get<std::string>().find("validates to now"), std::string::npos);

  // The same with the root as the rule's own anchors (no --ca-file, no system trust needed).
  dir_->Write("anchored.toml", Policy({pki_->leaf_key.SpkiPin(), pki_->root.SpkiPin()}, "anchors = \"root.pem\"\n"));
  json = LintJson("--chain " + File("chain.pem") + " " + File("anchored.toml"), 1);
  EXPECT_EQ(RuleIds(json["findings"]), std::vector<std::string>{"PIN002"});

  // Read from a live server, too.
  LoopbackTlsServer server({.chain_pem = pki_->LeafChainPem(), .key_pem = pki_->leaf_key.PrivatePem()});
  json = LintJson("--live " + std::string(kHost) + ":" + std::to_string(server.port()) + " --connect-to 127.0.0.1 --ca-file " +
                      File("root.pem") + " " + File("leaf-root.toml"),
                  1);
  EXPECT_EQ(RuleIds(json["findings"]), std::vector<std::string>{"PIN002"});
}

// A server that sends a cross-signed copy of its root: where the client trusts
// the cross-signer, validation goes through it, and the cross-signer's pin is live.
TEST_F(CliLintTest, Pin002FollowsACrossSignedPath) {
  Cert cross = testing::Issue({.common_name = "pinion Test Root", .is_ca = true}, pki_->root_key, &pki_->rogue_root,
                              pki_->rogue_root_key);
  dir_->Write("cross-chain.pem", pki_->LeafChainPem() + cross.Pem());
  dir_->Write("leaf-cross-signer.toml", Policy({pki_->leaf_key.SpkiPin(), pki_->rogue_root.SpkiPin()}));
  auto json = LintJson("--chain " + File("cross-chain.pem") + " --ca-file " + File("rogue-root.pem") + " " +
                           File("leaf-cross-signer.toml"),
                       1);
  EXPECT_EQ(RuleIds(json["findings"]), std::vector<std::string>{"PIN002"});
}

// An extra certificate the server sends, which no validated path uses, is not in use.
TEST_F(CliLintTest, Pin002IgnoresServedCertificatesOutsideTheValidatedChain) {
  dir_->Write("extra-chain.pem", pki_->LeafChainPem() + pki_->rogue_intermediate.Pem());
  dir_->Write("leaf-extra.toml", Policy({pki_->leaf_key.SpkiPin(), pki_->rogue_intermediate_key.SpkiPin()}));
  auto json = LintJson("--chain " + File("extra-chain.pem") + " --ca-file " + File("root.pem") + " " + File("leaf-extra.toml"), 0);
  EXPECT_EQ(RuleIds(json["findings"]), std::vector<std::string>{});
}

TEST_F(CliLintTest, RulesCanBeDisabled) {
  dir_->Write("single.toml", Policy({pki_->leaf_key.SpkiPin()}));
  auto json = LintJson("--disable PIN001 " + File("single.toml"), 0);
  EXPECT_TRUE(json["findings"].empty());
  EXPECT_EQ(RuleIds(json["suppressed"]), std::vector<std::string>{"PIN001"});
  EXPECT_EQ(json["suppressed"][0]["suppressed_by"], "--disable");
  EXPECT_EQ(json["summary"]["suppressed"], 1);
  CliRun text = Pinion("lint --at 2026-12-01 --disable PIN001 " + File("single.toml"));
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("0 errors, 0 warnings, 0 notes, 1 suppressed"), std::string::npos) << text.out;
  CliRun sarif = Pinion("lint --sarif --at 2026-12-01 --disable PIN001 " + File("single.toml"));
  EXPECT_EQ(nlohmann::json::parse(sarif.out)["runs"][0]["results"][0]["suppressions"][0]["kind"], "external");

  // Unknown rule IDs are usage errors, as JSON under --json.
  CliRun unknown = Pinion("lint --json --disable PIN999 " + File("single.toml"));
  EXPECT_EQ(unknown.exit_code, 2);
  auto error = nlohmann::json::parse(unknown.out)["error"];
  EXPECT_EQ(error["field"], "--disable");
  EXPECT_EQ(error["exit_code"], 2);
  EXPECT_EQ(Pinion("lint --disable PIN000 " + File("single.toml")).exit_code, 2);

  // Per domain, in the policy.
  dir_->Write("suppressed.toml", Policy({pki_->leaf_key.SpkiPin()}, "lint_disable = [\"PIN001\"]\n"));
  json = LintJson(File("suppressed.toml"), 0);
  EXPECT_EQ(json["suppressed"][0]["suppressed_by"], "domain[0].lint_disable");
  dir_->Write("unknown-id.toml", Policy({pki_->leaf_key.SpkiPin(), pki_->backup_key.SpkiPin()}, "lint_disable = [\"PIN123\"]\n"));
  json = LintJson(File("unknown-id.toml"), 1);
  ASSERT_EQ(RuleIds(json["findings"]), std::vector<std::string>{"PIN000"});
  EXPECT_EQ(json["findings"][0]["field"], "domain[0].lint_disable[0]");
}

// apex + wildcard cover different names: no PIN010.
TEST_F(CliLintTest, ExactAndWildcardLayoutIsClean) {
  std::string pins = "pins = [{ pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\" }, { pin = \"" +
                     pki_->backup_key.SpkiPin().ToString() + "\" }]\n";
  dir_->Write("layout.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"example.test\"\nexpires = 2027-06-01\n" + pins +
                                 "[[domain]]\nhost = \"*.example.test\"\nexpires = 2027-03-01\n" + pins +
                                 "[[domain]]\nhost = \"api.example.test\"\nexpires = 2027-01-01\npins = [{ pin = \"" +
                                 pki_->rogue_leaf_key.SpkiPin().ToString() + "\" }, { pin = \"" +
                                 pki_->backup_key.SpkiPin().ToString() + "\" }, { pin = \"" +
                                 pki_->leaf_key.SpkiPin().ToString() + "\" }]\n");
  auto json = LintJson(File("layout.toml"), 0);
  EXPECT_TRUE(json["findings"].empty()) << json.dump(2);
}

TEST_F(CliLintTest, UnreadablePolicyIsAUsageError) {
  CliRun missing = Pinion("lint /nonexistent/pins.toml");
  EXPECT_EQ(missing.exit_code, 2);
  CliRun json = Pinion("lint --json /nonexistent/pins.toml");
  EXPECT_EQ(json.exit_code, 2);
  auto error = nlohmann::json::parse(json.out)["error"];
  EXPECT_EQ(error["code"], "io");
  EXPECT_EQ(error["exit_code"], 2);
  CliRun bad_chain = Pinion("lint --json --chain /nonexistent.pem " + File("chain.pem"));
  EXPECT_EQ(bad_chain.exit_code, 2);
  EXPECT_TRUE(nlohmann::json::parse(bad_chain.out).contains("error"));
  // Findings at the failing level still exit 1.
  dir_->Write("one-pin.toml", Policy({pki_->leaf_key.SpkiPin()}));
  EXPECT_EQ(Pinion("lint " + File("one-pin.toml")).exit_code, 1);
}

// rotate plan edits the owner's text: comments, relative anchors and roles stay.
TEST_F(CliLintTest, RotatePlanKeepsThePolicyText) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "roots");
  dir.Write("roots/anchor.pem", pki_->root.Pem());
  Key next = Key::Generate();
  dir.Write("next.key", next.PrivatePem());
  std::string original =
      "# Pins for api.example.test -- see RUNBOOK.md before editing.\n"
      "[policy]\n"
      "version = 7  # raise on every change\n"
      "\n"
      "[[domain]]\n"
      "host = \"api.example.test\"\n"
      "expires = 2027-01-01   # moved with each release\n"
      "anchors = \"roots/anchor.pem\"\n"
      "pins = [\n"
      "  { pin = \"" + pki_->intermediate.SpkiPin().ToString() + "\", label = \"issuing CA\", role = \"ca\" },\n"
      "  { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\", label = \"backup, safe B\", role = \"leaf\" },  # offline\n"
      "]\n";
  dir.Write("pins.toml", original);
  std::string out = (dir.path() / "pins-v8.toml").string();
  CliRun plan = Pinion("rotate plan --policy " + (dir.path() / "pins.toml").string() + " --host " + kHost + " --next-key " +
                       (dir.path() / "next.key").string() + " -o " + out);
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("`expires` moves from 2027-01-01 to "), std::string::npos) << plan.out;
  auto written = ReadFileBounded(out, 1 << 20);
  ASSERT_TRUE(written.ok());
  std::string text(written->begin(), written->end());
  // Byte for byte the original but for the version, the expiry value and one new line.
  EXPECT_TRUE(text.starts_with("# Pins for api.example.test -- see RUNBOOK.md before editing.\n[policy]\n"
                               "version = 8  # raise on every change\n\n[[domain]]\nhost = \"api.example.test\"\nexpires = "))
      << text;
  EXPECT_NE(text.find("   # moved with each release\nanchors = \"roots/anchor.pem\"\npins = [\n"), std::string::npos) << text;
  EXPECT_NE(text.find("role = \"leaf\" },  # offline\n  { pin = \"" + next.SpkiPin().ToString() + "\", label = \"next key"),
            std::string::npos)
      << text;
  EXPECT_TRUE(text.ends_with(" },\n]\n")) << text;
  auto loaded = LoadPolicyFile(out);
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  const DomainRule& rule = (*loaded)->rules()[0];
  EXPECT_EQ((*loaded)->version(), 8u);
  ASSERT_EQ(rule.pins.size(), 3u);
  EXPECT_EQ(rule.pins[0].role, PinRole::kCa);
  EXPECT_EQ(rule.pins[2].pin, next.SpkiPin());
  EXPECT_GT(*rule.expires, *ParseTimestamp("2027-01-01"));

  CliRun json = Pinion("rotate plan --json --policy " + (dir.path() / "pins.toml").string() + " --host " + kHost +
                       " --next-key " + (dir.path() / "next.key").string());
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto body = nlohmann::json::parse(json.out);
  EXPECT_EQ(body["policy"], text);
  EXPECT_EQ(body["previous_expires"], "2027-01-01T00:00:00Z");

  CliRun missing = Pinion("rotate plan --json --policy /nonexistent.toml --host " + std::string(kHost) + " --next-key " +
                          (dir.path() / "next.key").string());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(nlohmann::json::parse(missing.out)["error"]["exit_code"], 2);
}

}  // namespace
}  // namespace pinion::cli
