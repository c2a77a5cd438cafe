#include "internal/crypto.h"
#include "pinion/hex.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

namespace pinion::internal {
namespace {

// Fetching the EVP_MD once avoids OpenSSL 3's per-call algorithm lookup on
// the handshake path. The fetched objects live for the process.
const EVP_MD* FetchedMd(HashAlgorithm algorithm) {
  static const EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static const EVP_MD* const kSha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  static const EVP_MD* const kSha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  switch (algorithm) {
    case HashAlgorithm::kSha256: return kSha256;
    case HashAlgorithm::kSha384: return kSha384;
    case HashAlgorithm::kSha512: return kSha512;
  }
  return nullptr;
}

}  // namespace

std::size_t Digest(HashAlgorithm algorithm, std::span<const std::uint8_t> data,
                   std::span<std::uint8_t> out) {
  const EVP_MD* md = FetchedMd(algorithm);
  // One context per thread, reset for each digest: EVP_Digest would allocate
  // and free a context on every call, on the handshake path.
  struct ContextDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  unsigned int length = 0;
  // Failure here means libcrypto itself is broken (no default provider): there
  // is no safe way to go on pinning, so stop rather than compare garbage.
  if (md == nullptr || context == nullptr || out.size() < DigestSize(algorithm) ||
      EVP_DigestInit_ex2(context.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), out.data(), &length) != 1) {
    std::abort();
  }
  return length;
}

std::string Sha256Hex(std::string_view data) {
  std::uint8_t digest[32];
  Digest(HashAlgorithm::kSha256, {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()}, digest);
  return HexEncode(digest);
}

std::string Base64Encode(std::span<const std::uint8_t> data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

Result<std::vector<std::uint8_t>> Base64DecodeStrict(std::string_view text) {
  if (text.empty()) return Error(ErrorCode::kPinBase64, "empty base64 digest");
  std::size_t padding = 0;
  while (padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    if (IsBase64Char(text[i])) continue;
    if (text[i] == '-' || text[i] == '_') {
      return Error(ErrorCode::kPinBase64,
                   "base64url character '" + std::string(1, text[i]) +
                       "': pins use the standard alphabet ('+' and '/')");
    }
    return Error(ErrorCode::kPinBase64, "invalid base64 character at offset " + std::to_string(i));
  }
  if (text.size() % 4 != 0 || padding > 2) {
    return Error(ErrorCode::kPinBase64,
                 "base64 length " + std::to_string(text.size()) +
                     " is not a multiple of 4 (is the '=' padding missing?)");
  }
  // Canonical: the bits the padding drops must be zero, so one digest has
  // exactly one text form. The last data character carries 2 (one '=') or 4
  // (two '=') of them.
  if (padding > 0) {
    char last = text[text.size() - 1 - padding];
    int value = last >= 'A' && last <= 'Z'   ? last - 'A'
                : last >= 'a' && last <= 'z' ? last - 'a' + 26
                : last >= '0' && last <= '9' ? last - '0' + 52
                : last == '+'                ? 62
                                             : 63;
    if ((value & (padding == 1 ? 0x3 : 0xF)) != 0) {
      return Error(ErrorCode::kPinBase64, "non-canonical base64 (stray bits before the padding)");
    }
  }
  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  int decoded = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (decoded < 0) return Error(ErrorCode::kPinBase64, "invalid base64");
  out.resize(static_cast<std::size_t>(decoded) - padding);
  return out;
}

}  // namespace pinion::internal
