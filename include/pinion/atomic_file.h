// pinion/atomic_file.h — write a file so that a crash or power cut leaves
// either the old contents or the new, whole: temporary file in the same
// directory, fsync, rename over the target, fsync the directory (DESIGN.md).
#ifndef PINION_ATOMIC_FILE_H_
#define PINION_ATOMIC_FILE_H_

#include <filesystem>
#include <functional>
#include <string_view>

#include "pinion/result.h"

namespace pinion {

// WriteFileAtomically replaces `path` with `contents` (kIo on failure, in
// which case `path` is untouched and no temporary file is left behind).
//
// `on_step`, when set, is called after each step — "temporary-created",
// "half-written", "written", "flushed", "renamed", "directory-synced" — so
// crash tests can kill the process at every point of the write.
using AtomicWriteObserver = std::function<void(std::string_view step)>;
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents,
                           const AtomicWriteObserver& on_step = {});

// WritePrivateFileAtomically is WriteFileAtomically for secrets (private
// keys): the file is owner-only (0600) from its creation through the rename,
// so no other user can open it at any moment, whatever the umask.
Status WritePrivateFileAtomically(const std::filesystem::path& path, std::string_view contents,
                                  const AtomicWriteObserver& on_step = {});

}  // namespace pinion

#endif  // PINION_ATOMIC_FILE_H_
