// ExpectNamesRoundTrip walks one enum's name table (pinion/enum_table.h):
// every name parses back to its value and every value names itself, no other
// text parses, and a value outside the enum is "unknown".
#ifndef PINION_TESTS_SUPPORT_ENUM_TABLE_CHECKS_H_
#define PINION_TESTS_SUPPORT_ENUM_TABLE_CHECKS_H_

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "pinion/enum_table.h"

namespace pinion::testing {

template <typename Enum, std::size_t N>
void ExpectNamesRoundTrip(const EnumTable<Enum, N>& table, const std::string& what) {
  EXPECT_TRUE(table.IsComplete()) << what;
  for (const auto& entry : table.all()) {
    EXPECT_EQ(table.Name(entry.value), entry.name) << what;
    auto parsed = table.Parse(entry.name);
    ASSERT_TRUE(parsed.has_value()) << what << ": '" << entry.name << "' does not parse";
    EXPECT_EQ(*parsed, entry.value) << what;
    EXPECT_FALSE(table.Parse(std::string(entry.name) + " ").has_value()) << what << ": parsing is exact";
  }
  EXPECT_FALSE(table.Parse("no-such-name").has_value()) << what;
  EXPECT_EQ(table.Name(static_cast<Enum>(N)), "unknown") << what;
}

}  // namespace pinion::testing

#endif  // PINION_TESTS_SUPPORT_ENUM_TABLE_CHECKS_H_
