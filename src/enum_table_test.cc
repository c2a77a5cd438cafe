// The engine's enum name tables, walked both ways; and the completeness check
// itself refuses a table with a gap, a duplicate value or a duplicate name.
#include "pinion/enum_table.h"

#include <gtest/gtest.h>

#include "enum_table_checks.h"
#include "pinion/pin.h"
#include "pinion/pin_source.h"
#include "pinion/policy.h"
#include "pinion/verdict.h"

namespace pinion {
namespace {

using testing::ExpectNamesRoundTrip;

TEST(EnumTableTest, EveryEngineTableRoundTrips) {
  ExpectNamesRoundTrip(kEnforcementModeNames, "EnforcementMode");
  ExpectNamesRoundTrip(kExpiryActionNames, "ExpiryAction");
  ExpectNamesRoundTrip(kPinRoleNames, "PinRole");
  ExpectNamesRoundTrip(kOverrideModeNames, "OverrideMode");
  ExpectNamesRoundTrip(kVerdictReasonNames, "VerdictReason");
  ExpectNamesRoundTrip(kDecisionNames, "Decision");
  ExpectNamesRoundTrip(kPinSourceKindNames, "PinSourceKind");
  ExpectNamesRoundTrip(kHashAlgorithmNames, "HashAlgorithm");
}

TEST(EnumTableTest, NamesAreTheOnesFilesAndReportsUse) {
  EXPECT_EQ(EnforcementModeName(EnforcementMode::kReportOnly), "report-only");
  EXPECT_EQ(VerdictReasonName(VerdictReason::kKillSwitch), "kill-switch");
  EXPECT_EQ(PinSourceKindName(PinSourceKind::kCertificateRequest), "csr");
  EXPECT_EQ(HashAlgorithmName(HashAlgorithm::kSha384), "sha384");
  EXPECT_EQ(PinRoleName(PinRole::kUnspecified), "");
}

enum class Colour : std::uint8_t { kRed, kGreen, kBlue };

TEST(EnumTableTest, CompletenessRefusesGapsAndDuplicates) {
  constexpr EnumTable<Colour, 3> complete{{{{Colour::kRed, "red"}, {Colour::kGreen, "green"}, {Colour::kBlue, "blue"}}}};
  constexpr EnumTable<Colour, 2> gap{{{{Colour::kRed, "red"}, {Colour::kBlue, "blue"}}}};
  constexpr EnumTable<Colour, 3> duplicate_value{{{{Colour::kRed, "red"}, {Colour::kRed, "rouge"}, {Colour::kBlue, "blue"}}}};
  constexpr EnumTable<Colour, 3> duplicate_name{{{{Colour::kRed, "red"}, {Colour::kGreen, "red"}, {Colour::kBlue, "blue"}}}};
  static_assert(complete.IsComplete());
  static_assert(!gap.IsComplete());
  static_assert(!duplicate_value.IsComplete());
  static_assert(!duplicate_name.IsComplete());
  EXPECT_EQ(complete.Parse("green"), Colour::kGreen);
  EXPECT_EQ(gap.Name(Colour::kGreen), "unknown");
}

}  // namespace
}  // namespace pinion
