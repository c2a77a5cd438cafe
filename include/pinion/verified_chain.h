// pinion/verified_chain.h — the certificate chain a TLS library *validated*.
//
// Pins are only ever compared with this chain (leaf first, ending at the
// trust anchor from the store even when the server did not send it), never
// with the list the server sent. That is why a VerifiedChain can only be made
// by an adapter after its TLS library's verification succeeded (see
// pinion/openssl/pinning.h), or by a caller who says loudly that it validated
// the chain itself: FromChainValidatedByCaller.
#ifndef PINION_VERIFIED_CHAIN_H_
#define PINION_VERIFIED_CHAIN_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "pinion/pin.h"
#include "pinion/result.h"

namespace pinion {

inline constexpr std::size_t kMaxChainLength = 16;

namespace internal {
struct VerifiedChainFactory;
}

class VerifiedChain {
 public:
  // FromChainValidatedByCaller: the caller promises each certificate was
  // validated (path to a trusted anchor, validity, host name) by a TLS
  // library. Fails with kChainEmpty, kChainTooLong or kCertificateParse.
  static Result<VerifiedChain> FromChainValidatedByCaller(
      const std::vector<std::vector<std::uint8_t>>& certificates_der);

  std::size_t size() const { return entries_.size(); }
  // certificate_der is empty when an adapter supplied only the SPKI (it does
  // so when the matching rule has no certificate pins, to keep handshakes cheap).
  std::span<const std::uint8_t> certificate_der(std::size_t i) const;
  std::span<const std::uint8_t> spki_der(std::size_t i) const;

  // SpkiSha256 returns the SPKI SHA-256 pin of certificate i, from the cache
  // when PrecomputePins ran, computed otherwise.
  Pin SpkiSha256(std::size_t i) const;
  // PrecomputePins fills the SPKI SHA-256 cache (not thread-safe; call before sharing).
  void PrecomputePins();

 private:
  friend struct internal::VerifiedChainFactory;
  struct Entry {
    std::uint32_t offset, length;            // certificate within bytes_
    std::uint32_t spki_offset, spki_length;  // SPKI within bytes_
    std::optional<Pin> spki_sha256;
  };
  VerifiedChain() = default;
  // Append adds one certificate (DER), locating its SPKI.
  Status Append(std::span<const std::uint8_t> der);
  // AppendSpki adds one certificate known only by its SPKI (DER).
  Status AppendSpki(std::span<const std::uint8_t> spki_der);

  std::vector<std::uint8_t> bytes_;
  std::vector<Entry> entries_;
};

}  // namespace pinion

#endif  // PINION_VERIFIED_CHAIN_H_
