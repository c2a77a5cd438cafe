#include "http/read_access.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>
#include <fstream>

namespace pinion::collector {
namespace {

constexpr std::size_t kMaxTokenFileBytes = 4096;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::array<unsigned char, 32> Digest(std::string_view text) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

}  // namespace

bool IsLoopbackAddress(std::string_view address) {
  std::string text(address);
  unsigned char bytes[16] = {};
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return bytes[0] == 127;
  if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) return false;
  static constexpr unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kLoopback6, 16) == 0) return true;
  return std::memcmp(bytes, kMappedPrefix, 12) == 0 && bytes[12] == 127;
}

Result<ReadAccess> ReadAccess::Create(const ReadAccessOptions& options) {
  ReadAccess access;
  access.loopback_ = IsLoopbackAddress(options.listen);
  if (options.token_file.empty()) return access;
  std::ifstream in(options.token_file, std::ios::binary);
  if (!in) return Error(ErrorCode::kIo, "cannot read the read-token file").WithSource(options.token_file.string());
  std::string content(kMaxTokenFileBytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<std::size_t>(in.gcount()));
  if (content.size() > kMaxTokenFileBytes) {
    return Error(ErrorCode::kInvalidArgument, "the read-token file is over 4 KiB")
        .WithSource(options.token_file.string());
  }
  std::string_view token = Trim(std::string_view(content).substr(0, content.find('\n')));
  if (token.size() < kMinTokenLength) {
    return Error(ErrorCode::kInvalidArgument, "the read token must be at least " + std::to_string(kMinTokenLength) +
                                                  " characters (e.g. openssl rand -hex 32)")
        .WithSource(options.token_file.string());
  }
  for (char c : token) {
    // A header value cannot carry these, so such a token could never match.
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
      return Error(ErrorCode::kInvalidArgument, "the read token holds white space or control characters")
          .WithSource(options.token_file.string());
    }
  }
  access.has_token_ = true;
  access.token_digest_ = Digest(token);
  return access;
}

ReadAccess::Decision ReadAccess::Check(std::string_view authorization) const {
  if (!has_token_) return loopback_ ? Decision::kAllowed : Decision::kDisabled;
  // RFC 6750 §2.1: "Bearer" (the scheme is case-insensitive, RFC 9110 §11.1), then the token.
  constexpr std::string_view kScheme = "bearer";
  authorization = Trim(authorization);
  if (authorization.size() <= kScheme.size() || !IsSpace(authorization[kScheme.size()])) {
    return Decision::kUnauthorized;
  }
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) != kScheme[i]) return Decision::kUnauthorized;
  }
  std::array<unsigned char, 32> presented = Digest(Trim(authorization.substr(kScheme.size())));
  return CRYPTO_memcmp(presented.data(), token_digest_.data(), presented.size()) == 0 ? Decision::kAllowed
                                                                                      : Decision::kUnauthorized;
}

}  // namespace pinion::collector
