#include "pinion/host_pattern.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "pinion/policy.h"

namespace pinion {
namespace {

TEST(HostPatternTest, NormalizeHostName) {
  EXPECT_EQ(*NormalizeHostName("API.Example.COM."), "api.example.com");
  EXPECT_EQ(*NormalizeHostName("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*NormalizeHostName("BÜCHER.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*NormalizeHostName("xn--bcher-kva.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*NormalizeHostName("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(*NormalizeHostName("[::1]"), "::1");
  EXPECT_EQ(*NormalizeHostName("0:0:0:0:0:0:0:1"), "::1");
  EXPECT_EQ(*NormalizeHostName("_srv.example.com"), "_srv.example.com");
  for (const char* bad : {"", ".", "a..b", ".example.com", "exa mple.com", "-a.example.com",
                          "a-.example.com", "ex*ample.com", "[127.0.0.1]", "a/b"}) {
    auto result = NormalizeHostName(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error().code(), ErrorCode::kHostSyntax) << bad;
  }
  EXPECT_FALSE(NormalizeHostName(std::string(64, 'a') + ".com").ok());
  EXPECT_FALSE(NormalizeHostName(std::string(300, 'a')).ok());
}

// Names that WHATWG URL parsers and inet_aton read as IPv4 addresses but DNS
// reads as names: a rule for 127.0.0.1 must not be sidestepped by '127.1'.
TEST(HostPatternTest, NonCanonicalIpv4IsRefusedWithTheCanonicalForm) {
  struct Case {
    const char* host;
    const char* says;  // part of the message
  };
  for (const Case& c : std::vector<Case>{
           {"127.1", "dotted-quad form: 127.0.0.1"},
           {"127.0.1", "127.0.0.1"},
           {"0x7f.0.0.1", "127.0.0.1"},
           {"0X7F.0.0.1", "127.0.0.1"},
           {"0x7f000001", "127.0.0.1"},
           {"0177.0.0.1", "127.0.0.1"},
           {"01.2.3.4", "1.2.3.4"},
           {"1.02.3.4", "1.2.3.4"},
           {"16909060", "1.2.3.4"},
           {"127.1.", "127.0.0.1"},
           {"127.0.0.1.", "dotted-quad form: 127.0.0.1"},
           {"0", "0.0.0.0"},
           {"0x", "0.0.0.0"},
           {"example.0x1f", "dotted-quad"},
           {"999.0.0.1", "dotted-quad"},
           {"1.2.3.4.5", "dotted-quad"},
           {"example.123", "dotted-quad"},
           {"\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1", "dotted-quad"},  // full-width digits
       }) {
    auto result = NormalizeHostName(c.host);
    ASSERT_FALSE(result.ok()) << c.host << " → " << *result;
    EXPECT_EQ(result.error().code(), ErrorCode::kHostSyntax) << c.host;
    EXPECT_NE(result.error().message().find(c.says), std::string::npos) << result.error().ToString();
    // The same refusal in a policy: the rule would silently never apply.
    auto pattern = HostPattern::Parse(c.host, false);
    ASSERT_FALSE(pattern.ok()) << c.host;
    EXPECT_EQ(pattern.error().code(), ErrorCode::kHostSyntax) << c.host;
  }
  for (const char* numeric : {"127.1", "127.1.", "0x7f.0.0.1", "a.0X1F", "a.0x", "16909060", "example.123"}) {
    EXPECT_TRUE(HostEndsInNumber(numeric)) << numeric;
  }
  for (const char* name : {"1password.com", "a.0xg", "a.1e", "0x7f.example.com", "", ".", "a..", "example.com."}) {
    EXPECT_FALSE(HostEndsInNumber(name)) << name;
  }
  EXPECT_EQ(HostPattern::Parse("**.0x7f", false).error().code(), ErrorCode::kHostSyntax);
  EXPECT_EQ(HostPattern::Parse("*.1", false).error().code(), ErrorCode::kHostSyntax);
}

TEST(HostPatternTest, NamesWithNumericLabelsAndCanonicalAddressesStillWork) {
  for (const char* name : {"1password.com", "123.example.com", "0x.example.com", "example.0xg", "a.b.1e",
                           "1.2.3.example", "0x7f.example.com", "xn--80ak6aa92e.com"}) {
    auto result = NormalizeHostName(name);
    ASSERT_TRUE(result.ok()) << name << ": " << result.error().ToString();
    EXPECT_EQ(*result, name);
  }
  EXPECT_EQ(*NormalizeHostName("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(*NormalizeHostName("0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(*NormalizeHostName("255.255.255.255"), "255.255.255.255");
  // IPv6 has one grammar every reader shares: any valid spelling is the same
  // address, rendered in RFC 5952 form.
  EXPECT_EQ(*NormalizeHostName("::0001"), "::1");
  EXPECT_EQ(*NormalizeHostName("[::0001]"), "::1");
  EXPECT_EQ(*NormalizeHostName("[2001:DB8::A]"), "2001:db8::a");
  EXPECT_EQ(*NormalizeHostName("2001:0db8:0000:0000:0000:0000:0000:000a"), "2001:db8::a");
  // IPv4-mapped: the IPv4 host, written as IPv4 (HostPatternIpv6Test below).
  EXPECT_EQ(NormalizeHostName("::FFFF:192.0.2.1").error().code(), ErrorCode::kHostSyntax);
  for (const char* bad : {"::1.", "[::1].", "::ffff:127.1", "::ffff:01.2.3.4", "fe80::1%eth0", "[::1", "1::2::3"}) {
    auto result = NormalizeHostName(bad);
    ASSERT_FALSE(result.ok()) << bad << " → " << *result;
    EXPECT_EQ(result.error().code(), ErrorCode::kHostSyntax) << bad;
  }
  auto rule = HostPattern::Parse("[2001:DB8::0A]", false);
  ASSERT_TRUE(rule.ok());
  EXPECT_EQ(rule->ToString(), "2001:db8::a");
  EXPECT_TRUE(rule->Matches(*NormalizeHostName("2001:db8:0:0::a")));
  EXPECT_TRUE(HostPattern::Parse("1password.com", true).ok());
}

TEST(HostPatternTest, Forms) {
  auto exact = HostPattern::Parse("API.example.com", false);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->kind(), HostPatternKind::kExact);
  EXPECT_EQ(exact->ToString(), "api.example.com");
  auto subtree = HostPattern::Parse("example.com", true);
  EXPECT_EQ(subtree->kind(), HostPatternKind::kSubtree);
  EXPECT_EQ(subtree->ToString(), "**.example.com");
  EXPECT_EQ(*HostPattern::Parse("**.example.com", false), *subtree);
  EXPECT_EQ(*HostPattern::Parse("**.example.com", true), *subtree);
  auto wildcard = HostPattern::Parse("*.example.com", false);
  EXPECT_EQ(wildcard->kind(), HostPatternKind::kWildcard);
  EXPECT_EQ(wildcard->base(), "example.com");
}

TEST(HostPatternTest, InvalidPatterns) {
  struct Case {
    const char* text;
    bool subdomains;
    ErrorCode code;
  };
  const Case cases[] = {
      {"example.*", false, ErrorCode::kHostSyntax},
      {"a*.example.com", false, ErrorCode::kHostSyntax},
      {"*.*.example.com", false, ErrorCode::kHostSyntax},
      {"*example.com", false, ErrorCode::kHostSyntax},
      {"*.example.com", true, ErrorCode::kHostSyntax},
      {"*.127.0.0.1", false, ErrorCode::kHostSyntax},
      {"127.0.0.1", true, ErrorCode::kHostSyntax},
      {"*.com", false, ErrorCode::kHostPublicSuffix},
      {"**.com", false, ErrorCode::kHostPublicSuffix},
      {"com", true, ErrorCode::kHostPublicSuffix},
      {"*.co.uk", false, ErrorCode::kHostPublicSuffix},
      {"**.appspot.com", false, ErrorCode::kHostPublicSuffix},
      {"appspot.com", true, ErrorCode::kHostPublicSuffix},
      {"*.github.io", false, ErrorCode::kHostPublicSuffix},
  };
  for (const Case& c : cases) {
    auto result = HostPattern::Parse(c.text, c.subdomains);
    ASSERT_FALSE(result.ok()) << c.text;
    EXPECT_EQ(result.error().code(), c.code) << c.text << ": " << result.error().ToString();
  }
  // Exact rules on a public suffix name are fine: that is one real host.
  EXPECT_TRUE(HostPattern::Parse("appspot.com", false).ok());
  EXPECT_TRUE(HostPattern::Parse("*.example.co.uk", false).ok());
  EXPECT_TRUE(HostPattern::Parse("**.myapp.appspot.com", false).ok());
}

// OkHttp's pattern table. Where OkHttp accepts host names with empty labels
// (".example.com", "a..example.com"), pinion refuses such names before
// matching; every other case must agree.
TEST(HostPatternTest, OkHttpPatternMatchingFacts) {
  std::ifstream in(std::string(PINION_TESTDATA_DIR) + "/okhttp/certificate_pinner_cases.json");
  auto cases = nlohmann::json::parse(in)["pattern_matching"];
  int compared = 0, refused_names = 0;
  for (const auto& item : cases) {
    std::string pattern_text = item["pattern"], hostname = item["hostname"];
    auto pattern = HostPattern::Parse(pattern_text, false);
    ASSERT_TRUE(pattern.ok()) << pattern_text;
    auto host = NormalizeHostName(hostname);
    if (!host.ok()) {
      // Only names with an empty label are refused.
      EXPECT_TRUE(hostname.front() == '.' || hostname.find("..") != std::string::npos) << hostname;
      ++refused_names;
      continue;
    }
    EXPECT_EQ(pattern->Matches(*host), item["matches"].get<bool>())
        << pattern_text << " vs " << hostname;
    ++compared;
  }
  EXPECT_GT(compared, 25);
  EXPECT_LE(refused_names, 6);
}

DomainRule Rule(const std::string& host, bool subdomains = false) {
  return DomainRule{.host = *HostPattern::Parse(host, subdomains),
                    .pins = {{Pin::OfSpki(std::vector<std::uint8_t>{1}), "p"}}};
}

TEST(PolicyTest, MostSpecificRuleWins) {
  auto policy = Policy::Create(
      1, {Rule("example.com", true), Rule("*.example.com"), Rule("api.example.com"),
          Rule("**.b.example.com"), Rule("10.0.0.1")});
  ASSERT_TRUE(policy.ok()) << policy.error().ToString();
  ASSERT_TRUE((*policy)->CheckInvariants());
  auto find = [&](const char* host) -> std::string {
    const DomainRule* rule = (*policy)->FindRule(host);
    return rule != nullptr ? rule->host.ToString() : "none";
  };
  EXPECT_EQ(find("api.example.com"), "api.example.com");  // exact beats wildcard
  EXPECT_EQ(find("www.example.com"), "*.example.com");    // wildcard beats subtree
  EXPECT_EQ(find("example.com"), "**.example.com");
  EXPECT_EQ(find("x.y.example.com"), "**.example.com");
  EXPECT_EQ(find("b.example.com"), "*.example.com");      // wildcard beats a longer subtree
  EXPECT_EQ(find("x.b.example.com"), "**.b.example.com"); // longer subtree beats shorter
  EXPECT_EQ(find("notexample.com"), "none");
  EXPECT_EQ(find("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(find("10.0.0.2"), "none");
}

TEST(PolicyTest, CreateRejectsDuplicatesAndEmptyPinSets) {
  auto duplicate = Policy::Create(1, {Rule("a.example.com"), Rule("A.example.com.")});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code(), ErrorCode::kPolicyDuplicateHost);
  EXPECT_EQ(duplicate.error().field(), "domain[1].host");
  EXPECT_TRUE(Policy::Create(1, {Rule("a.example.com"), Rule("a.example.com", true)}).ok());
  DomainRule empty = Rule("a.example.com");
  empty.pins.clear();
  EXPECT_EQ(Policy::Create(1, {empty}).error().code(), ErrorCode::kPolicySchema);
  DomainRule twice = Rule("a.example.com");
  twice.pins.push_back(twice.pins.front());
  EXPECT_EQ(Policy::Create(1, {twice}).error().field(), "domain[0].pins[1]");
}

}  // namespace
}  // namespace pinion

namespace pinion {
namespace {

// Red team: a rule for 127.0.0.1 must not be sidestepped by ::ffff:127.0.0.1.
TEST(HostPatternIpv6Test, Ipv6AddressesThatEmbedIpv4AreRefused) {
  for (const char* host : {"::ffff:127.0.0.1", "[::ffff:127.0.0.1]", "::FFFF:7f00:1", "0:0:0:0:0:ffff:7f00:1",
                           "::127.0.0.1", "[::7f00:1]"}) {
    auto normalized = NormalizeHostName(host);
    ASSERT_FALSE(normalized.ok()) << host;
    EXPECT_EQ(normalized.error().code(), ErrorCode::kHostSyntax) << host;
    EXPECT_NE(normalized.error().message().find("write it as 127.0.0.1"), std::string::npos) << host;
  }
  EXPECT_EQ(*NormalizeHostName("::1"), "::1");
  EXPECT_EQ(*NormalizeHostName("::"), "::");
  EXPECT_EQ(*NormalizeHostName("[2001:db8::ffff:7f00:1]"), "2001:db8::ffff:7f00:1");
  EXPECT_EQ(HostPattern::Parse("::ffff:10.0.0.1", false).error().code(), ErrorCode::kHostSyntax);
}

}  // namespace
}  // namespace pinion
