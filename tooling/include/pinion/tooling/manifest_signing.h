// pinion/tooling/manifest_signing.h — the publisher's side of dynamic pinning:
// manifest-signing keys and DSSE signatures. Clients link pinion::dynamic,
// which only verifies (pinion/dynamic/dsse.h); nothing here ships in an app.
#ifndef PINION_TOOLING_MANIFEST_SIGNING_H_
#define PINION_TOOLING_MANIFEST_SIGNING_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/dynamic/dsse.h"
#include "pinion/result.h"

namespace pinion {

// SigningKey is a freshly generated manifest-signing key pair.
enum class SigningKeyType : std::uint8_t { kEd25519, kEcdsaP256 };
struct SigningKey {
  std::string private_pem;  // PKCS#8, unencrypted: store it offline or in a KMS
  std::string public_pem;   // SPKI: what clients trust (TrustedKeyFromPem)
  std::string keyid;
};
// GenerateSigningKey creates a key pair with OpenSSL's CSPRNG (kInvalidArgument on failure).
Result<SigningKey> GenerateSigningKey(SigningKeyType type);

// SignDsse signs with each private key (PEM; the kinds TrustedKeyFromPem
// accepts) and returns the envelope.
Result<DsseEnvelope> SignDsse(std::string_view payload_type, std::span<const std::uint8_t> payload,
                              const std::vector<std::string>& private_keys_pem);

}  // namespace pinion

#endif  // PINION_TOOLING_MANIFEST_SIGNING_H_
