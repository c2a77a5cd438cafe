// Internal: one strictly framed PEM block, decoded without OpenSSL's BIO/PEM
// machinery. PEM_read_bio walks its input line by line through a BIO and
// skips text it does not recognise; reports carry five or so certificates
// per body at tens of thousands of bodies per second, and untrusted text
// there should match one exact shape (bench/report_bench.cc has the figures).
#ifndef PINION_SRC_INTERNAL_PEM_H_
#define PINION_SRC_INTERNAL_PEM_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "pinion/result.h"

namespace pinion::internal {

// DecodeStrictPem accepts exactly: "-----BEGIN <label>-----", a line break
// (LF or CRLF), one or more lines of standard base64 (any length; '=' padding
// only at the very end), "-----END <label>-----", and at most one final line
// break. No encapsulated headers, no text before or after, canonical base64.
// kCertificateParse with a message naming the broken rule.
Result<std::vector<std::uint8_t>> DecodeStrictPem(std::string_view text, std::string_view label);

}  // namespace pinion::internal

#endif  // PINION_SRC_INTERNAL_PEM_H_
