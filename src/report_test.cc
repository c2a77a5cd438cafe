#include "pinion/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pinion/evaluate.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "test_pki.h"

namespace pinion {
namespace {

using testing::TestPki;

const TimePoint kNow = *ParseTimestamp("2026-11-21T12:00:00Z");

class ReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create("api.example.test")); }
  static void TearDownTestSuite() { delete pki_; }

  static PolicySnapshot Policy(const std::string& extra = "") {
    auto policy = ParsePolicyToml("[policy]\nversion = 7\n[[domain]]\nhost = \"api.example.test\"\n"
                                  "include_subdomains = true\nexpires = 2027-06-01\n" + extra +
                                      "pins = [\n  { pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\" },\n"
                                      "  { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\" },\n"
                                      "  { pin = \"" + pki_->leaf.CertificatePin().ToString() + "\" },\n]\n",
                                  "test.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  static Verdict RogueVerdict(const PolicySnapshot& policy, TimePoint at = kNow) {
    auto chain = *VerifiedChain::FromChainValidatedByCaller(
        {pki_->rogue_leaf.Der(), pki_->rogue_intermediate.Der(), pki_->rogue_root.Der()});
    Verdict verdict = Evaluate(policy, "www.api.example.test", 443, chain, at);
    verdict.served_chain_der = {pki_->rogue_leaf.Der(), pki_->rogue_intermediate.Der()};
    return verdict;
  }

  static TestPki* pki_;
};
TestPki* ReportTest::pki_ = nullptr;

TEST_F(ReportTest, OnlyFailuresExpiryAndKillSwitchesAreReported) {
  auto legit = *VerifiedChain::FromChainValidatedByCaller({pki_->leaf.Der(), pki_->intermediate.Der()});
  EXPECT_FALSE(BuildReport(Evaluate(Policy(), "api.example.test", 443, legit, kNow), {}).has_value());
  EXPECT_FALSE(BuildReport(Evaluate(Policy(), "unpinned.example", 443, legit, kNow), {}).has_value());
  EXPECT_TRUE(BuildReport(RogueVerdict(Policy()), {}).has_value());
  EXPECT_TRUE(BuildReport(RogueVerdict(Policy("mode = \"report-only\"\n")), {}).has_value());
  auto expired = BuildReport(RogueVerdict(Policy(), *ParseTimestamp("2027-07-01")), {});
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->reason, "policy-expired");
}

TEST_F(ReportTest, CarriesTheRfc7469FieldsAndPinionsOwn) {
  auto report = BuildReport(RogueVerdict(Policy()), {.id = "com.example.app", .version = "4.2", .platform = "linux"});
  ASSERT_TRUE(report.has_value());
  auto json = nlohmann::json::parse(ReportToJson(*report));
  EXPECT_EQ(json["date-time"], "2026-11-21T12:00:00Z");
  EXPECT_EQ(json["hostname"], "www.api.example.test");
  EXPECT_EQ(json["port"], 443);
  EXPECT_EQ(json["effective-expiration-date"], "2027-06-01T00:00:00Z");
  EXPECT_EQ(json["include-subdomains"], true);
  EXPECT_EQ(json["noted-hostname"], "**.api.example.test");
  ASSERT_EQ(json["served-certificate-chain"].size(), 2u);
  ASSERT_EQ(json["validated-certificate-chain"].size(), 3u);
  EXPECT_TRUE(json["validated-certificate-chain"][0].get<std::string>().starts_with("-----BEGIN CERTIFICATE-----"));
  // RFC 7469 lists only SPKI SHA-256 pins, as pin-sha256="…"; pinion's list has them all.
  ASSERT_EQ(json["known-pins"].size(), 2u);
  EXPECT_EQ(json["known-pins"][0], "pin-sha256=\"" + pki_->leaf_key.SpkiPin().Base64() + "\"");
  EXPECT_EQ(json["pinion"]["known-pins"].size(), 3u);
  EXPECT_EQ(json["pinion"]["policy-version"], 7);
  EXPECT_EQ(json["pinion"]["mode"], "enforce");
  EXPECT_EQ(json["pinion"]["reason"], "mismatch");
  EXPECT_EQ(json["pinion"]["app"]["id"], "com.example.app");
  EXPECT_EQ(json["pinion"]["validated-chain-pins"][0], pki_->rogue_leaf_key.SpkiPin().ToString());

  auto parsed = ParseReport(ReportToJson(*report));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->format, ReportFormat::kPinion);
  EXPECT_EQ(parsed->known_pins, report->known_pins);
  EXPECT_EQ(parsed->validated_chain_pins, report->validated_chain_pins);
  EXPECT_EQ(parsed->app.version, "4.2");
  EXPECT_EQ(parsed->Fingerprint(), report->Fingerprint());
}

TEST_F(ReportTest, FingerprintSeparatesDifferentFailures) {
  auto a = *BuildReport(RogueVerdict(Policy()), {});
  auto b = a;
  b.date_time += std::chrono::hours(1);  // the same failure an hour later
  EXPECT_EQ(a.Fingerprint(), b.Fingerprint());
  b.port = 8443;
  EXPECT_NE(a.Fingerprint(), b.Fingerprint());
  auto c = a;
  c.validated_chain_pins.pop_back();
  EXPECT_NE(a.Fingerprint(), c.Fingerprint());
}

TEST_F(ReportTest, ParsesHpkpAndTrustKitBodies) {
  std::string leaf_pem = pki_->rogue_leaf.Pem();
  nlohmann::json hpkp = {{"date-time", "2026-11-21T12:00:00Z"},
                         {"hostname", "API.example.test"},
                         {"port", 443},
                         {"include-subdomains", false},
                         {"noted-hostname", "api.example.test"},
                         {"validated-certificate-chain", {leaf_pem}},
                         {"known-pins", {"pin-sha256=\"" + pki_->leaf_key.SpkiPin().Base64() + "\""}}};
  auto parsed = ParseReport(hpkp.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->format, ReportFormat::kHpkp);
  EXPECT_EQ(parsed->hostname, "api.example.test");
  ASSERT_EQ(parsed->validated_chain_pins.size(), 1u);
  EXPECT_EQ(parsed->validated_chain_pins[0], pki_->rogue_leaf_key.SpkiPin());

  nlohmann::json trustkit = hpkp;
  trustkit["app-bundle-id"] = "com.example.ios";
  trustkit["app-version"] = "1.0";
  trustkit["app-platform"] = "IOS";
  trustkit["trustkit-version"] = "3.0.0";
  trustkit["enforce-pin"] = true;
  trustkit["validation-result"] = 1;
  parsed = ParseReport(trustkit.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->format, ReportFormat::kTrustKit);
  EXPECT_EQ(parsed->app.id, "com.example.ios");
  EXPECT_EQ(parsed->mode, "enforce");
}

TEST_F(ReportTest, MalformedBodiesAreRefusedWithTheField) {
  auto good = nlohmann::json::parse(ReportToJson(*BuildReport(RogueVerdict(Policy()), {})));
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    ErrorCode code;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](nlohmann::json& j) { j.erase("hostname"); }, ErrorCode::kPolicySchema, "hostname"},
      {[](nlohmann::json& j) { j["hostname"] = "bad host!"; }, ErrorCode::kHostSyntax, "hostname"},
      {[](nlohmann::json& j) { j["port"] = 70000; }, ErrorCode::kPolicySchema, "port"},
      {[](nlohmann::json& j) { j["port"] = "443"; }, ErrorCode::kPolicySchema, "port"},
      {[](nlohmann::json& j) { j["date-time"] = "yesterday"; }, ErrorCode::kPolicyDate, "date-time"},
      {[](nlohmann::json& j) { j["date-time"] = ""; }, ErrorCode::kPolicySchema, "date-time"},  // fuzzer find
      {[](nlohmann::json& j) { j["known-pins"] = {"pin-sha1=\"x\""}; }, ErrorCode::kPinSyntax, "known-pins[0]"},
      {[](nlohmann::json& j) { j["validated-certificate-chain"] = {"not a certificate"}; }, ErrorCode::kCertificateParse,
       "validated-certificate-chain[0]"},
      {[](nlohmann::json& j) { j["pinion"]["app"]["id"] = std::string("a\x01") ; }, ErrorCode::kPolicySchema,
       "pinion.app.id"},
      {[](nlohmann::json& j) { j["served-certificate-chain"] = std::vector<std::string>(17, "x"); },
       ErrorCode::kInputTooLarge, "served-certificate-chain"},
  };
  for (const Case& c : cases) {
    nlohmann::json doc = good;
    c.edit(doc);
    auto parsed = ParseReport(doc.dump());
    ASSERT_FALSE(parsed.ok()) << doc.dump();
    EXPECT_EQ(parsed.error().code(), c.code) << parsed.error().ToString();
    EXPECT_EQ(parsed.error().field(), c.field) << parsed.error().ToString();
  }
  // A member given twice could be read two ways by two readers: refused, named.
  std::string twice = good.dump();
  twice.insert(1, "\"port\":8443,");
  auto duplicate = ParseReport(twice);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code(), ErrorCode::kPolicySchema);
  EXPECT_EQ(duplicate.error().field(), "port");
  std::string nested = good.dump();
  nested.insert(nested.find("\"pinion\":{") + 10, "\"mode\":\"report-only\",");
  EXPECT_EQ(ParseReport(nested).error().field(), "pinion.mode");
  EXPECT_EQ(ParseReport("{\"hostname\": \"api.example.test\"} trailing").error().code(), ErrorCode::kPolicySyntax);
  EXPECT_EQ(ParseReport("{\"hostname\": \"a\\ud800\"}").error().code(), ErrorCode::kPolicySyntax);  // lone surrogate
  EXPECT_EQ(ParseReport("[1,2]").error().code(), ErrorCode::kPolicySchema);
  EXPECT_EQ(ParseReport("{\"hostname\": \"a\xff\"}").error().code(), ErrorCode::kPolicySyntax);  // invalid UTF-8
  EXPECT_EQ(ParseReport(std::string(kMaxReportBytes + 1, ' ')).error().code(), ErrorCode::kInputTooLarge);
}

TEST_F(ReportTest, FuzzSeedsDecode) {
  // The fuzzer's seeds must reach deep into the parser, one per body format.
  std::pair<const char*, ReportFormat> seeds[] = {
      {"hpkp.json", ReportFormat::kHpkp}, {"trustkit.json", ReportFormat::kTrustKit}, {"pinion.json", ReportFormat::kPinion}};
  for (const auto& [name, format] : seeds) {
    auto bytes = ReadFileBounded(std::filesystem::path(PINION_SOURCE_DIR) / "fuzz/corpus/report" / name, kMaxReportBytes);
    ASSERT_TRUE(bytes.ok()) << name;
    auto report = ParseReport(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
    ASSERT_TRUE(report.ok()) << name << ": " << report.error().ToString();
    EXPECT_EQ(report->format, format) << name;
    EXPECT_FALSE(report->validated_chain_pins.empty()) << name;
  }
}

}  // namespace
}  // namespace pinion
