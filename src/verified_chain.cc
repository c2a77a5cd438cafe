#include "pinion/verified_chain.h"

#include "pinion/der.h"

namespace pinion {

Result<VerifiedChain> VerifiedChain::FromChainValidatedByCaller(
    const std::vector<std::vector<std::uint8_t>>& certificates_der) {
  VerifiedChain chain;
  for (const auto& der : certificates_der) PINION_TRY(chain.Append(der));
  if (chain.size() == 0) return Error(ErrorCode::kChainEmpty, "the chain has no certificate");
  return chain;
}

Status VerifiedChain::Append(std::span<const std::uint8_t> der) {
  if (entries_.size() >= kMaxChainLength) {
    return Error(ErrorCode::kChainTooLong,
                 "more than " + std::to_string(kMaxChainLength) + " certificates");
  }
  auto spki = SpkiOfCertificate(der);
  if (!spki) {
    return std::move(spki).error().WithField("chain[" + std::to_string(entries_.size()) + "]");
  }
  auto offset = static_cast<std::uint32_t>(bytes_.size());
  auto spki_offset = static_cast<std::uint32_t>(offset + (spki->data() - der.data()));
  bytes_.insert(bytes_.end(), der.begin(), der.end());
  entries_.push_back(Entry{offset, static_cast<std::uint32_t>(der.size()), spki_offset,
                           static_cast<std::uint32_t>(spki->size()), std::nullopt});
  return OkStatus();
}

Status VerifiedChain::AppendSpki(std::span<const std::uint8_t> spki_der) {
  if (entries_.size() >= kMaxChainLength) {
    return Error(ErrorCode::kChainTooLong,
                 "more than " + std::to_string(kMaxChainLength) + " certificates");
  }
  if (spki_der.empty()) return Error(ErrorCode::kCertificateParse, "empty SubjectPublicKeyInfo");
  auto offset = static_cast<std::uint32_t>(bytes_.size());
  bytes_.insert(bytes_.end(), spki_der.begin(), spki_der.end());
  entries_.push_back(Entry{offset, 0, offset, static_cast<std::uint32_t>(spki_der.size()), std::nullopt});
  return OkStatus();
}

std::span<const std::uint8_t> VerifiedChain::certificate_der(std::size_t i) const {
  return std::span<const std::uint8_t>(bytes_).subspan(entries_[i].offset, entries_[i].length);
}

std::span<const std::uint8_t> VerifiedChain::spki_der(std::size_t i) const {
  return std::span<const std::uint8_t>(bytes_).subspan(entries_[i].spki_offset,
                                                       entries_[i].spki_length);
}

Pin VerifiedChain::SpkiSha256(std::size_t i) const {
  if (entries_[i].spki_sha256) return *entries_[i].spki_sha256;
  return Pin::OfSpki(spki_der(i));
}

void VerifiedChain::PrecomputePins() {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i].spki_sha256) entries_[i].spki_sha256 = Pin::OfSpki(spki_der(i));
  }
}

}  // namespace pinion
