#include "pinion/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "pinion/pin_source.h"
#include "test_pki.h"

namespace pinion {
namespace {

using testing::TempDir;

// Modes of every file in `directory` (the target and any temporary file).
std::vector<mode_t> ModesIn(const std::filesystem::path& directory) {
  std::vector<mode_t> modes;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    struct stat info {};
    if (stat(entry.path().c_str(), &info) == 0) modes.push_back(info.st_mode & 07777);
  }
  return modes;
}

TEST(AtomicFileTest, ReplacesTheFileWholeAndLeavesNoTemporary) {
  TempDir dir;
  auto path = dir.path() / "out.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "new contents").ok());
  auto bytes = ReadFileBounded(path, 1024);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()), "new contents");
  EXPECT_EQ(ModesIn(dir.path()), std::vector<mode_t>{0644});
}

TEST(AtomicFileTest, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  auto missing = dir.path() / "no-such-directory" / "out.txt";
  Status written = WriteFileAtomically(missing, "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code(), ErrorCode::kIo);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// A private key must never be readable by another user, not even for the
// moment between the rename and a later chmod: checked at every step, with a
// permissive umask.
TEST(AtomicFileTest, PrivateFilesAreOwnerOnlyAtEveryStep) {
  TempDir dir;
  auto path = dir.path() / "signer.key";
  mode_t previous = umask(0);
  std::vector<std::string> violations;
  Status written = WritePrivateFileAtomically(path, "-----BEGIN PRIVATE KEY-----\n", [&](std::string_view step) {
    for (mode_t mode : ModesIn(dir.path())) {
      if ((mode & 077) != 0) violations.push_back(std::string(step) + ": " + std::to_string(mode));
    }
  });
  umask(previous);
  ASSERT_TRUE(written.ok()) << written.error().ToString();
  EXPECT_TRUE(violations.empty()) << violations.front();
  EXPECT_EQ(ModesIn(dir.path()), std::vector<mode_t>{0600});
}

}  // namespace
}  // namespace pinion
