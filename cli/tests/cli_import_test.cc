// `pinion import`: a lossy import is refused (exit 2, nothing written) unless
// --allow-lossy, --json lists every change, errors are reported as every
// command's are (ReportFailure). Drives the real binary; binary plists are
// made with the real plistutil.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pinion/pin.h"
#include "pinion/pin_source.h"
#include "cli_runner.h"
#include "test_pki.h"

namespace pinion::cli {
namespace {

using testing::TempDir;

const Pin kA = Pin::OfSpki(std::vector<std::uint8_t>{1});
const Pin kB = Pin::OfSpki(std::vector<std::uint8_t>{2});

// One readable call and one whose host is a constant: lossy.
std::string LossyKotlin() {
  return "val pinner = CertificatePinner.Builder()\n"
         "    .add(\"a.example.com\", \"" + kA.ToString() + "\", \"" + kB.ToString() + "\")\n"
         "    .add(API_HOST, \"" + kA.ToString() + "\")\n"
         "    .build()\n";
}

TEST(CliImportTest, ALossyImportIsRefusedAndWritesNothing) {
  TempDir dir;
  auto input = dir.Write("Pins.kt", LossyKotlin());
  auto output = dir.path() / "pins.toml";
  CliRun run = Pinion("import --from okhttp " + input.string() + " -o " + output.string());
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("lossy: line 3: API_HOST: the host pattern is not a string literal"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("nothing was written"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("--allow-lossy"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_FALSE(std::filesystem::exists(output));
}

TEST(CliImportTest, AllowLossyWritesThePolicyAndStillPrintsTheChanges) {
  TempDir dir;
  auto input = dir.Write("Pins.kt", LossyKotlin());
  auto output = dir.path() / "pins.toml";
  CliRun run = Pinion("import --from okhttp --allow-lossy " + input.string() + " -o " + output.string());
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("lossy: line 3: API_HOST"), std::string::npos) << run.err;
  std::string policy = Slurp(output);
  EXPECT_NE(policy.find("a.example.com"), std::string::npos) << policy;
  EXPECT_NE(policy.find(kB.ToString()), std::string::npos) << policy;
}

TEST(CliImportTest, JsonListsEveryChangeOnRefusalAndOnSuccess) {
  TempDir dir;
  auto input = dir.Write("Pins.kt", LossyKotlin());
  CliRun refused = Pinion("import --json --from okhttp " + input.string());
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  auto body = nlohmann::json::parse(refused.out);
  EXPECT_EQ(body["error"]["exit_code"], 2);
  EXPECT_EQ(body["format"], "okhttp");
  ASSERT_EQ(body["changes"].size(), 1u) << refused.out;
  EXPECT_EQ(body["changes"][0]["kind"], "lossy");
  EXPECT_EQ(body["changes"][0]["domain"], "API_HOST");
  EXPECT_EQ(body["changes"][0]["line"], 3);

  CliRun accepted = Pinion("import --json --allow-lossy --from okhttp " + input.string());
  EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
  auto ok = nlohmann::json::parse(accepted.out);
  EXPECT_EQ(ok["lossy"], true);
  EXPECT_EQ(ok["rules"], 1);
  EXPECT_EQ(ok["changes"].size(), 1u);
  EXPECT_NE(ok["policy"].get<std::string>().find("a.example.com"), std::string::npos);

  // Lossless: exit 0 without the flag, notes only.
  auto exact = dir.Write("Exact.kt", "CertificatePinner.Builder().add(\"*.example.com\", \"" + kA.ToString() +
                                         "\").add(\"**.example.com\", \"" + kB.ToString() + "\").build()\n");
  CliRun lossless = Pinion("import --json --from okhttp " + exact.string());
  EXPECT_EQ(lossless.exit_code, 0) << lossless.err;
  auto exact_body = nlohmann::json::parse(lossless.out);
  EXPECT_EQ(exact_body["lossy"], false);
  ASSERT_FALSE(exact_body["changes"].empty());
  EXPECT_EQ(exact_body["changes"][0]["kind"], "note");
}

TEST(CliImportTest, ChromiumPinsetNamingAMissingKeyExitsTwoNamingBoth) {
  TempDir dir;
  auto json = dir.Write("static.json", R"({"pinsets": [{"name": "payments", "static_spki_hashes": ["PayKey", "PayBackup"]}],
                                           "entries": [{"name": "pay.example.com", "pins": "payments"}]})");
  auto pins = dir.Write("static.pins", "PinsListTimestamp\n1767225600\n\nPayKey\n" + kA.ToString() + "\n");
  CliRun run = Pinion("import --from chromium " + json.string() + " --pins " + pins.string());
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("pinset payments names key 'PayBackup', which the pins file lacks"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty());

  CliRun as_json = Pinion("import --json --from chromium " + json.string() + " --pins " + pins.string());
  EXPECT_EQ(as_json.exit_code, 2);
  auto body = nlohmann::json::parse(as_json.out);
  EXPECT_EQ(body["error"]["code"], "policy_schema");
  EXPECT_EQ(body["error"]["exit_code"], 2);

  CliRun no_pins = Pinion("import --json --from chromium " + json.string());
  EXPECT_EQ(no_pins.exit_code, 2);
  EXPECT_EQ(nlohmann::json::parse(no_pins.out)["error"]["field"], "--pins");

  // With the key present the import is exact.
  auto full = dir.Write("full.pins", "PinsListTimestamp\n1767225600\n\nPayKey\n" + kA.ToString() + "\n\nPayBackup\n" +
                                         testing::Key::Generate().PublicPem());
  CliRun good = Pinion("import --from chromium " + json.string() + " --pins " + full.string());
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("pay.example.com"), std::string::npos);
}

TEST(CliImportTest, TrustKitBinaryPlistFromPlistutil) {
  TempDir dir;
  auto xml = dir.Write("Info.plist",
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>TSKConfiguration</key><dict>"
                       "<key>TSKPinnedDomains</key><dict><key>api.example.com</key><dict><key>TSKPublicKeyHashes</key><array>"
                       "<string>" + kA.Base64() + "</string><string>" + kB.Base64() + "</string></array>"
                       "<key>TSKIncludeSubdomains</key><true/></dict></dict></dict></dict></plist>\n");
  auto binary = dir.path() / "Info.bplist";
  ASSERT_EQ(std::system(("plistutil -i " + xml.string() + " -o " + binary.string() + " -f bin").c_str()), 0);
  ASSERT_TRUE(Slurp(binary).starts_with("bplist00"));
  CliRun run = Pinion("import --json --from trustkit " + binary.string());
  EXPECT_EQ(run.exit_code, 0) << run.err;
  auto body = nlohmann::json::parse(run.out);
  EXPECT_EQ(body["lossy"], false);
  std::string policy = body["policy"];
  EXPECT_NE(policy.find("**.api.example.com"), std::string::npos) << policy;
  EXPECT_NE(policy.find(kB.ToString()), std::string::npos) << policy;
}

TEST(CliImportTest, AnOutputThatCannotBeWrittenExitsFour) {
  TempDir dir;
  auto input = dir.Write("Pins.kt", "CertificatePinner.Builder().add(\"a.example.com\", \"" + kA.ToString() + "\").build()\n");
  CliRun to_missing_dir = Pinion("import --json --from okhttp " + input.string() + " -o " + (dir.path() / "no" / "pins.toml").string());
  EXPECT_EQ(to_missing_dir.exit_code, 4) << to_missing_dir.err;
  EXPECT_EQ(nlohmann::json::parse(to_missing_dir.out)["error"]["exit_code"], 4);
}

TEST(CliImportTest, UnreadableInputAndUnknownFormatAreUsageErrors) {
  CliRun missing = Pinion("import --json --from okhttp /nonexistent/Pins.kt");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(nlohmann::json::parse(missing.out)["error"]["exit_code"], 2);
  TempDir dir;
  auto input = dir.Write("x", "x");
  CliRun unknown = Pinion("import --json --from nope " + input.string());
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(nlohmann::json::parse(unknown.out)["error"]["code"], "invalid_argument");
}

}  // namespace
}  // namespace pinion::cli
