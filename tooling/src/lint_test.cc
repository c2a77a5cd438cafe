#include "pinion/tooling/lint.h"

#include <gtest/gtest.h>

#include "pinion/policy_loader.h"
#include "test_pki.h"

namespace pinion::tooling {
namespace {

using testing::Cert;
using testing::Issue;
using testing::Key;
using testing::KeyKind;
using testing::TestPki;

const TimePoint kNow = *ParseTimestamp("2026-11-21");

class LintTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create("api.example.test")); }
  static void TearDownTestSuite() { delete pki_; }

  static PolicySnapshot Load(const std::string& domains) {
    auto policy = ParsePolicyToml("[policy]\nversion = 1\n" + domains, "lint.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  static std::string Domain(const std::string& host, const std::vector<Pin>& pins,
                            const std::string& extra = "expires = 2027-06-01\n") {
    std::string out = "[[domain]]\nhost = \"" + host + "\"\n" + extra + "pins = [\n";
    for (const Pin& pin : pins) out += "  { pin = \"" + pin.ToString() + "\" },\n";
    return out + "]\n";
  }
  static std::vector<std::string> Ids(const std::vector<Finding>& findings) {
    std::vector<std::string> ids;
    for (const Finding& f : findings) ids.emplace_back(f.rule->id);
    return ids;
  }
  static PinSource Source(const std::string& pem) {
    return ReadPinSources({reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()}, "k")->front();
  }
  static TestPki* pki_;
};
TestPki* LintTest::pki_ = nullptr;

TEST_F(LintTest, CatalogueIsStableAndComplete) {
  std::set<std::string_view> ids, names;
  for (const LintRule& rule : LintRules()) {
    EXPECT_TRUE(ids.insert(rule.id).second) << rule.id;
    EXPECT_TRUE(names.insert(rule.name).second) << rule.name;
    EXPECT_FALSE(rule.advice.empty());
  }
  EXPECT_EQ(LintRules().front().id, "PIN000");
}

TEST_F(LintTest, AGoodPolicyHasNoFindings) {
  auto policy = Load(Domain("api.example.test", {pki_->leaf_key.SpkiPin(), pki_->backup_key.SpkiPin()}));
  LintOptions options{.now = kNow, .keys = {Source(pki_->leaf.Pem()), Source(pki_->backup_key.PrivatePem())},
                      .current_chains = {{"api.example.test", {pki_->leaf.Der(), pki_->intermediate.Der()}}}};
  EXPECT_TRUE(LintPolicy(*policy, options).empty());
}

TEST_F(LintTest, EachRuleFires) {
  Pin leaf = pki_->leaf_key.SpkiPin(), backup = pki_->backup_key.SpkiPin();
  auto ids = [&](const std::string& domains, LintOptions options = {}) {
    options.now = kNow;
    return Ids(LintPolicy(*Load(domains), options));
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(Domain("a.example.test", {leaf})), V{"PIN001"});
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, backup}, "")), V{"PIN003"});
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, backup}, "expires = 2026-01-01\n")), V{"PIN004"});
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, backup}, "expires = 2030-01-01\n")), V{"PIN005"});
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, backup}, "expires = 2030-01-01\n"),
                {.max_expiry_horizon = std::chrono::days(5000)}), V{});
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, backup}, "expires = 2027-01-01\nmode = \"report-only\"\n")), V{"PIN009"});
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, backup}, "expires = 2027-01-01\nmode = \"report-only\"\nreport_uri = [\"https://r.example.test/\"]\n")), V{});
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, Pin::OfCertificate(pki_->leaf.Der())})), V{"PIN013"});

  // With the served chain: both pins inside it → no real backup.
  LintOptions served{.current_chains = {{"a.example.test", {pki_->leaf.Der(), pki_->intermediate.Der(), pki_->root.Der()}}}};
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, pki_->intermediate.SpkiPin()}), served), V{"PIN002"});
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, backup}), served), V{});
  EXPECT_EQ(ids(Domain("a.example.test", {pki_->root.SpkiPin(), pki_->rogue_root.SpkiPin()}),
                {.keys = {Source(pki_->root.Pem()), Source(pki_->rogue_root.Pem())}}), V{"PIN006"});

  // With --keys: a pin for none of them, and the same key pinned twice.
  LintOptions keys{.keys = {Source(pki_->leaf_key.PrivatePem()), Source(pki_->backup_key.PublicPem())}};
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, pki_->rogue_leaf_key.SpkiPin()}), keys), V{"PIN012"});
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, Pin::OfSpki(pki_->leaf_key.SpkiDer(), HashAlgorithm::kSha384), backup}), keys),
            V{"PIN007"});

  Key weak = Key::Generate(KeyKind::kRsa2048);
  openssl::UniquePtr<EVP_PKEY> rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  Key small{std::move(rsa1024)};
  PinSource backup_source = Source(pki_->backup_key.PublicPem());
  EXPECT_EQ(ids(Domain("a.example.test", {small.SpkiPin(), backup}), {.keys = {Source(small.PublicPem()), backup_source}}),
            V{"PIN008"});
  EXPECT_EQ(ids(Domain("a.example.test", {weak.SpkiPin(), backup}), {.keys = {Source(weak.PublicPem()), backup_source}}), V{});
}

TEST_F(LintTest, OverlappingRulesWithDifferentSettings) {
  Pin leaf = pki_->leaf_key.SpkiPin(), backup = pki_->backup_key.SpkiPin(), other = pki_->rogue_leaf_key.SpkiPin();
  auto findings = LintPolicy(*Load(Domain("api.example.test", {leaf, backup}) + Domain("*.example.test", {other, backup}) +
                                   Domain("**.example.test", {other, backup}) + Domain("**.b.example.test", {leaf, backup}) +
                                   Domain("x.example.test", {other, backup})),
                             {.now = kNow});
  std::vector<std::string> messages;
  for (const Finding& f : findings) {
    ASSERT_EQ(f.rule->id, "PIN010");
    messages.push_back(f.host + " < " + f.message.substr(f.message.find("covered by '") + 12, 20));
  }
  // api.example.test differs from both *.example.test and **.example.test; *.example.test
  // and x.example.test have the same settings as **.example.test (no finding);
  // **.b.example.test differs from **.example.test.
  ASSERT_EQ(findings.size(), 3u) << ::testing::PrintToString(messages);
  EXPECT_EQ(findings[0].host, "api.example.test");
  EXPECT_EQ(findings[0].field, "domain[0].host");
  EXPECT_EQ(findings[0].line, 3u);
  EXPECT_NE(findings[0].message.find("'*.example.test'"), std::string::npos);
  EXPECT_EQ(findings[1].host, "api.example.test");
  EXPECT_NE(findings[1].message.find("'**.example.test'"), std::string::npos);
  EXPECT_EQ(findings[2].host, "**.b.example.test");
}

// PIN002 judges the chain validation builds, not the list the server sent.
TEST_F(LintTest, Pin002LooksAtTheValidatedChain) {
  Pin leaf = pki_->leaf_key.SpkiPin(), root = pki_->root.SpkiPin(), backup = pki_->backup_key.SpkiPin();
  auto ids = [&](const std::string& domains, const CurrentChain& chain) {
    return Ids(LintPolicy(*Load(domains), {.now = kNow, .current_chains = {chain}}));
  };
  using V = std::vector<std::string>;
  std::vector<std::vector<std::uint8_t>> served = {pki_->leaf.Der(), pki_->intermediate.Der()};
  std::vector<std::vector<std::uint8_t>> validated = {pki_->leaf.Der(), pki_->intermediate.Der(), pki_->root.Der()};
  // The server does not send its root, but the root is the anchor of the
  // validated chain: its pin is in use, so {leaf, root} has no backup.
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, root}), {"a.example.test", served, validated}), V{"PIN002"});
  // An extra certificate the server sends but no validated path uses is not in use.
  std::vector<std::vector<std::uint8_t>> with_extra = {pki_->leaf.Der(), pki_->intermediate.Der(), pki_->rogue_intermediate.Der()};
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, pki_->rogue_intermediate_key.SpkiPin()}), {"a.example.test", with_extra, validated}),
            V{});
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, backup}), {"a.example.test", served, validated}), V{});
  // Not validated: the served chain is judged, and the message says so.
  auto findings = LintPolicy(*Load(Domain("a.example.test", {leaf, pki_->intermediate.SpkiPin()})),
                             {.now = kNow, .current_chains = {{"a.example.test", served, {}, "unable to get local issuer certificate"}}});
  ASSERT_EQ(Ids(findings), V{"PIN002"});
  EXPECT_NE(findings[0].message.find("not validated: unable to get local issuer certificate"), std::string::npos) << findings[0].message;
  // Only the rule that decides for the host is judged: here the exact rule, not the subtree rule.
  EXPECT_EQ(ids(Domain("a.example.test", {leaf, backup}) + Domain("**.example.test", {leaf, root}),
                {"a.example.test", served, validated}),
            V{"PIN010"});
}

TEST_F(LintTest, RulesCanBeDisabledPerRunAndPerDomain) {
  Pin leaf = pki_->leaf_key.SpkiPin(), backup = pki_->backup_key.SpkiPin(), other = pki_->rogue_leaf_key.SpkiPin();
  auto single = Load(Domain("a.example.test", {leaf}) + Domain("b.example.test", {leaf}));
  auto findings = LintPolicy(*single, {.now = kNow, .disabled_rules = {"PIN001"}});
  ASSERT_EQ(findings.size(), 2u);
  for (const Finding& f : findings) EXPECT_EQ(f.suppressed_by, "--disable");

  // Per domain: only that domain's findings of that rule.
  auto per_domain = Load(Domain("a.example.test", {leaf}, "expires = 2027-06-01\nlint_disable = [\"PIN001\"]\n") +
                         Domain("b.example.test", {leaf}));
  findings = LintPolicy(*per_domain, {.now = kNow});
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].host, "a.example.test");
  EXPECT_EQ(findings[0].suppressed_by, "domain[0].lint_disable");
  EXPECT_EQ(findings[1].host, "b.example.test");
  EXPECT_EQ(findings[1].suppressed_by, "");

  // PIN010 concerns two rules: either one's lint_disable suppresses it.
  std::string overlap = Domain("api.example.test", {leaf, backup}) +
                        Domain("*.example.test", {other, backup}, "expires = 2027-06-01\nlint_disable = [\"PIN010\"]\n");
  findings = LintPolicy(*Load(overlap), {.now = kNow});
  ASSERT_EQ(Ids(findings), std::vector<std::string>{"PIN010"});
  EXPECT_EQ(findings[0].suppressed_by, "domain[1].lint_disable");

  // An ID of the right form that names no rule, or PIN000, is an error on the field.
  findings = LintPolicy(*Load(Domain("a.example.test", {leaf, backup}, "expires = 2027-06-01\nlint_disable = [\"PIN099\", \"PIN000\"]\n")),
                        {.now = kNow});
  ASSERT_EQ(Ids(findings), (std::vector<std::string>{"PIN000", "PIN000"}));
  EXPECT_EQ(findings[0].field, "domain[0].lint_disable[0]");
  EXPECT_EQ(findings[0].severity, Severity::kError);
  EXPECT_EQ(findings[0].suppressed_by, "");
  EXPECT_NE(findings[0].message.find("'PIN099' is not a lint rule"), std::string::npos);
  EXPECT_EQ(findings[1].field, "domain[0].lint_disable[1]");
  EXPECT_EQ(FindLintRule("PIN010")->name, "overlapping-rules");
  EXPECT_EQ(FindLintRule("PIN099"), nullptr);
}

// PIN010 is for a specific rule that silently drops what a broader rule over
// the same hosts allows (pins are not merged); not for every overlap.
TEST_F(LintTest, Pin010OnlyWhenTheSpecificRuleDropsSomething) {
  Pin leaf = pki_->leaf_key.SpkiPin(), backup = pki_->backup_key.SpkiPin(), other = pki_->rogue_leaf_key.SpkiPin();
  auto ids = [&](const std::string& domains) { return Ids(LintPolicy(*Load(domains), {.now = kNow})); };
  using V = std::vector<std::string>;
  // The usual layouts: apex + wildcard (they cover different names) ...
  EXPECT_EQ(ids(Domain("example.test", {leaf, backup}) + Domain("*.example.test", {other, backup})), V{});
  EXPECT_EQ(ids(Domain("example.test", {leaf, backup}) + Domain("*.example.test", {leaf, backup}, "expires = 2027-03-01\n")), V{});
  // ... an exception that adds its own key to the wildcard's pins ...
  EXPECT_EQ(ids(Domain("*.example.test", {other, backup}) + Domain("api.example.test", {leaf, other, backup})), V{});
  // ... or the same pins with its own (fail-open) expiry.
  EXPECT_EQ(ids(Domain("*.example.test", {other, backup}) + Domain("api.example.test", {backup, other}, "expires = 2027-01-15\n")),
            V{});

  // What it is for: the specific rule loses a pin of the broader one ...
  auto findings = LintPolicy(*Load(Domain("*.example.test", {other, backup}) + Domain("api.example.test", {leaf, backup})),
                             {.now = kNow});
  ASSERT_EQ(Ids(findings), V{"PIN010"});
  EXPECT_EQ(findings[0].host, "api.example.test");
  EXPECT_NE(findings[0].message.find("drops its pin " + other.ToString()), std::string::npos) << findings[0].message;
  // ... enforces where the broader rule only reports ...
  EXPECT_EQ(ids(Domain("**.example.test", {other, backup}, "expires = 2027-06-01\nmode = \"report-only\"\nreport_uri = [\"https://r.example.test/\"]\n") +
                Domain("api.example.test", {other, backup})),
            V{"PIN010"});
  // ... never fails open where the broader rule does ...
  EXPECT_EQ(ids(Domain("*.example.test", {other, backup}) + Domain("api.example.test", {other, backup}, "")),
            (V{"PIN003", "PIN010"}));
  // ... or trusts other anchors.
  std::string anchors = "anchors = '''\n" + pki_->root.Pem() + "'''\n";
  EXPECT_EQ(ids(Domain("*.example.test", {other, backup}, "expires = 2027-06-01\n" + anchors) + Domain("api.example.test", {other, backup})),
            V{"PIN010"});
  EXPECT_EQ(ids(Domain("*.example.test", {other, backup}, "expires = 2027-06-01\n" + anchors) +
                Domain("api.example.test", {other, backup}, "expires = 2027-06-01\n" + anchors)),
            V{});
}

TEST_F(LintTest, LoadErrorsBecomeFindings) {
  auto bad = ParsePolicyToml("[policy]\nversion = 1\n[[domain]]\nhost = \"a.example.test\"\npins = [{pin = \"sha256/x\"}]\n", "bad.toml");
  ASSERT_FALSE(bad.ok());
  Finding finding = FindingForLoadError(bad.error());
  EXPECT_EQ(finding.rule->id, "PIN000");
  EXPECT_EQ(finding.line, 5u);
  EXPECT_EQ(finding.field, "domain[0].pins[0].pin");
  auto anchors = ParsePolicyToml("[policy]\nversion = 1\n[[domain]]\nhost = \"a.example.test\"\nanchors = \"/nonexistent.pem\"\npins = [{pin = \"" +
                                     pki_->leaf_key.SpkiPin().ToString() + "\"}]\n", "bad.toml");
  EXPECT_EQ(FindingForLoadError(anchors.error()).rule->id, "PIN011");
}

}  // namespace
}  // namespace pinion::tooling
