// pinion/pin_formats.h — pins written the way other tools write them.
//
//   curl:  "sha256//<base64>;sha256//<base64>"       → ParseCurlPinList
//   HPKP:  `pin-sha256="<b64>"; max-age=5184000; includeSubDomains` → ParseHpkpHeader
//   hex:   "AB:CD:…" or "abcd…" (certificate fingerprints) → ParseHexFingerprint
//   any of the above or canonical, one pin           → ParseAnyPin
// Every parser is strict and names what is wrong; none normalises base64url or
// unpadded base64 into a match (curl compares exact padded base64 too).
#ifndef PINION_PIN_FORMATS_H_
#define PINION_PIN_FORMATS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/pin.h"
#include "pinion/result.h"

namespace pinion {

// ParseCurlPinList reads curl's --pinnedpubkey hash list: one or more
// "sha256//<base64>" separated by ';'. (A file path is not a pin list: load
// the file with ReadPinSources instead.)
Result<std::vector<Pin>> ParseCurlPinList(std::string_view text);
// FormatCurlPinList writes SPKI SHA-256 pins as a curl --pinnedpubkey string.
// Fails with kInvalidArgument for pins curl cannot express (certificate or non-SHA-256 pins).
Result<std::string> FormatCurlPinList(const std::vector<Pin>& pins);

// HpkpHeader is the content of a Public-Key-Pins header (RFC 7469 §2.1).
struct HpkpHeader {
  std::vector<Pin> pins;
  std::optional<std::int64_t> max_age_seconds;
  bool include_subdomains = false;
  std::optional<std::string> report_uri;
};
// ParseHpkpHeader reads a Public-Key-Pins(-Report-Only) header value.
// Directive names are case-insensitive; unknown directives are ignored as
// RFC 7469 §2.1 requires; repeated directives and bad pins are errors.
Result<HpkpHeader> ParseHpkpHeader(std::string_view value);
// FormatHpkpHeader writes the header value ParseHpkpHeader reads back:
// SHA-256 SPKI pins, max-age (0 when absent), includeSubDomains, report-uri.
// kInvalidArgument for pins HPKP cannot carry (certificate or non-SHA-256 pins).
Result<std::string> FormatHpkpHeader(const HpkpHeader& header);

// ParseHexFingerprint reads a certificate fingerprint in hex, either with a
// ':' between every byte or with no separator. The length picks the
// algorithm (32 → SHA-256, 48 → SHA-384, 64 → SHA-512); a 20-byte SHA-1
// fingerprint is refused with kPinUnsupportedAlgorithm.
Result<Pin> ParseHexFingerprint(std::string_view text);

// ParseAnyPin accepts one pin in any notation above or the canonical form.
Result<Pin> ParseAnyPin(std::string_view text);

}  // namespace pinion

#endif  // PINION_PIN_FORMATS_H_
