// The closed error table: every code has a unique stable name, a summary and
// a category; every category has a unique stable name and at least one code.
#include "pinion/error.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pinion {
namespace {

// Lower-case words joined by '_' ("pin_base64"): starts with a letter.
bool IsSnakeCase(std::string_view name) {
  if (name.empty() || name.front() < 'a' || name.front() > 'z' || name.back() == '_') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

TEST(ErrorTest, EveryCodeHasAUniqueNameASummaryAndACategory) {
  std::set<std::string_view> names;
  for (int i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    std::string_view name = ErrorCodeName(code);
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(IsSnakeCase(name)) << name;
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_FALSE(ErrorCodeSummary(code).empty()) << name;
    int category = static_cast<int>(CategoryOf(code));
    EXPECT_GE(category, 0) << name;
    EXPECT_LT(category, kErrorCategoryCount) << name;
    EXPECT_NE(ErrorCategoryName(CategoryOf(code)), "unknown") << name;
  }
}

TEST(ErrorTest, EveryCategoryHasAUniqueNameAndAtLeastOneCode) {
  std::map<ErrorCategory, int> codes_per_category;
  for (int i = 0; i < kErrorCodeCount; ++i) ++codes_per_category[CategoryOf(static_cast<ErrorCode>(i))];
  // The names are a public contract (the CLI's JSON errors carry them): pinned.
  std::vector<std::string_view> names;
  for (int i = 0; i < kErrorCategoryCount; ++i) {
    auto category = static_cast<ErrorCategory>(i);
    names.push_back(ErrorCategoryName(category));
    EXPECT_TRUE(IsSnakeCase(names.back())) << names.back();
    EXPECT_GT(codes_per_category[category], 0) << names.back() << " has no code";
  }
  EXPECT_EQ(names, (std::vector<std::string_view>{"usage", "input", "crypto", "tls", "network", "storage", "pin"}));
}

TEST(ErrorTest, CategoriesOfTheCodesCallersBranchOn) {
  EXPECT_EQ(CategoryOf(ErrorCode::kInvalidArgument), ErrorCategory::kUsage);
  EXPECT_EQ(CategoryOf(ErrorCode::kPolicySchema), ErrorCategory::kInput);
  EXPECT_EQ(CategoryOf(ErrorCode::kHostSyntax), ErrorCategory::kInput);
  EXPECT_EQ(CategoryOf(ErrorCode::kManifestRollback), ErrorCategory::kInput);
  EXPECT_EQ(CategoryOf(ErrorCode::kSignatureInvalid), ErrorCategory::kCrypto);
  EXPECT_EQ(CategoryOf(ErrorCode::kTlsSetup), ErrorCategory::kTls);
  EXPECT_EQ(CategoryOf(ErrorCode::kChainValidation), ErrorCategory::kTls);
  EXPECT_EQ(CategoryOf(ErrorCode::kHostnameMismatch), ErrorCategory::kTls);
  EXPECT_EQ(CategoryOf(ErrorCode::kNetwork), ErrorCategory::kNetwork);
  EXPECT_EQ(CategoryOf(ErrorCode::kIo), ErrorCategory::kStorage);
  EXPECT_EQ(CategoryOf(ErrorCode::kDatabase), ErrorCategory::kStorage);
  EXPECT_EQ(CategoryOf(ErrorCode::kPinValidationFailed), ErrorCategory::kPin);
}

TEST(ErrorTest, ToStringAndPrefixField) {
  Error error = Error(ErrorCode::kPinBase64, "bad").WithSource("f.toml").WithPosition(3, 9).WithField("pin");
  EXPECT_EQ(error.ToString(), "f.toml:3:9: pin: bad [pin_base64]");
  EXPECT_EQ(std::move(error).PrefixField("domain[0].pins[1]").field(), "domain[0].pins[1].pin");
}

}  // namespace
}  // namespace pinion
