// pinion/hex.h — hex encoding, the one implementation behind fingerprints
// ("AB:CD:…"), key ids and digests in reports ("abcd…"), and SQL literals.
#ifndef PINION_HEX_H_
#define PINION_HEX_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pinion {

enum class HexCase : std::uint8_t { kLower, kUpper };

// HexEncode writes two digits per byte in `letter_case`, with `separator`
// between bytes when it is not '\0'.
std::string HexEncode(std::span<const std::uint8_t> bytes, HexCase letter_case = HexCase::kLower,
                      char separator = '\0');
inline std::string HexEncode(std::string_view bytes, HexCase letter_case = HexCase::kLower, char separator = '\0') {
  return HexEncode({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, letter_case, separator);
}

}  // namespace pinion

#endif  // PINION_HEX_H_
