// pinion/pin_source.h — read certificates, keys and CSRs to pin them.
//
//   auto sources = pinion::ReadPinSourcesFromFile("backup-key.pem");
//   for (const auto& s : *sources) std::cout << s.SpkiPin().ToString() << "\n";
//
// Accepts PEM (any number of blocks, mixed) or a single DER object:
// certificates, public keys (SPKI or PKCS#1 RSA), private keys (PKCS#8 or
// traditional RSA/EC; the public half is pinned, so an offline backup key can
// be pinned before any certificate exists) and certificate requests. RSA, EC
// (P-256, P-384, P-521), Ed25519 and Ed448 keys. Inputs are bounded
// (kMaxPinSourceInputBytes) and parsed strictly; nothing is kept of a private
// key but its public half.
#ifndef PINION_PIN_SOURCE_H_
#define PINION_PIN_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/enum_table.h"
#include "pinion/pin.h"
#include "pinion/result.h"

namespace pinion {

inline constexpr std::size_t kMaxPinSourceInputBytes = 8 * 1024 * 1024;
inline constexpr std::size_t kMaxPinSourceObjects = 1000;

enum class PinSourceKind : std::uint8_t {
  kCertificate,
  kPublicKey,
  kPrivateKey,
  kCertificateRequest,
};
inline constexpr EnumTable<PinSourceKind, 4> kPinSourceKindNames{{{
    {PinSourceKind::kCertificate, "certificate"},
    {PinSourceKind::kPublicKey, "public_key"},
    {PinSourceKind::kPrivateKey, "private_key"},
    {PinSourceKind::kCertificateRequest, "csr"},
}}};
static_assert(kPinSourceKindNames.IsComplete());
inline std::string_view PinSourceKindName(PinSourceKind kind) { return kPinSourceKindNames.Name(kind); }

// PinSource is one pinnable object found in an input.
struct PinSource {
  PinSourceKind kind = PinSourceKind::kCertificate;
  std::string origin;        // "<input name>#<1-based index>"
  std::string key_type;      // "RSA 2048", "EC P-256", "Ed25519" …
  std::string subject;       // certificates and CSRs: RFC 2253 subject; else empty
  std::vector<std::uint8_t> spki_der;         // exactly what is hashed for SPKI pins
  std::vector<std::uint8_t> certificate_der;  // certificates only

  // SpkiPin hashes spki_der.
  Pin SpkiPin(HashAlgorithm algorithm = HashAlgorithm::kSha256) const;
  // CertificatePin hashes certificate_der; nullopt for anything but a certificate.
  std::optional<Pin> CertificatePin(HashAlgorithm algorithm = HashAlgorithm::kSha256) const;
};

// ReadPinSources parses `bytes` (named `input_name` in errors). Fails with
// kInputTooLarge, kCertificateParse, kKeyParse, kEncryptedKey, or
// kNoPinSource when nothing pinnable is found.
Result<std::vector<PinSource>> ReadPinSources(std::span<const std::uint8_t> bytes,
                                              std::string_view input_name);
// ReadPinSourcesFromFile reads and parses a file (kIo when unreadable).
Result<std::vector<PinSource>> ReadPinSourcesFromFile(const std::filesystem::path& path);

// ReadCertificates returns the DER of every certificate in `bytes`, in order
// (PEM blocks or one DER certificate); other PEM blocks are an error, so a
// key pasted into a chain file is noticed. kNoPinSource when there is none.
Result<std::vector<std::vector<std::uint8_t>>> ReadCertificates(
    std::span<const std::uint8_t> bytes, std::string_view input_name);
Result<std::vector<std::vector<std::uint8_t>>> ReadCertificatesFromFile(
    const std::filesystem::path& path);

// DecodeCertificatePem returns the DER of the one PEM certificate in `pem`,
// checked only by pinion's strict DER walk (SpkiOfCertificate), without
// building an X509 object: ~100× cheaper than ReadCertificates, for input
// that is shown and counted but never trusted (failure reports). The framing
// is strict too: one "CERTIFICATE" block, LF or CRLF line breaks, no PEM
// headers, nothing before BEGIN or after END but one line break.
// kCertificateParse (saying which rule broke) or kInputTooLarge.
Result<std::vector<std::uint8_t>> DecodeCertificatePem(std::string_view pem);

// CertificatesToPem writes DER certificates as a PEM bundle ("CERTIFICATE" blocks).
std::string CertificatesToPem(const std::vector<std::vector<std::uint8_t>>& certificates_der);

// ReadFileBounded reads a whole file of at most `max_bytes` (kIo, kInputTooLarge).
Result<std::vector<std::uint8_t>> ReadFileBounded(const std::filesystem::path& path,
                                                  std::size_t max_bytes);

}  // namespace pinion

#endif  // PINION_PIN_SOURCE_H_
