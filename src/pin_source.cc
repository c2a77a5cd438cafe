#include "pinion/pin_source.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "pinion/openssl/unique_ptr.h"
#include "pinion/openssl/util.h"
#include "internal/pem.h"
#include "pinion/der.h"

namespace pinion {
namespace {

using openssl::UniquePtr;

// Owns what PEM_read_bio hands out.
struct PemBlock {
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  ~PemBlock() {
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
  std::span<const std::uint8_t> bytes() const {
    return {data, static_cast<std::size_t>(length)};
  }
};

bool LooksLikePem(std::span<const std::uint8_t> bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return text.find("-----BEGIN ") != std::string_view::npos;
}

Result<PinSource> FromCertificateDer(std::span<const std::uint8_t> der, std::string origin) {
  UniquePtr<X509> certificate = openssl::ParseCertificateDer(der);
  if (!certificate) {
    return Error(ErrorCode::kCertificateParse,
                 "certificate does not parse: " + openssl::LastOpenSslError())
        .WithField(origin);
  }
  auto spki = SpkiOfCertificate(der);
  if (!spki) return std::move(spki).error().WithField(origin);
  // Other tools (openssl pkey, curl) pin OpenSSL's re-encoding of the key;
  // the handshake path hashes the bytes the certificate carries. Refuse a
  // certificate where the two differ, so a printed pin means the same everywhere.
  std::vector<std::uint8_t> reencoded;
  int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate.get()), nullptr);
  if (length > 0) {
    reencoded.resize(static_cast<std::size_t>(length));
    unsigned char* cursor = reencoded.data();
    i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate.get()), &cursor);
  }
  if (!std::equal(spki->begin(), spki->end(), reencoded.begin(), reencoded.end())) {
    return Error(ErrorCode::kCertificateParse,
                 "the certificate's subjectPublicKeyInfo is not canonical DER, so tools that "
                 "re-encode the key would compute a different pin; re-issue the certificate")
        .WithField(origin);
  }
  PinSource source;
  source.kind = PinSourceKind::kCertificate;
  source.origin = std::move(origin);
  source.key_type = openssl::KeyTypeName(X509_get0_pubkey(certificate.get()));
  source.subject = openssl::NameToString(X509_get_subject_name(certificate.get()));
  source.spki_der.assign(spki->begin(), spki->end());
  source.certificate_der.assign(der.begin(), der.end());
  return source;
}

PinSource FromKey(EVP_PKEY* key, PinSourceKind kind, std::string origin, std::string subject) {
  PinSource source;
  source.kind = kind;
  source.origin = std::move(origin);
  source.key_type = openssl::KeyTypeName(key);
  source.subject = std::move(subject);
  source.spki_der = openssl::PublicKeyDer(key);
  return source;
}

template <typename T, typename D2i>
UniquePtr<T> ParseWhole(std::span<const std::uint8_t> der, D2i d2i) {
  const unsigned char* cursor = der.data();
  UniquePtr<T> object(d2i(nullptr, &cursor, static_cast<long>(der.size())));
  if (object && cursor != der.data() + der.size()) object.reset();
  return object;
}

Result<PinSource> FromRequestDer(std::span<const std::uint8_t> der, std::string origin) {
  UniquePtr<X509_REQ> request = ParseWhole<X509_REQ>(der, d2i_X509_REQ);
  EVP_PKEY* key = request ? X509_REQ_get0_pubkey(request.get()) : nullptr;
  if (key == nullptr) {
    return Error(ErrorCode::kKeyParse,
                 "certificate request does not parse: " + openssl::LastOpenSslError())
        .WithField(origin);
  }
  return FromKey(key, PinSourceKind::kCertificateRequest, std::move(origin),
                 openssl::NameToString(X509_REQ_get_subject_name(request.get())));
}

Result<PinSource> FromPublicKeyDer(std::span<const std::uint8_t> der, bool pkcs1_rsa,
                                   std::string origin) {
  UniquePtr<EVP_PKEY> key;
  if (pkcs1_rsa) {
    const unsigned char* cursor = der.data();
    key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cursor, static_cast<long>(der.size())));
    if (key && cursor != der.data() + der.size()) key.reset();
  } else {
    key = ParseWhole<EVP_PKEY>(der, d2i_PUBKEY);
  }
  if (!key) {
    return Error(ErrorCode::kKeyParse, "public key does not parse: " + openssl::LastOpenSslError())
        .WithField(origin);
  }
  PinSource source = FromKey(key.get(), PinSourceKind::kPublicKey, std::move(origin), {});
  // A pin must hash the bytes a certificate would carry. OpenSSL accepts some
  // BER encodings and re-encodes them (testdata/wycheproof): refuse those
  // rather than pin bytes that differ from the input.
  if (!pkcs1_rsa && !std::equal(der.begin(), der.end(), source.spki_der.begin(), source.spki_der.end())) {
    return Error(ErrorCode::kKeyParse,
                 "public key is not in canonical DER (OpenSSL re-encodes it differently); "
                 "re-encode it with 'openssl pkey -pubin -outform DER'")
        .WithField(source.origin);
  }
  return source;
}

Result<PinSource> FromPrivateKeyDer(std::span<const std::uint8_t> der, std::string origin) {
  UniquePtr<EVP_PKEY> key = ParseWhole<EVP_PKEY>(der, d2i_AutoPrivateKey);
  if (!key) {
    return Error(ErrorCode::kKeyParse,
                 "private key does not parse: " + openssl::LastOpenSslError())
        .WithField(origin);
  }
  return FromKey(key.get(), PinSourceKind::kPrivateKey, std::move(origin), {});
}

// Dispatches one PEM block by its label. Returns nullopt for labels that hold
// nothing pinnable (EC PARAMETERS, DH PARAMETERS …), which are skipped.
Result<std::optional<PinSource>> FromPemBlock(const PemBlock& block, std::string origin) {
  std::string_view label = block.name;
  if (label == "CERTIFICATE" || label == "X509 CERTIFICATE") {
    PINION_ASSIGN_OR_RETURN(PinSource source, FromCertificateDer(block.bytes(), origin));
    return std::optional<PinSource>(std::move(source));
  }
  if (label == "TRUSTED CERTIFICATE") {
    // OpenSSL's trusted form appends trust settings after the certificate.
    const unsigned char* cursor = block.data;
    UniquePtr<X509> certificate(d2i_X509_AUX(nullptr, &cursor, block.length));
    if (!certificate) {
      return Error(ErrorCode::kCertificateParse, "TRUSTED CERTIFICATE does not parse")
          .WithField(origin);
    }
    std::vector<std::uint8_t> der = openssl::CertificateDer(certificate.get());
    PINION_ASSIGN_OR_RETURN(PinSource source, FromCertificateDer(der, origin));
    return std::optional<PinSource>(std::move(source));
  }
  if (label == "PUBLIC KEY" || label == "RSA PUBLIC KEY") {
    PINION_ASSIGN_OR_RETURN(PinSource source,
                            FromPublicKeyDer(block.bytes(), label == "RSA PUBLIC KEY", origin));
    return std::optional<PinSource>(std::move(source));
  }
  if (label == "ENCRYPTED PRIVATE KEY" ||
      (block.header != nullptr && std::strstr(block.header, "ENCRYPTED") != nullptr)) {
    return Error(ErrorCode::kEncryptedKey,
                 "the private key is encrypted; pin its public half instead "
                 "(openssl pkey -in KEY -pubout > key.pub.pem) or decrypt it first")
        .WithField(origin);
  }
  if (label == "PRIVATE KEY" || label == "RSA PRIVATE KEY" || label == "EC PRIVATE KEY") {
    PINION_ASSIGN_OR_RETURN(PinSource source, FromPrivateKeyDer(block.bytes(), origin));
    return std::optional<PinSource>(std::move(source));
  }
  if (label == "CERTIFICATE REQUEST" || label == "NEW CERTIFICATE REQUEST") {
    PINION_ASSIGN_OR_RETURN(PinSource source, FromRequestDer(block.bytes(), origin));
    return std::optional<PinSource>(std::move(source));
  }
  return std::optional<PinSource>();
}

// Walks every PEM block; `visit(block, origin)` returns a Status.
template <typename Visit>
Status ForEachPemBlock(std::span<const std::uint8_t> bytes, std::string_view input_name,
                       Visit visit) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  if (!bio) return Error(ErrorCode::kIo, "out of memory");
  ERR_clear_error();
  for (std::size_t index = 1;; ++index) {
    PemBlock block;
    if (PEM_read_bio(bio.get(), &block.name, &block.header, &block.data, &block.length) != 1) {
      unsigned long error = ERR_peek_last_error();
      if (ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        return OkStatus();
      }
      return Error(ErrorCode::kCertificateParse,
                   "PEM block " + std::to_string(index) +
                       " is damaged (bad base64 or missing END line): " +
                       openssl::LastOpenSslError())
          .WithSource(std::string(input_name));
    }
    if (index > kMaxPinSourceObjects) {
      return Error(ErrorCode::kInputTooLarge,
                   "more than " + std::to_string(kMaxPinSourceObjects) + " PEM blocks")
          .WithSource(std::string(input_name));
    }
    PINION_TRY(visit(block, std::string(input_name) + "#" + std::to_string(index)));
  }
}

Status CheckSize(std::span<const std::uint8_t> bytes, std::string_view input_name) {
  if (bytes.size() > kMaxPinSourceInputBytes) {
    return Error(ErrorCode::kInputTooLarge,
                 "input is larger than " + std::to_string(kMaxPinSourceInputBytes) + " bytes")
        .WithSource(std::string(input_name));
  }
  return OkStatus();
}

Error WithInput(Error error, std::string_view input_name) {
  if (error.source().empty()) return std::move(error).WithSource(std::string(input_name));
  return error;
}

}  // namespace


Pin PinSource::SpkiPin(HashAlgorithm algorithm) const { return Pin::OfSpki(spki_der, algorithm); }

std::optional<Pin> PinSource::CertificatePin(HashAlgorithm algorithm) const {
  if (kind != PinSourceKind::kCertificate) return std::nullopt;
  return Pin::OfCertificate(certificate_der, algorithm);
}

Result<std::vector<PinSource>> ReadPinSources(std::span<const std::uint8_t> bytes,
                                              std::string_view input_name) {
  PINION_TRY(CheckSize(bytes, input_name));
  std::vector<PinSource> sources;
  if (LooksLikePem(bytes)) {
    std::vector<std::string> skipped;
    Status status = ForEachPemBlock(
        bytes, input_name, [&](const PemBlock& block, std::string origin) -> Status {
          auto source = FromPemBlock(block, std::move(origin));
          if (!source) return std::move(source).error();
          if (*source) {
            sources.push_back(std::move(**source));
          } else {
            skipped.push_back(block.name);
          }
          return OkStatus();
        });
    if (!status) return WithInput(std::move(status).error(), input_name);
    if (sources.empty()) {
      std::string labels;
      for (const std::string& label : skipped) labels += (labels.empty() ? "" : ", ") + label;
      return Error(ErrorCode::kNoPinSource,
                   "no certificate, key or CSR found" +
                       (labels.empty() ? std::string() : " (only: " + labels + ")"))
          .WithSource(std::string(input_name));
    }
    return sources;
  }
  // A single DER object: try each kind; each parser must consume every byte.
  std::string origin = std::string(input_name) + "#1";
  if (openssl::ParseCertificateDer(bytes) != nullptr) {
    // It is a certificate: its own verdict (even a refusal) is the answer.
    auto source = FromCertificateDer(bytes, origin);
    ERR_clear_error();
    if (!source) return WithInput(std::move(source).error(), input_name);
    sources.push_back(std::move(*source));
    return sources;
  }
  ERR_clear_error();
  for (auto parse : {+[](std::span<const std::uint8_t> b, std::string o) {
                       return FromCertificateDer(b, std::move(o));
                     },
                     +[](std::span<const std::uint8_t> b, std::string o) {
                       return FromPublicKeyDer(b, false, std::move(o));
                     },
                     +[](std::span<const std::uint8_t> b, std::string o) {
                       return FromPrivateKeyDer(b, std::move(o));
                     },
                     +[](std::span<const std::uint8_t> b, std::string o) {
                       return FromRequestDer(b, std::move(o));
                     }}) {
    auto source = parse(bytes, origin);
    if (source) {
      sources.push_back(std::move(*source));
      ERR_clear_error();
      return sources;
    }
  }
  ERR_clear_error();
  return Error(ErrorCode::kNoPinSource,
               "not PEM, and not a DER certificate, public key, private key or CSR")
      .WithSource(std::string(input_name));
}

Result<std::vector<std::uint8_t>> ReadFileBounded(const std::filesystem::path& path,
                                                  std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::kIo, "cannot open: " + std::string(std::strerror(errno)))
        .WithSource(path.string());
  }
  std::vector<std::uint8_t> bytes;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    bytes.insert(bytes.end(), buffer, buffer + in.gcount());
    if (bytes.size() > max_bytes) {
      return Error(ErrorCode::kInputTooLarge,
                   "file is larger than " + std::to_string(max_bytes) + " bytes")
          .WithSource(path.string());
    }
  }
  if (in.bad()) return Error(ErrorCode::kIo, "read failed").WithSource(path.string());
  return bytes;
}

Result<std::vector<PinSource>> ReadPinSourcesFromFile(const std::filesystem::path& path) {
  PINION_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes,
                          ReadFileBounded(path, kMaxPinSourceInputBytes));
  return ReadPinSources(bytes, path.string());
}

Result<std::vector<std::vector<std::uint8_t>>> ReadCertificates(
    std::span<const std::uint8_t> bytes, std::string_view input_name) {
  PINION_TRY(CheckSize(bytes, input_name));
  std::vector<std::vector<std::uint8_t>> certificates;
  if (bytes.empty()) {
    return Error(ErrorCode::kNoPinSource, "empty input: no certificate found")
        .WithSource(std::string(input_name));
  }
  if (!LooksLikePem(bytes)) {
    auto source = FromCertificateDer(bytes, std::string(input_name) + "#1");
    ERR_clear_error();
    if (!source) return WithInput(std::move(source).error(), input_name);
    certificates.push_back(std::move(source->certificate_der));
    return certificates;
  }
  Status status = ForEachPemBlock(
      bytes, input_name, [&](const PemBlock& block, std::string origin) -> Status {
        std::string_view label = block.name;
        if (label != "CERTIFICATE" && label != "X509 CERTIFICATE" &&
            label != "TRUSTED CERTIFICATE") {
          return Error(ErrorCode::kCertificateParse,
                       "expected only certificates, found a '" + std::string(label) + "' block")
              .WithField(origin);
        }
        PINION_ASSIGN_OR_RETURN(std::optional<PinSource> source,
                                FromPemBlock(block, std::move(origin)));
        certificates.push_back(std::move(source->certificate_der));
        return OkStatus();
      });
  if (!status) return WithInput(std::move(status).error(), input_name);
  if (certificates.empty()) {
    return Error(ErrorCode::kNoPinSource, "no certificate found")
        .WithSource(std::string(input_name));
  }
  return certificates;
}

Result<std::vector<std::uint8_t>> DecodeCertificatePem(std::string_view pem) {
  if (pem.size() > kMaxPinSourceInputBytes) {
    return Error(ErrorCode::kInputTooLarge, "larger than " + std::to_string(kMaxPinSourceInputBytes) + " bytes");
  }
  PINION_ASSIGN_OR_RETURN(std::vector<std::uint8_t> der, internal::DecodeStrictPem(pem, "CERTIFICATE"));
  PINION_TRY(SpkiOfCertificate(der));
  return der;
}

Result<std::vector<std::vector<std::uint8_t>>> ReadCertificatesFromFile(
    const std::filesystem::path& path) {
  PINION_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes,
                          ReadFileBounded(path, kMaxPinSourceInputBytes));
  return ReadCertificates(bytes, path.string());
}

std::string CertificatesToPem(const std::vector<std::vector<std::uint8_t>>& certificates_der) {
  std::string pem;
  for (const auto& der : certificates_der) {
    openssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
    if (bio == nullptr ||
        PEM_write_bio(bio.get(), "CERTIFICATE", "", der.data(), static_cast<long>(der.size())) <= 0) {
      continue;  // only on allocation failure
    }
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    pem.append(data, static_cast<std::size_t>(length));
  }
  return pem;
}

}  // namespace pinion
