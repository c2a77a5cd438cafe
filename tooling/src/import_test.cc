#include "pinion/tooling/import.h"

#include <gtest/gtest.h>

#include <plist/plist.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "pinion/policy_loader.h"
#include "pinion/policy_writer.h"
#include "pinion/tooling/export.h"
#include "test_pki.h"

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

std::string Changes(const ImportResult& result) {
  std::string out;
  for (const ImportChange& change : result.changes) out += change.ToString() + "\n";
  return out;
}

std::set<std::string> PinsOf(const DomainRule* rule) {
  std::set<std::string> out;
  if (rule != nullptr) {
    for (const PinEntry& entry : rule->pins) out.insert(entry.pin.ToString());
  }
  return out;
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
  std::string pins_file = "# test pins\nPinsListTimestamp\n1474416000\n\n";
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
  std::string changes = Changes(*imported);
  EXPECT_NE(changes.find("google: left out"), std::string::npos) << changes.substr(0, 2000);
  // bad_static_spki_hashes (forbidden keys) cannot be expressed: reported.
  auto with_bad = ImportPolicy(R"({"pinsets": [{"name": "s", "static_spki_hashes": ["K"], "bad_static_spki_hashes": ["K"]}],
                                   "entries": [{"name": "a.example.com", "pins": "s"}]})",
                               ImportFormat::kChromium, {.chromium_pins = "K\n" + kA.ToString() + "\n"});
  ASSERT_TRUE(with_bad.ok()) << with_bad.error().ToString();
  EXPECT_TRUE(with_bad->lossy());
  EXPECT_NE(Changes(*with_bad).find("pinset s: bad_static_spki_hashes"), std::string::npos) << Changes(*with_bad);
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
  std::string warnings = Changes(*result);
  EXPECT_TRUE(result->lossy());
  EXPECT_NE(warnings.find("note: line 1: debug-overrides"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("lossy: line 1: domain-config[0]: a pin with digest 'SHA-1'"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("lossy: line 1: com: left out"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("trust-anchors"), std::string::npos);
  auto sha1 = ImportPolicy(".add(\"a.example.com\", \"sha1/HuVFPi0Nl8Qvhijz8y0LvKvbPJo=\", \"" + kA.ToString() + "\")",
                           ImportFormat::kOkHttp, {});
  ASSERT_TRUE(sha1.ok());
  EXPECT_EQ(sha1->policy->rules()[0].pins.size(), 1u);
  EXPECT_TRUE(sha1->lossy());
}

// --- okhttp (issue 13, item 6) ---------------------------------------------------

Pin TestPin(int n) { return Pin::OfSpki(std::vector<std::uint8_t>{static_cast<std::uint8_t>(n), 0x42}); }

TEST(ImportOkHttpTest, RepeatedAddForOnePatternKeepsEveryPin) {
  std::string kotlin = "val p = CertificatePinner.Builder()\n"
                       "    .add(\"api.example.com\", \"" + kA.ToString() + "\")\n"
                       "    .add(\"API.example.com\", \"" + kB.ToString() + "\")\n"
                       "    .build()\n";
  auto imported = ImportPolicy(kotlin, ImportFormat::kOkHttp, {});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  ASSERT_EQ(imported->policy->rules().size(), 1u);
  EXPECT_EQ(PinsOf(&imported->policy->rules()[0]), (std::set<std::string>{kA.ToString(), kB.ToString()}));
  EXPECT_FALSE(imported->lossy()) << Changes(*imported);
}

TEST(ImportOkHttpTest, ArgumentsThatAreNotLiteralsAreReportedWithTheirLine) {
  std::string java = "import okhttp3.CertificatePinner;\n"
                     "class Pins {\n"
                     "  static final String HOST = \"b.example.com\";\n"
                     "  CertificatePinner pinner = new CertificatePinner.Builder()\n"
                     "      .add(HOST, \"" + kA.ToString() + "\")\n"
                     "      .add(\"a.example.com\", PIN_B, \"" + kA.ToString() + "\", \"sha256/\" + SUFFIX)\n"
                     "      .build();\n"
                     "}\n";
  auto imported = ImportPolicy(java, ImportFormat::kOkHttp, {});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  EXPECT_TRUE(imported->lossy());
  std::string changes = Changes(*imported);
  EXPECT_NE(changes.find("lossy: line 5: HOST: the host pattern is not a string literal"), std::string::npos) << changes;
  EXPECT_NE(changes.find("lossy: line 6: a.example.com: pin argument PIN_B is not a string literal"), std::string::npos) << changes;
  EXPECT_NE(changes.find("lossy: line 6: a.example.com: pin argument \"sha256/\"+SUFFIX is not a string literal"), std::string::npos)
      << changes;
  ASSERT_EQ(imported->policy->rules().size(), 1u);
  EXPECT_EQ(imported->policy->rules()[0].host.ToString(), "a.example.com");

  // A variable holding a builder is followed too; an add() on something else is named, not guessed at.
  std::string separate = "CertificatePinner.Builder builder = new CertificatePinner.Builder();\n"
                         "builder.add(\"c.example.com\", \"" + kA.ToString() + "\");\n"
                         "other.add(KEY, VALUE);\n";
  auto split = ImportPolicy(separate, ImportFormat::kOkHttp, {});
  ASSERT_TRUE(split.ok()) << split.error().ToString();
  EXPECT_EQ(split->policy->rules()[0].host.ToString(), "c.example.com");
  EXPECT_NE(Changes(*split).find("lossy: line 3: an add() call with 2 arguments is not recognised"), std::string::npos)
      << Changes(*split);
}

// OkHttp's matcher, from its documented semantics (testdata/okhttp/certificate_pinner_cases.json):
// exact; "*.p" = one label before p; "**.p" = p and any number of labels before it.
bool OkHttpMatches(const std::string& pattern, const std::string& host) {
  if (pattern.starts_with("**.")) {
    std::string base = pattern.substr(3);
    return host == base || host.ends_with("." + base);
  }
  if (pattern.starts_with("*.")) {
    std::string base = pattern.substr(2);
    if (!host.ends_with("." + base)) return false;
    std::string label = host.substr(0, host.size() - base.size() - 1);
    return !label.empty() && label.find('.') == std::string::npos;
  }
  return pattern == host;
}

TEST(ImportOkHttpTest, OverlappingPatternsAcceptExactlyWhatOkHttpAccepts) {
  // Every pattern shape, nested: OkHttp applies the union of all matching patterns' pins.
  const std::vector<std::pair<std::string, Pin>> adds = {
      {"api.example.com", TestPin(1)},  {"*.example.com", TestPin(2)},     {"**.example.com", TestPin(3)},
      {"**.api.example.com", TestPin(4)}, {"*.api.example.com", TestPin(5)}, {"**.www.example.com", TestPin(6)},
      {"x.api.example.com", TestPin(7)},  {"**.b.example.com", TestPin(8)}, {"other.org", TestPin(9)},
  };
  std::string code = "val pinner = CertificatePinner.Builder()\n";
  for (const auto& [pattern, pin] : adds) code += "  .add(\"" + pattern + "\", \"" + pin.ToString() + "\")\n";
  code += "  .build()\n";
  auto imported = ImportPolicy(code, ImportFormat::kOkHttp, {});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  EXPECT_FALSE(imported->lossy()) << Changes(*imported);
  const Policy& policy = *imported->policy;
  const std::vector<std::string> hosts = {
      "example.com",       "api.example.com",   "www.example.com",   "a.www.example.com", "x.api.example.com",
      "y.api.example.com", "z.y.api.example.com", "b.example.com",   "a.b.example.com",   "c.a.b.example.com",
      "q.example.com",     "q.r.example.com",   "other.org",         "a.other.org",       "example.net"};
  for (const std::string& host : hosts) {
    std::set<std::string> okhttp;
    for (const auto& [pattern, pin] : adds) {
      if (OkHttpMatches(pattern, host)) okhttp.insert(pin.ToString());
    }
    EXPECT_EQ(PinsOf(policy.FindRule(host)), okhttp) << host << "\n" << PolicyToToml(policy);
  }
  // www.example.com needs a rule of its own: pinion would decide it with *.example.com alone.
  const DomainRule* www = policy.FindRule("www.example.com");
  ASSERT_NE(www, nullptr);
  EXPECT_EQ(www->host.ToString(), "www.example.com");
}

TEST(ImportOkHttpTest, LabelsComeFromTheCommentOnThePinsLine) {
  std::string kotlin = "CertificatePinner.Builder()\n"
                       "  .add(\"a.example.com\",\n"
                       "      \"" + kA.ToString() + "\",  /* current */\n"
                       "      \"" + kB.ToString() + "\") // backup\n"
                       "  .build()\n";
  auto imported = ImportPolicy(kotlin, ImportFormat::kOkHttp, {});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  const auto& pins = imported->policy->rules()[0].pins;
  ASSERT_EQ(pins.size(), 2u);
  EXPECT_EQ(pins[0].label, "current");
  EXPECT_EQ(pins[1].label, "backup");
}

// --- trustkit (item 7) -----------------------------------------------------------

std::string TrustKitPlist(const std::string& domains) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n<key>TSKConfiguration</key>\n<dict>\n"
         "<key>TSKPinnedDomains</key>\n<dict>\n" + domains + "</dict>\n</dict>\n</dict>\n</plist>\n";
}

std::string TrustKitDomain(const std::string& host, const std::string& body) {
  return "<key>" + host + "</key>\n<dict>\n" + body + "</dict>\n";
}

std::string TrustKitHashes(const std::string& inner) {
  return "<key>TSKPublicKeyHashes</key>\n<array>\n" + inner + "</array>\n";
}

TEST(ImportTrustKitTest, AnExcludedSubdomainIsNeverRefusedAndTheChangeSaysHow) {
  std::string plist = TrustKitPlist(
      TrustKitDomain("example.com", TrustKitHashes("<string>" + kA.Base64() + "</string>\n<string>" + kB.Base64() + "</string>\n") +
                                        "<key>TSKIncludeSubdomains</key>\n<true/>\n") +
      TrustKitDomain("unsecured.example.com", "<key>kSKExcludeSubdomainFromParentPolicy</key>\n<true/>\n") +
      TrustKitDomain("legacy.example.com", "<key>TSKExcludeSubdomainFromParentPolicy</key>\n<true/>\n"));
  auto imported = ImportPolicy(plist, ImportFormat::kTrustKit, {});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  const Policy& policy = *imported->policy;
  for (const std::string host : {"unsecured.example.com", "legacy.example.com"}) {
    const DomainRule* rule = policy.FindRule(host);
    ASSERT_NE(rule, nullptr) << host;
    EXPECT_EQ(rule->host.ToString(), host);
    EXPECT_EQ(rule->mode, EnforcementMode::kReportOnly) << host;
    EXPECT_TRUE(rule->report_uris.empty());
  }
  // Only the name itself: TrustKit still pins the names below it with the parent's policy.
  EXPECT_EQ(policy.FindRule("a.unsecured.example.com")->host.ToString(), "**.example.com");
  EXPECT_EQ(policy.FindRule("a.unsecured.example.com")->mode, EnforcementMode::kEnforce);
  EXPECT_TRUE(imported->lossy());
  EXPECT_NE(Changes(*imported).find("lossy: line 18: unsecured.example.com: TrustKit does not pin it"), std::string::npos)
      << Changes(*imported);
  EXPECT_EQ(Changes(*imported).find("left out"), std::string::npos) << Changes(*imported);

  // With no covering parent, an exclusion means what it says: nothing to change.
  auto alone = ImportPolicy(TrustKitPlist(TrustKitDomain("a.example.org", TrustKitHashes("<string>" + kA.Base64() + "</string>\n")) +
                                          TrustKitDomain("b.example.org", "<key>TSKExcludeSubdomainFromParentPolicy</key><true/>\n")),
                            ImportFormat::kTrustKit, {});
  ASSERT_TRUE(alone.ok()) << alone.error().ToString();
  EXPECT_FALSE(alone->lossy()) << Changes(*alone);
  EXPECT_EQ(alone->policy->FindRule("b.example.org"), nullptr);
}

TEST(ImportTrustKitTest, LabelsComeOnlyFromTheCommentThatBelongsToThePin) {
  std::string hashes = "<!-- current -->\n<string>" + kA.Base64() + "</string>\n" +  // comment on the line before
                       "<string>" + kB.Base64() + "</string> <!-- backup -->\n" +    // trailing comment on its line
                       "<string>" + TestPin(3).Base64() + "</string>\n";             // no comment of its own
  auto imported = ImportPolicy(TrustKitPlist(TrustKitDomain("a.example.com", TrustKitHashes(hashes))), ImportFormat::kTrustKit, {});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  const auto& pins = imported->policy->rules()[0].pins;
  ASSERT_EQ(pins.size(), 3u);
  EXPECT_EQ(pins[0].label, "current");
  EXPECT_EQ(pins[1].label, "backup");
  EXPECT_EQ(pins[2].label, "");
}

TEST(ImportTrustKitTest, BooleansAreReadAsTrustKitReadsThem) {
  std::string body = TrustKitHashes("<string>" + kA.Base64() + "</string>\n") +
                     "<key>TSKEnforcePinning</key><integer>0</integer>\n<key>TSKIncludeSubdomains</key><string>YES</string>\n";
  auto imported = ImportPolicy(TrustKitPlist(TrustKitDomain("a.example.com", body)), ImportFormat::kTrustKit, {});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  EXPECT_EQ(imported->policy->rules()[0].mode, EnforcementMode::kReportOnly);
  EXPECT_EQ(imported->policy->rules()[0].host.ToString(), "**.a.example.com");
}

struct PlistDeleter {
  void operator()(void* node) const { plist_free(node); }
};

std::string ToBinaryPlist(const std::string& xml) {
  plist_t parsed = nullptr;
  plist_from_xml(xml.data(), static_cast<std::uint32_t>(xml.size()), &parsed);
  std::unique_ptr<void, PlistDeleter> root(parsed);
  EXPECT_NE(root, nullptr);
  char* bytes = nullptr;
  std::uint32_t length = 0;
  plist_to_bin(root.get(), &bytes, &length);
  std::string out(bytes, length);
  plist_to_bin_free(bytes);
  return out;
}

TEST(ImportTrustKitTest, BinaryPlistsMeanWhatTheirXmlMeans) {
  auto source = Source(Rule("api.example.com", "mode = \"report-only\"\nexpires = 2027-06-01\nreport_uri = [\"https://r.example.com/a\"]\n") +
                       Rule("example.org", "include_subdomains = true\n"));
  auto exported = ExportPolicy(*source, ExportFormat::kTrustKit, {.now = kNow});
  ASSERT_TRUE(exported.ok()) << exported.error().ToString();
  std::string binary = ToBinaryPlist(exported->text);
  ASSERT_TRUE(binary.starts_with("bplist00"));
  auto from_xml = ImportPolicy(exported->text, ImportFormat::kTrustKit, {.version = 9});
  auto from_binary = ImportPolicy(binary, ImportFormat::kTrustKit, {.version = 9});
  ASSERT_TRUE(from_xml.ok()) << from_xml.error().ToString();
  ASSERT_TRUE(from_binary.ok()) << from_binary.error().ToString();
  // Same hosts, pins, modes, report URIs and expiry; labels live in XML comments only.
  ASSERT_EQ(from_binary->policy->rules().size(), from_xml->policy->rules().size());
  for (std::size_t i = 0; i < from_xml->policy->rules().size(); ++i) {
    const DomainRule& a = from_xml->policy->rules()[i];
    const DomainRule& b = from_binary->policy->rules()[i];
    EXPECT_EQ(a.host, b.host);
    EXPECT_EQ(a.mode, b.mode);
    EXPECT_EQ(a.expires, b.expires);
    EXPECT_EQ(a.report_uris, b.report_uris);
    EXPECT_EQ(PinsOf(&a), PinsOf(&b));
  }
  // Truncated binary input is an error, not a crash or an empty policy.
  auto truncated = ImportPolicy(binary.substr(0, binary.size() / 2), ImportFormat::kTrustKit, {.source_name = "cut.plist"});
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code(), ErrorCode::kPolicySyntax);
  EXPECT_EQ(truncated.error().source(), "cut.plist");
}

// --- android-nsc: the same class of change as TrustKit's exclusions -----------------

TEST(ImportAndroidTest, ADomainConfigWithoutPinSetUnderAPinnedParentIsNeverRefused) {
  std::string nsc = "<network-security-config>\n"
                    "<domain-config><domain includeSubdomains=\"true\">example.com</domain>\n"
                    "<pin-set><pin digest=\"SHA-256\">" + kA.Base64() + "</pin> <!-- current -->\n"
                    "<pin digest=\"SHA-256\">" + kB.Base64() + "</pin></pin-set></domain-config>\n"
                    "<domain-config cleartextTrafficPermitted=\"false\"><domain>cdn.example.com</domain></domain-config>\n"
                    "</network-security-config>\n";
  auto imported = ImportPolicy(nsc, ImportFormat::kAndroidNsc, {});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  EXPECT_EQ(imported->policy->FindRule("cdn.example.com")->mode, EnforcementMode::kReportOnly);
  EXPECT_TRUE(imported->lossy());
  EXPECT_NE(Changes(*imported).find("lossy: line 5: cdn.example.com: Android does not pin it"), std::string::npos)
      << Changes(*imported);
  const auto& pins = imported->policy->FindRule("example.com")->pins;
  EXPECT_EQ(pins[0].label, "current");
  EXPECT_EQ(pins[1].label, "");
}

// trust-anchors name app resources: with the app's res/ directory they are
// read and kept as the rule's anchors (exported and imported back, the same
// anchors); without it, or where pinion cannot express them, a lossy change.
TEST(ImportAndroidTest, TrustAnchorsAreReadFromTheAppsResources) {
  testing::TestPki pki = testing::TestPki::Create("api.example.com");
  auto source = Source(Rule("api.example.com", "anchors = \"\"\"\n" + pki.root.Pem() + "\"\"\"\n"));
  auto exported = ExportPolicy(*source, ExportFormat::kAndroidNsc, {.now = kNow});
  ASSERT_TRUE(exported.ok()) << exported.error().ToString();
  ASSERT_NE(exported->text.find("@raw/pinion_anchors_0"), std::string::npos) << exported->text;

  auto without = ImportPolicy(exported->text, ImportFormat::kAndroidNsc, {.now = kNow});
  ASSERT_TRUE(without.ok()) << without.error().ToString();
  EXPECT_TRUE(without->lossy());
  EXPECT_NE(Changes(*without).find("--res DIR"), std::string::npos) << Changes(*without);
  EXPECT_TRUE(without->policy->FindRule("api.example.com")->anchors.use_system());

  testing::TempDir res;
  std::filesystem::create_directory(res.path() / "raw");
  res.Write("raw/pinion_anchors_0.pem", pki.root.Pem());  // the step the export names
  auto with = ImportPolicy(exported->text, ImportFormat::kAndroidNsc,
                           {.now = kNow, .android_resources = res.path().string()});
  ASSERT_TRUE(with.ok()) << with.error().ToString();
  EXPECT_FALSE(with->lossy()) << Changes(*with);
  const DomainRule* rule = with->policy->FindRule("api.example.com");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->anchors.certificates_der, source->rules()[0].anchors.certificates_der);
  auto reloaded = ParsePolicyToml(PolicyToToml(*with->policy), "reloaded.toml");  // the written policy loads
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().ToString();
  EXPECT_EQ((*reloaded)->FindRule("api.example.com")->anchors.certificates_der, rule->anchors.certificates_der);

  auto nsc = [&](const std::string& certificates, const std::string& nested) {
    return "<network-security-config><domain-config><domain>a.example.com</domain>"
           "<trust-anchors>" + certificates + "</trust-anchors>"
           "<pin-set><pin digest=\"SHA-256\">" + kA.Base64() + "</pin></pin-set>" + nested +
           "</domain-config></network-security-config>";
  };
  // Nested domain-configs inherit trust-anchors as they inherit the pin-set.
  auto nested = ImportPolicy(nsc("<certificates src=\"@raw/pinion_anchors_0\"/>",
                                 "<domain-config><domain>b.example.com</domain></domain-config>"),
                             ImportFormat::kAndroidNsc, {.android_resources = res.path().string()});
  ASSERT_TRUE(nested.ok()) << nested.error().ToString();
  EXPECT_FALSE(nested->lossy()) << Changes(*nested);
  EXPECT_EQ(nested->policy->FindRule("b.example.com")->anchors.certificates_der, rule->anchors.certificates_der);
  // What a pinion rule cannot trust, or trusts differently: lossy, and the system store is kept.
  for (const std::string& certificates :
       {std::string("<certificates src=\"user\"/>"),
        std::string("<certificates src=\"system\"/><certificates src=\"@raw/pinion_anchors_0\"/>"),
        std::string("<certificates src=\"@raw/pinion_anchors_0\" overridePins=\"true\"/>")}) {
    auto imported = ImportPolicy(nsc(certificates, ""), ImportFormat::kAndroidNsc,
                                 {.android_resources = res.path().string()});
    ASSERT_TRUE(imported.ok()) << certificates << ": " << imported.error().ToString();
    EXPECT_TRUE(imported->lossy()) << certificates;
  }
  // "system" alone is pinion's default: exact.
  auto system = ImportPolicy(nsc("<certificates src=\"system\"/>", ""), ImportFormat::kAndroidNsc, {});
  ASSERT_TRUE(system.ok());
  EXPECT_FALSE(system->lossy()) << Changes(*system);
  // A resource that is not there is an error naming it.
  auto missing = ImportPolicy(nsc("<certificates src=\"@raw/absent\"/>", ""), ImportFormat::kAndroidNsc,
                              {.android_resources = res.path().string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kPolicyAnchors);
  EXPECT_NE(missing.error().message().find("@raw/absent"), std::string::npos);
}

// --- chromium (item 8) -----------------------------------------------------------

TEST(ImportChromiumTest, ThePinsFileTakesHashesCertificatesAndPublicKeys) {
  auto pki = pinion::testing::TestPki::Create("pinned.example.com");
  std::string pins = "# Chromium pins file\n"
                     "PinsListTimestamp\n"
                     "1767225600\n\n"
                     "TestHash\n" + kA.ToString() + "\n\n"
                     "# the issuing CA\n"
                     "TestIntermediate\n" + pki.intermediate.Pem() + "\n"
                     "TestBackupKey\n" + pki.backup_key.PublicPem() + "\n";
  std::string json = R"({"pinsets": [{"name": "test", "static_spki_hashes": ["TestHash", "TestIntermediate", "TestBackupKey"],
                                      "report_uri": "https://r.example.com/pkp"}],
                         "entries": [{"name": "pinned.example.com", "policy": "custom", "pins": "test", "include_subdomains": true}]})";
  auto imported = ImportPolicy(json, ImportFormat::kChromium, {.chromium_pins = pins});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  EXPECT_FALSE(imported->lossy()) << Changes(*imported);
  const DomainRule& rule = imported->policy->rules()[0];
  EXPECT_EQ(rule.host.ToString(), "**.pinned.example.com");
  ASSERT_EQ(rule.pins.size(), 3u);
  EXPECT_EQ(rule.pins[0].pin, kA);
  EXPECT_EQ(rule.pins[1].pin, pki.intermediate.SpkiPin());
  EXPECT_EQ(rule.pins[1].label, "TestIntermediate");
  EXPECT_EQ(rule.pins[2].pin, pki.backup_key.SpkiPin());
  EXPECT_EQ(rule.report_uris, std::vector<std::string>{"https://r.example.com/pkp"});
  // Chromium stops enforcing a list ten weeks after its timestamp.
  EXPECT_EQ(rule.expires, TimePoint(std::chrono::seconds(1767225600)) + std::chrono::hours(70 * 24));
  EXPECT_EQ(rule.on_expiry, ExpiryAction::kAllow);
}

TEST(ImportChromiumTest, APinsetNamingAMissingKeyIsAnError) {
  std::string json = R"({"pinsets": [{"name": "test", "static_spki_hashes": ["TestHash", "TestMissing"]}],
                         "entries": [{"name": "pinned.example.com", "pins": "test"}]})";
  auto imported = ImportPolicy(json, ImportFormat::kChromium,
                               {.source_name = "static.json", .chromium_pins = "PinsListTimestamp\n1\nTestHash\n" + kA.ToString() + "\n"});
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.error().code(), ErrorCode::kPolicySchema);
  EXPECT_NE(imported.error().message().find("pinset test names key 'TestMissing', which the pins file lacks"), std::string::npos)
      << imported.error().ToString();
}

TEST(ImportChromiumTest, MalformedPinsFilesAreErrorsWithTheirLine) {
  const std::pair<std::string, std::uint32_t> cases[] = {
      {"lowercase\n" + kA.ToString() + "\n", 1},                        // not a key name
      {"# c\nName\nsomething else\n", 3},                                 // no value after the name
      {"Name\n-----BEGIN CERTIFICATE-----\nAAAA\n", 1},                   // the file ends inside a PEM block
      {"Name\n" + kA.ToString() + "\nName\n" + kB.ToString() + "\n", 3},  // a name used twice
      {"PinsListTimestamp\nsoon\n", 2},
  };
  for (const auto& [pins, line] : cases) {
    auto imported = ImportPolicy(R"({"pinsets": [], "entries": []})", ImportFormat::kChromium, {.source_name = "s.json", .chromium_pins = pins});
    ASSERT_FALSE(imported.ok()) << pins;
    EXPECT_EQ(imported.error().line(), line) << pins << ": " << imported.error().ToString();
    EXPECT_EQ(imported.error().source(), "s.json (pins)");
  }
}

}  // namespace
}  // namespace pinion::tooling
