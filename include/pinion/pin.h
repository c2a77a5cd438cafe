// pinion/pin.h — a pin: the hash of a public key (SPKI) or of a certificate.
//
//   auto pin = pinion::Pin::Parse("sha256/AAUDLk4c98xcFUDvA9i/MnA9HuO03IPi15r+Cx9OXnc=");
//   if (!pin) return pin.error();
//   pin->ToString();   // the canonical text again
//
// Text forms (canonical, what ToString prints):
//   sha256/<base64>        SHA-256 of the DER SubjectPublicKeyInfo (also sha384/, sha512/)
//   cert-sha256/<base64>   SHA-256 of the whole certificate DER (also cert-sha384/, cert-sha512/)
// Base64 is the standard alphabet with padding. Pins compare on decoded bytes.
// Other notations (curl's sha256//, HPKP headers, hex fingerprints) are in pin_formats.h.
#ifndef PINION_PIN_H_
#define PINION_PIN_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "pinion/enum_table.h"
#include "pinion/result.h"

namespace pinion {

// HashAlgorithm names the digest of a pin. SHA-1 and MD5 are deliberately absent.
enum class HashAlgorithm : std::uint8_t { kSha256, kSha384, kSha512 };

// PinTarget says what was hashed.
enum class PinTarget : std::uint8_t {
  kSpki,         // the DER SubjectPublicKeyInfo (survives re-issuing a certificate for the same key)
  kCertificate,  // the whole DER certificate (changes with every re-issue)
};

// DigestSize returns the digest length in bytes of `algorithm` (32, 48, 64).
std::size_t DigestSize(HashAlgorithm algorithm);
// HashAlgorithmName returns "sha256", "sha384" or "sha512".
inline constexpr EnumTable<HashAlgorithm, 3> kHashAlgorithmNames{
    {{{HashAlgorithm::kSha256, "sha256"}, {HashAlgorithm::kSha384, "sha384"}, {HashAlgorithm::kSha512, "sha512"}}}};
static_assert(kHashAlgorithmNames.IsComplete());
inline std::string_view HashAlgorithmName(HashAlgorithm algorithm) { return kHashAlgorithmNames.Name(algorithm); }

// Pin is an immutable value: target, algorithm and digest bytes.
class Pin {
 public:
  static constexpr std::size_t kMaxDigestSize = 64;

  // FromDigest builds a pin from raw digest bytes; fails with kPinDigestLength
  // when the length does not fit `algorithm`.
  static Result<Pin> FromDigest(PinTarget target, HashAlgorithm algorithm,
                                std::span<const std::uint8_t> digest);
  // OfSpki hashes DER SubjectPublicKeyInfo bytes (no parsing: the caller gives the exact bytes).
  static Pin OfSpki(std::span<const std::uint8_t> spki_der,
                    HashAlgorithm algorithm = HashAlgorithm::kSha256);
  // OfCertificate hashes whole DER certificate bytes.
  static Pin OfCertificate(std::span<const std::uint8_t> certificate_der,
                           HashAlgorithm algorithm = HashAlgorithm::kSha256);
  // Parse reads the canonical text form (see the file comment). Errors:
  // kPinSyntax (no recognised prefix), kPinUnsupportedAlgorithm (sha1/, md5/ …),
  // kPinBase64 (not padded standard base64), kPinDigestLength.
  static Result<Pin> Parse(std::string_view text);

  PinTarget target() const { return target_; }
  HashAlgorithm algorithm() const { return algorithm_; }
  std::span<const std::uint8_t> digest() const { return {digest_.data(), size_}; }

  // ToString returns the canonical text; Parse(ToString()) == *this.
  std::string ToString() const;
  // Base64 returns the digest alone in padded standard base64.
  std::string Base64() const;
  // Hex returns the digest in upper-case hex, bytes separated by `separator`
  // ('\0' for none) — the usual certificate fingerprint notation.
  std::string Hex(char separator = ':') const;

  friend bool operator==(const Pin& a, const Pin& b) {
    return a.target_ == b.target_ && a.algorithm_ == b.algorithm_ && a.size_ == b.size_ &&
           a.digest_ == b.digest_;
  }

 private:
  Pin(PinTarget target, HashAlgorithm algorithm, std::span<const std::uint8_t> digest);

  std::array<std::uint8_t, kMaxDigestSize> digest_{};
  std::uint8_t size_ = 0;
  HashAlgorithm algorithm_ = HashAlgorithm::kSha256;
  PinTarget target_ = PinTarget::kSpki;
};

}  // namespace pinion

#endif  // PINION_PIN_H_
