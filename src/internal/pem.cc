#include "internal/pem.h"

#include <openssl/evp.h>

#include <array>
#include <string>
#include <string_view>

namespace pinion::internal {
namespace {

// Which bytes may appear on a base64 line (the alphabet and '=' padding):
// one table look-up per byte, as every report carries several kilobytes.
constexpr std::array<bool, 256> kBase64LineBytes = [] {
  std::array<bool, 256> table{};
  for (char c : std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}();

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  return c == '+' ? 62 : 63;
}

Error PemError(std::string reason) { return Error(ErrorCode::kCertificateParse, std::move(reason)); }

// Consumes one line break (LF or CRLF) at the front of `rest`.
bool TakeLineBreak(std::string_view& rest) {
  if (rest.starts_with("\r\n")) {
    rest.remove_prefix(2);
    return true;
  }
  if (rest.starts_with('\n')) {
    rest.remove_prefix(1);
    return true;
  }
  return false;
}

}  // namespace

Result<std::vector<std::uint8_t>> DecodeStrictPem(std::string_view text, std::string_view label) {
  const std::string begin = "-----BEGIN " + std::string(label) + "-----";
  const std::string end = "-----END " + std::string(label) + "-----";
  std::string_view rest = text;
  if (!rest.starts_with(begin)) return PemError("does not start with the line \"" + begin + "\"");
  rest.remove_prefix(begin.size());
  if (!TakeLineBreak(rest)) return PemError("no line break after \"" + begin + "\" (PEM headers are not accepted)");

  std::string base64;
  base64.reserve(rest.size());
  for (std::size_t line = 2; !rest.starts_with(end); ++line) {
    std::size_t length = 0;
    while (length < rest.size() && kBase64LineBytes[static_cast<unsigned char>(rest[length])]) ++length;
    if (length == rest.size()) return PemError("no \"" + end + "\" line");
    base64.append(rest.substr(0, length));
    rest.remove_prefix(length);
    if (length == 0 || !TakeLineBreak(rest)) return PemError("line " + std::to_string(line) + " is not base64");
  }
  rest.remove_prefix(end.size());
  TakeLineBreak(rest);
  if (!rest.empty()) return PemError("text after the \"" + end + "\" line");

  std::size_t padding = 0;
  while (padding < base64.size() && base64[base64.size() - 1 - padding] == '=') ++padding;
  if (base64.empty() || base64.size() % 4 != 0 || padding > 2) return PemError("the base64 body is not whole 4-character groups");
  if (base64.find('=') < base64.size() - padding) return PemError("'=' inside the base64 body");
  // Canonical: the bits that the padding drops must be zero.
  int last = Base64Value(base64[base64.size() - 1 - padding]);
  if ((padding == 1 && (last & 0x3) != 0) || (padding == 2 && (last & 0xF) != 0)) {
    return PemError("non-canonical base64 (stray bits before the padding)");
  }
  std::vector<std::uint8_t> der(base64.size() / 4 * 3);
  int decoded = EVP_DecodeBlock(der.data(), reinterpret_cast<const unsigned char*>(base64.data()),
                                static_cast<int>(base64.size()));
  if (decoded < 0) return PemError("invalid base64");
  der.resize(static_cast<std::size_t>(decoded) - padding);
  return der;
}

}  // namespace pinion::internal
