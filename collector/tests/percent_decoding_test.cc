// The collector's percent-decoder against libcurl's (curl_easy_unescape, which
// it replaced so that the collector need not link libcurl): the same bytes for
// every input, and the query-string rules on top.
#include "http/percent_decoding.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace pinion::collector {
namespace {

std::string CurlUnescape(std::string_view text, bool plus_is_space) {
  std::string input(text);
  if (plus_is_space) std::replace(input.begin(), input.end(), '+', ' ');
  int length = 0;
  char* decoded = curl_easy_unescape(nullptr, input.c_str(), static_cast<int>(input.size()), &length);
  std::string out(decoded, static_cast<std::size_t>(length));
  curl_free(decoded);
  return out;
}

TEST(PercentDecodingTest, DecodesEscapesAndKeepsBrokenOnesAsTheyAre) {
  EXPECT_EQ(PercentDecode("api%2Eexample%2etest", false), "api.example.test");
  EXPECT_EQ(PercentDecode("%00", false), std::string(1, '\0'));
  EXPECT_EQ(PercentDecode("100%", false), "100%");
  EXPECT_EQ(PercentDecode("%4", false), "%4");
  EXPECT_EQ(PercentDecode("%zz%41", false), "%zzA");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("a+b%2B", true), "a b+");
}

TEST(PercentDecodingTest, AgreesWithLibcurlOnRandomInput) {
  std::mt19937 random(20261202);
  const std::string alphabet = "%%%+aZ09fFgG/?=&\x01\xff";
  for (int round = 0; round < 20000; ++round) {
    std::string text(random() % 12, ' ');
    for (char& c : text) c = alphabet[random() % alphabet.size()];
    for (bool plus : {false, true}) {
      ASSERT_EQ(PercentDecode(text, plus), CurlUnescape(text, plus)) << "input '" << text << "' plus=" << plus;
    }
  }
}

TEST(PercentDecodingTest, QueryStringsKeepTheFirstOfRepeatedNames) {
  auto params = ParseQuery("host=api%2Eexample.test&&limit=5&host=other&flag&q=a+b");
  EXPECT_EQ(params.at("host"), "api.example.test");
  EXPECT_EQ(params.at("limit"), "5");
  EXPECT_EQ(params.at("flag"), "");
  EXPECT_EQ(params.at("q"), "a b");
  EXPECT_EQ(params.size(), 4u);
}

}  // namespace
}  // namespace pinion::collector
