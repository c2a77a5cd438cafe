// Internal: the few libcrypto services the core needs, behind plain types.
#ifndef PINION_SRC_INTERNAL_CRYPTO_H_
#define PINION_SRC_INTERNAL_CRYPTO_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/pin.h"
#include "pinion/result.h"

namespace pinion::internal {

// Digest hashes `data` with `algorithm` into `out` (at least DigestSize bytes);
// returns the digest length.
std::size_t Digest(HashAlgorithm algorithm, std::span<const std::uint8_t> data,
                   std::span<std::uint8_t> out);

// Sha256Hex is the lower-case hex SHA-256 of `data` (identifiers, file names).
std::string Sha256Hex(std::string_view data);
// Base64Encode writes padded standard base64.
std::string Base64Encode(std::span<const std::uint8_t> data);

// IsBase64Char: one of the 64 characters of standard base64 (not '='). A
// table, inline: report chains put kilobytes of base64 through it per body.
inline constexpr std::array<bool, 256> kBase64Alphabet = [] {
  std::array<bool, 256> table{};
  for (char letter : std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")) {
    table[static_cast<unsigned char>(letter)] = true;
  }
  return table;
}();
inline bool IsBase64Char(char c) { return kBase64Alphabet[static_cast<unsigned char>(c)]; }

// Base64DecodeStrict accepts only canonical padded standard base64: no
// whitespace, no base64url, no missing padding, no non-zero trailing bits.
// Errors are kPinBase64 with a message saying which rule was broken.
Result<std::vector<std::uint8_t>> Base64DecodeStrict(std::string_view text);

}  // namespace pinion::internal

#endif  // PINION_SRC_INTERNAL_CRYPTO_H_
