// pinion/dynamic/dsse.h — DSSE envelopes (Dead Simple Signing Envelope), the signed
// container of pinion's dynamic pin-set manifests (issue 4).
//
//   auto envelope = pinion::ParseDsseEnvelope(json);           // strict, bounded
//   auto verified = pinion::VerifyDsse(*envelope, kType, trusted_keys);
//   use verified->payload (exactly the bytes the signature covered)
//
// A signature covers PAE(payloadType, payload) =
//   "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload
// (LEN: decimal byte count), so a signature for one payload type never
// verifies as another. Keys: Ed25519 and ECDSA P-256 (SHA-256), via OpenSSL.
#ifndef PINION_DSSE_H_
#define PINION_DSSE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/result.h"

namespace pinion {

inline constexpr std::size_t kMaxEnvelopeBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxEnvelopeSignatures = 16;

struct DsseSignature {
  std::string keyid;  // a hint only: verification never trusts it alone
  std::vector<std::uint8_t> sig;
};

struct DsseEnvelope {
  std::string payload_type;
  std::vector<std::uint8_t> payload;
  std::vector<DsseSignature> signatures;
};

// DssePae returns the pre-authentication encoding a signature covers.
std::vector<std::uint8_t> DssePae(std::string_view payload_type, std::span<const std::uint8_t> payload);

// ParseDsseEnvelope reads the JSON form: payloadType, payload and sig in base64
// (standard or URL-safe alphabet, as the DSSE spec allows); unknown members are
// ignored as the spec requires. kPolicySyntax / kPolicySchema / kInputTooLarge.
Result<DsseEnvelope> ParseDsseEnvelope(std::string_view json);
std::string SerializeDsseEnvelope(const DsseEnvelope& envelope);

// A key that may sign envelopes, identified by the SHA-256 (hex) of its SPKI.
struct TrustedKey {
  std::string keyid;
  std::vector<std::uint8_t> spki_der;
};
// TrustedKeyFromPem reads a public key (or the public half of a private key).
Result<TrustedKey> TrustedKeyFromPem(std::string_view pem);

// Signing (key generation, SignDsse) is the publisher's side and lives in
// pinion::tooling (pinion/tooling/manifest_signing.h): clients only verify.

struct VerifiedPayload {
  std::vector<std::uint8_t> payload;  // the exact bytes the signature covered
  std::string keyid;                  // the trusted key that verified
};

// VerifyDsse accepts the envelope only if its payloadType is `expected_type`
// and a signature verifies under one of `trusted` (tried whatever the keyid
// hint says). kSignatureInvalid otherwise.
Result<VerifiedPayload> VerifyDsse(const DsseEnvelope& envelope, std::string_view expected_type,
                                   std::span<const TrustedKey> trusted);

}  // namespace pinion

#endif  // PINION_DSSE_H_
