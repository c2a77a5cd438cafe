#include "pinion/dynamic/dsse.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include "internal/crypto.h"
#include "pinion/openssl/unique_ptr.h"
#include "pinion/openssl/util.h"
#include "pinion/hex.h"
#include "pinion/pin.h"

namespace pinion {
namespace {

using openssl::UniquePtr;

// DSSE allows either base64 alphabet; pinion writes the standard one.
Result<std::vector<std::uint8_t>> DecodeAnyBase64(std::string text, std::string_view field) {
  for (char& c : text) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (text.size() % 4 != 0) text += '=';
  if (text.empty()) return std::vector<std::uint8_t>{};
  auto bytes = internal::Base64DecodeStrict(text);
  if (!bytes) return Error(ErrorCode::kPolicySyntax, "invalid base64").WithField(std::string(field));
  return bytes;
}

std::string KeyId(std::span<const std::uint8_t> spki_der) { return HexEncode(Pin::OfSpki(spki_der).digest()); }

bool IsSupportedKey(const EVP_PKEY* key) {
  int id = EVP_PKEY_get_base_id(key);
  return id == EVP_PKEY_ED25519 || (id == EVP_PKEY_EC && openssl::KeyTypeName(key) == "EC P-256");
}

// Ed25519 signs the message itself; ECDSA P-256 signs its SHA-256.
const EVP_MD* DigestFor(const EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

}  // namespace

std::vector<std::uint8_t> DssePae(std::string_view payload_type, std::span<const std::uint8_t> payload) {
  std::string head = "DSSEv1 " + std::to_string(payload_type.size()) + " " + std::string(payload_type) + " " +
                     std::to_string(payload.size()) + " ";
  std::vector<std::uint8_t> out(head.begin(), head.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<DsseEnvelope> ParseDsseEnvelope(std::string_view json) {
  if (json.size() > kMaxEnvelopeBytes) {
    return Error(ErrorCode::kInputTooLarge, "envelope larger than " + std::to_string(kMaxEnvelopeBytes) + " bytes");
  }
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(json.begin(), json.end());
  } catch (const nlohmann::json::exception& error) {
    return Error(ErrorCode::kPolicySyntax, std::string("envelope is not JSON: ") + error.what());
  }
  auto string_member = [&](const nlohmann::json& object, const char* key) -> const std::string* {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  if (!document.is_object()) return Error(ErrorCode::kPolicySchema, "envelope must be a JSON object");
  const std::string* type = string_member(document, "payloadType");
  const std::string* payload = string_member(document, "payload");
  auto signatures = document.find("signatures");
  if (type == nullptr || type->empty() || payload == nullptr || signatures == document.end() ||
      !signatures->is_array()) {
    return Error(ErrorCode::kPolicySchema, "envelope needs payloadType, payload and signatures");
  }
  if (signatures->empty() || signatures->size() > kMaxEnvelopeSignatures) {
    return Error(ErrorCode::kPolicySchema, "envelope needs 1 to " + std::to_string(kMaxEnvelopeSignatures) + " signatures");
  }
  DsseEnvelope envelope{*type, {}, {}};
  PINION_ASSIGN_OR_RETURN(envelope.payload, DecodeAnyBase64(*payload, "payload"));
  for (const auto& entry : *signatures) {
    const std::string* sig = entry.is_object() ? string_member(entry, "sig") : nullptr;
    if (sig == nullptr) return Error(ErrorCode::kPolicySchema, "a signature without sig");
    DsseSignature signature;
    if (const std::string* keyid = string_member(entry, "keyid")) signature.keyid = *keyid;
    PINION_ASSIGN_OR_RETURN(signature.sig, DecodeAnyBase64(*sig, "signatures[].sig"));
    envelope.signatures.push_back(std::move(signature));
  }
  return envelope;
}

std::string SerializeDsseEnvelope(const DsseEnvelope& envelope) {
  nlohmann::ordered_json out;
  out["payloadType"] = envelope.payload_type;
  out["payload"] = internal::Base64Encode(envelope.payload);
  out["signatures"] = nlohmann::ordered_json::array();
  for (const DsseSignature& signature : envelope.signatures) {
    out["signatures"].push_back({{"keyid", signature.keyid}, {"sig", internal::Base64Encode(signature.sig)}});
  }
  return out.dump(2) + "\n";
}

Result<TrustedKey> TrustedKeyFromPem(std::string_view pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  UniquePtr<EVP_PKEY> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  ERR_clear_error();
  if (!key) return Error(ErrorCode::kKeyParse, "not a PEM public or private key");
  if (!IsSupportedKey(key.get())) {
    return Error(ErrorCode::kKeyParse, "manifest keys are Ed25519 or ECDSA P-256, not " + openssl::KeyTypeName(key.get()));
  }
  std::vector<std::uint8_t> spki = openssl::PublicKeyDer(key.get());
  return TrustedKey{KeyId(spki), spki};
}

Result<VerifiedPayload> VerifyDsse(const DsseEnvelope& envelope, std::string_view expected_type,
                                   std::span<const TrustedKey> trusted) {
  if (envelope.payload_type != expected_type) {
    return Error(ErrorCode::kSignatureInvalid, "payloadType '" + envelope.payload_type + "' is not '" +
                                                   std::string(expected_type) + "'");
  }
  std::vector<std::uint8_t> pae = DssePae(envelope.payload_type, envelope.payload);
  for (const DsseSignature& signature : envelope.signatures) {
    for (const TrustedKey& key : trusted) {
      const unsigned char* cursor = key.spki_der.data();
      UniquePtr<EVP_PKEY> pkey(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(key.spki_der.size())));
      if (!pkey || !IsSupportedKey(pkey.get())) continue;
      UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
      bool valid = EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(pkey.get()), nullptr, pkey.get()) == 1 &&
                   EVP_DigestVerify(ctx.get(), signature.sig.data(), signature.sig.size(), pae.data(), pae.size()) == 1;
      ERR_clear_error();
      if (valid) return VerifiedPayload{envelope.payload, key.keyid};
    }
  }
  return Error(ErrorCode::kSignatureInvalid, "no signature verifies under a trusted key");
}

}  // namespace pinion
