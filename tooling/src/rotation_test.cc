#include "pinion/tooling/rotation.h"

#include <gtest/gtest.h>

#include <openssl/x509.h>

#include "pinion/certificate_info.h"
#include "pinion/policy_loader.h"
#include "test_pki.h"

namespace pinion::tooling {
namespace {

using testing::Key;
using testing::TempDir;
using testing::TestPki;

const TimePoint kNow = *ParseTimestamp("2026-12-02T15:30:00Z");

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

class RotationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Create("api.example.test"));
    next_ = new Key(Key::Generate());
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete next_;
  }
  static PinSource NextKey() {
    std::string pem = next_->PublicPem();
    return ReadPinSources({reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()}, "next.pub")->front();
  }
  // Plans for `host` on the policy file `name` in `dir`, edits its text, and
  // checks the result loads from the same directory as the planned policy.
  static std::string Rotate(const TempDir& dir, const std::string& name, const std::string& text,
                            const std::string& host, RotationPlan* plan_out = nullptr) {
    auto path = dir.Write(name, text);
    auto policy = LoadPolicyFile(path);
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    if (!policy.ok()) return "";
    auto plan = PlanRotation(**policy, host, {NextKey()}, kNow);
    EXPECT_TRUE(plan.ok()) << plan.error().ToString();
    if (!plan.ok()) return "";
    auto edited = ApplyRotationToText(text, name.ends_with(".json"), *plan, {.base_directory = dir.path()});
    EXPECT_TRUE(edited.ok()) << edited.error().ToString();
    if (!edited.ok()) return "";
    auto again = LoadPolicyFile(dir.Write("again-" + name, *edited));
    EXPECT_TRUE(again.ok()) << again.error().ToString() << "\n" << *edited;
    if (plan_out != nullptr) *plan_out = *plan;
    return *edited;
  }
  static TestPki* pki_;
  static Key* next_;
};
TestPki* RotationTest::pki_ = nullptr;
Key* RotationTest::next_ = nullptr;

// Everything but the version, the new pin line and the expiry stays byte for
// byte: comments, the relative anchors path, roles, labels, key order, spacing.
TEST_F(RotationTest, TomlIsEditedInPlace) {
  TempDir dir;
  dir.Write("anchor.pem", pki_->root.Pem());
  std::string leaf = pki_->leaf_key.SpkiPin().ToString(), backup = pki_->backup_key.SpkiPin().ToString();
  std::string original =
      "# Pins for the public API. Owner: platform team.\n"
      "[policy]\n"
      "version = 4   # raise on every change\n"
      "\n"
      "# The API itself.\n"
      "[[domain]]\n"
      "host = \"api.example.test\"\n"
      "expires = 2027-01-10          # renewed with each app release\n"
      "anchors = \"anchor.pem\"        # our private root, next to this file\n"
      "pins = [\n"
      "    # current issuing CA\n"
      "    { pin = \"" + leaf + "\", label = \"leaf key 2026\", role = \"leaf\" },\n"
      "    { pin = \"" + backup + "\", role = \"ca\" }, # offline backup, safe B\n"
      "]\n"
      "\n"
      "[[domain]]   # the CDN, untouched by this rotation\n"
      "host = \"*.cdn.example.test\"\n"
      "expires = 2027-01-10\n"
      "pins = [ { pin = '" + backup + "' }, { pin = \"" + leaf + "\" } ]\n";
  RotationPlan plan;
  std::string edited = Rotate(dir, "pins.toml", original, "api.example.test", &plan);
  std::string new_line = "    { pin = \"" + next_->SpkiPin().ToString() + "\", label = \"next key (EC P-256, planned 2026-12-02)\" },";
  std::string expected = Replace(original, "version = 4 ", "version = 5 ");
  expected = Replace(expected, "expires = 2027-01-10 ", "expires = 2027-12-02 ");
  expected = Replace(expected, "# offline backup, safe B\n", "# offline backup, safe B\n" + new_line + "\n");
  EXPECT_EQ(edited, expected);
  ASSERT_TRUE(plan.next_expires.has_value());
  EXPECT_EQ(FormatUtc(*plan.next_expires), "2027-12-02T00:00:00Z");
  EXPECT_NE(plan.checklist[1].find("`expires` moves from 2027-01-10 to 2027-12-02"), std::string::npos) << plan.checklist[1];
  auto again = LoadPolicyFile(dir.path() / "again-pins.toml");
  ASSERT_TRUE(again.ok());
  const DomainRule& api = (*again)->rules()[0];
  EXPECT_EQ((*again)->version(), 5u);
  ASSERT_EQ(api.pins.size(), 3u);
  EXPECT_EQ(api.pins[2].pin, next_->SpkiPin());
  EXPECT_EQ(api.pins[0].role, PinRole::kLeaf);
  EXPECT_EQ(api.pins[1].role, PinRole::kCa);
  EXPECT_EQ(api.anchors.certificates_der, std::vector<std::vector<std::uint8_t>>{pki_->root.Der()});
}

// Arrays on one line, with or without a trailing comma; string dates keep their quotes.
TEST_F(RotationTest, OneLineArraysAndStringDates) {
  TempDir dir;
  std::string leaf = pki_->leaf_key.SpkiPin().ToString(), backup = pki_->backup_key.SpkiPin().ToString();
  std::string entry = "{ pin = \"" + next_->SpkiPin().ToString() + "\", label = \"next key (EC P-256, planned 2026-12-02)\" }";
  std::string one_line = "[policy]\nversion = 9\n[[domain]]\nhost = \"api.example.test\"\nexpires = '2026-12-20'\n"
                         "pins = [{ pin = \"" + leaf + "\" }, { pin = \"" + backup + "\" }]  # two keys\n";
  EXPECT_EQ(Rotate(dir, "a.toml", one_line, "api.example.test"),
            Replace(Replace(Replace(one_line, "version = 9", "version = 10"), "'2026-12-20'", "'2027-12-02'"),
                    "\" }]  # two", "\" }, " + entry + "]  # two"));
  std::string trailing = "[policy]\nversion = 9\n[[domain]]\nhost = \"api.example.test\"\n"
                         "pins = [{ pin = \"" + leaf + "\" }, { pin = \"" + backup + "\" },]\n";
  RotationPlan plan;
  EXPECT_EQ(Rotate(dir, "b.toml", trailing, "api.example.test", &plan),
            Replace(Replace(trailing, "version = 9", "version = 10"), "\" },]", "\" }, " + entry + ",]"));
  EXPECT_FALSE(plan.next_expires.has_value());  // no expiry is invented
  EXPECT_NE(plan.checklist.back().find("never expires"), std::string::npos);
}

// An expiry further ahead than the extension is left alone, never moved back.
TEST_F(RotationTest, ExpiryIsNeverMovedBack) {
  TempDir dir;
  std::string text = "[policy]\nversion = 2\n[[domain]]\nhost = \"**.example.test\"\nexpires = 2028-06-01\npins = [\n  { pin = \"" +
                     pki_->leaf_key.SpkiPin().ToString() + "\" }\n]\n";
  RotationPlan plan;
  std::string edited = Rotate(dir, "p.toml", text, "api.example.test", &plan);
  EXPECT_NE(edited.find("expires = 2028-06-01\n"), std::string::npos);
  EXPECT_EQ(plan.next_expires, plan.previous_expires);
  // No trailing comma before: one is added after the last pin, none after the new one.
  EXPECT_NE(edited.find(pki_->leaf_key.SpkiPin().ToString() + "\" },\n  { pin = \"" + next_->SpkiPin().ToString()), std::string::npos) << edited;
  EXPECT_NE(edited.find("planned 2026-12-02)\" }\n]\n"), std::string::npos) << edited;
}

TEST_F(RotationTest, JsonKeepsItsOrderAndLayout) {
  TempDir dir;
  dir.Write("anchor.pem", pki_->root.Pem());
  std::string leaf = pki_->leaf_key.SpkiPin().ToString(), backup = pki_->backup_key.SpkiPin().ToString();
  std::string original = "{\n  \"domain\": [\n    {\n      \"pins\": [\n        {\"pin\": \"" + leaf +
                         "\", \"role\": \"leaf\"},\n        {\"label\": \"backup\", \"pin\": \"" + backup +
                         "\"}\n      ],\n      \"anchors\": \"anchor.pem\",\n      \"expires\": \"2027-01-10\",\n"
                         "      \"host\": \"api.example.test\"\n    }\n  ],\n  \"policy\": { \"version\": 41 }\n}\n";
  std::string edited = Rotate(dir, "pins.json", original, "api.example.test");
  std::string entry = "{\"pin\": \"" + next_->SpkiPin().ToString() + "\", \"label\": \"next key (EC P-256, planned 2026-12-02)\"}";
  std::string expected = Replace(original, "\"version\": 41", "\"version\": 42");
  expected = Replace(expected, "\"2027-01-10\"", "\"2027-12-02\"");
  expected = Replace(expected, backup + "\"}\n", backup + "\"},\n        " + entry + "\n");
  EXPECT_EQ(edited, expected);
}

TEST_F(RotationTest, TextThatIsNotThePlannedPolicyIsRefused) {
  TempDir dir;
  std::string text = "[policy]\nversion = 2\n[[domain]]\nhost = \"api.example.test\"\npins = [{ pin = \"" +
                     pki_->leaf_key.SpkiPin().ToString() + "\" }]\n";
  auto policy = LoadPolicyFile(dir.Write("p.toml", text));
  ASSERT_TRUE(policy.ok());
  auto plan = PlanRotation(**policy, "api.example.test", {NextKey()}, kNow);
  ASSERT_TRUE(plan.ok());
  std::string other = Replace(text, "\" }]", "\", label = \"edited since\" }]");
  auto edited = ApplyRotationToText(other, false, *plan, {});
  ASSERT_FALSE(edited.ok());
  EXPECT_EQ(edited.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ApplyRotationToText("[policy", false, *plan, {}).error().code(), ErrorCode::kPolicySyntax);
  EXPECT_EQ(ApplyRotationToText("{\"policy\": ", true, *plan, {}).error().code(), ErrorCode::kPolicySyntax);
}

// ---- rotate check ----------------------------------------------------------

FieldPolicy PinningOnly(const TempDir& dir, const std::string& name, std::uint64_t version, const Pin& pin) {
  std::string text = "[policy]\nversion = " + std::to_string(version) +
                     "\n[[domain]]\nhost = \"api.example.test\"\npins = [{ pin = \"" + pin.ToString() +
                     "\", label = \"only\" }]\n";
  auto policy = LoadPolicyFile(dir.Write(name, text));
  EXPECT_TRUE(policy.ok()) << policy.error().ToString();
  return {name, *policy};
}

TEST_F(RotationTest, CheckTellsWhichVersionsAcceptAndWhichLockOut) {
  TempDir dir;
  std::vector<FieldPolicy> field = {PinningOnly(dir, "v1.toml", 1, pki_->leaf_key.SpkiPin()),
                                    PinningOnly(dir, "v2.toml", 2, pki_->rogue_leaf_key.SpkiPin())};
  std::vector<std::vector<std::uint8_t>> chain = {pki_->leaf.Der(), pki_->intermediate.Der()};
  openssl::UniquePtr<X509_STORE> trust(X509_STORE_new());
  ASSERT_EQ(X509_STORE_add_cert(trust.get(), pki_->root.x509.get()), 1);
  TimePoint now = SystemClock::Instance().Now();
  auto check = CheckRotation(chain, field, {.host = "api.example.test", .at = now, .trust = trust.get()});
  ASSERT_TRUE(check.ok()) << check.error().ToString();
  EXPECT_EQ(check->host, "api.example.test");
  EXPECT_EQ(check->at, now);
  ASSERT_EQ(check->policies.size(), 2u);
  const PolicyAcceptance& accepts = check->policies[0];
  EXPECT_EQ(accepts.name, "v1.toml");
  EXPECT_EQ(accepts.version, 1u);
  EXPECT_EQ(accepts.acceptance, ChainAcceptance::kAccepts);
  EXPECT_EQ(accepts.reason, VerdictReason::kMatched);
  ASSERT_TRUE(accepts.matched_pin.has_value());
  EXPECT_EQ(accepts.matched_pin->pin, pki_->leaf_key.SpkiPin());
  EXPECT_EQ(accepts.matched_pin->label, "only");
  const PolicyAcceptance& locks_out = check->policies[1];
  EXPECT_EQ(locks_out.acceptance, ChainAcceptance::kLocksOut);
  EXPECT_EQ(locks_out.reason, VerdictReason::kMismatch);
  EXPECT_FALSE(locks_out.matched_pin.has_value());
  EXPECT_EQ(check->LockOuts(), 1u);
  EXPECT_FALSE(check->ValidationFailed());
  EXPECT_EQ(ChainAcceptanceName(ChainAcceptance::kLocksOut), "locks_out");
}

TEST_F(RotationTest, CheckOfAChainThatDoesNotValidateConsultsNoPin) {
  TempDir dir;
  std::vector<FieldPolicy> field = {PinningOnly(dir, "v1.toml", 1, pki_->leaf_key.SpkiPin())};
  std::vector<std::vector<std::uint8_t>> chain = {pki_->leaf.Der(), pki_->intermediate.Der()};
  openssl::UniquePtr<X509_STORE> rogue_only(X509_STORE_new());
  ASSERT_EQ(X509_STORE_add_cert(rogue_only.get(), pki_->rogue_root.x509.get()), 1);
  auto check = CheckRotation(chain, field,
                             {.host = "api.example.test", .at = SystemClock::Instance().Now(), .trust = rogue_only.get()});
  ASSERT_TRUE(check.ok()) << check.error().ToString();
  ASSERT_EQ(check->policies.size(), 1u);
  EXPECT_EQ(check->policies[0].acceptance, ChainAcceptance::kValidationError);
  ASSERT_TRUE(check->policies[0].validation_error.has_value());
  EXPECT_EQ(check->policies[0].validation_error->code(), ErrorCode::kChainValidation);
  EXPECT_FALSE(check->policies[0].reason.has_value());
  EXPECT_TRUE(check->ValidationFailed());
  EXPECT_EQ(check->LockOuts(), 0u);
  // Another host's name: the chain does not validate for it either.
  openssl::UniquePtr<X509_STORE> trust(X509_STORE_new());
  ASSERT_EQ(X509_STORE_add_cert(trust.get(), pki_->root.x509.get()), 1);
  auto other = CheckRotation(chain, field,
                             {.host = "other.example.test", .at = SystemClock::Instance().Now(), .trust = trust.get()});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(other->policies[0].validation_error.has_value());
  EXPECT_EQ(other->policies[0].validation_error->code(), ErrorCode::kHostnameMismatch);
}

TEST_F(RotationTest, LeafHostNameIsTheLeafsFirstDnsName) {
  EXPECT_EQ(*LeafHostName({pki_->leaf.Der(), pki_->intermediate.Der()}), "api.example.test");
  auto root = LeafHostName({pki_->root.Der()});
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(LeafHostName({}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(LeafHostName({{0x30, 0x00}}).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinion::tooling
