// `pinion export` as a user runs it: an export that does not mean what the
// policy means is refused (exit 2, nothing written) unless --allow-lossy, and
// --json lists every change with its domain and reason.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pinion/pin_source.h"
#include "cli_runner.h"
#include "test_pki.h"

namespace pinion::cli {
namespace {

using testing::Key;
using testing::TempDir;

class CliExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    leaf_ = new Key(Key::Generate());
    backup_ = new Key(Key::Generate());
    ca_ = new Key(Key::Generate());
    dir_ = new TempDir();
    // Exact for every target below: leaf keys with their role, no expiry, no report URI.
    dir_->Write("exact.toml", Domain("api.example.com", {Pin(*leaf_, "leaf"), Pin(*backup_, "leaf")}));
    // The layout the docs recommend: the issuing CA's key and an offline backup leaf key.
    dir_->Write("mixed.toml", Domain("api.example.com", {Pin(*ca_, "ca"), Pin(*backup_, "leaf")}) +
                                  Domain("www.example.com", {Pin(*leaf_, "leaf"), Pin(*backup_, "leaf")}, false));
    dir_->Write("ca-only.toml", Domain("api.example.com", {Pin(*ca_, "ca"), Pin(*backup_, "ca")}));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete ca_;
    delete backup_;
    delete leaf_;
  }
  static std::string Pin(const Key& key, std::string_view role) {
    return "{pin = \"" + key.SpkiPin().ToString() + "\", role = \"" + std::string(role) + "\"}";
  }
  static std::string Domain(const std::string& host, const std::vector<std::string>& pins, bool header = true) {
    std::string text = header ? "[policy]\nversion = 3\n" : "";
    text += "[[domain]]\nhost = \"" + host + "\"\npins = [";
    for (const std::string& pin : pins) text += pin + ", ";
    return text + "]\n";
  }
  static std::string File(const std::string& name) { return (dir_->path() / name).string(); }

  static Key* leaf_;
  static Key* backup_;
  static Key* ca_;
  static TempDir* dir_;
};
Key* CliExportTest::leaf_ = nullptr;
Key* CliExportTest::backup_ = nullptr;
Key* CliExportTest::ca_ = nullptr;
TempDir* CliExportTest::dir_ = nullptr;

TEST_F(CliExportTest, ExactExportExitsZeroWithoutChanges) {
  for (std::string format : {"ios-plist", "trustkit", "android-nsc", "okhttp", "curl", "envoy", "cpp"}) {
    CliRun run = Pinion("export --to " + format + " " + File("exact.toml"));
    EXPECT_EQ(run.exit_code, 0) << format << "\n" << run.err;
    // Nothing lossy; Envoy's fragment asks for one step (its CA bundle), which does not block.
    EXPECT_EQ(run.err.find("lossy:"), std::string::npos) << format << "\n" << run.err;
    if (format != "envoy") {
      EXPECT_EQ(run.err, "") << format;
    }
    EXPECT_FALSE(run.out.empty()) << format;
  }
  CliRun json = Pinion("export --json --to ios-plist " + File("exact.toml"));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto body = nlohmann::json::parse(json.out);
  EXPECT_EQ(body["lossy"], false);
  EXPECT_EQ(body["changes"], nlohmann::json::array());
  EXPECT_NE(body["text"].get<std::string>().find("NSPinnedLeafIdentities"), std::string::npos);
}

TEST_F(CliExportTest, LossyExportIsRefusedAndWritesNothing) {
  std::string out = File("pins.plist");
  dir_->Write("pins.plist", "previous contents");
  CliRun refused = Pinion("export --to ios-plist -o " + out + " " + File("mixed.toml"));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(refused.out, "");
  EXPECT_NE(refused.err.find("lossy: api.example.com: left out"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--allow-lossy"), std::string::npos) << refused.err;
  EXPECT_EQ(Slurp(out), "previous contents");
  for (const auto& entry : std::filesystem::directory_iterator(dir_->path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
  // To standard output: nothing either.
  CliRun to_stdout = Pinion("export --to ios-plist " + File("mixed.toml"));
  EXPECT_EQ(to_stdout.exit_code, 2);
  EXPECT_EQ(to_stdout.out, "");
}

TEST_F(CliExportTest, AllowLossyWritesAndStillPrintsTheChanges) {
  std::string out = File("accepted.plist");
  CliRun run = Pinion("export --to ios-plist --allow-lossy -o " + out + " " + File("mixed.toml"));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("lossy: api.example.com: left out"), std::string::npos) << run.err;
  std::string plist = Slurp(out);
  EXPECT_NE(plist.find("<key>www.example.com</key>"), std::string::npos) << plist;
  EXPECT_EQ(plist.find("<key>api.example.com</key>"), std::string::npos) << plist;
  // The written file is a plist Apple's format readers accept.
  TempDir scratch;
  std::string command = "plistutil -i " + out + " -o " + (scratch.path() / "p.bin").string() + " -f bin";
  EXPECT_EQ(std::system(command.c_str()), 0);
}

TEST_F(CliExportTest, JsonListsEachChangeWithDomainAndReason) {
  CliRun refused = Pinion("export --json --to ios-plist " + File("mixed.toml"));
  EXPECT_EQ(refused.exit_code, 2);
  auto body = nlohmann::json::parse(refused.out);
  EXPECT_EQ(body["error"]["code"], "invalid_argument");
  EXPECT_EQ(body["error"]["exit_code"], 2);
  EXPECT_EQ(body["format"], "ios-plist");
  ASSERT_EQ(body["changes"].size(), 1u) << body.dump(2);
  EXPECT_EQ(body["changes"][0]["kind"], "lossy");
  EXPECT_EQ(body["changes"][0]["domain"], "api.example.com");
  EXPECT_NE(body["changes"][0]["reason"].get<std::string>().find("a match in each list"), std::string::npos);
  EXPECT_FALSE(body.contains("text"));

  CliRun accepted = Pinion("export --json --allow-lossy --to ios-plist " + File("mixed.toml"));
  EXPECT_EQ(accepted.exit_code, 0);
  auto written = nlohmann::json::parse(accepted.out);
  EXPECT_EQ(written["lossy"], true);
  EXPECT_EQ(written["changes"], body["changes"]);
  EXPECT_NE(written["text"].get<std::string>().find("www.example.com"), std::string::npos);
}

TEST_F(CliExportTest, CaPinsOnlyForCurlAreRefusedEvenWhenLossyIsAllowed) {
  for (std::string format : {"curl", "envoy"}) {
    CliRun run = Pinion("export --allow-lossy --json --to " + format + " -o " + File("never." + format) + " " +
                        File("ca-only.toml"));
    EXPECT_EQ(run.exit_code, 2) << format;
    EXPECT_FALSE(std::filesystem::exists(File("never." + format))) << format;
    auto body = nlohmann::json::parse(run.out);
    EXPECT_NE(body["error"]["message"].get<std::string>().find("leaf"), std::string::npos) << body.dump(2);
  }
}

TEST_F(CliExportTest, ErrorsAreJsonWithJson) {
  CliRun format = Pinion("export --json --to blackberry " + File("exact.toml"));
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_EQ(nlohmann::json::parse(format.out)["error"]["code"], "invalid_argument");
  CliRun missing = Pinion("export --json --to curl /nonexistent/policy.toml");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(nlohmann::json::parse(missing.out).contains("error"));
}

}  // namespace
}  // namespace pinion::cli
