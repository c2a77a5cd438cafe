// collector/http/read_access.h — who may read stored reports.
//
// Reports name hosts, apps and the certificates an attacker presented: the
// read routes (GET /v1/reports…, /v1/summary, the dashboard) are for the
// operator. Report POSTs, manifests and /healthz stay open to everyone.
//
//   auto access = ReadAccess::Create({.token_file = "/etc/pinion/read-token",
//                                     .listen = "0.0.0.0"});
//   switch (access->Check(request.Header("authorization"))) { … }
//
// The rules: with a token file, every read needs `Authorization: Bearer
// TOKEN` (loopback included). Without one, a loopback listener serves reads
// to anyone who can reach it (the local machine); any other listener serves
// no reads at all — the secure default for a collector facing the Internet.
#ifndef PINION_COLLECTOR_HTTP_READ_ACCESS_H_
#define PINION_COLLECTOR_HTTP_READ_ACCESS_H_

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "pinion/result.h"

namespace pinion::collector {

// IsLoopbackAddress: 127.0.0.0/8, ::1, or an IPv4-mapped loopback address.
// Host names ("localhost") and unparsable text are not.
bool IsLoopbackAddress(std::string_view address);

struct ReadAccessOptions {
  std::filesystem::path token_file;  // empty: no token
  std::string listen;                // the address the collector listens on
};

class ReadAccess {
 public:
  enum class Decision : std::uint8_t {
    kAllowed,
    kUnauthorized,  // a token is required and the request lacks it or has another (401)
    kDisabled,      // no token file and not on loopback: reads are off (403)
  };

  // Create reads the token file: its first line, surrounding white space
  // removed; kIo when unreadable, kInvalidArgument when empty, shorter than
  // kMinTokenLength or over 4 KiB. Only a SHA-256 of the token is kept.
  static Result<ReadAccess> Create(const ReadAccessOptions& options);

  // Check decides on a request's Authorization header ("" when absent).
  // Constant time in the token: both sides are hashed, then compared with
  // CRYPTO_memcmp, so neither the bytes nor the length of the token leak.
  Decision Check(std::string_view authorization) const;

  bool token_required() const { return has_token_; }
  bool reads_disabled() const { return !has_token_ && !loopback_; }

  static constexpr std::size_t kMinTokenLength = 16;

 private:
  ReadAccess() = default;
  bool has_token_ = false;
  bool loopback_ = false;
  std::array<unsigned char, 32> token_digest_{};
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_READ_ACCESS_H_
