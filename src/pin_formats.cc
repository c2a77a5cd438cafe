#include "pinion/pin_formats.h"

#include <algorithm>
#include <cctype>

#include "internal/crypto.h"

namespace pinion {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits an HPKP directive value: a token or a quoted-string (RFC 7230 §3.2.6).
Result<std::string> UnquoteDirectiveValue(std::string_view value) {
  if (value.empty() || value.front() != '"') return std::string(value);
  if (value.size() < 2 || value.back() != '"') {
    return Error(ErrorCode::kPinSyntax, "unterminated quoted string");
  }
  std::string out;
  for (std::size_t i = 1; i + 1 < value.size(); ++i) {
    if (value[i] == '\\' && i + 2 < value.size()) ++i;
    out += value[i];
  }
  return out;
}

}  // namespace

Result<std::vector<Pin>> ParseCurlPinList(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256//";
  std::vector<Pin> pins;
  std::size_t index = 0;
  while (true) {
    std::size_t end = text.find(';');
    std::string_view item = text.substr(0, end);
    std::string field = "[" + std::to_string(index) + "]";
    if (!item.starts_with(kPrefix)) {
      return Error(ErrorCode::kPinSyntax,
                   "expected 'sha256//<base64>' (curl's only hash notation)")
          .WithField(field);
    }
    auto digest = internal::Base64DecodeStrict(item.substr(kPrefix.size()));
    if (!digest) return std::move(digest).error().WithField(field);
    auto pin = Pin::FromDigest(PinTarget::kSpki, HashAlgorithm::kSha256, *digest);
    if (!pin) return std::move(pin).error().WithField(field);
    pins.push_back(*pin);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
    ++index;
  }
  return pins;
}

Result<std::string> FormatCurlPinList(const std::vector<Pin>& pins) {
  std::string out;
  for (const Pin& pin : pins) {
    if (pin.target() != PinTarget::kSpki || pin.algorithm() != HashAlgorithm::kSha256) {
      return Error(ErrorCode::kInvalidArgument,
                   "curl pins only SHA-256 public-key hashes; cannot express " + pin.ToString());
    }
    if (!out.empty()) out += ';';
    out += "sha256//" + pin.Base64();
  }
  return out;
}

Result<std::string> FormatHpkpHeader(const HpkpHeader& header) {
  std::string value;
  for (const Pin& pin : header.pins) {
    if (pin.target() != PinTarget::kSpki || pin.algorithm() != HashAlgorithm::kSha256) {
      return Error(ErrorCode::kInvalidArgument, "HPKP carries SHA-256 public-key pins only, not " + pin.ToString());
    }
    value += "pin-sha256=\"" + pin.Base64() + "\"; ";
  }
  value += "max-age=" + std::to_string(header.max_age_seconds.value_or(0));
  if (header.include_subdomains) value += "; includeSubDomains";
  if (header.report_uri) value += "; report-uri=\"" + *header.report_uri + "\"";
  return value;
}

Result<HpkpHeader> ParseHpkpHeader(std::string_view value) {
  HpkpHeader header;
  bool seen_max_age = false, seen_subdomains = false, seen_report = false;
  std::size_t index = 0;
  while (!value.empty()) {
    // ';' never appears inside the base64 or URI values HPKP allows unquoted,
    // and quoted values may contain it: split on ';' outside quotes.
    std::size_t end = 0;
    bool quoted = false;
    for (; end < value.size(); ++end) {
      if (value[end] == '"') quoted = !quoted;
      if (value[end] == ';' && !quoted) break;
    }
    std::string_view directive = Trim(value.substr(0, end));
    value.remove_prefix(std::min(end + 1, value.size()));
    std::string field = "directive[" + std::to_string(index++) + "]";
    if (directive.empty()) continue;
    std::size_t eq = directive.find('=');
    std::string name = Lower(Trim(directive.substr(0, eq)));
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : Trim(directive.substr(eq + 1));
    auto unquoted = UnquoteDirectiveValue(raw_value);
    if (!unquoted) return std::move(unquoted).error().WithField(field);
    if (name == "pin-sha256") {
      auto digest = internal::Base64DecodeStrict(*unquoted);
      if (!digest) return std::move(digest).error().WithField(field);
      auto pin = Pin::FromDigest(PinTarget::kSpki, HashAlgorithm::kSha256, *digest);
      if (!pin) return std::move(pin).error().WithField(field);
      header.pins.push_back(*pin);
    } else if (name == "max-age") {
      if (seen_max_age) return Error(ErrorCode::kPinSyntax, "max-age repeated").WithField(field);
      seen_max_age = true;
      if (unquoted->empty() || unquoted->size() > 18 ||
          !std::all_of(unquoted->begin(), unquoted->end(),
                       [](unsigned char c) { return std::isdigit(c); })) {
        return Error(ErrorCode::kPinSyntax, "max-age must be a non-negative integer")
            .WithField(field);
      }
      header.max_age_seconds = std::stoll(*unquoted);
    } else if (name == "includesubdomains") {
      if (seen_subdomains) {
        return Error(ErrorCode::kPinSyntax, "includeSubDomains repeated").WithField(field);
      }
      seen_subdomains = true;
      header.include_subdomains = true;
    } else if (name == "report-uri") {
      if (seen_report) return Error(ErrorCode::kPinSyntax, "report-uri repeated").WithField(field);
      seen_report = true;
      header.report_uri = *unquoted;
    } else if (name.starts_with("pin-")) {
      return Error(ErrorCode::kPinUnsupportedAlgorithm,
                   "'" + name + "' is not accepted; HPKP defines pin-sha256 only")
          .WithField(field);
    }
    // RFC 7469 §2.1: a UA MUST ignore directives it does not recognise.
  }
  if (header.pins.empty()) {
    return Error(ErrorCode::kPinSyntax, "no pin-sha256 directive in the header");
  }
  return header;
}

Result<Pin> ParseHexFingerprint(std::string_view text) {
  bool colons = text.find(':') != std::string_view::npos;
  std::vector<std::uint8_t> bytes;
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + 1 >= text.size()) {
      return Error(ErrorCode::kPinHex, "odd number of hex digits");
    }
    int hi = HexValue(text[i]), lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return Error(ErrorCode::kPinHex, "invalid hex digit near offset " + std::to_string(i));
    }
    bytes.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    i += 2;
    if (colons && i < text.size()) {
      if (text[i] != ':') {
        return Error(ErrorCode::kPinHex,
                     "expected ':' at offset " + std::to_string(i) +
                         " (use ':' between every byte, or no separator at all)");
      }
      if (++i == text.size()) return Error(ErrorCode::kPinHex, "trailing ':'");
    }
  }
  switch (bytes.size()) {
    case 32: return Pin::FromDigest(PinTarget::kCertificate, HashAlgorithm::kSha256, bytes);
    case 48: return Pin::FromDigest(PinTarget::kCertificate, HashAlgorithm::kSha384, bytes);
    case 64: return Pin::FromDigest(PinTarget::kCertificate, HashAlgorithm::kSha512, bytes);
    case 16:
    case 20:
      return Error(ErrorCode::kPinUnsupportedAlgorithm,
                   "a " + std::to_string(bytes.size()) +
                       "-byte fingerprint is MD5 or SHA-1, which pinion does not accept; "
                       "use a SHA-256 fingerprint");
    default:
      return Error(ErrorCode::kPinDigestLength,
                   "a fingerprint must be 32, 48 or 64 bytes, got " +
                       std::to_string(bytes.size()));
  }
}

Result<Pin> ParseAnyPin(std::string_view text) {
  text = Trim(text);
  // "sha256//X" is curl's notation when X is a whole base64 digest (44
  // characters); otherwise it is a canonical pin whose base64 starts with '/'.
  if (text.starts_with("sha256//") && text.size() == 8 + 44) {
    PINION_ASSIGN_OR_RETURN(std::vector<Pin> pins, ParseCurlPinList(text));
    if (pins.size() != 1) return Error(ErrorCode::kPinSyntax, "expected one pin, got a list");
    return pins.front();
  }
  if (Lower(text.substr(0, 11)) == "pin-sha256=") {
    PINION_ASSIGN_OR_RETURN(HpkpHeader header, ParseHpkpHeader(text));
    if (header.pins.size() != 1) return Error(ErrorCode::kPinSyntax, "expected one pin");
    return header.pins.front();
  }
  if (text.find('/') == std::string_view::npos && !text.empty() &&
      std::all_of(text.begin(), text.end(),
                  [](char c) { return c == ':' || HexValue(c) >= 0; })) {
    return ParseHexFingerprint(text);
  }
  return Pin::Parse(text);
}

}  // namespace pinion
