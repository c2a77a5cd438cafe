#include "pinion/policy_loader.h"

#include <gtest/gtest.h>

#include "pinion/certificate_info.h"
#include "pinion/clock.h"
#include "pinion/policy_writer.h"
#include "test_pki.h"

namespace pinion {
namespace {

using testing::TempDir;

const std::string kPinA = Pin::OfSpki(std::vector<std::uint8_t>{1}).ToString();
const std::string kPinB = Pin::OfSpki(std::vector<std::uint8_t>{2}).ToString();

std::string FullToml() {
  return R"([policy]
version = 7

[[domain]]
host = "api.example.com"
include_subdomains = false
mode = "enforce"
expires = 2027-06-01
on_expiry = "allow"
report_uri = ["https://pins.example.com/report"]
anchors = "system"
pins = [
  { pin = ")" + kPinA + R"(", label = "leaf key 2026" },
  { pin = ")" + kPinB + R"(", label = "backup key, offline" },
]

[[domain]]
host = "*.cdn.example.com"
mode = "report-only"
expires = 2027-01-01T12:00:00+02:00
on_expiry = "enforce"
pins = [ { pin = ")" + kPinA + R"(" } ]
)";
}

std::string FullJson() {
  return R"({
  "policy": {"version": 7},
  "domain": [
    {"host": "api.example.com", "include_subdomains": false, "mode": "enforce",
     "expires": "2027-06-01", "on_expiry": "allow",
     "report_uri": ["https://pins.example.com/report"], "anchors": "system",
     "pins": [{"pin": ")" + kPinA + R"(", "label": "leaf key 2026"},
              {"pin": ")" + kPinB + R"(", "label": "backup key, offline"}]},
    {"host": "*.cdn.example.com", "mode": "report-only", "expires": "2027-01-01T12:00:00+02:00",
     "on_expiry": "enforce", "pins": [{"pin": ")" + kPinA + R"("}]}
  ]
})";
}

void ExpectFullPolicy(const Policy& policy) {
  EXPECT_EQ(policy.version(), 7u);
  ASSERT_EQ(policy.rules().size(), 2u);
  const DomainRule& api = policy.rules()[0];
  EXPECT_EQ(api.host.ToString(), "api.example.com");
  EXPECT_EQ(api.mode, EnforcementMode::kEnforce);
  EXPECT_EQ(api.expires, *ParseTimestamp("2027-06-01T00:00:00Z"));
  EXPECT_EQ(api.on_expiry, ExpiryAction::kAllow);
  EXPECT_EQ(api.report_uris, std::vector<std::string>{"https://pins.example.com/report"});
  EXPECT_TRUE(api.anchors.use_system());
  ASSERT_EQ(api.pins.size(), 2u);
  EXPECT_EQ(api.pins[1].pin.ToString(), kPinB);
  EXPECT_EQ(api.pins[1].label, "backup key, offline");
  const DomainRule& cdn = policy.rules()[1];
  EXPECT_EQ(cdn.host.kind(), HostPatternKind::kWildcard);
  EXPECT_EQ(cdn.mode, EnforcementMode::kReportOnly);
  EXPECT_EQ(cdn.expires, *ParseTimestamp("2027-01-01T10:00:00Z"));
  EXPECT_EQ(cdn.on_expiry, ExpiryAction::kEnforce);
  EXPECT_TRUE(policy.CheckInvariants());
}

TEST(PolicyLoaderTest, TomlAndJsonLoadTheSamePolicy) {
  auto toml = ParsePolicyToml(FullToml(), "p.toml");
  ASSERT_TRUE(toml.ok()) << toml.error().ToString();
  ExpectFullPolicy(**toml);
  auto json = ParsePolicyJson(FullJson(), "p.json");
  ASSERT_TRUE(json.ok()) << json.error().ToString();
  ExpectFullPolicy(**json);
}

TEST(PolicyLoaderTest, DefaultsAndEmptyPolicy) {
  auto policy = ParsePolicyToml("[policy]\nversion = 1\n[[domain]]\nhost = \"a.example.com\"\npins = [{pin = \"" + kPinA + "\"}]\n", "p");
  ASSERT_TRUE(policy.ok()) << policy.error().ToString();
  const DomainRule& rule = (*policy)->rules()[0];
  EXPECT_EQ(rule.mode, EnforcementMode::kEnforce);
  EXPECT_FALSE(rule.expires.has_value());
  EXPECT_EQ(rule.on_expiry, ExpiryAction::kAllow);
  EXPECT_TRUE(ParsePolicyToml("[policy]\nversion = 1\n", "p").ok());
}

struct BadPolicy {
  std::string name;
  std::string toml;
  ErrorCode code;
  std::string field;
  std::uint32_t line;  // 0 = do not check
};

std::string Domain(const std::string& extra, const std::string& pins = "") {
  return "[policy]\nversion = 1\n[[domain]]\nhost = \"a.example.com\"\n" + extra +
         (pins.empty() ? "pins = [{pin = \"" + kPinA + "\"}]\n" : pins);
}

TEST(PolicyLoaderTest, ErrorsNameFileLineFieldAndReason) {
  const BadPolicy cases[] = {
      {"syntax", "[policy\nversion = 1\n", ErrorCode::kPolicySyntax, "", 1},
      {"no policy table", "[[domain]]\nhost = \"a.example.com\"\n", ErrorCode::kPolicySchema, "policy", 0},
      {"no version", "[policy]\n", ErrorCode::kPolicySchema, "policy.version", 0},
      {"zero version", "[policy]\nversion = 0\n", ErrorCode::kPolicySchema, "policy.version", 2},
      {"version type", "[policy]\nversion = \"1\"\n", ErrorCode::kPolicySchema, "policy.version", 2},
      {"unknown top key", "[policy]\nversion = 1\n[extra]\n", ErrorCode::kPolicySchema, "extra", 0},
      {"unknown policy key", "[policy]\nversion = 1\nname = \"x\"\n", ErrorCode::kPolicySchema, "policy.name", 3},
      {"unknown domain key", Domain("colour = \"red\"\n"), ErrorCode::kPolicySchema, "domain[0].colour", 5},
      {"mode value", Domain("mode = \"strict\"\n"), ErrorCode::kPolicySchema, "domain[0].mode", 5},
      {"mode type", Domain("mode = 1\n"), ErrorCode::kPolicySchema, "domain[0].mode", 5},
      {"subdomains type", Domain("include_subdomains = \"yes\"\n"), ErrorCode::kPolicySchema, "domain[0].include_subdomains", 5},
      {"on_expiry", Domain("on_expiry = \"maybe\"\n"), ErrorCode::kPolicySchema, "domain[0].on_expiry", 5},
      {"bad date", Domain("expires = \"2027-02-30\"\n"), ErrorCode::kPolicyDate, "domain[0].expires", 5},
      {"date text", Domain("expires = \"next year\"\n"), ErrorCode::kPolicyDate, "domain[0].expires", 5},
      {"year 0", Domain("expires = 0000-06-01\n"), ErrorCode::kPolicyDate, "domain[0].expires", 3},
      {"local datetime", Domain("expires = 2027-06-01T00:00:00\n"), ErrorCode::kPolicySyntax, "", 5},
      {"report uri scheme", Domain("report_uri = [\"ftp://x\"]\n"), ErrorCode::kPolicySchema, "domain[0].report_uri[0]", 5},
      {"report uri type", Domain("report_uri = \"https://x\"\n"), ErrorCode::kPolicySchema, "domain[0].report_uri", 5},
      {"anchors missing", Domain("anchors = \"/nonexistent/roots.pem\"\n"), ErrorCode::kPolicyAnchors, "domain[0].anchors", 5},
      {"no pins", Domain(""," "), ErrorCode::kPolicySchema, "domain[0].pins", 0},
      {"empty pins", Domain("", "pins = []\n"), ErrorCode::kPolicySchema, "domain[0].pins", 0},
      {"pin not table", Domain("", "pins = [\"" + kPinA + "\"]\n"), ErrorCode::kPolicySchema, "domain[0].pins[0]", 5},
      {"bad pin", Domain("", "pins = [{pin = \"sha256/ab_c\"}]\n"), ErrorCode::kPinBase64, "domain[0].pins[0].pin", 5},
      {"sha1 pin", Domain("", "pins = [{pin = \"sha1/HuVFPi0Nl8Qvhijz8y0LvKvbPJo=\"}]\n"), ErrorCode::kPinUnsupportedAlgorithm, "domain[0].pins[0].pin", 5},
      {"pin key", Domain("", "pins = [{pin = \"" + kPinA + "\", note = \"x\"}]\n"), ErrorCode::kPolicySchema, "domain[0].pins[0].note", 5},
      {"pin role", Domain("", "pins = [{pin = \"" + kPinA + "\", role = \"root\"}]\n"), ErrorCode::kPolicySchema, "domain[0].pins[0].role", 5},
      {"duplicate pin", Domain("", "pins = [{pin = \"" + kPinA + "\"}, {pin = \"" + kPinA + "\"}]\n"), ErrorCode::kPolicySchema, "domain[0].pins[1]", 3},
      {"public suffix", "[policy]\nversion = 1\n[[domain]]\nhost = \"*.co.uk\"\npins = [{pin = \"" + kPinA + "\"}]\n", ErrorCode::kHostPublicSuffix, "domain[0].host", 4},
      {"bad host", "[policy]\nversion = 1\n[[domain]]\nhost = \"a b\"\npins = [{pin = \"" + kPinA + "\"}]\n", ErrorCode::kHostSyntax, "domain[0].host", 4},
      {"lint_disable type", Domain("lint_disable = \"PIN010\"\n"), ErrorCode::kPolicySchema, "domain[0].lint_disable", 5},
      {"lint_disable id", Domain("lint_disable = [\"PIN010\", \"overlapping-rules\"]\n"), ErrorCode::kPolicySchema, "domain[0].lint_disable[1]", 5},
      {"lint_disable short id", Domain("lint_disable = [\"PIN10\"]\n"), ErrorCode::kPolicySchema, "domain[0].lint_disable[0]", 5},
      {"lint_disable not text", Domain("lint_disable = [10]\n"), ErrorCode::kPolicySchema, "domain[0].lint_disable[0]", 5},
      {"lint_disable twice", Domain("lint_disable = [\"PIN010\", \"PIN010\"]\n"), ErrorCode::kPolicySchema, "domain[0].lint_disable[1]", 5},
      {"duplicate host", Domain("") + "[[domain]]\nhost = \"A.example.com\"\npins = [{pin = \"" + kPinB + "\"}]\n", ErrorCode::kPolicyDuplicateHost, "domain[1].host", 6},
  };
  for (const BadPolicy& bad : cases) {
    auto policy = ParsePolicyToml(bad.toml, "bad.toml");
    ASSERT_FALSE(policy.ok()) << bad.name;
    const Error& error = policy.error();
    EXPECT_EQ(error.code(), bad.code) << bad.name << ": " << error.ToString();
    EXPECT_EQ(error.source(), "bad.toml") << bad.name;
    if (!bad.field.empty()) {
      EXPECT_EQ(error.field(), bad.field) << bad.name << ": " << error.ToString();
    }
    if (bad.line != 0) {
      EXPECT_EQ(error.line(), bad.line) << bad.name << ": " << error.ToString();
    }
    EXPECT_NE(error.ToString().find("bad.toml"), std::string::npos);
  }
}

TEST(PolicyLoaderTest, LintDisableIsKeptInTomlAndJson) {
  auto toml = ParsePolicyToml(Domain("lint_disable = [\"PIN010\", \"PIN003\"]\n"), "p.toml");
  ASSERT_TRUE(toml.ok()) << toml.error().ToString();
  EXPECT_EQ((*toml)->rules()[0].lint_disable, (std::vector<std::string>{"PIN010", "PIN003"}));
  auto json = ParsePolicyJson(R"({"policy": {"version": 1}, "domain": [{"host": "a.example.com",
      "lint_disable": ["PIN010"], "pins": [{"pin": ")" + kPinA + R"("}]}]})", "p.json");
  ASSERT_TRUE(json.ok()) << json.error().ToString();
  EXPECT_EQ((*json)->rules()[0].lint_disable, std::vector<std::string>{"PIN010"});
  // Code that builds a rule by hand meets the same checks.
  DomainRule rule{.host = *HostPattern::Parse("a.example.com", false), .pins = {{*Pin::Parse(kPinA)}}};
  rule.lint_disable = {"pin010"};
  auto made = Policy::Create(1, {rule});
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().field(), "domain[0].lint_disable[0]");
  rule.lint_disable.assign(kMaxLintDisablePerDomain + 1, "PIN001");
  EXPECT_EQ(Policy::Create(1, {rule}).error().code(), ErrorCode::kInputTooLarge);
}

TEST(PolicyLoaderTest, JsonErrors) {
  auto syntax = ParsePolicyJson("{\"policy\": {\"version\": 1},\n \"domain\": [}", "p.json");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().code(), ErrorCode::kPolicySyntax);
  EXPECT_EQ(syntax.error().line(), 2u);
  auto duplicate = ParsePolicyJson("{\"policy\": {\"version\": 1, \"version\": 2}}", "p.json");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code(), ErrorCode::kPolicySyntax);
  EXPECT_NE(duplicate.error().message().find("version"), std::string::npos);
  EXPECT_EQ(ParsePolicyJson("[1]", "p.json").error().code(), ErrorCode::kPolicySchema);
  EXPECT_EQ(ParsePolicyJson("{\"policy\": {\"version\": null}}", "p.json").error().code(), ErrorCode::kPolicySchema);
  EXPECT_EQ(ParsePolicyJson("{\"policy\": {\"version\": 1.5}}", "p.json").error().field(), "policy.version");
  // Found by fuzzing: nlohmann reports number overflow with a different exception type.
  auto overflow = ParsePolicyJson("{\"policy\": {\"version\": 6666666e66666666666666}}", "p.json");
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().code(), ErrorCode::kPolicySyntax);
  auto too_big = std::string(kMaxPolicyBytes + 1, ' ');
  EXPECT_EQ(ParsePolicyJson(too_big, "big.json").error().code(), ErrorCode::kInputTooLarge);
}

TEST(PolicyLoaderTest, AnchorsAreReadRelativeToThePolicyFile) {
  TempDir dir;
  auto key = testing::Key::Generate();
  auto root = testing::Issue({.common_name = "Anchor", .is_ca = true}, key, nullptr, key);
  std::filesystem::create_directories(dir.path() / "roots");
  dir.Write("roots/anchors.pem", root.Pem());
  auto file = dir.Write("policy.toml", Domain("anchors = \"roots/anchors.pem\"\n"));
  auto policy = LoadPolicyFile(file);
  ASSERT_TRUE(policy.ok()) << policy.error().ToString();
  const TrustAnchors& anchors = (*policy)->rules()[0].anchors;
  EXPECT_FALSE(anchors.use_system());
  ASSERT_EQ(anchors.certificates_der.size(), 1u);
  EXPECT_EQ(anchors.certificates_der[0], root.Der());

  dir.Write("roots/empty.pem", "");
  auto empty = LoadPolicyFile(dir.Write("p2.toml", Domain("anchors = \"roots/empty.pem\"\n")));
  EXPECT_EQ(empty.error().code(), ErrorCode::kPolicyAnchors);
  EXPECT_EQ(empty.error().field(), "domain[0].anchors");
  dir.Write("roots/key.pem", key.PrivatePem());
  EXPECT_EQ(LoadPolicyFile(dir.Write("p3.toml", Domain("anchors = \"roots/key.pem\"\n"))).error().code(),
            ErrorCode::kPolicyAnchors);
}

TEST(PolicyLoaderTest, LoadPolicyFilePicksTheFormat) {
  TempDir dir;
  EXPECT_TRUE(LoadPolicyFile(dir.Write("a.toml", FullToml())).ok());
  EXPECT_TRUE(LoadPolicyFile(dir.Write("a.json", FullJson())).ok());
  EXPECT_TRUE(LoadPolicyFile(dir.Write("a.policy", FullJson())).ok());
  EXPECT_TRUE(LoadPolicyFile(dir.Write("b.policy", FullToml())).ok());
  EXPECT_EQ(LoadPolicyFile(dir.path() / "missing.toml").error().code(), ErrorCode::kIo);
  // JSON content under a .toml name is a TOML syntax error with a position.
  auto wrong = LoadPolicyFile(dir.Write("c.toml", FullJson()));
  EXPECT_EQ(wrong.error().code(), ErrorCode::kPolicySyntax);
  EXPECT_GT(wrong.error().line(), 0u);
}

TEST(ClockTest, ParseTimestamp) {
  using namespace std::chrono;
  EXPECT_EQ(*ParseTimestamp("1970-01-01"), sys_seconds(seconds(0)));
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:01:00Z"), sys_seconds(seconds(60)));
  EXPECT_EQ(*ParseTimestamp("1970-01-01 01:00:00+01:00"), sys_seconds(seconds(0)));
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:00:00.999-00:30"), sys_seconds(seconds(1800)));
  for (const char* bad : {"", "2027", "2027-13-01", "2027-02-29", "2027-06-01T00:00:00",
                          "2027-06-01T25:00:00Z", "2027-06-01T00:00:00Zjunk", "2027-06-01X",
                          "2027-06-01T00:00:00+0100", "27-06-01"}) {
    auto parsed = ParseTimestamp(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kPolicyDate) << bad;
  }
  // Found by fuzzing the policy writer: early years keep four digits.
  EXPECT_EQ(FormatUtc(*ParseTimestamp("0425-06-01")), "0425-06-01T00:00:00Z");
  EXPECT_EQ(*ParseTimestamp(FormatUtc(*ParseTimestamp("0001-01-01T00:00:01Z"))), *ParseTimestamp("0001-01-01T00:00:01Z"));
  FixedClock clock(*ParseTimestamp("2027-01-01"));
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(clock.Now(), *ParseTimestamp("2027-01-02"));
}

}  // namespace
}  // namespace pinion

namespace pinion {
namespace {

TEST(PolicyWriterTest, TomlAndJsonRoundTrip) {
  TempDir dir;
  auto key = testing::Key::Generate();
  auto root = testing::Issue({.common_name = "Anchor", .is_ca = true}, key, nullptr, key);
  dir.Write("anchors.pem", root.Pem());
  std::string toml = R"([policy]
version = 12

[[domain]]
host = "api.example.com"
mode = "report-only"
expires = 2027-01-01T12:30:00+02:00
on_expiry = "enforce"
report_uri = ["https://r.example.com/a", "https://r.example.com/b"]
anchors = "anchors.pem"
lint_disable = ["PIN010", "PIN005"]
pins = [
  { pin = ")" + kPinA + R"(", label = "quote \" backslash \\ tab \t ünïcode" },
  { pin = "cert-sha384/OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb", role = "ca" },
]

[[domain]]
host = "bücher.example"
include_subdomains = true
expires = 2028-02-29
pins = [ { pin = ")" + kPinB + R"(" } ]

[[domain]]
host = "*.cdn.example.com"
on_expiry = "enforce"
pins = [ { pin = ")" + kPinB + R"(" } ]
)";
  auto original = LoadPolicyFile(dir.Write("p.toml", toml));
  ASSERT_TRUE(original.ok()) << original.error().ToString();
  std::string as_toml = PolicyToToml(**original);
  auto from_toml = ParsePolicyToml(as_toml, "written.toml");
  ASSERT_TRUE(from_toml.ok()) << from_toml.error().ToString() << "\n" << as_toml;
  EXPECT_TRUE(SamePolicy(**original, **from_toml)) << as_toml;
  EXPECT_TRUE(as_toml.starts_with("[policy]\nversion = 12\n\n[[domain]]\nhost = \"api.example.com\"\n"));
  EXPECT_NE(as_toml.find("expires = 2028-02-29\n"), std::string::npos);
  EXPECT_NE(as_toml.find("lint_disable = [\"PIN010\", \"PIN005\"]\n"), std::string::npos);
  std::string as_json = PolicyToJson(**original);
  auto from_json = ParsePolicyJson(as_json, "written.json");
  ASSERT_TRUE(from_json.ok()) << from_json.error().ToString() << "\n" << as_json;
  EXPECT_TRUE(SamePolicy(**original, **from_json)) << as_json;
  EXPECT_FALSE(SamePolicy(**original, **ParsePolicyToml("[policy]\nversion = 12\n", "e")));
  // lint_disable takes part in the comparison (the fuzzer's round trip relies on it).
  std::vector<DomainRule> rules((*original)->rules().begin(), (*original)->rules().end());
  rules[0].lint_disable.pop_back();
  EXPECT_FALSE(SamePolicy(**original, **Policy::Create(12, rules)));
}

}  // namespace
}  // namespace pinion
