// Who may read stored reports: the token file, the Authorization header and
// the loopback exemption.
#include "http/read_access.h"

#include <gtest/gtest.h>

#include "test_pki.h"

namespace pinion::collector {
namespace {

using pinion::testing::TempDir;
using Decision = ReadAccess::Decision;

constexpr char kToken[] = "3f9c2a7e5b1d4c8a9e0f6b2d7c1a5e3b";

TEST(CollectorReadAccessTest, RecognisesLoopbackListeners) {
  for (const char* address : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
  for (const char* address : {"0.0.0.0", "::", "192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "localhost", ""}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

TEST(CollectorReadAccessTest, WithoutATokenOnlyLoopbackListenersServeReads) {
  for (const char* listen : {"127.0.0.1", "::1"}) {
    auto access = ReadAccess::Create({.listen = listen});
    ASSERT_TRUE(access.ok());
    EXPECT_EQ(access->Check(""), Decision::kAllowed) << listen;
    EXPECT_EQ(access->Check("Bearer anything"), Decision::kAllowed) << listen;
    EXPECT_FALSE(access->reads_disabled());
  }
  for (const char* listen : {"0.0.0.0", "::", "192.0.2.1"}) {
    auto access = ReadAccess::Create({.listen = listen});
    ASSERT_TRUE(access.ok());
    EXPECT_EQ(access->Check(""), Decision::kDisabled) << listen;
    EXPECT_EQ(access->Check(std::string("Bearer ") + kToken), Decision::kDisabled) << listen;
    EXPECT_TRUE(access->reads_disabled());
  }
}

TEST(CollectorReadAccessTest, ATokenFileIsRequiredEverywhere) {
  TempDir dir;
  auto file = dir.Write("token", std::string("  ") + kToken + "\r\n");
  for (const char* listen : {"127.0.0.1", "0.0.0.0"}) {
    auto access = ReadAccess::Create({.token_file = file, .listen = listen});
    ASSERT_TRUE(access.ok()) << access.error().ToString();
    EXPECT_TRUE(access->token_required());
    EXPECT_FALSE(access->reads_disabled());
    EXPECT_EQ(access->Check(std::string("Bearer ") + kToken), Decision::kAllowed) << listen;
    EXPECT_EQ(access->Check(std::string("bearer  ") + kToken + " "), Decision::kAllowed) << listen;
    EXPECT_EQ(access->Check(""), Decision::kUnauthorized) << listen;
    EXPECT_EQ(access->Check("Bearer"), Decision::kUnauthorized) << listen;
    EXPECT_EQ(access->Check("Bearer "), Decision::kUnauthorized) << listen;
    EXPECT_EQ(access->Check(std::string("Basic ") + kToken), Decision::kUnauthorized) << listen;
    EXPECT_EQ(access->Check(std::string("Bearer") + kToken), Decision::kUnauthorized) << listen;
    EXPECT_EQ(access->Check(std::string("Bearer ") + kToken + "0"), Decision::kUnauthorized) << listen;
    std::string almost = kToken;
    almost.back() = 'c';
    EXPECT_EQ(access->Check("Bearer " + almost), Decision::kUnauthorized) << listen;
  }
}

TEST(CollectorReadAccessTest, RefusesUnusableTokenFiles) {
  TempDir dir;
  auto missing = ReadAccess::Create({.token_file = dir.path() / "nope", .listen = "127.0.0.1"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kIo);
  struct Case {
    const char* name;
    std::string content;
  };
  for (const Case& item : {Case{"empty", ""}, Case{"blank", " \n\n"}, Case{"short", "0123456789abcde\n"},
                           Case{"inner space", "0123456789 abcdef0123\n"},
                           Case{"huge", std::string(5000, 'a')}}) {
    auto access = ReadAccess::Create({.token_file = dir.Write("token", item.content), .listen = "127.0.0.1"});
    ASSERT_FALSE(access.ok()) << item.name;
    EXPECT_EQ(access.error().code(), ErrorCode::kInvalidArgument) << item.name;
  }
  // Only the first line is the token.
  auto two_lines = ReadAccess::Create({.token_file = dir.Write("token", std::string(kToken) + "\nsecond line\n"),
                                       .listen = "127.0.0.1"});
  ASSERT_TRUE(two_lines.ok());
  EXPECT_EQ(two_lines->Check(std::string("Bearer ") + kToken), Decision::kAllowed);
}

}  // namespace
}  // namespace pinion::collector
