#include "pinion/pin.h"

#include <algorithm>

#include "internal/crypto.h"
#include "pinion/hex.h"

namespace pinion {
namespace {

struct PrefixInfo {
  std::string_view prefix;
  PinTarget target;
  HashAlgorithm algorithm;
};

constexpr PrefixInfo kPrefixes[] = {
    {"sha256/", PinTarget::kSpki, HashAlgorithm::kSha256},
    {"sha384/", PinTarget::kSpki, HashAlgorithm::kSha384},
    {"sha512/", PinTarget::kSpki, HashAlgorithm::kSha512},
    {"cert-sha256/", PinTarget::kCertificate, HashAlgorithm::kSha256},
    {"cert-sha384/", PinTarget::kCertificate, HashAlgorithm::kSha384},
    {"cert-sha512/", PinTarget::kCertificate, HashAlgorithm::kSha512},
};

// Algorithms people try that pinion refuses on purpose (collision-prone).
constexpr std::string_view kRefusedAlgorithms[] = {"sha1/", "md5/", "cert-sha1/", "cert-md5/"};

}  // namespace

std::size_t DigestSize(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256: return 32;
    case HashAlgorithm::kSha384: return 48;
    case HashAlgorithm::kSha512: return 64;
  }
  return 0;
}


Pin::Pin(PinTarget target, HashAlgorithm algorithm, std::span<const std::uint8_t> digest)
    : size_(static_cast<std::uint8_t>(digest.size())), algorithm_(algorithm), target_(target) {
  std::copy(digest.begin(), digest.end(), digest_.begin());
}

Result<Pin> Pin::FromDigest(PinTarget target, HashAlgorithm algorithm,
                            std::span<const std::uint8_t> digest) {
  if (digest.size() != DigestSize(algorithm)) {
    return Error(ErrorCode::kPinDigestLength,
                 std::string(HashAlgorithmName(algorithm)) + " digest must be " +
                     std::to_string(DigestSize(algorithm)) + " bytes, got " +
                     std::to_string(digest.size()));
  }
  return Pin(target, algorithm, digest);
}

Pin Pin::OfSpki(std::span<const std::uint8_t> spki_der, HashAlgorithm algorithm) {
  std::array<std::uint8_t, kMaxDigestSize> digest;
  std::size_t size = internal::Digest(algorithm, spki_der, digest);
  return Pin(PinTarget::kSpki, algorithm, {digest.data(), size});
}

Pin Pin::OfCertificate(std::span<const std::uint8_t> certificate_der, HashAlgorithm algorithm) {
  std::array<std::uint8_t, kMaxDigestSize> digest;
  std::size_t size = internal::Digest(algorithm, certificate_der, digest);
  return Pin(PinTarget::kCertificate, algorithm, {digest.data(), size});
}

Result<Pin> Pin::Parse(std::string_view text) {
  for (const PrefixInfo& info : kPrefixes) {
    if (!text.starts_with(info.prefix)) continue;
    std::string_view encoded = text.substr(info.prefix.size());
    // Base64 may itself begin with '/', so curl's "sha256//" notation is told
    // apart by length: one character more than the digest's base64.
    std::size_t base64_length = 4 * ((DigestSize(info.algorithm) + 2) / 3);
    if (encoded.size() == base64_length + 1 && encoded.starts_with('/')) {
      return Error(ErrorCode::kPinSyntax,
                   "'" + std::string(info.prefix) +
                       "/' is curl's notation; write the pin as '" + std::string(info.prefix) +
                       "<base64>' or parse it with ParseCurlPinList");
    }
    PINION_ASSIGN_OR_RETURN(std::vector<std::uint8_t> digest,
                            internal::Base64DecodeStrict(encoded));
    return FromDigest(info.target, info.algorithm, digest);
  }
  for (std::string_view refused : kRefusedAlgorithms) {
    if (text.starts_with(refused)) {
      return Error(ErrorCode::kPinUnsupportedAlgorithm,
                   "'" + std::string(refused.substr(0, refused.size() - 1)) +
                       "' pins are not accepted (collision-prone); use sha256/");
    }
  }
  std::size_t slash = text.find('/');
  if (slash != std::string_view::npos && slash > 0 && slash < 16) {
    return Error(ErrorCode::kPinUnsupportedAlgorithm,
                 "unknown pin algorithm '" + std::string(text.substr(0, slash)) +
                     "'; expected sha256/, sha384/, sha512/ or cert-sha256/");
  }
  return Error(ErrorCode::kPinSyntax,
               "expected 'sha256/<base64>' (or sha384/, sha512/, cert-sha256/)");
}

std::string Pin::Base64() const { return internal::Base64Encode(digest()); }

std::string Pin::ToString() const {
  std::string out = target_ == PinTarget::kCertificate ? "cert-" : "";
  out += HashAlgorithmName(algorithm_);
  out += '/';
  out += Base64();
  return out;
}

std::string Pin::Hex(char separator) const { return HexEncode(digest(), HexCase::kUpper, separator); }

}  // namespace pinion
