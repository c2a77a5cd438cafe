// How the CLI reports a failure, in process: the exit code of every error
// code (pinned as it was before exit codes followed categories), and the
// text and JSON a failure prints.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "commands.h"
#include "output.h"

namespace pinion::cli {
namespace {

// The exit code of every ErrorCode, as docs/CLI.md promises it: a pin
// failure 1, TLS/validation/network 3, everything else 2.
const std::map<std::string, int>& ExpectedExitCodes() {
  static const std::map<std::string, int> kExpected = {
      {"invalid_argument", kExitUsage},
      {"io", kExitUsage},
      {"input_too_large", kExitUsage},
      {"pin_syntax", kExitUsage},
      {"pin_base64", kExitUsage},
      {"pin_hex", kExitUsage},
      {"pin_digest_length", kExitUsage},
      {"pin_unsupported_algorithm", kExitUsage},
      {"host_syntax", kExitUsage},
      {"host_public_suffix", kExitUsage},
      {"policy_syntax", kExitUsage},
      {"policy_schema", kExitUsage},
      {"policy_duplicate_host", kExitUsage},
      {"policy_date", kExitUsage},
      {"policy_anchors", kExitUsage},
      {"certificate_parse", kExitUsage},
      {"key_parse", kExitUsage},
      {"encrypted_key", kExitUsage},
      {"no_pin_source", kExitUsage},
      {"chain_empty", kExitUsage},
      {"chain_too_long", kExitUsage},
      {"tls_setup", kExitTlsFailure},
      {"network", kExitTlsFailure},
      {"tls_handshake", kExitTlsFailure},
      {"chain_validation", kExitTlsFailure},
      {"hostname_mismatch", kExitTlsFailure},
      {"pin_validation_failed", kExitPinFailure},
      {"signature_invalid", kExitUsage},
      {"manifest_rollback", kExitUsage},
      {"manifest_expired", kExitUsage},
      {"manifest_not_yet_valid", kExitUsage},
      {"kill_switch_too_long", kExitUsage},
      {"database", kExitUsage},
  };
  return kExpected;
}

TEST(CliErrorsTest, EveryErrorCodeKeepsItsExitCode) {
  ASSERT_EQ(ExpectedExitCodes().size(), static_cast<std::size_t>(kErrorCodeCount))
      << "a new ErrorCode needs its exit code pinned here";
  for (int i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    std::string name(ErrorCodeName(code));
    auto expected = ExpectedExitCodes().find(name);
    ASSERT_NE(expected, ExpectedExitCodes().end()) << name;
    EXPECT_EQ(ExitCodeFor(code), expected->second) << name;
  }
}

TEST(CliErrorsTest, ExitCodesFollowCategories) {
  EXPECT_EQ(ExitCodeFor(ErrorCategory::kUsage), kExitUsage);
  EXPECT_EQ(ExitCodeFor(ErrorCategory::kInput), kExitUsage);
  EXPECT_EQ(ExitCodeFor(ErrorCategory::kCrypto), kExitUsage);
  EXPECT_EQ(ExitCodeFor(ErrorCategory::kStorage), kExitUsage);
  EXPECT_EQ(ExitCodeFor(ErrorCategory::kTls), kExitTlsFailure);
  EXPECT_EQ(ExitCodeFor(ErrorCategory::kNetwork), kExitTlsFailure);
  EXPECT_EQ(ExitCodeFor(ErrorCategory::kPin), kExitPinFailure);
  for (int i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    EXPECT_EQ(ExitCodeFor(code), ExitCodeFor(CategoryOf(code))) << ErrorCodeName(code);
  }
}

// Printed is what ReportFailure wrote, and the exit code it returned.
struct Printed {
  int exit_code;
  std::string out;
  std::string err;
};

Printed Report(const CliFailure& failure, bool json) {
  std::ostringstream out, err;
  std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  int exit_code = ReportFailure(failure, json);
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  return {exit_code, out.str(), err.str()};
}

TEST(CliErrorsTest, TextFailureIsTheErrorAndTheHintOnStderr) {
  Printed printed = Report(CliFailure(Error(ErrorCode::kIo, "cannot open").WithSource("pins.toml"), "Fix it."), false);
  EXPECT_EQ(printed.exit_code, kExitUsage);
  EXPECT_EQ(printed.out, "");
  EXPECT_EQ(printed.err, "pinion: pins.toml: cannot open [io]\n  Fix it.\n");
  Printed no_hint = Report(CliFailure(Error(ErrorCode::kNetwork, "refused")), false);
  EXPECT_EQ(no_hint.exit_code, kExitTlsFailure);
  EXPECT_EQ(no_hint.err, "pinion: refused [network]\n");
}

TEST(CliErrorsTest, JsonFailureCarriesCategoryHintExitCodeDetailsAndBeside) {
  CliFailure failure = CliFailure(Error(ErrorCode::kNetwork, "refused").WithField("--connect-to"), "Is it up?")
                           .WithDetails({{"reason", "connection_refused"}})
                           .WithBeside({{"format", "curl"}});
  Printed printed = Report(failure, true);
  EXPECT_EQ(printed.exit_code, kExitTlsFailure);
  EXPECT_EQ(printed.err, "pinion: --connect-to: refused [network]\n") << "the hint goes to the JSON only";
  auto answer = nlohmann::json::parse(printed.out);
  EXPECT_EQ(answer["format"], "curl");
  const nlohmann::json& error = answer["error"];
  EXPECT_EQ(error["code"], "network");
  EXPECT_EQ(error["category"], "network");
  EXPECT_EQ(error["message"], "refused");
  EXPECT_EQ(error["field"], "--connect-to");
  EXPECT_TRUE(error["file"].is_null());
  EXPECT_TRUE(error["line"].is_null());
  EXPECT_TRUE(error["column"].is_null());
  EXPECT_EQ(error["hint"], "Is it up?");
  EXPECT_EQ(error["exit_code"], kExitTlsFailure);
  EXPECT_EQ(error["reason"], "connection_refused");
}

TEST(CliErrorsTest, AnExitCodeOverrideWinsOverTheCategory) {
  CliFailure failure = CliFailure(Error(ErrorCode::kIo, "disk full"), "").WithExitCode(kExitOutput);
  EXPECT_EQ(failure.ExitCode(), kExitOutput);
  Printed printed = Report(failure, true);
  EXPECT_EQ(printed.exit_code, kExitOutput);
  auto error = nlohmann::json::parse(printed.out)["error"];
  EXPECT_EQ(error["exit_code"], kExitOutput);
  EXPECT_EQ(error["category"], "storage");
  EXPECT_TRUE(error["hint"].is_null());
}

TEST(CliErrorsTest, ErrorJsonNamesTheCategoryOfEveryCode) {
  for (int i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    nlohmann::json error = ErrorJson(Error(code, "m"));
    EXPECT_EQ(error["code"], ErrorCodeName(code));
    EXPECT_EQ(error["category"], ErrorCategoryName(CategoryOf(code)));
  }
}

// Hinted keeps the value, or turns the error into a failure with the hint.
TEST(CliErrorsTest, HintedAttachesTheHintToAFailureOnly) {
  CliResult<int> value = Hinted(Result<int>(7), "unused");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);
  CliResult<int> failed = Hinted(Result<int>(Error(ErrorCode::kPolicyDate, "bad date")), "Use YYYY-MM-DD.", kExitUsage);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().error.code(), ErrorCode::kPolicyDate);
  EXPECT_EQ(failed.error().hint, "Use YYYY-MM-DD.");
  EXPECT_EQ(failed.error().exit_code, kExitUsage);
  CliResult<int> plain = Result<int>(Error(ErrorCode::kTlsSetup, "no store"));
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().hint, "");
  EXPECT_EQ(plain.error().ExitCode(), kExitTlsFailure);
}

}  // namespace
}  // namespace pinion::cli
