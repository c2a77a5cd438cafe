// pinion/der.h — the one DER fact the core needs: where a certificate's
// SubjectPublicKeyInfo lies.
//
//   auto spki = pinion::SpkiOfCertificate(cert_der);   // a view into cert_der
//   if (spki) pin = pinion::Pin::OfSpki(*spki);
//
// Why a walker of its own rather than libcrypto: an SPKI pin must hash the
// bytes the certificate carries, and OpenSSL's i2d_X509_PUBKEY re-encodes
// (BER inputs come out different, see testdata/wycheproof); and this runs on
// the handshake path, where re-parsing DER into an X509 costs ~190 µs while
// this walk allocates nothing (bench/der_bench.cc).
#ifndef PINION_DER_H_
#define PINION_DER_H_

#include <cstdint>
#include <span>

#include "pinion/result.h"

namespace pinion {

// SpkiOfCertificate returns the exact DER SubjectPublicKeyInfo TLV inside
// `certificate_der` (a view: valid while the input is). Strict DER framing:
// definite minimal lengths, the certificate must span the whole input.
// Fails with kCertificateParse naming the element that is wrong.
Result<std::span<const std::uint8_t>> SpkiOfCertificate(
    std::span<const std::uint8_t> certificate_der);

}  // namespace pinion

#endif  // PINION_DER_H_
