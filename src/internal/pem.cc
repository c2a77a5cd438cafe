#include "internal/pem.h"

#include "internal/crypto.h"

#include <string>
#include <string_view>

namespace pinion::internal {
namespace {

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
    while (length < rest.size() && (IsBase64Char(rest[length]) || rest[length] == '=')) ++length;
    if (length == rest.size()) return PemError("no \"" + end + "\" line");
    base64.append(rest.substr(0, length));
    rest.remove_prefix(length);
    if (length == 0 || !TakeLineBreak(rest)) return PemError("line " + std::to_string(line) + " is not base64");
  }
  rest.remove_prefix(end.size());
  TakeLineBreak(rest);
  if (!rest.empty()) return PemError("text after the \"" + end + "\" line");

  // The same canonical base64 as pins: one DER, one PEM text.
  auto der = Base64DecodeStrict(base64);
  if (!der) return PemError("the base64 body: " + der.error().message());
  return der;
}

}  // namespace pinion::internal
