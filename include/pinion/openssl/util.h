// pinion/openssl/util.h — small OpenSSL conveniences shared by the engine's
// readers, the adapters and the CLI (implemented in src/openssl_util.cc).
#ifndef PINION_OPENSSL_UTIL_H_
#define PINION_OPENSSL_UTIL_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pinion/openssl/unique_ptr.h"
#include "pinion/result.h"

namespace pinion::openssl {

// KeyTypeName describes a key: "RSA 2048", "EC P-256", "Ed25519", "Ed448".
std::string KeyTypeName(const EVP_PKEY* key);
// NameToString renders an X509_NAME as RFC 2253 text.
std::string NameToString(const X509_NAME* name);
// PublicKeyDer re-encodes the public half of `key` as DER SubjectPublicKeyInfo.
std::vector<std::uint8_t> PublicKeyDer(EVP_PKEY* key);
// CertificateDer returns the DER OpenSSL keeps for a parsed certificate.
std::vector<std::uint8_t> CertificateDer(X509* certificate);
// ParseCertificateDer parses DER that must be consumed whole; null on failure.
UniquePtr<X509> ParseCertificateDer(std::span<const std::uint8_t> der);
// LastOpenSslError pops and renders OpenSSL's error queue ("" if empty).
std::string LastOpenSslError();

// VerifyError turns an X509_V_ERR_* result of chain validation into pinion's
// error: kHostnameMismatch for a name or IP that the certificate does not
// cover, kChainValidation for anything else, with OpenSSL's explanation.
Error VerifyError(long x509_error);

}  // namespace pinion::openssl

#endif  // PINION_OPENSSL_UTIL_H_
