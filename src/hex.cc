#include "pinion/hex.h"

namespace pinion {

std::string HexEncode(std::span<const std::uint8_t> bytes, HexCase letter_case, char separator) {
  const char* digits = letter_case == HexCase::kUpper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * (separator == '\0' ? 2 : 3));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0 && separator != '\0') out += separator;
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0xF];
  }
  return out;
}

}  // namespace pinion
