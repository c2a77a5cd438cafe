#include "pinion/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace pinion {
namespace {

Error IoError(const std::filesystem::path& path, const std::string& what) {
  return Error(ErrorCode::kIo, what + ": " + std::strerror(errno)).WithSource(path.string());
}

// mkstemp creates the temporary file 0600; `mode` is what it gets before the
// rename makes it visible under its name.
Status WriteWithMode(const std::filesystem::path& path, std::string_view contents, mode_t mode,
                     const AtomicWriteObserver& on_step) {
  auto step = [&](std::string_view name) {
    if (on_step) on_step(name);
  };
  std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  std::string temporary = (directory / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  int fd = mkstemp(temporary.data());
  if (fd < 0) return IoError(path, "cannot create a temporary file next to it");
  auto fail = [&](const std::string& what) {
    Error error = IoError(path, what);
    if (fd >= 0) close(fd);
    unlink(temporary.c_str());
    return error;
  };
  step("temporary-created");
  // Written in two halves so a crash test can stop between them.
  std::size_t half = contents.size() / 2;
  for (std::size_t written = 0; written < contents.size();) {
    std::size_t end = written < half ? half : contents.size();
    ssize_t n = write(fd, contents.data() + written, end - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write failed");
    written += static_cast<std::size_t>(n);
    if (written == half) step("half-written");
  }
  step("written");
  if (fchmod(fd, mode) != 0 || fsync(fd) != 0) return fail("cannot flush the temporary file");
  step("flushed");
  if (close(fd) != 0) {
    fd = -1;
    return fail("cannot close the temporary file");
  }
  fd = -1;
  if (rename(temporary.c_str(), path.c_str()) != 0) return fail("cannot replace the file");
  step("renamed");
  // The rename is durable only once the directory entry is.
  int directory_fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd >= 0) {
    fsync(directory_fd);
    close(directory_fd);
  }
  step("directory-synced");
  return OkStatus();
}

}  // namespace

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents,
                           const AtomicWriteObserver& on_step) {
  return WriteWithMode(path, contents, 0644, on_step);
}

Status WritePrivateFileAtomically(const std::filesystem::path& path, std::string_view contents,
                                  const AtomicWriteObserver& on_step) {
  return WriteWithMode(path, contents, 0600, on_step);
}

}  // namespace pinion
