// Every policy limit through every source: TOML, JSON, a compiled-in policy,
// a manifest payload and Policy::Create itself. At the limit each source
// accepts; one past it each refuses with kInputTooLarge. Policy::Create is the
// checkpoint all of them pass through (policy.h), so no source can let more in.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "pinion/dynamic/manifest.h"
#include "pinion/policy.h"
#include "pinion/policy_loader.h"
#include "pinion/static_policy.h"
#include "test_pki.h"

namespace pinion {
namespace {

using Json = nlohmann::ordered_json;
using testing::Key;
using testing::TestPki;

// One domain rule as a JSON object of the policy schema (docs/POLICY.md).
struct RuleSpec {
  std::size_t pins = 1;
  std::size_t label_length = 0;
  std::size_t report_uris = 0;
  std::size_t anchors = 0;
  std::size_t lint_disable = 0;
};

class PolicyLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Create("limits.example.test"));
    for (std::size_t i = 0; i < kMaxPinsPerDomain + 1; ++i) keys_.push_back(Key::Generate().SpkiPin().ToString());
  }
  static void TearDownTestSuite() { delete pki_; }

  static Json Rule(const std::string& host, const RuleSpec& spec) {
    Json rule = {{"host", host}};
    Json pins = Json::array();
    for (std::size_t i = 0; i < spec.pins; ++i) {
      Json pin = {{"pin", keys_[i]}};
      if (i == 0 && spec.label_length > 0) pin["label"] = std::string(spec.label_length, 'l');
      pins.push_back(pin);
    }
    rule["pins"] = pins;
    if (spec.report_uris > 0) {
      Json uris = Json::array();
      for (std::size_t i = 0; i < spec.report_uris; ++i) uris.push_back("https://r" + std::to_string(i) + ".example.test/");
      rule["report_uri"] = uris;
    }
    if (spec.anchors > 0) {
      std::string bundle;
      for (std::size_t i = 0; i < spec.anchors; ++i) bundle += pki_->root.Pem();
      rule["anchors"] = bundle;
    }
    if (spec.lint_disable > 0) {
      Json ids = Json::array();
      for (std::size_t i = 0; i < spec.lint_disable; ++i) ids.push_back("PIN" + std::to_string(100 + i));
      rule["lint_disable"] = ids;
    }
    return rule;
  }

  static Json Document(std::vector<Json> rules) {
    return Json{{"policy", {{"version", 7}}}, {"domain", std::move(rules)}};
  }

  // The same document as TOML: the schema's shapes only (strings, arrays of strings, arrays of tables).
  static std::string Toml(const Json& document) {
    auto quoted = [](const std::string& text) { return Json(text).dump(); };  // JSON escapes are valid TOML basic strings
    std::string out = "[policy]\nversion = 7\n";
    for (const Json& rule : document["domain"]) {
      out += "[[domain]]\n";
      for (const auto& [key, value] : rule.items()) {
        if (value.is_string()) {
          out += key + " = " + (value.get<std::string>().find('\n') != std::string::npos
                                    ? "'''\n" + value.get<std::string>() + "'''"
                                    : quoted(value.get<std::string>())) + "\n";
        } else if (key == "pins") {
          out += "pins = [";
          for (const Json& pin : value) {
            out += "{ pin = " + quoted(pin["pin"]);
            if (pin.contains("label")) out += ", label = " + quoted(pin["label"]);
            out += " }, ";
          }
          out += "]\n";
        } else {
          out += key + " = [";
          for (const Json& item : value) out += quoted(item) + ", ";
          out += "]\n";
        }
      }
    }
    return out;
  }

  // Each source's verdict on `document`: ok, or the error code.
  static std::vector<std::pair<std::string, Result<PolicySnapshot>>> EverySource(const Json& document) {
    std::vector<std::pair<std::string, Result<PolicySnapshot>>> results;
    std::string json = document.dump();
    results.emplace_back("toml", ParsePolicyToml(Toml(document), "limits.toml", {.allow_anchor_files = false}));
    results.emplace_back("json", ParsePolicyJson(json, "limits.json", {.allow_anchor_files = false}));
    results.emplace_back("static", LoadStaticPolicy({.json = json}));
    Json payload = document;
    payload["policy"]["issued_at"] = "2026-01-01T00:00:00Z";
    payload["policy"]["expires"] = "2026-02-01T00:00:00Z";
    auto manifest = ParseManifestPayload(payload.dump(), "limits manifest");
    results.emplace_back("manifest", manifest ? Result<PolicySnapshot>(manifest->policy)
                                              : Result<PolicySnapshot>(std::move(manifest).error()));
    return results;
  }

  // ExpectLimit: `at` loads from every source (and again through Create from
  // its rules), `past` is refused by every source with kInputTooLarge, and
  // Create refuses `past`'s rules too when built by hand from `at`'s.
  static void ExpectLimit(const std::string& name, const Json& at, const Json& past,
                          const std::function<void(std::vector<DomainRule>&)>& grow) {
    for (auto& [source, result] : EverySource(at)) {
      ASSERT_TRUE(result.ok()) << name << " at the limit, " << source << ": " << result.error().ToString();
    }
    for (auto& [source, result] : EverySource(past)) {
      ASSERT_FALSE(result.ok()) << name << " past the limit was accepted by " << source;
      EXPECT_EQ(result.error().code(), ErrorCode::kInputTooLarge) << name << ", " << source << ": " << result.error().ToString();
    }
    auto policy = ParsePolicyJson(at.dump(), "limits.json");
    ASSERT_TRUE(policy.ok());
    std::vector<DomainRule> rules((*policy)->rules().begin(), (*policy)->rules().end());
    ASSERT_TRUE(Policy::Create(7, rules).ok()) << name;
    grow(rules);
    auto created = Policy::Create(7, rules);
    ASSERT_FALSE(created.ok()) << name << " past the limit was accepted by Policy::Create";
    EXPECT_EQ(created.error().code(), ErrorCode::kInputTooLarge) << name << ": " << created.error().ToString();
  }

  static TestPki* pki_;
  static std::vector<std::string> keys_;
};

TestPki* PolicyLimitsTest::pki_ = nullptr;
std::vector<std::string> PolicyLimitsTest::keys_;

TEST_F(PolicyLimitsTest, PinsPerDomain) {
  ExpectLimit("pins", Document({Rule("a.example.test", {.pins = kMaxPinsPerDomain})}),
              Document({Rule("a.example.test", {.pins = kMaxPinsPerDomain + 1})}), [](std::vector<DomainRule>& rules) {
                rules[0].pins.push_back({*Pin::Parse(keys_[kMaxPinsPerDomain]), ""});
              });
}

TEST_F(PolicyLimitsTest, LabelLength) {
  ExpectLimit("label", Document({Rule("a.example.test", {.label_length = kMaxLabelLength})}),
              Document({Rule("a.example.test", {.label_length = kMaxLabelLength + 1})}),
              [](std::vector<DomainRule>& rules) { rules[0].pins[0].label += "l"; });
}

TEST_F(PolicyLimitsTest, ReportUris) {
  ExpectLimit("report_uri", Document({Rule("a.example.test", {.report_uris = kMaxReportUris})}),
              Document({Rule("a.example.test", {.report_uris = kMaxReportUris + 1})}),
              [](std::vector<DomainRule>& rules) { rules[0].report_uris.push_back("https://extra.example.test/"); });
}

TEST_F(PolicyLimitsTest, AnchorsPerDomain) {
  ExpectLimit("anchors", Document({Rule("a.example.test", {.anchors = kMaxAnchorsPerDomain})}),
              Document({Rule("a.example.test", {.anchors = kMaxAnchorsPerDomain + 1})}),
              [](std::vector<DomainRule>& rules) { rules[0].anchors.certificates_der.push_back(pki_->root.Der()); });
}

TEST_F(PolicyLimitsTest, LintDisablePerDomain) {
  ExpectLimit("lint_disable", Document({Rule("a.example.test", {.lint_disable = kMaxLintDisablePerDomain})}),
              Document({Rule("a.example.test", {.lint_disable = kMaxLintDisablePerDomain + 1})}),
              [](std::vector<DomainRule>& rules) { rules[0].lint_disable.push_back("PIN999"); });
}

TEST_F(PolicyLimitsTest, DomainsPerPolicy) {
  // The domain count is checked before any rule is decoded, so one rule past
  // the limit is refused whatever the rules hold; a manifest this large is
  // refused by its size bound first (the same code). The documents are built
  // as plain text: 100,001 rules through a JSON library take minutes under
  // the sanitizers.
  const std::string& pin = keys_[0];
  std::string json_rules, toml = "[policy]\nversion = 7\n";
  json_rules.reserve(100 * (kMaxPolicyDomains + 1));
  toml.reserve(100 * (kMaxPolicyDomains + 1));
  for (std::size_t i = 0; i <= kMaxPolicyDomains; ++i) {
    std::string host = "h" + std::to_string(i) + ".example.test";
    json_rules += (i == 0 ? "" : ",") + std::string("{\"host\":\"") + host + "\",\"pins\":[{\"pin\":\"" + pin + "\"}]}";
    toml += "[[domain]]\nhost = \"" + host + "\"\npins = [{ pin = \"" + pin + "\" }]\n";
  }
  std::string payload = "{\"policy\":{\"version\":7,\"issued_at\":\"2026-01-01T00:00:00Z\",\"expires\":"
                        "\"2026-02-01T00:00:00Z\"},\"domain\":[" + json_rules + "]}";
  auto manifest = ParseManifestPayload(payload, "limits manifest");
  auto expect_refused = [](const std::string& source, const auto& result) {
    ASSERT_FALSE(result.ok()) << "domains past the limit were accepted by " << source;
    EXPECT_EQ(result.error().code(), ErrorCode::kInputTooLarge) << source << ": " << result.error().ToString();
  };
  // TOML and JSON meet the count in the same decoder (after parsing), so the
  // TOML document stands for both here: parsing 9 MB of JSON with line
  // tracking takes minutes under the sanitizers. The compiled-in form is the
  // JSON loader itself.
  expect_refused("toml", ParsePolicyToml(toml, "limits.toml"));
  expect_refused("manifest", manifest);
  std::vector<DomainRule> built;
  built.reserve(kMaxPolicyDomains + 1);
  Pin parsed = *Pin::Parse(pin);
  for (std::size_t i = 0; i < kMaxPolicyDomains; ++i) {
    built.push_back({.host = *HostPattern::Parse("h" + std::to_string(i) + ".example.test", false), .pins = {{parsed, ""}}});
  }
  ASSERT_TRUE(Policy::Create(7, built).ok());
  built.push_back({.host = *HostPattern::Parse("extra.example.test", false), .pins = {{parsed, ""}}});
  auto created = Policy::Create(7, std::move(built));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), ErrorCode::kInputTooLarge);
}

}  // namespace
}  // namespace pinion
