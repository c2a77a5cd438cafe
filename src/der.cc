#include "pinion/der.h"

#include <string>

namespace pinion {
namespace {

constexpr std::uint8_t kSequence = 0x30;
constexpr std::uint8_t kInteger = 0x02;
constexpr std::uint8_t kContextExplicit0 = 0xA0;  // tbsCertificate.version

struct Tlv {
  std::uint8_t tag;
  std::span<const std::uint8_t> whole;  // tag + length + value
  std::span<const std::uint8_t> value;
};

Error Malformed(const char* what) {
  return Error(ErrorCode::kCertificateParse, std::string("malformed certificate DER: ") + what);
}

// ReadTlv reads one element with a single-byte tag and a definite, minimally
// encoded length (X.690 §10.1), and checks it fits in `in`.
Result<Tlv> ReadTlv(std::span<const std::uint8_t> in, const char* what) {
  if (in.size() < 2) return Malformed(what);
  std::uint8_t tag = in[0];
  if ((tag & 0x1F) == 0x1F) return Malformed(what);  // high tag numbers never occur here
  std::size_t length = in[1];
  std::size_t header = 2;
  if (length & 0x80) {
    std::size_t octets = length & 0x7F;
    if (octets == 0 || octets > 4 || in.size() < 2 + octets) return Malformed(what);
    length = 0;
    for (std::size_t i = 0; i < octets; ++i) length = length << 8 | in[2 + i];
    // Minimal: long form only from 128 on, and no leading zero octet.
    if (length < 0x80 || in[2] == 0) return Malformed(what);
    header += octets;
  }
  if (in.size() - header < length) return Malformed(what);
  return Tlv{tag, in.subspan(0, header + length), in.subspan(header, length)};
}

Result<Tlv> Expect(std::span<const std::uint8_t> in, std::uint8_t tag, const char* what) {
  PINION_ASSIGN_OR_RETURN(Tlv tlv, ReadTlv(in, what));
  if (tlv.tag != tag) return Malformed(what);
  return tlv;
}

}  // namespace

Result<std::span<const std::uint8_t>> SpkiOfCertificate(
    std::span<const std::uint8_t> certificate_der) {
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
  PINION_ASSIGN_OR_RETURN(Tlv certificate, Expect(certificate_der, kSequence, "Certificate"));
  if (certificate.whole.size() != certificate_der.size()) {
    return Malformed("trailing bytes after the Certificate");
  }
  PINION_ASSIGN_OR_RETURN(Tlv tbs, Expect(certificate.value, kSequence, "tbsCertificate"));
  std::span<const std::uint8_t> rest = tbs.value;
  auto skip = [&rest](std::uint8_t tag, const char* what) -> Status {
    PINION_ASSIGN_OR_RETURN(Tlv tlv, Expect(rest, tag, what));
    rest = rest.subspan(tlv.whole.size());
    return OkStatus();
  };
  // TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, serialNumber,
  //   signature, issuer, validity, subject, subjectPublicKeyInfo, ... }  (RFC 5280 §4.1)
  if (!rest.empty() && rest[0] == kContextExplicit0) PINION_TRY(skip(kContextExplicit0, "version"));
  PINION_TRY(skip(kInteger, "serialNumber"));
  PINION_TRY(skip(kSequence, "signature"));
  PINION_TRY(skip(kSequence, "issuer"));
  PINION_TRY(skip(kSequence, "validity"));
  PINION_TRY(skip(kSequence, "subject"));
  PINION_ASSIGN_OR_RETURN(Tlv spki, Expect(rest, kSequence, "subjectPublicKeyInfo"));
  return spki.whole;
}

}  // namespace pinion
