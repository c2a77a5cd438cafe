#include "pinion/tooling/import.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "pinion/policy_loader.h"
#include "pinion/policy_writer.h"
#include "pinion/tooling/export.h"

namespace pinion::tooling {
namespace {

const TimePoint kNow = *ParseTimestamp("2026-11-21T00:00:00Z");
const Pin kA = Pin::OfSpki(std::vector<std::uint8_t>{1});
const Pin kB = Pin::OfSpki(std::vector<std::uint8_t>{2});

PolicySnapshot Source(const std::string& domains) {
  auto policy = ParsePolicyToml("[policy]\nversion = 9\n" + domains, "source.toml");
  EXPECT_TRUE(policy.ok()) << policy.error().ToString();
  return *policy;
}

std::string Rule(const std::string& host, const std::string& extra = "") {
  return "[[domain]]\nhost = \"" + host + "\"\n" + extra + "pins = [{pin = \"" + kA.ToString() +
         "\", label = \"current\"}, {pin = \"" + kB.ToString() + "\", label = \"backup\"}]\n";
}

// Export with pinion, import the result: everything the target can carry comes back.
PolicySnapshot RoundTrip(const Policy& policy, ExportFormat to, ImportFormat from, ImportOptions options = {}) {
  auto exported = ExportPolicy(policy, to, {.now = kNow, .host = options.host});
  EXPECT_TRUE(exported.ok()) << exported.error().ToString();
  options.now = kNow;
  options.version = policy.version();
  auto imported = ImportPolicy(exported->text, from, options);
  EXPECT_TRUE(imported.ok()) << imported.error().ToString() << "\n" << exported->text;
  return imported->policy;
}

TEST(ImportTest, AndroidRoundTripKeepsHostsPinsLabelsAndExpiry) {
  auto source = Source(Rule("api.example.com", "expires = 2027-06-01\n") + Rule("example.org", "include_subdomains = true\n"));
  auto back = RoundTrip(*source, ExportFormat::kAndroidNsc, ImportFormat::kAndroidNsc);
  EXPECT_TRUE(SamePolicy(*source, *back)) << PolicyToToml(*back);
}

TEST(ImportTest, TrustKitRoundTripKeepsModeReportUrisAndExpiry) {
  auto source = Source(Rule("api.example.com", "mode = \"report-only\"\nexpires = 2027-06-01\nreport_uri = [\"https://r.example.com/a\"]\n") +
                       Rule("example.org", "include_subdomains = true\n"));
  auto back = RoundTrip(*source, ExportFormat::kTrustKit, ImportFormat::kTrustKit);
  EXPECT_TRUE(SamePolicy(*source, *back)) << PolicyToToml(*back);
}

TEST(ImportTest, OkHttpKotlinAndJavaRoundTripHostsAndPins) {
  auto source = Source(Rule("api.example.com") + Rule("*.example.net") + Rule("**.example.org"));
  for (auto format : {ExportFormat::kOkHttp, ExportFormat::kOkHttpJava}) {
    auto back = RoundTrip(*source, format, ImportFormat::kOkHttp);
    ASSERT_EQ(back->rules().size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(back->rules()[i].host, source->rules()[i].host);
      ASSERT_EQ(back->rules()[i].pins.size(), 2u);
      EXPECT_EQ(back->rules()[i].pins[1].pin, kB);
    }
  }
}

TEST(ImportTest, HpkpHeader) {
  auto source = Source(Rule("api.example.com", "include_subdomains = true\nmode = \"report-only\"\nexpires = 2027-01-01\nreport_uri = [\"https://r.example.com/\"]\n"));
  auto back = RoundTrip(*source, ExportFormat::kHpkp, ImportFormat::kHpkp, {.host = "api.example.com"});
  const DomainRule& rule = back->rules()[0];
  EXPECT_EQ(rule.host.ToString(), "**.api.example.com");
  EXPECT_EQ(rule.mode, EnforcementMode::kReportOnly);
  EXPECT_EQ(rule.expires, *ParseTimestamp("2027-01-01"));
  EXPECT_EQ(rule.report_uris, std::vector<std::string>{"https://r.example.com/"});
  EXPECT_EQ(rule.pins.size(), 2u);
  auto no_host = ImportPolicy("pin-sha256=\"" + kA.Base64() + "\"; max-age=10", ImportFormat::kHpkp, {});
  EXPECT_EQ(no_host.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ImportTest, ChromiumStaticListWithAPinsFile) {
  std::ifstream in(std::string(PINION_TESTDATA_DIR) + "/chromium/transport_security_state_static.json");
  std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The names-to-keys file is not part of the snapshot: make one for every name used,
  // each name pinned to a key derived from it.
  auto document = nlohmann::json::parse(json, nullptr, true, true);
  std::string pins_file = "# test pins\n";
  std::map<std::string, Pin> expected;
  for (const auto& set : document["pinsets"]) {
    for (const auto& name : set.value("static_spki_hashes", nlohmann::json::array())) {
      std::string n = name;
      Pin pin = Pin::OfSpki(std::vector<std::uint8_t>(n.begin(), n.end()));
      if (expected.emplace(n, pin).second) pins_file += n + "\n" + pin.ToString() + "\n\n";
    }
  }
  auto imported = ImportPolicy(json, ImportFormat::kChromium, {.source_name = "static.json", .chromium_pins = pins_file});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  const Policy& policy = *imported->policy;
  EXPECT_GT(policy.rules().size(), 100u);
  EXPECT_TRUE(policy.CheckInvariants());
  const DomainRule* test = policy.FindRule("pinningtest.appspot.com");
  ASSERT_NE(test, nullptr);
  EXPECT_TRUE(test->host.include_subdomains());
  // Every imported pin carries the name Chromium gave its key, and the key we mapped it to.
  for (const DomainRule& rule : policy.rules()) {
    for (const PinEntry& entry : rule.pins) EXPECT_EQ(entry.pin, expected.at(entry.label)) << entry.label;
  }
  std::string warnings;
  for (const auto& w : imported->warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("google: left out"), std::string::npos) << warnings.substr(0, 2000);
  // bad_static_spki_hashes (forbidden keys) cannot be expressed: reported.
  auto with_bad = ImportPolicy(R"({"pinsets": [{"name": "s", "static_spki_hashes": ["K"], "bad_static_spki_hashes": ["K"]}],
                                   "entries": [{"name": "a.example.com", "pins": "s"}]})",
                               ImportFormat::kChromium, {.chromium_pins = "K\n" + kA.ToString() + "\n"});
  ASSERT_TRUE(with_bad.ok()) << with_bad.error().ToString();
  EXPECT_NE(with_bad->warnings.front().find("bad_static_spki_hashes"), std::string::npos);
  // Without the keys, nothing can be pinned: named pins are reported, not invented.
  auto no_pins = ImportPolicy(json, ImportFormat::kChromium, {.chromium_pins = ""});
  EXPECT_FALSE(no_pins.ok());
}

TEST(ImportTest, MalformedInputsAreErrorsNamingTheInput) {
  struct Case {
    ImportFormat format;
    std::string text;
    ErrorCode code;
  };
  const Case cases[] = {
      {ImportFormat::kAndroidNsc, "<network-security-config><domain-config", ErrorCode::kPolicySyntax},
      {ImportFormat::kAndroidNsc, "<other/>", ErrorCode::kPolicySchema},
      {ImportFormat::kAndroidNsc, "<network-security-config><domain-config><domain>a.example.com</domain><pin-set><pin digest=\"SHA-256\">abc</pin></pin-set></domain-config></network-security-config>", ErrorCode::kPinBase64},
      {ImportFormat::kAndroidNsc, "<network-security-config/>", ErrorCode::kPolicySchema},
      {ImportFormat::kTrustKit, "<plist><dict/></plist>", ErrorCode::kPolicySchema},
      {ImportFormat::kOkHttp, "val x = 1", ErrorCode::kPolicySchema},
      {ImportFormat::kOkHttp, ".add(\"a.example.com\", \"sha256/no!e\")", ErrorCode::kPinBase64},
      {ImportFormat::kChromium, "{not json", ErrorCode::kPolicySyntax},
      {ImportFormat::kHpkp, "max-age=5", ErrorCode::kPinSyntax},
  };
  for (const Case& c : cases) {
    auto result = ImportPolicy(c.text, c.format, {.source_name = "bad.input", .host = "a.example.com"});
    ASSERT_FALSE(result.ok()) << c.text;
    EXPECT_EQ(result.error().code(), c.code) << c.text << ": " << result.error().ToString();
    EXPECT_EQ(result.error().source(), "bad.input") << c.text;
  }
  EXPECT_EQ(ImportPolicy(std::string(kMaxImportBytes + 1, ' '), ImportFormat::kOkHttp, {}).error().code(),
            ErrorCode::kInputTooLarge);
}

TEST(ImportTest, WhatThePolicyCannotHoldIsReported) {
  std::string nsc = "<network-security-config><debug-overrides/><domain-config><domain includeSubdomains=\"true\">com</domain>"
                    "<domain>ok.example.com</domain><pin-set><pin digest=\"SHA-1\">x</pin><pin digest=\"SHA-256\">" +
                    kA.Base64() + "</pin></pin-set><trust-anchors/></domain-config></network-security-config>";
  auto result = ImportPolicy(nsc, ImportFormat::kAndroidNsc, {});
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->policy->rules().size(), 1u);
  std::string warnings;
  for (const auto& w : result->warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("debug-overrides"), std::string::npos);
  EXPECT_NE(warnings.find("SHA-1"), std::string::npos);
  EXPECT_NE(warnings.find("com: left out"), std::string::npos);
  EXPECT_NE(warnings.find("trust-anchors"), std::string::npos);
  auto sha1 = ImportPolicy(".add(\"a.example.com\", \"sha1/HuVFPi0Nl8Qvhijz8y0LvKvbPJo=\", \"" + kA.ToString() + "\")",
                           ImportFormat::kOkHttp, {});
  ASSERT_TRUE(sha1.ok());
  EXPECT_EQ(sha1->policy->rules()[0].pins.size(), 1u);
}

}  // namespace
}  // namespace pinion::tooling
