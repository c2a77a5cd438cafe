#include "pinion/tooling/manifest_signing.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "pinion/openssl/unique_ptr.h"
#include "pinion/openssl/util.h"

namespace pinion {
namespace {

using openssl::UniquePtr;

std::string Pem(EVP_PKEY* key, bool private_half) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  int ok = private_half ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                        : PEM_write_bio_PUBKEY(bio.get(), key);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return ok == 1 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

}  // namespace

Result<SigningKey> GenerateSigningKey(SigningKeyType type) {
  UniquePtr<EVP_PKEY> key(type == SigningKeyType::kEd25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                                           : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Error(ErrorCode::kInvalidArgument, "key generation failed: " + openssl::LastOpenSslError());
  SigningKey pair{Pem(key.get(), true), Pem(key.get(), false), ""};
  if (pair.private_pem.empty() || pair.public_pem.empty()) {
    return Error(ErrorCode::kInvalidArgument, "cannot encode the new key");
  }
  // The verifier's reading of the key names it, so the two can never disagree.
  PINION_ASSIGN_OR_RETURN(TrustedKey trusted, TrustedKeyFromPem(pair.public_pem));
  pair.keyid = trusted.keyid;
  return pair;
}

Result<DsseEnvelope> SignDsse(std::string_view payload_type, std::span<const std::uint8_t> payload,
                              const std::vector<std::string>& private_keys_pem) {
  if (payload_type.empty()) return Error(ErrorCode::kInvalidArgument, "an envelope needs a payload type");
  if (private_keys_pem.empty()) return Error(ErrorCode::kInvalidArgument, "no signing key");
  DsseEnvelope envelope{std::string(payload_type), {payload.begin(), payload.end()}, {}};
  std::vector<std::uint8_t> pae = DssePae(payload_type, payload);
  for (const std::string& pem : private_keys_pem) {
    UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!key) return Error(ErrorCode::kKeyParse, "a signing key is not a PEM private key");
    // Only keys a client can verify with (Ed25519, ECDSA P-256) sign.
    PINION_ASSIGN_OR_RETURN(TrustedKey trusted, TrustedKeyFromPem(pem));
    // Ed25519 signs the message itself; ECDSA P-256 signs its SHA-256.
    const EVP_MD* digest = EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
    UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    std::size_t length = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, digest, nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, pae.data(), pae.size()) != 1) {
      return Error(ErrorCode::kInvalidArgument, "signing failed: " + openssl::LastOpenSslError());
    }
    DsseSignature signature{trusted.keyid, std::vector<std::uint8_t>(length)};
    if (EVP_DigestSign(ctx.get(), signature.sig.data(), &length, pae.data(), pae.size()) != 1) {
      return Error(ErrorCode::kInvalidArgument, "signing failed: " + openssl::LastOpenSslError());
    }
    signature.sig.resize(length);
    envelope.signatures.push_back(std::move(signature));
  }
  return envelope;
}

}  // namespace pinion
