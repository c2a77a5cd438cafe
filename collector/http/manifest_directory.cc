#include "http/manifest_directory.h"

#include <openssl/sha.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "pinion/dynamic/dsse.h"
#include "pinion/pin_source.h"

namespace pinion::collector {
namespace {

// A strong validator: the first 128 bits of the body's SHA-256, in hex. The
// same bytes give the same ETag on every collector behind a load balancer.
std::string EntityTag(const std::string& body) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  return fmt::format("\"{:02x}\"", fmt::join(digest, digest + 16, ""));
}

}  // namespace

bool ManifestDirectory::IsValidName(std::string_view name) {
  return !name.empty() && name.size() <= 128 && name.front() != '.' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
         });
}

Result<std::optional<ServedManifest>> ManifestDirectory::Find(std::string_view name) const {
  if (!IsValidName(name)) return std::optional<ServedManifest>();
  std::filesystem::path path = directory_ / (std::string(name) + ".json");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::optional<ServedManifest>();
  PINION_ASSIGN_OR_RETURN(auto bytes, ReadFileBounded(path, kMaxEnvelopeBytes));
  ServedManifest manifest;
  manifest.body.assign(bytes.begin(), bytes.end());
  manifest.etag = EntityTag(manifest.body);
  return std::optional<ServedManifest>(std::move(manifest));
}

}  // namespace pinion::collector
