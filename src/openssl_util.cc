#include "pinion/openssl/util.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

namespace pinion::openssl {

std::string KeyTypeName(const EVP_PKEY* key) {
  if (key == nullptr) return "unsupported or malformed key";
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      return "RSA " + std::to_string(EVP_PKEY_get_bits(key));
    case EVP_PKEY_EC: {
      char group[64] = {};
      std::size_t length = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &length) != 1) {
        return "EC (explicit parameters)";
      }
      std::string name(group, length);
      if (name == "prime256v1" || name == "P-256") return "EC P-256";
      if (name == "secp384r1" || name == "P-384") return "EC P-384";
      if (name == "secp521r1" || name == "P-521") return "EC P-521";
      return "EC " + name;
    }
    case EVP_PKEY_ED25519: return "Ed25519";
    case EVP_PKEY_ED448: return "Ed448";
    default: {
      const char* name = EVP_PKEY_get0_type_name(key);
      return name != nullptr ? name : "unknown key type";
    }
  }
}

std::string NameToString(const X509_NAME* name) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    return {};
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::vector<std::uint8_t> PublicKeyDer(EVP_PKEY* key) {
  int length = i2d_PUBKEY(key, nullptr);
  if (length <= 0) return {};
  std::vector<std::uint8_t> out(static_cast<std::size_t>(length));
  unsigned char* cursor = out.data();
  i2d_PUBKEY(key, &cursor);
  return out;
}

std::vector<std::uint8_t> CertificateDer(X509* certificate) {
  int length = i2d_X509(certificate, nullptr);
  if (length <= 0) return {};
  std::vector<std::uint8_t> out(static_cast<std::size_t>(length));
  unsigned char* cursor = out.data();
  i2d_X509(certificate, &cursor);
  return out;
}

UniquePtr<X509> ParseCertificateDer(std::span<const std::uint8_t> der) {
  const unsigned char* cursor = der.data();
  UniquePtr<X509> certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  if (certificate && cursor != der.data() + der.size()) certificate.reset();
  return certificate;
}

std::string LastOpenSslError() {
  std::string out;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out;
}

Error VerifyError(long x509_error) {
  bool name = x509_error == X509_V_ERR_HOSTNAME_MISMATCH || x509_error == X509_V_ERR_IP_ADDRESS_MISMATCH;
  return Error(name ? ErrorCode::kHostnameMismatch : ErrorCode::kChainValidation,
               std::string("OpenSSL: ") + X509_verify_cert_error_string(x509_error));
}

}  // namespace pinion::openssl
