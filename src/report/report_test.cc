#include "pinion/report/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <openssl/sha.h>

#include "pinion/evaluate.h"
#include "pinion/report/report_spool.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "test_pki.h"
#include "report_parse.h"

namespace pinion {
namespace {

using testing::TestPki;
using testing::TempDir;

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

// A certificate with `names` SANs of ~32 bytes each: ~32 KB of DER per 1000.
testing::Cert BigCertificate(const TestPki& pki, int names) {
  testing::CertSpec spec{.common_name = "big.example.test"};
  for (int i = 0; i < names; ++i) spec.dns_names.push_back("padding-" + std::to_string(100000 + i) + ".example.test");
  return testing::Issue(spec, pki.rogue_leaf_key, &pki.rogue_intermediate, pki.rogue_intermediate_key);
}

// The served list digest, computed here without the library's helper.
std::string IndependentServedDigest(const std::vector<std::vector<std::uint8_t>>& chain) {
  std::vector<unsigned char> framed;
  for (const auto& der : chain) {
    std::uint32_t n = static_cast<std::uint32_t>(der.size());
    framed.insert(framed.end(), {static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                                 static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)});
    framed.insert(framed.end(), der.begin(), der.end());
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(framed.data(), framed.size(), digest);
  char hex[2 * SHA256_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

// Review finding: a MITM padded its served chain to 17 certificates, the
// collector's parser refused the report (input_too_large, HTTP 400), and the
// uploader deleted it — the attack hid its own report.
TEST_F(ReportTest, APaddedServedChainIsCutNotTheReport) {
  Verdict verdict = RogueVerdict(Policy());
  verdict.served_chain_der.clear();
  for (int i = 0; i < 17; ++i) {
    verdict.served_chain_der.push_back(i % 2 == 0 ? pki_->rogue_leaf.Der() : pki_->rogue_intermediate.Der());
  }
  auto report = BuildReport(verdict, {.id = "com.example.app"});
  ASSERT_TRUE(report.has_value());
  auto parsed = ParseReport(ReportToJson(*report));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->served_certificate_chain.size(), kMaxReportChainLength);
  EXPECT_EQ(parsed->served_chain_length, std::optional<std::uint64_t>(17));
  EXPECT_TRUE(parsed->served_chain_truncated());
  EXPECT_EQ(parsed->served_chain_sha256, IndependentServedDigest(verdict.served_chain_der));
  EXPECT_EQ(parsed->served_chain_sha256, ServedChainSha256(verdict.served_chain_der));
  EXPECT_EQ(parsed->validated_certificate_chain.size(), 3u);  // the validated chain whole
  EXPECT_EQ(parsed->validated_chain_pins, report->validated_chain_pins);
  auto json = nlohmann::json::parse(ReportToJson(*report));
  EXPECT_EQ(json["pinion"]["served-chain-length"], 17);
  EXPECT_EQ(json["served-certificate-chain"][0], pki_->rogue_leaf.Pem());  // a prefix, in order

  // An untouched chain is whole, with its count and digest.
  auto plain = *BuildReport(RogueVerdict(Policy()), {});
  EXPECT_EQ(plain.served_chain_length, std::optional<std::uint64_t>(2));
  EXPECT_FALSE(plain.served_chain_truncated());
  EXPECT_EQ(plain.served_chain_sha256,
            IndependentServedDigest({pki_->rogue_leaf.Der(), pki_->rogue_intermediate.Der()}));
}

// A built report must always parse, whatever the server sent and however
// large its certificates: the builder keeps to the parser's bounds and to
// what a default collector accepts, with room left for the drop counts a
// spool adds.
TEST_F(ReportTest, EveryBuiltReportParses) {
  testing::Cert big = BigCertificate(*pki_, 500);        // ~20 KB of PEM
  testing::Cert oversize = BigCertificate(*pki_, 2100);  // over kMaxReportCertificatePemBytes as PEM
  ASSERT_GT(big.Pem().size(), 18u * 1024);
  ASSERT_GT(oversize.Pem().size(), kMaxReportCertificatePemBytes);
  std::vector<std::uint8_t> garbage(300, 0x30);
  auto rogue = [&](std::vector<std::vector<std::uint8_t>> chain) {
    auto validated = VerifiedChain::FromChainValidatedByCaller(chain);
    EXPECT_TRUE(validated.ok()) << validated.error().ToString();
    Verdict verdict = Evaluate(Policy(), "www.api.example.test", 443, *validated, kNow);
    EXPECT_EQ(verdict.reason, VerdictReason::kMismatch);
    return verdict;
  };
  std::vector<std::vector<std::uint8_t>> normal = {pki_->rogue_leaf.Der(), pki_->rogue_intermediate.Der(),
                                                   pki_->rogue_root.Der()};
  struct Case {
    std::string name;
    std::vector<std::vector<std::uint8_t>> validated;
    std::vector<std::vector<std::uint8_t>> served;
    std::size_t validated_kept;  // certificates of the validated chain in the body
  };
  std::vector<Case> cases = {
      {"100 served", normal, std::vector<std::vector<std::uint8_t>>(100, pki_->rogue_leaf.Der()), 3},
      {"100 huge served", normal, std::vector<std::vector<std::uint8_t>>(100, big.Der()), 3},
      {"oversize served first", normal, {oversize.Der(), pki_->rogue_leaf.Der()}, 3},
      {"garbage served", normal, {garbage, pki_->rogue_leaf.Der(), std::vector<std::uint8_t>()}, 3},
      {"big validated", {big.Der(), big.Der(), pki_->rogue_intermediate.Der()},
       std::vector<std::vector<std::uint8_t>>(100, big.Der()), 3},
      {"16 big validated", std::vector<std::vector<std::uint8_t>>(kMaxChainLength, big.Der()),
       std::vector<std::vector<std::uint8_t>>(100, big.Der()), 2},
      {"oversize validated", {oversize.Der(), pki_->rogue_intermediate.Der()}, {oversize.Der()}, 0},
  };
  AppInfo app{.id = std::string(1000, 'i'), .version = "4.2\x01\n" + std::string(100, 'v'),
              .platform = "linux " + std::string(100, '\xc3')};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Verdict verdict = rogue(c.validated);
    verdict.served_chain_der = c.served;
    auto report = BuildReport(verdict, app);
    ASSERT_TRUE(report.has_value());
    std::string body = ReportToJson(*report);
    EXPECT_LE(body.size() + kReportDropCountReserve, kMaxBuiltReportBytes);
    auto parsed = ParseReport(body);
    ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
    EXPECT_EQ(parsed->validated_certificate_chain.size(), c.validated_kept);
    EXPECT_EQ(parsed->validated_chain_pins.size(), c.validated.size());  // every pin, always
    EXPECT_EQ(parsed->served_chain_length, std::optional<std::uint64_t>(c.served.size()));
    EXPECT_EQ(parsed->served_chain_sha256, IndependentServedDigest(c.served));
    EXPECT_LE(parsed->served_certificate_chain.size(), kMaxReportChainLength);
    EXPECT_EQ(parsed->app.id.size(), 256u);
    EXPECT_EQ(parsed->Fingerprint(), report->Fingerprint());

    // Through a spool whose drop counts are as long as they get: still parses.
    TempDir dir;
    auto spool = *ReportSpool::Open(dir.path(), {.max_reports = 1});
    FailureReport counted = *report;
    counted.dropped_reports = UINT64_MAX / 2;
    for (std::size_t i = 0; i < 2 * kMaxDropReasons; ++i) {
      CountDroppedReports(counted.dropped_by_reason, std::string(kMaxDropReasonLength - 2, 'r') + std::to_string(i + 10),
                          UINT64_MAX / 64);
    }
    ASSERT_TRUE(spool->Add(counted).ok());
    ASSERT_TRUE(spool->Add(counted).ok());  // drops the first: one more reason
    auto spooled = spool->Oldest(1);
    ASSERT_EQ(spooled.size(), 1u);
    EXPECT_LE(spooled[0].body.size(), kMaxBuiltReportBytes);
    auto reparsed = ParseReport(spooled[0].body);
    ASSERT_TRUE(reparsed.ok()) << reparsed.error().ToString();
    EXPECT_EQ(reparsed->dropped_by_reason.size(), kMaxDropReasons);  // the spool's own folded into "other"
    EXPECT_EQ(reparsed->dropped_reports, UINT64_MAX / 2 + 1);
  }
  // The served list stops at the first certificate the parser would refuse.
  Verdict verdict = rogue(normal);
  verdict.served_chain_der = {pki_->rogue_leaf.Der(), garbage, pki_->rogue_intermediate.Der()};
  EXPECT_EQ(BuildReport(verdict, {})->served_certificate_chain.size(), 1u);
}

TEST_F(ReportTest, DropReasonsAreBoundedAndRoundTrip) {
  std::map<std::string, std::uint64_t> counts;
  CountDroppedReports(counts, "Rejected HTTP/400", 2);
  CountDroppedReports(counts, "rejected-http-400", 1);
  CountDroppedReports(counts, "nothing", 0);
  EXPECT_EQ(counts, (std::map<std::string, std::uint64_t>{{"rejected-http-400", 3}}));
  for (int i = 0; i < 40; ++i) CountDroppedReports(counts, "reason-" + std::to_string(i), 1);
  EXPECT_EQ(counts.size(), kMaxDropReasons);
  EXPECT_EQ(counts.at("other"), 40u - (kMaxDropReasons - 2));

  auto report = *BuildReport(RogueVerdict(Policy()), {});
  report.dropped_reports = 7;
  report.dropped_by_reason = {{"queue-full", 3}, {"rejected-http-400", 4}};
  auto parsed = ParseReport(ReportToJson(report));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->dropped_by_reason, report.dropped_by_reason);

  auto good = nlohmann::json::parse(ReportToJson(report));
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    ErrorCode code;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](nlohmann::json& j) { j["pinion"]["dropped-reasons"]["Bad Reason"] = 1; }, ErrorCode::kPolicySchema,
       "pinion.dropped-reasons.Bad Reason"},
      {[](nlohmann::json& j) { j["pinion"]["dropped-reasons"]["queue-full"] = -1; }, ErrorCode::kPolicySchema,
       "pinion.dropped-reasons.queue-full"},
      {[](nlohmann::json& j) { j["pinion"]["dropped-reasons"] = 3; }, ErrorCode::kPolicySchema, "pinion.dropped-reasons"},
      {[](nlohmann::json& j) {
         for (int i = 0; i < 17; ++i) j["pinion"]["dropped-reasons"]["r" + std::to_string(i)] = 1;
       },
       ErrorCode::kInputTooLarge, "pinion.dropped-reasons"},
      {[](nlohmann::json& j) { j["pinion"]["served-chain-length"] = 1; }, ErrorCode::kPolicySchema,
       "pinion.served-chain-length"},
      {[](nlohmann::json& j) { j["pinion"]["served-chain-sha256"] = "ABCD"; }, ErrorCode::kPolicySchema,
       "pinion.served-chain-sha256"},
      {[](nlohmann::json& j) { j["pinion"]["served-chain-sha256"] = std::string(64, 'G'); }, ErrorCode::kPolicySchema,
       "pinion.served-chain-sha256"},
  };
  for (const Case& c : cases) {
    nlohmann::json doc = good;
    c.edit(doc);
    auto refused = ParseReport(doc.dump());
    ASSERT_FALSE(refused.ok()) << doc.dump();
    EXPECT_EQ(refused.error().code(), c.code) << refused.error().ToString();
    EXPECT_EQ(refused.error().field(), c.field) << refused.error().ToString();
  }
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
      {"hpkp.json", ReportFormat::kHpkp}, {"trustkit.json", ReportFormat::kTrustKit}, {"pinion.json", ReportFormat::kPinion},
      {"pinion-truncated-served-chain.json", ReportFormat::kPinion}};
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
