// pinion/atomic_file.h — write a file so that a crash or power cut leaves
// either the old contents or the new, whole: temporary file in the same
// directory, fsync, rename over the target, fsync the directory (DESIGN.md).
#ifndef PINION_ATOMIC_FILE_H_
#define PINION_ATOMIC_FILE_H_

#include <filesystem>
#include <string_view>

#include "pinion/result.h"

namespace pinion {

// WriteFileAtomically replaces `path` with `contents` (kIo on failure, in
// which case `path` is untouched and no temporary file is left behind).
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace pinion

#endif  // PINION_ATOMIC_FILE_H_
