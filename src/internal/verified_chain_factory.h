// Internal: how adapters build a VerifiedChain once their TLS library has
// validated it. Only adapter code includes this header.
#ifndef PINION_SRC_INTERNAL_VERIFIED_CHAIN_FACTORY_H_
#define PINION_SRC_INTERNAL_VERIFIED_CHAIN_FACTORY_H_

#include "pinion/verified_chain.h"

namespace pinion::internal {

struct VerifiedChainFactory {
  static VerifiedChain Empty() { return VerifiedChain(); }
  static Status Append(VerifiedChain& chain, std::span<const std::uint8_t> der) {
    return chain.Append(der);
  }
  static Status AppendSpki(VerifiedChain& chain, std::span<const std::uint8_t> spki_der) {
    return chain.AppendSpki(spki_der);
  }
  static void Reserve(VerifiedChain& chain, std::size_t certificates, std::size_t bytes) {
    chain.entries_.reserve(certificates);
    chain.bytes_.reserve(bytes);
  }
};

}  // namespace pinion::internal

#endif  // PINION_SRC_INTERNAL_VERIFIED_CHAIN_FACTORY_H_
