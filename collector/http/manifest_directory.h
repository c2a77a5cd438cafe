// collector/http/manifest_directory.h — signed manifests served from a directory.
//
// GET /v1/manifests/NAME serves DIR/NAME.json as it is on disk: the collector
// never signs or alters manifests (clients verify the signature themselves),
// it only adds an ETag (a hash of the bytes) for conditional requests.
#ifndef PINION_COLLECTOR_HTTP_MANIFEST_DIRECTORY_H_
#define PINION_COLLECTOR_HTTP_MANIFEST_DIRECTORY_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "pinion/result.h"

namespace pinion::collector {

struct ServedManifest {
  std::string body;
  std::string etag;  // quoted, strong
};

class ManifestDirectory {
 public:
  explicit ManifestDirectory(std::filesystem::path directory) : directory_(std::move(directory)) {}

  // IsValidName: 1–128 of [A-Za-z0-9._-], not starting with a dot (no paths).
  static bool IsValidName(std::string_view name);
  // Find reads NAME.json (nullopt when absent; kIo when unreadable or too large).
  Result<std::optional<ServedManifest>> Find(std::string_view name) const;

 private:
  std::filesystem::path directory_;
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_MANIFEST_DIRECTORY_H_
