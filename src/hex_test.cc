#include "pinion/hex.h"

#include <gtest/gtest.h>

#include <vector>

namespace pinion {
namespace {

TEST(HexTest, EncodesEveryByteInEitherCaseWithAnOptionalSeparator) {
  std::vector<std::uint8_t> bytes = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(HexEncode(bytes), "000fa5ff");
  EXPECT_EQ(HexEncode(bytes, HexCase::kUpper, ':'), "00:0F:A5:FF");
  EXPECT_EQ(HexEncode(std::vector<std::uint8_t>{}), "");
  EXPECT_EQ(HexEncode(std::string_view("\x01\x80", 2), HexCase::kLower, ' '), "01 80");
  std::vector<std::uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
  std::string hex = HexEncode(all);
  ASSERT_EQ(hex.size(), 512u);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(std::stoi(hex.substr(2 * i, 2), nullptr, 16), i);
}

}  // namespace
}  // namespace pinion
